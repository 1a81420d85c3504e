"""Drain the outbox into a loopback Bot API stand-in that enforces a rate limit.

Run from the project root:

    .venv/bin/python bench/bench_delivery.py [--messages N] [--limit R] [--db sqlite|postgresql]
        [--chats C] [--limiter smooth|bucket] [--max-retries K]

The stand-in, in a process of its own on 127.0.0.1, is a FakeBotAPI that accepts at most R
sendMessage calls in any sliding second and answers the rest with Telegram's 429 and a
retry_after. N messages to C private chats (C = N by default) are enqueued, then a real
PTB bot with AIORateLimiter, pointed at the stand-in, runs `bot.delivery.drain` until no
row is pending. It prints the achieved rate against the limit, the messages accepted, the
429s answered, the messages lost (enqueued, never accepted) and sent twice, the shortest
gap between two messages to one chat, and the wall time; it exits 1 if the target (95% of
the limit, none lost, none twice) is missed.

The limiter: `smooth` (default) is a bucket of 1.5 messages refilled at R − max(1, R/50)
a second. No sliding second can then hold more than R, even with a few milliseconds of
jitter between the bot and the stand-in, and the half message of bucket makes up for the
event loop waking the limiter a little late. `bucket` is AIORateLimiter's default shape
(R a second, bursting R at once), which a sliding window sees as up to 2·R in a second:
it shows what 429s cost, and that none of them loses or doubles a message.

max_retries is 0 by default, so a 429 reaches the drain, which keeps the row pending and
holds the whole bot back for retry_after. With retries inside AIORateLimiter, the requests
that queue during its pause have taken their tokens already and go out together when it
ends, which a strict window answers with more 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import math
import multiprocessing
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from telegram.ext import AIORateLimiter, ExtBot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot import delivery  # noqa: E402
from bot.config import SchedulerConfig  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402
from storage.models import Outbox, OutboxStatus  # noqa: E402
from storage.outbox import Message, enqueue  # noqa: E402
from tests.botapi_server import decode_body  # noqa: E402
from tests.fakebot import FakeBotAPI  # noqa: E402

TOKEN = "123:BENCH"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql://postgres@127.0.0.1:5432/wallchart_bench"
FIRST_CHAT = 1_000_000


class LimitedAPI(FakeBotAPI):
    """FakeBotAPI that takes at most LIMIT sendMessage calls in any sliding second."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.window: collections.deque[float] = collections.deque()
        self.accepted: collections.Counter[str] = collections.Counter()
        self.accept_times: list[float] = []
        self.too_many = 0
        self.last_by_chat: dict[int, float] = {}
        self.min_chat_gap = math.inf

    def handle(self, method: str, params: dict[str, Any]) -> tuple[bool, Any]:
        if method != "sendMessage":
            return super().handle(method, params)
        now = time.monotonic()
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= self.limit:
            self.too_many += 1
            # Telegram gives whole seconds: until the oldest message leaves the window.
            wait = max(1, math.ceil(self.window[0] + 1.0 - now))
            return False, {
                "error_code": 429,
                "description": f"Too Many Requests: retry after {wait}",
                "parameters": {"retry_after": wait},
            }
        self.window.append(now)
        self.accepted[str(params["text"])] += 1
        self.accept_times.append(now)
        chat = int(params["chat_id"])
        if chat in self.last_by_chat:
            self.min_chat_gap = min(self.min_chat_gap, now - self.last_by_chat[chat])
        self.last_by_chat[chat] = now
        # Keep FakeBotAPI's answer without its call log, which would only grow.
        ok, result = super().handle(method, params)
        self.calls.clear()
        return ok, result

    def stats(self) -> dict[str, Any]:
        return {
            "accepted": dict(self.accepted),
            "too_many": self.too_many,
            "span": self.accept_times[-1] - self.accept_times[0] if self.accept_times else 0.0,
            "min_chat_gap": self.min_chat_gap,
        }


