"""网格呼叫、部门报到 through the real bot: a grid worker calls a department (named as people say it, or found
from the words), the department responds and reports its arrival (inside or outside the radius), the caller
confirms or disputes, a late call climbs the ladder, and every call is rated (一哨一考核)."""

from __future__ import annotations

from sqlmodel import select

from bot import texts
from storage.models import Call, CallRating, Member, Ticket
from tests.helpers import (
    CENTER,
    DISPATCHER,
    GRID_WORKER,
    JTJ_STAFF,
    RESIDENT,
    TOWNSHIP,
    ZFJ,
    ZFJ_STAFF,
    advance,
    count,
    current,
)

MARKET = (35.99580, 119.41010)  # 人民路菜市场门口
NEARBY = (35.99650, 119.41080)  # ~100 m away
FAR = (36.04000, 119.45000)  # ~6 km away


async def call_from(bot, text: str, place=MARKET) -> str:
    """The grid worker shares the place, writes the 呼叫, presses 发送呼叫; returns the call number."""
    if place:
        await bot.locate(GRID_WORKER, *place)
    await bot.say(GRID_WORKER, text)
    await bot.press(GRID_WORKER, GRID_WORKER, texts.BTN_SEND_CALL)
    return bot.find(GRID_WORKER, "呼叫已发出")["text"].split("呼叫已发出：")[1].split()[0]


async def call_row(bot, number: str) -> Call:
    async with bot.svc.db.read() as s:
        return (await s.exec(select(Call).where(Call.number == number))).one()


async def respond_and_arrive(bot, where) -> None:
    await bot.press(ZFJ, ZFJ_STAFF, "响应")
    await bot.say(ZFJ_STAFF, "张三、李四，15分钟后到", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    await bot.press(ZFJ, ZFJ_STAFF, "报到")
    await bot.locate(ZFJ_STAFF, *where, chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])


async def test_a_call_without_a_shared_location_is_placed_at_the_named_place_and_arrival_is_measured(bot):
    number = await call_from(bot, "呼叫城管 金地家园门口占道经营", place=None)  # the gazetteer has its point
    row = await call_row(bot, number)
    assert (row.latitude, row.longitude) == (35.9921, 119.4052)
    await respond_and_arrive(bot, FAR)
    row = await call_row(bot, number)
    assert row.arrival_distance_m is not None and row.arrival_distance_m > 5000


async def test_a_call_names_the_department_as_people_say_it_and_reaches_its_group(bot):
    await bot.locate(GRID_WORKER, *MARKET)
    await bot.say(GRID_WORKER, "呼叫城管 人民路菜市场门口占道经营")
    draft = bot.last(GRID_WORKER)
    assert "被呼叫部门：综合行政执法局" in draft["text"] and "位置" in draft["text"]
    assert texts.BTN_SEND_CALL in str(draft["reply_markup"])
    await bot.press(GRID_WORKER, GRID_WORKER, texts.BTN_SEND_CALL)
    card = bot.last(ZFJ)
    assert card["text"].startswith("📣【呼叫 H20261126-") and "人民路菜市场门口占道经营" in card["text"]
    assert [b["text"] for b in card["reply_markup"]["inline_keyboard"][0]] == ["响应", "报到"]
    assert any("location" in m for m in bot.double.bot_messages(ZFJ)), "the place travels with the card"
    assert "呼叫已发出" in bot.last(GRID_WORKER)["text"]


async def test_a_call_without_a_department_is_routed_by_the_catalogue(bot):
    await bot.say(GRID_WORKER, "呼叫 楼下有人私搭乱建加盖大棚子")
    assert "被呼叫部门：综合行政执法局" in bot.last(GRID_WORKER)["text"] and "协办" in bot.last(GRID_WORKER)["text"]


