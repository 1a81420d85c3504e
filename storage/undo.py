"""Undo for a date the bot has just said back: a few minutes to take a wrong reading back.

A change that sets a date (`/due`, `/plan`, an approved extension of a milestone, a
problem or an instruction, a problem's reply
deadline read from its text) leaves an *undo offer* in the audit log: one row written by
hand, `action="offer"`, whose `after` holds what Undo would restore and what the records
must still hold for it to apply. The Undo button carries only the offer's id (`un:ID`),
so the offer survives a restart of the bot and nothing is kept in process memory.

Undo is an ordinary update back: the flush hook logs it with its actor like every other
change, and a row `action="undo"` names the offer it took back, so it is taken back once.
It is refused after `WINDOW`, for anyone but who made the change (or a coordinator), and
when a record was changed again meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Enum, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import plain_value
from storage.errors import Refused
from storage.models import AuditLog, Base, Member, Role

WINDOW = timedelta(minutes=10)
OFFER = "offer"
UNDO = "undo"
# Undo puts dates (and what moved with them) back; nothing else may be named in an offer.
UNDOABLE = frozenset({"milestones", "problems", "instructions", "extensions"})
# Applied after the rest: setting a date starts its escalation over (storage.models),
# and the escalation that stood before the change is what comes back.
_LAST = ("escalation_level", "escalated_at")


@dataclass
class Target:
    """One record and its fields: RESTORE is written back if it still holds EXPECT."""

    entity: str
    id: int
    restore: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)

    def plain(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "id": self.id,
            "restore": self.restore,
            "expect": self.expect,
        }


@dataclass(frozen=True)
class Undone:
    """What an undo put back: the offer's note (what kind of change) and its targets."""

    note: str
    targets: list[Target]
    actor_id: int | None


async def mark(session: AsyncSession) -> int:
    """The last audit row so far: call before a change, then `changes_since(mark)`."""
    await session.flush()
    return int(await session.scalar(select(func.max(AuditLog.id))) or 0)


async def changes_since(
    session: AsyncSession, since: int, actor_id: int, refs: list[tuple[str, int]], keys: set[str]
) -> list[Target]:
    """The updates ACTOR made to REFS after audit row SINCE, as targets: each field's value
    before the first of them comes back; KEYS are the fields that must not have moved."""
    await session.flush()
    targets: list[Target] = []
    for entity, ident in refs:
        rows = await session.scalars(
            select(AuditLog)
            .where(
                AuditLog.id > since,
                AuditLog.actor_id == actor_id,
                AuditLog.action == "update",
                AuditLog.entity == entity,
                AuditLog.entity_id == str(ident),
            )
            .order_by(AuditLog.id)
        )
        target = Target(entity, ident)
        for row in rows:
            for key, value in (row.before or {}).items():
                target.restore.setdefault(key, value)
            target.expect.update({k: v for k, v in (row.after or {}).items() if k in keys})
        if target.expect:
            if entity == "milestones":
                # Done is done: a milestone marked done meanwhile keeps its date.
                target.expect["done_date"] = None
            elif entity == "instructions":
                target.expect["done_at"] = None
            targets.append(target)
    return targets


async def created_since(session: AsyncSession, since: int, actor_id: int, entity: str) -> bool:
    """Whether ACTOR created records of ENTITY after audit row SINCE: a change that added
    records cannot be undone, for nothing is deleted."""
    await session.flush()
    found = await session.scalar(
        select(AuditLog.id).where(
            AuditLog.id > since,
            AuditLog.actor_id == actor_id,
            AuditLog.action == "create",
            AuditLog.entity == entity,
        )
    )
    return found is not None


async def offer(
    session: AsyncSession, actor_id: int, targets: list[Target], now: datetime, note: str
) -> int | None:
    """Record what Undo would restore; the offer's id, or None when nothing changed."""
    if not targets:
        return None
    for target in targets:
        assert target.entity in UNDOABLE, target.entity
    row = AuditLog(
        at=now,
        actor_id=actor_id,
        action=OFFER,
        entity="audit_log",
        entity_id="",
        after={"note": note, "targets": [t.plain() for t in targets]},
    )
    session.add(row)
    await session.flush()
    return row.id


def _model(entity: str) -> type[Any]:
    for mapper in Base.registry.mappers:
        if mapper.class_.__tablename__ == entity:
            return mapper.class_
    raise Refused("err.bad_button")


def _value(model: type[Any], key: str, plain: Any) -> Any:
    """A value as the audit log keeps it, back as the column's Python value."""
    if plain is None:
        return None
    column = model.__table__.columns[key]
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        return column.type.enum_class(plain)
    python = column.type.python_type
    if python is datetime:
        return datetime.fromisoformat(plain)
    if python is date:
        return date.fromisoformat(plain)
    return plain


async def undo(session: AsyncSession, member: Member, offer_id: int, now: datetime) -> Undone:
    """Put back what offer OFFER_ID names, as MEMBER, at NOW (aware UTC)."""
    row = await session.get(AuditLog, offer_id)
    if row is None or row.action != OFFER or row.after is None:
        raise Refused("err.bad_button")
    if row.actor_id != member.id and member.role is not Role.COORDINATOR:
        raise Refused("err.undo_not_yours")
    taken = await session.scalar(
        select(AuditLog.id).where(AuditLog.action == UNDO, AuditLog.entity_id == str(offer_id))
    )
    if taken is not None:
        raise Refused("err.undo_done")
    if now - row.at > WINDOW:
        raise Refused("err.undo_expired", minutes=int(WINDOW.total_seconds() // 60))
    targets = [
        Target(t["entity"], int(t["id"]), dict(t["restore"]), dict(t["expect"]))
        for t in row.after["targets"]
    ]
    objects = []
    for target in targets:
        if target.entity not in UNDOABLE:
            raise Refused("err.bad_button")
        model = _model(target.entity)
        obj = await session.get(model, target.id)
        if obj is None:
            raise Refused("err.bad_button")
        # Changed again meanwhile: a later update of the same fields (even one that put the
        # same value back), or a value that no longer holds.
        later = await session.scalars(
            select(AuditLog).where(
                AuditLog.id > offer_id,
                AuditLog.action == "update",
                AuditLog.entity == target.entity,
                AuditLog.entity_id == str(target.id),
            )
        )
        moved = any(set(r.after or {}) & set(target.expect) for r in later)
        held = all(plain_value(getattr(obj, k)) == v for k, v in target.expect.items())
        if moved or not held:
            raise Refused("err.undo_changed")
        objects.append((model, obj, target))
    for model, obj, target in objects:
        keys = sorted(target.restore, key=lambda k: k in _LAST)
        for key in keys:
            setattr(obj, key, _value(model, key, target.restore[key]))
    session.add(
        AuditLog(
            at=now, actor_id=member.id, action=UNDO, entity="audit_log", entity_id=str(offer_id)
        )
    )
    await session.flush()
    return Undone(str(row.after.get("note", "")), targets, row.actor_id)
