"""The daily tick: escalate what is late, then write each member's prompt to the outbox.

One tick per working day, at the configured local time, and once only: the store records
the day (storage.schedule.claim_day), so a restart, a catch-up after downtime or a second
process adds nothing, and a pass that stopped halfway is finished by the next one
(`run_tick`). It writes in short transactions, so the handlers writing meanwhile hardly
wait, and it hands the event loop back to them as it composes. What the tick writes, the
outbox sender delivers.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.format import MARKS, day, kind_title, short
from bot.keyboards import instruction_buttons, instruction_row, no_change_buttons, signoff_row
from bot.runtime import Context, kick_outbox, services
from bot.texts import t
from storage import schedule
from storage.db import SessionMaker, deadlocked
from storage.models import Member, ProblemStatus, Role, Stage, Unit
from storage.outbox import Buttons, Message, enqueue, keys_like
from storage.people import ACTING_ROLES, pick_actors, units
from storage.schedule import Climb, InstructionItem, ProblemItem, UnitList
from storage.workdays import WorkCalendar

log = logging.getLogger(__name__)
T = TypeVar("T")

ROWS = 15  # lines per section of a prompt; the rest is counted, and /today shows all
BUTTON_ROWS = 6
DIGEST_UNITS = 20


def _rows(items: Sequence[T], render: Callable[[T], str], lang: str) -> list[str]:
    """The first ROWS items as lines and a count of the rest; only shown lines are rendered."""
    lines = [render(item) for item in items[:ROWS]]
    if len(items) > ROWS:
        lines.append(t(lang, "prompt.more", n=len(items) - ROWS))
    return lines


# --- rendering --------------------------------------------------------------------------


def unit_lines(
    lang: str, unit: Unit, todo: UnitList, today: date, config: Config, calendar: WorkCalendar
) -> list[str]:
    """The unit's part of its members' prompt: rendered once per unit and language."""
    lines = [t(lang, "prompt.title", date=day(lang, today), unit=unit.name)]
    if todo.instructions:
        # A leader's instruction comes first, every day until it is reported done.
        lines.append(t(lang, "prompt.instructions", n=len(todo.instructions)))
        lines += _rows(
            todo.instructions, lambda i: instruction_row_text(lang, i, today, calendar), lang
        )
    if todo.overdue:
        lines.append(t(lang, "prompt.overdue", n=len(todo.overdue)))
        lines += _rows(
            todo.overdue,
            lambda m: t(
                lang,
                "prompt.overdue_row",
                mark=MARKS[m.level],
                code=m.code,
                n=m.seq,
                title=kind_title(lang, m.kind, m.title),
                date=day(lang, m.planned),
                late=calendar.workdays_between(m.planned, today),
            ),
            lang,
        )
    if todo.targets:
        lines.append(t(lang, "prompt.targets", n=len(todo.targets)))
        lines += _rows(
            todo.targets,
            lambda g: t(
                lang,
                "prompt.target_row",
                mark=MARKS[g.level],
                code=g.code,
                name=short(g.name, 30),
                stage=t(lang, f"stage.{g.stage.value}"),
                date=day(lang, g.target),
                late=calendar.workdays_between(g.target, today),
            ),
            lang,
        )
    if todo.due_soon:
        lines.append(t(lang, "prompt.soon", n=len(todo.due_soon), days=config.work.soon_days))
        lines += _rows(
            todo.due_soon,
            lambda m: t(
                lang,
                "prompt.soon_row",
                code=m.code,
                n=m.seq,
                title=kind_title(lang, m.kind, m.title),
                date=day(lang, m.planned),
            ),
            lang,
        )
    if todo.waiting:
        lines.append(t(lang, "prompt.waiting", n=len(todo.waiting)))
        lines += _rows(todo.waiting, lambda p: waiting_row(lang, p, today, calendar), lang)
    if todo.stale:
        lines.append(t(lang, "prompt.stale", n=len(todo.stale), days=config.work.stale_days))
        lines += _rows(
            todo.stale,
            lambda p: t(
                lang,
                "prompt.stale_row",
                code=p.code,
                name=short(p.name, 30),
                last=day(lang, p.last) if p.last else t(lang, "prompt.never"),
            ),
            lang,
        )
    return lines


def prompt(
    lang: str,
    unit: Unit,
    todo: UnitList,
    today: date,
    config: Config,
    calendar: WorkCalendar,
    signoffs: Sequence[ProblemItem] = (),
    unit_part: list[str] | None = None,
) -> tuple[str, Buttons]:
    """A member's daily message and its buttons: their unit's list, and the answers
    waiting for their own sign-off. Every day count is in working days.

    UNIT_PART: the unit's lines as `unit_lines` made them, shared by its members.
    """
    lines = list(unit_part or unit_lines(lang, unit, todo, today, config, calendar))
    if signoffs:
        lines.append(t(lang, "prompt.signoff", n=len(signoffs)))
        lines += _rows(
            signoffs,
            lambda p: t(
                lang,
                "prompt.signoff_row",
                mark=MARKS[p.level],
                id=p.id,
                code=p.code,
                unit=p.answered_by,
                date=day(lang, p.answered),
                text=short(p.text, 50),
            ),
            lang,
        )
    codes = todo.project_codes(unit.id)
    if codes:
        lines.append(t(lang, "prompt.no_change_hint"))
    buttons: Buttons = [
        instruction_row(lang, i.id, i.acknowledged) for i in todo.instructions[:BUTTON_ROWS]
    ]
    for p in todo.waiting[: max(0, BUTTON_ROWS - len(buttons))]:
        row = [[t(lang, "btn.reply_item", id=p.id), f"go:reply:{p.id}"]]
        if p.status is ProblemStatus.OPEN:
            row.insert(0, [t(lang, "btn.ack_item", id=p.id), f"ack:{p.id}"])
        buttons.append(row)
    for p in signoffs[: max(0, BUTTON_ROWS - len(buttons))]:
        buttons.append(signoff_row(lang, p.id))
    buttons += no_change_buttons(lang, codes, max(1, BUTTON_ROWS - len(buttons)))
    return "\n".join(lines), buttons


def waiting_row(lang: str, p: ProblemItem, today: date, calendar: WorkCalendar) -> str:
    """A problem the unit must answer: how long it waited, and by when it must answer."""
    late = calendar.workdays_between(p.deadline, today) if p.deadline else 0
    return t(
        lang,
        "prompt.waiting_late" if late else "prompt.waiting_row",
        mark=MARKS[p.level],
        id=p.id,
        code=p.code,
        waited=calendar.workdays_between(p.raised, today),
        date=day(lang, p.deadline),
        late=late,
        text=short(p.text, 50),
    )


def instruction_row_text(lang: str, i: InstructionItem, today: date, calendar: WorkCalendar) -> str:
    """An instruction the unit must carry out: by when, and how late it is."""
    late = calendar.workdays_between(i.deadline, today) if i.deadline else 0
    state = "instr.state.acknowledged" if i.acknowledged else "instr.state.new"
    return t(
        lang,
        "prompt.instruction_late" if late else "prompt.instruction_row",
        mark=MARKS[i.level],
        id=i.id,
        code=i.code,
        leader=i.leader,
        date=day(lang, i.deadline),
        late=late,
        state=t(lang, state),
        text=short(i.text, 60),
    )


def given_lines(
    lang: str,
    items: Sequence[InstructionItem],
    today: date,
    calendar: WorkCalendar,
    unit_names: dict[int, str],
) -> list[str]:
    """A leader's own instructions past their deadline and not reported done (digest)."""
    lines = [t(lang, "digest.given", n=len(items))]
    lines += _rows(
        items,
        lambda i: t(
            lang,
            "digest.given_row",
            mark=MARKS[i.level],
            id=i.id,
            code=i.code,
            unit=unit_names.get(i.unit_id, "?"),
            date=day(lang, i.deadline),
            late=calendar.workdays_between(i.deadline, today) if i.deadline else 0,
            text=short(i.text, 40),
        ),
        lang,
    )
    return lines


