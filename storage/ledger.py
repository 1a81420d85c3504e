"""The Excel ledger (台账): read a workbook or CSV of units and projects, check it, import it;
and export the store in the same form, so that what is exported imports back unchanged.

Reading checks what the file can tell on its own (columns, numbers, dates, stages, duplicate
codes); importing checks it against the store and the configured industries. Every bad row
is reported, and nothing is written unless every row is good: a half-imported ledger would
leave the office unsure which of its figures the bot now holds.
"""

from __future__ import annotations

import calendar
import csv
import io
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Final, Literal
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import Refused
from storage.instructions import follow_project
from storage.models import Project, Stage, Unit, UnitKind
from storage.projects import normal_code

# --- results and errors -----------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One thing wrong with the ledger; `row` is the row number Excel shows, None for a sheet."""

    sheet: str
    row: int | None
    key: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)


class LedgerError(Refused):
    """The ledger was not imported; `errors` says every reason, sheet by sheet, row by row."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("ledger.invalid", count=len(errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class UnitRow:
    sheet: str
    row: int
    name: str
    kind: UnitKind
    parent: str | None


@dataclass(frozen=True)
class ProjectRow:
    """A good row of the projects sheet; None in an optional field means "leave as it is"."""

    sheet: str
    row: int
    code: str
    name: str
    industry: str
    investment: Decimal
    unit: str
    enterprise: str | None = None
    land_mu: Decimal | None = None
    stage: Stage | None = None
    target_signed: date | None = None
    target_started: date | None = None
    target_operating: date | None = None


@dataclass(frozen=True)
class Reference:
    """A name in the file that only the store or the configuration can confirm."""

    sheet: str
    row: int
    column: str
    what: Literal["unit", "industry"]
    value: str


@dataclass(frozen=True)
class Ledger:
    """What a ledger file says, with the errors found by reading it alone."""

    source: str
    units: tuple[UnitRow, ...] = ()
    projects: tuple[ProjectRow, ...] = ()
    errors: tuple[RowError, ...] = ()
    references: tuple[Reference, ...] = ()
    # Names in the units sheet, good rows or not, so that a unit with (say) a bad kind is
    # reported once and not again as "unknown" by every project that names it.
    declared_units: frozenset[str] = frozenset()
    # Every header cell of the sheets read, and what it was read as, for the summary.
    columns: tuple[ColumnUse, ...] = ()


@dataclass(frozen=True)
class ColumnUse:
    """One column of the file: its header as written, the field it feeds (None: ignored)."""

    sheet: str
    header: str
    field: str | None = None
    label: str = ""  # the field as the user reads it, "计划投资 / investment"
    unit: str | None = None  # the unit the header gives (亿元), converted to the stored one


@dataclass(frozen=True)
class ImportResult:
    units_created: int = 0
    units_updated: int = 0
    units_unchanged: int = 0
    projects_created: int = 0
    projects_updated: int = 0
    projects_unchanged: int = 0
    # Which column fed which field, and the columns left out: the import says how it read
    # the file, so a column it did not know is seen, not silently dropped.
    columns: tuple[ColumnUse, ...] = field(default=(), compare=False)

    def as_params(self, lang: str = "zh") -> dict[str, int | str]:
        """The counts by name and the columns read and ignored, as `ledger.summary` takes them;
        the column lists punctuated for LANG (`zh` or `en`)."""
        params: dict[str, int | str] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "columns"
        }
        used, ignored = _describe_columns(self.columns, _LIST_MARKS.get(lang, _LIST_MARKS["zh"]))
        params["columns"] = used
        params["ignored"] = ignored
        return params


@dataclass(frozen=True)
class _Marks:
    """How a column list is punctuated: between columns, between the ignored ones, between
    sheets, around a sheet's name and around a unit."""

    columns: str
    names: str
    sheets: str
    sheet: str
    unit: str


# The words are the file's headers and the importer's bilingual labels; the punctuation
# between them is the reader's: `，` and `（亿元）` would be out of place in English.
_LIST_MARKS: Final = {
    "zh": _Marks("，", "、", "；", "【{}】", "（{}）"),
    "en": _Marks(", ", ", ", "; ", "[{}] ", " ({})"),
}


def _describe_columns(columns: Sequence[ColumnUse], marks: _Marks) -> tuple[str, str]:
    """`“总投资（亿元）”→计划投资 / investment（亿元）…` and the ignored headers, or “—”."""
    sheets = list(dict.fromkeys(c.sheet for c in columns))
    used: list[str] = []
    ignored: list[str] = []
    for sheet in sheets:
        mine = [c for c in columns if c.sheet == sheet]
        where = marks.sheet.format(sheet) if len(sheets) > 1 else ""
        feeds = [
            f"“{c.header}”→{c.label}" + (marks.unit.format(c.unit) if c.unit else "")
            for c in mine
            if c.field is not None
        ]
        left = list(dict.fromkeys(f"“{c.header}”" for c in mine if c.field is None))
        if feeds:
            used.append(where + marks.columns.join(feeds))
        if left:
            ignored.append(where + marks.names.join(left))
    return marks.sheets.join(used) or "—", marks.sheets.join(ignored) or "—"


# --- the columns ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    field: str
    label: str  # how a missing column is named to the user, in both languages
    aliases: tuple[str, ...]
    required: bool = False


_BRACKETS: Final = re.compile(r"[（(【\[]\s*(.*?)\s*[)）】\]]")


def _norm_header(value: object) -> str:
    """`投资额（万元）`, `* Investment (10k CNY)` and `investment` all become comparable."""
    text = str(value).strip().lower()
    text = _BRACKETS.sub("", text)
    text = text.replace("*", "").replace("＊", "")
    return re.sub(r"[\s_\-]+", "_", text).strip("_")


UNIT_COLUMNS: Final = (
    _Column(
        "name", "单位名称 / name", ("name", "unit", "unit_name", "名称", "单位名称", "单位"), True
    ),
    _Column("kind", "类型 / kind", ("kind", "type", "unit_kind", "类型", "单位类型"), True),
    _Column("parent", "上级单位 / parent", ("parent", "parent_unit", "上级单位", "上级")),
)

