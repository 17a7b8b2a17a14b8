"""Who may do what, as one table: every button and command, pressed or sent by every kind of person who may
not use it — refused with a clear reply, nothing changed, and the refusal on the record (audit)."""

from __future__ import annotations

import re

from sqlmodel import col, select

from bot import texts
from storage.models import (
    Assignment,
    Audit,
    CoReporter,
    Draft,
    Event,
    Extension,
    Outbox,
    PendingInput,
    Rating,
    Ticket,
)
from tests.helpers import (
    ADMIN,
    CENTER,
    DISPATCHER,
    GRID_WORKER,
    ILLEGAL_BUILDING,
    JTJ_STAFF,
    NEIGHBOUR,
    OTHER_GRID_WORKER,
    RESIDENT,
    STRANGER,
    ZFJ,
    ZFJ_HEAD,
    ZFJ_STAFF,
    advance,
    row_counts,
)

PEOPLE = {"stranger": STRANGER, "resident": RESIDENT, "other resident": NEIGHBOUR,
          "grid worker of another grid": OTHER_GRID_WORKER, "grid worker": GRID_WORKER,
          "member of another department": JTJ_STAFF, "department member": ZFJ_STAFF,
          "department head": ZFJ_HEAD, "dispatcher": DISPATCHER, "admin": ADMIN}
CHANGES = (Ticket, Event, Assignment, Draft, Rating, Extension, CoReporter, Outbox, PendingInput)
CHINESE = re.compile(r"[\u4e00-\u9fff]{4}")


async def scene(bot) -> dict[str, tuple[int, int, str]]:
    """Tickets in the states the buttons need; returns button name → (chat, message id, callback_data)."""
    d = bot.double
    d.add_user(STRANGER, "陌生人")
    await bot.submit(RESIDENT, ILLEGAL_BUILDING)  # A: dispatched, its card in the department's group
    card = bot.last(ZFJ)
    await bot.say(ZFJ_STAFF, "已派人核查", chat_id=ZFJ, reply_to=card["message_id"])  # a note awaiting its author
    note = bot.last(ZFJ)
    await bot.say(RESIDENT, "你好，我想反映一个情况，麻烦你们管一管")  # B: unclear, to the command center
    await bot.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT)
    dispatch = bot.last(CENTER)
    await bot.submit(RESIDENT, "小区门口的路灯坏了一个星期，晚上黑灯瞎火")  # C: 路灯 (zjj), accepted, extension asked
    await bot.press(-100102, 2101, "签收")
    await bot.press(-100102, 2101, "申请延期")
    await bot.say(2101, "12-20 等待配件", chat_id=-100102, reply_to=bot.last(-100102)["message_id"])
    extension = bot.last(CENTER)
    await bot.say(RESIDENT, "我家门口的路灯也坏了一个星期")  # D: an open draft of the resident
    draft = bot.last(RESIDENT)
    await bot.say(DISPATCHER, "请问在哪个位置？", chat_id=CENTER, reply_to=dispatch["message_id"])
    await bot.say(RESIDENT, "在东关路口")  # a plain answer to B's question: 作为新诉求 would make it a request
    taken = bot.last(RESIDENT)

    def data(message: dict, label: str) -> tuple[int, int, str]:
        button = next(b for row in message["reply_markup"]["inline_keyboard"] for b in row if label in b["text"])
        return message["chat"]["id"], message["message_id"], button["callback_data"]

    found = {name: data(card, label) for name, label in (("签收", "签收"), ("退回", "退回"))}
    number = card["text"].split("工单 ")[1].split("】")[0]
    ticket_id = found["签收"][2].split(":")[1]
    found |= {name: (ZFJ, card["message_id"], f"{code}:{ticket_id}")
              for name, code in (("办结", "res"), ("报到", "arr"), ("申请延期", "ext"))}
    found |= {"转告群众": data(note, "转告群众"), "仅内部备注": data(note, "仅内部备注")}
    found |= {"派单": data(dispatch, "按类别"), "按类别": data(dispatch, "按类别"), "无效工单": data(dispatch, "无效工单"),
              "并单": data(dispatch, "并单")}
    found |= {"改派": (ZFJ, card["message_id"], f"rsg:{ticket_id}"),
              "改派到": (ZFJ, card["message_id"], f"rst:{ticket_id}:T-LD"),
              "清单": (ZFJ, card["message_id"], "ls:0:od"), "清单页": (ZFJ, card["message_id"], "ls:999:od0")}
    found["派单"] = (CENTER, dispatch["message_id"], found["按类别"][2].replace("cat:", "dsp:") + ":T-LD")
    found |= {"批准延期": data(extension, "批准延期"), "不批准": data(extension, "不批准")}
    found |= {"提交": data(draft, "提交"), "换一类": data(draft, "换一类"), "取消": data(draft, "取消")}
    found["作为新诉求"] = data(taken, "作为新诉求")
    found["number"] = (0, 0, number)
    return found


# button → who may use it (everyone else is refused)
STAFF = {"department member", "department head"}
COMMAND = {"dispatcher", "admin"}
ALLOWED = {
    "签收": STAFF, "退回": STAFF, "办结": STAFF, "报到": STAFF, "申请延期": STAFF,
    "转告群众": {"department member"}, "仅内部备注": {"department member"},  # only the note's author decides
    "派单": COMMAND, "按类别": COMMAND, "批准延期": COMMAND, "不批准": COMMAND,
    "无效工单": COMMAND, "并单": COMMAND, "改派": COMMAND, "改派到": COMMAND, "清单": COMMAND, "清单页": COMMAND,
    "提交": {"resident"}, "换一类": {"resident"}, "取消": {"resident"}, "作为新诉求": {"resident"},
}
COMMANDS = {"/invite staff zfj": {"admin"}, "/t {number}": {"resident", *STAFF, *COMMAND},
            "/open": {"department head", *COMMAND}, "/overdue": {"department head", *COMMAND},
            "/stats": {"department head", *COMMAND}, "/export": {"department head", *COMMAND}, "/rank": COMMAND}


