"""Deadlines in words, Chinese and English: ``parse_deadline(text, today)``.

Every command that takes a date (``/due``, ``/plan``, problem reply deadlines, extensions)
and every guided flow goes through :func:`parse_deadline`. It returns the last day by
which something must be done, or ``None`` when the text holds no deadline. Officers write
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
  ``国庆前`` → 30 September, ``元旦前`` → 31 December.
* Bare dates roll forward: a month-day (``12月5日``, ``12.5``, ``12/5``, ``Dec 5``,
  ``5 Dec``) already past this year means next year; a day of month (``5号``, ``15日``,
  ``the 5th``) already past means next month; likewise bare ``月初``, ``上旬``, ``年初``,
  ``一季度``. A date with its year (``2026-12-05``, ``2026/12/05``, ``2026年12月5日``,
  ``12/5/2026``) is taken as written. ``12.5`` and ``12/5`` are month first: 5 December.
* Counts: ``3天后``, ``3天内``, ``3日内``, ``in 3 days``, ``within 3 days`` → today + 3
  calendar days; ``两周后`` / ``in 2 weeks`` → + 14 days; ``半个月`` → + 15 days;
  ``3个月后`` / ``in 3 months`` → same day 3 months on (clamped to the month's end);
  ``24小时内`` → + 1 day (hours only when a whole number of days). Approximate Chinese
  counts take the upper end: ``两三天`` → 3 days.
* Working days (``3个工作日内``, ``within 5 working days``, ``5 business days``,
  ``下一个工作日``, ``next business day``) count on the scheduler's working-day calendar
  (China's, with make-up workdays), not counting today. Calendar-day deadlines are not
  moved off weekends or holidays.
* Words that only name the past (``昨天``, ``上周五``, ``上个月``, ``3天前``,
  ``yesterday``, ``last Friday``, ``3 days ago``) are not deadlines: they are skipped and
  the rest of the text is still searched (``上周五没完成，下周五前完成`` → next Friday).
* Chinese numerals (``三天后``, ``十二月五号``, ``二〇二六年``), full-width digits and
  English number words (``two weeks``) are understood; ``号``/``日``, ``周``/``星期``/
  ``礼拜`` are interchangeable. Text around the date is ignored, and when the text holds
  several dates the first one wins.
* A bare number is never a date: ``5号`` needs a date-like word after it (``3号楼`` is a
  building) and ``12.5`` must stand alone (``12.5亿元``, ``12.5%`` are amounts). An
  impossible date (``2月30日``, ``13.5``) is no date.
"""

from __future__ import annotations

import calendar as _calendar
import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta

from storage.workdays import DEFAULT_CALENDAR, WorkCalendar

__all__ = ["parse_deadline"]

_Handler = Callable[[re.Match[str], date, WorkCalendar], date | None]
_RULES: list[tuple[re.Pattern[str], _Handler]] = []


def _rule(pattern: str) -> Callable[[_Handler], _Handler]:
    """Register a handler for a pattern; at equal start and length, earlier rules win."""

    def register(handler: _Handler) -> _Handler:
        _RULES.append((re.compile(pattern), handler))
        return handler

    return register


def parse_deadline(text: str, today: date, calendar: WorkCalendar | None = None) -> date | None:
    """Return the deadline the text names relative to today, or None if it names none."""
    s = _normalize(text)
    if not s:
        return None
    cal = DEFAULT_CALENDAR if calendar is None else calendar
    found: list[tuple[int, int, int, re.Match[str], _Handler]] = []
    for index, (pattern, handler) in enumerate(_RULES):
        for m in pattern.finditer(s):
            if m.end() > m.start():
                found.append((m.start(), m.start() - m.end(), index, m, handler))
    # Leftmost first, then the longest reading at that spot ("下周五" over "下周").
    found.sort(key=lambda c: c[:3])
    skipped: list[tuple[int, int]] = []
    for start, _, _, m, handler in found:
        end = m.end()
        # A span already rejected (a past mention, an impossible date) must not be
        # re-read through a shorter rule: "3天前" is not "3天", "2月30日" is not "30日".
        if any(start < e and s_ < end for s_, e in skipped):
            continue
        result = handler(m, today, cal)
        if result is not None:
            return result
        skipped.append((start, end))
    return None


# --- normalization ------------------------------------------------------------------

_ZH_DIGIT = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
_ZH_NUMBER = re.compile("[零〇一二两三四五六七八九十百千]+")
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


def _zh_number_sub(m: re.Match[str]) -> str:
    """Replace a run of Chinese numerals by Arabic digits when it reads as a number."""
    value = _zh_number(m.group())
    if value is None:
        return m.group()
    # Keep "周五12月11日" from gluing into "周512月11日".
    before = " " if m.start() > 0 and m.string[m.start() - 1].isdigit() else ""
    after = " " if m.end() < len(m.string) and m.string[m.end()].isdigit() else ""
    return f"{before}{value}{after}"


