"""The `wallchart` command: run the bot, migrate the store, import or export the ledger,
invite, demo.

A mistake in the configuration or a store that cannot be opened ends any sub-command with
one line on stderr naming the file and the key, line or store, and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sqlite3
import sys
import tomllib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import (
    TOKEN_ENV,
    Config,
    ConfigError,
    StoreConfig,
    config_path,
    load_config,
)
from bot.format import plain
from bot.texts import t
from storage.db import SessionMaker, make_engine, make_sessionmaker, set_actor
from storage.errors import Refused
from storage.migrate import upgrade
from storage.models import Role

log = logging.getLogger("wallchart")

DEMO_DB = "wallchart-demo.sqlite3"
NOTHING_SAVED = "Dry run: nothing was saved and nothing was sent."


class StoreError(Exception):
    """The store cannot be opened or upgraded; the message names the store and why."""


def _config(args: argparse.Namespace) -> Config:
    config = load_config(getattr(args, "config", None))
    # Known from here on to every log line and error message, which then show it hidden.
    hide_token(config.telegram.token)
    return config


def _store_source(args: argparse.Namespace, config: Config) -> str:
    """Where the store's URL came from, for a message about the store."""
    path, named_by = config_path(getattr(args, "config", None))
    if config.store.url != StoreConfig().url or _sets_store_url(path):
        return f"[store] url in {path}"
    if named_by is None and not path.exists():
        return "the default [store] url: no config file"
    return f"the default [store] url: {path} sets none"


