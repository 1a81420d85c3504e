"""The demo city: what it builds, that it is the same every time, and that it builds only once."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
    StageMove,
    Unit,
    UnitKind,
)
from storage.people import ensure_admin
from storage.problems import OPEN_STATES
from storage.ranking import Figure, Ranking, Weights, ranking
from storage.rules import STAGE_ORDER, Light, milestone_light
from storage.wallchart import funnel
from storage.workdays import WorkCalendar

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
    return rows + await past(session)


async def past(session: AsyncSession) -> list[tuple[Any, ...]]:
    """The city's past, leaving out what it is called: the same every time, in both languages."""
    codes = {p.id: p.code for p in await all_of(session, Project)}
    rows: list[tuple[Any, ...]] = []
    for m in sorted(await all_of(session, StageMove), key=lambda m: (codes[m.project_id], m.at)):
        rows.append((codes[m.project_id], m.from_stage, m.to_stage, m.at))
    for r in sorted(await all_of(session, ProgressReport), key=lambda r: r.id):
        rows.append((codes[r.project_id], r.report_date, r.kind, r.amount, r.created_at))
    for pr in sorted(await all_of(session, Problem), key=lambda p: p.id):
        rows.append((codes[pr.project_id], pr.created_at, pr.answered_at, pr.resolved_at))
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
    return rows + await past(session)


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

    # The summary has the week's stage moves and a ranking with last month's places.
    summary = [r for r in wb.worksheets[0].iter_rows(values_only=True)]

    def section(title: str) -> list[tuple[Any, ...]]:
        at = next(i for i, r in enumerate(summary) if str(r[0]).startswith(title))
        rows = []
        for r in summary[at + 2 :]:
            if r[1] is None:
                break
            rows.append(r)
        return rows

    moved = section("本期阶段变化" if zh else "Stage moves in the period")
    new_stages = {r[4] for r in moved}
    assert ({"签约", "开工", "投产"} if zh else {"signed", "started", "operating"}) <= new_stages
    # Two groups (乡镇街道, 市直部门), each under its heading: the rows that start with a rank.
    at = next(
        i
        for i, r in enumerate(summary)
        if str(r[0]).startswith("单位排名" if zh else "Units ranked")
    )
    ranked = []
    for r in summary[at + 1 :]:
        if isinstance(r[0], str) and r[0].startswith(("名次变化", "Changes against")):
            break
        if isinstance(r[0], int):
            ranked.append(r)
    assert len(ranked) == 10 and all(r[3] for r in ranked)


# --- the city's past ----------------------------------------------------------------------

CITY_TZ = ZoneInfo("Asia/Shanghai")
# A Monday early in a month (the tests' day), a Saturday that is the 1st, a day late in a
# month, the last day of a year.
PAST_DAYS = [TODAY, date(2026, 8, 1), date(2026, 11, 27), date(2027, 12, 31)]


def local(at: datetime) -> date:
    return at.astimezone(CITY_TZ).date()


async def moves_of(session: AsyncSession) -> dict[int, list[StageMove]]:
    found: dict[int, list[StageMove]] = {}
    for move in await session.scalars(select(StageMove).order_by(StageMove.at, StageMove.id)):
        found.setdefault(move.project_id, []).append(move)
    return found


