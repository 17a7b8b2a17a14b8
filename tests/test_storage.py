"""Storage on SQLite and PostgreSQL: migrations, 64-bit Telegram ids, UTC datetimes, the county file."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import func, select

from bot.directory import CountyError, load_county
from nlp.catalogue import load_catalogue
from storage.db import Database
from storage.models import DailyCounter, Department, Grid, Matter, Member, Outbox
from tests.conftest import FIXTURES


async def test_migrations_are_idempotent(database):
    await database.migrate()
    await database.migrate()


async def test_telegram_ids_are_64_bit_and_datetimes_come_back_utc_aware(database):
    at = datetime(2026, 11, 26, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    async with database.session() as s:
        s.add(Outbox(recipient="chat:-1001234567890", chat_id=-1001234567890, kind="notice", text="测试",
                     created_at=at, next_attempt_at=at, buttons=[[["签收", "accept", 1, None]]]))
    async with database.session() as s:
        row = (await s.exec(select(Outbox))).one()
    assert row.chat_id == -1001234567890
    assert row.created_at == at and row.created_at.tzinfo is not None and row.created_at.utcoffset() == timedelta(0)
    assert row.buttons == [[["签收", "accept", 1, None]]]


async def test_naive_datetimes_are_refused(database):
    with pytest.raises(Exception, match="timezone"):
        async with database.session() as s:
            s.add(Outbox(recipient="member:1", kind="notice", text="x", created_at=datetime(2026, 1, 1)))


async def test_loading_the_county_twice_changes_nothing(database):
    catalogue = load_catalogue(FIXTURES / "catalogue.yaml")
    first = await load_county(database, catalogue, FIXTURES / "county.yaml")
    again = await load_county(database, catalogue, FIXTURES / "county.yaml")
    assert first == again
    async with database.session() as s:
        counts = [(await s.exec(select(func.count()).select_from(t))).one() for t in (Department, Grid, Member, Matter)]
        zfj = (await s.exec(select(Department).where(Department.code == "zfj"))).one()
    assert counts == [len(catalogue.departments) + 3, 2, 12, len(catalogue.matters)]
    assert zfj.chat_id == -100101 and zfj.name == "综合行政执法局"


async def test_a_wrong_county_file_lists_every_problem_by_entry(sqlite_db, tmp_path):
    bad = tmp_path / "county.yaml"
    bad.write_text(
        "townships:\n  - {code: ld, name: 龙都街道, grids: [{code: g1}]}\n"
        "members:\n  - {telegram_id: 1, role: mayor}\n  - {telegram_id: 2, role: staff}\n"
        "  - {telegram_id: 3, grid: nowhere}\n  - {name: 无号}\n", encoding="utf-8")
    with pytest.raises(CountyError) as e:
        await load_county(sqlite_db, load_catalogue(FIXTURES / "catalogue.yaml"), bad)
    text = str(e.value)
    for fragment in ("grids[0]: needs code and name", "members[0] (1): role must be", "members[1] (2): staff needs",
                     "members[2] (3): unknown grid nowhere", "members[3]: needs an integer telegram_id"):
        assert fragment in text
    async with sqlite_db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Member))).one() == 0


async def test_the_migrations_match_the_models(database):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                SQLModel.metadata)

    async with database.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def _bump(sessions, pause: float, both_read: asyncio.Barrier | None = None) -> None:
    """Read a counter, think for a moment (or until the other has read too), write it back plus one: a read
    that decides a write."""
    async with sessions() as s:
        row = (await s.exec(select(DailyCounter).where(DailyCounter.day == "lost").with_for_update())).one()
        seen = row.last
        await (both_read.wait() if both_read else asyncio.sleep(pause))
        row.last = seen + 1
        s.add(row)


async def _counter(db: Database) -> int:
    async with db.read() as s:
        return (await s.exec(select(DailyCounter.last).where(DailyCounter.day == "lost"))).one()


async def test_a_read_that_decides_a_write_never_loses_a_concurrent_update(database):
    """Two transactions read the same row and both write: the second must see the first's write. (SQLite:
    BEGIN IMMEDIATE; PostgreSQL: FOR UPDATE.)"""
    async with database.session() as s:
        s.add(DailyCounter(day="lost", last=0))
    await asyncio.gather(_bump(database.session, 0.3), _bump(database.session, 0.0))
    assert await _counter(database) == 2


async def test_without_the_sqlite_recipe_the_same_transactions_lose_an_update(sqlite_db):
    """What the recipe prevents, reproduced with the driver's own (late) BEGIN: both read 0, one write is lost."""
    from contextlib import asynccontextmanager

    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlmodel.ext.asyncio.session import AsyncSession

    plain = create_async_engine(sqlite_db.url)
    factory = async_sessionmaker(plain, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def legacy():
        async with factory() as s, s.begin():
            yield s

    async with sqlite_db.session() as s:
        s.add(DailyCounter(day="lost", last=0))
    both_read = asyncio.Barrier(2)  # on a loaded machine a pause alone may let one read after the other's write
    await asyncio.gather(_bump(legacy, 0.0, both_read), _bump(legacy, 0.0, both_read))
    await plain.dispose()
    assert await _counter(sqlite_db) == 1  # the lost update
