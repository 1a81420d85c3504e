"""Registration, help, language, invite codes and group links; strangers are refused here."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.format import day
from bot.handlers.base import Call, Context, guarded, refusal, refuse_stranger, send, services
from bot.input import fold, raw_words, split_command
from bot.texts import CATALOG, LANGS, t
from storage.db import set_actor
from storage.errors import Refused
from storage.models import Invite, Role
from storage.people import (
    create_invite,
    ensure_admin,
    link_group,
    member_by_tg,
    redeem_invite,
    set_language,
    unit_by_name,
)
from storage.rules import Action, may_ever

# Each command with the right it needs (None: every member). Who sees it in /help comes
# from PERMISSIONS, so the help never offers what the table refuses.
HELP: tuple[tuple[str, Action | None], ...] = (
    ("today", None),
    ("projects", Action.VIEW),
    ("project", Action.VIEW),
    ("progress", Action.LOG_PROGRESS),
    ("problem", Action.RAISE_PROBLEM),
    ("reply", Action.ANSWER_PROBLEM),
    ("ack", Action.ANSWER_PROBLEM),
    # Signing off is for whoever raised the problem: those who can raise one.
    ("resolve", Action.RAISE_PROBLEM),
    ("reopen", Action.RAISE_PROBLEM),
    ("done", Action.MARK_DONE),
    ("due", Action.SET_DUE),
    ("plan", Action.PLAN),
    ("stage", Action.SET_STAGE),
    ("instruct", Action.INSTRUCT),
    ("instructions", Action.VIEW),
    ("fulfil", Action.CARRY_OUT),
    ("extend", Action.ASK_MORE_TIME),
    ("chart", Action.VIEW),
    ("board", Action.VIEW),
    # Every unit sees how it compares (storage/ranking.py).
    ("rank", None),
    ("report", Action.REPORT),
    ("urge", Action.URGE),
    ("invite", Action.INVITE),
    ("link", Action.LINK_GROUP),
    ("import", Action.IMPORT),
    ("lang", None),
)


def help_text(lang: str, role: Role) -> str:
    """The commands this role may use, one line each, in LANG."""
    lines = [t(lang, "help.title")]
    lines += [
        t(lang, f"help.{name}") for name, action in HELP if action is None or may_ever(role, action)
    ]
    lines.append(t(lang, "help.foot"))
    return "\n".join(lines)


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def role_forms(role: Role) -> list[str]:
    """Every name a role is typed by: its value, its catalog names, then the other names
    people use (`head`, `unit head`, `单位负责人`, `负责人`…), English first, no repeats."""
    forms = [role.value]
    for lang in sorted(CATALOG, key=lambda lang: lang != "en"):
        forms.append(CATALOG[lang][f"role.{role.value}"])
    for lang in sorted(CATALOG, key=lambda lang: lang != "en"):
        forms += CATALOG[lang][f"role.{role.value}.also"].split("、")
    unique: dict[str, str] = {}
    for form in forms:
        unique.setdefault(form.strip().lower(), form.strip())
    return list(unique.values())


def split_unit_role(line: str) -> tuple[str, Role]:
    """`青山镇 专员`, `城东街道，单位负责人`, `城东街道 unit head`: the unit's name as typed and
    the role, which may be several words and comes last. Raises Refused (usage)."""
    parts = raw_words(line)
    for size in (3, 2, 1):
        if len(parts) > size:
            try:
                role = parse_role(" ".join(parts[-size:]))
            except Refused:
                continue
            return " ".join(parts[:-size]), role
    if len(parts) < 2:
        raise Refused("usage.invite")
    return " ".join(parts[:-1]), parse_role(parts[-1])


def parse_role(text: str) -> Role:
    """A role by any of its names in either language (`officer`, `专员`, `负责人`)."""
    wanted = fold(text).lower()
    for role in Role:
        if wanted in {f.lower() for f in role_forms(role)}:
            return role
    raise Refused("err.bad_role", role=text.strip()[:20])


def _lang_of(update: Update) -> str:
    code = (update.effective_user.language_code or "") if update.effective_user else ""
    return "en" if code.startswith("en") else "zh"


async def start(update: Update, context: Context) -> None:
    """Register with an invite code (`/start CODE` or the t.me deep link), or say hello."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    svc = services(context)
    code = fold((context.args or [""])[0])
    first_time = False
    async with svc.sessions() as session:
        member = await member_by_tg(session, user.id)
        if member is None and user.id in svc.config.telegram.admins:
            set_actor(session, None)
            member = await ensure_admin(session, user.id, svc.config.city.service_center)
            member.name = user.full_name[:100]
            await session.commit()
            first_time = True
        if code and chat.type == ChatType.PRIVATE:
            # Read before a rollback expires the member (an async session cannot reload it).
            lang = member.lang if member else None
            try:
                member = await redeem_invite(
                    session, code, user.id, user.full_name, _lang_of(update), svc.clock()
                )
                await session.commit()
            except Refused as exc:
                await session.rollback()
                text = (
                    refusal(lang, exc) if lang else refusal("zh", exc) + "\n\n" + refusal("en", exc)
                )
                await send(context, chat.id, text)
                return
            welcome = t(
                member.lang,
                "start.registered",
                name=member.name,
                unit=member.unit.name,
                role=t(member.lang, f"role.{member.role.value}"),
            )
            await send(context, chat.id, welcome + "\n\n" + help_text(member.lang, member.role))
            return
        if member is None:
            await refuse_stranger(update, context)
            return
        if first_time:
            # The admin's first contact: what to set up first, with the exact commands.
            center = svc.config.city.service_center
            await send(context, chat.id, t(member.lang, "start.admin", center=center))
            return
        await send(context, chat.id, t(member.lang, "start.back", name=member.name))


