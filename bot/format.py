"""Turning records into the HTML that members read; every word comes from the catalog."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, tzinfo
from decimal import Decimal

from bot.config import WorkConfig
from bot.texts import Raw, t
from storage.agenda import Agenda, InstructionRow
from storage.extensions import Item
from storage.models import Milestone, Problem, ProblemStatus, Project, Stage
from storage.projects import Card
from storage.rules import Light, milestone_light, target_light
from storage.wallchart import project_light
from storage.workdays import WorkCalendar

LIGHTS = {
    Light.DONE: "✅",
    Light.GREEN: "🟢",
    Light.YELLOW: "🟡",
    Light.RED: "🔴",
    Light.NONE: "⚪",
}


# The escalation level an item reached: blue (the unit head), yellow (the center), red.
MARKS = {0: "", 1: "🟦", 2: "🟨", 3: "🟥"}


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def money(value: Decimal | None) -> str:
    """An amount in 万元 without trailing zeros: 12000, 3.5."""
    if value is None:
        return "—"
    return f"{value.normalize():f}"


def day(lang: str, d: date | None) -> str:
    """A date with its weekday, so that a misread date shows at once."""
    if d is None:
        return "—"
    return t(lang, "fmt.date", iso=d.isoformat(), wd=t(lang, f"wd.{d.weekday()}"))


# chinese_calendar's names of the statutory holidays (WorkCalendar.holiday_name), as the
# catalog's keys name them.
HOLIDAYS = {
    "New Year's Day": "new_year",
    "Spring Festival": "spring",
    "Tomb-sweeping Day": "qingming",
    "Labour Day": "labour",
    "Dragon Boat Festival": "dragon_boat",
    "National Day": "national",
    "Mid-autumn Festival": "mid_autumn",
    "Anti-Fascist 70th Day": "victory",
}


def day_off_note(lang: str, d: date | None, calendar: WorkCalendar) -> str:
    """A line saying that the deadline D falls on a day off, naming the holiday if it is
    one ("" on a working day, make-up days included). The date is kept as written: the
    writer may well mean it, and sees at once if not."""
    if d is None or calendar.is_workday(d):
        return ""
    name = calendar.holiday_name(d)
    if name is None:
        return t(lang, "warn.day_off", date=day(lang, d))
    slug = HOLIDAYS.get(name)
    label = t(lang, f"holiday.{slug}") if slug else name
    return t(lang, "warn.day_off_holiday", date=day(lang, d), name=label)


def stage(lang: str, value: str) -> str:
    return t(lang, f"stage.{value}")


def milestone_title(lang: str, m: Milestone) -> str:
    """The catalog's name for a standard milestone in English; the stored title otherwise."""
    return kind_title(lang, m.kind, m.title)


def kind_title(lang: str, kind: str, title: str) -> str:
    """A milestone's name from its KIND (site, land…) in English, else its stored TITLE."""
    if lang != "zh":
        known = t(lang, f"ms.{kind}")
        if known != f"ms.{kind}":
            return known
    return title


def milestone_line(lang: str, m: Milestone, today: date, soon_days: int) -> str:
    light = milestone_light(m.planned_date, m.done_date, today, soon_days)
    when = (
        t(lang, "card.ms_done", date=day(lang, m.done_date))
        if m.done_date
        else day(lang, m.planned_date)
    )
    return f"{LIGHTS[light]} {m.seq}. {esc(milestone_title(lang, m))} — {when}"


def problem_line(lang: str, p: Problem) -> str:
    return t(
        lang,
        "card.problem",
        id=p.id,
        status=t(lang, f"pstatus.{p.status.value}"),
        unit=p.unit.name,
        text=short(p.text),
    )


def item_label(lang: str, item: Item) -> str:
    """A milestone, problem or instruction that can be given more time, as its requests
    name it."""
    if item.kind == "problem":
        return t(lang, "item.problem", id=item.id, code=item.code)
    if item.kind == "instruction":
        return t(lang, "item.instruction", id=item.id, code=item.code)
    title = f"{item.seq}. {kind_title(lang, item.ms_kind, item.title)}"
    return t(lang, "item.milestone", code=item.code, title=title)


