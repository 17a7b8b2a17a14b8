"""The outbox sender: delivers every `Outbox` row to Telegram, in order, within the rate limits.

The workflow writes a row in the same transaction as the change that owes the message; this module
is the only code that talks to Telegram for those rows. What it guarantees:

* **Nothing is lost.** A row leaves `pending` only when Telegram accepted it (`sent`) or refused it
  for good (`failed`: blocked by the user, chat not found, other 400s). Network errors, timeouts and
  5xx are retried forever with exponential backoff and jitter; flood control (429) waits exactly the
  time Telegram asks for and does not count as a failure (`attempts` counts failures only; `error`
  keeps the latest error).
* **At-least-once, not exactly-once.** A timed-out request may still have reached Telegram; it is
  retried anyway, so the recipient may see that message twice. Losing a notice is worse than a
  duplicate. The same holds for a process killed between sending and recording the result.
* **Per-chat order.** Only a chat's *head* (its oldest pending row) is ever attempted. A head that
  must wait (backoff, 429, a `next_attempt_at` in the future) holds back the rest of its chat and
  nothing else. Rows committed concurrently by two transactions are ordered by id, which is the order
  the sender sees them in.
* **Claiming.** Attempting a head first *leases* it: `next_attempt_at` is pushed `CLAIM_LEASE` into
  the future in one short transaction, and the network call happens after that commit. Any other
  sender (another process on PostgreSQL, or a restarted one) then sees the chat's head as not due and
  leaves the whole chat alone, which keeps per-chat order across processes without holding locks or
  connections during network calls. On PostgreSQL the heads are picked with `SELECT … FOR UPDATE
  SKIP LOCKED`: a head another sender is leasing right now is skipped instead of waited for, and one
  it has just leased is re-checked under the row lock and dropped (a plain UPDATE would re-check it
  against a stale subquery and lease it twice). On SQLite the lease is a single UPDATE statement,
  which SQLite runs under its database write lock. If a process dies mid-delivery the lease expires
  and the next sender retries the row (see at-least-once).
* **Rate limits.** An in-process limiter keeps ~1 message/s per private chat, ≤20/min per group and
  ≤30/s overall (edits included). Several processes on PostgreSQL each have their own limiter, so
  give each a share of `global_per_second`; a 429 caused anyway is handled as flood control.
* **Grouping.** When a group has more consecutive pending plain notices (no buttons, not an edit)
  than its per-minute budget allows right now, they are merged into as few messages as fit in 4096
  characters, and all merged rows are recorded with the one message id. Cards and edits are never
  merged, so a burst never waits without bound and nothing is dropped.
* **Edits.** A row with `edit_of` edits the message of that earlier row (same chat, so per-chat order
  guarantees the original was attempted first). If the original failed, was merged with other
  notices, or its message is gone, the edit is sent as a new message instead.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from storage.db import Database
from storage.models import Outbox, OutboxState, utcnow

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096  # Telegram's limit, in UTF-16 code units
MERGE_SEPARATOR = "\n────────────\n"
# How long a claimed head is reserved for its sender. Must exceed the longest delivery attempt
# (waiting for a global send slot plus PTB's connect/write/read timeouts); a crashed sender's chats
# resume after it.
CLAIM_LEASE = timedelta(seconds=120)
# Idle senders still look at the table this often: rows committed by other processes do not call
# our wake(), and leases of crashed senders expire.
IDLE_POLL = 30.0
ERROR_PAUSE = 5.0  # after a failed pass (database unavailable): rows stay pending, try again soon
MIN_SLEEP = 0.02  # floor for computed sleeps, so rounding never turns the loop into a spin
BASE_BACKOFF = 1.0  # first retry delay after a transient error, doubled per failure
MERGE_SCAN = 256  # followers looked at when merging: more than ever fit into one message
ERROR_LIMIT = 500  # Outbox.error column size
# 429s for two different chats this close together mean the bot as a whole is flooded.
GLOBAL_FLOOD_WINDOW = 1.0
WARN_AFTER_FAILURES = 5  # transient failures of a row before its retries are logged as warnings


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut to `limit` UTF-16 code units, ending with "…" when it had to be cut."""
    if _utf16_len(text) <= limit:
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


