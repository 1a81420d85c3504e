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
import html
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

from bot.format import item_label, milestone_title, short, stage
from bot.handlers.base import (
    END,
    FLOW_KEY,
    FLOWS,
    Call,
    Context,
    guarded,
    log_refused_press,
    refusal,
)
from bot.input import fold, skip_separators, split_command, take_word
from bot.texts import CATALOG, Raw
from storage import extensions
from storage import projects as project_store
from storage.errors import Refused
from storage.models import Problem, Unit
from storage.rules import Action, may_ever, require


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
# Fields read as written, never folded: free text, dates, and unit names, whose
# full-width brackets (经开区（高新区）) are part of the name.
_AS_WRITTEN = (*_REST, Ask.UNIT)

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
    # Whether a photo or document sent with the command (or its answer) is kept with it.
    files: bool = False
    # The right the command needs at all: a role that never has it is refused at once,
    # with who can, instead of being asked questions that lead nowhere.
    action: Action | None = None


def _require_right(call: Call, command: Command) -> None:
    """Refuse, saying who can, a command the member's role may never run."""
    if command.action is not None and not may_ever(call.member.role, command.action):
        require(call.member.role, command.action)


CANCEL = "f:cancel"
# Where a flow keeps the photo or document that came with it.
FILE_ID, FILE_KIND = "_file_id", "_file_kind"


