"""The Excel ledger: reading workbooks and CSV files, checking every row, importing all or nothing.

The example files in tests/data are written by `make_examples` below from the same rows the
tests use; regenerate them with
`.venv/bin/python -c "from tests.test_ledger import make_examples; make_examples()"`.
"""

from __future__ import annotations

import csv
import re
import string
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import ledger as ledger_texts
from bot.texts.ledger import describe
from storage.db import set_actor
from storage.ledger import ImportResult, LedgerError, RowError, import_ledger, read_ledger
from storage.models import AuditLog, ChatState, Member, Project, Role, Stage, Unit, UnitKind
from tests.harness import ADMIN, COORD, OFFICER, Harness, seed, start_harness
from tests.stores import NewStore

DATA = Path(__file__).parent / "data"
EXAMPLE_XLSX = DATA / "ledger-example.xlsx"
EXAMPLE_CSV = DATA / "ledger-example.csv"
INDUSTRIES = ("新能源", "新材料", "生物医药", "高端装备制造", "现代服务业")

Rows = list[list[Any]]

UNITS_ZH: Rows = [
    ["单位名称", "类型", "上级单位"],
    ["市领导", "领导", None],
    ["招商服务中心", "中心", "市领导"],
    ["青山镇", "乡镇", "招商服务中心"],
    ["东城街道", "街道", "招商服务中心"],
    ["自然资源局", "部门", "招商服务中心"],
    ["行政审批局", "部门", "招商服务中心"],
]

PROJECTS_ZH: Rows = [
    [
        "序号",
        "项目编号",
        "项目名称",
        "企业名称",
        "产业",
        "计划投资(万元)",
        "用地面积(亩)",
        "阶段",
        "责任单位",
        "签约目标",
        "开工目标",
        "投产目标",
        "备注",
    ],
    [1, "QS01", "年产10GWh储能电池项目", "澜岳新能源科技有限公司", "新能源", 350000, 600, "签约",
     "青山镇", date(2026, 3, 15), date(2026, 9, 30), date(2027, 12, 31), "市重点项目"],
    [2, "QS02", "高性能碳纤维复合材料项目", "启衡新材料股份有限公司", "新材料", "120,000", 260,
     "开工", "青山镇", date(2025, 11, 20), "2026/03/01", "2027/06/30", None],
    [3, "QS03", "智能数控机床项目", "晟禾智能装备有限公司", "高端装备制造", 80000, 150, "洽谈",
     "青山镇", "2026-08-31", "2027-03-31", "2028-06-30", "第三轮洽谈"],
    [4, "QS04", "分布式光伏组件生产基地", "远帆光能科技有限公司", "新能源", 45000.5, 90, "投产",
     "青山镇", date(2024, 5, 10), date(2024, 9, 1), date(2025, 10, 18), None],
    [5, "QS05", "冷链物流园", "卓岭供应链管理有限公司", "现代服务业", 30000, 120, "暂停",
     "青山镇", date(2025, 6, 30), date(2026, 4, 30), None, "企业资金紧张"],
    [6, "DC01", "创新药原料药生产基地", "鸿拓生物医药有限公司", "生物医药", 150000, 300, "签约",
     "东城街道", date(2026, 1, 28), date(2026, 10, 15), date(2028, 3, 31), None],
    [7, "DC02", "医疗器械产业园", "博越医疗科技有限公司", "生物医药", 60000, None, "洽谈",
     "东城街道", "2026/09/30", None, None, "租赁标准厂房"],
    [8, "DC03", "数字经济产业园", "凯泓数字科技有限公司", "现代服务业", 25000, None, "开工",
     "东城街道", date(2025, 8, 8), date(2025, 12, 26), date(2026, 12, 31), None],
    [9, "DC04", "工业机器人生产基地", "沐川智能装备有限公司", "高端装备制造", 200000, 400,
     "开工", "东城街道", date(2025, 4, 18), date(2025, 10, 9), date(2027, 5, 1), None],
    [10, "DC05", "石墨烯导热材料项目", "青岚新材料有限公司", "新材料", 18000, 50, "终止",
     "东城街道", date(2025, 3, 1), None, None, "企业投资方向调整"],
]  # fmt: skip

PROJECTS_CSV_EN: Rows = [
    ["code", "name", "enterprise", "industry", "investment", "land_mu", "stage", "unit",
     "target_signed", "target_started", "target_operating"],
    ["QS06", "氢能装备产业园", "澜岳氢能科技有限公司", "新能源", "96,000", "180", "negotiating",
     "青山镇", "2026-10-31", "2027-04-30", "2028-12-31"],
    ["QS07", "高端膜材料生产线", "启衡膜科技有限公司", "新材料", "32000", "64.5", "signed",
     "青山镇", "2026/02/10", "2026/07/15", "2027/09/30"],
    ["DC06", "体外诊断试剂项目", "博越诊断科技有限公司", "生物医药", "15000.5", "", "started",
     "东城街道", "2025-07-01", "2025-11-11", "2026-11-30"],
    ["dc07", "跨境电商产业园", "凯泓跨境贸易有限公司", "现代服务业", "12000", "", "Negotiating",
     "东城街道", "2026-12-05", "", ""],
]  # fmt: skip

# The same projects sheet with English headers, for the header-language test.
ENGLISH_HEADERS = {
    "序号": "No.",
    "项目编号": "Code",
    "项目名称": "Name",
    "企业名称": "Enterprise",
    "产业": "Industry",
    "计划投资(万元)": "Investment (10k CNY)",
    "用地面积(亩)": "Land (mu)",
    "阶段": "Stage",
    "责任单位": "Unit",
    "签约目标": "Target signed",
    "开工目标": "Target started",
    "投产目标": "Target operating",
    "备注": "Notes",
    "单位名称": "Name",
    "类型": "Kind",
    "上级单位": "Parent",
}


def _width(value: object) -> int:
    text = "" if value is None else str(value)
    return len(text) + sum(ord(ch) > 0x2E80 for ch in text)  # a Chinese character is two wide


def write_xlsx(path: Path, sheets: dict[str, Rows]) -> Path:
    wb = openpyxl.Workbook()
    for n, (title, rows) in enumerate(sheets.items()):
        ws = wb.worksheets[0] if n == 0 else wb.create_sheet()
        ws.title = title
        for row in rows:
            ws.append(row)
        for cell in ws[1]:
            cell.font = openpyxl.styles.Font(bold=True)
        # Wide enough to read when the example is opened.
        for column in ws.columns:
            width = max(_width(c.value) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 40)
    wb.save(path)
    return path


