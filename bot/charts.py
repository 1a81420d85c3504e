"""The pictures: the wall chart, the funnel and the ranking's bars, as PNG bytes.

Pure functions over the data of storage.wallchart (and the ranking's bars), drawn with
matplotlib's object API (a Figure on its own FigureCanvasAgg, never pyplot's global
figures), so that they can run in a worker thread: callers on the event loop use
`await asyncio.to_thread(...)` (render_city_chart does).

Chinese is drawn with Noto Sans CJK SC from the mplfonts package, loaded by its file
once per process (cjk_family), so it renders on a fresh machine with no system fonts.
A glyph missing from the font would only warn; tests turn that warning into a failure.

Everything is placed in pixels on the figure itself, without Axes: an Axes costs tens of
milliseconds in tick machinery, and every text costs a glyph layout, so a picture of 25
rows is drawn in about a quarter of a second. Every picture stays inside Telegram's
limits for photos (width + height ≤ 10,000 px, sides at most 20:1).
"""

from __future__ import annotations

import asyncio
import html
import importlib.resources
import io
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import IdentityTransform
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.texts import t
from storage.models import Stage
from storage.rules import STAGE_ORDER, Light
from storage.wallchart import (
    ALL,
    MAX_PICTURES,
    ChartRow,
    FilterKind,
    Funnel,
    GroupBy,
    MilestoneState,
    WallChart,
    default_window,
    pages,
    wall_chart,
)

# --- the font ---------------------------------------------------------------------------

FONT_FILE = importlib.resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"
_font_lock = threading.Lock()
_family: str | None = None


def cjk_family() -> str:
    """The family name of Noto Sans CJK SC, registered with matplotlib from its file on
    the first call (thread-safe; once per process)."""
    global _family
    with _font_lock:
        if _family is None:
            path = str(FONT_FILE)
            font_manager.fontManager.addfont(path)
            _family = FontProperties(fname=path).get_name()
        return _family


def font(size: float) -> FontProperties:
    """The CJK font at SIZE points. It has Latin letters, digits and the signs drawn here
    (▲▼■↓…), so no fallback font is listed: a fallback doubles the cost of every text,
    and a glyph it would have covered fails a test instead. Regular weight only: the
    package ships no bold, and matplotlib would log a fallback for every bold text."""
    return FontProperties(family=cjk_family(), size=size)


# --- drawing in pixels ------------------------------------------------------------------

DPI = 100
WIDTH = 1280  # px: Telegram shows photos up to 1280 px on their longest side
# Telegram's photo limits: width + height, and the ratio of the sides.
MAX_SIDES = 10_000
MAX_RATIO = 20

COLOURS = {
    Light.RED: "#d93025",
    Light.YELLOW: "#e8a200",
    Light.GREEN: "#1e8e3e",
    Light.NONE: "#9aa0a6",
    Light.DONE: "#5f6368",
}
BANDS = {
    Light.RED: "#fce8e6",
    Light.YELLOW: "#fef4d6",
    Light.GREEN: "#e6f4ea",
    Light.NONE: "#f1f3f4",
}
INK = "#202124"
GREY = "#5f6368"
RULE = "#dadce0"
PLANNED = "#1a73e8"


def say(lang: str, key: str, **params: Any) -> str:
    """Catalog text for a picture: the same words as in chat, but plain (t() escapes the
    values for HTML; a picture shows `<` and `&` as they are)."""
    return html.unescape(t(lang, key, **params))


