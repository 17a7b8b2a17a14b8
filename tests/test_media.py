"""What residents send besides words, through the real bot and the Bot API double: photos and albums travel with
the ticket to the department, a voice note reaches the dispatcher with its recording, 办结 carries 处置后照片
(required where the catalogue says so), the county keeps its own copies, and what the bot cannot take gets a
clear reply and changes nothing."""

from __future__ import annotations

from sqlmodel import col, select

from bot import texts
from bot.media import Archiver
from storage.models import Attachment, Draft, PendingInput, Ticket
from tests.helpers import (
    CENTER,
    DISPATCHER,
    ILLEGAL_BUILDING,
    RESIDENT,
    ZFJ,
    ZFJ_STAFF,
    count,
    row_counts,
    ticket_by_number,
)

GARBAGE = "小区门口垃圾堆积好几天了，垃圾没人清运，味道很大"  # T-LJ: 办结 needs a photo


def photos_in(bot, chat_id: int) -> list[dict]:
    return [m for m in bot.double.bot_messages(chat_id) if m.get("photo")]


async def submitted_number(bot) -> str:
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    return bot.find(RESIDENT, "工单号：")["text"].split("工单号：")[1].split()[0]


async def test_an_album_of_three_with_a_caption_is_one_request_and_reaches_the_department_as_an_album(bot):
    for message in bot.double.send_album(RESIDENT, RESIDENT, count=3, caption=ILLEGAL_BUILDING):
        assert message["media_group_id"]
    await bot.settle()
    drafts = [m for m in bot.double.bot_messages(RESIDENT) if texts.BTN_SUBMIT in str(m.get("reply_markup"))]
    assert len(drafts) == 1, "three photos, one request"
    assert count(bot, RESIDENT, texts.PHOTO_SAVED) == 0
    number = await submitted_number(bot)
    album = photos_in(bot, ZFJ)
    assert len(album) == 3 and len({m["media_group_id"] for m in album}) == 1, "sent as one album"
    card = bot.find(ZFJ, number)
    assert texts.CARD_PHOTOS.format(n=3).strip() in card["text"]
    assert max(m["message_id"] for m in album) < card["message_id"], "the photos come right before the card"
    ticket = await ticket_by_number(bot, number)
    async with bot.svc.db.read() as s:
        kept = (await s.exec(select(Attachment).where(Attachment.ticket_id == ticket.id))).all()
    assert len(kept) == 3 and all(a.kind == "photo" and a.purpose == "request" for a in kept)


async def test_a_photo_without_words_is_asked_about_once_and_joins_the_next_text(bot):
    bot.double.send_photo(RESIDENT, RESIDENT)
    await bot.settle()
    assert bot.last(RESIDENT)["text"] == texts.PHOTO_SAVED
    assert "请简单描述一下问题" in texts.PHOTO_SAVED
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    number = await submitted_number(bot)
    assert len(photos_in(bot, ZFJ)) == 1
    assert texts.CARD_PHOTOS.format(n=1).strip() in bot.find(ZFJ, f"【工单 {number}")["text"]


async def test_an_album_without_a_caption_gets_one_question_not_three(bot):
    bot.double.send_album(RESIDENT, RESIDENT, count=3)
    await bot.settle()
    assert count(bot, RESIDENT, texts.PHOTO_SAVED) == 1
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    number = await submitted_number(bot)
    assert len(photos_in(bot, ZFJ)) == 3
    assert texts.CARD_PHOTOS.format(n=3).strip() in bot.find(ZFJ, f"【工单 {number}")["text"]


async def test_a_voice_message_reaches_the_dispatcher_with_its_recording_and_is_routed_with_buttons(bot):
    bot.double.send_voice(RESIDENT, RESIDENT, seconds=23)
    await bot.settle()
    reply = bot.last(RESIDENT)["text"]
    assert reply.startswith("已收到您的语音，工单号：") and "前听取" in reply
    number = reply.split("工单号：")[1].split()[0]
    voices = [m for m in bot.double.bot_messages(CENTER) if m.get("voice")]
    assert len(voices) == 1, "the dispatcher hears the recording"
    card = bot.find(CENTER, f"待分派 {number}")
    assert "语音 23 秒" in card["text"] and "附语音" in card["text"] and "需人工听取" in card["text"]
    assert card["message_id"] > voices[0]["message_id"]
    await bot.press(CENTER, DISPATCHER, texts.BTN_BROWSE, message_id=card["message_id"])
    await bot.press(CENTER, DISPATCHER, "城乡建设", message_id=card["message_id"])
    await bot.press(CENTER, DISPATCHER, "违法建设", message_id=card["message_id"])
    ticket = await ticket_by_number(bot, number)
    assert ticket.matter_code == "T-WJ" and ticket.state == "dispatched"
    assert [m for m in bot.double.bot_messages(ZFJ) if m.get("voice")], "the department hears it too"
    assert "工单 " + number in bot.last(RESIDENT)["text"] and "综合行政执法局" in bot.last(RESIDENT)["text"]


