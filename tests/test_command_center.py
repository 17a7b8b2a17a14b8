"""The command center's tools through the real bot: /t on any ticket, 无效工单 (the reporter told why), 并单 (the
duplicate's reporter follows the other ticket), 改派 with a reason, and /open and /overdue by department and
township, paged — a department head seeing only their own department."""

from __future__ import annotations

from sqlmodel import select

from bot import texts
from storage.models import CoReporter, Event, Ticket, Timer
from tests.helpers import (
    CENTER,
    DISPATCHER,
    ILLEGAL_BUILDING,
    NEIGHBOUR,
    RESIDENT,
    ZFJ,
    ZFJ_HEAD,
    ZFJ_STAFF,
    ZJJ_STAFF,
    advance,
    event_kinds,
    row_counts,
    ticket_by_number,
)

UNCLEAR = "你好，我想反映一个情况，麻烦你们管一管"
STREETLIGHT = "小区门口的路灯坏了一个星期，晚上黑灯瞎火"  # T-LD: 住建 (zjj)
ZJJ = -100102


def labels(message: dict) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


async def test_the_dispatcher_sees_any_ticket_with_the_tools_the_rules_allow(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.say(DISPATCHER, f"/t {number}")
    view = bot.last(DISPATCHER)
    assert number in view["text"] and ILLEGAL_BUILDING in view["text"]
    assert labels(view) == [texts.BTN_INVALID, texts.BTN_MERGE, texts.BTN_REASSIGN]
    await bot.say(NEIGHBOUR, f"/t {number}")
    assert bot.last(NEIGHBOUR)["text"] == texts.T_NOT_FOUND.format(number=number), "someone else's: not shown"
    await bot.say(ZFJ_STAFF, f"/t {number}", chat_id=ZFJ)
    assert number in bot.last(ZFJ)["text"] and not labels(bot.last(ZFJ)), "the department sees its own, no tools"


async def test_a_ticket_waiting_for_dispatch_can_be_dispatched_from_its_view(bot):
    """/t is the way back to a ticket whose card scrolled out of reach: 派单 works from it too."""
    await bot.say(RESIDENT, UNCLEAR)
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    number = bot.find(RESIDENT, "工单号：")["text"].split("工单号：")[1].split()[0]
    await bot.say(DISPATCHER, f"/t {number}")
    assert labels(bot.last(DISPATCHER)) == [texts.BTN_BROWSE, texts.BTN_INVALID, texts.BTN_MERGE]
    await bot.press(DISPATCHER, DISPATCHER, "按类别选择")
    await bot.press(DISPATCHER, DISPATCHER, "城乡建设")
    await bot.press(DISPATCHER, DISPATCHER, "违法建设")
    assert (await ticket_by_number(bot, number)).state == "dispatched"


async def test_spam_is_closed_as_invalid_from_the_dispatch_card_and_the_reporter_told_why(bot):
    await bot.say(RESIDENT, UNCLEAR)
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    number = bot.find(RESIDENT, "工单号：")["text"].split("工单号：")[1].split()[0]
    card = bot.find(CENTER, f"待分派 {number}")
    await bot.press(CENTER, DISPATCHER, texts.BTN_INVALID, message_id=card["message_id"])
    prompt = bot.last(CENTER)
    await bot.say(DISPATCHER, " ", chat_id=CENTER, reply_to=prompt["message_id"])
    assert bot.last(CENTER)["text"] == texts.INVALID_REASON_EMPTY, "a reason is required"
    assert (await ticket_by_number(bot, number)).state == "received"
    await bot.say(DISPATCHER, "测试消息，非诉求", chat_id=CENTER, reply_to=prompt["message_id"])
    assert (await ticket_by_number(bot, number)).state == "invalid"
    assert bot.last(RESIDENT)["text"] == texts.N_INVALID.format(number=number, reason="测试消息，非诉求")
    card = bot.find(CENTER, f"待分派 {number}")
    assert "已标记为无效工单" in card["text"] and not labels(card)
    async with bot.svc.db.read() as s:
        live = (await s.exec(select(Timer).where(Timer.subject_id == (await ticket_by_number(bot, number)).id,
                                                 Timer.cancelled == False, Timer.fired_at == None))).all()  # noqa: E711,E712
    assert not live, "its clocks stop"


async def test_an_accepted_ticket_closed_as_invalid_takes_the_department_card_with_it(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.press(ZFJ, ZFJ_STAFF, "签收")
    await bot.say(DISPATCHER, f"/t {number}")
    await bot.press(DISPATCHER, DISPATCHER, texts.BTN_INVALID)
    await bot.say(DISPATCHER, "重复恶意举报", reply_to=bot.last(DISPATCHER)["message_id"])
    card = bot.find(ZFJ, f"【工单 {number}")
    assert texts.CARD_ENDED["invalid"] in card["text"] and not labels(card)
    await advance(bot, days=10)
    assert not any("催办" in t and number in t for t in bot.texts(ZFJ)), "no reminders for an ended ticket"


async def test_a_duplicate_is_merged_and_its_reporter_follows_the_other_ticket(bot):
    first = await bot.submit(RESIDENT, STREETLIGHT)
    await bot.say(NEIGHBOUR, "我们小区门口路灯不亮一个星期了，晚上太黑")
    await bot.press(NEIGHBOUR, NEIGHBOUR, texts.BTN_NEW)  # the bot offered to join; the neighbour filed anyway
    second = bot.find(NEIGHBOUR, "工单号：")["text"].split("工单号：")[1].split()[0]
    await bot.say(DISPATCHER, f"/t {second}")
    await bot.press(DISPATCHER, DISPATCHER, texts.BTN_MERGE)
    prompt = bot.last(DISPATCHER)
    before = await row_counts(bot.svc.db, Ticket, CoReporter)
    for wrong, reply in ((second, texts.MERGE_SELF), ("20990101-0001", texts.MERGE_TARGET_UNKNOWN.format(
            number="20990101-0001"))):
        await bot.say(DISPATCHER, wrong, reply_to=prompt["message_id"])
        assert bot.last(DISPATCHER)["text"] == reply
    assert await row_counts(bot.svc.db, Ticket, CoReporter) == before
    await bot.say(DISPATCHER, first, reply_to=prompt["message_id"])
    assert (await ticket_by_number(bot, second)).state == "merged"
    assert bot.last(NEIGHBOUR)["text"] == texts.N_MERGED.format(number=second, into=first)
    assert "absorbed" in await event_kinds(bot, first)
    await bot.press(ZJJ, ZJJ_STAFF, "签收", message_id=bot.find(ZJJ, f"【工单 {first}")["message_id"])
    assert f"工单 {first} 已由【住房和城乡建设局】签收" in bot.last(NEIGHBOUR)["text"], "now follows the first"
    assert texts.CARD_ENDED["merged"] in bot.find(ZJJ, f"【工单 {second}")["text"]


async def test_merging_into_a_settled_ticket_is_refused(bot):
    first = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.say(DISPATCHER, f"/t {first}")
    await bot.press(DISPATCHER, DISPATCHER, texts.BTN_INVALID)
    await bot.say(DISPATCHER, "无效", reply_to=bot.last(DISPATCHER)["message_id"])
    second = await bot.submit(NEIGHBOUR, STREETLIGHT)
    await bot.say(DISPATCHER, f"/t {second}")
    await bot.press(DISPATCHER, DISPATCHER, texts.BTN_MERGE)
    await bot.say(DISPATCHER, first, reply_to=bot.last(DISPATCHER)["message_id"])
    assert bot.last(DISPATCHER)["text"] == texts.MERGE_TARGET_CLOSED.format(number=first, state=texts.STATE["invalid"])
    assert (await ticket_by_number(bot, second)).state == "dispatched"


async def test_an_accepted_ticket_is_reassigned_with_a_reason_the_new_lead_sees(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.press(ZFJ, ZFJ_STAFF, "签收")
    await bot.say(DISPATCHER, f"/t {number}")
    view = bot.last(DISPATCHER)
    await bot.press(DISPATCHER, DISPATCHER, texts.BTN_REASSIGN, message_id=view["message_id"])
    assert bot.last(DISPATCHER)["text"].startswith(f"改派工单 {number}")
    await bot.press(DISPATCHER, DISPATCHER, "城乡建设", message_id=view["message_id"])
    await bot.press(DISPATCHER, DISPATCHER, "路灯", message_id=view["message_id"])
    await bot.say(DISPATCHER, "实为路灯损坏，属住建", reply_to=bot.last(DISPATCHER)["message_id"])
    ticket = await ticket_by_number(bot, number)
    assert ticket.state == "dispatched" and ticket.matter_code == "T-LD"
    card = bot.find(ZJJ, f"【工单 {number}")
    assert "改派原因：实为路灯损坏，属住建" in card["text"] and "签收" in labels(card)
    assert texts.CARD_WITHDRAWN in bot.find(ZFJ, f"【工单 {number}")["text"]
    assert bot.last(RESIDENT)["text"] == texts.N_REASSIGNED.format(number=number, lead="住房和城乡建设局")
    async with bot.svc.db.read() as s:
        event = (await s.exec(select(Event).where(Event.ticket_id == ticket.id, Event.kind == "reassigned"))).one()
    assert event.note == "实为路灯损坏，属住建" and event.data["matter"] == "T-LD" and event.data["from_department"]


async def test_open_and_overdue_lists_by_department_paged(bot):
    numbers = [await bot.submit(RESIDENT, f"{ILLEGAL_BUILDING}（第{i}处）") for i in range(10)]
    await bot.submit(NEIGHBOUR, STREETLIGHT)
    await bot.say(DISPATCHER, "/open")
    summary = bot.last(DISPATCHER)
    assert summary["text"] == texts.LIST_SUMMARY.format(title="未办结工单", n=11)
    await bot.press(DISPATCHER, DISPATCHER, "按部门", message_id=summary["message_id"])
    assert labels(bot.last(DISPATCHER))[:2] == ["综合行政执法局（10）", "住房和城乡建设局（1）"]
    await bot.press(DISPATCHER, DISPATCHER, "综合行政执法局（10）", message_id=summary["message_id"])
    page = bot.last(DISPATCHER)
    assert "第 1/2 页，共 10 件" in page["text"] and numbers[0] in page["text"] and numbers[9] not in page["text"]
    await bot.press(DISPATCHER, DISPATCHER, texts.BTN_NEXT, message_id=summary["message_id"])
    assert numbers[9] in bot.last(DISPATCHER)["text"] and "待签收" in bot.last(DISPATCHER)["text"]
    await bot.say(DISPATCHER, "/overdue")
    assert bot.last(DISPATCHER)["text"] == texts.LIST_EMPTY.format(title="超时工单")
    await advance(bot, hours=3)  # past the 2 h 签收 limit of 违法建设
    await bot.say(DISPATCHER, "/overdue")
    await bot.press(DISPATCHER, DISPATCHER, "按镇街")
    assert labels(bot.last(DISPATCHER))[0].startswith("龙都街道（")
    await bot.press(DISPATCHER, DISPATCHER, labels(bot.last(DISPATCHER))[0])
    assert texts.LIST_LATE in bot.last(DISPATCHER)["text"]


async def test_a_department_head_sees_their_own_departments_list_and_a_resident_is_refused(bot):
    mine = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    theirs = await bot.submit(NEIGHBOUR, STREETLIGHT)
    await bot.say(ZFJ_HEAD, "/open")
    page = bot.last(ZFJ_HEAD)
    assert mine in page["text"] and theirs not in page["text"] and "综合行政执法局" in page["text"]
    assert texts.BTN_UNITS not in labels(page), "no way to the other departments"
    await bot.say(ZFJ_STAFF, "/open")
    assert bot.last(ZFJ_STAFF)["text"] == texts.COMMAND_ONLY
    await bot.say(RESIDENT, "/overdue")
    assert bot.last(RESIDENT)["text"] == texts.COMMAND_ONLY


async def test_help_in_a_group_is_the_help_of_that_group(sqlite_bot):
    bot = sqlite_bot
    await bot.say(DISPATCHER, "/help", chat_id=CENTER)
    assert bot.last(CENTER)["text"] == texts.HELP["command_group"]
    await bot.say(ZFJ_STAFF, "/help", chat_id=ZFJ)
    assert bot.last(ZFJ)["text"] == texts.HELP["group"]


async def test_merging_two_tickets_of_the_same_resident_tells_them_so(sqlite_bot):
    bot = sqlite_bot
    first = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    second = await bot.submit(RESIDENT, "院子里又有人私搭乱建，加盖了棚子")
    await bot.say(DISPATCHER, f"/t {second}")
    await bot.press(DISPATCHER, DISPATCHER, texts.BTN_MERGE)
    await bot.say(DISPATCHER, first, reply_to=bot.last(DISPATCHER)["message_id"])
    assert bot.last(RESIDENT)["text"] == texts.N_MERGED_OWN.format(number=second, into=first), "not 已有人反映过"
