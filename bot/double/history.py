"""The chats' histories and the update queue of the double (a mixin of BotApiDouble): storing a message or an
edit wakes whoever waits on state (long polls, tests); tests and the soak harness read the histories here."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from bot.double.markup import _COMMAND_RE, JSON, _Stored


class ChatHistory:
    """Writing and reading the chats as Telegram holds them; the state lives in BotApiDouble."""

    # ------------------------------------------------------------------ writing
    def _notify(self) -> None:
        """Wake everything waiting on state (long polls, wait_for); a fresh event for the next."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _touch(self, stored: _Stored) -> None:
        self._seq += 1
        stored.seq = self._chat_seq[stored.message["chat"]["id"]] = self._seq
        self._notify()

    def _store(self, chat_id: int, sender: JSON, content: JSON) -> JSON:
        history = self._history.setdefault(chat_id, {})
        message = {
            "message_id": max(history, default=0) + 1,
            "from": dict(sender),
            "chat": dict(self._chats[chat_id]),
            "date": int(self.clock()),
            **content,
        }
        self._seq += 1
        history[message["message_id"]] = _Stored(message, self._seq)
        self._chat_seq[chat_id] = self._seq
        self._notify()
        return message

    def _enqueue(self, kind: str, payload: JSON) -> None:
        if self._allowed_updates and kind not in self._allowed_updates:
            return  # Telegram does not even queue updates the bot opted out of
        self._updates.append({"update_id": self._next_update_id, kind: copy.deepcopy(payload)})
        self._next_update_id += 1
        self._notify()

    def _bot_receives(self, chat_id: int, message: JSON) -> bool:
        """Telegram's privacy mode: in groups the bot sees commands, replies to it, mentions."""
        if chat_id > 0 or not self.group_privacy or self.bot_id in self._admins.get(chat_id, set()):
            return True
        text = (message.get("text") or message.get("caption") or "").lower()
        mention = f"@{self.bot_username}".lower()
        if (command := _COMMAND_RE.match(text)) and command.group(0).partition("@")[2] in ("", mention[1:]):
            return True
        replied = message.get("reply_to_message") or {}
        return replied.get("from", {}).get("id") == self.bot_id or mention in text

    # ------------------------------------------------------------------ reading and waiting

    def messages(self, chat_id: int) -> list[JSON]:
        """The chat's history as it stands (edits applied, deletions gone), oldest first."""
        return [copy.deepcopy(s.message) for s in self._history.get(chat_id, {}).values() if not s.deleted]

    def unanswered_queries(self) -> list[str]:
        """The ids of button presses whose callback query the bot never answered within Telegram's time (the
        user's spinner ran until Telegram gave up)."""
        return [query_id for query_id, query in self._queries.items() if not query.answered]

    def chat_seq(self, chat_id: int) -> int:
        """A number that grows whenever the chat's history changes (cheap: no copies)."""
        return self._chat_seq.get(chat_id, 0)

    def bot_messages(self, chat_id: int) -> list[JSON]:
        return [m for m in self.messages(chat_id) if m["from"]["id"] == self.bot_id]

    def last_bot_message(self, chat_id: int) -> JSON | None:
        found = self.bot_messages(chat_id)
        return found[-1] if found else None

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Await until ``predicate()`` is truthy and return its value; AssertionError with a dump."""
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout}s\n{self.dump()}")
            wakeup = self._wakeup
            # State changes wake us at once; the short cap covers predicates on outside state.
            with suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), min(remaining, 0.05))
        return value

    async def wait_bot_message(
        self, chat_id: int, contains: str | None = None, timeout: float = 5.0, after: int = 0
    ) -> JSON:
        """The newest bot message with ``message_id > after``, or edited since this call, whose
        text or caption contains ``contains``."""
        start_seq = self._seq

        def find() -> JSON | None:
            stored = [s for s in self._history.get(chat_id, {}).values() if not s.deleted]
            for s in sorted(stored, key=lambda s: s.seq, reverse=True):
                message = s.message
                fresh = message["message_id"] > after or ("edit_date" in message and s.seq > start_seq)
                body = message.get("text") or message.get("caption") or ""
                if message["from"]["id"] == self.bot_id and fresh and (contains is None or contains in body):
                    return copy.deepcopy(message)
            return None

        return await self.wait_for(find, timeout)

    async def updates_confirmed(self, timeout: float = 5.0) -> None:
        """Wait until the bot has confirmed (fetched and acknowledged by offset) every update."""
        await self.wait_for(lambda: not self._updates, timeout)
