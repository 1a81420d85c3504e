"""/report [week|month]: the meeting's briefing as an Excel workbook, sent as a document."""

from __future__ import annotations

from telegram.constants import ChatAction, ParseMode
from telegram.ext import Application, CommandHandler

from bot.briefing import render
from bot.handlers.base import Call, guarded
from bot.input import split_command, words
from storage.errors import Refused
from storage.rules import Action, require

# The words for each period, as members type them; the first is the period's name.
PERIOD_WORDS: dict[str, tuple[str, ...]] = {
    "week": ("week", "周", "本周", "周报", "weekly", "this week", "w"),
    "month": ("month", "月", "本月", "月报", "monthly", "this month", "m"),
}


def parse_period(text: str) -> str:
    """ "week" or "month" from what follows /report (a week when nothing does).

    Raises Refused("err.report_period") naming the word for anything else.
    """
    wanted = " ".join(words(text)).lower()
    if not wanted:
        return "week"
    for period, names in PERIOD_WORDS.items():
        if wanted in names:
            return period
    raise Refused("err.report_period", word=text.strip()[:20])


async def report(call: Call) -> None:
    """Send the week's (or month's) briefing workbook, with its counts as the caption."""
    # Coordinators, leaders and admins: those who see the whole city.
    require(call.member.role, Action.REPORT)
    message = call.update.effective_message
    period = parse_period(split_command(message.text or "" if message else "")[2])
    chat = call.update.effective_chat
    assert chat is not None
    # A city's briefing takes a few seconds: show that it is on its way.
    await call.context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_DOCUMENT)
    done = await render(
        call.session, call.svc.config, call.lang, period, call.today(), call.svc.calendar
    )
    # Sent here rather than queued as a reply: it only reads, so there is nothing for a
    # commit to keep or lose, and the replies carry text only.
    await call.context.bot.send_document(
        chat.id,
        done.data,
        filename=done.name,
        caption=done.caption,
        parse_mode=ParseMode.HTML,
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("report", guarded(report)))
