"""Growth: what is no longer needed is pruned after a configurable age (GRIDBOT_RETENTION_DAYS).

Delivered (or undeliverable) outbox rows, drafts that were submitted, cancelled or abandoned, and questions
nobody answered. Tickets, events, cards, ratings and attachments are the county's record and are kept.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, delete, select

from storage.db import Database
from storage.models import Attachment, Draft, Outbox, OutboxState, PendingInput


async def prune(db: Database, before: datetime) -> dict[str, int]:
    """Delete what is older than `before`; returns how many rows of each kind went."""
    async with db.session() as s:
        prompts = await s.exec(delete(PendingInput).where(PendingInput.created_at < before))
        done = select(Outbox.id).where(col(Outbox.state) != OutboxState.PENDING, Outbox.created_at < before)
        await s.exec(delete(PendingInput).where(col(PendingInput.outbox_id).in_(done)))
        outbox = await s.exec(delete(Outbox).where(col(Outbox.id).in_(done)))
        old = select(Draft.id).where(Draft.created_at < before)
        await s.exec(delete(Attachment).where(col(Attachment.draft_id).in_(old)))
        drafts = await s.exec(delete(Draft).where(col(Draft.id).in_(old)))
    return {"outbox": outbox.rowcount or 0, "drafts": drafts.rowcount or 0, "prompts": prompts.rowcount or 0}
