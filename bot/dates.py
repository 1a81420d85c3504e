"""Deadlines in words, Chinese and English: ``parse_deadline(text, today)``.

Every command that takes a date (``/due``, ``/plan``, extensions) and every guided flow's
date question goes through :func:`parse_deadline`. It returns the last day by which
something must be done, or ``None`` when the text holds no deadline. Free text (a
problem's description) goes through :func:`deadline_in_text`, which takes a date only when
a deadline cue binds it (see its docstring).
:func:`parse_deadline_detail` returns the same day as a :class:`Deadline` with the words
it was read from, as written, and the other dates the text held (a range's start, a
second date), for an echo that shows which date was taken. Officers write
dates the way they speak, so the rules below are hand-written; dateparser is not used
(with ``languages=['zh']`` it misses most of these forms, and it is slower).

Decisions (``today`` is the day the text is read):

* A range means its last day, and ``X前`` / ``by X`` / ``before X`` / ``until X`` mean X:
  ``12月5日前`` is 5 December, ``月底`` the month's last day, ``12月``, ``12月前``,
  ``by December`` are 31 December, ``2027年`` is 31 December 2027.
* Weeks run Monday to Sunday. A week as a whole (``本周``, ``下周``, ``this week``,
  ``next week``, ``end of (next) week``) is that week's **Friday**, the end of the
  working week. ``周末`` / ``weekend`` is that week's Sunday.
* ``下周五`` and ``next Friday`` are Friday of next week; ``下下周五`` and
  ``Friday after next`` the week after; ``本周五``, ``这周五``, ``this Friday`` are this
  week's Friday even when that has passed (the bot echoes the date, so the slip shows).
  A bare ``周五`` / ``星期五`` / ``礼拜五`` / ``Friday`` is the next Friday, today
  included; ``coming Friday`` excludes today. ``周日``, ``周天``, ``礼拜天`` are Sunday.
* Parts of a month: ``月初`` / ``beginning of`` / ``start of`` → 5th; ``上旬`` / ``early``
  → 10th; ``月中`` / ``mid`` / ``middle of`` → 15th; ``中旬`` → 20th; ``下旬``, ``月底``,
  ``月末``, ``月内``, ``late``, ``end of`` → last day. ``下个月`` / ``next month`` alone is
  the last day of next month, ``下个月5号`` the 5th of next month.
* Parts of a year: ``年初`` → 31 January, ``年中`` / ``上半年`` / ``mid-year`` / ``H1`` →
  30 June, ``年底`` / ``年末`` / ``年内`` / ``下半年`` / ``year end`` → 31 December.
  Quarters (``季度末``, ``下季度``, ``一季度``, ``Q3``) → the quarter's last day.
* Holidays (``元旦``, ``春节``/``过年``, ``除夕``, ``元宵``, ``清明``, ``劳动节``/``五一``,
  ``端午``, ``中秋``, ``国庆``/``十一``) follow the working-day calendar: ``X前`` (and a bare
  ``X``) is the **last working day before the days off around X begin** (``春节前`` in
  2026 is Saturday 14 February, the make-up day before the break of 15–23 February);
  ``X后`` is the **first working day after they end**, ``X后3个工作日内`` the third.
  ``X后一周内`` (``3天内``, ``半个月内``) counts calendar days from that first working day,
  not from today (``春节后一周内`` in 2027: Tuesday 9 February + 7 days).
  ``年前`` is ``春节前``; ``before Chinese New Year`` / ``Spring Festival`` / ``CNY``,
  ``after the holiday``, ``before National Day`` are read the same way.
  ``节后`` is the same after the holiday that is running or comes next, ``节前`` before the
  next one whose eve has not passed (a holiday is a day off that
  chinese_calendar names; weekends and configured local days off are not holidays).
  A festival that is no day off (``元宵``) is a one-day break. This year's, or next
  year's if passed; ``今年中秋前`` already passed is no deadline. Festival days come from
  ``lunardate`` and chinese_calendar's solar terms (清明).
* Lunar dates (``腊月十五``, ``正月十五``, ``农历八月十五``, ``二月初二``) are dates: that day,
  in this lunar year or the next if passed; a lunar month named alone is its last day.
  ``正月初八后`` is the first working day after that date (``正月初八前`` the date itself).
  ``农历年底`` / ``农历年末`` is the lunar New Year's Eve (除夕).
* ``元月`` is January (``元月底`` 31 January); ``次月`` is next month (``次月5日`` the 5th).
* A range (``12月8日至12日``, ``周三至周五``, ``12/8-12/12``, ``Mon to Wed``) is its end.
* A time of day never changes the day: ``周五三点前`` is Friday, ``by EOD tomorrow``
  tomorrow. A time alone (``下午5点前``, ``17:30``, ``今晚8点``, ``EOD``, ``5pm``) is
  **today, even if that hour has passed**: the parser is given no clock time, and the
  echo shows the date. ``3点`` with no part of the day, minute or ``前`` is no time
  (``以下3点意见`` are three points).
* ``第二个周五``, ``下月第一个周一``, ``本月最后一个周五``, ``the first Monday of January``:
  that weekday of that month (rolled as bare dates are, below). ``第50周`` /
  ``week 50`` is the Friday of that ISO week (rolled likewise). ``每月20日前`` is the
  next 20th (today included), ``每周五`` the next Friday; a frequency alone
  (``每两周报一次``, ``every two weeks``, ``一周两次``) is no deadline.
* English relative months: ``5th of this month``, ``this month 20th``, ``next month 8th``;
  ``next June`` is the last day of the first June after this month.
* Bare dates roll forward, unless they have just passed (one rule, :func:`_nearest`, for
  date fields and free text alike): a month-day (``12月5日``, ``12.5``, ``12/5``, ``12-5``,
  ``Dec 5``, ``5 Dec``) already past this year means next year's, and a day of month
  (``5号``, ``15日``, ``the 5th``) already past means next month's; likewise bare
  ``11月``, ``11月底``, ``月初``, ``上旬``, ``一季度``. But when the day passed is nearer
  than the day ahead, it is that past day: ``12月1日`` read on 3 December is 1 December
  2026, not 2027 (``1号`` the 1st of this month, ``12月30日`` on 2 January last
  December's), so a caller that wants a day ahead refuses it and asks again instead of
  setting a date a year off; ``3月1日`` on 3 December is still 1 March 2027. A day of the
  month ahead in this month is never last month's (``30号`` on 2 December is the 30th).
  ``年初`` and holidays keep their own rule (this year's, or next year's if passed).
  A date with its year (``2026-12-05``, ``2026/12/05``, ``2026年12月5日``,
  ``12/5/2026``) is taken as written. ``12.5``, ``12/5`` and ``12-5`` are month first:
  5 December (``12-5`` not inside a code, a phone number or a full date, and ``8-12日``
  is the 8th to the 12th).
* Counts: ``3天后``, ``3天内``, ``3日内``, ``in 3 days``, ``within 3 days`` → today + 3
  calendar days; ``两周后`` / ``in 2 weeks`` → + 14 days; ``半个月`` → + 15 days;
  ``3个月后`` / ``in 3 months`` → same day 3 months on (clamped to the month's end);
  ``24小时内`` → + 1 day (hours only when a whole number of days). Approximate Chinese
  counts take the upper end: ``两三天`` → 3 days.
* Working days (``3个工作日内``, ``within 5 working days``, ``5 business days``,
  ``下一个工作日``, ``next business day``) count on the scheduler's working-day calendar
  (China's, with make-up workdays), not counting today. Calendar-day deadlines are not
  moved off weekends or holidays.
* Words that only name the past (``昨天``, ``上周五``, ``上个月``, ``3天前``, ``去年下半年``,
  ``上一季度``, ``yesterday``, ``last Friday``, ``last year's Q3``, ``3 days ago``,
  ``2 days before``) are not deadlines: they are skipped and
  the rest of the text is still searched (``上周五没完成，下周五前完成`` → next Friday).
* Chinese numerals (``三天后``, ``十二月五号``, ``二〇二六年``, ``廿八`` through cn2an,
  ``俩``), full-width digits, traditional characters (``下週三``, ``下禮拜一``) and English
  number words (``two weeks``) are understood; ``号``/``日``, ``周``/``星期``/``礼拜`` are
  interchangeable, ``本周周四`` is ``本周四``, ``这一周`` is ``这周``, ``一下`` (a verb's
  "a bit") is not ``下``, ``月尾`` is ``月底`` and ``上中旬`` is ``中旬``.
  Text around the date is ignored, and when the text holds several dates the first one
  wins (the others are in ``Deadline.other``).
* A bare number is never a date: ``5号`` needs a date-like word after it (``3号楼`` is a
  building) and ``12.5`` must stand alone (``12.5亿元``, ``12.5%`` are amounts). An
  impossible date (``2月30日``, ``13.5``) is no date.
"""

from __future__ import annotations

import calendar as _calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from lunardate import LunarDate  # type: ignore[import-untyped]  # ships no types

from storage.workdays import DEFAULT_CALENDAR, WorkCalendar

