"""What the daily tick reads and changes: escalation steps and every unit's list for the day.

Built for a whole city at once (thousands of projects): a handful of set queries, not one
query per member; members of a unit share their unit's list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import bindparam, func, insert, select, update
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
    utcnow,
)
from storage.problems import OPEN_STATES
from storage.workdays import WorkCalendar


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


async def claim_day(session: AsyncSession, day: date, now: datetime) -> SchedulerRun | None:
    """Mark DAY's prompts as made, or None if a tick already made them.

    The unique day is the lock: should two processes tick at once, the second one's
    flush fails on it and its whole transaction (escalations included) rolls back.
    """
    if await session.scalar(select(SchedulerRun).where(SchedulerRun.day == day)) is not None:
        return None
    run = SchedulerRun(day=day, started_at=now)
    session.add(run)
    await session.flush()
    return run


def _local_day(at: datetime | None, tz: tzinfo) -> date | None:
    return at.astimezone(tz).date() if at is not None else None


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
    """Move every late item one step up where it deserves it; return what climbed.

    REPLY_DAYS and INSTRUCTION_DAYS are the configured terms (`[work]`, working days) of a
    problem's answer and of an instruction without a deadline of its own.

    Each item is measured against its own current deadline and climbs on the side of the
    party whose turn it is (storage.escalation). Reads plain columns and writes the steps
    as bulk UPDATEs: a city has thousands of late items and loading each as an ORM object
    was most of a tick. The flush hook never sees these changes, so their audit rows, in
    the hook's format, are written here.
    """
    climbs: list[Climb] = []
    problem_steps: list[_Step] = []
    problems = await session.execute(
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
    for row in problems:
        (pid, status, current, escalated_at, created_at, deadline, answered_at) = row[:7]
        unit_id, text, code, raiser_unit, raiser, answering, raiser_id = row[7:]
        clock = ProblemClock(
            status, created_at.astimezone(tz).date(), deadline, _local_day(answered_at, tz)
        )
        target = problem_target(clock, today, calendar, th, reply_days)
        level = next_level(current, target, _local_day(escalated_at, tz), today)
        if level == current:
            continue
        problem_steps.append(_Step(pid, current, escalated_at, level))
        due = problem_deadline(clock, calendar, th, reply_days)
        late = calendar.workdays_between(due, today) if due else 0
        if problem_turn(status) is Turn.RAISER:
            climbs.append(
                Climb(
                    "signoff", pid, level, raiser_unit, code, text, late, 0, due, raiser, raiser_id
                )
            )
        else:
            unacknowledged = status is ProblemStatus.OPEN
            climbs.append(
                Climb(
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
                    unacknowledged=unacknowledged,
                )
            )

    milestone_steps: list[_Step] = []
    milestones = await session.execute(
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
    for ms_row in milestones:
        mid, planned, current, escalated_at, owner, title, seq, code, project_unit, kind = ms_row
        assert planned is not None
        overdue = calendar.workdays_between(planned, today)
        target = late_target(overdue, th)
        level = next_level(current, target, _local_day(escalated_at, tz), today)
        if level != current:
            milestone_steps.append(_Step(mid, current, escalated_at, level))
            unit = owner or project_unit
            climbs.append(
                Climb(
                    "milestone", mid, level, unit, code, title, overdue, seq, planned, ms_kind=kind
                )
            )

    target_steps: list[_Step] = []
    for item in await _passed_targets(session, today):
        late = calendar.workdays_between(item.target, today)
        level = next_level(
            item.level, late_target(late, th), _local_day(item.escalated_at, tz), today
        )
        if level != item.level:
            target_steps.append(_Step(item.project_id, item.level, item.escalated_at, level))
            climbs.append(
                Climb(
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
            )

    instruction_steps: list[_Step] = []
    for order, given, escalated_at in await _open_instructions(session, tz):
        i_clock = InstructionClock(given, order.deadline, order.acknowledged)
        target = instruction_target(i_clock, today, calendar, th, instruction_days)
        level = next_level(order.level, target, _local_day(escalated_at, tz), today)
        if level == order.level:
            continue
        instruction_steps.append(_Step(order.id, order.level, escalated_at, level))
        due = instruction_deadline(i_clock, calendar, instruction_days)
        climbs.append(
            Climb(
                "instruction",
                order.id,
                level,
                order.unit_id,
                order.code,
                order.text,
                calendar.workdays_between(due, today),
                0,
                due,
                order.leader,
                unacknowledged=not order.acknowledged,
                leader_id=order.leader_id,
            )
        )

    await _write_steps(session, Problem, problem_steps, now)
    await _write_steps(session, Milestone, milestone_steps, now)
    await _write_steps(session, Project, target_steps, now)
    await _write_steps(session, Instruction, instruction_steps, now)
    return climbs


async def _open_instructions(
    session: AsyncSession, tz: tzinfo
) -> list[tuple[InstructionItem, date, datetime | None]]:
    """Every instruction not reported done, with the local day it was given and its last
    climb."""
    leader = aliased(Member)
    rows = await session.execute(
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


async def _passed_targets(session: AsyncSession, today: date) -> list[_PassedTarget]:
    """Active projects whose target date for the next stage is before TODAY."""
    rows = await session.execute(
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
    found = []
    for pid, code, name, unit_id, stage, signed, started, operating, level, at in rows:
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
    ms_rows = await session.execute(
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
        .order_by(Milestone.planned_date, Project.code, Milestone.seq)
    )
    for mid, code, seq, title, kind, planned, level, project_unit, owner in ms_rows:
        assert planned is not None  # the query keeps dated milestones only
        item = MilestoneItem(mid, code, seq, title, kind, planned, level, project_unit, owner)
        # A milestone is its owner's turn (the land bureau's 土地摘牌), not the project's unit's.
        unit = item.owner_unit or item.project_unit
        bucket = lists[unit].overdue if item.planned < today else lists[unit].due_soon
        bucket.append(item)

    pr_rows = await session.execute(
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
        .order_by(Problem.created_at, Problem.id)
    )
    for pid, code, text, unit_id, created, level, status, deadline in pr_rows:
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

    st_rows = await session.execute(
        select(Project.code, Project.name, Project.unit_id, Project.last_progress_at)
        .where(*quiet_projects(now, stale_days))
        .order_by(Project.code)
    )
    for code, name, unit_id, last in st_rows:
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
    return (
        await session.scalars(
            select(Member)
            .where(Member.active.is_(True), Member.reachable.is_(True))
            .order_by(Member.id)
        )
    ).all()


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
