"""End to end: the real Application, long polling over HTTP, against a Bot API stand-in.

Unlike test_chat.py nothing here calls `process_update`: updates are queued in the
stand-in (tests/botapi_server.py, on 127.0.0.1), the bot's Updater fetches them with
getUpdates, and every answer travels back through PTB's HTTPXRequest, as it would to a
self-hosted Bot API server named by `[telegram] base_url`. The test only waits, with a
bound, for what the stand-in records.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import openpyxl
import pytest
from sqlalchemy import func, select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import InvalidToken
from telegram.ext import Application

from bot.app import build_application
from bot.config import Config, SchedulerConfig, TelegramConfig
from bot.scheduler import daily_job
from storage.db import SessionMaker, make_engine, make_sessionmaker, set_actor
from storage.models import (
    Member,
    Outbox,
    OutboxStatus,
    Problem,
    ProblemStatus,
    ProgressReport,
    Role,
    Unit,
)
from storage.people import create_invite
from tests.botapi_server import BotAPIServer, decode_body
from tests.fakebot import FakeBotAPI, message, press
from tests.harness import COORD, HEAD, LAND_OFFICER, OFFICER, STRANGER, TODAY, Clock, seed
from tests.stores import NewStore

T = TypeVar("T")

TOKEN = "123456:E2E-TEST"
NEWCOMER = 777
# Generous for a slow CI machine; a healthy run answers each update in milliseconds.
WAIT = 10.0


BEFORE_PROMPTS = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Shanghai


async def pending(sessions: SessionMaker) -> int:
    """Rows still waiting in the outbox."""
    async with sessions() as s:
        return int(
            await s.scalar(select(func.count()).where(Outbox.status == OutboxStatus.PENDING)) or 0
        )


@asynccontextmanager
async def polling(app: Application) -> AsyncIterator[None]:  # type: ignore[type-arg]
    """Run APP as `run_polling` does, but inside the test's event loop.

    The order is run_polling's: initialize, post_init (which initialize alone skips),
    start polling, start; and on the way out stop the updater, stop, shut down.
    """
    try:
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        # timeout=0: the stand-in answers at once, the Updater asks again 50 ms later.
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.05, timeout=0)
        await app.start()
        yield
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


@dataclass
class Live:
    server: BotAPIServer
    app: Application  # type: ignore[type-arg]
    sessions: SessionMaker
    ids: dict[str, int]
    clock: Clock

    async def until(self, look: Callable[[FakeBotAPI], T], what: str) -> T:
        """Poll the recorded calls until LOOK finds something; fail after WAIT seconds."""
        deadline = time.monotonic() + WAIT
        while True:
            found = self.server.read(look)
            if found:
                return found
            if time.monotonic() > deadline:
                # The polling's getUpdates would crowd out what matters.
                recent = self.server.read(
                    lambda api: [c for c in api.calls if c[0] != "getUpdates"][-6:]
                )
                raise AssertionError(
                    f"no {what} within {WAIT}s; last calls: {recent}; "
                    f"stand-in errors: {self.server.errors}"
                )
            await asyncio.sleep(0.02)

    def sent_count(self, chat_id: int) -> int:
        return self.server.read(lambda api: len(api.sent(chat_id)))

    async def news(self, chat_id: int, since: int, what: str) -> list[str]:
        """The texts sent to CHAT_ID after the first SINCE, once there is at least one."""
        return await self.until(lambda api: api.texts(chat_id)[since:], what)

    async def send(self, uid: int, text: str) -> list[str]:
        """UID writes TEXT in the private chat; the bot's answer(s) to that chat."""
        since = self.sent_count(uid)
        self.server.push(message(uid, text))
        return await self.news(uid, since, f"answer to {uid}'s {text!r}")

    async def press(self, uid: int, data: str) -> list[str]:
        """UID presses the button carrying DATA; the bot's answer(s) to that chat."""
        since = self.sent_count(uid)
        self.server.push(press(uid, data))
        return await self.news(uid, since, f"answer to {uid}'s button {data!r}")

    def buttons(self, chat_id: int) -> list[str]:
        return self.server.read(lambda api: api.buttons(chat_id))