def notice(lang: str, climb: Climb, signs_off: bool = True) -> str:
    """The blue, yellow or red notice of an item that climbed.

    SIGNS_OFF: the reader may sign off a late answer (its raiser, a coordinator); a unit
    head is asked to remind the raiser instead.
    """
    level = t(lang, f"esc.level.{climb.level}")
    title = short(climb.title, 200)
    if climb.kind == "problem":
        return t(
            lang,
            "esc.problem_late" if climb.late else "esc.problem_ack",
            level=level,
            id=climb.item_id,
            code=climb.code,
            late=climb.late,
            date=day(lang, climb.deadline),
            title=title,
        )
    if climb.kind == "signoff":
        return t(
            lang,
            "esc.signoff" if signs_off else "esc.signoff_remind",
            level=level,
            id=climb.item_id,
            code=climb.code,
            who=climb.party,
            late=climb.late,
            date=day(lang, climb.deadline),
            title=title,
        )
    if climb.kind == "instruction":
        return t(
            lang,
            "esc.instruction_ack"
            if climb.unacknowledged and not climb.late
            else "esc.instruction_late",
            level=level,
            id=climb.item_id,
            code=climb.code,
            who=climb.party,
            late=climb.late,
            date=day(lang, climb.deadline),
            title=title,
        )
    if climb.kind == "target":
        return t(
            lang,
            "esc.target",
            level=level,
            code=climb.code,
            name=climb.party,
            stage=t(lang, f"stage.{climb.title}"),
            date=day(lang, climb.deadline),
            late=climb.late,
        )
    return t(
        lang,
        "esc.milestone",
        level=level,
        code=climb.code,
        n=climb.seq,
        title=kind_title(lang, climb.ms_kind, climb.title),
        late=climb.late,
    )


