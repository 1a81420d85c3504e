"""`wallchart demo`: a sample city in an SQLite file, and what a member would see in it.

The city is built in the language asked for, its names and texts included, so that
`--lang en` shows English throughout. The city's wall chart (PNG) and this week's meeting
briefing (.xlsx) are written into the folder the command runs in, so that a new user sees
them at once.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

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


def _fresh_store(db: Path) -> None:
    """Replace an old demo file with a new, migrated one (blocking)."""
    try:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot replace the demo store {db} (--db): {exc.strerror}") from exc
    open_store(f"sqlite:///{db}", "--db")


def demo_industries(config: Config, lang: str) -> tuple[str, ...]:
    """The key industries of the demo city: the configured ones, except that the built-in
    Chinese defaults are named in English in the English city."""
    industries = tuple(config.city.industries)
    if lang == "en" and industries == CityConfig().industries:
        return DEFAULT_INDUSTRIES_EN
    return industries


def config_lines(config: Config, city: DemoCity) -> list[str]:
    """The lines config.toml needs, beyond the store, for the bot to run on CITY: the names
    of its service center, industries and problem routing where CONFIG differs."""

    def quoted(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)  # a TOML basic string

    section = []
    if config.city.service_center != city.service_center:
        section.append(f"service_center = {quoted(city.service_center)}")
    if tuple(config.city.industries) != city.industries:
        section.append(f"industries = [{', '.join(quoted(i) for i in city.industries)}]")
    routing = [f"{k} = {quoted(v)}" for k, v in city.routing.items() if config.routing.get(k) != v]
    lines = ["[city]", *section] if section else []
    return lines + (["[routing]", *routing] if routing else [])


async def show_demo(
    db: Path, *, now: datetime, lang: str = "zh", config: Config | None = None
) -> int:
    """Build the demo city in DB (replacing an old demo file) and print a tour of it."""
    config = config or Config()
    await asyncio.to_thread(_fresh_store, db)
    engine = make_engine(f"sqlite:///{db}")
    today = now.astimezone(config.city.tz).date()
    try:
        async with make_sessionmaker(engine)() as session:
            set_actor(session, None)
            industries = demo_industries(config, lang)
            city = await build_demo(session, today, industries, lang=lang)
            await session.commit()
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
            lines = config_lines(config, city)
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
