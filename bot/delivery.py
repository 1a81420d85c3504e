"""The outbox sender: drains pending messages to Telegram within its limits.

Rows are claimed replies first, then in id order (so that two drains never take the same
row), and sent concurrently across chats; a bulk row waits while a handler sends a reply
(bot.runtime.ReplyFirst). Each row is marked as soon as Telegram took it (marks that
finish together share a commit), so a crash re-sends at most the messages that were in
flight and never loses one. The overall 30/s and the
20/min per group are the bot's rate limiter's job (AIORateLimiter); one message a second
per private chat is kept here, by deferring a chat's further rows rather than sleeping on
them. A row with a file (an Attachment: the meeting's workbook, the wall chart) is sent as
a photo or a document with the row's text as its caption, under the same rules.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, ForceReply, InlineKeyboardMarkup, ReplyParameters
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram.constants import MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.config import SchedulerConfig
from bot.group_links import bot_left
from bot.keyboards import inline_markup
from bot.runtime import Context, ReplyFirst, failure_text, services, split_message
from bot.texts import t
from bot.transport import in_doubt
from storage import outbox
from storage.db import SessionMaker, retrying, set_actor
from storage.models import Member, OutboxStatus, utcnow
from storage.outbox import Due, Message, enqueue
from storage.people import answerable_for, member_by_tg

log = logging.getLogger(__name__)

# Chats served at once. Enough that the rate limiter, not round trips, sets the pace; few
# enough to stay inside the HTTP connection pool and the database pool.
CONCURRENCY = 16
# Backoff after a network error: 2**attempts seconds, capped.
MAX_BACKOFF = 300.0
# drain_job drains again at once while batches come back full, at most this many times.
MAX_ROUNDS = 25
# A drain claims its rows (claimed_until) this long, so that a second drain (the kick
# after a handler's notice) cannot take them too. Longer than any drain lasts, retries
# inside the rate limiter included. A process that becomes the active one gives back
# every claim at once (bot.serve), so the claims of a process that died are not waited out.
CLAIM = timedelta(minutes=10)
# Seconds to wait for the answer to a send whose last attempt timed out after it went
# out (bot.transport.in_doubt). If this one times out too, the row is given up: it has
# likely been shown already, and at most twice.
IN_DOUBT_READ_TIMEOUT = 30.0

# Telegram's RetryAfter holds for the whole bot, so it outlives the drain that met it: the
# next drains send nothing until then instead of meeting it again. Keyed by the object's
# identity (Bot's own equality is by Telegram bot id, which every test bot shares).
_halted: dict[int, tuple[weakref.ref[Bot], datetime]] = {}


# Rows Telegram took whose "sent" mark could not be written (the store's connection
# dropped twice): never sent again, and marked by the next drain that can write. Kept per
# store (the sessionmaker's identity; tests run several stores in one process).
_unrecorded: dict[int, tuple[weakref.ref[SessionMaker], dict[int, dict[str, Any]]]] = {}


def unrecorded(sessions: SessionMaker) -> dict[int, dict[str, Any]]:
    """The sent rows of this store still to be marked: row id -> the mark's values."""
    entry = _unrecorded.get(id(sessions))
    if entry is None or entry[0]() is not sessions:
        entry = (weakref.ref(sessions), {})
        _unrecorded[id(sessions)] = entry
    return entry[1]


def _halted_until(bot: Bot) -> datetime | None:
    entry = _halted.get(id(bot))
    return entry[1] if entry is not None and entry[0]() is bot else None


@dataclass(frozen=True)
class DrainResult:
    """What one drain did with the rows it took."""

    sent: int = 0
    # kept pending after RetryAfter or a network error (with a later not_before), or
    # moved to the supergroup its group became
    retried: int = 0
    failed: int = 0
    unreachable: int = 0
    # put back unsent: the private chat got a message less than private_interval ago,
    # or Telegram asked the whole bot to wait
    deferred: int = 0

    @property
    def handled(self) -> int:
        """Rows taken and moved on (a drain that stopped on a network failure takes fewer)."""
        return self.sent + self.retried + self.failed + self.unreachable + self.deferred


def _retry_after(exc: RetryAfter) -> float:
    # PTB 22 returns an int or a timedelta depending on PTB_TIMEDELTA and warns about the
    # int; either is fine here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _read_timeout(row: Due) -> float | DefaultValue[None]:
    """How long to wait for Telegram's answer: PTB's default, or IN_DOUBT_READ_TIMEOUT
    when the last send may have arrived, so that a slow Telegram is waited out rather
    than sent the same message once more."""
    return IN_DOUBT_READ_TIMEOUT if row.in_doubt else DEFAULT_NONE


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2.0 ** min(attempts, 30), MAX_BACKOFF))


