"""The escalation rules: which level an item deserves, and one step a day."""

from __future__ import annotations

from datetime import date

import pytest

from storage.escalation import Thresholds, milestone_target, next_level, problem_target
from storage.models import ProblemStatus as S

TH = Thresholds(problem_ack_days=1, problem_answer_days=3, problem_resolve_days=10)


@pytest.mark.parametrize(
    ("status", "waited", "level"),
    [
        (S.OPEN, 0, 0),
        (S.OPEN, 1, 1),
        (S.OPEN, 3, 2),
        (S.ACKNOWLEDGED, 2, 0),  # acknowledged: no climb for the first threshold
        (S.ACKNOWLEDGED, 3, 2),
        (S.ANSWERED, 9, 0),  # answered: only the resolve threshold is left
        (S.ANSWERED, 10, 3),
        (S.OPEN, 12, 3),
        (S.RESOLVED, 30, 0),
    ],
)
def test_problem_target(status: S, waited: int, level: int) -> None:
    assert problem_target(status, waited, TH) == level


@pytest.mark.parametrize(("overdue", "level"), [(0, 0), (1, 1), (2, 1), (3, 2), (5, 3), (40, 3)])
def test_milestone_target(overdue: int, level: int) -> None:
    assert milestone_target(overdue, TH) == level


def test_one_step_a_day_and_never_past_the_top() -> None:
    today = date(2026, 12, 3)
    assert next_level(0, 3, None, today) == 1
    assert next_level(1, 3, date(2026, 12, 3), today) == 1  # already climbed today
    assert next_level(1, 3, date(2026, 12, 2), today) == 2
    assert next_level(2, 2, date(2026, 12, 1), today) == 2
    assert next_level(3, 3, date(2026, 12, 1), today) == 3
    assert next_level(2, 1, None, today) == 2  # never climbs down by itself
