"""What users send besides text, as Telegram delivers it: photos, albums, voice notes, videos, documents —
as fakes for tests (`send_*`), or real bytes and real samples for the chat page (`upload_*`). A mixin of
BotApiDouble."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from aiohttp import web

from bot.double.markup import JSON, DoubleError
from bot.double.samples import sample_picture, sample_voice

PHOTO_LIMIT = 10 * 1024 * 1024  # Telegram takes photos up to 10 MB
ALBUM_SIZES = range(2, 11)  # an album holds 2 to 10 items
_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(?:;[\w=.+-]+)*;base64,")


def decode_upload(data: Any) -> tuple[bytes, str | None]:
    """The bytes of an upload sent as base64 (or a data: URL, which also names the type) or as bytes."""
    if isinstance(data, bytes | bytearray):
        return bytes(data), None
    if not isinstance(data, str) or not data:
        raise DoubleError("data must be the file's bytes in base64")
    mime = None
    if match := _DATA_URL.match(data):
        mime, data = match.group(1), data[match.end():]
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise DoubleError("data is not valid base64") from None
    if not raw:
        raise DoubleError("the file is empty")
    return raw, mime


class UserMedia:
    """Photos, albums, voice notes, videos and documents from users; the page's downloads."""

    # ------------------------------------------------------------------ fakes, for tests

    def send_photo(
        self, chat_id: int, user_id: int, caption: str | None = None, reply_to_message_id: int | None = None
    ) -> JSON:
        """A user sends a (fake, but downloadable) photo."""
        record = self._new_file("photo", b"\xff\xd8\xff\xe0fake-jpeg", "photo.jpg", "image/jpeg")
        return self._photo_message(chat_id, user_id, record, caption, reply_to_message_id)

    def send_album(self, chat_id: int, user_id: int, count: int = 3, caption: str | None = None,
                   reply_to_message_id: int | None = None) -> list[JSON]:
        """A user sends several photos at once: one message each, sharing a media_group_id (the caption on the
        first), delivered as separate updates like Telegram does (each replying to the same message, if any)."""
        records = [self._new_file("photo", b"\xff\xd8\xff\xe0album-%d" % i, f"photo{i}.jpg", "image/jpeg")
                   for i in range(count)]
        return self._album(chat_id, user_id, [(r, None) for r in records], caption, reply_to_message_id)

    def send_voice(self, chat_id: int, user_id: int, seconds: int = 8, size: int = 24_000) -> JSON:
        """A user sends a voice note (an OGG/Opus recording, as Telegram's clients do)."""
        record = self._new_file("voice", b"OggS" + b"\x00" * max(0, size - 4), "voice.ogg", "audio/ogg")
        return self._voice_message(chat_id, user_id, record, seconds)

    def send_video(self, chat_id: int, user_id: int, seconds: int = 10, size: int = 300_000) -> JSON:
        record = self._new_file("video", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * max(0, size - 12), "video.mp4",
                                "video/mp4")
        video = self._file_view(record, "mime_type") | {"duration": int(seconds), "width": 640, "height": 480}
        return self._user_message(chat_id, user_id, {"video": video})

    def send_document(self, chat_id: int, user_id: int, name: str = "材料.pdf", size: int = 50_000,
                      mime: str = "application/pdf") -> JSON:
        """A user sends a file; `size` as Telegram reports it (the data itself is not kept when it is large)."""
        record = self._new_file("document", b"%PDF-1.4" if size < 1_000_000 else b"%PDF-1.4 (large)", name, mime)
        record["file_size"] = int(size)
        document = self._file_view(record, "file_name", "mime_type")
        return self._user_message(chat_id, user_id, {"document": document})

    # ------------------------------------------------------------------ real bytes, for the chat page

    def upload_photo(
        self, chat_id: int, user_id: int, data: Any = None, mime_type: str = "image/jpeg",
        file_name: str = "photo.jpg", width: int | None = None, height: int | None = None,
        caption: str | None = None, reply_to_message_id: int | None = None,
    ) -> JSON:
        """A user sends a picture from disk (``data``: base64 or a data: URL, kept byte for byte); without
        ``data``, the sample picture (a real PNG)."""
        record, size = self._picture(data, mime_type, file_name, width, height, number=1)
        return self._photo_message(chat_id, user_id, record, caption, reply_to_message_id, size)

    def upload_album(
        self, chat_id: int, user_id: int, photos: list[JSON] | None = None, count: int = 3,
        caption: str | None = None, reply_to_message_id: int | None = None,
    ) -> list[JSON]:
        """2-10 pictures at once (``photos``: dicts of upload_photo's data, mime_type, file_name, width, height);
        without ``photos``, ``count`` numbered sample pictures. The caption goes on the first."""
        items = photos if photos is not None else [{"number": i + 1} for i in range(int(count))]
        if not isinstance(items, list) or len(items) not in ALBUM_SIZES:
            raise DoubleError(f"an album holds {ALBUM_SIZES.start} to {ALBUM_SIZES.stop - 1} pictures")
        pictures = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise DoubleError("photos must be objects with data, mime_type, file_name, width, height")
            pictures.append(self._picture(item.get("data"), item.get("mime_type", "image/jpeg"),
                                          item.get("file_name", f"photo{i + 1}.jpg"), item.get("width"),
                                          item.get("height"), number=item.get("number", i + 1)))
        return self._album(chat_id, user_id, pictures, caption, reply_to_message_id)

    def upload_voice(
        self, chat_id: int, user_id: int, data: Any = None, mime_type: str = "audio/ogg",
        duration: float | None = None, seconds: int = 3, reply_to_message_id: int | None = None,
    ) -> JSON:
        """A voice note recorded in the browser (``data``: base64 or a data: URL; ``duration`` in seconds);
        without ``data``, a sample recording of ``seconds`` (a real, playable WAV)."""
        if data is None:
            record = self._new_file("voice", sample_voice(int(seconds)), "voice.wav", "audio/wav")
            duration = int(seconds)
        else:
            raw, named = decode_upload(data)
            mime = (named or mime_type or "audio/ogg").split(";")[0]
            if not mime.startswith("audio/"):
                raise DoubleError(f"a voice note must be audio, not {mime}")
            record = self._new_file("voice", raw, "voice." + mime.split("/")[1], mime)
        return self._voice_message(chat_id, user_id, record, max(1, round(float(duration or 1))),
                                   reply_to_message_id)

    # ------------------------------------------------------------------ shared

    def _picture(self, data: Any, mime_type: str, file_name: str, width: Any, height: Any,
                 number: int) -> tuple[JSON, tuple[int, int] | None]:
        """A stored photo file and its size in pixels (None: unknown)."""
        if data is None:
            return self._new_file("photo", sample_picture(int(number)), f"sample{number}.png", "image/png"), (320, 240)
        raw, named = decode_upload(data)
        mime = (named or mime_type or "").split(";")[0].strip()
        if not mime.startswith("image/"):
            raise DoubleError(f"a photo must be a picture, not {mime or 'an unknown type'}")
        if len(raw) > PHOTO_LIMIT:
            raise DoubleError("photo is too big: Telegram takes photos up to 10 MB")
        size = (int(width), int(height)) if width and height and int(width) > 0 and int(height) > 0 else None
        return self._new_file("photo", raw, str(file_name or "photo"), mime), size

    def _photo_message(self, chat_id: int, user_id: int, record: JSON, caption: str | None,
                       reply_to: int | None, size: tuple[int, int] | None = None) -> JSON:
        content: JSON = {"photo": self._photo_sizes(record, *(size or ()))} | ({"caption": caption} if caption else {})
        return self._user_message(chat_id, user_id, content, reply_to)

    def _album(self, chat_id: int, user_id: int, pictures: list[tuple[JSON, tuple[int, int] | None]],
               caption: str | None, reply_to: int | None = None) -> list[JSON]:
        group = str(next(self._ids))
        sent = []
        for i, (record, size) in enumerate(pictures):
            content: JSON = {"photo": self._photo_sizes(record, *(size or ())), "media_group_id": group}
            if caption and i == 0:
                content["caption"] = caption
            sent.append(self._user_message(chat_id, user_id, content, reply_to))
        return sent

    def _voice_message(self, chat_id: int, user_id: int, record: JSON, seconds: int,
                       reply_to: int | None = None) -> JSON:
        voice = self._file_view(record, "mime_type") | {"duration": int(seconds)}
        return self._user_message(chat_id, user_id, {"voice": voice}, reply_to)

    def file_bytes(self, file_id: str) -> bytes:
        """What the bot uploaded (or a user sent) under `file_id`: a chart, a workbook (KeyError if unknown)."""
        return self._files[file_id]["data"]

    async def _handle_page_file(self, request: web.Request) -> web.Response:
        """`GET /_control/file/<file_id>`: a file's bytes for the chat page (which has no token, and whose
        looking must not show up as the bot's getFile calls)."""
        record = self._files.get(request.match_info["file_id"])
        if record is None:
            return web.json_response({"ok": False, "error": "unknown file_id"}, status=404)
        return web.Response(body=record["data"], content_type=record["mime_type"],
                            headers={"Cache-Control": "private, max-age=86400"})