def _private(chat_id: int) -> bool:
    # A private chat's id is the user's id, always positive; groups and channels are negative.
    return chat_id > 0


def _parts(row: Due) -> list[tuple[str, str]]:
    """What a row is sent as, in order: ("text", piece) for each piece of a long text;
    for a row with a file, ("file", caption) first, its text as the caption when it fits
    one, else the file bare and then the text as messages."""
    if row.attachment is None:
        return [("text", piece) for piece in split_message(row.text)]
    if len(row.text) <= MessageLimit.CAPTION_LENGTH:
        return [("file", row.text)]
    return [("file", ""), *(("text", piece) for piece in split_message(row.text))]


def _remainder(parts: list[tuple[str, str]], done: int) -> dict[str, Any] | None:
    """The values that make a row send only what is left once DONE parts got through;
    None when nothing got through. Parts after the first are always text."""
    if not done:
        return None
    return {"text": "\n".join(text for _kind, text in parts[done:]), "attachment_id": None}


def unreachable_notices(member: Member, heads: Sequence[Member], at: datetime) -> list[Message]:
    """One notice per head; the key makes it once per member and head, however often."""
    return [
        Message(
            key=f"unreachable:{member.id}:{head.id}",
            chat_id=head.tg_user_id,
            kind="unreachable",
            text=t(head.lang, "note.unreachable", name=member.name, unit=member.unit.name),
            member_id=head.id,
            not_before=at,
        )
        for head in heads
    ]