__all__ = ["Deadline", "deadline_in_text", "parse_deadline", "parse_deadline_detail"]


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline read from text, with the words it came from (for the echo).

    ``day`` is the deadline; ``matched`` the words of the text that gave it, as written
    (a range's whole span, ``12月8日至12日``); ``other`` the other dates the text held, in
    the order written: a range's start, a second date mentioned later.
    """

    day: date
    matched: str
    other: tuple[date, ...] = ()


_Handler = Callable[[re.Match[str], date, WorkCalendar], date | None]
# Rules that name only a time of day (下午5点, EOD) give today, and only when nothing else
# in the text names a day: "by EOD tomorrow" is tomorrow.
# Each rule also says which script its pattern needs: a text without Chinese characters
# skips the _zh_ rules and one without Latin letters the _en_ rules, which halves the time.
_RULES: list[tuple[re.Pattern[str], _Handler, bool, str]] = []
_HAS_SCRIPT = {"zh": re.compile("[\u3400-\u9fff]"), "en": re.compile("[a-z]")}


def _rule(pattern: str, *, weak: bool = False) -> Callable[[_Handler], _Handler]:
    """Register a handler for a pattern; at equal start and length, earlier rules win."""

    def register(handler: _Handler) -> _Handler:
        script = handler.__name__[1:3] if handler.__name__[:4] in ("_zh_", "_en_") else ""
        _RULES.append((re.compile(pattern), handler, weak, script))
        return handler

    return register


def parse_deadline(text: str, today: date, calendar: WorkCalendar | None = None) -> date | None:
    """Return the deadline the text names relative to today, or None if it names none."""
    found = parse_deadline_detail(text, today, calendar)
    return None if found is None else found.day


# A range between two dates ("12月8日至12日", "Mon to Wed"): its end is the deadline.
_RANGE_JOIN = re.compile(r" ?(?:至|到|~|-|–|—|to|through|thru|till|until) ?")
# Not the month of a second date: "12-8至12-12" ends on 12-12, not on the 12th.
_RANGE_DAY = re.compile(r"(?P<d>\d{1,2})(?:日|号|st|nd|rd|th)?(?![\d月./:点时-])")

_Candidate = tuple[int, int, int, re.Match[str], _Handler, bool]


def parse_deadline_detail(
    text: str, today: date, calendar: WorkCalendar | None = None
) -> Deadline | None:
    """Return the deadline the text names, the words that gave it and its other dates."""
    s, spans = _normalize(text)
    if not s:
        return None
    cal = DEFAULT_CALENDAR if calendar is None else calendar
    dates, weak_dates = _read(s, today, cal)
    chosen = [x for x in dates if x.start < x.end] or weak_dates
    if not chosen:
        return None
    first = chosen[0]
    # A time of day is not another date: "周五三点" holds one day.
    others = sorted(dates, key=lambda x: x.start) if dates else weak_dates
    other = tuple(x.day for x in others if (x.start, x.end) != (first.start, first.end))
    matched = text[spans[first.start][0] : spans[first.end - 1][1]].strip()
    return Deadline(first.day, matched, other)


@dataclass(frozen=True, slots=True)
class _Read:
    """One date read from the normalized text: its span, day, rule and whether rolled."""

    start: int
    end: int
    day: date
    handler: _Handler | None  # None for a range's start
    match: re.Match[str] | None


def _read(s: str, today: date, cal: WorkCalendar) -> tuple[list[_Read], list[_Read]]:
    """Return the dates (and the weak ones, times of day) read from normalized text."""
    found: list[_Candidate] = []
    scripts = {"": True} | {k: bool(p.search(s)) for k, p in _HAS_SCRIPT.items()}
    for index, (pattern, handler, weak, script) in enumerate(_RULES):
        if not scripts[script]:
            continue
        for m in pattern.finditer(s):
            if m.end() > m.start():
                found.append((m.start(), m.start() - m.end(), index, m, handler, weak))
    # Leftmost first, then the longest reading at that spot ("下周五" over "下周").
    found.sort(key=lambda c: c[:3])
    used: list[tuple[int, int]] = []
    dates: list[_Read] = []
    weak_dates: list[_Read] = []
    for start, _, _, m, handler, weak in found:
        end = m.end()
        # A span already read or rejected (a past mention, an impossible date) must not
        # be re-read through a shorter rule: "3天前" is not "3天", "2月30日" is not "30日".
        if any(start < e and s_ < end for s_, e in used):
            continue
        result = handler(m, today, cal)
        used.append((start, end))
        if result is None:
            continue
        if not weak:
            end, result, start_day = _range_end(s, end, result, found, today, cal)
            used[-1] = (start, end)
            if start_day is not None:
                dates.append(_Read(start, start, start_day, None, None))
        (weak_dates if weak else dates).append(_Read(start, end, result, handler, m))
    return dates, weak_dates


# --- free text: a date counts only when a deadline cue binds it --------------------------

_CLAUSE_END = re.compile(r"[，。；;！!？?\n]|[,.](?!\d)")
# Right after the date: 前, 内, 截止, 到期, or the answer asked for (答复, 办结).
_CUE_AFTER = re.compile(
    r" ?的?(?:下班|中午|上午|下午|晚上|\d{1,2}(?:点|时|:\d{2}))?"
    r"(?:之前|以前|前|以内|之内|内|截止|为止|止|到期)?"
    r"(?P<verb> ?(?:给予|予以|作出|做出|进行)?(?:书面)?"
    r"(?:答复|回复|反馈|办结|落实|完成(?!投资|产值|任务量|额|率)|解决|处理|提交|上报|报送|报来))?"
)
_CUE_AFTER_WORD = re.compile(r"(?:之前|以前|前|以内|之内|内|截止|为止|止|到期)$")
# Before the date, in its clause: 请, 务必, 限; by, before, within, due.
_CUE_BEFORE = re.compile(
    r"(?:请|务必|限|必须|须|需要?在|需于|要求|截止(?:日期|时间)?(?:为|是|到)?|最迟|最晚|不晚于|不迟于)"
    r"[^，。；;,]{0,12}$"
    r"|(?<![a-z])please [^,.;]{0,30}$"
    r"|(?<![a-z])(?:by|before|until|till|no later than|not later than|within|due(?: on| by)?"
    r"|deadline(?: is)?:?)(?: the)? ?$"
)
_CUE_IN_MATCH = re.compile(r"(?:by|before|until|till|within|prior to|ahead of) ")
# What makes a date a statement of fact or a figure, not a deadline.
_PAST_AFTER = re.compile(
    r" ?(?:已|已经|曾|至今|以来|期间|累计|同比|环比|完成投资|完成产值|投资|产值|用电|营收|税收"
    r"|增长|下降|实现|共计|合计|总计|例会|例行|定期|不得|不准|不能|禁止|召开)"
)
_PAST_BEFORE = re.compile(
    r"(?:已经?|曾经?|累计|同比|自|从)(?:于|在)? ?(?:昨天|昨日|昨晚|前天)? ?$|[〕\]】]$"
    # A time right after a past day (昨天18:00) is that past day's.
    r"|(?:昨天|昨日|昨晚|前天) ?$"
    # A term counted from an event (出让后30日内): not from today, so no deadline.
    r"|[^节]后 ?$"
)
# 截至 ("as of") before a date: a limit when the date is ahead (截至12月10日), a status
# report when a figure or a fact follows (截至11月30日累计完成投资) or the date has passed.
_AS_OF_BEFORE = re.compile(r"截至(?:日期|时间)?(?:为|是|到)? ?$")
_FIGURE_AFTER = re.compile(r" ?[\d%]")
_STILL_AFTER = re.compile(r"至今|迄今|仍未|仍然|尚未|还未|还没|迟迟|一直未|一直没|依然")
_FREQUENCY_RULES = {"_zh_every", "_frequency"}


def deadline_in_text(
    text: str, today: date, calendar: WorkCalendar | None = None
) -> Deadline | None:
    """Return the deadline a free text (a problem, an instruction) asks for, or None.

    Unlike :func:`parse_deadline_detail`, which reads a date field, a date counts only
    when a deadline cue binds it: 前, 之前, 以内, 内, 截止, 到期, 答复, 回复, 完成, 办结,
    落实 after it, 请…, 务必…, 限… before it (``by``, ``before``, ``until``, ``no later
    than``, ``within``, ``due`` in English). A date stated as a fact or a figure
    (已, 至今, 累计, 同比, 完成投资, 产值, 用电量, a document number after 〔2026〕, 例会,
    每周…) is not. ``截至`` before a date binds it when the date is not past and no figure
    or fact follows (``截至12月10日``, not ``截至11月30日累计完成投资``).

    Dates are read as by the date field, so a month-day nearer in the past than in the
    future is that past day (``11月30日前报送`` on 3 December is 30 November): a
    cue-bound past day is returned, and the caller refuses it or falls back to its
    default term; a past day stated as a fact (``11月30日已提交``) is no deadline.
    """
    s, spans = _normalize(text)
    if not s:
        return None
    cal = DEFAULT_CALENDAR if calendar is None else calendar
    dates, weak_dates = _read(s, today, cal)
    kept = [x for x in dates if x.start < x.end and _bound(s, x, today)]
    kept = kept or [x for x in weak_dates if _bound(s, x, today)]
    if not kept:
        return None
    # A day ahead is the one asked for over a day passed ("11月30日报送的方案，请12月10日前
    # 落实"); a passed one is returned only when it is all the text asks for.
    kept.sort(key=lambda x: x.day < today)
    first = kept[0]
    other = tuple(x.day for x in kept[1:])
    matched = text[spans[first.start][0] : spans[first.end - 1][1]].strip()
    return Deadline(first.day, matched, other)


def _bound(s: str, x: _Read, today: date) -> bool:
    """Return whether a deadline cue binds the date read at x, and it is no fact."""
    if x.handler is None or x.match is None:
        return False
    if x.handler.__name__ in _FREQUENCY_RULES:
        return False
    if (x.day - today).days > _FREE_TEXT_HORIZON and not _names_year(x):
        return False  # 5年内达产: a term of years is a contract's, not a reply's
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(s, 0, x.start)), default=0)
    before = s[clause_start : x.start]
    if _PAST_BEFORE.search(before):
        return False
    cue = _CUE_AFTER.match(s, x.end)
    assert cue is not None  # every part is optional
    tail = s[cue.end() :]
    if _PAST_AFTER.match(tail) or (cue["verb"] and tail.startswith("的")):
        return False  # 累计完成投资…; 11月30日提交的方案 names a thing, asks nothing
    # 前, 内, 截止 after the date, before any verb: a limit in itself.
    upto = cue.start("verb") if cue["verb"] else cue.end()
    limit = bool(_CUE_AFTER_WORD.search(s, x.start, upto))
    limit = limit or s[x.start : upto].rstrip().endswith(("前", "内", "止"))
    if _AS_OF_BEFORE.search(before) and not limit:
        return x.day >= today and not _FIGURE_AFTER.match(s, x.end)
    if limit or _CUE_BEFORE.search(before) or _CUE_IN_MATCH.match(s, x.start):
        return True
    # A verb alone binds a day ahead (12月10日提交); a passed day with a verb is the past
    # told when the text goes on that nothing came of it (11月30日提交申请，至今未批复).
    return bool(cue["verb"]) and not (x.day < today and _STILL_AFTER.search(tail))


# No reply in a problem's text is asked for more than a year ahead unless the year is written.
_FREE_TEXT_HORIZON = 366


def _names_year(x: _Read) -> bool:
    assert x.match is not None
    groups = x.match.groupdict()
    return any(groups.get(k) for k in ("y", "y4", "y2", "yw", "rel"))


def _range_end(
    s: str,
    end: int,
    first: date,
    found: list[_Candidate],
    today: date,
    cal: WorkCalendar,
) -> tuple[int, date, date | None]:
    """Return (end, day, start day) of a range starting with a date read up to `end`.

    Without a range after the date, return (end, first, None) unchanged.
    """
    join = _RANGE_JOIN.match(s, end)
    if join is None:
        return end, first, None
    at = join.end()
    bare = _RANGE_DAY.match(s, at)
    if bare is not None:
        # "12月8日至12日": the end's month is the start's.
        last = _make(first.year, first.month, int(bare["d"]))
        if last is not None and last >= first:
            return bare.end(), last, first
    for start, _, _, m, handler, weak in found:
        if start == at and not weak:
            last = handler(m, today, cal)
            # "Monday to Wednesday" on a Thursday: the Wednesday after that Monday.
            while last is not None and first - timedelta(days=7) < last < first:
                last += timedelta(days=7)
            if last is not None and last < first:
                # An end without its year or month is the first such day from the start:
                # "the 12th to the 15th" on 28 January (the 12th of February ahead, the
                # 15th of January behind) ends on 15 February.
                last = handler(m, first, cal)
            if last is not None and last >= first:
                return m.end(), last, first
    return end, first, None


# --- normalization ------------------------------------------------------------------

_ZH_DIGIT = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
_ZH_NUMBER = re.compile("[零〇一二两三四五六七八九十百千廿卅]+")
_EN_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30,
}  # fmt: skip
_EN_NUMBER = re.compile(r"(?<![a-z])(" + "|".join(_EN_NUMBER_WORDS) + r")(?![a-z])")
_CJK = r"\u3400-\u9fff"
# Spaces between Chinese words or between a number and a Chinese word carry no meaning
# ("12 月 5 日", "下周 五") but would break every pattern.
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}\d])\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+(?=\d)")
_SPACES = re.compile(r"\s+")


def _zh_number(run: str) -> int | None:
    """Return the value of a run of Chinese numerals, or None if it is not a number."""
    if "廿" in run or "卅" in run:
        return _cn2an(run)
    if len(run) == 1:
        return _ZH_DIGIT.get(run, _ZH_UNIT.get(run))
    if not any(ch in _ZH_UNIT for ch in run):
        digits = [_ZH_DIGIT[ch] for ch in run]
        if len(run) == 2 and digits[0] > 0 and digits[1] == digits[0] + 1:
            # "两三天", "三四个工作日": an approximate count, and a deadline takes its end.
            return digits[1]
        if len(run) == 4 and "两" not in run:
            # Years are read digit by digit: 二〇二六.
            return int("".join(map(str, digits)))
        return None
    total = 0
    pending: int | None = None
    last_unit = 10_000
    for ch in run:
        if ch in _ZH_UNIT:
            unit = _ZH_UNIT[ch]
            if unit >= last_unit:
                return None
            total += (1 if pending is None else pending) * unit
            last_unit, pending = unit, None
        elif pending is not None and pending != 0:
            return None
        else:
            pending = _ZH_DIGIT[ch]
    return total + (pending or 0)


def _cn2an(run: str) -> int | None:
    """Read a run with 廿 (20) or 卅 (30), as in 十二月廿八, with cn2an.

    Imported on first use: cn2an takes about 0.25 s to import, and only these rare
    runs need it; the common runs are read by :func:`_zh_number` in microseconds.
    """
    import cn2an  # type: ignore[import-untyped]  # ships no types

    try:
        value = cn2an.cn2an(run, "smart")
    except (ValueError, KeyError):
        return None
    return int(value) if isinstance(value, int | float) and value == int(value) else None


def _zh_number_sub(m: re.Match[str]) -> str:
    """Replace a run of Chinese numerals by Arabic digits when it reads as a number."""
    value = _zh_number(m.group())
    if value is None:
        return m.group()
    # Keep "周五12月11日" from gluing into "周512月11日".
    before = " " if m.start() > 0 and m.string[m.start() - 1].isdigit() else ""
    after = " " if m.end() < len(m.string) and m.string[m.end()].isdigit() else ""
    return f"{before}{value}{after}"


_Spans = list[tuple[int, int]]


def _sub(
    pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str], s: str, spans: _Spans
) -> tuple[str, _Spans]:
    """Return re.sub's result and, for each character, the original span it came from."""
    parts: list[str] = []
    new_spans: _Spans = []
    pos = 0
    for m in pattern.finditer(s):
        if m.end() == m.start():
            continue
        replacement = repl(m)
        parts.append(s[pos : m.start()])
        new_spans += spans[pos : m.start()]
        parts.append(replacement)
        new_spans += [(spans[m.start()][0], spans[m.end() - 1][1])] * len(replacement)
        pos = m.end()
    if not parts:
        return s, spans
    parts.append(s[pos:])
    new_spans += spans[pos:]
    return "".join(parts), new_spans


def _normalize(text: str) -> tuple[str, _Spans]:
    """Fold full-width forms, case, spacing and number words into one spelling.

    Return the folded text and, for each of its characters, the span of ``text`` it
    came from, so that the words a date was read from can be quoted as written.
    """
    chars: list[str] = []
    spans: _Spans = []
    for i, ch in enumerate(text):
        folded = ch.lower() if ch.isascii() else unicodedata.normalize("NFKC", ch).lower()
        folded = folded.translate(_TRADITIONAL)
        chars.append(folded)
        spans += [(i, i + 1)] * len(folded)
    s = "".join(chars)
    for pattern, repl in _FOLDS:
        s, spans = _sub(pattern, repl, s, spans)
    lead = len(s) - len(s.lstrip())
    s, spans = s.strip(), spans[lead : lead + len(s.strip())]
    return s, spans


# Traditional characters that date words use, folded to simplified ones.
_TRADITIONAL = str.maketrans(
    "週禮號後內個兩臘節點時這當過國慶勞動陽曆農陰舊終與隔開長際俩倆",
    "周礼号后内个两腊节点时这当过国庆劳动阳历农阴旧终与隔开长际两两",
)
_WEEK_ZH = "(?:周|星期|礼拜)"
# What may stand before 年前 for it not to mean the Spring Festival.
_YEAR_BEFORE_NOT = "多几今明去后前本当同上下往早近历每成少老新周整全过半数百千万"
_ZH_WD_DIGIT = {
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "日": "7",
    "天": "7",
}
_FOLDS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    # "核对一下周五": 一下 is a verb's "a bit", not 下 (next); "统一下周" is 统一 + 下周.
    (re.compile("(?<![统唯万划整])一下(?=[下本这周星礼])"), lambda m: " "),
    # "周五三点": the weekday must not run into the hour's numeral ("五三").
    (
        re.compile("(?<=[周期拜])[一二三四五六日天](?=[零〇一二两三四五六七八九十])"),
        lambda m: _ZH_WD_DIGIT[m.group()] + " ",
    ),
    # Holidays named by their dates: 五一 (Labour Day) and 十一 (National Day).
    (re.compile("五一(?:劳动节|节)?"), lambda m: "劳动节"),
    (
        re.compile(
            "(?<![零〇一二两三四五六七八九十百\\d月第周期拜])十一(?=节|前|之前|以前|后|之后|以后|假|长假|黄金周)"
        ),
        lambda m: "国庆",
    ),
    # Two tenths of a month mean the later one; 月尾 is 月底.
    (re.compile("上中旬"), lambda m: "中旬"),
    (re.compile("中下旬"), lambda m: "下旬"),
    (re.compile("(?<=[月年])尾"), lambda m: "底"),
    # 元月 is January (not 元旦, the day).
    (re.compile("(?<![单纪公])元月"), lambda m: "1月"),
    (_ZH_NUMBER, _zh_number_sub),
    (_EN_NUMBER, lambda m: str(_EN_NUMBER_WORDS[m.group(1)])),
    (_CJK_SPACE, lambda m: ""),
    (_SPACES, lambda m: " "),
    # "这一周", "下一个月", "上一季度" are 这周, 下个月, 上季度 (not a week's length).
    (re.compile("(?<=[这下本上当])1(?=个?(?:周|星期|礼拜|月|季度))"), lambda m: ""),
    # "本周周四", "下周的周五": the week named twice.
    (re.compile(f"{_WEEK_ZH}的?(?={_WEEK_ZH}[1-7日天])"), lambda m: ""),
    # 年前 alone is before the Spring Festival break, like 春节前 ("3年前", "今年前三季度",
    # "多年前" are not).
    (re.compile(f"(?<![\\d{_YEAR_BEFORE_NOT}])年(?=(?:之|以)?前)"), lambda m: "春节"),
]


