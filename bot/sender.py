"""The sender: delivers every `Outbox` row to Telegram, in order per recipient, within the rate limits.

The application owes messages to people and departments (bot/outbox.py); this is the only code that turns an
address into a chat and talks to Telegram for those rows. What it guarantees:

* **Nothing is lost.** A row leaves `pending` only when Telegram accepted it (`sent`), refused it for good
  (`failed`: blocked, chat not found, other 400s) or its recipient has no chat (`no_channel`). Network errors,
  timeouts and 5xx are retried forever with exponential backoff and jitter; flood control (429) waits exactly
  what Telegram asks and does not count as a failure.
* **At-least-once, not exactly-once.** A timed-out request may have reached Telegram; it is retried anyway, so
  a recipient may see a message twice. Losing a notice is worse than a duplicate.
* **Order per recipient.** Only a recipient's *head* (its oldest pending row) is ever attempted; a head that
  must wait holds back the rest of that recipient's rows and nothing else.
* **Claiming.** A head is leased (`next_attempt_at` pushed `CLAIM_LEASE` ahead) in one short transaction before
  the network call, so another sender leaves the recipient alone; on PostgreSQL heads are picked with FOR UPDATE
  SKIP LOCKED. A dead sender's leases expire and its rows are retried (see at-least-once).
* **Rate limits** (bot/ratelimit.py): ~1/s per private chat, ≤ 20/min per group, ≤ 30/s overall, edits included.
* **Merging.** When a group has more consecutive plain notices pending than its budget allows right now, they
  are merged into as few messages as fit in 4096 characters. Cards, questions and edits are never merged.
* **Cards.** A row with a card posts it (and records where it landed) or edits it in place; when the original
  is gone or cannot be edited, the card is posted anew. Evidence (`media`) is sent right before its text.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.delivery import TEXT_LIMIT, Attempt, Failed, Job, Retry, Sent, fit_text, utf16_len
from bot.outbox import CHAT, DEPARTMENT, MEMBER, SUPERVISOR, parse_recipient
from bot.ratelimit import RateLimiter
from storage.db import Database
from storage.models import Card, Department, Member, Outbox, OutboxState, utcnow

log = logging.getLogger(__name__)

MERGE_SEPARATOR = "\n────────────\n"
CLAIM_LEASE = timedelta(seconds=120)  # > the longest attempt (waiting for a slot + PTB's timeouts)
IDLE_POLL = 30.0  # rows committed by other processes do not call our wake(); leases of dead senders expire
ERROR_PAUSE = 5.0  # after a failed pass (database unavailable): rows stay pending, try again soon
MIN_SLEEP = 0.02
BASE_BACKOFF = 1.0
MERGE_SCAN = 256
ERROR_LIMIT = 500
GLOBAL_FLOOD_WINDOW = 1.0  # 429s for two different chats this close together: the bot as a whole is flooded
WARN_AFTER_FAILURES = 5
Markup = Callable[[Any, Any], Any]  # (buttons, options) -> reply markup; from handlers/keyboard.py


def _is_plain(row: Outbox) -> bool:
    return not row.buttons and row.card_id is None and not row.media and not row.options


def _heads():
    """Subquery: each recipient's oldest pending row, the only row of a recipient ever attempted."""
    return select(func.min(Outbox.id)).where(Outbox.state == OutboxState.PENDING).group_by(col(Outbox.recipient))


