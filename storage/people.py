"""Units, members and invite codes."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import agenda
from storage.errors import Refused
from storage.models import Invite, Member, Outbox, OutboxStatus, Role, Unit, UnitKind, utcnow
from storage.rules import Action, may_invite, require, role_fits_unit

# No 0/O/1/I: codes are read aloud and typed from paper.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


async def member_by_tg(session: AsyncSession, tg_user_id: int) -> Member | None:
    """The active member with this Telegram id, if any."""
    return await session.scalar(
        select(Member).where(Member.tg_user_id == tg_user_id, Member.active.is_(True))
    )


async def unit_by_name(session: AsyncSession, name: str) -> Unit | None:
    return await session.scalar(select(Unit).where(func.lower(Unit.name) == name.strip().lower()))


async def units_by_name(session: AsyncSession, names: Iterable[str]) -> dict[str, Unit]:
    """The units bearing NAMES, each found as `unit_by_name` finds it, in one query.

    Keyed by the name as asked for, trimmed and in lower case; a name no unit bears is
    absent, and so is an empty one.
    """
    wanted = {n.strip().lower() for n in names if n.strip()}
    if not wanted:
        return {}
    lowered = func.lower(Unit.name)
    rows = await session.execute(select(lowered, Unit).where(lowered.in_(wanted)))
    return {str(key): unit for key, unit in rows.all()}


def keep(session: AsyncSession, obj: object) -> None:
    """Hold OBJ for as long as SESSION lasts.

    The identity map holds its objects weakly: one that a check loaded and let go is gone
    again when the command asks for it by id, and that ask is a query once more.
    """
    session.info.setdefault("wallchart.kept", []).append(obj)


async def unit_by_chat(session: AsyncSession, chat_id: int) -> Unit | None:
    return await session.scalar(select(Unit).where(Unit.chat_id == chat_id))


async def units(session: AsyncSession) -> Sequence[Unit]:
    return (await session.scalars(select(Unit).order_by(Unit.id))).all()


async def get_or_create_unit(
    session: AsyncSession, name: str, kind: UnitKind, parent: Unit | None = None
) -> Unit:
    unit = await unit_by_name(session, name)
    if unit is None:
        unit = Unit(name=name.strip(), kind=kind, parent_id=parent.id if parent else None)
        session.add(unit)
        await session.flush()
    return unit


async def unit_members(
    session: AsyncSession, unit_id: int, roles: Sequence[Role] | None = None
) -> Sequence[Member]:
    stmt = select(Member).where(Member.unit_id == unit_id, Member.active.is_(True))
    if roles:
        stmt = stmt.where(Member.role.in_(roles))
    return (await session.scalars(stmt.order_by(Member.id))).all()


async def members_by_ids(session: AsyncSession, ids: Sequence[int]) -> Sequence[Member]:
    return (await session.scalars(select(Member).where(Member.id.in_(set(ids))))).all()


async def members_with_role(session: AsyncSession, role: Role) -> Sequence[Member]:
    """Active members of a role across the city (the service center's coordinators…)."""
    return (
        await session.scalars(
            select(Member).where(Member.role == role, Member.active.is_(True)).order_by(Member.id)
        )
    ).all()


async def create_invite(
    session: AsyncSession,
    unit: Unit,
    role: Role,
    *,
    by: Member | None,
    valid_for: timedelta = timedelta(days=7),
    now: datetime | None = None,
) -> Invite:
    """A one-time code; `by=None` is the command line, which acts as an admin."""
    if by is not None:
        require(by.role, Action.INVITE)
        if not may_invite(by.role, role):
            # Only admins make admins.
            raise Refused("err.not_allowed", who=(Role.ADMIN,))
    if not role_fits_unit(role, unit.kind):
        raise Refused("err.role_unit", role=role.value, unit=unit.name, kind=unit.kind.value)
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    invite = Invite(
        code=code,
        unit_id=unit.id,
        role=role,
        created_by_id=by.id if by else None,
        created_at=now or utcnow(),
        expires_at=(now or utcnow()) + valid_for,
    )
    session.add(invite)
    await session.flush()
    return invite


async def redeem_invite(
    session: AsyncSession,
    code: str,
    tg_user_id: int,
    name: str,
    lang: str,
    now: datetime | None = None,
) -> Member:
    """Register (or re-register) the Telegram user with a valid, unused invite code."""
    invite = await session.scalar(
        select(Invite).where(Invite.code == code.strip().upper()).with_for_update(of=Invite)
    )
    now = now or utcnow()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise Refused("err.invite_invalid")
    member = await session.scalar(select(Member).where(Member.tg_user_id == tg_user_id))
    if member is None:
        member = Member(tg_user_id=tg_user_id, name=name[:100], lang=lang, unit_id=invite.unit_id)
        session.add(member)
    member.unit_id = invite.unit_id
    member.role = invite.role
    member.active = True
    await session.flush()
    invite.used_by_id = member.id
    invite.used_at = now
    await session.flush()
    await session.refresh(member, ["unit"])
    return member


async def ensure_admin(session: AsyncSession, tg_user_id: int, admin_unit_name: str) -> Member:
    """Make the configured admin a member, so the first invites can be created in chat."""
    member = await session.scalar(select(Member).where(Member.tg_user_id == tg_user_id))
    if member is not None and member.active and member.role is Role.ADMIN:
        return member
    unit = await get_or_create_unit(session, admin_unit_name, UnitKind.CENTER)
    if member is None:
        member = Member(tg_user_id=tg_user_id, name=f"admin {tg_user_id}", unit_id=unit.id)
        session.add(member)
    member.role = Role.ADMIN
    member.active = True
    await session.flush()
    await session.refresh(member, ["unit"])
    return member


async def set_language(session: AsyncSession, member: Member, lang: str) -> None:
    member.lang = lang
    await session.flush()


async def link_group(session: AsyncSession, member: Member, unit: Unit, chat_id: int) -> None:
    """Link a group chat to a unit; the chat can belong to one unit only."""
    require(member.role, Action.LINK_GROUP, own=member.unit_id == unit.id)
    other = await unit_by_chat(session, chat_id)
    if other is not None and other.id != unit.id:
        other.chat_id = None
        await session.flush()
    unit.chat_id = chat_id
    await session.flush()


async def unlink_chat(session: AsyncSession, chat_id: int) -> Unit | None:
    """The bot left the group CHAT_ID (removed, or told so by a 403): unlink it from its
    unit and close the outbox rows still pending for it. Returns the unit that had it,
    None when no unit did (an unrelated group, or already unlinked).

    The closed rows are copies: whatever a unit's group is sent, its members are sent too
    (bot.handlers.problems.notify_unit), so nothing is re-addressed. Through the ORM, so
    the audit log records the change.
    """
    unit = await unit_by_chat(session, chat_id)
    if unit is None:
        return None
    unit.chat_id = None
    await session.flush()
    await session.execute(
        update(Outbox)
        .where(Outbox.chat_id == chat_id, Outbox.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.UNREACHABLE, last_error="group removed the bot")
    )
    return unit


async def answerable_for(session: AsyncSession, member: Member) -> list[Member]:
    """Who answers for MEMBER: the unit's heads, else its coordinators, else the parent's."""
    unit_id: int | None = member.unit_id
    seen: set[int] = set()
    while unit_id is not None and unit_id not in seen:
        seen.add(unit_id)
        for role in (Role.HEAD, Role.COORDINATOR):
            found = [
                m
                for m in await unit_members(session, unit_id, [role])
                if m.id != member.id and m.reachable
            ]
            if found:
                return found
        unit = await session.get(Unit, unit_id)
        unit_id = unit.parent_id if unit is not None else None
    return []


# Who can act for a unit: its own people first, else up the parent chain, else the
# service center's coordinators. A problem routed to a unit nobody has joined yet (or to
# the center, whose staff are coordinators) must still reach someone on the day it is raised.
ACTING_ROLES = agenda.ACTING_ROLES


@dataclass(frozen=True)
class Actors:
    """The people told for a unit, and the unit they belong to (None: all coordinators)."""

    people: list[Member]
    via_unit: int | None

    @property
    def own(self) -> bool:
        return bool(self.people) and self.via_unit is not None


def pick_actors(
    unit_id: int,
    by_unit: Mapping[int, Sequence[Member]],
    parent_of: Mapping[int, int | None],
    *,
    heads_first: bool,
) -> Actors:
    """The members who can act for UNIT_ID, from active reachable members grouped by unit.

    HEADS_FIRST: a climb goes to the heads (the unit's officers already had the prompt);
    a new item goes to everyone of the unit who can act.
    """
    current: int | None = unit_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        members = [m for m in by_unit.get(current, ()) if m.role in ACTING_ROLES]
        heads = [m for m in members if m.role is Role.HEAD]
        chosen = heads if heads_first and heads else members
        if chosen:
            return Actors(chosen, current)
        current = parent_of.get(current)
    coordinators = [m for ms in by_unit.values() for m in ms if m.role is Role.COORDINATOR]
    return Actors(sorted(coordinators, key=lambda m: m.id), None)


async def actors_for(session: AsyncSession, unit_id: int, *, heads_first: bool) -> Actors:
    """`pick_actors` over the store: the active, reachable members of UNIT_ID's parent
    chain and the coordinators, not the whole city (this runs for every new problem)."""
    parents = {
        unit_id: parent_id
        for unit_id, parent_id in (await session.execute(select(Unit.id, Unit.parent_id))).all()
    }
    chain: list[int] = []
    current: int | None = unit_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    people = (
        await session.scalars(
            select(Member)
            .where(
                Member.active.is_(True),
                Member.reachable.is_(True),
                Member.role.in_(ACTING_ROLES),
                or_(Member.unit_id.in_(chain), Member.role == Role.COORDINATOR),
            )
            .order_by(Member.id)
        )
    ).all()
    by_unit: dict[int, list[Member]] = {}
    for m in people:
        by_unit.setdefault(m.unit_id, []).append(m)
    return pick_actors(unit_id, by_unit, parents, heads_first=heads_first)


async def missing_units(session: AsyncSession, names: Iterable[str]) -> list[str]:
    """The NAMES (as configured: `[routing]`, `service_center`) no unit in the store bears."""
    missing = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        if await unit_by_name(session, name) is None:
            missing.append(name)
    return missing
