"""The units the configuration names must exist: checked at start-up and after an import.

`[routing]` names the unit that answers each category of problem and `[city]
service_center` the center; a name the store lacks would leave a problem with no
recommended unit (and, before this check, a recommendation on an unrelated one). Such
names are logged and the admins are told, once a day for the same gap.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.texts import t
from storage.models import Role
from storage.outbox import Message, enqueue
from storage.people import members_with_role, missing_units

log = logging.getLogger(__name__)


def configured_units(config: Config) -> list[str]:
    """Every unit name the configuration relies on."""
    return [*config.routing.values(), config.city.service_center]


async def routing_gaps(session: AsyncSession, config: Config) -> list[str]:
    """The configured unit names that no unit in the store bears."""
    return await missing_units(session, configured_units(config))


async def tell_admins(
    session: AsyncSession, config: Config, missing: list[str], today: date, now: datetime
) -> int:
    """Queue one message per admin about MISSING; returns how many were queued.

    Admins are the members with the admin role and the configured admin ids not yet
    registered (their private chat id is their user id).
    """
    if not missing:
        return 0
    log.warning("configured units missing from the store: %s", ", ".join(missing))
    names = "、".join(missing)
    digest = hashlib.sha1(names.encode()).hexdigest()[:10]
    admins: dict[int, tuple[str, int | None]] = {
        m.tg_user_id: (m.lang, m.id) for m in await members_with_role(session, Role.ADMIN)
    }
    for tg in config.telegram.admins:
        admins.setdefault(tg, ("zh", None))
    messages = [
        Message(
            f"routing:{tg}:{today}:{digest}",
            tg,
            "notice",
            t(lang, "warn.routing_missing", names=names),
            member_id,
        )
        for tg, (lang, member_id) in sorted(admins.items())
    ]
    return await enqueue(session, messages, now)
