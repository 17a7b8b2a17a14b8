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
import copy
import html
import itertools
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.double.spec import ApiSpec, UploadedFile, decode_value, missing_param_message

__all__ = ["BotApiDouble", "DoubleError", "ApiError", "parse_html"]

_LOG = logging.getLogger(__name__)
_STATIC = Path(__file__).with_name("static")
JSON = dict[str, Any]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8, not characters: Chinese data runs out at 21 chars
FAULT_KINDS = ("429", "500", "timeout", "403")
_FIRST_UPDATE_ID = 100_000_001
# Without a spec we cannot know field types; these are plain strings that must not be JSON-parsed
# (a text of "123" must stay "123").
_STRING_FIELDS = frozenset(
    "text caption callback_query_id parse_mode url file_id inline_message_id action title "
    "description secret_token language_code first_name last_name username name emoji address "
    "phone_number custom_title short_description business_connection_id message_effect_id "
    "ip_address query_id switch_pm_text foursquare_id google_place_id".split()
)
_BUTTON_ACTIONS = frozenset(
    "url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat "
    "switch_inline_query_chosen_chat copy_text callback_game pay".split()
)
_SEND_METHODS = frozenset({"copyMessage", "forwardMessage", "sendMediaGroup"})
# Without a spec, unimplemented methods whose name starts with one of these answer True.
_TRUE_VERBS = re.compile(
    r"^(set|delete|pin|unpin|ban|unban|restrict|promote|approve|decline|leave|answer|hide|unhide"
    r"|close|reopen|verify|remove|edit(Chat|Forum|General)|read|toggle)"
)
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?")
_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "code": "code", "pre": "pre", "a": "text_link", "tg-spoiler": "spoiler", "span": "spoiler",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)?([^<>]*)>")
_CHAR_REF_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_ATTR_RE = re.compile(r"""([a-zA-Z-]+)\s*=\s*(["'])(.*?)\2""")


