"""`gridbot demo`: the whole loop as a scripted conversation through the Bot API double, printed as a
transcript. Uses a throw-away SQLite database, the shipped catalogue and the demo county; exits 0 when
every step produced what it should (a missing step is an error, not a quiet transcript).
"""

from __future__ import annotations

import logging
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bot import texts
from bot.config import Settings, load_settings
from bot.sandbox import LocalBot

RESIDENT, STAFF, DISPATCHER = 1001, 2001, 3001
GRID_WORKER, ZFJ_STAFF, ZFJ_GROUP = 1101, 2003, -1001000000003  # 赵网格员, 综合行政执法局's 赵芳 and its group
MARKET = (35.99580, 119.41010)


class Transcript:
    """Prints every message, user's and bot's, in order, once (edits are shown as edits)."""

    def __init__(self, local: LocalBot, out=sys.stdout) -> None:
        self.local = local
        self.out = out
        self.seq = 0
        self.names: dict[int, str] = {}

    def flush(self) -> None:
        state = self.local.double.state(self.seq)
        self.seq = state["seq"]
        chats = {c["id"]: c.get("title") or "私聊" for c in state["chats"]}
        users = {u["id"]: u["first_name"] for u in state["users"]}
        for change in state["messages"]:
            m = change["message"]
            chat = chats.get(change["chat_id"], str(change["chat_id"]))
            who = texts.BOT_NAME if change["from_bot"] else users.get(m["from"]["id"], str(m["from"]["id"]))
            edited = "（更新）" if "edit_date" in m else ""
            body = (_media(m) + (m.get("text") or m.get("caption") or "")).replace("\n", "\n      ")
            self.out.write(f"\n[{chat}] {who}{edited}:\n      {body}\n")
            buttons = [b["text"] for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
            if buttons:
                self.out.write("      " + " ".join(f"[{b}]" for b in buttons) + "\n")
        self.out.flush()


def _media(m: dict) -> str:
    """What a chat shows besides text: [照片], [文件：…], [语音 8秒], [地点 …], [位置]."""
    if m.get("venue"):
        return f"[地点：{m['venue']['title']}] "
    if m.get("location"):
        return "[位置] "
    if m.get("document"):
        return f"[文件：{m['document'].get('file_name', '')}] "
    if m.get("photo"):
        return "[照片] "
    for kind, label in (("voice", "语音"), ("video", "视频")):
        if m.get(kind):
            return f"[{label} {m[kind].get('duration', '?')}秒] "
    return ""


async def play(settings: Settings | None = None) -> int:
    logging.getLogger().setLevel(logging.WARNING)  # the transcript is the output; logs only for trouble
    settings = settings or load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(settings, database_url=f"sqlite:///{Path(tmp) / 'demo.db'}", token=None)
        local = await LocalBot.start(settings)
        try:
            return await _script(local, Transcript(local))
        finally:
            await local.stop()
            await local.double.stop()
            await local.svc.db.dispose()


async def _script(local: LocalBot, t: Transcript) -> int:
    async def step(title: str, action) -> None:
        t.out.write(f"\n━━ {title} ━━\n")
        await action
        t.flush()

    await step("居民拍照反映（照片＋一句话）",
               local.photo(RESIDENT, "我家楼下有人私搭乱建，在院子里加盖了一个大棚子，占了消防通道"))
    await step("居民确认提交", local.press(RESIDENT, RESIDENT, texts.BTN_SUBMIT))
    number = local.find(RESIDENT, "工单号：")["text"].split("工单号：")[1].split()[0]
    lead_chat = _lead_card_chat(local, number)
    if lead_chat is None:
        print(f"demo: ticket {number} did not reach a department's group", file=sys.stderr)
        return 1
    card = local.last(lead_chat)
    staff = next(c for c in local.double.state()["chats"] if c["id"] == lead_chat)["members"]
    staff_id = next(m for m in staff if m != local.double.bot_id)
    await step("部门签收", local.press(lead_chat, staff_id, texts.CARD_BUTTON["accept"], message_id=card["message_id"]))
    await step("部门回复卡片（先确认是否转告群众）",
               local.say(staff_id, "已安排执法队员明天上午到现场核查", chat_id=lead_chat, reply_to=card["message_id"]))
    await step("部门确认转告群众", local.press(lead_chat, staff_id, texts.BTN_RELAY))
    await step("部门到场报到", local.press(lead_chat, staff_id, texts.CARD_BUTTON["arrive"], message_id=card["message_id"]))
    await step("部门发送现场位置", local.locate(staff_id, 35.9966, 119.4108, chat_id=lead_chat,
                                             reply_to=local.last(lead_chat)["message_id"]))
    await step("部门办结", local.press(lead_chat, staff_id, texts.CARD_BUTTON["resolve"], message_id=card["message_id"]))
    prompt = local.last(lead_chat)
    await step("部门回复处置后照片和办理结果（本事项办结须附照片）",
               local.photo(staff_id, "违建棚子已拆除，消防通道已恢复畅通", chat_id=lead_chat,
                           reply_to=prompt["message_id"]))
    await step("居民查看工单", local.say(RESIDENT, f"/t {number}"))
    ok = "已办结" in "".join(local.texts(RESIDENT))
    t.out.write(f"\n{'✔ 全流程完成' if ok else '✘ 流程未完成'}：工单 {number}\n")
    called = await _call(local, t, step)
    await step("指挥中心查看今日和本月指标", local.say(DISPATCHER, "/stats"))
    await step("指挥中心导出本月工单和指标", local.say(DISPATCHER, "/export"))
    figures = any(m.get("photo") or texts.CHART_UNAVAILABLE in (m.get("text") or "")
                  for m in local.double.bot_messages(DISPATCHER)) and bool(local.last(DISPATCHER).get("document"))
    t.out.write(f"\n{'✔ 指标与导出完成' if figures else '✘ 指标或导出未完成'}\n")
    return 0 if ok and called and figures else 1


async def _call(local: LocalBot, t: Transcript, step) -> bool:
    """网格呼叫、部门报到: a grid worker calls 城管 to the market; it responds, arrives, handles it; rated."""
    t.out.write("\n\n══════ 网格呼叫、部门报到 ══════\n")
    await step("网格员发送现场位置", local.locate(GRID_WORKER, *MARKET))
    await step("网格员呼叫城管", local.say(GRID_WORKER, "呼叫城管 人民路菜市场门口占道经营，堵住了消防通道"))
    await step("网格员确认发送", local.press(GRID_WORKER, GRID_WORKER, texts.BTN_SEND_CALL))
    await step("部门响应", local.press(ZFJ_GROUP, ZFJ_STAFF, texts.CALL_BUTTON["respond"]))
    await step("部门写明谁去、几点到", local.say(ZFJ_STAFF, "赵芳、刘强，10分钟后到", chat_id=ZFJ_GROUP,
                                              reply_to=local.last(ZFJ_GROUP)["message_id"]))
    await step("部门到场报到", local.press(ZFJ_GROUP, ZFJ_STAFF, texts.CALL_BUTTON["arrive_call"]))
    await step("部门发送现场位置", local.locate(ZFJ_STAFF, 35.99610, 119.41050, chat_id=ZFJ_GROUP,
                                             reply_to=local.last(ZFJ_GROUP)["message_id"]))
    await step("网格员确认到场", local.press(GRID_WORKER, GRID_WORKER, texts.BTN_CONFIRM_ARRIVAL))
    await step("部门办结", local.press(ZFJ_GROUP, ZFJ_STAFF, texts.CALL_BUTTON["resolve_call"]))
    await step("部门填写处置结果", local.say(ZFJ_STAFF, "占道摊位已劝离，消防通道已清理", chat_id=ZFJ_GROUP,
                                             reply_to=local.last(ZFJ_GROUP)["message_id"]))
    await step("网格员确认办结", local.press(GRID_WORKER, GRID_WORKER, texts.BTN_CONFIRM_DONE))
    for aspect in texts.RATE_ASPECTS:
        await step(f"网格员评价：{aspect}", local.press(GRID_WORKER, GRID_WORKER, texts.SATISFACTION["satisfied"]))
    ok = any("评价已记录" in text for text in local.texts(GRID_WORKER))
    t.out.write(f"\n{'✔ 呼叫全流程完成' if ok else '✘ 呼叫未完成'}\n")
    return ok


def _lead_card_chat(local: LocalBot, number: str) -> int | None:
    """The group whose card for `number` has the lead's buttons (cooperating cards have no 退回)."""
    for chat in local.double.state()["chats"]:
        for m in local.double.bot_messages(chat["id"]) if chat["id"] < 0 else ():
            if number in (m.get("text") or "") and texts.CARD_BUTTON["return"] in str(m.get("reply_markup")):
                return chat["id"]
    return None
