"""The plain rules: the role table, traffic lights, backward planning, problem routing."""

from __future__ import annotations

from datetime import date

import pytest

from bot.texts import CATALOG, t
from storage.errors import Refused
from storage.models import ProblemCategory, Role, Stage
from storage.rules import (
    PERMISSIONS,
    Action,
    Light,
    PlanStep,
    allowed,
    check_stage_move,
    guess_category,
    may_ever,
    may_invite,
    milestone_light,
    plan_backward,
    require,
    who_to_ask,
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
        ("供地时间不明确", ProblemCategory.LAND),
        ("摘牌一直没有安排", ProblemCategory.LAND),
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


# --- who can, when a member may not --------------------------------------------------


@pytest.mark.parametrize(
    ("role", "action", "expected"),
    [
        (Role.OFFICER, Action.SET_DUE, (Role.HEAD, Role.COORDINATOR)),
        (Role.OFFICER, Action.PLAN, (Role.COORDINATOR,)),
        (Role.OFFICER, Action.INVITE, (Role.COORDINATOR, Role.ADMIN)),
        (Role.OFFICER, Action.URGE, (Role.COORDINATOR,)),
        (Role.COORDINATOR, Action.INSTRUCT, (Role.LEADER,)),
        (Role.LEADER, Action.LOG_PROGRESS, (Role.OFFICER, Role.HEAD, Role.COORDINATOR)),
        # another head cannot sign off a problem this head did not raise: only the center
        (Role.HEAD, Action.RESOLVE_PROBLEM, (Role.COORDINATOR,)),
        (Role.HEAD, Action.SET_DUE, (Role.COORDINATOR,)),
    ],
)
def test_who_to_ask(role: Role, action: Action, expected: tuple[Role, ...]) -> None:
    assert who_to_ask(role, action) == expected


def test_a_refusal_names_only_roles_that_may_do_it() -> None:
    for action in Action:
        for role in Role:
            if allowed(role, action, own=False):
                continue
            with pytest.raises(Refused) as info:
                require(role, action)
            who = info.value.params["who"]
            assert who, (role, action)
            assert role not in who
            assert all(may_ever(r, action) for r in who)


def test_may_ever_reads_the_table() -> None:
    assert may_ever(Role.HEAD, Action.SET_DUE)
    assert not may_ever(Role.OFFICER, Action.SET_DUE)
    assert may_ever(Role.LEADER, Action.INSTRUCT)
    assert not may_ever(Role.ADMIN, Action.LOG_PROGRESS)
    for action, grant in PERMISSIONS.items():
        assert {r for r in Role if may_ever(r, action)} == grant.own | grant.anywhere


def test_help_lists_each_role_its_own_commands() -> None:
    from bot.handlers.start import HELP, help_text

    for role in Role:
        shown = help_text("en", role)
        for name, action in HELP:
            assert (f"/{name} " in shown) is (action is None or may_ever(role, action)), (
                role,
                name,
            )
    officer = help_text("zh", Role.OFFICER)
    assert "/progress" in officer and "/invite" not in officer and "/urge" not in officer
    leader = help_text("zh", Role.LEADER)
    assert "/instruct" in leader and "/progress" not in leader


# --- how a refusal reads ------------------------------------------------------------


def test_refusal_says_enum_values_as_words_in_the_members_language() -> None:
    from bot.handlers.base import refusal

    closed = Refused("err.problem_closed", id=3, status="resolved")
    assert "「已解决」" in refusal("zh", closed) and "resolved" not in refusal("zh", closed)
    assert "already resolved" in refusal("en", closed)


def test_refusal_names_who_can() -> None:
    from bot.handlers.base import refusal

    with pytest.raises(Refused) as info:
        require(Role.OFFICER, Action.SET_DUE)
    assert refusal("zh", info.value) == "您没有权限执行此操作，请联系单位负责人或招商服务中心。"
    assert refusal("en", info.value).endswith("ask the unit head or the investment service center.")
    with pytest.raises(Refused) as info:
        require(Role.LEADER, Action.LOG_PROGRESS)
    assert "责任单位专员、单位负责人或招商服务中心" in refusal("zh", info.value)
    # a refusal without the action (nobody approves their own request) stays plain
    assert refusal("zh", Refused("err.not_allowed")) == "您没有权限执行此操作。"


def test_an_over_long_quote_still_fits_one_message() -> None:
    from bot.handlers.base import refusal, split_message

    text = "<&>" * 700
    with pytest.raises(Refused) as info:
        from storage.projects import check_text

        check_text(text)
    said = refusal("zh", info.value)
    assert "2100" in said and "2000" in said
    assert len(split_message(said)) == 1 and said.count("<code>") == 1


# --- English plurals ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "1 milestone overdue"), (2, "2 milestones overdue")],
)
def test_english_plural_words(n: int, expected: str) -> None:
    assert expected in t("en", "today.overdue", n=n)


def test_english_counts_use_the_plural_spec() -> None:
    """A number followed by a bare plural noun reads "1 milestones" when the number is 1."""
    import re

    from bot.texts import core

    nouns = "milestones|problems|projects|days|items|messages|units|members|people|reports"
    bare = re.compile(rf"\{{\w+\}} (?:working )?(?:{nouns})\b")
    offenders = {k: v for k, v in core.EN.items() if bare.search(v)}
    assert offenders == {}
    assert (
        t("en", "today.waiting_row", id=1, code="Q", days=1, text="") == "  #1 Q (waiting 1 day) "
    )


@pytest.mark.parametrize(
    ("typed", "role"),
    [
        ("专员", Role.OFFICER),
        ("officer", Role.OFFICER),
        ("负责人", Role.HEAD),
        ("单位负责人", Role.HEAD),
        ("Unit Head", Role.HEAD),
        ("ＨＥＡＤ", Role.HEAD),
        ("协调员", Role.COORDINATOR),
        ("服务中心", Role.COORDINATOR),
        ("市领导", Role.LEADER),
        ("分管领导", Role.LEADER),
        ("管理员", Role.ADMIN),
    ],
)
def test_roles_are_read_by_any_of_their_names(typed: str, role: Role) -> None:
    from bot.handlers.start import parse_role

    assert parse_role(typed) is role


def test_an_unknown_role_is_refused() -> None:
    from bot.handlers.start import parse_role

    with pytest.raises(Refused):
        parse_role("局长助理")


@pytest.mark.parametrize(
    ("line", "unit", "role"),
    [
        ("青山镇 专员", "青山镇", Role.OFFICER),
        ("城东街道，单位负责人", "城东街道", Role.HEAD),
        ("城东街道 unit head", "城东街道", Role.HEAD),
        ("城东街道　head of unit", "城东街道", Role.HEAD),
        ("经开区（高新区） 负责人", "经开区（高新区）", Role.HEAD),
        ("招商服务中心：协调员", "招商服务中心", Role.COORDINATOR),
    ],
)
def test_invite_reads_the_unit_and_a_role_of_several_words(
    line: str, unit: str, role: Role
) -> None:
    from bot.handlers.start import split_unit_role

    assert split_unit_role(line) == (unit, role)