def write_csv(path: Path, rows: Rows, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def make_examples(directory: Path = DATA) -> None:
    """Write the committed example files (run by hand when the example rows change)."""
    directory.mkdir(parents=True, exist_ok=True)
    write_xlsx(directory / EXAMPLE_XLSX.name, {"单位": UNITS_ZH, "项目": PROJECTS_ZH})
    write_csv(directory / EXAMPLE_CSV.name, PROJECTS_CSV_EN)


def with_row(rows: Rows, *extra: list[Any]) -> Rows:
    return [*rows, *extra]


def project(**changes: Any) -> list[Any]:
    """A good projects-sheet row (QS01's) with some cells changed, by header name."""
    row = list(PROJECTS_ZH[1])
    for header, value in changes.items():
        row[PROJECTS_ZH[0].index(header)] = value
    return row


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def counts(session: AsyncSession) -> tuple[int, int, int]:
    return (
        await count(session, Unit),
        await count(session, Project),
        await count(session, AuditLog),
    )


async def get_project(session: AsyncSession, code: str) -> Project:
    p = await session.scalar(select(Project).where(Project.code == code))
    assert p is not None, code
    return p


def keys(errors: Sequence[RowError]) -> list[tuple[str, int | None, str]]:
    """The errors as (sheet, row, key), after checking each can be said in both languages."""
    texts = _catalog()
    for e in errors:
        for table in (texts.ZH, texts.EN):
            table[e.key].format(**e.params)
    return [(e.sheet, e.row, e.key) for e in errors]


# --- the example files ------------------------------------------------------------------


def test_example_files_match_the_rows_here(tmp_path: Path) -> None:
    make_examples(tmp_path)
    for name in (EXAMPLE_XLSX.name, EXAMPLE_CSV.name):
        committed, fresh = read_ledger(DATA / name), read_ledger(tmp_path / name)
        assert (committed.units, committed.projects) == (fresh.units, fresh.projects), name
        assert committed.errors == ()


async def test_example_workbook_imports(session: AsyncSession) -> None:
    ledger = read_ledger(EXAMPLE_XLSX)
    assert ledger.errors == ()
    result = await import_ledger(session, ledger, INDUSTRIES)
    assert result == ImportResult(units_created=6, projects_created=10)

    units = {u.name: u for u in (await session.scalars(select(Unit))).all()}
    assert units["青山镇"].kind is UnitKind.TOWNSHIP
    assert units["东城街道"].kind is UnitKind.SUBDISTRICT
    assert units["青山镇"].parent_id == units["招商服务中心"].id
    assert units["招商服务中心"].parent_id == units["市领导"].id
    assert units["市领导"].parent_id is None

    qs01 = await get_project(session, "QS01")
    assert qs01.name == "年产10GWh储能电池项目"
    assert qs01.enterprise == "澜岳新能源科技有限公司"
    assert qs01.industry == "新能源"
    assert qs01.investment == Decimal("350000")
    assert qs01.land_mu == Decimal("600")
    assert qs01.intensity == Decimal("583.33")
    assert qs01.stage is Stage.SIGNED
    assert qs01.unit_id == units["青山镇"].id
    assert (qs01.target_signed, qs01.target_started, qs01.target_operating) == (
        date(2026, 3, 15),
        date(2026, 9, 30),
        date(2027, 12, 31),
    )
    qs02 = await get_project(session, "QS02")  # "120,000" and 2026/03/01 as text
    assert qs02.investment == Decimal("120000")
    assert qs02.target_started == date(2026, 3, 1)
    assert qs02.stage is Stage.STARTED
    qs04 = await get_project(session, "QS04")
    assert qs04.investment == Decimal("45000.50")
    assert qs04.stage is Stage.OPERATING
    dc02 = await get_project(session, "DC02")
    assert dc02.land_mu is None and dc02.intensity is None
    assert dc02.target_signed == date(2026, 9, 30) and dc02.target_started is None
    stages = {p.code: p.stage for p in (await session.scalars(select(Project))).all()}
    assert stages["QS05"] is Stage.PAUSED and stages["DC05"] is Stage.DROPPED


async def test_import_is_audited_with_the_actor(session: AsyncSession) -> None:
    unit = Unit(name="招商服务中心", kind=UnitKind.CENTER)
    session.add(unit)
    await session.flush()
    admin = Member(tg_user_id=1, name="管理员", unit_id=unit.id, role=Role.ADMIN)
    session.add(admin)
    await session.flush()
    set_actor(session, admin.id)

    result = await import_ledger(session, read_ledger(EXAMPLE_XLSX), INDUSTRIES)
    # The center existed already: its parent is set, and that is an update.
    assert (result.units_created, result.units_updated) == (5, 1)
    rows = (
        await session.scalars(select(AuditLog).where(AuditLog.entity.in_(["units", "projects"])))
    ).all()
    imported = [r for r in rows if r.actor_id == admin.id]
    assert sum(r.entity == "projects" and r.action == "create" for r in imported) == 10
    assert any(r.entity == "units" and r.action == "update" for r in imported)


async def test_reimport_updates_without_duplicating(session: AsyncSession, tmp_path: Path) -> None:
    await import_ledger(session, read_ledger(EXAMPLE_XLSX), INDUSTRIES)
    before = await counts(session)

    again = await import_ledger(session, read_ledger(EXAMPLE_XLSX), INDUSTRIES)
    assert again == ImportResult(units_unchanged=6, projects_unchanged=10)
    assert await counts(session) == before  # not even an audit row

    rows = [list(r) for r in PROJECTS_ZH]
    rows[1][PROJECTS_ZH[0].index("阶段")] = "开工"
    rows[1][PROJECTS_ZH[0].index("项目编号")] = "qs01"  # codes match whatever the case
    rows[2][PROJECTS_ZH[0].index("用地面积(亩)")] = None  # empty: keep what is stored
    changed = write_xlsx(tmp_path / "changed.xlsx", {"项目": rows})
    result = await import_ledger(session, read_ledger(changed), INDUSTRIES)
    assert result == ImportResult(projects_updated=1, projects_unchanged=9)

    units, projects, audit = await counts(session)
    assert (units, projects) == before[:2]
    assert audit == before[2] + 1
    qs01 = await get_project(session, "QS01")
    assert qs01.stage is Stage.STARTED
    assert (await get_project(session, "QS02")).land_mu == Decimal("260")
    log = await session.scalar(
        select(AuditLog).where(AuditLog.entity == "projects").order_by(AuditLog.id.desc())
    )
    assert log is not None and log.action == "update"
    assert log.before == {"stage": "signed"} and log.after == {"stage": "started"}

    # Moving a project to another unit: the id, the loaded unit and the audit all follow.
    rows[1][PROJECTS_ZH[0].index("责任单位")] = "东城街道"
    moved = write_xlsx(tmp_path / "moved.xlsx", {"项目": rows})
    assert (await import_ledger(session, read_ledger(moved), INDUSTRIES)).projects_updated == 1
    assert qs01.unit.name == "东城街道" and qs01.unit_id == qs01.unit.id
    log = await session.scalar(
        select(AuditLog).where(AuditLog.entity == "projects").order_by(AuditLog.id.desc())
    )
    assert log is not None and log.after == {"unit_id": qs01.unit.id}


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_headers_in_chinese_or_english(
    session: AsyncSession, tmp_path: Path, language: str
) -> None:
    def headed(rows: Rows) -> Rows:
        if language == "zh":
            return rows
        return [[ENGLISH_HEADERS[h] for h in rows[0]], *rows[1:]]

    sheets = {"units": headed(UNITS_ZH), "projects": headed(PROJECTS_ZH)}
    if language == "zh":
        sheets = {"单位": sheets["units"], "项目": sheets["projects"]}
    ledger = read_ledger(write_xlsx(tmp_path / f"{language}.xlsx", sheets))
    assert ledger.errors == ()
    example = read_ledger(EXAMPLE_XLSX)
    assert [replace(p, sheet="") for p in ledger.projects] == [
        replace(p, sheet="") for p in example.projects
    ]
    result = await import_ledger(session, ledger, INDUSTRIES)
    assert result == ImportResult(units_created=6, projects_created=10)
    assert (await get_project(session, "QS02")).investment == Decimal("120000")


async def test_example_csv_with_english_headers(session: AsyncSession) -> None:
    await import_ledger(session, read_ledger(EXAMPLE_XLSX), INDUSTRIES)
    ledger = read_ledger(EXAMPLE_CSV)
    assert ledger.errors == () and ledger.units == ()
    result = await import_ledger(session, ledger, INDUSTRIES)
    assert result == ImportResult(projects_created=4)
    qs06 = await get_project(session, "QS06")
    assert (qs06.investment, qs06.land_mu, qs06.stage) == (
        Decimal("96000"),
        Decimal("180"),
        Stage.NEGOTIATING,
    )
    assert (await get_project(session, "QS07")).target_signed == date(2026, 2, 10)
    dc07 = await get_project(session, "DC07")  # typed "dc07" in the file
    assert dc07.target_signed == date(2026, 12, 5) and dc07.target_started is None


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
async def test_csv_encodings(session: AsyncSession, tmp_path: Path, encoding: str) -> None:
    await import_ledger(session, read_ledger(EXAMPLE_XLSX), INDUSTRIES)
    # Chinese headers and cells, as Excel on a Chinese Windows saves them.
    rows = [
        PROJECTS_ZH[0],
        *([str(c) if c is not None else "" for c in r] for r in PROJECTS_ZH[1:]),
    ]
    path = write_csv(tmp_path / "台账.csv", rows, encoding)
    ledger = read_ledger(path)
    assert ledger.errors == ()
    assert [p.name for p in ledger.projects] == [r[2] for r in PROJECTS_ZH[1:]]
    result = await import_ledger(session, ledger, INDUSTRIES)
    assert result == ImportResult(projects_unchanged=10)


# --- bad rows ---------------------------------------------------------------------------


async def test_every_bad_row_is_reported_and_nothing_written(
    session: AsyncSession, tmp_path: Path
) -> None:
    await import_ledger(session, read_ledger(EXAMPLE_XLSX), INDUSTRIES)
    before = await counts(session)

    units = with_row(
        UNITS_ZH,
        ["白沙镇", "村", "招商服务中心"],  # row 8: unknown kind
        ["柳林镇", "乡镇", "不存在的单位"],  # row 9: unknown parent
        [None, "乡镇", "招商服务中心"],  # row 10: empty name
        ["青山镇", "乡镇", "招商服务中心"],  # row 11: listed twice
        ["南湖街道", "街道", "招商服务中心"],  # row 12: good, but nothing may be written
    )
    projects = with_row(
        PROJECTS_ZH,
        project(项目编号="X01", 项目名称=None),  # 12: empty required cell
        project(项目编号="X02", **{"计划投资(万元)": "十二万"}),  # 13: bad number
        project(项目编号="X03", **{"用地面积(亩)": -3}),  # 14: negative
        project(项目编号="X04", 开工目标="2026-02-30"),  # 15: bad date
        project(项目编号="X05", 阶段="已立项"),  # 16: unknown stage
        project(项目编号="X06", 责任单位="西山镇"),  # 17: unknown unit
        project(项目编号="X07", 产业="房地产"),  # 18: unknown industry
        project(项目编号="qs02"),  # 19: duplicate code (row 3), whatever the case
        project(项目编号="X09", 责任单位="南湖街道"),  # 20: good, declared in units sheet
        project(项目编号="X10", 阶段="开工", 投产目标="明年"),  # 21: bad date
    )
    path = write_xlsx(tmp_path / "bad.xlsx", {"单位": units, "项目": projects})
    with pytest.raises(LedgerError) as caught:
        await import_ledger(session, read_ledger(path), INDUSTRIES)

    assert keys(caught.value.errors) == [
        ("单位", 8, "ledger.bad_kind"),
        ("单位", 9, "ledger.unknown_unit"),
        ("单位", 10, "ledger.required"),
        ("单位", 11, "ledger.duplicate_unit"),
        ("项目", 12, "ledger.required"),
        ("项目", 13, "ledger.bad_number"),
        ("项目", 14, "ledger.negative"),
        ("项目", 15, "ledger.bad_date"),
        ("项目", 16, "ledger.bad_stage"),
        ("项目", 17, "ledger.unknown_unit"),
        ("项目", 18, "ledger.unknown_industry"),
        ("项目", 19, "ledger.duplicate_code"),
        ("项目", 21, "ledger.bad_date"),
    ]
    by_row = {(e.sheet, e.row): e for e in caught.value.errors}
    assert by_row["单位", 8].params == {"value": "村"}
    assert by_row["单位", 9].params == {"value": "不存在的单位"}
    assert by_row["单位", 10].params == {"column": "单位名称"}
    assert by_row["单位", 11].params == {"value": "青山镇", "first": 4}
    assert by_row["项目", 12].params == {"column": "项目名称"}
    assert by_row["项目", 13].params == {"column": "计划投资(万元)", "value": "十二万"}
    assert by_row["项目", 14].params == {"column": "用地面积(亩)", "value": "-3"}
    assert by_row["项目", 15].params == {"column": "开工目标", "value": "2026-02-30"}
    assert by_row["项目", 16].params == {"value": "已立项"}
    assert by_row["项目", 17].params == {"value": "西山镇"}
    assert by_row["项目", 18].params == {"value": "房地产", "allowed": "、".join(INDUSTRIES)}
    assert by_row["项目", 19].params == {"value": "QS02", "first": 3}
    assert caught.value.key == "ledger.invalid"
    assert caught.value.params == {"count": 13}

    assert await counts(session) == before
    assert await session.scalar(select(Unit).where(Unit.name == "南湖街道")) is None


async def test_bad_rows_on_an_empty_store_write_nothing(
    session: AsyncSession, tmp_path: Path
) -> None:
    projects = with_row(PROJECTS_ZH, project(项目编号="X01", **{"计划投资(万元)": None}))
    path = write_xlsx(tmp_path / "bad.xlsx", {"单位": UNITS_ZH, "项目": projects})
    with pytest.raises(LedgerError) as caught:
        await import_ledger(session, read_ledger(path), INDUSTRIES)
    assert keys(caught.value.errors) == [("项目", 12, "ledger.required")]
    assert await counts(session) == (0, 0, 0)


async def test_a_row_with_several_faults_reports_each(tmp_path: Path) -> None:
    bad = project(项目编号="X 1", **{"计划投资(万元)": "abc", "用地面积(亩)": "-1"}, 签约目标="x")
    path = write_xlsx(tmp_path / "bad.xlsx", {"项目": with_row(PROJECTS_ZH[:1], bad)})
    assert keys(read_ledger(path).errors) == [
        ("项目", 2, "ledger.bad_code"),
        ("项目", 2, "ledger.bad_number"),
        ("项目", 2, "ledger.negative"),
        ("项目", 2, "ledger.bad_date"),
    ]


def test_cells_longer_than_the_store_keeps(tmp_path: Path) -> None:
    units = [UNITS_ZH[0], ["镇" * 101, "乡镇", None]]
    projects = [PROJECTS_ZH[0], project(项目编号="X" * 21, 项目名称="项" * 201)]
    ledger = read_ledger(write_xlsx(tmp_path / "long.xlsx", {"单位": units, "项目": projects}))
    assert [(e.row, e.key, e.params) for e in ledger.errors] == [
        (2, "ledger.too_long", {"column": "单位名称", "limit": 100}),
        (2, "ledger.too_long", {"column": "项目编号", "limit": 20}),
        (2, "ledger.too_long", {"column": "项目名称", "limit": 200}),
    ]


async def test_missing_column_is_reported_once(session: AsyncSession, tmp_path: Path) -> None:
    drop = PROJECTS_ZH[0].index("责任单位")
    rows = [r[:drop] + r[drop + 1 :] for r in PROJECTS_ZH]
    path = write_xlsx(tmp_path / "no-unit.xlsx", {"项目": rows})
    with pytest.raises(LedgerError) as caught:
        await import_ledger(session, read_ledger(path), INDUSTRIES)
    assert caught.value.errors == [
        RowError("项目", None, "ledger.missing_column", {"column": "责任单位 / unit"})
    ]
    assert await counts(session) == (0, 0, 0)


async def test_parent_cycle_is_refused(session: AsyncSession, tmp_path: Path) -> None:
    units = [
        UNITS_ZH[0],
        ["甲镇", "乡镇", "乙镇"],
        ["乙镇", "乡镇", "甲镇"],
        ["丙局", "部门", "丙局"],
    ]
    path = write_xlsx(tmp_path / "cycle.xlsx", {"单位": units, "项目": PROJECTS_ZH[:1]})
    with pytest.raises(LedgerError) as caught:
        await import_ledger(session, read_ledger(path), INDUSTRIES)
    assert keys(caught.value.errors) == [
        ("单位", 2, "ledger.parent_cycle"),
        ("单位", 3, "ledger.parent_cycle"),
        ("单位", 4, "ledger.parent_cycle"),
    ]
    assert caught.value.errors[0].params == {"value": "甲镇 → 乙镇 → 甲镇"}


async def test_a_dropped_project_stays_dropped(session: AsyncSession, tmp_path: Path) -> None:
    await import_ledger(session, read_ledger(EXAMPLE_XLSX), INDUSTRIES)
    rows = [PROJECTS_ZH[0], list(PROJECTS_ZH[10])]
    rows[1][PROJECTS_ZH[0].index("阶段")] = "洽谈"
    path = write_xlsx(tmp_path / "revive.xlsx", {"项目": rows})
    with pytest.raises(LedgerError) as caught:
        await import_ledger(session, read_ledger(path), INDUSTRIES)
    assert keys(caught.value.errors) == [("项目", 2, "ledger.stage_dropped")]


async def test_title_rows_blank_rows_and_totals(session: AsyncSession, tmp_path: Path) -> None:
    """Row numbers stay the ones Excel shows when a title sits above the header."""
    rows = [
        ["2026年全市重点招商项目台账"],
        [None],
        PROJECTS_ZH[0],
        PROJECTS_ZH[1],
        [None],
        project(项目编号="QS09", 阶段="立项"),
        ["合计", None, None, None, None, 350000],
    ]
    path = write_xlsx(tmp_path / "title.xlsx", {"项目台账": rows})
    ledger = read_ledger(path)
    assert keys(ledger.errors) == [("项目台账", 6, "ledger.bad_stage")]
    assert [p.row for p in ledger.projects] == [4]


def test_single_sheet_workbook_is_a_projects_ledger(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "one.xlsx", {"Sheet1": PROJECTS_ZH})
    assert len(read_ledger(path).projects) == 10


@pytest.mark.parametrize(
    ("name", "content", "key"),
    [
        ("ledger.xlsx", b"PK\x03\x04not really a zip", "ledger.unreadable"),
        ("ledger.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ledger.old_xls"),
        ("ledger.pdf", b"%PDF-1.7", "ledger.bad_format"),
        ("ledger.csv", b"", "ledger.empty"),
        ("ledger.csv", "项目编号,项目名称\n".encode("utf-16-le"), "ledger.missing_column"),
    ],
)
def test_files_that_are_not_ledgers(tmp_path: Path, name: str, content: bytes, key: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    try:
        errors = list(read_ledger(path).errors)
    except LedgerError as exc:
        errors = exc.errors
    assert keys(errors)[0] == (name, None, key)


def test_workbook_without_projects_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "x.xlsx", {"说明": [["填表说明"]], "数据": PROJECTS_ZH})
    with pytest.raises(LedgerError) as caught:
        read_ledger(path)
    assert keys(caught.value.errors) == [("x.xlsx", None, "ledger.no_projects_sheet")]


async def test_units_only_workbook(session: AsyncSession, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "u.xlsx", {"单位": UNITS_ZH, "说明": [["填表说明"]]})
    result = await import_ledger(session, read_ledger(path), INDUSTRIES)
    assert result == ImportResult(units_created=6)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("1,200", Decimal("1200")),
        ("1200.5", Decimal("1200.5")),
        (" 3，500 万元 ", Decimal("3500")),
        (1200.1, Decimal("1200.10")),
        (7, Decimal("7")),
    ],
)
def test_numbers(tmp_path: Path, cell: object, value: Decimal) -> None:
    path = write_xlsx(
        tmp_path / "n.xlsx", {"项目": [PROJECTS_ZH[0], project(**{"计划投资(万元)": cell})]}
    )
    assert read_ledger(path).projects[0].investment == value


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("2026/12/05", date(2026, 12, 5)),
        ("2026-12-05", date(2026, 12, 5)),
        ("2026.12.5", date(2026, 12, 5)),
        ("2026年12月5日", date(2026, 12, 5)),
        ("2026-12-05 00:00:00", date(2026, 12, 5)),
        (date(2026, 12, 5), date(2026, 12, 5)),
        (46361, date(2026, 12, 5)),  # a date cell without a date format
    ],
)
def test_dates(tmp_path: Path, cell: object, value: date) -> None:
    path = write_xlsx(tmp_path / "d.xlsx", {"项目": [PROJECTS_ZH[0], project(签约目标=cell)]})
    assert read_ledger(path).projects[0].target_signed == value


