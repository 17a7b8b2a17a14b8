"""One delivery attempt of the sender: the Telegram calls for a claimed row (evidence, text, edit), and the
shapes of their outcomes. bot/sender.py decides what to attempt and records what happened."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest, ChatMigrated

from bot.ratelimit import RateLimiter
from storage.models import Outbox

log = logging.getLogger(__name__)
TEXT_LIMIT = 4096  # Telegram's limit, in UTF-16 code units
ALBUM_LIMIT = 10  # photos per media group


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut to `limit` UTF-16 code units, ending with "…" when it had to be cut."""
    if utf16_len(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > limit - 1:
            break
        kept.append(char)
        used += width
    return "".join(kept) + "…"


@dataclass
class Job:
    """One Telegram request: a recipient's head row, plus the plain notices merged into it."""

    rows: list[Outbox]
    recipient: str
    chat_id: int
    edit_message_id: int | None = None  # set: edit this message instead of sending
    text: str = field(default="")

    @property
    def head(self) -> Outbox:
        return self.rows[0]

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.rows if row.id is not None]


@dataclass
class Sent:
    message_id: int
    chat_id: int  # differs from the job's when a group migrated to a supergroup


@dataclass
class Retry:
    delay: float
    error: str
    failure: bool  # counts towards `attempts` and the backoff (429s do not)


@dataclass
class Failed:
    error: str


class Attempt:
    """Performs a job's requests, each within the rate limits."""

    def __init__(self, bot: Bot, markup: Callable[[Any, Any], Any], limiter: RateLimiter) -> None:
        self._bot = bot
        self._markup = markup
        self._limiter = limiter

    async def __call__(self, job: Job) -> Sent | Failed:
        try:
            markup = self._markup(job.head.buttons, job.head.options)
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            return Failed(f"invalid buttons: {exc}")
        if job.edit_message_id is not None:
            try:
                async with limited(self._limiter, job.chat_id, edit=True):
                    await self._bot.edit_message_text(job.text, chat_id=job.chat_id, message_id=job.edit_message_id,
                                                      reply_markup=markup)
                return Sent(job.edit_message_id, job.chat_id)
            except BadRequest as exc:
                reason = str(exc).lower()
                if "message is not modified" in reason:
                    return Sent(job.edit_message_id, job.chat_id)
                if "message to edit not found" not in reason and "message can't be edited" not in reason:
                    raise
                log.info("outbox row %s: %s; posting the card anew", job.head.id, exc)
            except ChatMigrated:
                pass  # message ids do not carry over to the supergroup: post anew, redirected below
        try:
            return await self._send(job, job.chat_id, markup)
        except ChatMigrated as exc:
            # The group became a supergroup: deliver there. The department's chat id must be updated by whoever
            # binds groups; until then later rows are redirected the same way.
            log.warning("chat %s migrated to %s; redirecting outbox rows %s", job.chat_id, exc.new_chat_id, job.ids)
            return await self._send(job, exc.new_chat_id, markup)

    async def _send(self, job: Job, chat_id: int, markup: Any) -> Sent:
        media = job.head.media or {}
        if job.head.kind != "card_edit":  # evidence goes with the first posting only
            await self._evidence(chat_id, media)
        async with self._slot(chat_id):
            message = await self._bot.send_message(chat_id, job.text, reply_markup=markup)
        return Sent(message.message_id, chat_id)

    async def _evidence(self, chat_id: int, media: dict) -> None:
        """Photos (an album when several), a voice message and the place, right before the text; a report's
        chart (a PNG the scheduled report kept on disk; gone: the text goes alone)."""
        chart = Path(media["photo_file"]) if media.get("photo_file") else None
        if chart is not None and chart.is_file():
            async with self._slot(chat_id):
                await self._bot.send_photo(chat_id, chart.read_bytes())
        photos = list(media.get("photos") or [])
        for start in range(0, len(photos), ALBUM_LIMIT):
            chunk = photos[start:start + ALBUM_LIMIT]
            async with self._slot(chat_id):
                if len(chunk) == 1:
                    await self._bot.send_photo(chat_id, chunk[0])
                else:
                    await self._bot.send_media_group(chat_id, [InputMediaPhoto(f) for f in chunk])
        if media.get("voice"):
            async with self._slot(chat_id):
                await self._bot.send_voice(chat_id, media["voice"])
        if media.get("video"):
            async with self._slot(chat_id):
                await self._bot.send_video(chat_id, media["video"])
        if media.get("location"):
            latitude, longitude, *named = media["location"]
            async with self._slot(chat_id):
                if len(named) == 2:
                    await self._bot.send_venue(chat_id, latitude=latitude, longitude=longitude, title=named[0],
                                               address=named[1])
                else:
                    await self._bot.send_location(chat_id, latitude=latitude, longitude=longitude)

    def _slot(self, chat_id: int):
        return limited(self._limiter, chat_id)


@asynccontextmanager
async def limited(limiter: RateLimiter, chat_id: int, edit: bool = False) -> AsyncIterator[None]:
    """Wait until the limits allow a request to the chat, count it, re-stamp it when answered. An edit of a
    message already sent counts against the overall budget only: a group's 20 a minute are for new messages
    (a card edited after every change of its ticket must not crowd out the messages people wait for)."""
    while (wait := limiter.global_delay() if edit else limiter.delay(chat_id)) > 0:
        await asyncio.sleep(wait)
    slot = limiter.acquire(None if edit else chat_id)
    try:
        yield
    finally:
        limiter.release(slot)
