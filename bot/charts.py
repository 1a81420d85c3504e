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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.texts import t
from storage.models import Stage
from storage.rules import STAGE_ORDER, Light
from storage.wallchart import (
    ALL,
    LIGHT_ORDER,
    MAX_PICTURES,
    MAX_ROWS,
    ChartRow,
    Funnel,
    GroupBy,
    MarkKind,
    MilestoneState,
    WallChart,
    default_window,
    fit_rows,
    pages,
    wall_chart,
)

# matplotlib is imported with the first picture, not with the bot: some 35 MB and a
# second of start-up that the bot does without until someone asks for a chart.
if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

# --- the font ---------------------------------------------------------------------------

# Inside the mplfonts package, which imports matplotlib: found with the first picture.
FONT_PACKAGE, FONT_FILE = "mplfonts", "fonts/NotoSansCJKsc-Regular.otf"
_font_lock = threading.Lock()
_family: str | None = None


def cjk_family() -> str:
    """The family name of Noto Sans CJK SC, registered with matplotlib from its file on
    the first call (thread-safe; once per process)."""
    from matplotlib import font_manager
    from matplotlib.font_manager import FontProperties

    global _family
    with _font_lock:
        if _family is None:
            path = str(importlib.resources.files(FONT_PACKAGE).joinpath(FONT_FILE))
            font_manager.fontManager.addfont(path)
            _family = FontProperties(fname=path).get_name()
        return _family


def font(size: float) -> FontProperties:
    """The CJK font at SIZE points. It has Latin letters, digits and the signs drawn here
    (▲▼■↓…), so no fallback font is listed: a fallback doubles the cost of every text,
    and a glyph it would have covered fails a test instead. Regular weight only: the
    package ships no bold, and matplotlib would log a fallback for every bold text."""
    from matplotlib.font_manager import FontProperties

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
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.transforms import IdentityTransform

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
        from matplotlib.patches import Rectangle

        self.fig.add_artist(
            Rectangle((x, self._y(top + h)), w, h, transform=self.px, color=colour, zorder=z)
        )

    def marks(self, xs: Sequence[float], tops: Sequence[float], **style: Any) -> None:
        """Markers at the points, one style for all; nothing when there are none."""
        from matplotlib.lines import Line2D

        if xs:
            ys = [self._y(top) for top in tops]
            self.fig.add_artist(
                Line2D(xs, ys, linestyle="none", transform=self.px, zorder=3, **style)
            )

    def segments(
        self, lines: Iterable[tuple[tuple[float, float], tuple[float, float]]], **style: Any
    ) -> None:
        """Straight lines between (x, top) points."""
        from matplotlib.collections import LineCollection

        segs = [[(x0, self._y(t0)), (x1, self._y(t1))] for (x0, t0), (x1, t1) in lines]
        if segs:
            self.fig.add_artist(LineCollection(segs, transform=self.px, **style))

    def width_of(self, text: str, prop: FontProperties) -> float:
        measured = self.renderer.get_text_width_height_descent(text, prop, ismath=False)  # type: ignore[no-untyped-call]
        return float(measured[0])

    def quick_width(self, text: str, prop: FontProperties) -> float:
        """TEXT's width from its characters' advances (measured once a picture): close
        enough for short runs of digits and signs, and without a layout per call."""
        return sum(self._advance(c, prop) for c in text)

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

    def wrap(self, text: str, prop: FontProperties, room: float, lines: int) -> list[str]:
        """TEXT in at most LINES lines of ROOM pixels, broken after a space or a Chinese
        character; the last line cut with an ellipsis if the text is longer still."""
        text = " ".join(text.split())
        out: list[str] = []
        while text and len(out) < lines - 1 and self.width_of(text, prop) > room:
            used, cut, brk = 0.0, 0, 0
            for i, char in enumerate(text):
                used += self._advance(char, prop)
                if used > room * 0.97:
                    break
                cut = i + 1
                if char == " " or ord(char) >= 0x2E80:
                    brk = i + 1
            end = brk if brk > cut // 2 else max(cut, 1)
            out.append(text[:end].rstrip())
            text = text[end:].lstrip()
        if text:
            out.append(self.fit(text, prop, room))
        return out

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
NOTE_H = 50  # the note on projects not drawn, two lines at most, when there is one
AXIS = 52  # today's mark, then the month names, above the timeline
ROW_H = 48
GROUP_H = 30
LEGEND_LINE = 24
BOTTOM = 3 * LEGEND_LINE + 18  # the legend's three lines
# The name in a title never takes less than this, however long the rest.
TITLE_NAME_MIN = 120
# A unit's name longer than this is not offered as a filter to type in a picture.
TYPED_NAME_MAX = 20


