"""Bad input gets a clear, polite reply in Chinese and changes nothing."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot import texts
from storage.models import Draft, Event, Outbox, Ticket
from tests.helpers import RESIDENT, ZFJ, ZFJ_STAFF, row_counts


async def counts(bot) -> tuple[int, ...]:
    return await row_counts(bot.svc.db, Ticket, Event, Draft, Outbox)


@pytest.mark.parametrize(("text", "reply"), [
    ("   ", "请用文字描述"),
    ("灯坏", "描述太短"),
    ("啊啊啊啊啊啊啊啊啊", "没看懂"),
    ("你好", "您好！需要反映问题"),
    ("谢谢你们！", "不客气"),
    ("路" * 4000, "描述太长"),
    ("/frobnicate", "没有这个命令"),
    ("/t", "请发送 /t 加工单号"),
    ("/t 99999999-9999", "没有找到工单"),
])
async def test_bad_text_gets_a_polite_reply_and_changes_nothing(sqlite_bot, text, reply):
    bot = sqlite_bot
    before = await counts(bot)
    await bot.say(RESIDENT, text)
    assert reply in bot.last(RESIDENT)["text"]
    assert await counts(bot) == before


async def test_a_sticker_gets_a_polite_reply_and_changes_nothing(sqlite_bot):
    bot = sqlite_bot
    before = await counts(bot)
    bot.double.send_sticker(RESIDENT, RESIDENT)
    await bot.settle()
    assert bot.last(RESIDENT)["text"] == texts.STICKER_REPLY
    assert await counts(bot) == before


@pytest.mark.parametrize(("data", "answer"), [
    ("zzz", "按钮已失效"),
    ("acc:999999", "没有找到这个工单"),
    ("dsp:1:NOPE", "只有调度员"),
    ("ok:1", "已处理过或已过期"),
    ("pick:1:NOPE", "按钮已失效"),
    ("acc:1:" + "x" * 40, "按钮已失效"),
    ("nr:1", "已处理过或已过期"),
])
async def test_forged_button_data_is_refused_and_changes_nothing(sqlite_bot, data, answer):
    bot = sqlite_bot
    await bot.submit(RESIDENT, "我家楼下有人私搭乱建，在院子里加盖了一个大棚子")
    before = await counts(bot)
    bot.double.press(ZFJ, bot.last(ZFJ)["message_id"], 1002, data, force=True)
    await bot.settle()
    assert answer in bot.double.callback_answers[-1]["text"]
    assert await counts(bot) == before


async def test_a_department_cannot_resolve_what_it_has_not_accepted(sqlite_bot):
    bot = sqlite_bot
    await bot.submit(RESIDENT, "我家楼下有人私搭乱建，在院子里加盖了一个大棚子")
    ticket_id = int(bot.last(ZFJ)["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1])
    before = await counts(bot)
    bot.double.press(ZFJ, bot.last(ZFJ)["message_id"], ZFJ_STAFF, f"res:{ticket_id}", force=True)
    await bot.settle()
    assert "不能办结" in bot.double.callback_answers[-1]["text"]
    assert await counts(bot) == before


async def test_an_empty_return_reason_is_asked_again(sqlite_bot):
    bot = sqlite_bot
    number = await bot.submit(RESIDENT, "我家楼下有人私搭乱建，在院子里加盖了一个大棚子")
    await bot.press(ZFJ, ZFJ_STAFF, "退回")
    prompt = bot.last(ZFJ)
    await bot.say(ZFJ_STAFF, "   ", chat_id=ZFJ, reply_to=prompt["message_id"])
    assert "退回理由不能为空" in bot.last(ZFJ)["text"]
    async with bot.svc.db.session() as s:
        assert (await s.exec(select(Ticket.state).where(Ticket.number == number))).one() == "dispatched"


async def test_a_result_that_tells_the_resident_nothing_is_asked_again(sqlite_bot):
    bot = sqlite_bot
    number = await bot.submit(RESIDENT, "我家楼下有人私搭乱建，在院子里加盖了一个大棚子")
    await bot.press(ZFJ, ZFJ_STAFF, "签收")
    await bot.press(ZFJ, ZFJ_STAFF, "报到")
    await bot.locate(ZFJ_STAFF, 35.99, 119.41, chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    await bot.press(ZFJ, ZFJ_STAFF, "办结")
    prompt = bot.last(ZFJ)
    await bot.say(ZFJ_STAFF, "好。", chat_id=ZFJ, reply_to=prompt["message_id"])
    assert bot.last(ZFJ)["text"] == texts.RESULT_TOO_SHORT
    async with bot.svc.db.session() as s:
        assert (await s.exec(select(Ticket.state).where(Ticket.number == number))).one() == "accepted"
    await bot.say(ZFJ_STAFF, "已拆除", chat_id=ZFJ, reply_to=prompt["message_id"])  # the question stayed open
    async with bot.svc.db.session() as s:
        assert (await s.exec(select(Ticket.state).where(Ticket.number == number))).one() == "resolved"
