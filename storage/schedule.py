"""What the daily tick reads and changes: escalation steps and every unit's list for the day.

Built for a whole city at once (thousands of projects): a handful of set queries, not one
query per member; members of a unit share their unit's list. The escalation can be read
without a lock and written a chunk at a time (`plan_escalation`), and the day's climbs
found again from the store (`climbed`), so that the bot's tick never holds the write lock
for long and a pass that stopped can be finished by another.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import TypeVarTuple

from sqlalchemy import Row, Select, bindparam, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from storage.agenda import (
    ACTIVE_STAGES,
    due_milestones,
    open_instructions,
    quiet_projects,
    waiting_problems,
)
from storage.audit import plain_value as audit_value
from storage.escalation import (
    InstructionClock,
    ProblemClock,
    Thresholds,
    Turn,
    instruction_deadline,
    instruction_target,
    late_target,
    next_level,
    pending_target,
    problem_deadline,
    problem_target,
    problem_turn,
)
from storage.models import (
    AuditLog,
    Instruction,
    Member,
    Milestone,
    Problem,
    ProblemStatus,
    Project,
    SchedulerRun,
    Stage,
    Unit,
    UTCDateTime,
    utcnow,
)
from storage.problems import OPEN_STATES
from storage.workdays import WorkCalendar

_Ts = TypeVarTuple("_Ts")


class Breather:
    """Hands the event loop to the other tasks (the bot's handlers) at the next call once
    BUDGET seconds of a long loop have passed without an await: the tick is seconds of
    Python work for a city, and the handlers share its loop."""

    def __init__(self, budget: float = 0.005) -> None:
        self.budget = budget
        self.since = time.perf_counter()

    async def __call__(self) -> None:
        if time.perf_counter() - self.since >= self.budget:
            await asyncio.sleep(0)
            self.since = time.perf_counter()


_PARTITION = 1000  # rows turned into Python at a time, the event loop running between


async def _streamed(session: AsyncSession, stmt: Select[*_Ts]) -> list[Row[*_Ts]]:
    """STMT's rows, fetched and converted _PARTITION at a time: a big result converted at
    once keeps the event loop (and the handlers) waiting for a noticeable moment."""
    rows: list[Row[*_Ts]] = []
    result = await session.stream(stmt)
    async for part in result.partitions(_PARTITION):
        rows += part
    return rows


@dataclass(frozen=True)
class MilestoneItem:
    id: int
    code: str
    seq: int
    title: str
    kind: str
    planned: date
    level: int
    project_unit: int
    owner_unit: int | None


@dataclass(frozen=True)
class ProblemItem:
    id: int
    code: str
    text: str
    unit_id: int
    raised: date
    level: int
    status: ProblemStatus
    deadline: date | None = None  # the reply deadline
    answered_by: str = ""  # for a sign-off: the unit that answered, and the day it did
    answered: date | None = None


@dataclass(frozen=True)
class ProjectItem:
    code: str
    name: str
    unit_id: int
    last: date | None


@dataclass(frozen=True)
class TargetItem:
    """A project whose target date for the stage it heads for has passed."""

    code: str
    name: str
    unit_id: int
    stage: Stage  # the stage it heads for
    target: date
    level: int


@dataclass(frozen=True)
class InstructionItem:
    """A leader's instruction not yet reported done."""

    id: int
    code: str
    text: str
    unit_id: int  # the unit that must carry it out
    leader: str  # who gave it
    deadline: date | None  # None: given before instructions had deadlines
    level: int
    acknowledged: bool
    leader_id: int


@dataclass
class UnitList:
    """One unit's list for the day; every officer and head of the unit gets it."""

    overdue: list[MilestoneItem] = field(default_factory=list)
    due_soon: list[MilestoneItem] = field(default_factory=list)
    waiting: list[ProblemItem] = field(default_factory=list)
    stale: list[ProjectItem] = field(default_factory=list)
    targets: list[TargetItem] = field(default_factory=list)
    # Leaders' instructions stay on the list every day until reported done.
    instructions: list[InstructionItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.overdue
            or self.due_soon
            or self.waiting
            or self.stale
            or self.targets
            or self.instructions
        )

    def project_codes(self, unit_id: int) -> list[str]:
        """The projects of unit UNIT_ID this list names, in the order they first appear
        (not the projects whose milestones it owns: their reports are not its to make)."""
        codes = [m.code for m in self.overdue + self.due_soon if m.project_unit == unit_id]
        codes += [t.code for t in self.targets] + [p.code for p in self.stale]
        return list(dict.fromkeys(codes))


@dataclass(frozen=True)
class Climb:
    """An item that climbed a step today, and whose turn it is."""

    # "milestone", "problem", "signoff" (an answer not signed off), "target" or
    # "instruction"
    kind: str
    item_id: int  # the milestone's, problem's or instruction's id; the project's for a target
    level: int
    unit_id: int  # the unit whose turn it is: never the answering unit of a sign-off
    code: str
    title: str  # milestone title, problem text, or the stage a target is for
    late: int  # working days past the deadline (0: not acknowledged yet)
    seq: int = 0  # the milestone's number in its project
    deadline: date | None = None
    # a sign-off: who raised it; a problem: the unit that must answer; an instruction:
    # the leader who gave it
    party: str = ""
    person: int | None = None  # a sign-off: the raiser's member id, told with the heads
    # a problem or an instruction nobody of its unit has acknowledged yet
    unacknowledged: bool = False
    ms_kind: str = ""  # a milestone's kind (site, land…), which names it in English
    # An instruction: the leader who gave it, the one leader its level 3 reaches while the
    # bot can reach him as a leader (else every leader does).
    leader_id: int | None = None


@dataclass(frozen=True)
class Owed:
    """A day's tick not finished yet (claim_day)."""

    run_id: int
    # NOW of the pass that claimed the day. Every item the day's tick climbs, whichever
    # pass writes the step, carries it as its last climb: `climbed` finds them by it.
    started_at: datetime
    claimed: bool  # True: claimed by this call; False: an earlier pass claimed it


async def day_run(session: AsyncSession, day: date) -> SchedulerRun | None:
    """DAY's run if a tick claimed the day, finished or not."""
    run: SchedulerRun | None = await session.scalar(
        select(SchedulerRun).where(SchedulerRun.day == day)
    )
    return run


async def claim_day(session: AsyncSession, day: date, now: datetime) -> Owed | None:
    """Claim DAY for the tick as at NOW (aware UTC); None if a tick already finished it.

    A day claimed and not finished (the pass that claimed it stopped, or is still at it)
    is owed again: the rest of its escalation, where nothing that climbed that day climbs
    again (`next_level`), and all its messages, which the outbox keeps from doubling.

    The unique day is the lock: should two passes claim at once, the second one's flush
    raises IntegrityError, and it finds the first one's run when it looks again.
    """
    run = await day_run(session, day)
    if run is not None:
        if run.finished_at is not None:
            return None
        return Owed(run.id, run.started_at, claimed=False)
    run = SchedulerRun(day=day, started_at=now)
    session.add(run)
    await session.flush()
    return Owed(run.id, now, claimed=True)


async def count_queued(session: AsyncSession, run_id: int, queued: int) -> None:
    """Count QUEUED more messages to the run, in the transaction that queued them."""
    if queued:
        await session.execute(
            update(SchedulerRun)
            .where(SchedulerRun.id == run_id)
            .values(messages=SchedulerRun.messages + queued)
        )


async def finish_day(session: AsyncSession, run_id: int, now: datetime) -> None:
    """Mark the run finished as at NOW (aware UTC); a second pass to finish it keeps the
    first one's time."""
    await session.execute(
        update(SchedulerRun)
        .where(SchedulerRun.id == run_id)
        # As a literal of the column's type: inside a function SQLAlchemy would bind NOW
        # as a plain datetime, and SQLite would store a local time as if it were UTC.
        .values(finished_at=func.coalesce(SchedulerRun.finished_at, literal(now, UTCDateTime())))
    )


async def hold_run(session: AsyncSession, run_id: int) -> None:
    """Write-lock the run's row until the transaction ends; on SQLite, the whole store.

    A pass's escalation takes it before reading the items it will climb again: SQLite
    gives a transaction the write lock at its first write, and what it read before that
    may have changed by then.
    """
    await session.execute(
        update(SchedulerRun).where(SchedulerRun.id == run_id).values(messages=SchedulerRun.messages)
    )


async def close_before(session: AsyncSession, day: date, now: datetime) -> list[date]:
    """Mark finished, as at NOW, the runs of days before DAY that were claimed and never
    finished (their pass stopped and no pass came that day); return those days."""
    days = list(
        await session.scalars(
            select(SchedulerRun.day)
            .where(SchedulerRun.day < day, SchedulerRun.finished_at.is_(None))
            .order_by(SchedulerRun.day)
        )
    )
    if days:
        await session.execute(
            update(SchedulerRun)
            .where(SchedulerRun.day.in_(days), SchedulerRun.finished_at.is_(None))
            .values(finished_at=now)
        )
    return days


def _local_day(at: datetime | None, tz: tzinfo) -> date | None:
    return at.astimezone(tz).date() if at is not None else None


_Item = type[Problem | Milestone | Project | Instruction]
# An item's new level if it climbs, from its level, the level it deserves today and its
# last climb; None if it does not.
_Decide = Callable[[int, int, datetime | None], int | None]


@dataclass
class Escalation:
    """What one escalation pass climbs: each item's step and its climb, in the order the
    notices and digests list them (problems, milestones, targets, instructions)."""

    steps: list[tuple[_Item, _Step, Climb]] = field(default_factory=list)

    @property
    def climbs(self) -> list[Climb]:
        return [climb for _, _, climb in self.steps]

    def parts(self, size: int) -> list[Escalation]:
        """The steps SIZE at a time, in order."""
        return [
            Escalation(self.steps[start : start + size])
            for start in range(0, len(self.steps), size)
        ]

    def ids(self) -> dict[_Item, list[int]]:
        """The ids of the items that climb, by model, ascending."""
        found: dict[_Item, list[int]] = defaultdict(list)
        for model, step, _ in self.steps:
            found[model].append(step.id)
        return {model: sorted(ids) for model, ids in found.items()}


@dataclass(frozen=True)
class _Rules:
    today: date
    tz: tzinfo
    calendar: WorkCalendar
    th: Thresholds
    reply_days: int
    instruction_days: int


async def plan_escalation(
    session: AsyncSession,
    today: date,
    tz: tzinfo,
    calendar: WorkCalendar,
    th: Thresholds,
    reply_days: int,
    *,
    instruction_days: int,
    among: Escalation | None = None,
) -> Escalation:
    """What climbs on TODAY as the items stand: reads only.

    AMONG: decide again for the items of an earlier plan only, reading them as they are
    now, locked until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's write lock,
    which the caller takes first). So a plan read without any lock, while handlers write,
    comes true in short write transactions: an item changed meanwhile (answered, given a
    new date, climbed by another pass) is judged as it stands, and one that no longer
    deserves its step does not take it. An item that came to deserve one meanwhile waits
    for the next plan.
    """
    rules = _Rules(today, tz, calendar, th, reply_days, instruction_days)

    def step(current: int, target: int, last: datetime | None) -> int | None:
        level = next_level(current, target, _local_day(last, tz), today)
        return level if level != current else None

    found = await _escalation(session, rules, step, among.ids() if among else None, None)
    if among is not None:
        # The first plan's order, which the full queries gave, not the chunks' order.
        rank = {(model, s.id): i for i, (model, s, _) in enumerate(among.steps)}
        found.steps.sort(key=lambda item: rank[(item[0], item[1].id)])
    return found


async def write_escalation(session: AsyncSession, escalation: Escalation, at: datetime) -> None:
    """Write the steps as climbed at AT (aware UTC), with their audit rows."""
    by_model: dict[_Item, list[_Step]] = defaultdict(list)
    for model, s, _ in escalation.steps:
        by_model[model].append(s)
    for model in (Problem, Milestone, Project, Instruction):
        await _write_steps(session, model, by_model.get(model, []), at)


async def escalate(
    session: AsyncSession,
    today: date,
    now: datetime,
    tz: tzinfo,
    calendar: WorkCalendar,
    th: Thresholds,
    reply_days: int,
    *,
    instruction_days: int,
) -> list[Climb]:
    """Move every late item one step up where it deserves it, as climbed at NOW; return
    what climbed. All in the caller's transaction (see `plan_escalation` for a way that
    holds no lock while it reads).

    REPLY_DAYS and INSTRUCTION_DAYS are the configured terms (`[work]`, working days) of a
    problem's answer and of an instruction without a deadline of its own.

    Each item is measured against its own current deadline and climbs on the side of the
    party whose turn it is (storage.escalation), one step a day at most. Reads plain
    columns and writes the steps as bulk UPDATEs: a city has thousands of late items and
    loading each as an ORM object was most of a tick. The flush hook never sees these
    changes, so their audit rows, in the hook's format, are written here.
    """
    plan = await plan_escalation(
        session, today, tz, calendar, th, reply_days, instruction_days=instruction_days
    )
    await write_escalation(session, plan, now)
    return plan.climbs


async def climbed(
    session: AsyncSession,
    today: date,
    tz: tzinfo,
    calendar: WorkCalendar,
    th: Thresholds,
    reply_days: int,
    *,
    instruction_days: int,
    at: datetime,
) -> list[Climb]:
    """What climbed as at AT (the day's run's started_at), as it stands now: the open
    items whose last climb is AT, at their level, in the order `escalate` lists them.
    Reads only.

    The day's notices and digests are built from this, whichever pass (or passes, one
    of them stopped) wrote the steps. An item changed since (answered, given a new date)
    no longer carries AT, and is not told.
    """
    rules = _Rules(today, tz, calendar, th, reply_days, instruction_days)

    def step(current: int, _target: int, last: datetime | None) -> int | None:
        return current if last == at else None

    return (await _escalation(session, rules, step, None, at)).climbs


async def _chunked(
    session: AsyncSession,
    stmt: Select[*_Ts],
    model: _Item,
    ids: dict[_Item, list[int]] | None,
) -> Sequence[Row[*_Ts]]:
    """STMT's rows; with IDS, only those of MODEL's ids there, locked for the transaction."""
    if ids is None:
        return await _streamed(session, stmt)
    wanted = ids.get(model, [])
    rows: list[Row[*_Ts]] = []
    for start in range(0, len(wanted), _CHUNK):
        part = stmt.where(model.id.in_(wanted[start : start + _CHUNK]))
        rows += (await session.execute(part.with_for_update(of=model))).all()
    return rows


async def _escalation(
    session: AsyncSession,
    rules: _Rules,
    decide: _Decide,
    ids: dict[_Item, list[int]] | None,
    climbed_at: datetime | None,
) -> Escalation:
    """Every open item's step as DECIDE makes it (IDS: only those items; CLIMBED_AT: only
    the items whose last climb is then)."""
    today, tz, calendar, th = rules.today, rules.tz, rules.calendar, rules.th
    found = Escalation()
    breathe = Breather()
    counted: dict[date, int] = {}

    def late_by(deadline: date) -> int:
        """Working days from DEADLINE to today: counted day by day, and thousands of
        items share a few hundred deadlines, so each is counted once."""
        days = counted.get(deadline)
        if days is None:
            days = counted[deadline] = calendar.workdays_between(deadline, today)
        return days

    problem_query = (
        select(
            Problem.id,
            Problem.status,
            Problem.escalation_level,
            Problem.escalated_at,
            Problem.created_at,
            Problem.reply_deadline,
            Problem.answered_at,
            Problem.unit_id,
            Problem.text,
            Project.code,
            Member.unit_id,
            Member.name,
            Unit.name,
            Problem.raiser_id,
        )
        .join(Project, Project.id == Problem.project_id)
        .join(Member, Member.id == Problem.raiser_id)
        .join(Unit, Unit.id == Problem.unit_id)
        .where(Problem.status.in_(OPEN_STATES), Project.stage != Stage.DROPPED)
        .order_by(Problem.id)
    )
    if climbed_at is not None:
        problem_query = problem_query.where(Problem.escalated_at == climbed_at)
    for row in await _chunked(session, problem_query, Problem, ids):
        await breathe()
        (pid, status, current, escalated_at, created_at, deadline, answered_at) = row[:7]
        unit_id, text, code, raiser_unit, raiser, answering, raiser_id = row[7:]
        clock = ProblemClock(
            status, created_at.astimezone(tz).date(), deadline, _local_day(answered_at, tz)
        )
        target = problem_target(clock, today, calendar, th, rules.reply_days)
        level = decide(current, target, escalated_at)
        if level is None:
            continue
        due = problem_deadline(clock, calendar, th, rules.reply_days)
        late = late_by(due) if due else 0
        if problem_turn(status) is Turn.RAISER:
            climb = Climb(
                "signoff", pid, level, raiser_unit, code, text, late, 0, due, raiser, raiser_id
            )
        else:
            climb = Climb(
                "problem",
                pid,
                level,
                unit_id,
                code,
                text,
                late,
                0,
                due,
                answering,
                unacknowledged=status is ProblemStatus.OPEN,
            )
        found.steps.append((Problem, _Step(pid, current, escalated_at, level), climb))

    milestone_query = (
        select(
            Milestone.id,
            Milestone.planned_date,
            Milestone.escalation_level,
            Milestone.escalated_at,
            Milestone.owner_unit_id,
            Milestone.title,
            Milestone.seq,
            Project.code,
            Project.unit_id,
            Milestone.kind,
        )
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Milestone.done_date.is_(None),
            Milestone.planned_date < today,
            Project.stage.in_(ACTIVE_STAGES),
        )
        .order_by(Milestone.id)
    )
    if climbed_at is not None:
        milestone_query = milestone_query.where(Milestone.escalated_at == climbed_at)
    for ms_row in await _chunked(session, milestone_query, Milestone, ids):
        await breathe()
        mid, planned, current, escalated_at, owner, title, seq, code, project_unit, kind = ms_row
        assert planned is not None
        overdue = late_by(planned)
        level = decide(current, late_target(overdue, th), escalated_at)
        if level is not None:
            climb = Climb(
                "milestone",
                mid,
                level,
                owner or project_unit,
                code,
                title,
                overdue,
                seq,
                planned,
                ms_kind=kind,
            )
            found.steps.append((Milestone, _Step(mid, current, escalated_at, level), climb))

    for item in await _passed_targets(session, today, ids, climbed_at):
        await breathe()
        late = late_by(item.target)
        level = decide(item.level, late_target(late, th), item.escalated_at)
        if level is not None:
            climb = Climb(
                "target",
                item.project_id,
                level,
                item.unit_id,
                item.code,
                item.stage.value,
                late,
                0,
                item.target,
                item.name,
            )
            s = _Step(item.project_id, item.level, item.escalated_at, level)
            found.steps.append((Project, s, climb))

    for order, given, escalated_at in await _open_instructions(session, tz, ids, climbed_at):
        await breathe()
        i_clock = InstructionClock(given, order.deadline, order.acknowledged)
        target = instruction_target(i_clock, today, calendar, th, rules.instruction_days)
        level = decide(order.level, target, escalated_at)
        if level is None:
            continue
        due = instruction_deadline(i_clock, calendar, rules.instruction_days)
        climb = Climb(
            "instruction",
            order.id,
            level,
            order.unit_id,
            order.code,
            order.text,
            late_by(due),
            0,
            due,
            order.leader,
            unacknowledged=not order.acknowledged,
            leader_id=order.leader_id,
        )
        found.steps.append((Instruction, _Step(order.id, order.level, escalated_at, level), climb))
    return found