def chart_scope(lang: str, chart: WallChart, name: str | None = None) -> str:
    """Whose projects and which filter, in plain words: `全市 · 阶段：开工`, `城东街道`,
    `大镇 · 阶段：签约 · 产业：新能源`. NAME replaces the unit's name (a shortened one)."""
    flt = chart.flt
    who = flt.unit or chart.scope
    parts = [say(lang, "chart.city") if who is None else who if name is None else name]
    if flt.stage is not None:
        stage_name = say(lang, f"stage.{flt.stage.value}")
        parts.append(say(lang, "chart.filter_stage", stage=stage_name))
    if flt.industry is not None:
        parts.append(say(lang, "chart.filter_industry", industry=flt.industry))
    if flt.code is not None:
        parts.append(say(lang, "chart.filter_project", code=flt.code))
    return " · ".join(parts)


def chart_title(lang: str, chart: WallChart, name: str | None = None) -> str:
    """The title a wall chart is drawn and sent with (plain text): scope, filter, date.
    NAME replaces the unit's name, as in chart_scope."""
    scope = chart_scope(lang, chart, name)
    return say(lang, "chart.title", scope=scope, date=_day(lang, chart.today))


def _picture_title(
    c: Canvas, lang: str, chart: WallChart, suffix: str, prop: FontProperties
) -> str:
    """The title in the picture's width: a long unit's name is shortened, never the
    filter, the date or the page."""
    room = WIDTH - 32
    title = chart_title(lang, chart) + suffix
    if c.width_of(title, prop) <= room:
        return title
    name = chart.flt.unit or chart.scope
    if name is not None:
        rest = c.width_of(chart_title(lang, chart, name="") + suffix, prop)
        short = c.fit(name, prop, max(room - rest - 4, TITLE_NAME_MIN))
        title = chart_title(lang, chart, name=short) + suffix
    return c.fit(title, prop, room)


def left_out_note(lang: str, chart: WallChart) -> str | None:
    """What a chart cut by fit_rows says about the projects it does not draw, with a
    filter to see them (the unit with the most left out, when its name is short enough
    to type); None for a chart that draws every project it counts."""
    out = chart.left_out
    if not out:
        return None
    unit = chart.example_unit
    example = (
        say(lang, "chart.left_out_example", unit=unit)
        if unit is not None and len(unit) <= TYPED_NAME_MAX
        else ""
    )
    if not (out.get(Light.RED) or out.get(Light.YELLOW)):
        green = out.get(Light.GREEN, 0) + out.get(Light.NONE, 0)
        return say(
            lang,
            "chart.left_out_green",
            green=green,
            max=MAX_ROWS,
            pictures=MAX_PICTURES,
            example=example,
        )
    sep = say(lang, "chart.left_out_sep")
    parts = sep.join(
        say(lang, f"chart.n.{light.value}", n=out[light]) for light in LIGHT_ORDER if out.get(light)
    )
    return say(
        lang,
        "chart.left_out_worst",
        what=say(lang, "chart.left_out_what", parts=parts),
        max=MAX_ROWS,
        pictures=MAX_PICTURES,
        example=example,
    )


def _group_label(lang: str, chart: WallChart, group: str) -> str:
    shown = sum(1 for r in chart.rows if r.group == group)
    total = chart.group_size(group)
    name = say(lang, f"stage.{group}") if chart.group_by is GroupBy.STAGE else group
    if shown == total:
        return f"{name} ({shown})"
    return say(lang, "chart.group_cut", name=name, shown=shown, total=total)


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


@dataclass(frozen=True)
class NumberLabel:
    """The numbers of the open milestones at one place on a row: X its centre (px), LANE
    0 above the row's line and 1 below it, TEXT the numbers (`2、3` for one day), WIDTH
    its width (px)."""

    x: float
    lane: int
    text: str
    width: float

    @property
    def span(self) -> tuple[float, float]:
        return self.x - self.width / 2, self.x + self.width / 2


LABEL_GAP = 5.0  # px between two numbers in one lane
# Markers closer than this (px) overlap, and so share one label: `2、3、4`.
LABEL_MERGE = 10.0