def test_stage_and_kind_words(tmp_path: Path) -> None:
    words = {
        "洽谈": Stage.NEGOTIATING,
        "Signed": Stage.SIGNED,
        "已开工": Stage.STARTED,
        "投产": Stage.OPERATING,
        "暂停": Stage.PAUSED,
        "dropped": Stage.DROPPED,
    }
    kinds = {
        "乡镇": UnitKind.TOWNSHIP,
        "sub-district": UnitKind.SUBDISTRICT,
        "部门": UnitKind.DEPARTMENT,
        "Centre": UnitKind.CENTER,
        "领导": UnitKind.LEADERSHIP,
    }
    projects = [PROJECTS_ZH[0]] + [project(项目编号=f"S{i}", 阶段=w) for i, w in enumerate(words)]
    units = [UNITS_ZH[0]] + [[f"单位{i}", k, None] for i, k in enumerate(kinds)]
    ledger = read_ledger(write_xlsx(tmp_path / "w.xlsx", {"单位": units, "项目": projects}))
    assert [p.stage for p in ledger.projects] == list(words.values())
    assert [u.kind for u in ledger.units] == list(kinds.values())


# --- the catalog ------------------------------------------------------------------------


def _catalog() -> Any:
    return ledger_texts


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalog_has_every_key_in_both_languages() -> None:
    texts = _catalog()
    assert texts.ZH.keys() == texts.EN.keys()
    for key in texts.ZH:
        assert _placeholders(texts.ZH[key]) == _placeholders(texts.EN[key]), key
    source = (Path(__file__).parents[1] / "storage" / "ledger.py").read_text("utf-8")
    used = set(re.findall(r'"(ledger\.[a-z_]+)"', source))
    assert used <= texts.ZH.keys()
    assert "err.demo_not_empty" in texts.ZH
    assert _placeholders(texts.EN["ledger.summary"]) == set(ImportResult().as_params())