def short(text: str, limit: int = 80) -> str:
    """TEXT cut to LIMIT characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def instruction_state(lang: str, row: InstructionRow, today: date, calendar: WorkCalendar) -> str:
    """Where an open instruction stands: new or acknowledged, or overdue by so many working
    days, and whether more time was asked for."""
    i = row.instruction
    if row.dropped:
        # No deadline runs on a dropped project's instruction: the unit only closes it.
        return t(lang, "instr.state.dropped")
    if i.deadline is not None and i.deadline < today:
        late = calendar.workdays_between(i.deadline, today)
        parts = [t(lang, "instr.state.overdue", late=late) if late else t(lang, "instr.state.past")]
    else:
        parts = [t(lang, "instr.state.acknowledged" if i.acknowledged_at else "instr.state.new")]
    if row.pending:
        parts.append(t(lang, "instr.state.pending"))
    return " · ".join(parts)


def instruction_list(
    lang: str,
    rows: Sequence[InstructionRow],
    today: date,
    calendar: WorkCalendar,
    *,
    hint: bool = False,
) -> str:
    """`/instructions`: the open ones, numbered, each with its unit, deadline and state.
    HINT: the reader may carry them out, so say how."""
    if not rows:
        return t(lang, "instr.none")
    lines = [t(lang, "instr.title", n=len(rows))]
    for n, row in enumerate(rows, start=1):
        i = row.instruction
        lines.append(
            t(
                lang,
                "instr.row",
                n=n,
                id=i.id,
                code=row.code,
                unit=row.unit,
                leader=row.leader,
                date=day(lang, i.deadline),
                state=instruction_state(lang, row, today, calendar),
                text=short(i.text, 120),
            )
        )
    if hint:
        lines.append(t(lang, "instr.hint"))
    return "\n".join(lines)


TARGETS = (Stage.SIGNED, Stage.STARTED, Stage.OPERATING)


def project_card(
    lang: str,
    card: Card,
    today: date,
    soon_days: int,
    *,
    may_plan: bool = True,
    instructions: Sequence[InstructionRow] = (),
    calendar: WorkCalendar | None = None,
) -> str:
    """The project card. MAY_PLAN: the reader may run /plan, so an empty time list
    suggests it; anyone else is told who plans. INSTRUCTIONS: the project's open leader's
    instructions, shown with their state on CALENDAR's working days."""
    p = card.project
    # The same light as the project's row on the wall chart and in the briefing.
    light = project_light(
        stage=p.stage,
        targets=p.targets,
        milestones=[(m.planned_date, m.done_date, m.escalation_level) for m in card.milestones],
        problem_levels=[q.escalation_level for q in card.problems],
        instructions=[
            (r.instruction.deadline, r.instruction.escalation_level) for r in instructions
        ],
        today=today,
        soon_days=soon_days,
    )
    lines = [
        t(lang, "card.title", light=LIGHTS[light], code=p.code, name=p.name),
        t(
            lang,
            "card.head",
            stage=stage(lang, p.stage.value),
            unit=p.unit.name,
            industry=p.industry,
            enterprise=p.enterprise or "—",
        ),
        t(
            lang,
            "card.money",
            investment=money(p.investment),
            land=money(p.land_mu),
            intensity=money(p.intensity),
        ),
        "",
        t(lang, "card.targets"),
    ]
    dates = p.targets
    if any(dates.values()):
        for target_stage in TARGETS:
            light = target_light(p.stage, target_stage, dates[target_stage], today, soon_days)
            lines.append(
                t(
                    lang,
                    "card.target_row",
                    light=LIGHTS[light],
                    stage=stage(lang, target_stage.value),
                    date=day(lang, dates[target_stage]),
                )
            )
    else:
        lines.append(t(lang, "card.target_none"))
    lines += ["", t(lang, "card.milestones")]
    if card.milestones:
        lines += [milestone_line(lang, m, today, soon_days) for m in card.milestones]
    else:
        key = "card.no_milestones" if may_plan else "card.no_milestones_ask"
        lines.append(t(lang, key, code=p.code))
    lines += ["", t(lang, "card.problems")]
    if card.problems:
        lines += [problem_line(lang, q) for q in card.problems]
    else:
        lines.append(t(lang, "card.none"))
    if instructions:
        cal = calendar or WorkCalendar()
        lines += ["", t(lang, "card.instructions")]
        lines += [
            t(
                lang,
                "card.instruction",
                id=row.instruction.id,
                state=instruction_state(lang, row, today, cal),
                unit=row.unit,
                text=short(row.instruction.text),
                date=day(lang, row.instruction.deadline),
            )
            for row in instructions
        ]
    lines.append("")
    if card.last is not None:
        line = t(
            lang,
            "card.last",
            date=day(lang, card.last.report_date),
            author=card.last.author.name,
            text=short(card.last.text, 200),
        )
        lines.append(line + (t(lang, "card.file") if card.last.file_id else ""))
    else:
        lines.append(t(lang, "card.no_progress"))
    if card.checked is not None:
        lines.append(
            t(
                lang,
                "card.checked",
                date=day(lang, card.checked.report_date),
                author=card.checked.author.name,
            )
        )
    return "\n".join(lines)


