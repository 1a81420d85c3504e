"""`wallchart demo`: a sample city in an SQLite file, and what a member would see in it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.format import plain, project_card, today_text
from bot.scheduler import next_prompt_at, tick
from bot.texts import t
from storage import agenda, projects
from storage.db import make_engine, make_sessionmaker, set_actor
from storage.demo import build_demo
from storage.migrate import upgrade_async
from storage.people import member_by_tg


async def show_demo(
    db: Path, *, now: datetime, lang: str = "zh", config: Config | None = None
) -> int:
    """Build the demo city in DB (replacing an old demo file) and print a tour of it."""
    config = config or Config()
    # A few small unlinks before anything runs: not worth a thread.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240
    url = f"sqlite:///{db}"
    await upgrade_async(url)
    engine = make_engine(url)
    today = now.astimezone(config.city.tz).date()
    try:
        async with make_sessionmaker(engine)() as session:
            set_actor(session, None)
            city = await build_demo(session, today, config.city.industries)
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
            print(plain(project_card(lang, card, today, config.work.soon_days)))
            print()
            unit_name = officer.unit.name  # read before the dry run's rollback expires it
            await _tomorrow(session, config, officer.id, now, lang, db)
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
    when = at.strftime("%Y-%m-%d %H:%M")
    print(
        plain(t(lang, "demo.tomorrow", at=when, n=len(result.messages), climbs=len(result.climbs)))
    )
    for m in mine:
        print(plain(m.text))
    print(plain(t(lang, "demo.tick", db=str(db), at=at.strftime("%Y-%m-%dT%H:%M"))))


def _counts(city: object) -> dict[str, int]:
    names = ("units", "members", "projects", "milestones", "problems", "progress_reports")
    return {n: int(getattr(city, n)) for n in names}
