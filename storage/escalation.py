"""When a late item climbs the chain: plain rules over working days, no database.

Levels: 0 nobody yet (the daily prompt only), 1 the unit head (blue), 2 the service center
(yellow), 3 the leader in charge (red). An item climbs at most one step per working day,
so each level has at least a day to act before the next one hears of it, and no step is
ever skipped; the level and the day it last climbed are kept on the item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storage.models import ProblemStatus

TOP_LEVEL = 3
COLOURS = {1: "blue", 2: "yellow", 3: "red"}


@dataclass(frozen=True)
class Thresholds:
    """Working days after which an item deserves each level."""

    problem_ack_days: int = 1
    problem_answer_days: int = 3
    problem_resolve_days: int = 10
    milestone_days: tuple[int, ...] = (1, 3, 5)


def problem_target(status: ProblemStatus, waited: int, th: Thresholds) -> int:
    """The level a problem deserves after WAITED working days in STATUS.

    Not acknowledged after A days: the head; not answered after B: the center; not
    resolved after C: the leader. Acknowledging stops the first climb, answering the second.
    """
    level = 0
    if status is ProblemStatus.OPEN and waited >= th.problem_ack_days:
        level = 1
    if status in (ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED) and waited >= (
        th.problem_answer_days
    ):
        level = 2
    if status in (
        ProblemStatus.OPEN,
        ProblemStatus.ACKNOWLEDGED,
        ProblemStatus.ANSWERED,
    ) and waited >= (th.problem_resolve_days):
        level = 3
    return level


def milestone_target(overdue: int, th: Thresholds) -> int:
    """The level a milestone deserves when OVERDUE working days late."""
    return sum(1 for days in th.milestone_days[:TOP_LEVEL] if overdue >= days)


def next_level(current: int, target: int, last_climbed: date | None, today: date) -> int:
    """One step toward the target, unless the item already climbed today."""
    if target <= current or (last_climbed is not None and last_climbed >= today):
        return current
    return min(current + 1, TOP_LEVEL)
