"""The working-day calendar shared by the scheduler and the date parser.

China's official calendar (the ``chinese_calendar`` package) decides which days are
worked, including the make-up workdays (调休) that fall on weekends. Configured extra
holidays and extra workdays override it, for local days off or local make-up days.

``chinese_calendar`` only knows the years the State Council has already announced and
raises ``NotImplementedError`` for any other year. For such a year this calendar computes
the statutory holidays the law fixes (元旦 1 January; 春节 four days from New Year's Eve;
清明 on its solar term; 劳动节 1–2 May; 端午 lunar 5-5; 中秋 lunar 8-15; 国庆 1–3
October; the lunar ones with ``lunardate``) and otherwise works Monday to Friday. The
make-up workdays (调休) and the bridging days of such a year are only announced late, so
they are unknown: one warning per year says so. Configured extras still override.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar
from lunardate import LunarDate  # type: ignore[import-untyped]  # ships no types

__all__ = ["DEFAULT_CALENDAR", "WorkCalendar", "statutory_holidays"]

logger = logging.getLogger(__name__)

_ONE_DAY = timedelta(days=1)


class WorkCalendar:
    """Which days are working days, on China's calendar with configured overrides."""

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
    ) -> None:
        """Build a calendar; configured extras override the official calendar."""
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        both = self._extra_holidays & self._extra_workdays
        if both:
            # A day configured both ways is a typo in the configuration; guessing which
            # one was meant would silently move every deadline around it.
            days = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"configured as both holiday and workday: {days}")
        # chinese_calendar scans its whole table on every call (~40 µs); deadlines and
        # the scheduler ask about the same few weeks over and over, so remember answers.
        self._official: dict[date, bool] = {}
        self._years_without_data: set[int] = set()
        self._computed: dict[int, dict[date, str]] = {}
        self._names: dict[date, str | None] = {}

    def is_workday(self, d: date) -> bool:
        """Return whether d is a working day."""
        if d in self._extra_workdays:
            return True
        if d in self._extra_holidays:
            return False
        known = self._official.get(d)
        if known is None:
            known = self._official_workday(d)
            self._official[d] = known
        return known

    def add_workdays(self, d: date, n: int) -> date:
        """Return the n-th working day after d (before d if n < 0), not counting d."""
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_workday(d):
                remaining -= 1
        return d

    def workdays_between(self, start: date, end: date) -> int:
        """Return the number of working days in (start, end]; 0 if end <= start."""
        count = 0
        d = start
        while d < end:
            d += _ONE_DAY
            if self.is_workday(d):
                count += 1
        return count

    def next_workday(self, d: date) -> date:
        """Return d if it is a working day, else the first working day after it."""
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def holiday_name(self, d: date) -> str | None:
        """Return the statutory holiday d is a day off of ("Spring Festival"), else None.

        Names are chinese_calendar's (``get_holiday_detail``), or the computed ones for a
        year without data; a working day (make-up days and configured workdays included),
        an ordinary weekend and a configured extra holiday have none.
        """
        if self.is_workday(d):
            return None
        if d not in self._names:
            try:
                self._names[d] = chinese_calendar.get_holiday_detail(d)[1]
            except NotImplementedError:
                self._names[d] = self._computed_holidays(d.year).get(d)
        return self._names[d]

    def _computed_holidays(self, year: int) -> dict[date, str]:
        """Return (and remember) the statutory holidays computed for a year without data."""
        days = self._computed.get(year)
        if days is None:
            days = self._computed[year] = statutory_holidays(year)
        return days

    def _official_workday(self, d: date) -> bool:
        """Return China's official answer for d, or the computed holidays if it has none."""
        if d.year not in self._years_without_data:
            try:
                return bool(chinese_calendar.is_workday(d))
            except NotImplementedError:
                self._years_without_data.add(d.year)
                logger.warning(
                    "no official working-day calendar for %d; using the statutory holidays "
                    "and Monday to Friday: make-up workdays are unknown "
                    "(update the chinesecalendar package)",
                    d.year,
                )
        return d.weekday() < 5 and d not in self._computed_holidays(d.year)


def statutory_holidays(year: int) -> dict[date, str]:
    """Return the days off the holiday law fixes for a year, by chinese_calendar's names.

    Only the law's days: no make-up workdays and no bridging days, which the State
    Council announces year by year. Lunar holidays outside lunardate's range are left out.
    """
    names = {h.name: h.value for h in chinese_calendar.Holiday}
    days: dict[date, str] = {date(year, 1, 1): names["new_years_day"]}
    for month_day in ((5, 1), (5, 2)):
        days[date(year, *month_day)] = names["labour_day"]
    for day in (1, 2, 3):
        days[date(year, 10, day)] = names["national_day"]
    for term_day, term in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10)):
        if term == "清明":
            days[term_day] = names["tomb_sweeping_day"]
    try:
        new_year = LunarDate(year, 1, 1).to_solar_date()
        for offset in range(-1, 3):  # New Year's Eve and the first three days
            days[new_year + timedelta(days=offset)] = names["spring_festival"]
        days[LunarDate(year, 5, 5).to_solar_date()] = names["dragon_boat_festival"]
        days[LunarDate(year, 8, 15).to_solar_date()] = names["mid_autumn_festival"]
    except ValueError:
        pass  # outside lunardate's years (1900–2099)
    return days


DEFAULT_CALENDAR = WorkCalendar()
