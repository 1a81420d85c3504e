"""The daily tick beside the handlers: short write transactions, and exactly once however
it stops.

The cities come from the tick benchmark's generator (bench/bench_tick.py): seeded, on
Tuesday 17 November 2026 at 09:00 in Asia/Shanghai, with a realistic share of late items
that climb today. What a pass must leave is what one uninterrupted pass would: the dry run
(`bot.scheduler.tick`, rolled back) on the same store says what that is.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.scheduler as scheduler
from bench.bench_tick import NOW, TODAY, LockWatch, fill, synthesise
from bot.config import Config
from bot.scheduler import TickResult, run_tick, tick
from storage import schedule
from storage.db import SessionMaker, make_engine, make_sessionmaker
from storage.models import (
    AuditLog,
    Instruction,
    Member,
    Milestone,
    Outbox,
    Problem,
    ProgressReport,
    Project,
    Role,
    SchedulerRun,
    Stage,
)
from storage.outbox import Message
from storage.workdays import WorkCalendar
from tests.stores import module_database

CONFIG = Config()
CAL = WorkCalendar()
SMALL = 0.1  # of the benchmark's city: 200 members, 184 prompts, 239 messages, 234 climbs
CHUNK = 20  # so that the small city's tick writes in ten chunks or more of each kind
BUSY_TIMEOUT = 5.0  # storage/db.py: PRAGMA busy_timeout=5000


@pytest.fixture(scope="module")
def ticks_pg_url(pg_url: str) -> Iterator[str]:
    """A PostgreSQL database of this module's own: the passes commit, many times over."""
    yield from module_database(pg_url, "ticks")


@pytest.fixture
def store_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A migrated store for one test: a copy of the SQLite file, or the module's database."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "ticks.sqlite3"
        shutil.copy(db_url.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("ticks_pg_url"))


