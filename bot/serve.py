"""`wallchart run`: stand by until this process holds the lease, then serve.

The active process builds its Application only once it holds the lease (bot.lease): PTB
reads persisted flows as the Application starts, so a standby that takes over continues
every half-done flow from the store. It then gives back the outbox claims a dead
predecessor left (so the day's sending resumes at once, not after the claims lapse),
handles what the inbox holds unhandled, and fetches updates by long polling or takes
them by webhook (bot.intake). If it loses the lease (its database connection dropped),
it stops at once with exit status 75, for systemd to start it again as a standby.

The HTTP server (tornado, which PTB's own webhook server runs on) serves GET /health and,
with a webhook, Telegram's POSTs. PTB's webhook server answers Telegram before the update
is stored; this one answers 200 only after the inbox committed it, and refuses (and logs)
a request without the secret token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError
from telegram import Bot, Update
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from bot.app import build_application
from bot.config import Config, ConfigError
from bot.intake import Intake, running
from bot.lease import Lease, holder_name, make_lease
from bot.runtime import SERVICES_KEY, Services
from bot.transport import AiohttpRequest
from storage import leases, outbox
from storage.db import SessionMaker, deadlocked, make_engine, make_sessionmaker, retrying

log = logging.getLogger(__name__)

# Seconds between two checks that the lease is still held (and two beats in the store).
BEAT = 5.0
# Exit status when the lease was lost: EX_TEMPFAIL, "try again".
LOST_LEASE = 75
WEBHOOK_PORT = 8080
# Seconds without an answer to getUpdates after which /health says the bot is deaf: two
# long polls and some.
TELEGRAM_SILENT = 90.0
# Members whose updates are handled side by side on PostgreSQL (bot.intake).
LANES = 8
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def secret_token(config: Config) -> str:
    """The webhook's secret: the configured one, else derived from the bot token (the same
    in every process of the bot, and not the token itself)."""
    if config.serve.secret_token:
        return config.serve.secret_token
    return hashlib.sha256(f"wallchart-webhook:{config.telegram.token}".encode()).hexdigest()


@dataclass
class ProcessState:
    """What /health reports, and where a webhook request goes."""

    holder: str
    sessions: SessionMaker
    role: str = "standby"  # or "active", "stopping"
    intake: Intake | None = None
    polling: bool = False
    started: float = field(default_factory=time.monotonic)


class HealthHandler(RequestHandler):
    """GET /health: this process's role and which process is active (200 when this one
    is, 503 when it stands by, so a load balancer sends Telegram's requests to it).

    An active process that has not heard from Telegram for TELEGRAM_SILENT seconds (long
    polling failing: its host cut off from Telegram but not from the store) answers 503
    too, and says for how long, so that monitoring sees a bot gone deaf.
    """

    def initialize(self, state: ProcessState) -> None:
        self.state = state

    async def get(self) -> None:
        active: dict[str, Any] | None = None
        with contextlib.suppress(Exception):
            async with self.state.sessions() as session:
                found = await leases.current(session)
            if found is not None:
                active = {
                    "process": found.holder,
                    "since": found.since.isoformat(),
                    "beat_at": found.beat_at.isoformat(),
                }
        body: dict[str, Any] = {
            "process": self.state.holder,
            "role": self.state.role,
            "active": active,
        }
        healthy = self.state.role == "active"
        intake = self.state.intake
        if healthy and intake is not None and self.state.polling:
            silent = time.monotonic() - (intake.contact_at or self.state.started)
            body["telegram_silent_s"] = round(silent, 1)
            healthy = silent < TELEGRAM_SILENT
        self.set_status(200 if healthy else 503)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class WebhookHandler(RequestHandler):
    """POST from Telegram: checked, kept in the inbox, and only then answered 200."""

    def initialize(self, state: ProcessState, secret: str) -> None:
        self.state = state
        self.secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning(
                "webhook request without the right secret token refused, from %s",
                self.request.remote_ip,
            )
            self.set_status(403)
            self.finish()
            return
        intake = self.state.intake
        if intake is None or self.state.role != "active":
            # Telegram tries again later; by then the active process answers.
            self.set_status(503)
            self.finish()
            return
        try:
            payload = json.loads(self.request.body)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            log.warning("webhook body is not an update: %r", self.request.body[:200])
            self.set_status(400)
            self.finish()
            return
        try:
            await intake.keep([payload])
        except Exception:
            # Not stored, so not confirmed: Telegram sends it again.
            log.exception("could not keep a webhook update")
            self.set_status(500)
            self.finish()
            return
        self.set_status(200)
        self.finish()


def web_app(state: ProcessState, config: Config, path: str | None) -> WebApplication:
    routes: list[Any] = [(r"/health", HealthHandler, {"state": state})]
    if path is not None:
        routes.append((path, WebhookHandler, {"state": state, "secret": secret_token(config)}))
    # Tornado's access log would write every probe of /health, and a standby's 503 at
    # ERROR; the webhook's refusals are logged by the handler itself.
    return WebApplication(routes, log_function=lambda _handler: None)


async def serve(config: Config, *, webhook_url: str = "") -> int:
    """Run the bot until SIGINT or SIGTERM; returns the exit status."""
    webhook_url = webhook_url or config.serve.webhook_url
    engine = make_engine(config.store.url)
    sessions = make_sessionmaker(engine)
    lease = make_lease(config.store.url, engine, config.telegram.token)
    state = ProcessState(holder_name(), sessions)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    port = config.serve.port or (WEBHOOK_PORT if webhook_url else 0)
    server: HTTPServer | None = None
    if port:
        path = (urlsplit(webhook_url).path or "/") if webhook_url else None
        server = HTTPServer(web_app(state, config, path))
        try:
            server.listen(port, config.serve.listen)
        except OSError as exc:
            raise ConfigError(
                f"[serve] cannot listen on {config.serve.listen}:{port} ({exc.strerror}); "
                "each process on one host needs a port of its own"
            ) from None
        log.info(
            "HTTP server on %s:%s (/health%s)", config.serve.listen, port, f", {path}" * bool(path)
        )
    try:
        if not await _stand_by(lease, config, stop):
            return 0
        return await _active(config, sessions, lease, state, stop, webhook_url)
    finally:
        state.role = "stopping"
        if server is not None:
            server.stop()
        await lease.release()
        await engine.dispose()


async def _stand_by(lease: Lease, config: Config, stop: asyncio.Event) -> bool:
    """Wait until this process holds the lease; False if told to stop first."""
    told = False
    while not stop.is_set():
        if await lease.try_take():
            return True
        if not told:
            # A standby with a wrong token would otherwise be found out only when it
            # takes over: when it is needed.
            await check_token(config)
            log.info("another process is active; standing by")
            told = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), config.serve.standby_interval)
    return False


async def check_token(config: Config) -> None:
    """Ask Telegram who the bot is (getMe). Raises InvalidToken for a refused token and
    NetworkError when the Bot API cannot be reached, as the active process's start does."""
    request = AiohttpRequest(1)
    bot = Bot(
        config.telegram.token,
        base_url=config.telegram.base_url or "https://api.telegram.org/bot",
        request=request,
        get_updates_request=request,
    )
    try:
        await bot.initialize()
    finally:
        await request.shutdown()