async def help_(call: Call) -> None:
    """Show the commands I may use, in my language."""
    call.say(help_text(call.lang, call.member.role))


async def lang(call: Call) -> None:
    """Switch my language: /lang zh|en, or pick with a button."""
    wanted = call.words[0].lower() if call.words else ""
    if wanted not in LANGS:
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(t(code, "lang.name"), callback_data=f"lang:{code}")
                    for code in LANGS
                ]
            ]
        )
        call.say(call.t("lang.pick"), markup)
        return
    await set_language(call.session, call.member, wanted)
    call.say(call.t("lang.set"))


async def lang_button(call: Call) -> None:
    """Take the language button."""
    query = call.update.callback_query
    wanted = (query.data or "").removeprefix("lang:") if query else ""
    if wanted not in LANGS:
        raise Refused("err.bad_button")
    await set_language(call.session, call.member, wanted)
    call.say(call.t("lang.set"))


async def invite(call: Call) -> None:
    """Make a one-time invite code: /invite UNIT ROLE."""
    message = call.update.effective_message
    unit_name, role = split_unit_role(split_command(message.text or "" if message else "")[2])
    unit = await unit_by_name(call.session, unit_name)
    if unit is None:
        raise Refused("err.unknown_unit", unit=unit_name[:40])
    created: Invite = await create_invite(
        call.session,
        unit,
        role,
        by=call.member,
        valid_for=timedelta(days=call.svc.config.work.invite_days),
        now=call.svc.clock(),
    )
    expires = created.expires_at.astimezone(call.svc.config.city.tz).date()
    call.say(
        call.t(
            "ok.invite",
            code=created.code,
            unit=unit.name,
            role=call.t(f"role.{role.value}"),
            link=invite_link(call.context.bot.username, created.code),
            date=day(call.lang, expires),
        )
    )


async def link(call: Call) -> None:
    """Link this group chat to my unit (a coordinator may name another unit)."""
    chat = call.update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        raise Refused("err.group_only")
    unit = call.member.unit
    if call.args:
        named = await unit_by_name(call.session, " ".join(call.args))
        if named is None:
            raise Refused("err.unknown_unit", unit=" ".join(call.args)[:40])
        unit = named
    await link_group(call.session, call.member, unit, chat.id)
    call.say(call.t("ok.link", unit=unit.name))


async def unknown_button(call: Call) -> None:
    """A button press no handler knows: refused (which logs it, as a forged payload may be
    someone probing), never acted on."""
    raise Refused("err.bad_button")


async def cancel_nothing(call: Call) -> None:
    """/cancel outside a flow."""
    call.say(call.t("flow.nothing"))


async def anything_else(call: Call) -> None:
    """A registered member wrote something no command takes: point to /help (private only)."""
    chat = call.update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        call.say(call.t("hint.help"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", guarded(help_)))
    app.add_handler(CommandHandler("lang", guarded(lang)))
    app.add_handler(CallbackQueryHandler(guarded(lang_button), pattern=r"^lang:"))
    app.add_handler(CommandHandler("invite", guarded(invite)))
    app.add_handler(CommandHandler("link", guarded(link)))


def register_last(app: Application) -> None:  # type: ignore[type-arg]
    """Added after the flows: /cancel outside a flow, and the catch-all for leftovers."""
    app.add_handler(CommandHandler("cancel", guarded(cancel_nothing)))
    # A button nothing else took (forged, or from an older version): answered, so the
    # phone stops its spinner, and said.
    app.add_handler(CallbackQueryHandler(guarded(unknown_button)))
    app.add_handler(MessageHandler(filters.ALL, guarded(anything_else)))
