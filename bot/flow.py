"""Guided flows: a command typed without (all) its arguments asks for the rest.

A command is declared once as a `Command`: the fields it needs in order and the function
that runs when they are all known. Typed arguments fill the fields left to right; the
missing ones are asked for, with buttons where there is a choice, and a Cancel button.
All commands live in one ConversationHandler whose state is persisted in the store, so a
half-done flow survives a restart of the bot.
"""

from __future__ import annotations

import contextlib
import enum
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.handlers.base import END, Call, Context, guarded
from bot.texts import CATALOG
from storage.errors import Refused


class Ask(enum.StrEnum):
    """A kind of field a flow asks for; each has its own conversation state."""

    PROJECT = "project"
    MILESTONE = "milestone"
    PROBLEM = "problem"
    STAGE = "stage"
    UNIT = "unit"
    ITEM = "item"  # a milestone or problem to ask more time for: "m:12", "p:7"
    DATE = "date"
    TEXT = "text"


STATES: dict[Ask, int] = {ask: i for i, ask in enumerate(Ask, start=1)}
# Fields that take the rest of the line when typed as arguments.
_REST = (Ask.TEXT, Ask.DATE)

Fields = dict[str, Any]
Choices = Sequence[tuple[str, str]]  # (value, label)


@dataclass(frozen=True)
class Command:
    """A command with its fields; `run` gets them once all are known."""

    name: str
    asks: tuple[Ask, ...]
    run: Callable[[Call, Fields], Awaitable[None]]
    optional: frozenset[Ask] = frozenset()
    # Fields that are never typed as arguments, always chosen (the unit a problem goes to).
    chosen: frozenset[Ask] = frozenset()
    # How a field is offered: returns the buttons, or an empty list for "type it".
    choices: dict[Ask, Callable[[Call, Fields], Awaitable[Choices]]] = field(default_factory=dict)
    # How a field's raw value is checked and normalised; raises Refused.
    check: dict[Ask, Callable[[Call, Fields, str], Awaitable[Any]]] = field(default_factory=dict)


FLOW_KEY = "flow"
CANCEL = "f:cancel"


def parse_args(command: Command, args: list[str]) -> Fields:
    """Fill the typed fields left to right; text and dates take the rest of the line."""
    fields: Fields = {}
    rest = list(args)
    for ask in command.asks:
        if not rest or ask in command.chosen:
            continue
        if ask in _REST:
            fields[ask.value] = " ".join(rest)
            rest = []
        else:
            fields[ask.value] = rest.pop(0)
    return fields


def _keyboard(call: Call, ask: Ask, choices: Choices) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    buttons = [
        InlineKeyboardButton(label[:60], callback_data=f"f:{ask.value}:{value}"[:64])
        for value, label in choices
    ]
    per_row = 1 if ask in (Ask.UNIT, Ask.PROBLEM, Ask.MILESTONE, Ask.ITEM) else 2
    for i in range(0, len(buttons), per_row):
        rows.append(buttons[i : i + per_row])
    rows.append([InlineKeyboardButton(call.t("btn.cancel"), callback_data=CANCEL)])
    return InlineKeyboardMarkup(rows)


async def _advance(
    call: Call, command: Command, fields: Fields, answered: Ask | None = None
) -> object:
    """Check what is filled, ask for the next missing field or run the command.

    A wrong answer to the field just asked (`answered`) is said and asked again; a wrong
    typed argument ends the command with the reason.
    """
    for ask in command.asks:
        raw = fields.get(ask.value)
        if raw is None:
            if ask in command.optional:
                continue
            return await _ask(call, command, fields, ask)
        checker = command.check.get(ask)
        if checker is not None and f"_{ask.value}_ok" not in fields:
            try:
                fields[ask.value] = await checker(call, fields, str(raw))
            except Refused as exc:
                if ask is not answered:
                    raise
                call.say(call.t(exc.key, **exc.params))
                del fields[ask.value]
                return await _ask(call, command, fields, ask)
            fields[f"_{ask.value}_ok"] = True
    call.user_data.pop(FLOW_KEY, None)
    await command.run(call, fields)
    return END