class _Drain:
    """One drain's shared state: its claim, counts, the write lock, whether to keep sending."""

    def __init__(
        self,
        bot: Bot,
        sessions: SessionMaker,
        config: SchedulerConfig,
        now: Callable[[], datetime],
        gate: ReplyFirst | None = None,
    ) -> None:
        self.bot = bot
        self.gate = gate
        self.sessions = sessions
        self.config = config
        self.now = now
        self.interval = timedelta(seconds=max(config.private_interval, 0.0))
        self.counts = dict.fromkeys((f.name for f in fields(DrainResult)), 0)
        # Writes go one at a time (SQLite has one writer anyway). Marks that queue up while
        # a commit runs share the next commit: see _write.
        self.write_lock = asyncio.Lock()
        self.marks: list[tuple[int, dict[str, Any], asyncio.Future[None]]] = []
        self.slots = asyncio.Semaphore(CONCURRENCY)
        # Set on RetryAfter: the rest of the batch waits as well.
        self.halt_until: datetime | None = None
        # After a network failure the rest of the batch is left for the next drain, so
        # that an outage costs one attempt per drain rather than one per row.
        self.stopped = False
        self.last_sent: dict[int, datetime] = {}
        self.start = now()
        self.claim_until = self.start + CLAIM
        self.claimed: list[int] = []
        # attachment id -> its bytes, read once per drain
        self.files: dict[int, asyncio.Future[bytes]] = {}
        # rows written since they were claimed; the rest are given back at the end
        self.touched: set[int] = set()

    def result(self) -> DrainResult:
        return DrainResult(**self.counts)

    # --- reading

    async def take(self) -> list[Due]:
        """Claim the due rows, at most a batch, replies first, then in id order."""
        start = self.start
        owed = unrecorded(self.sessions)
        async with self.write_lock, self.sessions() as session:
            if owed:
                # Sent by an earlier drain whose mark failed: marked now, never sent again.
                await outbox.update_rows(session, list(owed.items()))
                await session.commit()
                owed.clear()
            rows = await outbox.due_rows(session, start, self.config.drain_batch)
            if rows:
                # Rows that another drain claimed since they were read are left out.
                ids = [r.id for r in rows]
                self.claimed = await outbox.claim(session, ids, start, self.claim_until)
                await session.commit()
                rows = [r for r in rows if r.id in set(self.claimed)]
            private = sorted({r.chat_id for r in rows if _private(r.chat_id)})
            if private and self.interval:
                # When each chat last got a message from an earlier drain.
                since = start - self.interval
                self.last_sent.update(await outbox.last_sent(session, private, since))
        return rows

    async def release(self) -> None:
        """Give back the claimed rows this drain left alone: due again at once."""
        left = [i for i in self.claimed if i not in self.touched]
        if not left:
            return
        async with self.write_lock, self.sessions() as session:
            await outbox.release(session, left, self.claim_until, self.start)
            await session.commit()

    # --- writing

    async def _write(self, row_id: int, **values: Any) -> None:
        """Update one row and return once that is committed.

        The first writer to get the lock commits every mark queued by then (group commit):
        a commit per row would make the marks queue behind each other, which leaves more
        accepted messages unrecorded at any moment, not fewer. A crash can re-send only
        messages whose acceptance had not been committed yet: at most the ones in flight.
        """
        self.touched.add(row_id)
        done = asyncio.get_running_loop().create_future()
        self.marks.append((row_id, values, done))
        async with self.write_lock:
            if not done.done():
                batch, self.marks = self.marks, []
                # One time for the batch's sent marks, so that they share one statement.
                at = self.now()
                changes = [
                    (rid, {**vals, "sent_at": at} if "sent_at" in vals else vals)
                    for rid, vals, _ in batch
                ]

                async def write(session: AsyncSession) -> None:
                    await outbox.update_rows(session, changes)

                try:
                    await retrying(self.sessions, write)
                except Exception as exc:
                    log.error("could not record %d outbox mark(s): %s", len(batch), exc)
                    owed = unrecorded(self.sessions)
                    for rid, vals, fut in batch:
                        if vals.get("status") == OutboxStatus.SENT:
                            # Telegram has it: remember, so that it is not sent again.
                            owed[rid] = vals
                            fut.set_result(None)
                        else:
                            fut.set_exception(exc)
                except BaseException:
                    for *_, fut in batch:
                        fut.cancel()
                    raise
                else:
                    for *_, fut in batch:
                        fut.set_result(None)
        await done

    async def mark_unreachable_members(self, rows: list[Due]) -> None:
        """Rows to members already known to have blocked the bot: marked, not sent."""
        if not rows:
            return
        self.touched.update(r.id for r in rows)
        # No message is in flight here, so one commit for all of them loses nothing.
        values = {"status": OutboxStatus.UNREACHABLE, "last_error": "member unreachable"}
        async with self.write_lock, self.sessions() as session:
            await outbox.update_rows(session, [(r.id, values) for r in rows])
            await session.commit()
        self.counts["unreachable"] += len(rows)

    async def defer(self, rows: Sequence[Due], first: datetime) -> None:
        """Put ROWS back unsent, the first at FIRST and each next one an interval later."""
        if not rows:
            return
        # With the marks' group commit: in a burst most chats wait for their interval, and
        # a transaction of their own each was most of the sender's work.
        await asyncio.gather(
            *(
                self._write(row.id, not_before=first + k * self.interval)
                for k, row in enumerate(rows)
            )
        )
        self.counts["deferred"] += len(rows)

    async def _sent(self, row: Due) -> datetime:
        at = self.now()
        await self._write(
            row.id,
            status=OutboxStatus.SENT,
            sent_at=at,
            attempts=outbox.ONE_MORE_ATTEMPT,
            last_error=None,
        )
        self.counts["sent"] += 1
        return at

    async def _retry(
        self, row: Due, until: datetime, exc: BaseException, remainder: dict[str, Any] | None
    ) -> datetime:
        values: dict[str, Any] = {
            "attempts": outbox.ONE_MORE_ATTEMPT,
            "not_before": until,
            # Once in doubt, always: its next in-doubt failure is its last.
            "last_error": failure_text(exc, doubted=row.in_doubt),
        }
        if remainder is not None:
            # The first pieces of a long message got through: only the rest is sent again.
            values.update(remainder)
        await self._write(row.id, **values)
        self.counts["retried"] += 1
        return until

    async def _fail(self, row: Due, exc: BaseException) -> datetime:
        await self._write(
            row.id,
            status=OutboxStatus.FAILED,
            attempts=outbox.ONE_MORE_ATTEMPT,
            last_error=failure_text(exc),
        )
        self.counts["failed"] += 1
        return self.now()

    async def _back_off(
        self, row: Due, exc: BaseException, remainder: dict[str, Any] | None
    ) -> datetime:
        """Retry later, exponentially later, or give up after max_attempts."""
        attempts = row.attempts + 1
        if attempts >= self.config.max_attempts:
            log.warning("outbox %s failed after %s attempts: %s", row.id, attempts, exc)
            return await self._fail(row, exc)
        return await self._retry(row, self.now() + _backoff(attempts), exc, remainder)

    async def _forbidden(self, row: Due, exc: Forbidden) -> datetime | None:
        """Blocked or deactivated: mark the member unreachable and tell their head once.

        A unit's group that removed the bot is unlinked (its pending rows closed, its head
        and the coordinators told): None, so the group's further rows are not tried.
        """
        self.touched.add(row.id)
        async with self.write_lock, self.sessions() as session:
            # The system acts here, not a member.
            set_actor(session, None)
            values = {
                "status": OutboxStatus.UNREACHABLE,
                "attempts": outbox.ONE_MORE_ATTEMPT,
                "last_error": failure_text(exc),
            }
            await outbox.update_rows(session, [(row.id, values)])
            # A group that removed the bot says nothing about its members.
            if _private(row.chat_id):
                member = (
                    await session.get(Member, row.member_id)
                    if row.member_id is not None
                    else await member_by_tg(session, row.chat_id)
                )
                if member is not None and member.reachable:
                    # Through the ORM, so that the audit log records the change.
                    member.reachable = False
                    heads = await answerable_for(session, member)
                    await enqueue(session, unreachable_notices(member, heads, self.now()))
                    if not heads:
                        log.warning("member %s is unreachable and has no head to tell", member.id)
            elif await bot_left(session, row.chat_id, self.now()) is not None:
                await session.commit()
                self.counts["unreachable"] += 1
                return None
            await session.commit()
        self.counts["unreachable"] += 1
        return self.now()

    async def _migrated(self, row: Due, exc: ChatMigrated) -> None:
        """A group became a supergroup: follow it, for its pending rows and for its unit."""
        new_chat = int(exc.new_chat_id)
        self.touched.add(row.id)
        async with self.write_lock, self.sessions() as session:
            set_actor(session, None)
            await outbox.follow_chat(session, row.chat_id, new_chat)
            values = {
                "attempts": outbox.ONE_MORE_ATTEMPT,
                "last_error": failure_text(exc),
                "not_before": self.now(),
            }
            await outbox.update_rows(session, [(row.id, values)])
            await session.commit()
        self.counts["retried"] += 1

    # --- sending

    async def deliver(self, row: Due) -> datetime | None:
        """Send one row and mark it; return when its chat is free again.

        None means that the chat's further rows must wait for the next drain.
        """
        if self.stopped:
            return None
        if self.halt_until is not None:
            await self.defer([row], self.halt_until)
            return self.halt_until
        try:
            markup: InlineKeyboardMarkup | ForceReply | None = inline_markup(row.buttons)
        except (TypeError, ValueError) as exc:
            return await self._fail(row, exc)
        if markup is None and row.reply_to is not None:
            # A question asked in a group: answered by replying, past privacy mode.
            markup = ForceReply(selective=True)
        if row.priority == outbox.BULK and self.gate is not None:
            # A member waiting for the answer to what they just sent goes first.
            await self.gate.bulk()
        parts = _parts(row)
        done = 0
        try:
            for i, (kind, text) in enumerate(parts):
                last = i == len(parts) - 1
                buttons = markup if last else None
                if kind == "text":
                    await self.bot.send_message(
                        row.chat_id,
                        text,
                        parse_mode=ParseMode.HTML,
                        disable_web_page_preview=True,
                        reply_markup=buttons,
                        reply_parameters=(
                            ReplyParameters(row.reply_to, allow_sending_without_reply=True)
                            if row.reply_to is not None and last
                            else None
                        ),
                        read_timeout=_read_timeout(row),
                    )
                else:
                    await self._send_file(row, text, buttons)
                done += 1
        except RetryAfter as exc:
            until = self.now() + timedelta(seconds=_retry_after(exc))
            if self.halt_until is None or until > self.halt_until:
                self.halt_until = until
                _halted[id(self.bot)] = (weakref.ref(self.bot), until)
            return await self._retry(row, until, exc, _remainder(parts, done))
        except ChatMigrated as exc:
            # The chat's other rows in this batch still name the old chat; the next drain
            # sends them to the new one.
            await self._migrated(row, exc)
            return None
        except Forbidden as exc:
            return await self._forbidden(row, exc)
        except BadRequest as exc:
            # Chat not found, bad HTML, a picture Telegram will not take…: sending the
            # same again would fail the same way.
            log.warning("outbox %s refused by Telegram: %s", row.id, exc)
            return await self._fail(row, exc)
        except (NetworkError, TelegramError) as exc:
            # NetworkError covers TimedOut; any other TelegramError (a bad token) is as
            # likely to hit the next row, so both stop the batch.
            self.stopped = True
            if in_doubt(exc) and row.in_doubt:
                # Twice sent, twice unanswered: Telegram may well have shown it twice
                # already; a third try could only add a copy.
                log.warning("outbox %s given up: in doubt twice (%s)", row.id, exc)
                return await self._fail(row, exc)
            return await self._back_off(row, exc, _remainder(parts, done))
        except Exception as exc:
            # A bug around this one row must not hold up the others.
            log.exception("outbox %s could not be sent", row.id)
            return await self._back_off(row, exc, _remainder(parts, done))
        return await self._sent(row)

    async def _file(self, attachment_id: int) -> bytes:
        """An attachment's bytes, read from the store once per drain however many rows
        send it (the meeting's workbook goes to every coordinator and leader)."""
        if attachment_id not in self.files:
            self.files[attachment_id] = asyncio.ensure_future(self._read_file(attachment_id))
        return await asyncio.shield(self.files[attachment_id])

    async def _read_file(self, attachment_id: int) -> bytes:
        async with self.sessions() as session:
            data = await outbox.attachment_data(session, attachment_id)
        if data is None:
            raise ValueError(f"attachment {attachment_id} is not in the store")
        return data

    async def _send_file(
        self, row: Due, caption: str, markup: InlineKeyboardMarkup | ForceReply | None
    ) -> None:
        """The row's photo or document, with CAPTION (HTML) and the row's buttons."""
        attachment = row.attachment
        assert attachment is not None
        data = await self._file(attachment.id)
        if attachment.kind == "photo":
            await self.bot.send_photo(
                row.chat_id,
                data,
                caption=caption or None,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                filename=attachment.filename,
                read_timeout=_read_timeout(row),
            )
        else:
            await self.bot.send_document(
                row.chat_id,
                data,
                caption=caption or None,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                filename=attachment.filename,
                read_timeout=_read_timeout(row),
            )

    async def chat(self, chat_id: int, rows: list[Due]) -> None:
        """Deliver one chat's rows, keeping the interval if it is a private chat."""
        async with self.slots:
            if not (_private(chat_id) and self.interval):
                # Groups' own limit is the rate limiter's: it makes these wait their turn.
                for row in rows:
                    if await self.deliver(row) is None:
                        return
                return
            last = self.last_sent.get(chat_id)
            if last is not None and last + self.interval > self.now():
                await self.defer(rows, last + self.interval)
                return
            free = await self.deliver(rows[0])
            if free is not None:
                await self.defer(rows[1:], free + self.interval)


