"""Reading what department staff type in answer to the bot's questions."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from bot.calendar import TZ

_DEADLINE = re.compile(r"^\s*(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?\s*(.*)$", re.S)


def parse_extension(text: str, now: datetime) -> tuple[datetime, str] | None:
    """'12-10 等待配件到货' → (18:00 local on 10 Dec, the reason); None if it doesn't read as a date + reason.
    A month-day already past this year means next year."""
    m = _DEADLINE.match(text or "")
    if not m:
        return None
    today = now.astimezone(TZ).date()
    try:
        day = date(int(m[1]) if m[1] else today.year, int(m[2]), int(m[3]))
    except ValueError:
        return None
    if not m[1] and day < today:
        day = day.replace(year=day.year + 1)
    return datetime.combine(day, time(18, 0), TZ).astimezone(now.tzinfo), m[4].strip()
