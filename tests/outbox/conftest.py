"""Fixtures and helpers of the outbox sender's tests (bot/sender.py) against the Bot API double, with a real
PTB `Bot` and real databases (SQLite, and PostgreSQL when reachable). No county and no bot application: rows
are addressed to raw chats.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from sqlmodel import select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.double.server import BotApiDouble
from bot.sender import OutboxSender as _Sender
from handlers.keyboard import markup
from storage.db import Database
from storage.models import Outbox
from tests.conftest import SPEC

ALICE, BOB, CAROL = 1001, 1002, 1003
GROUP, GROUP2 = -2001, -2002

FAST = {"private_interval": 0.01, "max_backoff": 0.05}  # limits that don't matter for the test at hand


def OutboxSender(db: Database, bot: Bot, **kw: Any) -> _Sender:  # noqa: N802 — the sender with the real keyboard
    return _Sender(db, bot, markup, **kw)


# -- fixtures: a clean migrated database (conftest: `database` is SQLite then PostgreSQL, `sqlite_db`) -----
@pytest.fixture
def db(database: Database) -> Database:
    return database


@pytest.fixture
def sqlite(sqlite_db: Database) -> Database:
    return sqlite_db


async def start_double(*, enforce_limits: bool = False) -> BotApiDouble:
    double = BotApiDouble(spec_path=SPEC, enforce_limits=enforce_limits)
    await double.start()
    for user_id, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        double.add_user(user_id, name)
    double.add_group(GROUP, "城管局")
    double.add_group(GROUP2, "住建局")
    return double


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    double = await start_double()
    yield double
    await double.stop()
    assert not double.violations, double.violations


@pytest.fixture
async def limited_api() -> AsyncIterator[BotApiDouble]:
    """The double answering 429 whenever Telegram's documented send rates are exceeded."""
    double = await start_double(enforce_limits=True)
    yield double
    await double.stop()
    assert not double.violations, double.violations


async def make_bot(double: BotApiDouble, read_timeout: float = 5.0) -> Bot:
    request = HTTPXRequest(connection_pool_size=16, read_timeout=read_timeout)
    bot = Bot(double.token, base_url=double.base_url, request=request)
    await bot.initialize()
    return bot


@pytest.fixture
async def ptb(api: BotApiDouble) -> AsyncIterator[Bot]:
    b = await make_bot(api)
    yield b
    await b.shutdown()


# -- helpers ----------------------------------------------------------------------------------------
async def add(db: Database, *rows: tuple[int, str] | dict[str, Any]) -> list[int]:
    """Insert rows in one transaction, as the workflow does; (chat, text) or Outbox fields with "chat" (a raw
    chat address: these tests need no county)."""
    fields = [dict(r) if isinstance(r, dict) else {"chat": r[0], "text": r[1]} for r in rows]
    for f in fields:
        f["recipient"] = f"chat:{f.pop('chat')}"
        f.setdefault("kind", "notice")
    async with db.session() as s:
        objs = [Outbox(**f) for f in fields]
        s.add_all(objs)
        await s.flush()
        return [o.id for o in objs]  # type: ignore[misc]


async def load(db: Database) -> dict[int, Outbox]:
    async with db.session() as s:
        return {o.id: o for o in (await s.exec(select(Outbox))).all()}  # type: ignore[misc]


def texts(double: BotApiDouble, chat_id: int) -> list[str]:
    return [m["text"] for m in double.bot_messages(chat_id)]


def sends(double: BotApiDouble, chat_id: int, method: str = "sendMessage") -> list[tuple[float, str]]:
    return [(t, p.get("text", "")) for t, m, p in double.requests if m == method and p.get("chat_id") == chat_id]


def first_occurrences(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def flood_errors(double: BotApiDouble) -> list[str]:
    return [d for _, _, d in double.error_responses if "Too Many Requests" in d]