async def drain(
    bot: Bot,
    sessions: SessionMaker,
    config: SchedulerConfig,
    *,
    now: Callable[[], datetime] = utcnow,
    gate: ReplyFirst | None = None,
) -> DrainResult:
    """Claim the outbox's due rows (at most drain_batch, replies first), send, mark each.

    GATE, when given, holds bulk rows back while a handler sends its replies."""
    halted = _halted_until(bot)
    if halted is not None and halted > now():
        return DrainResult()
    run = _Drain(bot, sessions, config, now, gate)
    rows = await run.take()
    try:
        await run.mark_unreachable_members(
            [r for r in rows if r.reachable is False and _private(r.chat_id)]
        )
        by_chat: dict[int, list[Due]] = {}
        for row in rows:
            if not (row.reachable is False and _private(row.chat_id)):
                by_chat.setdefault(row.chat_id, []).append(row)
        # gather, not a TaskGroup: one chat's database error must not cancel another
        # chat's send between Telegram's acceptance and its mark (that would send it twice).
        outcomes = await asyncio.gather(
            *(run.chat(chat_id, chat_rows) for chat_id, chat_rows in by_chat.items()),
            return_exceptions=True,
        )
    finally:
        await run.release()
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    for error in errors[1:]:
        log.error("drain failed more than once", exc_info=error)
    if errors:
        raise errors[0]
    return run.result()


async def drain_job(context: Context) -> None:
    """JobQueue callback: drain the outbox, again at once while batches come back full."""
    svc = services(context)
    config = svc.config.scheduler
    for _ in range(MAX_ROUNDS):
        result = await drain(context.bot, svc.sessions, config, now=svc.clock, gate=svc.gate)
        if result.handled - result.deferred:
            log.info("outbox drained: %s", result)
        elif result.handled:
            # Only put back for a chat's interval: every two seconds while it lasts.
            log.debug("outbox drained: %s", result)
        # A full batch means more may be due; every row taken got a later not_before or
        # left the queue, so the next round takes other rows.
        if result.handled < config.drain_batch:
            return
