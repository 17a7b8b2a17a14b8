"""Shared fixtures: real databases (SQLite, and PostgreSQL when reachable), the Bot API double, and a
harness that runs the real PTB Application against the double.

PostgreSQL: TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test). Each run creates its own
database `gridbot_test_<pid>` on that server and drops it at the end; unreachable → those tests skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.double.server import BotApiDouble
from bot.double.spec import find_spec
from bot.sandbox import LocalBot
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SPEC = find_spec(ROOT)  # the Bot API spec, when this machine has it: every request of the bot is validated
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_TEST_DB = f"gridbot_test_{os.getpid()}"  # per run: parallel runs on one server must not collide
START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # Thursday 09:00 in the county: a working day


class Clock:
    """A controllable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime = START) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


# -- databases ----------------------------------------------------------------------------------
def _pg_admin_ok() -> str | None:
    """None if PostgreSQL is reachable (and the test database prepared), else why not."""
    import asyncpg

    async def prepare() -> None:
        url = make_url(PG_URL)
        conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                     password=url.password, database=url.database, timeout=3)
        try:
            for (name,) in await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'gridbot_test_%'"):
                if name == PG_TEST_DB or not _alive(int(name.rsplit("_", 1)[1])):  # leftovers of killed runs
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{PG_TEST_DB}"')
        finally:
            await conn.close()
        db = Database(pg_test_url())
        await db.migrate()
        await db.dispose()

    try:
        in_thread(prepare())
    except Exception as e:  # noqa: BLE001 — any failure means "no PostgreSQL here"
        return f"PostgreSQL not reachable at {PG_URL}: {type(e).__name__}: {e}"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_pg_test_db() -> None:
    import asyncpg

    async def drop() -> None:
        url = make_url(PG_URL)
        conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                     password=url.password, database=url.database, timeout=3)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)')
        finally:
            await conn.close()

    in_thread(drop())


def in_thread(coro):
    """Run a coroutine to completion from sync code, even when an event loop is already running here."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def pg_test_url() -> str:
    return make_url(PG_URL).set(database=PG_TEST_DB).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres():
    """The migrated PostgreSQL test database URL (this run's own database), or skip with the reason."""
    why = _pg_admin_ok()
    if why:
        pytest.skip(why)
    yield pg_test_url()
    _drop_pg_test_db()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file; each test copies it (migrating per test would be slower)."""
    path = tmp_path_factory.mktemp("template") / "gridbot.db"
    db = Database(f"sqlite:///{path}")

    async def migrate() -> None:
        await db.migrate()
        await db.dispose()

    in_thread(migrate())
    return path


TABLES = ["reportrun", "callrating", "call", "inboxupdate", "audit", "rating", "extension", "timer", "invite", "pendinginput", "attachment", "draft", "outbox", "card", "event",
          "assignment", "coreporter", "ticket", "dailycounter", "member", "grid", "department", "matter"]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request, tmp_path, sqlite_template) -> AsyncIterator[Database]:
    """A clean, migrated database: SQLite, then PostgreSQL (skipped when unreachable)."""
    if request.param == "sqlite":
        path = tmp_path / "gridbot.db"
        shutil.copy(sqlite_template, path)
        db = Database(f"sqlite:///{path}")
    else:
        db = Database(request.getfixturevalue("postgres"))
        async with db.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    yield db
    await db.dispose()


@pytest.fixture
async def sqlite_db(tmp_path, sqlite_template) -> AsyncIterator[Database]:
    path = tmp_path / "gridbot.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    await db.dispose()


# -- the Bot API double and the bot -------------------------------------------------------------
def _residents() -> dict[int, tuple[str, ...]]:
    """The fixture county's residents: telegram id → what identifies them (name, phone)."""
    import yaml

    county = yaml.safe_load((FIXTURES / "county.yaml").read_text(encoding="utf-8"))
    return {m["telegram_id"]: tuple(str(v) for v in (m.get("name"), m.get("phone")) if v)
            for m in county["members"] if m.get("role", "resident") == "resident"}


def privacy_leaks(double: BotApiDouble) -> list[str]:
    """Bot messages that show a resident's name or phone anywhere but in that resident's own chat."""
    leaks = []
    for resident, marks in _residents().items():
        for chat in [c["id"] for c in double.state()["chats"] if c["id"] != resident]:
            for m in double.bot_messages(chat):
                body = (m.get("text") or "") + (m.get("caption") or "")
                leaks += [f"chat {chat} message {m['message_id']}: {mark}" for mark in marks if mark in body]
    return leaks


@pytest.fixture
async def double() -> AsyncIterator[BotApiDouble]:
    """The Bot API double. After each test: no request broke the Bot API spec, and no message the bot sent showed
    a resident's name or phone outside their own chat (every end-to-end test is a privacy check)."""
    d = BotApiDouble(spec_path=SPEC)
    await d.start()
    yield d
    await d.stop()
    assert not d.violations, f"requests that break the Bot API spec: {d.violations}"
    assert not privacy_leaks(d), f"a resident's identity left their own chat: {privacy_leaks(d)}"


async def start_bot(db: Database, double: BotApiDouble, clock: Clock, **overrides) -> LocalBot:
    settings = replace(Settings(catalogue=FIXTURES / "catalogue.yaml", county=FIXTURES / "county.yaml",
                                database_url=db.url, private_interval=0.0), **overrides)
    # no APScheduler sweep: tests move the clock and sweep themselves
    local = await LocalBot.start(settings, db=db, now=clock.now, double=double, sweep_seconds=None)
    local.clock = clock
    return local


@pytest.fixture
async def bot(database, double) -> AsyncIterator[LocalBot]:
    """The whole bot on SQLite and on PostgreSQL."""
    local = await start_bot(database, double, Clock())
    yield local
    await local.stop()


@pytest.fixture
async def sqlite_bot(sqlite_db, double) -> AsyncIterator[LocalBot]:
    """The whole bot on SQLite only (for scenarios whose storage behaviour is covered elsewhere)."""
    local = await start_bot(sqlite_db, double, Clock())
    yield local
    await local.stop()