async def _answer(
    api: LimitedAPI, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answer one keep-alive connection's requests: just enough HTTP/1.1 for httpx."""
    try:
        while request_line := await reader.readline():
            path = request_line.decode("latin-1").split(" ")[1]
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length") or 0))
            params = decode_body(headers.get("content-type", ""), body)
            ok, result = api.handle(path.rsplit("/", 1)[-1], params)
            status = 200 if ok else int(result["error_code"])
            data = json.dumps({"ok": True, "result": result} if ok else {"ok": False, **result})
            head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            head += f"Content-Length: {len(data.encode())}\r\n\r\n"
            # One write: headers and body in separate segments would meet the client's
            # delayed ACK (Nagle) and cost ~40 ms a request.
            writer.write(head.encode("latin-1") + data.encode())
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


def serve(limit: int, out: Queue[Any], stop: Queue[Any]) -> None:
    """The stand-in, in a process of its own so that it does not share the bot's GIL.

    An asyncio server on one thread: a thread per connection (http.server) makes the
    threads queue for the GIL and the stand-in, not the bot, sets the pace.
    """
    api = LimitedAPI(limit)

    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _answer(api, r, w), "127.0.0.1", 0)
        out.put(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/bot")
        await asyncio.get_running_loop().run_in_executor(None, stop.get)
        server.close()

    asyncio.run(main())
    out.put(api.stats())


@dataclass
class Figures:
    messages: int
    limit: int
    accepted: int
    distinct: int
    too_many: int
    lost: int
    duplicates: int
    wall: float
    span: float
    drains: list[delivery.DrainResult]
    min_chat_gap: float
    # rows by status once the loop ended
    statuses: dict[str, int]

    @property
    def rate(self) -> float:
        """Messages a second over the whole drain loop, from its first query to the end."""
        return self.distinct / self.wall if self.wall else 0.0


async def _fresh_store(db: str, tmp: Path) -> str:
    if db == "sqlite":
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text("DROP DATABASE IF EXISTS wallchart_bench WITH (FORCE)"))
                await conn.execute(text("CREATE DATABASE wallchart_bench"))
        finally:
            await admin.dispose()
        url = PG_BENCH
    await upgrade_async(url)
    return url


async def _drop_pg() -> None:
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text("DROP DATABASE IF EXISTS wallchart_bench WITH (FORCE)"))
    finally:
        await admin.dispose()


def _limiter(args: argparse.Namespace) -> AIORateLimiter:
    if args.limiter == "bucket":
        return AIORateLimiter(overall_max_rate=args.limit, max_retries=args.max_retries)
    headroom = args.headroom if args.headroom is not None else max(1.0, args.limit / 50)
    burst, rate = args.burst, args.limit - headroom
    return AIORateLimiter(
        overall_max_rate=burst, overall_time_period=burst / rate, max_retries=args.max_retries
    )