async def _open_instructions(
    session: AsyncSession,
    tz: tzinfo,
    ids: dict[_Item, list[int]] | None = None,
    climbed_at: datetime | None = None,
) -> list[tuple[InstructionItem, date, datetime | None]]:
    """Every instruction not reported done, with the local day it was given and its last
    climb (IDS, CLIMBED_AT: only those, as `_escalation` reads them)."""
    leader = aliased(Member)
    query = (
        select(
            Instruction.id,
            Project.code,
            Instruction.text,
            Instruction.unit_id,
            leader.name,
            Instruction.deadline,
            Instruction.escalation_level,
            Instruction.acknowledged_at,
            Instruction.created_at,
            Instruction.escalated_at,
            Instruction.leader_id,
        )
        .join(Project, Project.id == Instruction.project_id)
        .join(leader, leader.id == Instruction.leader_id)
        .where(*open_instructions())
        .order_by(Instruction.deadline.is_(None), Instruction.deadline, Instruction.id)
    )
    if climbed_at is not None:
        query = query.where(Instruction.escalated_at == climbed_at)
    rows = await _chunked(session, query, Instruction, ids)
    found = []
    for iid, code, text, unit_id, who, deadline, level, acked, created, climbed, lid in rows:
        given = created.astimezone(tz).date()
        item = InstructionItem(
            iid, code, text, unit_id, who, deadline, level, acked is not None, lid
        )
        found.append((item, given, climbed))
    return found


