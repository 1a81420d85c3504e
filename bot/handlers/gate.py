"""What every message passes before the handlers: captions, forwards and edits.

- A photo or document whose caption is a command is that command: PTB's CommandHandler
  reads only `text`, so the Application reads the caption as the text (`normalise`,
  called by bot.app's Application before any handler sees the update, which also reads
  `／progress`, typed with a Chinese keyboard's slash, as `/progress`, and drops NUL
  characters, which PostgreSQL cannot store in text).
- A forwarded command is refused: it would be stored as the forwarder's report.
- An edited message is not applied (PTB 22's CommandHandler would run an edited
  `/progress` as a second report): the member is told once per edit, and only in a
  private chat or for a command in a group, so a group's own chatter stays unanswered.
"""

from __future__ import annotations

import re
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


def _has_nul(value: Any) -> bool:
    """Whether VALUE (an update as a dict, or any part of one) holds a NUL anywhere: in
    the text, a caption, a button's data, a name, a document's file name…"""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


# A command typed with the full-width slash of a Chinese input method: `／progress`.
_FULL_WIDTH_COMMAND = re.compile(r"／[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")


def normalise(update: Update) -> Update:
    """UPDATE as the handlers take it.

    - NUL characters dropped: PostgreSQL stores no NUL in text, and no member means one.
    - A photo's or document's command caption read as the message's text (and its
      entities), so that `/progress QS01 …` under a photo is the command with the photo.
    - `／progress` (the full-width slash a Chinese keyboard types) read as `/progress`:
      Telegram marks no command there, so no handler would see one.
    """
    data = update.to_dict()
    changed = _has_nul(data)
    if changed:
        data = _strip_nul(data)
    for field in ("message", "edited_message"):
        inner = data.get(field)
        if not isinstance(inner, dict):
            continue
        caption = inner.get("caption")
        if "text" not in inner and isinstance(caption, str) and caption.startswith(("/", "／")):
            inner["text"] = caption
            inner["entities"] = inner.get("caption_entities", [])
            changed = True
        text = inner.get("text")
        found = _FULL_WIDTH_COMMAND.match(text) if isinstance(text, str) else None
        if found is not None:
            assert isinstance(text, str)
            # The same length in UTF-16 units: the other entities keep their offsets.
            inner["text"] = "/" + text[1:]
            command = {"type": "bot_command", "offset": 0, "length": found.end()}
            others = [e for e in inner.get("entities", []) if e.get("offset", 0) >= found.end()]
            inner["entities"] = [command, *others]
            changed = True
    return Update.de_json(data, update.get_bot()) if changed else update


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
