"""Nothing a person sends is lost or left unanswered: the inbox, replies that survive Telegram's faults, button
presses answered in time, questions kept apart, a repeated 提交, a sender that resumes its own leases."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from bot import texts
from bot.sender import CLAIM_LEASE
from storage.models import InboxUpdate, Outbox, OutboxState, Ticket
from tests.conftest import Clock, start_bot
from tests.helpers import ILLEGAL_BUILDING, NEIGHBOUR, RESIDENT, ZFJ, row_counts


async def test_updates_stored_but_not_handled_when_the_bot_died_are_handled_at_its_next_start(sqlite_db, double):
    first = await start_bot(sqlite_db, double, Clock())
    first.svc.handler.stop()  # the bot still fetches and stores, but dies before handling anything
    double.send_text(RESIDENT, RESIDENT, ILLEGAL_BUILDING)
    await double.wait_for(lambda: not double._updates)  # fetched, stored, confirmed to Telegram
    async with sqlite_db.read() as s:
        assert len((await s.exec(select(InboxUpdate))).all()) == 1
    await first.stop()
    assert not double.bot_messages(RESIDENT), "nothing was handled before the crash"
    second = await start_bot(sqlite_db, double, Clock())
    try:
        await double.wait_for(lambda: double.bot_messages(RESIDENT), timeout=60)  # a loaded machine is slow
        await second.settle()
        assert "我理解您反映的是" in double.bot_messages(RESIDENT)[-1]["text"]

        async def all_handled() -> bool:
            async with sqlite_db.read() as s:
                return all(row.handled_at for row in (await s.exec(select(InboxUpdate))).all())

        for _ in range(100):  # marked handled right after the handler returns
            if await all_handled():
                break
            await asyncio.sleep(0.05)
        assert await all_handled()
    finally:
        await second.stop()


async def test_an_update_handled_twice_changes_nothing_twice(sqlite_bot):
    bot = sqlite_bot
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    async with bot.svc.db.read() as s:
        rows = (await s.exec(select(InboxUpdate).order_by(InboxUpdate.update_id))).all()
    before = await row_counts(bot.svc.db, Ticket)
    for row in rows:  # as if the bot had died after handling each, before marking it handled
        await bot.svc.handler.handle(row.update_id, row.payload, 0, RESIDENT)
    await bot.settle()
    assert await row_counts(bot.svc.db, Ticket) == before
    drafts = [m for m in bot.double.bot_messages(RESIDENT) if "我理解您反映的是" in m["text"]]
    presses = {b["callback_data"] for m in drafts for row in m["reply_markup"]["inline_keyboard"] for b in row}
    assert len(presses) == 3, "the replayed message shows the same draft, not a second one"


async def test_replies_survive_server_errors_flood_control_and_timeouts(sqlite_bot):
    bot = sqlite_bot
    bot.double.inject_fault("sendMessage", "500", count=2)
    bot.double.inject_fault("sendMessage", "429", count=1, retry_after=1)
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    assert "我理解您反映的是" in bot.last(RESIDENT)["text"]
    bot.double.inject_fault("editMessageText", "timeout", count=1, delay=0.2)
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    assert "工单号" in bot.find(RESIDENT, "工单号")["text"]
    assert not any(texts.ERR_INTERNAL in t for t in bot.texts(RESIDENT))


async def test_a_long_outage_hands_the_update_back_and_the_answer_still_arrives(sqlite_bot):
    bot = sqlite_bot
    bot.double.inject_fault("sendMessage", "500", count=12)  # more than one call's retries within its budget
    bot.double.send_text(RESIDENT, RESIDENT, ILLEGAL_BUILDING)
    await bot.double.wait_for(lambda: any("我理解您反映的是" in (m.get("text") or "")
                                          for m in bot.double.bot_messages(RESIDENT)), timeout=60)
    assert not any(texts.ERR_INTERNAL in t for t in bot.texts(RESIDENT))
    await bot.settle()


async def test_a_fault_on_a_start_up_call_is_retried_and_the_bot_starts(sqlite_db, double):
    double.inject_fault("setMyCommands", "500", count=2)
    double.inject_fault("getMe", "timeout", count=1, delay=0.1)
    local = await start_bot(sqlite_db, double, Clock())
    try:
        await local.say(RESIDENT, ILLEGAL_BUILDING)
        assert "我理解您反映的是" in local.last(RESIDENT)["text"]
    finally:
        await local.stop()


async def test_an_answer_too_late_for_the_button_arrives_as_a_message(sqlite_bot):
    bot = sqlite_bot
    await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    bot.double.callback_ttl = 0.0  # every answer comes too late ("query is too old"), as after a restart
    await bot.press(ZFJ, RESIDENT, "签收")  # a resident cannot accept: the refusal must still reach them
    assert "不是本部门工作人员" in bot.last(ZFJ)["text"]


async def _draft_with_slow_answers(bot, answer_within: float, ttl: float) -> dict:
    """A resident's draft; the guard answers presses after ``answer_within`` s, Telegram refuses answers after
    ``ttl`` s, and the bot's answer to the resident's next message takes 4 s."""
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    bot.app.bot.answer_presses_within(answer_within)
    bot.double.callback_ttl = ttl
    bot.double.inject_fault("sendMessage", "timeout", delay=4.0)
    return bot.last(RESIDENT)


async def test_a_press_waiting_behind_slow_work_is_answered_within_its_15_seconds(sqlite_bot):
    """The press's clock runs from the press, not from its turn in the chat's queue."""
    bot = sqlite_bot
    draft = await _draft_with_slow_answers(bot, answer_within=0.5, ttl=2.5)
    bot.double.send_text(RESIDENT, RESIDENT, "你好")
    bot.double.press_button(RESIDENT, RESIDENT, texts.BTN_SUBMIT, message_id=draft["message_id"])  # behind it
    await bot.settle()
    assert not bot.double.unanswered_queries()
    assert "工单号：" in bot.find(RESIDENT, "工单号：")["text"], "the press still took effect"


async def test_a_handlers_answer_stuck_on_its_way_does_not_leave_the_spinner_running(sqlite_bot):
    """The handler answered in time but its request hangs past Telegram's limit: the guard answers too."""
    bot = sqlite_bot
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    bot.app.bot.answer_presses_within(0.5)
    bot.double.callback_ttl = 2.5
    bot.double.inject_fault("answerCallbackQuery", "timeout", delay=4.0)  # answered when too old
    bot.double.press_button(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    await bot.settle()
    assert not bot.double.unanswered_queries()
    assert "工单号：" in bot.find(RESIDENT, "工单号：")["text"], "the press still took effect"


async def test_a_press_that_waited_while_the_poller_was_away_is_answered_in_time(sqlite_bot):
    """Storing a batch on a busy database keeps the poller from Telegram; a press made meanwhile has spent that
    long of its 15 s before the bot sees it."""
    bot = sqlite_bot
    draft = await _draft_with_slow_answers(bot, answer_within=4.0, ttl=7.0)
    lock = sqlite3.connect(bot.svc.db.engine.url.database, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        bot.double.send_text(RESIDENT, RESIDENT, "你好")  # fetched at once; storing it waits for the lock
        await asyncio.sleep(1.0)
        bot.double.press_button(RESIDENT, RESIDENT, texts.BTN_SUBMIT, message_id=draft["message_id"])
        await asyncio.sleep(5.0)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    await bot.double.wait_for(lambda: any("工单号：" in (m.get("text") or "") for m in bot.double.bot_messages(RESIDENT)),
                              timeout=30)
    assert not bot.double.unanswered_queries()


async def test_presses_that_waited_while_the_bot_was_down_are_answered_at_its_start(sqlite_db, double):
    """One press stored but not handled before the crash, one queued at Telegram while the bot was down: both
    are answered as the bot starts, though slow work comes before them in their chat."""
    first = await start_bot(sqlite_db, double, Clock())
    await first.say(RESIDENT, ILLEGAL_BUILDING)
    draft = first.last(RESIDENT)
    await first.say(NEIGHBOUR, "小区门口的路灯坏了一个星期，晚上黑灯瞎火")
    other = first.last(NEIGHBOUR)
    first.svc.handler.stop()  # from here the bot stores updates but dies before handling them
    double.send_text(RESIDENT, RESIDENT, "你好")
    double.press_button(RESIDENT, RESIDENT, texts.BTN_SUBMIT, message_id=draft["message_id"])
    await double.wait_for(lambda: not double._updates)  # fetched, stored, confirmed to Telegram
    await first.stop()
    double.send_text(NEIGHBOUR, NEIGHBOUR, "你好")
    double.press_button(NEIGHBOUR, NEIGHBOUR, texts.BTN_SUBMIT, message_id=other["message_id"])  # waits at Telegram
    double.callback_ttl = 4.0  # seconds from the press
    double.inject_fault("sendMessage", "timeout", count=2, delay=4.5)  # each chat's first answer is slow
    second = await start_bot(sqlite_db, double, Clock())
    try:
        await double.wait_for(lambda: all(any("工单号：" in (m.get("text") or "") for m in double.bot_messages(chat))
                                          for chat in (RESIDENT, NEIGHBOUR)), timeout=60)  # the presses took effect
        assert not double.unanswered_queries()
    finally:
        await second.stop()


async def test_two_open_questions_of_one_person_are_kept_apart(sqlite_bot):
    bot = sqlite_bot
    first = await bot.submit(RESIDENT, "小区门口的路灯坏了一个星期，晚上黑灯瞎火")
    second = await bot.submit(1002, "单元楼下的路灯也坏了，晚上看不见路")
    cards = [m for m in bot.double.bot_messages(-100102) if "工单" in m["text"]]
    a, b = (next(m for m in cards if n in m["text"]) for n in (first, second))
    for card in (a, b):
        await bot.press(-100102, 2101, "签收", message_id=card["message_id"])
    await bot.press(-100102, 2101, "办结", message_id=a["message_id"])
    ask_a = bot.last(-100102)
    await bot.press(-100102, 2101, "办结", message_id=b["message_id"])
    bot.double.group_privacy = False  # the bot sees plain group messages too (privacy mode off)
    await bot.say(2101, "路灯已更换", chat_id=-100102)  # a plain message: ambiguous with two questions open
    assert "2 个待回复的问题" in bot.last(-100102)["text"]
    await bot.say(2101, "A 处路灯已更换", chat_id=-100102, reply_to=ask_a["message_id"])
    async with bot.svc.db.read() as s:
        states = dict((await s.exec(select(Ticket.number, Ticket.state))).all())
    assert (states[first], states[second]) == ("resolved", "accepted")


async def test_pressing_submit_again_shows_the_ticket_it_became(sqlite_bot):
    bot = sqlite_bot
    await bot.say(RESIDENT, ILLEGAL_BUILDING)
    draft = bot.last(RESIDENT)
    data = next(b["callback_data"] for row in draft["reply_markup"]["inline_keyboard"] for b in row if "提交" in b["text"])
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    number = bot.find(RESIDENT, "工单号：")["text"].split("工单号：")[1].split()[0]
    bot.double.press(RESIDENT, draft["message_id"], RESIDENT, data, force=True)
    await bot.settle()
    assert number in bot.last(RESIDENT)["text"] or any(number in t for t in bot.texts(RESIDENT)[-2:])
    assert "已处理过或已过期" not in " ".join(bot.texts(RESIDENT))
    assert await row_counts(bot.svc.db, Ticket) == (1,)


async def test_a_restarted_sender_resumes_its_own_leases_at_once(sqlite_bot):
    bot = sqlite_bot
    await bot.svc.sender.stop()
    db = bot.svc.db
    async with db.session() as s:  # rows a killed sender had leased for two minutes
        s.add(Outbox(recipient=f"chat:{RESIDENT}", kind="notice", text="被中断的通知", claimed_by="gridbot",
                     next_attempt_at=bot.clock.now() + CLAIM_LEASE, created_at=bot.clock.now()))
    from bot.sender import OutboxSender
    from handlers.keyboard import markup

    sender = OutboxSender(db, bot.svc.sender.bot, markup, now=bot.clock.now, private_interval=0, instance="gridbot")
    assert await sender.resume_own_claims() == 1
    await sender.drain(timeout=5)
    assert bot.last(RESIDENT)["text"] == "被中断的通知"
    async with db.session() as s:
        await s.exec(update(Outbox).values(state=OutboxState.SENT))
    assert CLAIM_LEASE > timedelta(seconds=60)


async def test_a_sandbox_restarted_on_its_database_with_a_fresh_double_answers_at_once(sqlite_db, tmp_path):
    """The double numbers updates from its first id again; the bot's inbox has handled those ids before and would
    take them as replays: the sandbox continues the numbering after the last update the bot stored."""
    from bot.double.server import BotApiDouble

    clock = Clock()
    first = BotApiDouble()
    await first.start()
    bot = await start_bot(sqlite_db, first, clock)
    await bot.say(RESIDENT, "/help")
    await bot.say(RESIDENT, "/my")
    await bot.stop()
    await first.stop()
    second = BotApiDouble()
    await second.start()
    bot = await start_bot(sqlite_db, second, clock)
    try:
        await bot.say(RESIDENT, "/help")
        assert bot.double.bot_messages(RESIDENT), "answered, not dropped as a replay"
        sent = await bot.app.bot.send_message(RESIDENT, "测试", reply_to_message_id=987654)
        assert sent.text == "测试", "a reply to a message that is gone still goes out, without the quote"
    finally:
        await bot.stop()
        await second.stop()
