"""Compare bot.dates.parse_deadline with plain dateparser on the table in tests/test_dates.py.

Run from the project root:

    .venv/bin/python bench/bench_dates.py [--repeat N] [--misses N]

It prints, for parse_deadline, for dateparser.parse (without and with
``languages=['zh', 'en']``) and for parse_deadline with dateparser as a fallback, how many
table rows each gets right, split by language, and the median and 95th-percentile time
per call after a warm-up call.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dateparser  # noqa: E402

from bot.dates import parse_deadline  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_dates.py"
# The issue's own examples, shown side by side for every parser.
SHOWCASE = [
    "下周五",
    "月底前",
    "12月5日前",
    "3个工作日内",
    "两周后",
    "三天后",
    "3月15日",
    "next Friday",
    "end of month",
    "within 5 working days",
]

Row = tuple[date, str, date | None]
Parser = Callable[[str, date], date | None]


def load_table() -> tuple[list[Row], date]:
    """Return the test table's rows (non-dates expect None) and its ordinary Wednesday."""
    spec = importlib.util.spec_from_file_location("test_dates", ROOT / "tests" / "test_dates.py")
    if spec is None or spec.loader is None:
        raise SystemExit("cannot load tests/test_dates.py")
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows: list[Row] = list(module.CASES)
    rows += [(module.WED, text, None) for text in module.NON_DATES]
    return rows, module.WED


def _show(d: date | None) -> str:
    """Return a date with its weekday, or a dash for None."""
    return "—" if d is None else f"{d} ({d:%a})"


def dateparser_plain(text: str, today: date) -> date | None:
    """Parse with dateparser as most code calls it: language detected on every call."""
    settings = {"RELATIVE_BASE": datetime(today.year, today.month, today.day)}
    found = dateparser.parse(text, settings={**settings, "PREFER_DATES_FROM": "future"})
    return None if found is None else found.date()


def dateparser_zh_en(text: str, today: date) -> date | None:
    """Parse with dateparser restricted to Chinese and English."""
    settings = {"RELATIVE_BASE": datetime(today.year, today.month, today.day)}
    found = dateparser.parse(
        text, languages=["zh", "en"], settings={**settings, "PREFER_DATES_FROM": "future"}
    )
    return None if found is None else found.date()


def with_fallback(text: str, today: date) -> date | None:
    """Parse with parse_deadline, and ask dateparser (zh, en) only when it finds nothing.

    This is the only way dateparser could add answers; the row shows whether it would
    add correct ones without a false date on the texts that hold none.
    """
    found = parse_deadline(text, today)
    return found if found is not None else dateparser_zh_en(text, today)


def kind(row: Row) -> str:
    """Return which group a row counts in: zh, en, or none (no deadline expected)."""
    if row[2] is None:
        return "none"
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in row[1]) else "en"


def measure(parser: Parser, rows: list[Row], repeat: int) -> tuple[list[bool], list[float], float]:
    """Return per-row correctness, per-call times (s) after warm-up, and the first call's time."""
    start = time.perf_counter()
    parser(rows[0][1], rows[0][0])
    cold = time.perf_counter() - start
    correct: list[bool] = []
    times: list[float] = []
    for today, text, expected in rows:
        result = None
        for _ in range(repeat):
            start = time.perf_counter()
            result = parser(text, today)
            times.append(time.perf_counter() - start)
        correct.append(result == expected)
    return correct, times, cold


def main() -> None:
    """Run the comparison and print it as a markdown table."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--repeat", type=int, default=5, help="calls per row (default 5)")
    options.add_argument("--misses", type=int, default=8, help="misses to show per parser")
    args = options.parse_args()
    warnings.simplefilter("ignore")  # dateparser's deprecation chatter is not the subject

    rows, today = load_table()
    kinds = [kind(r) for r in rows]
    parsers: list[tuple[str, Parser, int]] = [
        ("`parse_deadline`", parse_deadline, args.repeat * 4),
        ("`dateparser.parse`", dateparser_plain, args.repeat),
        ("`dateparser.parse(languages=['zh','en'])`", dateparser_zh_en, args.repeat),
        ("`parse_deadline`, then dateparser (zh, en)", with_fallback, args.repeat),
    ]
    counts = {k: kinds.count(k) for k in ("zh", "en", "none")}
    print(
        f"{len(rows)} rows: {counts['zh']} Chinese, {counts['en']} English, "
        f"{counts['none']} with no deadline (non-dates, past-only words, impossible dates)\n"
    )
    print("| parser | all | zh | en | none | median / call | p95 / call | first call |")
    print("|---|---|---|---|---|---|---|---|")
    misses: dict[str, list[str]] = {}
    for name, parser, repeat in parsers:
        correct, times, cold = measure(parser, rows, repeat)
        cells = []
        for group in ("all", "zh", "en", "none"):
            hits = [ok for ok, k in zip(correct, kinds, strict=True) if group in ("all", k)]
            cells.append(f"{sum(hits)}/{len(hits)} ({100 * sum(hits) / len(hits):.0f}%)")
        median = statistics.median(times) * 1000
        p95 = statistics.quantiles(times, n=20)[18] * 1000
        print(
            f"| {name} | {' | '.join(cells)} | {median:.3f} ms | {p95:.3f} ms "
            f"| {cold * 1000:.1f} ms |"
        )
        misses[name] = [
            f"{row[1]!r} on {row[0]}: expected {row[2]}, got {parser(row[1], row[0])}"
            for row, ok in zip(rows, correct, strict=True)
            if not ok
        ]
    print(f"\nThe issue's examples on {today} ({today:%a}):\n")
    print("| text | " + " | ".join(name for name, _, _ in parsers) + " |")
    print("|---" * (len(parsers) + 1) + "|")
    for text in SHOWCASE:
        results = [parser(text, today) for _, parser, _ in parsers]
        print(f"| `{text}` | " + " | ".join(_show(r) for r in results) + " |")
    for name, lines in misses.items():
        if lines and args.misses:
            # Spread the sample over the table rather than showing one group's misses.
            step = max(1, len(lines) // args.misses)
            print(f"\n{len(lines)} misses of {name}, for example:")
            for line in lines[::step][: args.misses]:
                print(f"  {line}")
    print(f"\nPython {sys.version.split()[0]}, dateparser {dateparser.__version__}; run: {COMMAND}")


if __name__ == "__main__":
    main()
