"""/import: a coordinator or admin sends the Excel ledger (or a projects CSV) to the bot."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.handlers.base import Call, guarded
from bot.texts.ledger import describe
from storage.errors import Refused
from storage.ledger import LedgerError, import_ledger, read_ledger
from storage.rules import Action, require

MAX_BYTES = 10 * 1024 * 1024  # a city's ledger is a few hundred rows; more is a wrong file
SHOWN_ERRORS = 20  # the rest are counted: a chat message is no place for a thousand lines


async def import_file(call: Call) -> None:
    """Load units and projects from the attached ledger; every row or none."""
    require(call.member.role, Action.IMPORT)
    message = call.update.effective_message
    doc = message.document if message else None
    if doc is None:
        raise Refused("usage.import")
    if doc.file_size is not None and doc.file_size > MAX_BYTES:
        raise Refused("err.file_too_big", limit=MAX_BYTES // (1024 * 1024))
    suffix = Path(doc.file_name or "").suffix.lower() or ".xlsx"
    telegram_file = await doc.get_file()
    with tempfile.TemporaryDirectory() as folder:
        # Only the suffix of the sender's file name is used: the name itself is not trusted.
        path = Path(folder) / f"ledger{suffix}"
        await telegram_file.download_to_drive(path)
        try:
            # openpyxl is blocking and CPU-bound: keep it off the event loop.
            ledger = await asyncio.to_thread(read_ledger, path)
            result = await import_ledger(call.session, ledger, call.svc.config.city.industries)
        except LedgerError as exc:
            lines = [call.t(exc.key, **exc.params)]
            lines += [describe(call.lang, e) for e in exc.errors[:SHOWN_ERRORS]]
            if len(exc.errors) > SHOWN_ERRORS:
                lines.append(call.t("ledger.more", count=len(exc.errors) - SHOWN_ERRORS))
            call.say("\n".join(lines))
            return
    call.say(call.t("ledger.summary", **result.as_params()))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("import", guarded(import_file)))
    app.add_handler(
        MessageHandler(
            filters.Document.ALL & filters.CaptionRegex(r"^/import"), guarded(import_file)
        )
    )
