"""The meeting's briefing as an Excel workbook, in the reader's language.

Four sheets in the shape of the weekly promotion meeting: 摘要/Summary (what is counted
and how many, investment by stage and by unit, stage moves, what turned red, the ranking
with every figure's counts beside its rate), 进展/Progress (per project), 问题/Problems
(each open problem) and 批示/Instructions. The words are the chat's: stages, problem
statuses, instruction states and the ranking's figures come from the same catalog keys,
and the caption counts by the same definitions as the sheets (storage.briefing). Amounts
(万元) carry thousands separators. Each prints on A4 landscape, fit to the page's width,
with its title and header row repeated on every page and frozen on screen. The data comes
from storage.briefing; writing the workbook is CPU-bound, so callers on the event loop run
`workbook_bytes` in a worker thread (`render` does).

Workbooks are written in openpyxl's write-only mode: rows stream to the file as they are
made, which keeps a 5,000-project briefing to seconds and tens of megabytes.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.format import kind_title, plain
from bot.texts import Raw, t
from storage.briefing import (
    Briefing,
    InstructionRow,
    NextMilestone,
    ProblemRow,
    ProgressRow,
    RankGroupPart,
    RankingPart,
    RankRow,
    Report,
    briefing,
)
from storage.ranking import LEFT_OUT_WEIGHT, Figure, Group
from storage.rules import Light
from storage.workdays import WorkCalendar

# Traffic-light fills, in the colours spreadsheet users know from conditional formatting.
LIGHT_FILLS: Final = {
    Light.RED: "FFC7CE",
    Light.YELLOW: "FFEB9C",
    Light.GREEN: "C6EFCE",
    Light.DONE: "DDEBF7",
}
# Escalation levels: blue (the unit head), yellow (the center), red (the leader).
LEVEL_FILLS: Final = {1: "BDD7EE", 2: "FFEB9C", 3: "FFC7CE"}
STATE_FILLS: Final = {"overdue": LIGHT_FILLS[Light.RED], "done": LIGHT_FILLS[Light.GREEN]}
HEADER_FILL: Final = "D9D9D9"
# Excel keeps at most 32,767 characters in a cell; a joined list of replies could pass it.
CELL_LIMIT: Final = 32_000
DATE_FORMAT: Final = "yyyy-mm-dd"
# 万元 and 亩 with thousands separators: whole amounts without decimals, others with two
# (one format for both would show "1,219,500." for a whole number).
AMOUNT_FORMAT: Final = "#,##0"
FRACTION_FORMAT: Final = "#,##0.00"
# Rows above the first row of data on the list sheets: the title, then the header.
HEADER_ROW: Final = 2

_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
_TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_FILLS: dict[str, PatternFill] = {}


def _fill(rgb: str) -> PatternFill:
    if rgb not in _FILLS:
        _FILLS[rgb] = PatternFill("solid", start_color=rgb, end_color=rgb)
    return _FILLS[rgb]


def _w(lang: str, key: str, **params: Any) -> str:
    """A catalog text for a cell: plain, so values are not HTML-escaped."""
    return t(lang, key, **{k: Raw(v) if isinstance(v, str) else v for k, v in params.items()})


def _clean(text: str) -> str:
    """TEXT as a cell can hold it: no control characters, within Excel's length."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def _iso(d: date | None) -> str:
    return d.isoformat() if d else "—"