def build_markup(buttons: list[list[list[str]]] | None) -> InlineKeyboardMarkup | None:
    """Rows of [label, callback_data] → inline keyboard; data "url:<URL>" makes a URL button."""
    if not buttons:
        return None
    rows = []
    for row in buttons:
        keys = []
        for label, data in row:
            if data.startswith("url:"):
                keys.append(InlineKeyboardButton(label, url=data[len("url:"):]))
            else:
                keys.append(InlineKeyboardButton(label, callback_data=data))
        rows.append(keys)
    return InlineKeyboardMarkup(rows)


class _Slot:
    """One send as the limiter counts it: stamped when it starts, re-stamped when Telegram answered."""

    __slots__ = ("at", "done")

    def __init__(self, at: float) -> None:
        self.at = at
        self.done = False


class RateLimiter:
    """In-process send budget: an interval per private chat, a per-minute window per group and a
    per-second window overall.

    A send is stamped when it starts (so concurrent sends count at once) and again when Telegram has
    answered. Spacing from the answer means Telegram, which sees the request somewhere in between,
    never observes two requests closer than allowed, whatever the latency jitter.
    """

    def __init__(
        self,
        *,
        private_interval: float,
        group_per_minute: int,
        global_per_second: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.private_interval = private_interval
        self.group_per_minute = group_per_minute
        self.global_per_second = global_per_second
        self._clock = clock
        self._chats: dict[int, list[_Slot]] = {}
        self._global: list[_Slot] = []
        self._paused_until = 0.0

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until the chat's own limit allows the next send (0: now)."""
        now = self._clock()
        slots = self._chats.get(chat_id)
        if not slots:
            return 0.0
        if chat_id > 0:
            slots[:] = slots[-1:]  # a private chat's limit only looks at the last send
            return max(0.0, slots[-1].at + self.private_interval - now)
        slots[:] = [s for s in slots if s.at + 60.0 > now]
        return self._window_delay(slots, self.group_per_minute, 60.0, now)

    def global_delay(self) -> float:
        """Seconds until the overall limit (and any global flood pause) allows a send."""
        now = self._clock()
        self._global[:] = [s for s in self._global if s.at + 1.0 > now]
        window = self._window_delay(self._global, self.global_per_second, 1.0, now)
        return max(window, self._paused_until - now)

    def delay(self, chat_id: int) -> float:
        return max(self.chat_delay(chat_id), self.global_delay())

    def group_budget(self, chat_id: int) -> int:
        """How many sends the group's per-minute window allows right now."""
        self.chat_delay(chat_id)  # prunes the window
        return max(0, self.group_per_minute - len(self._chats.get(chat_id, ())))

    def blocked_chats(self) -> set[int]:
        """Chats that must not send yet; forgets chats whose limits no longer matter."""
        blocked = set()
        for chat_id in list(self._chats):
            if self.chat_delay(chat_id) > 0:
                blocked.add(chat_id)
            elif all(slot.done for slot in self._chats[chat_id]):
                # Free again and nothing under way: its past sends no longer constrain anything.
                del self._chats[chat_id]
        return blocked

    def acquire(self, chat_id: int) -> _Slot:
        """Count a send starting now (the caller has waited for `delay(chat_id)` to be 0)."""
        slot = _Slot(self._clock())
        self._chats.setdefault(chat_id, []).append(slot)
        self._global.append(slot)
        return slot

    def release(self, slot: _Slot) -> None:
        """The send's request has been answered: count it from now."""
        slot.at = self._clock()
        slot.done = True

    def pause_all(self, seconds: float) -> None:
        """Telegram flood-controls the bot as a whole: no sends to any chat for `seconds`."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @staticmethod
    def _window_delay(slots: list[_Slot], limit: int, window: float, now: float) -> float:
        if len(slots) < limit:
            return 0.0
        oldest_that_must_expire = sorted(s.at for s in slots)[len(slots) - limit]
        return max(0.0, oldest_that_must_expire + window - now)


@dataclass
class _Job:
    """One Telegram request: a chat's head row, plus the plain notices merged into it."""

    rows: list[Outbox]
    edit_message_id: int | None = None  # set: edit this message instead of sending

    @property
    def head(self) -> Outbox:
        return self.rows[0]

    @property
    def chat_id(self) -> int:
        return self.head.chat_id

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.rows if row.id is not None]

    def text(self) -> str:
        return fit_text(MERGE_SEPARATOR.join(row.text for row in self.rows))