@dataclass(frozen=True)
class MovedInstruction:
    """An open instruction that went to another unit with its project (storage.
    instructions.follow_project), for the notice its new unit gets."""

    move: int  # the audit row of the move: each move is told once
    id: int
    code: str
    name: str  # the project's
    text: str
    leader: str
    deadline: date | None
    acknowledged: bool
    unit_id: int  # the unit it went to, whose turn it now is
    from_unit: int | None  # the unit it came from


async def moved_instructions(session: AsyncSession) -> list[MovedInstruction]:
    """The open instructions (of projects not dropped) whose last move to another unit is
    the unit they are still with, oldest move first. Read from the audit log, so that the
    move is found whichever way the project changed hands (the bot's /import, the CLI);
    the caller keeps each move's notice from being sent twice (its key names the move)."""
    leader = aliased(Member)
    rows = (
        await session.execute(
            select(Instruction, Project.code, Project.name, leader.name)
            .join(Project, Project.id == Instruction.project_id)
            .join(leader, leader.id == Instruction.leader_id)
            .where(*open_instructions())
        )
    ).all()
    found = {i.id: (i, code, name, who) for i, code, name, who in rows}
    if not found:
        return []
    log = await session.execute(
        select(AuditLog.id, AuditLog.entity_id, AuditLog.before, AuditLog.after)
        .where(
            AuditLog.entity == Instruction.__tablename__,
            AuditLog.action == "update",
            AuditLog.entity_id.in_([str(i) for i in found]),
        )
        .order_by(AuditLog.id)
    )
    last: dict[int, tuple[int, int | None, int]] = {}
    for audit_id, entity_id, before, after in log:
        if after and after.get("unit_id") is not None:
            came_from = (before or {}).get("unit_id")
            last[int(entity_id)] = (audit_id, came_from, int(after["unit_id"]))
    moved = []
    for iid, (audit_id, came_from, went_to) in sorted(last.items(), key=lambda kv: kv[1][0]):
        instruction, code, name, who = found[iid]
        if instruction.unit_id != went_to:
            continue  # moved again since, without the log saying so: nothing to tell
        moved.append(
            MovedInstruction(
                audit_id,
                iid,
                code,
                name,
                instruction.text,
                who,
                instruction.deadline,
                instruction.acknowledged_at is not None,
                went_to,
                came_from,
            )
        )
    return moved


