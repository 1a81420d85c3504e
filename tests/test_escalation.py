"""The escalation rules: whose turn it is, against which deadline, and one step a day.

Days are in the week after National Day 2026: 1–7 October off, Saturday 10 a make-up
working day, Sunday 11 off.
"""

from __future__ import annotations

from datetime import date

import pytest

from storage.escalation import (
    ProblemClock,
    Thresholds,
    Turn,
    late_target,
    next_level,
    pending_target,
    problem_deadline,
    problem_target,
    problem_turn,
)
from storage.models import ProblemStatus as S
from storage.models import Stage
from storage.workdays import WorkCalendar

TH = Thresholds(problem_ack_days=1, problem_resolve_days=5, late_days=(1, 3, 5))
CAL = WorkCalendar()
REPLY_DAYS = 3
RAISED = date(2026, 10, 8)  # Thursday
DEFAULT = CAL.add_workdays(RAISED, REPLY_DAYS)  # Monday 12th (the make-up Saturday counts)


def d(day: int, month: int = 10) -> date:
    return date(2026, month, day)


def level(
    status: S, today: date, deadline: date | None = DEFAULT, answered: date | None = None
) -> int:
    clock = ProblemClock(status, RAISED, deadline, answered)
    return problem_target(clock, today, CAL, TH, REPLY_DAYS)


def test_the_default_deadline_is_the_configured_term() -> None:
    assert d(12) == DEFAULT


@pytest.mark.parametrize(
    ("status", "today", "expected"),
    [
        (S.OPEN, d(8), 0),  # the day it is raised
        (S.OPEN, d(9), 1),  # not acknowledged after a working day: the head
        (S.ACKNOWLEDGED, d(9), 0),  # acknowledged: nothing climbs before the deadline
        (S.ACKNOWLEDGED, d(12), 0),  # the deadline day itself is not late
        (S.ACKNOWLEDGED, d(13), 1),  # 1 working day late
        (S.ACKNOWLEDGED, d(14), 1),
        (S.ACKNOWLEDGED, d(15), 2),  # 3 late: the service center
        (S.ACKNOWLEDGED, d(19), 3),  # 5 late: the leader
        (S.OPEN, d(15), 2),
        (S.RESOLVED, d(30), 0),
        (S.CLOSED, d(30), 0),
    ],
)
def test_unit_turn_against_the_configured_term(status: S, today: date, expected: int) -> None:
    assert level(status, today) == expected


@pytest.mark.parametrize(
    ("deadline", "today", "expected"),
    [
        # 请下下周五前答复, written on Thu 8th: Friday 23rd. Nothing climbs before it, not
        # even the receipt: the raiser gave the unit that long.
        (d(23), d(9), 0),
        (d(23), d(13), 0),
        (d(23), d(23), 0),
        (d(23), d(26), 1),
        (d(23), d(28), 2),
        # a shorter deadline than the term (明天前答复) still owes the receipt
        (d(9), d(9), 1),
        (d(9), d(12), 1),
        (d(9), d(14), 2),
    ],
)
def test_a_written_deadline_holds_back_every_climb(
    deadline: date, today: date, expected: int
) -> None:
    assert level(S.OPEN, today, deadline) == expected


def test_an_extension_is_a_new_deadline() -> None:
    # granted on the 14th until the 30th: late again only after the 30th
    assert level(S.ACKNOWLEDGED, d(15), d(30)) == 0
    assert level(S.ACKNOWLEDGED, d(29), d(30)) == 0
    assert level(S.ACKNOWLEDGED, d(2, 11), d(30)) == 1


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (d(13), 0),  # answered Tue 13th: the raiser has 5 working days to sign off
        (d(20), 0),  # the 5th working day after the answer
        (d(21), 1),
        (d(23), 2),
        (d(27), 3),
    ],
)
def test_an_answer_waits_for_the_raisers_sign_off(today: date, expected: int) -> None:
    # the unit's deadline long past makes no difference once it has answered
    assert level(S.ANSWERED, today, d(9), answered=d(13)) == expected


def test_whose_turn() -> None:
    assert problem_turn(S.OPEN) is Turn.UNIT
    assert problem_turn(S.ACKNOWLEDGED) is Turn.UNIT
    assert problem_turn(S.ANSWERED) is Turn.RAISER
    assert problem_turn(S.RESOLVED) is Turn.NOBODY
    clock = ProblemClock(S.ANSWERED, RAISED, d(9), d(13))
    assert problem_deadline(clock, CAL, TH, REPLY_DAYS) == d(20)
    assert problem_deadline(ProblemClock(S.CLOSED, RAISED, d(9)), CAL, TH, REPLY_DAYS) is None


@pytest.mark.parametrize(("late", "expected"), [(0, 0), (1, 1), (2, 1), (3, 2), (5, 3), (40, 3)])
def test_late_target(late: int, expected: int) -> None:
    assert late_target(late, TH) == expected


def test_the_pending_target_is_the_next_stages() -> None:
    targets: dict[Stage, date | None] = {
        Stage.SIGNED: d(1),
        Stage.STARTED: d(2),
        Stage.OPERATING: None,
    }
    assert pending_target(Stage.NEGOTIATING, targets) == (Stage.SIGNED, d(1))
    assert pending_target(Stage.SIGNED, targets) == (Stage.STARTED, d(2))
    assert pending_target(Stage.STARTED, targets) is None  # no date: nothing to chase
    assert pending_target(Stage.OPERATING, targets) is None
    assert pending_target(Stage.PAUSED, targets) is None
    assert pending_target(Stage.DROPPED, targets) is None


def test_one_step_a_day_and_never_past_the_top() -> None:
    today = date(2026, 12, 3)
    assert next_level(0, 3, None, today) == 1
    assert next_level(1, 3, date(2026, 12, 3), today) == 1  # already climbed today
    assert next_level(1, 3, date(2026, 12, 2), today) == 2
    assert next_level(2, 2, date(2026, 12, 1), today) == 2
    assert next_level(3, 3, date(2026, 12, 1), today) == 3
    assert next_level(2, 1, None, today) == 2  # never climbs down by itself


def test_a_problem_raised_on_a_day_off_owes_its_receipt_a_working_day_later() -> None:
    # Raised on National Day (Thu 1 Oct); the first working day is Thu 8th: the unit has
    # that day to acknowledge, and only on Fri 9th is the receipt late.
    clock = ProblemClock(S.OPEN, d(1), CAL.add_workdays(d(1), REPLY_DAYS))
    assert problem_target(clock, d(8), CAL, TH, REPLY_DAYS) == 0
    assert problem_target(clock, d(9), CAL, TH, REPLY_DAYS) == 1
    # raised on the make-up Saturday, a working day, it is owed on Monday
    clock = ProblemClock(S.OPEN, d(10), CAL.add_workdays(d(10), REPLY_DAYS))
    assert problem_target(clock, d(12), CAL, TH, REPLY_DAYS) == 1
