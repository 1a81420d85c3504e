"""/import: a coordinator or admin sends the Excel ledger (or a projects CSV) to the bot.

With the caption `/import` the file is imported at once. A ledger file sent without it is
offered for import with a button: the offer (the file's id and name) is kept in the store,
one per chat, so the button still works after a restart; pressing it checks the right
again, since a role can change between the offer and the press.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.handlers.base import Call, guarded
from bot.handlers.start import anything_else
from bot.routing import routing_gaps, tell_admins
from bot.scheduler import tell_moved_instructions
from bot.texts import t
from bot.texts.ledger import describe
from storage import flows
from storage.errors import Refused
from storage.ledger import LedgerError, RowError, import_ledger, read_ledger
from storage.rules import Action, allowed, require

MAX_BYTES = 10 * 1024 * 1024  # a city's ledger is a few hundred rows; more is a wrong file
SHOWN_ERRORS = 20  # the rest are counted: a chat message is no place for a thousand lines
# The files offered for import when sent without the caption; others are not ledgers.
LEDGER_SUFFIXES = ("xlsx", "csv")
OFFER_PREFIX = "imp:"


def _offer_scope(chat_id: int) -> str:
    return f"import:{chat_id}"


def _named(error: RowError, stored_as: str, name: str) -> RowError:
    """The error as the sender knows the file: by the name they gave it."""
    return replace(error, sheet=name) if error.sheet == stored_as else error


def error_line(lang: str, error: RowError, industries: Sequence[str]) -> str:
    """One bad row as a member of LANG reads it.

    The importer lists the allowed INDUSTRIES (`ledger.unknown_industry`) the Chinese way,
    joined with `、`; an English member reads them joined with `, `.
    """
    if "allowed" in error.params:
        allowed = t(lang, "join.sep").join(industries)
        error = replace(error, params={**error.params, "allowed": allowed})
    return describe(lang, error)


def _check_size(size: int | None) -> None:
    if size is not None and size > MAX_BYTES:
        raise Refused("err.file_too_big", limit=MAX_BYTES // (1024 * 1024))


def _name(call: Call, doc: Document) -> str:
    """How the messages call the file: its name, or (rarely, it has none) its kind."""
    return doc.file_name or call.t("ledger.unnamed")


def _suffix(doc: Document) -> str:
    """What the reader takes the file for: its own suffix, else its MIME type's."""
    suffix = Path(doc.file_name or "").suffix.lower()
    if suffix:
        return suffix[:16]  # it goes into a file name on our disk: keep that short
    # A workbook is recognised by its content; anything else must say it is a CSV.
    return ".csv" if (doc.mime_type or "").startswith("text/") else ".xlsx"


async def _import(call: Call, file_id: str, name: str, suffix: str, size: int | None) -> None:
    """Download the file, check every row and import all of it or nothing."""
    _check_size(size)
    telegram_file = await call.context.bot.get_file(file_id)
    with tempfile.TemporaryDirectory() as folder:
        # Only the suffix of the sender's file name reaches the disk: the name itself is not
        # trusted there. The messages below give the name back.
        path = Path(folder) / f"ledger{suffix}"
        await telegram_file.download_to_drive(path)
        city = call.svc.config.city
        try:
            # openpyxl is blocking and CPU-bound: keep it off the event loop.
            ledger = await asyncio.to_thread(read_ledger, path)
            result = await import_ledger(
                call.session, ledger, city.industries, aliases=city.industry_aliases
            )
        except LedgerError as exc:
            errors = [_named(e, path.name, name) for e in exc.errors]
            lines = [call.t("ledger.invalid_file", name=name, count=len(errors))]
            lines += [error_line(call.lang, e, city.industries) for e in errors[:SHOWN_ERRORS]]
            if len(errors) > SHOWN_ERRORS:
                lines.append(call.t("ledger.more", count=len(errors) - SHOWN_ERRORS))
            call.say("\n".join(lines))
            return
    call.say(call.t("ledger.summary", **result.as_params(call.lang)))
    # Projects that changed hands took their open instructions along: tell the new units
    # now rather than at the next tick (the outbox sends it once this update commits).
    await tell_moved_instructions(call.session, call.svc.clock())
    # The routing may name units this ledger was expected to bring: say which are missing.
    missing = await routing_gaps(call.session, call.svc.config)
    if missing:
        call.say(call.t("warn.routing_missing", names="、".join(missing)))
        await tell_admins(call.session, call.svc.config, missing, call.today(), call.svc.clock())