def test_errors_read_well_in_both_languages() -> None:
    row = RowError("项目", 13, "ledger.bad_number", {"column": "计划投资", "value": "<十二万>"})
    sheet = RowError("ledger.csv", None, "ledger.missing_column", {"column": "责任单位 / unit"})
    assert describe("zh", row) == "【项目】第 13 行：“计划投资”应填写数字，现为“&lt;十二万&gt;”。"
    assert (
        describe("en", row) == "[项目] row 13: “计划投资” must be a number, not “&lt;十二万&gt;”."
    )
    assert describe("zh", sheet) == "【ledger.csv】缺少必填列“责任单位 / unit”。"


# --- the ledger in chat: the file's own name, and a file sent without the caption ---------


async def stored(h: Harness, model: Any) -> int:
    async with h.sessions() as s:
        return await count(s, model)


def workbook_bytes(tmp_path: Path, rows: Rows) -> bytes:
    """A one-sheet projects workbook for the harness's city (units 城东街道, 城西镇)."""
    return write_xlsx(tmp_path / "upload.xlsx", {"项目": rows}).read_bytes()


GOOD_ROWS: Rows = [
    PROJECTS_ZH[0],
    project(项目编号="CD09", 责任单位="城东街道"),
    project(项目编号="CX09", 责任单位="城西镇", 产业="生物医药"),
]