class Canvas:
    """A white figure of WIDTH × HEIGHT pixels, drawn on in pixels from its top-left
    corner (y grows downward, as on a page)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
        canvas = FigureCanvasAgg(self.fig)
        self.renderer: RendererAgg = canvas.get_renderer()  # type: ignore[no-untyped-call]
        # Display coordinates are pixels from the bottom-left when saved at DPI.
        self.px = IdentityTransform()
        self._advances: dict[tuple[str, float], float] = {}

    def _y(self, top: float) -> float:
        return self.height - top

    def text(self, x: float, top: float, s: str, prop: FontProperties, **kw: Any) -> None:
        """S at X, TOP (its vertical centre unless `va` says otherwise), never mathtext:
        names are data, and a `$` in one must not start a formula."""
        kw.setdefault("va", "center")
        self.fig.text(
            x, self._y(top), s, transform=self.px, fontproperties=prop, parse_math=False, **kw
        )

    def rect(self, x: float, top: float, w: float, h: float, colour: str, z: float = 0) -> None:
        self.fig.add_artist(
            Rectangle((x, self._y(top + h)), w, h, transform=self.px, color=colour, zorder=z)
        )

    def marks(self, xs: Sequence[float], tops: Sequence[float], **style: Any) -> None:
        """Markers at the points, one style for all; nothing when there are none."""
        if xs:
            ys = [self._y(top) for top in tops]
            self.fig.add_artist(
                Line2D(xs, ys, linestyle="none", transform=self.px, zorder=3, **style)
            )

    def segments(
        self, lines: Iterable[tuple[tuple[float, float], tuple[float, float]]], **style: Any
    ) -> None:
        """Straight lines between (x, top) points."""
        segs = [[(x0, self._y(t0)), (x1, self._y(t1))] for (x0, t0), (x1, t1) in lines]
        if segs:
            self.fig.add_artist(LineCollection(segs, transform=self.px, **style))

    def width_of(self, text: str, prop: FontProperties) -> float:
        measured = self.renderer.get_text_width_height_descent(text, prop, ismath=False)  # type: ignore[no-untyped-call]
        return float(measured[0])

    def _advance(self, char: str, prop: FontProperties) -> float:
        key = (char, prop.get_size_in_points())
        if key not in self._advances:
            self._advances[key] = self.width_of(char, prop)
        return self._advances[key]

    def fit(self, text: str, prop: FontProperties, room: float) -> str:
        """TEXT cut with an ellipsis to fit ROOM pixels in PROP.

        The cut is found from each character's advance (measured once a picture), then
        checked on the whole string, which is what the drawing will use.
        """
        text = " ".join(text.split())
        total = sum(self._advance(c, prop) for c in text)
        if total <= room * 0.9 or (total <= room * 1.1 and self.width_of(text, prop) <= room):
            return text
        budget = room - self._advance("…", prop)
        used, cut = 0.0, 0
        for cut, char in enumerate(text):  # noqa: B007  (cut is used after the loop)
            used += self._advance(char, prop)
            if used > budget:
                break
        while cut > 0:
            candidate = text[:cut].rstrip() + "…"
            if self.width_of(candidate, prop) <= room:
                return candidate
            cut -= 1
        return "…"

    def png(self) -> bytes:
        return figure_png(self.fig)


def figure_png(fig: Figure) -> bytes:
    """FIG as PNG bytes, at the pixel size it was drawn for."""
    buf = io.BytesIO()
    # Level 1: a little larger, several times faster to write than zlib's default.
    fig.savefig(buf, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def wan(value: Decimal | float) -> str:
    """An amount in 万元 with thousands separators, without needless decimals."""
    number = Decimal(value)
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def _day(lang: str, when: date) -> str:
    return say(lang, "fmt.date", iso=when.isoformat(), wd=say(lang, f"wd.{when.weekday()}"))


# --- the wall chart ---------------------------------------------------------------------

LABEL_W = 400  # px of the label column
RIGHT = 36
TOP = 104  # title and counts
AXIS = 52  # today's mark, then the month names, above the timeline
ROW_H = 48
GROUP_H = 30
BOTTOM = 64  # legend


def chart_scope(lang: str, chart: WallChart) -> str:
    """Whose projects and which filter, in plain words: `全市 · 阶段：开工`, `城东街道`."""
    flt = chart.flt
    if flt.kind is FilterKind.UNIT:
        return flt.value
    parts = [chart.scope or say(lang, "chart.city")]
    if flt.kind is FilterKind.STAGE:
        stage_name = say(lang, f"stage.{flt.value}")
        parts.append(say(lang, "chart.filter_stage", stage=stage_name))
    elif flt.kind is FilterKind.INDUSTRY:
        parts.append(say(lang, "chart.filter_industry", industry=flt.value))
    elif flt.kind is FilterKind.PROJECT:
        parts.append(say(lang, "chart.filter_project", code=flt.value))
    return " · ".join(parts)


def chart_title(lang: str, chart: WallChart) -> str:
    """The title a wall chart is drawn and sent with (plain text): scope, filter, date."""
    return say(lang, "chart.title", scope=chart_scope(lang, chart), date=_day(lang, chart.today))


def _group_label(lang: str, chart: WallChart, group: str) -> str:
    n = sum(1 for r in chart.rows if r.group == group)
    name = say(lang, f"stage.{group}") if chart.group_by is GroupBy.STAGE else group
    return f"{name} ({n})"


def _month_ticks(lang: str, start: date, end: date) -> list[tuple[int, str]]:
    """The first of each month in the window, in days from START, with its name (and the
    year on the first one and on January)."""
    ticks: list[tuple[int, str]] = []
    day = date(start.year, start.month, 1)
    while day <= end:
        if day >= start:
            month = say(lang, f"chart.mon.{day.month}")
            key = "chart.month_year" if not ticks or day.month == 1 else "chart.month"
            ticks.append(((day - start).days, say(lang, key, month=month, year=day.year)))
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return ticks


@dataclass(frozen=True)
class _Layout:
    """Where each group header (a str) and row sits, in pixels from the top of the
    timeline, and the timeline's height."""

    items: tuple[tuple[int, ChartRow | str], ...]
    body: int