class OutboxSender:
    """One per process. `run()` is the long-running loop; `deliver_once()` and `drain()` let tests drive it."""

    def __init__(self, db: Database, bot: Bot, markup: Markup, *, now: Callable[[], datetime] = utcnow,
                 private_interval: float = 1.0, group_per_minute: int = 20, global_per_second: int = 30,
                 group_window: float = 60.0, max_backoff: float = 300.0, max_in_flight: int = 8,
                 instance: str = "", limiter: RateLimiter | None = None) -> None:
        self._db = db
        self.bot = bot
        self.instance = instance or "gridbot"  # names this sender's leases, so a restart can resume them
        self._now = now
        self._max_backoff = max_backoff
        self.limiter = limiter or RateLimiter(private_interval=private_interval, group_per_minute=group_per_minute,
                                              global_per_second=global_per_second, group_window=group_window)
        self._attempt = Attempt(bot, markup, self.limiter)
        self._batch = max(1, global_per_second)
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._busy: set[str] = set()  # recipients with a job of this process under way
        self._chat_of: dict[str, int] = {}  # recipient -> the chat it resolved to last (for its rate limits)
        self._claiming = asyncio.Lock()
        self._floods: dict[int, float] = {}
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._stopped = asyncio.Event()

    # -- lifecycle -----------------------------------------------------------------------------------
    async def _seed_limits(self) -> None:
        now = self._now()
        window = self.limiter.group_window
        query = select(Outbox.chat_id, Outbox.sent_at).where(Outbox.state == OutboxState.SENT, Outbox.kind != "card_edit",
                                                             Outbox.sent_at >= now - timedelta(seconds=window))
        async with self._db.read() as s:
            for chat_id, sent_at in (await s.exec(query)).all():
                if chat_id is not None:
                    self.limiter.seed(chat_id, max(0.0, (now - sent_at).total_seconds()))

    async def resume_own_claims(self) -> int:
        """After a restart: rows this instance had leased are due again at once, instead of after the lease
        (another instance's leases are left to expire). SQLite is one process, so every lease is its own.
        The sends of the last minute (before the restart) still count against each chat's limits."""
        await self._seed_limits()
        query = update(Outbox).where(Outbox.state == OutboxState.PENDING, Outbox.next_attempt_at > self._now())
        if not self._db.is_sqlite:
            query = query.where(Outbox.claimed_by == self.instance)
        async with self._db.session() as s:
            result = await s.exec(query.where(col(Outbox.claimed_by).is_not(None))
                                  .values(next_attempt_at=self._now(), claimed_by=None))
            return result.rowcount or 0

    def wake(self) -> None:
        """New rows were committed: look now. Cheap, thread-safe."""
        loop = self._loop
        if loop is None or self._stopped.is_set():
            return
        try:
            same = asyncio.get_running_loop() is loop
        except RuntimeError:
            same = False
        if same:
            self._wakeup.set()
        else:
            loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self) -> None:
        if self._loop is not None:
            raise RuntimeError("OutboxSender.run() is already running (or has run)")
        self._loop = asyncio.get_running_loop()
        try:
            while not self._stopping:
                self._wakeup.clear()
                try:
                    if await self.deliver_once():
                        continue
                    pause = self._sleep_for(await self._pending_heads())
                except Exception:
                    log.exception("outbox pass failed; retrying in %.0f s", ERROR_PAUSE)
                    pause = ERROR_PAUSE
                if self._stopping:
                    break
                try:
                    await asyncio.wait_for(self._wakeup.wait(), pause)
                except TimeoutError:
                    pass
        finally:
            self._stopped.set()

    async def stop(self) -> None:
        """Finish the requests under way (their results are recorded), then end `run()`."""
        self._stopping = True
        if self._loop is None:
            return
        self.wake()
        await self._stopped.wait()

    async def drain(self, timeout: float = 10.0) -> None:
        """Deliver until no pending row is due now or within `timeout` and nothing is under way (tests, sandbox).
        TimeoutError if rows are still due when the time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            handled = await self.deliver_once()
            async with self._claiming:
                busy = bool(self._busy)
                heads = await self._pending_heads()
            now = self._now()
            remaining = deadline - loop.time()
            if not busy and all((due - now).total_seconds() > remaining for _, due in heads):
                return
            if remaining <= 0:
                raise TimeoutError(f"outbox still has due rows after {timeout} s")
            if not handled:
                await asyncio.sleep(min(remaining, MIN_SLEEP if busy else self._sleep_for(heads)))

    # -- one pass ------------------------------------------------------------------------------------
    async def deliver_once(self) -> int:
        """Claim the due heads of recipients that may receive now, deliver them concurrently, record the results."""
        async with self._claiming:
            jobs = await self._claim()
            self._busy.update(job.recipient for job in jobs)
        await asyncio.gather(*(self._run(job) for job in jobs))
        return sum(len(job.rows) for job in jobs)

    async def _claim(self) -> list[Job]:
        if self.limiter.global_delay() > 0:
            return []
        now = self._now()
        # Recipients whose chat must wait for its limit are left out here, not skipped below: a backlog of
        # rate-limited group heads (oldest first) must not fill the batch and hold back a resident's reply.
        waiting = {r for r, chat in self._chat_of.items() if self.limiter.chat_delay(chat) > 0}
        query = (select(Outbox).where(col(Outbox.id).in_(_heads()), Outbox.state == OutboxState.PENDING,
                                      Outbox.next_attempt_at <= now,
                                      col(Outbox.recipient).not_in(sorted(self._busy | waiting)))
                 .order_by(col(Outbox.id)).limit(self._batch * 4))
        if not self._db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        jobs: list[Job] = []
        async with self._db.session() as s:
            for row in (await s.exec(query)).all():
                if len(jobs) >= self._batch:
                    break
                chat_id = await self._resolve(s, row.recipient)
                if chat_id is None:
                    row.state, row.error = OutboxState.NO_CHANNEL, "the recipient has no chat"
                    s.add(row)
                    continue
                self._chat_of[row.recipient] = chat_id
                if self.limiter.delay(chat_id) > 0:
                    continue
                row.chat_id, row.next_attempt_at, row.claimed_by = chat_id, now + CLAIM_LEASE, self.instance
                s.add(row)
                jobs.append(await self._prepare(s, row, chat_id, now))
        return jobs

    async def _resolve(self, s: AsyncSession, recipient: str) -> int | None:
        """The chat an address stands for right now (a re-bound group or a migrated chat is picked up here)."""
        kind, ident = parse_recipient(recipient)
        if kind == MEMBER:
            member = await s.get(Member, ident)
            return member.telegram_id if member else None
        if kind in (DEPARTMENT, SUPERVISOR):
            dept = await s.get(Department, ident)
            if dept is None:
                return None
            return dept.chat_id if kind == DEPARTMENT else dept.supervisor_chat_id
        if kind == CHAT:
            return ident
        return None

    async def _prepare(self, s: AsyncSession, head: Outbox, chat_id: int, now: datetime) -> Job:
        """What the request for a claimed head is: a card post or edit, a send, or a merged send."""
        if head.card_id is not None:
            card = await s.get(Card, head.card_id)
            edit = None
            if head.kind == "card_edit" and card is not None and card.chat_id == chat_id:
                edit = card.message_id
            return Job([head], head.recipient, chat_id, edit_message_id=edit)
        if chat_id < 0 and _is_plain(head):
            return Job(await self._merge_run(s, head, chat_id, now), head.recipient, chat_id)
        return Job([head], head.recipient, chat_id)

    async def _merge_run(self, s: AsyncSession, head: Outbox, chat_id: int, now: datetime) -> list[Outbox]:
        """`head` plus the consecutive due plain notices after it, if the group's budget is short."""
        followers = (await s.exec(select(Outbox).where(
            Outbox.recipient == head.recipient, Outbox.state == OutboxState.PENDING, Outbox.id > head.id)
            .order_by(col(Outbox.id)).limit(MERGE_SCAN))).all()
        run = [head]
        for row in followers:
            if not _is_plain(row) or row.next_attempt_at > now:
                break
            run.append(row)
        if len(run) <= self.limiter.group_budget(chat_id):
            return [head]
        merged, length = [head], utf16_len(head.text)
        for row in run[1:]:
            length += utf16_len(MERGE_SEPARATOR) + utf16_len(row.text)
            if length > TEXT_LIMIT:
                break
            merged.append(row)
        return merged

    # -- one request ---------------------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        try:
            async with self._in_flight:
                outcome = await self._outcome(job)
            await self._record(job, outcome)
        except Exception:
            log.exception("outbox rows %s: could not record the delivery result", job.ids)
        finally:
            self._busy.discard(job.recipient)

    async def _outcome(self, job: Job) -> Sent | Retry | Failed:
        job.text = fit_text(MERGE_SEPARATOR.join(row.text for row in job.rows))
        try:
            return await self._attempt(job)
        except RetryAfter as exc:
            return self._flood(job.chat_id, exc)
        except (Forbidden, BadRequest) as exc:  # BadRequest before NetworkError: it is a subclass of it
            return Failed(str(exc))
        except NetworkError as exc:  # TimedOut, connection errors, 5xx
            return self._backoff(job, exc)
        except Exception as exc:  # any other refusal (bad token, conflict, …) may be fixed later
            log.exception("outbox rows %s: unexpected error", job.ids)
            return self._backoff(job, exc)

    def _flood(self, chat_id: int, exc: RetryAfter) -> Retry:
        with warnings.catch_warnings():  # PTB 22 returns int seconds (deprecated) unless PTB_TIMEDELTA is set
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        now = time.monotonic()
        self._floods = {c: t for c, t in self._floods.items() if now - t < GLOBAL_FLOOD_WINDOW}
        if self._floods.keys() - {chat_id}:
            log.warning("flood control across chats: pausing all sends for %.0f s", seconds)
            self.limiter.pause_all(seconds)
        self._floods[chat_id] = now
        log.warning("chat %s: flood control, retrying in %.0f s", chat_id, seconds)
        return Retry(seconds, str(exc), failure=False)

    def _backoff(self, job: Job, exc: Exception) -> Retry:
        failures = job.head.attempts + 1
        delay = min(self._max_backoff, BASE_BACKOFF * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)
        level = logging.WARNING if failures >= WARN_AFTER_FAILURES else logging.INFO
        log.log(level, "outbox rows %s: %s (failure %d), retrying in %.1f s", job.ids, exc, failures, delay)
        return Retry(delay, str(exc) or type(exc).__name__, failure=True)

    async def _record(self, job: Job, outcome: Sent | Retry | Failed) -> None:
        """Write the result back in a short transaction of its own (and where a card landed)."""
        now = self._now()
        ids = job.ids
        values: dict[str, Any]
        if isinstance(outcome, Sent):
            values = {"state": OutboxState.SENT, "sent_at": now, "sent_message_id": outcome.message_id,
                      "chat_id": outcome.chat_id, "claimed_by": None}
        elif isinstance(outcome, Failed):
            log.warning("outbox rows %s to chat %s failed for good: %s", ids, job.chat_id, outcome.error)
            values = {"state": OutboxState.FAILED, "attempts": Outbox.attempts + 1, "error": outcome.error[:ERROR_LIMIT]}
        else:
            ids = ids[:1]  # only the head was attempted; merged followers are merged anew
            values = {"next_attempt_at": now + timedelta(seconds=outcome.delay), "error": outcome.error[:ERROR_LIMIT],
                      "claimed_by": None}
            if outcome.failure:
                values["attempts"] = Outbox.attempts + 1
        async with self._db.session() as s:
            await s.exec(update(Outbox).where(col(Outbox.id).in_(ids)).values(**values))
            if isinstance(outcome, Sent) and job.head.card_id is not None:
                await s.exec(update(Card).where(Card.id == job.head.card_id)
                             .values(chat_id=outcome.chat_id, message_id=outcome.message_id))

    # -- waiting -------------------------------------------------------------------------------------
    async def _pending_heads(self) -> list[tuple[int | None, datetime]]:
        """(last known chat, next_attempt_at) of every recipient's head, except those under way here."""
        query = select(Outbox.recipient, Outbox.chat_id, Outbox.next_attempt_at).where(col(Outbox.id).in_(_heads()))
        async with self._db.read() as s:
            rows = (await s.exec(query)).all()
        return [(self._chat_of.get(recipient, chat), due) for recipient, chat, due in rows
                if recipient not in self._busy]

    def _sleep_for(self, heads: list[tuple[int | None, datetime]]) -> float:
        now = self._now()
        waits = [max((due - now).total_seconds(), self.limiter.delay(chat) if chat is not None else 0.0)
                 for chat, due in heads]
        return min(max(min(waits, default=IDLE_POLL), MIN_SLEEP), IDLE_POLL)
