"""`wallchart demo`: a sample city in an SQLite file, and what a member would see in it.

The city is built in the language asked for, its names and texts included, so that
`--lang en` shows English throughout. The city's wall chart (PNG) and this week's meeting
briefing (.xlsx) are written into the folder the command runs in, so that a new user sees
them at once.

The demo replaces only what is its own: a missing or empty file, or a demo city it built
and nobody has changed since. It marks the file it built in SQLite's header rather than
in a table (the schema is the bot's): the application id says "a Wallchart demo", the user
version holds a digest of every row as the demo left it. Anything else — a real store,
a demo someone registered in or ran the bot on, a file that is no store — is refused
unless `--force` is given.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from bot.briefing import render
from bot.charts import render_city_chart
from bot.cli import StoreError, open_store, zoned
from bot.config import CityConfig, Config
from bot.format import plain, project_card, today_text
from bot.scheduler import next_prompt_at, tick
from bot.texts import t
from storage import agenda, instructions, projects
from storage.db import make_engine, make_sessionmaker, set_actor
from storage.demo import DEFAULT_INDUSTRIES_EN, DemoCity, build_demo
from storage.people import member_by_tg

# The city's name in the English demo's titles, for the built-in Chinese default.
DEMO_CITY_EN = "Demo City"
# SQLite's header field `application_id` of a file the demo built: "WCD0".
DEMO_APPLICATION_ID: Final = 0x57434430
# Tables that are no data of the city: the schema's version.
_NOT_DATA: Final = frozenset({"alembic_version"})


@dataclass(frozen=True)
class Held:
    """What a file named by --db holds, for the demo to decide whether it may replace it.

    STATE: "absent" (no file), "empty" (no rows: an empty or a freshly migrated store),
    "demo" (a demo city as the demo built it), "changed" (a demo city changed since),
    "store" (a store with data the demo did not build), "foreign" (not a Wallchart store,
    or not readable as one). UNITS, PROJECTS, MEMBERS: its counts, when it is a store.
    """

    state: str
    units: int = 0
    projects: int = 0
    members: int = 0

    @property
    def replaceable(self) -> bool:
        """Nothing would be lost: no file, an empty one, or the demo's own city."""
        return self.state in ("absent", "empty", "demo")


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return sorted(name for (name,) in rows if name not in _NOT_DATA)


def _digest(conn: sqlite3.Connection, tables: Sequence[str]) -> int:
    """A digest of every row of TABLES, as SQLite's 31 bits of user version.

    Rows are taken in any order and without their NULL columns, so that a VACUUM or a
    migration adding an empty column leaves an untouched demo untouched.
    """
    h = hashlib.sha256()
    for name in tables:
        cursor = conn.execute(f'SELECT * FROM "{name}"')
        columns = [d[0] for d in cursor.description]
        rows = sorted(
            repr(
                [
                    (c, hashlib.sha256(v).hexdigest() if isinstance(v, bytes) else v)
                    for c, v in zip(columns, row, strict=True)
                    if v is not None
                ]
            )
            for row in cursor
        )
        h.update(f"{name}\x1e{len(rows)}\x1e".encode())
        for row in rows:
            h.update(row.encode())
            h.update(b"\x1f")
    return int.from_bytes(h.digest()[:4], "big") & 0x7FFFFFFF