async def test_a_voice_message_waiting_too_long_is_chased_like_any_stage(bot):
    bot.double.send_voice(RESIDENT, RESIDENT)
    await bot.settle()
    number = bot.last(RESIDENT)["text"].split("工单号：")[1].split()[0]
    from tests.helpers import advance

    await advance(bot, hours=3)
    assert count(bot, CENTER, f"【督办】待分派工单 {number}") == 1


async def resolve_prompt(bot, number: str) -> dict:
    card = bot.find(ZFJ, number)
    await bot.press(ZFJ, ZFJ_STAFF, "签收", message_id=card["message_id"])
    await bot.press(ZFJ, ZFJ_STAFF, "办结", message_id=card["message_id"])
    return bot.last(ZFJ)


async def test_resolving_a_matter_that_needs_a_photo_without_one_is_refused_then_done_with_one(bot):
    number = await bot.submit(RESIDENT, GARBAGE)
    assert (await ticket_by_number(bot, number)).matter_code == "T-LJ"
    prompt = await resolve_prompt(bot, number)
    assert "须附处置后照片" in prompt["text"], "the question says a photo is needed"
    await bot.say(ZFJ_STAFF, "已清运完毕", chat_id=ZFJ, reply_to=prompt["message_id"])
    assert bot.last(ZFJ)["text"] == texts.RESULT_PHOTO_REQUIRED
    assert (await ticket_by_number(bot, number)).state == "accepted", "refused: nothing changed"
    await bot.photo(ZFJ_STAFF, "垃圾已全部清运，地面已冲洗", chat_id=ZFJ, reply_to=prompt["message_id"])
    ticket = await ticket_by_number(bot, number)
    assert ticket.state == "resolved" and ticket.result == "垃圾已全部清运，地面已冲洗"
    assert texts.CARD_RESULT_PHOTOS.format(n=1).strip() in bot.find(ZFJ, f"【工单 {number}")["text"]
    told = bot.double.bot_messages(RESIDENT)
    resolved = next(i for i, m in enumerate(told) if "垃圾已全部清运" in (m.get("text") or ""))
    assert told[resolved - 1].get("photo"), "the resident sees the 处置后照片 with the result"
    await bot.say(RESIDENT, f"/t {number}")
    assert bot.last(RESIDENT).get("caption") == texts.T_RESULT_PHOTOS.format(n=1)


async def test_result_photos_sent_before_the_words_are_kept_until_the_result_is_written(bot):
    number = await bot.submit(RESIDENT, GARBAGE)
    prompt = await resolve_prompt(bot, number)
    await bot.photo(ZFJ_STAFF, chat_id=ZFJ, reply_to=prompt["message_id"])
    assert bot.last(ZFJ)["text"] == texts.RESULT_PHOTO_KEPT.format(n=1)
    assert (await ticket_by_number(bot, number)).state == "accepted"
    await bot.say(ZFJ_STAFF, "已清运", chat_id=ZFJ, reply_to=prompt["message_id"])
    ticket = await ticket_by_number(bot, number)
    assert ticket.state == "resolved"
    async with bot.svc.db.read() as s:
        result = (await s.exec(select(Attachment).where(Attachment.ticket_id == ticket.id,
                                                        Attachment.purpose == "result"))).all()
    assert len(result) == 1


async def test_an_album_of_result_photos_all_stay_with_the_result(bot):
    number = await bot.submit(RESIDENT, GARBAGE)
    prompt = await resolve_prompt(bot, number)
    bot.double.send_album(ZFJ, ZFJ_STAFF, count=3, caption="清运完毕", reply_to_message_id=prompt["message_id"])
    await bot.settle()
    ticket = await ticket_by_number(bot, number)
    assert ticket.state == "resolved"
    assert texts.CARD_RESULT_PHOTOS.format(n=3).strip() in bot.find(ZFJ, f"【工单 {number}")["text"]
    assert count(bot, ZFJ, texts.GROUP_PHOTO_HINT) == 0