async def _ask(call: Call, command: Command, fields: Fields, ask: Ask) -> object:
    offer = command.choices.get(ask)
    choices = await offer(call, fields) if offer else []
    if offer and not choices and ask not in _REST and ask is not Ask.PROJECT:
        # Nothing to choose from (no open problems, no milestones): say so and stop.
        call.user_data.pop(FLOW_KEY, None)
        call.say(call.t(f"ask.{ask.value}.none"))
        return END
    call.user_data[FLOW_KEY] = {"cmd": command.name, "fields": fields, "ask": ask.value}
    specific = f"ask.{ask.value}.{command.name}"
    key = specific if specific in CATALOG["zh"] else f"ask.{ask.value}"
    chat = call.update.effective_chat
    if not choices and chat is not None and chat.type != ChatType.PRIVATE:
        # A bot in privacy mode sees only commands and replies to itself in a group:
        # a forced reply makes the typed answer one of those. /cancel leaves the flow.
        call.say(call.t(key) + "\n" + call.t("flow.group_hint"), ForceReply(selective=True))
    else:
        call.say(call.t(key), _keyboard(call, ask, choices))
    return STATES[ask]


def build_conversation(commands: Sequence[Command]) -> ConversationHandler[Context]:
    """One persistent conversation for every command that can ask for its fields."""
    by_name = {c.name: c for c in commands}

    def entry(command: Command) -> Callable[[Call], Awaitable[object]]:
        async def start(call: Call) -> object:
            call.user_data.pop(FLOW_KEY, None)
            return await _advance(call, command, parse_args(command, call.args))

        start.__name__ = f"cmd_{command.name}"
        return start

    async def typed(call: Call) -> object:
        """Take a typed answer for the field the flow is waiting for."""
        message = call.update.effective_message
        return await _answer(call, by_name, message.text if message and message.text else "")

    async def pressed(call: Call) -> object:
        """Take a button press; a payload that does not fit the waiting field is refused."""
        query = call.update.callback_query
        data = query.data if query and query.data else ""
        if data == CANCEL:
            call.user_data.pop(FLOW_KEY, None)
            call.say(call.t("flow.cancelled"))
            await _drop_buttons(call)
            return END
        parts = data.split(":", 2)
        state = call.user_data.get(FLOW_KEY) or {}
        if len(parts) != 3 or parts[0] != "f" or parts[1] != state.get("ask"):
            # A forged or outdated payload: say so and keep waiting for a real answer.
            call.say(call.t("err.bad_button"))
            return None
        await _drop_buttons(call)
        return await _answer(call, by_name, parts[2])

    async def go(call: Call) -> object:
        """A button on a notice (`go:reply:12`) opens that command with its first field."""
        query = call.update.callback_query
        parts = (query.data if query and query.data else "").split(":", 2)
        command = by_name.get(parts[1]) if len(parts) == 3 else None
        if command is None:
            call.say(call.t("err.bad_button"))
            return END
        call.user_data.pop(FLOW_KEY, None)
        return await _advance(call, command, {command.asks[0].value: parts[2]})

    async def cancel(call: Call) -> object:
        """Leave the flow."""
        call.user_data.pop(FLOW_KEY, None)
        call.say(call.t("flow.cancelled"))
        return END

    text_in = MessageHandler(filters.TEXT & ~filters.COMMAND, guarded(typed))
    press = CallbackQueryHandler(guarded(pressed), pattern=r"^f:")
    states: dict[object, list[BaseHandler[Any, Context, object]]] = {
        STATES[ask]: [press, text_in] for ask in Ask
    }
    # Flows keep per-user state while buttons are pressed; PTB warns that CallbackQuery
    # handlers are then not tracked per message, which is exactly what we want.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                *(CommandHandler(c.name, guarded(entry(c))) for c in commands),
                CallbackQueryHandler(guarded(go), pattern=r"^go:"),
            ],
            states=states,
            fallbacks=[CommandHandler("cancel", guarded(cancel))],
            allow_reentry=True,
            name="flows",
            persistent=True,
        )


async def _answer(call: Call, commands: dict[str, Command], value: str) -> object:
    state = call.user_data.get(FLOW_KEY)
    if not isinstance(state, dict) or state.get("cmd") not in commands:
        call.say(call.t("err.stale_button"))
        return END
    command = commands[state["cmd"]]
    fields: Fields = dict(state.get("fields") or {})
    ask = Ask(state["ask"])
    fields[ask.value] = value.strip()
    return await _advance(call, command, fields, answered=ask)


async def _drop_buttons(call: Call) -> None:
    """Take the buttons off a message once one was pressed, so it cannot be pressed twice."""
    query = call.update.callback_query
    if query is not None and query.message is not None:
        # An old message may no longer be editable; nothing is lost then.
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=None)


async def stale_button(call: Call) -> None:
    """A button from a flow that has already ended."""
    call.say(call.t("err.stale_button"))


def stale_button_handler() -> CallbackQueryHandler[Context, object]:
    return CallbackQueryHandler(guarded(stale_button), pattern=r"^f:")