def number_labels(
    items: Iterable[tuple[float, int]],
    width: Callable[[str], float],
    *,
    join: str,
    lo: float,
    hi: float,
    blocked: Sequence[tuple[float, float]] = (),
) -> list[NumberLabel]:
    """Where the numbers of a row's open milestones go, so that none covers another.

    ITEMS are (x in px, milestone number). Milestones on one day, or so close that their
    markers overlap (under LABEL_MERGE px apart), share one label, the numbers joined by
    JOIN (`2、3、4`), centred over them within LO..HI. A label that would touch the
    previous one goes below the line instead, unless that lane is taken there too (by a
    number, or by BLOCKED: the spans of the target letters below the line); then it
    joins the previous label above the line. WIDTH measures a text in px.
    """
    clusters: list[list[tuple[float, int]]] = []
    for x, seq in sorted(items):
        if clusters and x - clusters[-1][-1][0] < LABEL_MERGE:
            clusters[-1].append((x, seq))
        else:
            clusters.append([(x, seq)])
    lanes: list[list[tuple[float, float]]] = [[], list(blocked)]
    placed: list[NumberLabel] = []

    def free(lane: int, a: float, b: float) -> bool:
        return all(b + LABEL_GAP <= s or a >= e + LABEL_GAP for s, e in lanes[lane])

    def centre(x: float, w: float) -> float:
        return min(max(x, lo + w / 2), hi - w / 2)

    for cluster in clusters:
        seqs = list(dict.fromkeys(seq for _x, seq in cluster))
        text = join.join(str(seq) for seq in seqs)
        w = width(text)
        cx = centre((cluster[0][0] + cluster[-1][0]) / 2, w)
        lane = next((i for i in (0, 1) if free(i, cx - w / 2, cx + w / 2)), None)
        if lane is None:
            # Both lanes taken here: one label above for the crowd, from where the
            # previous one starts.
            i, prev = next((i, p) for i, p in reversed(list(enumerate(placed))) if p.lane == 0)
            text = prev.text + join + text
            w = width(text)
            cx = centre(prev.span[0] + w / 2, w)
            lanes[0].remove(prev.span)
            lanes[0].append((cx - w / 2, cx + w / 2))
            placed[i] = NumberLabel(cx, 0, text, w)
            continue
        lanes[lane].append((cx - w / 2, cx + w / 2))
        placed.append(NumberLabel(cx, lane, text, w))
    return placed


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
AMBER = "#b06000"  # yellow as ink: legible on white and on a yellow row
# A target bar's colour by its light: blue ahead, amber due soon, red passed and not
# reached, grey reached.
TARGET_COLOURS = {Light.DONE: GREY, Light.RED: COLOURS[Light.RED], Light.YELLOW: AMBER}
# A row mark's colour by the light it gives the row.
MARK_COLOURS = {Light.RED: COLOURS[Light.RED], Light.YELLOW: AMBER, Light.GREEN: GREY}
SEQ_SIZE = 8.0
MARK_SIZE = 9.5


