"""The outbox sender against the fake Bot API, on SQLite and PostgreSQL.

`drain` opens its own sessions and commits, so these tests cannot live inside the rolled-back
`session` fixture: each gets a store of its own (a copy of the migrated SQLite file, or a
PostgreSQL database of this module's, emptied before every test). Time is a fake clock that
the tests move by hand; the one real-time test uses a tiny interval.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot
from telegram.error import TimedOut
from telegram.ext import AIORateLimiter, CallbackContext, ExtBot

from bot.config import Config, SchedulerConfig
from bot.delivery import DrainResult, drain, drain_job
from bot.texts import t
from bot.transport import NOT_SENT
from storage.db import SessionMaker, make_engine, make_sessionmaker, set_actor
from storage.models import AuditLog, Member, Outbox, OutboxStatus, Role, Unit, UnitKind
from storage.outbox import IN_DOUBT, Message, add_attachment, enqueue
from tests.fakebot import FakeBotAPI, FakeRequest
from tests.harness import start_harness
from tests.stores import NewStore, module_database

# PTB itself warns when it builds a RetryAfter (about the attribute's future type).
pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after`:DeprecationWarning")

T0 = datetime(2026, 12, 3, 1, 30, tzinfo=UTC)
OFFICER, HEAD, OTHER, COORD, LONER = 101, 102, 103, 301, 201
GROUP = -500
CONFIG = SchedulerConfig(drain_batch=50, max_attempts=3, private_interval=1.0)


class ScriptedAPI(FakeBotAPI):
    """FakeBotAPI whose sendMessage answers follow a script per chat, then succeed.

    Script entries: "ok", "429:<seconds>", "502", "400", "403", "timeout",
    "migrate:<new chat id>".
    """

    def __init__(self) -> None:
        super().__init__()
        self.script: dict[int, list[str]] = {}
        # (monotonic time, params) of every sendMessage Telegram would have accepted
        self.accepted: list[tuple[float, dict[str, Any]]] = []

    def handle(self, method: str, params: dict[str, Any]) -> tuple[bool, Any]:
        if method != "sendMessage":
            return super().handle(method, params)
        chat = int(params["chat_id"])
        plan = self.script.get(chat)
        step = plan.pop(0) if plan else "ok"
        if step == "ok":
            ok, result = super().handle(method, params)
            if ok:
                self.accepted.append((time.monotonic(), params))
            return ok, result
        self.calls.append((method, params))
        if step == "timeout":
            raise TimedOut("fake timeout")
        if step == "not sent":
            raise TimedOut(NOT_SENT)
        kind, _, arg = step.partition(":")
        if kind == "429":
            return False, {
                "error_code": 429,
                "description": f"Too Many Requests: retry after {arg}",
                "parameters": {"retry_after": float(arg)},
            }
        if kind == "migrate":
            return False, {
                "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": int(arg)},
            }
        if kind == "403":
            return False, {"error_code": 403, "description": "Forbidden: user is deactivated"}
        if kind == "400":
            return False, {"error_code": 400, "description": "Bad Request: chat not found"}
        return False, {"error_code": 502, "description": "Bad Gateway"}

    def got(self, chat_id: int | None = None) -> list[str]:
        """Texts Telegram accepted, for CHAT_ID or all."""
        return [
            str(p["text"])
            for _, p in self.accepted
            if chat_id is None or int(p["chat_id"]) == chat_id
        ]


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Store:
    engine: AsyncEngine
    sessions: SessionMaker
    ids: dict[int, int] = field(default_factory=dict)  # tg id -> member id
    clock: Clock = field(default_factory=Clock)

    async def put(self, *messages: Message) -> int:
        async with self.sessions() as s:
            added = await enqueue(s, messages)
            await s.commit()
            return added

    async def rows(self) -> list[Outbox]:
        async with self.sessions() as s:
            return list(await s.scalars(select(Outbox).order_by(Outbox.id)))

    async def row(self, key: str) -> Outbox:
        async with self.sessions() as s:
            found = await s.scalar(select(Outbox).where(Outbox.dedupe_key == key))
            assert found is not None
            return found

    async def member(self, tg: int) -> Member:
        async with self.sessions() as s:
            found = await s.scalar(select(Member).where(Member.tg_user_id == tg))
            assert found is not None
            return found

    async def drain(self, bot: Bot, config: SchedulerConfig = CONFIG) -> DrainResult:
        return await drain(bot, self.sessions, config, now=self.clock)


def msg(key: str, chat_id: int, text: str = "hello", **kw: Any) -> Message:
    """A message due at the fake clock's start (enqueue would stamp the real time)."""
    kw.setdefault("not_before", T0)
    return Message(key=key, chat_id=chat_id, kind="test", text=text, **kw)