def examine(db: Path) -> Held:
    """What the file DB holds (read-only; blocking, run it in a thread from async code)."""
    if not db.exists():
        return Held("absent")
    if not db.is_file():
        return Held("foreign")
    if db.stat().st_size == 0:
        return Held("empty")
    try:
        with closing(sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True)) as conn:
            tables = _tables(conn)
            filled = [
                name
                for name in tables
                if conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}")').fetchone()[0]
            ]
            if not filled:
                return Held("empty")
            if not {"units", "projects", "members"} <= set(tables):
                return Held("foreign")
            units, projects, members = (
                int(conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
                for name in ("units", "projects", "members")
            )
            state = "store"
            if conn.execute("PRAGMA application_id").fetchone()[0] == DEMO_APPLICATION_ID:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                state = "demo" if version == _digest(conn, tables) else "changed"
            return Held(state, units, projects, members)
    except sqlite3.Error:
        return Held("foreign")


def mark_demo(db: Path) -> None:
    """Mark DB as the demo's own city as it stands now (blocking)."""
    with closing(sqlite3.connect(db)) as conn:
        digest = _digest(conn, _tables(conn))
        conn.execute(f"PRAGMA application_id = {DEMO_APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {digest}")
        conn.commit()


def _refusal(lang: str, db: Path, held: Held) -> str:
    if held.state == "foreign":
        what = t(lang, "demo.taken_foreign")
    else:
        what = t(
            lang,
            "demo.taken_counts",
            units=held.units,
            projects=held.projects,
            members=held.members,
        )
        if held.state == "changed":
            what = f"{what}{t(lang, 'join.sep')}{t(lang, 'demo.taken_changed')}"
    return plain(t(lang, "demo.taken", db=str(db), what=what))


class DemoRefused(Exception):
    """The demo will not replace what the file holds (the message says what, and how)."""


def _fresh_store(db: Path, lang: str = "zh", force: bool = False) -> Held:
    """Make DB a new, migrated, empty store, if what it holds may be replaced (or FORCE);
    returns what it held. DemoRefused says why not, in LANG; StoreError that it cannot be
    made (blocking)."""
    held = examine(db)
    if not held.replaceable and not force:
        raise DemoRefused(_refusal(lang, db, held))
    try:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot replace the demo store {db} (--db): {exc.strerror}") from exc
    open_store(f"sqlite:///{db}", "--db")
    return held


def demo_industries(config: Config, lang: str) -> tuple[str, ...]:
    """The key industries of the demo city: the configured ones, except that the built-in
    Chinese defaults are named in English in the English city."""
    industries = tuple(config.city.industries)
    if lang == "en" and industries == CityConfig().industries:
        return DEFAULT_INDUSTRIES_EN
    return industries


def config_lines(config: Config, city: DemoCity, lang: str = "zh") -> list[str]:
    """The lines config.toml needs, beyond the store, for the bot to run on CITY (built in
    LANG): the names of the city (its titles), its service center, industries and problem
    routing where CONFIG differs."""

    def quoted(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)  # a TOML basic string

    section = []
    name = demo_city_name(config, lang)
    if config.city.name != name:
        section.append(f"name = {quoted(name)}")
    if config.city.service_center != city.service_center:
        section.append(f"service_center = {quoted(city.service_center)}")
    if tuple(config.city.industries) != city.industries:
        section.append(f"industries = [{', '.join(quoted(i) for i in city.industries)}]")
    routing = [f"{k} = {quoted(v)}" for k, v in city.routing.items() if config.routing.get(k) != v]
    lines = ["[city]", *section] if section else []
    return lines + (["[routing]", *routing] if routing else [])


async def show_demo(
    db: Path,
    *,
    now: datetime,
    lang: str = "zh",
    config: Config | None = None,
    force: bool = False,
) -> int:
    """Build the demo city in DB and print a tour of it.

    DB may be missing, empty or an untouched demo of an earlier run (replaced); anything
    else raises DemoRefused (one line, in LANG) unless FORCE, which replaces it all the same.
    """
    config = config or Config()
    held = await asyncio.to_thread(_fresh_store, db, lang, force)
    engine = make_engine(f"sqlite:///{db}")
    today = now.astimezone(config.city.tz).date()
    try:
        async with make_sessionmaker(engine)() as session:
            set_actor(session, None)
            industries = demo_industries(config, lang)
            city = await build_demo(session, today, industries, lang=lang)
            await session.commit()
            # Marked as built: the tour after it only reads (its look at tomorrow is rolled
            # back), so that a change found later is someone's.
            await asyncio.to_thread(mark_demo, db)
            if held.state == "demo":
                print(plain(t(lang, "demo.replaced", db=str(db))))
            print(plain(t(lang, "demo.built", db=str(db), **_counts(city))))
            officer = await member_by_tg(session, city.officer.tg_user_id)
            assert officer is not None
            todo = await agenda.agenda(
                session,
                officer,
                today,
                now,
                soon_days=config.work.soon_days,
                stale_days=config.work.stale_days,
            )
            card = await projects.card(session, officer, city.project_code)
            print()
            print(
                plain(t(lang, "demo.as", name=officer.name, unit=officer.unit.name, cmd="/today"))
            )
            print(plain(today_text(lang, todo, today, config.work, config.city.tz)))
            print()
            who = t(lang, "demo.as", name=officer.name, unit=officer.unit.name, cmd="/project")
            print(plain(who))
            shown = project_card(
                lang,
                card,
                today,
                config.work.soon_days,
                instructions=await instructions.for_project(session, card.project.id),
                calendar=config.work.calendar(),
            )
            print(plain(shown))
            print()
            unit_name = officer.unit.name  # read before the dry run's rollback expires it
            await _tomorrow(session, config, officer.id, now, lang, db)
            print()
            written = await write_files(session, config, lang, today, Path.cwd())
            print(plain(t(lang, "demo.files", folder=str(Path.cwd()))))
            for path in written:
                print(f"  {path.name}")
            print()
            print(
                plain(
                    t(
                        lang,
                        "demo.next",
                        db=str(db),
                        code=city.project_code,
                        problem=city.open_problem_id,
                        unit=unit_name,
                    )
                )
            )
            lines = config_lines(config, city, lang)
            if lines:
                print(plain(t(lang, "demo.config")))
                print("\n".join(lines))
    finally:
        await engine.dispose()
    return 0


async def _tomorrow(
    session: AsyncSession, config: Config, officer_id: int, now: datetime, lang: str, db: Path
) -> None:
    """What the scheduler will send at the next prompt time: a dry run, rolled back."""
    calendar = config.work.calendar()
    at = next_prompt_at(config, calendar, now)
    result = await tick(session, config, calendar, at)
    await session.rollback()
    mine = [m for m in result.messages if m.member_id == officer_id and m.kind == "prompt"]
    print(
        plain(
            t(
                lang,
                "demo.tomorrow",
                at=zoned(at),
                n=len(result.messages),
                climbs=len(result.climbs),
            )
        )
    )
    for m in mine:
        print(plain(m.text))
    at_iso = at.isoformat(timespec="minutes")
    print(plain(t(lang, "demo.tick", db=str(db), at=at_iso)))


def demo_city_name(config: Config, lang: str) -> str:
    """The city's name in the demo's titles: the configured one, except that the built-in
    Chinese default is named in English in the English city."""
    if lang == "en" and config.city.name == CityConfig().name:
        return DEMO_CITY_EN
    return config.city.name


async def write_files(
    session: AsyncSession, config: Config, lang: str, today: date, folder: Path
) -> list[Path]:
    """The demo city's wall chart (one PNG per picture) and this week's briefing workbook,
    written into FOLDER under the names a member would get them by; returns the paths."""
    city_config = replace(config, city=replace(config.city, name=demo_city_name(config, lang)))
    pictures = await render_city_chart(session, city_config, lang, today)
    files: list[tuple[Path, bytes]] = []
    for i, png in enumerate(pictures, 1):
        part = f"_{i}" if len(pictures) > 1 else ""
        name = t(lang, "demo.chart_file", date=today.isoformat(), part=part)
        files.append((folder / name, png))
    done = await render(session, city_config, lang, "week", today)
    files.append((folder / done.name, done.data))

    def write() -> None:
        for path, data in files:
            path.write_bytes(data)

    await asyncio.to_thread(write)
    return [path for path, _data in files]


def _counts(city: object) -> dict[str, int]:
    names = ("units", "members", "projects", "milestones", "problems", "progress_reports")
    return {n: int(getattr(city, n)) for n in names}