async def drain_all(args: argparse.Namespace, base_url: str) -> tuple[float, int, dict[str, int]]:
    """Enqueue, drain until none is pending; the wall time, drains and rows by status."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    url = await _fresh_store(args.db, tmp)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    chats = args.chats or args.messages
    try:
        async with sessions() as s:
            await enqueue(
                s,
                [
                    Message(
                        key=f"bench:{i}",
                        # A chat's messages are queued one after another, as a head's notices would
                        # be: the hard case for the per-chat interval.
                        chat_id=FIRST_CHAT + i * chats // args.messages,
                        kind="bench",
                        text=f"bench message {i}",
                    )
                    for i in range(args.messages)
                ],
            )
            await s.commit()
        config = SchedulerConfig(drain_batch=args.batch, max_attempts=8, private_interval=1.0)
        bot = ExtBot(
            TOKEN,
            base_url=base_url,
            # More connections than chats served at once, so none waits for the pool.
            request=HTTPXRequest(connection_pool_size=delivery.CONCURRENCY + 4),
            rate_limiter=_limiter(args),
        )
        async with bot:
            drains: list[delivery.DrainResult] = []
            started = time.monotonic()
            # Generous: a run that cannot finish in this time has failed anyway.
            deadline = started + 60 + 5 * args.messages / args.limit
            while time.monotonic() < deadline:
                async with sessions() as s:
                    left = await s.scalar(
                        select(func.count())
                        .select_from(Outbox)
                        .where(Outbox.status == OutboxStatus.PENDING)
                    )
                if not left:
                    break
                result = await delivery.drain(bot, sessions, config)
                drains.append(result)
                if not result.sent:
                    # Everything due was deferred or held back: wait for it.
                    await asyncio.sleep(0.02)
            wall = time.monotonic() - started
        async with sessions() as s:
            counts = await s.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
            statuses = {str(status): n for status, n in counts.all()}
        return wall, drains, statuses
    finally:
        await engine.dispose()
        if args.db == "postgresql":
            await _drop_pg()
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace) -> Figures:
    ctx = multiprocessing.get_context("spawn")
    out: Queue[Any] = ctx.Queue()
    stop: Queue[Any] = ctx.Queue()
    server = ctx.Process(target=serve, args=(args.limit, out, stop), daemon=True)
    server.start()
    try:
        base_url = out.get(timeout=30)
        wall, drains, statuses = asyncio.run(drain_all(args, base_url))
    finally:
        stop.put(None)
    stats = out.get(timeout=30)
    server.join(timeout=10)
    accepted: dict[str, int] = stats["accepted"]
    expected = {f"bench message {i}" for i in range(args.messages)}
    return Figures(
        messages=args.messages,
        limit=args.limit,
        accepted=sum(accepted.values()),
        distinct=len(set(accepted) & expected),
        too_many=stats["too_many"],
        lost=len(expected - set(accepted)),
        duplicates=sum(n - 1 for n in accepted.values() if n > 1),
        wall=wall,
        span=stats["span"],
        drains=drains,
        min_chat_gap=stats["min_chat_gap"],
        statuses=statuses,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--limit", type=int, default=30, help="messages a second overall")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--chats", type=int, default=0, help="private chats (default: one each)")
    parser.add_argument("--limiter", choices=("smooth", "bucket"), default="smooth")
    parser.add_argument("--burst", type=float, default=1.5, help="smooth limiter's bucket")
    parser.add_argument(
        "--headroom",
        type=float,
        default=None,
        help="smooth limiter's rate below the limit, a second (default max(1, R/50))",
    )
    parser.add_argument(
        "--max-retries",
        type=int,
        default=0,
        help="AIORateLimiter's retries (default 0: RetryAfter goes to the drain)",
    )
    parser.add_argument("--batch", type=int, default=200, help="drain_batch")
    parser.add_argument("--concurrency", type=int, default=0, help="chats served at once")
    args = parser.parse_args()
    # With max_retries exhausted the limiter logs each RetryAfter with a traceback; the
    # drain handles it and the 429s are counted below.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    if args.concurrency:
        delivery.CONCURRENCY = args.concurrency
    command = " ".join([".venv/bin/python bench/bench_delivery.py", *sys.argv[1:]])
    print(f"command: {command}")
    print(
        f"{args.messages} messages to {args.chats or args.messages} private chats, "
        f"limit {args.limit}/s, {args.db}, limiter {args.limiter}, "
        f"max_retries {args.max_retries}, batch {args.batch}, concurrency {delivery.CONCURRENCY}"
    )
    f = run(args)
    print(f"achieved rate   {f.rate:.1f}/s = {100 * f.rate / f.limit:.1f}% of the limit")
    print(f"  first to last accepted: {(f.distinct - 1) / f.span if f.span else 0:.1f}/s")
    print(f"accepted        {f.accepted} ({f.distinct} distinct of {f.messages})")
    print(f"429s answered   {f.too_many}")
    print(f"lost            {f.lost}")
    print(f"sent twice      {f.duplicates}")
    gap = f"{f.min_chat_gap:.3f} s" if f.min_chat_gap != math.inf else "-"
    print(f"min chat gap    {gap} (two messages to one private chat)")
    print(f"outbox rows     {', '.join(f'{k} {v}' for k, v in sorted(f.statuses.items()))}")
    totals = {
        name: sum(getattr(d, name) for d in f.drains)
        for name in ("sent", "retried", "deferred", "failed", "unreachable")
    }
    print(f"drains          {len(f.drains)}: {', '.join(f'{k} {v}' for k, v in totals.items())}")
    print(f"wall time       {f.wall:.1f} s")
    ok = f.rate >= 0.95 * f.limit and f.lost == 0 and f.duplicates == 0
    print("target (>=95% of the limit, none lost, none twice):", "met" if ok else "NOT met")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
