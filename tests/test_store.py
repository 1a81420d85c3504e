"""Store tests, run on SQLite and on PostgreSQL: invites, the audit trail, visibility, agenda."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import agenda, problems, projects
from storage.audit import HardDeleteError
from storage.db import set_actor
from storage.errors import Refused
from storage.models import (
    AuditLog,
    Invite,
    Member,
    Milestone,
    ProblemCategory,
    ProblemStatus,
    Project,
    Role,
    Stage,
    StageMove,
    Unit,
    UnitKind,
)
from storage.people import create_invite, redeem_invite
from storage.rules import PlanStep

TODAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


async def city(s: AsyncSession) -> dict[str, object]:
    center = Unit(name="中心", kind=UnitKind.CENTER)
    s.add(center)
    await s.flush()
    east = Unit(name="城东", kind=UnitKind.SUBDISTRICT, parent_id=center.id)
    west = Unit(name="城西", kind=UnitKind.TOWNSHIP, parent_id=center.id)
    s.add_all([east, west])
    await s.flush()
    officer = Member(tg_user_id=1, name="王", unit_id=east.id, role=Role.OFFICER)
    other = Member(tg_user_id=2, name="赵", unit_id=west.id, role=Role.OFFICER)
    coord = Member(tg_user_id=3, name="陈", unit_id=center.id, role=Role.COORDINATOR)
    s.add_all([officer, other, coord])
    project = Project(code="AB1", name="项目", industry="新能源", investment=1000, unit_id=east.id)
    s.add(project)
    await s.flush()
    for m in (officer, other, coord):
        await s.refresh(m, ["unit"])
    return {
        "east": east,
        "west": west,
        "officer": officer,
        "other": other,
        "coord": coord,
        "project": project,
    }


async def test_invite_is_one_time_and_expires(session: AsyncSession) -> None:
    c = await city(session)
    invite = await create_invite(session, c["east"], Role.OFFICER, by=None)  # type: ignore[arg-type]
    member = await redeem_invite(session, invite.code.lower(), 50, "新人", "en")
    assert member.unit_id == c["east"].id and member.lang == "en"  # type: ignore[attr-defined]
    with pytest.raises(Refused):
        await redeem_invite(session, invite.code, 51, "又一个", "zh")
    old = await create_invite(
        session, c["east"], Role.HEAD, by=None, valid_for=timedelta(seconds=-1)
    )  # type: ignore[arg-type]
    with pytest.raises(Refused) as info:
        await redeem_invite(session, old.code, 52, "迟到", "zh")
    assert info.value.key == "err.invite_invalid"
    assert await session.scalar(select(func.count()).select_from(Invite)) == 2


async def test_every_change_is_audited_with_its_actor(session: AsyncSession) -> None:
    c = await city(session)
    officer = c["officer"]
    set_actor(session, officer.id)  # type: ignore[attr-defined]
    await projects.log_progress(session, officer, "ab1", "进展", TODAY)  # type: ignore[arg-type]
    rows = (await session.scalars(select(AuditLog).where(AuditLog.actor_id == officer.id))).all()  # type: ignore[attr-defined]
    entities = {(r.entity, r.action) for r in rows}
    assert ("progress_reports", "create") in entities
    assert ("projects", "update") in entities  # last_progress_at moved
    created = next(r for r in rows if r.entity == "progress_reports")
    assert created.after is not None and created.after["text"] == "进展"


async def test_every_stage_a_project_reaches_is_a_stage_move(session: AsyncSession) -> None:
    """Creation, /stage and a plain attribute write alike leave one move each, with the
    actor; a write of the same stage or of another column leaves none."""
    c = await city(session)
    coord = c["coord"]
    project = c["project"]
    set_actor(session, coord.id)  # type: ignore[attr-defined]
    await projects.set_stage(session, coord, "AB1", Stage.SIGNED)  # type: ignore[arg-type]
    project.stage = Stage.SIGNED  # type: ignore[attr-defined]
    project.name = "改名"  # type: ignore[attr-defined]
    await session.flush()
    project.stage = Stage.STARTED  # type: ignore[attr-defined]
    await session.flush()
    moves = (
        await session.execute(
            select(StageMove.from_stage, StageMove.to_stage, StageMove.actor_id)
            .where(StageMove.project_id == project.id)  # type: ignore[attr-defined]
            .order_by(StageMove.id)
        )
    ).all()
    assert [tuple(m) for m in moves] == [
        (None, Stage.NEGOTIATING, None),
        (Stage.NEGOTIATING, Stage.SIGNED, coord.id),  # type: ignore[attr-defined]
        (Stage.SIGNED, Stage.STARTED, coord.id),  # type: ignore[attr-defined]
    ]


async def test_nothing_is_hard_deleted(session: AsyncSession) -> None:
    c = await city(session)
    await session.delete(c["project"])
    with pytest.raises(HardDeleteError):
        await session.flush()


async def test_other_units_cannot_see_or_answer(session: AsyncSession) -> None:
    c = await city(session)
    with pytest.raises(Refused) as info:
        await projects.visible_project(session, c["other"], "AB1")  # type: ignore[arg-type]
    assert info.value.key == "err.unknown_project"
    problem = await problems.raise_problem(
        session,
        c["officer"],
        "AB1",
        "缺电",
        ProblemCategory.UTILITIES,
        c["east"],  # type: ignore[arg-type]
    )
    with pytest.raises(Refused):
        await problems.reply(session, c["other"], problem.id, "我来")  # type: ignore[arg-type]
    await problems.reply(session, c["coord"], problem.id, "已协调")  # type: ignore[arg-type]
    assert problem.status is ProblemStatus.ANSWERED
    await problems.resolve(session, c["officer"], problem.id, None)  # type: ignore[arg-type]
    assert problem.status is ProblemStatus.RESOLVED
    with pytest.raises(Refused):
        await problems.reply(session, c["officer"], problem.id, "还有")  # type: ignore[arg-type]


async def test_plan_keeps_done_milestones_and_numbers(session: AsyncSession) -> None:
    c = await city(session)
    steps = [PlanStep("site", "选址", 30), PlanStep("go", "开工", 0)]
    first = await projects.plan(session, c["coord"], "AB1", date(2027, 3, 1), steps, TODAY)  # type: ignore[arg-type]
    assert [(m.seq, m.kind) for m in first] == [(1, "site"), (2, "go")]
    await projects.mark_done(session, c["officer"], "AB1", 1, TODAY)  # type: ignore[arg-type]
    again = await projects.plan(session, c["coord"], "AB1", date(2027, 5, 1), steps, TODAY)  # type: ignore[arg-type]
    assert again[0].planned_date == date(2027, 1, 30) and again[0].done_date == TODAY
    assert again[1].planned_date == date(2027, 5, 1)
    assert len(again) == 2


async def test_agenda_of_a_unit(session: AsyncSession) -> None:
    c = await city(session)
    p = c["project"]
    session.add_all(
        [
            Milestone(project_id=p.id, seq=1, title="a", planned_date=TODAY - timedelta(days=2)),  # type: ignore[attr-defined]
            Milestone(project_id=p.id, seq=2, title="b", planned_date=TODAY + timedelta(days=3)),  # type: ignore[attr-defined]
            Milestone(project_id=p.id, seq=3, title="c", planned_date=TODAY + timedelta(days=30)),  # type: ignore[attr-defined]
        ]
    )
    p.created_at = NOW - timedelta(days=40)  # type: ignore[attr-defined]
    await problems.raise_problem(session, c["coord"], "AB1", "?", ProblemCategory.OTHER, c["east"])  # type: ignore[arg-type]
    await session.flush()
    mine = await agenda.agenda(session, c["officer"], TODAY, NOW, soon_days=7, stale_days=14)  # type: ignore[arg-type]
    assert [m.seq for m, _ in mine.overdue] == [1]
    assert [m.seq for m, _ in mine.due_soon] == [2]
    assert len(mine.waiting) == 1 and [x.code for x in mine.stale] == ["AB1"]
    theirs = await agenda.agenda(session, c["other"], TODAY, NOW, soon_days=7, stale_days=14)  # type: ignore[arg-type]
    assert theirs.empty
    p.stage = Stage.PAUSED  # type: ignore[attr-defined]
    await session.flush()
    paused = await agenda.agenda(session, c["officer"], TODAY, NOW, soon_days=7, stale_days=14)  # type: ignore[arg-type]
    assert not paused.overdue and not paused.stale


async def test_aware_utc_timestamps_come_back_aware(session: AsyncSession) -> None:
    c = await city(session)
    pid = c["project"].id  # type: ignore[attr-defined]
    await session.commit()
    session.expire_all()
    project = await session.get(Project, pid)
    assert project is not None and project.created_at.tzinfo is not None
    assert project.created_at.utcoffset() == timedelta(0)


async def test_project_search_takes_wildcards_literally(session: AsyncSession) -> None:
    c = await city(session)
    session.add(Project(code="P2", name="100%达产", industry="x", unit_id=c["east"].id))  # type: ignore[attr-defined]
    await session.flush()
    found = await projects.list_projects(session, c["coord"], text="%")  # type: ignore[arg-type]
    assert [p.code for p in found] == ["P2"]
    assert await projects.list_projects(session, c["coord"], text="_") == []  # type: ignore[arg-type]


async def test_whose_turn_queries_on_both_stores(session: AsyncSession) -> None:
    """The queries behind /today by role, the tick's sign-offs and passed targets, the
    projects offered to /due and /done, and the routing check."""
    from bot.config import Config
    from storage import schedule
    from storage.escalation import Thresholds
    from storage.people import missing_units
    from storage.workdays import WorkCalendar

    c = await city(session)
    p = c["project"]
    land = Unit(name="国土", kind=UnitKind.DEPARTMENT)
    session.add(land)
    await session.flush()
    session.add_all(
        [
            Milestone(project_id=p.id, seq=1, title="a", planned_date=TODAY - timedelta(days=9)),  # type: ignore[attr-defined]
            Milestone(project_id=p.id, seq=2, title="b", owner_unit_id=land.id),  # type: ignore[attr-defined]
        ]
    )
    p.stage = Stage.SIGNED  # type: ignore[attr-defined]
    p.target_started = TODAY - timedelta(days=7)  # type: ignore[attr-defined]
    problem = await problems.raise_problem(
        session,
        c["officer"],  # type: ignore[arg-type]
        "AB1",
        "用地",
        ProblemCategory.LAND,
        c["west"],  # type: ignore[arg-type]
        TODAY - timedelta(days=1),
        NOW - timedelta(days=14),
    )
    await problems.reply(session, c["other"], problem.id, "已办", NOW - timedelta(days=12))  # type: ignore[arg-type]
    assert problem.status is ProblemStatus.ANSWERED and problem.answered_at is not None

    mine = await agenda.agenda(session, c["officer"], TODAY, NOW, soon_days=7, stale_days=14)  # type: ignore[arg-type]
    assert [q.id for q in mine.signoff] == [problem.id]
    assert [(x.code, s, d) for x, s, d in mine.targets] == [
        ("AB1", Stage.STARTED, TODAY - timedelta(days=7))
    ]
    assert mine.overview is None
    theirs = await agenda.agenda(session, c["other"], TODAY, NOW, soon_days=7, stale_days=14)  # type: ignore[arg-type]
    assert not theirs.waiting and not theirs.signoff  # answered: not the west's turn any more
    center = await agenda.agenda(session, c["coord"], TODAY, NOW, soon_days=7, stale_days=14)  # type: ignore[arg-type]
    assert center.overview is not None and center.overview.signoff == 1
    assert center.overview.targets == 1 and center.overview.overdue == 1
    assert not center.overdue and not center.waiting

    tz = Config().city.tz
    calendar = WorkCalendar()
    assert [q.id for q in (await schedule.signoffs(session, tz))[c["officer"].id]] == [problem.id]  # type: ignore[attr-defined]
    climbs = await schedule.escalate(
        session, TODAY, NOW, tz, calendar, Thresholds(), 3, instruction_days=5
    )
    kinds = {(x.kind, x.unit_id) for x in climbs}
    assert ("signoff", c["east"].id) in kinds  # type: ignore[attr-defined]
    assert ("target", c["east"].id) in kinds  # type: ignore[attr-defined]
    assert all(x.unit_id != c["west"].id for x in climbs)  # type: ignore[attr-defined]

    offered = await projects.open_milestone_projects(session, c["coord"])  # type: ignore[arg-type]
    assert [(x.code, owns) for x, owns in offered] == [("AB1", False)]
    lander = Member(tg_user_id=9, name="孙", unit_id=land.id, role=Role.OFFICER)
    session.add(lander)
    await session.flush()
    assert [
        (x.code, owns) for x, owns in await projects.open_milestone_projects(session, lander)
    ] == [("AB1", True)]
    assert await projects.open_milestone_projects(session, c["other"]) == []  # type: ignore[arg-type]
    assert await missing_units(session, ["国土", "城东", "住建局", " 国土 "]) == ["住建局"]
