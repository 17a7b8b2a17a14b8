"""The walking skeleton end to end: resident → ticket → department card → 签收 / 进展 / 办结 → resident,
through the real PTB Application and the Bot API double, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import func, select

from storage.models import Assignment, Ticket
from tests.helpers import (
    CENTER,
    DISPATCHER,
    ILLEGAL_BUILDING,
    NEIGHBOUR,
    RESIDENT,
    TOWNSHIP,
    ZFJ,
    ZFJ_STAFF,
    ZJJ,
    ZJJ_STAFF,
    event_kinds,
    ticket_by_number,
)


async def test_a_request_travels_from_resident_to_department_and_back(bot):
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    understood = bot.last(RESIDENT)
    assert "违法建设" in understood["text"] and "综合行政执法局" in understood["text"]
    assert "提交" in str(understood["reply_markup"])

    await bot.press(RESIDENT, RESIDENT, "提交")
    number = bot.find(RESIDENT, "工单号：")["text"].split("工单号：")[1].split()[0]
    assert number.startswith("20261126-")

    card = bot.last(ZFJ)
    assert number in card["text"] and "违法建设" in card["text"] and "龙都街道·第一网格" in card["text"]
    assert ILLEGAL_BUILDING in card["text"]
    assert "王秀兰" not in card["text"] and "13800000001" not in card["text"]  # no resident identity on cards
    labels = str(card["reply_markup"])
    assert "签收" in labels and "退回" in labels
    assert "协办" in bot.last(ZJJ)["text"] and number in bot.last(TOWNSHIP)["text"]  # cooperating departments
    assert any("已派至【综合行政执法局】" in t for t in bot.texts(RESIDENT))

    await bot.press(ZFJ, ZFJ_STAFF, "签收", message_id=card["message_id"])
    assert "已由【综合行政执法局】签收" in bot.last(RESIDENT)["text"]
    card = next(m for m in bot.double.bot_messages(ZFJ) if m["message_id"] == card["message_id"])
    assert "已签收" in card["text"] and "办结" in str(card["reply_markup"]) and "签收\"" not in str(card["reply_markup"])

    await bot.say(ZFJ_STAFF, "已安排执法队员明天上午到现场核查", chat_id=ZFJ, reply_to=card["message_id"])
    assert "明天上午到现场核查" not in bot.last(RESIDENT)["text"]  # nothing reaches the resident unasked
    assert "转告群众" in str(bot.last(ZFJ)["reply_markup"])
    await bot.press(ZFJ, ZFJ_STAFF, "转告群众")
    assert "明天上午到现场核查" in bot.last(RESIDENT)["text"]

    await bot.press(ZFJ, ZFJ_STAFF, "报到", message_id=card["message_id"])  # an on-site matter: arrive first
    await bot.locate(ZFJ_STAFF, 35.99, 119.41, chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    await bot.press(ZFJ, ZFJ_STAFF, "办结", message_id=card["message_id"])
    prompt = bot.last(ZFJ)
    assert "办理结果" in prompt["text"]
    params = next(p for _, method, p in reversed(bot.double.requests)
                  if method == "sendMessage" and "办理结果" in p["text"])
    assert params["reply_markup"]["force_reply"] is True  # so it works with group privacy mode on
    await bot.say(ZFJ_STAFF, "违建棚子已于今日拆除，现场已恢复原状", chat_id=ZFJ, reply_to=prompt["message_id"])
    resolved = bot.last(RESIDENT)["text"]
    assert "已办结" in resolved and "违建棚子已于今日拆除" in resolved

    ticket = await ticket_by_number(bot, number)
    assert ticket.state == "resolved" and ticket.result.startswith("违建棚子")
    assert await event_kinds(bot, number) == ["submitted", "dispatched", "accepted", "note", "arrived", "resolved"]
    card = next(m for m in bot.double.bot_messages(ZFJ) if m["message_id"] == card["message_id"])
    assert "已办结" in card["text"] and not card.get("reply_markup", {}).get("inline_keyboard")


async def test_a_return_reaches_the_command_center_with_its_reason_and_the_dispatcher_decides(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    card = bot.last(ZFJ)
    await bot.press(ZFJ, ZFJ_STAFF, "退回", message_id=card["message_id"])
    prompt = bot.last(ZFJ)
    await bot.say(ZFJ_STAFF, "该棚子为住建审批的临时工棚，不属于违法建设", chat_id=ZFJ, reply_to=prompt["message_id"])

    center = bot.last(CENTER)
    assert number in center["text"] and "不属于违法建设" in center["text"] and "综合行政执法局" in center["text"]
    assert "维持原派单" in str(center["reply_markup"])
    assert (await ticket_by_number(bot, number)).state == "returned"
    # nothing went silently to another office
    assert not any(number in t for t in bot.texts(-100103))

    await bot.press(CENTER, DISPATCHER, "按类别选择")  # the dispatcher re-routes it
    await bot.press(CENTER, DISPATCHER, "城乡建设")
    await bot.press(CENTER, DISPATCHER, "路灯损坏")
    ticket = await ticket_by_number(bot, number)
    assert ticket.state == "dispatched" and ticket.matter_code == "T-LD"
    assert number in bot.last(ZJJ)["text"] and "签收" in str(bot.last(ZJJ)["reply_markup"])
    old = next(m for m in bot.double.bot_messages(ZFJ) if m["message_id"] == card["message_id"])
    assert not old.get("reply_markup", {}).get("inline_keyboard"), "the old card must lose its buttons"
    assert await event_kinds(bot, number) == ["submitted", "dispatched", "returned", "rerouted"]


async def test_a_stranger_pressing_a_departments_button_changes_nothing(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    card = bot.last(ZFJ)
    before = await event_kinds(bot, number)
    for stranger in (ZJJ_STAFF, RESIDENT, DISPATCHER):
        await bot.press(ZFJ, stranger, "签收", message_id=card["message_id"])
        assert "不是本部门工作人员" in bot.double.callback_answers[-1]["text"]
    assert (await ticket_by_number(bot, number)).state == "dispatched"
    assert await event_kinds(bot, number) == before
    async with bot.svc.db.session() as s:
        accepted = await s.exec(select(func.count()).select_from(Assignment).where(Assignment.state != "pending"))
        assert accepted.one() == 0


async def test_my_and_t_show_the_residents_own_tickets_only(bot):
    mine = [await bot.submit(RESIDENT, ILLEGAL_BUILDING), await bot.submit(RESIDENT, "小区门口的路灯坏了一个星期，晚上黑灯瞎火")]
    theirs = await bot.submit(NEIGHBOUR, "公司拖欠我三个月工资不给，老板跑了")
    await bot.say(RESIDENT, "/my")
    listing = bot.last(RESIDENT)["text"]
    assert all(n in listing for n in mine) and theirs not in listing
    await bot.say(RESIDENT, f"/t {mine[1]}")
    view = bot.last(RESIDENT)["text"]
    assert mine[1] in view and "路灯损坏" in view and "派单" in view and "住房和城乡建设局" in view
    await bot.say(RESIDENT, f"/t {theirs}")
    assert "没有找到工单" in bot.last(RESIDENT)["text"] and "拖欠" not in bot.last(RESIDENT)["text"]


async def test_an_unclear_request_goes_to_a_dispatcher_who_picks_the_matter(bot):
    await bot.say(RESIDENT, "你好，我想反映一个情况，麻烦你们管一管")
    assert "还不能确定" in bot.last(RESIDENT)["text"]
    await bot.press(RESIDENT, RESIDENT, "提交")
    assert "人工分派" in bot.find(RESIDENT, "工单号")["text"]
    center = bot.last(CENTER)
    assert "待分派" in center["text"] and "识别把握不足" in center["text"]
    await bot.press(CENTER, ZFJ_STAFF, "按类别选择")  # not a dispatcher: refused
    assert "只有调度员" in bot.double.callback_answers[-1]["text"]
    await bot.press(CENTER, DISPATCHER, "按类别选择")
    await bot.press(CENTER, DISPATCHER, "城乡建设")
    await bot.press(CENTER, DISPATCHER, "违法建设")
    assert "已分派" in bot.last(CENTER)["text"]
    card = bot.last(ZFJ)
    assert "你好，我想反映一个情况" in card["text"] and "签收" in str(card["reply_markup"])


async def test_an_emergency_tells_the_resident_to_call_and_alerts_the_command_center(bot):
    await bot.say(RESIDENT, "楼道里着火了，好多烟，冒烟冒得厉害")
    assert any("119" in t for t in bot.texts(RESIDENT))
    await bot.press(RESIDENT, RESIDENT, "提交")
    assert any("紧急预警" in t for t in bot.texts(CENTER))
    # the fire brigade has no group chat in this county, so the ticket waits for a dispatcher, not lost
    assert any("尚未绑定工作群" in t and "待分派" in t for t in bot.texts(CENTER)), bot.double.dump()


async def test_the_ticket_number_arrives_even_when_telegram_refuses_the_in_place_edit(sqlite_bot):
    bot = sqlite_bot
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    bot.double.inject_fault("editMessageText", "429", retry_after=1)
    await bot.press(RESIDENT, RESIDENT, "提交")
    confirmation = bot.find(RESIDENT, "工单号：")
    assert "reply_markup" not in confirmation or not confirmation["reply_markup"].get("inline_keyboard")
    async with bot.svc.db.session() as s:
        assert len((await s.exec(select(Ticket))).all()) == 1