class ApiError(Exception):
    """A Bot API error answer: HTTP status plus Telegram's description."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class DoubleError(ValueError):
    """Misuse of the in-process/control API (unknown user, no such button, ...)."""


def _dumps(obj: Any) -> str:
    """JSON with Chinese left readable (the control API is read by people too)."""
    return json.dumps(obj, ensure_ascii=False)


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse ``parse_mode=HTML`` text like Telegram: plain text plus entities, or a 400.

    Catches the classic production bugs: ``<br>``, unescaped ``<`` from user input, unclosed tags.
    """
    out: list[str] = []
    stack: list[tuple[str, str, int]] = []
    entities: list[JSON] = []
    pos = length = 0
    while pos < len(source):
        char = source[pos]
        if char == "<":
            where = len(source[:pos].encode())
            match = _TAG_RE.match(source, pos)
            if match is None:
                raise _bad(f"can't parse entities: Unclosed start tag at byte offset {where}")
            closing, name, attrs = match.group(1), (match.group(2) or "").lower(), match.group(3)
            if not closing:
                if name not in _HTML_TAGS:
                    raise _bad(
                        f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {where}'
                    )
                stack.append((name, attrs, length))
            else:
                expected = stack[-1][0] if stack else ""
                if expected != name:
                    raise _bad(
                        f"can't parse entities: Unmatched end tag at byte offset {where}, "
                        f'expected "</{expected}>", found "</{name}>"'
                    )
                tag, tag_attrs, start = stack.pop()
                if length > start:
                    entities.append(_html_entity(tag, tag_attrs, start, length - start))
            pos = match.end()
            continue
        ref = _CHAR_REF_RE.match(source, pos) if char == "&" else None
        char, pos = (html.unescape(ref.group(0)), ref.end()) if ref else (char, pos + 1)
        out.append(char)
        length += utf16_len(char)
    if stack:
        raise _bad(
            f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{stack[-1][0]}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _html_entity(tag: str, attrs: str, offset: int, length: int) -> JSON:
    values = {m.group(1).lower(): m.group(3) for m in _ATTR_RE.finditer(attrs)}
    kind = _HTML_TAGS[tag]
    entity: JSON = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        entity["url"] = values.get("href", "")
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = values.get("emoji-id", "")
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    return entity


def _check_inline_keyboard(markup: JSON) -> None:
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise _bad("can't parse inline keyboard button: InlineKeyboardMarkup must be an Array")
    for button in itertools.chain.from_iterable(rows):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad("can't parse inline keyboard button: Text must be a String")
        if not _BUTTON_ACTIONS & button.keys():
            raise _bad("text buttons are unallowed in the inline keyboard")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
            raise _bad("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
            raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _callback_datas(message: JSON) -> list[tuple[str, str]]:
    """(label, callback_data) of every callback button of a message."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [
        (b.get("text", ""), b["callback_data"])
        for b in itertools.chain.from_iterable(rows)
        if "callback_data" in b
    ]


@dataclass
class _Stored:
    """One message of a chat's history; ``seq`` is bumped on every change for the page's polling."""

    message: JSON
    seq: int
    deleted: bool = False


@dataclass
class _Fault:
    method: str | None
    kind: str
    remaining: int
    retry_after: int
    delay: float


@dataclass
class _Query:
    user_id: int
    chat_id: int
    created: float = field(default_factory=time.monotonic)
    answered: bool = False


class BotApiDouble:
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
    ) -> None:
        self.token, self.bot_id, self.bot_username = token, bot_id, bot_username
        self.spec: ApiSpec | None = ApiSpec.load(spec_path) if spec_path else None
        self.enforce_limits = enforce_limits  # answer 429 past Telegram's documented send rates
        self.group_privacy = group_privacy  # Telegram's default: groups deliver only what's for us
        self.callback_ttl = callback_ttl
        self.bot_user: JSON = {"id": bot_id, "is_bot": True, "first_name": "网格通", "username": bot_username}
        self.requests: list[tuple[float, str, JSON]] = []
        self.callback_answers: list[JSON] = []
        self.error_responses: list[tuple[float, str, str]] = []
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
            self._check_spec(method, params)
            self._check_rate(method, params)
            result = await self._dispatch(method, params)
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

    # ------------------------------------------------------------------ shared Bot API rules

    def _chat_id(self, params: JSON, key: str = "chat_id") -> int:
        value = params.get(key)
        if value in (None, ""):
            raise ApiError(400, missing_param_message(key))
        if isinstance(value, str):  # "@username" of a public group
            found = [c for c in self._chats.values() if f"@{c.get('username')}" == value]
            if not found:
                raise _bad("chat not found")
            return int(found[0]["id"])
        if isinstance(value, bool) or not isinstance(value, int) or value not in self._chats:
            raise _bad("chat not found")
        return value

    def _target_chat(self, params: JSON) -> int:
        """A chat the bot may send to: known and not blocked."""
        chat_id = self._chat_id(params)
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    @staticmethod
    def _require(params: JSON, *names: str) -> None:
        for name in names:
            if params.get(name) in (None, ""):
                raise ApiError(400, missing_param_message(name))

    def _formatted(self, params: JSON, key: str, limit: int) -> JSON:
        """Text or caption after entity parsing, with Telegram's emptiness and length rules."""
        is_text = key == "text"
        entities_key = "entities" if is_text else "caption_entities"
        raw = params.get(key)
        if raw is None and not is_text:
            return {}
        text = "" if raw is None else str(raw)
        entities = params.get(entities_key) or []
        if str(params.get("parse_mode") or "").lower() == "html":
            text, entities = parse_html(text)
        if is_text and not text.strip():
            raise ApiError(400, missing_param_message("text"))
        if utf16_len(text) > limit:
            raise _bad("message is too long" if is_text else "message caption is too long")
        content: JSON = {key: text}
        if entities:
            content[entities_key] = entities
        return content

    def _markup(self, params: JSON, *, inline_only: bool = False) -> JSON | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict) or not (
            markup.keys() & {"inline_keyboard", "keyboard", "remove_keyboard", "force_reply"}
        ):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            _check_inline_keyboard(markup)
        elif inline_only:
            raise _bad("inline keyboard expected")
        return markup

    def _reply_to(self, chat_id: int, params: JSON) -> JSON:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict):
            reply = {"message_id": params["reply_to_message_id"]} if "reply_to_message_id" in params else None
        if reply is None:
            return {}
        target_chat = reply.get("chat_id", chat_id)
        stored = self._history.get(target_chat, {}).get(reply.get("message_id"))  # type: ignore[arg-type]
        if stored is None or stored.deleted:
            if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
                return {}
            raise _bad("message to be replied not found")
        return {"reply_to_message": self._without_reply(stored.message)}

    @staticmethod
    def _without_reply(message: JSON) -> JSON:
        """Telegram nests one level of replies only."""
        return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}

    def _bot_message(self, chat_id: int, params: JSON, content: JSON) -> JSON:
        """Store a message the bot sent and return it as Telegram would."""
        content = {**self._reply_to(chat_id, params), **content}
        markup = self._markup(params)
        if markup and "inline_keyboard" in markup:
            content["reply_markup"] = markup  # only inline keyboards belong to the Message
        elif markup and "keyboard" in markup:
            self._keyboards[chat_id] = markup  # a reply keyboard stays until removed or used once
        elif markup and "remove_keyboard" in markup:
            self._keyboards[chat_id] = None
        return copy.deepcopy(self._store(chat_id, self.bot_user, content))

    def _editable(self, params: JSON) -> _Stored:
        if params.get("inline_message_id"):
            raise _bad("message to edit not found")  # inline mode is not modelled
        chat_id = self._chat_id(params)
        self._require(params, "message_id")
        stored = self._history.get(chat_id, {}).get(params["message_id"])
        if stored is None or stored.deleted:
            raise _bad("message to edit not found")
        if stored.message["from"]["id"] != self.bot_id:
            raise _bad("message can't be edited")
        return stored

    def _apply_edit(self, stored: _Stored, params: JSON, content: JSON, drop: tuple[str, ...]) -> JSON:
        """Replace ``drop`` keys + reply_markup by ``content``; Telegram rejects no-op edits."""
        markup = self._markup(params, inline_only=True)
        before = {k: stored.message.get(k) for k in (*drop, "reply_markup")}
        after = {k: content.get(k) for k in drop} | {"reply_markup": markup}
        if before == after:
            raise _bad(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in after.items():
            stored.message.pop(key, None)
            if value is not None:
                stored.message[key] = value
        stored.message["edit_date"] = int(time.time())
        self._touch(stored)
        return copy.deepcopy(stored.message)

    def _input_file(self, value: Any, kind: str) -> JSON:
        """Resolve an upload, a known file_id or a URL to a stored file."""
        if isinstance(value, UploadedFile):
            return self._new_file(kind, value.data, value.filename, value.content_type)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and re.match(r"^https?://", value):
            return self._new_file(kind, b"downloaded:" + value.encode(), value.rsplit("/", 1)[-1])
        raise _bad("wrong file identifier/HTTP URL specified")

    def _new_file(self, kind: str, data: bytes, name: str = "", mime: str = "") -> JSON:
        n = next(self._ids)
        file_id = f"{kind}-{n}-{uuid.uuid4().hex[:16]}"
        record = {
            "file_id": file_id, "file_unique_id": f"u{n}", "file_size": len(data),
            "file_path": f"{kind}s/file_{n}", "data": data, "file_name": name or f"file_{n}",
            "mime_type": mime or "application/octet-stream",
        }  # fmt: skip
        self._files[file_id] = record
        return record

    @staticmethod
    def _file_view(record: JSON, *keys: str) -> JSON:
        return {k: record[k] for k in ("file_id", "file_unique_id", "file_size", *keys)}

    def _photo_sizes(self, record: JSON) -> list[JSON]:
        small = {**self._file_view(record), "width": 90, "height": 67}
        small["file_id"], small["file_unique_id"] = record["file_id"] + "-s", record["file_unique_id"] + "s"
        self._files.setdefault(small["file_id"], {**record, **small})
        return [small, {**self._file_view(record), "width": 1280, "height": 960}]

    # ------------------------------------------------------------------ Bot API methods

    async def _api_getMe(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.group_privacy,
            "supports_inline_queries": False,
        }

    async def _api_getUpdates(self, params: JSON) -> list[JSON]:
        """Long polling: confirm by offset, wait up to ``timeout``; a newer call ends this one."""
        if self.webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._confirm(params.get("offset"))
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = params["allowed_updates"]
        limit = min(max(self._int(params, "limit", 100), 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes an older long poll, which then answers 409 like Telegram does
        deadline = time.monotonic() + max(self._int(params, "timeout", 0), 0)
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            remaining = deadline - time.monotonic()
            if self._updates or self._closing or remaining <= 0:
                break
            wakeup = self._wakeup
            with suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), remaining)
        return copy.deepcopy(self._updates[:limit])

    @staticmethod
    def _int(params: JSON, key: str, default: int) -> int:
        value = params.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f'field "{key}" must be of type Integer')
        return int(value)

    def _confirm(self, offset: Any) -> None:
        if not isinstance(offset, int) or offset == 0:
            return
        before = len(self._updates)
        if offset < 0:  # keep only the last -offset updates, forget the rest
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if len(self._updates) != before:
            self._notify()

    async def _api_deleteWebhook(self, params: JSON) -> bool:
        self.webhook = {"url": ""}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_setWebhook(self, params: JSON) -> bool:
        if "url" not in params:
            raise ApiError(400, missing_param_message("url"))
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {k: v for k, v in params.items() if not isinstance(v, UploadedFile)}
        return True

    async def _api_getWebhookInfo(self, params: JSON) -> JSON:
        info = {"url": self.webhook.get("url", ""), "has_custom_certificate": False}
        info["pending_update_count"] = len(self._updates)
        for key in ("max_connections", "ip_address", "allowed_updates"):
            if key in self.webhook:
                info[key] = self.webhook[key]
        return info

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _api_setMyCommands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, missing_param_message("commands"))
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("command description must be non-empty")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _api_getMyCommands(self, params: JSON) -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _api_deleteMyCommands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _api_setChatMenuButton(self, params: JSON) -> bool:
        chat_id = self._chat_id(params) if "chat_id" in params else None
        self.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
        return True

    async def _api_getChatMenuButton(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params) if "chat_id" in params else None
        return self.menu_buttons.get(chat_id, {"type": "default"})

    async def _api_sendMessage(self, params: JSON) -> JSON:
        chat_id = self._target_chat(params)
        return self._bot_message(chat_id, params, self._formatted(params, "text", TEXT_LIMIT))

    async def _api_sendPhoto(self, params: JSON) -> JSON:
        chat_id = self._target_chat(params)
        self._require(params, "photo")
        content = self._formatted(params, "caption", CAPTION_LIMIT)
        content["photo"] = self._photo_sizes(self._input_file(params["photo"], "photo"))
        return self._bot_message(chat_id, params, content)

    async def _api_sendDocument(self, params: JSON) -> JSON:
        chat_id = self._target_chat(params)
        self._require(params, "document")
        content = self._formatted(params, "caption", CAPTION_LIMIT)
        record = self._input_file(params["document"], "document")
        content["document"] = self._file_view(record, "file_name", "mime_type")
        return self._bot_message(chat_id, params, content)

    async def _api_sendLocation(self, params: JSON) -> JSON:
        chat_id = self._target_chat(params)
        self._require(params, "latitude", "longitude")
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        return self._bot_message(chat_id, params, {"location": location})

    async def _api_sendChatAction(self, params: JSON) -> bool:
        self._target_chat(params)
        self._require(params, "action")
        return True

    async def _api_editMessageText(self, params: JSON) -> JSON:
        stored = self._editable(params)
        if "text" not in stored.message:
            raise _bad("there is no text in the message to edit")
        content = self._formatted(params, "text", TEXT_LIMIT)
        return self._apply_edit(stored, params, content, ("text", "entities"))

    async def _api_editMessageCaption(self, params: JSON) -> JSON:
        stored = self._editable(params)
        if "text" in stored.message:
            raise _bad("there is no caption in the message to edit")
        content = self._formatted(params, "caption", CAPTION_LIMIT)
        return self._apply_edit(stored, params, content, ("caption", "caption_entities"))

    async def _api_editMessageReplyMarkup(self, params: JSON) -> JSON:
        return self._apply_edit(self._editable(params), params, {}, ())

    async def _api_deleteMessage(self, params: JSON) -> bool:
        chat_id = self._chat_id(params)
        self._require(params, "message_id")
        stored = self._history.get(chat_id, {}).get(params["message_id"])
        if stored is None or stored.deleted:
            raise _bad("message to delete not found")
        stored.deleted = True
        self._touch(stored)
        return True

    async def _api_deleteMessages(self, params: JSON) -> bool:
        chat_id = self._chat_id(params)
        for message_id in params.get("message_ids") or []:
            with suppress(ApiError):
                await self._api_deleteMessage({"chat_id": chat_id, "message_id": message_id})
        return True

    async def _api_answerCallbackQuery(self, params: JSON) -> bool:
        self._require(params, "callback_query_id")
        query_id = str(params["callback_query_id"])
        query = self._queries.get(query_id)
        if query is None or query.answered or time.monotonic() - query.created > self.callback_ttl:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        query.answered = True
        self._seq += 1
        self.callback_answers.append({
            "callback_query_id": query_id, "text": params.get("text"),
            "show_alert": bool(params.get("show_alert")), "url": params.get("url"),
            "user_id": query.user_id, "chat_id": query.chat_id, "seq": self._seq,
        })  # fmt: skip
        self._notify()
        return True

    async def _api_getChat(self, params: JSON) -> JSON:
        chat = self._chats[self._chat_id(params)]
        kinds = "unlimited_gifts limited_gifts unique_gifts premium_subscription gifts_from_channels"
        gifts = dict.fromkeys(kinds.split(), False)
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    async def _api_getChatMember(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        self._require(params, "user_id")
        user_id = params["user_id"]
        if user_id == self.bot_id:
            user = self.bot_user
        elif user_id in self._users:
            user = self._users[user_id]
        else:
            raise _bad("user not found")
        return self._member(chat_id, user)

    def _member(self, chat_id: int, user: JSON) -> JSON:
        uid = user["id"]
        if chat_id > 0:
            return {"status": "member" if uid in (chat_id, self.bot_id) else "left", "user": user}
        if uid in self._admins.get(chat_id, set()):
            rights = (
                "can_be_edited is_anonymous can_manage_chat can_delete_messages can_manage_video_chats "
                "can_restrict_members can_promote_members can_change_info can_invite_users "
                "can_post_stories can_edit_stories can_delete_stories can_pin_messages"
            ).split()
            return {"status": "administrator", "user": user, **{r: r != "is_anonymous" for r in rights}}
        if uid in self._members.get(chat_id, set()) or uid == self.bot_id:
            return {"status": "member", "user": user}
        return {"status": "left", "user": user}

    async def _api_getFile(self, params: JSON) -> JSON:
        self._require(params, "file_id")
        record = self._files.get(str(params["file_id"]))
        if record is None:
            raise _bad("invalid file_id")
        return self._file_view(record, "file_path")

    async def _api_close(self, params: JSON) -> bool:
        return True

    async def _api_logOut(self, params: JSON) -> bool:
        return True

    # ------------------------------------------------------------------ storage & updates

    def _notify(self) -> None:
        """Wake everything waiting on state (long polls, wait_for); a fresh event for the next."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _touch(self, stored: _Stored) -> None:
        self._seq += 1
        stored.seq = self._seq
        self._notify()

    def _store(self, chat_id: int, sender: JSON, content: JSON) -> JSON:
        history = self._history.setdefault(chat_id, {})
        message = {
            "message_id": max(history, default=0) + 1,
            "from": dict(sender),
            "chat": dict(self._chats[chat_id]),
            "date": int(time.time()),
            **content,
        }
        self._seq += 1
        history[message["message_id"]] = _Stored(message, self._seq)
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

    # ------------------------------------------------------------------ in-process / control API

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        last_name: str | None = None,
        role_label: str | None = None,
    ) -> JSON:
        """Register a user and their private chat with the bot (chat id == user id)."""
        if user_id <= 0:
            raise DoubleError("user ids are positive")
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        user |= {k: v for k, v in (("last_name", last_name), ("username", username)) if v}
        user["language_code"] = "zh-hans"
        self._users[user_id] = user
        if role_label:
            self._roles[user_id] = role_label
        chat = {"id": user_id, "type": "private", "first_name": first_name}
        self._chats[user_id] = chat | {k: v for k, v in user.items() if k in ("last_name", "username")}
        self._notify()
        return dict(user)

    def add_group(
        self,
        chat_id: int,
        title: str,
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
        username: str | None = None,
    ) -> JSON:
        """Register a group (ids below -10**12 are supergroups); ``admins`` may include the bot."""
        if chat_id >= 0:
            raise DoubleError("group ids are negative")
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        self._chats[chat_id] = {"id": chat_id, "type": kind, "title": title} | (
            {"username": username} if username else {}
        )
        self._admins[chat_id] = set(admins)
        self._members[chat_id] = set(members) | self._admins[chat_id] - {self.bot_id}
        self._notify()
        return dict(self._chats[chat_id])

    def set_blocked(self, user_id: int, blocked: bool = True) -> None:
        """A user who blocked the bot: sends to them answer 403 like Telegram."""
        (self._blocked.add if blocked else self._blocked.discard)(user_id)

    def _user(self, user_id: int) -> JSON:
        if user_id not in self._users:
            raise DoubleError(f"unknown user {user_id}; add_user first")
        return self._users[user_id]

    def _user_message(
        self, chat_id: int, user_id: int, content: JSON, reply_to: int | None = None
    ) -> JSON:
        user = self._user(user_id)
        if chat_id not in self._chats:
            raise DoubleError(f"unknown chat {chat_id}")
        if chat_id > 0 and chat_id != user_id:
            raise DoubleError(f"user {user_id} cannot write in the private chat of {chat_id}")
        if chat_id < 0 and user_id not in self._members.get(chat_id, set()):
            raise DoubleError(f"user {user_id} is not a member of chat {chat_id}")
        if reply_to is not None:
            target = self._history.get(chat_id, {}).get(reply_to)
            if target is None or target.deleted:
                raise DoubleError(f"no message {reply_to} in chat {chat_id} to reply to")
            content = {"reply_to_message": self._without_reply(target.message), **content}
        message = self._store(chat_id, user, content)
        if self._bot_receives(chat_id, message):
            self._enqueue("message", message)
        return copy.deepcopy(message)

    def send_text(
        self, chat_id: int, user_id: int, text: str, reply_to_message_id: int | None = None
    ) -> JSON:
        """A user writes ``text``; a leading /command gets its bot_command entity like Telegram."""
        content: JSON = {"text": text}
        if command := _COMMAND_RE.match(text):
            length = utf16_len(command.group(0))
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message = self._user_message(chat_id, user_id, content, reply_to_message_id)
        if (self._keyboards.get(chat_id) or {}).get("one_time_keyboard"):
            self._keyboards[chat_id] = None
        return message

    def send_photo(
        self, chat_id: int, user_id: int, caption: str | None = None, reply_to_message_id: int | None = None
    ) -> JSON:
        """A user sends a (fake, but downloadable) photo."""
        record = self._new_file("photo", b"\xff\xd8\xff\xe0fake-jpeg", "photo.jpg", "image/jpeg")
        content: JSON = {"photo": self._photo_sizes(record)} | ({"caption": caption} if caption else {})
        return self._user_message(chat_id, user_id, content, reply_to_message_id)

    def send_location(
        self,
        chat_id: int,
        user_id: int,
        latitude: float,
        longitude: float,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        location = {"latitude": float(latitude), "longitude": float(longitude)}
        return self._user_message(chat_id, user_id, {"location": location}, reply_to_message_id)

    def send_sticker(self, chat_id: int, user_id: int, emoji: str = "👍") -> JSON:
        record = self._new_file("sticker", b"RIFFfake-webp", "sticker.webp", "image/webp")
        sticker = {**self._file_view(record), "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False, "emoji": emoji}  # fmt: skip
        return self._user_message(chat_id, user_id, {"sticker": sticker})

    def send_contact(
        self, chat_id: int, user_id: int, phone_number: str, first_name: str | None = None
    ) -> JSON:
        """A user shares a contact (their own by default, as a request_contact button does)."""
        contact: JSON = {"phone_number": phone_number, "first_name": first_name}
        if first_name is None:  # their own, as a request_contact button sends it
            contact |= {"first_name": self._user(user_id)["first_name"], "user_id": user_id}
        return self._user_message(chat_id, user_id, {"contact": contact})

    def press(self, chat_id: int, message_id: int, user_id: int, data: str, *, force: bool = False) -> str:
        """A user presses an inline button; returns the callback query id.

        The message must be a bot message in that chat with a button carrying exactly ``data``;
        ``force=True`` sends forged data (and tolerates a missing message), as a hostile client could.
        """
        user = self._user(user_id)
        stored = self._history.get(chat_id, {}).get(message_id)
        if stored is None or stored.deleted:
            if not force:
                raise DoubleError(f"no message {message_id} in chat {chat_id}")
            message: JSON = {"chat": dict(self._chats.get(chat_id, {"id": chat_id, "type": "private"})),
                             "message_id": message_id, "date": 0}  # fmt: skip
        else:
            if not force and data not in [d for _, d in _callback_datas(stored.message)]:
                raise DoubleError(f"message {message_id} has no button with callback_data {data!r}")
            message = copy.deepcopy(stored.message)
        query_id = str(4_000_000_000_000_000 + next(self._ids))
        self._queries[query_id] = _Query(user_id=user_id, chat_id=chat_id)
        query = {"id": query_id, "from": user, "message": message,
                 "chat_instance": str(abs(hash((chat_id, self.bot_id)))), "data": data}  # fmt: skip
        self._enqueue("callback_query", query)
        return query_id

    def press_button(
        self, chat_id: int, user_id: int, text_contains: str, message_id: int | None = None
    ) -> str:
        """Press the button whose label contains ``text_contains`` on the newest bot message having one."""
        for message in reversed(self.bot_messages(chat_id)):
            if message_id is not None and message["message_id"] != message_id:
                continue
            for label, data in _callback_datas(message):
                if text_contains in label:
                    return self.press(chat_id, message["message_id"], user_id, data)
        raise DoubleError(f"no button containing {text_contains!r} in chat {chat_id}\n{self.dump()}")

    def messages(self, chat_id: int) -> list[JSON]:
        """The chat's history as it stands (edits applied, deletions gone), oldest first."""
        return [copy.deepcopy(s.message) for s in self._history.get(chat_id, {}).values() if not s.deleted]

    def bot_messages(self, chat_id: int) -> list[JSON]:
        return [m for m in self.messages(chat_id) if m["from"]["id"] == self.bot_id]

    def last_bot_message(self, chat_id: int) -> JSON | None:
        found = self.bot_messages(chat_id)
        return found[-1] if found else None

    def inject_fault(
        self, method: str | None, kind: str, count: int = 1, retry_after: int = 1, delay: float = 0
    ) -> None:
        """Make the next ``count`` calls of ``method`` (None: any but getUpdates) fail as ``kind``."""
        if kind not in FAULT_KINDS:
            raise DoubleError(f"fault kind must be one of {FAULT_KINDS}")
        self._faults.append(_Fault(method, kind, int(count), int(retry_after), float(delay)))

    def clear_faults(self) -> None:
        self._faults.clear()

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

    def state(self, since: int = 0) -> JSON:
        """Everything the chat page needs; ``messages`` holds only changes with seq > since."""
        changed = [
            {"seq": s.seq, "chat_id": chat_id, "message_id": mid, "deleted": s.deleted,
             "from_bot": s.message["from"]["id"] == self.bot_id, "message": s.message}
            for chat_id, history in self._history.items()
            for mid, s in history.items()
            if s.seq > since
        ]  # fmt: skip
        return {
            "seq": self._seq,
            "bot": self.bot_user,
            "users": [u | {"role_label": self._roles.get(uid, "")} for uid, u in self._users.items()],
            "chats": [
                c | {"members": sorted(self._members.get(cid, {cid}))} for cid, c in self._chats.items()
            ],
            "keyboards": {str(k): v for k, v in self._keyboards.items() if v},
            "messages": sorted(changed, key=lambda m: m["seq"]),
            "callback_answers": [a for a in self.callback_answers if a["seq"] > since],
        }

    def dump(self, last: int = 12) -> str:
        """A readable picture of the double's state for failing assertions."""
        lines = [f"pending updates: {len(self._updates)}; faults: {self._faults}"]
        for chat_id, history in self._history.items():
            lines.append(f"chat {chat_id} ({self._chats[chat_id].get('title') or 'private'}):")
            for s in list(history.values())[-last:]:
                m = s.message
                body = m.get("text") or m.get("caption") or next(
                    (k for k in ("photo", "location", "sticker", "document", "contact") if k in m), "?"
                )
                buttons = [label for label, _ in _callback_datas(m)]
                flag = " [deleted]" if s.deleted else ""
                sender = m["from"].get("first_name")
                lines.append(f"  #{m['message_id']} {sender}: {body!r} {buttons or ''}{flag}")
        lines.append("last requests: " + ", ".join(method for _, method, _ in self.requests[-last:]))
        lines += [f"error answer: {method}: {text}" for _, method, text in self.error_responses[-last:]]
        return "\n".join(lines)

    # ------------------------------------------------------------------ control & page routes

    async def _handle_state(self, request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
        except ValueError:
            since = 0
        return web.json_response(self.state(since), dumps=_dumps)

    async def _handle_control(self, request: web.Request) -> web.Response:
        actions: dict[str, Callable[..., Any]] = {
            "users": self.add_user, "groups": self.add_group, "send": self.send_text,
            "press": self.press, "press_button": self.press_button, "location": self.send_location,
            "photo": self.send_photo, "sticker": self.send_sticker, "contact": self.send_contact,
            "fault": self.inject_fault, "clear_faults": self.clear_faults, "block": self.set_blocked,
        }  # fmt: skip
        action = actions.get(request.match_info["action"])
        if action is None:
            return web.json_response({"ok": False, "error": "unknown control action"}, status=404)
        try:
            body = await request.json() if request.can_read_body else {}
            result = action(**body)
        except (DoubleError, TypeError, ValueError, KeyError) as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        path = request.match_info["path"]
        record = next((f for f in self._files.values() if f["file_path"] == path), None)
        if record is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=record["data"], content_type=record["mime_type"])

    async def _handle_page(self, request: web.Request) -> web.Response:
        page = (_STATIC / "chat.html").read_text(encoding="utf-8")
        return web.Response(text=page, content_type="text/html", charset="utf-8")


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
