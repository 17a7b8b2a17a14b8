"""Stage limits (时限) and the working-day calendar (工作日历).

Every stage of a ticket has a clock: "2h" to accept, "5wd" to resolve, … A `Limit` is such a
duration; `WorkCalendar.add` turns a start moment plus a limit into a due moment.

Times are stored and passed around in UTC; working days are a matter of local time
(Asia/Shanghai), so the calendar converts at its edges. China's public holidays and the
make-up working days (调休上班) change every year and come from `data/calendar.yaml`.

Working-day semantics (unit "wd"):

* N whole working days end N working days later at the same local clock time
  (Friday 10:00 + 1wd = Monday 10:00 in a normal week).
* A start on a non-working day counts as 00:00 local of the next working day
  (Saturday 15:00 + 1wd = Tuesday 00:00, i.e. all of Monday is the one working day).
* A fraction of a working day is that share of 24 hours, counting only time that falls on
  working days (Friday 18:00 + 0.5wd = Monday 06:00). Fractions are allowed because the
  responsibility list has limits like "0.5个工作日".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from nlp.catalogue import LIMIT_RE  # the one grammar of limits

TZ = ZoneInfo("Asia/Shanghai")

DEFAULT_CALENDAR = Path(__file__).resolve().parent.parent / "data" / "calendar.yaml"

# Seconds per unit for the plain elapsed-time units; "wd" is handled by the calendar.
_ELAPSED_UNITS = {"m": 60.0, "h": 3600.0, "d": 86400.0}
_UNIT_NAMES = {"m": "分钟", "h": "小时", "d": "天", "wd": "个工作日"}

# A calendar without any working day in a year is a broken file, not a long holiday; stop
# searching instead of looping forever.
_MAX_SEARCH_DAYS = 366
COVERAGE_DAYS = 60  # start-up and the catalogue check warn when the calendar does not reach this far


def _format_amount(amount: float) -> str:
    """2.0 → "2", 1.5 → "1.5" (no float noise such as 0.30000000000000004)."""
    return f"{amount:g}"


@dataclass(frozen=True)
class Limit:
    """A stage limit: `amount` of `unit` ("m" minutes, "h" hours, "d" calendar days, "wd" working days)."""

    amount: float
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in _UNIT_NAMES:
            raise ValueError(f"unknown limit unit {self.unit!r}: expected one of m, h, d, wd")
        if not self.amount > 0:
            raise ValueError(f"limit amount must be positive, got {self.amount!r}")

    @classmethod
    def parse(cls, text: str) -> Limit:
        """Parse "2h", "1.5h", "3d", "5wd", "30m" (case and surrounding spaces are ignored)."""
        match = LIMIT_RE.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(
                f"invalid limit {text!r}: expected a positive number followed by "
                "m (minutes), h (hours), d (days) or wd (working days), e.g. '2h', '3d', '5wd'"
            )
        try:
            return cls(float(match.group(1)), match.group(2).lower())
        except ValueError as exc:
            raise ValueError(f"invalid limit {text!r}: {exc}") from exc

    def __str__(self) -> str:
        """Canonical form that `parse` reads back: "2h", "1.5h", "5wd"."""
        return f"{_format_amount(self.amount)}{self.unit}"

    def describe(self) -> str:
        """Chinese wording for messages: "2小时", "3天", "5个工作日"."""
        return f"{_format_amount(self.amount)}{_UNIT_NAMES[self.unit]}"


class WorkCalendar:
    """Which local dates are working days, and due-time arithmetic on top of that."""

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = (), source: str = "") -> None:
        """`holidays`: extra days off; `workdays`: make-up working days (调休上班), usually a weekend day."""
        self.holidays: frozenset[date] = frozenset(holidays)
        self.workdays: frozenset[date] = frozenset(workdays)
        self.source = source
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(
                "dates listed both as holiday and as make-up workday: "
                + ", ".join(d.isoformat() for d in both)
            )

    @classmethod
    def load(cls, path: Path | str | None = None) -> WorkCalendar:
        """Read a calendar file (default: data/calendar.yaml shipped in the repo).

        The file has two optional lists of ISO dates, `holidays` and `workdays`. Errors name the
        file and the offending entry.
        """
        file = Path(path) if path is not None else DEFAULT_CALENDAR
        try:
            raw = yaml.load(file.read_text(encoding="utf-8"), Loader=_StringDateLoader)
        except OSError as exc:
            raise ValueError(f"{file}: cannot read calendar: {exc}") from exc
        except yaml.YAMLError as exc:
            raise ValueError(f"{file}: not valid YAML: {exc}") from exc
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ValueError(f"{file}: expected a mapping with 'holidays' and 'workdays' lists")
        unknown = sorted(set(map(str, raw)) - {"holidays", "workdays"})
        if unknown:
            raise ValueError(
                f"{file}: unknown key(s) {', '.join(unknown)}: expected 'holidays' and 'workdays'"
            )
        holidays = _parse_dates(file, "holidays", raw.get("holidays"))
        workdays = _parse_dates(file, "workdays", raw.get("workdays"))
        try:
            return cls(holidays, workdays, source=str(file))
        except ValueError as exc:
            raise ValueError(f"{file}: {exc}") from exc

    def coverage_warnings(self, now: datetime, days: int = COVERAGE_DAYS) -> list[str]:
        """One line per year within the next `days` days for which the calendar lists no holidays at all: its
        working-day limits would silently ignore that year's public holidays."""
        today = now.astimezone(TZ).date()
        covered = {d.year for d in self.holidays | self.workdays}
        end = today + timedelta(days=days)
        return [f"working-day calendar {self.source or '(built in)'} lists no holidays for {year}, which starts "
                f"within {days} days: working-day limits will ignore its public holidays. Add the State Council's "
                f"{year} schedule (国务院办公厅关于{year}年部分节假日安排的通知) to the calendar file."
                for year in range(today.year, end.year + 1) if year not in covered]

    def is_workday(self, d: date) -> bool:
        """Mon–Fri unless a holiday; Sat/Sun only if a make-up working day."""
        if d in self.holidays:
            return False
        if d in self.workdays:
            return True
        return d.weekday() < 5

    def next_workday(self, d: date) -> date:
        """The first working day strictly after `d`."""
        for offset in range(1, _MAX_SEARCH_DAYS + 1):
            candidate = d + timedelta(days=offset)
            if self.is_workday(candidate):
                return candidate
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days after {d.isoformat()}")

    def add(self, start: datetime, limit: Limit | str) -> datetime:
        """The due moment of `limit` counted from `start` (UTC-aware in, UTC-aware out).

        "m"/"h"/"d" are plain elapsed time; "wd" follows the working-day rules in the module
        docstring.
        """
        if start.utcoffset() is None:
            raise ValueError("start must be timezone-aware (UTC), got a naive datetime")
        if isinstance(limit, str):
            limit = Limit.parse(limit)
        if limit.unit in _ELAPSED_UNITS:
            return (start + timedelta(seconds=limit.amount * _ELAPSED_UNITS[limit.unit])).astimezone(UTC)
        return self._add_workdays(start.astimezone(TZ), limit.amount).astimezone(UTC)

    def share(self, start: datetime, due: datetime, fraction: float) -> datetime:
        """The moment `fraction` (0…1) of the way from `start` to `due`, in elapsed time.

        Used for reminders, e.g. at 75% of a limit.
        """
        if start.utcoffset() is None or due.utcoffset() is None:
            raise ValueError("start and due must be timezone-aware (UTC)")
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
        return (start + (due - start) * fraction).astimezone(UTC)

    def _add_workdays(self, local: datetime, amount: float) -> datetime:
        """Working-day arithmetic on a local (Asia/Shanghai) datetime."""
        if not self.is_workday(local.date()):
            local = datetime.combine(self.next_workday(local.date()), time(0), TZ)
        whole = int(amount)
        day = local.date()
        for _ in range(whole):
            day = self.next_workday(day)
        current = datetime.combine(day, local.timetz())
        return self._consume_working_time(current, timedelta(days=amount - whole))

    def _consume_working_time(self, current: datetime, remaining: timedelta) -> datetime:
        """Advance `current` by `remaining`, counting only time on working days.

        Whenever the walk crosses midnight into a non-working day, it jumps to 00:00 of the next
        working day, so non-working time never counts.
        """
        while remaining > timedelta(0):
            if not self.is_workday(current.date()):
                current = datetime.combine(self.next_workday(current.date()), time(0), TZ)
            end_of_day = datetime.combine(current.date() + timedelta(days=1), time(0), TZ)
            step = min(remaining, end_of_day - current)
            current += step
            remaining -= step
        return current


class _StringDateLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text, so an impossible date such as 2026-02-30 reaches our
    validation (which names the entry) instead of failing deep inside PyYAML."""


_StringDateLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


def _parse_dates(file: Path, key: str, value: Any) -> list[date]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{file}: '{key}' must be a list of ISO dates (YYYY-MM-DD)")
    dates: list[date] = []
    for index, entry in enumerate(value):
        try:
            if not isinstance(entry, str):
                raise ValueError("not a date")
            dates.append(date.fromisoformat(entry.strip()))
        except ValueError as exc:
            raise ValueError(
                f"{file}: {key}[{index}] = {entry!r} is not a valid ISO date (YYYY-MM-DD): {exc}"
            ) from exc
    return dates
