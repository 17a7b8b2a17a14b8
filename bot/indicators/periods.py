"""Periods of the figures: half-open [start, end) in UTC, named by the county's local calendar days.

`parse_period` reads what a dispatcher writes after /stats, /rank or /export: nothing or 今天 (today), 昨天, 本周
(Monday to today), 本月 (the month to date), 上月 / 上个月, 2026-11 (a month), 2026-11-05 (a day) or
2026-11-01..2026-11-15 (both days included). Bad input raises PeriodError with a Chinese sentence to show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import texts
from bot.calendar import TZ  # the county's local time (Asia/Shanghai), as everywhere else

MAX_DAYS = 366 * 3  # a longer range is a typo, not a report


class PeriodError(ValueError):
    """A period the bot cannot read; `reply` (also the message) is the sentence to show."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC-aware datetimes, with its Chinese label."""

    start: datetime
    end: datetime
    label: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period's bounds must be timezone-aware")
        if self.end < self.start:
            raise ValueError("a period must not end before it starts")

    def __contains__(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def _days(first: date, last: date, label: str, tz: ZoneInfo) -> Period:
    """The local days first..last, both included."""
    return Period(_midnight(first, tz), _midnight(last + timedelta(days=1), tz), label)


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def today(now: datetime, tz: ZoneInfo = TZ) -> Period:
    day = _local_today(now, tz)
    return _days(day, day, texts.PERIOD_TODAY.format(date=_md(day)), tz)


def yesterday(now: datetime, tz: ZoneInfo = TZ) -> Period:
    day = _local_today(now, tz) - timedelta(days=1)
    return _days(day, day, texts.PERIOD_YESTERDAY.format(date=_md(day)), tz)


def week_to_date(now: datetime, tz: ZoneInfo = TZ) -> Period:
    day = _local_today(now, tz)
    first = day - timedelta(days=day.weekday())
    return _days(first, day, texts.PERIOD_WEEK.format(start=_md(first), last=_md(day)), tz)


def month_to_date(now: datetime, tz: ZoneInfo = TZ) -> Period:
    day = _local_today(now, tz)
    first = day.replace(day=1)
    return _days(first, day, texts.PERIOD_MONTH_TO_DATE.format(start=_md(first), last=_md(day)), tz)


def month(year: int, month_: int, tz: ZoneInfo = TZ) -> Period:
    first = date(year, month_, 1)
    following = date(year + month_ // 12, month_ % 12 + 1, 1)
    return Period(_midnight(first, tz), _midnight(following, tz), texts.PERIOD_MONTH.format(year=year, month=month_))


def previous_month(now: datetime, tz: ZoneInfo = TZ) -> Period:
    first = _local_today(now, tz).replace(day=1)
    last = first - timedelta(days=1)
    return month(last.year, last.month, tz)


_WORDS = {
    "": today, "今天": today, "今日": today, "today": today,
    "昨天": yesterday, "昨日": yesterday, "yesterday": yesterday,
    "本周": week_to_date, "这周": week_to_date, "week": week_to_date,
    "本月": month_to_date, "这个月": month_to_date, "month": month_to_date,
    "上月": previous_month, "上个月": previous_month, "lastmonth": previous_month,
}
_MONTH = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")
_DAY = r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
_ONE_DAY = re.compile(rf"^{_DAY}$")
_RANGE = re.compile(rf"^{_DAY}\s*(?:\.\.|~|～|至|到|—|--)\s*{_DAY}$")


def _date(text: str, y: str, m: str, d: str) -> date:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        raise PeriodError(texts.PERIOD_BAD.format(text=text)) from None


def parse_period(text: str | None, now: datetime, tz: ZoneInfo = TZ) -> Period:
    """The period a dispatcher wrote (see the module's docstring); PeriodError for anything else."""
    raw = (text or "").strip()
    key = re.sub(r"\s+", "", raw).lower()
    if key in _WORDS:
        return _WORDS[key](now, tz)
    if match := _MONTH.match(key):
        year, month_ = int(match.group(1)), int(match.group(2))
        if not 1 <= month_ <= 12 or year < 2000:
            raise PeriodError(texts.PERIOD_BAD.format(text=raw))
        return month(year, month_, tz)
    if match := _ONE_DAY.match(key):
        day = _date(raw, *match.groups())
        return _days(day, day, texts.PERIOD_DAY.format(date=day.isoformat()), tz)
    if match := _RANGE.match(key):
        first, last = _date(raw, *match.groups()[:3]), _date(raw, *match.groups()[3:])
        if last < first:
            raise PeriodError(texts.PERIOD_BACKWARDS.format(text=raw))
        if (last - first).days >= MAX_DAYS:
            raise PeriodError(texts.PERIOD_TOO_LONG.format(text=raw, days=MAX_DAYS))
        return _days(first, last, texts.PERIOD_RANGE.format(start=first.isoformat(), last=last.isoformat()), tz)
    raise PeriodError(texts.PERIOD_BAD.format(text=raw[:40]))