PROJECT_COLUMNS: Final = (
    _Column(
        "code",
        "项目编号 / code",
        ("code", "project_code", "编号", "项目编号", "项目代码", "项目编码"),
        True,
    ),
    _Column("name", "项目名称 / name", ("name", "project", "project_name", "项目名称"), True),
    _Column(
        "enterprise",
        "企业名称 / enterprise",
        (
            "enterprise", "company", "企业", "企业名称", "投资主体", "签约企业", "签约主体",
            "投资方", "投资方名称", "投资企业", "项目单位", "建设单位", "业主单位", "项目业主",
        ),
    ),
    _Column(
        "industry",
        "产业 / industry",
        (
            "industry", "产业", "行业", "所属产业", "产业类别", "产业类型", "所属行业",
            "行业类别", "产业方向", "产业领域",
        ),
        True,
    ),
    _Column(
        "investment",
        "计划投资 / investment",
        (
            "investment", "计划投资", "投资额", "总投资", "计划总投资", "计划投资额",
            "总投资额", "项目总投资", "协议投资", "协议投资额", "签约投资", "合同投资",
        ),
        True,
    ),
    _Column(
        "land_mu",
        "用地面积 / land_mu",
        (
            "land_mu", "land", "land_area", "用地", "用地面积", "占地面积", "占地", "项目用地",
            "土地面积", "用地规模", "项目用地面积",
        ),
    ),
    _Column(
        "stage",
        "阶段 / stage",
        ("stage", "status", "阶段", "项目阶段", "状态", "建设状态", "项目状态", "所处阶段"),
    ),
    _Column(
        "unit",
        "责任单位 / unit",
        ("unit", "responsible_unit", "责任单位", "单位", "属地单位", "牵头单位", "责任部门"),
        True,
    ),
    _Column(
        "target_signed",
        "签约目标 / target_signed",
        ("target_signed", "签约目标", "计划签约", "签约时间", "签约日期", "计划签约时间"),
    ),
    _Column(
        "target_started",
        "开工目标 / target_started",
        (
            "target_started", "开工目标", "计划开工", "开工时间", "开工日期", "计划开工时间",
            "计划开工日期", "预计开工时间",
        ),
    ),
    _Column(
        "target_operating",
        "投产目标 / target_operating",
        (
            "target_operating", "投产目标", "计划投产", "投产时间", "投产日期", "计划投产时间",
            "预计投产时间", "竣工投产时间",
        ),
    ),
)  # fmt: skip

_UNIT_SHEETS: Final = frozenset({"units", "unit", "单位", "单位表", "责任单位"})
_PROJECT_SHEETS: Final = frozenset({"projects", "project", "项目", "项目表", "项目台账", "台账"})

# Offices put a title line or two above the header; look a little way down for it.
_HEADER_SEARCH_ROWS: Final = 5
# A summary line (合计, 小计（3个）, 总计：) is not a project.
_TOTAL: Final = re.compile(r"(合计|总计|小计|共计|total|subtotal)([（(].*|[:：].*)?", re.IGNORECASE)
# A section line: `一、新开工项目（2个）`, `（二）续建项目`, `签约项目（5项）`.
_ENUMERATOR: Final = re.compile(
    r"[一二三四五六七八九十]+[、.．]?|[（(][一二三四五六七八九十]+[)）]"
)
_SECTION_HEAD: Final = re.compile(
    r"(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）])"
)
_SECTION_COUNT: Final = re.compile(r".*[（(]\s*(共\s*)?\d+\s*[个项家]\s*[)）]")
# Words of a second header row under a spanning header (计划投资 over 总投资 | 本年计划).
_SUBHEADER_WORDS: Final = frozenset(
    {"计划", "实际", "本年", "本年计划", "年度计划", "累计", "累计完成", "本年完成", "已完成"}
)

# Column widths of the records, so PostgreSQL never has to refuse a long cell.
_UNIT_MAX_LEN: Final = {"name": 100, "parent": 100}
_PROJECT_MAX_LEN: Final = {"code": 20, "name": 200, "enterprise": 200, "industry": 50, "unit": 100}
# Numeric(14, 2) for investment, Numeric(12, 2) for land.
_MAX_NUMBER: Final = {"investment": Decimal(10) ** 12, "land_mu": Decimal(10) ** 10}

_DATE_FIELDS: Final = ("target_signed", "target_started", "target_operating")

# The units a number column may be written in, and what one of each is in the stored unit
# (万元 for money, 亩 for land). 1 亩 = 10000/15 m², so 1 m² = 15/10000 亩, exactly.
_MONEY_UNITS: Final[Mapping[str, Decimal]] = {
    **dict.fromkeys(("元", "元人民币", "人民币元", "cny", "yuan", "rmb"), Decimal("0.0001")),
    **dict.fromkeys(("万元", "万", "万元人民币", "10kcny", "10kyuan", "10k"), Decimal(1)),
    **dict.fromkeys(("亿元", "亿", "亿元人民币", "100mcny", "100myuan"), Decimal(10000)),
}
_AREA_UNITS: Final[Mapping[str, Decimal]] = {
    **dict.fromkeys(("亩", "mu"), Decimal(1)),
    **dict.fromkeys(("平方米", "平米", "㎡", "m²", "m2", "sqm"), Decimal(15) / Decimal(10000)),
    **dict.fromkeys(("万平方米", "万平米", "万㎡", "万m²", "万m2"), Decimal(15)),
    **dict.fromkeys(("公顷", "ha", "hectare", "hectares"), Decimal(15)),
    **dict.fromkeys(("平方公里", "km²", "km2"), Decimal(1500)),
}
# The number fields: their units, and the stored unit, which a header without one means.
_UNITS: Final[Mapping[str, tuple[Mapping[str, Decimal], str]]] = {
    "investment": (_MONEY_UNITS, "万元"),
    "land_mu": (_AREA_UNITS, "亩"),
}
# A unit written after the header's words: `总投资亿元`, `投资额/万元`, `用地，亩`.
_TRAILING_UNIT: Final = re.compile(
    r"(.*?)[/／,，:：]?\s*(" + "|".join(sorted(map(re.escape, {**_MONEY_UNITS, **_AREA_UNITS}),
                                           key=len, reverse=True)) + r")"
)  # fmt: skip


def _norm_unit(text: str) -> str:
    text = re.sub(r"\s+", "", text).lower()
    return re.sub(r"^(单位|计量单位|unit)[:：]?", "", text)


def _norm_word(value: str) -> str:
    return re.sub(r"[\s_\-]+", "", value).lower()


_STAGE_WORDS: Final[Mapping[str, Stage]] = {
    _norm_word(word): stage
    for stage, words in {
        Stage.NEGOTIATING: (
            "negotiating", "negotiation", "洽谈", "在谈", "洽谈中", "意向", "正在洽谈", "在谈项目",
        ),
        Stage.SIGNED: ("signed", "签约", "已签约", "签约未开工", "已签约未开工"),
        Stage.STARTED: (
            "started", "under construction", "开工", "已开工", "在建", "新开工", "续建", "建设中",
        ),
        Stage.OPERATING: (
            "operating", "in operation", "投产", "已投产", "运营", "竣工投产", "竣工", "已竣工",
        ),
        Stage.PAUSED: ("paused", "暂停", "暂缓", "停滞"),
        Stage.DROPPED: ("dropped", "终止", "已终止", "放弃"),
    }.items()
    for word in words
}  # fmt: skip

# The stage a section line names (`一、新开工项目`), the first match winning; a section of
# projects still planned (`计划开工项目`, `拟签约项目`) names none.
_SECTION_STAGES: Final = (
    ("终止", Stage.DROPPED),
    ("暂停", Stage.PAUSED),
    ("暂缓", Stage.PAUSED),
    ("投产", Stage.OPERATING),
    ("竣工", Stage.OPERATING),
    ("开工", Stage.STARTED),
    ("续建", Stage.STARTED),
    ("在建", Stage.STARTED),
    ("签约", Stage.SIGNED),
    ("洽谈", Stage.NEGOTIATING),
    ("在谈", Stage.NEGOTIATING),
)