def _layout(rows: Sequence[ChartRow]) -> _Layout:
    items: list[tuple[int, ChartRow | str]] = []
    y = 0
    group: str | None = None
    for row in rows:
        if row.group != group:
            group = row.group
            items.append((y, group))
            y += GROUP_H
        items.append((y, row))
        y += ROW_H
    return _Layout(tuple(items), max(y, ROW_H))


COUNT_WORDS = (
    (Light.RED, "red"),
    (Light.YELLOW, "yellow"),
    (Light.GREEN, "green"),
    (Light.NONE, "grey"),
)
# How each state of a milestone is drawn: a hollow ring planned, a green dot done, a red
# cross overdue.
MARKERS: dict[MilestoneState, dict[str, Any]] = {
    MilestoneState.PLANNED: {
        "marker": "o",
        "markersize": 7,
        "markerfacecolor": "white",
        "markeredgecolor": PLANNED,
        "markeredgewidth": 1.8,
    },
    MilestoneState.DONE: {
        "marker": "o",
        "markersize": 7,
        "markerfacecolor": COLOURS[Light.GREEN],
        "markeredgecolor": COLOURS[Light.GREEN],
    },
    MilestoneState.OVERDUE: {
        "marker": "X",
        "markersize": 9,
        "markerfacecolor": COLOURS[Light.RED],
        "markeredgecolor": COLOURS[Light.RED],
    },
}
TARGET_COLOURS = {Light.DONE: GREY, Light.RED: COLOURS[Light.RED], Light.YELLOW: "#b06000"}