def _normalize(text: str) -> str:
    """Fold full-width forms, case, spacing and number words into one spelling."""
    s = unicodedata.normalize("NFKC", text).lower().strip()
    s = _ZH_NUMBER.sub(_zh_number_sub, s)
    s = _EN_NUMBER.sub(lambda m: str(_EN_NUMBER_WORDS[m.group(1)]), s)
    s = _CJK_SPACE.sub("", s)
    return _SPACES.sub(" ", s)


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


def _roll_year(today: date, month: int, day: int | None) -> date | None:
    """Return the month's day this year, or next year if that has passed."""
    result = _month_point(today.year, month, day)
    if result is not None and result < today:
        result = _month_point(today.year + 1, month, day)
    return result


def _day_of_month(today: date, day: int, months_ahead: int | None) -> date | None:
    """Return that day in a given month, or in this month or the next if not given."""
    year, month = _shift_month(today.year, today.month, months_ahead or 0)
    result = _make(year, month, day)
    if months_ahead is None and result is not None and result < today:
        year, month = _shift_month(year, month, 1)
        result = _make(year, month, day)
    return result


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
_ZH_AHEAD = {"本": 0, "这": 0, "这个": 0, "当": 0, "下": 1, "下个": 1, "下下": 2, "下下个": 2}
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
_RELW = r"(?P<rel>下下个|下下|下个|下|本|这个|这|当)"
_ZH_YEAR = (
    r"(?:(?P<yw>今年|本年度|本年|明年|后年)|(?<!\d)(?P<y4>\d{4})年"
    r"|(?<!\d)(?P<y2>\d{2})年(?=\d{1,2}月|第?[1-4]季度|年?[底末初]|年?中(?![秋旬])|[上下]半年))"
)
# What may follow a bare "5号"/"12.5" for it to be a date and not a building or an amount.
_DAY_END = (
    r"(?=$|[^\w.%]|前|之前|以前|左右|止|截止|为止|完成|当天|上午|下午|晚上|中午|早上|下班"
    r"|提交|上报|报送|办结|到期)"
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
    r"昨天|昨日|昨晚|前天|去年|前年"
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
    """Read 月底, 月初, 下旬: this month's, or next month's if it has passed."""
    day = _MONTH_PART[m["part"] or m["tenth"]]
    result = _month_point(today.year, today.month, day)
    if result is not None and result < today:
        year, month = _shift_month(today.year, today.month, 1)
        result = _month_point(year, month, day)
    return result


# "会议室3号", "厂房5号" are rooms and buildings, not days.
@_rule(rf"(?<![\d.月第室楼栋层房厅块线区站门库])(?P<d>\d{{1,2}})(?:日|号){_DAY_END}")
def _zh_day(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 5号, 15日前: this month's, or next month's if it has passed."""
    return _day_of_month(today, int(m["d"]), None)


@_rule(rf"(?<![\d./a-z])(?P<mo>\d{{1,2}})[./](?P<d>\d{{1,2}})(?![\d./]){_DAY_END}")
def _numeric_month_day(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 12.5 and 12/5 month first: this year's, or next year's if it has passed."""
    return _roll_year(today, int(m["mo"]), int(m["d"]))


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
    r"(?!春节|中秋|端午|清明|劳动节|五一|国庆|元旦)"
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


@_rule(r"(?:今年)?(?P<h>国庆|元旦)节?(?:之|以)?前")
def _zh_holiday_eve(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Read 国庆前 (30 September) and 元旦前 (31 December)."""
    return _roll_year(today, 9, 30) if m["h"] == "国庆" else date(today.year, 12, 31)


# --- English --------------------------------------------------------------------------


@_rule(
    rf"{_B}(?:yesterday|(?:the )?day before yesterday)"
    rf"|{_B}(?:last|past|previous) (?:week|month|quarter|year|{_WD_EN}){_E}"
    rf"|{_B}(?:\d+|an?) (?:(?:working|business|work) ?days?|workdays?|days?|weeks?|months?"
    rf"|years?|hours?|fortnights?) ago{_E}"
)
def _en_past(m: re.Match[str], today: date, cal: WorkCalendar) -> date | None:
    """Skip a mention of the past: it is never a deadline."""
    return None


@_rule(
    rf"{_B}(?:today|tonight|eod|eob|cob|end of (?:the )?(?:day|business)|close of business)"
    rf"{_E}|{_B}(?:tomorrow|tmrw|tmr|tmw){_E}|{_B}(?:the )?day after tomorrow{_E}"
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