@pytest.fixture
def sqlite_store(sqlite_url: str, tmp_path: Path) -> str:
    """A migrated SQLite store for one test, whatever the backend of the run: what (a)
    measures is SQLite's one write lock."""
    path = tmp_path / "city.sqlite3"
    shutil.copy(sqlite_url.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@dataclass
class City:
    engine: AsyncEngine
    sessions: SessionMaker


async def build_city(url: str, scale: float) -> City:
    """The benchmark's city at SCALE in the (empty, migrated) store at URL."""
    engine = make_engine(url)
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(
                text(
                    "TRUNCATE units, scheduler_runs, outbox, audit_log, attachments "
                    "RESTART IDENTITY CASCADE"
                )
            )
        await fill(conn, synthesise(scale, CONFIG, CAL))
    return City(engine, make_sessionmaker(engine))


@pytest.fixture
async def small_city(store_url: str) -> AsyncIterator[City]:
    """A tenth of the benchmark's city (SMALL)."""
    city = await build_city(store_url, SMALL)
    try:
        yield city
    finally:
        await city.engine.dispose()


# --- what one pass leaves -------------------------------------------------------------


async def dry_run(sessions: SessionMaker) -> TickResult:
    """What one uninterrupted pass would queue and climb, rolled back."""
    async with sessions() as s:
        result = await tick(s, CONFIG, CAL, NOW)
        await s.rollback()
    assert result.ran and result.queued == len(result.messages)
    return result


async def outbox(sessions: SessionMaker) -> dict[str, str]:
    async with sessions() as s:
        rows = (await s.execute(select(Outbox.dedupe_key, Outbox.text))).all()
    keys = [key for key, _ in rows]
    assert len(keys) == len(set(keys))
    return dict(rows)


def expected_climbs(reference: TickResult) -> dict[tuple[str, int], int]:
    tables = {
        "problem": "problems",
        "signoff": "problems",
        "milestone": "milestones",
        "target": "projects",
        "instruction": "instructions",
    }
    return {(tables[c.kind], c.item_id): c.level for c in reference.climbs}


async def today_climbs(sessions: SessionMaker) -> dict[tuple[str, int], int]:
    """The items today's run climbed (their last climb is the run's start), with levels."""
    async with sessions() as s:
        started = await s.scalar(select(SchedulerRun.started_at))
        assert started is not None
        found: dict[tuple[str, int], int] = {}
        for model in (Problem, Milestone, Instruction):
            rows = await s.execute(
                select(model.id, model.escalation_level).where(model.escalated_at == started)
            )
            found |= {(model.__tablename__, i): level for i, level in rows}
        rows = await s.execute(
            select(Project.id, Project.target_level).where(Project.target_escalated_at == started)
        )
        found |= {("projects", i): level for i, level in rows}
    return found


async def climb_audits(sessions: SessionMaker) -> Counter[tuple[str, str]]:
    """The audit rows of climbs, per item: a second climb would be a second row."""
    async with sessions() as s:
        rows = (
            await s.execute(
                select(AuditLog.entity, AuditLog.entity_id, AuditLog.after).where(
                    AuditLog.action == "update"
                )
            )
        ).all()
    return Counter(
        (entity, entity_id)
        for entity, entity_id, after in rows
        if after and ("escalation_level" in after or "target_level" in after)
    )


async def assert_one_pass(
    sessions: SessionMaker, reference: TickResult, *, counted: bool = True
) -> None:
    """The store holds what one uninterrupted pass leaves: every message once, as that
    pass writes it; every item climbed once, to the same level; the day finished (and,
    COUNTED, the run's count of messages right)."""
    queued = await outbox(sessions)
    assert queued == {m.key: m.text for m in reference.messages}
    prompts = Counter(key.split(":")[1] for key in queued if key.startswith("prompt:"))
    assert prompts and set(prompts.values()) == {1}
    assert any(key.startswith("esc:") for key in queued)  # the climbs' notices are there
    assert await today_climbs(sessions) == expected_climbs(reference)
    audits = await climb_audits(sessions)
    assert sum(audits.values()) == len(reference.climbs)
    assert set(audits.values()) == {1}
    async with sessions() as s:
        runs = (await s.scalars(select(SchedulerRun))).all()
    assert len(runs) == 1 and runs[0].day == TODAY
    assert runs[0].finished_at is not None
    if counted:
        assert runs[0].messages == len(queued)


# --- (b) a pass that stops is finished by the next ---------------------------------------


class Stop(Exception):
    """The process dying at that point: what it had committed stays, nothing else."""


def stop_at(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, call: int) -> Callable[[], int]:
    """Make OWNER.NAME raise Stop on its CALL-th call (1 = the first); returns the count."""
    real = getattr(owner, name)
    calls = 0

    async def stopping(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == call:
            raise Stop(f"{name} #{call}")
        return await real(*args, **kwargs)

    monkeypatch.setattr(owner, name, stopping)
    return lambda: calls


# Where the process dies: in the middle of the escalation (its first chunk committed),
# after the escalation (nothing queued yet: the notices must be rebuilt), in the middle of
# queueing (some messages queued), and after queueing, before the day is marked finished.
STOPS = {
    "escalating": (schedule, "write_escalation", 2),
    "composing": (scheduler, "compose", 1),
    "queueing": (scheduler, "enqueue", 3),
    "finishing": (schedule, "finish_day", 1),
}


@pytest.mark.parametrize("where", list(STOPS))
async def test_a_stopped_tick_is_finished_by_the_next_pass_exactly_once(
    small_city: City, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    sessions = small_city.sessions
    reference = await dry_run(sessions)
    assert len(reference.climbs) > 10 * CHUNK and len(reference.messages) > 9 * CHUNK

    owner, name, call = STOPS[where]
    with monkeypatch.context() as patch:
        calls = stop_at(patch, owner, name, call)
        with pytest.raises(Stop):
            await run_tick(sessions, CONFIG, CAL, NOW, chunk=CHUNK)
        assert calls() == call
    async with sessions() as s:
        run = await s.scalar(select(SchedulerRun))
        assert run is not None and run.finished_at is None  # claimed, not finished
        queued_before = await s.scalar(select(func.count()).select_from(Outbox))
    if where == "queueing":
        assert queued_before == 2 * CHUNK  # two chunks committed
    if where == "finishing":
        assert queued_before == len(reference.messages)

    # The next pass: the catch-up at start, later that morning.
    later = NOW + timedelta(minutes=30)
    result = await run_tick(sessions, CONFIG, CAL, later, chunk=CHUNK)
    assert result.ran and result.resumed
    assert result.queued == len(reference.messages) - (queued_before or 0)
    assert [(c.kind, c.item_id, c.level) for c in result.climbs] == [
        (c.kind, c.item_id, c.level) for c in reference.climbs
    ]
    await assert_one_pass(sessions, reference)

    # And the day is done: one more pass adds nothing.
    again = await run_tick(sessions, CONFIG, CAL, later + timedelta(hours=1), chunk=CHUNK)
    assert not again.ran and again.reason == "done"
    await assert_one_pass(sessions, reference)


async def test_a_day_left_unfinished_is_closed_by_the_next_days_tick(
    small_city: City, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Monday's pass stopped and nothing finished it that day: Tuesday's tick does not
    send Monday's stale prompts, says so once, and closes Monday."""
    sessions = small_city.sessions
    monday = NOW - timedelta(days=1)
    with monkeypatch.context() as patch:
        stop_at(patch, scheduler, "compose", 1)
        with pytest.raises(Stop):
            await run_tick(sessions, CONFIG, CAL, monday, chunk=CHUNK)
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        result = await run_tick(sessions, CONFIG, CAL, NOW, chunk=CHUNK)
    assert result.ran and not result.resumed and result.queued > 9 * CHUNK
    assert [r.getMessage() for r in caplog.records if "2026-11-16" in r.getMessage()]
    async with sessions() as s:
        runs = (await s.scalars(select(SchedulerRun).order_by(SchedulerRun.day))).all()
        keys = (await s.scalars(select(Outbox.dedupe_key))).all()
    assert [(r.day, r.finished_at is not None, r.messages) for r in runs] == [
        (monday.date(), True, 0),
        (TODAY, True, result.queued),
    ]
    assert not [key for key in keys if key.endswith("2026-11-16")]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        assert not (await run_tick(sessions, CONFIG, CAL, NOW + timedelta(hours=1))).ran
    assert not caplog.records


async def add_instructions(sessions: SessionMaker) -> None:
    """Two of a leader's instructions in the city: one three working days past its
    deadline and not acknowledged (it climbs today), and one that went with its project
    to the unit with the most people (they are all told, once)."""
    async with sessions() as s:
        leader = await s.scalar(
            select(Member.id).where(Member.role == Role.LEADER).order_by(Member.id)
        )
        staffed = await s.execute(
            select(Member.unit_id)
            .where(Member.role.in_([Role.OFFICER, Role.HEAD]), Member.active, Member.reachable)
            .group_by(Member.unit_id)
            .order_by(func.count().desc(), Member.unit_id)
        )
        busiest = staffed.scalars().first()
        project = await s.scalar(
            select(Project)
            .where(Project.unit_id != busiest, Project.stage == Stage.STARTED)
            .order_by(Project.id)
        )
        assert leader is not None and busiest is not None and project is not None
        given = NOW - timedelta(days=10)
        late = Instruction(
            leader_id=leader,
            project_id=project.id,
            text="尽快协调解决用地指标",
            unit_id=project.unit_id,
            deadline=CAL.add_workdays(TODAY, -3),
            created_at=given,
        )
        moving = Instruction(
            leader_id=leader,
            project_id=project.id,
            text="加快办理施工许可",
            unit_id=project.unit_id,
            deadline=TODAY + timedelta(days=20),
            created_at=given,
        )
        s.add_all([late, moving])
        await s.commit()
    async with sessions() as s:
        moved = await s.get(Instruction, moving.id)
        assert moved is not None
        moved.unit_id = busiest  # the audit log keeps the move, as an import's would
        await s.commit()


@pytest.mark.parametrize("stop", ["at the move", "after the move"])
async def test_a_moved_instruction_is_told_to_all_its_people_once_across_a_stop(
    small_city: City, monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    """A move is told once (a queued key of it means told): its people's notices are
    queued in one transaction, so a pass that stops around them leaves none or all."""
    sessions = small_city.sessions
    await add_instructions(sessions)
    reference = await dry_run(sessions)
    assert "instruction" in {c.kind for c in reference.climbs}
    # Chunks that would end right after the move's first notice, were it not kept whole.
    first = next(i for i, m in enumerate(reference.messages) if m.key.startswith("moved:"))
    size = first + 1
    part = scheduler._chunks(reference.messages, size)[0]
    assert len(part) > size and all(m.key.startswith("moved:") for m in part[first:])

    with monkeypatch.context() as patch:
        stop_at(patch, scheduler, "enqueue", 1 if stop == "at the move" else 2)
        with pytest.raises(Stop):
            await run_tick(sessions, CONFIG, CAL, NOW, chunk=size)
    result = await run_tick(sessions, CONFIG, CAL, NOW + timedelta(minutes=30), chunk=size)
    assert result.resumed
    await assert_one_pass(sessions, reference)


def test_chunks_keep_a_moves_notices_together() -> None:
    def message(key: str) -> Message:
        return Message(key, 1, "notice", key)

    keys = ["prompt:1:d", "prompt:2:d", "moved:7:1", "moved:7:2", "moved:7:3", "moved:8:1"]
    keys += ["digest:3:d"]
    parts = scheduler._chunks([message(k) for k in keys], 2)
    assert [[m.key for m in part] for part in parts] == [
        ["prompt:1:d", "prompt:2:d"],
        ["moved:7:1", "moved:7:2", "moved:7:3"],
        ["moved:8:1", "digest:3:d"],
    ]
    assert scheduler._chunks([], 2) == []


async def test_an_uninterrupted_pass_leaves_what_the_dry_run_says(small_city: City) -> None:
    reference = await dry_run(small_city.sessions)
    result = await run_tick(small_city.sessions, CONFIG, CAL, NOW, chunk=CHUNK)
    assert result.ran and not result.resumed
    assert result.queued == len(reference.messages)
    await assert_one_pass(small_city.sessions, reference)


async def test_two_processes_ticking_at_once_leave_one_pass(
    small_city: City, store_url: str
) -> None:
    """A second process (its own engine and event loop) ticks at the same moment."""
    reference = await dry_run(small_city.sessions)

    def other_process() -> TickResult:
        async def go() -> TickResult:
            engine = make_engine(store_url)
            try:
                return await run_tick(make_sessionmaker(engine), CONFIG, CAL, NOW, chunk=CHUNK)
            finally:
                await engine.dispose()

        return asyncio.run(go())

    here, there = await asyncio.gather(
        run_tick(small_city.sessions, CONFIG, CAL, NOW, chunk=CHUNK),
        asyncio.to_thread(other_process),
    )
    assert here.ran and there.ran and here.resumed != there.resumed
    # What each says it queued may count a message the other queued first: on
    # PostgreSQL, storage.outbox.enqueue counts the rows its ON CONFLICT skipped.
    await assert_one_pass(small_city.sessions, reference, counted=False)


async def test_a_claimed_day_is_owed_until_finished(small_city: City) -> None:
    """claim_day: a new day is claimed; a claimed, unfinished one is owed to the next
    pass with the first pass's start; a finished one is owed nothing."""
    async with small_city.sessions() as s:
        first = await schedule.claim_day(s, TODAY, NOW)
        await s.commit()
    assert first is not None and first.claimed and first.started_at == NOW
    async with small_city.sessions() as s:
        second = await schedule.claim_day(s, TODAY, NOW + timedelta(hours=2))
    assert second is not None and not second.claimed
    assert (second.run_id, second.started_at) == (first.run_id, NOW)
    async with small_city.sessions() as s:
        await schedule.count_queued(s, first.run_id, 7)
        # The city's local time (as `wallchart tick --at` gives it) is the same moment.
        await schedule.finish_day(s, first.run_id, NOW.astimezone(ZoneInfo("Asia/Shanghai")))
        await schedule.count_queued(s, first.run_id, 3)
        await schedule.finish_day(s, first.run_id, NOW + timedelta(hours=1))
        await s.commit()
        assert await schedule.claim_day(s, TODAY, NOW) is None
        run = await s.scalar(select(SchedulerRun))
        assert run is not None and run.finished_at == NOW and run.messages == 10


# --- (a) a handler writing while the tick runs -------------------------------------------


@dataclass
class Handler:
    """An officer reporting progress, over and over, while the tick runs: each report is
    one write transaction, timed from its start to its commit."""

    sessions: SessionMaker
    author: int
    longest: float = 0.0
    writes: int = 0

    async def run(self, done: asyncio.Event) -> None:
        project = 0
        while not done.is_set():
            project = project % 1000 + 1
            started = time.perf_counter()
            async with self.sessions() as s:
                s.add(
                    ProgressReport(
                        project_id=project,
                        author_id=self.author,
                        text="施工单位已进场",
                        report_date=TODAY,
                    )
                )
                p = await s.get(Project, project)
                assert p is not None
                p.last_progress_at = NOW
                await s.commit()
            self.longest = max(self.longest, time.perf_counter() - started)
            self.writes += 1
            await asyncio.sleep(0.005)


async def while_ticking(
    work: Callable[[], Awaitable[TickResult]], handler: Handler
) -> tuple[TickResult, float]:
    done = asyncio.Event()
    task = asyncio.create_task(handler.run(done))
    started = time.perf_counter()
    try:
        result = await work()
    finally:
        done.set()
        await task
    return result, time.perf_counter() - started


async def test_a_handler_writing_during_the_tick_hardly_waits(sqlite_store: str) -> None:
    """SQLite, a city of 4,000 members (about 3,800 prompts): the tick's transactions are
    short, and an officer's report made meanwhile waits well under the busy timeout.
    (The tick in one transaction held the lock for seconds: at four times this size, a
    report failed with `database is locked`.)"""
    city = await build_city(sqlite_store, 2)
    handlers = make_engine(sqlite_store)  # the handlers' connections, apart from the tick's
    watch = LockWatch(city.engine)
    try:
        async with city.sessions() as s:
            officer = await s.scalar(select(func.min(Member.id)).where(Member.role == Role.OFFICER))
        assert officer is not None
        handler = Handler(make_sessionmaker(handlers), officer)
        result, seconds = await while_ticking(
            lambda: run_tick(city.sessions, CONFIG, CAL, NOW), handler
        )
    finally:
        watch.close()
        await handlers.dispose()
        await city.engine.dispose()
    assert result.ran and result.queued > 3500
    # The reports ran beside the tick, one every few milliseconds while it ran.
    assert handler.writes >= 20, (handler.writes, seconds)
    # The tick in one transaction held the lock as long as it ran, seconds at this size;
    # in chunks, each transaction holds it for a moment.
    assert watch.longest < 0.5, f"the tick held the write lock {watch.longest:.2f} s"
    assert watch.transactions >= (len(result.climbs) + result.queued) / scheduler.CHUNK
    assert handler.longest < min(1.5, BUSY_TIMEOUT / 3), f"a report took {handler.longest:.2f} s"
