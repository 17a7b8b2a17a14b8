"""The durable inbox: every update is stored (idempotently, by update_id) before it is confirmed to Telegram,
then handled from the store at least once, in order. Polling and (later) webhook mode share it: a webhook
answers 200 only after `store` returned.

    Telegram ──getUpdates──▶ store (commit) ──▶ next offset confirms them ──▶ handle, in update_id order
                                                 a crash here loses nothing: unhandled rows are handled at start
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from storage.db import Database
from storage.models import InboxUpdate


class Inbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def store(self, updates: Sequence[dict[str, Any]], now: datetime) -> int:
        """Keep these updates (each once, whatever was stored before); returns how many were new."""
        if not updates:
            return 0
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        rows = [{"update_id": int(u["update_id"]), "payload": u, "received_at": now, "attempts": 0} for u in updates]
        async with self.db.session() as s:
            result = await s.exec(insert(InboxUpdate).values(rows).on_conflict_do_nothing())
            return result.rowcount or 0

    async def next_offset(self) -> int | None:
        """The getUpdates offset that confirms everything stored (None: nothing stored yet)."""
        async with self.db.read() as s:
            newest = (await s.exec(select(func.max(InboxUpdate.update_id)))).one()
        return newest + 1 if newest is not None else None

    async def pending(self, limit: int = 100, received_since: datetime | None = None) -> list[InboxUpdate]:
        query = select(InboxUpdate).where(col(InboxUpdate.handled_at).is_(None))
        if received_since is not None:
            query = query.where(col(InboxUpdate.received_at) >= received_since)
        async with self.db.read() as s:
            return list((await s.exec(query.order_by(col(InboxUpdate.update_id)).limit(limit))).all())

    async def started(self, update_id: int) -> None:
        """Counted before handling: an update that keeps crashing the bot can be told apart."""
        async with self.db.session() as s:
            await s.exec(update(InboxUpdate).where(InboxUpdate.update_id == update_id)
                         .values(attempts=InboxUpdate.attempts + 1))

    async def handled(self, update_id: int, now: datetime) -> None:
        async with self.db.session() as s:
            await s.exec(update(InboxUpdate).where(InboxUpdate.update_id == update_id).values(handled_at=now))
