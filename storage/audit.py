"""The audit trail: every insert and update of a record, with its acting member.

It is a flush hook rather than calls sprinkled through the services so that no change can
forget it. Deletes are refused outright: nothing in Wallchart is hard-deleted.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction

from storage.models import (
    Attachment,
    AuditLog,
    ChatState,
    Outbox,
    Project,
    SchedulerRun,
    StageMove,
    utcnow,
)

# Flow scratch state is not a record of the city's work; the log, the outbox and the
# scheduler's runs are logs themselves (and the outbox would double every prompt).
# Attachments are files (bytes the log's JSON cannot hold), sent through the outbox.
_UNAUDITED = (Attachment, AuditLog, ChatState, Outbox, SchedulerRun, StageMove)


class HardDeleteError(RuntimeError):
    """Raised when code tries to delete a record."""


def plain_value(value: Any) -> Any:
    """A column value as the audit log's JSON keeps it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _columns(obj: Any) -> list[str]:
    return [c.key for c in inspect(obj).mapper.column_attrs]


def _snapshot(obj: Any) -> dict[str, Any]:
    return {k: plain_value(getattr(obj, k)) for k in _columns(obj)}


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _columns(obj):
        hist = state.attrs[key].history
        if hist.added or hist.deleted:
            before[key] = plain_value(hist.deleted[0]) if hist.deleted else None
            after[key] = plain_value(hist.added[0]) if hist.added else None
    return before, after


@event.listens_for(Session, "before_flush")
def _refuse_deletes(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    for obj in session.deleted:
        if not isinstance(obj, _UNAUDITED):
            raise HardDeleteError(f"{type(obj).__name__} records are never deleted")


@event.listens_for(Session, "after_flush")
def _write_audit(session: Session, _ctx: UOWTransaction) -> None:
    # In after_flush new rows have their ids and attribute history still shows the change.
    actor = session.info.get("actor_id")
    now = utcnow()
    rows: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    for obj in session.new:
        if isinstance(obj, _UNAUDITED):
            continue
        snapshot = _snapshot(obj)
        rows.append(_row(obj, "create", actor, now, None, snapshot))
        if isinstance(obj, Project):
            moves.append(_move(obj, None, snapshot["stage"], actor, now))
    for obj in session.dirty:
        if isinstance(obj, _UNAUDITED) or not session.is_modified(obj):
            continue
        before, after = _changes(obj)
        if after:
            rows.append(_row(obj, "update", actor, now, before, after))
        if isinstance(obj, Project) and after.get("stage") not in (None, before.get("stage")):
            moves.append(_move(obj, before.get("stage"), after["stage"], actor, now))
    if rows:
        session.connection().execute(insert(AuditLog), rows)
    if moves:
        session.connection().execute(insert(StageMove), moves)


def _move(
    project: Project, old: str | None, new: str, actor: int | None, now: datetime
) -> dict[str, Any]:
    return {
        "project_id": project.id,
        "from_stage": old,
        "to_stage": new,
        "at": now,
        "actor_id": actor,
    }


def _row(
    obj: Any,
    action: str,
    actor: int | None,
    now: datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    ident = inspect(obj).identity or ()
    return {
        "at": now,
        "actor_id": actor,
        "action": action,
        "entity": type(obj).__tablename__,
        "entity_id": "/".join(str(i) for i in ident),
        "before": before,
        "after": after,
    }