@pytest.mark.parametrize("today", PAST_DAYS)
async def test_every_project_has_the_past_its_time_list_implies(
    session: AsyncSession, today: date
) -> None:
    await build_demo(session, today)
    projects = await all_of(session, Project)
    moves = await moves_of(session)
    milestones: dict[int, dict[str, Milestone]] = {}
    for m in await all_of(session, Milestone):
        milestones.setdefault(m.project_id, {})[m.kind] = m
    assert set(moves) == {p.id for p in projects}
    for p in projects:
        path = moves[p.id]
        # It entered the store negotiating, on its created_at, months ago.
        assert (path[0].from_stage, path[0].to_stage, path[0].at) == (
            None,
            Stage.NEGOTIATING,
            p.created_at,
        ), p.code
        months = {Stage.NEGOTIATING: 50, Stage.OPERATING: 300}.get(p.stage, 30)
        assert (today - local(p.created_at)).days >= months, p.code
        # Then one move per stage reached, each from where the last one left it, in order.
        assert [m.from_stage for m in path[1:]] == [m.to_stage for m in path[:-1]], p.code
        assert [m.at for m in path] == sorted(set(m.at for m in path)), p.code
        assert path[-1].to_stage is p.stage and local(path[-1].at) <= today, p.code
        reached = {m.to_stage: local(m.at) for m in path}
        done = [m.done_date for m in milestones[p.id].values() if m.done_date]
        if Stage.SIGNED in reached:
            # Signed before any step of its time list was done, near its signing target.
            assert all(reached[Stage.SIGNED] < d for d in done), p.code
            assert p.target_signed is not None
            assert abs((p.target_signed - reached[Stage.SIGNED]).days) <= 14, p.code
        if Stage.STARTED in reached:
            # Started the day it broke ground, every earlier step done by then.
            assert reached[Stage.STARTED] == milestones[p.id]["groundbreaking"].done_date
            assert max(done) == reached[Stage.STARTED], p.code
        if Stage.OPERATING in reached:
            assert (reached[Stage.OPERATING] - reached[Stage.STARTED]).days >= 90, p.code
        if p.stage is Stage.DROPPED:
            assert list(reached) == [Stage.NEGOTIATING, Stage.DROPPED]
        if p.stage is Stage.PAUSED:
            assert list(reached) == [*STAGE_ORDER[:2], Stage.PAUSED]
            assert reached[Stage.PAUSED] > max(done), p.code

    # A signing, a start and an operation this month, whatever day it is; more before.
    first = today.replace(day=1)
    arrivals = [(m.to_stage, local(m.at)) for path in moves.values() for m in path[1:]]
    this_month = Counter(stage for stage, day in arrivals if day >= first)
    assert {Stage.SIGNED, Stage.STARTED, Stage.OPERATING} <= set(this_month)
    assert sum(1 for _stage, day in arrivals if day.year < today.year) >= 5
    assert len(arrivals) == sum(len(path) - 1 for path in moves.values()) >= 40


@pytest.mark.parametrize("today", PAST_DAYS)
async def test_the_funnel_shows_moves_and_speeds(session: AsyncSession, today: date) -> None:
    await build_demo(session, today)
    f = await funnel(session, today, CITY_TZ)
    by_stage = {s.stage: s for s in f.stages}
    for stage in (Stage.SIGNED, Stage.STARTED, Stage.OPERATING):
        assert 1 <= by_stage[stage].moved_month <= by_stage[stage].moved_year, stage
    assert [(t.from_stage, t.to_stage) for t in f.transitions] == list(pairwise(STAGE_ORDER))
    for t in f.transitions:
        assert t.count >= 1 and t.median_days is not None, t
    # Signing to start is the time list's five months; start to operation about half a year.
    speeds = {t.to_stage: t.median_days for t in f.transitions}
    assert 120 <= (speeds[Stage.STARTED] or 0) <= 220
    assert 120 <= (speeds[Stage.OPERATING] or 0) <= 260


def counted(r: Ranking, unit: str, name: str) -> Figure:
    return next(row.figures[name] for row in r.rows if row.unit == unit)


@pytest.mark.parametrize("today", PAST_DAYS)
async def test_the_ranking_judges_every_unit_on_something(
    session: AsyncSession, today: date
) -> None:
    await build_demo(session, today)
    r = await ranking(session, "month", today, CITY_TZ, WorkCalendar(), Weights())
    territorial = ["青山镇", "白沙镇", "柳林镇", "东城街道", "南湖街道"]
    departments = ["自然资源局", "行政审批局", "住建局", "生态环境局", "财政局"]
    assert r.idle == []
    assert sorted(row.unit for row in r.rows) == sorted(territorial + departments)
    # Ranked last month too, and not all in the same places.
    assert all(row.prev_rank is not None for row in r.rows)
    assert any(row.change for row in r.rows)
    scores = [row.score for row in r.rows]
    assert max(scores) - min(scores) >= 15
    for unit in territorial:
        for name in ("signed", "started", "operating", "investment", "problems", "reports"):
            assert counted(r, unit, name).of > 0, (unit, name)
    for unit in departments:
        assert counted(r, unit, "problems").of > 0, unit
    # Each result was reached by someone this month.
    for name in ("signed", "started", "operating"):
        assert sum(row.figures[name].count for row in r.rows) >= 1, name