def climb_row(lang: str, c: Climb, signs_off: bool) -> list[list[str]] | None:
    """The buttons for what the reader can do about an item that climbed."""
    if c.kind == "problem":
        row = [
            [t(lang, "btn.reply_item", id=c.item_id), f"go:reply:{c.item_id}"],
            [t(lang, "btn.extend_item", ref=f"#{c.item_id}"), f"go:extend:p:{c.item_id}"],
        ]
        if c.unacknowledged:
            row.insert(0, [t(lang, "btn.ack_item", id=c.item_id), f"ack:{c.item_id}"])
        return row
    if c.kind == "signoff":
        return signoff_row(lang, c.item_id) if signs_off else None
    if c.kind == "target":
        return [[t(lang, "btn.report", code=c.code), f"go:progress:{c.code}"]]
    if c.kind == "instruction":
        row = instruction_row(lang, c.item_id, not c.unacknowledged)
        ref = t(lang, "instr.ref", id=c.item_id)
        return [*row, [t(lang, "btn.extend_item", ref=ref), f"go:extend:i:{c.item_id}"]]
    ref = f"{c.code}-{c.seq}"
    return [
        [t(lang, "btn.done_item", ref=ref), f"md:{c.item_id}"],
        [t(lang, "btn.extend_item", ref=ref), f"go:extend:m:{c.item_id}"],
    ]


NOTICE_ITEMS = 8  # items with their own buttons in one notice; /today lists the rest


def notices(
    lang: str,
    climbs: Sequence[Climb],
    reader: Member | None = None,
    unit_names: dict[int, str] | None = None,
) -> tuple[str, Buttons]:
    """One notice for all that climbed today for the reader, with a row of buttons each.

    A reader standing in for a unit nobody has joined is told whose item each one is.
    """

    def signs_off(c: Climb) -> bool:
        return reader is None or reader.id == c.person or reader.role is Role.COORDINATOR

    def text(c: Climb) -> str:
        body = notice(lang, c, signs_off(c))
        if reader is not None and unit_names and reader.unit_id != c.unit_id:
            return t(lang, "note.covering", unit=unit_names.get(c.unit_id, "?")) + "\n" + body
        return body

    shown = climbs[:NOTICE_ITEMS]
    parts = [text(c) for c in shown]
    if len(climbs) > 1:
        parts.insert(0, t(lang, "esc.many", n=len(climbs)))
    if len(climbs) > len(shown):
        parts.append(t(lang, "prompt.more", n=len(climbs) - len(shown)))
    rows = [climb_row(lang, c, signs_off(c)) for c in shown]
    return "\n\n".join(parts), [row for row in rows if row]


def digest(
    lang: str,
    today: date,
    counts: dict[str, dict[Stage, int]],
    red: Sequence[tuple[str, int, str, date, str]],
    climbed: Sequence[Climb],
    unit_names: dict[int, str],
    unreached: Sequence[tuple[str, int]] = (),
) -> str:
    """The one message a coordinator or leader gets: the city at a glance, and what is new.

    UNREACHED: units with work waiting and nobody registered, as (name, items), for the
    coordinators, who can invite them.
    """
    lines = [t(lang, "digest.title", date=day(lang, today)), t(lang, "digest.counts")]
    shown = [s for s in Stage if s is not Stage.DROPPED]
    total = {s.value: sum(by.get(s, 0) for by in counts.values()) for s in shown}
    lines.append(t(lang, "digest.count_row", unit=t(lang, "digest.city"), **total))
    # The busiest units first; a big city's full table would not fit in one message.
    busiest = sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    for unit, by_stage in busiest[:DIGEST_UNITS]:
        lines.append(
            t(lang, "digest.count_row", unit=unit, **{s.value: by_stage.get(s, 0) for s in shown})
        )
    if len(busiest) > DIGEST_UNITS:
        lines.append(t(lang, "digest.units_more", n=len(busiest) - DIGEST_UNITS))
    if red:
        lines.append(t(lang, "digest.red", n=len(red)))
        lines += _rows(
            red,
            lambda r: t(
                lang,
                "digest.red_row",
                code=r[0],
                n=r[1],
                title=kind_title(lang, r[4], r[2]),
                date=day(lang, r[3]),
            ),
            lang,
        )
    if climbed:
        lines.append(t(lang, "digest.climbed", n=len(climbed)))
        lines += _rows(climbed, lambda c: climbed_row(lang, c, unit_names), lang)
    if unreached:
        lines.append(t(lang, "digest.unreached", n=len(unreached)))
        lines += _rows(
            unreached, lambda u: t(lang, "digest.unreached_row", unit=u[0], n=u[1]), lang
        )
    if not red and not climbed:
        lines.append(t(lang, "digest.nothing"))
    return "\n".join(lines)


