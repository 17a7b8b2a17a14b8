"""Cards and the conversations around them, as the people in the chats see them: evidence travels with the
card, every card shows the ticket's current state and only the buttons allowed now, nothing internal reaches
the resident, and the dispatcher can ask the resident a question."""

from __future__ import annotations

from sqlmodel import select

from bot import texts
from storage.models import Event, Ticket
from tests.helpers import (
    CENTER,
    DISPATCHER,
    ILLEGAL_BUILDING,
    RESIDENT,
    TOWNSHIP,
    ZFJ,
    ZFJ_STAFF,
    ZJJ,
    advance,
    current,
    event_kinds,
    ticket_by_number,
)


def live_buttons(message: dict) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


async def test_the_residents_photos_and_place_reach_the_department_with_the_card(bot):
    bot.double.send_photo(RESIDENT, RESIDENT)
    bot.double.send_location(RESIDENT, RESIDENT, 35.9958, 119.4101)
    await bot.settle()
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    messages = bot.double.bot_messages(ZFJ)
    card_at = next(i for i, m in enumerate(messages) if number in (m.get("text") or ""))
    before = messages[:card_at]
    assert any("photo" in m for m in before), "the photo comes right before the card"
    assert any(m.get("location", {}).get("latitude") == 35.9958 for m in before), "and the place, to navigate"
    assert "附照片 1 张" in messages[card_at]["text"]


async def test_an_unclear_request_shows_the_dispatcher_its_photo(bot):
    bot.double.send_photo(RESIDENT, RESIDENT, caption="你好，这个情况麻烦你们管一管")
    await bot.settle()
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    assert any("photo" in m for m in bot.double.bot_messages(CENTER))
    assert "待分派" in bot.last(CENTER)["text"]