class _Sheet:
    """A write-only sheet with the briefing's print set-up and its cell styles."""

    def __init__(
        self,
        wb: Workbook,
        title: str,
        widths: Sequence[float],
        *,
        heading: str,
        footer: str,
        title_rows: str,
        freeze: str,
    ) -> None:
        # openpyxl's stubs know the write-only sheet only in part (no page set-up, no
        # column widths), though it has them all.
        ws: Any = wb.create_sheet(title)
        self.ws = ws
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = freeze
        ws.print_title_rows = title_rows
        setup = ws.page_setup
        setup.orientation = "landscape"
        setup.paperSize = 9  # A4
        setup.fitToWidth = 1
        # 0: as many pages down as it takes; only the width is fitted.
        setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.6
        ws.oddFooter.center.text = footer
        ws.oddFooter.right.text = heading[:100]
        self.columns = len(widths)
        # The style indexes of each look a cell can have (see `cell`).
        self.styles: dict[tuple[object, ...], StyleArray] = {}

    def cell(
        self,
        value: object,
        *,
        fill: str | None = None,
        font: Font | None = None,
        align: Alignment = _WRAP,
        border: bool = True,
    ) -> Cell:
        """A styled cell for VALUE: a date shown as a date, a Decimal (万元, 亩) with
        thousands separators, text as text (never a formula)."""
        if isinstance(value, str):
            value = _clean(value)
        # Any: openpyxl's stubs do not know the cell's style array (`_style`).
        c: Any = WriteOnlyCell(self.ws, value=cast(Any, value))
        if isinstance(value, str) and value.startswith("="):
            # Typed text, never a formula: a name or a reply may start with "=".
            c.data_type = "s"
        number_format = _number_format(value)
        key = (fill, id(font), id(align), border, number_format)
        style = self.styles.get(key)
        if style is None:
            # The first cell of a look sets it through openpyxl's descriptors, which
            # register each part with the workbook (hashing it, the slow part); the others
            # copy the indexes it was given: a hundred thousand cells in a fraction of the
            # time.
            if number_format is not None:
                c.number_format = number_format
            c.alignment = align
            if border:
                c.border = _BORDER
            if fill is not None:
                c.fill = _fill(fill)
            if font is not None:
                c.font = font
            self.styles[key] = copy(c._style)
        else:
            c._style = copy(style)
        made: Cell = c
        return made

    def title(self, text: str) -> None:
        self.ws.append([self.cell(text, font=_TITLE_FONT, align=Alignment(), border=False)])

    def line(self, text: str, *, bold: bool = False) -> None:
        self.ws.append(
            [self.cell(text, font=_BOLD if bold else None, align=Alignment(), border=False)]
        )

    def blank(self) -> None:
        self.ws.append([])

    def header(self, names: Iterable[str]) -> None:
        self.ws.append([self.cell(n, fill=HEADER_FILL, font=_BOLD, align=_CENTER) for n in names])

    def row(self, values: Iterable[object], fills: dict[int, str] | None = None) -> None:
        fills = fills or {}
        self.ws.append([self.cell(v, fill=fills.get(i)) for i, v in enumerate(values)])


def _number_format(value: object) -> str | None:
    if isinstance(value, date):
        return DATE_FORMAT
    if isinstance(value, Decimal):
        return AMOUNT_FORMAT if value == value.to_integral_value() else FRACTION_FORMAT
    return None


# --- the sheets ---------------------------------------------------------------------------


def workbook_bytes(lang: str, b: Briefing, city: str = "") -> bytes:
    """The briefing B as an .xlsx file's bytes, every word in LANG ("zh" or "en").

    CITY names the city in the titles. CPU-bound (about a second per thousand projects):
    run it in a worker thread from the event loop.
    """
    wb = Workbook(write_only=True)
    heading = title(lang, b, city)
    footer = _w(lang, "brief.footer")
    _summary(wb, lang, b, heading, footer)
    _progress(wb, lang, b, heading, footer)
    _problems(wb, lang, b, heading, footer)
    _instructions(wb, lang, b, heading, footer)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def title(lang: str, b: Briefing, city: str) -> str:
    """`示范市招商例会简报 · 本周（2026-11-27 至 2026-12-03）`, plain text."""
    return _w(
        lang,
        "brief.title",
        city=city,
        period=_w(lang, f"brief.period.{b.period.kind}"),
        start=b.period.start.isoformat(),
        end=b.period.end.isoformat(),
    )


def _stage(lang: str, value: str) -> str:
    return _w(lang, f"stage.{value}")


