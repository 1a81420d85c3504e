"""The inline buttons under prompts, notices and cards, and their Telegram markup.

Buttons are kept as the store keeps them, rows of [label, callback data], so that the
outbox can hold them; every layout lives here for the tick and the handlers alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import t
from storage.outbox import Buttons


def inline_markup(buttons: Buttons | None) -> InlineKeyboardMarkup | None:
    """The keyboard for BUTTONS, or None when there are none."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


def no_change_buttons(lang: str, codes: Sequence[str], rows: int) -> Buttons:
    """One tap for "no change today" on all the unit's projects, then one per project."""
    if not codes:
        return []
    buttons: Buttons = [[[t(lang, "btn.no_change_all"), "nc:*"]]]
    for code in codes[: max(0, rows - 1)]:
        buttons.append(
            [
                [t(lang, "btn.no_change", code=code), f"nc:{code}"],
                [t(lang, "btn.report", code=code), f"go:progress:{code}"],
            ]
        )
    return buttons


def signoff_row(lang: str, problem_id: int) -> list[list[str]]:
    return [
        [t(lang, "btn.resolve_item", id=problem_id), f"go:resolve:{problem_id}"],
        [t(lang, "btn.reopen_item", id=problem_id), f"go:reopen:{problem_id}"],
    ]


def problem_buttons(lang: str, problem_id: int, acknowledged: bool = False) -> Buttons:
    """Acknowledge, reply and ask for more time: on the first notice of a problem, so that
    the unit can stop the first climb from the very first message (no Acknowledge once
    it has been)."""
    first = [[t(lang, "btn.reply"), f"go:reply:{problem_id}"]]
    if not acknowledged:
        first.insert(0, [t(lang, "btn.ack"), f"ack:{problem_id}"])
    return [first, [[t(lang, "btn.extend"), f"go:extend:p:{problem_id}"]]]


def milestone_buttons(lang: str, milestone_id: int) -> Buttons:
    return [
        [
            [t(lang, "btn.done"), f"md:{milestone_id}"],
            [t(lang, "btn.extend"), f"go:extend:m:{milestone_id}"],
        ]
    ]


def instruction_buttons(lang: str, instruction_id: int, acknowledged: bool = False) -> Buttons:
    """Acknowledge, report done (which asks for a line of text) and ask for more time: on
    the first notice of a leader's instruction (no Acknowledge once it has been)."""
    first = [[t(lang, "btn.fulfil"), f"go:fulfil:{instruction_id}"]]
    if not acknowledged:
        first.insert(0, [t(lang, "btn.ack"), f"in:ack:{instruction_id}"])
    return [first, [[t(lang, "btn.extend"), f"go:extend:i:{instruction_id}"]]]


def instruction_row(lang: str, instruction_id: int, acknowledged: bool) -> list[list[str]]:
    """One instruction's buttons in a list of several (prompt, /today, /instructions)."""
    row = [[t(lang, "btn.fulfil_item", id=instruction_id), f"go:fulfil:{instruction_id}"]]
    if not acknowledged:
        row.insert(
            0, [t(lang, "btn.ack_instruction", id=instruction_id), f"in:ack:{instruction_id}"]
        )
    return row


def decision_row(lang: str, extension_id: int) -> list[list[str]]:
    """Approve or refuse a request for more time."""
    return [
        [t(lang, "btn.approve"), f"xa:{extension_id}"],
        [t(lang, "btn.refuse"), f"xr:{extension_id}"],
    ]


def undo_row(lang: str, offer_id: int) -> list[list[str]]:
    """Undo under a date said back (storage.undo keeps what it restores)."""
    return [[t(lang, "btn.undo"), f"un:{offer_id}"]]