def stage_word(word: str) -> Stage | None:
    """The stage a word names as offices write it (`在建`, `已签约`, `under construction`)."""
    return _STAGE_WORDS.get(_norm_word(word))


def _section_stage(title: str) -> Stage | None:
    if re.search(r"计划|拟|预计|储备", title):
        return None
    return next((stage for word, stage in _SECTION_STAGES if word in title), None)


_KIND_WORDS: Final[Mapping[str, UnitKind]] = {
    _norm_word(word): kind
    for kind, words in {
        UnitKind.TOWNSHIP: ("township", "town", "乡镇", "镇", "乡"),
        UnitKind.SUBDISTRICT: ("subdistrict", "sub-district", "街道", "街道办", "街道办事处"),
        UnitKind.DEPARTMENT: ("department", "部门", "市直部门"),
        UnitKind.CENTER: ("center", "centre", "中心", "服务中心"),
        UnitKind.LEADERSHIP: ("leadership", "leader", "领导", "市领导"),
    }.items()
    for word in words
}


# --- cell values ------------------------------------------------------------------------


class _Bad(Exception):
    """A cell that cannot be read; becomes a RowError for its row."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def _shown(value: object) -> str:
    """The cell as the user typed it, short enough for a chat message."""
    text = value.isoformat() if isinstance(value, datetime | date) else str(value).strip()
    return text if len(text) <= 40 else text[:39] + "…"


# Control characters a workbook cannot hold (openpyxl refuses them): a CSV may bring them,
# and a name kept with one could never be exported and read back as it is.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        # A code typed as 2026001 comes back from Excel as 2026001.0.
        value = int(value)
    text = _CONTROL.sub("", str(value)).strip()
    return text or None


_NUMBER = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(.*)")


def _number(
    value: object, column: str, limit: Decimal, units: Mapping[str, Decimal], factor: Decimal
) -> Decimal:
    """The cell in the stored unit: FACTOR is the header's unit, a unit in the cell wins."""
    if isinstance(value, bool):
        raise _Bad("ledger.bad_number", column=column, value=_shown(value))
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Bad("ledger.bad_number", column=column, value=_shown(value))
        # repr is the shortest text that round-trips, so 1200.1 does not become 1200.0999…
        number = Decimal(repr(value))
    else:
        text = re.sub(r"[,，\s]", "", str(value))
        match = _NUMBER.fullmatch(text)
        if not match:
            raise _Bad("ledger.bad_number", column=column, value=_shown(value))
        number = Decimal(match[1])
        if match[2]:
            # `8.6亿元`, `3500万`, `40公顷`: a unit of this column's kind, or no number at all.
            cell_factor = units.get(_norm_unit(match[2]))
            if cell_factor is None:
                raise _Bad("ledger.bad_number", column=column, value=_shown(value))
            factor = cell_factor
    if number < 0:
        raise _Bad("ledger.negative", column=column, value=_shown(value))
    number *= factor
    # Its magnitude first: quantize refuses (InvalidOperation) a number with more digits
    # than the decimal context holds (28), and any number that long is too large anyway.
    if number.adjusted() > limit.adjusted():
        raise _Bad("ledger.too_large", column=column, value=_shown(value))
    number = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if number >= limit:
        raise _Bad("ledger.too_large", column=column, value=_shown(value))
    return number


_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
)
# `2026.3`, `2026年6月`, `2026-06`: a target month, due at its end.
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:份)?")
# Excel counts days from 1899-12-30 (its 1900 leap-year bug folded in).
_EXCEL_EPOCH: Final = date(1899, 12, 30)
# A year outside this range is a typo (0226, 20206), not a plan.
_YEARS: Final = range(2000, 2101)


def _month_end(year: int, month: int) -> date | None:
    if not 1 <= month <= 12:
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


def _date(value: object, column: str) -> date:
    day: date | None = None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, float) and math.isfinite(value) and int(value) in _YEARS:
        # `2026.3` typed into a number cell. Excel keeps 2026.10 as 2026.1: that one could
        # be January or October, so it is refused rather than guessed.
        year, _, month = repr(value).partition(".")
        if month == "1":
            raise _Bad("ledger.ambiguous_month", column=column, value=_shown(value))
        day = _month_end(int(year), int(month)) if len(month) <= 2 else None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # A date cell without a date format reaches us as Excel's day number.
        if math.isfinite(value) and 0 < value < 200_000:
            day = _EXCEL_EPOCH + timedelta(days=int(value))
    else:
        text = str(value).strip()
        full = _DATE.fullmatch(text)
        only_month = _MONTH.fullmatch(text)
        try:
            if full:
                day = date(int(full[1]), int(full[2]), int(full[3]))
            elif only_month:
                day = _month_end(int(only_month[1]), int(only_month[2]))
        except ValueError:
            day = None
    if day is None or day.year not in _YEARS:
        raise _Bad("ledger.bad_date", column=column, value=_shown(value))
    return day


def _stage(value: object) -> Stage:
    stage = _STAGE_WORDS.get(_norm_word(str(value)))
    if stage is None:
        raise _Bad("ledger.bad_stage", value=_shown(value))
    return stage


def _kind(value: object) -> UnitKind:
    kind = _KIND_WORDS.get(_norm_word(str(value)))
    if kind is None:
        raise _Bad("ledger.bad_kind", value=_shown(value))
    return kind


# --- sheets -----------------------------------------------------------------------------

_Rows = Iterable[tuple[int, Sequence[object]]]


@dataclass
class _Sheet:
    """One sheet's rows as {field: raw value}, with the header names the user wrote."""

    title: str
    rows: list[tuple[int, dict[str, object]]]
    headers: dict[str, str]  # field -> header as written in the file
    errors: list[RowError]
    # field -> what one of the header's unit is in the stored unit (亿元: 10000 万元)
    factors: dict[str, Decimal] = field(default_factory=dict)
    # row -> the stage its section line names (`一、新开工项目`)
    section_stages: dict[int, Stage] = field(default_factory=dict)
    columns: list[ColumnUse] = field(default_factory=list)


def _blank(cells: Sequence[object]) -> bool:
    return all(_text(c) is None for c in cells)


def _split_unit(header: str, by_alias: Mapping[str, _Column]) -> tuple[str, str | None]:
    """The header's words (normalised) and the unit it is written in, if it names one."""
    key = _norm_header(header)
    units = [u for u in _BRACKETS.findall(header) if u.strip()]
    if units:
        return key, units[-1]
    if key not in by_alias:
        match = _TRAILING_UNIT.fullmatch(re.sub(r"[\s*＊]+", "", header).lower())
        if match and _norm_header(match[1]) in by_alias:
            return _norm_header(match[1]), match[2]
    return key, None