@pytest.fixture
async def live(new_store: NewStore) -> AsyncIterator[Live]:
    engine = make_engine(await new_store("e2e"))
    try:
        sessions = make_sessionmaker(engine)
        ids = await seed(sessions)
        with BotAPIServer(FakeBotAPI(), TOKEN) as server:
            # The rate limiter stays on, as in production: its burst allowance covers the
            # handful of calls made here, so it costs no time.
            config = Config(
                telegram=TelegramConfig(token=TOKEN, base_url=server.base_url),
                # The test's clock stands still, so one chat's second message would wait
                # for a second that never comes: no spacing here.
                scheduler=SchedulerConfig(private_interval=0.0),
            )
            # A fixed Thursday, 08:00 local: dates are known, and the day's prompts are not
            # owed yet (the escalation test moves the clock on itself).
            clock = Clock(BEFORE_PROMPTS)
            app = build_application(config, sessions, clock=clock)
            # The server closes after the bot has stopped: the Updater's last getUpdates,
            # which confirms what it fetched, still gets an answer.
            async with polling(app):
                yield Live(server, app, sessions, ids, clock)
    finally:
        await engine.dispose()


async def test_register_report_and_answer_a_problem_over_long_polling(live: Live) -> None:
    # The command menu that post_init sets: `commands` and `scope` came JSON-encoded in a
    # form body and were decoded by the stand-in.
    menus = live.server.read(lambda api: [p for m, p in api.calls if m == "setMyCommands"])
    assert {p.get("language_code") for p in menus} == {None, "zh", "en"}
    en = next(p for p in menus if p.get("language_code") == "en")
    assert {"command": "progress", "description": "Log progress"} in en["commands"]

    # 1. registration: a coordinator made a code (here straight in the store).
    async with live.sessions() as s:
        set_actor(s, None)
        east = await s.get(Unit, live.ids["east"])
        assert east is not None
        code = (await create_invite(s, east, Role.OFFICER, by=None)).code
        await s.commit()

    for text in ("/start", "/progress XNY01 我也来写"):
        refusal = await live.send(STRANGER, text)
        assert len(refusal) == 1
        assert "邀请码" in refusal[0] and "invite code" in refusal[0]
        assert "XNY01" not in refusal[0]

    welcome = await live.send(NEWCOMER, f"/start {code}")
    assert "城东街道" in welcome[0] and "专员" in welcome[0]

    # 2. a progress report
    reply = await live.send(NEWCOMER, "/progress XNY01 完成土地预审")
    assert "已记录 XNY01" in reply[0]
    async with live.sessions() as s:
        reports = (await s.scalars(select(ProgressReport))).all()
        assert [(r.text, r.author.tg_user_id, r.report_date) for r in reports] == [
            ("完成土地预审", NEWCOMER, TODAY)
        ]

    # 3. a problem, routed to the land bureau, answered there, the answer back to the raiser
    asked = await live.send(NEWCOMER, "/problem XNY01 用地指标还没有落实")
    assert "负责答复的单位" in asked[0]
    first = live.buttons(NEWCOMER)[0]
    assert first == f"f:unit:{live.ids['land']}"  # the unit routed for land comes first

    # Counted before the press: the notice may arrive right after the raiser's answer.
    land_seen = live.sent_count(LAND_OFFICER)
    routed = await live.press(NEWCOMER, first)
    assert "已转 自然资源局" in routed[0]
    notice = await live.news(LAND_OFFICER, land_seen, "notice to the land bureau")
    assert "新问题" in notice[0] and "用地指标还没有落实" in notice[0]

    async with live.sessions() as s:
        problem = await s.scalar(select(Problem))
        assert problem is not None and problem.status is ProblemStatus.OPEN
    # the first notice lets the unit acknowledge, answer or ask for more time
    assert live.buttons(LAND_OFFICER) == [
        f"ack:{problem.id}",
        f"go:reply:{problem.id}",
        f"go:extend:p:{problem.id}",
    ]

    prompt = await live.press(LAND_OFFICER, f"go:reply:{problem.id}")
    assert "请输入答复内容" in prompt[0]
    raiser_seen = live.sent_count(NEWCOMER)
    done = await live.send(LAND_OFFICER, "下周一挂牌")
    assert "已答复" in done[0]
    heard = await live.news(NEWCOMER, raiser_seen, "answer told to the raiser")
    assert "自然资源局" in heard[0] and "下周一挂牌" in heard[0]

    async with live.sessions() as s:
        answered = await s.get(Problem, problem.id)
        assert answered is not None and answered.status is ProblemStatus.ANSWERED
        # the stranger left no trace
        assert await s.scalar(select(Member).where(Member.tg_user_id == STRANGER)) is None
        assert await s.scalar(select(func.count()).select_from(ProgressReport)) == 1

    # Every update was answered once: a stand-in or Updater that lost the offset would
    # have delivered them again and the stranger would have been refused again.
    assert len(live.server.read(lambda api: api.texts(STRANGER))) == 2
    # On its way out the Updater confirms what it fetched, so a restart would not see
    # these updates again.
    assert live.app.updater is not None
    await live.app.updater.stop()
    assert live.server.pending() == 0
    assert live.server.errors == []