def _summary(wb: Workbook, lang: str, b: Briefing, heading: str, footer: str) -> None:
    s = _Sheet(
        wb,
        _w(lang, "brief.sheet.summary"),
        (22, 28, 14, 14, 36, 14, 14, 14, 16, 16, 16, 16, 16),
        heading=heading,
        footer=footer,
        title_rows="1:1",
        freeze="A2",
    )
    s.title(heading)
    s.line(
        _w(
            lang,
            "brief.sum.totals",
            n=b.projects,
            investment=_money(b.investment),
            today=b.today.isoformat(),
        )
    )
    none = _w(lang, "brief.sum.none")

    # What each count of the caption and the sheets counts, with the same numbers.
    s.blank()
    s.line(_w(lang, "brief.sum.counts"), bold=True)
    s.header(_w(lang, k) for k in ("brief.h.what", "brief.h.count", "brief.h.counted"))
    lights = b.lights()
    s.row(
        [
            _w(lang, "brief.count.projects"),
            b.projects,
            _w(
                lang,
                "brief.counted.projects",
                dropped=b.dropped,
                red=lights[Light.RED],
                yellow=lights[Light.YELLOW],
                green=lights[Light.GREEN],
            ),
        ]
    )
    s.row([_w(lang, "brief.count.investment"), b.investment, _w(lang, "brief.counted.investment")])
    s.row([_w(lang, "brief.count.problems"), len(b.problems), _w(lang, "brief.counted.problems")])
    s.row(
        [
            _w(lang, "brief.count.instructions"),
            len(b.instructions),
            _w(
                lang,
                "brief.counted.instructions",
                open=b.open_instructions,
                done=b.done_instructions,
            ),
        ]
    )

    s.blank()
    s.line(_w(lang, "brief.sum.by_stage"), bold=True)
    s.header(_w(lang, k) for k in ("brief.h.stage", "brief.h.projects", "brief.h.investment"))
    for r in b.by_stage:
        s.row([_stage(lang, r.stage.value), r.projects, r.investment])
    s.row([_w(lang, "brief.h.total"), b.projects, b.investment])

    s.blank()
    s.line(_w(lang, "brief.sum.by_unit"), bold=True)
    stages = [st.stage for st in b.by_stage]
    s.header(
        [
            _w(lang, "brief.h.unit"),
            *(_stage(lang, st.value) for st in stages),
            _w(lang, "brief.h.total"),
            _w(lang, "brief.h.investment"),
            _w(lang, "brief.h.red"),
        ]
    )
    for u in b.by_unit:
        red_fill = {len(stages) + 3: LIGHT_FILLS[Light.RED]} if u.red else None
        s.row(
            [u.unit, *(u.by_stage.get(st, 0) for st in stages), u.projects, u.investment, u.red],
            red_fill,
        )
    if not b.by_unit:
        s.line(none)

    s.blank()
    s.line(_w(lang, "brief.sum.moved", n=len(b.moved)), bold=True)
    s.header(
        _w(lang, k)
        for k in (
            "brief.h.code",
            "brief.h.name",
            "brief.h.unit",
            "brief.h.from",
            "brief.h.to",
            "brief.h.date",
        )
    )
    for m in b.moved:
        s.row(
            [
                m.code,
                m.name,
                m.unit,
                _stage(lang, m.from_stage.value),
                _stage(lang, m.to_stage.value),
                m.day,
            ]
        )
    if not b.moved:
        s.line(none)

    s.blank()
    s.line(_w(lang, "brief.sum.went_red", n=len(b.went_red)), bold=True)
    s.header(
        _w(lang, k)
        for k in (
            "brief.h.code",
            "brief.h.name",
            "brief.h.unit",
            "brief.h.kind",
            "brief.h.item",
            "brief.h.date",
        )
    )
    for red in b.went_red:
        if red.kind == "milestone":
            item = f"{red.seq}. {kind_title(lang, red.ms_kind, red.detail)}"
        elif red.kind == "target":
            item = _w(lang, "brief.target", stage=_stage(lang, red.detail))
        else:
            item = f"#{red.ref} {red.detail}"
        s.row(
            [red.code, red.name, red.unit, _w(lang, f"brief.red.{red.kind}"), item, red.day],
            {3: LIGHT_FILLS[Light.RED]},
        )
    if not b.went_red:
        s.line(none)

    s.blank()
    if b.ranking is None:
        period = _w(lang, f"rank.period.{b.ranking_period}")
        s.line(_w(lang, "brief.sum.ranking_unavailable", period=period), bold=True)
        s.line(_w(lang, "brief.sum.no_ranking"))
        return
    _ranking(s, lang, b.ranking)