def climbed_row(lang: str, c: Climb, unit_names: dict[int, str]) -> str:
    """One line of the digest; the unit named is always the one whose turn it is."""
    key = f"digest.climbed_{c.kind}"
    if c.kind == "instruction" and c.unacknowledged and not c.late:
        key += "_ack"
    return t(
        lang,
        key,
        mark=MARKS[c.level],
        id=c.item_id,
        n=c.seq,
        code=c.code,
        title=short(kind_title(lang, c.ms_kind, c.title) if c.ms_kind else c.title, 40),
        late=c.late,
        unit=unit_names.get(c.unit_id, "?"),
        who=c.party,
        stage=t(lang, f"stage.{c.title}") if c.kind == "target" else "",
        date=day(lang, c.deadline),
    )


# --- the tick ---------------------------------------------------------------------------

# What a pass of the bot's tick writes per transaction (items climbing, outbox rows): each
# holds SQLite's write lock for milliseconds, so a handler writing meanwhile hardly waits.
CHUNK = 300
# A transaction of the tick that meets a lock held too long (SQLite's busy timeout) or a
# deadlock (PostgreSQL) is tried again, this many times in all, after a pause.
ATTEMPTS = 3
PAUSE = 0.5  # seconds, times the attempt
# A daily job whose tick failed tries again this many times, a minute apart: what the
# failed pass committed stays, and the next one finishes the day.
JOB_RETRIES = 5
JOB_RETRY_SECONDS = 60.0


@dataclass
class TickResult:
    day: date
    ran: bool
    reason: str = ""  # why it did not run: "holiday" or "done"
    climbs: list[Climb] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    queued: int = 0
    # True: the day was claimed by an earlier pass, which did not finish it (it stopped,
    # or another process is still at it), and this one did.
    resumed: bool = False


def local_day(config: Config, now: datetime) -> date:
    return now.astimezone(config.city.tz).date()


def due(config: Config, calendar: WorkCalendar, now: datetime) -> bool:
    """Is it a working day and past the prompt time (local), so that a tick is owed?"""
    local = now.astimezone(config.city.tz)
    return calendar.is_workday(local.date()) and local.time() >= config.work.prompt_time


async def tick(
    session: AsyncSession, config: Config, calendar: WorkCalendar, now: datetime
) -> TickResult:
    """One scheduler pass as at NOW (aware UTC), all in the caller's transaction: the
    caller commits, or rolls back for a dry run.

    On SQLite this holds the write lock from the claim to the caller's commit, seconds for
    a city: for a dry run, or a manual pass. The bot's daily job uses `run_tick`, which
    does the same in transactions that hold it for a moment each.
    """
    today = local_day(config, now)
    if not calendar.is_workday(today):
        return TickResult(today, ran=False, reason="holiday")
    owed = await schedule.claim_day(session, today, now)
    if owed is None:
        return TickResult(today, ran=False, reason="done")
    plan = await _plan(session, config, calendar, today)
    await schedule.write_escalation(session, plan, owed.started_at)
    climbs = await _climbed(session, config, calendar, today, owed)
    messages = await compose(session, config, calendar, today, now, climbs)
    queued = await enqueue(session, messages, now)
    await schedule.count_queued(session, owed.run_id, queued)
    await schedule.finish_day(session, owed.run_id, now)
    return TickResult(
        today, ran=True, climbs=climbs, messages=messages, queued=queued, resumed=not owed.claimed
    )