async def test_unanswered_problem_climbs_to_the_head_then_the_center_until_answered(
    live: Live,
) -> None:
    """The scheduler's daily job, run by the live JobQueue on chosen days, over HTTP."""
    asked = await live.send(OFFICER, "/problem XNY01 配套资金还没有到位")
    assert "负责答复的单位" in asked[0]
    east = f"f:unit:{live.ids['east']}"
    assert east in live.buttons(OFFICER)
    await live.press(OFFICER, east)
    async with live.sessions() as s:
        problem = await s.scalar(select(Problem))
        assert problem is not None
    pid = problem.id

    async def day(d: int) -> None:
        """09:00 on December D: the daily job runs, and the outbox is sent."""
        live.clock.now = datetime(2026, 12, d, 1, 0, tzinfo=UTC)
        before = live.sent_count(HEAD) + live.sent_count(COORD)
        queue = live.app.job_queue
        assert queue is not None
        queue.run_once(daily_job, 0)
        # every working day brings the head a prompt and the center a digest
        await live.until(
            lambda api: len(api.sent(HEAD)) + len(api.sent(COORD)) >= before + 2,
            f"the tick of December {d}",
        )
        # and everything the tick queued has left the outbox
        deadline = time.monotonic() + WAIT
        while await pending(live.sessions):
            assert time.monotonic() < deadline, f"outbox not sent on December {d}"
            await asyncio.sleep(0.02)

    def notices(level: str) -> list[str]:
        """The head's notices about this problem at LEVEL (milestones climb too)."""
        texts = live.server.read(lambda api: api.texts(HEAD))
        return [t for t in texts if level in t and f"问题 #{pid}" in t]

    # Raised Thursday 3 December; the configured 3 working days: answer by Tuesday 8th.
    await day(4)  # Friday: not acknowledged after a working day, the head
    assert len(notices("已提级至单位负责人")) == 1
    assert f"ack:{pid}" in live.server.read(lambda api: api.all_buttons(HEAD))
    for d in (7, 8, 9, 10):  # up to 2 working days past the deadline: still the head's
        await day(d)
    assert len(notices("已提级至单位负责人")) == 1 and not notices("已提级至招商服务中心")
    await day(11)  # Friday: 3 working days past the deadline, the service center hears
    assert len(notices("已提级至招商服务中心")) == 1
    digest = await live.until(
        lambda api: [t for t in api.texts(COORD) if "升级到您这里" in t], "the center's digest"
    )
    assert f"问题 #{pid}" in digest[-1]

    # The unit answers: from now on it is the raiser's turn, and the unit hears no more.
    await live.press(HEAD, f"go:reply:{pid}")
    assert "已答复" in (await live.send(HEAD, "资金下周到位"))[0]
    for d in (14, 15, 16):
        await day(d)
    assert len(notices("提级")) == 2
    async with live.sessions() as s:
        answered = await s.get(Problem, pid)
        assert answered is not None
        assert answered.status is ProblemStatus.ANSWERED
        assert answered.escalation_level == 0


