"""The double's Telegram rules that are pure functions: errors, limits, HTML entities, inline keyboards."""

from __future__ import annotations

import html
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

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


