"""Evidence kept by Telegram file id (sent on by id, never re-uploaded), and — when GRIDBOT_MEDIA_DIR is set —
the county's own copy of each photo and recording, because its records must outlive a chat.

The archiver copies what is not yet on disk, oldest first, a batch per run (scheduled: bot/scheduler.py), up
to GRIDBOT_MEDIA_MAX_MB in all; past that it stops copying and says so in the log (the file ids stay valid).
Files are laid out by month and ticket: <dir>/2026-11/ticket-42/photo-17.jpg.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import func
from sqlmodel import col, select
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from storage.db import Database
from storage.models import Attachment

log = logging.getLogger(__name__)
TELEGRAM_DOWNLOAD_LIMIT = 20 * 2**20  # bots may fetch files up to 20 MB (Bot API getFile)
BATCH = 20
SUFFIX = {"photo": ".jpg", "voice": ".ogg", "video": ".mp4"}


def too_big(size: int | None) -> bool:
    """Larger than a bot may fetch: the bot could neither keep nor check it."""
    return size is not None and size > TELEGRAM_DOWNLOAD_LIMIT


class Archiver:
    def __init__(self, db: Database, bot: Bot, directory: Path, max_bytes: int) -> None:
        self.db = db
        self.bot = bot
        self.directory = directory
        self.max_bytes = max_bytes
        self._full_logged = False

    async def run(self) -> int:
        """Copy a batch of evidence not yet on disk; the number copied."""
        async with self.db.read() as s:
            used = (await s.exec(select(func.coalesce(func.sum(Attachment.file_size), 0))
                                 .where(col(Attachment.stored_path).is_not(None)))).one()
            rows = list((await s.exec(select(Attachment).where(col(Attachment.stored_path).is_(None),
                                                               col(Attachment.ticket_id).is_not(None))
                                      .order_by(col(Attachment.id)).limit(BATCH))).all())
        copied = 0
        for row in rows:
            if too_big(row.file_size):
                await self._record(row.id, "", row.file_size)  # never fetchable: marked, not retried
                continue
            if used + (row.file_size or 0) > self.max_bytes:
                if not self._full_logged:
                    log.warning("media archive full (%d MB, GRIDBOT_MEDIA_MAX_MB): not copying more", used >> 20)
                    self._full_logged = True
                break
            relative = Path(row.created_at.strftime("%Y-%m"), f"ticket-{row.ticket_id}",
                            f"{row.purpose}-{row.kind}-{row.id}{SUFFIX.get(row.kind, '')}")
            target = self.directory / relative
            try:
                telegram_file = await self.bot.get_file(row.file_id)
                target.parent.mkdir(parents=True, exist_ok=True)
                await telegram_file.download_to_drive(target)
            except BadRequest as exc:  # the file is gone from Telegram: marked, not retried
                log.warning("attachment %s cannot be copied: %s", row.id, exc)
                await self._record(row.id, "", row.file_size)
                continue
            except TelegramError as exc:
                log.warning("could not copy attachment %s (%s); will try again", row.id, exc)
                break  # Telegram unreachable or limited: the next run goes on
            size = target.stat().st_size
            used += size
            await self._record(row.id, str(relative), size)
            copied += 1
        return copied

    async def _record(self, attachment_id: int, path: str, size: int | None) -> None:
        async with self.db.session() as s:
            row = await s.get(Attachment, attachment_id)
            row.stored_path, row.file_size = path, size
            s.add(row)