async def test_errors_name_the_file_as_it_was_sent(h: Harness) -> None:
    bad = "code,name,industry,investment,unit\nQ1,甲,新能源,十二万,城东街道\n"
    reply = (await h.upload(COORD, bad.encode(), "三季度台账.csv"))[0]
    assert reply.startswith("“三季度台账.csv”中有 1 处问题")
    assert "【三季度台账.csv】第 2 行" in reply and "ledger.csv" not in reply
    reply = (await h.upload(COORD, b"PK\x03\x04broken", "台账（终版）.xlsx"))[0]
    assert "【台账（终版）.xlsx】文件无法读取" in reply and "ledger.xlsx" not in reply
    # A name with HTML in it is shown, not obeyed.
    reply = (await h.upload(COORD, bad.encode(), "<b>x</b>.csv"))[0]
    assert "&lt;b&gt;x&lt;/b&gt;.csv" in reply


async def test_a_ledger_sent_without_the_caption_is_offered(h: Harness, tmp_path: Path) -> None:
    before = await stored(h, Project)
    replies = await h.upload(COORD, workbook_bytes(tmp_path, GOOD_ROWS), "新台账.xlsx", caption="")
    assert replies == ["收到文件“新台账.xlsx”。要把它作为台账导入单位和项目吗？"]
    [button] = h.buttons(COORD)
    assert button.startswith("imp:")
    assert await stored(h, Project) == before  # nothing until the press

    reply = (await h.press(COORD, button))[0]
    assert "台账导入完成" in reply and "新增 2 个" in reply
    assert await stored(h, Project) == before + 2
    assert any(m == "editMessageReplyMarkup" for m, _ in h.api.calls)
    # The offer is taken: a second press imports nothing more.
    assert "已经结束" in (await h.press(COORD, button))[0]
    assert await offers(h) == []


async def offers(h: Harness) -> list[str]:
    async with h.sessions() as s:
        rows = await s.scalars(select(ChatState).where(ChatState.scope.like("import:%")))
        return [r.key for r in rows]