async def test_respond_then_arrive_inside_the_radius_and_the_caller_confirms(bot):
    number = await call_from(bot, "呼叫城管 人民路菜市场门口占道经营")
    await respond_and_arrive(bot, NEARBY)
    assert any("已响应——张三、李四" in t for t in bot.texts(GRID_WORKER))
    arrived = bot.last(GRID_WORKER)
    assert "已报到" in arrived["text"] and "（在范围内）" in arrived["text"]
    call = await call_row(bot, number)
    assert call.state == "arrived" and 50 < call.arrival_distance_m < 150 and call.arrival_within_radius
    await bot.press(GRID_WORKER, GRID_WORKER, "确认到场")
    assert (await call_row(bot, number)).arrival_confirmed is True


async def test_an_arrival_outside_the_radius_is_marked_and_a_dispute_goes_to_the_dispatcher(bot):
    number = await call_from(bot, "呼叫城管 人民路菜市场门口占道经营")
    await respond_and_arrive(bot, FAR)
    assert "（超出范围）" in bot.last(GRID_WORKER)["text"]
    await bot.press(GRID_WORKER, GRID_WORKER, "有异议")
    await bot.say(GRID_WORKER, "现场没有看到执法人员", reply_to=bot.last(GRID_WORKER)["message_id"])
    card = bot.last(CENTER)
    assert "【报到异议】" in card["text"] and "现场没有看到执法人员" in card["text"] and "超出范围" in card["text"]
    await bot.press(CENTER, DISPATCHER, "要求重新报到")
    call = await call_row(bot, number)
    assert call.state == "responded" and call.arrived_at is None
    assert "要求【综合行政执法局】重新到场报到" in bot.last(ZFJ)["text"]
    assert "报到" in str(bot.find(ZFJ, "📣【呼叫")["reply_markup"])
    decided = current(bot, CENTER, card["message_id"])["text"]  # the card keeps the arrival it was about
    assert "超出范围" in decided and texts.DISPUTE_DONE_REJECTED in decided


async def test_a_late_call_is_reminded_and_escalated_to_the_township_and_the_command_center(bot):
    number = await call_from(bot, "呼叫城管 人民路菜市场门口占道经营，紧急")  # urgent: respond 10 min, arrive 30
    assert (await call_row(bot, number)).urgency == "urgent"
    await advance(bot, minutes=8)
    assert count(bot, ZFJ, "【催办】呼叫") == 1
    await advance(bot, minutes=3)
    assert count(bot, CENTER, "【督办】呼叫") == 1 and count(bot, TOWNSHIP, "【督办】呼叫") == 1
    assert "（已超时）" in bot.find(ZFJ, "📣【呼叫")["text"]
    assert any("【督办】呼叫" in t for t in bot.texts(GRID_WORKER)), "the caller sees the call is not dropped"