async def run_tick(
    sessions: SessionMaker,
    config: Config,
    calendar: WorkCalendar,
    now: datetime,
    *,
    chunk: int = CHUNK,
    queued_at: datetime | None = None,
) -> TickResult:
    """The day's tick as at NOW (aware UTC), in short transactions of its own, so that a
    handler writing meanwhile never waits for it long, nor fails on SQLite's lock:

    1. claim the day (a transaction of its own);
    2. escalate: read what climbs without a lock, then write it CHUNK items a transaction,
       each chunk read again under the lock and judged as it then stands;
    3. find what climbed today (`storage.schedule.climbed`) and compose every message,
       reading only;
    4. queue the messages CHUNK a transaction, then mark the day finished.

    Exactly once, wherever a pass stops: before 1 committed, nothing was written and the
    next pass starts over; after it, the day is claimed and unfinished, and the next pass
    (the catch-up at start, the job's retry, another process) does 2 to 4 again. Nothing
    climbs twice in a day, and the climbs of the stopped pass carry the run's start time,
    so its notices are rebuilt with the rest; the outbox skips the messages already
    queued (their keys are unique). A second pass running at the same time does the same.

    QUEUED_AT: when the messages become due (default NOW).
    """
    today = local_day(config, now)
    if not calendar.is_workday(today):
        return TickResult(today, ran=False, reason="holiday")
    async with _tick_lock():
        owed = await _claim(sessions, today, now)
        if owed is None:
            return TickResult(today, ran=False, reason="done")
        async with sessions() as session:
            plan = await _plan(session, config, calendar, today)
        for step in plan.parts(chunk):
            await _write(sessions, partial(_climb, config, calendar, today, owed, step))
        async with sessions() as session:
            climbs = await _climbed(session, config, calendar, today, owed)
            messages = await compose(session, config, calendar, today, now, climbs)
        queued = 0
        for part in _chunks(messages, chunk):
            queued += await _write(sessions, partial(_queue, owed, part, queued_at or now))
        await _write(sessions, partial(schedule.finish_day, run_id=owed.run_id, now=now))
        # A day whose pass stopped and was not finished the same day is over: its
        # prompts are stale, and nothing will finish it. Said once, and closed.
        dropped = await _write(sessions, partial(schedule.close_before, day=today, now=now))
        if dropped:
            log.warning(
                "the tick of %s stopped and was not finished that day; its messages not "
                "queued by then are dropped",
                ", ".join(str(d) for d in dropped),
            )
    return TickResult(
        today, ran=True, climbs=climbs, messages=messages, queued=queued, resumed=not owed.claimed
    )


async def _claim(sessions: SessionMaker, today: date, now: datetime) -> schedule.Owed | None:
    """Claim TODAY in a transaction of its own (`storage.schedule.claim_day`)."""
    claim = partial(schedule.claim_day, day=today, now=now)
    try:
        return await _write(sessions, claim)
    except IntegrityError:
        # Another pass claimed the day between our look and our claim: this time the
        # claim finds its run.
        return await _write(sessions, claim)


async def _climb(
    config: Config,
    calendar: WorkCalendar,
    today: date,
    owed: schedule.Owed,
    part: schedule.Escalation,
    session: AsyncSession,
) -> None:
    """One chunk of the escalation: its items read again under the lock and climbed as
    they then deserve, as at the run's start."""
    await schedule.hold_run(session, owed.run_id)
    final = await _plan(session, config, calendar, today, among=part)
    await schedule.write_escalation(session, final, owed.started_at)


async def _queue(
    owed: schedule.Owed, messages: Sequence[Message], now: datetime, session: AsyncSession
) -> int:
    """One chunk of the messages to the outbox as at NOW, counted to the run with them."""
    queued = await enqueue(session, messages, now)
    await schedule.count_queued(session, owed.run_id, queued)
    return queued


async def _plan(
    session: AsyncSession,
    config: Config,
    calendar: WorkCalendar,
    today: date,
    among: schedule.Escalation | None = None,
) -> schedule.Escalation:
    return await schedule.plan_escalation(
        session,
        today,
        config.city.tz,
        calendar,
        config.escalation,
        config.work.reply_days,
        instruction_days=config.work.instruction_days,
        among=among,
    )


async def _climbed(
    session: AsyncSession,
    config: Config,
    calendar: WorkCalendar,
    today: date,
    owed: schedule.Owed,
) -> list[Climb]:
    return await schedule.climbed(
        session,
        today,
        config.city.tz,
        calendar,
        config.escalation,
        config.work.reply_days,
        instruction_days=config.work.instruction_days,
        at=owed.started_at,
    )


