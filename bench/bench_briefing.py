"""Time the meeting's briefing (`/report week`) for a synthetic city of 5,000 projects.

Run from the project root:

    .venv/bin/python bench/bench_briefing.py [--scale 1] [--db sqlite postgresql] [--runs 3]

The city is bench_tick.py's (at scale 1: 100 units, 2,000 members, 5,000 projects, 50,000
milestones, 3,000 problems), plus what a briefing reads beyond the tick: progress reports
(three a project on average over the last two months, nearly half of them this week), replies
to the answered and acknowledged problems, 600 leaders' instructions (open, acknowledged,
done this week, done long ago, overdue) and 1,500 stage moves over the last 60 days. The
generator is seeded, so every run builds the same city.

Each timed run is a fresh process (so that its peak memory is the briefing's own, not the
city generator's): it opens the store, reads the briefing for the week to Tuesday
17 November 2026 (storage.briefing.briefing, the ranking included) and writes the Chinese
workbook (bot.briefing.workbook_bytes), as `/report week` does. It prints the wall time of
each part, the CPU time, the peak resident memory of the process and its growth over the
process's resident size before the briefing (an upper bound of what the briefing needs),
and the workbook's size. The best of --runs is reported. The aim on a 2-core machine:
under 20 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_tick  # noqa: E402
from bench_tick import (  # noqa: E402
    CHUNK,
    NOW,
    PG_SERVER,
    TODAY,
    City,
    at_local,
    build_store,
    drop_store,
    synthesise,
)
from sqlalchemy import insert, text  # noqa: E402

from bot.config import Config  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.models import (  # noqa: E402
    Instruction,
    ProblemReply,
    ProblemStatus,
    ProgressReport,
    Role,
    StageMove,
)
from storage.rules import STAGE_ORDER  # noqa: E402
from storage.workdays import WorkCalendar  # noqa: E402

# Databases of this benchmark's own, so that it can run beside bench_tick.py.
bench_tick.PG_TEMPLATE = "wallchart_bench_briefing_tpl"
bench_tick.PG_RUN = "wallchart_bench_briefing"
TARGET_SECONDS = 20.0
INSTRUCTIONS = 600
STAGE_MOVES = 1500
REPORT_TEXTS = [
    "完成土地预审，正在准备摘牌材料",
    "主体结构施工至第三层，设备采购合同已签",
    "环评报告已报送省厅，等待专家评审",
    "与企业进行第二轮洽谈，双方就投资强度基本达成一致",
    "水电气接入方案已确定，管网同步施工",
    "试生产准备中，首批设备进场调试",
]


def extras(city: City, scale: int) -> dict[str, list[dict[str, Any]]]:
    """The rows a briefing reads that the tick's city lacks (explicit ids after its own)."""
    rng = random.Random(9000 + scale)
    members = city.members
    leaders = [m["id"] for m in members if m["role"] is Role.LEADER]
    by_unit: dict[int, list[int]] = {}
    for m in members:
        if m["role"] in (Role.OFFICER, Role.HEAD):
            by_unit.setdefault(m["unit_id"], []).append(m["id"])
    anyone = [m["id"] for m in members if m["role"] is Role.OFFICER]

    reports = []
    for p in city.projects:
        authors = by_unit.get(p["unit_id"], anyone)
        for _ in range(rng.randint(0, 6)):
            day = TODAY - timedelta(days=int(rng.expovariate(1 / 12)) % 60)
            reports.append(
                {
                    "id": len(reports) + 1,
                    "project_id": p["id"],
                    "author_id": rng.choice(authors),
                    "text": rng.choice(REPORT_TEXTS),
                    "report_date": day,
                    "amount": None,
                    "kind": "report",
                    "created_at": at_local(day, 16),
                }
            )

    replies = []
    for q in city.problems:
        if q["status"] not in (ProblemStatus.ANSWERED, ProblemStatus.ACKNOWLEDGED):
            continue
        authors = by_unit.get(q["unit_id"], anyone)
        for _ in range(rng.randint(1, 2)):
            replies.append(
                {
                    "id": len(replies) + 1,
                    "problem_id": q["id"],
                    "author_id": rng.choice(authors),
                    "text": "已协调相关部门，本周内给出书面答复",
                    "created_at": q["created_at"] + timedelta(days=rng.randint(0, 5)),
                }
            )

    instructions = []
    for i in range(INSTRUCTIONS * scale):
        p = rng.choice(city.projects)
        given = TODAY - timedelta(days=rng.randint(0, 60))
        deadline = given + timedelta(days=rng.randint(3, 30))
        roll = rng.random()
        done_at = None
        if roll < 0.3:
            done_at = at_local(TODAY - timedelta(days=rng.randint(0, 6)), 15)
        elif roll < 0.5:
            done_at = at_local(given + timedelta(days=2), 15)
        instructions.append(
            {
                "id": i + 1,
                "leader_id": rng.choice(leaders),
                "project_id": p["id"],
                "problem_id": None,
                "text": "请倒排工期、挂图作战，确保项目按期开工",
                "unit_id": p["unit_id"],
                "deadline": deadline,
                "done_at": done_at,
                "created_at": at_local(given, 10),
                "acknowledged_at": at_local(given, 11) if rng.random() < 0.6 else None,
                "done_text": "已完成" if done_at else None,
                "done_by_id": None,
                "escalation_level": rng.randint(0, 3) if deadline < TODAY and not done_at else 0,
                "escalated_at": None,
            }
        )

    moves = []
    movable = [p for p in city.projects if p["stage"] in STAGE_ORDER[1:]]
    for i in range(STAGE_MOVES * scale):
        p = rng.choice(movable)
        to = p["stage"]
        moves.append(
            {
                "id": i + 1,
                "project_id": p["id"],
                "from_stage": STAGE_ORDER[STAGE_ORDER.index(to) - 1],
                "to_stage": to,
                "at": NOW - timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 20)),
                "actor_id": None,
            }
        )
    # Entering the store is no move; a few of those too, so the query must tell them apart.
    for p in city.projects[:200]:
        moves.append(
            {
                "id": len(moves) + 1,
                "project_id": p["id"],
                "from_stage": None,
                "to_stage": p["stage"],
                "at": NOW - timedelta(days=3),
                "actor_id": None,
            }
        )
    return {
        "progress_reports": reports,
        "problem_replies": replies,
        "instructions": instructions,
        "stage_moves": moves,
    }