def project_row(lang: str, p: Project) -> str:
    return t(
        lang,
        "list.row",
        code=p.code,
        name=short(p.name, 30),
        stage=stage(lang, p.stage.value),
        unit=p.unit.name,
    )


def project_list(lang: str, projects: Sequence[Project]) -> str:
    if not projects:
        return t(lang, "list.empty")
    return "\n".join(
        [t(lang, "list.title", n=len(projects))] + [project_row(lang, p) for p in projects]
    )


def plain(text: str) -> str:
    """Catalog HTML for a terminal: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def today_text(
    lang: str,
    todo: Agenda,
    today: date,
    work: WorkConfig,
    tz: tzinfo,
    approvals: Sequence[str] = (),
    calendar: WorkCalendar | None = None,
) -> str:
    """A member's list for today (/today, and the demo): their own to-do first; for
    overseers, what climbed to them and then the city's overview, titled as such. Every
    day count is in working days, as in the daily prompt.

    APPROVALS: the requests for more time waiting for the member's decision, one line each.
    CALENDAR: WORK's calendar, when the caller keeps one (the bot's services do): a new
    one remembers no day yet and asks chinese_calendar afresh for every day counted.
    """
    if todo.empty and not approvals:
        return t(lang, "today.empty")
    calendar = calendar or work.calendar()
    lines = [t(lang, "today.title", date=day(lang, today))]
    if todo.instructions:
        # A leader's instruction comes first, as in the daily prompt.
        lines.append(t(lang, "today.instructions", n=len(todo.instructions)))
        lines += [
            _instruction_row(lang, "today.instruction_row", r, today, calendar)
            for r in todo.instructions
        ]
    if todo.overdue:
        lines.append(t(lang, "today.overdue", n=len(todo.overdue)))
        lines += [
            t(
                lang,
                "today.overdue_row",
                mark=MARKS[m.escalation_level],
                code=p.code,
                line=Raw(milestone_line(lang, m, today, work.soon_days)),
                late=calendar.workdays_between(m.planned_date, today) if m.planned_date else 0,
            )
            for m, p in todo.overdue
        ]
    if todo.targets:
        lines.append(t(lang, "today.targets", n=len(todo.targets)))
        lines += [
            t(
                lang,
                "today.target_row",
                code=p.code,
                name=short(p.name, 30),
                stage=stage(lang, heading.value),
                date=day(lang, target),
                late=calendar.workdays_between(target, today),
            )
            for p, heading, target in todo.targets
        ]
    if todo.due_soon:
        lines.append(t(lang, "today.soon", n=len(todo.due_soon), days=work.soon_days))
        lines += [
            f"  {esc(p.code)} · {milestone_line(lang, m, today, work.soon_days)}"
            for m, p in todo.due_soon
        ]
    if todo.waiting:
        lines.append(t(lang, "today.waiting_mine", n=len(todo.waiting)))
        for q in todo.waiting:
            raised = q.created_at.astimezone(tz).date()
            late = calendar.workdays_between(q.reply_deadline, today) if q.reply_deadline else 0
            lines.append(
                t(
                    lang,
                    "today.waiting_late" if late else "today.waiting_row2",
                    id=q.id,
                    code=q.project.code,
                    waited=calendar.workdays_between(raised, today),
                    date=day(lang, q.reply_deadline),
                    late=late,
                    text=short(q.text, 60),
                )
            )
    if todo.given_overdue:
        lines.append(t(lang, "today.given", n=len(todo.given_overdue)))
        lines += [
            _instruction_row(lang, "today.given_row", r, today, calendar)
            for r in todo.given_overdue
        ]
    if todo.signoff:
        lines.append(t(lang, "today.signoff", n=len(todo.signoff)))
        lines += [
            t(
                lang,
                "today.signoff_row",
                id=q.id,
                code=q.project.code,
                unit=q.unit.name,
                text=short(q.text, 60),
            )
            for q in todo.signoff
        ]
    if approvals:
        lines.append(t(lang, "today.approvals", n=len(approvals)))
        lines += approvals
    if todo.stale:
        lines.append(t(lang, "today.stale", n=len(todo.stale), days=work.stale_days))
        lines += [t(lang, "today.stale_row", code=p.code, name=p.name) for p in todo.stale]
    if todo.unreached:
        lines.append(t(lang, "today.unreached", n=len(todo.unreached)))
        lines += [
            t(
                lang,
                "today.unreached_row",
                id=q.id,
                code=q.project.code,
                unit=q.unit.name,
                date=day(lang, q.reply_deadline),
                text=short(q.text, 60),
            )
            for q in todo.unreached
        ]
    lines += _climbed(lang, todo, today, calendar)
    if todo.overview is not None:
        if todo.mine_empty and not approvals:
            lines.append(t(lang, "today.nothing_mine"))
        o = todo.overview
        lines.append(
            t(
                lang,
                "today.overview",
                overdue=o.overdue,
                waiting=o.waiting,
                signoff=o.signoff,
                targets=o.targets,
                stale=o.stale,
                days=work.stale_days,
                instructions=o.instructions,
            )
        )
    return "\n".join(lines)


def _instruction_row(
    lang: str, key: str, row: InstructionRow, today: date, calendar: WorkCalendar
) -> str:
    i = row.instruction
    return t(
        lang,
        key,
        mark=MARKS[i.escalation_level],
        id=i.id,
        code=row.code,
        unit=row.unit,
        leader=row.leader,
        date=day(lang, i.deadline),
        state=instruction_state(lang, row, today, calendar),
        text=short(i.text, 60),
    )


def _climbed(lang: str, todo: Agenda, today: date, calendar: WorkCalendar) -> list[str]:
    """What climbed to an overseer, naming the party whose turn it is."""
    n = len(todo.climbed_milestones) + len(todo.climbed_problems) + len(todo.climbed_targets)
    n += len(todo.climbed_instructions)
    if not n:
        return []
    lines = [t(lang, "today.climbed", n=n)]
    lines += [
        t(
            lang,
            "today.climbed_ms",
            mark=MARKS[m.escalation_level],
            code=p.code,
            seq=m.seq,
            title=milestone_title(lang, m),
            date=day(lang, m.planned_date),
            unit=unit,
        )
        for m, p, unit in todo.climbed_milestones
    ]
    for q in todo.climbed_problems:
        party = (
            t(lang, "today.party_raiser")
            if q.status is ProblemStatus.ANSWERED
            else t(lang, "today.party_unit", unit=q.unit.name)
        )
        lines.append(
            t(
                lang,
                "today.climbed_problem",
                mark=MARKS[q.escalation_level],
                id=q.id,
                code=q.project.code,
                text=short(q.text, 40),
                party=party,
            )
        )
    lines += [
        t(
            lang,
            "today.climbed_target",
            mark=MARKS[p.target_level],
            code=p.code,
            stage=stage(lang, heading.value),
            date=day(lang, target),
            unit=p.unit.name,
        )
        for p, heading, target in todo.climbed_targets
    ]
    lines += [
        _instruction_row(lang, "today.climbed_instruction", r, today, calendar)
        for r in todo.climbed_instructions
    ]
    return lines