async def test_the_offer_is_kept_in_the_store_across_a_restart(
    tmp_path: Path, new_store: NewStore
) -> None:
    db = await new_store()
    first = await start_harness(db)
    await seed(first.sessions)
    content = workbook_bytes(tmp_path, GOOD_ROWS)
    await first.upload(ADMIN, content, "台账.xlsx", caption="")
    [button] = first.buttons(ADMIN)
    file_ids = dict(first.api.files)
    await first.stop()

    second = await start_harness(db)
    try:
        second.api.files.update(file_ids)  # Telegram still has the file
        reply = (await second.press(ADMIN, button))[0]
        assert "台账导入完成" in reply
        assert await stored(second, Project) == 4
    finally:
        await second.stop()


async def test_a_newer_file_replaces_the_offer(h: Harness, tmp_path: Path) -> None:
    await h.upload(COORD, workbook_bytes(tmp_path, GOOD_ROWS), "旧.xlsx", caption="")
    [old] = h.buttons(COORD)
    bad = "code,name,industry,investment,unit\nQ1,甲,新能源,十二万,城东街道\n"
    await h.upload(COORD, bad.encode(), "新.csv", caption="")
    [new] = h.buttons(COORD)
    assert old != new and len(await offers(h)) == 1
    assert "已经结束" in (await h.press(COORD, old))[0]
    reply = (await h.press(COORD, new))[0]
    assert reply.startswith("“新.csv”中有 1 处问题") and "【新.csv】第 2 行" in reply
    assert await stored(h, Project) == 2


async def test_officers_get_no_offer(h: Harness, tmp_path: Path) -> None:
    replies = await h.upload(OFFICER, workbook_bytes(tmp_path, GOOD_ROWS), "台账.xlsx", caption="")
    assert replies == ["没有看懂这条消息。发送 /help 查看可用命令。"]
    assert h.buttons(OFFICER) == [] and await offers(h) == []


async def test_other_files_are_not_offered(h: Harness) -> None:
    replies = await h.upload(COORD, b"%PDF-1.4", "会议纪要.pdf", caption="")
    assert not any("导入" in r for r in replies)
    assert await offers(h) == []


async def test_a_press_without_the_right_is_refused(h: Harness, tmp_path: Path) -> None:
    await h.upload(COORD, workbook_bytes(tmp_path, GOOD_ROWS), "台账.xlsx", caption="")
    [button] = h.buttons(COORD)
    # The coordinator is made an officer before pressing: the right is checked at the press.
    async with h.sessions() as s:
        member = await s.scalar(select(Member).where(Member.tg_user_id == COORD))
        assert member is not None
        member.role = Role.OFFICER
        await s.commit()
    assert "没有权限" in (await h.press(COORD, button))[0]
    # A made-up press from an officer finds nothing either.
    assert "没有权限" in (await h.press(OFFICER, button))[0]
    assert await stored(h, Project) == 2
    assert len(await offers(h)) == 1  # still there for someone who may


# --- ledgers as offices keep them -------------------------------------------------------
# The layouts of public project ledgers: 重点项目建设进度表 (a merged title, a header of two
# rows, section lines, 责任单位 merged over its projects, amounts in 亿元, land in 公顷),
# 招商签约项目一览表 (签约时间, 投资方名称, units in the cells) and 新开工项目汇总表
# (`单位：万元` above the header, 计划开工时间, 状态).