def wall_chart_figure(
    lang: str, chart: WallChart, rows: Sequence[ChartRow], page: int = 1, of: int = 1
) -> Figure:
    """One picture of the wall chart: ROWS (at most ROWS_PER_PICTURE) drawn as a Figure,
    for wall_chart_pngs and for tests that look at where the texts landed."""
    layout = _layout(rows)
    note = left_out_note(lang, chart)
    head = TOP + (NOTE_H if note else 0)
    c = Canvas(WIDTH, head + AXIS + layout.body + BOTTOM)
    left, right = LABEL_W, WIDTH - RIGHT
    span = max((chart.end - chart.start).days, 1)
    top0 = head + AXIS  # the timeline's first row

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
    seq_font, target_font, mark_font = font(SEQ_SIZE), font(8), font(MARK_SIZE)
    join = say(lang, "chart.seq_join")
    label_room = LABEL_W - 26
    marks: dict[MilestoneState, tuple[list[float], list[float]]] = {s: ([], []) for s in MARKERS}
    clipped: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    targets: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {}

    def clip(x: float, mid: float, colour: str) -> None:
        # Past an edge of the window: a triangle on the edge, in the item's colour.
        side = "<" if x < left else ">"
        xs, ys = clipped.setdefault((side, colour), ([], []))
        xs.append(left if x < left else right)
        ys.append(mid)

    for y0, item in layout.items:
        y = top0 + y0
        if isinstance(item, str):
            c.rect(0, y, WIDTH, GROUP_H, "#e8eaed", z=0)
            text = c.fit(_group_label(lang, chart, item), group_font, WIDTH - 40)
            c.text(12, y + GROUP_H / 2, text, group_font, color=INK)
            continue
        row, mid = item, y + ROW_H / 2
        band = BANDS[row.light]
        c.rect(0, y + 1, WIDTH, ROW_H - 2, band, z=0)
        c.rect(0, y + 1, 8, ROW_H - 2, COLOURS[row.light], z=1)
        c.segments([((left, mid), (right, mid))], colors="white", linewidths=1.5, zorder=1)
        line1 = c.fit(f"{row.code}  {row.name}", name_font, label_room)
        c.text(16, y + ROW_H * 0.38, line1, name_font, color=INK)
        # The row's marks (problems, instructions, urged milestones) close its second
        # line, right-aligned, so that a row coloured by them says so.
        x_mark = LABEL_W - 10.0
        for mark in reversed(row.marks):
            word = say(lang, f"chart.mark.{mark.kind.value}", n=mark.count)
            colour = MARK_COLOURS.get(mark.light, GREY)
            c.text(x_mark, y + ROW_H * 0.74, word, mark_font, ha="right", color=colour)
            x_mark -= c.quick_width(word, mark_font) + 8
        stage_name = say(lang, f"stage.{row.stage.value}")
        line2 = c.fit(f"{row.unit} · {stage_name}", sub_font, x_mark - 16 - 4)
        c.text(16, y + ROW_H * 0.76, line2, sub_font, color=GREY)

        if not row.milestones:
            c.text(left + 8, mid, say(lang, "chart.no_milestones"), font(9), color=GREY)
        letters: list[tuple[float, float]] = []
        for target in row.targets:
            colour = TARGET_COLOURS.get(target.light, PLANNED)
            letter = say(lang, f"chart.target.{target.stage.value}")
            if not chart.start <= target.day <= chart.end:
                # A target passed long ago and not reached still colours the row red.
                if target.light is Light.RED and target.day < chart.start:
                    clip(left - 1, mid + 9, colour)
                    c.text(left + 6, mid + 9, letter, target_font, ha="left", color=colour)
                continue
            x = x_of(target.day)
            targets.setdefault(colour, []).append(((x, y + 7), (x, y + ROW_H - 7)))
            c.text(x + 3, y + ROW_H - 5, letter, target_font, ha="left", va="bottom", color=colour)
            letters.append((x + 2, x + 4 + c.quick_width(letter, target_font)))
        numbered: list[tuple[float, int]] = []
        for m in row.milestones:
            if m.day is None:
                continue
            x = x_of(m.day)
            if x < left or x > right:
                clip(x, mid, MARKERS[m.state]["markeredgecolor"])
                x = min(max(x, left), right)
            else:
                marks[m.state][0].append(x)
                marks[m.state][1].append(mid)
            # Numbers for what is still to do, as /done and /due take them.
            if m.state is not MilestoneState.DONE:
                numbered.append((x, m.seq))
        labels = number_labels(
            numbered,
            lambda s: c.quick_width(s, seq_font),
            join=join,
            lo=left - 20,
            hi=WIDTH - 4,
            blocked=letters,
        )
        for seq_label in labels:
            # On a ground of the row's colour above the target bars, so a number on a
            # bar stays legible.
            above = seq_label.lane == 0
            edge = mid - 8 - 11 if above else mid + 8
            c.rect(
                seq_label.x - seq_label.width / 2 - 1, edge, seq_label.width + 2, 11, band, z=3.5
            )
            c.text(
                seq_label.x,
                mid - 8 if above else mid + 8,
                seq_label.text,
                seq_font,
                ha="center",
                va="bottom" if above else "top",
                color=INK,
                zorder=4,
            )

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

    # The title, the counts per colour (of every project counted, drawn or not), the
    # note on what is not drawn, the legend.
    suffix = say(lang, "chart.page", n=page, total=of) if of > 1 else ""
    title_font, count_font = font(16), font(11)
    c.text(16, 34, _picture_title(c, lang, chart, suffix, title_font), title_font, color=INK)
    x0 = 16.0
    for light, word in COUNT_WORDS:
        n = chart.counts.get(light, 0)
        if light is Light.NONE and not n:
            continue
        piece = "■ " + say(lang, f"chart.count_{word}", n=n)
        if chart.left_out.get(light):
            piece += say(lang, "chart.count_left_out", n=chart.left_out[light])
        c.text(x0, 76, piece, count_font, color=COLOURS[light])
        x0 += c.width_of(piece, count_font) + 22
    if note:
        for i, line in enumerate(c.wrap("⚠ " + note, count_font, WIDTH - 32, 2)):
            c.text(16, TOP + 8 + i * 22, line, count_font, color=COLOURS[Light.RED])
    if not rows:
        c.text(left + 20, top0 + ROW_H / 2, say(lang, "chart.empty"), font(12), color=GREY)
    _legend(c, lang, chart, c.height - BOTTOM + 4 + LEGEND_LINE / 2)
    return c.fig


