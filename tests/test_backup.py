"""`gridbot db backup FILE`: an online SQLite copy, made while the bot works, that a restored bot runs on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from storage.db import Database
from storage.models import Ticket
from tests.conftest import Clock, start_bot
from tests.helpers import ILLEGAL_BUILDING, RESIDENT

ROOT = Path(__file__).resolve().parent.parent


def gridbot(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


async def test_a_backup_taken_while_the_bot_runs_restores_every_ticket(sqlite_bot, tmp_path, double):
    number = await sqlite_bot.submit(RESIDENT, ILLEGAL_BUILDING)
    copy = tmp_path / "backup" / "gridbot-2026-11-26.db"
    done = gridbot("db", "backup", str(copy), database_url=sqlite_bot.svc.db.url.replace("+aiosqlite", ""))
    assert done.returncode == 0, done.stderr
    assert not copy.with_name(copy.name + ".partial").exists()
    assert gridbot("db", "backup", str(copy), database_url=sqlite_bot.svc.db.url).returncode == 2  # never overwrite

    restored = Database(f"sqlite:///{copy}")
    try:
        await restored.migrate()
        async with restored.read() as s:
            assert (await s.exec(select(Ticket.number))).all() == [number]
        await sqlite_bot.stop()
        again = await start_bot(restored, double, Clock())  # the bot runs on the restored copy
        try:
            await again.say(RESIDENT, f"/t {number}")
            assert "违法建设" in again.last(RESIDENT)["text"]
        finally:
            await again.stop()
    finally:
        await restored.dispose()


def test_postgresql_backups_point_to_pg_dump(tmp_path):
    done = gridbot("db", "backup", str(tmp_path / "x.dump"),
                   database_url="postgresql://gridbot:secret@db.example/gridbot")
    assert done.returncode == 2 and "pg_dump" in done.stderr and "secret" not in done.stderr