@dataclass(frozen=True)
class _PassedTarget:
    project_id: int
    code: str
    name: str
    unit_id: int
    stage: Stage  # the stage the project heads for
    target: date
    level: int
    escalated_at: datetime | None


async def _passed_targets(
    session: AsyncSession,
    today: date,
    ids: dict[_Item, list[int]] | None = None,
    climbed_at: datetime | None = None,
) -> list[_PassedTarget]:
    """Active projects whose target date for the next stage is before TODAY (IDS,
    CLIMBED_AT: only those, as `_escalation` reads them)."""
    query = (
        select(
            Project.id,
            Project.code,
            Project.name,
            Project.unit_id,
            Project.stage,
            Project.target_signed,
            Project.target_started,
            Project.target_operating,
            Project.target_level,
            Project.target_escalated_at,
        )
        .where(Project.stage.in_(ACTIVE_STAGES))
        .order_by(Project.code)
    )
    if climbed_at is not None:
        query = query.where(Project.target_escalated_at == climbed_at)
    rows = await _chunked(session, query, Project, ids)
    found = []
    breathe = Breather()
    for pid, code, name, unit_id, stage, signed, started, operating, level, at in rows:
        await breathe()
        pending = pending_target(
            stage, {Stage.SIGNED: signed, Stage.STARTED: started, Stage.OPERATING: operating}
        )
        if pending is not None and pending[1] < today:
            found.append(_PassedTarget(pid, code, name, unit_id, *pending, level, at))
    return found