def wall_chart_figure(
    lang: str, chart: WallChart, rows: Sequence[ChartRow], page: int = 1, of: int = 1
) -> Figure:
    """One picture of the wall chart: ROWS (at most ROWS_PER_PICTURE) drawn as a Figure,
    for wall_chart_pngs and for tests that look at where the texts landed."""
    layout = _layout(rows)
    c = Canvas(WIDTH, TOP + AXIS + layout.body + BOTTOM)
    left, right = LABEL_W, WIDTH - RIGHT
    span = max((chart.end - chart.start).days, 1)
    top0 = TOP + AXIS  # the timeline's first row

    def x_of(day: date) -> float:
        return left + (right - left) * (day - chart.start).days / span

    # Months: a rule down the timeline and the month's name above it.
    ticks = _month_ticks(lang, chart.start, chart.end)
    tick_font = font(10)
    months = [(left + (right - left) * d / span, label) for d, label in ticks]
    c.segments(
        [((x, top0), (x, top0 + layout.body)) for x, _ in months], colors=RULE, linewidths=0.8
    )
    for x, label in months:
        c.text(x, top0 - 14, label, tick_font, ha="center", color=GREY)
    c.segments([((left, top0), (right, top0))], colors="#bdc1c6", linewidths=1, zorder=1)

    name_font, sub_font, group_font = font(11.5), font(9), font(10.5)
    seq_font, mark_font = font(7.5), font(8)
    label_room = LABEL_W - 26
    marks: dict[MilestoneState, tuple[list[float], list[float]]] = {s: ([], []) for s in MARKERS}
    clipped: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    targets: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {}
    for y0, item in layout.items:
        y = top0 + y0
        if isinstance(item, str):
            c.rect(0, y, WIDTH, GROUP_H, "#e8eaed", z=0)
            text = c.fit(_group_label(lang, chart, item), group_font, WIDTH - 40)
            c.text(12, y + GROUP_H / 2, text, group_font, color=INK)
            continue
        row, mid = item, y + ROW_H / 2
        c.rect(0, y + 1, WIDTH, ROW_H - 2, BANDS[row.light], z=0)
        c.rect(0, y + 1, 8, ROW_H - 2, COLOURS[row.light], z=1)
        c.segments([((left, mid), (right, mid))], colors="white", linewidths=1.5, zorder=1)
        line1 = c.fit(f"{row.code}  {row.name}", name_font, label_room)
        stage_name = say(lang, f"stage.{row.stage.value}")
        line2 = c.fit(f"{row.unit} · {stage_name}", sub_font, label_room)
        c.text(16, y + ROW_H * 0.38, line1, name_font, color=INK)
        c.text(16, y + ROW_H * 0.76, line2, sub_font, color=GREY)

        if not row.milestones:
            c.text(left + 8, mid, say(lang, "chart.no_milestones"), font(9), color=GREY)
        numbers: dict[float, list[str]] = {}
        for m in row.milestones:
            if m.day is None:
                continue
            x = x_of(m.day)
            if x < left or x > right:
                # Past an edge of the window: a triangle on the edge, in the state's colour.
                side = "<" if x < left else ">"
                x = left if x < left else right
                colour = MARKERS[m.state]["markeredgecolor"]
                xs, ys = clipped.setdefault((side, colour), ([], []))
                xs.append(x)
                ys.append(mid)
            else:
                marks[m.state][0].append(x)
                marks[m.state][1].append(mid)
            # Numbers for what is still to do, as /done and /due take them.
            if m.state is not MilestoneState.DONE:
                numbers.setdefault(x, []).append(str(m.seq))
        for x, seqs in numbers.items():
            c.text(x, mid - 9, ",".join(seqs), seq_font, ha="center", va="bottom", color=GREY)
        for target in row.targets:
            if not chart.start <= target.day <= chart.end:
                continue
            x = x_of(target.day)
            colour = TARGET_COLOURS.get(target.light, PLANNED)
            targets.setdefault(colour, []).append(((x, y + 7), (x, y + ROW_H - 7)))
            letter = say(lang, f"chart.target.{target.stage.value}")
            c.text(x + 3, y + ROW_H - 5, letter, mark_font, ha="left", va="bottom", color=colour)

    for colour, lines in targets.items():
        c.segments(lines, colors=colour, linewidths=2.6, zorder=2)
    for state, (xs, ys) in marks.items():
        c.marks(xs, ys, **MARKERS[state])
    for (side, colour), (xs, ys) in clipped.items():
        c.marks(xs, ys, marker=side, markersize=7, color=colour)

    if chart.start <= chart.today <= chart.end:
        x = x_of(chart.today)
        red = COLOURS[Light.RED]
        c.segments(
            [((x, top0), (x, top0 + layout.body))], colors=red, linewidths=1.6,
            linestyles=[(0, (5, 3))], zorder=2,
        )  # fmt: skip
        c.text(x, top0 - AXIS + 12, say(lang, "chart.today"), font(9), ha="center", color=red)

    # The title, the counts per colour, the legend.
    title = chart_title(lang, chart) + (say(lang, "chart.page", n=page, total=of) if of > 1 else "")
    title_font, count_font = font(16), font(11)
    c.text(16, 34, c.fit(title, title_font, WIDTH - 32), title_font, color=INK)
    x0 = 16.0
    for light, word in COUNT_WORDS:
        n = chart.counts.get(light, 0)
        if light is Light.NONE and not n:
            continue
        piece = "■ " + say(lang, f"chart.count_{word}", n=n)
        c.text(x0, 76, piece, count_font, color=COLOURS[light])
        x0 += c.width_of(piece, count_font) + 22
    if not rows:
        c.text(left + 20, top0 + ROW_H / 2, say(lang, "chart.empty"), font(12), color=GREY)
    _legend(c, lang, c.height - BOTTOM / 2)
    return c.fig