@dataclass
class _Sent:
    message_id: int
    chat_id: int  # differs from the row's when a group migrated to a supergroup


@dataclass
class _Retry:
    delay: float
    error: str
    failure: bool  # counts towards `attempts` and the backoff (429s do not)


@dataclass
class _Failed:
    error: str


_Outcome = _Sent | _Retry | _Failed


def _is_plain(row: Outbox) -> bool:
    return not row.buttons and row.edit_of is None


def _chat_heads() -> SelectOfScalar[int]:
    """Subquery: the id of every chat's oldest pending row, the only row of a chat ever attempted."""
    return (
        select(func.min(Outbox.id))
        .where(Outbox.state == OutboxState.PENDING)
        .group_by(col(Outbox.chat_id))
    )


class OutboxSender:
    """Delivers pending `Outbox` rows; see the module docstring for the guarantees.

    One instance per process. `run()` is the long-running loop; `deliver_once()` and `drain()` let
    tests drive delivery step by step. A stopped sender is not restarted: create a new one.
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        now: Callable[[], datetime] = utcnow,
        private_interval: float = 1.0,
        group_per_minute: int = 20,
        global_per_second: int = 30,
        max_backoff: float = 300.0,
        max_in_flight: int = 8,
    ) -> None:
        """`max_in_flight` caps concurrent requests; keep it within the bot's HTTP connection pool
        (ApplicationBuilder's default is 256, a bare `telegram.Bot` has 1 and then queues requests
        for at most its pool timeout)."""
        self._db = db
        self._bot = bot
        self._now = now
        self._max_backoff = max_backoff
        self._limiter = RateLimiter(
            private_interval=private_interval,
            group_per_minute=group_per_minute,
            global_per_second=global_per_second,
        )
        # One pass claims at most a second's worth of sends, so claimed rows wait for a send slot
        # far shorter than their lease.
        self._batch = max(1, global_per_second)
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._busy_chats: set[int] = set()  # chats with a job of this process under way
        # Claiming and marking busy happen under one lock, so drain() never sees a freshly leased head
        # (due in CLAIM_LEASE) before it is marked busy and concludes there is nothing left to do.
        self._claiming = asyncio.Lock()
        self._floods: dict[int, float] = {}  # chat → monotonic time of its last 429
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._stopped = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    def wake(self) -> None:
        """New rows were committed: look now instead of at the next timer. Cheap, thread-safe."""
        loop = self._loop
        if loop is None or self._stopped.is_set():  # not running: drain() reads the table anyway
            return
        try:
            same_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            same_loop = False
        if same_loop:
            self._wakeup.set()
        else:
            loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self) -> None:
        """Deliver until `stop()`: a pass over due heads, then sleep until the next due time,
        a chat's rate limit expiring, `wake()`, or `IDLE_POLL`."""
        if self._loop is not None:
            raise RuntimeError("OutboxSender.run() is already running (or has run)")
        self._loop = asyncio.get_running_loop()
        try:
            while not self._stopping:
                self._wakeup.clear()  # before the pass: a wake() during it is not lost
                try:
                    if await self.deliver_once():
                        continue
                    pause = self._sleep_for(await self._heads())
                except Exception:
                    # The database may be briefly unavailable; rows stay pending, so try again later.
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
        """Deliver until no pending row is due now or becomes due within `timeout`, and no request
        of a concurrent `run()` is under way.

        Raises TimeoutError if rows are still due when the time is up; rows waiting for a backoff
        that ends after the deadline do not make it raise. Meant for tests and the sandbox.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            handled = await self.deliver_once()
            async with self._claiming:
                # Read "busy" before the heads: a job finishing while the query runs would otherwise
                # leave its leased (far-future) head in a stale snapshot and look like nothing to do.
                busy = bool(self._busy_chats)  # requests of a concurrent run() pass, still under way
                heads = await self._heads()
            now = self._now()
            remaining = deadline - loop.time()
            if not busy and all((due - now).total_seconds() > remaining for _, due in heads):
                return
            if remaining <= 0:
                raise TimeoutError(f"outbox still has due rows after {timeout} s")
            if not handled:
                await asyncio.sleep(min(remaining, MIN_SLEEP if busy else self._sleep_for(heads)))

    # ------------------------------------------------------------------ one pass

    async def deliver_once(self) -> int:
        """Claim the due heads of chats that may send now, deliver them concurrently (one request
        per chat) and record the results. Returns the number of rows handled."""
        async with self._claiming:
            jobs = await self._claim()
            self._busy_chats.update(job.chat_id for job in jobs)
        await asyncio.gather(*(self._run(job) for job in jobs))
        return sum(len(job.rows) for job in jobs)

    async def _claim(self) -> list[_Job]:
        if self._limiter.global_delay() > 0:
            return []  # flood-controlled: claiming now would only burn leases
        now = self._now()
        skip = self._busy_chats | self._limiter.blocked_chats()
        due = (
            select(Outbox.id)
            .where(
                col(Outbox.id).in_(_chat_heads()),
                Outbox.state == OutboxState.PENDING,
                Outbox.next_attempt_at <= now,
                col(Outbox.chat_id).not_in(skip),
            )
            .order_by(col(Outbox.id))
            .limit(self._batch)
        )
        if not self._db.is_sqlite:
            # Heads another sender is leasing right now are skipped, not waited for; the row lock
            # re-checks each head's newest version, so one leased a moment ago is not leased twice.
            due = due.with_for_update(skip_locked=True)
        async with self._db.session() as s:
            lease = (
                update(Outbox)
                .where(col(Outbox.id).in_(due))
                .values(next_attempt_at=now + CLAIM_LEASE)
                .returning(col(Outbox.id))
            )
            claimed = list((await s.exec(lease)).scalars())
            if not claimed:
                return []
            rows = (await s.exec(select(Outbox).where(col(Outbox.id).in_(claimed)).order_by(col(Outbox.id)))).all()
            return [await self._prepare(s, row, now) for row in rows]

    async def _prepare(self, s: AsyncSession, head: Outbox, now: datetime) -> _Job:
        """Decide what the request for a claimed head is: an edit, a send, or a merged send."""
        if head.edit_of is not None:
            return _Job([head], edit_message_id=await self._edit_target(s, head))
        if head.chat_id < 0 and _is_plain(head):
            return _Job(await self._merge_run(s, head, now))
        return _Job([head])

    async def _edit_target(self, s: AsyncSession, row: Outbox) -> int | None:
        """The message id `row` should edit, or None to send it as a new message."""
        original = await s.get(Outbox, row.edit_of)
        if original is None or original.chat_id != row.chat_id:
            log.warning("outbox row %s edits row %s of another chat; sending it as new", row.id, row.edit_of)
            return None
        if original.state != OutboxState.SENT or original.sent_message_id is None:
            return None  # the original failed for good: the news must still arrive
        sharing = await s.exec(
            select(func.count())
            .select_from(Outbox)
            .where(
                Outbox.chat_id == row.chat_id,
                Outbox.sent_message_id == original.sent_message_id,
                col(Outbox.edit_of).is_(None),
            )
        )
        if sharing.one() > 1:
            return None  # merged with other notices: editing would wipe them out
        return original.sent_message_id

    async def _merge_run(self, s: AsyncSession, head: Outbox, now: datetime) -> list[Outbox]:
        """`head` plus the consecutive due plain notices after it, if the group's budget is short."""
        followers = (
            await s.exec(
                select(Outbox)
                .where(
                    Outbox.chat_id == head.chat_id,
                    Outbox.state == OutboxState.PENDING,
                    Outbox.id > head.id,  # type: ignore[operator]
                )
                .order_by(col(Outbox.id))
                .limit(MERGE_SCAN)
            )
        ).all()
        run = [head]
        for row in followers:
            if not _is_plain(row) or row.next_attempt_at > now:
                break  # order: a card, an edit or a delayed row ends the run
            run.append(row)
        if len(run) <= self._limiter.group_budget(head.chat_id):
            return [head]
        merged = [head]
        length = _utf16_len(head.text)
        for row in run[1:]:
            length += _utf16_len(MERGE_SEPARATOR) + _utf16_len(row.text)
            if length > TEXT_LIMIT:
                break
            merged.append(row)
        return merged

    # ------------------------------------------------------------------ one request

    async def _run(self, job: _Job) -> None:
        try:
            async with self._in_flight:
                outcome = await self._attempt(job)
            await self._record(job, outcome)
        except Exception:
            # Recording failed (database trouble): the lease expires and the row is retried.
            log.exception("outbox rows %s: could not record the delivery result", job.ids)
        finally:
            self._busy_chats.discard(job.chat_id)

    async def _attempt(self, job: _Job) -> _Outcome:
        try:
            markup = build_markup(job.head.buttons)
        except (TypeError, ValueError) as exc:
            return _Failed(f"invalid buttons: {exc}")
        try:
            return await self._call(job, markup)
        except RetryAfter as exc:
            return self._flood(job.chat_id, exc)
        except Forbidden as exc:
            return _Failed(str(exc))
        except BadRequest as exc:  # before NetworkError: BadRequest is a subclass of it
            return _Failed(str(exc))
        except NetworkError as exc:  # TimedOut, connection errors, 5xx
            return self._backoff(job, exc)
        except Exception as exc:  # any other refusal (bad token, conflict, …) may be fixed later
            log.exception("outbox rows %s: unexpected error", job.ids)
            return self._backoff(job, exc)

    async def _call(self, job: _Job, markup: InlineKeyboardMarkup | None) -> _Sent:
        text = job.text()
        if job.edit_message_id is not None:
            try:
                async with self._slot(job.chat_id):
                    await self._bot.edit_message_text(
                        text, chat_id=job.chat_id, message_id=job.edit_message_id, reply_markup=markup
                    )
                return _Sent(job.edit_message_id, job.chat_id)
            except BadRequest as exc:
                reason = str(exc).lower()
                if "message is not modified" in reason:
                    return _Sent(job.edit_message_id, job.chat_id)
                if "message to edit not found" not in reason and "message can't be edited" not in reason:
                    raise
                log.info("outbox row %s: %s; sending the edit as a new message", job.head.id, exc)
            except ChatMigrated:
                pass  # message ids do not carry over to the supergroup: send anew, redirected below
        return await self._send(job, text, markup)

    async def _send(self, job: _Job, text: str, markup: InlineKeyboardMarkup | None) -> _Sent:
        chat_id = job.chat_id
        try:
            async with self._slot(chat_id):
                message = await self._bot.send_message(chat_id, text, reply_markup=markup)
        except ChatMigrated as exc:
            # The group became a supergroup: deliver there. Whoever owns the chat ids must update
            # them; until then later rows for the old id are redirected the same way.
            log.warning("chat %s migrated to %s; redirecting outbox rows %s", chat_id, exc.new_chat_id, job.ids)
            chat_id = exc.new_chat_id
            async with self._slot(chat_id):
                message = await self._bot.send_message(chat_id, text, reply_markup=markup)
        return _Sent(message.message_id, chat_id)

    @asynccontextmanager
    async def _slot(self, chat_id: int) -> AsyncIterator[None]:
        """Wait until the limits allow a request to the chat, count it, re-stamp it when answered."""
        while (wait := self._limiter.delay(chat_id)) > 0:
            await asyncio.sleep(wait)
        slot = self._limiter.acquire(chat_id)
        try:
            yield
        finally:
            self._limiter.release(slot)

    def _flood(self, chat_id: int, exc: RetryAfter) -> _Retry:
        """Telegram's 429: wait what it asks, for this chat; for every chat if it looks global."""
        with warnings.catch_warnings():
            # PTB 22 returns int seconds (deprecated) unless PTB_TIMEDELTA opts into timedelta.
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        now = time.monotonic()
        self._floods = {c: t for c, t in self._floods.items() if now - t < GLOBAL_FLOOD_WINDOW}
        if self._floods.keys() - {chat_id}:
            log.warning("flood control across chats: pausing all sends for %.0f s", seconds)
            self._limiter.pause_all(seconds)
        self._floods[chat_id] = now
        log.warning("chat %s: flood control, retrying in %.0f s", chat_id, seconds)
        return _Retry(seconds, str(exc), failure=False)

    def _backoff(self, job: _Job, exc: Exception) -> _Retry:
        failures = job.head.attempts + 1
        delay = min(self._max_backoff, BASE_BACKOFF * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)
        level = logging.WARNING if failures >= WARN_AFTER_FAILURES else logging.INFO
        log.log(level, "outbox rows %s: %s (failure %d), retrying in %.1f s", job.ids, exc, failures, delay)
        return _Retry(delay, str(exc) or type(exc).__name__, failure=True)

    async def _record(self, job: _Job, outcome: _Outcome) -> None:
        """Write the result back in a short transaction of its own."""
        now = self._now()
        values: dict[str, Any]
        ids = job.ids
        if isinstance(outcome, _Sent):
            values = {
                "state": OutboxState.SENT,
                "sent_at": now,
                "sent_message_id": outcome.message_id,
                "chat_id": outcome.chat_id,
            }
        elif isinstance(outcome, _Failed):
            log.warning("outbox rows %s to chat %s failed for good: %s", ids, job.chat_id, outcome.error)
            values = {
                "state": OutboxState.FAILED,
                "attempts": Outbox.attempts + 1,
                "error": outcome.error[:ERROR_LIMIT],
            }
        else:
            # Only the head was attempted; merged followers stay as they were and are merged anew.
            ids = ids[:1]
            values = {
                "next_attempt_at": now + timedelta(seconds=outcome.delay),
                "error": outcome.error[:ERROR_LIMIT],
            }
            if outcome.failure:
                values["attempts"] = Outbox.attempts + 1
        async with self._db.session() as s:
            await s.exec(update(Outbox).where(col(Outbox.id).in_(ids)).values(**values))

    # ------------------------------------------------------------------ waiting

    async def _heads(self) -> list[tuple[int, datetime]]:
        """(chat_id, next_attempt_at) of every chat's oldest pending row, except chats under way here."""
        query = select(Outbox.chat_id, Outbox.next_attempt_at).where(col(Outbox.id).in_(_chat_heads()))
        async with self._db.session() as s:
            rows = (await s.exec(query)).all()
        return [(chat_id, due) for chat_id, due in rows if chat_id not in self._busy_chats]

    def _sleep_for(self, heads: list[tuple[int, datetime]]) -> float:
        """Seconds until some head is both due and allowed by the rate limits."""
        now = self._now()
        waits = [
            max((due - now).total_seconds(), self._limiter.delay(chat_id)) for chat_id, due in heads
        ]
        return min(max(min(waits, default=IDLE_POLL), MIN_SLEEP), IDLE_POLL)

