"""What the chat page sends besides text, through the double's control API: photos and albums from disk (kept
byte for byte), the sample pictures and voice note (real files a browser shows and plays), voice notes recorded in
the browser, and places. Everything stored must reach the bot as Telegram delivers it: in updates, and by getFile
and the file URL."""

from __future__ import annotations

import base64
import io
import struct
import wave
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.double import BotApiDouble
from bot.double.samples import sample_picture, sample_voice
from tests.test_double import ALICE, BOB, DEPT, _started, bot_only, raw_call

PICTURE = sample_picture(7, 64, 48)  # any real PNG


@pytest.fixture
async def double() -> AsyncIterator[BotApiDouble]:
    started = await _started(BotApiDouble())
    yield started
    await started.stop()


async def control(double: BotApiDouble, action: str, **body: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession(double.url) as http, http.post(f"/_control/{action}", json=body) as r:
        answer = await r.json()
        return r.status, answer["result"] if r.status == 200 else answer["error"]


async def page_file(double: BotApiDouble, file_id: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession(double.url) as http, http.get(f"/_control/file/{file_id}") as r:
        return r.status, r.content_type, await r.read()


async def bot_download(double: BotApiDouble, file_id: str) -> bytes:
    """As the bot gets a file: getFile, then the file URL with its token."""
    async with bot_only(double) as app:
        return bytes(await (await app.bot.get_file(file_id)).download_as_bytearray())


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR", data[:16]
    return struct.unpack(">II", data[16:24])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_a_photo_from_disk_is_stored_byte_for_byte_and_the_bot_can_download_it(double: BotApiDouble) -> None:
    me = {"chat_id": ALICE, "user_id": ALICE}
    status, sent = await control(double, "upload_photo", **me, data="data:image/png;base64," + b64(PICTURE),
                                 file_name="路灯.png", width=2560, height=1920, caption="路灯坏了")
    assert status == 200, sent
    assert sent["caption"] == "路灯坏了"
    assert [(p["width"], p["height"]) for p in sent["photo"]] == [(90, 67), (1280, 960)]  # Telegram's sizes
    for size in sent["photo"]:
        assert await bot_download(double, size["file_id"]) == PICTURE
        assert await page_file(double, size["file_id"]) == (200, "image/png", PICTURE)
    _, updates = await raw_call(double, "getUpdates")
    assert [u["message"]["photo"] for u in updates["result"]] == [sent["photo"]]
    # plain base64 with the type named apart, in reply to a message; a small picture is not enlarged
    hello = double.send_text(ALICE, ALICE, "你好")
    status, reply = await control(double, "upload_photo", **me, data=b64(PICTURE), mime_type="image/png",
                                  width=64, height=48, reply_to_message_id=hello["message_id"])
    assert status == 200 and reply["reply_to_message"]["text"] == "你好"
    assert [(p["width"], p["height"]) for p in reply["photo"]] == [(64, 48), (64, 48)]


async def test_the_sample_photo_is_a_real_picture(double: BotApiDouble) -> None:
    status, sent = await control(double, "upload_photo", chat_id=ALICE, user_id=ALICE)
    assert status == 200 and "caption" not in sent
    data = await bot_download(double, sent["photo"][-1]["file_id"])
    assert png_size(data) == (sent["photo"][-1]["width"], sent["photo"][-1]["height"]) == (320, 240)
    chunks, at = {}, 8
    while at < len(data):  # every chunk is whole and its CRC right: a browser will decode it
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length:at + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind], at = body, at + 12 + length
    assert len(zlib.decompress(chunks[b"IDAT"])) == 240 * (1 + 320 * 3)


async def test_an_album_from_disk_is_one_message_a_picture_sharing_a_media_group(double: BotApiDouble) -> None:
    pictures = [sample_picture(n, 40 + n, 30) for n in (1, 2, 3)]
    photos = [{"data": b64(p), "mime_type": "image/png", "file_name": f"{n}.png", "width": 40 + n, "height": 30}
              for n, p in zip((1, 2, 3), pictures, strict=True)]
    status, sent = await control(double, "upload_album", chat_id=ALICE, user_id=ALICE, photos=photos, caption="三张")
    assert status == 200, sent
    assert len({m["media_group_id"] for m in sent}) == 1 and len(sent) == 3
    assert [m.get("caption") for m in sent] == ["三张", None, None]
    assert [await bot_download(double, m["photo"][-1]["file_id"]) for m in sent] == pictures
    _, updates = await raw_call(double, "getUpdates")
    assert [u["message"]["message_id"] for u in updates["result"]] == [m["message_id"] for m in sent]  # one each


async def test_the_sample_album_has_distinct_real_pictures(double: BotApiDouble) -> None:
    status, sent = await control(double, "upload_album", chat_id=DEPT, user_id=BOB, count=4, caption="现场")
    assert status == 200, sent
    files = [await bot_download(double, m["photo"][-1]["file_id"]) for m in sent]
    assert len(set(files)) == 4 and all(png_size(f) == (320, 240) for f in files)
    assert sent[0]["caption"] == "现场" and sent[0]["chat"]["id"] == DEPT


@pytest.mark.parametrize("body, error", [
    ({"count": 1}, "2 to 10"),
    ({"count": 11}, "2 to 10"),
    ({"photos": [{"data": b64(PICTURE)}, {"data": "not base64!"}]}, "base64"),
])
async def test_albums_hold_two_to_ten_pictures(double: BotApiDouble, body: dict, error: str) -> None:
    status, answer = await control(double, "upload_album", chat_id=ALICE, user_id=ALICE, **body)
    assert status == 400 and error in answer
    assert double.messages(ALICE) == []  # nothing half sent


@pytest.mark.parametrize("body, error", [
    ({"data": b64(b"%PDF-1.4"), "mime_type": "application/pdf"}, "must be a picture"),
    ({"data": "data:text/plain;base64," + b64(b"hi")}, "must be a picture"),
    ({"data": "***"}, "base64"),
    ({"data": ""}, "base64"),
])
async def test_a_photo_must_be_a_picture(double: BotApiDouble, body: dict, error: str) -> None:
    status, answer = await control(double, "upload_photo", chat_id=ALICE, user_id=ALICE, **body)
    assert status == 400 and error in answer, answer


async def test_the_sample_voice_note_is_a_playable_recording_of_the_asked_length(double: BotApiDouble) -> None:
    status, sent = await control(double, "upload_voice", chat_id=ALICE, user_id=ALICE, seconds=2)
    assert status == 200, sent
    assert sent["voice"]["duration"] == 2 and sent["voice"]["mime_type"] == "audio/wav"
    data = await bot_download(double, sent["voice"]["file_id"])
    assert sent["voice"]["file_size"] == len(data)
    with wave.open(io.BytesIO(data)) as recording:
        assert recording.getnframes() / recording.getframerate() == 2
        frames = recording.readframes(recording.getnframes())
    assert max(abs(v) for v in struct.unpack(f"<{len(frames) // 2}h", frames)) > 1000  # not silence
    assert await page_file(double, sent["voice"]["file_id"]) == (200, "audio/wav", data)
    status, answer = await control(double, "upload_voice", chat_id=ALICE, user_id=ALICE, seconds=0)
    assert status == 400 and "1 to 60" in answer


async def test_a_voice_note_recorded_in_the_browser_keeps_its_bytes_and_duration(double: BotApiDouble) -> None:
    recording = b"\x1aE\xdf\xa3 webm opus frames"
    status, sent = await control(double, "upload_voice", chat_id=ALICE, user_id=ALICE, duration=2.6,
                                 data="data:audio/webm;codecs=opus;base64," + b64(recording))
    assert status == 200, sent
    assert sent["voice"]["duration"] == 3 and sent["voice"]["mime_type"] == "audio/webm"
    assert await bot_download(double, sent["voice"]["file_id"]) == recording
    status, answer = await control(double, "upload_voice", chat_id=ALICE, user_id=ALICE,
                                   data="data:image/png;base64," + b64(PICTURE))
    assert status == 400 and "must be audio" in answer
    assert sample_voice(1) != sample_voice(2)


async def test_a_place_is_a_venue_with_its_location(double: BotApiDouble) -> None:
    status, sent = await control(double, "venue", chat_id=ALICE, user_id=ALICE, latitude=35.9962, longitude=119.4088,
                                 title="东关菜市场", address="东关大街 12 号")
    assert status == 200, sent
    assert sent["venue"] == {"location": {"latitude": 35.9962, "longitude": 119.4088}, "title": "东关菜市场",
                             "address": "东关大街 12 号"}
    assert sent["location"] == sent["venue"]["location"]  # as Telegram delivers a venue


async def test_unknown_files_are_404_for_the_page(double: BotApiDouble) -> None:
    status, _, _ = await page_file(double, "photo-0-nothing")
    assert status == 404
