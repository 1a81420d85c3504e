"""The weekly promotion meeting's send: the briefing and the wall chart, before the meeting.

On `[meeting] weekday` at `[meeting] time` (local) coordinators and leaders get the week's
briefing workbook and the city's wall chart, through the outbox. When that day is not a
working day, the send moves to the working day before it (a Monday off after a weekend:
the Friday before). The files are stored once per language as Attachment rows, and each
recipient gets one outbox row per file under the key `meeting:<meeting day>:<member>:<n>`
(n = 0 the workbook, 1… the chart's pictures), so a second run (a restart, the catch-up,
a second process) adds nothing: once per week. If the bot was down at the time, the
catch-up at start sends it the same day; a day later it is not sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.briefing import caption, file_name, load, workbook_bytes
from bot.charts import render_city_chart
from bot.config import Config
from bot.format import day
from bot.runtime import Context, kick_outbox, services
from bot.texts import Raw, t
from storage.db import set_actor
from storage.models import Member, Role
from storage.outbox import Message, add_attachment, enqueue, keys_like
from storage.people import members_with_role
from storage.workdays import WorkCalendar

log = logging.getLogger(__name__)

READERS = (Role.COORDINATOR, Role.LEADER)
# A send day lies at most this far before its meeting (the Spring Festival's week off).
_LOOK_BACK = 30


def send_day(meeting: date, calendar: WorkCalendar) -> date:
    """The day the briefing for a meeting on MEETING goes out: that day if it is a
    working day, else the working day before it."""
    day = meeting
    while not calendar.is_workday(day) and day > meeting - timedelta(days=_LOOK_BACK):
        day -= timedelta(days=1)
    return day


def meeting_for(config: Config, calendar: WorkCalendar, today: date) -> date | None:
    """The meeting whose briefing goes out on TODAY, if any (its configured day)."""
    monday = today - timedelta(days=today.weekday())
    # This week's meeting, or one up to a few weeks ahead moved back before a holiday.
    for weeks in range(6):
        meeting = monday + timedelta(weeks=weeks, days=config.meeting.weekday_number)
        if meeting >= today and send_day(meeting, calendar) == today:
            return meeting
    return None


def due(config: Config, calendar: WorkCalendar, now: datetime) -> date | None:
    """The meeting whose briefing is owed at NOW: today is its send day and the local
    time has reached `[meeting] time`. None otherwise (or with the meeting send off)."""
    if not config.meeting.enabled:
        return None
    local = now.astimezone(config.city.tz)
    if local.time() < config.meeting.time:
        return None
    return meeting_for(config, calendar, local.date())


@dataclass
class MeetingResult:
    meeting: date | None
    queued: int = 0
    # why nothing was queued: "not today", "done" (everyone has it), "nobody"
    reason: str = ""
    recipients: list[int] = field(default_factory=list)  # member ids given the files


async def readers(session: AsyncSession) -> list[Member]:
    """The active coordinators and leaders, who get the meeting's files."""
    found: list[Member] = []
    for role in READERS:
        found += await members_with_role(session, role)
    return found


async def prepare(
    session: AsyncSession, config: Config, calendar: WorkCalendar, now: datetime
) -> MeetingResult:
    """Queue the meeting's files for whoever of its readers lacks them, if owed at NOW.

    Reads first and renders (the workbook in a worker thread, once per language), then
    writes the attachments and the outbox rows; the caller commits.
    """
    meeting = due(config, calendar, now)
    if meeting is None:
        return MeetingResult(None, reason="not today")
    today = now.astimezone(config.city.tz).date()
    prefix = f"meeting:{meeting.isoformat()}:"
    served = {key.split(":")[2] for key in await keys_like(session, prefix)}
    todo = [m for m in await readers(session) if str(m.id) not in served]
    if not todo:
        return MeetingResult(meeting, reason="done" if served else "nobody")

    b = await load(session, config, "week", today, calendar)
    files: dict[str, tuple[str, bytes, list[bytes]]] = {}
    for lang in sorted({m.lang for m in todo}):
        data = await asyncio.to_thread(workbook_bytes, lang, b, config.city.name)
        files[lang] = (file_name(lang, b), data, await _chart(session, config, lang, today))

    messages: list[Message] = []
    for lang, (name, data, pictures) in files.items():
        # Written only now: on SQLite the write lock is held from here to the commit.
        workbook = await add_attachment(session, "document", name, data)
        charts = [
            await add_attachment(session, "photo", f"wallchart_{today.isoformat()}_{i}.png", png)
            for i, png in enumerate(pictures, 1)
        ]
        text = t(
            lang,
            "brief.meeting_caption",
            meeting=Raw(day(lang, meeting)),
            caption=Raw(caption(lang, b, config.city.name)),
        )
        for m in (m for m in todo if m.lang == lang):
            messages += _messages(m, prefix, text, workbook, charts, lang, today)
    queued = await enqueue(session, messages, now)
    return MeetingResult(meeting, queued, recipients=[m.id for m in todo])


def _messages(
    m: Member,
    prefix: str,
    text: str,
    workbook: int,
    charts: Sequence[int],
    lang: str,
    today: date,
) -> list[Message]:
    """The recipient's rows: the workbook (n = 0), then each picture of the chart."""
    found = [
        Message(f"{prefix}{m.id}:0", m.tg_user_id, "meeting", text, m.id, attachment_id=workbook)
    ]
    for i, picture in enumerate(charts, 1):
        label = t(lang, "brief.chart_caption", date=today.isoformat(), i=i, n=len(charts))
        found.append(
            Message(
                f"{prefix}{m.id}:{i}", m.tg_user_id, "meeting", label, m.id, attachment_id=picture
            )
        )
    return found


async def _chart(session: AsyncSession, config: Config, lang: str, today: date) -> list[bytes]:
    """The city's wall chart as pictures; none when it cannot be drawn (logged): the
    workbook goes out all the same. Its queries run in a savepoint, so that a failure
    leaves the session usable."""
    try:
        async with session.begin_nested():
            return await render_city_chart(session, config, lang, today)
    except Exception:
        log.exception("the wall chart for the meeting could not be drawn")
        return []


async def meeting_job(context: Context) -> None:
    """JobQueue callback: queue the meeting's briefing and chart if owed now, then send."""
    svc = services(context)
    now = svc.clock()
    if due(svc.config, svc.calendar, now) is None:
        return
    async with svc.sessions() as session:
        set_actor(session, None)
        try:
            result = await prepare(session, svc.config, svc.calendar, now)
            await session.commit()
        except IntegrityError:
            # Another process queued the same rows between our check and our write.
            await session.rollback()
            log.info("the meeting's briefing was queued elsewhere")
            return
    if result.queued:
        log.info(
            "meeting %s: briefing and wall chart queued for %d readers (%d messages)",
            result.meeting,
            len(result.recipients),
            result.queued,
        )
        kick_outbox(context)
