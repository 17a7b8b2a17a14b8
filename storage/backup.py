"""Backups. SQLite: an online copy through SQLite's backup API — consistent even while the bot is writing (it
copies pages under SQLite's own locking); restore by stopping the bot and putting the copy in place.
PostgreSQL: use its own tools (pg_dump -Fc / pg_restore), which this module only points to."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """The backup cannot be made; the message says why in one line."""


def backup(database_url: str, target: Path) -> int:
    """Copy the database at `database_url` to `target`; returns the copy's size in bytes."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        raise BackupError(f"{url.drivername}: use PostgreSQL's own tools, e.g. pg_dump -Fc -f {target} "
                          f"'{url.render_as_string(hide_password=True)}' (restore with pg_restore)")
    source = Path(url.database or "")
    if not source.is_file():
        raise BackupError(f"no database file at {source}")
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the copy failed SQLite's integrity check")
    finally:
        dst.close()
        src.close()
    partial.replace(target)  # a backup file is either whole or absent
    return target.stat().st_size
