"""Telegram's rules shared by the double's methods: chats, texts and their entities, keyboards, replies,
edits, files (a mixin of BotApiDouble)."""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from bot.double.markup import (
    JSON,
    ApiError,
    _bad,
    _check_inline_keyboard,
    _Stored,
    parse_html,
    utf16_len,
)
from bot.double.spec import UploadedFile, missing_param_message


class TelegramRules:
    """What every sending or editing method checks and stores, as Telegram does."""

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
        stored.message["edit_date"] = int(self.clock())
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

    def _photo_sizes(self, record: JSON, width: int = 1280, height: int = 960) -> list[JSON]:
        """Telegram's sizes of a photo: a thumbnail (90 px on the long side) and the photo, at most 1280."""
        def fit(side: int) -> tuple[int, int]:
            scale = min(1.0, side / max(width, height))
            return max(1, int(width * scale)), max(1, int(height * scale))

        small = {**self._file_view(record), **dict(zip(("width", "height"), fit(90), strict=True))}
        small["file_id"], small["file_unique_id"] = record["file_id"] + "-s", record["file_unique_id"] + "s"
        self._files.setdefault(small["file_id"], {**record, **small})
        return [small, {**self._file_view(record), **dict(zip(("width", "height"), fit(1280), strict=True))}]