def _sets_store_url(path: Path) -> bool:
    """Whether the config file at PATH names the store (perhaps the default one)."""
    try:
        store = tomllib.loads(path.read_text(encoding="utf-8")).get("store", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(store, dict) and "url" in store


def zoned(at: datetime) -> str:
    """A moment as people read it, with its zone: `2026-12-04 09:00 CST (+08:00)`."""
    raw = at.strftime("%z")
    offset = f"{raw[:3]}:{raw[3:5]}" if raw else "+00:00"
    name = at.tzname() or ""
    # Zones without a common abbreviation call themselves "+04": the offset says it all.
    label = f"{name} ({offset})" if name and name[0] not in "+-" else offset
    return f"{at:%Y-%m-%d %H:%M} {label}"


def _sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (None for another backend or an in-memory database)."""
    try:
        u = make_url(url)
    except ArgumentError:
        return None
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def store_name(url: str) -> str:
    """The store as the operator should recognise it: the SQLite file, or the URL without
    its password."""
    path = _sqlite_file(url)
    if path is not None:
        return str(path.absolute())
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)


def _reason(exc: BaseException) -> str:
    """What went wrong, in the driver's own words but on one line."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the database server running, at that host and port?)"
    if isinstance(exc, ModuleNotFoundError):
        return f"no driver installed for it ({exc.name})"
    text = str(exc.orig) if isinstance(exc, DBAPIError) and exc.orig is not None else str(exc)
    # asyncpg's adapted errors may start with the class they wrap.
    text = re.sub(r"^<class '[^']+'>: ", "", text.strip())
    return text.splitlines()[0] if text else type(exc).__name__


def open_store(url: str, source: str) -> None:
    """Create or upgrade the store at URL; StoreError says which store (named by SOURCE)."""
    where = f"cannot open the store {store_name(url)} ({source})"
    file = _sqlite_file(url)
    if file is not None:
        # Said before SQLite tries: its "unable to open database file" names no cause, and
        # aiosqlite's failed connect can leave a thread that writes a traceback at exit.
        folder = file.absolute().parent
        if not folder.is_dir():
            raise StoreError(f"{where}: the folder {folder} does not exist")
        if not file.exists() and not os.access(folder, os.W_OK):
            raise StoreError(f"{where}: no permission to create a file in {folder}")
    try:
        upgrade(url)
    except (SQLAlchemyError, OSError, ImportError) as exc:
        raise StoreError(f"{where}: {_reason(exc)}") from exc


@asynccontextmanager
async def _store(url: str) -> AsyncIterator[SessionMaker]:
    """Sessions on the store at URL for one command; the engine is closed after."""
    engine = make_engine(url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


def cmd_migrate(args: argparse.Namespace) -> int:
    """Create or upgrade the database."""
    config = _config(args)
    open_store(config.store.url, _store_source(args, config))
    print(f"the store {store_name(config.store.url)} is up to date")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot (long polling, or a webhook with --webhook URL); with no token set,
    build and show the demo instead.

    Every process stands by until it holds the lease (bot.lease): start two or more
    against one PostgreSQL store and exactly one serves at a time.
    """
    config = _config(args)
    if not config.telegram.token:
        print(
            "No Telegram token is set (WALLCHART_TOKEN or [telegram] token in the config),\n"
            "so here is the demo instead.\n"
        )
        return cmd_demo(args)
    from telegram.error import InvalidToken, NetworkError

    from bot.serve import serve

    webhook = args.webhook or config.serve.webhook_url
    if webhook and not webhook.startswith("https://") and not webhook.startswith("http://"):
        raise ConfigError(f"--webhook {webhook}: give the public URL, https://…")
    open_store(config.store.url, _store_source(args, config))
    try:
        # uvloop: the event loop's own bookkeeping was a tenth of the bot's CPU under load.
        return uvloop.run(serve(config, webhook_url=webhook))
    except InvalidToken:
        raise ConfigError(f"Telegram refused the token ({_token_source(args)})") from None
    except NetworkError as exc:
        where = config.telegram.base_url or "https://api.telegram.org/bot"
        raise ConfigError(f"cannot reach the Bot API at {where}: {exc.message}") from None


def _token_source(args: argparse.Namespace) -> str:
    if os.environ.get(TOKEN_ENV):
        return f"${TOKEN_ENV}"
    return f"[telegram] token in {config_path(getattr(args, 'config', None))[0]}"


def cmd_import(args: argparse.Namespace) -> int:
    """Load units and projects from an Excel ledger or a projects CSV; all rows or nothing."""
    from bot.routing import routing_gaps
    from bot.scheduler import tell_moved_instructions
    from storage.ledger import LedgerError, import_ledger, read_ledger

    config = _config(args)
    open_store(config.store.url, _store_source(args, config))
    lang = args.lang
    try:
        ledger = read_ledger(Path(args.file))
    except LedgerError as exc:
        _print_ledger_errors(lang, exc, config.city.industries)
        return 1

    async def go() -> int:
        async with _store(config.store.url) as sessions, sessions() as session:
            set_actor(session, None)
            try:
                result = await import_ledger(
                    session, ledger, config.city.industries, aliases=config.city.industry_aliases
                )
            except LedgerError as exc:
                await session.rollback()
                _print_ledger_errors(lang, exc, config.city.industries)
                return 1
            await session.commit()
            print(t(lang, "ledger.summary", **result.as_params(lang)))
            # Instructions that moved with their projects: queued for the running bot now.
            if await tell_moved_instructions(session, datetime.now(UTC)):
                await session.commit()
            # The routing may name units this ledger was expected to bring.
            missing = await routing_gaps(session, config)
            if missing:
                print(plain(t(lang, "warn.routing_missing", names="、".join(missing))))
            return 0

    return asyncio.run(go())


def _print_ledger_errors(lang: str, exc: Exception, industries: Sequence[str] = ()) -> None:
    from bot.handlers.ledger import error_line

    for error in getattr(exc, "errors", []):
        print(plain(error_line(lang, error, industries)), file=sys.stderr)
    print(t(lang, "ledger.nothing_imported"), file=sys.stderr)


def cmd_export(args: argparse.Namespace) -> int:
    """Write every unit and project to an .xlsx ledger (the projects alone to a .csv) that
    `import` reads back unchanged."""
    from storage.ledger import EXPORT_SUFFIXES, export_ledger, write_ledger

    config = _config(args)
    lang = args.lang
    out = Path(args.file)
    # Said before the store is opened: a file that cannot be written needs no query.
    folder = out.absolute().parent
    if out.suffix.lower() not in EXPORT_SUFFIXES:
        return _cannot_write(lang, out, t(lang, "cli.export_suffix"))
    if out.is_dir():
        return _cannot_write(lang, out, t(lang, "cli.export_folder"))
    if not folder.is_dir():
        return _cannot_write(lang, out, t(lang, "cli.export_no_folder", folder=str(folder)))
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        # The file is written beside and renamed over: a read-only one would be replaced.
        return _cannot_write(lang, out, t(lang, "cli.export_no_permission"))
    url, source = config.store.url, _store_source(args, config)
    shown = f"{store_name(url)} ({source})"
    file = _sqlite_file(url)
    if file is not None and not file.exists():
        # As for tick: a new empty store would only hide a missing --config.
        print(plain(t(lang, "cli.export_no_store", store=shown)), file=sys.stderr)
        return 1
    open_store(url, source)

    async def go() -> int:
        async with _store(url) as sessions, sessions() as session:
            export = await export_ledger(session)
        try:
            await asyncio.to_thread(write_ledger, export, out)
        except OSError as exc:
            return _cannot_write(lang, out, exc.strerror or str(exc))
        units, projects = len(export.units.rows), len(export.projects.rows)
        kind = "cli.export_csv" if out.suffix.lower() == ".csv" else "cli.export_xlsx"
        what = t(lang, kind, units=units, projects=projects)
        print(plain(t(lang, "cli.export_written", path=str(out), store=shown, what=what)))
        if not units and not projects:
            print(plain(t(lang, "cli.export_empty")))
        return 0

    return asyncio.run(go())


def _cannot_write(lang: str, out: Path, why: str) -> int:
    """One line on stderr and exit code 2, as for a configuration the command cannot use."""
    print(
        f"wallchart: {plain(t(lang, 'cli.cannot_write', path=str(out), why=why))}", file=sys.stderr
    )
    return 2


def role_names() -> str:
    """Every name of every role, as `parse_role` reads them: `head / unit head / 单位负责人…`."""
    from bot.handlers.start import role_forms

    return ", ".join(" / ".join(role_forms(role)) for role in Role)


def cmd_invite(args: argparse.Namespace) -> int:
    """Print a one-time invite code and its deep link."""
    from bot.handlers.base import refusal
    from bot.handlers.start import invite_link, parse_role
    from storage.people import create_invite, unit_by_name

    config = _config(args)
    open_store(config.store.url, _store_source(args, config))
    lang = args.lang

    async def go() -> int:
        async with _store(config.store.url) as sessions, sessions() as session:
            set_actor(session, None)
            try:
                role = parse_role(args.role)
                unit = await unit_by_name(session, args.unit)
                if unit is None:
                    raise Refused("err.unknown_unit", unit=args.unit)
                days = timedelta(days=config.work.invite_days)
                invite = await create_invite(session, unit, role, by=None, valid_for=days)
                await session.commit()
            except Refused as exc:
                print(plain(refusal(lang, exc)), file=sys.stderr)
                return 1
            username = config.telegram.username or "<your_bot>"
            print(invite.code)
            print(invite_link(username, invite.code))
            until = zoned(invite.expires_at.astimezone(config.city.tz))
            role_name = t(lang, f"role.{role.value}")
            print(plain(t(lang, "cli.invite", unit=unit.name, role=role_name, until=until)))
            return 0

    return asyncio.run(go())


def _moment(text: str) -> datetime:
    """--at: an ISO moment; without a zone it is the city's local time (set later)."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a moment; write it like 2026-12-04T09:00 (or with a zone, "
            "2026-12-04T09:00+08:00)"
        ) from None


def cmd_tick(args: argparse.Namespace) -> int:
    """One scheduler pass as if at a moment; --dry-run prints what it would send."""
    from bot.scheduler import run_tick, tick
    from storage.demo import contents

    config = _config(args)
    url = f"sqlite:///{args.db}" if args.db else config.store.url
    source = "--db" if args.db else _store_source(args, config)
    shown = store_name(url)
    file = _sqlite_file(url)
    if file is not None and not file.exists():
        # Opening it would create an empty store, where a tick has nobody to write to: the
        # likely slip is a missing --config or --db, and a new file would only hide it.
        print(f"There is no store at {shown} ({source}): nothing to send.", file=sys.stderr)
        if args.dry_run:
            print(NOTHING_SAVED, file=sys.stderr)
        return 1
    open_store(url, source)
    tz = config.city.tz
    at: datetime = args.at or datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)  # a time without a zone is the city's local time
    calendar = config.work.calendar()

    async def go() -> int:
        async with _store(url) as sessions:
            async with sessions() as session:
                held = await contents(session)
                if held.empty:
                    print(
                        f"The store {shown} ({source}) is empty: no units, no projects, no "
                        "members, so there is nobody to send anything to.\n"
                        "Load the ledger with `wallchart import FILE`, or name the store "
                        "that holds your city with --config or --db.",
                        file=sys.stderr,
                    )
                    if args.dry_run:
                        print(NOTHING_SAVED, file=sys.stderr)
                    return 1
                if args.dry_run:
                    set_actor(session, None)
                    result = await tick(session, config, calendar, at)
                    names = await _member_names(session, [m.member_id for m in result.messages])
                    await session.rollback()
            if not args.dry_run:
                # In short transactions, as the bot's daily job: a running bot's handlers
                # never wait on it. Due at once, even as at a moment still to come: a
                # manual tick sends what it queued and ends. Another process's tick of
                # the same day makes this one "already done".
                result = await run_tick(sessions, config, calendar, at, queued_at=datetime.now(UTC))
            print(
                f"Store: {shown} ({held.units} units, {held.projects} projects, "
                f"{held.members} members); tick as at {zoned(at.astimezone(tz))}"
            )
            if not result.ran:
                reason = "not a working day" if result.reason == "holiday" else "already done"
                print(f"{result.day}: {reason}; nothing to send")
                if args.dry_run:
                    print(NOTHING_SAVED)
                return 0
            if args.dry_run:
                _print_messages(result.messages, names)
                print(
                    f"\n{result.day}: {_count(len(result.climbs), 'item')} would climb, "
                    f"{_count(len(result.messages), 'message')} would be sent.\n"
                    f"{NOTHING_SAVED}"
                )
                return 0
            # Said only now that the commit has kept them.
            climbed, queued = _count(len(result.climbs), "item"), _count(result.queued, "message")
            print(f"{result.day}: {climbed} climbed, {queued} queued")
            if config.telegram.token:
                await _send_if_alone(config, sessions)
            else:
                print("no token set: `wallchart run` sends the queued messages")
            return 0

    return asyncio.run(go())


