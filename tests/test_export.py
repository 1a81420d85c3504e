"""`wallchart export`: the store written back as the ledger the import reads.

Import → export → import changes nothing, and a second store fed the export holds the same
units and projects and exports the same cells. Checked on the example ledgers, on a store
changed through the bot, and on values that tempt a reader (total words, formulas, kinds as
names, the largest numbers).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import make_engine, set_actor
from storage.ledger import (
    KIND_WORD,
    STAGE_WORD,
    ImportResult,
    LedgerError,
    LedgerExport,
    csv_guard,
    csv_unguard,
    export_ledger,
    import_ledger,
    read_ledger,
    stage_word,
    write_ledger,
)
from storage.models import AuditLog, Milestone, Project, Stage, Unit, UnitKind
from tests.harness import COORD, HEAD, NOW, OFFICER, Harness
from tests.stores import NewStore
from tests.test_ledger import (
    EXAMPLE_CSV,
    EXAMPLE_XLSX,
    INDUSTRIES,
    PROJECTS_ZH,
    UNITS_ZH,
    project,
    write_xlsx,
)

UNIT_HEADERS = ["单位名称", "类型", "上级单位"]
PROJECT_HEADERS = [
    "项目编号",
    "项目名称",
    "企业名称",
    "产业",
    "计划投资（万元）",
    "用地面积（亩）",
    "阶段",
    "责任单位",
    "签约目标",
    "开工目标",
    "投产目标",
]


# --- helpers ----------------------------------------------------------------------------


@asynccontextmanager
async def fresh_store(new_store: NewStore, name: str) -> AsyncIterator[AsyncSession]:
    """An empty migrated store of its own, beside the `session` fixture's."""
    engine = make_engine(await new_store(name))
    try:
        async with AsyncSession(engine, expire_on_commit=False) as s:
            set_actor(s, None)
            yield s
    finally:
        await engine.dispose()


async def export_to(session: AsyncSession, path: Path) -> LedgerExport:
    """Export the store and write it to PATH, as the command does."""
    export = await export_ledger(session)
    await asyncio.to_thread(write_ledger, export, path)
    return export


async def import_file(
    session: AsyncSession, path: Path, industries: tuple[str, ...] = INDUSTRIES
) -> ImportResult:
    ledger = read_ledger(path)
    assert ledger.errors == ()
    return await import_ledger(session, ledger, industries)


def cells(path: Path) -> dict[str, list[list[tuple[Any, str, str]]]]:
    """Every cell of every sheet: value, number format, type."""
    wb = openpyxl.load_workbook(path)
    try:
        return {
            ws.title: [[(c.value, c.number_format, c.data_type) for c in row] for row in ws.rows]
            for ws in wb.worksheets
        }
    finally:
        wb.close()


def values(path: Path, sheet: str) -> list[list[Any]]:
    return [[v for v, _fmt, _type in row] for row in cells(path)[sheet]]


async def ledger_rows(session: AsyncSession) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every field the ledger import writes, of every unit and project, by name and code."""
    units = (await session.scalars(select(Unit))).all()
    names = {u.id: u.name for u in units}
    unit_rows = sorted((u.name, u.kind, names.get(u.parent_id or 0)) for u in units)
    project_rows = sorted(
        (
            p.code,
            p.name,
            p.enterprise,
            p.industry,
            p.investment,
            p.land_mu,
            p.stage,
            names[p.unit_id],
            p.target_signed,
            p.target_started,
            p.target_operating,
        )
        for p in (await session.scalars(select(Project))).all()
    )
    return unit_rows, project_rows


async def kept_state(session: AsyncSession) -> tuple[Any, ...]:
    """What an import must leave alone: milestones, the climbs, the audit log's length."""
    codes = {p.id: p.code for p in (await session.scalars(select(Project))).all()}
    milestones = sorted(
        (
            codes[m.project_id],
            m.seq,
            m.title,
            m.kind,
            m.planned_date,
            m.done_date,
            m.owner_unit_id,
            m.escalation_level,
            m.escalated_at,
        )
        for m in (await session.scalars(select(Milestone))).all()
    )
    climbs = sorted(
        (p.code, p.target_level, p.target_escalated_at)
        for p in (await session.scalars(select(Project))).all()
    )
    audit = await session.scalar(select(func.count()).select_from(AuditLog))
    return milestones, climbs, audit