@dataclass(frozen=True)
class _Step:
    """One item's climb: its id, level and last climb before, and its new level."""

    id: int
    level: int
    escalated_at: datetime | None
    new_level: int


_CHUNK = 500
# The columns that hold an item's level and last climb; a project's are its target's.
_LEVEL_COLUMNS = {
    Problem: ("escalation_level", "escalated_at"),
    Milestone: ("escalation_level", "escalated_at"),
    Instruction: ("escalation_level", "escalated_at"),
    Project: ("target_level", "target_escalated_at"),
}


async def _write_steps(
    session: AsyncSession,
    model: type[Problem | Milestone | Project | Instruction],
    steps: list[_Step],
    now: datetime,
) -> None:
    """Set the new levels in bulk, and audit each change as the flush hook would have."""
    if not steps:
        return
    level_col, at_col = _LEVEL_COLUMNS[model]
    # On the connection these are plain Core statements: executemany, no ORM bookkeeping.
    conn = await session.connection()
    stmt = (
        update(model)
        .where(model.id == bindparam("step_id"))
        .values({level_col: bindparam("step_level"), at_col: now})
    )
    params = [{"step_id": s.id, "step_level": s.new_level} for s in steps]
    for start in range(0, len(params), _CHUNK):
        await conn.execute(stmt, params[start : start + _CHUNK])
    # Objects of these rows already in the session (a caller's) must not keep old values.
    identities = session.sync_session.identity_map
    for s in steps:
        obj = identities.get(session.sync_session.identity_key(model, s.id))
        if obj is not None:
            set_committed_value(obj, level_col, s.new_level)
            set_committed_value(obj, at_col, now)
    actor = session.info.get("actor_id")
    at = utcnow()
    after_at = audit_value(now)
    rows = [
        {
            "at": at,
            "actor_id": actor,
            "action": "update",
            "entity": model.__tablename__,
            "entity_id": str(s.id),
            "before": {level_col: s.level, at_col: audit_value(s.escalated_at)},
            "after": {level_col: s.new_level, at_col: after_at},
        }
        for s in steps
    ]
    for start in range(0, len(rows), _CHUNK):
        await conn.execute(insert(AuditLog), rows[start : start + _CHUNK])


