"""What every handler stands on: the services, the per-update call and the member guard.

`guarded` is the one place where an update becomes a member's call: it opens the session
(one per update), finds the member, refuses strangers, commits, and only then sends the
replies, so a refused or failed action leaves nothing half-written and says so.
"""

from __future__ import annotations

import copy
import html
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ForceReply, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ConversationHandler

from bot.input import split_command, words
from bot.runtime import (
    SERVICES_KEY,
    Context,
    Services,
    failure_text,
    flush_reply_marks,
    kick_outbox,
    services,
    split_message,
    utc_clock,
)
from bot.texts import CATALOG, DEFAULT_LANG, Raw, both, t
from storage import flows, inbox, outbox
from storage.db import lost_connection, retrying, set_actor
from storage.errors import Refused
from storage.models import Member, Role
from storage.outbox import REPLY, Buttons, Message, enqueue
from storage.people import ensure_admin, member_by_tg

__all__ = [
    "END",
    "SERVICES_KEY",
    "Call",
    "Context",
    "Services",
    "guarded",
    "kick_outbox",
    "log_refused_press",
    "on_error",
    "refusal",
    "send",
    "services",
    "split_message",
    "utc_clock",
]

log = logging.getLogger(__name__)

END = ConversationHandler.END


Markup = InlineKeyboardMarkup | ForceReply


@dataclass
class Call:
    """One member's update: the session it runs in and the replies it will send."""

    update: Update
    context: Context
    session: AsyncSession
    member: Member
    svc: Services
    replies: list[tuple[str, Markup | None]] = field(default_factory=list)
    notices: list[Message] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.member.lang

    @property
    def args(self) -> list[str]:
        return list(self.context.args or [])

    @property
    def words(self) -> list[str]:
        """The words after the command, folded to ASCII and split at Chinese punctuation
        too: for codes, ids and numbers, never for free text (see bot.input)."""
        message = self.update.effective_message
        return words(split_command(message.text or "" if message else "")[2])

    def t(self, key: str, **params: Any) -> str:
        return t(self.lang, key, **params)

    def say(self, text: str, markup: Markup | None = None) -> None:
        """Queue a reply; it is sent once the session has committed."""
        self.replies.append((text, markup))

    def tell(
        self,
        chat_id: int,
        text: str,
        buttons: Buttons | None = None,
        member_id: int | None = None,
    ) -> None:
        """Tell another chat: the notice goes to the outbox with this update's changes."""
        key = f"tell:{self.update.update_id}:{len(self.notices)}:{chat_id}"
        self.notices.append(Message(key, chat_id, "notice", text, member_id, buttons))

    def today(self) -> date:
        return self.svc.today()

    @property
    def user_data(self) -> dict[Any, Any]:
        data = self.context.user_data
        assert data is not None
        return data


Handler = Callable[[Call], Awaitable[object]]
Callback = Callable[[Update, Context], Coroutine[Any, Any, object]]


async def send(
    context: Context,
    chat_id: int,
    text: str,
    markup: Markup | None = None,
    reply_to: int | None = None,
) -> None:
    """Send HTML text, split to Telegram's limit; the buttons go under the last piece."""
    pieces = split_message(text)
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        await context.bot.send_message(
            chat_id,
            piece,
            parse_mode=ParseMode.HTML,
            reply_markup=markup if last else None,
            reply_parameters=(
                ReplyParameters(reply_to, allow_sending_without_reply=True)
                if reply_to is not None and last
                else None
            ),
            disable_web_page_preview=True,
        )


async def refuse_stranger(update: Update, context: Context) -> None:
    """One polite refusal in both languages, in private chats only; groups stay quiet."""
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        await send(context, chat.id, both("refuse"))


# Storage knows no catalog: a refusal carries an enum's raw value ("resolved"), which the
# member reads as the catalog's word (已解决). The parameter's name says which enum it is.
_ENUM_WORDS = {
    "status": "pstatus",
    "stage": "stage",
    "role": "role",
    "category": "pcat",
    "kind": "ukind",
}
# Room for the quoted text in a refusal, in HTML, below Telegram's 4,096 characters.
_QUOTE_ROOM = 3500


def any_of(lang: str, names: Sequence[str]) -> str:
    """`A、B或C` / `A, B or C`, from catalog words (HTML already)."""
    if len(names) < 2:
        return "".join(names)
    head = t(lang, "join.sep").join(names[:-1])
    return t(lang, "join.or", first=Raw(head), last=Raw(names[-1]))