async def test_the_year_shows_kept_and_broken_promises(session: AsyncSession) -> None:
    """Over a year every diligence figure counts items done on time and late (the
    instructions: test_the_year_counts_instructions_done_on_time_and_late), and the lax
    township reports least."""
    today = date(2026, 11, 27)
    await build_demo(session, today)
    r = await ranking(session, "year", today, CITY_TZ, WorkCalendar(), Weights())
    assert r.idle == [] and all(row.prev_rank is not None for row in r.rows)
    for name in ("milestones", "problems", "reports"):
        done = sum(row.figures[name].count for row in r.rows)
        due = sum(row.figures[name].of for row in r.rows)
        assert 0.5 * due < done < due, name
    rates = {row.unit: row.figures["reports"].rate for row in r.rows if row.figures["reports"].of}
    assert min(rates, key=lambda u: rates[u] or 0) == "南湖街道"
    assert max(rates, key=lambda u: rates[u] or 0) == "柳林镇"
    assert all((rates[u] or 0) > 0.75 for u in rates if u != "南湖街道")


@pytest.mark.parametrize("today", PAST_DAYS)
async def test_the_leaders_past_instructions_were_all_carried_out(
    session: AsyncSession, today: date
) -> None:
    """Only today's two instructions are open, and they have the first numbers; the past's
    are acknowledged, reported done by someone of the unit before today, and judged in
    this month's ranking for every ranked unit."""
    city = await build_demo(session, today)
    found = sorted(await all_of(session, Instruction), key=lambda i: i.id)
    assert len(found) == city.instructions > 60
    assert [i.done_at is None for i in found[:2]] == [True, True]
    members = {m.id: m for m in await all_of(session, Member)}
    leader = next(m for m in members.values() if m.role is Role.LEADER)
    projects = {p.id: p for p in await all_of(session, Project)}
    on_time = late = 0
    for i in found[2:]:
        assert i.done_at is not None and i.acknowledged_at is not None and i.done_text, i.id
        assert i.deadline is not None and i.leader_id == leader.id, i.id
        assert i.created_at < i.acknowledged_at < i.done_at, i.id
        assert local(i.created_at) < i.deadline and local(i.done_at) < today, i.id
        assert all(t.tzinfo is not None for t in (i.created_at, i.acknowledged_at, i.done_at))
        assert i.done_by_id is not None and members[i.done_by_id].unit_id == i.unit_id, i.id
        assert (i.escalation_level, i.escalated_at, i.problem_id) == (0, None, None), i.id
        assert local(projects[i.project_id].created_at) <= local(i.created_at), i.id
        if local(i.done_at) <= i.deadline:
            on_time += 1
        else:
            late += 1
    assert on_time > 2 * late > 0

    r = await ranking(session, "month", today, CITY_TZ, WorkCalendar(), Weights())
    assert len(r.rows) == 10
    for row in r.rows:
        assert row.figures["instructions"].of >= 1, row.unit


async def test_the_year_counts_instructions_done_on_time_and_late(session: AsyncSession) -> None:
    today = date(2026, 11, 27)
    await build_demo(session, today)
    r = await ranking(session, "year", today, CITY_TZ, WorkCalendar(), Weights())
    done = sum(row.figures["instructions"].count for row in r.rows)
    due = sum(row.figures["instructions"].of for row in r.rows)
    assert 0.6 * due < done < due and due >= 50
    rates = {row.unit: row.figures["instructions"].rate or 0 for row in r.rows}
    assert rates["柳林镇"] > rates["南湖街道"]


