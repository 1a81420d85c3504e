"""The one place where the Application is composed from the configuration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import BaseRequest

from bot.config import Config
from bot.delivery import drain_job
from bot.flow import build_conversation, stale_button_handler
from bot.handlers import (
    charts,
    gate,
    groups,
    ledger,
    notices,
    problems,
    projects,
    rank,
    report,
    start,
    undo,
)
from bot.handlers.base import on_error
from bot.meeting import meeting_job
from bot.persistence import StorePersistence
from bot.routing import routing_gaps, tell_admins
from bot.runtime import OUTBOX_JOB, SERVICES_KEY, Services, utc_clock
from bot.scheduler import daily_job
from bot.texts import t
from bot.transport import AiohttpRequest
from storage.db import SessionMaker

# The menu members see when they type "/", in this order.
MENU = (
    "today",
    "projects",
    "project",
    "chart",
    "board",
    "rank",
    "progress",
    "problem",
    "reply",
    "ack",
    "resolve",
    "reopen",
    "done",
    "due",
    "plan",
    "stage",
    "instruct",
    "instructions",
    "report",
    "extend",
    "urge",
    "invite",
    "import",
    "lang",
    "help",
    "cancel",
)


class WallchartApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, reading a command in a photo's or document's caption as the
    command, and without NUL characters (bot.handlers.gate.normalise), before any handler
    sees the update."""

    async def process_update(self, update: object) -> None:
        if isinstance(update, Update):
            update = gate.normalise(update)
        await super().process_update(update)


def menu(lang: str) -> list[BotCommand]:
    return [BotCommand(name, t(lang, f"cmd.{name}")) for name in MENU]


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    # Chinese is the default menu; members whose Telegram is in English get the English one.
    await app.bot.set_my_commands(menu("zh"), scope=BotCommandScopeDefault())
    await app.bot.set_my_commands(menu("zh"), language_code="zh")
    await app.bot.set_my_commands(menu("en"), language_code="en")
    await check_routing(app)


async def check_routing(app: Application) -> None:  # type: ignore[type-arg]
    """Tell the admins (and the log) about configured units the store lacks."""
    svc: Services = app.bot_data[SERVICES_KEY]
    now = svc.clock()
    async with svc.sessions() as session:
        missing = await routing_gaps(session, svc.config)
        if await tell_admins(session, svc.config, missing, svc.today(), now):
            await session.commit()


def build_application(
    config: Config,
    sessions: SessionMaker,
    *,
    request: BaseRequest | None = None,
    clock: Callable[[], datetime] = utc_clock,
) -> Application:  # type: ignore[type-arg]
    """Assemble the bot: connection to Telegram, persistence, services and handlers."""
    tg = config.telegram
    builder: Any = ApplicationBuilder().application_class(WallchartApplication).token(tg.token)
    if tg.base_url:
        builder = builder.base_url(tg.base_url)
    if tg.base_file_url:
        builder = builder.base_file_url(tg.base_file_url)
    requests: tuple[BaseRequest, ...] = ()
    if request is None:
        # One each: the long poll holds its connection for up to a minute.
        requests = (AiohttpRequest(), AiohttpRequest(1))
        builder = builder.request(requests[0]).get_updates_request(requests[1])
    else:
        builder = builder.request(request).get_updates_request(request)
    if tg.rate_limit:
        # Without max_retries the limiter gives up on the first RetryAfter.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=tg.max_retries))
    # PTB's timer only deep-copies data the handlers already wrote (bot.persistence): rarely.
    builder = builder.persistence(StorePersistence(sessions, update_interval=3600))
    app: Application = builder.post_init(_post_init).build()  # type: ignore[type-arg]

    calendar = config.work.calendar()
    app.bot_data[SERVICES_KEY] = Services(config, sessions, calendar, clock, requests=requests)

    # Order matters within the group: the first handler that matches wins. Plain commands
    # first, then the flows (which also own text typed in answer to a question), then the
    # leftovers: stale flow buttons, a ledger file sent without a caption (after the flows,
    # whose question it may answer) and the catch-all that refuses strangers.
    # Forwarded and edited commands stop here, before any other group sees them.
    gate.register(app)
    start.register(app)
    # The bot's own membership changes: no command, no member, so first and apart.
    groups.register(app)
    projects.register(app)
    charts.register(app)
    report.register(app)
    rank.register(app)
    ledger.register(app)
    notices.register(app)
    problems.register(app)
    undo.register(app)
    app.add_handler(build_conversation([*projects.COMMANDS, *problems.COMMANDS, *notices.COMMANDS]))
    app.add_handler(stale_button_handler())
    ledger.register_last(app)
    start.register_last(app)
    app.add_error_handler(on_error)
    schedule_jobs(app, config)
    return app


def schedule_jobs(app: Application, config: Config) -> None:  # type: ignore[type-arg]
    """The outbox sender, and (unless [scheduler] enabled is false) the daily tick, its
    catch-up at start and the meeting's briefing.

    The sender always runs: replies whose send failed, and those of a process that died,
    wait in the outbox. Only the active process runs jobs at all (bot.lease).

    PTB's JobQueue drops a job more than a second late unless told otherwise: the grace
    time lets a tick that was held up (a slow start, a long pause) still run, and the
    store decides whether it is owed (storage.schedule.claim_day), so it runs once.
    """
    queue = app.job_queue
    assert queue is not None, "install python-telegram-bot[job-queue]"
    late_ok = {"misfire_grace_time": 6 * 3600, "coalesce": True}
    queue.run_repeating(
        drain_job, config.scheduler.drain_interval, first=1, name=OUTBOX_JOB, job_kwargs=late_ok
    )
    if not config.scheduler.enabled:
        return
    at = config.work.prompt_time.replace(tzinfo=config.city.tz)
    queue.run_daily(daily_job, at, name="daily-tick", job_kwargs=late_ok)
    # If the bot was down at prompt time, today's tick is made as soon as it is back.
    queue.run_once(daily_job, 1, name="catch-up", job_kwargs=late_ok)
    if config.meeting.enabled:
        # The meeting's briefing, and its catch-up the same day (bot.meeting.due decides).
        meeting_at = config.meeting.time.replace(tzinfo=config.city.tz)
        queue.run_daily(meeting_job, meeting_at, name="meeting", job_kwargs=late_ok)
        queue.run_once(meeting_job, 1, name="meeting-catch-up", job_kwargs=late_ok)