def parse_line(
    command: Command, line: str, fields: Fields | None = None, first: Ask | None = None
) -> Fields:
    """Fill the fields still empty, from FIRST on, with what LINE holds, left to right.

    A code, id or number is one word, folded to ASCII (`ＱＳ０１` → `QS01`); Chinese or
    ASCII punctuation may stand between the words (`QS01，完成预审`, `QS01：3`). Text,
    dates and unit names take the rest of the line as written, without the punctuation
    that leads it.
    """
    fields = dict(fields or {})
    asks = command.asks[command.asks.index(first) :] if first is not None else command.asks
    rest = skip_separators(line)
    for ask in asks:
        if not rest:
            break
        if ask.value in fields or (ask in command.chosen and ask is not first):
            continue
        if ask in _AS_WRITTEN:
            fields[ask.value] = rest.strip()
            rest = ""
        elif ask is Ask.ITEM:
            # "m:12", as the buttons carry it: the colon is not punctuation here.
            word, _, rest = rest.partition(" ")
            fields[ask.value] = fold(word)
            rest = skip_separators(rest)
        else:
            fields[ask.value], rest = take_word(rest)
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
    call: Call, command: Command, fields: Fields, answered: frozenset[Ask] = frozenset()
) -> object:
    """Check what is filled, ask for the next missing field or run the command.

    A wrong answer to a question (`answered`) is said and asked again, and so is wrong
    text or a wrong date typed after the command: the fields before it stay chosen. A
    wrong code or number typed after the command ends it with the reason.
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
                if ask not in answered and ask not in _REST:
                    raise
                log_refused_press(call, exc.key)
                call.say(refusal(call.lang, exc))
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
    question = call.t(specific if specific in CATALOG["zh"] else f"ask.{ask.value}")
    picked = await _picked(call, command, fields)
    if picked:
        # The question names what was picked so far: a tap leaves no trace in the chat.
        question = call.t("flow.picked", picked=" · ".join(picked), question=Raw(question))
    chat = call.update.effective_chat
    if not choices and chat is not None and chat.type != ChatType.PRIVATE:
        # A bot in privacy mode sees only commands and replies to itself in a group:
        # a forced reply makes the typed answer one of those. /cancel leaves the flow.
        call.say(question + "\n" + call.t("flow.group_hint"), ForceReply(selective=True))
    else:
        call.say(question, _keyboard(call, ask, choices))
    return STATES[ask]


# --- what a checked field is called when the next question names it --------------------


async def _project_label(call: Call, fields: Fields) -> str:
    project = await project_store.project_by_code(call.session, fields[Ask.PROJECT.value])
    if project is None:
        return str(fields[Ask.PROJECT.value])
    return f"{project.code} {short(project.name, 40)}"


async def _milestone_label(call: Call, fields: Fields) -> str:
    project = await project_store.project_by_code(call.session, fields[Ask.PROJECT.value])
    seq = int(fields[Ask.MILESTONE.value])
    if project is None:
        return str(seq)
    ms = await project_store.milestone(call.session, project, seq)
    return f"{ms.seq}. {milestone_title(call.lang, ms)}"


async def _problem_label(call: Call, fields: Fields) -> str:
    problem = await call.session.get(Problem, int(fields[Ask.PROBLEM.value]))
    if problem is None:
        return f"#{fields[Ask.PROBLEM.value]}"
    return f"#{problem.id} {problem.project.code} {short(problem.text, 30)}"


async def _stage_label(call: Call, fields: Fields) -> str:
    return stage(call.lang, str(fields[Ask.STAGE.value]))


async def _unit_label(call: Call, fields: Fields) -> str:
    unit = await call.session.get(Unit, int(fields[Ask.UNIT.value]))
    return unit.name if unit is not None else str(fields[Ask.UNIT.value])


async def _item_label(call: Call, fields: Fields) -> str:
    kind, item_id = extensions.parse_ref(str(fields[Ask.ITEM.value]))
    item = await extensions.find_item(call.session, call.member, kind, item_id)
    # Labels are plain text, escaped once where the question is made.
    return html.unescape(item_label(call.lang, item))


_LABELS: dict[Ask, Callable[[Call, Fields], Awaitable[str]]] = {
    Ask.PROJECT: _project_label,
    Ask.MILESTONE: _milestone_label,
    Ask.PROBLEM: _problem_label,
    Ask.STAGE: _stage_label,
    Ask.UNIT: _unit_label,
    Ask.ITEM: _item_label,
}


async def _picked(call: Call, command: Command, fields: Fields) -> list[str]:
    """The names of the fields checked so far; text and dates are not repeated."""
    found: list[str] = []
    for ask in command.asks:
        label = _LABELS.get(ask)
        if label is not None and f"_{ask.value}_ok" in fields:
            found.append(await label(call, fields))
    return found


def build_conversation(commands: Sequence[Command]) -> ConversationHandler[Context]:
    """One persistent conversation for every command that can ask for its fields."""
    by_name = {c.name: c for c in commands}

    def entry(command: Command) -> Callable[[Call], Awaitable[object]]:
        async def start(call: Call) -> object:
            dropped = call.user_data.pop(FLOW_KEY, None)
            if isinstance(dropped, dict) and dropped.get("cmd"):
                # A new command ends the half-done one: say so, or its next answer is lost.
                call.say(call.t("flow.dropped", cmd=dropped["cmd"]))
            _require_right(call, command)
            message = call.update.effective_message
            _, _, line = split_command(message.text or "" if message else "")
            fields = parse_line(command, line)
            # A command in a photo's caption (bot.handlers.gate): the file goes with it.
            attached = _attached(call)
            if attached and not command.files:
                # Said rather than dropped in silence: the officer would think it kept.
                call.say(call.t("flow.no_file"))
            elif attached:
                fields.update(attached)
            return await _advance(call, command, fields)

        start.__name__ = f"cmd_{command.name}"
        return start

    async def typed(call: Call) -> object:
        """Take a typed answer (or a file with a caption) for the field the flow waits for."""
        message = call.update.effective_message
        text = (message.text or message.caption or "") if message else ""
        return await _answer(call, by_name, text, typed=True)

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
            log_refused_press(call, "err.bad_button")
            call.say(call.t("err.bad_button"))
            return None
        await _drop_buttons(call)
        return await _answer(call, by_name, parts[2], typed=False)

    async def go(call: Call) -> object:
        """A button on a notice (`go:reply:12`) opens that command with its first field."""
        query = call.update.callback_query
        parts = (query.data if query and query.data else "").split(":", 2)
        command = by_name.get(parts[1]) if len(parts) == 3 else None
        if command is None:
            log_refused_press(call, "err.bad_button")
            call.say(call.t("err.bad_button"))
            return END
        call.user_data.pop(FLOW_KEY, None)
        _require_right(call, command)
        return await _advance(call, command, {command.asks[0].value: parts[2]})

    async def cancel(call: Call) -> object:
        """Leave the flow."""
        call.user_data.pop(FLOW_KEY, None)
        call.say(call.t("flow.cancelled"))
        return END

    files = filters.PHOTO | filters.Document.ALL
    text_in = MessageHandler(filters.TEXT & ~filters.COMMAND, guarded(typed, flow=True))
    # A file sent as the answer; a caption that is a command (/import…) is not an answer.
    file_in = MessageHandler(files & ~filters.CaptionRegex(r"^/"), guarded(typed, flow=True))
    press = CallbackQueryHandler(guarded(pressed, flow=True), pattern=r"^f:")
    states: dict[object, list[BaseHandler[Any, Context, object]]] = {
        STATES[ask]: [press, text_in, file_in] for ask in Ask
    }
    entry_points: list[BaseHandler[Any, Context, object]] = [
        *(CommandHandler(c.name, guarded(entry(c), flow=True)) for c in commands),
        CallbackQueryHandler(guarded(go, flow=True), pattern=r"^go:"),
    ]
    # Flows keep per-user state while buttons are pressed; PTB warns that CallbackQuery
    # handlers are then not tracked per message, which is exactly what we want.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=entry_points,
            states=states,
            fallbacks=[CommandHandler("cancel", guarded(cancel, flow=True))],
            allow_reentry=True,
            name=FLOWS,
            persistent=True,
        )


def _attached(call: Call) -> Fields:
    """The photo (its largest size) or document of the message, as flow fields."""
    message = call.update.effective_message
    if message is None:
        return {}
    if message.photo:
        return {FILE_ID: message.photo[-1].file_id, FILE_KIND: "photo"}
    if message.document is not None:
        return {FILE_ID: message.document.file_id, FILE_KIND: "document"}
    return {}


async def _answer(call: Call, commands: dict[str, Command], value: str, *, typed: bool) -> object:
    """Take the answer to the waiting question: a button's exact value, or typed words.

    Typed words may go on to the questions after it (`QS01，完成预审` to "which
    project?" also gives the text), read as they would be after the command.
    """
    state = call.user_data.get(FLOW_KEY)
    if not isinstance(state, dict) or state.get("cmd") not in commands:
        log_refused_press(call, "err.stale_button")
        call.say(call.t("err.stale_button"))
        return END
    command = commands[state["cmd"]]
    fields: Fields = dict(state.get("fields") or {})
    ask = Ask(state["ask"])
    if not typed:
        fields[ask.value] = value.strip()
        return await _advance(call, command, fields, answered=frozenset({ask}))
    attached = _attached(call)
    if attached and not command.files:
        # Said rather than dropped in silence: the officer would think the file was kept.
        call.say(call.t("flow.no_file"))
        return await _ask(call, command, fields, ask)
    fields.update(attached)
    if attached and not skip_separators(value):
        # The photo came before its words: it is kept, and the question stands.
        return await _ask(call, command, fields, ask)
    filled = parse_line(command, value, fields, first=ask)
    # Nothing but blanks and punctuation: the field's own check says what is missing.
    left = skip_separators(value)
    filled.setdefault(ask.value, left.strip() if ask in _AS_WRITTEN else fold(left))
    answered = frozenset(a for a in command.asks if a.value in filled and a.value not in fields)
    return await _advance(call, command, filled, answered=answered)


async def _drop_buttons(call: Call) -> None:
    """Take the buttons off a message once one was pressed, so it cannot be pressed twice."""
    query = call.update.callback_query
    if query is not None and query.message is not None:
        # An old message may no longer be editable; nothing is lost then.
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=None)


async def stale_button(call: Call) -> None:
    """A button from a flow that has already ended."""
    log_refused_press(call, "err.stale_button")
    call.say(call.t("err.stale_button"))


def stale_button_handler() -> CallbackQueryHandler[Context, object]:
    return CallbackQueryHandler(guarded(stale_button), pattern=r"^f:")
