"""A Telegram Bot API double: an aiohttp server that answers the real PTB client like Telegram.

Tests and the local sandbox point PTB at it with ``ApplicationBuilder().base_url(double.base_url)``;
the bot then long-polls ``getUpdates`` and calls ``sendMessage`` & co. exactly as in production.
The double keeps users, chats and message history, applies Telegram's rules and error messages
(chat not found, message is not modified, BUTTON_DATA_INVALID, 429 flood control, ...), and lets a
test or the chat page play users through an in-process API and a JSON control API under
``/_control/``.  See ``README.md`` beside this file for the routes and the known deviations.

Run standalone (the chat page is at the printed URL)::

    python -m bot.double.server --port 8081
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.double.history import ChatHistory
from bot.double.markup import (
    _FIRST_UPDATE_ID,
    _SEND_METHODS,
    _STRING_FIELDS,
    _TRUE_VERBS,
    JSON,
    ApiError,
    DoubleError,
    _bad,
    _Fault,
    _Query,
    _Stored,
    parse_html,
)
from bot.double.media import UserMedia
from bot.double.methods import BotApiMethods
from bot.double.people import People
from bot.double.rules import TelegramRules
from bot.double.spec import ApiSpec, UploadedFile, decode_value

__all__ = ["BotApiDouble", "DoubleError", "ApiError", "parse_html"]

_LOG = logging.getLogger(__name__)

class BotApiDouble(TelegramRules, BotApiMethods, People, UserMedia, ChatHistory):
    """The Bot API subset GridBot uses, with Telegram's semantics, plus a control API for tests."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_id: int = 123456,
        bot_username: str = "gridbot_sandbox_bot",
        spec_path: Path | None = None,
        *,
        enforce_limits: bool = False,
        group_privacy: bool = True,
        callback_ttl: float = 15.0,
        log_limit: int = 10_000,
    ) -> None:
        self.token, self.bot_id, self.bot_username = token, bot_id, bot_username
        self.spec: ApiSpec | None = ApiSpec.load(spec_path) if spec_path else None
        self.enforce_limits = enforce_limits  # answer 429 past Telegram's documented send rates
        self.group_privacy = group_privacy  # Telegram's default: groups deliver only what's for us
        self.callback_ttl = callback_ttl
        self.bot_user: JSON = {"id": bot_id, "is_bot": True, "first_name": "网格通", "username": bot_username}
        # Bounded: a sandbox left running for weeks long-polls every few seconds.
        self.requests: deque[tuple[float, str, JSON]] = deque(maxlen=log_limit)
        self.callback_answers: deque[JSON] = deque(maxlen=log_limit)
        self.error_responses: deque[tuple[float, str, str]] = deque(maxlen=log_limit)
        self.clock: Callable[[], float] = time.time  # message dates; the sandbox's clock may run ahead
        self.zone = "Asia/Shanghai"  # the time zone the chat page shows times in
        self.controls: dict[str, Callable[..., Any]] = {}  # extra control actions (e.g. the sandbox's time travel)
        self.rate_limited = 0  # 429s the rate limits caused (enforce_limits)
        self.sends_done: list[tuple[float, Any]] = []  # (time, chat_id) of every send that took effect
        self.fault_rates: dict[str, float] = {}  # random faults per call: "500", "429", "drop" (soak runs)
        self._random = random.Random(20261129)
        self.violations: list[str] = []
        self.webhook: JSON = {"url": ""}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._roles: dict[int, str] = {}
        self._blocked: set[int] = set()
        self._chats: dict[int, JSON] = {}
        self._members: dict[int, set[int]] = {}
        self._admins: dict[int, set[int]] = {}
        self._history: dict[int, dict[int, _Stored]] = {}
        self._keyboards: dict[int, JSON | None] = {}
        self._files: dict[str, JSON] = {}
        self._queries: dict[str, _Query] = {}
        self._faults: list[_Fault] = []
        self._sends: list[tuple[float, int]] = []
        self._updates: list[JSON] = []
        self._allowed_updates: list[str] = []
        self._ids = itertools.count(1)
        self._next_update_id = _FIRST_UPDATE_ID
        self._seq = 0
        self._chat_seq: dict[int, int] = {}  # chat id -> seq of its latest change
        self._poll_generation = 0
        self._closing = False
        self._wakeup = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ------------------------------------------------------------------ lifecycle

    def make_app(self) -> web.Application:
        """The aiohttp app: Bot API, file downloads, control API and the chat page."""
        app = web.Application(client_max_size=50 * 1024 * 1024)  # Telegram's bot upload limit
        app.router.add_route("*", "/bot{token}/{method}", self._handle_bot)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_get("/_control/state", self._handle_state)
        app.router.add_get("/_control/file/{file_id}", self._handle_page_file)
        app.router.add_post("/_control/{action}", self._handle_control)
        app.router.add_get("/", self._handle_page)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port``; port 0 picks a free port (see :attr:`url`)."""
        self._closing = False
        self._wakeup = asyncio.Event()  # a fresh one in case a previous run used another loop
        # A short shutdown timeout: long polls are woken on stop, nothing else lingers.
        self._runner = web.AppRunner(self.make_app(), shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Answer pending long polls and stop serving."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def running(self) -> bool:
        return self._runner is not None

    def continue_after(self, update_id: int | None) -> None:
        """Number the next updates after `update_id` (a bot restarted on its database has handled those: a
        double that started again from its first id would have them taken as replays and dropped)."""
        if update_id is not None:
            self._next_update_id = max(self._next_update_id, update_id + 1)

    @property
    def last_update_id(self) -> int | None:
        """The id of the newest update ever queued for the bot (None before the first)."""
        return self._next_update_id - 1 if self._next_update_id > _FIRST_UPDATE_ID else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url``; PTB appends ``{token}/{method}``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ Bot API plumbing

    async def _handle_bot(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        method = self._resolve_method(request.match_info["method"])
        if method is None:
            self.requests.append((time.monotonic(), request.match_info["method"], {}))
            self.violations.append(f"unknown method {request.match_info['method']}")
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        try:
            params = await self._read_params(request, method)
            self.requests.append((time.monotonic(), method, params))
            await self._apply_fault(method)
            self._random_fault(method)
            self._check_spec(method, params)
            self._check_rate(method, params)
            result = await self._dispatch(method, params)
            if self._is_send(method):  # it took effect: what Telegram's send limits count
                self.sends_done.append((time.monotonic(), params.get("chat_id")))
            if self._draw(method, "drop"):
                # The method took effect but its answer is lost: the client sees a dropped connection.
                self.error_responses.append((time.monotonic(), method, "connection dropped"))
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=502)
        except ApiError as error:
            self.error_responses.append((time.monotonic(), method, error.description))
            return web.json_response(error.payload(), status=error.status)
        except Exception:  # a bug of the double; answer like Telegram's own hiccups do
            _LOG.exception("Bot API double failed on %s", method)
            self.error_responses.append((time.monotonic(), method, "double crashed"))
            return web.json_response(ApiError(500, "Internal Server Error").payload(), status=500)
        return web.json_response({"ok": True, "result": result})

    def _resolve_method(self, name: str) -> str | None:
        """Canonical method name; Telegram matches method names case-insensitively."""
        lower = name.lower()
        candidates: Iterable[str] = (
            self.spec.methods() if self.spec else (m[5:] for m in dir(self) if m.startswith("_api_"))
        )
        for candidate in candidates:
            if candidate.lower() == lower:
                return candidate
        if self.spec is None and (_TRUE_VERBS.match(name) or name.startswith("send")):
            return name
        return None

    async def _read_params(self, request: web.Request, method: str) -> JSON:
        raw: JSON = dict(request.query)
        typed: JSON = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                with suppress(ValueError):
                    typed = await request.json()
                if not isinstance(typed, dict):
                    raise _bad("can't parse JSON object")
            else:
                for name, value in (await request.post()).items():
                    raw[name] = (
                        UploadedFile(value.filename, value.content_type, value.file.read())
                        if isinstance(value, web.FileField)
                        else value
                    )
        params = {**self._decode(method, raw), **typed}
        for name, value in params.items():  # PTB references uploads as attach://<part>
            if isinstance(value, str) and value.startswith("attach://"):
                params[name] = raw.get(value[len("attach://"):], value)
        return params

    def _decode(self, method: str, raw: JSON) -> JSON:
        if self.spec is not None:
            return self.spec.decode(method, raw)
        return {k: decode_value(v, ["String"] if k in _STRING_FIELDS else None) for k, v in raw.items()}

    def _draw(self, method: str, kind: str) -> bool:
        """Whether a random fault of `kind` hits this call (`fault_rates`, never getUpdates)."""
        rate = self.fault_rates.get(kind, 0.0)
        return bool(rate) and method != "getUpdates" and self._random.random() < rate

    def _random_fault(self, method: str) -> None:
        """Faults at the rates of `fault_rates` ({"500": 0.05, "429": 0.05, "drop": 0.02}), for soak runs."""
        if self._draw(method, "429"):
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if self._draw(method, "500"):
            raise ApiError(500, "Internal Server Error")

    async def _apply_fault(self, method: str) -> None:
        fault = next(
            (
                f
                for f in self._faults
                if f.remaining > 0
                and (f.method == method or (f.method is None and method != "getUpdates"))
            ),
            None,
        )
        if fault is None:
            return
        fault.remaining -= 1
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay)  # then answer normally: the action still happens
        elif fault.kind == "429":
            raise ApiError(
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
        elif fault.kind == "500":
            raise ApiError(500, "Internal Server Error")
        else:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _check_spec(self, method: str, params: JSON) -> None:
        if self.spec is None:
            return
        problem = self.spec.check(method, params)
        if problem is not None:
            self.violations.append(f"{method}: {problem.description}")
            raise ApiError(problem.status, problem.description)

    def _check_rate(self, method: str, params: JSON) -> None:
        """Telegram's documented limits: 1 msg/s per chat, 20/min per group, 30/s overall."""
        if not self.enforce_limits or not self._is_send(method):
            return
        now, chat_id = time.monotonic(), params.get("chat_id")
        self._sends = [(t, c) for t, c in self._sends if now - t < 60]
        overall = [t for t, _ in self._sends if now - t < 1]
        same_chat = [t for t, c in self._sends if c == chat_id]
        recent = [t for t in same_chat if now - t < 1]
        wait = 0.0
        if len(overall) >= 30:
            wait = 1 - (now - overall[0])
        if isinstance(chat_id, int) and chat_id > 0 and recent:
            wait = max(wait, 1 - (now - recent[0]))
        if isinstance(chat_id, int) and chat_id < 0 and len(same_chat) >= 20:
            wait = max(wait, 60 - (now - same_chat[-20]))
        if wait > 0:
            self.rate_limited += 1  # the bot broke Telegram's send rates (not an injected fault)
            retry = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        self._sends.append((now, chat_id))

    @staticmethod
    def _is_send(method: str) -> bool:
        return method in _SEND_METHODS or (method.startswith("send") and method != "sendChatAction")

    async def _dispatch(self, method: str, params: JSON) -> Any:
        handler: Callable[[JSON], Awaitable[Any]] | None = getattr(self, f"_api_{method}", None)
        if handler is not None:
            return await handler(params)
        return self._generic_result(method, params)

    def _generic_result(self, method: str, params: JSON) -> Any:
        """A minimal plausible result for a method the double does not model."""
        returns = self.spec.returns(method) if self.spec else []
        kind = returns[0] if returns else ("Message" if method.startswith("send") else "Boolean")
        if kind in ("Boolean", "True"):
            return True
        if kind == "Integer":
            return len(self._members.get(self._target_chat(params), ())) + 1
        if kind == "String":
            return ""
        if kind.startswith("Array of"):
            return []
        if kind == "User":
            return dict(self.bot_user)
        if kind == "Message":
            content = {k: params[k] for k in ("text", "caption") if isinstance(params.get(k), str)}
            return self._bot_message(self._target_chat(params), params, content)
        if kind == "MessageId":
            return {"message_id": self._bot_message(self._target_chat(params), params, {})["message_id"]}
        raise _bad(f"method {method} is not supported by the Bot API double")


async def _serve(port: int) -> None:
    double = BotApiDouble()
    double.add_user(1001, "李网格员", "grid_li", role_label="网格员")
    double.add_user(1002, "王主任", "director_wang", role_label="社区主任")
    double.add_group(-1_001_000_000_001, "城建部门群", members=[1001, 1002], admins=[1002])
    await double.start(port=port)
    print(f"Bot API double at {double.url}  (base_url={double.base_url}, token={double.token})")
    await asyncio.Event().wait()


def main() -> None:
    """Run the double standalone with two demo users, for poking at the chat page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    asyncio.run(_serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
