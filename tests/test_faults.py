"""Never lose, never double: the real bot process, a fault injected, what was stored and sent.

Each test starts `wallchart run` (tests/procs.py) against the loopback Bot API stand-in
(tests/botapi_server.py), breaks something on purpose (SIGKILL mid-handling or
mid-delivery, an update delivered twice, a send that fails after the commit, the
database's connections cut, a button press older than Telegram's limit, a second process
on the same store, a webhook), and counts: lost 0, doubled 0. Where a message is in doubt
(Telegram took it, the process died before it recorded that) one more copy is allowed per
kill, and no more.

PostgreSQL variants take databases of their own from the suite's server (tests/stores.py);
where PostgreSQL is not reachable they are skipped with a note, as in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.pool import NullPool

from bot.config import Config, TelegramConfig
from bot.delivery import CONCURRENCY
from bot.serve import LANES, SECRET_HEADER, secret_token
from bot.texts import t
from storage import outbox
from storage.db import make_engine, make_sessionmaker, set_actor
from storage.models import Member, Problem, ProblemCategory, ProblemStatus, Role, utcnow
from tests.botapi_server import DROP, BotAPIServer
from tests.fakebot import FakeBotAPI, document, message, photo, press, user
from tests.harness import LAND_OFFICER, OFFICER, OTHER_OFFICER, seed
from tests.procs import (
    START,
    TEST_APPLICATION,
    BotProcess,
    Store,
    free_port,
    health,
    post,
    probe_engine,
    wait_until,
    write_config,
)
from tests.stores import PgStores, on_postgresql

# Digits, a colon and a secret, as Telegram's; distinctive, so that finding it in a log
# means the log leaked it.
TOKEN = "424242:AAFaultsSecret-Do_Not_Log-7x9Qz"
SECRET_PART = TOKEN.split(":", 1)[1]
# Ten officers of 城东街道, whose project XNY01 is: OFFICER and nine more.
OFFICERS = (OFFICER, *range(1101, 1110))
# Chats that only get prompts from the outbox (no member behind them).
PROMPT_CHATS = 500_000
# Both backends where a test runs on each (only PostgreSQL in the run that puts every
# store there), and the run's own backend for the others.
BACKENDS = ["postgresql"] if on_postgresql() else ["sqlite", "postgresql"]
RUN_BACKEND = "postgresql" if on_postgresql() else "sqlite"
# The fault tests' databases on the suite's server, after those tests/stores.py numbers
# for the other tests from 0.
_pg_numbers = itertools.count(100)

OK_PROGRESS = "✅"
INTERNAL = t("zh", "err.internal")


# --- stores -------------------------------------------------------------------------------


async def _seed(url: str) -> None:
    """The sample city (tests.harness.seed), nine more officers of 城东街道 and three open
    problems routed to the land bureau (for its Acknowledge button)."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        sessions = make_sessionmaker(engine)
        ids = await seed(sessions)
        async with sessions() as s:
            set_actor(s, None)
            for tg in OFFICERS[1:]:
                s.add(
                    Member(
                        tg_user_id=tg,
                        name=f"专员{tg}",
                        unit_id=ids["east"],
                        role=Role.OFFICER,
                        lang="zh",
                    )
                )
            raiser = await s.scalar(select(Member).where(Member.tg_user_id == OFFICER))
            assert raiser is not None
            for n in range(1, 4):
                s.add(
                    Problem(
                        project_id=ids["p1"],
                        raiser_id=raiser.id,
                        text=f"用地指标问题{n}",
                        category=ProblemCategory.LAND,
                        unit_id=ids["land"],
                        status=ProblemStatus.OPEN,
                    )
                )
            await s.commit()
    finally:
        await engine.dispose()