async def import_file(call: Call) -> None:
    """Load units and projects from the attached ledger; every row or none."""
    require(call.member.role, Action.IMPORT)
    message = call.update.effective_message
    doc = message.document if message else None
    if doc is None:
        raise Refused("usage.import")
    await _import(call, doc.file_id, _name(call, doc), _suffix(doc), doc.file_size)


async def offer_import(call: Call) -> None:
    """A ledger file sent without the caption: offer to import it, to those who may."""
    message = call.update.effective_message
    chat = call.update.effective_chat
    doc = message.document if message else None
    if doc is None or message is None or chat is None:
        return
    if not allowed(call.member.role, Action.IMPORT):
        # To an officer a spreadsheet is just a message the bot does not take.
        await anything_else(call)
        return
    _check_size(doc.file_size)
    scope = _offer_scope(chat.id)
    # One offer per chat: a newer file replaces the one not taken.
    for old in await flows.load(call.session, scope):
        await flows.save(call.session, scope, old, None)
    name = _name(call, doc)
    offer: dict[str, Any] = {
        "file_id": doc.file_id,
        "name": name,
        "suffix": _suffix(doc),
        "size": doc.file_size,
    }
    await flows.save(call.session, scope, str(message.message_id), offer)
    button = InlineKeyboardButton(
        call.t("btn.import"), callback_data=f"{OFFER_PREFIX}{message.message_id}"
    )
    call.say(call.t("ledger.offer", name=name), InlineKeyboardMarkup([[button]]))


async def take_offer(call: Call) -> None:
    """The import button under an offer: import that file, if the presser still may."""
    require(call.member.role, Action.IMPORT)
    query = call.update.callback_query
    chat = call.update.effective_chat
    if query is None or chat is None:
        return
    key = (query.data or "").removeprefix(OFFER_PREFIX)
    scope = _offer_scope(chat.id)
    offer = (await flows.load(call.session, scope)).get(key)
    if not isinstance(offer, dict):
        # Taken already, or replaced by a newer file: that file is the one to import.
        raise Refused("err.stale_button")
    await flows.save(call.session, scope, key, None)
    await _import(
        call,
        str(offer["file_id"]),
        str(offer["name"]),
        str(offer.get("suffix") or ".xlsx"),
        offer.get("size"),
    )
    if query.message is not None:
        # The offer is taken: its button goes, so that nobody imports the file twice. An
        # old message may no longer be editable; nothing is lost then.
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=None)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("import", guarded(import_file)))
    app.add_handler(
        MessageHandler(
            filters.Document.ALL & filters.CaptionRegex(r"^/import"), guarded(import_file)
        )
    )
    app.add_handler(CallbackQueryHandler(guarded(take_offer), pattern=rf"^{OFFER_PREFIX}"))


def register_last(app: Application) -> None:  # type: ignore[type-arg]
    """After the flows: a file sent as the answer to a flow's question is that answer."""
    ledger_file: filters.BaseFilter = filters.Document.FileExtension(LEDGER_SUFFIXES[0])
    for suffix in LEDGER_SUFFIXES[1:]:
        ledger_file |= filters.Document.FileExtension(suffix)
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ledger_file & ~filters.CaptionRegex(r"^/"),
            guarded(offer_import),
        )
    )
