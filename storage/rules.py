"""Rules as plain functions: who may do what, traffic lights, plan spacing, problem routing.

Nothing here touches the database or Telegram, so tests call them directly.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from storage.errors import Refused
from storage.models import ProblemCategory, ProblemStatus, Role, Stage, UnitKind


class Action(enum.StrEnum):
    VIEW = "view"
    LOG_PROGRESS = "log_progress"
    RAISE_PROBLEM = "raise_problem"
    ANSWER_PROBLEM = "answer_problem"
    RESOLVE_PROBLEM = "resolve_problem"
    MARK_DONE = "mark_done"
    SET_DUE = "set_due"
    SET_STAGE = "set_stage"
    PLAN = "plan"
    INSTRUCT = "instruct"
    REPORT = "report"
    # Acknowledging a leader's instruction and reporting it done (the unit that must act).
    CARRY_OUT = "carry_out"
    INVITE = "invite"
    IMPORT = "import"
    LINK_GROUP = "link_group"
    URGE = "urge"
    ASK_MORE_TIME = "ask_more_time"
    GRANT_MORE_TIME = "grant_more_time"


@dataclass(frozen=True)
class Grant:
    """Roles allowed an action on their own things (`own`) and on anything (`anywhere`)."""

    own: frozenset[Role] = frozenset()
    anywhere: frozenset[Role] = frozenset()


_UNIT = frozenset({Role.OFFICER, Role.HEAD})
_EVERYONE = frozenset(Role)

# The role table of DESIGN.md, in one place. "Own" means: the project belongs to the
# member's unit (or the problem is routed to it, or the member raised it, for resolve).
PERMISSIONS: Mapping[Action, Grant] = {
    Action.VIEW: Grant(_UNIT, frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})),
    Action.LOG_PROGRESS: Grant(_UNIT, frozenset({Role.COORDINATOR})),
    Action.RAISE_PROBLEM: Grant(_UNIT, frozenset({Role.COORDINATOR})),
    Action.ANSWER_PROBLEM: Grant(_UNIT, frozenset({Role.COORDINATOR})),
    Action.RESOLVE_PROBLEM: Grant(_EVERYONE, frozenset({Role.COORDINATOR})),
    Action.MARK_DONE: Grant(_UNIT, frozenset({Role.COORDINATOR})),
    Action.SET_DUE: Grant(frozenset({Role.HEAD}), frozenset({Role.COORDINATOR})),
    Action.SET_STAGE: Grant(frozenset({Role.HEAD}), frozenset({Role.COORDINATOR})),
    Action.PLAN: Grant(frozenset(), frozenset({Role.COORDINATOR})),
    Action.INSTRUCT: Grant(frozenset(), frozenset({Role.LEADER})),
    # The meeting's briefing is the city's: for those who run and chair the meeting.
    Action.REPORT: Grant(frozenset(), frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})),
    # "Own" here: the instruction is addressed to the member's unit.
    Action.CARRY_OUT: Grant(_UNIT, frozenset({Role.COORDINATOR})),
    Action.INVITE: Grant(frozenset(), frozenset({Role.COORDINATOR, Role.ADMIN})),
    Action.IMPORT: Grant(frozenset(), frozenset({Role.COORDINATOR, Role.ADMIN})),
    Action.LINK_GROUP: Grant(frozenset({Role.HEAD}), frozenset({Role.COORDINATOR, Role.ADMIN})),
    Action.URGE: Grant(frozenset(), frozenset({Role.COORDINATOR})),
    # "Own" here: the item's acting unit is the member's.
    Action.ASK_MORE_TIME: Grant(_UNIT, frozenset({Role.COORDINATOR})),
    Action.GRANT_MORE_TIME: Grant(frozenset({Role.HEAD}), frozenset({Role.COORDINATOR})),
}


def allowed(role: Role, action: Action, *, own: bool = False) -> bool:
    grant = PERMISSIONS[action]
    return role in grant.anywhere or (own and role in grant.own)


def may_ever(role: Role, action: Action) -> bool:
    """Whether the role may do the action on anything at all (what /help shows it)."""
    grant = PERMISSIONS[action]
    return role in grant.anywhere or role in grant.own


def who_to_ask(role: Role, action: Action) -> tuple[Role, ...]:
    """The roles a member refused ACTION can turn to, in the order of the chain.

    The "own" roles help only someone outside them: an officer refused to move a date
    asks the unit head, but a head refused to sign off another's problem gains nothing
    from another head; the "anywhere" roles always can.
    """
    grant = PERMISSIONS[action]
    helpers = set(grant.anywhere) if role in grant.own else grant.own | grant.anywhere
    return tuple(r for r in Role if r in helpers and r is not role)


def require(role: Role, action: Action, *, own: bool = False) -> None:
    """Raise Refused unless the role may do the action; the refusal names who can."""
    if not allowed(role, action, own=own):
        raise Refused("err.not_allowed", who=who_to_ask(role, action))


def sees_everything(role: Role) -> bool:
    return allowed(role, Action.VIEW, own=False)


# Where each role sits: leaders in the leadership, coordinators in the service center,
# officers and heads in the units that do the work (the center may have a head too).
_ROLE_UNITS: Mapping[Role, frozenset[UnitKind]] = {
    Role.LEADER: frozenset({UnitKind.LEADERSHIP}),
    Role.COORDINATOR: frozenset({UnitKind.CENTER}),
    Role.OFFICER: frozenset(UnitKind) - {UnitKind.LEADERSHIP},
    Role.HEAD: frozenset(UnitKind) - {UnitKind.LEADERSHIP},
    Role.ADMIN: frozenset(UnitKind),
}


def role_fits_unit(role: Role, kind: UnitKind) -> bool:
    """Whether a member of ROLE belongs in a unit of KIND: a leader in a township would
    get its prompts and none of the leaders' digests, so an invite like that is refused."""
    return kind in _ROLE_UNITS[role]


