"""Saying back a date before it counts: which date was read, and a one-tap Undo.

Every echo of a date that was just saved (`/due`, `/plan`, the approver's echo of an
approved extension, the raiser's echo of a reply deadline read from a problem's text)
carries an **Undo** button for `storage.undo.WINDOW` (10 minutes). What it restores is
kept in the store (an audit-log offer), never in this process, so the button still works
after a restart. When the text held more than one date, the echo says which one was taken.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler

from bot.dates import Deadline
from bot.format import day, item_label
from bot.handlers.base import Call, guarded
from bot.handlers.leader_notes import tell_deadline_moved
from bot.input import number
from bot.keyboards import inline_markup, undo_row
from bot.texts import t
from storage import extensions
from storage import undo as store
from storage.errors import Refused
from storage.models import Extension, Member

# --- which date was taken ---------------------------------------------------------------


def taken_note(lang: str, reading: Deadline | None) -> str:
    """The line that says which date was taken when the text held more than one ("" else)."""
    if reading is None or not reading.other:
        return ""
    other = t(lang, "join.sep").join(day(lang, d) for d in reading.other)
    return t(lang, "undo.taken", date=day(lang, reading.day), other=other, matched=reading.matched)


# --- the offer and the button -----------------------------------------------------------


async def offer(call: Call, targets: list[store.Target], note: str) -> InlineKeyboardMarkup | None:
    """Keep what Undo restores in the store and give the button (None when nothing moved)."""
    offer_id = await store.offer(call.session, call.member.id, targets, call.svc.clock(), note)
    return None if offer_id is None else inline_markup([undo_row(call.lang, offer_id)])


async def undo(call: Call) -> None:
    """Put back the dates a change under this button set, within the window."""
    query = call.update.callback_query
    raw = (query.data or "") if query else ""
    rest = raw.removeprefix("un:")
    # Checked as any id typed: a number past the largest id never reaches the store.
    offer = number(rest) if rest != raw and rest.isascii() and rest.isdigit() else None
    if offer is None:
        raise Refused("err.bad_button")
    done = await store.undo(call.session, call.member, offer, call.svc.clock())
    lines = [call.t("ok.undo")]
    for target in done.targets:
        if target.entity == "extensions":
            ext = await call.session.get(Extension, target.id)
            assert ext is not None
            item = await extensions.find_item(call.session, call.member, ext.item_kind, ext.item_id)
            lines.append(call.t("ok.undo_extension", item=item_label(call.lang, item)))
            await _tell_requester(call, ext, item)
            if item.kind == "instruction":
                await tell_deadline_moved(call, item.id, ext.new_date, item.due, undone=True)
            continue
        kind = target.entity.removesuffix("s")  # milestones, problems, instructions
        item = await extensions.find_item(call.session, call.member, kind, target.id)
        lines.append(
            call.t("ok.undo_row", item=item_label(call.lang, item), date=day(call.lang, item.due))
        )
    call.say("\n".join(lines))


async def _tell_requester(call: Call, ext: Extension, item: extensions.Item) -> None:
    """An approval taken back is told to whoever asked for the time, as the approval was."""
    requester = await call.session.get(Member, ext.requester_id)
    if requester is None or not requester.active or requester.id == call.member.id:
        return
    text = t(
        requester.lang,
        "note.undo_approved",
        who=call.member.name,
        item=item_label(requester.lang, item),
        date=day(requester.lang, item.due),
    )
    call.tell(requester.tg_user_id, text, None, requester.id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(guarded(undo), pattern=r"^un:"))
