"""The notification outbox: write a message once, however often the tick that makes it runs.

A message may carry a file (a photo or a document, kept once as an Attachment row and
shared by every message that sends it): the sender sends the file with the message's text
as its caption.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import core, upsert
from storage.models import Attachment, Member, Outbox, OutboxStatus, Unit, utcnow

Buttons = list[list[list[str]]]  # rows of [label, callback data]


@dataclass(frozen=True)
class Message:
    """One message for the outbox; `key` makes it unique (member, item, level, day…)."""

    key: str
    chat_id: int
    kind: str
    text: str
    member_id: int | None = None
    buttons: Buttons | None = None
    not_before: datetime | None = None
    # A file stored with add_attachment, sent with TEXT as its caption.
    attachment_id: int | None = None
    # REPLY (1) goes before BULK (0): a member who just wrote waits for no prompt.
    priority: int = 0
    # Sent as a reply to this message, with a forced reply (a question in a group).
    reply_to: int | None = None
    # Taken by a sender until then (UTC): a reply the handler is sending itself.
    claimed_until: datetime | None = None


BULK, REPLY = 0, 1


# What an attachment may be: how the sender sends it.
ATTACHMENT_KINDS = ("photo", "document")


async def add_attachment(session: AsyncSession, kind: str, filename: str, data: bytes) -> int:
    """Keep a file for the outbox to send (KIND "photo" or "document"); returns its id.

    Written with a plain insert: the audit log keeps records of the city's work as JSON,
    and a file's bytes are neither (nor would they fit it). Raises ValueError for another
    KIND.
    """
    if kind not in ATTACHMENT_KINDS:
        raise ValueError(f"an attachment is a photo or a document, not {kind!r}")
    found = await session.scalar(
        insert(Attachment)
        .values(kind=kind, filename=filename[:200], data=data, created_at=utcnow())
        .returning(Attachment.id)
    )
    assert found is not None
    return int(found)


async def attachment_data(session: AsyncSession, attachment_id: int) -> bytes | None:
    """The bytes of a stored file, None if there is no such attachment."""
    data = await session.scalar(select(Attachment.data).where(Attachment.id == attachment_id))
    return bytes(data) if data is not None else None


async def keys_like(session: AsyncSession, prefix: str) -> set[str]:
    """The dedupe keys already in the outbox that start with PREFIX (`meeting:2026-12-07:`)."""
    return set(
        await session.scalars(
            select(Outbox.dedupe_key).where(Outbox.dedupe_key.startswith(prefix, autoescape=True))
        )
    )


async def enqueue(
    session: AsyncSession,
    messages: Sequence[Message],
    now: datetime | None = None,
    *,
    fresh_keys: bool = False,
) -> int:
    """Add the messages whose keys are new; returns how many were added.

    The insert skips existing keys in the database itself (ON CONFLICT DO NOTHING), so two
    scheduler processes or a tick run twice cannot queue a message twice. FRESH_KEYS says
    the keys cannot be there yet (a handler's replies, keyed by its update id): the
    look-up that makes a repeated tick cheap is then skipped.
    """
    if not messages:
        return 0
    keys = [m.key[:200] for m in messages]
    existing: set[str] = set()
    for start in range(0, 0 if fresh_keys else len(keys), 500):
        chunk = keys[start : start + 500]
        existing |= set(
            await session.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(chunk)))
        )
    fresh: dict[str, Message] = {}
    for m in messages:
        if m.key[:200] not in existing:
            fresh.setdefault(m.key[:200], m)
    if not fresh:
        return 0
    now = now or utcnow()
    rows = [
        {
            "dedupe_key": key,
            "chat_id": m.chat_id,
            "member_id": m.member_id,
            "kind": m.kind,
            "text": m.text,
            "buttons": m.buttons,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "not_before": m.not_before or now,
            "created_at": now,
            "attachment_id": m.attachment_id,
            "priority": m.priority,
            "reply_to": m.reply_to,
            "claimed_until": m.claimed_until,
        }
        for key, m in fresh.items()
    ]
    stmt = (
        upsert(session, Outbox)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Outbox.id)
    )
    # Chunks keep each statement under the backends' parameter limits. Keys checked above
    # are skipped cheaply; the ON CONFLICT clause covers a concurrent writer, and only the
    # rows it let in come back, so the count is what this call added.
    added = 0
    for start in range(0, len(rows), 500):
        added += len((await core(session, stmt, rows[start : start + 500])).all())
    return added


async def mark_replies_sent(session: AsyncSession, keys: Sequence[str], now: datetime) -> None:
    """Record replies their handler sent itself (by dedupe key) as sent at NOW (UTC)."""
    if not keys:
        return
    for start in range(0, len(keys), 500):
        await core(
            session,
            update(Outbox)
            .where(Outbox.dedupe_key.in_(keys[start : start + 500]))
            .values(status=OutboxStatus.SENT, sent_at=now, claimed_until=None),
        )


async def release_replies(session: AsyncSession, keys: Sequence[str], error: str) -> None:
    """Give replies whose send failed to the sender: due at once, one attempt counted."""
    await session.execute(
        update(Outbox)
        .where(Outbox.dedupe_key.in_(list(keys)), Outbox.status == OutboxStatus.PENDING)
        .values(claimed_until=None, attempts=Outbox.attempts + 1, last_error=error[:300])
    )


async def pending_count(session: AsyncSession) -> int:
    """Messages not yet sent nor given up."""
    return int(
        await session.scalar(select(func.count()).where(Outbox.status == OutboxStatus.PENDING)) or 0
    )


# --- what the sender (bot/delivery.py) reads and writes ---------------------------------

# For the values of update_rows: count one more sending attempt.
ONE_MORE_ATTEMPT = Outbox.attempts + 1


@dataclass(frozen=True)
class AttachmentRef:
    """A row's file, without its bytes (the sender reads them once per drain)."""

    id: int
    kind: str  # "photo" or "document"
    filename: str


@dataclass(frozen=True)
class Due:
    """A pending row as the sender needs it."""

    id: int
    chat_id: int
    member_id: int | None
    text: str
    buttons: Buttons | None
    attempts: int
    # None when the row names no member
    reachable: bool | None
    attachment: AttachmentRef | None = None
    reply_to: int | None = None
    priority: int = BULK
    # Its last send may have reached Telegram (a timeout after the request went out).
    in_doubt: bool = False


# The start of `last_error` for a send that may have been carried out (bot.transport's
# `in_doubt`): the next attempt is the last (bot.delivery).
IN_DOUBT = "in doubt: "


async def due_rows(session: AsyncSession, now: datetime, limit: int) -> list[Due]:
    """Pending rows due at NOW, at most LIMIT, replies first and then in id order; a
    row's file without its bytes."""
    result = await session.execute(
        select(
            Outbox.id,
            Outbox.chat_id,
            Outbox.member_id,
            Outbox.text,
            Outbox.buttons,
            Outbox.attempts,
            Member.reachable,
            Attachment.id,
            Attachment.kind,
            Attachment.filename,
            Outbox.reply_to,
            Outbox.priority,
            Outbox.last_error,
        )
        .outerjoin(Member, Member.id == Outbox.member_id)
        .outerjoin(Attachment, Attachment.id == Outbox.attachment_id)
        .where(*_due(now))
        .order_by(Outbox.priority.desc(), Outbox.id)
        .limit(limit)
    )
    return [
        Due(
            *r[:7],
            attachment=AttachmentRef(r[7], r[8], r[9]) if r[7] is not None else None,
            reply_to=r[10],
            priority=r[11],
            in_doubt=(r[12] or "").startswith(IN_DOUBT),
        )
        for r in result.all()
    ]


def _due(now: datetime) -> tuple[Any, ...]:
    """Pending, due, and not taken by a sender (or taken by one that let its claim lapse)."""
    return (
        Outbox.status == OutboxStatus.PENDING,
        Outbox.not_before <= now,
        or_(Outbox.claimed_until.is_(None), Outbox.claimed_until <= now),
    )


async def claim(
    session: AsyncSession, ids: Sequence[int], now: datetime, until: datetime
) -> list[int]:
    """Take the rows until UNTIL, so no other drain takes them; return the ids still
    pending and due (another drain may have claimed some since they were read)."""
    claimed = await session.scalars(
        update(Outbox)
        .where(Outbox.id.in_(ids), *_due(now))
        .values(claimed_until=until)
        .returning(Outbox.id)
    )
    return list(claimed)


async def release(
    session: AsyncSession, ids: Sequence[int], claimed_until: datetime, due: datetime
) -> None:
    """Give claimed rows back unsent: due again at DUE."""
    await session.execute(
        update(Outbox)
        .where(
            Outbox.id.in_(ids),
            Outbox.status == OutboxStatus.PENDING,
            Outbox.claimed_until == claimed_until,
        )
        .values(not_before=due, claimed_until=None)
    )


async def release_all(session: AsyncSession) -> int:
    """Give back every claim: called by a process that has just become the only sender,
    so claims left by one that died are not waited out. Returns how many."""
    result = await session.execute(
        update(Outbox)
        .where(Outbox.status == OutboxStatus.PENDING, Outbox.claimed_until.is_not(None))
        .values(claimed_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def last_sent(
    session: AsyncSession, chats: Sequence[int], since: datetime
) -> dict[int, datetime]:
    """When each chat last got a message, if after SINCE."""
    found: dict[int, datetime] = {}
    for i in range(0, len(chats), 500):
        result = await session.execute(
            select(Outbox.chat_id, func.max(Outbox.sent_at))
            .where(
                Outbox.chat_id.in_(chats[i : i + 500]),
                Outbox.status == OutboxStatus.SENT,
                Outbox.sent_at > since,
            )
            .group_by(Outbox.chat_id)
        )
        found.update({chat: at for chat, at in result.all() if at is not None})
    return found


async def update_rows(
    session: AsyncSession, changes: Sequence[tuple[int, Mapping[str, Any]]]
) -> None:
    """Set each row's values (status, sent_at, not_before, attempts…); the row's claim
    ends with it. Rows given the same values share one statement (a drain's marks)."""
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for row_id, values in changes:
        key = tuple(sorted(values.items(), key=lambda kv: kv[0]))
        try:
            groups.setdefault(key, []).append(row_id)
        except TypeError:  # a value that cannot be a key: a statement of its own
            await core(
                session,
                update(Outbox).where(Outbox.id == row_id).values(claimed_until=None, **values),
            )
    for key, ids in groups.items():
        for start in range(0, len(ids), 500):
            await core(
                session,
                update(Outbox)
                .where(Outbox.id.in_(ids[start : start + 500]))
                .values(claimed_until=None, **dict(key)),
            )


async def follow_chat(session: AsyncSession, old: int, new: int) -> None:
    """A group became a supergroup: move its pending rows and its unit link to NEW."""
    await session.execute(
        update(Outbox)
        .where(Outbox.chat_id == old, Outbox.status == OutboxStatus.PENDING)
        .values(chat_id=new)
    )
    taken = await session.scalar(select(Unit.id).where(Unit.chat_id == new))
    for unit in await session.scalars(select(Unit).where(Unit.chat_id == old)):
        # Units.chat_id is unique: if the new chat is linked already, that link wins.
        unit.chat_id = new if taken is None else None