async def _seed(store: Store) -> None:
    async with store.sessions() as s:
        set_actor(s, None)
        center = Unit(name="招商服务中心", kind=UnitKind.CENTER)
        s.add(center)
        await s.flush()
        east = Unit(name="城东街道", kind=UnitKind.SUBDISTRICT, parent_id=center.id)
        west = Unit(name="城西镇", kind=UnitKind.TOWNSHIP, parent_id=center.id)
        s.add_all([east, west])
        await s.flush()
        people = [
            (OFFICER, "王<专员>", east, Role.OFFICER, "zh"),
            (HEAD, "李主任", east, Role.HEAD, "en"),
            (OTHER, "张专员", east, Role.OFFICER, "zh"),
            (LONER, "赵专员", west, Role.OFFICER, "zh"),  # west has no head
            (COORD, "陈科长", center, Role.COORDINATOR, "zh"),
        ]
        members = [
            Member(tg_user_id=tg, name=name, unit_id=unit.id, role=role, lang=lang)
            for tg, name, unit, role, lang in people
        ]
        s.add_all(members)
        await s.flush()
        store.ids = {m.tg_user_id: m.id for m in members}
        await s.commit()


@pytest.fixture(scope="module")
def delivery_pg_url(pg_url: str) -> Iterator[str]:
    """A PostgreSQL database of this module's own, so that drains may commit freely."""
    yield from module_database(pg_url, "delivery")


