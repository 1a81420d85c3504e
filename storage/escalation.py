"""Whose turn it is, and when a late item climbs the chain: plain rules, no database.

Levels: 0 nobody yet (the daily prompt only), 1 the head of the waiting party's unit
(blue), 2 the service center (yellow), 3 the leader in charge (red). An item climbs at
most one step per working day, so each level has at least a day to act before the next
one hears of it, and no step is ever skipped; the level and the day it last climbed are
kept on the item.

Every item waits for one party against one deadline of its own (DESIGN.md, "Whose turn
it is"), and climbs only once that deadline has passed:
- a problem that is open or acknowledged waits for the answering unit, until its reply
  deadline (written in the problem, granted by an extension, or `[work] reply_days`);
- an answered problem waits for its raiser (or a coordinator) to sign it off or reopen
  it, until `problem_resolve_days` working days after the answer; the answering unit is
  never pressed again;
- a milestone, and the target date of the stage a project is heading for, wait for
  their responsible unit until that date;
- a leader's instruction (批示) waits for the unit it is addressed to, until its deadline
  (written in it, granted by an extension, or `[work] instruction_days`), and climbs on
  its own timers: `instruction_done_days` past the deadline without a report of
  completion.
Late by `late_days` = 1, 3, 5 working days, the item deserves levels 1, 2, 3. The only
climb before a deadline is the receipt: a problem nobody acknowledged after
`problem_ack_days` (an instruction: `instruction_ack_days`) goes to the head, unless it
was given a deadline later than the configured term (then nothing climbs before that
deadline).
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass
from datetime import date

from storage.models import ProblemStatus, Stage
from storage.rules import STAGE_ORDER
from storage.workdays import WorkCalendar

TOP_LEVEL = 3
COLOURS = {1: "blue", 2: "yellow", 3: "red"}


@dataclass(frozen=True)
class Thresholds:
    """Working days that move items up the chain (the config's `[escalation]`)."""

    problem_ack_days: int = 1
    problem_resolve_days: int = 5
    late_days: tuple[int, ...] = (1, 3, 5)
    # A leader's instruction: its receipt climbs after instruction_ack_days; not reported
    # done, it reaches level 1, 2 and 3 this many working days past its deadline.
    instruction_ack_days: int = 1
    instruction_done_days: tuple[int, ...] = (1, 2, 3)


class Turn(enum.StrEnum):
    """Who a problem waits for."""

    UNIT = "unit"  # the answering unit: acknowledge and answer
    RAISER = "raiser"  # the raiser (or a coordinator): sign off or reopen
    NOBODY = "nobody"  # resolved or closed


# The statuses in which a problem waits for its answering unit.
UNIT_TURN = (ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED)


def problem_turn(status: ProblemStatus) -> Turn:
    if status in UNIT_TURN:
        return Turn.UNIT
    if status is ProblemStatus.ANSWERED:
        return Turn.RAISER
    return Turn.NOBODY


def late_target(late: int, th: Thresholds) -> int:
    """The level an item deserves when LATE working days past its deadline."""
    return _steps(late, th.late_days)


def _steps(late: int, days: tuple[int, ...]) -> int:
    return sum(1 for step in days[:TOP_LEVEL] if late >= step)


def _receipt_owed(
    given: date, deadline: date, today: date, calendar: WorkCalendar, ack_days: int, term: int
) -> bool:
    """Whether an item given on GIVEN and not acknowledged owes its receipt by TODAY: after
    ACK_DAYS working days, unless its deadline lies beyond the configured TERM (working
    days), which gave the unit that long."""
    # Given on a day off, the unit's first working day is its first to see it.
    seen_from = calendar.next_workday(given)
    unacknowledged = calendar.workdays_between(seen_from, today) >= ack_days
    return unacknowledged and deadline <= calendar.add_workdays(given, term)


def signoff_deadline(answered: date, calendar: WorkCalendar, th: Thresholds) -> date:
    """The last day the raiser has to sign off (or reopen) an answer given on ANSWERED."""
    return calendar.add_workdays(answered, th.problem_resolve_days)


@dataclass(frozen=True)
class ProblemClock:
    """A problem's state as the rules need it; dates are local calendar days."""

    status: ProblemStatus
    raised: date
    reply_deadline: date | None
    answered: date | None = None


def problem_deadline(
    p: ProblemClock, calendar: WorkCalendar, th: Thresholds, reply_days: int
) -> date | None:
    """The deadline of whoever's turn it is (None when it is nobody's)."""
    turn = problem_turn(p.status)
    if turn is Turn.UNIT:
        return p.reply_deadline or calendar.add_workdays(p.raised, reply_days)
    if turn is Turn.RAISER:
        return signoff_deadline(p.answered or p.raised, calendar, th)
    return None


def problem_target(
    p: ProblemClock, today: date, calendar: WorkCalendar, th: Thresholds, reply_days: int
) -> int:
    """The level a problem deserves today, measured against its own current deadline.

    REPLY_DAYS is `[work] reply_days`, the configured reply term: a problem whose
    deadline lies no later than that term still owes a receipt after `problem_ack_days`.
    """
    deadline = problem_deadline(p, calendar, th, reply_days)
    if deadline is None:
        return 0
    level = late_target(calendar.workdays_between(deadline, today), th)
    if p.status is ProblemStatus.OPEN and _receipt_owed(
        p.raised, deadline, today, calendar, th.problem_ack_days, reply_days
    ):
        level = max(level, 1)
    return level


@dataclass(frozen=True)
class InstructionClock:
    """An open instruction as the rules need it; dates are local calendar days."""

    given: date
    deadline: date | None  # None: given before instructions had deadlines
    acknowledged: bool


def instruction_deadline(
    c: InstructionClock, calendar: WorkCalendar, instruction_days: int
) -> date:
    """The day by which the unit must report the instruction done: its own deadline, else
    INSTRUCTION_DAYS (`[work] instruction_days`) working days after it was given."""
    return c.deadline or calendar.add_workdays(c.given, instruction_days)


def instruction_target(
    c: InstructionClock,
    today: date,
    calendar: WorkCalendar,
    th: Thresholds,
    instruction_days: int,
) -> int:
    """The level an instruction not yet reported done deserves TODAY.

    Past its deadline by `instruction_done_days` working days it deserves levels 1, 2, 3;
    before that, only the receipt climbs, as for a problem: not acknowledged after
    `instruction_ack_days` working days it goes to the head, unless the leader gave a
    deadline later than INSTRUCTION_DAYS working days.
    """
    deadline = instruction_deadline(c, calendar, instruction_days)
    level = _steps(calendar.workdays_between(deadline, today), th.instruction_done_days)
    if not c.acknowledged and _receipt_owed(
        c.given, deadline, today, calendar, th.instruction_ack_days, instruction_days
    ):
        level = max(level, 1)
    return level


# The stage a project heads for from each stage, and so which target date it must meet.
NEXT_STAGE = dict(itertools.pairwise(STAGE_ORDER))


def pending_target(stage: Stage, targets: dict[Stage, date | None]) -> tuple[Stage, date] | None:
    """The next stage and its target date (签约/开工/投产), if the project has one.

    TARGETS maps signed/started/operating to the ledger's target dates. Paused, dropped
    and operating projects have none pending.
    """
    heading = NEXT_STAGE.get(stage)
    if heading is None:
        return None
    target = targets.get(heading)
    return (heading, target) if target is not None else None


def next_level(current: int, target: int, last_climbed: date | None, today: date) -> int:
    """One step toward the target, unless the item already climbed today."""
    if target <= current or (last_climbed is not None and last_climbed >= today):
        return current
    return min(current + 1, TOP_LEVEL)