async def test_the_whole_loop_ends_with_the_callers_rating(bot):
    number = await call_from(bot, "呼叫城管 人民路菜市场门口占道经营")
    await respond_and_arrive(bot, NEARBY)
    await bot.press(GRID_WORKER, GRID_WORKER, "确认到场")
    await bot.say(ZFJ_STAFF, "已劝离摊贩，正在清理", chat_id=ZFJ, reply_to=bot.find(ZFJ, "📣【呼叫")["message_id"])
    assert "已劝离摊贩" in bot.last(GRID_WORKER)["text"]
    await bot.press(ZFJ, ZFJ_STAFF, "办结")
    await bot.say(ZFJ_STAFF, "占道摊位已清理，恢复通行", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    await bot.press(GRID_WORKER, GRID_WORKER, "还没办完")
    await bot.say(GRID_WORKER, "门口还有两个摊位", reply_to=bot.last(GRID_WORKER)["message_id"])
    assert (await call_row(bot, number)).state == "arrived" and "还有两个摊位" in bot.last(ZFJ)["text"]
    await bot.press(ZFJ, ZFJ_STAFF, "办结")
    await bot.say(ZFJ_STAFF, "全部清理完毕", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    await bot.press(GRID_WORKER, GRID_WORKER, "确认办结")
    for label in ("满意", "基本满意", "满意"):  # 响应速度, 到场情况, 处置结果
        await bot.press(GRID_WORKER, GRID_WORKER, label)
    await bot.say(GRID_WORKER, "响应很快", reply_to=bot.last(GRID_WORKER)["message_id"])
    async with bot.svc.db.read() as s:
        rating = (await s.exec(select(CallRating))).one()
    assert (rating.speed, rating.arrival, rating.outcome, rating.comment) == ("satisfied", "basic", "satisfied",
                                                                               "响应很快")
    assert (await call_row(bot, number)).state == "closed"


async def test_only_the_called_department_may_report_arrival(bot):
    await call_from(bot, "呼叫城管 人民路菜市场门口占道经营")
    card = bot.last(ZFJ)
    data = next(b["callback_data"] for b in card["reply_markup"]["inline_keyboard"][0] if b["text"] == "报到")
    bot.double.press(ZFJ, card["message_id"], JTJ_STAFF, data, force=True)
    await bot.settle()
    assert "不是本部门工作人员" in bot.double.callback_answers[-1]["text"]


async def test_residents_get_a_polite_explanation_instead_of_a_call(bot):
    await bot.say(RESIDENT, "/call 城管 门口有人摆摊")
    assert "网格呼叫只供网格员使用" in bot.last(RESIDENT)["text"]
    await bot.say(RESIDENT, "呼叫城管 门口有人摆摊")
    assert "网格呼叫只供网格员使用" in bot.last(RESIDENT)["text"]


async def test_bad_calls_get_clear_replies(bot):
    await bot.say(GRID_WORKER, "呼叫")
    assert "网格呼叫的写法" in bot.last(GRID_WORKER)["text"]
    await bot.say(GRID_WORKER, "呼叫水电局 小区停电了")
    suggestion = bot.last(GRID_WORKER)
    assert "没有找到“水电局”" in suggestion["text"] and suggestion["reply_markup"]["inline_keyboard"]
    await bot.locate(GRID_WORKER, 35.99, 119.41)
    assert "位置已收到" in bot.last(GRID_WORKER)["text"]
    async with bot.svc.db.read() as s:
        assert not (await s.exec(select(Call))).all()


async def test_the_grid_view_lists_open_tickets_and_calls(bot):
    await bot.submit(RESIDENT, "我家楼下有人私搭乱建，在院子里加盖了一个大棚子")
    await call_from(bot, "呼叫城管 人民路菜市场门口占道经营")
    await bot.say(GRID_WORKER, "/grid")
    view = bot.last(GRID_WORKER)["text"]
    assert "未办结的工单 1 件、呼叫 1 件" in view and "待签收" in view and "待响应" in view
    assert texts.OVERDUE_MARK not in view
    await advance(bot, hours=3)  # past the 2-hour accept limit and the call's response limit
    await bot.say(GRID_WORKER, "/grid")
    assert bot.last(GRID_WORKER)["text"].count(texts.OVERDUE_MARK) == 2, "overdue work is marked"


async def test_a_grid_worker_files_for_a_resident_without_telegram(bot):
    await bot.say(GRID_WORKER, "代办 13912345678 东关路口的路灯坏了一个星期")
    draft = bot.last(GRID_WORKER)["text"]
    assert "代居民 139****5678 反映" in draft and "13912345678" not in draft
    await bot.press(GRID_WORKER, GRID_WORKER, texts.BTN_SUBMIT)
    async with bot.svc.db.read() as s:
        ticket = (await s.exec(select(Ticket))).one()
        resident = await s.get(Member, ticket.reporter_id)
    assert resident.phone == "13912345678" and resident.telegram_id is None
    assert ticket.source == "proxy" and ticket.filed_by is not None
    assert any("已派至" in t for t in bot.texts(GRID_WORKER)), "the grid worker follows the ticket"
    assert not any("13912345678" in t for chat in (-100102, CENTER) for t in bot.texts(chat))
