"""The working-day calendar shared by the scheduler and the date parser.

China's official calendar (the ``chinese_calendar`` package) decides which days are
worked, including the make-up workdays (调休) that fall on weekends. Configured extra
holidays and extra workdays override it, for local days off or local make-up days.

``chinese_calendar`` only knows the years the State Council has already announced and
raises ``NotImplementedError`` for any other year. For such a year this calendar falls
back to Monday to Friday plus the configured extras and logs one warning per year, so
the scheduler keeps running in January before a package update brings the new year in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar

__all__ = ["DEFAULT_CALENDAR", "WorkCalendar"]

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

    def _official_workday(self, d: date) -> bool:
        """Return China's official answer for d, or Monday to Friday if it has none."""
        if d.year not in self._years_without_data:
            try:
                return bool(chinese_calendar.is_workday(d))
            except NotImplementedError:
                self._years_without_data.add(d.year)
                logger.warning(
                    "no official working-day calendar for %d; assuming Monday to Friday "
                    "plus configured days (update the chinesecalendar package)",
                    d.year,
                )
        return d.weekday() < 5


DEFAULT_CALENDAR = WorkCalendar()