def _legend(c: Canvas, lang: str, y: float) -> None:
    legend_font = font(9.5)
    x = 16.0
    samples: list[tuple[dict[str, Any], str]] = [
        (MARKERS[MilestoneState.PLANNED], "chart.legend_planned"),
        (MARKERS[MilestoneState.DONE], "chart.legend_done"),
        (MARKERS[MilestoneState.OVERDUE], "chart.legend_overdue"),
        ({"marker": "|", "markersize": 12, "markeredgewidth": 2.6, "color": PLANNED},
         "chart.legend_target"),
    ]  # fmt: skip
    for style, key in samples:
        c.marks([x + 6], [y], **style)
        label = say(lang, key)
        c.text(x + 18, y, label, legend_font, color=INK)
        x += 18 + c.width_of(label, legend_font) + 26
    c.segments(
        [((x, y), (x + 22, y))], colors=COLOURS[Light.RED], linewidths=1.6,
        linestyles=[(0, (5, 3))],
    )  # fmt: skip
    label = say(lang, "chart.today")
    c.text(x + 28, y, label, legend_font, color=INK)
    x += 28 + c.width_of(label, legend_font) + 26
    c.text(x, y, c.fit(say(lang, "chart.legend_rows"), legend_font, WIDTH - x - 16), legend_font,
           color=GREY)  # fmt: skip


def _pngs(lang: str, chart: WallChart, cut: Sequence[Sequence[ChartRow]]) -> list[bytes]:
    # One figure at a time: a figure of 25 rows holds about 10 MB until it is encoded.
    return [
        figure_png(wall_chart_figure(lang, chart, rows, n, len(cut)))
        for n, rows in enumerate(cut, 1)
    ]


def wall_chart_pngs(lang: str, chart: WallChart) -> list[bytes]:
    """The wall chart as PNG pictures of at most ROWS_PER_PICTURE rows each, in order.

    Every page is drawn (the caller refuses more than MAX_PICTURES); a chart without rows
    is one picture saying so. LANG: "zh" or "en" for the words and month names.
    """
    return _pngs(lang, chart, pages(chart) or [()])


async def render_city_chart(
    session: AsyncSession, config: Config, lang: str, today: date
) -> list[bytes]:
    """The whole city's wall chart on TODAY (local), at most MAX_PICTURES pictures: for the
    weekly meeting and the demo. A city too big for ten pictures shows its first rows
    (worst units first, red first within each). The query runs on SESSION, the drawing in
    a worker thread."""
    start, end = default_window(today)
    chart = await wall_chart(
        session,
        unit_id=None,
        flt=ALL,
        today=today,
        soon_days=config.work.soon_days,
        start=start,
        end=end,
    )
    cut = pages(chart)[:MAX_PICTURES] or [()]
    return await asyncio.to_thread(_pngs, lang, chart, cut)


# --- the funnel -------------------------------------------------------------------------

STAGE_COLOURS = ("#8ab4f8", "#4c8df6", "#1a73e8", "#174ea6")


