"""Refusals on the record: who tried what, where, and why it was refused. A stranger pressing a department's
button, a resident asking for someone else's ticket, a forged button: each changes nothing and leaves a row
the command center can review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from storage.db import Database
from storage.models import Audit, Member, utcnow


class AuditLog:
    def __init__(self, db: Database, now: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.now = now

    async def refused(self, member: Member | None, *, telegram_id: int | None, chat_id: int | None, action: str,
                      subject: str | None, reason: str) -> None:
        async with self.db.session() as s:
            s.add(Audit(at=self.now(), member_id=member.id if member else None, telegram_id=telegram_id,
                        chat_id=chat_id, action=action[:64], subject=(subject or "")[:64] or None, reason=reason))