# --- date arithmetic ----------------------------------------------------------------


def _make(year: int, month: int, day: int) -> date | None:
    """Return the date, or None if it does not exist."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    """Return the last day of the month."""
    return date(year, month, _calendar.monthrange(year, month)[1])


def _shift_month(year: int, month: int, n: int) -> tuple[int, int]:
    """Return the (year, month) n months after the given one."""
    index = year * 12 + month - 1 + n
    return index // 12, index % 12 + 1


def _add_months(d: date, n: int) -> date:
    """Return the same day n months on, clamped to that month's last day."""
    year, month = _shift_month(d.year, d.month, n)
    return date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


def _week_day(today: date, weeks: int, weekday: int) -> date:
    """Return the given weekday (Monday 0) of the week `weeks` after today's."""
    return today + timedelta(days=7 * weeks + weekday - today.weekday())


def _coming_weekday(today: date, weekday: int, *, include_today: bool) -> date:
    """Return the next date with the given weekday, today included if asked."""
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return today + timedelta(days=ahead)


def _month_point(year: int, month: int, day: int | None) -> date | None:
    """Return the day of the month, or its last day for None; None if impossible."""
    if not 1 <= month <= 12:
        return None
    return _month_end(year, month) if day is None else _make(year, month, day)


def _nearest(
    today: date, before: date | None, this: date | None, after: date | None
) -> date | None:
    """Return the day a date written without its year (or month) means: the one rule.

    ``this`` is the day in today's year (month), ``before`` and ``after`` the same day a
    period earlier and later (None where it does not exist, or, for a day of the month,
    ``before`` always None: ``30号`` on 2 December is the 30th ahead, not 30 November).
    A day not passed is taken, and a passed one rolls a period ahead, unless the day
    passed is nearer than the one ahead: then the text speaks of that past day
    (``12月1日`` on 3 December is two days ago, not a year on), and the callers refuse
    it as past and ask again rather than set a date a year off. None if ``this`` is None.
    """
    if this is None:
        return None
    past, ahead = (before, this) if this >= today else (this, after)
    if past is None or past >= today:
        return ahead
    if ahead is None:
        return past
    return past if today - past < ahead - today else ahead


