"""Labelled message files (CSV with columns title, detail, label — the govmsg format) and text modes."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

TEXT_MODES = ("title", "title+detail")
REQUIRED_COLUMNS = ("title", "detail", "label")
#: characters of ``detail`` used: long letters repeat themselves, and the first paragraph states the matter;
#: capping bounds training time and the cost of classifying an e-mail-length message
DETAIL_CHARS = 400


class DataError(Exception):
    """A labelled file cannot be used; the message is one line naming the file and the reason."""


@dataclass(frozen=True)
class Labelled:
    title: str
    detail: str
    label: str


def message_text(title: str, detail: str, mode: str) -> str:
    """The text the classifier sees for a message in the given mode."""
    if mode == "title":
        return title
    if mode == "title+detail":
        detail = detail.strip()[:DETAIL_CHARS]
        return f"{title}\n{detail}" if detail else title
    raise ValueError(f"unknown text mode {mode!r}; use one of {', '.join(TEXT_MODES)}")


def read_records(path: str | Path, required: tuple[str, ...] = REQUIRED_COLUMNS) -> tuple[list[str], list[dict[str, str]]]:
    """Header and every record of a UTF-8 CSV (values stripped, missing cells empty); raise :class:`DataError`
    for an unreadable file or one without the ``required`` columns."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames
            if not header:
                raise DataError(f"{path}: empty file (expected a header row: {','.join(required)})")
            missing = [c for c in required if c not in header]
            if missing:
                raise DataError(
                    f"{path}: missing column(s) {', '.join(missing)} (header has: {', '.join(header)})"
                )
            records = [{key: (r.get(key) or "").strip() for key in header} for r in reader]
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8, e.g. iconv -f GBK -t UTF-8"
        ) from None
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV: {exc}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from None
    return list(header), records


def read_labelled_csv(path: str | Path) -> list[Labelled]:
    """Rows of a UTF-8 CSV with a header containing title, detail and label; raise :class:`DataError`.

    Rows without a title or label are skipped (a hand-made file often ends with blank lines); a file with no
    usable row at all is an error.
    """
    _, records = read_records(path)
    rows = [Labelled(r["title"], r["detail"], r["label"]) for r in records if r["title"] and r["label"]]
    if not rows:
        raise DataError(f"{Path(path)}: no rows with both a title and a label")
    return rows
