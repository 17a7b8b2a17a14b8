"""Questions the bot is waiting on (退回理由, 办结结果, attachments), stored so a restart forgets none."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, delete, select

from storage.db import Database
from storage.models import PendingInput, utcnow

TTL = timedelta(hours=24)


class Prompts:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def ask(self, chat_id: int, user_id: int, kind: str, *, ticket_id: int | None = None,
                  prompt_message_id: int | None = None, data: dict | None = None) -> None:
        """Record the question; a newer question of the same user in the same chat replaces older ones."""
        async with self.db.session() as s:
            await s.exec(delete(PendingInput).where(PendingInput.chat_id == chat_id,
                                                    PendingInput.user_id == user_id))
            s.add(PendingInput(chat_id=chat_id, user_id=user_id, kind=kind, ticket_id=ticket_id,
                               prompt_message_id=prompt_message_id, data=data or {}))

    async def find(self, chat_id: int, user_id: int, reply_to: int | None = None,
                   now: datetime | None = None) -> PendingInput | None:
        """The user's open question in this chat: the one replied to, or with no reply the latest (when a
        bot sees all group messages, i.e. privacy mode off, a plain message answers it too)."""
        since = (now or utcnow()) - TTL
        async with self.db.session() as s:
            query = select(PendingInput).where(PendingInput.chat_id == chat_id, PendingInput.user_id == user_id,
                                               PendingInput.created_at >= since)
            if reply_to is not None:
                return (await s.exec(query.where(PendingInput.prompt_message_id == reply_to))).first()
            return (await s.exec(query.order_by(col(PendingInput.id).desc()))).first()

    async def done(self, prompt_id: int) -> None:
        async with self.db.session() as s:
            await s.exec(delete(PendingInput).where(PendingInput.id == prompt_id))