async def unit_lists(
    session: AsyncSession,
    today: date,
    now: datetime,
    tz: tzinfo,
    *,
    soon_days: int,
    stale_days: int,
) -> dict[int, UnitList]:
    """Every unit's list for the day, keyed by unit id (units with nothing are absent)."""
    lists: dict[int, UnitList] = defaultdict(UnitList)
    breathe = Breather()
    ms_rows = await _streamed(
        session,
        select(
            Milestone.id,
            Project.code,
            Milestone.seq,
            Milestone.title,
            Milestone.kind,
            Milestone.planned_date,
            Milestone.escalation_level,
            Project.unit_id,
            Milestone.owner_unit_id,
        )
        .join(Project, Project.id == Milestone.project_id)
        .where(*due_milestones(today, soon_days))
        .order_by(Milestone.planned_date, Project.code, Milestone.seq),
    )
    for mid, code, seq, title, kind, planned, level, project_unit, owner in ms_rows:
        await breathe()
        assert planned is not None  # the query keeps dated milestones only
        item = MilestoneItem(mid, code, seq, title, kind, planned, level, project_unit, owner)
        # A milestone is its owner's turn (the land bureau's 土地摘牌), not the project's unit's.
        unit = item.owner_unit or item.project_unit
        bucket = lists[unit].overdue if item.planned < today else lists[unit].due_soon
        bucket.append(item)

    pr_rows = await _streamed(
        session,
        select(
            Problem.id,
            Project.code,
            Problem.text,
            Problem.unit_id,
            Problem.created_at,
            Problem.escalation_level,
            Problem.status,
            Problem.reply_deadline,
        )
        .join(Project, Project.id == Problem.project_id)
        .where(*waiting_problems())
        .order_by(Problem.created_at, Problem.id),
    )
    for pid, code, text, unit_id, created, level, status, deadline in pr_rows:
        await breathe()
        raised = created.astimezone(tz).date()
        lists[unit_id].waiting.append(
            ProblemItem(pid, code, text, unit_id, raised, level, status, deadline)
        )

    for passed in await _passed_targets(session, today):
        lists[passed.unit_id].targets.append(
            TargetItem(
                passed.code, passed.name, passed.unit_id, passed.stage, passed.target, passed.level
            )
        )

    for instruction, _, _ in await _open_instructions(session, tz):
        lists[instruction.unit_id].instructions.append(instruction)

    st_rows = await _streamed(
        session,
        select(Project.code, Project.name, Project.unit_id, Project.last_progress_at)
        .where(*quiet_projects(now, stale_days))
        .order_by(Project.code),
    )
    for code, name, unit_id, last in st_rows:
        await breathe()
        lists[unit_id].stale.append(ProjectItem(code, name, unit_id, _local_day(last, tz)))
    return dict(lists)