async def test_chart_is_answered_with_a_photo_over_long_polling(live: Live) -> None:
    """/chart: drawn in a worker thread and uploaded as multipart, as to Telegram."""
    live.server.push(message(COORD, "/chart"))
    (sent,) = await live.until(
        lambda api: [m for m in api.media if m["chat_id"] == COORD and m["kind"] == "photo"],
        "the wall chart",
    )
    data = sent["data"]
    assert isinstance(data, bytes) and data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1280
    # the sample city: XNY01 is red (a milestone overdue), SW02 green
    assert "挂图作战 · 全市" in sent["caption"] and "🔴 1" in sent["caption"]
    assert live.server.errors == []


async def test_report_week_is_answered_with_a_workbook_over_long_polling(live: Live) -> None:
    """/report week: the workbook written in a worker thread, uploaded as multipart."""
    live.server.push(message(COORD, "/report week"))
    (sent,) = await live.until(
        lambda api: [m for m in api.media if m["chat_id"] == COORD and m["kind"] == "document"],
        "the briefing",
    )
    wb = openpyxl.load_workbook(io.BytesIO(sent["data"]))
    assert wb.sheetnames == ["摘要", "进展", "问题", "批示"]
    progress = [r[1] for r in wb["进展"].iter_rows(min_row=3, values_only=True)]
    assert progress == ["XNY01", "SW02"]
    assert "招商例会简报 · 本周" in sent["caption"] and "🔴 1" in sent["caption"]
    assert live.server.errors == []


# do_api_request warns that a named method exists; here the raw call is the point.
@pytest.mark.filterwarnings("ignore:Please use 'Bot.sendDocument'")
async def test_standin_reads_what_ptb_sends_and_keeps_updates_until_confirmed() -> None:
    """The stand-in itself: PTB's form and multipart bodies, and getUpdates' offset."""
    api = FakeBotAPI()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="f:cancel")]])
    with BotAPIServer(api, TOKEN) as server:
        async with Bot(TOKEN, base_url=server.base_url) as bot:
            # A form body; the text looks like JSON and must stay text.
            await bot.send_message(OFFICER, "[1, 2]", reply_markup=markup)
            # A file makes it multipart; FakeBotAPI has no sendDocument, so go raw.
            await bot.do_api_request(
                "sendDocument",
                api_kwargs={
                    "chat_id": OFFICER,
                    "document": InputFile("周报,1\n".encode(), filename="report.csv"),
                    "caption": "周报",
                    "reply_markup": markup,
                },
            )

            first, second = message(OFFICER, "一"), message(OFFICER, "二")
            server.push(first)
            server.push(second)
            ids = [first["update_id"], second["update_id"]]
            # Unconfirmed updates come again; an offset confirms everything below it.
            assert [u.update_id for u in await bot.get_updates()] == ids
            assert [u.update_id for u in await bot.get_updates()] == ids
            assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
            assert await bot.get_updates(offset=ids[1] + 1) == ()
            assert server.pending() == 0

        with pytest.raises(InvalidToken):
            async with Bot("654321:WRONG", base_url=server.base_url):
                pass

    sent: dict[str, dict[str, Any]] = {m: p for m, p in api.calls if m.startswith("send")}
    assert sent["sendMessage"]["text"] == "[1, 2]"
    assert sent["sendMessage"]["chat_id"] == str(OFFICER)
    assert sent["sendMessage"]["reply_markup"] == markup.to_dict()
    assert sent["sendDocument"]["document"] == "周报,1\n".encode()
    assert sent["sendDocument"]["caption"] == "周报"
    assert sent["sendDocument"]["reply_markup"] == markup.to_dict()
    assert server.errors == []
    assert decode_body("application/json", b'{"chat_id": 1}') == {"chat_id": 1}