def _count(n: int, noun: str) -> str:
    """`1 item`, `2 items`: the operator's lines are English."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


async def _member_names(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    """How the dry run names each recipient."""
    from storage.people import members_by_ids

    found = await members_by_ids(session, [i for i in ids if i is not None])
    return {m.id: f"{m.name} · {m.unit.name} · {m.role.value} · tg {m.tg_user_id}" for m in found}


def _print_messages(messages: Sequence[Any], names: dict[int, str]) -> None:
    """Every message, grouped by recipient, as plain text with its buttons."""
    by_member: dict[int | None, list[Any]] = {}
    for m in messages:
        by_member.setdefault(m.member_id, []).append(m)
    for member_id, items in by_member.items():
        print(f"\n=== {names.get(member_id or 0, member_id)} ===")
        for m in items:
            print(f"--- {m.kind}")
            print(plain(m.text))
            for row in m.buttons or []:
                print("  " + "  ".join(f"[{label}]" for label, _data in row))


# Rows put back by a drain (a private chat's interval, Telegram's RetryAfter) are due
# within this; anything due later is left to `wallchart run`.
SEND_HORIZON = timedelta(minutes=2)


async def _due_soon(sessions: SessionMaker) -> tuple[int, int]:
    """Pending rows due within SEND_HORIZON, and those due later."""
    from sqlalchemy import func, select

    from storage.models import Outbox, OutboxStatus

    soon = datetime.now(UTC) + SEND_HORIZON
    pending = select(func.count()).where(Outbox.status == OutboxStatus.PENDING)
    async with sessions() as session:
        due = await session.scalar(pending.where(Outbox.not_before <= soon))
        later = await session.scalar(pending.where(Outbox.not_before > soon))
    return int(due or 0), int(later or 0)


async def _send_if_alone(config: Config, sessions: SessionMaker) -> None:
    """Send the queued messages here only while no bot process is active: there must be
    one sender, or a message could go out twice (bot.lease). An active process sends them
    within seconds; this says so."""
    from bot.lease import make_lease
    from storage.leases import current

    bind = sessions.kw["bind"]
    url = bind.url.render_as_string(hide_password=False)
    lease = make_lease(url, bind, config.telegram.token)
    if not await lease.try_take():
        async with sessions() as session:
            active = await current(session)
        who = f" ({active.holder})" if active is not None else ""
        print(f"the running bot{who} sends the queued messages")
        return
    try:
        await _send_queued(config, sessions)
    finally:
        await lease.release()


async def _send_queued(config: Config, sessions: SessionMaker) -> None:
    """Drain the outbox with a plain Bot until nothing due is pending (for `tick` without
    `run`), and end.

    Rows put back for a private chat's interval or Telegram's wait are due a little later:
    wait for them rather than leave them to the next `run`. Rows due later than
    SEND_HORIZON are left to `run`, and said so.
    """
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError
    from telegram.ext import AIORateLimiter, ExtBot

    from bot.delivery import drain

    tg = config.telegram
    bot: Bot = ExtBot(
        tg.token,
        base_url=tg.base_url or "https://api.telegram.org/bot",
        rate_limiter=AIORateLimiter(max_retries=tg.max_retries),
    )
    where = tg.base_url or "https://api.telegram.org/bot"
    kept = "the queued messages stay in the outbox for `wallchart run`"
    try:
        # getMe first, as `run` does: one line, not a traceback, when Telegram says no.
        await bot.initialize()
    except InvalidToken:
        raise ConfigError(f"Telegram refused the token; {kept}") from None
    except NetworkError as exc:
        raise ConfigError(f"cannot reach the Bot API at {where}: {exc.message}; {kept}") from None
    try:
        while True:
            result = await drain(bot, sessions, config.scheduler)
            if result.sent or result.failed:
                print(f"sent {result.sent}, failed {result.failed}")
            left, later = await _due_soon(sessions)
            if not left:
                if later:
                    print(f"{_count(later, 'message')} due later: `wallchart run` sends them")
                break
            if not result.handled:
                await asyncio.sleep(config.scheduler.private_interval or 1.0)
    finally:
        await bot.shutdown()


def now() -> datetime:
    """The current moment (aware UTC); `report` and `demo` take their day from it, and tests
    freeze it here."""
    return datetime.now(UTC)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the meeting's briefing workbook (the week's, or --month) and print its path."""
    from bot.briefing import render
    from storage.demo import contents

    config = _config(args)
    lang = args.lang
    # Said before the store is opened: an .xlsx under another name would not open as one.
    if args.out and Path(args.out).suffix.lower() != ".xlsx":
        print(f"wallchart: {plain(t(lang, 'cli.report_not_xlsx', path=args.out))}", file=sys.stderr)
        return 2
    url = f"sqlite:///{args.db}" if args.db else config.store.url
    source = "--db" if args.db else _store_source(args, config)
    shown = f"{store_name(url)} ({source})"
    file = _sqlite_file(url)
    if file is not None and not file.exists():
        # As for tick: a new empty store would only hide a missing --config or --db.
        print(plain(t(lang, "cli.report_no_store", store=shown)), file=sys.stderr)
        return 1
    open_store(url, source)
    period = "month" if args.month else "week"
    # Today only: the briefing is the store as it stands (lights, open items, states), so
    # a briefing "as of" another day would mix that day's period with today's state.
    today = now().astimezone(config.city.tz).date()

    async def go() -> int:
        async with _store(url) as sessions, sessions() as session:
            if not (await contents(session)).projects:
                print(plain(t(lang, "cli.report_empty", store=shown)), file=sys.stderr)
                return 1
            done = await render(session, config, lang, period, today)
        out = Path(args.out) if args.out else Path.cwd() / done.name
        try:
            await asyncio.to_thread(out.write_bytes, done.data)
        except OSError as exc:
            return _cannot_write(lang, out, exc.strerror or str(exc))
        print(plain(done.caption))
        print(plain(t(lang, "cli.report_written", path=str(out.absolute()))))
        return 0

    return asyncio.run(go())


