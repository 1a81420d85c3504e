"""A unit's work group that removed the bot: unlinked, and its head and coordinators told.

Telegram says so with a `my_chat_member` update (the bot's new status left or kicked);
the sender learns it from a 403 on a message to the group (bot.delivery). Both unlink the
same way (`bot_left`). Being added back links nothing: the head sends /link again.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import Application, ChatMemberHandler

from bot.group_links import bot_left
from bot.runtime import Context, kick_outbox, services

# The bot's statuses that mean it is out of the chat ("kicked" is PTB's BANNED).
GONE = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})


async def my_chat_member(update: Update, context: Context) -> None:
    """Take the bot's own membership change: unlink a unit's group that removed it."""
    change = update.my_chat_member
    if change is None or change.chat.type == ChatType.PRIVATE:
        return
    if change.new_chat_member.status not in GONE:
        # Added back (or promoted): a link is made by /link only.
        return
    svc = services(context)
    async with svc.sessions() as session:
        if await bot_left(session, change.chat.id, svc.clock()) is not None:
            await session.commit()
            kick_outbox(context)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(ChatMemberHandler(my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