# --- the example ledgers ----------------------------------------------------------------


async def test_the_example_ledgers_go_round_unchanged(
    session: AsyncSession, new_store: NewStore, tmp_path: Path
) -> None:
    """Examples → store A → export → store B (SQLite or PostgreSQL) → export → store C."""
    async with fresh_store(new_store, "a") as a:
        await import_file(a, EXAMPLE_XLSX)
        await import_file(a, EXAMPLE_CSV)
        await a.commit()
        expected = await ledger_rows(a)
        first = await export_to(a, tmp_path / "a.xlsx")
        await export_to(a, tmp_path / "a.csv")
    assert (len(first.units.rows), len(first.projects.rows)) == (6, 14)

    result = await import_file(session, tmp_path / "a.xlsx")
    assert result == ImportResult(units_created=6, projects_created=14)
    assert await ledger_rows(session) == expected
    await export_to(session, tmp_path / "b.xlsx")
    await export_to(session, tmp_path / "b.csv")
    assert cells(tmp_path / "b.xlsx") == cells(tmp_path / "a.xlsx")
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()

    # The export imported again where it came from: nothing changes, not even the audit.
    before = await kept_state(session)
    again = await import_file(session, tmp_path / "b.xlsx")
    assert again == ImportResult(units_unchanged=6, projects_unchanged=14)
    assert await import_file(session, tmp_path / "b.csv") == ImportResult(projects_unchanged=14)
    assert await kept_state(session) == before

    # The CSV, which holds no units, into a store that has them.
    async with fresh_store(new_store, "c") as c:
        await import_file(c, EXAMPLE_XLSX)
        result = await import_file(c, tmp_path / "a.csv")
        assert result == ImportResult(projects_created=4, projects_unchanged=10)
        assert await ledger_rows(c) == expected
        await export_to(c, tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


async def test_the_export_is_the_ledger_as_an_office_reads_it(
    session: AsyncSession, tmp_path: Path
) -> None:
    await import_file(session, EXAMPLE_XLSX)
    await import_file(session, EXAMPLE_CSV)
    await export_to(session, tmp_path / "out.xlsx")
    sheets = cells(tmp_path / "out.xlsx")
    assert list(sheets) == ["单位", "项目"]

    # Units as the escalation chain runs, each under its parent.
    assert values(tmp_path / "out.xlsx", "单位") == [
        UNIT_HEADERS,
        ["市领导", "领导", None],
        ["招商服务中心", "中心", "市领导"],
        ["青山镇", "乡镇", "招商服务中心"],
        ["东城街道", "街道", "招商服务中心"],
        ["自然资源局", "部门", "招商服务中心"],
        ["行政审批局", "部门", "招商服务中心"],
    ]
    rows = values(tmp_path / "out.xlsx", "项目")
    assert rows[0] == PROJECT_HEADERS
    # By unit in that order, then by code.
    assert [r[0] for r in rows[1:]] == [
        *(f"QS0{n}" for n in range(1, 8)),
        *(f"DC0{n}" for n in range(1, 8)),
    ]
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code["QS01"] == [
        "QS01",
        "年产10GWh储能电池项目",
        "澜岳新能源科技有限公司",
        "新能源",
        350000,
        600,
        "签约",
        "青山镇",
        datetime(2026, 3, 15),
        datetime(2026, 9, 30),
        datetime(2027, 12, 31),
    ]
    assert by_code["QS04"][4:7] == [45000.5, 90, "投产"]  # "120,000" and 45000.5 as numbers
    assert by_code["QS02"][4] == 120000 and by_code["QS02"][9] == datetime(2026, 3, 1)
    # Empty where the store holds nothing: no land, no target.
    assert by_code["DC02"][5] is None and by_code["DC02"][9:] == [None, None]
    assert by_code["DC07"][0] == "DC07"  # stored in capitals (dc07 in the CSV)
    assert {r[6] for r in rows[1:]} == set(STAGE_WORD.values())

    # Numbers are numbers, dates are dates shown as dates, text is text.
    qs01 = sheets["项目"][1]
    assert [t for _v, _f, t in qs01] == ["s", "s", "s", "s", "n", "n", "s", "s", "d", "d", "d"]
    assert {f for _v, f, t in qs01 if t == "d"} == {"yyyy-mm-dd"}

    # The import reads every column as the field it came from, in the stored units.
    ledger = read_ledger(tmp_path / "out.xlsx")
    assert {c.field for c in ledger.columns} == {
        "name", "kind", "parent", "code", "enterprise", "industry", "investment", "land_mu",
        "stage", "unit", "target_signed", "target_started", "target_operating",
    }  # fmt: skip
    assert all(c.field is not None and c.unit is None for c in ledger.columns)

    await export_to(session, tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ",".join(PROJECT_HEADERS)
    assert lines[1] == (
        "QS01,年产10GWh储能电池项目,澜岳新能源科技有限公司,新能源,350000,600,签约,青山镇,"
        "2026-03-15,2026-09-30,2027-12-31"
    )
    assert "QS04,分布式光伏组件生产基地,远帆光能科技有限公司,新能源,45000.5,90,投产" in lines[4]
    assert (
        lines[9]
        == "DC02,医疗器械产业园,博越医疗科技有限公司,生物医药,60000,,洽谈,东城街道,2026-09-30,,"
    )
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel's BOM


def test_every_stage_and_kind_is_written_as_a_word_the_import_reads(tmp_path: Path) -> None:
    assert set(STAGE_WORD) == set(Stage) and set(KIND_WORD) == set(UnitKind)
    assert all(stage_word(word) is stage for stage, word in STAGE_WORD.items())
    rows = [UNIT_HEADERS, *([f"单位{n}", word, None] for n, word in enumerate(KIND_WORD.values()))]
    read = read_ledger(write_xlsx(tmp_path / "kinds.xlsx", {"单位": rows}))
    assert [u.kind for u in read.units] == list(KIND_WORD)


# --- a store the bot has changed ----------------------------------------------------------

LONG_NAME = ('<b>园区</b> & "标准厂房" <a href="x">' * 20)[:200]


async def test_a_store_changed_through_the_bot_goes_round(
    h: Harness, session: AsyncSession, new_store: NewStore, tmp_path: Path
) -> None:
    # A project brought in by a ledger sent to the bot: a long name full of HTML, no
    # enterprise, nothing invested yet, no land area.
    row = project(
        项目编号="CD09",
        项目名称=LONG_NAME,
        企业名称=None,
        产业="新材料",
        **{"计划投资(万元)": 0, "用地面积(亩)": None},
        阶段="洽谈",
        责任单位="城东街道",
        投产目标=None,
    )
    new = write_xlsx(tmp_path / "new.xlsx", {"项目": [PROJECTS_ZH[0], row]})
    reply = (await h.upload(COORD, new.read_bytes(), "新项目.xlsx"))[0]
    assert "台账导入完成" in reply and "新增 1 个" in reply
    # Moved on and planned in chat.
    assert "开工" in (await h.send(HEAD, "/stage XNY01 开工"))[0]
    assert "2026-12-20" in (await h.send(HEAD, "/due XNY01 2 2026-12-20"))[0]
    await h.send(OFFICER, "/done XNY01 1")
    # A milestone nobody has planned yet, and climbs under way, which an import must keep.
    async with h.sessions() as s:
        set_actor(s, None)
        xny = await s.scalar(select(Project).where(Project.code == "XNY01"))
        assert xny is not None
        s.add(Milestone(project_id=xny.id, seq=4, title="环评批复", kind="eia"))
        xny.target_level, xny.target_escalated_at = 2, NOW
        ms = await s.scalar(select(Milestone).where(Milestone.seq == 3))
        assert ms is not None
        ms.escalation_level, ms.escalated_at = 1, datetime(2026, 12, 1, tzinfo=UTC)
        await s.commit()

    async with h.sessions() as s:
        export = await export_to(s, tmp_path / "bot.xlsx")
        expected = await ledger_rows(s)
        before = await kept_state(s)
    rows = {r[0]: r for r in export.projects.rows}
    assert rows["XNY01"][1] == "光伏组件<智造>基地" and rows["XNY01"][6] == "开工"
    assert rows["CD09"][1:6] == (LONG_NAME, None, "新材料", Decimal(0), None)
    assert rows["SW02"][2] is None and rows["SW02"][5] is None  # no enterprise, no land
    sheet = {r[0]: r for r in values(tmp_path / "bot.xlsx", "项目")}
    assert sheet["CD09"][1] == LONG_NAME and sheet["CD09"][4:6] == [0, None]
    assert before[0][3] == ("XNY01", 4, "环评批复", "eia", None, None, None, 0, None)

    # Back into the bot's own store: nothing changes, the climbs and milestones included.
    async with h.sessions() as s:
        set_actor(s, None)
        result = await import_file(s, tmp_path / "bot.xlsx", h.config.city.industries)
        assert result == ImportResult(units_unchanged=5, projects_unchanged=3)
        await s.commit()
    async with h.sessions() as s:
        assert await kept_state(s) == before
        assert await ledger_rows(s) == expected

    # Into another store: the same units and projects, and the same export.
    result = await import_file(session, tmp_path / "bot.xlsx", h.config.city.industries)
    assert result == ImportResult(units_created=5, projects_created=3)
    assert await ledger_rows(session) == expected
    await export_to(session, tmp_path / "again.xlsx")
    assert cells(tmp_path / "again.xlsx") == cells(tmp_path / "bot.xlsx")
    async with fresh_store(new_store, "c") as c:
        await import_file(c, tmp_path / "again.xlsx", h.config.city.industries)
        assert await ledger_rows(c) == expected


# --- values that tempt a reader -----------------------------------------------------------


async def test_every_kind_stage_and_awkward_value_comes_back(
    session: AsyncSession, new_store: NewStore, tmp_path: Path
) -> None:
    """Names that look like total lines, section lines, formulas or numbers; the largest and
    smallest numbers and dates the import takes; every kind and every stage."""
    units = {
        kind: Unit(name=name, kind=kind)
        for kind, name in [
            (UnitKind.LEADERSHIP, "领导"),  # a name that is its kind's word, and no parent
            (UnitKind.CENTER, "中心"),
            (UnitKind.DEPARTMENT, "合计"),
            (UnitKind.TOWNSHIP, "一、乡镇"),
            (UnitKind.SUBDISTRICT, "街" * 100),
        ]
    }
    session.add_all(units.values())
    await session.flush()
    units[UnitKind.CENTER].parent_id = units[UnitKind.LEADERSHIP].id
    for kind in (UnitKind.DEPARTMENT, UnitKind.TOWNSHIP, UnitKind.SUBDISTRICT):
        units[kind].parent_id = units[UnitKind.CENTER].id
    awkward = [
        ("合计", "合计（一期）"),
        ("Total", "total"),
        ("小计（3个）", "共计：2家"),
        ("=SUM(A1:A9)", "=1+1"),
        ("一、新开工项目", "一、新开工项目"),
        ("2026", "12000"),
        ("一期\n二期", "<b>&amp;</b>"),
        ("名" * 200, "企" * 200),
    ]
    stages = list(Stage)
    for n, (name, enterprise) in enumerate(awkward):
        session.add(
            Project(
                code=f"Q{10 - n}",  # Q10 … Q3: numbers in codes sort as numbers
                name=name,
                enterprise=enterprise,
                industry=INDUSTRIES[n % len(INDUSTRIES)],
                investment=[Decimal("999999999999.99"), Decimal("0.01"), Decimal(0)][n % 3],
                land_mu=[Decimal("9999999999.99"), None, Decimal("0.01")][n % 3],
                stage=stages[n % len(stages)],
                unit_id=list(units.values())[n % len(units)].id,
                target_signed=[date(2000, 1, 1), None, date(2100, 12, 31)][n % 3],
                target_operating=date(2027, 2, 28),
            )
        )
    session.add(
        Project(
            code="2026001",
            name="甲",
            industry="新能源",
            investment=1,
            unit_id=units[UnitKind.CENTER].id,
        )
    )
    await session.flush()
    expected = await ledger_rows(session)
    export = await export_to(session, tmp_path / "odd.xlsx")
    await export_to(session, tmp_path / "odd.csv")
    assert [r[0] for r in export.units.rows] == ["领导", "中心", "一、乡镇", "街" * 100, "合计"]
    centre = [r[0] for r in export.projects.rows if r[7] == "中心"]
    assert centre == ["2026001", "Q4", "Q9"]
    assert sorted({r[6] for r in export.projects.rows}) == sorted(STAGE_WORD.values())

    for ledger in (tmp_path / "odd.xlsx", tmp_path / "odd.csv"):
        read = read_ledger(ledger)
        assert read.errors == ()
        assert len(read.projects) == len(awkward) + 1
    assert len(read_ledger(tmp_path / "odd.xlsx").units) == 5

    # Back where it came from, and into another store.
    assert await import_file(session, tmp_path / "odd.xlsx") == ImportResult(
        units_unchanged=5, projects_unchanged=9
    )
    async with fresh_store(new_store, "b") as b:
        result = await import_file(b, tmp_path / "odd.xlsx")
        assert result == ImportResult(units_created=5, projects_created=9)
        assert await ledger_rows(b) == expected
        await export_to(b, tmp_path / "b.xlsx")
    assert cells(tmp_path / "b.xlsx") == cells(tmp_path / "odd.xlsx")
    names = {p.code: p.name for p in read_ledger(tmp_path / "b.xlsx").projects}
    assert names["Q7"] == "=SUM(A1:A9)" and names["Q10"] == "合计"


async def test_control_characters_from_a_csv_do_not_stop_the_export(
    session: AsyncSession, tmp_path: Path
) -> None:
    """A CSV may carry characters a workbook cannot hold; the import drops them, so the
    project can be exported and read back as it is."""
    await import_file(session, EXAMPLE_XLSX)
    path = tmp_path / "ctl.csv"
    path.write_text(
        "code,name,enterprise,industry,investment,unit\n"
        "QS01,储能\x01电池\x1f项目,澜岳\x0b新能源,新能源,350000,青山镇\n",
        encoding="utf-8",
    )
    assert await import_file(session, path) == ImportResult(projects_updated=1)
    qs01 = await session.scalar(select(Project).where(Project.code == "QS01"))
    assert qs01 is not None and (qs01.name, qs01.enterprise) == ("储能电池项目", "澜岳新能源")
    await export_to(session, tmp_path / "out.xlsx")
    assert await import_file(session, tmp_path / "out.xlsx") == ImportResult(
        units_unchanged=6, projects_unchanged=10
    )


# --- empty and partial stores -------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_an_empty_store_exports_a_blank_ledger(
    session: AsyncSession, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"blank{suffix}"
    export = await export_to(session, path)
    assert (export.units.rows, export.projects.rows) == ((), ())
    if suffix == ".xlsx":
        assert values(path, "单位") == [UNIT_HEADERS] and values(path, "项目") == [PROJECT_HEADERS]
    else:
        assert path.read_bytes() == ("\ufeff" + ",".join(PROJECT_HEADERS) + "\r\n").encode()
    # Every header is one the import knows: the only thing it says is that there are no rows.
    ledger = read_ledger(path)
    assert [(e.key, e.row) for e in ledger.errors] == [("ledger.empty", None)]
    with pytest.raises(LedgerError):
        await import_ledger(session, ledger, INDUSTRIES)


async def test_units_without_projects(session: AsyncSession, tmp_path: Path) -> None:
    await import_file(session, write_xlsx(tmp_path / "in.xlsx", {"单位": UNITS_ZH}))
    await export_to(session, tmp_path / "units.xlsx")
    assert values(tmp_path / "units.xlsx", "项目") == [PROJECT_HEADERS]
    assert await import_file(session, tmp_path / "units.xlsx") == ImportResult(units_unchanged=6)


# --- writing ------------------------------------------------------------------------------


async def test_what_cannot_be_written(session: AsyncSession, tmp_path: Path) -> None:
    export = await export_ledger(session)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"\.xlsx or \.csv"):
        write_ledger(export, folder / "ledger.xls")
    (folder / "taken.xlsx").mkdir()
    with pytest.raises(OSError):
        write_ledger(export, folder / "taken.xlsx")
    assert [p.name for p in folder.iterdir()] == ["taken.xlsx"]  # no part file left
    # An existing ledger is replaced whole.
    (folder / "old.csv").write_text("序号,备注\n1,旧\n")
    write_ledger(export, folder / "old.csv")
    assert (folder / "old.csv").read_text(encoding="utf-8-sig").startswith("项目编号,")


# --- a CSV that Excel opens ---------------------------------------------------------------

# Texts a spreadsheet would run as a formula from a CSV (= + - @, a tab or a carriage
# return first), texts that already start with apostrophes, and plain ones.
FORMULA_LIKE = [
    '=HYPERLINK("http://x.example","点击")',
    "+86 产业园",
    "-1号地块",
    "@SUM(A1:A9)",
    "'=已加引号",
    "''+两个引号",
    "'普通引号",
    "-",
    "正常名称",
]


def test_the_csv_guard_comes_off_as_it_went_on() -> None:
    assert csv_guard("=1+1") == "'=1+1" and csv_unguard("'=1+1") == "=1+1"
    for text in [*FORMULA_LIKE, "\t=1+1", "\r@x", "'\t=1", "", "2026", "a=b"]:
        guarded = csv_guard(text)
        assert csv_unguard(guarded) == text, text
        # What a spreadsheet reads first is never the start of a formula.
        assert guarded[:1] not in ("=", "+", "-", "@", "\t", "\r"), text
    # Only what the guard puts there is taken off: a plain apostrophe stays.
    assert csv_unguard("'普通引号") == "'普通引号" and csv_unguard("'2026") == "'2026"


async def test_formulas_are_text_in_the_csv_and_come_back_unchanged(
    session: AsyncSession, new_store: NewStore, tmp_path: Path
) -> None:
    """Import → export → import: names that start like formulas are guarded in the CSV,
    read back as they were, and the second export is the first byte for byte."""
    lead = Unit(name="领导", kind=UnitKind.LEADERSHIP)
    session.add(lead)
    await session.flush()
    town = Unit(name="=城东", kind=UnitKind.SUBDISTRICT, parent_id=lead.id)
    session.add(town)
    await session.flush()
    for n, text in enumerate(FORMULA_LIKE):
        session.add(
            Project(
                code=f"F{n + 1}",
                name=text,
                enterprise=FORMULA_LIKE[-1 - n],
                industry="新能源",
                investment=Decimal(1000 + n),
                unit_id=town.id,
            )
        )
    await session.flush()
    expected = await ledger_rows(session)
    export = await export_to(session, tmp_path / "a.csv")
    await export_to(session, tmp_path / "a.xlsx")

    raw = (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(raw, newline="")) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert '\'=HYPERLINK(""http://x.example"",""点击"")' in raw
    lines = raw.splitlines()
    # (quoted for its commas: Excel takes the quotes off and sees the apostrophe first)
    assert lines[1].startswith("F1,\"'=HYPERLINK(") and lines[1].endswith(",'=城东,,,")
    assert lines[5].startswith("F5,''=已加引号,")
    assert lines[7].startswith("F7,'普通引号,") and lines[8].startswith("F8,'-,")
    assert len(export.projects.rows) == len(FORMULA_LIKE)

    # The CSV read back is the store's text, not the guarded one.
    ledger = read_ledger(tmp_path / "a.csv")
    assert ledger.errors == ()
    assert [p.name for p in ledger.projects] == FORMULA_LIKE
    assert {p.unit for p in ledger.projects} == {"=城东"}

    # Into a store that has the units: the projects come back whole, and export the same.
    async with fresh_store(new_store, "b") as b:
        await import_file(b, tmp_path / "a.xlsx")
        assert await import_file(b, tmp_path / "a.csv") == ImportResult(
            projects_unchanged=len(FORMULA_LIKE)
        )
        assert await ledger_rows(b) == expected
        await export_to(b, tmp_path / "b.csv")
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()
    # And the store it came from finds nothing changed.
    assert await import_file(session, tmp_path / "b.csv") == ImportResult(
        projects_unchanged=len(FORMULA_LIKE)
    )


async def test_amounts_in_the_exported_workbook_have_thousands_separators(
    session: AsyncSession, tmp_path: Path
) -> None:
    await import_file(session, EXAMPLE_XLSX)
    await import_file(session, EXAMPLE_CSV)
    await export_to(session, tmp_path / "out.xlsx")
    rows = {r[0][0]: r for r in cells(tmp_path / "out.xlsx")["项目"][1:]}
    assert rows["QS01"][4] == (350000, "#,##0", "n") and rows["QS01"][5] == (600, "#,##0", "n")
    assert rows["QS04"][4] == (45000.5, "#,##0.00", "n")
    assert rows["DC02"][5] == (None, "General", "n")
