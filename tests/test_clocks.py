"""Clocks that never forget: the ladder, restarts, several processes, returns, extensions, callbacks,
arrival — through the real PTB Application, with a controllable clock (no sleeping for real hours)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import col, select

from bot import texts
from bot.calendar import TZ, WorkCalendar
from bot.directory import load_county
from bot.workflow import Workflow
from nlp.catalogue import load_catalogue
from storage.db import Database
from storage.models import Assignment, Event, Member, Ticket, Timer
from tests.conftest import FIXTURES, Clock, start_bot
from tests.helpers import (
    CENTER,
    DISPATCHER,
    ILLEGAL_BUILDING,
    LEADERS,
    NEIGHBOUR,
    RESIDENT,
    SUPERVISOR,
    ZFJ,
    ZFJ_STAFF,
    advance,
    count,
    event_kinds,
    ticket_by_number,
)


async def events(bot, number: str) -> list[str]:
    return await event_kinds(bot, number)


async def ticket(bot, number: str) -> Ticket:
    return await ticket_by_number(bot, number)


async def test_every_ladder_step_fires_once_at_the_right_time(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await advance(bot, minutes=89)
    assert count(bot, ZFJ, "【催办】") == 0
    await advance(bot, minutes=1)  # 75 % of the 2-hour accept limit
    assert count(bot, ZFJ, "【催办】") == 1 and number in bot.last(ZFJ)["text"] and "签收" in bot.last(ZFJ)["text"]
    assert "即将到期" in bot.last(ZFJ)["text"]
    await advance(bot, minutes=29)
    assert count(bot, CENTER, "【督办】") == 0
    await advance(bot, minutes=1)  # the deadline: the command center and the department's supervisor
    assert count(bot, CENTER, "【督办】") == 1 and count(bot, SUPERVISOR, "【督办】") == 1
    await advance(bot, hours=2)  # a further full limit: leadership
    assert count(bot, LEADERS, "【领导督办】") == 1
    await advance(bot, hours=1)
    assert (count(bot, ZFJ, "【催办】"), count(bot, CENTER, "【督办】"), count(bot, LEADERS, "【领导督办】")) == (1, 1, 1)
    assert [k for k in await events(bot, number) if k.startswith(("remind", "escal"))] == [
        "reminded", "escalated", "escalated2"]


async def test_a_reminder_that_fires_after_the_deadline_says_it_has_passed(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await advance(bot, hours=3)  # the bot was down past the 2-hour accept limit: 催办 and 督办 fire together
    reminder = bot.find(ZFJ, "【催办】")
    assert number in reminder["text"] and "已超时" in reminder["text"] and "即将到期" not in reminder["text"]


async def test_accepting_in_time_stops_the_accept_ladder(bot):
    await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.press(ZFJ, ZFJ_STAFF, "签收")
    await advance(bot, hours=5)
    assert count(bot, ZFJ, "【催办】") == 0 and count(bot, CENTER, "【督办】") == 0


async def test_a_restart_in_the_middle_loses_nothing_and_repeats_nothing(database, double):
    clock = Clock()
    first = await start_bot(database, double, clock)
    number = await first.submit(RESIDENT, ILLEGAL_BUILDING)
    await first.stop()  # the bot is down while every accept step falls due
    clock.advance(timedelta(hours=5))
    second = await start_bot(database, double, clock)
    try:
        await second.svc.workflow.sweep()
        await second.settle()
        await second.svc.workflow.sweep()
        await second.settle()
        assert (count(second, ZFJ, "【催办】"), count(second, CENTER, "【督办】"),
                count(second, LEADERS, "【领导督办】")) == (1, 1, 1)
        kinds = [k for k in await events(second, number) if k.startswith(("remind", "escal"))]
        assert kinds == ["reminded", "escalated", "escalated2"]  # once each, in due order
    finally:
        await second.stop()


async def test_two_processes_on_postgresql_fire_each_due_row_once(postgres):
    from sqlalchemy import text

    from tests.conftest import TABLES

    clock = Clock()
    catalogue = load_catalogue(FIXTURES / "catalogue.yaml")
    one, two = Database(postgres), Database(postgres)
    async with one.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    await load_county(one, catalogue, FIXTURES / "county.yaml")
    flows = [Workflow(db, catalogue, WorkCalendar(), now=clock.now) for db in (one, two)]
    async with one.session() as s:
        resident = (await s.exec(select(Member).where(Member.telegram_id == RESIDENT))).one()
    for i in range(20):
        await flows[0].routing.submit(resident, f"私搭乱建第{i}处", matter_code="T-WJ")
    clock.advance(timedelta(hours=5))
    fired = await asyncio.gather(flows[0].sweep(batch=7), flows[1].sweep(batch=7))
    async with one.session() as s:
        due = (await s.exec(select(Timer).where(Timer.due_at <= clock.now()))).all()
        kinds = (await s.exec(select(Event.kind).where(col(Event.kind).in_(["reminded", "escalated", "escalated2"]))))
        kinds = list(kinds.all())
    assert sum(fired) == len(due) == 60 and all(t.fired_at for t in due)
    assert sorted(kinds) == sorted(["reminded", "escalated", "escalated2"] * 20)
    assert all(fired), "both processes should have taken a share"
    await one.dispose()
    await two.dispose()


async def test_every_step_of_the_dispatch_ladder_names_the_same_deadline(bot):
    await bot.say(RESIDENT, "你好，我想反映一个情况，麻烦你们管一管")
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)  # unclear: waits in the command center
    await advance(bot, days=3)
    steps = [bot.find(CENTER, "【催办】待分派")["text"], bot.find(CENTER, "【督办】待分派")["text"],
             bot.find(LEADERS, "【领导督办】")["text"]]
    deadlines = {text.split("时限")[1].lstrip(" （").split("）")[0] for text in steps}
    assert len(deadlines) == 1, steps


async def test_a_return_upheld_by_the_dispatcher_goes_back_with_a_note(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.press(ZFJ, ZFJ_STAFF, "退回")
    await bot.say(ZFJ_STAFF, "不属于我局职责", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    await bot.press(CENTER, DISPATCHER, "维持原派单")
    prompt = bot.last(CENTER)
    assert "维持原派单的意见" in prompt["text"]
    await bot.say(DISPATCHER, "依据清单第12项，违法建设由综合执法局主办", chat_id=CENTER, reply_to=prompt["message_id"])
    card = bot.last(ZFJ)
    assert number in card["text"] and "调度员意见：依据清单第12项" in card["text"] and "签收" in str(card["reply_markup"])
    assert (await ticket(bot, number)).state == "dispatched"
    assert (await events(bot, number))[-2:] == ["returned", "upheld"]


async def accepted(bot) -> str:
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.press(ZFJ, ZFJ_STAFF, "签收")
    return number


async def test_an_approved_extension_moves_the_clock_and_the_resident_is_told(bot):
    number = await accepted(bot)
    await bot.press(ZFJ, ZFJ_STAFF, "申请延期")
    await bot.say(ZFJ_STAFF, "明天吧", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    assert "请按“月-日 理由”填写" in bot.last(ZFJ)["text"]
    await bot.say(ZFJ_STAFF, "12-20 需等待规划部门出具认定意见", chat_id=ZFJ,
                  reply_to=next(m for m in reversed(bot.double.bot_messages(ZFJ)) if "新的办结期限" in m["text"])["message_id"])
    center = bot.last(CENTER)
    assert "延期申请" in center["text"] and "12-20" in center["text"] and "批准延期" in str(center["reply_markup"])
    await bot.press(CENTER, DISPATCHER, "批准延期")
    assert "办理期限延长至 12-20 18:00" in bot.last(RESIDENT)["text"]
    assert "延期申请已批准" in bot.last(ZFJ)["text"]
    async with bot.svc.db.session() as s:
        lead = (await s.exec(select(Assignment).where(Assignment.role == "lead"))).one()
    assert lead.resolve_due.astimezone(TZ).strftime("%m-%d %H:%M") == "12-20 18:00"
    # the old deadline (Thu 3 Dec 09:00) passes without a 督办: its ladder was replaced
    await advance(bot, days=8)
    assert count(bot, CENTER, "已超过办结时限") == 0
    assert "extension_approved" in await events(bot, number)


async def test_a_refused_extension_keeps_the_clock(bot):
    await accepted(bot)
    await bot.press(ZFJ, ZFJ_STAFF, "申请延期")
    await bot.say(ZFJ_STAFF, "12-20 人手不够", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    await bot.press(CENTER, ZFJ_STAFF, "批准延期")  # a department cannot approve its own extension
    assert "只有调度员" in bot.double.callback_answers[-1]["text"]
    await bot.press(CENTER, DISPATCHER, "不批准")
    assert "未获批准" in bot.last(ZFJ)["text"]
    await advance(bot, days=8)
    assert count(bot, CENTER, "已超过办结时限") == 1  # the original resolve deadline still counts


async def arrived(bot) -> None:
    await bot.press(ZFJ, ZFJ_STAFF, "报到")
    await bot.locate(ZFJ_STAFF, 35.99, 119.41, chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])


async def resolved(bot) -> str:
    number = await accepted(bot)
    await arrived(bot)
    await bot.press(ZFJ, ZFJ_STAFF, "办结")
    await bot.say(ZFJ_STAFF, "棚子已拆除", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    return number


async def test_unsolved_reopens_to_the_lead_department_with_a_new_clock(bot):
    number = await resolved(bot)
    await advance(bot, hours=23)
    assert count(bot, RESIDENT, "【回访】") == 0
    await advance(bot, hours=1)
    ask = bot.last(RESIDENT)
    assert "【回访】" in ask["text"] and "棚子已拆除" in ask["text"]
    await bot.press(RESIDENT, RESIDENT, "未解决")
    await bot.press(RESIDENT, RESIDENT, "不满意")
    assert any("重新办理" in t for t in bot.texts(RESIDENT))
    card = bot.last(ZFJ)
    assert "重办" in card["text"] and "未解决" in card["text"] and "签收" in str(card["reply_markup"])
    t = await ticket(bot, number)
    assert t.state == "reopened" and t.reopen_count == 1
    comment = bot.last(RESIDENT)
    assert "补充意见" in comment["text"]
    await bot.say(RESIDENT, "棚子只拆了一半，还占着消防通道", reply_to=comment["message_id"])
    assert "意见已记录" in bot.last(RESIDENT)["text"]
    assert "还占着消防通道" in bot.last(ZFJ)["text"]
    await advance(bot, minutes=90)  # the new accept clock runs
    assert count(bot, ZFJ, "【催办】") == 1


async def test_solved_and_satisfied_closes_as_rated_and_co_reporters_are_asked_too(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.say(NEIGHBOUR, "院子里有人私搭乱建加盖了大棚子")
    offer = bot.last(NEIGHBOUR)["text"]  # says why its buttons are 加入该工单 / 仍然新建, not 提交
    assert texts.DUPLICATE_NOTE.format(numbers=number) in offer and "请点“提交”" not in offer
    await bot.press(NEIGHBOUR, NEIGHBOUR, number)  # join the open duplicate instead of filing a new one
    await bot.press(ZFJ, ZFJ_STAFF, "签收")
    await arrived(bot)
    await bot.press(ZFJ, ZFJ_STAFF, "办结")
    await bot.say(ZFJ_STAFF, "棚子已拆除", chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    assert any("已办结" in t for t in bot.texts(NEIGHBOUR))
    await advance(bot, days=1)
    assert count(bot, RESIDENT, "【回访】") == 1 and count(bot, NEIGHBOUR, "【回访】") == 1
    await bot.press(RESIDENT, RESIDENT, "已解决")
    await bot.press(RESIDENT, RESIDENT, "基本满意")
    t = await ticket(bot, number)
    assert (t.state, t.solved, t.satisfaction) == ("rated", True, "basic")
    await bot.press(NEIGHBOUR, NEIGHBOUR, "已解决")
    await bot.press(NEIGHBOUR, NEIGHBOUR, "满意")
    assert "感谢您的评价" in bot.last(NEIGHBOUR)["text"] or any("感谢您的评价" in x for x in bot.texts(NEIGHBOUR))
    # a second answer from the same person (an old keyboard, a replayed press) changes nothing
    t = await ticket(bot, number)
    bot.double.press(RESIDENT, bot.last(RESIDENT)["message_id"], RESIDENT, f"sat:{t.id}:ndissatisfied", force=True)
    await bot.settle()
    assert "已评价过" in bot.double.callback_answers[-1]["text"]
    assert (await ticket(bot, number)).state == "rated"
    await advance(bot, days=5)
    assert count(bot, RESIDENT, "【回访提醒】") == 0 and (await ticket(bot, number)).state == "rated"


async def test_no_answer_gets_one_reminder_then_closes_as_unrated(bot):
    number = await resolved(bot)
    await advance(bot, days=1)
    await advance(bot, days=1)
    assert count(bot, RESIDENT, "【回访提醒】") == 1
    await advance(bot, days=2)
    t = await ticket(bot, number)
    assert t.state == "closed" and t.satisfaction is None
    assert count(bot, RESIDENT, "未评价") == 1
    await advance(bot, days=3)
    assert count(bot, RESIDENT, "【回访提醒】") == 1 and count(bot, RESIDENT, "未评价") == 1


async def test_arrival_with_a_location_stops_the_arrive_clock(bot):
    number = await accepted(bot)
    card = bot.last(ZFJ)
    assert "到场" in card["text"] and "报到" in str(card["reply_markup"])
    await bot.press(ZFJ, ZFJ_STAFF, "报到")
    prompt = bot.last(ZFJ)
    await bot.say(ZFJ_STAFF, "到了", chat_id=ZFJ, reply_to=prompt["message_id"])
    assert "需要现场位置" in bot.last(ZFJ)["text"]
    bot.double.send_location(ZFJ, ZFJ_STAFF, 35.99, 119.41, reply_to_message_id=prompt["message_id"])
    await bot.settle()
    assert "已报到" in bot.last(ZFJ)["text"]
    assert any("已到达现场" in t for t in bot.texts(RESIDENT))
    await advance(bot, hours=30)
    assert not any("到场报到时限" in t for t in bot.texts(CENTER))
    assert "arrived" in await events(bot, number)


async def test_a_missed_arrival_is_escalated(bot):
    await accepted(bot)
    await advance(bot, hours=24)
    assert any("到场报到时限" in t and "【督办】" in t for t in bot.texts(CENTER))


async def test_a_broken_timer_stays_due_and_does_not_stop_the_others(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    t = await ticket(bot, number)
    async with bot.svc.db.session() as s:  # a step whose assignment is gone: firing it fails
        s.add(Timer(subject_id=t.id, assignment_id=None, stage="accept", step="remind", due_at=bot.clock.now()))
    await advance(bot, minutes=90)
    assert count(bot, ZFJ, "【催办】") == 1  # the healthy ladder still fired
    async with bot.svc.db.session() as s:
        broken = (await s.exec(select(Timer).where(col(Timer.assignment_id).is_(None)))).one()
    assert broken.fired_at is None
