"""Updates a second: Wallchart beside a bare PTB echo bot and a floor bot, over the same
loopback Bot API.

Run from the project root:

    .venv/bin/python bench/bench_throughput.py [--db sqlite postgresql] [--updates 2000]
        [--profile DIR]

Each bot is its own process, started afresh for every run, so that its CPU time and its
peak memory are its own: the Bot API stand-in (tests/botapi_server.py serving
tests/fakebot.py on 127.0.0.1) runs in this, the parent, process, and the machine's
second core serves it. Wallchart runs exactly as `wallchart run --config FILE` does
(bot.cli.main, so bot.app.build_application and whatever the run command starts), with
the rate limiter off, the scheduler and the meeting off, over the 5,000-project
synthetic city of bench/bench_tick.py (scale 1: 100 units, 2,000 members, 50,000
milestones, 3,000 problems) in a fresh copy of the store. The echo bot is a bare PTB 22
Application with the same long polling: it sends every text back and answers every
button with answerCallbackQuery and a message. The floor bot (run_floor) is the least a
bot can do for the same stream under the rules Wallchart must keep (every update in an
inbox table before it is handled, its messages through an outbox) on Wallchart's stack:
five statements, two commits and as many Bot API calls per update as Wallchart made in
the run before it, and nothing else. Its rate is what Wallchart could reach at best; the
echo bot's is what a bot that keeps nothing reaches. "Sends only" is the floor without its
store: the Bot API calls alone, the bound that the stream's messages set by themselves.

All three get the same stream, queued in the stand-in before the bot starts, cycles of six
updates from the city's own people: an officer logs progress on one of the unit's
projects (/progress CODE text), raises a problem on it (/problem CODE text, which asks
for the unit with buttons), presses one department's button, that department's head
replies (/reply ID text), then the officer asks for /today and the project's card
(/project CODE). Every cycle is another officer.

In the bot's process, instrumented before anything is built: the clock and the
process's CPU time (time.process_time: all threads, so aiosqlite's, i.e. all of
SQLite's work; on PostgreSQL the client's side only) start at the first getUpdates and
stop when Application.process_update has returned for the last update; the SQL
statements (SQLAlchemy's before_cursor_execute), transactions begun and commits are
counted on every Engine over the same span; the peak RSS (VmHWM) is the process's
whole life. Notices that the handlers queue are sent by the outbox sender within that
span as they are queued; whatever is still pending at the end is reported. After a
Wallchart run the store is checked: every progress report, problem and reply in the
stream must be there, and no update may have failed.

--profile DIR writes a cProfile of each bot's timed span to DIR and prints its top.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import pstats
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TOKEN = "123456:BENCH-THROUGHPUT"
RESULT = "BENCH-RESULT "
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_tp"
TARGET_RATIO = 0.5
TARGET_RSS_MB = 200
# A run that has not finished by then has failed (a healthy one takes seconds).
RUN_TIMEOUT = 900.0


# --- the bot's process ------------------------------------------------------------------


@dataclass
class Meter:
    """What the bot's process counts over the timed span."""

    expect: int
    profile: str | None = None
    handled: int = 0
    statements: int = 0
    begins: int = 0
    commits: int = 0
    started: float | None = None
    cpu_started: float = 0.0
    result: dict[str, Any] | None = None
    profiler: cProfile.Profile | None = None

    def start(self) -> None:
        self.statements = self.begins = self.commits = self.handled = 0
        gc.collect()
        if self.profile:
            self.profiler = cProfile.Profile()
            self.profiler.enable()
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()

    def stop(self) -> None:
        wall = time.perf_counter() - (self.started or 0.0)
        cpu = time.process_time() - self.cpu_started
        if self.profiler is not None:
            self.profiler.disable()
            self.profiler.dump_stats(str(self.profile))
        self.result = {
            "updates": self.handled,
            "wall": wall,
            "cpu": cpu,
            "statements": self.statements,
            "begins": self.begins,
            "commits": self.commits,
            # VmHWM, not ru_maxrss: Linux carries the parent's peak over into a child's
            # ru_maxrss at exec, and the parent holds the synthetic city.
            "maxrss_kb": _status_kb("VmHWM"),
            "rss_kb": _status_kb("VmRSS"),
        }


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in kB (0 if unknown)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def instrument(meter: Meter) -> None:
    """Count statements and transactions on every engine, time from the first getUpdates
    to the last update processed, then report and stop the bot as Ctrl-C would."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from telegram import Bot
    from telegram.ext import Application

    def on_statement(*_args: Any) -> None:
        meter.statements += 1

    def on_begin(*_args: Any) -> None:
        meter.begins += 1

    def on_commit(*_args: Any) -> None:
        meter.commits += 1

    event.listen(Engine, "before_cursor_execute", on_statement)
    event.listen(Engine, "begin", on_begin)
    event.listen(Engine, "commit", on_commit)

    get_updates = Bot.get_updates
    process_update = Application.process_update

    async def timed_get_updates(self: Any, *args: Any, **kwargs: Any) -> Any:
        if meter.started is None:
            meter.start()
        return await get_updates(self, *args, **kwargs)

    async def counted_process_update(self: Any, update: object) -> None:
        try:
            await process_update(self, update)
        finally:
            meter.handled += 1
            if meter.handled == meter.expect and meter.result is None:
                meter.stop()
                print(RESULT + json.dumps(meter.result), flush=True)
                # As Ctrl-C: the bot stops the way it stops in production.
                os.kill(os.getpid(), signal.SIGINT)

    Bot.get_updates = timed_get_updates  # type: ignore[method-assign]
    Application.process_update = counted_process_update  # type: ignore[method-assign]


def run_echo(base_url: str) -> None:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, MessageHandler, filters

    async def echo(update: Update, _context: Any) -> None:
        message = update.effective_message
        if message is not None and message.text:
            await message.reply_text(message.text)

    async def pressed(update: Update, context: Any) -> None:
        query = update.callback_query
        assert query is not None and update.effective_chat is not None
        await query.answer()
        await context.bot.send_message(update.effective_chat.id, query.data or "")

    app = ApplicationBuilder().token(TOKEN).base_url(base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


def run_floor(base_url: str, url: str | None, calls_per_update: float) -> None:
    """The least a bot can do for this stream under the issue's own rules and our stack
    (PTB, bot.transport, uvloop, SQLAlchemy's asyncio extension), with no product in it.
    With no URL ("sends only"), not even that: the Bot API calls alone.

    Per update: keep it in an inbox table and look up its sender, in one transaction
    with the outbox rows of its messages; send those (as many Bot API calls, on average,
    as Wallchart made per update in the run before); mark them sent and the update done
    in a second transaction. Five statements and two commits per update; Wallchart's
    handlers add their own records, the audit log and the flows' state to that.
    """
    import uvloop
    from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, insert
    from sqlalchemy import select as sa_select
    from sqlalchemy import update as sa_update
    from telegram import Update
    from telegram.ext import ApplicationBuilder, TypeHandler

    from bot.transport import AiohttpRequest
    from storage.db import make_engine, make_sessionmaker
    from storage.models import Member

    meta = MetaData()
    inbox = Table(
        "floor_inbox",
        meta,
        Column("update_id", Integer, primary_key=True),
        Column("payload", JSON),
        Column("done_at", DateTime),
    )
    outbox = Table(
        "floor_outbox",
        meta,
        Column("id", Integer, primary_key=True),
        Column("chat_id", Integer),
        Column("text", String(100)),
        Column("sent_at", DateTime),
    )
    engine = make_engine(url) if url else None
    sessions = make_sessionmaker(engine) if engine else None
    owed = 0.0

    async def handle(update: Update, context: Any) -> None:
        nonlocal owed
        owed += calls_per_update
        n = max(1, int(owed))
        owed -= n
        assert update.effective_user is not None and update.effective_chat is not None
        chat = update.effective_chat.id
        now = datetime.now(UTC).replace(tzinfo=None)
        if sessions is None:
            for _ in range(n):
                await context.bot.send_message(chat, "✅")
            return
        async with sessions() as s:
            await s.execute(
                insert(inbox).values(update_id=update.update_id, payload=update.to_dict())
            )
            await s.scalar(
                sa_select(Member.id).where(Member.tg_user_id == update.effective_user.id)
            )
            ids = list(
                (
                    await s.execute(
                        insert(outbox).returning(outbox.c.id),
                        [{"chat_id": chat, "text": "✅"} for _ in range(n)],
                    )
                ).scalars()
            )
            await s.commit()
        for _ in range(n):
            await context.bot.send_message(chat, "✅")
        async with sessions() as s:
            await s.execute(sa_update(outbox).where(outbox.c.id.in_(ids)).values(sent_at=now))
            await s.execute(
                sa_update(inbox).where(inbox.c.update_id == update.update_id).values(done_at=now)
            )
            await s.commit()

    async def post_init(_app: Any) -> None:
        if engine is not None:
            async with engine.begin() as conn:
                await conn.run_sync(meta.create_all)

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(base_url)
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(1))
        .post_init(post_init)
        .build()
    )
    app.add_handler(TypeHandler(Update, handle))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


def child(args: argparse.Namespace) -> int:
    meter = Meter(args.expect, args.child_profile)
    instrument(meter)
    if args.child == "echo":
        run_echo(args.base_url)
    elif args.child in ("floor", "sends"):
        run_floor(args.base_url, args.store_url, args.calls)
    else:
        from bot.cli import main as wallchart

        code = wallchart(["run", "--config", args.config])
        if code:
            return code
    return 0 if meter.result is not None else 3


# --- the stream -------------------------------------------------------------------------


PROGRESS_TEXTS = [
    "完成土地预审，等待规划意见",
    "设备进场，本周开始安装",
    "主体结构完成第三层",
    "环评公示结束，无异议",
    "与企业召开推进会，确定下月开工",
]
REPLY_TEXTS = ["已协调相关科室，本周内答复", "已安排专人对接，请企业补充材料"]


@dataclass(frozen=True)
class Person:
    tg: int
    unit_id: int


@dataclass(frozen=True)
class Mix:
    """Who sends what, drawn once from the city; the updates are made fresh for each run."""

    # officer, project code, progress text, problem text, department, its head, answer
    cycles: list[tuple[Person, str, str, str, int, Person, str]]
    first_problem: int
    updates: int

    def updates_for_run(self) -> list[dict[str, Any]]:
        from tests.fakebot import message, press

        out: list[dict[str, Any]] = []
        for i, (officer, code, progress, problem, dept, head, answer) in enumerate(self.cycles):
            out += [
                message(officer.tg, f"/progress {code} {progress}"),
                message(officer.tg, f"/problem {code} {problem}"),
                press(officer.tg, f"f:unit:{dept}"),
                message(head.tg, f"/reply {self.first_problem + i} {answer}"),
                message(officer.tg, "/today"),
                message(officer.tg, f"/project {code}"),
            ]
        return out[: self.updates]

    def expected(self) -> dict[str, int]:
        """Rows the stream must leave behind (a cut cycle counts only what it holds)."""
        per = {"progress": 0, "problems": 0, "replies": 0}
        for n in range(self.updates):
            kind = n % 6
            if kind == 0:
                per["progress"] += 1
            elif kind == 2:
                per["problems"] += 1
            elif kind == 3:
                per["replies"] += 1
        return per


def draw_mix(city: Any, updates: int, seed: int = 7) -> Mix:
    from bench_tick import PROBLEM_TEXTS

    from storage.models import Role, Stage, UnitKind

    rng = random.Random(seed)
    active_stages = {Stage.NEGOTIATING, Stage.SIGNED, Stage.STARTED}
    by_unit: dict[int, list[str]] = {}
    for p in city.projects:
        if p["stage"] in active_stages:
            by_unit.setdefault(p["unit_id"], []).append(p["code"])
    present = [m for m in city.members if m["active"] and m["reachable"]]
    officers = [
        Person(m["tg_user_id"], m["unit_id"])
        for m in present
        if m["role"] is Role.OFFICER and m["unit_id"] in by_unit
    ]
    departments = [u["id"] for u in city.units if u["kind"] is UnitKind.DEPARTMENT]
    heads: dict[int, list[Person]] = {}
    for m in present:
        if m["role"] is Role.HEAD and m["unit_id"] in departments:
            heads.setdefault(m["unit_id"], []).append(Person(m["tg_user_id"], m["unit_id"]))
    answering = sorted(heads)
    rng.shuffle(officers)
    cycles = []
    for i in range((updates + 5) // 6):
        officer = officers[i % len(officers)]
        dept = rng.choice(answering)
        cycles.append(
            (
                officer,
                rng.choice(by_unit[officer.unit_id]),
                rng.choice(PROGRESS_TEXTS),
                rng.choice(PROBLEM_TEXTS),
                dept,
                rng.choice(heads[dept]),
                rng.choice(REPLY_TEXTS),
            )
        )
    return Mix(cycles, len(city.problems) + 1, updates)


# --- stores -----------------------------------------------------------------------------


def pg_server() -> tuple[str, str]:
    """The PostgreSQL server and the database name the bench's databases start with."""
    from sqlalchemy.engine import make_url

    url = make_url(os.environ.get("WALLCHART_TEST_PG", DEFAULT_PG))
    base = url.database or "bench_tp"
    return url.set(database="").render_as_string(hide_password=False).rstrip("/"), base


async def _admin(statements: list[str]) -> None:
    from sqlalchemy import text

    from storage.db import make_engine

    server, _ = pg_server()
    admin = make_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            for sql in statements:
                await conn.execute(text(sql))
    finally:
        await admin.dispose()


@dataclass
class Store:
    db: str
    template: str
    tmp: Path

    @property
    def run_name(self) -> str:
        return f"{pg_server()[1]}_run"


async def build_store(db: str, city: Any, tmp: Path) -> Store:
    """A migrated store holding CITY (bench_tick's generator), copied for every run."""
    import bench_tick
    from sqlalchemy import text

    from storage.db import make_engine
    from storage.migrate import upgrade_async

    server, base = pg_server()
    if db == "sqlite":
        path = tmp / "city.sqlite3"
        url, template = f"sqlite:///{path}", str(path)
    else:
        template = f"{base}_tpl"
        await _admin(
            [
                f"DROP DATABASE IF EXISTS {base}_run WITH (FORCE)",
                f"DROP DATABASE IF EXISTS {template} WITH (FORCE)",
                f"CREATE DATABASE {template}",
            ]
        )
        url = f"{server}/{template}"
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            # Public in later versions of bench_tick.py, private in the first.
            fill = getattr(bench_tick, "fill", None) or bench_tick._fill
            await fill(conn, city)
            if db == "postgresql":
                for table in ("units", "members", "projects", "milestones", "problems"):
                    await conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
        if db == "postgresql":
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
    return Store(db, template, tmp)


def _copy_file(store: Store) -> Path:
    run = store.tmp / "run.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{run}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(store.template, run)
    return run


async def fresh_copy(store: Store) -> str:
    if store.db == "sqlite":
        return f"sqlite:///{_copy_file(store)}"
    await _admin(
        [
            f"DROP DATABASE IF EXISTS {store.run_name} WITH (FORCE)",
            f"CREATE DATABASE {store.run_name} TEMPLATE {store.template}",
        ]
    )
    return f"{pg_server()[0]}/{store.run_name}"


async def drop_store(store: Store) -> None:
    if store.db == "postgresql":
        await _admin(
            [
                f"DROP DATABASE IF EXISTS {store.run_name} WITH (FORCE)",
                f"DROP DATABASE IF EXISTS {store.template} WITH (FORCE)",
            ]
        )


async def check_store(url: str, mix: Mix, first_problem: int) -> dict[str, int]:
    """What the run left in the store, to hold against what the stream asked for."""
    from sqlalchemy import func, select

    from storage.db import make_engine, make_sessionmaker
    from storage.models import Outbox, OutboxStatus, Problem, ProblemReply, ProgressReport

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:

            async def count(stmt: Any) -> int:
                return int(await s.scalar(stmt) or 0)

            return {
                "progress": await count(select(func.count()).select_from(ProgressReport)),
                "problems": await count(select(func.count()).where(Problem.id >= first_problem)),
                "replies": await count(select(func.count()).select_from(ProblemReply)),
                "outbox_pending": await count(
                    select(func.count()).where(Outbox.status == OutboxStatus.PENDING)
                ),
                "outbox_sent": await count(
                    select(func.count()).where(Outbox.status == OutboxStatus.SENT)
                ),
            }
    finally:
        await engine.dispose()


# --- one run ----------------------------------------------------------------------------


ROUTING = {
    "land": "部门000局",
    "permits": "部门001局",
    "utilities": "部门002局",
    "finance": "部门003局",
    "other": "招商服务中心",
}


def write_config(path: Path, base_url: str, url: str) -> None:
    routing = "\n".join(f'{k} = "{v}"' for k, v in ROUTING.items())
    path.write_text(
        f"""[telegram]
token = "{TOKEN}"
base_url = "{base_url}"
rate_limit = false

[store]
url = "{url}"

[scheduler]
enabled = false

[meeting]
enabled = false

# One lane: the stream is queued before the bot starts, so a head's /reply may stand in
# it before the officer's problem it answers (in a real chat the head answers only once
# told). Side by side, it could come first and be refused.
[serve]
lanes = 1

[routing]
{routing}
""",
        encoding="utf-8",
    )


@dataclass
class Run:
    bot: str
    db: str
    updates: int
    wall: float
    cpu: float
    statements: int
    begins: int
    commits: int
    maxrss_kb: int
    rss_kb: int
    calls: dict[str, int]
    failed: int
    store: dict[str, int]

    @property
    def rate(self) -> float:
        return self.updates / self.wall

    def per(self, n: int) -> float:
        return n / self.updates


def run_bot(
    bot: str,
    db: str,
    mix: Mix,
    url: str | None,
    tmp: Path,
    profile: Path | None,
    calls: float = 0.0,
) -> Run:
    from tests.botapi_server import BotAPIServer
    from tests.fakebot import FakeBotAPI

    updates = mix.updates_for_run()
    with BotAPIServer(FakeBotAPI(), TOKEN) as server:
        # The bot stops in the middle of a long poll: that poll's broken pipe is no news.
        server._httpd.handle_error = lambda *_args: None  # type: ignore[method-assign]
        with server.lock:
            for u in updates:
                server.api.push(u)
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            bot,
            "--expect",
            str(len(updates)),
            "--base-url",
            server.base_url,
        ]
        if bot == "wallchart":
            assert url is not None
            config = tmp / "bench.toml"
            write_config(config, server.base_url, url)
            config.chmod(0o600)  # it holds a token: the bot warns otherwise
            cmd += ["--config", str(config)]
        if bot in ("floor", "sends"):
            cmd += ["--calls", str(calls)] + (["--store-url", url] if bot == "floor" else [])
        if profile is not None:
            cmd += ["--child-profile", str(profile / f"{bot}-{db}.pstats")]
        env = {k: v for k, v in os.environ.items() if k not in ("WALLCHART_TOKEN",)}
        out_path, err_path = tmp / f"{bot}-{db}.out", tmp / f"{bot}-{db}.err"
        with out_path.open("w") as out, err_path.open("w") as err:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
            try:
                proc.wait(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        output = out_path.read_text()
        errors = err_path.read_text()
        found = [line for line in output.splitlines() if line.startswith(RESULT)]
        if not found:
            raise SystemExit(
                f"{bot} on {db}: no result (exit {proc.returncode});\n"
                f"stdout: {output[-2000:]}\nstderr: {errors[-4000:]}"
            )
        result = json.loads(found[-1][len(RESULT) :])
        calls = server.read(lambda api: _tally(api.calls))
        stand_in_errors = list(server.errors)
    if stand_in_errors:
        raise SystemExit(f"{bot} on {db}: the stand-in refused calls: {stand_in_errors[:5]}")
    failed = errors.count("update failed")
    store = asyncio.run(check_store(url, mix, mix.first_problem)) if bot == "wallchart" else {}
    return Run(bot, db, calls=calls, failed=failed, store=store, **result)


def bot_calls_count(run: Run) -> int:
    """The run's Bot API calls other than the long polls: its messages and answers."""
    return sum(n for method, n in run.calls.items() if method not in ("getUpdates", "getMe"))


def bot_calls(run: Run) -> float:
    """Bot API calls per update, for the floor to make as many."""
    return bot_calls_count(run) / run.updates


def _tally(calls: list[tuple[str, dict[str, Any]]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for method, _ in calls:
        found[method] = found.get(method, 0) + 1
    return found


def verify(run: Run, mix: Mix) -> list[str]:
    """What is wrong with a Wallchart run: failures, or rows missing from the store."""
    problems = []
    if run.failed:
        problems.append(f"{run.failed} updates failed (see the bot's log)")
    for key, want in mix.expected().items():
        got = run.store.get(key, 0)
        if got < want:
            problems.append(f"{key}: {got} in the store, {want} in the stream")
    return problems


def print_profile(path: Path, lines: int) -> None:
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(str(path), stream=out).sort_stats(order).print_stats(lines)
        print(out.getvalue())


# --- main -------------------------------------------------------------------------------


def main_parent(args: argparse.Namespace) -> int:
    from bench_tick import synthesise

    from bot.config import Config
    from storage.workdays import WorkCalendar

    tmp = Path(tempfile.mkdtemp(prefix="bench-tp-"))
    profile = Path(args.profile).resolve() if args.profile else None
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
    runs: list[tuple[Run, Run, Run, Run]] = []
    trouble: list[str] = []
    try:
        started = time.perf_counter()
        city = synthesise(1, Config(), WorkCalendar())
        mix = draw_mix(city, args.updates)
        print(
            f"city: {len(city.units)} units, {len(city.members):,} members, "
            f"{len(city.projects):,} projects, {len(city.milestones):,} milestones, "
            f"{len(city.problems):,} problems, synthesised in "
            f"{time.perf_counter() - started:.1f} s; stream: {args.updates:,} updates",
            flush=True,
        )
        for db in args.db:
            started = time.perf_counter()
            store = asyncio.run(build_store(db, city, tmp))
            print(f"{db}: filled in {time.perf_counter() - started:.1f} s", flush=True)
            try:
                for i in range(args.runs):
                    echo = run_bot("echo", db, mix, None, tmp, profile)
                    print(_line(echo), flush=True)
                    url = asyncio.run(fresh_copy(store))
                    wall = run_bot("wallchart", db, mix, url, tmp, profile)
                    print(_line(wall) + f"; store {wall.store}", flush=True)
                    trouble += [f"{db} run {i + 1}: {p}" for p in verify(wall, mix)]
                    url = asyncio.run(fresh_copy(store))
                    floor = run_bot("floor", db, mix, url, tmp, None, bot_calls(wall))
                    print(_line(floor), flush=True)
                    sends = run_bot("sends", db, mix, None, tmp, None, bot_calls(wall))
                    print(_line(sends), flush=True)
                    runs.append((echo, wall, floor, sends))
                    if profile is not None and i == 0:
                        print_profile(profile / f"wallchart-{db}.pstats", args.profile_lines)
            finally:
                asyncio.run(drop_store(store))
    finally:
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(
        "| store | bot | updates/s | CPU ms/update | Bot API calls/update "
        "| SQL statements/update | transactions/update | ratio to echo | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    ok = True
    floors: list[str] = []
    for db in args.db:
        mine = [t for t in runs if t[1].db == db]
        # The best of the runs for each bot: a busy machine only ever slows a run down.
        echo, wall, floor, sends = (
            max((t[k] for t in mine), key=lambda r: r.rate) for k in range(4)
        )
        ratio = wall.rate / echo.rate
        for run, name in (
            (echo, "echo (bare PTB)"),
            (sends, "sends only"),
            (floor, "floor"),
            (wall, "Wallchart"),
        ):
            print(
                f"| {db} | {name} | {run.rate:.0f} | {1000 * run.cpu / run.updates:.1f} "
                f"| {run.per(bot_calls_count(run)):.1f} "
                f"| {run.per(run.statements):.1f} | {run.per(run.begins):.2f} "
                f"| {run.rate / echo.rate:.2f} | {run.maxrss_kb / 1024:.0f} MB |"
            )
        floors.append(f"{db}: Wallchart {wall.rate / floor.rate:.2f} of the floor's rate")
        ok = ok and ratio >= TARGET_RATIO and wall.maxrss_kb / 1024 < TARGET_RSS_MB
    print()
    print(" ".join(["command: .venv/bin/python bench/bench_throughput.py", *sys.argv[1:]]))
    print(
        f"target (Wallchart at least {TARGET_RATIO} of the echo bot's rate, peak RSS under "
        f"{TARGET_RSS_MB} MB):",
        "met" if ok else "NOT met",
    )
    print("; ".join(floors))
    for line in trouble:
        print("WRONG:", line)
    return 0 if ok and not trouble else 1


def _line(run: Run) -> str:
    sent = run.calls.get("sendMessage", 0)
    return (
        f"  {run.db} {run.bot}: {run.updates:,} updates in {run.wall:.2f} s = "
        f"{run.rate:.0f}/s, CPU {1000 * run.cpu / run.updates:.1f} ms/update, "
        f"{run.per(run.statements):.1f} statements, {run.per(run.begins):.2f} transactions, "
        f"{run.per(run.commits):.2f} commits per update, peak RSS "
        f"{run.maxrss_kb / 1024:.0f} MB; {sent:,} messages sent"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1, help="runs of each bot per store")
    parser.add_argument("--profile", metavar="DIR", help="cProfile each bot's timed span")
    parser.add_argument("--profile-lines", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the stores and the bots' logs")
    # The bot's own process (started by the parent).
    parser.add_argument(
        "--child", choices=("echo", "wallchart", "floor", "sends"), help=argparse.SUPPRESS
    )
    parser.add_argument("--store-url", help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", help=argparse.SUPPRESS)
    args = parser.parse_args()
    raise SystemExit(child(args) if args.child else main_parent(args))


if __name__ == "__main__":
    main()