def may_invite(inviter: Role, invited: Role) -> bool:
    """Coordinators invite anyone but admins; only admins make admins."""
    if inviter is Role.ADMIN:
        return True
    return inviter is Role.COORDINATOR and invited is not Role.ADMIN


# --- stages -----------------------------------------------------------------------------

STAGE_ORDER = (Stage.NEGOTIATING, Stage.SIGNED, Stage.STARTED, Stage.OPERATING)


def check_stage_move(current: Stage, new: Stage) -> None:
    """A project moves forward, pauses, resumes or is dropped; a dropped one stays dropped.

    Going back (started → signed) would make the three-speeds figures lie, so it is refused;
    a paused project may resume at any stage, since it may have moved while paused.
    """
    if new is current:
        raise Refused("err.stage_same", stage=new.value)
    if current is Stage.DROPPED:
        raise Refused("err.stage_dropped")
    ordered = current in STAGE_ORDER and new in STAGE_ORDER
    if ordered and STAGE_ORDER.index(new) < STAGE_ORDER.index(current):
        raise Refused("err.stage_backward")


# --- traffic lights ---------------------------------------------------------------------


class Light(enum.StrEnum):
    DONE = "done"
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    NONE = "none"


def milestone_light(
    planned: date | None, done: date | None, today: date, soon_days: int = 7
) -> Light:
    """Done, unplanned, overdue (red), due within `soon_days` (yellow) or on track (green)."""
    if done is not None:
        return Light.DONE
    if planned is None:
        return Light.NONE
    if planned < today:
        return Light.RED
    if planned <= today + timedelta(days=soon_days):
        return Light.YELLOW
    return Light.GREEN


def target_light(
    stage: Stage, target_stage: Stage, target: date | None, today: date, soon_days: int = 7
) -> Light:
    """A stage target (签约/开工/投产) as a traffic light, like a milestone's.

    Reached (the project is at or past TARGET_STAGE): done. A paused or dropped project's
    targets are not chased (none).
    """
    if stage in STAGE_ORDER and STAGE_ORDER.index(stage) >= STAGE_ORDER.index(target_stage):
        return Light.DONE
    if stage not in STAGE_ORDER:
        return Light.NONE
    return milestone_light(target, None, today, soon_days)


# --- plans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanStep:
    """One standard milestone of the plan template: due `days_before` the target date."""

    kind: str
    title: str
    days_before: int


def plan_backward(
    target: date,
    steps: Iterable[PlanStep],
    today: date,
    is_workday: Callable[[date], bool] | None = None,
) -> list[tuple[PlanStep, date]]:
    """Space the template's milestones backward from the target date (倒排工期).

    A date that would fall before today is pulled up to today: the work is already late
    for that step, and a deadline in the past would only escalate at once. A date on a
    day off moves back to the working day before it, because a deadline means "by then".
    """
    if target <= today:
        raise Refused("err.plan_past", date=target.isoformat())
    planned: list[tuple[PlanStep, date]] = []
    for step in sorted(steps, key=lambda s: -s.days_before):
        day = target - timedelta(days=step.days_before)
        if is_workday is not None:
            while not is_workday(day) and day > today:
                day -= timedelta(days=1)
        planned.append((step, max(day, today)))
    return planned


# --- problems ---------------------------------------------------------------------------

# Words that give away what a problem is about; the first category that matches wins.
_CATEGORY_WORDS: tuple[tuple[ProblemCategory, re.Pattern[str]], ...] = (
    (ProblemCategory.LAND, re.compile(r"土地|用地|供地|征地|拆迁|地块|摘牌|land|plot", re.I)),
    (
        ProblemCategory.PERMITS,
        re.compile(
            r"环评|审批|许可|办证|证照|产权证|不动产|规划|施工图|"
            r"permit|licen[cs]e|approval|\bEIA\b",
            re.I,
        ),
    ),
    (
        ProblemCategory.UTILITIES,
        re.compile(r"供电|用电|电力|供水|用水|燃气|天然气|道路|管网|water|power|gas|road", re.I),
    ),
    (ProblemCategory.FINANCE, re.compile(r"资金|融资|贷款|补贴|financ|loan|fund|subsid", re.I)),
)


def answers_problems(kind: UnitKind) -> bool:
    """Whether a unit of KIND can be asked to answer a problem. The leadership gives
    instructions (批示); its people have no right to answer, so a problem routed there
    would wait for nobody."""
    return kind is not UnitKind.LEADERSHIP


def guess_category(text: str) -> ProblemCategory:
    for category, pattern in _CATEGORY_WORDS:
        if pattern.search(text):
            return category
    return ProblemCategory.OTHER


def may_reply(status: ProblemStatus) -> bool:
    return status in (ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED, ProblemStatus.ANSWERED)


def may_resolve(status: ProblemStatus) -> bool:
    return status in (ProblemStatus.OPEN, ProblemStatus.ACKNOWLEDGED, ProblemStatus.ANSWERED)
