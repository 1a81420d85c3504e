"""bot.transport.AiohttpRequest against the loopback Bot API stand-in: what PTB's own
HTTPXRequest gives the bot (results, uploads, Telegram's errors, timeouts, dropped
connections) must come out the same, since the handlers, the sender and the intake rely
on those exceptions to decide what was sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.transport import AiohttpRequest
from tests.botapi_server import DROP, BotAPIServer
from tests.fakebot import FakeBotAPI

TOKEN = "123456:TRANSPORT"


@pytest.fixture
def server() -> Iterator[BotAPIServer]:
    with BotAPIServer(FakeBotAPI(), TOKEN) as srv:
        yield srv


@pytest.fixture
async def bot(server: BotAPIServer) -> AsyncIterator[Bot]:
    b = Bot(TOKEN, base_url=server.base_url, request=AiohttpRequest(pool_size=4))
    await b.initialize()
    try:
        yield b
    finally:
        await b.shutdown()


async def test_a_message_goes_out_and_comes_back_as_ptb_reads_it(
    bot: Bot, server: BotAPIServer
) -> None:
    sent = await bot.send_message(42, "进度已记录：完成土地预审 ✅", reply_markup=None)
    assert sent.chat.id == 42 and sent.text == "进度已记录：完成土地预审 ✅"
    assert server.read(lambda api: api.texts(42)) == ["进度已记录：完成土地预审 ✅"]


async def test_uploads_travel_as_multipart_with_their_fields(
    bot: Bot, server: BotAPIServer
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    await bot.send_photo(7, png, caption="墙图 1/2")
    await bot.send_document(7, b"a,b\n1,2\n", filename="台账.csv", caption="导出")
    await bot.send_media_group(7, [InputMediaPhoto(png), InputMediaPhoto(png[::-1])])
    media = server.read(lambda api: list(api.media))
    assert [(m["kind"], m["data"], m["caption"]) for m in media] == [
        ("photo", png, "墙图 1/2"),
        ("document", b"a,b\n1,2\n", "导出"),
        ("photo", png, None),
        ("photo", png[::-1], None),
    ]


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ((400, "Bad Request: message text is empty"), BadRequest),
        ((403, "Forbidden: bot was blocked by the user"), Forbidden),
        ((500, "Internal Server Error"), NetworkError),
        ((502, "Bad Gateway"), NetworkError),
    ],
)
async def test_telegrams_errors_are_ptbs_errors(
    bot: Bot, server: BotAPIServer, failure: tuple[int, str], error: type[Exception]
) -> None:
    server.fail("sendMessage", failure)
    with pytest.raises(error):
        await bot.send_message(1, "x")
    # The next call is served: one failure spoils nothing for the connection pool.
    assert (await bot.send_message(1, "y")).text == "y"


async def test_a_429_is_retry_after_with_its_seconds(
    bot: Bot, server: BotAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = server.api.handle

    def flood(method: str, params: dict[str, Any]) -> tuple[bool, Any]:
        if method == "sendMessage" and params.get("text") == "flood":
            return False, {
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            }
        return handle(method, params)

    monkeypatch.setattr(server.api, "handle", flood)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(1, "flood")
    assert raised.value.retry_after in (3, timedelta(seconds=3))


async def test_a_dropped_connection_is_a_network_error_and_the_next_call_works(
    bot: Bot, server: BotAPIServer
) -> None:
    server.fail("sendMessage", DROP)
    with pytest.raises(NetworkError) as raised:
        await bot.send_message(1, "lost")
    assert not isinstance(raised.value, TimedOut)
    assert "aiohttp." in raised.value.message
    assert (await bot.send_message(1, "again")).text == "again"


async def test_an_answer_later_than_the_read_timeout_is_timed_out(
    bot: Bot, server: BotAPIServer
) -> None:
    server.fail("sendMessage", (500, "late"), hang=3.0)
    started = asyncio.get_running_loop().time()
    with pytest.raises(TimedOut):
        await bot.send_message(1, "slow", read_timeout=0.5, write_timeout=0.5)
    assert asyncio.get_running_loop().time() - started < 2.5


async def test_more_calls_than_connections_all_arrive(bot: Bot, server: BotAPIServer) -> None:
    # Four connections, forty calls at once, each held 50 ms: the rest wait their turn
    # (POOL_TIMEOUT) instead of failing as PTB's 1 s pool timeout would make them.
    server.slow("sendMessage", 0.05)
    await asyncio.gather(*(bot.send_message(100 + i, f"第{i}条") for i in range(40)))
    texts = server.read(lambda api: sorted(p["text"] for m, p in api.calls if m == "sendMessage"))
    assert texts == sorted(f"第{i}条" for i in range(40))


async def test_the_long_poll_waits_longer_than_the_read_timeout(
    server: BotAPIServer,
) -> None:
    # getUpdates holds the request up to its `timeout`: PTB adds it to the read timeout.
    b = Bot(TOKEN, base_url=server.base_url, request=AiohttpRequest(pool_size=1))
    await b.initialize()
    try:
        assert await b.get_updates(timeout=1) == ()
    finally:
        await b.shutdown()


async def test_before_initialize_it_says_so() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:9/x", "POST")