def _ranking(s: _Sheet, lang: str, r: RankingPart) -> None:
    """The units ranked as `/rank` shows them, group by group under its heading (each a
    table: rank, score, previous rank and change, then every figure with its counts beside
    its rate; its units with nothing to judge, its figures scored for no unit, named once
    and never a column of 0%), then how to read it."""
    s.line(
        _w(
            lang,
            "brief.sum.ranking",
            period=_w(lang, f"rank.period.{r.period}"),
            start=r.start.isoformat(),
            end=r.end.isoformat(),
        ),
        bold=True,
    )
    if not r.groups:
        s.line(_w(lang, "brief.sum.none"))
    for g in r.groups:
        s.line(plain(_w(lang, f"rank.group.{g.group}")), bold=True)
        _rank_group(s, lang, g)
    for name, why in r.left_out.items():
        # A weight of 0 is the config's: said once for both groups.
        if why == LEFT_OUT_WEIGHT:
            s.line(_left_out(lang, name, why, ""))
    if r.prev_start is not None and r.prev_end is not None:
        s.line(
            _w(
                lang,
                "rank.vs",
                prev=_w(lang, f"rank.prev.{r.period}"),
                start=r.prev_start.isoformat(),
                end=r.prev_end.isoformat(),
            )
        )
    s.line(plain(_w(lang, "rank.method")))


def _rank_group(s: _Sheet, lang: str, r: RankGroupPart) -> None:
    """One group's table, its idle units and its left-out figures."""
    s.header(
        [
            *(
                _w(lang, k)
                for k in (
                    "brief.h.rank",
                    "brief.h.unit",
                    "brief.h.score",
                    "brief.h.prev",
                    "brief.h.change",
                )
            ),
            *(_w(lang, f"rank.fig.{name}") for name in r.figures),
        ]
    )
    for row in r.rows:
        s.row(
            [
                row.rank,
                row.unit,
                round(row.score, 1),
                row.prev_rank or "—",
                _change(lang, row),
                *(_figure(lang, name, row.figures.get(name)) for name in r.figures),
            ]
        )
    if not r.rows:
        s.line(_w(lang, "brief.sum.none"))
    sep = _w(lang, "join.sep")
    if r.idle:
        s.line(_w(lang, "rank.idle", units=sep.join(r.idle)))
    for name, why in r.left_out.items():
        if why != LEFT_OUT_WEIGHT:
            s.line(_left_out(lang, name, why, r.group))


def _left_out(lang: str, name: str, why: str, group: str) -> str:
    """In /rank's words: `签约 —（本期全市无签约，不计分）`, for GROUP's units."""
    if why == LEFT_OUT_WEIGHT:
        reason = "rank.why.weight"
    elif group == Group.DEPARTMENTS.value:
        reason = f"rank.why.dept.{name}"
    else:
        reason = f"rank.why.city.{name}"
    label = _w(lang, f"rank.fig.{name}")
    return _w(lang, "rank.left_out", label=label, why=_w(lang, reason))


def _figure(lang: str, name: str, f: Figure | None) -> str:
    """`29/30（97%）`, `52,000 万元/6 个在推项目`, or — (nothing to judge): the counts
    beside the rate, as `/rank` writes them under the figure's name."""
    if f is None or f.rate is None:
        return "—"
    if name == "investment":
        return _w(lang, "brief.rank.investment", amount=f"{f.count:,}", n=f.of)
    return _w(lang, "brief.rank.count", count=f.count, of=f.of, pct=round(100 * f.rate))


def _change(lang: str, row: RankRow) -> str:
    """▲2 (two places up), ▼1, ＝ or — (not ranked in the previous period), as `/rank`."""
    if row.prev_rank is None:
        return _w(lang, "rank.new")
    if row.prev_rank > row.rank:
        return _w(lang, "rank.up", n=row.prev_rank - row.rank)
    if row.prev_rank < row.rank:
        return _w(lang, "rank.down", n=row.rank - row.prev_rank)
    return _w(lang, "rank.same")


def _money(value: Decimal) -> str:
    return f"{value.normalize():,f}"


def _report_line(lang: str, r: Report) -> str:
    return _w(
        lang, "brief.report_line", date=r.day.isoformat(), author=r.author, unit=r.unit, text=r.text
    )


def _ms_line(lang: str, m: NextMilestone) -> str:
    when = m.planned.isoformat() if m.planned else _w(lang, "brief.ms_undated")
    return _w(lang, "brief.ms_line", n=m.seq, title=kind_title(lang, m.kind, m.title), date=when)