def _at(cells: Sequence[object], i: int) -> object:
    return cells[i] if i < len(cells) else None


def _is_subheader(
    top: Sequence[object], below: Sequence[object], words: Mapping[str, _Column]
) -> bool:
    """Is BELOW a second header row, naming the parts of a header spanning columns above?"""
    if any(isinstance(c, int | float | date) and not isinstance(c, bool) for c in below):
        return False  # a data row: headers hold no numbers or dates
    for i, cell in enumerate(below):
        text = _text(cell)
        if text is None or text == _text(_at(top, i)):
            continue
        # A spanning header is repeated (merged cells, filled in) or written once, its
        # other cells empty (a CSV); the part under it says what it is.
        above, left = _text(_at(top, i)), _text(_at(top, i - 1)) if i else None
        right = _text(_at(top, i + 1))
        spans = above is None or above in (left, right)
        key = _norm_header(text)
        if spans and (key in words or _norm_word(text) in _SUBHEADER_WORDS):
            return True
    return False


def _header_cells(
    top: Sequence[object], below: Sequence[object] | None
) -> list[tuple[str, list[str]]]:
    """Each column's header as shown, and the texts to try for a field, most specific first."""
    width = max(len(top), len(below or ()))
    result: list[tuple[str, list[str]]] = []
    parent: str | None = None
    for i in range(width):
        upper = _text(_at(top, i))
        if upper is not None:
            parent = upper
        elif below is None or _text(_at(below, i)) is None:
            parent = None
        lower = _text(_at(below, i)) if below is not None else None
        if lower is None or lower == upper:
            result.append((upper or "", [upper] if upper else []))
        elif parent is None:
            result.append((lower, [lower]))
        else:
            # The parts of a spanning header: `总投资` under `计划投资（亿元）`, or `计划`
            # under `开工时间`; the spanning header alone names no single column.
            result.append((f"{parent} / {lower}", [lower, parent + lower, lower + parent]))
    return result


def _section(cells: Sequence[object]) -> str | None:
    """The title of a section line (`一、新开工项目（2个）`), None for any other row."""
    texts = [t for c in cells if isinstance(c, str) and (t := c.strip())]
    numbered = False
    words = []
    for text in texts:
        if _ENUMERATOR.fullmatch(text):
            numbered = True  # `一` in the 序号 column, the title beside it
        else:
            words.append(text)
    distinct = set(words)
    if len(distinct) != 1:
        return None
    title = distinct.pop()
    merged = len(words) > 1  # one title over several columns: a merged cell, filled in
    if numbered or merged or _SECTION_HEAD.match(title) or _SECTION_COUNT.fullmatch(title):
        return title
    return None


def _total_word(value: object) -> bool:
    return isinstance(value, str) and _TOTAL.fullmatch(re.sub(r"\s+", "", value)) is not None


def _total(cells: Sequence[object]) -> bool:
    return any(_total_word(c) for c in cells)


# Whether a row that looks like a total or a section line is a record all the same: a row
# with its own project code is a project (one named 合计, an enterprise called Total), and
# a row whose kind cell names a kind is a unit (中心 of the kind 中心). A total or section
# line leaves the code empty or repeats its own words there (a merged cell, no 序号 column).
_RowIsRecord = Callable[[Mapping[str, object], str | None], bool]


def _project_record(values: Mapping[str, object], section: str | None) -> bool:
    code = _text(values.get("code"))
    return code is not None and code != section and not _total_word(code)


def _unit_record(values: Mapping[str, object], _section: str | None) -> bool:
    kind = _text(values.get("kind"))
    return kind is not None and _norm_word(kind) in _KIND_WORDS


def _unit_factor(sheet: _Sheet, row: int, name: str, unit: str, column: str) -> Decimal | None:
    units, _ = _UNITS[name]
    factor = units.get(_norm_unit(unit))
    if factor is None:
        sheet.errors.append(
            RowError(sheet.title, row, "ledger.unknown_measure", {"column": column, "unit": unit})
        )
    return factor


def _read_sheet(
    title: str, rows: _Rows, columns: Sequence[_Column], is_record: _RowIsRecord
) -> _Sheet | None:
    """Find the header, map it to fields and collect the data rows; None for an empty sheet.

    IS_RECORD tells a record from a total or section line that it resembles."""
    by_alias = {_norm_header(a): col for col in columns for a in col.aliases}
    lines = [(number, cells) for number, cells in rows if not _blank(cells)]
    if not lines:
        return None
    header_at = 0  # no recognisable header: the first line, so that the missing columns show
    for i, (_, cells) in enumerate(lines[:_HEADER_SEARCH_ROWS]):
        if sum(1 for c in cells if c is not None and _norm_header(c) in by_alias) >= 2:
            header_at = i
            break
    header_row, top = lines[header_at]
    below: Sequence[object] | None = None
    data_at = header_at + 1
    if data_at < len(lines) and _is_subheader(top, lines[data_at][1], by_alias):
        below = lines[data_at][1]
        data_at += 1
    sheet = _Sheet(title, [], {}, [])
    # `单位：亿元` on a line above the header gives the unit of the columns without one.
    sheet_units: dict[str, tuple[int, str]] = {}
    for number, cells in lines[:header_at]:
        for cell in cells:
            text = _text(cell)
            if text is None or not re.match(r"单位\s*[:：]", text):
                continue
            for part in re.split(r"[、,，/;；]+", _norm_unit(text)):
                known = [name for name, (units, _) in _UNITS.items() if part in units]
                for name in known:
                    sheet_units[name] = (number, part)
                if not known and re.search(r"元|米|亩|顷", part):
                    # 万美元, 平方英尺: a unit of money or land that cannot be converted.
                    sheet.errors.append(
                        RowError(
                            title, number, "ledger.unknown_measure", {"column": text, "unit": part}
                        )
                    )
    index: dict[str, int] = {}
    refused: set[str] = set()  # number columns whose unit is unknown
    for i, (shown, tries) in enumerate(_header_cells(top, below)):
        if not shown:
            continue
        found: tuple[_Column, str | None] | None = None
        for text in tries:
            key, unit = _split_unit(text, by_alias)
            if key in by_alias:
                found = (by_alias[key], unit)
                break
        if found is None:
            # An office's own column (序号, 备注…): not ours, but said in the summary.
            sheet.columns.append(ColumnUse(title, shown))
            continue
        col, unit = found
        # Where the unit is written: the part under a spanning header, else the header row.
        unit_row = lines[header_at + 1][0] if len(tries) > 1 and unit is not None else header_row
        if unit is None and len(tries) > 1:
            # `总投资` under `计划投资（亿元）`: the spanning header's unit.
            unit = _split_unit(tries[1], by_alias)[1] or _split_unit(tries[2], by_alias)[1]
        if col.field in index or col.field in refused:
            sheet.errors.append(
                RowError(title, header_row, "ledger.duplicate_column", {"column": _shown(shown)})
            )
            continue
        shown_unit: str | None = None
        if col.field in _UNITS:
            if unit is None and col.field in sheet_units:
                unit_row, unit = sheet_units[col.field]
            factor = Decimal(1)
            if unit is not None:
                found_factor = _unit_factor(sheet, unit_row, col.field, unit, _shown(shown))
                if found_factor is None:
                    # No value of the column can be read: the header says why, once.
                    refused.add(col.field)
                    sheet.columns.append(ColumnUse(title, shown))
                    continue
                factor = found_factor
            sheet.factors[col.field] = factor
            if unit is not None and factor != 1:
                shown_unit = f"{unit}→{_UNITS[col.field][1]}"
        index[col.field] = i
        sheet.headers[col.field] = _shown(shown)
        sheet.columns.append(ColumnUse(title, shown, col.field, col.label, shown_unit))
    for col in columns:
        if col.required and col.field not in index and col.field not in refused:
            sheet.errors.append(
                RowError(title, None, "ledger.missing_column", {"column": col.label})
            )
    stage: Stage | None = None
    for number, cells in lines[data_at:]:
        values = {f: _at(cells, i) for f, i in index.items()}
        section = _section(cells)
        if not is_record(values, section):
            if _total(cells):
                continue
            if section is not None:
                # The rows under `一、新开工项目` are started unless their own cell says so.
                stage = _section_stage(section)
                continue
        sheet.rows.append((number, values))
        if stage is not None:
            sheet.section_stages[number] = stage
    return sheet


