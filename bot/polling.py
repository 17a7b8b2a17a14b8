"""Long polling through the durable inbox (replaces PTB's Updater, which confirms a batch — the next getUpdates
offset — before the bot has handled it, so a crash lost those updates).

`Poller` fetches updates and stores them before asking for the next offset; `Handler` feeds stored updates to
the Application one at a time, in order, and marks each handled afterwards. A killed bot handles what was
stored but not handled at its next start (at least once; handling is idempotent by update id).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable
from datetime import datetime

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot import requests
from bot.inbox import Inbox

log = logging.getLogger(__name__)
MAX_BACKOFF = 30.0
POISON_ATTEMPTS = 5  # an update that killed the bot this often is skipped (logged), not retried forever


def retry_after_seconds(exc: RetryAfter) -> float:
    import warnings

    from telegram.warnings import PTBDeprecationWarning

    with warnings.catch_warnings():  # PTB 22 gives int seconds (deprecated) unless PTB_TIMEDELTA is set
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = exc.retry_after
    return wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)


class Poller:
    def __init__(self, bot: Bot, inbox: Inbox, now: Callable[[], datetime],
                 on_stored: Callable[[list[dict], float], None], timeout: int = 10) -> None:
        self.bot, self.inbox, self.now, self.on_stored, self.timeout = bot, inbox, now, on_stored, timeout
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        offset = await self.inbox.next_offset()
        failures, returned = 0, None
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            # Updates may have waited at Telegram for as long as this poller was away from it: since the last
            # answer (storing a batch on a busy database, a retry's pause) or, at a start, since ever (down
            # after a crash). After more than a second away the call does not wait (what it returns had been
            # waiting), and its presses' 15 s are known to have been running that long.
            away = math.inf if returned is None else loop.time() - returned
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=0 if away > 1.0 else self.timeout,
                                                     allowed_updates=Update.ALL_TYPES)
                failures, returned = 0, loop.time()
            except RetryAfter as exc:
                await self._pause(retry_after_seconds(exc))
                continue
            except InvalidToken:
                log.critical("Telegram refused the token; polling stops (fix TELEGRAM_BOT_TOKEN and restart)")
                return
            except (NetworkError, Conflict, TelegramError) as exc:  # 5xx, timeouts, another instance polling
                failures += 1
                wait = min(MAX_BACKOFF, 2 ** min(failures, 5)) * random.uniform(0.5, 1.0)
                log.warning("getUpdates failed (%s); retrying in %.1f s", exc, wait)
                await self._pause(wait)
                continue
            if not updates:
                continue
            # Stored (committed) first; only the next call's offset confirms them to Telegram.
            payloads = [u.to_dict() for u in updates]
            await self.inbox.store(payloads, self.now())
            offset = updates[-1].update_id + 1
            self.on_stored(payloads, away + (loop.time() - returned))  # storing took some of their 15 s too

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    def stop(self) -> None:
        self._stopping.set()


class Handler:
    """Hands stored updates to the Application: each chat's updates one at a time and in order, different chats
    side by side (one person's slow or failing answer holds up nobody else; the database's locks keep a ticket
    consistent when two chats act on it at once). An update whose answer could not be delivered (Telegram
    unreachable past the retry budget) is handled again later, its chat's later updates waiting behind it."""

    def __init__(self, app: Application, inbox: Inbox, now: Callable[[], datetime], concurrency: int = 16) -> None:
        self.app, self.inbox, self.now, self.concurrency = app, inbox, now, concurrency
        self._wake = asyncio.Event()
        self._stopping = False
        self._busy: dict[int, asyncio.Task] = {}  # chat → the task handling its updates
        self._deferred: dict[int, tuple[float, int]] = {}  # chat → (retry at, failures)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            try:
                rows = await self.inbox.pending(500)
            except Exception:  # the database may be briefly unavailable: the updates wait in the inbox
                log.exception("reading the inbox failed; retrying")
                rows = []
            by_chat: dict[int, list] = {}
            for row in rows:
                by_chat.setdefault(chat_of(row.payload), []).append(row)
            for chat, chat_rows in by_chat.items():
                if chat in self._busy or self._deferred.get(chat, (0.0, 0))[0] > loop.time():
                    continue
                if len(self._busy) >= self.concurrency:
                    break
                self._busy[chat] = asyncio.create_task(self._chat(chat, chat_rows), name=f"chat {chat}")
            pause = min([at for at, _ in self._deferred.values()], default=loop.time() + 5.0) - loop.time()
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.05, min(pause, 5.0)))
            except TimeoutError:
                pass
        await self._finish()

    async def _chat(self, chat: int, rows: list) -> None:
        try:
            for row in rows:
                if self._stopping or not await self.handle(row.update_id, row.payload, row.attempts, chat):
                    return
        finally:
            self._busy.pop(chat, None)
            self._wake.set()

    async def handle(self, update_id: int, payload: dict, attempts: int, chat: int) -> bool:
        """Handle one stored update; False if it must be handled again later (its chat waits)."""
        if attempts >= POISON_ATTEMPTS:
            log.critical("update %s was started %d times without finishing; skipping it", update_id, attempts)
            await self.inbox.handled(update_id, self.now())
            return True
        await self.inbox.started(update_id)
        with requests.handling(requests.telegram(update_id)) as state:
            try:
                await self.app.process_update(Update.de_json(payload, self.app.bot))
            except Exception:  # PTB hands handler errors to the error handler; this is anything beyond
                log.exception("update %s could not be handled", update_id)
        if state.retry:
            _, failures = self._deferred.get(chat, (0.0, 0))
            wait = min(MAX_BACKOFF, 2 ** min(failures, 5)) * random.uniform(0.5, 1.0)
            self._deferred[chat] = (asyncio.get_running_loop().time() + wait, failures + 1)
            log.warning("update %s: the answer did not reach chat %s; handling it again in %.0f s", update_id,
                        chat, wait)
            return False
        self._deferred.pop(chat, None)
        await self.inbox.handled(update_id, self.now())
        return True

    def stop(self) -> None:
        """Stop after the updates under way (they are finished and marked handled)."""
        self._stopping = True
        self._wake.set()

    async def _finish(self) -> None:
        if self._busy:
            await asyncio.gather(*self._busy.values(), return_exceptions=True)


def chat_of(payload: dict) -> int:
    """The chat an update belongs to (its order is kept per chat)."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if key in payload:
            return int(payload[key]["chat"]["id"])
    query = payload.get("callback_query")
    if query:
        message = query.get("message") or {}
        return int((message.get("chat") or {}).get("id") or query["from"]["id"])
    for value in payload.values():
        if isinstance(value, dict) and isinstance(value.get("from"), dict):
            return int(value["from"]["id"])
    return 0