def _legend(c: Canvas, lang: str, chart: WallChart, y: float) -> None:
    """Three lines: the milestones' signs, the target bars' colours, the rows' colours
    and marks; each line's last words cut to the width if they must be."""
    legend_font = font(9.5)
    room = WIDTH - 16

    def words(x: float, y: float, key: str, colour: str = INK, **params: Any) -> float:
        label = c.fit(say(lang, key, **params), legend_font, room - x)
        c.text(x, y, label, legend_font, color=colour)
        return x + c.width_of(label, legend_font) + 22

    # 1: milestones, the edges, today, the numbers.
    x = 16.0
    samples: list[tuple[dict[str, Any], str]] = [
        (MARKERS[MilestoneState.PLANNED], "chart.legend_planned"),
        (MARKERS[MilestoneState.DONE], "chart.legend_done"),
        (MARKERS[MilestoneState.OVERDUE], "chart.legend_overdue"),
    ]
    for style, key in samples:
        c.marks([x + 6], [y], **style)
        x = words(x + 18, y, key)
    c.marks([x + 4], [y], marker="<", markersize=7, color=PLANNED)
    c.marks([x + 16], [y], marker=">", markersize=7, color=PLANNED)
    x = words(x + 28, y, "chart.legend_outside")
    c.segments(
        [((x, y), (x + 22, y))], colors=COLOURS[Light.RED], linewidths=1.6,
        linestyles=[(0, (5, 3))],
    )  # fmt: skip
    x = words(x + 28, y, "chart.today")
    c.text(x + 4, y, "3", font(SEQ_SIZE), ha="center", color=INK)
    words(x + 14, y, "chart.legend_numbers")

    # 2: the target bars.
    y += LEGEND_LINE
    x = words(16, y, "chart.legend_target") - 12
    bars: list[tuple[str, str, dict[str, Any]]] = [
        (PLANNED, "chart.legend_target_planned", {}),
        (AMBER, "chart.legend_target_soon", {"days": chart.soon_days}),
        (COLOURS[Light.RED], "chart.legend_target_late", {}),
        (GREY, "chart.legend_target_done", {}),
    ]
    for colour, key, params in bars:
        c.segments([((x + 4, y - 8), (x + 4, y + 8))], colors=colour, linewidths=2.6)
        x = words(x + 12, y, key, colour, **params)

    # 3: the rows' colours and their marks.
    y += LEGEND_LINE
    x = words(16, y, "chart.legend_rows") - 10
    mark_font = font(MARK_SIZE)
    for kind in MarkKind:
        sign = say(lang, f"chart.mark.{kind.value}", n="")
        c.text(x, y, sign, mark_font, color=AMBER)
        x = words(x + c.width_of(sign, mark_font) + 4, y, f"chart.legend_mark.{kind.value}") - 12
    words(x, y, "chart.legend_marks_colour", GREY)


def _pngs(lang: str, chart: WallChart, cut: Sequence[Sequence[ChartRow]]) -> list[bytes]:
    # One figure at a time: a figure of 25 rows holds about 10 MB until it is encoded.
    return [
        figure_png(wall_chart_figure(lang, chart, rows, n, len(cut)))
        for n, rows in enumerate(cut, 1)
    ]


def wall_chart_pngs(lang: str, chart: WallChart) -> list[bytes]:
    """The wall chart as PNG pictures of at most ROWS_PER_PICTURE rows each, in order.

    Every page is drawn (/chart refuses more than MAX_PICTURES; the meeting's chart is
    cut by fit_rows first); a chart without rows is one picture saying so. LANG: "zh" or
    "en" for the words and month names.
    """
    return _pngs(lang, chart, pages(chart) or [()])


async def meeting_chart(session: AsyncSession, config: Config, today: date) -> WallChart:
    """The whole city's wall chart on TODAY (local), cut to what ten pictures hold by
    storage.wallchart.fit_rows: every red and yellow project, the green ones left out
    (and said so) when the city has more projects than MAX_ROWS."""
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
    return fit_rows(chart)


async def render_city_chart(
    session: AsyncSession, config: Config, lang: str, today: date
) -> list[bytes]:
    """The whole city's wall chart on TODAY (local) as at most MAX_PICTURES pictures, for
    the weekly meeting and the demo: meeting_chart's rows, with a note on the pictures
    naming what is not drawn. The query runs on SESSION, the drawing in a worker thread."""
    chart = await meeting_chart(session, config, today)
    return await asyncio.to_thread(wall_chart_pngs, lang, chart)


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