def refusal(lang: str, exc: Refused) -> str:
    """What a refusal says, in LANG: enum values as words, and who can do what was refused."""
    params = dict(exc.params)
    for name, prefix in _ENUM_WORDS.items():
        value = params.get(name)
        if isinstance(value, str) and f"{prefix}.{value}" in CATALOG[DEFAULT_LANG]:
            params[name] = t(lang, f"{prefix}.{value}")
    who = params.pop("who", None)
    if exc.key == "err.not_allowed" and who:
        roles = [t(lang, f"who.{Role(r).value}") for r in who]
        return t(lang, "err.not_allowed.who", who=Raw(any_of(lang, roles)))
    head = params.get("head")
    if isinstance(head, str):
        # Escaped, the quote must still fit one message, or the split would cut the <code>.
        while len(html.escape(head, quote=False)) > _QUOTE_ROOM:
            head = head[: len(head) * 9 // 10]
        params["head"] = head
    return t(lang, exc.key, **params)


# A reply is written to the outbox with the changes it confirms, taken by the handler that
# sends it at once; should the process die before the send, the row is sent by the next
# active process (which gives back every claim), and should the send fail, by the sender.
REPLY_HOLD = timedelta(minutes=2)
FLOWS = "flows"  # the name of the flows' ConversationHandler, its persistence scope
FLOW_KEY = "flow"  # where a flow keeps its scratch in user_data while it asks


def _buttons(markup: Markup | None) -> Buttons | None:
    """The outbox's form of a keyboard (ForceReply is carried by reply_to instead)."""
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    return [
        [[b.text, str(b.callback_data)] for b in row if b.callback_data is not None]
        for row in markup.inline_keyboard
    ]


@dataclass
class _Outcome:
    """What one run of a handler left to do once its transaction committed."""

    result: object = None
    replies: list[tuple[str, Markup | None]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # the replies' outbox rows
    notices: bool = False
    stranger: bool = False
    duplicate: bool = False


async def answer_press(update: Update) -> None:
    """Stop the phone's spinner. Cosmetic: a press older than Telegram's limit, or one
    answered already, raises BadRequest, and the press is acted on all the same."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer()
    except TelegramError as exc:
        log.info("could not answer button press %s: %s", query.id, exc)


def log_refused_press(call: Call, key: str) -> None:
    """Log a button press refused without ending the flow it belongs to, as `guarded`
    logs the others: a payload the member's own keyboard would not offer may be forged."""
    query = call.update.callback_query
    if query is not None:
        log.warning("refused button %r of member %s: %s", query.data, call.member.id, key)


def guarded(handler: Handler, *, flow: bool = False) -> Callback:
    """Run HANDLER as the registered member who sent the update, in one session.

    One transaction holds everything the update did: the handler's changes, its notices,
    its replies (as outbox rows this process then sends itself), the inbox row marked
    done, and, for the guided flows (FLOW), the flow's state. A dropped connection runs
    it all once more on a new one.
    """

    async def callback(update: Update, context: Context) -> object:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None:
            return None
        await answer_press(update)
        svc = services(context)
        before = copy.deepcopy(context.user_data) if context.user_data is not None else None
        for attempt in (1, 2):
            try:
                outcome = await _run(handler, update, context, svc, flow=flow, before=before)
                break
            except Exception as exc:
                if attempt == 2 or not lost_connection(exc):
                    raise
                log.warning("update %s: the store's connection dropped", update.update_id)
                if before is not None and context.user_data is not None:
                    context.user_data.clear()
                    context.user_data.update(copy.deepcopy(before))
        if outcome.stranger:
            await refuse_stranger(update, context)
            return END
        if outcome.duplicate:
            return None
        await _reply(update, context, svc, outcome)
        if outcome.notices:
            kick_outbox(context)
        return outcome.result

    callback.__name__ = handler.__name__
    callback.__doc__ = handler.__doc__
    return callback


async def _run(
    handler: Handler,
    update: Update,
    context: Context,
    svc: Services,
    *,
    flow: bool,
    before: dict[Any, Any] | None,
) -> _Outcome:
    """One attempt: the session, the member, the handler, the commit."""
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    uid = update.update_id
    async with svc.sessions() as session:
        member = await member_by_tg(session, user.id)
        if member is None and user.id in svc.config.telegram.admins:
            member = await ensure_admin(session, user.id, svc.config.city.service_center)
            member.name = user.full_name[:100]
        if member is None:
            return _Outcome(stranger=True)
        now = svc.clock()
        if uid in svc.from_inbox and not await inbox.finish(session, uid, now):
            # Handled before (a redelivery raced the first one): nothing to do or say.
            log.info("update %s was handled already", uid)
            return _Outcome(duplicate=True)
        set_actor(session, member.id)
        # Read now: a rollback expires the member, and the refusal still needs its language.
        lang, member_id = member.lang, member.id
        call = Call(update, context, session, member, svc)
        if not member.reachable:
            # They write to the bot again, so they no longer block it.
            member.reachable = True
        try:
            result = await handler(call)
        except Refused as exc:
            await session.rollback()
            if update.callback_query is not None:
                # A press the member's own keyboard would not offer: logged, as a forged
                # or stale payload may be someone probing.
                log.warning(
                    "refused button %r of member %s: %s",
                    update.callback_query.data,
                    member_id,
                    exc.key,
                )
            call.replies = [(refusal(lang, exc), None)]
            call.notices = []
            result = END
            if uid in svc.from_inbox:
                await inbox.finish(session, uid, now)
        outcome = _Outcome(result, call.replies, notices=bool(call.notices))
        message = update.effective_message
        rows = list(call.notices)
        for i, (text, markup) in enumerate(call.replies):
            key = f"reply:{uid}:{i}"
            outcome.keys.append(key)
            rows.append(
                Message(
                    key,
                    chat.id,
                    "reply",
                    text,
                    member_id,
                    _buttons(markup),
                    priority=REPLY,
                    reply_to=(
                        message.message_id
                        if isinstance(markup, ForceReply) and message is not None
                        else None
                    ),
                    claimed_until=now + REPLY_HOLD,
                )
            )
        await enqueue(session, rows, now, fresh_keys=True)
        await _keep_flow(session, update, context, flow=flow, result=result, before=before)
        # Earlier updates' replies, sent since: recorded with this commit, or kept for
        # the next one if it fails (else they would go out again).
        sent = svc.take_sent_replies()
        try:
            await outbox.mark_replies_sent(session, sent, now)
            await session.commit()
        except BaseException:
            svc.sent_replies.extend(sent)
            raise
    if uid in svc.from_inbox:
        svc.finished.add(uid)
    return outcome


async def _keep_flow(
    session: AsyncSession,
    update: Update,
    context: Context,
    *,
    flow: bool,
    result: object,
    before: dict[Any, Any] | None,
) -> None:
    """Write a guided flow's state with the update's changes, so that any process that
    takes over (PTB reads persisted flows only as it starts) continues where this left."""
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    data = context.user_data
    # A flow that never asked has no state to write (a command typed whole).
    asking = FLOW_KEY in (before or {}) or (data is not None and FLOW_KEY in data)
    if flow and isinstance(result, int) and asking:
        state = None if result == END else result
        await flows.save(session, f"conv:{FLOWS}", json.dumps([chat.id, user.id]), state)
    if data is not None and data != before:
        await flows.save(session, "user", str(user.id), copy.deepcopy(dict(data)) or None)


async def _reply(update: Update, context: Context, svc: Services, outcome: _Outcome) -> None:
    """Send the committed update's replies at once, ahead of any bulk prompt.

    A send that fails (Telegram's 500, a timeout, a dropped connection) leaves its row and
    the ones after it to the outbox's sender: the change is saved, so the member must
    never read "nothing was saved", and the sender retries the confirmation.
    """
    chat = update.effective_chat
    assert chat is not None
    message = update.effective_message
    sent: list[str] = []
    async with svc.gate.replying():
        for (text, markup), key in zip(outcome.replies, outcome.keys, strict=True):
            # A question in a group is asked as a reply to the member's message, so that
            # their answer comes back to a bot in privacy mode.
            reply_to = message.message_id if isinstance(markup, ForceReply) and message else None
            try:
                await send(context, chat.id, text, markup, reply_to)
            except TelegramError as exc:
                log.warning("update %s: reply failed after the commit: %s", update.update_id, exc)
                left = outcome.keys[len(sent) :]
                await _hand_to_sender(svc, left, exc)
                kick_outbox(context)
                break
            sent.append(key)
    svc.sent_replies.extend(sent)
    if not svc.batch_marks:
        await flush_reply_marks(svc)


async def _hand_to_sender(svc: Services, keys: Sequence[str], exc: BaseException) -> None:
    """Give reply rows back to the sender, to be sent (again) as soon as it can."""

    async def release(session: AsyncSession) -> None:
        await outbox.release_replies(session, keys, failure_text(exc))

    try:
        await retrying(svc.sessions, release)
    except Exception:
        # They are still sent once their hold ends (REPLY_HOLD), only later.
        log.exception("could not hand replies %s to the sender", list(keys))


async def on_error(update: object, context: Context) -> None:
    """Log the failure first, then tell the member that nothing was saved."""
    log.error("update failed: %r", update, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    # The failure may have been the store itself: then the member's language comes from
    # their Telegram, and the report is sent all the same.
    lang = "en" if user is not None and (user.language_code or "").startswith("en") else "zh"
    try:
        if user is not None:
            async with services(context).sessions() as session:
                member = await member_by_tg(session, user.id)
                lang = member.lang if member else lang
    except Exception as exc:
        log.warning("the member's language could not be read: %s", exc)
    try:
        await send(context, update.effective_chat.id, t(lang, "err.internal"))
    except Exception:
        log.exception("could not report the failure")