def write_sheet(path: Path, rows: Rows, merged: Sequence[str] = (), title: str = "Sheet1") -> Path:
    """A one-sheet workbook whose MERGED ranges ("A1:L1") keep the top-left value only."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for row in rows:
        ws.append(row)
    for cells in merged:
        ws.merge_cells(cells)
    wb.save(path)
    return path


PROGRESS_SHEET: Rows = [
    ["2026年全市重点项目建设进度表"] + [None] * 11,
    ["序号", "项目编号", "项目名称", "项目单位", "所属产业", "计划投资（亿元）", None,
     "项目用地（公顷）", "建设状态", "责任单位", "开工时间", "投产时间"],
    [None, None, None, None, None, "总投资", "本年计划", None, None, None, None, None],
    ["一、新开工项目（2个）"] + [None] * 11,
    [1, "ZD01", "年产5GWh储能电池项目", "澜岳新能源科技有限公司", "新能源产业", 8.6, 3,
     40, None, "青山镇", 2026.3, "2027年6月"],
    [2, "ZD02", "高端膜材料生产线", "启衡膜科技有限公司", "新材料产业", "3500万", "1200万",
     "2.5", None, None, "2026.11", "2027-12"],
    ["小计", None, None, None, None, 8.95, None, None, None, None, None, None],
    ["二、续建项目（1个）"] + [None] * 11,
    [3, "ZD03", "医疗器械产业园", "博越医疗科技有限公司", "生物医药", "1.2亿元", 0.5,
     None, "已投产", "东城街道", date(2025, 3, 1), "2026.12"],
    ["合计（3个）", None, None, None, None, 10.15, None, None, None, None, None, None],
]  # fmt: skip
# The title over every column, 序号 … 项目用地 and after over both header rows, 计划投资
# over its two parts, and 青山镇 over both of its projects.
PROGRESS_MERGED = (
    "A1:L1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:E3", "F2:G2", "H2:H3", "I2:I3",
    "J2:J3", "K2:K3", "L2:L3", "A4:L4", "A8:L8", "J5:J6",
)  # fmt: skip


async def test_progress_ledger_with_merged_cells_sections_and_units(
    session: AsyncSession, tmp_path: Path
) -> None:
    await import_ledger(session, read_ledger(EXAMPLE_XLSX), INDUSTRIES)
    path = write_sheet(tmp_path / "进度表.xlsx", PROGRESS_SHEET, PROGRESS_MERGED, "重点项目")
    ledger = read_ledger(path)
    assert ledger.errors == ()
    assert [p.row for p in ledger.projects] == [5, 6, 9]  # rows as Excel shows them

    result = await import_ledger(session, ledger, INDUSTRIES)
    assert result == ImportResult(units_unchanged=0, projects_created=3)
    zd01, zd02, zd03 = [await get_project(session, c) for c in ("ZD01", "ZD02", "ZD03")]
    assert zd01.investment == Decimal("86000")  # 8.6 亿元
    assert zd02.investment == Decimal("3500")  # `3500万` under a 亿元 header: the cell wins
    assert zd03.investment == Decimal("12000")  # `1.2亿元`
    assert zd01.land_mu == Decimal("600")  # 40 公顷
    assert zd02.land_mu == Decimal("37.5")
    assert zd01.enterprise == "澜岳新能源科技有限公司"  # from 项目单位
    assert (zd01.industry, zd02.industry) == ("新能源", "新材料")  # 新能源产业, 新材料产业
    # 青山镇 was merged over ZD01 and ZD02.
    units = {u.id: u.name for u in (await session.scalars(select(Unit))).all()}
    assert [units[p.unit_id] for p in (zd01, zd02, zd03)] == ["青山镇", "青山镇", "东城街道"]
    # The section `一、新开工项目` starts its rows; ZD03's own 建设状态 wins over `续建`.
    assert (zd01.stage, zd02.stage, zd03.stage) == (Stage.STARTED, Stage.STARTED, Stage.OPERATING)
    # Month-only dates are due at the end of the month.
    assert (zd01.target_started, zd01.target_operating) == (date(2026, 3, 31), date(2027, 6, 30))
    assert (zd02.target_started, zd02.target_operating) == (date(2026, 11, 30), date(2027, 12, 31))
    assert zd03.target_operating == date(2026, 12, 31)

    params = result.as_params()
    assert "“计划投资（亿元） / 总投资”→计划投资 / investment（亿元→万元）" in str(
        params["columns"]
    )
    assert "“项目用地（公顷）”→用地面积 / land_mu（公顷→亩）" in str(params["columns"])
    assert "“开工时间”→开工目标 / target_started" in str(params["columns"])
    assert params["ignored"] == "“序号”、“计划投资（亿元） / 本年计划”"
    for lang in ("zh", "en"):
        assert "本年计划" in _t(lang, "ledger.summary", **params)


def _t(lang: str, key: str, **params: Any) -> str:
    from bot.texts import t

    return t(lang, key, **params)


async def test_signing_list_with_units_in_cells_and_a_status_column(
    session: AsyncSession, tmp_path: Path
) -> None:
    await import_ledger(session, read_ledger(EXAMPLE_XLSX), INDUSTRIES)
    rows: Rows = [
        ["2026年招商签约项目一览表"],
        ["序号", "项目编号", "项目名称", "投资方名称", "产业类别", "计划投资[亿元]",
         "项目用地（亩）", "项目状态", "责任单位", "签约时间", "备注"],
        [1, "QY01", "光伏组件项目", "远帆光能科技有限公司", "光伏", "8.6亿元", "120亩",
         "已签约", "青山镇", "2026年1月", None],
        [2, "QY02", "冷链物流园", "卓岭供应链管理有限公司", "现代服务业", "3500万",
         "20000平方米", "已开工", "东城街道", date(2025, 12, 18), None],
        [3, "QY03", "数控机床项目", "晟禾智能装备有限公司", "高端装备", 2, "1.5公顷",
         "洽谈中", "青山镇", None, None],
    ]  # fmt: skip
    path = write_sheet(tmp_path / "签约.xlsx", rows)
    aliases = {"光伏": "新能源", "高端装备": "高端装备制造"}
    result = await import_ledger(session, read_ledger(path), INDUSTRIES, aliases)
    assert result == ImportResult(projects_created=3)
    qy01, qy02, qy03 = [await get_project(session, c) for c in ("QY01", "QY02", "QY03")]
    assert [p.investment for p in (qy01, qy02, qy03)] == [
        Decimal("86000"),
        Decimal("3500"),
        Decimal("20000"),
    ]
    # 20000 m² is 30 亩 exactly (1 亩 = 10000/15 m²); 1.5 公顷 is 22.5 亩.
    assert [p.land_mu for p in (qy01, qy02, qy03)] == [Decimal(120), Decimal(30), Decimal("22.5")]
    assert [p.stage for p in (qy01, qy02, qy03)] == [
        Stage.SIGNED,
        Stage.STARTED,
        Stage.NEGOTIATING,
    ]
    assert [p.industry for p in (qy01, qy02, qy03)] == ["新能源", "现代服务业", "高端装备制造"]
    assert qy01.enterprise == "远帆光能科技有限公司"
    assert (qy01.target_signed, qy02.target_signed) == (date(2026, 1, 31), date(2025, 12, 18))
    assert result.as_params()["ignored"] == "“序号”、“备注”"

    # Without the aliases, 光伏 and 高端装备 are no key industries.
    with pytest.raises(LedgerError) as caught:
        await import_ledger(session, read_ledger(path), INDUSTRIES)
    assert keys(caught.value.errors) == [
        ("Sheet1", 3, "ledger.unknown_industry"),
        ("Sheet1", 5, "ledger.unknown_industry"),
    ]


async def test_new_starts_summary_with_the_unit_above_the_header(
    session: AsyncSession, tmp_path: Path
) -> None:
    await import_ledger(session, read_ledger(EXAMPLE_XLSX), INDUSTRIES)
    rows: Rows = [
        ["2026年一季度新开工项目汇总表"],
        ["填报单位：招商服务中心", None, None, None, None, "单位：亿元、亩"],
        ["项目编号", "项目名称", "建设单位", "产业", "责任单位", "总投资", "用地面积", "状态",
         "计划开工时间"],
        ["XK01", "工业机器人生产基地", "沐川智能装备有限公司", "高端装备制造", "东城街道",
         "2.35", 80, "新开工", "2026.2"],
        ["XK02", "创新药研发中心", "鸿拓生物医药有限公司", "生物医药行业", "东城街道",
         "0.8", None, "续建", "2026/3"],
        ["合计", None, None, None, None, 3.15],
    ]  # fmt: skip
    path = write_csv(tmp_path / "新开工.csv", rows, "gb18030")
    result = await import_ledger(session, read_ledger(path), INDUSTRIES)
    assert result == ImportResult(projects_created=2)
    xk01, xk02 = await get_project(session, "XK01"), await get_project(session, "XK02")
    assert (xk01.investment, xk02.investment) == (Decimal("23500"), Decimal("8000"))
    assert xk01.land_mu == Decimal(80)
    assert (xk01.stage, xk02.stage) == (Stage.STARTED, Stage.STARTED)
    assert (xk01.target_started, xk02.target_started) == (date(2026, 2, 28), date(2026, 3, 31))
    assert xk02.industry == "生物医药"
    assert "“总投资”→计划投资 / investment（亿元→万元）" in str(result.as_params()["columns"])


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("总投资（万美元）", "总投资（万美元）"),
        ("计划投资[港币]", "计划投资[港币]"),
        ("计划投资（含设备）", "计划投资（含设备）"),
    ],
)
async def test_an_unknown_unit_in_a_header_is_refused(
    session: AsyncSession, tmp_path: Path, header: str, column: str
) -> None:
    rows = [
        [header if h == "计划投资(万元)" else h for h in PROJECTS_ZH[0]],
        *PROJECTS_ZH[1:3],
    ]
    path = write_xlsx(tmp_path / "u.xlsx", {"单位": UNITS_ZH, "项目": rows})
    with pytest.raises(LedgerError) as caught:
        await import_ledger(session, read_ledger(path), INDUSTRIES)
    # Once, at the header, and never read as 万元; nothing is written.
    assert keys(caught.value.errors) == [("项目", 1, "ledger.unknown_measure")]
    assert caught.value.errors[0].params["column"] == column
    assert await counts(session) == (0, 0, 0)


def test_unknown_units_of_land_and_above_the_header(tmp_path: Path) -> None:
    land = [
        [h.replace("(亩)", "(平方英尺)") for h in PROJECTS_ZH[0]],
        PROJECTS_ZH[1],
    ]
    path = write_xlsx(tmp_path / "l.xlsx", {"项目": land})
    assert keys(read_ledger(path).errors) == [("项目", 1, "ledger.unknown_measure")]
    above = [["单位：万美元"], ["项目编号", "项目名称", "产业", "总投资", "责任单位"]]
    path = write_xlsx(tmp_path / "a.xlsx", {"项目": [*above, ["A1", "甲", "新能源", 5, "青山镇"]]})
    assert keys(read_ledger(path).errors) == [("项目", 1, "ledger.unknown_measure")]


@pytest.mark.parametrize(
    ("column", "cell", "key"),
    [
        ("计划投资(万元)", "5万美元", "ledger.bad_number"),
        ("计划投资(万元)", "600亩", "ledger.bad_number"),  # land in the money column
        ("用地面积(亩)", "3亿元", "ledger.bad_number"),
        ("签约目标", 2026.1, "ledger.ambiguous_month"),  # 2026.1 or 2026.10?
        ("签约目标", "2026.13", "ledger.bad_date"),
    ],
)
def test_cells_in_units_that_cannot_be_told(
    tmp_path: Path, column: str, cell: object, key: str
) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", {"项目": [PROJECTS_ZH[0], project(**{column: cell})]})
    assert keys(read_ledger(path).errors) == [("项目", 2, key)]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("2026.3", date(2026, 3, 31)),
        ("2026年6月", date(2026, 6, 30)),
        ("2028-02", date(2028, 2, 29)),
        (2026.12, date(2026, 12, 31)),
        ("2026.10", date(2026, 10, 31)),
    ],
)
def test_month_only_dates_mean_the_end_of_the_month(
    tmp_path: Path, cell: object, value: date
) -> None:
    path = write_xlsx(tmp_path / "m.xlsx", {"项目": [PROJECTS_ZH[0], project(投产目标=cell)]})
    assert read_ledger(path).projects[0].target_operating == value


def test_bad_rows_under_a_two_row_header_keep_their_excel_numbers(tmp_path: Path) -> None:
    rows = [list(r) for r in PROGRESS_SHEET]
    rows[4][5] = "八亿"  # row 5
    rows[8][7] = "3公里"  # row 9
    path = write_sheet(tmp_path / "bad.xlsx", rows, PROGRESS_MERGED, "重点项目")
    ledger = read_ledger(path)
    assert keys(ledger.errors) == [
        ("重点项目", 5, "ledger.bad_number"),
        ("重点项目", 9, "ledger.bad_number"),
    ]
    assert ledger.errors[0].params["column"] == "计划投资（亿元） / 总投资"


def test_industry_aliases_in_the_config() -> None:
    from bot.config import ConfigError, parse_config

    config = parse_config({"city": {"industry_aliases": {"光伏": "新能源"}}}, env={})
    assert config.city.industry_aliases == {"光伏": "新能源"}
    with pytest.raises(ConfigError, match="industry_aliases 地产"):
        parse_config({"city": {"industry_aliases": {"地产": "房地产"}}}, env={})


def test_an_unknown_unit_over_two_header_rows_names_its_own_row(tmp_path: Path) -> None:
    rows = [list(r) for r in PROGRESS_SHEET]
    rows[1][5] = "计划投资（万美元）"  # row 2, over 总投资 | 本年计划 in row 3
    rows[2][7] = "用地（平方英尺）"  # row 3, under the merged 项目用地 header
    path = write_sheet(tmp_path / "u.xlsx", rows, [m for m in PROGRESS_MERGED if m != "H2:H3"])
    errors = read_ledger(path).errors
    assert [(e.row, e.key) for e in errors] == [
        (2, "ledger.unknown_measure"),
        (3, "ledger.unknown_measure"),
    ]
    assert [e.params["unit"] for e in errors] == ["万美元", "平方英尺"]


def test_records_named_like_totals_or_sections_are_kept(tmp_path: Path) -> None:
    """A row with its own project code is a project, a row whose kind names a kind is a
    unit, whatever their names; a total or section line has no code of its own (the code
    column empty, or holding the line's own words) and no kind. Before, a project named
    合计 or an enterprise called Total vanished without a word."""
    units = [
        UNITS_ZH[0],
        ["一、乡镇"] * 3,  # a section line merged over the sheet
        ["中心", "中心", None],  # a unit named after its kind, at the top of the chain
        ["合计", "乡镇", "中心"],
        ["合计（2个）", None, None],
    ]
    projects = [
        PROJECTS_ZH[0][1:],
        ["一、新开工项目（3个）"] * 12,  # merged: its words in the code column too
        project(项目编号="T1", 项目名称="合计", 责任单位="合计")[1:],
        project(项目编号="T2", 项目名称="Total（一期）", 企业名称="小计")[1:],
        ["合计", None, None, None, 350000],  # no 序号 column: the total word in the code's
        [None, "小计（2个）", None, None, 200000],
    ]
    path = write_xlsx(tmp_path / "t.xlsx", {"单位": units, "项目": projects})
    ledger = read_ledger(path)
    assert ledger.errors == ()
    assert [(u.row, u.name, u.kind) for u in ledger.units] == [
        (3, "中心", UnitKind.CENTER),
        (4, "合计", UnitKind.TOWNSHIP),
    ]
    assert [(p.row, p.code, p.name, p.enterprise, p.unit) for p in ledger.projects] == [
        (3, "T1", "合计", "澜岳新能源科技有限公司", "合计"),
        (4, "T2", "Total（一期）", "小计", "青山镇"),
    ]
    # The section still gives its stage to rows without one of their own.
    stageless = [[*r[:6], None, *r[7:]] for r in projects]
    ledger = read_ledger(write_xlsx(tmp_path / "s.xlsx", {"项目": stageless}))
    assert {p.stage for p in ledger.projects} == {Stage.STARTED}