async def _enqueue_prompts(url: str, count: int, first_chat: int) -> None:
    """COUNT bulk messages, one each to chats FIRST_CHAT…, pending in the outbox."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = [
                outbox.Message(f"prompt:{first_chat + i}", first_chat + i, "prompt", f"提醒 {i}")
                for i in range(count)
            ]
            assert await outbox.enqueue(s, rows, utcnow()) == count
            await s.commit()
    finally:
        await engine.dispose()


MakeStore = Callable[[str], str]


@pytest.fixture
def make_store(tmp_path: Path, request: pytest.FixtureRequest) -> MakeStore:
    """`make_store(backend)`: the URL of a new migrated store with the sample city."""
    numbers = itertools.count()

    def make(backend: str) -> str:
        if backend == "sqlite":
            template: Path = request.getfixturevalue("template_db")
            path = tmp_path / f"store{next(numbers)}.sqlite3"
            shutil.copy(template, path)
            url = f"sqlite:///{path}"
        else:
            stores: PgStores = request.getfixturevalue("pg_stores")
            url = asyncio.run(stores.take(next(_pg_numbers)))
        asyncio.run(_seed(url))
        return url

    return make


# --- the bot process ----------------------------------------------------------------------


def bot_config(
    folder: Path, name: str, url: str, base_url: str, **sections: dict[str, Any]
) -> Path:
    """The config of one bot process: the stand-in's address, the store, no daily tick
    (the tests queue what they need), a standby that tries every second."""
    scheduler = {"enabled": False, **sections.pop("scheduler", {})}
    serve = {"standby_interval": 1.0, **sections.pop("serve", {})}
    return write_config(
        folder / f"{name}.toml",
        telegram={"token": TOKEN, "base_url": base_url, "rate_limit": False},
        store={"url": url},
        scheduler=scheduler,
        serve=serve,
        **sections,
    )


@pytest.fixture
def procs() -> Iterator[list[BotProcess]]:
    """The test's bot processes: killed if still running at the end, and their logs
    checked for the token whatever the test found."""
    started: list[BotProcess] = []
    yield started
    for p in started:
        p.close()
    for p in started:
        assert TOKEN not in p.log and SECRET_PART not in p.log, f"token in {p.log_path}"


def _texts(api: FakeBotAPI, chats: Any = None) -> list[tuple[int, str]]:
    """(chat, text) of every message the bot sent, to CHATS if given."""
    return [
        (int(p["chat_id"]), str(p["text"]))
        for m, p in api.calls
        if m == "sendMessage" and (chats is None or int(p["chat_id"]) in chats)
    ]


def oks(api: FakeBotAPI, chats: Any = OFFICERS) -> int:
    """How many ✅ the bot sent to CHATS."""
    return sum(1 for _c, text in _texts(api, chats) if text.startswith(OK_PROGRESS))


def oks_by_chat(server: BotAPIServer, chats: Any = OFFICERS) -> Counter[int]:
    return server.read(
        lambda api: Counter(c for c, text in _texts(api, chats) if text.startswith(OK_PROGRESS))
    )


def answered(server: BotAPIServer, chats: Any = OFFICERS) -> Counter[int]:
    """How many ✅ and "nothing was saved" each of CHATS got."""
    return server.read(
        lambda api: Counter(
            c for c, x in _texts(api, chats) if x.startswith(OK_PROGRESS) or x == INTERNAL
        )
    )


def internal_errors(server: BotAPIServer) -> list[tuple[int, str]]:
    """Every "nothing was saved" the bot said, to anyone."""
    return server.read(lambda api: [(c, x) for c, x in _texts(api) if x == INTERNAL])


def prompts_sent(api: FakeBotAPI, count: int, first_chat: int = PROMPT_CHATS) -> Counter[int]:
    chats = range(first_chat, first_chat + count)
    return Counter(c for c, _text in _texts(api, chats))


def report_texts(store: Store) -> Counter[str]:
    return Counter(str(r[0]) for r in store.rows("SELECT text FROM progress_reports"))


def pending_outbox(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM outbox WHERE status = 'pending'"))


def pending_inbox(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM inbox WHERE done_at IS NULL"))


def measured(name: str, **counts: Any) -> None:
    """What a test counted, on one line (shown with `pytest -s`)."""
    print(f"\nMEASURED {name}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


# --- 1. killed while handling -------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_killed_three_times_while_handling_loses_and_doubles_nothing(
    backend: str, make_store: MakeStore, procs: list[BotProcess], tmp_path: Path
) -> None:
    """Ten officers send 50 reports at once; the bot is SIGKILLed after 5, 20 and 35
    confirmations and started again each time. Every report is stored once, every
    officer gets a ✅ for each, at most one more per kill (the one in doubt)."""
    url = make_store(backend)
    store = Store(url)
    texts = [f"进展-{i}" for i in range(50)]
    with BotAPIServer(FakeBotAPI(), token=TOKEN) as server:
        bot = BotProcess(bot_config(tmp_path, "bot", url, server.base_url), tmp_path / "bot.log")
        procs.append(bot)
        server.push_all(
            [message(OFFICERS[i % 10], f"/progress XNY01 {text}") for i, text in enumerate(texts)]
        )
        bot.start()
        at_kill = []
        for after in (5, 20, 35):

            def reached_after(api: FakeBotAPI, n: int = after) -> bool:
                return oks(api) >= n

            reached = server.watch(reached_after)
            wait_until(reached.is_set, f"{after} confirmations", procs=[bot])
            bot.kill()
            at_kill.append((server.read(oks), len(report_texts(store))))
            bot.start()
        wait_until(
            lambda: (
                min(oks_by_chat(server)[c] for c in OFFICERS) >= 5
                and set(report_texts(store)) == set(texts)
                and not pending_outbox(store)
                and not pending_inbox(store)
            ),
            "every report stored and confirmed",
            procs=[bot],
        )
        assert bot.stop() == 0, bot.tail()
        stored = report_texts(store)
        per_chat = oks_by_chat(server)
        conflicts = list(server.conflicts)
        errors = internal_errors(server)
    lost = len(set(texts) - set(stored))
    doubled = sum(n - 1 for n in stored.values())
    extra = sum(per_chat.values()) - len(texts)
    measured(
        f"killed while handling ({backend})",
        at_kill=at_kill,
        stored=sum(stored.values()),
        lost=lost,
        doubled=doubled,
        confirmations=sum(per_chat.values()),
        extra_confirmations=extra,
    )
    assert lost == 0 and doubled == 0, stored
    # One message in doubt per chat and kill at most (two kills may both land on one
    # officer's), and per kill at most one per lane (PostgreSQL handles several members
    # side by side).
    lanes = LANES if backend == "postgresql" else 1
    assert all(5 <= per_chat[c] <= 5 + len(at_kill) for c in OFFICERS), per_chat
    assert 0 <= extra <= len(at_kill) * lanes, per_chat
    assert errors == []
    assert conflicts == []
    assert server.errors == []


# --- 3. killed mid-delivery ---------------------------------------------------------------


def test_killed_mid_delivery_sends_every_prompt_and_doubles_at_most_those_in_flight(
    make_store: MakeStore, procs: list[BotProcess], tmp_path: Path
) -> None:
    """200 prompts in the outbox, a slow Telegram, SIGKILL mid-drain: the next process
    gives back the dead one's claims and resumes at once; every chat gets its prompt,
    again only where the first was in flight (at most CONCURRENCY of them). On
    PostgreSQL the same happens with a standby taking over (the two-process test)."""
    backend = RUN_BACKEND
    url = make_store(backend)
    store = Store(url)
    count = 200
    asyncio.run(_enqueue_prompts(url, count, PROMPT_CHATS))
    with BotAPIServer(FakeBotAPI(), token=TOKEN) as server:
        first = BotProcess(
            bot_config(tmp_path, "first", url, server.client_url("first")), tmp_path / "first.log"
        )
        second = BotProcess(
            bot_config(tmp_path, "second", url, server.client_url("second")),
            tmp_path / "second.log",
        )
        procs.extend([first, second])
        server.slow("sendMessage", 0.1)
        reached = server.watch(lambda api: sum(prompts_sent(api, count).values()) >= 60)
        first.start()
        wait_until(reached.is_set, "60 prompts sent", procs=[first])
        first.kill()
        killed_at = server.read(lambda api: sum(prompts_sent(api, count).values()))
        server.slow("sendMessage", 0.0)
        second.start()
        wait_until(
            lambda: (
                len(server.read(lambda api: prompts_sent(api, count))) == count
                and not pending_outbox(store)
            ),
            "every prompt sent",
            procs=[second],
        )
        assert second.stop() == 0, second.tail()
        sent = server.read(lambda api: prompts_sent(api, count))
        resumed = min(
            at for tag, m, at in server.by_client if tag == "second" and m == "sendMessage"
        )
    resumed_after = resumed - second.starts[0]
    doubled = sum(n - 1 for n in sent.values())
    measured(
        f"killed mid-delivery ({backend})",
        sent_at_kill=killed_at,
        delivered=len(sent),
        lost=count - len(sent),
        doubled=doubled,
        resumed_after_s=round(resumed_after, 2),
    )
    assert len(sent) == count
    assert max(sent.values()) <= 2
    assert doubled <= CONCURRENCY
    assert resumed_after < 30
    assert server.conflicts == []


# --- 8. two processes, one store ----------------------------------------------------------


def start_pair(
    server: BotAPIServer, url: str, tmp_path: Path, procs: list[BotProcess]
) -> tuple[BotProcess, BotProcess, dict[str, int]]:
    """Bot processes a and b on the store at URL, each with a /health port of its own
    (returned by tag): a started and active, then b started."""
    ports = {"a": free_port(), "b": free_port()}
    a, b = (
        BotProcess(
            bot_config(tmp_path, tag, url, server.client_url(tag), serve={"port": ports[tag]}),
            tmp_path / f"{tag}.log",
        )
        for tag in ("a", "b")
    )
    procs.extend([a, b])
    a.start()
    wait_until(lambda: health(ports["a"])[0] == 200, "a active", procs=[a])
    b.start()
    return a, b, ports


def test_two_processes_one_polls_and_the_standby_takes_over_mid_flow_and_mid_tick(
    make_store: MakeStore, procs: list[BotProcess], tmp_path: Path
) -> None:
    """Two processes on one PostgreSQL store: only the active one fetches updates (no
    409 from the stand-in); killed while an officer is in a guided flow and 300 prompts
    are going out, the standby takes over within 30 s, finishes the flow and the prompts."""
    url = make_store("postgresql")
    store = Store(url)
    count = 300
    with BotAPIServer(FakeBotAPI(), token=TOKEN) as server:
        a, b, ports = start_pair(server, url, tmp_path, procs)
        wait_until(lambda: health(ports["b"])[0], "b's /health", procs=[b])
        code, body = health(ports["b"])
        assert code == 503 and body["role"] == "standby", body
        assert body["active"]["process"].endswith(f":{a.pid}"), body
        code, body = health(ports["a"])
        assert code == 200 and body["role"] == "active" and body["process"].endswith(f":{a.pid}")

        # mid-flow: the question is asked by a
        server.push(message(OFFICER, "/progress"))
        asked = t("zh", "ask.project")
        wait_until(
            lambda: server.read(lambda api: asked in api.texts(OFFICER)), "the question", procs=[a]
        )
        # mid-tick: hundreds of prompts going out slowly when a dies
        server.slow("sendMessage", 0.05)
        reached = server.watch(lambda api: sum(prompts_sent(api, count).values()) >= 80)
        asyncio.run(_enqueue_prompts(url, count, PROMPT_CHATS))
        wait_until(reached.is_set, "80 prompts sent", procs=[a, b])
        a.kill()
        killed = time.monotonic()
        server.slow("sendMessage", 0.0)
        wait_until(lambda: health(ports["b"])[0] == 200, "b active", 30, procs=[b])
        took_over = time.monotonic() - killed

        # the flow goes on with b
        seen = server.read(lambda api: len(api.texts(OFFICER)))
        server.push(message(OFFICER, "XNY01"))
        wait_until(
            lambda: server.read(lambda api: len(api.texts(OFFICER)) > seen),
            "the flow's next question",
            procs=[b],
        )
        question = server.read(lambda api: api.texts(OFFICER)[-1])
        server.push(message(OFFICER, "接管后完成的进展"))
        wait_until(
            lambda: oks_by_chat(server)[OFFICER] >= 1 and report_texts(store),
            "the report",
            procs=[b],
        )
        wait_until(
            lambda: (
                len(server.read(lambda api: prompts_sent(api, count))) == count
                and not pending_outbox(store)
            ),
            "every prompt sent",
            procs=[b],
        )
        code, body = health(ports["b"])
        assert code == 200 and body["role"] == "active" and body["process"].endswith(f":{b.pid}")
        assert body["active"]["process"] == body["process"]
        assert b.stop() == 0, b.tail()
        sent = server.read(lambda api: prompts_sent(api, count))
        polls = [(tag, at) for tag, m, at in server.by_client if m == "getUpdates"]
        # Apart from getMe: a standby checks its token before it stands by, and that
        # asks Telegram nothing it acts on.
        b_calls = [at for tag, m, at in server.by_client if tag == "b" and m != "getMe"]
        confirmations = oks_by_chat(server)[OFFICER]
        conflicts = list(server.conflicts)
    doubled = sum(n - 1 for n in sent.values())
    measured(
        "two processes",
        took_over_s=round(took_over, 2),
        delivered=len(sent),
        lost=count - len(sent),
        doubled=doubled,
        conflicts=len(conflicts),
        polls_a=sum(tag == "a" for tag, _ in polls),
        polls_b=sum(tag == "b" for tag, _ in polls),
    )
    assert question.endswith(t("zh", "ask.text.progress")), question
    assert report_texts(store) == Counter({"接管后完成的进展": 1})
    assert confirmations == 1
    assert took_over < 30
    # b did nothing with Telegram while it stood by, and only a ever polled before that
    assert min(b_calls) > killed
    assert all(at < killed for tag, at in polls if tag == "a")
    assert conflicts == []
    assert len(sent) == count and max(sent.values()) <= 2 and doubled <= CONCURRENCY


# --- 5. PostgreSQL connections cut --------------------------------------------------------


# How often the bot's connections are cut, and how many times: each cut is one outage
# (a failover, an administrator's restart of the backends), far enough apart that the
# store is back for the retry.
CUT_EVERY = 1.0
CUTS = 4


def _cut_connections(url: str, stop: threading.Event, cuts: list[int]) -> None:
    """Terminate the bot's database connections every CUT_EVERY seconds, CUTS times or
    until STOP, except the lease's (the one holding the advisory lock: losing it ends
    the process by design, exit 75); how many each time goes to CUTS."""

    async def run() -> None:
        engine = probe_engine(url, isolation_level="AUTOCOMMIT")
        try:
            while not stop.is_set() and len(cuts) < CUTS:
                async with engine.connect() as conn:
                    killed = await conn.scalar(TERMINATE, {"test": TEST_APPLICATION})
                cuts.append(int(killed or 0))
                await asyncio.sleep(CUT_EVERY)
        finally:
            await engine.dispose()

    asyncio.run(run())


TERMINATE = sql(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name <> :test "
    "AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')"
)


def test_postgresql_connections_cut_during_a_burst_lose_and_double_nothing(
    make_store: MakeStore, procs: list[BotProcess], tmp_path: Path
) -> None:
    """50 reports and 200 prompts while the bot's connections are terminated again and
    again: every report stored once and confirmed once, every prompt sent once, and
    nothing goes out again after a restart (a failed "sent" mark would show there)."""
    url = make_store("postgresql")
    store = Store(url)
    count = 200
    texts = [f"断线中的进展-{i}" for i in range(50)]
    asyncio.run(_enqueue_prompts(url, count, PROMPT_CHATS))
    with BotAPIServer(FakeBotAPI(), token=TOKEN) as server:
        bot = BotProcess(bot_config(tmp_path, "bot", url, server.base_url), tmp_path / "bot.log")
        procs.append(bot)
        # Slow enough that the burst outlasts the cuts (3 s) on any machine: a lane has
        # fifteen replies to send one after the other, the prompts go 16 at a time.
        server.slow("sendMessage", 0.2)
        bot.start()
        wait_until(
            lambda: server.read(lambda api: any(m == "getUpdates" for m, _ in api.calls)),
            "polling",
            procs=[bot],
        )
        server.push_all(
            [message(OFFICERS[i % 10], f"/progress XNY01 {text}") for i, text in enumerate(texts)]
        )
        stop = threading.Event()
        cuts: list[int] = []
        cutter = threading.Thread(target=_cut_connections, args=(url, stop, cuts))
        cutter.start()
        try:
            # Every report answered, with a ✅ or with "nothing was saved" (counted
            # below), and every prompt sent.
            wait_until(
                lambda: (
                    len(server.read(lambda api: prompts_sent(api, count))) == count
                    and min(answered(server)[c] for c in OFFICERS) >= 5
                    and not pending_inbox(store)
                ),
                "every report answered and every prompt sent",
                90,
                procs=[bot],
            )
        finally:
            stop.set()
            cutter.join()
        assert bot.stop() == 0, bot.tail()
        # Later: a new process gives back every claim; what was sent but not recorded as
        # sent would go out again now.
        bot.start()
        wait_until(
            lambda: not pending_outbox(store) and not pending_inbox(store),
            "the outbox empty after the restart",
            procs=[bot],
        )
        wait_until(
            lambda: any(
                tag == "" and m == "getUpdates" and at > bot.starts[-1]
                for tag, m, at in server.by_client
            ),
            "the restarted bot polling",
            procs=[bot],
        )
        assert bot.stop() == 0, bot.tail()
        stored = report_texts(store)
        per_chat = oks_by_chat(server)
        sent = server.read(lambda api: prompts_sent(api, count))
        errors = internal_errors(server)
    met = sum(
        line.count("connection dropped")
        + line.count("fetching updates failed")
        + line.count("could not record")
        for line in bot.log.splitlines()
    )
    measured(
        "PostgreSQL connections cut",
        cuts=cuts,
        failures_met=met,
        stored=sum(stored.values()),
        lost=len(set(texts) - set(stored)),
        doubled=sum(n - 1 for n in stored.values()),
        confirmations=sum(per_chat.values()),
        prompts_delivered=len(sent),
        prompts_doubled=sum(n - 1 for n in sent.values()),
        internal_errors=len(errors),
    )
    # The bot met the cuts (the test would test nothing otherwise).
    assert sum(cuts) > 0 and met, "no cut landed while the bot worked"
    assert set(stored) == set(texts) and max(stored.values()) == 1, stored
    assert errors == []
    assert all(per_chat[c] == 5 for c in OFFICERS), per_chat
    assert len(sent) == count and max(sent.values()) == 1, [c for c, n in sent.items() if n > 1]


# --- 9. webhook ---------------------------------------------------------------------------


def test_webhook_refuses_without_the_secret_and_keeps_what_it_answered_200(
    make_store: MakeStore, procs: list[BotProcess], tmp_path: Path
) -> None:
    """setWebhook carries the secret; a POST without it is refused (403, logged); with it,
    200 only once kept, so one posted twice is stored once and one whose process died
    right after the 200 is handled by the next start."""
    url = make_store(RUN_BACKEND)
    store = Store(url)
    port = free_port()
    hook = f"http://127.0.0.1:{port}/tg"
    secret = secret_token(Config(telegram=TelegramConfig(token=TOKEN)))
    right = {SECRET_HEADER: secret}
    with BotAPIServer(FakeBotAPI(), token=TOKEN) as server:
        bot = BotProcess(
            bot_config(tmp_path, "hook", url, server.base_url, serve={"port": port}),
            tmp_path / "hook.log",
            args=["--webhook", hook],
        )
        procs.append(bot)
        bot.start()
        wait_until(lambda: health(port)[0] == 200, "the webhook bot active", procs=[bot])
        calls = server.read(lambda api: [p for m, p in api.calls if m == "setWebhook"])
        assert len(calls) == 1 and calls[0]["url"] == hook
        assert calls[0]["secret_token"] == secret

        # without the secret, or with a wrong one: 403, logged, nothing kept
        refused = message(OFFICER, "/progress XNY01 无密钥")
        assert post(hook, refused) == 403
        assert post(hook, refused, {SECRET_HEADER: "wrong"}) == 403
        assert post(hook, refused, {SECRET_HEADER: secret[:-1]}) == 403
        # with it: 200, and the same update posted twice is kept once
        kept = message(OFFICER, "/progress XNY01 有密钥")
        assert post(hook, kept, right) == 200
        assert post(hook, kept, right) == 200
        wait_until(lambda: oks_by_chat(server)[OFFICER] >= 1, "the ✅", procs=[bot])

        # killed right after answering 200: the update waits in the inbox. The first is
        # being answered (slowly) when the second arrives, so the second is not handled.
        server.slow("sendMessage", 3.0)
        busy = message(OFFICERS[1], "/progress XNY01 处理中")
        waiting = message(OFFICERS[2], "/progress XNY01 排队中")
        assert post(hook, busy, right) == 200
        assert post(hook, waiting, right) == 200
        bot.kill()
        left = store.scalar(
            "SELECT count(*) FROM inbox WHERE update_id = :u AND done_at IS NULL",
            u=waiting["update_id"],
        )
        server.slow("sendMessage", 0.0)
        bot.start()
        wait_until(
            lambda: (
                oks_by_chat(server)[OFFICERS[2]] >= 1
                and oks_by_chat(server)[OFFICERS[1]] >= 1
                and not pending_outbox(store)
            ),
            "the update kept before the kill, handled",
            procs=[bot],
        )
        code, body = health(port)
        assert bot.stop() == 0, bot.tail()
        stored = report_texts(store)
        per_chat = oks_by_chat(server)
        polls = server.read(lambda api: sum(m == "getUpdates" for m, _ in api.calls))
    log = bot.log
    measured(
        "webhook",
        refused_logged=log.count("without the right secret token refused"),
        stored=dict(stored),
        confirmations=dict(per_chat),
        pending_at_kill=left,
    )
    assert code == 200 and body["role"] == "active", body
    assert log.count("without the right secret token refused") == 3
    assert secret not in log
    assert stored == Counter({"有密钥": 1, "处理中": 1, "排队中": 1})
    assert (
        store.scalar("SELECT count(*) FROM inbox WHERE update_id = :u", u=refused["update_id"]) == 0
    )
    assert left == 1
    assert per_chat[OFFICER] == 1 and per_chat[OFFICERS[2]] == 1
    assert 1 <= per_chat[OFFICERS[1]] <= 2  # sent when killed: in doubt, may come twice
    assert polls == 0
    assert internal_errors(server) == []


# --- one bot for the rest: duplicates, failed replies, old presses, captions, the log -----


@dataclass
class Live:
    """One running bot (with -v, so that every request is logged) over a store of its own."""

    server: BotAPIServer
    bot: BotProcess
    store: Store

    def texts(self, chat_id: int) -> list[str]:
        return self.server.read(lambda api: api.texts(chat_id))

    def said(self, chat_id: int, since: int, what: str, at_least: int = 1) -> list[str]:
        """Wait for AT_LEAST new messages to CHAT_ID after the first SINCE; return them."""
        wait_until(lambda: len(self.texts(chat_id)) >= since + at_least, what, procs=[self.bot])
        return self.texts(chat_id)[since:]

    def settled(self) -> None:
        """Wait until every update is handled and every message sent."""
        wait_until(
            lambda: (
                self.server.pending() == 0
                and not pending_inbox(self.store)
                and not pending_outbox(self.store)
            ),
            "the bot idle",
            procs=[self.bot],
        )


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    if RUN_BACKEND == "sqlite":
        template: Path = request.getfixturevalue("template_db")
        shutil.copy(template, folder / "store.sqlite3")
        url = f"sqlite:///{folder / 'store.sqlite3'}"
    else:
        stores: PgStores = request.getfixturevalue("pg_stores")
        url = asyncio.run(stores.take(next(_pg_numbers)))
    asyncio.run(_seed(url))
    with BotAPIServer(FakeBotAPI(), token=TOKEN) as server:
        bot = BotProcess(
            bot_config(folder, "live", url, server.base_url), folder / "live.log", options=["-v"]
        )
        bot.start()
        try:
            wait_until(
                lambda: server.read(lambda api: any(m == "getUpdates" for m, _ in api.calls)),
                "polling",
                procs=[bot],
            )
            yield Live(server, bot, Store(url))
            assert bot.stop() == 0, bot.tail()
        finally:
            bot.close()
        assert TOKEN not in bot.log and SECRET_PART not in bot.log
        assert server.errors == []
        assert server.conflicts == []


def _new_update_id() -> int:
    """An update id the stand-in has not handed out yet (the fake's own counter)."""
    return int(message(0, "")["update_id"])


def _edited(update: dict[str, Any], text: str) -> dict[str, Any]:
    """The same message, edited to TEXT, as Telegram sends an edit: a new update id."""
    msg = dict(update["message"], text=text, edit_date=int(time.time()))
    return {"update_id": _new_update_id(), "edited_message": msg}


def test_the_same_update_twice_is_handled_once(live: Live) -> None:
    """Redelivered updates, a message under two update ids, presses delivered twice and
    an edited command: nothing stored twice, nothing answered with an error."""
    officer = OFFICERS[1]
    seen = len(live.texts(officer))
    log_seen = len(live.bot.log)
    # 1. the same update twice in one batch (two pollers); then once more after it was
    # confirmed (Telegram lost the confirmation); then the same message under a second
    # update id
    first = message(officer, "/progress XNY01 只记一次")
    live.server.push_all([first, first])
    live.said(officer, seen, "the ✅")
    live.settled()
    live.server.redeliver(first)
    again = dict(first, update_id=_new_update_id())
    live.server.push(again)
    # 2. an edit of that /progress: answered, not applied
    live.server.push(_edited(first, "/progress XNY01 改过的文字"))
    live.said(officer, seen, "the answer to the edit", 2)
    live.settled()

    # 3. a button press delivered twice: under its update id, then under a new one
    presser = OTHER_OFFICER
    pressed_seen = len(live.texts(presser))
    no_change = press(presser, "nc:SW02")
    live.server.push(no_change)
    live.said(presser, pressed_seen, "the no-change answer")
    live.settled()
    live.server.redeliver(no_change)
    live.server.push(dict(no_change, update_id=_new_update_id()))
    live.said(presser, pressed_seen, "the second press answered", 2)
    problem_id = live.store.scalar("SELECT id FROM problems WHERE text = '用地指标问题1'")
    land_seen = len(live.texts(LAND_OFFICER))
    ack = press(LAND_OFFICER, f"ack:{problem_id}")
    live.server.push(ack)
    live.said(LAND_OFFICER, land_seen, "the acknowledgement")
    live.settled()
    live.server.redeliver(ack)
    live.server.push(dict(ack, update_id=_new_update_id()))
    live.said(LAND_OFFICER, land_seen, "the second ack answered", 2)
    live.settled()

    officer_said = live.texts(officer)[seen:]
    presser_said = live.texts(presser)[pressed_seen:]
    land_said = live.texts(LAND_OFFICER)[land_seen:]
    stored = report_texts(live.store)
    no_changes = live.store.scalar("SELECT count(*) FROM progress_reports WHERE kind = 'no_change'")
    status = live.store.scalar("SELECT status FROM problems WHERE id = :i", i=problem_id)
    # The inbox's own count of what it dropped: proof that the duplicates reached the bot.
    dropped = sum(
        int(n) for n in re.findall(r"dropped (\d+) update\(s\) already", live.bot.log[log_seen:])
    )
    measured(
        "same update twice",
        dropped_by_the_inbox=dropped,
        officer_said=len(officer_said),
        stored_once=stored["只记一次"],
        edited_stored=stored["改过的文字"],
        no_change_rows=no_changes,
        press_answers=len(presser_said),
        ack_answers=len(land_said),
    )
    assert len(officer_said) == 2 and officer_said[0].startswith(OK_PROGRESS), officer_said
    assert officer_said[1] == t("zh", "err.edited")
    assert stored["只记一次"] == 1 and "改过的文字" not in stored
    assert no_changes == 1
    assert presser_said == [
        t("zh", "ok.no_change", code="SW02", n=1),
        t("zh", "ok.no_change_already", code="SW02", n=1),
    ]
    assert land_said == [
        t("zh", "ok.ack", id=problem_id),
        t("zh", "ok.ack_already", id=problem_id),
    ]
    assert status == ProblemStatus.ACKNOWLEDGED.value
    # twice in a batch, three redelivered, one message under a second update id
    assert dropped == 5
    assert internal_errors(live.server) == []


# Longer than PTB waits for an answer (HTTPXRequest's read timeout, 5 s).
TIMES_OUT = 6.0


@pytest.mark.parametrize(
    ("failure", "hang", "officer"),
    [
        ((500, "Internal Server Error"), 0.0, OFFICERS[3]),
        ((502, "Bad Gateway"), 0.0, OFFICERS[4]),
        (DROP, 0.0, OFFICERS[5]),
        (DROP, TIMES_OUT, OFFICERS[9]),
    ],
    ids=["500", "502", "dropped", "timed out"],
)
def test_a_reply_that_fails_after_the_commit_comes_through_the_outbox(
    live: Live, failure: Any, hang: float, officer: int
) -> None:
    """The ✅'s first send fails once the report is committed: the report is stored
    once, and the ✅ comes once, through the outbox; never "nothing was saved"."""
    text = f"回复失败-{officer}"
    fault = live.server.fail(
        "sendMessage",
        failure,
        when=lambda p: int(p["chat_id"]) == officer and str(p["text"]).startswith(OK_PROGRESS),
        hang=hang,
    )
    seen = len(live.texts(officer))
    live.server.push(message(officer, f"/progress XNY01 {text}"))
    said = live.said(officer, seen, "the ✅ through the outbox")
    live.settled()
    said = live.texts(officer)[seen:]
    stored = report_texts(live.store)[text]
    row = live.store.rows(
        "SELECT status, attempts FROM outbox WHERE chat_id = :c AND kind = 'reply' "
        "ORDER BY id DESC LIMIT 1",
        c=officer,
    )
    measured(f"reply failed ({failure}, {hang}s)", stored=stored, said=len(said), outbox_row=row)
    assert fault.times == 0, "the fault was not met"
    assert stored == 1
    assert len(said) == 1 and said[0].startswith(OK_PROGRESS)
    assert INTERNAL not in said
    assert row == [("sent", 2)]  # the failed send and the one that got through


def test_a_reply_telegram_answers_late_comes_twice_at_most(live: Live) -> None:
    """Telegram shows the ✅ but answers after the bot stopped waiting (5 s): the send is
    in doubt. The outbox tries it once more, waiting up to 30 s for the answer, and
    records it sent: two copies at most, not one per retry until max_attempts."""
    officer, text = OFFICERS[2], "确认迟到"
    seen = len(live.texts(officer))

    def reply_row() -> list[Any]:
        return live.store.rows(
            "SELECT status, attempts FROM outbox WHERE chat_id = :c AND kind = 'reply' "
            "ORDER BY id DESC LIMIT 1",
            c=officer,
        )

    live.server.slow("sendMessage", 7.0)
    try:
        live.server.push(message(officer, f"/progress XNY01 {text}"))
        wait_until(lambda: reply_row() == [("sent", 2)], "the late ✅ recorded", procs=[live.bot])
    finally:
        live.server.slow("sendMessage", 0.0)
    live.settled()
    said = live.texts(officer)[seen:]
    stored = report_texts(live.store)[text]
    measured("reply answered late", stored=stored, said=len(said), outbox_row=reply_row())
    assert stored == 1
    assert len(said) == 2 and all(s.startswith(OK_PROGRESS) for s in said)
    assert INTERNAL not in said
    assert reply_row() == [("sent", 2)]


TOO_OLD = "Bad Request: query is too old and response timeout expired or query id is invalid"


@pytest.mark.parametrize(
    ("failure", "text"),
    [((400, TOO_OLD), "用地指标问题2"), (DROP, "用地指标问题3")],
    ids=["too old", "dropped"],
)
def test_a_press_whose_answer_fails_is_still_acted_on(live: Live, failure: Any, text: str) -> None:
    """answerCallbackQuery refused (a press older than Telegram's limit) or cut off: the
    problem is acknowledged all the same, and the member told so."""
    problem_id = live.store.scalar("SELECT id FROM problems WHERE text = :t", t=text)
    fault = live.server.fail("answerCallbackQuery", failure)
    seen = len(live.texts(LAND_OFFICER))
    live.server.push(press(LAND_OFFICER, f"ack:{problem_id}"))
    said = live.said(LAND_OFFICER, seen, "the acknowledgement")
    live.settled()
    status = live.store.scalar("SELECT status FROM problems WHERE id = :i", i=problem_id)
    measured(f"old press ({failure})", status=status, said=said)
    assert fault.times == 0, "the fault was not met"
    assert said == [t("zh", "ok.ack", id=problem_id)]
    assert status == ProblemStatus.ACKNOWLEDGED.value
    assert internal_errors(live.server) == []


def test_captions_are_commands_and_forwarded_commands_are_refused(live: Live) -> None:
    """A photo captioned /progress is a report with the photo, a document captioned
    /problem raises the problem; a forwarded /progress is refused and stores nothing."""
    officer = OFFICERS[6]
    seen = len(live.texts(officer))
    live.server.push(photo(officer, "site-photo-1", "/progress XNY01 现场照片进展"))
    live.said(officer, seen, "the photo's ✅")
    live.server.push(document(officer, "doc-1", "缺电说明.pdf", "/problem XNY01 配电容量不足"))
    # /problem keeps no file, and says so before it asks for the unit
    asked = live.said(officer, seen, "the problem's question", 3)[-1]
    unit = live.server.read(lambda api: api.buttons(officer))[0]
    live.server.push(press(officer, unit))
    live.said(officer, seen, "the problem routed", 4)
    forwarded = message(officer, "/progress XNY01 转发来的进展")
    forwarded["message"]["forward_origin"] = {
        "type": "user",
        "sender_user": user(OFFICERS[7]),
        "date": int(time.time()) - 60,
    }
    live.server.push(forwarded)
    live.said(officer, seen, "the refusal", 5)
    live.settled()
    said = live.texts(officer)[seen:]
    photos = live.store.rows(
        "SELECT file_id, file_kind FROM progress_reports WHERE text = '现场照片进展'"
    )
    problems = live.store.rows("SELECT text FROM problems WHERE text LIKE '配电容量不足%'")
    stored = report_texts(live.store)
    measured("captions and forwards", said=said, photo_rows=photos, problems=problems)
    assert said[0].startswith(OK_PROGRESS) and "照片" in said[0], said
    assert photos == [("site-photo-1", "photo")]
    assert said[1] == t("zh", "flow.no_file")
    assert "负责答复的单位" in asked
    assert "已转" in said[3]
    assert problems == [("配电容量不足",)]
    assert said[4] == t("zh", "err.forwarded")
    assert "转发来的进展" not in stored
    assert len(said) == 5


def test_the_token_stays_out_of_the_log_of_a_failing_run(
    live: Live, make_store: MakeStore, procs: list[BotProcess], tmp_path: Path
) -> None:
    """Polls and sends that fail in every way, with every request logged (-v): the log
    tells of the failures and never shows the token. A token Telegram refuses: exit 2,
    and the same."""
    officer = OFFICERS[8]
    failures: list[str | tuple[int, str]] = [(500, "Internal Server Error"), DROP, (502, "Bad")]
    for failure in failures:
        live.server.fail("getUpdates", failure)
    live.server.fail(
        "sendMessage", (500, "Internal Server Error"), when=lambda p: int(p["chat_id"]) == officer
    )
    seen = len(live.texts(officer))
    live.server.push(message(officer, "/progress XNY01 日志里没有令牌"))
    live.said(officer, seen, "the ✅ after the failures")
    live.settled()
    log = live.bot.log
    assert "fetching updates failed" in log
    assert "reply failed after the commit" in log
    assert "bot[REDACTED]" in log  # httpx's request lines, the token hidden
    assert TOKEN not in log and SECRET_PART not in log

    # A token Telegram refuses, the run verbose: one line, exit 2, no token.
    url = make_store(RUN_BACKEND)
    with BotAPIServer(FakeBotAPI(), token="424242:SomethingElse") as server:
        refused = BotProcess(
            bot_config(tmp_path, "refused", url, server.base_url),
            tmp_path / "refused.log",
            options=["-v"],
        )
        procs.append(refused)
        refused.start()
        assert refused.proc is not None
        code = refused.proc.wait(timeout=START)
    measured("token in the log", live_log_lines=len(log.splitlines()), refused_exit=code)
    assert code == 2, refused.tail()
    assert "Telegram refused the token" in refused.log
    assert TOKEN not in refused.log and SECRET_PART not in refused.log


# --- the lease's own connection cut -------------------------------------------------------

LEASE_PIDS = sql(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def test_the_lease_lost_hands_over_without_two_processes_at_work(
    make_store: MakeStore, procs: list[BotProcess], tmp_path: Path
) -> None:
    """The active process's lease connection is cut mid-drain (the database restarted
    under it): it stops with exit 75, the standby takes over, and the two never work at
    once: no second poller, no prompt sent twice beyond those in flight."""
    url = make_store("postgresql")
    store = Store(url)
    count = 300
    with BotAPIServer(FakeBotAPI(), token=TOKEN) as server:
        a, b, ports = start_pair(server, url, tmp_path, procs)
        wait_until(lambda: health(ports["b"])[0] == 503, "b standing by", procs=[b])
        server.slow("sendMessage", 0.05)
        reached = server.watch(lambda api: sum(prompts_sent(api, count).values()) >= 40)
        asyncio.run(_enqueue_prompts(url, count, PROMPT_CHATS))
        wait_until(reached.is_set, "40 prompts sent", procs=[a, b])
        lease = [int(r[0]) for r in store.rows(str(LEASE_PIDS))]
        assert len(lease) == 1, lease
        store.execute("SELECT pg_terminate_backend(:p)", p=lease[0])
        cut = time.monotonic()
        assert a.proc is not None
        code = a.proc.wait(timeout=START)
        exited = time.monotonic()
        server.slow("sendMessage", 0.0)
        wait_until(lambda: health(ports["b"])[0] == 200, "b active", 30, procs=[b])
        wait_until(
            lambda: (
                len(server.read(lambda api: prompts_sent(api, count))) == count
                and not pending_outbox(store)
            ),
            "every prompt sent",
            procs=[b],
        )
        assert b.stop() == 0, b.tail()
        sent = server.read(lambda api: prompts_sent(api, count))
        calls = list(server.by_client)
        conflicts = list(server.conflicts)
    a_last = max(at for tag, _m, at in calls if tag == "a")
    # b's token check before it stood by (getMe) is no work with Telegram.
    b_first = min(at for tag, m, at in calls if tag == "b" and m != "getMe")
    doubled = sum(n - 1 for n in sent.values())
    measured(
        "lease lost",
        exit=code,
        a_stopped_after_s=round(exited - cut, 2),
        b_first_call_after_cut_s=round(b_first - cut, 2),
        overlap_s=round(a_last - b_first, 2),
        delivered=len(sent),
        doubled=doubled,
        conflicts=len(conflicts),
    )
    assert code == 75, a.tail()
    assert conflicts == []
    assert len(sent) == count and max(sent.values()) <= 2 and doubled <= CONCURRENCY
    assert a_last < b_first, "a still talked to Telegram after b had started"
