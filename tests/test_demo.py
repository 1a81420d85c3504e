"""The demo city: what it builds, that it is the same every time, and that it builds only once."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.demo import (
    DEFAULT_INDUSTRIES,
    DEFAULT_INDUSTRIES_EN,
    FIRST_TG_ID,
    build_demo,
    contents,
)
from storage.errors import Refused
from storage.models import (
    AuditLog,
    Instruction,
    Member,
    Milestone,
    Problem,
    ProblemCategory,
    ProblemReply,
    ProblemStatus,
    ProgressReport,
    Project,
    ProjectLead,
    Role,
    Stage,
    Unit,
    UnitKind,
)
from storage.people import ensure_admin
from storage.problems import OPEN_STATES
from storage.rules import Light, milestone_light

TODAY = date(2026, 3, 2)
TERRITORIAL = (UnitKind.TOWNSHIP, UnitKind.SUBDISTRICT)


async def all_of(session: AsyncSession, model: Any) -> list[Any]:
    return list((await session.scalars(select(model))).all())


async def lights(session: AsyncSession, today: date) -> Counter[Light]:
    milestones = await all_of(session, Milestone)
    return Counter(milestone_light(m.planned_date, m.done_date, today) for m in milestones)


@pytest.mark.parametrize("today", [TODAY, date(2027, 12, 31)])
async def test_demo_builds_the_advertised_city(session: AsyncSession, today: date) -> None:
    city = await build_demo(session, today)

    units = await all_of(session, Unit)
    projects = await all_of(session, Project)
    members = await all_of(session, Member)
    problems = await all_of(session, Problem)
    assert len(units) == city.units == 12
    assert len(projects) == city.projects >= 30
    assert len(members) == city.members
    assert len(problems) == city.problems
    assert {p.stage for p in projects} == set(Stage)
    assert {p.industry for p in projects} == set(DEFAULT_INDUSTRIES)
    assert len({p.code for p in projects}) == len(projects)

    counted = await lights(session, today)
    assert counted[Light.RED] == city.overdue_milestones > 0
    assert counted[Light.YELLOW] == city.due_soon_milestones > 0
    assert counted[Light.DONE] > 0
    assert city.milestones == sum(counted.values())
    assert {m.kind for m in await all_of(session, Milestone)} == {
        "site",
        "land",
        "eia",
        "permits",
        "utilities",
        "groundbreaking",
    }

    statuses = {p.status for p in problems}
    assert len(statuses) >= 3
    assert ProblemStatus.OPEN in statuses
    assert await session.scalar(select(func.count()).select_from(ProblemReply))
    assert len(await all_of(session, ProgressReport)) == city.progress_reports > 0
    assert len(await all_of(session, Instruction)) == city.instructions >= 1


async def test_every_unit_is_staffed(session: AsyncSession) -> None:
    await build_demo(session, TODAY)
    units = {u.id: u for u in await all_of(session, Unit)}
    roles: dict[str, set[Role]] = {u.name: set() for u in units.values()}
    for m in await all_of(session, Member):
        roles[units[m.unit_id].name].add(m.role)
        assert m.name and FIRST_TG_ID <= m.tg_user_id < FIRST_TG_ID + 1000
    for unit in units.values():
        if unit.kind in TERRITORIAL:
            assert {Role.OFFICER, Role.HEAD} <= roles[unit.name], unit.name
    assert {Role.COORDINATOR, Role.ADMIN} <= roles["招商服务中心"]
    assert Role.LEADER in roles["市领导"]
    for name in ("自然资源局", "行政审批局", "住建局", "财政局"):
        assert units[next(i for i, u in units.items() if u.name == name)].kind is (
            UnitKind.DEPARTMENT
        )

    # Lead officers (专人专班) belong to the project's own unit.
    members = {m.id: m for m in await all_of(session, Member)}
    projects = {p.id: p for p in await all_of(session, Project)}
    leads = await all_of(session, ProjectLead)
    assert {lead.project_id for lead in leads} == set(projects)
    for lead in leads:
        assert members[lead.member_id].unit_id == projects[lead.project_id].unit_id


async def test_escalation_chain_reaches_the_leadership(session: AsyncSession) -> None:
    await build_demo(session, TODAY)
    units = {u.id: u for u in await all_of(session, Unit)}
    for unit in units.values():
        if unit.kind in TERRITORIAL or unit.kind is UnitKind.DEPARTMENT:
            chain = [unit]
            while chain[-1].parent_id is not None:
                chain.append(units[chain[-1].parent_id])
            assert [u.kind for u in chain[1:]] == [UnitKind.CENTER, UnitKind.LEADERSHIP]
            assert [u.name for u in chain[1:]] == ["招商服务中心", "市领导"]


async def test_the_handles_to_try(session: AsyncSession) -> None:
    city = await build_demo(session, TODAY)
    officer = await session.scalar(
        select(Member).where(Member.tg_user_id == city.officer.tg_user_id)
    )
    assert officer is not None and officer.role is Role.OFFICER
    assert officer.name == city.officer.name and officer.unit.name == city.officer.unit
    assert officer.unit.kind in TERRITORIAL
    assert city.head.unit == city.officer.unit and city.head.role is Role.HEAD
    assert city.coordinator.role is Role.COORDINATOR
    assert city.leader.role is Role.LEADER and city.admin.role is Role.ADMIN

    project = await session.scalar(select(Project).where(Project.code == city.project_code))
    assert project is not None and project.unit_id == officer.unit_id
    milestones = await session.scalars(select(Milestone).where(Milestone.project_id == project.id))
    assert any(milestone_light(m.planned_date, m.done_date, TODAY) is Light.RED for m in milestones)

    problem = await session.get(Problem, city.open_problem_id)
    assert problem is not None and problem.project_id == project.id
    assert problem.status in OPEN_STATES and problem.raiser_id == officer.id
    instruction = await session.scalar(
        select(Instruction).where(Instruction.problem_id == problem.id)
    )
    assert instruction is not None and instruction.unit_id == problem.unit_id


async def test_second_build_refuses(session: AsyncSession) -> None:
    await build_demo(session, TODAY)
    with pytest.raises(Refused) as caught:
        await build_demo(session, TODAY)
    assert caught.value.key == "err.demo_not_empty"
    assert await session.scalar(select(func.count()).select_from(Unit)) == 12


async def test_the_audit_log_records_the_demo(session: AsyncSession) -> None:
    city = await build_demo(session, TODAY)
    rows = await all_of(session, AuditLog)
    entities = Counter(r.entity for r in rows if r.action == "create")
    assert entities["units"] == 12
    assert entities["projects"] == city.projects
    assert entities["milestones"] == city.milestones
    assert entities["problems"] == city.problems
    assert {"members", "progress_reports", "problem_replies", "instructions"} <= set(entities)


async def snapshot(session: AsyncSession) -> list[tuple[Any, ...]]:
    units = {u.id: u.name for u in await all_of(session, Unit)}
    rows: list[tuple[Any, ...]] = []
    for p in sorted(await all_of(session, Project), key=lambda p: p.code):
        rows.append(
            (p.code, p.name, p.enterprise, p.industry, p.investment, p.land_mu, p.stage,
             units[p.unit_id], p.target_signed, p.target_started, p.target_operating)
        )  # fmt: skip
    for m in sorted(await all_of(session, Milestone), key=lambda m: (m.project_id, m.seq)):
        rows.append((m.seq, m.kind, m.planned_date, m.done_date, units[m.owner_unit_id]))
    for pr in sorted(await all_of(session, Problem), key=lambda p: p.id):
        rows.append((pr.text, pr.status, units[pr.unit_id], pr.reply_deadline))
    return rows


async def test_the_demo_is_the_same_every_time(session: AsyncSession) -> None:
    first = await session.begin_nested()
    await build_demo(session, TODAY)
    before = await snapshot(session)
    await first.rollback()
    assert await session.scalar(select(func.count()).select_from(Project)) == 0

    await build_demo(session, TODAY)
    assert await snapshot(session) == before


async def test_other_industries(session: AsyncSession) -> None:
    industries = ("集成电路", "新能源", "文化旅游")
    city = await build_demo(session, TODAY, industries)
    projects = await all_of(session, Project)
    assert {p.industry for p in projects} == set(industries)
    assert city.projects == len(projects) >= 30
    assert all(p.name for p in projects)


async def test_an_empty_store_with_the_admin_unit_is_fine(session: AsyncSession) -> None:
    """First start-up registers the configured admin in the center before any demo."""
    await ensure_admin(session, 12345, "招商服务中心")
    city = await build_demo(session, TODAY)
    assert city.units == 12
    center = await session.scalar(select(Unit).where(Unit.name == "招商服务中心"))
    assert center is not None and center.parent_id is not None
    assert await session.scalar(select(func.count()).select_from(Unit)) == 12


# --- the city in English ------------------------------------------------------------------

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


async def shape(session: AsyncSession) -> list[tuple[Any, ...]]:
    """What the city is, leaving out what it is called: the same in both languages."""
    rows: list[tuple[Any, ...]] = []
    for p in sorted(await all_of(session, Project), key=lambda p: p.code):
        rows.append((p.code, p.investment, p.land_mu, p.stage, p.target_signed, p.target_started))
    for m in sorted(await all_of(session, Milestone), key=lambda m: (m.project_id, m.seq)):
        rows.append((m.seq, m.kind, m.planned_date, m.done_date))
    for pr in sorted(await all_of(session, Problem), key=lambda p: p.id):
        rows.append((pr.status, pr.category, pr.reply_deadline, pr.escalation_level))
    return rows


async def test_the_english_city_is_the_same_city_in_english(session: AsyncSession) -> None:
    first = await session.begin_nested()
    zh = await build_demo(session, TODAY)
    zh_shape = await shape(session)
    await first.rollback()

    en = await build_demo(session, TODAY, DEFAULT_INDUSTRIES_EN, lang="en")
    assert await shape(session) == zh_shape
    assert (en.units, en.members, en.projects, en.milestones, en.problems) == (
        zh.units,
        zh.members,
        zh.projects,
        zh.milestones,
        zh.problems,
    )
    assert en.project_code == zh.project_code  # (ids differ: PostgreSQL keeps its sequences)

    texts: list[str] = [u.name for u in await all_of(session, Unit)]
    texts += [m.name for m in await all_of(session, Member)]
    for p in await all_of(session, Project):
        texts += [p.name, p.enterprise or "", p.industry]
    texts += [m.title for m in await all_of(session, Milestone)]
    texts += [p.text for p in await all_of(session, Problem)]
    texts += [r.text for r in await all_of(session, ProblemReply)]
    texts += [r.text for r in await all_of(session, ProgressReport)]
    texts += [i.text for i in await all_of(session, Instruction)]
    assert [text for text in texts if CJK.search(text)] == []

    # Most read English; the two who read the other language read Chinese here.
    langs = Counter(m.lang for m in await all_of(session, Member))
    assert langs == Counter({"en": en.members - 2, "zh": 2})
    officer = await session.scalar(select(Member).where(Member.tg_user_id == en.officer.tg_user_id))
    assert officer is not None and officer.lang == "en"
    # What a config must say to run the bot on it.
    assert en.service_center == "Investment Service Center"
    assert set(en.routing) == {c.value for c in ProblemCategory}
    assert set(en.routing.values()) <= {u.name for u in await all_of(session, Unit)}


async def test_the_chinese_city_fits_the_default_config(session: AsyncSession) -> None:
    from bot.config import Config

    city = await build_demo(session, TODAY)
    config = Config()
    assert city.service_center == config.city.service_center
    assert dict(city.routing) == config.routing
    assert city.industries == config.city.industries


async def test_contents_tell_an_empty_store(session: AsyncSession) -> None:
    empty = await contents(session)
    assert empty.empty and (empty.units, empty.projects, empty.members) == (0, 0, 0)
    await ensure_admin(session, 12345, "招商服务中心")
    assert not (await contents(session)).empty
    city = await build_demo(session, TODAY)
    held = await contents(session)
    assert (held.units, held.projects, held.members) == (12, city.projects, city.members + 1)


def _written(folder: Path) -> tuple[list[Path], list[bytes]]:
    """The files in FOLDER, by name, and their contents."""
    files = sorted(folder.iterdir())
    return files, [f.read_bytes() for f in files]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_demo_writes_its_wall_chart_and_briefing(
    session: AsyncSession, tmp_path_factory: pytest.TempPathFactory, lang: str
) -> None:
    from bot.config import Config
    from bot.demo import write_files

    folder = tmp_path_factory.mktemp("demo-files")
    city = await build_demo(session, TODAY, lang=lang)
    written = await write_files(session, Config(), lang, TODAY, folder)
    files, contents = _written(folder)
    assert files == sorted(written)
    *charts, book = written
    prefix = "挂图" if lang == "zh" else "wallchart"
    assert charts and all(p.name.startswith(f"{prefix}_2026-03-02") for p in charts)
    pictures = [data for f, data in zip(files, contents, strict=True) if f.suffix == ".png"]
    assert len(pictures) == len(charts)
    assert all(data[:8] == b"\x89PNG\r\n\x1a\n" for data in pictures)
    zh = lang == "zh"
    assert book.name == ("招商例会简报_2026-03-02.xlsx" if zh else "briefing_2026-03-02.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(contents[files.index(book)]))
    title = wb.worksheets[0]["A1"].value
    assert title.startswith("示范市招商例会简报" if zh else "Demo City promotion")
    # Every project of the city but the dropped ones has its row, with the card's light.
    progress = wb.worksheets[1]
    codes = [r[1] for r in progress.iter_rows(min_row=3, values_only=True)]
    dropped = await session.scalar(
        select(func.count()).select_from(Project).where(Project.stage == Stage.DROPPED)
    )
    assert len(codes) == city.projects - int(dropped or 0)
    lights = {r[6] for r in progress.iter_rows(min_row=3, values_only=True)}
    assert ("红" if zh else "Red") in lights
