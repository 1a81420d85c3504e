"""The wall chart (/chart) and the funnel (/board): pictures of the store, with words.

The store is read inside `guarded` (one session, the member's reach); the pictures are
drawn afterwards in a worker thread (matplotlib's object API) and sent once the session
is closed, so a slow drawing holds no database connection.
"""

from __future__ import annotations

import asyncio
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
    narrowers,
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


# Refusals name at most this many units; a longer list ends with "and N more".
UNITS_SHOWN = 12
# Names in a caption are cut to this many characters (a caption holds 1,024).
CAPTION_NAME = 60


def filter_words(lang: str, flt: ChartFilter) -> str:
    """What to type after /chart for FLT, as read_filter reads it back: the unit's name,
    the stage in the member's language and the industry, spaced; or the code."""
    if flt.code is not None:
        return flt.code
    parts = [flt.unit] if flt.unit is not None else []
    if flt.stage is not None:
        parts.append(t(lang, f"stage.{flt.stage.value}"))
    if flt.industry is not None:
        parts.append(flt.industry)
    return " ".join(parts)


def filter_refusal(lang: str, exc: Refused) -> str:
    """The answer to a filter /chart cannot read: what does name something, with
    examples taken from the store (a real unit, stage and code within reach)."""
    if exc.key == "err.chart_ambiguous":
        names = [t(lang, "chart.quote", name=n) for n in exc.params["units"]]
        return t(lang, exc.key, word=exc.params["word"], units=Raw(any_of(lang, names)))
    choices = exc.params["choices"]
    assert isinstance(choices, FilterChoices)
    if exc.key == "err.chart_code_not_yours":
        example = (
            t(lang, "chart.own_example", code=choices.code)
            if choices.code is not None
            else t(lang, "chart.own_none")
        )
        return t(lang, exc.key, code=exc.params["code"], unit=exc.params["unit"],
                 example=Raw(example))  # fmt: skip
    sep = t(lang, "join.sep")
    units = sep.join(t(lang, "chart.quote", name=n) for n in choices.units[:UNITS_SHOWN])
    if len(choices.units) > UNITS_SHOWN:
        units += t(lang, "chart.and_more", n=len(choices.units) - UNITS_SHOWN)
    code = (
        t(lang, "chart.code_example", code=choices.code)
        if choices.code is not None
        else t(lang, "chart.code_none")
    )
    combined = ""
    if choices.combined is not None:
        unit, stage = choices.combined
        words = filter_words(lang, ChartFilter(unit=unit, stage=stage))
        combined = t(lang, "chart.combined_example", words=words)
    return t(
        lang,
        exc.key,
        word=exc.params["word"],
        units=Raw(units or "—"),
        stages=Raw(sep.join(stage_words(lang))),
        industries=Raw(sep.join(t(lang, "chart.quote", name=n) for n in choices.industries)),
        code=Raw(code),
        combined=Raw(combined),
    )


def too_many(lang: str, chart: WallChart) -> str:
    """The answer to a chart too big to send: filters that narrow it, computed from the
    rows that matched, each with the projects it keeps; or, when nothing narrows it, a
    code to look at one project by."""
    found = narrowers(chart)
    if not found:
        return t(lang, "chart.too_many_flat", n=len(chart.rows), max=MAX_ROWS,
                 pictures=MAX_PICTURES, code=chart.rows[0].code)  # fmt: skip
    examples = "\n".join(
        t(lang, "chart.narrower", words=filter_words(lang, n.flt), n=n.count) for n in found
    )
    return t(lang, "chart.too_many", n=len(chart.rows), max=MAX_ROWS, pictures=MAX_PICTURES,
             examples=Raw(examples))  # fmt: skip


def _short(name: str) -> str:
    return name if len(name) <= CAPTION_NAME else name[: CAPTION_NAME - 1] + "…"


def caption(lang: str, chart: WallChart, pictures: int) -> str:
    """The title and the counts per colour, under the picture (or the album's first)."""
    counts = chart.counts
    name = chart.flt.unit or chart.scope
    text = t(
        lang,
        "chart.caption",
        title=chart_title(lang, chart, name=_short(name) if name else None),
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
        if exc.key in ("err.chart_filter", "err.chart_ambiguous", "err.chart_code_not_yours"):
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
        call.say(too_many(call.lang, chart))
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