async def add_extras(url: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    tables = {
        "progress_reports": ProgressReport,
        "problem_replies": ProblemReply,
        "instructions": Instruction,
        "stage_moves": StageMove,
    }
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for name, items in rows.items():
                table = tables[name].__table__
                for start in range(0, len(items), CHUNK):
                    await conn.execute(insert(table), items[start : start + CHUNK])
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


# --- one timed run, in a process of its own ---------------------------------------------


def _peak_mb() -> float:
    """The process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    """The process's resident memory now (Linux), else its peak so far."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _peak_mb()


async def timed(url: str, out: Path | None) -> dict[str, float]:
    from bot.briefing import load, workbook_bytes
    from storage.db import make_sessionmaker

    config = Config()
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s:  # connect before the clock
            await s.execute(text("SELECT 1"))
        calendar = WorkCalendar()
        base = _rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        async with sessions() as s:
            b = await load(s, config, "week", TODAY, calendar)
        read = time.perf_counter() - started
        data = workbook_bytes("zh", b, config.city.name)
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if out is not None:
            await asyncio.to_thread(out.write_bytes, data)
        return {
            "read": read,
            "write": total - read,
            "total": total,
            "cpu": cpu,
            "peak_mb": _peak_mb(),
            # An upper bound: the peak may have been reached before the briefing began.
            "growth_mb": _peak_mb() - base,
            "bytes": len(data),
            "progress": len(b.progress),
            "problems": len(b.problems),
            "instructions": len(b.instructions),
            "moved": len(b.moved),
            "went_red": len(b.went_red),
            "ranked": len(b.ranking.rows) if b.ranking else 0,
        }
    finally:
        await engine.dispose()


def run_child(url: str, out: Path | None) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", url]
    if out is not None:
        command += ["--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the timed run failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def check(path: Path, run: dict[str, float]) -> None:
    """The workbook opens, and its sheets hold a row per project, problem and instruction."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    expected = {"进展": run["progress"], "问题": run["problems"], "批示": run["instructions"]}
    for sheet, rows in expected.items():
        found = sum(1 for _row in wb[sheet].iter_rows(values_only=True))
        if found != rows + 2:  # the title and the header
            raise SystemExit(f"{sheet}: {found} rows, expected {int(rows) + 2}")
    wb.close()


async def prepare(db: str, scale: int, tmp: Path) -> Any:
    config = Config()
    calendar = WorkCalendar()
    started = time.perf_counter()
    city = synthesise(scale, config, calendar)
    rows = extras(city, scale)
    store = await build_store(db, city, tmp, scale)
    url = (
        f"sqlite:///{store.template}" if db == "sqlite" else f"{PG_SERVER}/{bench_tick.PG_TEMPLATE}"
    )
    await add_extras(url, rows)
    sizes = {k: len(v) for k, v in rows.items()}
    print(
        f"{db} {scale}x: built in {time.perf_counter() - started:.1f} s: "
        f"{len(city.projects):,} projects, {len(city.milestones):,} milestones, "
        f"{len(city.problems):,} problems, "
        + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in sizes.items()),
        flush=True,
    )
    return store, url


async def main_async(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-briefing-"))
    results: list[tuple[str, int, list[dict[str, float]]]] = []
    try:
        for scale in args.scale:
            for db in args.db:
                store, url = await prepare(db, scale, tmp)
                try:
                    runs = []
                    for i in range(args.runs):
                        out = tmp / f"briefing-{db}-{scale}.xlsx" if i == 0 else None
                        run = run_child(url, out)
                        runs.append(run)
                        if out is not None:
                            check(out, run)
                        print(
                            f"  run {i + 1}: {run['total']:.2f} s (read {run['read']:.2f} s, "
                            f"workbook {run['write']:.2f} s, CPU {run['cpu']:.2f} s), "
                            f"peak {run['peak_mb']:.0f} MB (+{run['growth_mb']:.0f} MB), "
                            f"{run['bytes'] / 1e6:.1f} MB file",
                            flush=True,
                        )
                    results.append((db, scale, runs))
                finally:
                    await drop_store(store)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(
        "| store | projects | rows (progress / problems / instructions) | briefing (best) "
        "| read | workbook | CPU | peak memory (growth) | file |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    ok = True
    for db, _scale, runs in results:
        best = min(runs, key=lambda r: r["total"])
        projects = int(best["progress"])
        print(
            f"| {db} | {projects:,} live | {projects:,} / {int(best['problems']):,} / "
            f"{int(best['instructions']):,} | {best['total']:.2f} s | {best['read']:.2f} s "
            f"| {best['write']:.2f} s | {best['cpu']:.2f} s | {best['peak_mb']:.0f} MB "
            f"(+{best['growth_mb']:.0f} MB) | {best['bytes'] / 1e6:.1f} MB |"
        )
        if best["total"] > TARGET_SECONDS:
            ok = False
    print()
    print(" ".join(["command: .venv/bin/python bench/bench_briefing.py", *sys.argv[1:]]))
    print(f"target (under {TARGET_SECONDS:.0f} s):", "met" if ok else "NOT met")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, nargs="+", default=[1])
    parser.add_argument(
        "--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per store")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = asyncio.run(timed(args.child, Path(args.out) if args.out else None))
        print(json.dumps(result))
        return
    raise SystemExit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
