"""The plain rules: the role table, traffic lights, backward planning, problem routing."""

from __future__ import annotations

from datetime import date

import pytest

from bot.texts import CATALOG, t
from storage.errors import Refused
from storage.models import ProblemCategory, Role, Stage
from storage.rules import (
    Action,
    Light,
    PlanStep,
    allowed,
    check_stage_move,
    guess_category,
    may_invite,
    milestone_light,
    plan_backward,
)


@pytest.mark.parametrize(
    ("role", "action", "own", "expected"),
    [
        (Role.OFFICER, Action.LOG_PROGRESS, True, True),
        (Role.OFFICER, Action.LOG_PROGRESS, False, False),
        (Role.OFFICER, Action.SET_DUE, True, False),
        (Role.HEAD, Action.SET_DUE, True, True),
        (Role.HEAD, Action.SET_DUE, False, False),
        (Role.COORDINATOR, Action.SET_DUE, False, True),
        (Role.COORDINATOR, Action.PLAN, False, True),
        (Role.HEAD, Action.PLAN, True, False),
        (Role.LEADER, Action.VIEW, False, True),
        (Role.LEADER, Action.LOG_PROGRESS, False, False),
        (Role.LEADER, Action.INSTRUCT, False, True),
        (Role.COORDINATOR, Action.INSTRUCT, False, False),
        (Role.OFFICER, Action.RESOLVE_PROBLEM, True, True),
        (Role.OFFICER, Action.RESOLVE_PROBLEM, False, False),
        (Role.ADMIN, Action.INVITE, False, True),
        (Role.OFFICER, Action.INVITE, True, False),
        (Role.ADMIN, Action.LOG_PROGRESS, False, False),
        (Role.OFFICER, Action.ASK_MORE_TIME, True, True),
        (Role.LEADER, Action.ASK_MORE_TIME, False, False),
        (Role.OFFICER, Action.GRANT_MORE_TIME, True, False),
        (Role.HEAD, Action.GRANT_MORE_TIME, True, True),
        (Role.HEAD, Action.GRANT_MORE_TIME, False, False),
        (Role.COORDINATOR, Action.GRANT_MORE_TIME, False, True),
        (Role.COORDINATOR, Action.URGE, False, True),
        (Role.LEADER, Action.URGE, False, False),
    ],
)
def test_role_table(role: Role, action: Action, own: bool, expected: bool) -> None:
    assert allowed(role, action, own=own) is expected


def test_invite_roles() -> None:
    assert may_invite(Role.ADMIN, Role.ADMIN)
    assert may_invite(Role.COORDINATOR, Role.LEADER)
    assert not may_invite(Role.COORDINATOR, Role.ADMIN)
    assert not may_invite(Role.HEAD, Role.OFFICER)


@pytest.mark.parametrize(
    ("planned", "done", "expected"),
    [
        (date(2026, 12, 1), None, Light.RED),
        (date(2026, 12, 3), None, Light.YELLOW),
        (date(2026, 12, 10), None, Light.YELLOW),
        (date(2026, 12, 11), None, Light.GREEN),
        (None, None, Light.NONE),
        (date(2026, 11, 1), date(2026, 11, 2), Light.DONE),
    ],
)
def test_milestone_light(planned: date | None, done: date | None, expected: Light) -> None:
    assert milestone_light(planned, done, date(2026, 12, 3), soon_days=7) is expected


def test_plan_backward_spacing_and_weekends() -> None:
    steps = [PlanStep("site", "选址", 30), PlanStep("go", "开工", 0), PlanStep("land", "土地", 8)]
    plan = plan_backward(date(2027, 1, 31), steps, date(2026, 12, 3), lambda d: d.weekday() < 5)
    assert [(s.kind, d) for s, d in plan] == [
        ("site", date(2027, 1, 1)),  # a Friday: a working day on this calendar
        ("land", date(2027, 1, 22)),  # the 23rd is a Saturday: moved back to Friday
        ("go", date(2027, 1, 29)),  # the 31st is a Sunday: moved back to Friday
    ]


def test_plan_pulls_past_steps_up_to_today_and_refuses_a_past_target() -> None:
    plan = plan_backward(date(2026, 12, 10), [PlanStep("site", "选址", 60)], date(2026, 12, 3))
    assert plan[0][1] == date(2026, 12, 3)
    with pytest.raises(Refused) as info:
        plan_backward(date(2026, 12, 3), [], date(2026, 12, 3))
    assert info.value.key == "err.plan_past"


def test_stage_moves() -> None:
    check_stage_move(Stage.SIGNED, Stage.STARTED)
    check_stage_move(Stage.PAUSED, Stage.STARTED)
    with pytest.raises(Refused):
        check_stage_move(Stage.DROPPED, Stage.SIGNED)
    with pytest.raises(Refused):
        check_stage_move(Stage.SIGNED, Stage.SIGNED)
    with pytest.raises(Refused) as info:
        check_stage_move(Stage.STARTED, Stage.SIGNED)
    assert info.value.key == "err.stage_backward"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("用地指标还没有落实", ProblemCategory.LAND),
        ("环评审批卡住了", ProblemCategory.PERMITS),
        ("厂区供电线路未接入", ProblemCategory.UTILITIES),
        ("企业融资困难", ProblemCategory.FINANCE),
        ("the construction permit is late", ProblemCategory.PERMITS),
        ("招工难", ProblemCategory.OTHER),
        ("保证金未退还", ProblemCategory.OTHER),
    ],
)
def test_guess_category(text: str, category: ProblemCategory) -> None:
    assert guess_category(text) is category


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    import string

    zh, en = CATALOG["zh"], CATALOG["en"]
    assert set(zh) == set(en)
    for key in zh:
        fields_zh = {f for _, f, _, _ in string.Formatter().parse(zh[key]) if f}
        fields_en = {f for _, f, _, _ in string.Formatter().parse(en[key]) if f}
        assert fields_zh == fields_en, key


def test_every_refusal_key_is_in_the_catalog() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).parent.parent
    used: set[str] = set()
    for path in [*root.glob("storage/*.py"), *root.glob("bot/**/*.py")]:
        used |= set(re.findall(r'Refused\(\s*"([a-z_.]+)"', path.read_text()))
    missing = {k for k in used if k not in CATALOG["zh"]}
    assert not missing


def test_t_escapes_html_in_values() -> None:
    assert t("en", "err.unknown_unit", unit="<b>x</b>") == "No unit “&lt;b&gt;x&lt;/b&gt;”."