class _RowReader:
    """Reads one row's cells, collecting every bad cell rather than stopping at the first."""

    def __init__(
        self, sheet: _Sheet, number: int, values: dict[str, object], limits: Mapping[str, int]
    ) -> None:
        self.sheet = sheet
        self.row = number
        self.values = values
        self.limits = limits
        self.errors: list[RowError] = []

    def column(self, name: str) -> str:
        return self.sheet.headers.get(name, name)

    def fail(self, bad: _Bad) -> None:
        self.errors.append(RowError(self.sheet.title, self.row, bad.key, bad.params))

    def text(
        self, name: str, required: bool = False, stored: Callable[[str], str] | None = None
    ) -> str | None:
        """The cell as text, in the form STORED gives it (a code's capitals), or None.

        The column's limit holds for that form: NFKC and capitals can make a text longer
        (`㍿` is `株式会社`, `ß` is `SS`), and PostgreSQL refuses a value over the width.
        """
        value = _text(self.values.get(name))
        if value is not None and stored is not None:
            value = stored(value) or None
        if value is None:
            # A missing column was reported once for the sheet; don't repeat it per row.
            if required and name in self.sheet.headers:
                self.fail(_Bad("ledger.required", column=self.column(name)))
            return None
        limit = self.limits.get(name)
        if limit is not None and len(value) > limit:
            self.fail(_Bad("ledger.too_long", column=self.column(name), limit=limit))
            return None
        return value

    def number(self, name: str, required: bool = False) -> Decimal | None:
        raw = self.values.get(name)
        if _text(raw) is None:
            if required and name in self.sheet.headers:
                self.fail(_Bad("ledger.required", column=self.column(name)))
            return None
        units, _ = _UNITS[name]
        factor = self.sheet.factors.get(name, Decimal(1))
        try:
            return _number(raw, self.column(name), _MAX_NUMBER[name], units, factor)
        except _Bad as bad:
            self.fail(bad)
            return None

    def date(self, name: str) -> date | None:
        raw = self.values.get(name)
        if _text(raw) is None:
            return None
        try:
            return _date(raw, self.column(name))
        except _Bad as bad:
            self.fail(bad)
            return None


def _unit_rows(sheet: _Sheet) -> tuple[list[UnitRow], list[RowError], list[Reference], set[str]]:
    rows: list[UnitRow] = []
    errors = list(sheet.errors)
    refs: list[Reference] = []
    declared: set[str] = set()
    first: dict[str, int] = {}
    for number, values in sheet.rows:
        r = _RowReader(sheet, number, values, _UNIT_MAX_LEN)
        name = r.text("name", required=True)
        kind: UnitKind | None = None
        raw_kind = _text(values.get("kind"))
        if raw_kind is None:
            if "kind" in sheet.headers:
                r.fail(_Bad("ledger.required", column=r.column("kind")))
        else:
            try:
                kind = _kind(raw_kind)
            except _Bad as bad:
                r.fail(bad)
        parent = r.text("parent")
        if name is not None:
            key = name.lower()
            if key in first:
                r.fail(_Bad("ledger.duplicate_unit", value=name, first=first[key]))
            else:
                first[key] = number
                declared.add(key)
        if parent is not None:
            refs.append(Reference(sheet.title, number, r.column("parent"), "unit", parent))
        if not r.errors and name is not None and kind is not None:
            rows.append(UnitRow(sheet.title, number, name, kind, parent))
        errors.extend(r.errors)
    return rows, errors, refs, declared


def _project_rows(sheet: _Sheet) -> tuple[list[ProjectRow], list[RowError], list[Reference]]:
    rows: list[ProjectRow] = []
    errors = list(sheet.errors)
    refs: list[Reference] = []
    first: dict[str, int] = {}
    for number, values in sheet.rows:
        r = _RowReader(sheet, number, values, _PROJECT_MAX_LEN)
        code = r.text("code", required=True, stored=normal_code)
        if code is not None:
            if re.search(r"\s", code):
                r.fail(_Bad("ledger.bad_code", value=code))
            elif code in first:
                r.fail(_Bad("ledger.duplicate_code", value=code, first=first[code]))
            else:
                first[code] = number
        name = r.text("name", required=True)
        enterprise = r.text("enterprise")
        industry = r.text("industry", required=True)
        investment = r.number("investment", required=True)
        land_mu = r.number("land_mu")
        stage: Stage | None = None
        raw_stage = _text(values.get("stage"))
        if raw_stage is not None:
            try:
                stage = _stage(raw_stage)
            except _Bad as bad:
                r.fail(bad)
        else:
            stage = sheet.section_stages.get(number)
        unit = r.text("unit", required=True)
        targets = {f: r.date(f) for f in _DATE_FIELDS}
        if industry is not None:
            refs.append(Reference(sheet.title, number, r.column("industry"), "industry", industry))
        if unit is not None:
            refs.append(Reference(sheet.title, number, r.column("unit"), "unit", unit))
        errors.extend(r.errors)
        # A missing column leaves its cells empty without a row error: the sheet has one.
        if r.errors or code is None or name is None or industry is None or unit is None:
            continue
        if investment is None:
            continue
        rows.append(
            ProjectRow(
                sheet=sheet.title,
                row=number,
                code=code,
                name=name,
                industry=industry,
                investment=investment,
                unit=unit,
                enterprise=enterprise,
                land_mu=land_mu,
                stage=stage,
                **targets,
            )
        )
    return rows, errors, refs


# --- files ------------------------------------------------------------------------------


