"""xlsx workbooks for /export: plain tables in, the file's bytes out (openpyxl, no database, no Telegram).

One sheet per table; the header row bold and frozen (it stays on screen while scrolling); column widths fitted
to the text, a CJK character counting as two; datetimes written in county time (Asia/Shanghai) without a zone,
with a date-time number format, because Excel cells have no time zone; sheet titles made legal for Excel
(at most 31 characters, none of []:*?/\\, unique ignoring case).

The workbook is written in openpyxl's write-only mode (rows are streamed to the file, not kept as cell objects),
so a 20,000-row export stays small in memory (benchmarks/bench_reports.py).
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from typing import Any

from bot.calendar import TZ

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
MIN_WIDTH, MAX_WIDTH = 6, 60
WIDTH_SAMPLE = 2000  # rows looked at to fit the column widths (a long export's first rows are typical)


@dataclass
class Sheet:
    title: str
    header: list[str]
    rows: list[list[Any]]
    widths: list[float] | None = field(default=None)  # column widths in Excel's units; None: fitted to the text


def workbook(sheets: list[Sheet], tz: tzinfo = TZ) -> bytes:
    """The xlsx file of the sheets, in order. Cell values: str, int, float, bool, None, datetime (UTC-aware, or
    naive meaning UTC; written in `tz`), date; anything else is written as its str()."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    titles: set[str] = set()
    for sheet in sheets or [Sheet("Sheet1", [], [])]:
        ws = wb.create_sheet(_unique(sheet_title(sheet.title), titles))
        ws.freeze_panes = "A2"
        rows = [[cell_value(v, tz) for v in row] for row in sheet.rows]
        widths = sheet.widths or fitted_widths(sheet.header, rows)
        for i, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        header = []
        for name in sheet.header:
            cell = WriteOnlyCell(ws, value=str(name))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in rows:
            ws.append([_formatted(ws, v, WriteOnlyCell) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def cell_value(value: Any, tz: tzinfo = TZ) -> Any:
    """What a cell holds: datetimes as naive county time, enums as their value, other objects as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(tz).replace(tzinfo=None, microsecond=0)  # a cell shows minutes; no hidden ms
    if isinstance(value, date):
        return value
    if isinstance(value, Enum):
        return value.value
    return str(value)


def _formatted(ws, value, WriteOnlyCell):
    """Dates and datetimes get a number format (a styled cell); everything else is written as it is."""
    if isinstance(value, datetime):
        fmt = DATETIME_FORMAT
    elif isinstance(value, date):
        fmt = DATE_FORMAT
    else:
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = fmt
    return cell


_ILLEGAL = re.compile(r"[\[\]:*?/\\]")


def sheet_title(title: str) -> str:
    """A legal Excel sheet title: no []:*?/\\, not starting or ending with an apostrophe, at most 31 characters."""
    cleaned = _ILLEGAL.sub("_", str(title)).strip().strip("'").strip()
    return cleaned[:31] or "Sheet"


def _unique(title: str, taken: set[str]) -> str:
    candidate, n = title, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = title[:31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def text_width(text: str) -> int:
    """Display width: East Asian wide and full-width characters count as two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def fitted_widths(header: list[str], rows: list[list[Any]]) -> list[float]:
    n = max([len(header)] + [len(row) for row in rows[:WIDTH_SAMPLE]])
    widths = [0] * n
    for row in [header, *rows[:WIDTH_SAMPLE]]:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], _shown_width(value))
    return [float(min(max(w + 2, MIN_WIDTH), MAX_WIDTH)) for w in widths]


def _shown_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len("2026-11-26 09:00")
    if isinstance(value, date):
        return len("2026-11-26")
    if isinstance(value, float):
        return len(f"{value:.2f}")
    return max((text_width(line) for line in str(value).splitlines()), default=0)