async def test_a_matter_without_the_requirement_resolves_with_words_alone(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    card = bot.find(ZFJ, number)
    await bot.press(ZFJ, ZFJ_STAFF, "签收", message_id=card["message_id"])
    await bot.press(ZFJ, ZFJ_STAFF, "报到", message_id=card["message_id"])
    await bot.locate(ZFJ_STAFF, 35.9966, 119.4108, chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    await bot.press(ZFJ, ZFJ_STAFF, "办结", message_id=card["message_id"])
    await bot.say(ZFJ_STAFF, "违建已拆除", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    assert (await ticket_by_number(bot, number)).state == "resolved"


async def test_a_photo_in_a_department_group_that_answers_nothing_changes_nothing(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    card = bot.find(ZFJ, f"【工单 {number}")
    before = await row_counts(bot.svc.db, Attachment, Ticket, PendingInput)
    await bot.photo(ZFJ_STAFF, "现场情况", chat_id=ZFJ, reply_to=card["message_id"])
    assert bot.last(ZFJ)["text"] == texts.GROUP_PHOTO_HINT, "a photo sent to the card: how to attach it"
    bot.double.group_privacy = False  # the bot now sees every message of the group (privacy mode off)
    await bot.photo(ZFJ_STAFF, "大家看看这个现场", chat_id=ZFJ)
    assert count(bot, ZFJ, texts.GROUP_PHOTO_HINT) == 1, "photos the staff share among themselves: left alone"
    assert await row_counts(bot.svc.db, Attachment, Ticket, PendingInput) == before
    assert (await ticket_by_number(bot, number)).state == "dispatched"


async def test_what_the_bot_cannot_take_gets_a_clear_reply_and_changes_nothing(bot):
    before = await row_counts(bot.svc.db, Draft, Ticket, Attachment, PendingInput)
    bot.double.send_document(RESIDENT, RESIDENT, name="录像.mp4", size=60 * 2**20, mime="video/mp4")
    await bot.settle()
    assert bot.last(RESIDENT)["text"] == texts.FILE_TOO_BIG.format(mb=60.0, limit=20)
    bot.double.send_document(RESIDENT, RESIDENT)
    await bot.settle()
    assert bot.last(RESIDENT)["text"] == texts.DOCUMENT_REFUSED
    bot.double.send_contact(RESIDENT, RESIDENT, "13800000001")
    await bot.settle()
    assert bot.last(RESIDENT)["text"] == texts.CONTACT_REPLY
    bot.double.send_sticker(RESIDENT, RESIDENT)
    await bot.settle()
    assert bot.last(RESIDENT)["text"] == texts.STICKER_REPLY
    bot.double.send_voice(RESIDENT, RESIDENT, seconds=900, size=25 * 2**20)
    await bot.settle()
    assert bot.last(RESIDENT)["text"] == texts.FILE_TOO_BIG.format(mb=25.0, limit=20)
    await bot.locate(RESIDENT, 0.0, 0.0)
    assert bot.last(RESIDENT)["text"] == texts.LOCATION_INVALID
    assert await row_counts(bot.svc.db, Draft, Ticket, Attachment, PendingInput) == before


async def test_the_county_keeps_its_own_copies_within_the_size_limit(sqlite_bot, tmp_path):
    bot = sqlite_bot
    bot.double.send_album(RESIDENT, RESIDENT, count=2, caption=ILLEGAL_BUILDING)
    await bot.settle()
    await submitted_number(bot)
    bot.double.send_voice(RESIDENT, RESIDENT, seconds=5, size=4000)
    await bot.settle()
    archiver = Archiver(bot.svc.db, bot.app.bot, tmp_path / "media", max_bytes=10**6)
    assert await archiver.run() == 3
    assert await archiver.run() == 0, "copied once"
    async with bot.svc.db.read() as s:
        rows = (await s.exec(select(Attachment).where(col(Attachment.ticket_id).is_not(None))
                             .order_by(col(Attachment.id)))).all()
    for row in rows:
        copy = tmp_path / "media" / row.stored_path
        assert copy.is_file() and copy.stat().st_size == row.file_size > 0
    assert rows[-1].stored_path.endswith(".ogg") and copy.read_bytes().startswith(b"OggS")
    full = Archiver(bot.svc.db, bot.app.bot, tmp_path / "other", max_bytes=1)
    bot.double.send_photo(RESIDENT, RESIDENT, ILLEGAL_BUILDING)
    await bot.settle()
    await submitted_number(bot)
    assert await full.run() == 0, "past the limit nothing more is copied"