def overdue_by_leader(lists: dict[int, UnitList], today: date) -> dict[int, list[InstructionItem]]:
    """The instructions in LISTS past their deadline on TODAY, keyed by the member id of the
    leader who gave them: what each leader sees of his own in the digest."""
    found: dict[int, list[InstructionItem]] = defaultdict(list)
    for todo in lists.values():
        for item in todo.instructions:
            if item.deadline is not None and item.deadline < today:
                found[item.leader_id].append(item)
    for items in found.values():
        items.sort(key=lambda i: (i.deadline or today, i.id))
    return dict(found)


async def signoffs(session: AsyncSession, tz: tzinfo) -> dict[int, list[ProblemItem]]:
    """Answered problems waiting for their raiser's sign-off, keyed by the raiser's member id."""
    stmt = (
        select(
            Problem.id,
            Project.code,
            Problem.text,
            Problem.unit_id,
            Problem.created_at,
            Problem.escalation_level,
            Problem.answered_at,
            Problem.raiser_id,
            Unit.name,
        )
        .join(Project, Project.id == Problem.project_id)
        .join(Unit, Unit.id == Problem.unit_id)
        .where(Problem.status == ProblemStatus.ANSWERED, Project.stage != Stage.DROPPED)
        .order_by(Problem.answered_at, Problem.id)
    )
    found: dict[int, list[ProblemItem]] = defaultdict(list)
    for (
        pid,
        code,
        text,
        unit_id,
        created,
        level,
        answered,
        raiser,
        unit_name,
    ) in await session.execute(stmt):
        raised = created.astimezone(tz).date()
        answered_day = _local_day(answered, tz) or raised
        found[raiser].append(
            ProblemItem(
                pid,
                code,
                text,
                unit_id,
                raised,
                level,
                ProblemStatus.ANSWERED,
                answered_by=unit_name,
                answered=answered_day,
            )
        )
    return dict(found)