def _roll_year(today: date, month: int, day: int | None) -> date | None:
    """Return the month's day (last day for None) nearest today, by :func:`_nearest`."""
    y = today.year
    return _nearest(
        today,
        _month_point(y - 1, month, day),
        _month_point(y, month, day),
        _month_point(y + 1, month, day),
    )


def _day_of_month(today: date, day: int, months_ahead: int | None) -> date | None:
    """Return that day in a given month, or, if not given, by :func:`_nearest`: this
    month's, or next month's if passed, unless this month's passed nearer."""
    year, month = _shift_month(today.year, today.month, months_ahead or 0)
    result = _make(year, month, day)
    if months_ahead is not None:
        return result
    return _nearest(today, None, result, _make(*_shift_month(year, month, 1), day))


def _quarter_end(today: date, quarters_ahead: int) -> date:
    """Return the last day of the quarter `quarters_ahead` after today's."""
    first_month = (today.month - 1) // 3 * 3 + 1
    year, month = _shift_month(today.year, first_month, 3 * quarters_ahead + 2)
    return _month_end(year, month)


def _year_part(year: int, part: str) -> date:
    """Return the deadline for a part of a year: its end, start, or middle."""
    if part in ("初", "年初", "beginning", "start", "early"):
        return date(year, 1, 31)
    if part in ("中", "年中", "上半年", "middle", "mid", "h1"):
        return date(year, 6, 30)
    return date(year, 12, 31)


# Day of the month that stands for a part of it; None is the month's last day.
_MONTH_PART: dict[str | None, int | None] = {
    None: None, "底": None, "末": None, "内": None, "下旬": None, "end": None, "late": None,
    "初": 5, "beginning": 5, "start": 5,
    "上旬": 10, "early": 10,
    "中": 15, "mid": 15, "middle": 15,
    "中旬": 20,
}  # fmt: skip

# How many months, weeks or quarters ahead a Chinese relative word points.
_ZH_AHEAD = {
    "本": 0, "这": 0, "这个": 0, "当": 0, "下": 1, "下个": 1, "次": 1, "下下": 2, "下下个": 2,
}  # fmt: skip
_ZH_YEAR_AHEAD = {"今年": 0, "本年": 0, "本年度": 0, "明年": 1, "后年": 2}
_ZH_WEEKDAY = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6, "日": 6, "天": 6}

_FRIDAY, _SUNDAY = 4, 6


def _zh_year(m: re.Match[str], today: date) -> int | None:
    """Return the year named by the yw/y4/y2 groups, or None if none is named."""
    groups = m.groupdict()
    if groups.get("yw"):
        return today.year + _ZH_YEAR_AHEAD[groups["yw"]]
    if groups.get("y4"):
        return int(groups["y4"])
    if groups.get("y2"):
        return 2000 + int(groups["y2"])
    return None


def _plausible_year(year: int) -> bool:
    """Return whether a written year can be a deadline's (not an amount or a code)."""
    return 2000 <= year <= 2099


# --- building blocks for patterns ---------------------------------------------------

_NB = r"(?<![\d.])"  # a number starts here, not inside another number
_RELW = r"(?P<rel>下下个|下下|下个|下|本|这个|这|当|(?<![\d多几每首再历屡数各])次)"
_ZH_YEAR = (
    r"(?:(?P<yw>今年|本年度|本年|明年|后年)|(?<!\d)(?P<y4>\d{4})年"
    r"|(?<!\d)(?P<y2>\d{2})年(?=\d{1,2}月|第?[1-4]季度|年?[底末初]|年?中(?![秋旬])|[上下]半年))"
)
# What may follow a bare "5号"/"12.5" for it to be a date and not a building or an amount.
_DAY_END = (
    r"(?=$|[^\w.%]|前|之前|以前|左右|止|截止|为止|完成|当天|上午|下午|晚上|中午|早上|下班"
    r"|提交|上报|报送|办结|到期|至|到(?=\d|下|本|这|周|星期|礼拜))"
)
_B, _E = r"(?<![a-z])", r"(?![a-z])"  # English word edges, also next to Chinese text
_WEEKDAYS_EN = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_WD_EN = "|".join(sorted(_WEEKDAYS_EN, key=len, reverse=True))
_MONTHS_EN = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_MON = "(?P<mon>" + "|".join(sorted(_MONTHS_EN, key=len, reverse=True)) + r")\.?"
# Abbreviations that are also ordinary words count only after a word that expects a day.
_AMBIGUOUS_EN = frozenset({"sat", "sun", "wed", "mar", "may"})
_DAY_CUE_BEFORE = re.compile(
    r"(?<![a-z])(?:on|by|before|until|till|due|this|next|coming|following)\s$"
)
_ORD = r"(?:st|nd|rd|th)?"
# A date right after a weekday ("Friday, December 11", "周五12月11日") says which one.
_DATE_NEXT = re.compile(
    rf"[ ,(（]*(?:\d{{1,4}}[-/.月]\d|(?:\d{{1,2}}{_ORD} ?(?:of )?)?{_MON}(?![a-z]))"
)
_LETTER_NEXT = re.compile(r" ?[a-z]")


def _count(word: str) -> int:
    """Return the count an English or digit word stands for ("a week" is one week)."""
    return 1 if word in ("a", "an") else int(word)


# --- Chinese: past mentions, skipped ------------------------------------------------


