"""What every message passes before the handlers: captions, forwards and edits.

- A photo or document whose caption is a command is that command: PTB's CommandHandler
  reads only `text`, so the Application reads the caption as the text (`normalise`,
  called by bot.app's Application before any handler sees the update, which also drops
  NUL characters: PostgreSQL cannot store them in text).
- A forwarded command is refused: it would be stored as the forwarder's report.
- An edited message is not applied (PTB 22's CommandHandler would run an edited
  `/progress` as a second report): the member is told once per edit, and only in a
  private chat or for a command in a group, so a group's own chatter stays unanswered.
"""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.handlers.base import Context, send, services
from bot.texts import t
from storage.people import member_by_tg

# Before every other group: a forwarded or edited command must reach no other handler.
GROUP = -1


def _command_text(message: Message) -> str:
    return message.text or message.caption or ""


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {k: _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value


def _has_nul(update: Update) -> bool:
    message = update.effective_message
    user = update.effective_user
    query = update.callback_query
    texts = (
        message.text if message else None,
        message.caption if message else None,
        query.data if query else None,
        user.first_name if user else None,
        user.last_name if user else None,
    )
    return any(text and "\x00" in text for text in texts)


def normalise(update: Update) -> Update:
    """UPDATE as the handlers take it: NUL characters dropped (PostgreSQL stores no NUL
    in text, and no member means one), and a command caption read as the command."""
    if _has_nul(update):
        update = Update.de_json(_strip_nul(update.to_dict()), update.get_bot())
    return as_command(update)


def as_command(update: Update) -> Update:
    """UPDATE with a command caption read as the message's text (and its entities), so
    that `/progress QS01 …` under a photo is the command with the photo attached."""
    for field in ("message", "edited_message"):
        message = getattr(update, field)
        if message is None or message.text is not None or not message.caption:
            continue
        if not message.caption.startswith("/"):
            return update
        data = update.to_dict()
        inner = data[field]
        inner["text"] = inner["caption"]
        inner["entities"] = inner.get("caption_entities", [])
        return Update.de_json(data, update.get_bot())
    return update


async def _lang(context: Context, update: Update) -> str | None:
    """The member's language, or None for a stranger (who is not answered here)."""
    user = update.effective_user
    if user is None:
        return None
    async with services(context).sessions() as session:
        member = await member_by_tg(session, user.id)
    return member.lang if member is not None else None


async def screen(update: Update, context: Context) -> None:
    """Refuse a forwarded command and answer an edit; let anything else through."""
    chat = update.effective_chat
    if update.edited_message is not None and chat is not None:
        edited = update.edited_message
        if chat.type == ChatType.PRIVATE or _command_text(edited).startswith("/"):
            lang = await _lang(context, update)
            if lang is not None:
                await send(context, chat.id, t(lang, "err.edited"), reply_to=edited.message_id)
        raise ApplicationHandlerStop
    message = update.message
    if (
        message is not None
        and chat is not None
        and message.forward_origin is not None
        and _command_text(message).startswith("/")
    ):
        lang = await _lang(context, update)
        if lang is not None:
            await send(context, chat.id, t(lang, "err.forwarded"), reply_to=message.message_id)
        raise ApplicationHandlerStop


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, screen), group=GROUP)
