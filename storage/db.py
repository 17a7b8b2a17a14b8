"""The async database handle: engine, sessions, migrations.

SQLite (the default) is one process; PostgreSQL is for scale. Both are migrated by Alembic
(storage/migrations), never by create_all, so tests exercise the same schema as production.

Transactions that read and then write must not lose updates. PostgreSQL gets that from `SELECT … FOR
UPDATE` (and SKIP LOCKED for claims). On SQLite `with_for_update()` locks nothing and pysqlite begins a
transaction only at the first write, so two transactions could both read the same state and both write.
SQLAlchemy's documented recipe fixes it: the driver's own BEGIN is switched off and every `session()`
starts with `BEGIN IMMEDIATE`, which takes SQLite's write lock at once, so a read that decides a write
sees the newest committed state and nobody else writes until it commits. `read()` sessions, which never
write, begin with a plain (deferred) BEGIN and do not wait for writers (WAL).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def async_url(url: str) -> str:
    """Accept the usual spellings (sqlite:///x.db, postgresql://…) and pick the async drivers."""
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


class Database:
    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        in_memory = False
        if self.is_sqlite:
            path = make_url(self.url).database
            in_memory = not path or path == ":memory:"
            if not in_memory:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A connection for each of the 16 updates handled at once, the sender, the poller, the clocks and the
        # web: SQLAlchemy's default 5 + 10 would make a handler wait for a connection while others talk. (An
        # in-memory SQLite database is one connection's: SQLAlchemy pools it apart.)
        pool = {} if in_memory else {"pool_size": 10, "max_overflow": 20}
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, **pool)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False,
                                            execution_options={SQLITE_BEGIN: "BEGIN IMMEDIATE"})
        self._readers = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A transaction that may write: commits on normal exit, rolls back on error. On SQLite it holds the
        write lock from its first statement on (BEGIN IMMEDIATE), so what it read is still true when it writes."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction (never blocks on, nor blocks, a writer on SQLite)."""
        async with self._readers() as session, session.begin():
            yield session

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent). SQLite rebuilds tables in batch mode, which
        needs foreign-key enforcement off meanwhile (it can only be switched outside a transaction)."""
        cfg = alembic_config(self.url)
        async with self.engine.connect() as conn:
            if self.is_sqlite:
                await _sqlite_pragma(conn, "PRAGMA foreign_keys=OFF")
            try:
                await conn.run_sync(_upgrade, cfg)
                if self.is_sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")
                await conn.commit()
            finally:
                if self.is_sqlite:
                    await conn.rollback()
                    await _sqlite_pragma(conn, "PRAGMA foreign_keys=ON")

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(connection, cfg: Config) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


SQLITE_BEGIN = "gridbot_sqlite_begin"  # execution option: the BEGIN statement of a session's transaction
BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another's write lock (each holds it for milliseconds)


def _sqlite_connect(dbapi_conn, _record) -> None:
    # The driver must not begin transactions by itself (it would begin late, at the first write): we do.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


def _sqlite_begin(conn) -> None:
    statement = conn.get_execution_options().get(SQLITE_BEGIN, "BEGIN")
    if statement:
        conn.exec_driver_sql(statement)


async def _sqlite_pragma(conn, pragma: str) -> None:
    """Run a PRAGMA outside any transaction (foreign_keys is ignored inside one)."""
    await conn.execution_options(**{SQLITE_BEGIN: ""})
    await conn.exec_driver_sql(pragma)
    await conn.commit()
    await conn.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})


def run(coro):
    """Run a coroutine from synchronous CLI code."""
    return asyncio.run(coro)