async def test_after_a_reroute_the_old_card_is_dead_and_the_return_is_not_suggested_again(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    old = bot.last(ZFJ)
    await bot.press(ZFJ, ZFJ_STAFF, "退回", message_id=old["message_id"])
    await bot.say(ZFJ_STAFF, "临时工棚，归住建管", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    dispatch_card = bot.last(CENTER)
    assert "违法建设" not in live_buttons(dispatch_card), "the matter just returned is not suggested again"
    assert texts.BTN_UPHOLD in live_buttons(dispatch_card)
    await bot.press(CENTER, DISPATCHER, "按类别选择")
    await bot.press(CENTER, DISPATCHER, "城乡建设")
    await bot.press(CENTER, DISPATCHER, "路灯损坏")
    old = current(bot, ZFJ, old["message_id"])
    assert not live_buttons(old) and "已失效" in old["text"]
    settled = current(bot, CENTER, dispatch_card["message_id"])
    assert not live_buttons(settled) and "已分派" in settled["text"]
    assert (await ticket_by_number(bot, number)).matter_code == "T-LD"


async def test_an_upheld_return_closes_the_dispatch_card_and_the_resident_is_told_why(bot):
    await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.press(ZFJ, ZFJ_STAFF, "退回")
    await bot.say(ZFJ_STAFF, "不属于我局职责", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    dispatch_card = bot.last(CENTER)
    await bot.press(CENTER, DISPATCHER, "维持原派单")
    await bot.say(DISPATCHER, "依清单第12项由综合执法局主办", chat_id=CENTER, reply_to=bot.last(CENTER)["message_id"])
    closed = current(bot, CENTER, dispatch_card["message_id"])
    assert not live_buttons(closed) and "已维持原派单" in closed["text"]
    assert "经指挥中心核定，仍由【综合行政执法局】负责办理" in bot.last(RESIDENT)["text"]
    new_card = bot.last(ZFJ)
    assert "调度员意见：依清单第12项" in new_card["text"] and "签收" in live_buttons(new_card)


async def test_a_reply_to_the_card_kept_internal_never_reaches_the_resident(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    card = bot.last(ZFJ)
    await bot.press(ZFJ, ZFJ_STAFF, "签收", message_id=card["message_id"])
    seen = len(bot.texts(RESIDENT))
    await bot.say(ZFJ_STAFF, "申请延期的理由：需等规划局认定", chat_id=ZFJ, reply_to=card["message_id"])
    assert live_buttons(bot.last(ZFJ)) == [texts.BTN_RELAY, texts.BTN_INTERNAL]
    await bot.press(ZFJ, 2101, "仅内部备注")  # someone else cannot decide for the author
    assert "只有写这条回复的人" in bot.double.callback_answers[-1]["text"]
    await bot.press(ZFJ, ZFJ_STAFF, "仅内部备注")
    assert len(bot.texts(RESIDENT)) == seen, "nothing internal is relayed"
    assert "internal_note" in await event_kinds(bot, number)
    await bot.say(RESIDENT, f"/t {number}")
    assert "需等规划局认定" not in bot.last(RESIDENT)["text"]


async def test_an_on_site_matter_is_resolved_only_after_arrival_or_a_recorded_reason(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.press(ZFJ, ZFJ_STAFF, "签收")
    await bot.press(ZFJ, ZFJ_STAFF, "办结")
    question = bot.last(ZFJ)
    assert "须到场处置" in question["text"]
    await bot.say(ZFJ_STAFF, "当事人已自行拆除，已电话和照片核实", chat_id=ZFJ, reply_to=question["message_id"])
    assert "未到场原因已记录" in bot.last(ZFJ)["text"]
    await bot.press(ZFJ, ZFJ_STAFF, "办结")
    await bot.say(ZFJ_STAFF, "已拆除", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    assert (await ticket_by_number(bot, number)).state == "resolved"
    async with bot.svc.db.read() as s:
        waived = (await s.exec(select(Event.note).where(Event.kind == "arrival_waived"))).one()
    assert "电话和照片核实" in waived


async def test_the_dispatcher_asks_the_resident_and_the_answer_comes_back_to_the_card(bot):
    await bot.say(RESIDENT, "你好，我想反映一个情况，麻烦你们管一管")
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    card = bot.last(CENTER)
    await bot.say(DISPATCHER, "请问具体是什么问题、在哪个位置？", chat_id=CENTER, reply_to=card["message_id"])
    question = bot.last(RESIDENT)
    assert "请问具体是什么问题" in question["text"]
    await bot.say(RESIDENT, "东关路口的路灯坏了三天", reply_to=question["message_id"])
    assert "已转给指挥中心" in bot.last(RESIDENT)["text"]
    assert "群众答复：东关路口的路灯坏了三天" in current(bot, CENTER, card["message_id"])["text"]
    assert any("东关路口的路灯坏了三天" in t and "答复" in t for t in bot.texts(CENTER))
    async with bot.svc.db.read() as s:
        assert len((await s.exec(select(Ticket))).all()) == 1, "the answer is not a new request"
    await bot.press(CENTER, DISPATCHER, "按类别选择", message_id=card["message_id"])
    await bot.press(CENTER, DISPATCHER, "城乡建设")
    await bot.press(CENTER, DISPATCHER, "路灯损坏")
    lead_card = bot.find(ZJJ, "【工单")["text"]  # the department gets what the resident told the dispatcher
    assert "调度员询问：请问具体是什么问题" in lead_card and "群众答复：东关路口的路灯坏了三天" in lead_card


async def test_a_plain_answer_to_the_only_open_question_reaches_the_dispatcher_and_can_become_a_request(bot):
    """Not every resident uses Telegram's reply: a plain message answers their one open question, and one press
    makes it a new request instead (nothing is lost either way)."""
    await bot.say(RESIDENT, "你好，我想反映一个情况，麻烦你们管一管")
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    card = bot.last(CENTER)
    await bot.say(DISPATCHER, "请问具体是什么问题、在哪个位置？", chat_id=CENTER, reply_to=card["message_id"])
    await bot.say(RESIDENT, "东关路口的路灯坏了三天")  # typed, not a reply
    assert "群众答复：东关路口的路灯坏了三天" in current(bot, CENTER, card["message_id"])["text"]
    assert any("已转给指挥中心" in t for t in bot.texts(RESIDENT)[-2:])
    offer = bot.last(RESIDENT)
    assert texts.ANSWER_TAKEN_PLAIN in offer["text"] and "提交" not in offer["text"]
    async with bot.svc.db.read() as s:
        assert len((await s.exec(select(Ticket))).all()) == 1, "the answer is not a new request"
    await bot.press(RESIDENT, RESIDENT, "作为新诉求")
    draft = bot.last(RESIDENT)
    assert "东关路口的路灯坏了三天" in draft["text"] and "提交" in str(draft["reply_markup"])
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    async with bot.svc.db.read() as s:
        assert len((await s.exec(select(Ticket))).all()) == 2
    await bot.say(RESIDENT, "楼下的垃圾桶满了没人清理")  # the question is answered: plain text is a request again
    assert "提交" in str(bot.last(RESIDENT)["reply_markup"])


async def test_with_two_open_questions_a_plain_message_in_private_is_a_new_request(bot):
    cards = []
    for text in ("你好，我想反映一个情况，麻烦你们管一管", "你好，还有一个情况想反映一下"):
        await bot.say(RESIDENT, text)
        await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
        cards.append(bot.last(CENTER))
    for card in cards:
        await bot.say(DISPATCHER, "请问在哪个位置？", chat_id=CENTER, reply_to=card["message_id"])
    await bot.say(RESIDENT, "小区门口的路灯坏了一个星期")
    assert "提交" in str(bot.last(RESIDENT)["reply_markup"]), "ambiguous: a request, not a guess at an answer"
    assert not any("群众答复" in t for t in bot.texts(CENTER))


async def test_a_reopened_ticket_gets_a_new_card_labelled_as_the_residents_feedback(bot):
    await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.press(ZFJ, ZFJ_STAFF, "签收")
    await bot.press(ZFJ, ZFJ_STAFF, "报到")
    await bot.locate(ZFJ_STAFF, 35.99, 119.41, chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    await bot.press(ZFJ, ZFJ_STAFF, "办结")
    await bot.say(ZFJ_STAFF, "已拆除", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    coop_card = next(m for m in reversed(bot.double.bot_messages(ZJJ)) if "工单" in m["text"])
    await advance(bot, days=1)
    await bot.press(RESIDENT, RESIDENT, "未解决")
    await bot.press(RESIDENT, RESIDENT, "不满意")
    reopened = bot.last(ZFJ)
    assert "群众反馈：" in reopened["text"] and "调度员意见" not in reopened["text"]
    assert "上次办理结果：已拆除" in reopened["text"], "the new round knows what the first one did"
    coop = current(bot, ZJJ, coop_card["message_id"])
    assert "重办" in coop["text"] and "已办结" not in coop["text"], "cooperating copies follow the new round"
    assert "办结" in coop["text"]  # the new resolve deadline is shown


async def test_each_role_gets_its_own_help_and_command_menu(bot):
    await bot.say(RESIDENT, "/help")
    assert "直接用一句话告诉我" in bot.last(RESIDENT)["text"]
    await bot.say(DISPATCHER, "/help")
    assert "调度员" in bot.last(DISPATCHER)["text"] and "派单" in bot.last(DISPATCHER)["text"]
    await bot.say(ZFJ_STAFF, "/help")
    assert "部门工作人员" in bot.last(ZFJ_STAFF)["text"]
    await bot.say(4001, "/help")
    assert "/invite" in bot.last(4001)["text"]
    menus = {key: [c["command"] for c in commands] for key, commands in bot.double.commands.items()}
    admin = next(v for k, v in menus.items() if '"chat_id": 4001' in k[0])
    assert "invite" in admin
    resident_menu = next(v for k, v in menus.items() if "all_private_chats" in k[0])
    assert "invite" not in resident_menu and "my" in resident_menu
    await bot.say(ZFJ_STAFF, "/help", chat_id=ZFJ)
    assert "部门工作群" in bot.last(ZFJ)["text"]


async def test_the_township_copy_is_a_card_too(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    township = bot.last(TOWNSHIP)
    assert number in township["text"] and "协办" in township["text"]
    assert texts.CARD_BUTTON_COOP["accept"] in live_buttons(township), "协办签收, not the lead's 签收"
    assert "签收 " not in township["text"].split("时限")[-1], "no accept limit of its own (the lead's goes stale)"
