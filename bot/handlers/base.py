"""What every handler stands on: the services, the per-update call and the member guard.

`guarded` is the one place where an update becomes a member's call: it opens the session
(one per update), finds the member, refuses strangers, commits, and only then sends the
replies, so a refused or failed action leaves nothing half-written and says so.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ForceReply, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.constants import ChatType, MessageLimit, ParseMode
from telegram.ext import ContextTypes, ConversationHandler

from bot.config import Config
from bot.input import split_command, words
from bot.texts import CATALOG, DEFAULT_LANG, Raw, both, t
from storage.db import SessionMaker, set_actor
from storage.errors import Refused
from storage.models import Member, Role
from storage.outbox import Buttons, Message, enqueue
from storage.people import ensure_admin, member_by_tg
from storage.workdays import WorkCalendar

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
END = ConversationHandler.END


def utc_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Long-lived things the handlers share; kept in bot_data under SERVICES_KEY."""

    config: Config
    sessions: SessionMaker
    calendar: WorkCalendar
    # Tests replace the clock to stand on a fixed day.
    clock: Callable[[], datetime] = utc_clock

    def today(self) -> date:
        """Today in the city's own time zone."""
        return self.clock().astimezone(self.config.city.tz).date()


SERVICES_KEY = "services"


def services(context: Context) -> Services:
    svc = context.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


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


def split_message(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long reply at line breaks into pieces Telegram accepts."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces or [""]


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


def guarded(handler: Handler) -> Callback:
    """Run HANDLER as the registered member who sent the update, in one session."""

    async def callback(update: Update, context: Context) -> object:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None:
            return None
        if update.callback_query is not None:
            # Answer at once so the phone stops its spinner, whatever follows.
            await update.callback_query.answer()
        svc = services(context)
        async with svc.sessions() as session:
            member = await member_by_tg(session, user.id)
            if member is None and user.id in svc.config.telegram.admins:
                member = await ensure_admin(session, user.id, svc.config.city.service_center)
                member.name = user.full_name[:100]
            if member is None:
                await refuse_stranger(update, context)
                return END
            set_actor(session, member.id)
            # Read now: a rollback expires the member, and the refusal still needs its language.
            lang = member.lang
            call = Call(update, context, session, member, svc)
            if not member.reachable:
                # They write to the bot again, so they no longer block it.
                member.reachable = True
            try:
                result = await handler(call)
                await enqueue(session, call.notices, svc.clock())
                await session.commit()
            except Refused as exc:
                await session.rollback()
                call.replies = [(refusal(lang, exc), None)]
                call.notices = []
                result = END
        message = update.message
        for text, markup in call.replies:
            # A question in a group is asked as a reply to the member's message, so that
            # their answer comes back to a bot in privacy mode.
            reply_to = message.message_id if isinstance(markup, ForceReply) and message else None
            await send(context, chat.id, text, markup, reply_to)
        if call.notices:
            kick_outbox(context)
        return result

    callback.__name__ = handler.__name__
    callback.__doc__ = handler.__doc__
    return callback


def kick_outbox(context: Context) -> None:
    """Drain the outbox now rather than at the next interval, when the scheduler runs here."""
    from bot.delivery import drain_job  # the sender needs this module: import when used

    queue = context.job_queue
    if queue is not None and queue.scheduler.running:
        queue.run_once(drain_job, 0, name="outbox-now")


async def on_error(update: object, context: Context) -> None:
    """Log the failure first, then tell the member that nothing was saved."""
    log.error("update failed: %r", update, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    # The failure may have been the store itself: the report must not raise in its turn.
    try:
        lang = "zh"
        if update.effective_user is not None:
            async with services(context).sessions() as session:
                member = await member_by_tg(session, update.effective_user.id)
                lang = member.lang if member else lang
        await send(context, update.effective_chat.id, t(lang, "err.internal"))
    except Exception:
        log.exception("could not report the failure")