def _file_error(path: Path, key: str, **params: Any) -> LedgerError:
    return LedgerError([RowError(path.name, None, key, params)])


def _filled(ws: Worksheet) -> list[list[object]]:
    """The sheet's values, a merged range's value in every cell it covers.

    openpyxl keeps a merged range's value in its top-left cell only; a 责任单位 merged over
    the three projects of one township belongs to each of them.
    """
    rows: list[list[object]] = [
        list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)
    ]
    for merged in ws.merged_cells.ranges:
        if merged.min_row > len(rows):
            continue
        value = _at(rows[merged.min_row - 1], merged.min_col - 1)
        for r in range(merged.min_row, min(merged.max_row, len(rows)) + 1):
            cells = rows[r - 1]
            for c in range(merged.min_col, merged.max_col + 1):
                if c <= len(cells):
                    cells[c - 1] = value
    return rows


def _workbook_sheets(path: Path) -> list[tuple[str, _Rows]]:
    # Not read-only: a read-only sheet does not know its merged cells.
    try:
        wb = load_workbook(path, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise _file_error(path, "ledger.unreadable") from exc
    sheets: list[tuple[str, _Rows]] = []
    try:
        for ws in wb.worksheets:  # chart sheets are not among them
            sheets.append((ws.title, list(enumerate(_filled(ws), start=1))))
    except (KeyError, ValueError) as exc:
        raise _file_error(path, "ledger.unreadable") from exc
    finally:
        wb.close()
    return sheets


def _read_workbook(path: Path) -> tuple[_Sheet | None, _Sheet | None]:
    sheets = _workbook_sheets(path)
    units = next((s for s in sheets if _norm_word(s[0]) in _UNIT_SHEETS), None)
    projects = next((s for s in sheets if _norm_word(s[0]) in _PROJECT_SHEETS), None)
    if projects is None:
        others = [s for s in sheets if s is not units]
        # A one-sheet workbook (Sheet1) is a projects ledger, the same as a CSV.
        if len(others) == 1 and units is None:
            projects = others[0]
        elif units is None:
            raise _file_error(path, "ledger.no_projects_sheet")
    return (
        _read_sheet(units[0], units[1], UNIT_COLUMNS, _unit_record) if units else None,
        (
            _read_sheet(projects[0], projects[1], PROJECT_COLUMNS, _project_record)
            if projects
            else None
        ),
    )


def _decode(path: Path, data: bytes) -> str:
    # Excel's "Unicode text" export starts with a UTF-16 byte order mark; a CSV of a Chinese
    # Windows is GBK, of which GB18030 is the superset. Whatever the mark promises, bytes
    # that do not decode (cut short, a lone surrogate) are a file in no encoding we read.
    unicode_text = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    encodings = ("utf-16",) if unicode_text else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_error(path, "ledger.bad_encoding")


def _read_csv(path: Path) -> _Sheet | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _file_error(path, "ledger.unreadable") from exc
    text = _decode(path, data)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows: list[tuple[int, Sequence[object]]] = [
            (n, [csv_unguard(cell) for cell in cells]) for n, cells in enumerate(reader, start=1)
        ]
    except csv.Error as exc:
        # The reader's own limit, a cell over csv.field_size_limit() (131,072 characters).
        raise _file_error(path, "ledger.unreadable") from exc
    return _read_sheet(path.name, rows, PROJECT_COLUMNS, _project_record)


def read_ledger(path: Path) -> Ledger:
    """Read a ledger workbook (.xlsx: units and projects) or CSV (projects only).

    Row errors are collected in the Ledger for `import_ledger` to report with its own; a
    file that cannot be read at all raises LedgerError at once. Blocking: run it in a thread
    from async code.
    """
    try:
        with path.open("rb") as f:
            magic = f.read(8)
    except OSError as exc:
        raise _file_error(path, "ledger.unreadable") from exc
    suffix = path.suffix.lower()
    if magic.startswith(b"PK\x03\x04"):
        unit_sheet, project_sheet = _read_workbook(path)
    elif magic.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
        raise _file_error(path, "ledger.old_xls")
    elif suffix in (".csv", ".txt"):
        unit_sheet, project_sheet = None, _read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        raise _file_error(path, "ledger.unreadable")
    else:
        raise _file_error(path, "ledger.bad_format", suffix=suffix or path.name)

    units: list[UnitRow] = []
    projects: list[ProjectRow] = []
    errors: list[RowError] = []
    refs: list[Reference] = []
    declared: set[str] = set()
    if unit_sheet is not None:
        units, errs, unit_refs, declared = _unit_rows(unit_sheet)
        errors += errs
        refs += unit_refs
    if project_sheet is not None:
        projects, errs, project_refs = _project_rows(project_sheet)
        errors += errs
        refs += project_refs
    has_rows = any(s is not None and s.rows for s in (unit_sheet, project_sheet))
    if not has_rows and not errors:
        errors.append(RowError(path.name, None, "ledger.empty", {}))
    return Ledger(
        source=path.name,
        units=tuple(units),
        projects=tuple(projects),
        errors=tuple(errors),
        references=tuple(refs),
        declared_units=frozenset(declared),
        columns=tuple(c for s in (unit_sheet, project_sheet) if s is not None for c in s.columns),
    )


# --- import -----------------------------------------------------------------------------


def _sorted(errors: Sequence[RowError]) -> list[RowError]:
    """Sheet by sheet in the order first met, sheet-wide errors first, then by row."""
    rank: dict[str, int] = {}
    for e in errors:
        rank.setdefault(e.sheet, len(rank))
    return sorted(errors, key=lambda e: (rank[e.sheet], e.row or 0))


def _parent_cycles(units: Sequence[UnitRow], stored: Mapping[str, Unit]) -> list[RowError]:
    """Rows whose parent chain comes back to themselves: escalation would never end."""
    by_id = {u.id: u for u in stored.values()}
    parent: dict[str, str] = {}
    for key, unit in stored.items():
        if unit.parent_id is not None and unit.parent_id in by_id:
            parent[key] = by_id[unit.parent_id].name.lower()
    for row in units:
        if row.parent is not None:
            parent[row.name.lower()] = row.parent.lower()
    names = {k: u.name for k, u in stored.items()} | {r.name.lower(): r.name for r in units}
    errors = []
    for row in units:
        start = row.name.lower()
        chain = [start]
        node = parent.get(start)
        while node is not None and node not in chain:
            chain.append(node)
            node = parent.get(node)
        if node == start:
            shown = " → ".join(names.get(n, n) for n in [*chain, start])
            errors.append(RowError(row.sheet, row.row, "ledger.parent_cycle", {"value": shown}))
    return errors


def _assign(obj: object, values: Mapping[str, object]) -> bool:
    """Set the values that differ; True if any did (so unchanged rows write no audit)."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


_INDUSTRY_SUFFIX: Final = re.compile(r"(产业集群|产业链|产业类|产业|行业|领域|板块|类)$")


def industry_names(
    industries: Sequence[str], aliases: Mapping[str, str] | None = None
) -> Callable[[str], str | None]:
    """The configured industry a ledger's word names: itself, an alias, or either with a
    suffix (`新能源产业`, `新材料行业`); None for any other word."""
    known = {_norm_word(i): i for i in industries}
    for alias, industry in (aliases or {}).items():
        if industry in industries:
            known.setdefault(_norm_word(alias), industry)

    def name(word: str) -> str | None:
        key = _norm_word(word)
        return known.get(key) or known.get(_INDUSTRY_SUFFIX.sub("", key))

    return name


async def import_ledger(
    session: AsyncSession,
    ledger: Ledger,
    industries: Sequence[str],
    aliases: Mapping[str, str] | None = None,
) -> ImportResult:
    """Create or update the ledger's units (by name) and projects (by code), or nothing.

    ALIASES are other names of INDUSTRIES (`[city] industry_aliases`). Raises LedgerError
    with every bad row before writing anything. The audit log names the actor set on the
    session with storage.db.set_actor.
    """
    stored_units = {u.name.lower(): u for u in (await session.scalars(select(Unit))).all()}
    codes = [p.code for p in ledger.projects]
    stored_projects = {
        p.code: p
        for p in (await session.scalars(select(Project).where(Project.code.in_(codes)))).all()
    }
    industry_of = industry_names(industries, aliases)
    known_units = set(stored_units) | ledger.declared_units

    errors = list(ledger.errors)
    for ref in ledger.references:
        key = ref.value.lower()
        if ref.what == "industry" and industry_of(ref.value) is None:
            errors.append(
                RowError(
                    ref.sheet,
                    ref.row,
                    "ledger.unknown_industry",
                    {"value": ref.value, "allowed": "、".join(industries)},
                )
            )
        elif ref.what == "unit" and key not in known_units:
            errors.append(RowError(ref.sheet, ref.row, "ledger.unknown_unit", {"value": ref.value}))
    errors += _parent_cycles(ledger.units, stored_units)
    for prow in ledger.projects:
        # The rules keep a dropped project dropped; a ledger is no way around that.
        old = stored_projects.get(prow.code)
        if old is not None and old.stage is Stage.DROPPED and prow.stage not in (None, old.stage):
            errors.append(
                RowError(prow.sheet, prow.row, "ledger.stage_dropped", {"value": prow.code})
            )
    if errors:
        raise LedgerError(_sorted(errors))

    result: dict[str, int] = {f.name: 0 for f in fields(ImportResult) if f.name != "columns"}
    # Parents first, level by level, so that a new unit is created with its parent in place
    # (one audit row, not a create and then an update). There are no cycles: checked above.
    created: set[str] = set()
    waiting = [u for u in ledger.units if u.name.lower() not in stored_units]
    while waiting:
        ready = [u for u in waiting if u.parent is None or u.parent.lower() in stored_units]
        if not ready:  # cannot happen after the checks; never loop forever on a bug
            raise RuntimeError("ledger units wait for parents that never come")
        for urow in ready:
            parent = stored_units[urow.parent.lower()] if urow.parent else None
            unit = Unit(name=urow.name, kind=urow.kind, parent_id=parent.id if parent else None)
            session.add(unit)
            stored_units[urow.name.lower()] = unit
            created.add(urow.name.lower())
        await session.flush()
        waiting = [u for u in waiting if u not in ready]
    result["units_created"] = len(created)
    for urow in ledger.units:
        if urow.name.lower() in created:
            continue
        values: dict[str, Any] = {"kind": urow.kind}
        if urow.parent is not None:
            values["parent_id"] = stored_units[urow.parent.lower()].id
        changed = _assign(stored_units[urow.name.lower()], values)
        result["units_updated" if changed else "units_unchanged"] += 1

    for prow in ledger.projects:
        values = {
            "name": prow.name,
            "industry": industry_of(prow.industry),
            "investment": prow.investment,
            "unit_id": stored_units[prow.unit.lower()].id,
        }
        optional = {
            "enterprise": prow.enterprise,
            "land_mu": prow.land_mu,
            "stage": prow.stage,
            "target_signed": prow.target_signed,
            "target_started": prow.target_started,
            "target_operating": prow.target_operating,
        }
        values |= {k: v for k, v in optional.items() if v is not None}
        project = stored_projects.get(prow.code)
        old_unit = project.unit_id if project is not None else None
        if project is None:
            session.add(Project(code=prow.code, **values))
            result["projects_created"] += 1
        elif _assign(project, values):
            unit = stored_units[prow.unit.lower()]
            if project.unit is not unit:
                # The loaded relationship would go on naming the old unit until expired, and
                # expiring it would mean a lazy load, which an async session cannot do.
                project.unit = unit
            if old_unit is not None:
                # A project that changes hands takes its open instructions to the new unit.
                await follow_project(session, project, old_unit)
            result["projects_updated"] += 1
        else:
            result["projects_unchanged"] += 1
    await session.flush()
    return ImportResult(**result, columns=ledger.columns)


# --- export -----------------------------------------------------------------------------

# A ledger cell as exported: text, a number in the stored unit (万元, 亩), a date, or empty.
LedgerCell = str | Decimal | date | None

# The words written for kinds and stages: the first the importer reads for each, in Chinese
# as offices write them (a test checks each reads back as itself).
KIND_WORD: Final[Mapping[UnitKind, str]] = {
    UnitKind.LEADERSHIP: "领导",
    UnitKind.CENTER: "中心",
    UnitKind.DEPARTMENT: "部门",
    UnitKind.TOWNSHIP: "乡镇",
    UnitKind.SUBDISTRICT: "街道",
}
STAGE_WORD: Final[Mapping[Stage, str]] = {
    Stage.NEGOTIATING: "洽谈",
    Stage.SIGNED: "签约",
    Stage.STARTED: "开工",
    Stage.OPERATING: "投产",
    Stage.PAUSED: "暂停",
    Stage.DROPPED: "终止",
}
# Siblings in the units sheet: the escalation chain's top first, then the units that carry
# projects, then the departments that serve them.
_KIND_ORDER: Final = (
    UnitKind.LEADERSHIP,
    UnitKind.CENTER,
    UnitKind.TOWNSHIP,
    UnitKind.SUBDISTRICT,
    UnitKind.DEPARTMENT,
)
UNIT_SHEET: Final = "单位"
PROJECT_SHEET: Final = "项目"
EXPORT_SUFFIXES: Final = (".xlsx", ".csv")


def _canonical(col: _Column) -> str:
    """The Chinese header the README names for a column, with the stored unit of a number:
    `计划投资（万元）`, `用地面积（亩）`, `签约目标`."""
    header = col.label.split(" / ")[0]
    if col.field in _UNITS:
        header += f"（{_UNITS[col.field][1]}）"
    return header


@dataclass(frozen=True)
class LedgerSheet:
    """One sheet of an exported ledger: its title, its headers and its rows of cells."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[LedgerCell, ...], ...]


@dataclass(frozen=True)
class LedgerExport:
    """The whole ledger as the store holds it: every unit and every project."""

    units: LedgerSheet
    projects: LedgerSheet


def _unit_order(units: Sequence[Unit]) -> list[Unit]:
    """The units as a tree, each under its parent, siblings by kind and then by name.

    Sorted here, not in SQL: SQLite and PostgreSQL order Chinese names differently, and the
    same ledger must come out of both.
    """
    children: dict[int | None, list[Unit]] = {}
    ids = {u.id for u in units}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in ids else None
        children.setdefault(parent, []).append(unit)
    for group in children.values():
        group.sort(key=lambda u: (_KIND_ORDER.index(u.kind), u.name))
    ordered: list[Unit] = []
    seen: set[int] = set()
    stack = list(reversed(children.get(None, [])))
    while stack:
        unit = stack.pop()
        if unit.id in seen:
            continue
        seen.add(unit.id)
        ordered.append(unit)
        stack.extend(reversed(children.get(unit.id, [])))
    # A chain that goes round (the import refuses one; another writer might not) has no
    # root to reach it from: its units still belong in the ledger.
    rest = sorted((u for u in units if u.id not in seen), key=lambda u: u.name)
    return ordered + rest


def _natural(code: str) -> tuple[tuple[str, int], ...]:
    """QS2 before QS10: runs of digits compare as numbers."""
    parts = re.split(r"(\d+)", code)
    numbers = [int(d) for d in parts[1::2]] + [0]
    return tuple(zip(parts[::2], numbers, strict=True))


async def export_ledger(session: AsyncSession) -> LedgerExport:
    """Every unit and every project, as cells of the sheets `read_ledger` reads.

    Units in tree order (a parent before its children); projects grouped by their unit in
    that order, then by code (QS2 before QS10). Kinds and stages are the Chinese words the
    importer reads, investment a Decimal in 万元 and land in 亩, target dates as dates, and
    an empty value (no land area, no enterprise, no date) None. The order depends on the
    values only, never on ids, so two stores that hold the same ledger export the same rows.
    Milestones, leads, reports and problems are not part of the ledger and are not exported.
    """
    units = _unit_order((await session.scalars(select(Unit))).all())
    names = {u.id: u.name for u in units}
    rank = {u.id: i for i, u in enumerate(units)}
    unit_rows = tuple(
        (
            u.name,
            KIND_WORD[u.kind],
            names.get(u.parent_id) if u.parent_id is not None else None,
        )
        for u in units
    )
    projects = sorted(
        (await session.scalars(select(Project))).all(),
        key=lambda p: (rank[p.unit_id], _natural(p.code), p.code),
    )
    project_rows = tuple(
        (
            p.code,
            p.name,
            p.enterprise or None,
            p.industry,
            p.investment,
            p.land_mu,
            STAGE_WORD[p.stage],
            names[p.unit_id],
            p.target_signed,
            p.target_started,
            p.target_operating,
        )
        for p in projects
    )
    return LedgerExport(
        units=LedgerSheet(UNIT_SHEET, tuple(_canonical(c) for c in UNIT_COLUMNS), unit_rows),
        projects=LedgerSheet(
            PROJECT_SHEET, tuple(_canonical(c) for c in PROJECT_COLUMNS), project_rows
        ),
    )


def _xlsx_value(value: LedgerCell) -> str | int | float | date | None:
    if isinstance(value, Decimal):
        # 350000, not 350000.00; two decimals at most, which a float keeps exactly enough
        # for the importer's repr to give them back.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str):
        # Characters a workbook cannot hold; the import drops them too.
        return _CONTROL.sub("", value)
    return value


# A CSV cell Excel (and LibreOffice, Google Sheets) would run as a formula: one starting
# with = + - @, or with a tab or carriage return before one. The export writes such text
# behind an apostrophe, the usual guard (OWASP "CSV injection"), and the import takes the
# apostrophe off again; a text that starts with apostrophes before one of them gets one
# apostrophe more, so that every text comes back as it was.
_FORMULA_START: Final = re.compile(r"'*[=+\-@\t\r]")
_GUARDED: Final = re.compile(r"'+[=+\-@\t\r]")


def csv_guard(text: str) -> str:
    """TEXT as a CSV cell a spreadsheet shows as text: `=1+1` → `'=1+1`."""
    return f"'{text}" if _FORMULA_START.match(text) else text


def csv_unguard(text: str) -> str:
    """A CSV cell as the text it guards: `'=1+1` → `=1+1`; any other cell as it is."""
    return text[1:] if _GUARDED.match(text) else text


def _csv_value(value: LedgerCell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return csv_guard(value)


def _write_xlsx(export: LedgerExport, path: Path) -> None:
    wb = Workbook()
    for n, sheet in enumerate((export.units, export.projects)):
        ws = wb.worksheets[0] if n == 0 else wb.create_sheet()
        ws.title = sheet.title
        widths = [_shown_width(h) for h in sheet.headers]
        for c, header in enumerate(sheet.headers, start=1):
            ws.cell(row=1, column=c, value=header).font = Font(bold=True)
        for r, cells in enumerate(sheet.rows, start=2):
            for c, raw in enumerate(cells, start=1):
                cell = ws.cell(row=r, column=c, value=_xlsx_value(raw))
                if isinstance(raw, str):
                    # A name that starts with `=` is text, not a formula to run.
                    cell.data_type = "s"
                elif isinstance(raw, date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(raw, Decimal):
                    # 万元 and 亩 with thousands separators, decimals only where there are.
                    whole = raw == raw.to_integral_value()
                    cell.number_format = "#,##0" if whole else "#,##0.00"
                widths[c - 1] = max(widths[c - 1], _shown_width(raw))
        for c, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), 50)
        ws.freeze_panes = "A2"
    wb.save(path)


def _shown_width(value: LedgerCell) -> int:
    if isinstance(value, Decimal):
        text = f"{value.normalize():,f}"
    else:
        text = "" if value is None else value if isinstance(value, str) else _csv_value(value)
    return len(text) + sum(ord(ch) > 0x2E80 for ch in text)  # a Chinese character is two wide


def _write_csv(export: LedgerExport, path: Path) -> None:
    # UTF-8 with the BOM, so that Excel on a Chinese Windows opens it without garbling.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(export.projects.headers)
        writer.writerows([_csv_value(v) for v in row] for row in export.projects.rows)


def write_ledger(export: LedgerExport, path: Path) -> None:
    """Write EXPORT to PATH: a .xlsx with the sheets 单位 and 项目, or a .csv of the projects
    (a CSV ledger holds no units), in the form `read_ledger` reads back to the same rows.

    The file appears whole or not at all (written beside it, then renamed over it). Raises
    ValueError for another suffix and OSError when the file cannot be written. Blocking
    (openpyxl): run it in a thread from async code.
    """
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ValueError(f"a ledger is written as .xlsx or .csv, not {suffix or path.name!r}")
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        if suffix == ".csv":
            _write_csv(export, partial)
        else:
            _write_xlsx(export, partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