def funnel_png(lang: str, funnel: Funnel) -> bytes:
    """The funnel of /board as a PNG: a bar per stage (negotiating at the top), its count
    and planned investment (万元), how many reached it this month and this year, how many
    are red; between two bars the median days of that transition this year. Titled with
    the funnel's scope (a unit's name, or the city)."""
    c = Canvas(WIDTH, 860)
    title_font = font(17)
    scope = funnel.scope or say(lang, "chart.city")
    title = say(lang, "board.pic_title", scope=scope, date=_day(lang, funnel.today))
    c.text(24, 40, c.fit(title, title_font, WIDTH - 48), title_font, color=INK)

    bar_h, gap, top = 104, 58, 96
    centre, widest = 370, 660
    most = max((funnel.stage(s).projects for s in STAGE_ORDER), default=0) or 1
    big, small, side = font(15), font(12), font(14)
    for i, stage in enumerate(STAGE_ORDER):
        fig_s = funnel.stage(stage)
        y = top + i * (bar_h + gap)
        w = widest * (0.3 + 0.7 * fig_s.projects / most)
        c.rect(centre - w / 2, y, w, bar_h, STAGE_COLOURS[i])
        ink = "white" if i >= 1 else INK
        name = f"{say(lang, f'stage.{stage.value}')}  {fig_s.projects}"
        c.text(centre, y + bar_h * 0.36, c.fit(name, big, w - 12), big, ha="center", color=ink)
        money = say(lang, "board.pic_money", money=wan(fig_s.investment))
        c.text(centre, y + bar_h * 0.7, c.fit(money, small, w - 12), small, ha="center", color=ink)
        moved = say(lang, "board.pic_moved", month=fig_s.moved_month, year=fig_s.moved_year)
        c.text(740, y + bar_h * 0.34, c.fit(moved, side, WIDTH - 760), side, color=INK)
        red = "■ " + say(lang, "board.pic_red", red=fig_s.red)
        c.text(740, y + bar_h * 0.7, red, side, color=COLOURS[Light.RED] if fig_s.red else GREY)
        if i + 1 < len(STAGE_ORDER):
            tr = funnel.transition(STAGE_ORDER[i + 1])
            words = (
                say(lang, "board.pic_speed", days=days_text(tr.median_days), n=tr.count)
                if tr.median_days is not None
                else say(lang, "board.pic_speed_none")
            )
            c.text(centre, y + bar_h + gap / 2, "↓  " + words, small, ha="center", color=GREY)
    other = say(
        lang,
        "board.pic_other",
        paused=funnel.stage(Stage.PAUSED).projects,
        dropped=funnel.stage(Stage.DROPPED).projects,
    )
    total = say(lang, "board.pic_total", n=funnel.projects, money=wan(funnel.investment))
    c.text(24, c.height - 62, other, side, color=GREY)
    c.text(24, c.height - 30, total, font(13), color=INK)
    return c.png()


def days_text(value: float | None) -> str:
    """Median days as people say them: 45, 45.5; a dash for none."""
    if value is None:
        return "—"
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


# --- the ranking's bars -----------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One unit's bar in the ranking picture."""

    label: str
    value: float  # 0..100 combined score
    note: str  # e.g. "▲2" / "▼1" / "—"


RANK_ROW = 46
RANK_MIN_ROW = 14


def rank_png(lang: str, title: str, bars: Sequence[Bar]) -> bytes:
    """Horizontal bars of the combined score (0..100), best on top (bars are sorted by
    value, highest first; equal values keep their order), each with its score and the
    NOTE (the change of rank, ▲ green, ▼ red). TITLE and labels are drawn as given (plain
    text, cut with an ellipsis when too long); LANG is kept for words drawn here later.
    Rows shrink for very long lists so that the picture stays within Telegram's limits."""
    del lang  # the caller's title and labels carry the words
    ordered = sorted(bars, key=lambda b: -b.value)
    head, foot = 84, 30
    row = RANK_ROW
    limit = MAX_SIDES - WIDTH - head - foot - 100
    if ordered and row * len(ordered) > limit:
        row = max(RANK_MIN_ROW, limit // len(ordered))
    c = Canvas(WIDTH, head + foot + max(len(ordered), 1) * row)
    title_font = font(16)
    c.text(24, 40, c.fit(title, title_font, WIDTH - 48), title_font, color=INK)
    label_w, note_w, value_w = 330, 90, 70
    bar_left = label_w + 20
    bar_room = WIDTH - bar_left - value_w - note_w - 30
    size = 11 if row >= 30 else max(6.0, row * 0.45)
    label_font = font(size)
    c.rect(bar_left, head - 6, bar_room, len(ordered) * row + 6, "#f8f9fa")
    for i, bar in enumerate(ordered):
        y = head + i * row
        mid = y + row / 2
        value = min(max(bar.value, 0.0), 100.0)
        c.text(24, mid, c.fit(bar.label, label_font, label_w - 24), label_font, color=INK)
        colour = PLANNED if i else "#174ea6"
        c.rect(bar_left, y + row * 0.18, bar_room * value / 100, row * 0.64, colour, z=1)
        c.text(bar_left + bar_room * value / 100 + 8, mid, f"{bar.value:.1f}", label_font,
               color=INK)  # fmt: skip
        note = bar.note.strip() or "—"
        tint = (
            COLOURS[Light.GREEN] if note.startswith("▲")
            else COLOURS[Light.RED] if note.startswith("▼") else GREY
        )  # fmt: skip
        c.text(WIDTH - 24, mid, c.fit(note, label_font, note_w), label_font, ha="right",
               color=tint)  # fmt: skip
    return c.png()
