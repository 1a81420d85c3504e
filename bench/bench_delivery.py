"""Drain the outbox into a loopback Bot API stand-in that enforces a rate limit.

Run from the project root:

    .venv/bin/python bench/bench_delivery.py [--messages N] [--limit R] [--db sqlite|postgresql]
        [--chats C] [--limiter smooth|bucket] [--max-retries K]

The stand-in (tests/botapi_server.py serving a FakeBotAPI) accepts at most R sendMessage
calls in any sliding second and answers the rest with Telegram's 429 and a retry_after.
N messages to C private chats (C = N by default) are enqueued, then a real PTB bot with
AIORateLimiter, pointed at the stand-in, runs `bot.delivery.drain` until the outbox is
empty. It prints the achieved rate against the limit, the messages accepted, the 429s
answered, the messages lost (enqueued, never accepted) and sent twice, and the wall time.

The limiter: `smooth` (default) is a bucket of one message refilled at 0.99·R a second, so
no second ever holds more than R; `bucket` is AIORateLimiter's default shape (R a second,
bursting up to R at once), which a sliding window sees as up to 2·R in the first second.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from telegram.ext import AIORateLimiter, ExtBot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.config import SchedulerConfig  # noqa: E402
from bot.delivery import CONCURRENCY, drain  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402
from storage.models import Outbox, OutboxStatus  # noqa: E402
from storage.outbox import Message, enqueue  # noqa: E402
from tests.botapi_server import BotAPIServer  # noqa: E402
from tests.fakebot import FakeBotAPI  # noqa: E402

TOKEN = "123:BENCH"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql://postgres@127.0.0.1:5432/wallchart_bench"
FIRST_CHAT = 1_000_000


class LimitedAPI(FakeBotAPI):
    """FakeBotAPI that takes at most LIMIT sendMessage calls in any sliding second.

    BotAPIServer calls `handle` under its lock, so the window needs no lock of its own.
    """

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.window: collections.deque[float] = collections.deque()
        self.accepted: collections.Counter[str] = collections.Counter()
        self.accept_times: list[float] = []
        self.too_many = 0

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
        # Keep FakeBotAPI's answer without its call log, which would only grow.
        ok, result = super().handle(method, params)
        self.calls.clear()
        return ok, result


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
    drains: int

    @property
    def rate(self) -> float:
        """Messages per second over the whole drain, from the first drain call to the end."""
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


def _limiter(kind: str, limit: int, max_retries: int) -> AIORateLimiter:
    if kind == "bucket":
        return AIORateLimiter(overall_max_rate=limit, max_retries=max_retries)
    # A bucket of one refilled a hair below the limit: any one second then holds at most
    # one message plus 0.99·R, which is within R, whatever the sliding window's phase.
    rate = limit * 0.99
    return AIORateLimiter(overall_max_rate=1, overall_time_period=1 / rate, max_retries=max_retries)


async def run(args: argparse.Namespace) -> Figures:
    api = LimitedAPI(args.limit)
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
                        chat_id=FIRST_CHAT + i % chats,
                        kind="bench",
                        text=f"bench message {i}",
                    )
                    for i in range(args.messages)
                ],
            )
            await s.commit()
        config = SchedulerConfig(drain_batch=args.batch, max_attempts=8, private_interval=1.0)
        request = HTTPXRequest(connection_pool_size=CONCURRENCY + 4)
        with BotAPIServer(api, TOKEN) as server:
            bot = ExtBot(
                TOKEN,
                base_url=server.base_url,
                request=request,
                rate_limiter=_limiter(args.limiter, args.limit, args.max_retries),
            )
            async with bot:
                drains = 0
                started = time.monotonic()
                # Generous: a run that cannot finish in this time has failed anyway.
                deadline = started + 10 + 5 * args.messages / args.limit
                while time.monotonic() < deadline:
                    async with sessions() as s:
                        left = await s.scalar(
                            select(func.count())
                            .select_from(Outbox)
                            .where(Outbox.status == OutboxStatus.PENDING)
                        )
                    if not left:
                        break
                    result = await drain(bot, sessions, config)
                    drains += 1
                    if not result.sent:
                        # Everything due was deferred or held back: wait for it.
                        await asyncio.sleep(0.02)
                wall = time.monotonic() - started
            with server.lock:
                accepted = api.accepted.copy()
                times = list(api.accept_times)
                too_many = api.too_many
            errors = list(server.errors)
        if errors:
            raise SystemExit(f"the stand-in could not read some requests: {errors[:3]}")
        expected = {f"bench message {i}" for i in range(args.messages)}
        return Figures(
            messages=args.messages,
            limit=args.limit,
            accepted=sum(accepted.values()),
            distinct=len(set(accepted) & expected),
            too_many=too_many,
            lost=len(expected - set(accepted)),
            duplicates=sum(n - 1 for n in accepted.values() if n > 1),
            wall=wall,
            span=(times[-1] - times[0]) if len(times) > 1 else 0.0,
            drains=drains,
        )
    finally:
        await engine.dispose()
        if args.db == "postgresql":
            await _drop_pg()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--limit", type=int, default=30, help="messages a second overall")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--chats", type=int, default=0, help="private chats (default: one each)")
    parser.add_argument("--limiter", choices=("smooth", "bucket"), default="smooth")
    parser.add_argument("--max-retries", type=int, default=5, help="AIORateLimiter's retries")
    parser.add_argument("--batch", type=int, default=200, help="drain_batch")
    args = parser.parse_args()
    command = " ".join(["python bench/bench_delivery.py", *sys.argv[1:]])
    print(f"command: {command}")
    print(
        f"{args.messages} messages to {args.chats or args.messages} private chats, "
        f"limit {args.limit}/s, {args.db}, limiter {args.limiter}, "
        f"max_retries {args.max_retries}, batch {args.batch}, concurrency {CONCURRENCY} "
        f"(threads: {threading.active_count()})"
    )
    f = asyncio.run(run(args))
    print(f"achieved rate   {f.rate:.1f}/s = {100 * f.rate / f.limit:.1f}% of the limit")
    print(f"  first to last accepted: {(f.distinct - 1) / f.span if f.span else 0:.1f}/s")
    print(f"accepted        {f.accepted} ({f.distinct} distinct of {f.messages})")
    print(f"429s answered   {f.too_many}")
    print(f"lost            {f.lost}")
    print(f"sent twice      {f.duplicates}")
    print(f"wall time       {f.wall:.1f} s in {f.drains} drains")
    ok = f.rate >= 0.95 * f.limit and f.lost == 0 and f.duplicates == 0
    print("target (>=95% of the limit, none lost, none twice):", "met" if ok else "NOT met")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
