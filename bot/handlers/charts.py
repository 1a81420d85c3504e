"""The wall chart (/chart) and the funnel (/board): pictures of the store, with words.

The store is read inside `guarded` (one session, the member's reach); the pictures are
drawn afterwards in a worker thread (matplotlib's object API) and sent once the session
is closed, so a slow drawing holds no database connection.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import InputMediaPhoto, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler

from bot.charts import chart_scope, chart_title, funnel_png, wall_chart_pngs, wan
from bot.format import day
from bot.handlers.base import Call, Context, any_of, guarded, send
from bot.input import skip_separators, split_command
from bot.texts import Raw, t
from storage.errors import Refused
from storage.models import Stage
from storage.rules import STAGE_ORDER, Action, Light, require, sees_everything
from storage.wallchart import (
    MAX_PICTURES,
    MAX_ROWS,
    ChartFilter,
    FilterChoices,
    Funnel,
    WallChart,
    default_window,
    funnel,
    read_filter,
    wall_chart,
)

# Telegram's limit on a photo's caption.
CAPTION_LIMIT = 1024


def _scope(call: Call) -> int | None:
    """The unit whose projects the member sees, or None for the whole city."""
    require(call.member.role, Action.VIEW, own=True)
    return None if sees_everything(call.member.role) else call.member.unit_id


def _typed(call: Call) -> str:
    message = call.update.effective_message
    rest = split_command(message.text or "" if message else "")[2]
    return skip_separators(rest.strip())


def stage_words(lang: str) -> list[str]:
    return [t(lang, f"stage.{s.value}") for s in Stage]


def filter_refusal(lang: str, exc: Refused) -> str:
    """The answer to a word that names no unit, stage, industry or project: what does."""
    if exc.key == "err.chart_ambiguous":
        names = [t(lang, "chart.quote", name=n) for n in exc.params["units"]]
        return t(lang, exc.key, word=exc.params["word"], units=Raw(any_of(lang, names)))
    choices = exc.params["choices"]
    assert isinstance(choices, FilterChoices)
    sep = t(lang, "join.sep")
    units = sep.join(t(lang, "chart.quote", name=n) for n in choices.units[:12])
    if len(choices.units) > 12:
        units += t(lang, "chart.and_more", n=len(choices.units) - 12)
    return t(
        lang,
        exc.key,
        word=exc.params["word"],
        units=Raw(units or "—"),
        stages=Raw(sep.join(stage_words(lang))),
        industries=Raw(sep.join(t(lang, "chart.quote", name=n) for n in choices.industries)),
    )


def suggestions(lang: str, chart: WallChart) -> str:
    """A few filters that would cut a chart too big to send: the units with the most
    projects, the busiest stage and industry."""
    by_unit = Counter(r.unit for r in chart.rows)
    by_stage = Counter(r.stage for r in chart.rows)
    by_industry = Counter(r.industry for r in chart.rows)
    words = [u for u, _ in by_unit.most_common(2)]
    words += [t(lang, f"stage.{s.value}") for s, _ in by_stage.most_common(1)]
    words += [i for i, _ in by_industry.most_common(1)]
    return t(lang, "join.sep").join(t(lang, "chart.example", word=w) for w in dict.fromkeys(words))


def caption(lang: str, chart: WallChart, pictures: int) -> str:
    """The title and the counts per colour, under the picture (or the album's first)."""
    counts = chart.counts
    text = t(
        lang,
        "chart.caption",
        title=chart_title(lang, chart),
        red=counts.get(Light.RED, 0),
        yellow=counts.get(Light.YELLOW, 0),
        green=counts.get(Light.GREEN, 0),
    )
    if counts.get(Light.NONE, 0):
        text += t(lang, "chart.caption_grey", grey=counts[Light.NONE])
    if pictures > 1:
        text += t(lang, "chart.caption_pages", n=len(chart.rows), pages=pictures)
    return text[:CAPTION_LIMIT]


@dataclass
class _Found:
    """What the session found, to be drawn and sent after it closed."""

    chat_id: int
    lang: str
    chart: WallChart | None = None
    funnel: Funnel | None = None
    text: str = ""


Step = Callable[[Call, list["_Found"]], Awaitable[None]]


def _after(run: Step) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """A command whose store work runs guarded and whose pictures are sent afterwards."""

    async def callback(update: Update, context: Context) -> None:
        found: list[_Found] = []

        async def step(call: Call) -> None:
            await run(call, found)

        step.__name__ = run.__name__
        step.__doc__ = run.__doc__
        await guarded(step)(update, context)
        for item in found:
            await _send(context, item)

    callback.__doc__ = run.__doc__
    return callback


async def _chart(call: Call, found: list[_Found]) -> None:
    """Send the wall chart: my unit's projects, or the city's, filtered as asked."""
    unit_id = _scope(call)
    city = call.svc.config.city
    try:
        flt: ChartFilter = await read_filter(
            call.session,
            _typed(call),
            unit_id=unit_id,
            industries=city.industries,
            aliases=city.industry_aliases,
        )
    except Refused as exc:
        if exc.key in ("err.chart_filter", "err.chart_ambiguous"):
            call.say(filter_refusal(call.lang, exc))
            return
        raise
    today = call.today()
    start, end = default_window(today)
    chart = await wall_chart(
        call.session,
        unit_id=unit_id,
        flt=flt,
        today=today,
        soon_days=call.svc.config.work.soon_days,
        start=start,
        end=end,
    )
    if not chart.rows:
        call.say(call.t("chart.nothing", what=chart_scope(call.lang, chart)))
    elif chart.too_many:
        call.say(
            call.t(
                "chart.too_many",
                n=len(chart.rows),
                max=MAX_ROWS,
                pictures=MAX_PICTURES,
                examples=Raw(suggestions(call.lang, chart)),
            )
        )
    else:
        chat = call.update.effective_chat
        assert chat is not None
        found.append(_Found(chat.id, call.lang, chart=chart))


def board_text(lang: str, f: Funnel) -> str:
    """The funnel in words: each stage's count, 万元, moves this month and year and reds;
    the median days of each transition this year."""
    scope = f.scope or t(lang, "chart.city")
    if not f.projects:
        return t(lang, "board.empty", scope=scope)
    lines = [t(lang, "board.title", scope=scope, date=day(lang, f.today))]
    for fig in f.stages:
        name = t(lang, f"stage.{fig.stage.value}")
        if fig.stage in STAGE_ORDER:
            lines.append(
                t(
                    lang,
                    "board.row",
                    stage=name,
                    n=fig.projects,
                    money=wan(fig.investment),
                    month=fig.moved_month,
                    year=fig.moved_year,
                    red=fig.red,
                )
            )
        elif fig.projects:
            lines.append(
                t(lang, "board.row_other", stage=name, n=fig.projects, money=wan(fig.investment))
            )
    lines.append(t(lang, "board.total", n=f.projects, money=wan(f.investment)))
    lines += ["", t(lang, "board.speeds")]
    for tr in f.transitions:
        words = {
            "before": t(lang, f"stage.{tr.from_stage.value}"),
            "after": t(lang, f"stage.{tr.to_stage.value}"),
        }
        if tr.median_days is None:
            lines.append(t(lang, "board.speed_none", **words))
        else:
            days = (
                f"{tr.median_days:.0f}"
                if tr.median_days == int(tr.median_days)
                else f"{tr.median_days:.1f}"
            )
            lines.append(t(lang, "board.speed", days=days, n=tr.count, **words))
    lines += ["", t(lang, "board.note")]
    return "\n".join(lines)


async def _board(call: Call, found: list[_Found]) -> None:
    """Send the funnel: projects and investment by stage, moves, reds and days per stage."""
    unit_id = _scope(call)
    f = await funnel(
        call.session,
        call.today(),
        call.svc.config.city.tz,
        unit_id=unit_id,
        soon_days=call.svc.config.work.soon_days,
    )
    chat = call.update.effective_chat
    assert chat is not None
    text = board_text(call.lang, f)
    if not f.projects:
        call.say(text)
        return
    found.append(_Found(chat.id, call.lang, funnel=f, text=text))


async def _send(context: Context, item: _Found) -> None:
    """Draw off the event loop, then send: one photo, or an album of up to ten."""
    if item.chart is not None:
        chart = item.chart
        pngs = await asyncio.to_thread(wall_chart_pngs, item.lang, chart)
        text = caption(item.lang, chart, len(pngs))
        if len(pngs) == 1:
            await context.bot.send_photo(
                item.chat_id, pngs[0], caption=text, parse_mode=ParseMode.HTML
            )
        else:
            await context.bot.send_media_group(
                item.chat_id,
                [
                    InputMediaPhoto(
                        png,
                        caption=text if i == 0 else None,
                        parse_mode=ParseMode.HTML if i == 0 else None,
                        filename=f"wallchart-{i + 1}.png",
                    )
                    for i, png in enumerate(pngs)
                ],
            )
    if item.funnel is not None:
        png = await asyncio.to_thread(funnel_png, item.lang, item.funnel)
        title = t(
            item.lang,
            "board.title",
            scope=item.funnel.scope or t(item.lang, "chart.city"),
            date=day(item.lang, item.funnel.today),
        )
        await context.bot.send_photo(item.chat_id, png, caption=title, parse_mode=ParseMode.HTML)
        await send(context, item.chat_id, item.text)


chart = _after(_chart)
board = _after(_board)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("chart", chart))
    app.add_handler(CommandHandler("board", board))