async def test_every_button_and_command_refuses_everyone_else_clearly_changes_nothing_and_is_audited(sqlite_bot):
    bot = sqlite_bot
    where = await scene(bot)
    number = where.pop("number")[2]
    tried = 0
    for button, (chat, message_id, data) in where.items():
        for who, person in PEOPLE.items():
            if who in ALLOWED[button]:
                continue
            before = await row_counts(bot.svc.db, *CHANGES)
            audited = await row_counts(bot.svc.db, Audit)
            bot.double.press(chat, message_id, person, data, force=True)
            await bot.settle()
            answer = bot.double.callback_answers[-1]
            assert answer["user_id"] == person and CHINESE.search(answer["text"] or ""), (button, who, answer)
            assert await row_counts(bot.svc.db, *CHANGES) == before, f"{who} pressing {button} changed something"
            assert await row_counts(bot.svc.db, Audit) == (audited[0] + 1,), f"{who} pressing {button}: no audit"
            tried += 1
    for command, allowed in COMMANDS.items():
        for who, person in PEOPLE.items():
            if who in allowed:
                continue
            before = await row_counts(bot.svc.db, *CHANGES)
            await bot.say(person, command.format(number=number))
            assert CHINESE.search(bot.last(person).get("text") or ""), (command, who)  # a refusal, no chart or file
            assert await row_counts(bot.svc.db, *CHANGES) == before, f"{who} sending {command} changed something"
            tried += 1
    async with bot.svc.db.read() as s:
        rows = (await s.exec(select(Audit).order_by(col(Audit.id)))).all()
    assert {r.action for r in rows} >= {"button:accept", "button:dispatch", "button:submit", "command:/invite",
                                        "command:/t", "command:/stats", "command:/rank", "command:/export"}
    assert tried > 90


async def test_only_the_reporters_answer_the_callback(sqlite_bot):
    bot = sqlite_bot
    bot.double.add_user(STRANGER, "陌生人")
    await bot.submit(RESIDENT, "小区门口的路灯坏了一个星期，晚上黑灯瞎火")
    await bot.press(-100102, 2101, "签收")
    await bot.press(-100102, 2101, "办结")
    await bot.say(2101, "已修复", chat_id=-100102, reply_to=bot.last(-100102)["message_id"])
    await advance(bot, days=2)
    ask = bot.find(RESIDENT, "【回访】")
    data = next(b["callback_data"] for row in ask["reply_markup"]["inline_keyboard"] for b in row)
    for who, person in PEOPLE.items():
        if who == "resident":
            continue
        before = await row_counts(bot.svc.db, *CHANGES, Audit)
        bot.double.press(RESIDENT, ask["message_id"], person, data, force=True)
        await bot.settle()
        assert "没有权限" in bot.double.callback_answers[-1]["text"], who
        after = await row_counts(bot.svc.db, *CHANGES, Audit)
        assert after[:-1] == before[:-1] and after[-1] == before[-1] + 1, who


async def test_every_call_button_refuses_everyone_else(sqlite_bot):
    """网格呼叫: the department card's 响应 / 报到 are the called department's, 确认到场 / 有异议 the caller's,
    认可报到 / 要求重新报到 the command center's."""
    bot = sqlite_bot
    bot.double.add_user(STRANGER, "陌生人")
    await bot.locate(GRID_WORKER, 35.9958, 119.4101)
    await bot.say(GRID_WORKER, "呼叫城管 人民路菜市场门口占道经营")
    await bot.press(GRID_WORKER, GRID_WORKER, texts.BTN_SEND_CALL)
    card = bot.last(ZFJ)
    await bot.press(ZFJ, ZFJ_STAFF, "报到")
    await bot.locate(ZFJ_STAFF, 36.1, 119.6, chat_id=ZFJ, reply_to=bot.last(ZFJ)["message_id"])
    arrived = bot.last(GRID_WORKER)
    await bot.press(GRID_WORKER, GRID_WORKER, "有异议")
    await bot.say(GRID_WORKER, "没看到人", reply_to=bot.last(GRID_WORKER)["message_id"])
    dispute = bot.last(CENTER)

    def datas(message):
        return {b["text"]: b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row}

    cases = [(ZFJ, card["message_id"], card["reply_markup"]["inline_keyboard"][0][0]["callback_data"], STAFF),
             (GRID_WORKER, arrived["message_id"], datas(arrived)["✅ 确认到场"], {"grid worker"}),
             (CENTER, dispute["message_id"], datas(dispute)["认可报到"], {"dispatcher", "admin"})]
    for chat, message_id, data, allowed in cases:
        for who, person in PEOPLE.items():
            if who in allowed:
                continue
            before = await row_counts(bot.svc.db, *CHANGES, Audit)
            bot.double.press(chat, message_id, person, data, force=True)
            await bot.settle()
            assert CHINESE.search(bot.double.callback_answers[-1]["text"] or ""), (data, who)
            after = await row_counts(bot.svc.db, *CHANGES, Audit)
            assert after[:-1] == before[:-1] and after[-1] == before[-1] + 1, (data, who)