def _progress(wb: Workbook, lang: str, b: Briefing, heading: str, footer: str) -> None:
    s = _Sheet(
        wb,
        _w(lang, "brief.sheet.progress"),
        (16, 11, 28, 12, 8, 12, 8, 50, 36, 9, 12),
        heading=heading,
        footer=footer,
        title_rows=f"1:{HEADER_ROW}",
        freeze=f"A{HEADER_ROW + 1}",
    )
    s.title(heading)
    s.header(
        _w(lang, k)
        for k in (
            "brief.h.unit",
            "brief.h.code",
            "brief.h.name",
            "brief.h.industry",
            "brief.h.stage",
            "brief.h.investment",
            "brief.h.light",
            "brief.h.reports",
            "brief.h.next",
            "brief.h.open_problems",
            "brief.h.last",
        )
    )
    for p in b.progress:
        s.row(_progress_values(lang, p), _light_fill(p.light))
    if not b.progress:
        s.line(_w(lang, "brief.sum.none"))


def _light_fill(light: Light) -> dict[int, str] | None:
    fill = LIGHT_FILLS.get(light)
    return {6: fill} if fill else None


def _progress_values(lang: str, p: ProgressRow) -> list[object]:
    reports = "\n".join(_report_line(lang, r) for r in p.reports)
    if p.report_count > len(p.reports):
        more = _w(lang, "brief.more_reports", n=p.report_count, shown=len(p.reports))
        reports = f"{reports}\n{more}"
    return [
        p.unit,
        p.code,
        p.name,
        p.industry,
        _stage(lang, p.stage.value),
        p.investment,
        _w(lang, f"brief.light.{p.light.value}"),
        reports or "—",
        "\n".join(_ms_line(lang, m) for m in p.next_milestones) or "—",
        p.open_problems,
        p.last_report or "—",
    ]


def _problems(wb: Workbook, lang: str, b: Briefing, heading: str, footer: str) -> None:
    s = _Sheet(
        wb,
        _w(lang, "brief.sheet.problems"),
        (8, 11, 22, 40, 9, 10, 16, 9, 12, 12, 10, 16, 44),
        heading=heading,
        footer=footer,
        title_rows=f"1:{HEADER_ROW}",
        freeze=f"A{HEADER_ROW + 1}",
    )
    s.title(heading)
    s.header(
        _w(lang, k)
        for k in (
            "brief.h.id",
            "brief.h.code",
            "brief.h.name",
            "brief.h.problem",
            "brief.h.category",
            "brief.h.raiser",
            "brief.h.answer_unit",
            "brief.h.status",
            "brief.h.raised",
            "brief.h.reply_deadline",
            "brief.h.waited",
            "brief.h.level",
            "brief.h.replies",
        )
    )
    for p in b.problems:
        fill = LEVEL_FILLS.get(p.level)
        s.row(_problem_values(lang, p), {11: fill} if fill else None)
    if not b.problems:
        s.line(_w(lang, "brief.sum.none"))


def _problem_values(lang: str, p: ProblemRow) -> list[object]:
    replies = "\n".join(
        _w(
            lang,
            "brief.reply_line",
            date=r.day.isoformat(),
            unit=r.unit,
            author=r.author,
            text=r.text,
        )
        for r in p.replies
    )
    return [
        p.id,
        p.code,
        p.project,
        p.text,
        _w(lang, f"pcat.{p.category}"),
        p.raiser,
        p.unit,
        _w(lang, f"pstatus.{p.status.value}"),
        p.raised,
        p.deadline or "—",
        p.waited,
        _w(lang, f"brief.level.{min(p.level, 3)}"),
        replies or "—",
    ]


def _instructions(wb: Workbook, lang: str, b: Briefing, heading: str, footer: str) -> None:
    s = _Sheet(
        wb,
        _w(lang, "brief.sheet.instructions"),
        (8, 11, 22, 10, 40, 16, 12, 12, 10, 16, 30, 40),
        heading=heading,
        footer=footer,
        title_rows=f"1:{HEADER_ROW}",
        freeze=f"A{HEADER_ROW + 1}",
    )
    s.title(heading)
    s.header(
        _w(lang, k)
        for k in (
            "brief.h.instruction_id",
            "brief.h.code",
            "brief.h.name",
            "brief.h.leader",
            "brief.h.instruction",
            "brief.h.acting_unit",
            "brief.h.given",
            "brief.h.deadline",
            "brief.h.state",
            "brief.h.level",
            "brief.h.done",
            "brief.h.last_report",
        )
    )
    for i in b.instructions:
        fills: dict[int, str] = {}
        if i.state in STATE_FILLS:
            fills[8] = STATE_FILLS[i.state]
        if i.level in LEVEL_FILLS:
            fills[9] = LEVEL_FILLS[i.level]
        s.row(_instruction_values(lang, i), fills)
    if not b.instructions:
        s.line(_w(lang, "brief.sum.none"))


