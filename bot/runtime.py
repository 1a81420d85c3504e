"""What the handlers, the scheduler and the sender share, below all three of them.

The services (configuration, store, calendar, clock), message splitting, the kick that
drains the outbox now, and the gate that lets replies overtake bulk prompts. Nothing here
imports a handler, the scheduler or the sender, so each of them can import this.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.constants import MessageLimit
from telegram.ext import ContextTypes
from telegram.request import BaseRequest

from bot.config import Config
from bot.transport import in_doubt
from storage import outbox
from storage.db import SessionMaker, retrying
from storage.outbox import IN_DOUBT
from storage.workdays import WorkCalendar

Context = ContextTypes.DEFAULT_TYPE
log = logging.getLogger(__name__)

# The name of the outbox sender's repeating job (bot.app.schedule_jobs).
OUTBOX_JOB = "outbox"


def utc_clock() -> datetime:
    return datetime.now(UTC)


class ReplyFirst:
    """Bulk sends wait while a reply to a member is on its way.

    Telegram's 30 messages a second are shared by the whole bot: during the morning's
    prompts a member's ✅ would otherwise queue behind hundreds of them in the rate
    limiter. The sender waits at this gate before each bulk message; a handler holds it
    open while it sends its replies.
    """

    def __init__(self) -> None:
        self._replying = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def replying(self) -> AsyncIterator[None]:
        self._replying += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._replying -= 1
            if not self._replying:
                self._idle.set()

    async def bulk(self) -> None:
        """Return once no reply is being sent."""
        await self._idle.wait()


@dataclass
class Services:
    """Long-lived things the handlers share; kept in bot_data under SERVICES_KEY."""

    config: Config
    sessions: SessionMaker
    calendar: WorkCalendar
    # Tests replace the clock to stand on a fixed day.
    clock: Callable[[], datetime] = utc_clock
    gate: ReplyFirst = field(default_factory=ReplyFirst)
    # Update ids whose handler marked them done in its own transaction (bot.intake reads
    # and clears them; the others it marks itself).
    finished: set[int] = field(default_factory=set)
    # Update ids being handled from the inbox: their handler marks them done.
    from_inbox: set[int] = field(default_factory=set)
    # Keys of replies sent but not yet recorded as sent: the next handler's transaction
    # records them, or bot.intake when it runs out of updates. Where no intake batches
    # them (BATCH_MARKS false), each handler records its own at once.
    sent_replies: list[str] = field(default_factory=list)
    batch_marks: bool = False
    # The Bot API clients build_application made (bot.transport), closed by bot.serve
    # if the Application never starts: PTB leaves them open when getMe fails.
    requests: tuple[BaseRequest, ...] = ()

    def take_sent_replies(self) -> list[str]:
        keys, self.sent_replies = self.sent_replies, []
        return keys

    def today(self) -> date:
        """Today in the city's own time zone."""
        return self.clock().astimezone(self.config.city.tz).date()


SERVICES_KEY = "services"


def services(context: Context) -> Services:
    svc = context.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


def split_message(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long reply at line breaks into pieces Telegram accepts."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces or [""]


# A kick drains this soon, so that the notices of a burst of updates share one drain
# (a drain costs a claim, a read of the chats' last messages and a release).
KICK_DELAY = 0.1


def kick_outbox(context: Context) -> None:
    """Drain the outbox now rather than at the next interval, when the sender runs here;
    a kick already waiting to run covers this one."""
    queue = context.job_queue
    if queue is None or not queue.scheduler.running:
        return
    kick = f"{OUTBOX_JOB}-now"
    if any(not job.removed for job in queue.get_jobs_by_name(kick)):
        return
    # The sender's own job, found by name: no import of the sender, which imports this.
    for job in queue.get_jobs_by_name(OUTBOX_JOB):
        queue.run_once(job.callback, KICK_DELAY, name=kick)
        return


async def flush_reply_marks(svc: Services) -> None:
    """Record the replies sent since the last record (they went out; not again)."""
    keys = svc.take_sent_replies()
    if not keys:
        return

    async def mark(session: AsyncSession) -> None:
        await outbox.mark_replies_sent(session, keys, svc.clock())

    try:
        await retrying(svc.sessions, mark)
    except Exception:
        svc.sent_replies.extend(keys)
        log.exception("could not record %d replies as sent; kept to record later", len(keys))


def failure_text(exc: BaseException, *, doubted: bool = False) -> str:
    """What an outbox row's `last_error` says of EXC, at most 300 characters. It starts
    with storage.outbox.IN_DOUBT if this send may have reached Telegram, or (DOUBTED) an
    earlier one did."""
    text = f"{type(exc).__name__}: {exc}"
    return ((IN_DOUBT if doubted or in_doubt(exc) else "") + text)[:300]