def cmd_demo(args: argparse.Namespace) -> int:
    """Fill an SQLite file with a sample city and show what to try next."""
    from bot.demo import DemoRefused, show_demo

    db = Path(getattr(args, "db", None) or DEMO_DB)
    lang = getattr(args, "lang", "zh")
    force = getattr(args, "force", False)
    try:
        return asyncio.run(show_demo(db, now=now(), lang=lang, config=_config(args), force=force))
    except DemoRefused as exc:
        # It ran and refused (exit 1), as import does for bad rows: nothing was changed.
        print(f"wallchart: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the SQLite store to FILE, consistent even while the bot writes to it."""
    config = _config(args)
    url, source = config.store.url, _store_source(args, config)
    shown = f"{store_name(url)} ({source})"
    out = Path(args.file)
    file = _sqlite_file(url)
    if file is None:
        raise ConfigError(
            f"the store {shown} is not an SQLite file: back it up with PostgreSQL's own "
            "`pg_dump -Fc -f FILE DBNAME` (restore with pg_restore; see Backup in the README)"
        )
    if not file.exists():
        raise StoreError(f"there is no store at {shown}: nothing to back up")
    if out.absolute() == file.absolute():
        raise ConfigError(f"{out} is the store itself: name another file for the copy")
    if out.is_dir():
        raise ConfigError(f"{out} is a folder: name the file to write")
    if out.exists() and not args.force:
        raise ConfigError(f"{out} exists: add --force to replace it")
    if not out.absolute().parent.is_dir():
        raise ConfigError(f"cannot write {out}: the folder {out.absolute().parent} does not exist")
    try:
        pages = backup_sqlite(file, out)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot back up the store {shown}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from None
    size = out.stat().st_size
    print(
        f"the store {shown} is copied to {out} "
        f"({size / 1_048_576:.1f} MB, {pages} pages, integrity checked)"
    )
    return 0


def backup_sqlite(store: Path, out: Path) -> int:
    """Copy the SQLite database STORE to OUT with SQLite's online backup, which sees only
    committed transactions, whatever other connections (the running bot) are doing.

    The copy is written beside OUT and renamed over it only once it passes
    `PRAGMA integrity_check`, so a failed backup leaves an existing OUT as it was. Returns
    the copy's size in pages; raises sqlite3.Error (the store cannot be read, or the copy
    is damaged) or OSError (OUT cannot be written).
    """
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        # Read-only, by URI: a missing store must not be created, nor the store changed.
        with (
            closing(sqlite3.connect(f"{store.absolute().as_uri()}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(partial)) as dst,
        ):
            # In one step: steps of a few pages would restart whenever the bot writes.
            src.backup(dst)
            # The copy stands alone: no -wal file beside it to be left behind or lost.
            dst.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = dst.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"the copy fails its integrity check: {verdict}")
            (pages,) = dst.execute("PRAGMA page_count").fetchone()
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return int(pages)


def build_parser() -> argparse.ArgumentParser:
    # --config and -v work before or after the sub-command (`wallchart run --config x`).
    # SUPPRESS keeps a sub-command's missing option from hiding one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="config file (default: $WALLCHART_CONFIG or ./config.toml)",
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more"
    )
    parser = argparse.ArgumentParser(prog="wallchart", description=__doc__, parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=func.__doc__, parents=[common])
        command.set_defaults(func=func)
        return command

    p = add("run", cmd_run)
    p.add_argument(
        "--webhook",
        metavar="URL",
        default="",
        help="take updates by webhook at this public URL ([serve] listen/port serve it)",
    )
    add("migrate", cmd_migrate)
    p = add("import", cmd_import)
    p.add_argument("file", help="ledger .xlsx (sheets units, projects) or projects .csv")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the report")
    p = add("export", cmd_export)
    p.add_argument("file", help="ledger to write: .xlsx (units and projects) or .csv (projects)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the output")
    p = add("invite", cmd_invite)
    p.add_argument("unit", help="unit name, as in the ledger (青山镇)")
    p.add_argument("role", help=f"one of: {role_names()}")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the output")
    p = add("tick", cmd_tick)
    p.add_argument(
        "--at",
        type=_moment,
        help="the moment, ISO, local time unless a zone is given: 2026-12-04T09:00",
    )
    p.add_argument("--dry-run", action="store_true", help="print the messages, save nothing")
    p.add_argument("--db", help="an SQLite file instead of the configured store (the demo's)")
    p = add("report", cmd_report)
    span = p.add_mutually_exclusive_group()
    span.add_argument("--week", action="store_true", help="the seven days to today (default)")
    span.add_argument("--month", action="store_true", help="the month to today")
    p.add_argument("--out", help="the .xlsx to write (default: its name in this folder)")
    p.add_argument("--db", help="an SQLite file instead of the configured store (the demo's)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the workbook")
    p = add("backup", cmd_backup)
    p.add_argument("file", help="the SQLite file to write the copy to")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p = add("demo", cmd_demo)
    p.add_argument("--db", default=DEMO_DB, help=f"SQLite file to fill (default {DEMO_DB})")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the city")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the file even if it holds data other than an untouched demo",
    )
    return parser