def _instruction_values(lang: str, i: InstructionRow) -> list[object]:
    done = (
        _w(lang, "brief.done_line", date=i.done.isoformat(), text=i.done_text or "—")
        if i.done
        else "—"
    )
    return [
        i.id,
        i.code,
        i.project,
        i.leader,
        i.text,
        i.unit,
        i.given,
        i.deadline or "—",
        instruction_state(lang, i),
        _w(lang, f"brief.level.{min(i.level, 3)}"),
        done,
        _report_line(lang, i.last_report) if i.last_report else "—",
    ]


def instruction_state(lang: str, i: InstructionRow) -> str:
    """Where an instruction stands, in the chat's words (`instr.state.*`, as /today and
    /instructions say it): 待受理, 已受理, 逾期 2 个工作日, 延期待批 beside it, …; done
    ones 已办结."""
    if i.state == "done":
        return _w(lang, "brief.state.done")
    if i.state == "dropped":
        return _w(lang, "instr.state.dropped")
    if i.state == "overdue":
        parts = [
            _w(lang, "instr.state.overdue", late=i.late) if i.late else _w(lang, "instr.state.past")
        ]
    else:
        parts = [
            _w(lang, "instr.state.acknowledged" if i.state == "acknowledged" else "instr.state.new")
        ]
    if i.pending:
        parts.append(_w(lang, "instr.state.pending"))
    return " · ".join(parts)


# --- from the store to a file ---------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A briefing made for one reader: the file's name and bytes, its caption (HTML) and
    the data it was made from."""

    name: str
    data: bytes
    caption: str
    briefing: Briefing


def file_name(lang: str, b: Briefing) -> str:
    """`招商例会简报_2026-11-30.xlsx`, `briefing_2026-11-30.xlsx` (the day it covers to)."""
    return _w(lang, f"brief.file.{b.period.kind}", date=b.today.isoformat())


def caption(lang: str, b: Briefing, city: str) -> str:
    """The message under the file: the title and the counts that matter at a glance,
    counted as the summary sheet counts them (its "what is counted" table)."""
    lights = b.lights()
    return t(
        lang,
        "brief.caption",
        title=title(lang, b, city),
        n=b.projects,
        red=lights[Light.RED],
        yellow=lights[Light.YELLOW],
        green=lights[Light.GREEN],
        problems=len(b.problems),
        instructions=len(b.instructions),
        open=b.open_instructions,
        done=b.done_instructions,
    )


async def load(
    session: AsyncSession,
    config: Config,
    period: str,
    today: date,
    calendar: WorkCalendar | None = None,
) -> Briefing:
    """The briefing's data for PERIOD ("week"/"month") ending on TODAY, the current local
    day (the store as it stands now)."""
    return await briefing(
        session,
        period,
        today,
        config.city.tz,
        calendar or config.work.calendar(),
        soon_days=config.work.soon_days,
        weights=config.rank,
        # The same terms as /rank, so that the briefing's ranking is the chat's.
        reply_days=config.work.reply_days,
        instruction_days=config.work.instruction_days,
    )


async def render(
    session: AsyncSession,
    config: Config,
    lang: str,
    period: str,
    today: date,
    calendar: WorkCalendar | None = None,
) -> Rendered:
    """The briefing read from the store and written as a workbook off the event loop.

    Raises Refused("err.report_period") for a PERIOD other than "week" or "month".
    """
    b = await load(session, config, period, today, calendar)
    data = await asyncio.to_thread(workbook_bytes, lang, b, config.city.name)
    return Rendered(file_name(lang, b), data, caption(lang, b, config.city.name), b)


async def render_briefing(
    session: AsyncSession, config: Config, lang: str, period: str, today: date
) -> tuple[str, bytes]:
    """The workbook's file name and bytes for PERIOD ending on TODAY, in LANG."""
    done = await render(session, config, lang, period, today)
    return done.name, done.data