async def _write(sessions: SessionMaker, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """WORK in a transaction of its own, committed. A lock waited for in vain (SQLite's
    busy timeout) or a deadlock (PostgreSQL) rolls it back, and it is tried again."""
    for attempt in range(1, ATTEMPTS + 1):
        async with sessions() as session:
            try:
                result = await work(session)
                await session.commit()
                return result
            except DBAPIError as exc:
                await session.rollback()
                if attempt == ATTEMPTS or not _transient(exc):
                    raise
                log.warning("the tick met a lock (%s); trying again", exc.orig)
        await asyncio.sleep(PAUSE * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _transient(exc: DBAPIError) -> bool:
    """SQLite's lock not had in time, or PostgreSQL's deadlock or serialization failure:
    the same transaction may well pass a moment later."""
    if isinstance(exc, OperationalError) and "locked" in str(exc.orig):
        return True
    return deadlocked(exc)


_TICK_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _tick_lock() -> asyncio.Lock:
    """One pass at a time in this process (the daily job and the catch-up may meet at
    start): the second finds the day done instead of composing it all again."""
    loop = asyncio.get_running_loop()
    lock = _TICK_LOCKS.get(loop)
    if lock is None:
        lock = _TICK_LOCKS[loop] = asyncio.Lock()
    return lock


def _chunks(messages: Sequence[Message], size: int) -> list[list[Message]]:
    """MESSAGES in parts of about SIZE. The notices of one moved instruction stay in one
    part: a move is told once (`_moved` leaves out a move with any key queued), so all
    its people's notices are queued together or not at all."""
    parts: list[list[Message]] = []
    last = ""
    for m in messages:
        group = ":".join(m.key.split(":")[:2]) if m.key.startswith("moved:") else m.key
        if not parts or (len(parts[-1]) >= size and group != last):
            parts.append([])
        parts[-1].append(m)
        last = group
    return parts


async def compose(
    session: AsyncSession,
    config: Config,
    calendar: WorkCalendar,
    today: date,
    now: datetime,
    climbs: Sequence[Climb],
) -> list[Message]:
    """Every message of TODAY's tick as at NOW: the prompts, the notices of CLIMBS, the
    moved instructions' notices and the digests. Reads only."""
    tz = config.city.tz
    lists = await schedule.unit_lists(
        session,
        today,
        now,
        tz,
        soon_days=config.work.soon_days,
        stale_days=config.work.stale_days,
    )
    signoffs = await schedule.signoffs(session, tz)
    people = await schedule.recipients(session)
    all_units = {u.id: u for u in await units(session)}
    messages = await _prompts(people, all_units, lists, signoffs, today, config, calendar)
    notes, told = await _notices(people, all_units, climbs, today)
    messages += notes
    messages += await _moved(session, people, all_units)
    unreached = _unreached(people, all_units, lists)
    given = schedule.overdue_by_leader(lists, today)
    messages += await _digests(
        session,
        people,
        climbs,
        told,
        all_units,
        unreached,
        signoffs,
        given,
        today,
        config,
        calendar,
    )
    return messages


async def _prompts(
    people: Sequence[Member],
    all_units: dict[int, Unit],
    lists: dict[int, UnitList],
    signoffs: dict[int, list[ProblemItem]],
    today: date,
    config: Config,
    calendar: WorkCalendar,
) -> list[Message]:
    messages = []
    rendered: dict[tuple[int, str], tuple[str, Buttons]] = {}
    shared: dict[tuple[int, str], list[str]] = {}
    empty = UnitList()
    breathe = schedule.Breather()
    for m in people:
        if m.role not in (Role.OFFICER, Role.HEAD):
            continue
        await breathe()
        todo = lists.get(m.unit_id, empty)
        mine = signoffs.get(m.id, [])
        if todo.empty and not mine:
            continue
        unit = all_units[m.unit_id]
        # Members of a unit share one list: render it once per language; only the
        # answers waiting for a member's own sign-off are theirs alone.
        key = (m.unit_id, m.lang)
        if key not in shared:
            shared[key] = unit_lines(m.lang, unit, todo, today, config, calendar)
        if mine:
            text, buttons = prompt(m.lang, unit, todo, today, config, calendar, mine, shared[key])
        else:
            if key not in rendered:
                rendered[key] = prompt(m.lang, unit, todo, today, config, calendar, (), shared[key])
            text, buttons = rendered[key]
        messages.append(
            Message(f"prompt:{m.id}:{today}", m.tg_user_id, "prompt", text, m.id, buttons)
        )
    return messages


def _by_unit(people: Sequence[Member]) -> dict[int, list[Member]]:
    by_unit: dict[int, list[Member]] = defaultdict(list)
    for m in people:
        by_unit[m.unit_id].append(m)
    return by_unit


async def _notices(
    people: Sequence[Member], all_units: dict[int, Unit], climbs: Sequence[Climb], today: date
) -> tuple[list[Message], dict[int, list[Climb]]]:
    """What climbed today goes to the heads of the unit whose turn it is (its other people
    if it has no head, up the parent chain if nobody has joined it): one message per person
    and day, however many items climbed. A late sign-off also goes to the raiser.

    Returns the messages and what each member was told, which their digest leaves out.
    """
    by_unit = _by_unit(people)
    parents = {uid: u.parent_id for uid, u in all_units.items()}
    names = {uid: u.name for uid, u in all_units.items()}
    by_id = {m.id: m for m in people}
    addressed: dict[int, list[Climb]] = defaultdict(list)
    breathe = schedule.Breather()
    for climb in climbs:
        await breathe()
        actors = pick_actors(climb.unit_id, by_unit, parents, heads_first=True)
        told = {m.id for m in actors.people}
        if climb.person is not None and climb.person in by_id:
            told.add(climb.person)  # the raiser, whose sign-off is late
        for member_id in told:
            addressed[member_id].append(climb)
    messages = []
    for member_id, member_climbs in sorted(addressed.items()):
        await breathe()
        m = by_id[member_id]
        text, buttons = notices(m.lang, member_climbs, m, names)
        key = f"esc:{m.id}:{today}"
        messages.append(Message(key, m.tg_user_id, "notice", text, m.id, buttons))
    return messages, addressed


async def tell_moved_instructions(session: AsyncSession, now: datetime) -> int:
    """Queue now the notices the next tick would send for instructions that went to
    another unit with their project (NOW aware UTC): for a caller that just changed a
    project's unit (the ledger import) and would have its new unit told at once. Each
    move is told once whoever queues it first. Returns how many were queued."""
    people = await schedule.recipients(session)
    all_units = {u.id: u for u in await units(session)}
    return await enqueue(session, await _moved(session, people, all_units), now)


async def _moved(
    session: AsyncSession, people: Sequence[Member], all_units: dict[int, Unit]
) -> list[Message]:
    """Instructions that went to another unit with their project (a ledger import gave it
    to another unit): the new unit's people are told, with the buttons, once per move,
    by the first tick after it (or `tell_moved_instructions`)."""
    moved = await schedule.moved_instructions(session)
    if not moved:
        return []
    # Told once, to the people the unit had then; who joins later has the daily prompt.
    told = {key.split(":")[1] for key in await keys_like(session, "moved:")}
    by_unit = _by_unit(people)
    parents = {uid: u.parent_id for uid, u in all_units.items()}
    names = {uid: u.name for uid, u in all_units.items()}
    messages = []
    for item in moved:
        if str(item.move) in told:
            continue
        actors = pick_actors(item.unit_id, by_unit, parents, heads_first=False)
        for m in actors.people:
            text = t(
                m.lang,
                "note.instruction_moved",
                id=item.id,
                code=item.code,
                name=item.name,
                who=item.leader,
                text=item.text,
                date=day(m.lang, item.deadline),
                old=names.get(item.from_unit or 0, "?"),
                unit=names.get(item.unit_id, "?"),
            )
            if actors.via_unit != item.unit_id:
                text = t(m.lang, "note.covering", unit=names.get(item.unit_id, "?")) + "\n" + text
            buttons = instruction_buttons(m.lang, item.id, item.acknowledged)
            key = f"moved:{item.move}:{m.id}"
            messages.append(Message(key, m.tg_user_id, "notice", text, m.id, buttons))
    return messages


def _unreached(
    people: Sequence[Member], all_units: dict[int, Unit], lists: dict[int, UnitList]
) -> list[tuple[str, int]]:
    """Units with something to act on that nobody able to act has joined: (name, items)."""
    staffed = {m.unit_id for m in people if m.role in ACTING_ROLES}
    found = []
    for unit_id, todo in lists.items():
        items = len(todo.overdue) + len(todo.waiting) + len(todo.targets)
        items += len(todo.instructions)
        if items and unit_id not in staffed and unit_id in all_units:
            found.append((all_units[unit_id].name, items))
    return sorted(found, key=lambda u: (-u[1], u[0]))


async def _digests(
    session: AsyncSession,
    people: Sequence[Member],
    climbs: Sequence[Climb],
    told: dict[int, list[Climb]],
    all_units: dict[int, Unit],
    unreached: Sequence[tuple[str, int]],
    signoffs: dict[int, list[ProblemItem]],
    given: dict[int, list[InstructionItem]],
    today: date,
    config: Config,
    calendar: WorkCalendar,
) -> list[Message]:
    """GIVEN: each leader's own instructions past their deadline, by the leader's id."""
    readers = [m for m in people if m.role in (Role.COORDINATOR, Role.LEADER)]
    if not readers:
        return []
    counts = await schedule.counts_by_unit_and_stage(session)
    red = await schedule.went_red(session, today, calendar)
    names = {uid: u.name for uid, u in all_units.items()}
    # The service center hears of what reached level 2, leaders of what reached level 3.
    level_of = {Role.COORDINATOR: 2, Role.LEADER: 3}
    climbed: dict[int, list[Climb]] = {level: [] for level in level_of.values()}
    for c in climbs:
        if c.level in climbed:
            climbed[c.level].append(c)
    leaders = {m.id for m in readers if m.role is Role.LEADER}

    def reaches(reader: Member, c: Climb) -> bool:
        # An instruction's top step is the leader who gave it; only when the bot cannot
        # reach him as a leader any more does it go to every leader.
        if c.kind != "instruction" or reader.role is not Role.LEADER:
            return True
        return c.leader_id == reader.id or c.leader_id not in leaders

    # Readers of one language with the same climbs get the same digest: render it once.
    # Climbs are told apart by identity (the tick's one list of them, shared by the
    # notices): hashing thousands of them field by field, for every reader, was most of
    # the digests' time in a big city.
    rendered: dict[tuple[str, tuple[int, ...], bool], str] = {}
    messages = []
    breathe = schedule.Breather()
    for m in readers:
        await breathe()
        level = level_of[m.role]
        # Coordinators invite people: they are the ones to hear of units nobody joined.
        lost = unreached if m.role is Role.COORDINATOR else ()
        # What the reader already had as a notice this morning is not said twice.
        noticed = {id(c) for c in told.get(m.id, ())}
        theirs = tuple(c for c in climbed[level] if id(c) not in noticed and reaches(m, c))
        key = (m.lang, tuple(id(c) for c in theirs), bool(lost))
        if key not in rendered:
            rendered[key] = digest(m.lang, today, counts, red, theirs, names, lost)
        text = rendered[key]
        # A leader sees his own overdue instructions apart; one that climbed to him today
        # is said once, as a climb, and not again in that list.
        came = {c.item_id for c in theirs if c.kind == "instruction"}
        given_by = [i for i in given.get(m.id, []) if i.id not in came]
        if m.role is not Role.LEADER:
            given_by = []
        if given_by:
            text += "\n" + "\n".join(given_lines(m.lang, given_by, today, calendar, names))
        buttons: Buttons | None = None
        mine = signoffs.get(m.id, [])
        if mine:
            empty = UnitList()
            own, buttons = prompt(
                m.lang, all_units[m.unit_id], empty, today, config, calendar, mine
            )
            text = text + "\n\n" + own
        messages.append(
            Message(f"digest:{m.id}:{today}", m.tg_user_id, "digest", text, m.id, buttons)
        )
    return messages


def next_prompt_at(config: Config, calendar: WorkCalendar, after: datetime) -> datetime:
    """The next working day's prompt time after AFTER, as an aware datetime (for `tick`)."""
    tz = config.city.tz
    local = after.astimezone(tz)
    candidate = local.date()
    if local.time() >= config.work.prompt_time:
        candidate += timedelta(days=1)
    while not calendar.is_workday(candidate):
        candidate += timedelta(days=1)
    return datetime.combine(candidate, config.work.prompt_time, tzinfo=tz)


async def daily_job(context: Context) -> None:
    """JobQueue callback: make today's tick if it is owed, then start sending.

    A tick that fails is tried again a minute later (JOB_RETRIES times): what it committed
    stays, and the next pass finishes it."""
    svc = services(context)
    now = svc.clock()
    if not due(svc.config, svc.calendar, now):
        return
    try:
        result = await run_tick(svc.sessions, svc.config, svc.calendar, now)
    except Exception:
        tried = context.job.data if context.job is not None else None
        tried = tried if isinstance(tried, int) else 0
        queue = context.job_queue
        if queue is None or tried >= JOB_RETRIES:
            log.exception("today's tick failed; it is made at the next start")
            return
        log.exception("today's tick failed; trying again in %.0f s", JOB_RETRY_SECONDS)
        queue.run_once(daily_job, JOB_RETRY_SECONDS, data=tried + 1, name="tick-retry")
        return
    if result.ran:
        log.info(
            "tick %s%s: %d climbed, %d messages queued",
            result.day,
            " (finished)" if result.resumed else "",
            len(result.climbs),
            result.queued,
        )
    if result.queued:
        kick_outbox(context)