async def test_reports_and_answers_fit_the_past(session: AsyncSession) -> None:
    city = await build_demo(session, TODAY)
    projects = {p.id: p for p in await all_of(session, Project)}
    moves = await moves_of(session)
    reports = sorted(await all_of(session, ProgressReport), key=lambda r: r.id)
    assert len(reports) == city.progress_reports >= 20 * len(projects)
    by_project: dict[int, list[ProgressReport]] = {}
    for report in reports:
        by_project.setdefault(report.project_id, []).append(report)
        p = projects[report.project_id]
        assert local(p.created_at) <= report.report_date <= TODAY, p.code
        assert report.report_date == local(report.created_at)
        assert (report.kind == "no_change") == (report.text == "")
    for pid, mine in by_project.items():
        # Written in order, so that the latest (by id) is the newest, as the card reads it.
        assert [r.created_at for r in mine] == sorted(r.created_at for r in mine)
        assert projects[pid].last_progress_at == mine[-1].created_at
        assert mine[-1].kind == "report"
        # At most one a week: a report or a check that nothing changed.
        weeks = [r.report_date.isocalendar()[:2] for r in mine]
        assert len(weeks) == len(set(weeks)), projects[pid].code
        # Amounts invested are reported while building, and only then.
        for r in mine:
            stage = max((m for m in moves[pid] if m.at <= r.created_at), key=lambda m: m.at)
            assert (r.amount is not None) == (stage.to_stage is Stage.STARTED and bool(r.text))
    quiet = [
        p.code
        for p in projects.values()
        if p.stage in (Stage.NEGOTIATING, Stage.SIGNED, Stage.STARTED)
        and p.last_progress_at is not None
        and (TODAY - local(p.last_progress_at)).days > 14
    ]
    assert 3 <= len(quiet) <= 7, quiet

    problems = await all_of(session, Problem)
    assert len(problems) == city.problems > 100
    replies: dict[int, list[ProblemReply]] = {}
    for reply in await all_of(session, ProblemReply):
        replies.setdefault(reply.problem_id, []).append(reply)
    on_time = late = 0
    for pr in problems:
        if pr.answered_at is None:
            assert pr.status in (ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED), pr.id
            continue
        # Answered by the unit's first reply, after it was raised; signed off after that.
        answers = sorted(r.created_at for r in replies[pr.id] if r.author_id != pr.raiser_id)
        assert pr.answered_at == answers[0] and pr.created_at < pr.answered_at, pr.id
        assert local(pr.answered_at) <= TODAY, pr.id
        if pr.resolved_at is not None:
            assert pr.answered_at < pr.resolved_at and local(pr.resolved_at) <= TODAY
        assert pr.reply_deadline is not None
        if local(pr.answered_at) <= pr.reply_deadline:
            on_time += 1
        else:
            late += 1
    assert on_time > 3 * late > 0


# --- the demo's own file (bot/demo.py) ------------------------------------------------------


async def test_the_demo_knows_its_own_untouched_city(template_db: Path, tmp_path: Path) -> None:
    """An empty store may be filled; a city only counts as the demo's own once marked, and
    stops being so at the first change of any row (a VACUUM is no change).

    SQLite in both runs: the demo's store is a file (`demo --db FILE`), examined as one."""
    import shutil
    import sqlite3
    from contextlib import closing

    from bot.demo import examine, mark_demo
    from storage.db import make_engine, set_actor

    db = tmp_path / "demo.sqlite3"
    assert examine(db).state == "absent"
    shutil.copy(template_db, db)
    assert examine(db).state == "empty"
    engine = make_engine(f"sqlite:///{db}")
    try:
        async with AsyncSession(engine) as s:
            set_actor(s, None)
            city = await build_demo(s, TODAY)
            await s.commit()
    finally:
        await engine.dispose()
    # Not marked: a store like any other, which a demo must not replace.
    held = examine(db)
    assert (held.state, held.projects, held.members) == ("store", city.projects, city.members)
    assert not held.replaceable
    mark_demo(db)
    assert examine(db).state == "demo" and examine(db).replaceable
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("VACUUM")
    assert examine(db).state == "demo"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("UPDATE members SET lang = 'en' WHERE id = (SELECT min(id) FROM members)")
        conn.commit()
    assert examine(db).state == "changed" and not examine(db).replaceable
    (tmp_path / "notes.txt").write_text("not a store")
    assert examine(tmp_path / "notes.txt").state == "foreign"
    assert examine(tmp_path).state == "foreign"


async def test_the_english_demo_names_its_city_for_the_config(session: AsyncSession) -> None:
    from bot.config import Config
    from bot.demo import config_lines
    from storage.demo import DEFAULT_INDUSTRIES_EN

    city = await build_demo(session, TODAY, DEFAULT_INDUSTRIES_EN, lang="en")
    lines = config_lines(Config(), city, "en")
    assert lines[:2] == ["[city]", 'name = "Demo City"']
