"""The bot's send budget, shared by the sender and the handlers' direct replies: an interval per private chat, a per-minute window per group and a per-second
window overall (Telegram: ~1 message/s per private chat, 20/min per group, 30/s overall).

A send is stamped when it starts (so concurrent sends count at once) and again when Telegram has answered.
Spacing from the answer means Telegram, which sees the request somewhere in between, never observes two
requests closer than allowed, whatever the latency jitter. A group's window is kept for its full minute,
idle or not: forgetting it early lets a burst through.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Slot:
    """One send as the limiter counts it."""

    __slots__ = ("at", "done")

    def __init__(self, at: float) -> None:
        self.at = at
        self.done = False


GROUP_WINDOW = 60.0


class RateLimiter:
    def __init__(self, *, private_interval: float, group_per_minute: int, global_per_second: int,
                 group_window: float = GROUP_WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        """`group_window` is Telegram's minute; tests shorten it to check the window without waiting a minute."""
        self.private_interval = private_interval
        self.group_window = group_window
        self.group_per_minute = group_per_minute
        self.global_per_second = global_per_second
        self._clock = clock
        self._chats: dict[int, list[Slot]] = {}
        self._global: list[Slot] = []
        self._paused_until = 0.0

    def _prune(self, chat_id: int, now: float) -> list[Slot]:
        slots = self._chats.get(chat_id)
        if not slots:
            return []
        if chat_id > 0:
            keep = [slot for slot in slots[-1:] if not slot.done or slot.at + self.private_interval > now]
        else:
            keep = [slot for slot in slots if not slot.done or slot.at + self.group_window > now]
        if keep:
            self._chats[chat_id] = keep
        else:
            del self._chats[chat_id]  # nothing within its window any more: it constrains nothing
        return keep

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until the chat's own limit allows the next send (0: now)."""
        now = self._clock()
        slots = self._prune(chat_id, now)
        if not slots:
            return 0.0
        if chat_id > 0:
            return max(0.0, slots[-1].at + self.private_interval - now)
        return self._window_delay(slots, self.group_per_minute, self.group_window, now)

    def global_delay(self) -> float:
        """Seconds until the overall limit (and any global flood pause) allows a send."""
        now = self._clock()
        self._global[:] = [s for s in self._global if not s.done or s.at + 1.0 > now]
        window = self._window_delay(self._global, self.global_per_second, 1.0, now)
        return max(window, self._paused_until - now)

    def delay(self, chat_id: int) -> float:
        return max(self.chat_delay(chat_id), self.global_delay())

    def group_budget(self, chat_id: int) -> int:
        """How many sends the group's per-minute window allows right now."""
        return max(0, self.group_per_minute - len(self._prune(chat_id, self._clock())))

    def sent_within(self, chat_id: int, seconds: float) -> int:
        """How many sends to the chat started in the last `seconds` (for tests and the soak's checks)."""
        now = self._clock()
        return sum(1 for slot in self._chats.get(chat_id, ()) if slot.at > now - seconds)

    def seed(self, chat_id: int, seconds_ago: float) -> None:
        """A send made before this process started (read from the outbox at start): it still counts."""
        slot = Slot(self._clock() - seconds_ago)
        slot.done = True
        self._chats.setdefault(chat_id, []).append(slot)
        self._chats[chat_id].sort(key=lambda s: s.at)

    def acquire(self, chat_id: int | None) -> Slot:
        """Count a send starting now (the caller has waited for `delay(chat_id)` to be 0); None: overall only."""
        slot = Slot(self._clock())
        if chat_id is not None:
            self._chats.setdefault(chat_id, []).append(slot)
        self._global.append(slot)
        return slot

    def release(self, slot: Slot) -> None:
        """The send's request has been answered: count it from now."""
        slot.at = self._clock()
        slot.done = True

    def pause_all(self, seconds: float) -> None:
        """Telegram flood-controls the bot as a whole: no sends to any chat for `seconds`."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @staticmethod
    def _window_delay(slots: list[Slot], limit: int, window: float, now: float) -> float:
        if len(slots) < limit:
            return 0.0
        oldest_that_must_expire = sorted(s.at for s in slots)[len(slots) - limit]
        return max(0.0, oldest_that_must_expire + window - now)
