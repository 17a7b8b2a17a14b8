"""Stage limits and the working-day calendar (bot/calendar.py, data/calendar.yaml)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.calendar import DEFAULT_CALENDAR, TZ, Limit, WorkCalendar


def local(*args: int) -> datetime:
    """A local (Asia/Shanghai) moment, as the UTC-aware datetime the calendar takes."""
    return datetime(*args, tzinfo=TZ).astimezone(UTC)


# A quiet stretch for the generic rules: Mon 2026-03-09 … Sun 2026-03-15 has no holiday.
MON, FRI, SAT, SUN = date(2026, 3, 9), date(2026, 3, 13), date(2026, 3, 14), date(2026, 3, 15)


# -- Limit ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "amount", "unit", "canonical", "chinese"),
    [
        ("2h", 2, "h", "2h", "2小时"),
        ("1.5h", 1.5, "h", "1.5h", "1.5小时"),
        ("3d", 3, "d", "3d", "3天"),
        ("5wd", 5, "wd", "5wd", "5个工作日"),
        ("0.5wd", 0.5, "wd", "0.5wd", "0.5个工作日"),
        ("30m", 30, "m", "30m", "30分钟"),
        (" 24 H ", 24, "h", "24h", "24小时"),
        ("2.0WD", 2, "wd", "2wd", "2个工作日"),
    ],
)
def test_limit_parse_and_render(text: str, amount: float, unit: str, canonical: str, chinese: str) -> None:
    limit = Limit.parse(text)
    assert (limit.amount, limit.unit) == (amount, unit)
    assert str(limit) == canonical
    assert limit.describe() == chinese
    assert Limit.parse(str(limit)) == limit


@pytest.mark.parametrize("text", ["", "h", "2", "2x", "two h", "-1h", "0h", "0wd", "1e3h", "2 h 3", "5 w d"])
def test_limit_parse_rejects_bad_text_naming_it(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        Limit.parse(text)
    assert repr(text) in str(caught.value)


def test_limit_constructor_validates() -> None:
    with pytest.raises(ValueError, match="unit"):
        Limit(2, "y")
    with pytest.raises(ValueError, match="positive"):
        Limit(0, "h")


# -- is_workday -------------------------------------------------------------------------------------
def test_weekdays_work_weekends_rest() -> None:
    cal = WorkCalendar()
    assert [cal.is_workday(MON + timedelta(days=i)) for i in range(7)] == [True] * 5 + [False] * 2


def test_holidays_and_makeup_days_override_the_week() -> None:
    cal = WorkCalendar(holidays=[MON], workdays=[SAT])
    assert not cal.is_workday(MON)
    assert cal.is_workday(SAT)
    assert not cal.is_workday(SUN)


def test_a_date_cannot_be_both_holiday_and_workday() -> None:
    with pytest.raises(ValueError, match="2026-03-14"):
        WorkCalendar(holidays=[SAT], workdays=[SAT])


# -- add ------------------------------------------------------------------------------------------
def test_hours_and_days_are_elapsed_time_even_across_midnight_and_weekends() -> None:
    cal = WorkCalendar()
    start = local(2026, 3, 13, 22, 30)  # Friday night
    assert cal.add(start, "2h") == local(2026, 3, 14, 0, 30)
    assert cal.add(start, Limit.parse("1.5h")) == local(2026, 3, 14, 0, 0)
    assert cal.add(start, "3d") == local(2026, 3, 16, 22, 30)
    assert cal.add(start, "30m") == local(2026, 3, 13, 23, 0)


def test_working_days_skip_the_weekend() -> None:
    cal = WorkCalendar()
    assert cal.add(local(2026, 3, 13, 10, 0), "1wd") == local(2026, 3, 16, 10, 0)  # Fri → Mon
    assert cal.add(local(2026, 3, 11, 15, 0), "5wd") == local(2026, 3, 18, 15, 0)  # Wed → next Wed
    assert cal.add(local(2026, 3, 9, 9, 0), "1wd") == local(2026, 3, 10, 9, 0)


def test_start_on_a_non_working_day_counts_from_the_next_working_morning() -> None:
    cal = WorkCalendar()
    # Saturday afternoon: counted from Monday 00:00, so the one working day is all of Monday.
    assert cal.add(local(2026, 3, 14, 15, 0), "1wd") == local(2026, 3, 17, 0, 0)
    assert cal.add(local(2026, 3, 15, 23, 59), "2wd") == local(2026, 3, 18, 0, 0)


def test_fractional_working_days_count_only_working_time() -> None:
    cal = WorkCalendar()
    assert cal.add(local(2026, 3, 10, 8, 0), "0.5wd") == local(2026, 3, 10, 20, 0)
    # Friday 18:00 + 12h of working time: 6h on Friday, the weekend skipped, 6h on Monday.
    assert cal.add(local(2026, 3, 13, 18, 0), "0.5wd") == local(2026, 3, 16, 6, 0)
    assert cal.add(local(2026, 3, 12, 18, 0), "1.5wd") == local(2026, 3, 16, 6, 0)
    assert cal.add(local(2026, 3, 14, 10, 0), "0.25wd") == local(2026, 3, 16, 6, 0)


def test_shipped_calendar_spring_festival_week() -> None:
    cal = WorkCalendar.load()
    # Friday 2026-02-13, the last working day before 春节; Saturday 02-14 is a make-up working day,
    # the break runs 02-15 … 02-23, and 02-24 is the next working day.
    assert cal.is_workday(date(2026, 2, 14))
    assert not any(cal.is_workday(date(2026, 2, 15) + timedelta(days=i)) for i in range(9))
    start = local(2026, 2, 13, 10, 0)
    assert cal.add(start, "1wd") == local(2026, 2, 14, 10, 0)  # the make-up Saturday counts
    assert cal.add(start, "2wd") == local(2026, 2, 24, 10, 0)  # the whole holiday is skipped
    assert cal.add(start, "3d") == local(2026, 2, 16, 10, 0)  # calendar days are not


def test_start_on_a_holiday() -> None:
    cal = WorkCalendar.load()
    # 国庆 2026-10-01 … 10-07; 10-08 (Thursday) is the first working day after it.
    assert cal.add(local(2026, 10, 3, 11, 0), "1wd") == local(2026, 10, 9, 0, 0)
    assert cal.add(local(2026, 10, 3, 11, 0), "0.5wd") == local(2026, 10, 8, 12, 0)
    # Friday 10-09 + 1wd lands on the make-up Saturday 10-10.
    assert cal.add(local(2026, 10, 9, 9, 0), "1wd") == local(2026, 10, 10, 9, 0)


def test_add_is_utc_aware_in_and_out() -> None:
    cal = WorkCalendar()
    start = datetime(2026, 3, 13, 2, 0, tzinfo=UTC)  # Friday 10:00 local
    due = cal.add(start, "1wd")
    assert due.tzinfo is UTC and due == datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
    # Any aware input works; 16:30 UTC Friday is already Saturday 00:30 in the county.
    assert cal.add(datetime(2026, 3, 13, 16, 30, tzinfo=UTC), "1wd") == local(2026, 3, 17, 0, 0)
    assert cal.add(start.astimezone(TZ), "2h").tzinfo is UTC
    with pytest.raises(ValueError, match="aware"):
        cal.add(datetime(2026, 3, 13, 10, 0), "2h")


def test_share_is_the_elapsed_fraction() -> None:
    cal = WorkCalendar()
    start = datetime(2026, 3, 13, 2, 0, tzinfo=UTC)
    due = cal.add(start, "1wd")  # 72 hours later because of the weekend
    assert cal.share(start, due, 0.75) == start + timedelta(hours=54)
    assert cal.share(start, due, 0) == start and cal.share(start, due, 1) == due
    assert cal.share(start, due, 0.5).tzinfo is UTC
    with pytest.raises(ValueError):
        cal.share(start, due, 1.5)


def test_a_calendar_with_no_working_day_fails_instead_of_looping() -> None:
    year = [date(2026, 1, 1) + timedelta(days=i) for i in range(800)]
    with pytest.raises(ValueError, match="no working day"):
        WorkCalendar(holidays=year).add(local(2026, 1, 1, 9, 0), "1wd")


# -- the YAML file --------------------------------------------------------------------------------
def test_shipped_yaml_loads_with_2026_schedule() -> None:
    cal = WorkCalendar.load()
    assert WorkCalendar.load(DEFAULT_CALENDAR).holidays == cal.holidays
    for d in ["2026-01-01", "2026-02-17", "2026-04-05", "2026-05-01", "2026-06-19", "2026-09-25", "2026-10-01"]:
        assert not cal.is_workday(date.fromisoformat(d)), d
    for d in cal.workdays:
        assert d.weekday() >= 5, f"make-up day {d} should be a weekend day"
    assert len(cal.workdays) == 6


def test_load_reports_the_bad_entry(tmp_path: Path) -> None:
    bad = tmp_path / "cal.yaml"
    bad.write_text("holidays:\n  - 2026-01-01\n  - 2026-02-30\nworkdays: []\n", encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        WorkCalendar.load(bad)
    message = str(caught.value)
    assert str(bad) in message and "holidays[1]" in message and "2026-02-30" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("holidays: 2026-01-01\n", "list"),
        ("holiday:\n  - 2026-01-01\n", "unknown key"),
        ("workdays:\n  - tomorrow\n", "workdays[0]"),
        ("workdays:\n  - 20260101x\n", "workdays[0]"),
        ("holidays:\n  - 2026-01-03\nworkdays:\n  - 2026-01-03\n", "2026-01-03"),
        ("- 2026-01-01\n", "mapping"),
        ("holidays: [2026-01-01\n", "YAML"),
    ],
)
def test_load_validates(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=expected.replace("[", r"\[")) as caught:
        WorkCalendar.load(path)
    assert str(path) in str(caught.value)


def test_load_empty_file_and_missing_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    assert WorkCalendar.load(empty).holidays == frozenset()
    with pytest.raises(ValueError, match="missing.yaml"):
        WorkCalendar.load(tmp_path / "missing.yaml")
