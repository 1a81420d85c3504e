"""/rank [month|quarter|year]: the units compared on results and diligence.

Every member may ask, officers and heads too: the comparison is meant to be seen by the
units compared (DESIGN: "townships and departments compare results"), and it shows
only counts per unit, never a project, a problem or a name a member could not see
anyway. A member's own unit is marked.

The answer is a table (text) and then the bars (a picture, rendered off the event loop
after the session is closed), so that the picture is what the phone shows last. Townships
and sub-districts, and departments, are two sections with their own ranks, and two
pictures (an album) when the city has both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InputMediaPhoto, Update
from telegram.ext import Application, CommandHandler

from bot import charts
from bot.handlers.base import Call, Context, guarded
from bot.texts import Raw, t
from storage.ranking import (
    DILIGENCE,
    LEFT_OUT_WEIGHT,
    RESULTS,
    Figure,
    Group,
    RankGroup,
    Ranking,
    UnitScore,
    parse_period,
    ranking,
)


@dataclass(frozen=True)
class Picture:
    """What the bars show, kept until the replies are sent."""

    lang: str
    title: str
    caption: str
    bars: Sequence[charts.Bar]


def change_mark(lang: str, row: UnitScore) -> str:
    """▲2, ▼1, ＝ unchanged, — not ranked in the previous period."""
    change = row.change
    if change is None:
        return t(lang, "rank.new")
    if change > 0:
        return t(lang, "rank.up", n=change)
    if change < 0:
        return t(lang, "rank.down", n=-change)
    return t(lang, "rank.same")


def figure_text(lang: str, name: str, f: Figure) -> str:
    """`节点按期 29/30（97%）`, `投资 52,000 万元/6 个在推项目`, or `问题按期答复 —` (nothing
    due for the unit). Plain text; meant for a figure the ranking scores (one it leaves out
    for everyone goes in `left_out_text` instead)."""
    label = t(lang, f"rank.fig.{name}")
    if f.rate is None:
        return t(lang, "rank.none", label=label)
    if name == "investment":
        return t(lang, "rank.investment", label=label, amount=f"{f.count:,}", n=f.of)
    return t(lang, "rank.count", label=label, count=f.count, of=f.of, pct=round(100 * f.rate))


def left_out_text(lang: str, name: str, why: str, group: Group = Group.TOWNS) -> str:
    """`签约 —（本期全市无签约，不计分）` or `问题按期答复 —（权重为 0，不计分）`: a figure
    scored for no unit of GROUP, named once instead of as a 0% that looks counted."""
    if why == LEFT_OUT_WEIGHT:
        reason = "rank.why.weight"
    elif group is Group.DEPARTMENTS:
        reason = f"rank.why.dept.{name}"
    else:
        reason = f"rank.why.city.{name}"
    return t(lang, "rank.left_out", label=t(lang, f"rank.fig.{name}"), why=t(lang, reason))


def _dates(r: Ranking, prev: bool = False) -> dict[str, str]:
    start, end = (r.prev_start, r.prev_end) if prev else (r.start, r.end)
    return {"start": start.isoformat() if start else "", "end": end.isoformat() if end else ""}


def rank_text(lang: str, r: Ranking, own_unit: int | None = None) -> str:
    """The ranking as HTML: a title, per unit its rank, change, score and every figure
    with its counts beside its rate, then the units with nothing to judge, the figures
    scored for no unit, and how to read it. OWN_UNIT is marked."""
    period = t(lang, f"rank.period.{r.period.value}")
    if not r.rows:
        if not r.idle:
            return t(lang, "rank.no_units")
        return t(lang, "rank.nothing", period=period, **_dates(r))
    lines = [t(lang, "rank.title", period=period, **_dates(r))]
    for group in r.groups:
        lines += ["", t(lang, f"rank.group.{group.group.value}")]
        lines += _group_lines(lang, group, own_unit)
    weightless = [n for n, why in r.left_out.items() if why == LEFT_OUT_WEIGHT]
    if weightless:
        lines.append("")
        lines += [left_out_text(lang, name, LEFT_OUT_WEIGHT) for name in weightless]
    prev = t(lang, f"rank.prev.{r.period.value}")
    lines += ["", t(lang, "rank.vs", prev=prev, **_dates(r, prev=True)), t(lang, "rank.method")]
    return "\n".join(lines)


def _group_lines(lang: str, g: RankGroup, own_unit: int | None) -> list[str]:
    """One section: per unit its rank, change, score and the group's figures; then its
    units with nothing to judge and its figures scored for none of them."""
    lines: list[str] = []
    sep = t(lang, "rank.sep")
    for row in g.rows:
        lines.append("")
        lines.append(
            t(
                lang,
                "rank.row",
                mark=t(lang, "rank.own") if row.unit_id == own_unit else "",
                rank=row.rank,
                unit=row.unit,
                change=change_mark(lang, row),
                score=f"{row.score:.1f}",
            )
        )
        for key, names in (("rank.results", RESULTS), ("rank.diligence", DILIGENCE)):
            shown = [
                figure_text(lang, n, row.figures[n])
                for n in names
                if n in g.figures and n not in g.left_out
            ]
            if shown:
                lines.append(t(lang, key, figures=Raw(sep.join(shown))))
    if g.idle:
        lines += ["", t(lang, "rank.idle", units=t(lang, "join.sep").join(g.idle))]
    # A weight of 0 is the config's, said once for both groups (see rank_text).
    left_out = {n: why for n, why in g.left_out.items() if why != LEFT_OUT_WEIGHT}
    if left_out:
        lines.append("")
        lines += [left_out_text(lang, name, why, g.group) for name, why in left_out.items()]
    return lines


def rank_pictures(lang: str, r: Ranking) -> list[Picture]:
    """The bars, one picture per group with ranked units (towns first): one bar per
    unit, best first, its score and its change as the note. Labels are plain text (the
    picture is no HTML)."""
    period = t(lang, f"rank.period.{r.period.value}")
    prev = t(lang, f"rank.prev.{r.period.value}")
    dates = _dates(r)
    pictures = []
    for g in r.groups:
        if not g.rows:
            continue
        name = t(lang, f"rank.group_name.{g.group.value}")
        # Drawn in the order of their values: rounded as shown, a tie keeps the ranking's order.
        bars = [
            charts.Bar(f"{row.rank}. {row.unit}", round(row.score, 1), change_mark(lang, row))
            for row in g.rows
        ]
        pictures.append(
            Picture(
                lang,
                t(lang, "rank.chart", period=period, group=name, **dates),
                t(lang, "rank.caption", period=period, group=name, n=len(bars), prev=prev, **dates),
                bars,
            )
        )
    return pictures


async def rank(call: Call) -> list[Picture]:
    """Rank the units over this month, quarter or year; say it, and return the bars."""
    period = parse_period(" ".join(call.words))
    config = call.svc.config
    result = await ranking(
        call.session,
        period,
        call.today(),
        config.city.tz,
        call.svc.calendar,
        config.rank,
        reply_days=config.work.reply_days,
        instruction_days=config.work.instruction_days,
    )
    call.say(rank_text(call.lang, result, call.member.unit_id))
    return rank_pictures(call.lang, result)


_rank = guarded(rank)


async def rank_command(update: Update, context: Context) -> None:
    """Answer /rank with the table, then the bars: a photo, or an album of one per group."""
    result = await _rank(update, context)
    chat = update.effective_chat
    if not isinstance(result, list) or chat is None:
        return
    pictures = [p for p in result if isinstance(p, Picture)]
    pngs = [await asyncio.to_thread(charts.rank_png, p.lang, p.title, p.bars) for p in pictures]
    if len(pngs) == 1:
        await context.bot.send_photo(chat.id, pngs[0], caption=pictures[0].caption)
    elif pngs:
        await context.bot.send_media_group(
            chat.id,
            [
                InputMediaPhoto(png, caption=p.caption)
                for png, p in zip(pngs, pictures, strict=True)
            ],
        )


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("rank", rank_command))
