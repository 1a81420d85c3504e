"""Updates in: kept in the inbox before Telegram is told they arrived, then handled.

PTB's Updater confirms a batch to Telegram with its next getUpdates, long before the
handlers have finished it: a crash then loses the batch (measured: 89 of 150 reports).
Here each batch is committed to the inbox table first (storage.inbox), and only then is
the next getUpdates asked for, which confirms it; in webhook mode (bot.webhook) Telegram
gets its 200 only after the same commit. A worker hands the inbox's updates, oldest first,
to the Application; the handler marks its row done in its own transaction
(bot.handlers.base.guarded), the worker marks the rest (strangers, a group's chatter).
After a crash the next active process starts with the rows still pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.runtime import Services, flush_reply_marks
from storage import inbox
from storage.db import refresh_statistics, retrying

log = logging.getLogger(__name__)

# Long polling: how long one getUpdates waits for news (seconds), and how many it takes.
POLL_TIMEOUT = 25
POLL_LIMIT = 100
# Handled updates are forgotten after this long (the audit log keeps what they did).
KEEP_HANDLED = timedelta(days=7)
MAX_BACKOFF = 30.0

# A queued update: its id, its JSON and, when long polling read it already, the Update.
Queued = tuple[int, dict[str, Any], Update | None]


class Intake:
    """The inbox between Telegram and the Application, for one active process."""

    def __init__(self, app: Application, svc: Services, lanes: int = 1) -> None:  # type: ignore[type-arg]
        self.app = app
        self.svc = svc
        self.lanes = max(lanes, 1)
        # lane -> the update it is handling
        self.busy: dict[int, int] = {}
        self.queue: asyncio.Queue[Queued] = asyncio.Queue()
        # Updates whose handler wrote nothing, to be marked done together.
        self.unmarked: list[int] = []
        self.handled = 0
        # When getUpdates last answered (monotonic seconds); /health reports it.
        self.contact_at: float | None = None
        self.stopping = False
        svc.batch_marks = True

    # --- in

    async def keep(
        self, payloads: Sequence[Mapping[str, Any]], updates: Sequence[Update] = ()
    ) -> list[int]:
        """Commit the updates to the inbox and queue the new ones; returns their ids.

        UPDATES, when given, are the same updates already read (long polling), so that
        they are not read from their JSON a second time.

        Raises what the store raises (after one retry on a dropped connection): the
        caller must then not confirm the updates to Telegram.
        """
        rows = []
        for payload in payloads:
            try:
                rows.append(inbox.received(payload))
            except (KeyError, TypeError, ValueError):
                log.warning("not an update, dropped: %r", payload)
        if not rows:
            return []

        async def store(session: AsyncSession) -> list[int]:
            return await inbox.keep(session, rows, self.svc.clock())

        kept = await retrying(self.svc.sessions, store)
        by_id = {r.update_id: r for r in rows}
        read = {u.update_id: u for u in updates}
        for update_id in kept:
            self.queue.put_nowait((update_id, dict(by_id[update_id].payload), read.get(update_id)))
        if len(kept) < len(rows):
            log.info("dropped %d update(s) already in the inbox", len(rows) - len(kept))
        return kept

    async def resume(self) -> int:
        """Queue what an earlier process stored but did not finish; returns how many."""

        async def read(session: AsyncSession) -> list[tuple[int, dict[str, Any]]]:
            return await inbox.pending(session, limit=100_000)

        rows = await retrying(self.svc.sessions, read)
        for update_id, payload in rows:
            self.queue.put_nowait((update_id, payload, None))
        if rows:
            log.info("resuming %d update(s) left unhandled", len(rows))
        return len(rows)

    async def poll(self) -> None:
        """Long polling, forever: fetch, keep, and only then confirm (by fetching again)."""
        bot = self.app.bot

        async def last(session: AsyncSession) -> int | None:
            return await inbox.last_update_id(session)

        newest = await retrying(self.svc.sessions, last)
        offset = newest + 1 if newest is not None else None
        failures = 0
        while True:
            try:
                updates = await bot.get_updates(
                    offset=offset,
                    timeout=POLL_TIMEOUT,
                    limit=POLL_LIMIT,
                    allowed_updates=Update.ALL_TYPES,
                )
                self.contact_at = time.monotonic()
                if updates:
                    await self.keep([u.to_dict() for u in updates], updates)
                    offset = updates[-1].update_id + 1
                failures = 0
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                raise
            except RetryAfter as exc:
                await asyncio.sleep(float(exc.retry_after))  # type: ignore[arg-type]
            except Conflict as exc:
                # Another process polls with the same token: the lease should prevent it.
                failures += 1
                log.error("getUpdates conflict (is another bot process polling?): %s", exc)
                await asyncio.sleep(min(2.0**failures, MAX_BACKOFF))
            except (NetworkError, TelegramError, Exception) as exc:
                # Telegram or the store unreachable: the updates stay unconfirmed there.
                failures += 1
                log.warning("fetching updates failed (%s); retrying", exc)
                await asyncio.sleep(min(0.5 * 2.0**failures, MAX_BACKOFF))

    # --- through

    async def work(self) -> None:
        """Hand the queued updates to the Application until `stopping` is set.

        Each sender's updates go one at a time, oldest first, in a lane of their own (the
        sender's id picks the lane), so one member's flow never runs two steps at once;
        different members' updates run side by side in `lanes` lanes, which overlaps the
        waits for the store. The update in hand is finished before a lane stops.
        """
        lanes = [asyncio.Queue[Queued]() for _ in range(self.lanes)]
        workers = [
            asyncio.create_task(self._lane(q), name=f"inbox-lane-{i}") for i, q in enumerate(lanes)
        ]
        try:
            while not self.stopping:
                item = await self.queue.get()
                lanes[_sender(item[1]) % len(lanes)].put_nowait(item)
        finally:
            self.stopping = True
            for lane, worker in zip(lanes, workers, strict=True):
                if lane.empty() and self.busy.get(id(lane)) is None:
                    worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _lane(self, lane: asyncio.Queue[Queued]) -> None:
        while not self.stopping:
            update_id, payload, update = await lane.get()
            self.busy[id(lane)] = update_id
            try:
                await self.handle(update_id, payload, update)
            except Exception:
                # Left pending: the next start tries it again.
                log.exception("update %s could not be handled", update_id)
            finally:
                del self.busy[id(lane)]
            if (self.queue.empty() and lane.empty()) or self.stopping:
                await self.flush()

    async def handle(
        self, update_id: int, payload: dict[str, Any], update: Update | None = None
    ) -> None:
        """One update through the Application; its inbox row marked done by the end."""
        if update is None:
            update = Update.de_json(payload, self.app.bot)
        svc = self.svc
        svc.from_inbox.add(update_id)
        try:
            await self.app.process_update(update)
        finally:
            svc.from_inbox.discard(update_id)
        if update_id in svc.finished:
            svc.finished.discard(update_id)
        else:
            self.unmarked.append(update_id)
        self.handled += 1

    async def flush(self) -> None:
        """Mark done the updates whose handlers wrote nothing, and record sent replies."""
        ids, self.unmarked = self.unmarked, []
        if ids:

            async def mark(session: AsyncSession) -> None:
                await inbox.finish_many(session, ids, self.svc.clock())

            try:
                await retrying(self.svc.sessions, mark)
            except Exception:
                # Handled again after a restart: these handlers wrote nothing.
                log.exception("could not mark %d update(s) handled", len(ids))
        await flush_reply_marks(self.svc)

    async def prune(self) -> None:
        """Forget handled updates older than KEEP_HANDLED, and refresh SQLite's planner
        statistics, hourly."""
        while True:

            async def forget(session: AsyncSession) -> int:
                gone = await inbox.prune(session, self.svc.clock() - KEEP_HANDLED)
                await refresh_statistics(session)
                return gone

            try:
                gone = await retrying(self.svc.sessions, forget)
                if gone:
                    log.info("forgot %d handled update(s)", gone)
            except Exception:
                log.exception("could not prune the inbox")
            await asyncio.sleep(3600)


def _sender(payload: Mapping[str, Any]) -> int:
    """Who sent the update (its user, else its chat): the key of its lane."""
    for key, value in payload.items():
        if key != "update_id" and isinstance(value, Mapping):
            for field in ("from", "chat"):
                who = value.get(field)
                if isinstance(who, Mapping) and isinstance(who.get("id"), int):
                    return abs(int(who["id"]))
    return 0


@contextlib.asynccontextmanager
async def running(intake: Intake, *, polling: bool) -> AsyncIterator[None]:
    """Run the worker (and the poller, for long polling) until the block ends; then let
    the update in hand finish (the others stay pending in the inbox for the next start)."""
    await intake.resume()
    worker = asyncio.create_task(intake.work(), name="inbox-worker")
    helpers = [asyncio.create_task(intake.prune(), name="inbox-prune")]
    if polling:
        helpers.append(asyncio.create_task(intake.poll(), name="poller"))
    try:
        yield
    finally:
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        intake.stopping = True
        # The dispatcher waits on the queue; its lanes finish the update in hand.
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        with contextlib.suppress(Exception):
            await intake.flush()
