"""The Bot API methods the double models, answered with Telegram's semantics (a mixin of BotApiDouble)."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from contextlib import suppress
from typing import Any

from bot.double.markup import (
    CAPTION_LIMIT,
    JSON,
    TEXT_LIMIT,
    ApiError,
    _bad,
)
from bot.double.spec import UploadedFile, missing_param_message


class BotApiMethods:
    """`_api_<method>` for each modelled method; the state lives in BotApiDouble."""

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

    async def _api_sendMediaGroup(self, params: JSON) -> list[JSON]:
        """An album: 2-10 photos or videos, stored as messages sharing a media_group_id."""
        chat_id = self._target_chat(params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad("wrong number of media in the album: must be 2-10")
        group = str(next(self._ids))
        sent = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "video", "document", "audio"):
                raise _bad("can't parse InputMedia: media type is invalid")
            record = self._input_file(item.get("media"), item["type"])
            content = self._formatted(item, "caption", CAPTION_LIMIT) | {"media_group_id": group}
            content[item["type"]] = (self._photo_sizes(record) if item["type"] == "photo"
                                     else self._file_view(record, "file_name", "mime_type"))
            sent.append(self._bot_message(chat_id, params, content))
        return sent

    async def _api_sendVoice(self, params: JSON) -> JSON:
        chat_id = self._target_chat(params)
        self._require(params, "voice")
        content = self._formatted(params, "caption", CAPTION_LIMIT)
        content["voice"] = self._file_view(self._input_file(params["voice"], "voice"), "mime_type") | {"duration": 3}
        return self._bot_message(chat_id, params, content)

    async def _api_sendVideo(self, params: JSON) -> JSON:
        chat_id = self._target_chat(params)
        self._require(params, "video")
        content = self._formatted(params, "caption", CAPTION_LIMIT)
        content["video"] = self._file_view(self._input_file(params["video"], "video"), "mime_type") | {
            "duration": 5, "width": 640, "height": 480}
        return self._bot_message(chat_id, params, content)

    async def _api_sendVenue(self, params: JSON) -> JSON:
        chat_id = self._target_chat(params)
        self._require(params, "latitude", "longitude", "title", "address")
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        venue = {"location": location, "title": str(params["title"]), "address": str(params["address"])}
        return self._bot_message(chat_id, params, {"venue": venue, "location": location})

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
