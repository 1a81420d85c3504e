"""The working-day calendar: China's official days, make-up workdays, overrides, fallback.

The 2026 dates below are from the State Council's 2026 holiday notice: Spring Festival
15–23 February with make-up workdays Saturday 14 and Saturday 28 February; National Day
1–7 October with make-up workdays Sunday 20 September and Saturday 10 October.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar
import pytest

from storage.workdays import DEFAULT_CALENDAR, WorkCalendar, statutory_holidays

FALLBACK_LOGGER = "storage.workdays"


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 2, 14),  # Saturday before the Spring Festival
        date(2026, 2, 28),  # Saturday after it
        date(2026, 9, 20),  # Sunday before National Day
        date(2026, 10, 10),  # Saturday after it
        date(2026, 1, 4),  # Sunday after New Year
        date(2026, 12, 2),  # an ordinary Wednesday
    ],
)
def test_make_up_weekends_and_ordinary_weekdays_are_worked(day: date) -> None:
    assert WorkCalendar().is_workday(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 2, 16),  # Monday in the Spring Festival
        date(2026, 2, 23),  # its last day, a Monday
        date(2026, 10, 1),  # National Day, a Thursday
        date(2026, 10, 7),  # its last day, a Wednesday
        date(2026, 1, 1),  # New Year's Day, a Thursday
        date(2026, 3, 7),  # an ordinary Saturday
        date(2026, 3, 8),  # an ordinary Sunday
    ],
)
def test_holidays_and_ordinary_weekends_are_not_worked(day: date) -> None:
    assert not WorkCalendar().is_workday(day)


def test_agrees_with_the_official_calendar_on_every_day_of_2026() -> None:
    cal = WorkCalendar()
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert cal.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_configured_days_override_the_official_calendar() -> None:
    cal = WorkCalendar(
        extra_holidays=[date(2026, 12, 2), date(2026, 2, 14)],
        extra_workdays=[date(2026, 12, 5), date(2026, 10, 7)],
    )
    assert not cal.is_workday(date(2026, 12, 2))  # a local day off on a Wednesday
    assert not cal.is_workday(date(2026, 2, 14))  # the make-up Saturday cancelled
    assert cal.is_workday(date(2026, 12, 5))  # a local make-up Saturday
    assert cal.is_workday(date(2026, 10, 7))  # worked through a national holiday
    assert cal.is_workday(date(2026, 12, 3))  # other days keep the official answer


def test_a_day_configured_both_ways_is_refused() -> None:
    with pytest.raises(ValueError, match="2026-12-02"):
        WorkCalendar(extra_holidays=[date(2026, 12, 2)], extra_workdays=[date(2026, 12, 2)])


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 2, 12), 1, date(2026, 2, 13)),
        (date(2026, 2, 12), 2, date(2026, 2, 14)),  # the make-up Saturday counts
        (date(2026, 2, 12), 3, date(2026, 2, 24)),  # then the whole festival is skipped
        (date(2026, 2, 12), 7, date(2026, 2, 28)),
        (date(2026, 9, 29), 2, date(2026, 10, 8)),
        (date(2026, 9, 29), 4, date(2026, 10, 10)),
        (date(2026, 12, 4), 1, date(2026, 12, 7)),  # Friday to Monday
        (date(2026, 2, 15), 1, date(2026, 2, 24)),  # from inside a holiday
        (date(2026, 12, 2), 0, date(2026, 12, 2)),
        (date(2026, 2, 24), -1, date(2026, 2, 14)),  # backwards, for reminders
        (date(2026, 2, 24), -3, date(2026, 2, 12)),
    ],
)
def test_add_workdays_counts_working_days_after_the_start(
    start: date, n: int, expected: date
) -> None:
    assert WorkCalendar().add_workdays(start, n) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 2, 12), date(2026, 2, 24), 3),  # 13th, 14th (Saturday), 24th
        (date(2026, 2, 13), date(2026, 2, 14), 1),  # the end day counts
        (date(2026, 2, 14), date(2026, 2, 23), 0),  # the start day does not
        (date(2026, 9, 30), date(2026, 10, 9), 2),  # 8th and 9th October
        (date(2026, 12, 2), date(2026, 12, 2), 0),
        (date(2026, 2, 24), date(2026, 2, 12), 0),  # end before start
    ],
)
def test_workdays_between_counts_the_half_open_interval(
    start: date, end: date, expected: int
) -> None:
    assert WorkCalendar().workdays_between(start, end) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 14), date(2026, 2, 14)),
        (date(2026, 2, 15), date(2026, 2, 24)),
        (date(2026, 10, 1), date(2026, 10, 8)),
        (date(2026, 12, 5), date(2026, 12, 7)),
        (date(2026, 12, 2), date(2026, 12, 2)),
    ],
)
def test_next_workday_is_the_day_itself_or_the_next_worked_one(day: date, expected: date) -> None:
    assert WorkCalendar().next_workday(day) == expected


def test_a_year_without_official_data_falls_back_to_computed_holidays_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cal = WorkCalendar(extra_holidays=[date(2099, 1, 2)], extra_workdays=[date(2099, 1, 10)])
    with caplog.at_level(logging.WARNING, logger=FALLBACK_LOGGER):
        assert not cal.is_workday(date(2099, 1, 1))  # New Year's Day, computed
        assert not cal.is_workday(date(2099, 1, 2))  # configured holiday still applies
        assert not cal.is_workday(date(2099, 1, 3))  # Saturday
        assert cal.is_workday(date(2099, 1, 10))  # configured make-up Saturday
        assert cal.add_workdays(date(2099, 1, 1), 2) == date(2099, 1, 6)
        assert (
            cal.workdays_between(date(2099, 1, 1), date(2099, 1, 31)) == 17
        )  # 21 weekdays after the 1st - 2nd + 10th - Spring Festival 20–23 (Tue–Fri)
    warnings = [r for r in caplog.records if r.name == FALLBACK_LOGGER]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "2099" in warnings[0].getMessage()


def test_each_year_without_data_warns_on_its_own(caplog: pytest.LogCaptureFixture) -> None:
    cal = WorkCalendar()
    with caplog.at_level(logging.WARNING, logger=FALLBACK_LOGGER):
        cal.is_workday(date(2098, 6, 1))
        cal.is_workday(date(2099, 6, 1))
        cal.is_workday(date(2098, 6, 2))
    messages = [r.getMessage() for r in caplog.records if r.name == FALLBACK_LOGGER]
    assert len(messages) == 2
    assert "2098" in messages[0]
    assert "2099" in messages[1]


def test_a_year_with_data_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=FALLBACK_LOGGER):
        WorkCalendar().workdays_between(date(2026, 1, 1), date(2026, 12, 31))
    assert not [r for r in caplog.records if r.name == FALLBACK_LOGGER]


def test_default_calendar_is_the_official_one() -> None:
    assert isinstance(DEFAULT_CALENDAR, WorkCalendar)
    assert DEFAULT_CALENDAR.is_workday(date(2026, 2, 14))
    assert not DEFAULT_CALENDAR.is_workday(date(2026, 2, 16))


def test_statutory_holidays_of_a_year_are_computed_from_the_law() -> None:
    # Lunar New Year 2027 is Saturday 6 February; 端午 9 June; 中秋 15 September;
    # 清明 falls on 5 April.
    new_year, spring, qingming = "New Year's Day", "Spring Festival", "Tomb-sweeping Day"
    labour, dragon, autumn, national = (
        "Labour Day",
        "Dragon Boat Festival",
        "Mid-autumn Festival",
        "National Day",
    )
    assert statutory_holidays(2027) == {
        date(2027, 1, 1): new_year,
        date(2027, 2, 5): spring,  # New Year's Eve
        date(2027, 2, 6): spring,
        date(2027, 2, 7): spring,
        date(2027, 2, 8): spring,
        date(2027, 4, 5): qingming,
        date(2027, 5, 1): labour,
        date(2027, 5, 2): labour,
        date(2027, 6, 9): dragon,
        date(2027, 9, 15): autumn,
        date(2027, 10, 1): national,
        date(2027, 10, 2): national,
        date(2027, 10, 3): national,
    }


def test_a_year_without_data_uses_the_computed_holidays_and_overrides(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cal = WorkCalendar(extra_holidays=[date(2099, 1, 2)], extra_workdays=[date(2099, 10, 1)])
    with caplog.at_level(logging.WARNING, logger=FALLBACK_LOGGER):
        assert not cal.is_workday(date(2099, 1, 1))  # Thursday, New Year's Day
        assert cal.holiday_name(date(2099, 1, 1)) == "New Year's Day"
        assert not cal.is_workday(date(2099, 1, 2))  # configured, no name
        assert cal.holiday_name(date(2099, 1, 2)) is None
        assert cal.is_workday(date(2099, 10, 1))  # configured workday beats National Day
        assert cal.holiday_name(date(2099, 10, 1)) is None
        assert not cal.is_workday(date(2099, 10, 2))  # Friday, National Day
        assert cal.is_workday(date(2099, 10, 5))  # Monday: no bridging days are guessed
    messages = [r.getMessage() for r in caplog.records if r.name == FALLBACK_LOGGER]
    assert len(messages) == 1
    assert "make-up workdays are unknown" in messages[0]


def test_new_years_day_2027_is_not_a_working_day() -> None:
    # Whether or not the installed chinesecalendar knows 2027, 1 January is off.
    cal = WorkCalendar()
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 2, 16), "Spring Festival"),
        (date(2026, 2, 14), None),  # the make-up Saturday is worked
        (date(2026, 3, 7), None),  # an ordinary Saturday
        (date(2026, 10, 4), "National Day"),
    ],
)
def test_holiday_name_names_statutory_days_off_only(day: date, name: str | None) -> None:
    assert WorkCalendar().holiday_name(day) == name