@_rule(
    r"昨天|昨日|昨晚|前天"
    r"|(?:大?前年|去年|上1?个?年度?)的?(?:年?[底末初中终]|年内|[上下]半年|第?[1-4]季度[末底]?"
    r"|\d{1,2}月份?(?:\d{1,2}[日号]|[底末初]|[上中下]旬)?|同期)?"
    r"|(?<![马早晚线])上+个?(?:周|星期|礼拜)[1-7日天末]?"
    r"|(?<![马早晚线])上+个?月份?(?:底|末|初|中旬|中|上旬|下旬|\d{1,2}[日号])?"
    r"|(?<![马早晚线])上+个?季度?(?:末|底)?"
    rf"|{_NB}\d+个?(?:天|周|星期|礼拜|工作日|小时)(?:之|以)?前"
    rf"|{_NB}\d+个(?:半)?月(?:之|以)?前|(?<!\d)\d{{1,2}}年(?:之|以)?前|半个?月(?:之|以)?前"
)
def _zh_past(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Skip a mention of the past: it is never a deadline."""
    return None


# --- Chinese: relative days and counts ----------------------------------------------


@_rule(r"大后天|后天|明天|明日|明早|明晚|今天|今日|今晚")
def _zh_day_word(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 今天, 明天, 后天, 大后天."""
    word = m.group()
    ahead = 3 if word == "大后天" else 2 if word == "后天" else 1 if word[0] == "明" else 0
    return today + timedelta(days=ahead)


@_rule(rf"{_NB}(?P<n>\d{{1,3}})个?工作日")
def _zh_workdays(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 3个工作日内: the n-th working day after today."""
    return cal.add_workdays(today, int(m["n"]))


@_rule(r"下1?个?工作日")
def _zh_next_workday(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 下一个工作日: the first working day after today."""
    return cal.add_workdays(today, 1)


@_rule(
    rf"(?<!第){_NB}(?P<n>\d{{1,3}})个?(?:天|日(?=后|内|之内|以内|之后|以后))"
    r"|(?P<half>半个?月)"
)
def _zh_days(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 3天后, 3天内, 3日内, 半个月: calendar days from today."""
    return today + timedelta(days=15 if m["half"] else int(m["n"]))


@_rule(rf"(?<!第){_NB}(?P<n>\d{{1,2}})个?(?:周|星期|礼拜)(?![1-7日天末])")
def _zh_weeks(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 两周后, 1个星期内: weeks from today."""
    return today + timedelta(weeks=int(m["n"]))


@_rule(rf"{_NB}(?P<n>\d{{1,2}})个(?P<half>半)?月|(?P<halfyear>半年)")
def _zh_months(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 3个月后, 1个半月, 半年: the same day months on."""
    if m["halfyear"]:
        return _add_months(today, 6)
    return _add_months(today, int(m["n"])) + timedelta(days=15 if m["half"] else 0)


@_rule(r"(?<!\d)(?P<n>\d{1,2})年(?:后|内|之内|以内|之后|以后)")
def _zh_years(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 1年内, 2年后: the same day years on."""
    return _add_months(today, 12 * int(m["n"]))


@_rule(rf"{_NB}(?P<n>\d{{1,3}})个?小时")
def _zh_hours(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 24小时内, 48小时: whole days only, as the day of the hour is unknown."""
    hours = int(m["n"])
    return today + timedelta(days=hours // 24) if hours and hours % 24 == 0 else None


# --- Chinese: weeks ------------------------------------------------------------------


@_rule(r"(?P<rel>下下个|下下|下个|下|本|这个|这)?(?:周|星期|礼拜)(?P<wd>[1-7日天])(?!\d)")
def _zh_weekday(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 下周五, 本周五, 周五: a weekday of a given week, or the coming one."""
    weekday = _ZH_WEEKDAY[m["wd"]]
    if _DATE_NEXT.match(m.string, m.end()):
        return None
    if m["rel"] is None:
        return _coming_weekday(today, weekday, include_today=True)
    return _week_day(today, _ZH_AHEAD[m["rel"]], weekday)


@_rule(r"(?P<rel>下下个|下下|下个|下|本|这个|这)?周末")
def _zh_weekend(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 周末, 下周末: that week's Sunday."""
    return _week_day(today, _ZH_AHEAD[m["rel"]] if m["rel"] else 0, _SUNDAY)


@_rule(r"(?P<rel>下下个|下下|下个|下|本|这个|这)(?:周|星期|礼拜)")
def _zh_week(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 本周, 下周: that week's Friday."""
    return _week_day(today, _ZH_AHEAD[m["rel"]], _FRIDAY)


# --- Chinese: dates, months, quarters, years ----------------------------------------


@_rule(rf"{_ZH_YEAR}(?P<mo>\d{{1,2}})月(?P<d>\d{{1,2}})(?:日|号)?(?!\d)")
def _zh_full_date(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 2026年12月5日 (and 今年/明年12月5日) as written."""
    year = _zh_year(m, today)
    if year is None or not _plausible_year(year):
        return None
    return _make(year, int(m["mo"]), int(m["d"]))


@_rule(rf"{_NB}(?P<y>\d{{4}})[-/.](?P<mo>\d{{1,2}})[-/.](?P<d>\d{{1,2}})(?!\d)")
def _iso_date(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 2026-12-05, 2026/12/5, 2026.12.05 as written."""
    year = int(m["y"])
    return _make(year, int(m["mo"]), int(m["d"])) if _plausible_year(year) else None


@_rule(r"(?<![\d./])(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})(?![\d/])")
def _us_date(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 12/5/2026 month first, as written."""
    year = int(m["y"])
    return _make(year, int(m["mo"]), int(m["d"])) if _plausible_year(year) else None


@_rule(rf"{_NB}(?P<mo>\d{{1,2}})月份?(?P<d>\d{{1,2}})(?:日|号|{_DAY_END})")
def _zh_month_day(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 12月5日, 12月5号: this year's, or next year's if it has passed."""
    return _roll_year(today, int(m["mo"]), int(m["d"]))


@_rule(rf"{_RELW}月份?(?P<d>\d{{1,2}})(?:日|号)")
def _zh_rel_month_day(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 下个月5号, 本月20日."""
    return _day_of_month(today, int(m["d"]), _ZH_AHEAD[m["rel"]])


@_rule(rf"{_ZH_YEAR}?{_NB}(?P<mo>\d{{1,2}})月份?(?P<part>底|末|初|中旬|中(?!秋)|上旬|下旬|内)?")
def _zh_month(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 12月, 3月底, 明年3月中旬: a part of a month, rolled forward if bare."""
    month, day = int(m["mo"]), _MONTH_PART[m["part"]]
    year = _zh_year(m, today)
    if year is None:
        return _roll_year(today, month, day)
    return _month_point(year, month, day) if _plausible_year(year) else None


@_rule(rf"{_RELW}个?月份?(?P<part>底|末|初|中旬|中(?!秋)|上旬|下旬|内)?")
def _zh_rel_month(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 本月, 下个月, 下月初: a part of a relative month."""
    year, month = _shift_month(today.year, today.month, _ZH_AHEAD[m["rel"]])
    return _month_point(year, month, _MONTH_PART[m["part"]])


@_rule(r"月(?P<part>底|末|初|中旬|中(?!秋)|内)|(?<!月)(?P<tenth>上旬|中旬|下旬)")
def _zh_bare_month_part(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 月底, 月初, 下旬: this month's, or next month's if it has passed (unless
    this month's passed nearer: 月初 on the 10th is the 5th)."""
    day = _MONTH_PART[m["part"] or m["tenth"]]
    this = _month_point(today.year, today.month, day)
    return _nearest(today, None, this, _month_point(*_shift_month(today.year, today.month, 1), day))


# "会议室3号", "厂房5号" are rooms and buildings, not days.
@_rule(rf"(?<![\d.月第室楼栋层房厅块线区站门库])(?P<d>\d{{1,2}})(?:日|号){_DAY_END}")
def _zh_day(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 5号, 15日前: this month's, or next month's if it has passed."""
    return _day_of_month(today, int(m["d"]), None)


@_rule(
    rf"(?<![\d./a-z])(?P<mo>\d{{1,2}})[./](?P<d>\d{{1,2}})(?![\d./]){_DAY_END}"
    # 12-15 as a year-less 2026-12-15: not inside a code, a phone number or a full date
    # (ABC-12-5, 0571-8888, 2026-12-15), not a numbered item (第3-5条), not a count
    # (1-2 weeks, 3-5天), and not a range of days (8-12日, 12月8-12日).
    rf"|(?<![\d./a-z\-月第室楼栋层房厅块线区站门库条款项题表图])(?P<mo2>\d{{1,2}})-(?P<d2>\d{{1,2}})"
    rf"(?![\d./\-])(?! ?[a-z]){_DAY_END}"
)
def _numeric_month_day(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 12.5, 12/5 and 12-5 month first: this year's, or next year's if it has passed."""
    return _roll_year(today, int(m["mo"] or m["mo2"]), int(m["d"] or m["d2"]))


@_rule(rf"{_ZH_YEAR}?第?(?<![\d.])(?P<q>[1-4])季度(?:末|底|内)?")
def _zh_quarter(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 一季度, 明年二季度末: the quarter's last day, rolled forward if bare."""
    month = 3 * int(m["q"])
    year = _zh_year(m, today)
    if year is None:
        return _roll_year(today, month, None)
    return _month_end(year, month) if _plausible_year(year) else None


@_rule(rf"{_RELW}个?季度?(?:末|底|内)?")
def _zh_rel_quarter(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 本季度, 下个季度末: that quarter's last day."""
    return _quarter_end(today, _ZH_AHEAD[m["rel"]])


@_rule(r"季度?[末底]")
def _zh_quarter_end(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 季度末, 季末: this quarter's last day."""
    return _quarter_end(today, 0)


@_rule(
    rf"{_ZH_YEAR}(?P<part>年底|年末|年初|年中(?!秋)|年内|底|末|初|中(?![秋旬])|内|终|[上下]半年)?"
    # A holiday this parser does not know must not turn into the year's end.
    r"(?!春节|过年|除夕|元宵|中秋|端午|清明|劳动节|五一|国庆|元旦|节后)"
)
def _zh_year_part(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 今年, 明年底, 2027年, 明年上半年: a part of a year."""
    year = _zh_year(m, today)
    if year is None or not _plausible_year(year):
        return None
    return _year_part(year, m["part"] or "")


@_rule(r"年(?P<part>底|末|初|中(?![秋旬])|内|终)|(?P<half>[上下]半年)")
def _zh_bare_year_part(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 年底, 年初, 上半年: this year's, or next year's if it has passed."""
    part = m["part"] or m["half"]
    result = _year_part(today.year, part)
    return result if result >= today else _year_part(today.year + 1, part)


# --- English --------------------------------------------------------------------------


@_rule(
    rf"{_B}(?:yesterday|(?:the )?day before yesterday)"
    rf"|{_B}(?:last|past|previous) year(?:'s)?(?: (?:q[1-4]|h[12]|end|first half|second half))?{_E}"
    rf"|{_B}(?:last|past|previous) (?:week|month|quarter|year|{_WD_EN}){_E}"
    rf"|{_B}(?:\d+|an?) (?:(?:working|business|work) ?days?|workdays?|days?|weeks?|months?"
    rf"|years?|hours?|fortnights?) (?:ago|before|earlier|prior|back){_E}"
    rf"|{_B}(?:the )?(?:year|month|week|day) before(?: last)?{_E}"
)
def _en_past(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Skip a mention of the past: it is never a deadline."""
    return None


@_rule(
    rf"{_B}(?:today|tonight){_E}|{_B}(?:tomorrow|tmrw|tmr|tmw){_E}"
    rf"|{_B}(?:the )?day after tomorrow{_E}"
)
def _en_day_word(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read today, tomorrow, the day after tomorrow, end of day."""
    word = m.group()
    if word.endswith("after tomorrow"):
        return today + timedelta(days=2)
    return today + timedelta(days=1 if word in ("tomorrow", "tmrw", "tmr", "tmw") else 0)


@_rule(
    rf"{_B}(?P<n>\d{{1,3}}|an?) ?(?:(?:working|business|work)[ -]?days?|workdays?){_E}"
    rf"|{_B}(?P<next>next) (?:(?:working|business|work) ?day|workday){_E}"
)
def _en_workdays(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read within 5 working days, 3 business days, next business day."""
    return cal.add_workdays(today, 1 if m["next"] else _count(m["n"]))


@_rule(
    rf"{_B}(?:(?P<pre>in|within|after) )?(?P<n>\d{{1,3}}|an?) ?"
    rf"(?P<unit>days?|weeks?|fortnights?|months?|years?|hours?){_E}"
    r"(?P<post>'s time| time| from now| from today| later)?"
)
def _en_duration(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read in 3 days, within 2 weeks, 3 months from now, 48 hours."""
    n = _count(m["n"])
    if m["n"] in ("a", "an") and not (m["pre"] or m["post"]):
        return None  # "twice a week" is a frequency, not a deadline
    unit = m["unit"].rstrip("s")
    if unit == "hour":
        return today + timedelta(days=n // 24) if n and n % 24 == 0 else None
    if unit in ("day", "week", "fortnight"):
        return today + timedelta(days=n * {"day": 1, "week": 7, "fortnight": 14}[unit])
    return _add_months(today, n * (12 if unit == "year" else 1))


@_rule(
    rf"{_B}(?:(?P<pre>next week(?:'?s)?|this week(?:'?s)?|this coming|coming|following|this|next)"
    r" )?"
    rf"(?P<wd>{_WD_EN})\.?{_E}(?: (?P<post>after next|next week|this week))?"
)
def _en_weekday(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read Friday, this Friday, next Friday, Friday next week, Friday after next."""
    weekday = _WEEKDAYS_EN[m["wd"]]
    pre, post = m["pre"] or "", m["post"] or ""
    if m["wd"] in _AMBIGUOUS_EN and not (pre or post) and not _standalone(m):
        return None
    if _DATE_NEXT.match(m.string, m.end()):
        return None
    if post == "after next":
        return _week_day(today, 2, weekday)
    if pre.startswith("next") or pre == "following" or post == "next week":
        return _week_day(today, 1, weekday)
    if pre.startswith("this week") or pre == "this" or post == "this week":
        return _week_day(today, 0, weekday)
    return _coming_weekday(today, weekday, include_today="coming" not in pre)


def _standalone(m: re.Match[str]) -> bool:
    """Return whether an ambiguous word is the whole text or follows a word cueing a day."""
    whole = m.start() == 0 and m.end() == len(m.string)
    return whole or bool(_DAY_CUE_BEFORE.search(m.string, 0, m.start()))


@_rule(
    rf"{_B}(?:(?:by )?the end of |end of )?(?P<rel>this|next) week{_E}"
    rf"|{_B}(?P<after>(?:the )?week after next){_E}"
    rf"|{_B}(?:by )?(?:the )?end of (?:the )?week{_E}|{_B}eow{_E}"
)
def _en_week(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read this week, next week, end of the week, week after next: that Friday."""
    weeks = 2 if m["after"] else 1 if m["rel"] == "next" else 0
    return _week_day(today, weeks, _FRIDAY)


@_rule(rf"{_B}(?:(?P<rel>this|next) |the )?weekend{_E}")
def _en_weekend(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read the weekend, next weekend: that week's Sunday."""
    return _week_day(today, 1 if m["rel"] == "next" else 0, _SUNDAY)


@_rule(rf"{_B}{_MON}{_E} ?(?P<d>\d{{1,2}}){_ORD}{_E}(?!\d|:)(?:,? (?P<y>\d{{4}})(?!\d))?")
def _en_month_day(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read Dec 5, December 5th, Dec 5, 2026."""
    return _en_date(m, today)


@_rule(
    rf"(?<![\d.])(?P<d>\d{{1,2}})(?P<ord>st|nd|rd|th)? ?(?P<of>of )?{_MON}{_E}"
    r"(?:,? (?P<y>\d{4})(?!\d))?"
)
def _en_day_month(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 5 Dec, 5th of December, 5 December 2026."""
    plain = not (m["ord"] or m["of"] or m["y"])
    # "item 3 may slip" is not 3 May: the plain form of an ambiguous month ends a phrase.
    if plain and m["mon"] in _AMBIGUOUS_EN and _LETTER_NEXT.match(m.string, m.end()):
        return None
    return _en_date(m, today)


def _en_date(m: re.Match[str], today: date) -> date | None:
    """Return the English month-day, as written with a year, else rolled forward."""
    month, day = _MONTHS_EN[m["mon"]], int(m["d"])
    if m["y"]:
        year = int(m["y"])
        return _make(year, month, day) if _plausible_year(year) else None
    return _roll_year(today, month, day)


@_rule(
    rf"{_B}(?:(?P<part>end|beginning|start|middle) of |(?P<part2>early|mid|late)[ -]?"
    rf"|(?P<cue>by|before|until|till|in|during|within|for) )?{_MON}{_E}"
    r"(?! ?\d{1,2}(?!\d))(?: (?P<y>\d{4})(?!\d))?"
)
def _en_month(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read end of December, mid-March, by May, December 2026: a part of a month."""
    word = m["mon"]
    qualified = m["part"] or m["part2"] or m["cue"] or m["y"]
    # "march on" and "you may" are not months; a bare name is one only on its own.
    if not qualified and not (m.start() == 0 and m.end() == len(m.string)):
        return None
    month, day = _MONTHS_EN[word], _MONTH_PART[m["part"] or m["part2"] or "end"]
    if m["y"]:
        year = int(m["y"])
        return _month_point(year, month, day) if _plausible_year(year) else None
    return _roll_year(today, month, day)


@_rule(
    rf"{_B}(?P<end>month[ -]?end|eom){_E}"
    rf"|{_B}(?:(?P<part>end|beginning|start|middle) of (?:the )?|(?P<part2>early|mid|late)[ -]?)?"
    rf"(?:(?P<rel>this|next) )?month{_E}"
)
def _en_rel_month(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read this month, next month, end of (next) month, early next month, mid-month."""
    part = m["part"] or m["part2"]
    if not (part or m["rel"] or m["end"]):
        return None  # "the month" alone names no particular day
    part = part or "end"
    year, month = _shift_month(today.year, today.month, 1 if m["rel"] == "next" else 0)
    return _month_point(year, month, _MONTH_PART[part])


@_rule(
    rf"{_B}the (?P<d>\d{{1,2}}){_ORD}(?![\da-z])"
    rf"(?: of (?:(?P<rel>this|next) month|{_MON}(?:,? (?P<y>\d{{4}})(?!\d))?){_E})?"
)
def _en_day_of_month(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read the 5th, the 15th of next month, the 5th of December."""
    if m["mon"]:
        return _en_date(m, today)
    ahead = None if m["rel"] is None else 1 if m["rel"] == "next" else 0
    return _day_of_month(today, int(m["d"]), ahead)


@_rule(
    rf"{_B}(?P<qend>quarter[ -]?end|eoq){_E}"
    rf"|{_B}(?P<end>(?:the )?end of (?:the )?)?(?:(?P<rel>this|next) )?quarter{_E}"
    rf"|{_B}(?:(?:the )?end of )?q(?P<q>[1-4])(?: (?P<y>\d{{4}}))?(?![\da-z])"
)
def _en_quarter(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read end of the quarter, next quarter, Q3, Q1 2027: the quarter's last day."""
    if not (m["q"] or m["rel"] or m["end"] or m["qend"]):
        return None  # "a quarter of the land"
    if m["q"]:
        month = 3 * int(m["q"])
        if m["y"]:
            year = int(m["y"])
            return _month_end(year, month) if _plausible_year(year) else None
        return _roll_year(today, month, None)
    return _quarter_end(today, 1 if m["rel"] == "next" else 0)


@_rule(
    rf"{_B}(?P<yend>year[ -]?end|eoy){_E}"
    rf"|{_B}(?:(?P<part>end|beginning|start|middle) of (?:the )?|(?P<part2>early|mid|late)[ -]?)?"
    rf"(?:(?P<rel>this|next) )?year{_E}"
    rf"|{_B}(?:the )?end of (?P<y>\d{{4}})(?!\d)|{_B}(?P<h>h[12]){_E}"
)
def _en_year(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read end of the year, next year, year end, end of 2027, mid-year, H1."""
    if m["y"]:
        year = int(m["y"])
        return date(year, 12, 31) if _plausible_year(year) else None
    part = m["h"] or m["part"] or m["part2"] or ""
    if not (part or m["rel"] or m["yend"]):
        return None  # "a year" alone is a length, read by the duration rule
    if m["rel"]:
        return _year_part(today.year + (1 if m["rel"] == "next" else 0), part)
    result = _year_part(today.year, part)
    return result if result >= today else _year_part(today.year + 1, part)


# --- times of day: today, and only when no day is named --------------------------------


@_rule(
    # "3点" alone may be three points ("以下3点意见"): a time needs a part of the day
    # before it or a minute, 半, 前 or 整 after it.
    r"(?:上午|下午|晚上|中午|早上|傍晚|凌晨|晚|早)(?<![\d小.:])(?P<h>\d{1,2})(?:点|时(?!间))"
    r"(?:半|\d{1,2}分?|钟|整)?"
    r"|(?<![\d小.:])(?P<h3>\d{1,2})(?:点|时(?!间))(?:半|\d{1,2}分)"
    r"|(?<![\d小.:])(?P<h2>\d{1,2})(?:点|时(?!间))(?:钟|整)?(?=前|之前|以前|截止|为止)"
    r"|(?:上午|下午|晚上|中午|早上|傍晚|凌晨)(?<![\d.:])(?P<hh>\d{1,2}):\d{2}(?![\d:])",
    weak=True,
)
def _zh_time(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 下午5点前, 3点半: today (the parser is given no clock time)."""
    hour = int(m["h"] or m["h2"] or m["h3"] or m["hh"])
    return today if hour <= 24 else None


@_rule(r"(?<![\d.:])(?P<h>\d{1,2}):(?P<min>\d{2})(?![\d:])", weak=True)
def _clock_time(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 17:30, 9:00: today."""
    return today if int(m["h"]) <= 24 and int(m["min"]) < 60 else None


@_rule(
    rf"{_B}(?:eod|eob|cob|end of (?:the )?(?:day|business)|close of business|noon|midnight){_E}"
    rf"|(?<![\d.:])\d{{1,2}}(?::\d{{2}})? ?(?:am|pm|a\.m\.|p\.m\.)(?![a-z])",
    weak=True,
)
def _en_time(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read EOD, COB, 5pm, 17:30: today, unless the text names a day ("EOD tomorrow")."""
    return today


# --- Chinese: holidays and lunar dates --------------------------------------------------

_FESTIVALS = {
    "元旦": "new_years_day", "春节": "spring_festival", "过年": "spring_festival",
    "除夕": "eve", "大年30": "eve", "元宵": "lantern", "清明": "tomb_sweeping_day",
    "劳动节": "labour_day", "端午": "dragon_boat_festival", "中秋": "mid_autumn_festival",
    "国庆": "national_day",
}  # fmt: skip


def _festival_day(name: str, year: int) -> date | None:
    """Return the festival's own day in a (Gregorian) year, or None if out of range."""
    fixed = {"new_years_day": (1, 1), "labour_day": (5, 1), "national_day": (10, 1)}
    if name in fixed:
        return date(year, *fixed[name])
    if name == "tomb_sweeping_day":
        terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
        return next((d for d, term in terms if term == "清明"), None)
    lunar = {
        "spring_festival": (1, 1), "eve": (1, 1), "lantern": (1, 15),
        "dragon_boat_festival": (5, 5), "mid_autumn_festival": (8, 15),
    }[name]  # fmt: skip
    try:
        day: date = LunarDate(year, *lunar).to_solar_date()
    except ValueError:
        return None
    return day - timedelta(days=1) if name == "eve" else day


def _days_off_around(day: date, cal: WorkCalendar) -> tuple[date, date]:
    """Return the first and last day of the run of days off holding day (day, day if worked)."""
    first = last = day
    if cal.is_workday(day):
        return first, last
    while not cal.is_workday(first - timedelta(days=1)):
        first -= timedelta(days=1)
    while not cal.is_workday(last + timedelta(days=1)):
        last += timedelta(days=1)
    return first, last


_AFTER = (
    r"(?P<after>之后|以后|后|过后)(?:第?(?P<n>\d{1,2})个?工作日(?:内|之内|以内)?"
    r"|(?P<cn>\d{1,2})个?(?P<cu>天|日|周|星期|礼拜|月)(?:内|之内|以内)?|(?P<half>半个?月)(?:内|之内|以内)?)?"
)


def _after_break(last: date, m: re.Match[str], cal: WorkCalendar) -> date:
    """Return the deadline after a break whose last day off is `last`.

    节后 is the first working day after it, 节后3个工作日内 the third; 节后一周内 (3天内,
    半个月内) counts calendar days from that first working day, not from today.
    """
    groups = m.groupdict()
    if groups.get("cn") or groups.get("half"):
        first = cal.add_workdays(last, 1)
        if groups.get("half"):
            return first + timedelta(days=15)
        n, unit = int(groups["cn"]), groups["cu"]
        if unit == "月":
            return _add_months(first, n)
        return first + timedelta(days=n * (1 if unit in ("天", "日") else 7))
    return cal.add_workdays(last, int(groups.get("n") or 1))


@_rule(
    r"(?P<yw>今年|明年)?(?P<name>元旦|春节|过年|除夕|大年30|元宵|清明|劳动节|端午|中秋|国庆)"
    rf"(?:节|假期|长假|小长假|黄金周|假)?(?:(?P<before>之前|以前|前)|{_AFTER})?"
)
def _zh_festival(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 春节前, 中秋节前, 元旦后, 国庆后3个工作日内, on the working-day calendar.

    X前 (and X alone) is the last working day before the days off around X begin; X后
    is the first working day after they end (X后N个工作日 the N-th). A festival that is
    no day off (元宵) counts as a one-day break. This year's, or next year's if passed.
    """
    name = _FESTIVALS[m["name"]]
    years = [today.year + (m["yw"] == "明年")] if m["yw"] else [today.year, today.year + 1]
    return _festival_deadline(name, years, m, today, cal)


def _festival_deadline(
    name: str, years: list[int], m: re.Match[str], today: date, cal: WorkCalendar
) -> date | None:
    """Return the deadline before (or, with an `after` group, after) a festival's break."""
    for year in years:
        day = _festival_day(name, year)
        if day is None:
            return None
        first, last = _days_off_around(day, cal)
        result = _after_break(last, m, cal) if m["after"] else cal.add_workdays(first, -1)
        if result >= today:
            return result
    return None  # 今年中秋前 in December: already past, no deadline


_EN_FESTIVALS = {
    "chinese new year": "spring_festival", "lunar new year": "spring_festival",
    "spring festival": "spring_festival", "cny": "spring_festival",
    "new year's day": "new_years_day", "new year": "new_years_day",
    "national day": "national_day", "golden week": "national_day",
    "may day": "labour_day", "labour day": "labour_day", "labor day": "labour_day",
    "dragon boat festival": "dragon_boat_festival", "mid-autumn festival": "mid_autumn_festival",
    "mid autumn festival": "mid_autumn_festival", "qingming": "tomb_sweeping_day",
}  # fmt: skip
_EN_FESTIVAL = "|".join(sorted(_EN_FESTIVALS, key=len, reverse=True))


@_rule(
    rf"{_B}(?P<cue>(?:by|before|until|till|ahead of|prior to|(?P<after>after)) (?:the )?)?"
    rf"(?P<name>{_EN_FESTIVAL})(?: (?:holidays?|break))?{_E}"
    rf"|{_B}(?:(?:by|before|until|till|ahead of|prior to|(?P<after2>after)) )?"
    rf"the (?P<hol>holidays?|break){_E}"
)
def _en_festival(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read before Chinese New Year, after the Spring Festival, after the holiday.

    As 春节前 / 春节后 / 节后: the last working day before the break, the first after it.
    """
    if m["hol"]:
        if not m["after2"]:
            return _next_break_before(today, cal)
        return _next_break_after(today, cal, m)
    if m["name"] in ("new year", "may day") and not m["cue"]:
        return None  # "happy new year", "may day" alone are greetings, not deadlines
    return _festival_deadline(_EN_FESTIVALS[m["name"]], [today.year, today.year + 1], m, today, cal)


@_rule(r"(?:节假日|节|放假|假期|长假|假)(?:之|以)?前")
def _zh_before_holiday(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 节前, 放假前: the last working day before the next holiday's days off."""
    return _next_break_before(today, cal)


def _next_break_before(today: date, cal: WorkCalendar) -> date | None:
    """Return the last working day before the next holiday's days off (not passed)."""
    day = today
    for _ in range(400):
        if cal.holiday_name(day) is not None:
            first, last = _days_off_around(day, cal)
            result = cal.add_workdays(first, -1)
            if result >= today:
                return result
            day = last
        day += timedelta(days=1)
    return None


@_rule(rf"(?:节假日|节|假期|长假|收假|假){_AFTER}")
def _zh_after_holiday(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 节后, 节后第一个工作日, 节后3个工作日内: after the running or next holiday."""
    return _next_break_after(today, cal, m)


def _next_break_after(today: date, cal: WorkCalendar, m: re.Match[str]) -> date | None:
    """Return the deadline after the holiday running now or coming next."""
    day = today
    for _ in range(400):
        if cal.holiday_name(day) is not None:
            _, last = _days_off_around(day, cal)
            return _after_break(last, m, cal)
        day += timedelta(days=1)
    return None


_LUNAR_MONTH = {"正": 1, "冬": 11, "腊": 12}


@_rule(r"(?:农历|阴历|旧历)(?:年底|年末|年终|年尾)")
def _zh_lunar_year_end(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 农历年底: the lunar New Year's Eve (除夕) coming, today included."""
    for year in (today.year, today.year + 1):
        eve = _festival_day("eve", year)
        if eve is not None and eve >= today:
            return eve
    return None


@_rule(
    r"(?:(?:农历|阴历|旧历)(?P<a>正|冬|腊|\d{1,2})月(?P<ad>初?\d{1,2})?"
    r"|(?P<b>正|冬|腊)月(?P<bd>初?\d{1,2})?(?P<part>底|末)?"
    r"|(?<![\d.])(?P<c>\d{1,2})月(?P<cd>初\d{1,2})"
    r")(?P<after>之后|以后|后|过后)?"
)
def _zh_lunar(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 腊月十五, 正月十五, 农历八月十五, 二月初二: this lunar year's, or the next's.

    A date with 后 (正月初八后) is the first working day after it.
    """
    month_word = m["a"] or m["b"] or m["c"]
    month = _LUNAR_MONTH.get(month_word) or int(month_word)
    day_word = m["ad"] or m["bd"] or m["cd"]
    day = None if day_word is None else int(day_word.lstrip("初"))
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 30):
        return None
    lunar_year: int = LunarDate.from_solar_date(today.year, today.month, today.day).year
    for year in (lunar_year, lunar_year + 1):
        result = _lunar_day(year, month, day)
        if result is not None and m["after"]:
            result = cal.add_workdays(result, 1)
        if result is not None and result >= today:
            return result
    return None


def _lunar_day(year: int, month: int, day: int | None) -> date | None:
    """Return a lunar date (a month's last day for None; 30 in a short month is its 29)."""
    for candidate in (day,) if day is not None and day < 30 else (30, 29):
        try:
            result: date = LunarDate(year, month, candidate).to_solar_date()
        except ValueError:
            continue
        return result
    return None


# --- Chinese: Nth weekday, week numbers, monthly deadlines ------------------------------


@_rule(
    r"(?:(?:(?P<y4>\d{4})年)?(?<![\d.])(?P<mo>\d{1,2})月份?|(?P<rel>下下个|下下|下个|下|本|这个|这)个?月份?)?"
    r"的?(?:第(?P<n>[1-5])|(?P<last>最后1?|倒数第1))个?(?:周|星期|礼拜)(?P<wd>[1-7日天])"
)
def _zh_nth_weekday(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 下月第一个周一, 12月第二个周五, 本月最后一个周五."""
    n = -1 if m["last"] else int(m["n"])
    weekday = _ZH_WEEKDAY[m["wd"]]
    if m["mo"]:
        month = int(m["mo"])
        if not 1 <= month <= 12:
            return None
        if m["y4"]:
            return _nth_weekday(int(m["y4"]), month, weekday, n)
        return _nearest(
            today, *(_nth_weekday(today.year + k, month, weekday, n) for k in (-1, 0, 1))
        )
    ahead = _ZH_AHEAD[m["rel"]] if m["rel"] else 0
    year, month = _shift_month(today.year, today.month, ahead)
    result = _nth_weekday(year, month, weekday, n)
    if m["rel"] is None:
        later = _nth_weekday(*_shift_month(year, month, 1), weekday, n)
        return _nearest(today, None, result, later)
    return result


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date | None:
    """Return the n-th (from 1; -1 the last) given weekday of a month, or None."""
    if n < 0:
        last = _month_end(year, month)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    result = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    return result if result.month == month else None


@_rule(r"(?:(?P<y4>\d{4})年|(?P<yw>今年|明年))?第(?P<w>\d{1,2})(?:周|星期)(?![1-7日天])")
def _zh_week_number(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 第50周: the Friday of that ISO week, this year's or next year's if passed."""
    return _week_number(m, today)


@_rule(rf"{_B}(?:week|wk\.?) ?(?:no\.? ?|#)?(?P<w>\d{{1,2}})(?![\d:./])(?:,? (?P<y4>\d{{4}}))?")
def _en_week_number(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read week 50, wk 50: the Friday of that ISO week."""
    return _week_number(m, today)


def _week_number(m: re.Match[str], today: date) -> date | None:
    """Return the Friday of the ISO week numbered in m; without a year, by :func:`_nearest`."""
    groups = m.groupdict()
    week = int(m["w"])
    if groups.get("y4"):
        return _iso_friday(int(groups["y4"]), week)
    if groups.get("yw"):
        return _iso_friday(today.year + (groups["yw"] == "明年"), week)
    return _nearest(today, *(_iso_friday(today.year + k, week) for k in (-1, 0, 1)))


def _iso_friday(year: int, week: int) -> date | None:
    """Return the Friday of an ISO week, or None if the year has no such week."""
    try:
        return date.fromisocalendar(year, week, _FRIDAY + 1)
    except ValueError:
        return None


@_rule(
    r"每个?月份?的?(?:(?P<d>\d{1,2})(?:日|号)|(?P<part>底|末|初|中旬|中|上旬|下旬))"
    r"|每个?(?:周|星期|礼拜)(?P<wd>[1-7日天])|每个?季度?(?P<q>末|底)"
)
def _zh_every(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 每月20日前, 每月底, 每周五, 每季度末: the next such day."""
    if m["d"]:
        result = _day_of_month(today, int(m["d"]), 0)
        return (
            result
            if result is not None and result >= today
            else _day_of_month(today, int(m["d"]), 1)
        )
    if m["wd"]:
        return _coming_weekday(today, _ZH_WEEKDAY[m["wd"]], include_today=True)
    if m["q"]:
        return _quarter_end(today, 0)
    day = _MONTH_PART[m["part"]]
    result = _month_point(today.year, today.month, day)
    if result is not None and result < today:
        year, month = _shift_month(today.year, today.month, 1)
        result = _month_point(year, month, day)
    return result


@_rule(
    r"每隔?(?:\d*|半)个?(?:天|日|周|星期|礼拜|月|季度?|年|工作日)"
    r"|(?<![\d.])\d+个?(?:天|周|星期|礼拜|月|年)\d+次"
    rf"|{_B}(?:every (?:\d+ |other )?(?:days?|weeks?|months?|quarters?|years?|working days?)"
    r"|daily|weekly|biweekly|fortnightly|monthly|quarterly|yearly|annually)(?![a-z])"
)
def _frequency(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Skip a frequency (每两周报一次, every two weeks): it names no deadline."""
    return None


# --- English: more forms -------------------------------------------------------------------

_EN_ORDINAL = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
    "4th": 4, "fifth": 5, "5th": 5, "last": -1,
}  # fmt: skip


@_rule(
    rf"{_B}(?:the )?(?P<n>{'|'.join(_EN_ORDINAL)}) (?P<wd>{_WD_EN})\.? (?:of|in) "
    rf"(?:(?P<rel>this|next) month|{_MON}(?:,? (?P<y>\d{{4}}))?){_E}"
)
def _en_nth_weekday(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read the first Monday of January, the last Friday of next month."""
    n, weekday = _EN_ORDINAL[m["n"]], _WEEKDAYS_EN[m["wd"]]
    if m["rel"]:
        year, month = _shift_month(today.year, today.month, 1 if m["rel"] == "next" else 0)
        return _nth_weekday(year, month, weekday, n)
    month = _MONTHS_EN[m["mon"]]
    if m["y"]:
        return _nth_weekday(int(m["y"]), month, weekday, n)
    result = _nth_weekday(today.year, month, weekday, n)
    if result is None:
        return _nth_weekday(today.year + 1, month, weekday, n)
    return _nearest(today, *(_nth_weekday(today.year + k, month, weekday, n) for k in (-1, 0, 1)))


@_rule(
    rf"{_B}(?:the )?(?P<d>\d{{1,2}})(?:st|nd|rd|th) of (?P<rel>this|next) month{_E}"
    rf"|{_B}(?P<rel2>this|next) month(?:'s)?,? (?:on )?(?:the )?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?"
    r"(?![\da-z])"
)
def _en_rel_month_day(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 5th of this month, this month 20th, next month 8th."""
    rel = m["rel"] or m["rel2"]
    return _day_of_month(today, int(m["d"] or m["d2"]), 1 if rel == "next" else 0)


@_rule(rf"{_B}(?P<rel>this|next|coming) {_MON}{_E}(?! ?\d)")
def _en_rel_named_month(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read next June (the first June after this month), this June: its last day."""
    month = _MONTHS_EN[m["mon"]]
    if m["rel"] == "this":
        return _month_end(today.year, month)
    year = today.year if month > today.month else today.year + 1
    return _month_end(year, month)