async def _active(
    config: Config,
    sessions: SessionMaker,
    lease: Lease,
    state: ProcessState,
    stop: asyncio.Event,
    webhook_url: str,
) -> int:
    """Serve as the active process until told to stop or the lease is lost."""

    async def take_over(session: Any) -> int:
        await leases.took(session, state.holder, svc.clock())
        return await outbox.release_all(session)

    app = build_application(config, sessions)
    svc: Services = app.bot_data[SERVICES_KEY]
    # getMe first: a refused token stops here, before this process calls itself active.
    try:
        await app.initialize()
    except BaseException:
        await asyncio.gather(*(r.shutdown() for r in svc.requests), return_exceptions=True)
        raise
    try:
        released = await _taking_over(sessions, take_over)
        log.info(
            "this process (%s) is active; %d outbox claim(s) given back", state.holder, released
        )
        if app.post_init is not None:
            await app.post_init(app)
        if webhook_url:
            await app.bot.set_webhook(
                webhook_url, secret_token=secret_token(config), allowed_updates=Update.ALL_TYPES
            )
        else:
            # Telegram refuses getUpdates while a webhook is set.
            await app.bot.delete_webhook()
        # PostgreSQL serves several members' updates at once; SQLite has one writer, and
        # its busy wait sleeps, so there one lane is faster.
        lanes = config.serve.lanes or (
            LANES if sessions.kw["bind"].dialect.name == "postgresql" else 1
        )
        intake = Intake(app, svc, lanes)
        await app.start()
        state.intake = intake
        state.polling = not webhook_url
        state.role = "active"
        lost = False
        try:
            async with running(intake, polling=not webhook_url):
                log.info("Wallchart is running; press Ctrl-C to stop")
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(BEAT):
                            await _first(stop, lease.lost)
                    if lease.lost.is_set() or not await lease.still_held():
                        log.critical("the lease was lost; stopping so that another takes over")
                        lost = True
                        # The standby may be active already: no more sending from here.
                        # The drain in progress is cut short (what it had in flight may
                        # go out once more) rather than finished while the other process
                        # sends the same rows.
                        if app.job_queue is not None:
                            await app.job_queue.stop(wait=False)
                        break
                    await _beat(sessions, state.holder, svc)
        finally:
            state.role = "stopping"
            await app.stop()
        return LOST_LEASE if lost else 0
    finally:
        await app.shutdown()


async def _first(*events: asyncio.Event) -> None:
    """Return when one of EVENTS is set."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


async def _taking_over(sessions: SessionMaker, take_over: Callable[[Any], Awaitable[int]]) -> int:
    """Run TAKE_OVER (it gives back every outbox claim), again if it met a deadlock: a
    predecessor that lost its lease may still be marking rows as it stops."""
    for attempt in range(1, 4):
        try:
            return await retrying(sessions, take_over)
        except DBAPIError as exc:
            if attempt == 3 or not deadlocked(exc):
                raise
            log.warning("taking over met a deadlock; trying again: %s", exc.orig)
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


async def _beat(sessions: SessionMaker, holder: str, svc: Services) -> None:
    async def beat(session: Any) -> None:
        await leases.beat(session, holder, svc.clock())

    try:
        await retrying(sessions, beat)
    except Exception as exc:
        log.warning("could not record the lease's beat: %s", exc)
