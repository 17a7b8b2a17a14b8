"""The bot the handlers talk through: every call survives flood control and server hiccups, and every button
press is answered in time.

* **Retries.** A 429 waits the `retry_after` Telegram asks; a 5xx, a timeout or a dropped connection backs off
  and tries again, within a budget per call. Past the budget the call fails, the inbox keeps the update and
  handles it again later (bot/polling.py): the person still gets the answer. Refusals for good (400, 403) are
  not retried. getUpdates is left to the poller.
* **Button presses answered in time.** Telegram shows a spinner until a callback query is answered and gives up
  ~15 s after the press. The clock runs from the press, not from its turn in the queue: `guard_press` is called
  when a press arrives (bot/polling.py) and answers it `ANSWER_WITHIN` seconds after the press unless Telegram
  has taken the handler's answer (one still on its way gets as long again, then the guard answers too: the
  first to arrive counts); a press that may have waited (at Telegram while the poller was away or the bot
  down, or stored but not handled before a crash) has that much less time. An answer that comes later than
  the guard's (or for a press replayed after a restart, "query is too old") is not lost: its text is sent to
  the chat as a message instead.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from typing import Any

from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ExtBot

from bot.delivery import limited
from bot.polling import retry_after_seconds
from bot.ratelimit import RateLimiter

log = logging.getLogger(__name__)
CALL_BUDGET = 8.0  # seconds a call may spend retrying before its update is handed back to the inbox (other
#                    chats' updates are not held up longer than this by one chat's trouble)
ANSWER_BUDGET = 6.0  # an answer to a button press must come within Telegram's ~15 s
ANSWER_WITHIN = 6.0  # the guard answers a press still unanswered this long after it arrived
CALLBACK_LIFETIME = 15.0  # Telegram refuses an answer this long after the press
REMEMBERED = 4096


class ReliableBot(ExtBot):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limiter: RateLimiter | None = None  # shared with the sender: one budget per chat for all sends
        self._answered: OrderedDict[str, None] = OrderedDict()  # Telegram took an answer (ours or the guard's)
        self._answering: set[str] = set()  # the handler's answer is on its way
        self._pressed_in: OrderedDict[str, int] = OrderedDict()  # callback query id → chat it came from
        self._guards: set[asyncio.Task] = set()
        self._answer_within = ANSWER_WITHIN

    def share_limits(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    def answer_presses_within(self, seconds: float) -> None:
        """How long the handler has to answer a press before the guard does (tests shorten it)."""
        self._answer_within = seconds

    async def _do_post(self, endpoint: str, data: dict, **timeouts: Any) -> Any:
        if endpoint == "getUpdates":
            return await super()._do_post(endpoint, data, **timeouts)
        if endpoint == "answerCallbackQuery":
            return await self._answer(data, timeouts)
        return await self._retrying(endpoint, data, timeouts, CALL_BUDGET)

    async def _retrying(self, endpoint: str, data: dict, timeouts: dict, budget: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        failures = 0
        counted = self._limiter is not None and _counts(endpoint) and isinstance(data.get("chat_id"), int)
        while True:
            try:
                if not counted:
                    return await super()._do_post(endpoint, data, **timeouts)
                async with limited(self._limiter, data["chat_id"], edit=endpoint.startswith("edit")):
                    return await super()._do_post(endpoint, data, **timeouts)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
            except BadRequest as exc:
                if endpoint.startswith("edit") and "message is not modified" in str(exc).lower():
                    return True  # the message already shows this (e.g. our first try went through, its answer lost)
                raise  # refused for good: retrying would not help (BadRequest is a NetworkError: first)
            except (Forbidden, ChatMigrated, Conflict, InvalidToken):
                raise
            except NetworkError as exc:  # 5xx, timeouts, dropped connections
                failures += 1
                wait = min(8.0, 0.25 * 2 ** failures) * random.uniform(0.5, 1.0)
                log.info("%s failed (%s); retry %d in %.1f s", endpoint, exc, failures, wait)
            if loop.time() + wait > deadline:
                raise NetworkError(f"{endpoint}: still failing after {budget:.0f} s") from None
            await asyncio.sleep(wait)

    # -- button presses ---------------------------------------------------------------------------------
    def guard_press(self, payload: dict, waited: float = 0.0) -> None:
        """An update (as stored) has arrived: if it is a button press that may have ``waited`` seconds since it
        was pressed, answer it once `_answer_within` seconds from the press have passed (at once if they
        have), unless the handler has by then."""
        query = payload.get("callback_query")
        if not query:
            return
        query_id = str(query["id"])
        chat = ((query.get("message") or {}).get("chat") or {}).get("id")
        if chat is not None:
            self._remember(self._pressed_in, query_id, int(chat))
        asyncio.get_running_loop().call_later(max(0.0, self._answer_within - waited), self._ensure_soon, query_id)

    def _ensure_soon(self, query_id: str, looked: bool = False) -> None:
        if query_id in self._answered:
            return
        if query_id in self._answering and not looked:  # the handler's answer is on its way: a little longer
            asyncio.get_running_loop().call_later(self._answer_within, self._ensure_soon, query_id, True)
            return
        task = asyncio.create_task(self._ensure(query_id))
        self._guards.add(task)
        task.add_done_callback(self._guards.discard)

    async def _ensure(self, query_id: str) -> None:
        log.info("press %s not answered by its handler in time (%s): answered blank", query_id,
                 "its answer still on the way" if query_id in self._answering else "no answer yet")
        try:
            await self._retrying("answerCallbackQuery", {"callback_query_id": query_id}, {}, ANSWER_BUDGET)
            self._remember(self._answered, query_id, None)
        except Exception:  # noqa: BLE001 — too late or offline: nothing more to do for a spinner
            log.info("could not answer callback query %s in time", query_id, exc_info=True)

    async def _answer(self, data: dict, timeouts: dict) -> bool:
        query_id = str(data.get("callback_query_id"))
        text = data.get("text")
        if query_id in self._answered:  # the guard answered already: the words still reach the person
            await self._as_message(query_id, text)
            return True
        self._answering.add(query_id)
        try:
            result = await self._retrying("answerCallbackQuery", data, timeouts, ANSWER_BUDGET)
            self._remember(self._answered, query_id, None)
            return result
        except BadRequest as exc:
            if "query is too old" not in str(exc).lower() and "query id is invalid" not in str(exc).lower():
                raise
            log.info("press %s: the answer came too late (%s); sent as a message", query_id, exc)
            await self._as_message(query_id, text)  # e.g. a press handled again after a restart
            return True
        except NetworkError as exc:
            log.info("press %s: the answer failed (%s); sent as a message", query_id, exc)
            await self._as_message(query_id, text)
            return True
        finally:
            self._answering.discard(query_id)

    async def _as_message(self, query_id: str, text: str | None) -> None:
        chat_id = self._pressed_in.get(query_id)
        if text and chat_id is not None:
            await self.send_message(chat_id, text)

    @staticmethod
    def _remember(store: OrderedDict, key: str, value: Any) -> None:
        store[key] = value
        while len(store) > REMEMBERED:
            store.popitem(last=False)


def _counts(endpoint: str) -> bool:
    """Sends and edits count against a chat's limits (chat actions and callback answers do not)."""
    return (endpoint.startswith("send") and endpoint != "sendChatAction") or endpoint.startswith("edit")
