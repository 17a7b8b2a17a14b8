"""Playing users against the double: in-process calls for tests, the control API and the chat page
(a mixin of BotApiDouble)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.double.markup import (
    _COMMAND_RE,
    FAULT_KINDS,
    JSON,
    ApiError,
    DoubleError,
    _callback_datas,
    _dumps,
    _Fault,
    _Query,
    utf16_len,
)

_STATIC = Path(__file__).with_name("static")


class People:
    """Users, groups and what they do; what the page and tests read back."""

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

    def send_venue(
        self, chat_id: int, user_id: int, latitude: float, longitude: float, title: str, address: str = "",
        reply_to_message_id: int | None = None,
    ) -> JSON:
        """A user sends a named place (Telegram's clients: 📎 → 位置 → a place from the list)."""
        location = {"latitude": float(latitude), "longitude": float(longitude)}
        venue = {"location": location, "title": str(title), "address": str(address)}
        return self._user_message(chat_id, user_id, {"venue": venue, "location": location}, reply_to_message_id)

    def edit_text(self, chat_id: int, user_id: int, message_id: int, text: str) -> JSON:
        """A user edits a text they sent; the bot gets an edited_message update, as from Telegram."""
        stored = self._history.get(chat_id, {}).get(message_id)
        if stored is None or stored.deleted or stored.message["from"]["id"] != user_id or "text" not in stored.message:
            raise DoubleError(f"user {user_id} has no text message {message_id} in chat {chat_id} to edit")
        stored.message["text"] = text
        stored.message["edit_date"] = int(self.clock())
        self._touch(stored)
        if self._bot_receives(chat_id, stored.message):
            self._enqueue("edited_message", stored.message)
        return copy.deepcopy(stored.message)

    def forward_text(self, chat_id: int, user_id: int, text: str, origin_name: str = "某居民") -> JSON:
        """A user forwards someone else's text message to the chat."""
        origin = {"type": "hidden_user", "sender_user_name": origin_name, "date": int(self.clock()) - 3600}
        return self._user_message(chat_id, user_id, {"text": text, "forward_origin": origin})

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


    def inject_fault(
        self, method: str | None, kind: str, count: int = 1, retry_after: int = 1, delay: float = 0
    ) -> None:
        """Make the next ``count`` calls of ``method`` (None: any but getUpdates) fail as ``kind``."""
        if kind not in FAULT_KINDS:
            raise DoubleError(f"fault kind must be one of {FAULT_KINDS}")
        self._faults.append(_Fault(method, kind, int(count), int(retry_after), float(delay)))

    def clear_faults(self) -> None:
        self._faults.clear()


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
            "clock": {"now": self.clock(), "zone": self.zone, "controls": sorted(self.controls)},
        }

    def dump(self, last: int = 12) -> str:
        """A readable picture of the double's state for failing assertions."""
        lines = [f"pending updates: {len(self._updates)}; faults: {self._faults}"]
        for chat_id, history in self._history.items():
            lines.append(f"chat {chat_id} ({self._chats[chat_id].get('title') or 'private'}):")
            for s in list(history.values())[-last:]:
                m = s.message
                body = m.get("text") or m.get("caption") or next(
                    (k for k in ("photo", "voice", "video", "venue", "location", "sticker", "document", "contact")
                     if k in m), "?"
                )
                buttons = [label for label, _ in _callback_datas(m)]
                flag = " [deleted]" if s.deleted else ""
                sender = m["from"].get("first_name")
                lines.append(f"  #{m['message_id']} {sender}: {body!r} {buttons or ''}{flag}")
        lines.append("last requests: " + ", ".join(method for _, method, _ in list(self.requests)[-last:]))
        lines += [f"error answer: {method}: {text}" for _, method, text in list(self.error_responses)[-last:]]
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
            "venue": self.send_venue,
            "photo": self.send_photo, "sticker": self.send_sticker, "contact": self.send_contact,
            "album": self.send_album, "voice": self.send_voice, "video": self.send_video,
            "document": self.send_document, "upload_photo": self.upload_photo, "upload_album": self.upload_album,
            "upload_voice": self.upload_voice,
            "fault": self.inject_fault, "clear_faults": self.clear_faults, "block": self.set_blocked,
        }  # fmt: skip
        action = self.controls.get(request.match_info["action"]) or actions.get(request.match_info["action"])
        if action is None:
            return web.json_response({"ok": False, "error": "unknown control action"}, status=404)
        try:
            body = await request.json() if request.can_read_body else {}
            result = action(**body)
            if asyncio.iscoroutine(result):
                result = await result
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