@pytest.fixture
def store_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A migrated store for one test: a copy of the SQLite file, or the module's database."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "delivery.sqlite3"
        shutil.copy(db_url.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("delivery_pg_url"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    engine = make_engine(store_url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            # CASCADE empties every table that refers to these; ids restart for each test.
            await conn.execute(
                text("TRUNCATE units, members, outbox, audit_log RESTART IDENTITY CASCADE")
            )
    s = Store(engine, make_sessionmaker(engine))
    try:
        await _seed(s)
        yield s
    finally:
        await engine.dispose()


@pytest.fixture
async def api() -> ScriptedAPI:
    return ScriptedAPI()


@pytest.fixture
async def bot(api: ScriptedAPI) -> AsyncIterator[Bot]:
    """A plain Bot: no rate limiter, so RetryAfter reaches the drain."""
    async with Bot("123:TEST", request=FakeRequest(api)) as b:
        yield b


async def test_rows_are_sent_once_as_html_and_marked_sent(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    await store.put(msg("a", OFFICER, "<b>one</b>"), msg("b", HEAD), msg("c", GROUP))
    result = await store.drain(bot)
    assert result == DrainResult(sent=3)
    assert sorted(api.got()) == ["<b>one</b>", "hello", "hello"]
    params = api.accepted[0][1]
    assert params["parse_mode"] == "HTML"
    # PTB sends disable_web_page_preview as the Bot API's link_preview_options.
    assert params["link_preview_options"] == {"is_disabled": True}
    for row in await store.rows():
        assert row.status is OutboxStatus.SENT
        assert row.sent_at == T0
        assert row.attempts == 1
    store.clock.advance(10)
    assert await store.drain(bot) == DrainResult()
    assert len(api.accepted) == 3


async def test_a_key_enqueued_again_is_not_sent_twice(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    assert (
        await store.put(msg("prompt:1:2026-12-03", OFFICER), msg("prompt:1:2026-12-03", OFFICER))
        == 1
    )
    await store.drain(bot)
    assert await store.put(msg("prompt:1:2026-12-03", OFFICER, "again")) == 0
    store.clock.advance(10)
    await store.drain(bot)
    assert api.got(OFFICER) == ["hello"]


async def test_the_count_is_what_was_added_when_another_writer_got_there_first(
    store: Store,
) -> None:
    # fresh_keys skips the look-up, as a writer does that raced another between its
    # look and its insert: the ON CONFLICT clause keeps the row once, and the count says
    # what this call added (a tick's SchedulerRun.messages is this count).
    await store.put(msg("prompt:7:2026-12-03", OFFICER), msg("prompt:8:2026-12-03", HEAD))
    async with store.sessions() as s:
        added = await enqueue(
            s,
            [
                msg("prompt:7:2026-12-03", OFFICER, "raced"),
                msg("prompt:9:2026-12-03", OFFICER, "new"),
                msg("prompt:8:2026-12-03", HEAD, "raced"),
            ],
            fresh_keys=True,
        )
        await s.commit()
    assert added == 1
    assert [(r.dedupe_key, r.text) for r in await store.rows()] == [
        ("prompt:7:2026-12-03", "hello"),
        ("prompt:8:2026-12-03", "hello"),
        ("prompt:9:2026-12-03", "new"),
    ]


async def test_batch_takes_due_rows_in_id_order(store: Store, api: ScriptedAPI, bot: Bot) -> None:
    later = T0 + timedelta(minutes=5)
    await store.put(
        msg("a", OFFICER, "1"),
        msg("b", HEAD, "2"),
        msg("c", OTHER, "3"),
        msg("d", COORD, "x", not_before=later),
    )
    result = await store.drain(bot, replace(CONFIG, drain_batch=2))
    assert result.sent == 2
    assert sorted(api.got()) == ["1", "2"]
    assert await store.drain(bot) == DrainResult(sent=1)
    store.clock.now = later
    assert await store.drain(bot) == DrainResult(sent=1)


async def test_buttons_arrive_as_an_inline_keyboard_under_the_last_piece(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    buttons = [[["确认", "ack:m:7"], ["答复", "reply:7"]], [["申请延期", "ext:m:7"]]]
    long_text = "\n".join(f"第{i}行 " + "字" * 60 for i in range(120))  # about 7500 characters
    await store.put(msg("long", OFFICER, long_text, buttons=buttons))
    assert await store.drain(bot) == DrainResult(sent=1)
    pieces = api.sent(OFFICER)
    assert len(pieces) == 2
    assert all(len(str(p["text"])) <= 4096 for p in pieces)
    assert "\n".join(str(p["text"]) for p in pieces) == long_text
    assert "reply_markup" not in pieces[0]
    assert api.buttons(OFFICER) == ["ack:m:7", "reply:7", "ext:m:7"]
    assert pieces[1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "确认"


async def test_each_row_is_marked_sent_before_the_next_is_sent(
    store: Store, api: ScriptedAPI
) -> None:
    """A crash after a send can repeat only the message in flight: marks are committed at once."""
    seen: list[int] = []

    class Watching(FakeRequest):
        async def do_request(self, url: str, method: str, *a: Any, **kw: Any) -> tuple[int, bytes]:
            if url.endswith("/sendMessage"):
                async with store.sessions() as s:
                    rows = await s.scalars(select(Outbox).where(Outbox.status == OutboxStatus.SENT))
                    seen.append(len(rows.all()))
            return await super().do_request(url, method, *a, **kw)

    # One group chat: its rows go one after the other in a single drain.
    await store.put(*(msg(f"g{i}", GROUP, str(i)) for i in range(4)))
    async with Bot("123:TEST", request=Watching(api)) as b:
        assert await store.drain(b) == DrainResult(sent=4)
    assert seen == [0, 1, 2, 3]


class SlowRequest(FakeRequest):
    """FakeRequest whose sendMessage takes a while, or hangs for the chats in `hang`."""

    def __init__(self, api: FakeBotAPI, hang: frozenset[int] = frozenset()) -> None:
        super().__init__(api)
        self.hang = hang
        self.hanging = asyncio.Event()

    async def do_request(self, url: str, method: str, *a: Any, **kw: Any) -> tuple[int, bytes]:
        if url.endswith("/sendMessage"):
            request_data = kw.get("request_data") or (a[0] if a else None)
            chat = int(request_data.parameters["chat_id"]) if request_data else 0
            if chat in self.hang:
                self.hanging.set()
                await asyncio.Event().wait()
            await asyncio.sleep(0.01)
        return await super().do_request(url, method, *a, **kw)


async def test_overlapping_drains_send_each_row_once(store: Store, api: ScriptedAPI) -> None:
    """The kick after a handler's notice may run while the repeating drain still sends."""
    await store.put(*(msg(f"k{i}", 7000 + i, str(i)) for i in range(20)))
    async with Bot("123:TEST", request=SlowRequest(api)) as b:
        first, second = await asyncio.gather(store.drain(b), store.drain(b))
    assert first.sent + second.sent == 20
    assert sorted(api.got(), key=int) == [str(i) for i in range(20)]


async def test_a_drain_cut_short_gives_its_rows_back(store: Store, api: ScriptedAPI) -> None:
    await store.put(
        msg("a", OFFICER, "1"), msg("b", HEAD, "2"), msg("c", GROUP, "3"), msg("d", GROUP, "4")
    )
    request = SlowRequest(api, hang=frozenset({GROUP}))
    async with Bot("123:TEST", request=request) as b:
        task = asyncio.create_task(store.drain(b))
        await request.hanging.wait()
        # The other chats finish meanwhile: wait for their marks, boundedly (a loaded
        # machine or PostgreSQL takes longer than a fixed pause would allow).
        for _ in range(500):
            if [r.status for r in await store.rows()][:2] == [OutboxStatus.SENT] * 2:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert sorted(api.got()) == ["1", "2"]
    assert [r.status for r in await store.rows()][:2] == [OutboxStatus.SENT] * 2
    # The group's rows were claimed and never sent: they are due again at once.
    async with Bot("123:TEST", request=FakeRequest(api)) as b:
        assert await store.drain(b) == DrainResult(sent=2)
    assert api.got(GROUP) == ["3", "4"]


async def test_two_messages_to_one_private_chat_keep_the_interval(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    await store.put(
        msg("a", OFFICER, "1"), msg("b", OFFICER, "2"), msg("c", OFFICER, "3"), msg("d", HEAD)
    )
    assert await store.drain(bot) == DrainResult(sent=2, deferred=2)
    assert await store.drain(bot) == DrainResult()  # not due yet
    store.clock.advance(0.5)
    assert await store.drain(bot) == DrainResult()
    store.clock.advance(0.5)
    assert await store.drain(bot) == DrainResult(sent=1)
    store.clock.advance(1)
    assert await store.drain(bot) == DrainResult(sent=1)
    assert api.got(OFFICER) == ["1", "2", "3"]
    sent_at = [r.sent_at for r in await store.rows() if r.chat_id == OFFICER]
    assert all(b - a >= timedelta(seconds=1) for a, b in itertools.pairwise(sent_at) if a and b)

    # A message enqueued later still waits for the last one sent by an earlier drain.
    await store.put(msg("e", OFFICER, "4"))
    store.clock.advance(0.2)
    assert await store.drain(bot) == DrainResult(deferred=1)
    store.clock.advance(0.8)
    assert await store.drain(bot) == DrainResult(sent=1)


async def test_the_interval_holds_in_real_time(store: Store, api: ScriptedAPI, bot: Bot) -> None:
    config = replace(CONFIG, private_interval=0.1)
    now = datetime.now(UTC)
    await store.put(*(msg(f"k{i}", OFFICER, str(i), not_before=now) for i in range(3)))
    deadline = time.monotonic() + 5
    while len(api.accepted) < 3 and time.monotonic() < deadline:
        await drain(bot, store.sessions, config)
        await asyncio.sleep(0.01)
    times = [at for at, _ in api.accepted]
    assert api.got(OFFICER) == ["0", "1", "2"]
    assert all(b - a >= 0.1 for a, b in itertools.pairwise(times))


async def test_retry_after_without_a_limiter_is_honoured(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    api.script[OFFICER] = ["429:30"]
    await store.put(msg("a", OFFICER, "1"))
    assert await store.drain(bot) == DrainResult(retried=1)
    row = await store.row("a")
    assert row.status is OutboxStatus.PENDING
    assert row.not_before == T0 + timedelta(seconds=30)
    assert row.attempts == 1
    # The wait is the whole bot's: a message due meanwhile waits too.
    await store.put(msg("b", HEAD, "2", not_before=T0 + timedelta(seconds=10)))
    store.clock.advance(29)
    assert await store.drain(bot) == DrainResult()
    store.clock.advance(1)
    assert await store.drain(bot) == DrainResult(sent=2)
    assert api.got(OFFICER) == ["1"]
    assert api.got(HEAD) == ["2"]
    assert (await store.row("a")).status is OutboxStatus.SENT


async def test_retry_after_holds_back_the_rest_of_the_batch(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    # The group's rows go in order: after the 429 the next one is not even tried.
    api.script[GROUP] = ["429:20"]
    await store.put(msg("a", GROUP, "1"), msg("b", GROUP, "2"))
    assert await store.drain(bot) == DrainResult(retried=1, deferred=1)
    assert len(api.sent(GROUP)) == 1
    store.clock.advance(20)
    assert await store.drain(bot) == DrainResult(sent=2)
    assert api.got(GROUP) == ["1", "2"]


async def test_retry_after_is_retried_inside_the_rate_limiter(
    store: Store, api: ScriptedAPI
) -> None:
    api.script[OFFICER] = ["429:0.05"]
    api.script[GROUP] = ["429:0.05"]
    await store.put(msg("a", OFFICER, "1"), msg("b", GROUP, "2"))
    limiter = AIORateLimiter(max_retries=2)
    async with ExtBot("123:TEST", request=FakeRequest(api), rate_limiter=limiter) as b:
        assert await store.drain(b) == DrainResult(sent=2)
    assert api.got(OFFICER) == ["1"]
    assert api.got(GROUP) == ["2"]
    assert len(api.sent(OFFICER)) == 2  # the 429 and the retry
    assert (await store.row("a")).attempts == 1


async def test_retry_after_beyond_the_limiters_retries_reaches_the_drain(
    store: Store, api: ScriptedAPI
) -> None:
    api.script[OFFICER] = ["429:0.05", "429:0.05"]
    await store.put(msg("a", OFFICER, "1"))
    limiter = AIORateLimiter(max_retries=1)
    async with ExtBot("123:TEST", request=FakeRequest(api), rate_limiter=limiter) as b:
        assert await store.drain(b) == DrainResult(retried=1)
        assert (await store.row("a")).status is OutboxStatus.PENDING
        store.clock.advance(1)
        assert await store.drain(b) == DrainResult(sent=1)
    assert api.got(OFFICER) == ["1"]


async def test_a_send_in_doubt_is_tried_once_more_then_given_up(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    # Timed out after the request went out: Telegram may have shown it. One more try
    # (with a long wait for the answer), and if that is in doubt too, no third copy.
    api.script[OFFICER] = ["timeout", "timeout", "ok"]
    await store.put(msg("a", OFFICER, "1"), msg("b", HEAD, "2"))
    api.script[HEAD] = ["timeout", "ok"]
    assert await store.drain(bot) == DrainResult(retried=1)
    store.clock.advance(3600)
    for _ in range(4):
        await store.drain(bot)
        store.clock.advance(3600)
    a, b = await store.row("a"), await store.row("b")
    assert (a.status, a.attempts) == (OutboxStatus.FAILED, 2)
    assert a.last_error is not None and a.last_error.startswith(IN_DOUBT)
    # In doubt once, then answered: sent, and its mark no longer in doubt.
    assert (b.status, b.attempts, b.last_error) == (OutboxStatus.SENT, 2, None)
    assert api.got(OFFICER) == [] and api.got(HEAD) == ["2"]


async def test_a_send_stays_in_doubt_across_a_plain_failure(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    # In doubt, then a 502, then in doubt again: two sends may have arrived, so no
    # fourth, though max_attempts would allow more.
    api.script[OFFICER] = ["timeout", "502", "timeout", "ok"]
    await store.put(msg("a", OFFICER, "1"))
    config = replace(CONFIG, max_attempts=8)
    for _ in range(5):
        await store.drain(bot, config)
        store.clock.advance(3600)
    row = await store.row("a")
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert api.got(OFFICER) == []


async def test_a_send_that_never_left_is_retried_as_usual(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    # No connection in time: the request never reached Telegram, so trying again can
    # only help, up to max_attempts.
    api.script[OFFICER] = ["not sent", "not sent", "ok"]
    await store.put(msg("a", OFFICER, "1"))
    for _ in range(3):
        await store.drain(bot)
        store.clock.advance(3600)
    row = await store.row("a")
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 3)
    assert api.got(OFFICER) == ["1"]


async def test_network_errors_back_off_then_fail(store: Store, api: ScriptedAPI, bot: Bot) -> None:
    api.script[OFFICER] = ["502", "timeout", "502"]
    await store.put(msg("a", OFFICER, "1"))
    assert await store.drain(bot) == DrainResult(retried=1)
    row = await store.row("a")
    assert (row.attempts, row.not_before) == (1, T0 + timedelta(seconds=2))
    assert row.last_error is not None and "Bad Gateway" in row.last_error
    store.clock.advance(1)
    assert await store.drain(bot) == DrainResult()
    store.clock.advance(1)
    assert await store.drain(bot) == DrainResult(retried=1)
    row = await store.row("a")
    assert (row.attempts, row.not_before) == (2, T0 + timedelta(seconds=2 + 4))
    assert row.last_error is not None and "TimedOut" in row.last_error
    store.clock.advance(4)
    assert await store.drain(bot) == DrainResult(failed=1)
    row = await store.row("a")
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    store.clock.advance(3600)
    assert await store.drain(bot) == DrainResult()
    assert api.got() == []


async def test_a_network_error_once_is_retried_and_sent(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    api.script[OFFICER] = ["timeout"]
    await store.put(msg("a", OFFICER, "1"))
    assert await store.drain(bot) == DrainResult(retried=1)
    store.clock.advance(2)
    assert await store.drain(bot) == DrainResult(sent=1)
    row = await store.row("a")
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 2, None)


async def test_a_network_failure_stops_the_batch(store: Store, api: ScriptedAPI, bot: Bot) -> None:
    # Rows of one group go in order; after the failure the rest wait, with no attempt counted.
    api.script[GROUP] = ["502"]
    await store.put(msg("a", GROUP, "1"), msg("b", GROUP, "2"))
    assert await store.drain(bot) == DrainResult(retried=1)
    assert (await store.row("b")).attempts == 0
    assert await store.drain(bot) == DrainResult(sent=1)
    store.clock.advance(2)
    assert await store.drain(bot) == DrainResult(sent=1)
    assert api.got(GROUP) == ["2", "1"]


async def test_a_long_message_cut_by_an_error_resends_only_the_rest(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    api.script[OFFICER] = ["ok", "502"]
    long_text = "\n".join("字" * 100 for _ in range(60))  # two pieces
    await store.put(msg("long", OFFICER, long_text))
    assert await store.drain(bot) == DrainResult(retried=1)
    store.clock.advance(2)
    assert await store.drain(bot) == DrainResult(sent=1)
    assert "\n".join(api.got(OFFICER)) == long_text


async def test_a_blocked_member_becomes_unreachable_and_the_head_is_told_once(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    api.blocked.add(OFFICER)
    await store.put(
        msg("a", OFFICER, "1", member_id=store.ids[OFFICER]),
        msg("b", OFFICER, "2", member_id=store.ids[OFFICER]),
    )
    assert await store.drain(bot) == DrainResult(unreachable=1, deferred=1)
    officer = await store.member(OFFICER)
    assert officer.reachable is False
    assert (await store.row("a")).status is OutboxStatus.UNREACHABLE
    store.clock.advance(1)
    # The second row is not tried; the head's notice goes out, in the head's language.
    assert await store.drain(bot) == DrainResult(sent=1, unreachable=1)
    assert (await store.row("b")).status is OutboxStatus.UNREACHABLE
    assert len(api.sent(OFFICER)) == 1
    expected = t("en", "note.unreachable", name="王<专员>", unit="城东街道")
    assert api.got(HEAD) == [expected]
    assert "王&lt;专员&gt;" in expected
    async with store.sessions() as s:
        audit = await s.scalar(
            select(AuditLog).where(
                AuditLog.entity_id == str(officer.id), AuditLog.action == "update"
            )
        )
        assert audit is not None and audit.after == {"reachable": False}

    # The officer writes to the bot again (handlers mark them reachable), then blocks it again.
    async with store.sessions() as s:
        await s.execute(update(Member).where(Member.id == officer.id).values(reachable=True))
        await s.commit()
    await store.put(msg("c", OFFICER, "3", member_id=officer.id))
    store.clock.advance(10)
    assert await store.drain(bot) == DrainResult(unreachable=1)
    store.clock.advance(10)
    assert await store.drain(bot) == DrainResult()
    assert len(api.got(HEAD)) == 1


async def test_a_unit_without_a_head_tells_the_parents_coordinator(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    api.script[LONER] = ["403"]
    await store.put(msg("a", LONER, "1", member_id=store.ids[LONER]))
    assert await store.drain(bot) == DrainResult(unreachable=1)
    assert await store.drain(bot) == DrainResult(sent=1)
    assert api.got(COORD) == [t("zh", "note.unreachable", name="赵专员", unit="城西镇")]


async def test_a_group_that_removed_the_bot_marks_only_the_row(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    api.script[GROUP] = ["403"]
    await store.put(msg("a", GROUP, "1", member_id=store.ids[OFFICER]))
    assert await store.drain(bot) == DrainResult(unreachable=1)
    assert (await store.member(OFFICER)).reachable is True
    assert await store.drain(bot) == DrainResult()


async def test_a_bad_request_fails_the_row(store: Store, api: ScriptedAPI, bot: Bot) -> None:
    api.script[OFFICER] = ["400"]
    await store.put(msg("a", OFFICER, "1"), msg("b", HEAD, "2"))
    assert await store.drain(bot) == DrainResult(sent=1, failed=1)
    row = await store.row("a")
    assert row.status is OutboxStatus.FAILED
    assert row.last_error is not None and "chat not found" in row.last_error.lower()
    store.clock.advance(3600)
    assert await store.drain(bot) == DrainResult()


async def test_a_migrated_group_is_followed(store: Store, api: ScriptedAPI, bot: Bot) -> None:
    new_chat = -1001234
    async with store.sessions() as s:
        set_actor(s, None)
        await s.execute(update(Unit).where(Unit.name == "城东街道").values(chat_id=GROUP))
        await s.commit()
    api.script[GROUP] = [f"migrate:{new_chat}"]
    await store.put(msg("a", GROUP, "1"), msg("b", GROUP, "2"))
    assert await store.drain(bot) == DrainResult(retried=1)
    assert await store.drain(bot) == DrainResult(sent=2)
    assert api.got(new_chat) == ["1", "2"]
    assert len(api.sent(GROUP)) == 1
    async with store.sessions() as s:
        assert await s.scalar(select(Unit.chat_id).where(Unit.name == "城东街道")) == new_chat


async def test_drain_job_uses_the_services(new_store: NewStore) -> None:
    config = Config(scheduler=SchedulerConfig(drain_batch=2, private_interval=1.0))
    h = await start_harness(await new_store(), config)
    try:
        async with h.sessions() as s:
            await enqueue(
                s, [msg(f"k{i}", 7000 + i, str(i), not_before=h.clock.now) for i in range(5)]
            )
            await s.commit()
        context = CallbackContext(h.app)
        await drain_job(context)
        # Full batches are drained again at once: all five in one job run.
        assert sorted(h.api.texts()) == ["0", "1", "2", "3", "4"]
        async with h.sessions() as s:
            sent_at = set(await s.scalars(select(Outbox.sent_at)))
        assert sent_at == {h.clock.now}
    finally:
        await h.stop()


# --- files: photos and documents with their caption -------------------------------------


async def attach(store: Store, kind: str, name: str, data: bytes) -> int:
    async with store.sessions() as s:
        found = await add_attachment(s, kind, name, data)
        await s.commit()
        return found


async def test_files_go_as_photo_and_document_with_the_text_as_caption(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    book = await attach(store, "document", "简报.xlsx", b"PK-workbook")
    chart = await attach(store, "photo", "chart.png", b"\x89PNG-chart")
    buttons = [[["打开", "go:x"]]]
    await store.put(
        msg("d1", OFFICER, "<b>简报</b>", attachment_id=book),
        msg("d2", HEAD, "<b>简报</b>", attachment_id=book),
        msg("p1", OFFICER, "挂图 1/1", attachment_id=chart, buttons=buttons),
        msg("t1", COORD, "plain"),
    )
    config = replace(CONFIG, private_interval=0.0)
    assert await store.drain(bot, config) == DrainResult(sent=4)
    # Chats are served side by side; each chat's rows in order.
    sent = [(m["chat_id"], m["kind"], m["data"], m["caption"]) for m in api.media]
    assert [m for m in sent if m[0] == OFFICER] == [
        (OFFICER, "document", b"PK-workbook", "<b>简报</b>"),
        (OFFICER, "photo", b"\x89PNG-chart", "挂图 1/1"),
    ]
    assert [m for m in sent if m[0] == HEAD] == [(HEAD, "document", b"PK-workbook", "<b>简报</b>")]
    photo = next(p for m, p in api.calls if m == "sendPhoto")
    assert photo["parse_mode"] == "HTML"
    assert photo["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go:x"
    # Only the plain row went as a text message.
    assert api.got() == ["plain"]
    assert {r.status for r in await store.rows()} == {OutboxStatus.SENT}


async def test_a_caption_too_long_goes_after_the_file_and_only_the_rest_is_retried(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    book = await attach(store, "document", "b.xlsx", b"PK")
    long_text = "说明" * 600  # over Telegram's 1,024 characters of a caption
    api.script[OFFICER] = ["502"]  # the text after the file fails once
    await store.put(msg("d", OFFICER, long_text, attachment_id=book))
    assert await store.drain(bot) == DrainResult(retried=1)
    assert [(m["kind"], m["caption"]) for m in api.media] == [("document", None)]
    row = await store.row("d")
    assert row.attachment_id is None and row.text == long_text
    store.clock.advance(10)
    assert await store.drain(bot) == DrainResult(sent=1)
    # The file went once; the text, once it got through.
    assert len(api.media) == 1
    assert api.got(OFFICER) == [long_text]


async def test_a_blocked_member_gets_no_file_and_is_marked(
    store: Store, api: ScriptedAPI, bot: Bot
) -> None:
    book = await attach(store, "document", "b.xlsx", b"PK")
    api.blocked.add(LONER)
    await store.put(msg("d", LONER, "简报", member_id=store.ids[LONER], attachment_id=book))
    assert await store.drain(bot) == DrainResult(unreachable=1)
    assert (await store.row("d")).status is OutboxStatus.UNREACHABLE
    assert (await store.member(LONER)).reachable is False


async def test_an_attachment_is_a_photo_or_a_document(store: Store) -> None:
    async with store.sessions() as s:
        with pytest.raises(ValueError):
            await add_attachment(s, "video", "x.mp4", b"")