# Libraries that log routine work at INFO: httpx every request (a long poll each few
# seconds), APScheduler two lines per run of every job (the outbox drain runs every two
# seconds: tens of thousands of lines a day). Quiet unless -v.
CHATTY = ("httpx", "apscheduler", "alembic")


REDACTED = "[REDACTED]"
# A bot token as it appears in every Bot API URL (https://api.telegram.org/bot<id>:<secret>/):
# hidden even when it is not the configured one (a token given some other way).
_TOKEN_IN_URL = re.compile(r"bot\d+:[A-Za-z0-9_-]+")
_tokens: set[str] = set()


def hide_token(token: str) -> None:
    """Hide TOKEN (the bot's, as set) in every later log line and error message."""
    if token:
        _tokens.add(token)


def redact(text: str) -> str:
    """TEXT with every known token, and anything shaped like `bot<digits>:<secret>`,
    replaced by REDACTED."""
    # Longest first: a token that contains another is hidden whole.
    for token in sorted(_tokens, key=len, reverse=True):
        text = text.replace(token, REDACTED)
    return _TOKEN_IN_URL.sub(f"bot{REDACTED}", text)


class RedactToken(logging.Filter):
    """Hides the bot token in a record's message, its arguments and its traceback.

    httpx logs every request's URL, and the token is part of that URL; PTB's and httpx's
    exceptions may carry it too. Installed on the handlers, as a filter on a logger would
    not see the records of the loggers below it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # The message is formatted here, once: an argument may be an object (an httpx URL)
        # whose text holds the token.
        try:
            message = record.getMessage()
        except Exception:  # a bad format: the handler reports it, with the arguments unseen
            message = f"{record.msg} (arguments that do not fit it)"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure_logging(verbose: bool) -> None:
    """Wallchart's own INFO lines; the chatty libraries' at WARNING. With -v everything
    at DEBUG, and the libraries' routine work at INFO. Every handler hides the bot token."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    hide_token(os.environ.get(TOKEN_ENV, ""))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactToken) for f in handler.filters):
            handler.addFilter(RedactToken())
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    # A drain longer than its interval makes APScheduler warn at every skipped run; the
    # next run simply takes over, so that is not worth a line in the log.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "verbose", False))
    try:
        code: int = args.func(args)
    except (ConfigError, StoreError) as exc:
        # One line, whatever the driver said: the operator reads it in a terminal or a log.
        print(f"wallchart: {redact(' '.join(str(exc).split()))}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