async def recipients(session: AsyncSession) -> Sequence[Member]:
    """Active members the bot can reach, with their units."""
    found: list[Member] = []
    result = await session.stream_scalars(
        select(Member)
        .where(Member.active.is_(True), Member.reachable.is_(True))
        .order_by(Member.id)
    )
    # Loaded _PARTITION at a time, the event loop running between (see `_streamed`).
    async for part in result.partitions(_PARTITION):
        found += part
    return found


async def counts_by_unit_and_stage(session: AsyncSession) -> dict[str, dict[Stage, int]]:
    """Projects per unit name and stage, for the leaders' digest."""
    rows = await session.execute(
        select(Unit.name, Project.stage, func.count())
        .join(Unit, Unit.id == Project.unit_id)
        .group_by(Unit.name, Project.stage)
        .order_by(Unit.name)
    )
    table: dict[str, dict[Stage, int]] = defaultdict(dict)
    for name, stage, n in rows:
        table[name][stage] = int(n)
    return dict(table)


async def went_red(
    session: AsyncSession, today: date, calendar: WorkCalendar
) -> Sequence[tuple[str, int, str, date, str]]:
    """Milestones that became overdue since the last working day:
    (code, seq, title, date, kind)."""
    previous = today - timedelta(days=1)
    while not calendar.is_workday(previous) and previous > today - timedelta(days=30):
        previous -= timedelta(days=1)
    rows = await session.execute(
        select(Project.code, Milestone.seq, Milestone.title, Milestone.planned_date, Milestone.kind)
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Milestone.done_date.is_(None),
            Milestone.planned_date >= previous,
            Milestone.planned_date < today,
            Project.stage.in_(ACTIVE_STAGES),
        )
        .order_by(Milestone.planned_date, Project.code, Milestone.seq)
    )
    return [(c, s, t, d, k) for c, s, t, d, k in rows if d is not None]
