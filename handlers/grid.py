"""Grid workers (网格员) in their private chat: 呼叫 a department to the spot, file on a resident's behalf (代办),
see their grid (/grid). Patrol findings (巡查) are plain requests with photos and a place, as residents send.

    "呼叫城管 人民路…" or /call … ─▶ call draft shown back ─▶ 发送呼叫 ─▶ call card in the department's group
                                        │ 改为紧急 / 换部门 / 取消
    "代办 13912345678 诉求"        ─▶ a draft filed for that resident (their phone stays in the system)
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import texts
from bot.calls.cards import call_clock_label
from bot.calls.intake import CallDraftView
from bot.calls.parsing import is_call
from bot.outbox import button
from bot.workflow import WorkflowError
from handlers import keyboard
from handlers.common import (
    Context,
    acting_member,
    member_with_role,
    polite,
    pressed,
    services,
    take_attachments,
)
from nlp.catalogue import TOWNSHIP
from storage.models import Role

PRIVATE = filters.ChatType.PRIVATE
CALL_TEXT = PRIVATE & filters.TEXT & filters.Regex(r"^\s*呼叫")
CALL_CAPTION = PRIVATE & filters.PHOTO & filters.CaptionRegex(r"^\s*呼叫")
PROXY_TEXT = PRIVATE & filters.TEXT & filters.Regex(r"^\s*代办")
_PROXY = re.compile(r"^\s*代办[\s:：]*(\+?\d[\d\- ]{5,16}\d)?[\s,，:：]*(.*)$", re.S)
_PHONE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")


@polite
async def call(update: Update, context: Context) -> None:
    """/call … or a message starting with 呼叫 (a photo with such a caption too)."""
    message = update.effective_message
    words = message.text or message.caption or ""
    if message.text and message.text.startswith("/") and not context.args:
        words = ""
    svc = services(context)
    member = await member_with_role(update, context, Role.GRID_WORKER, texts.CALL_ONLY_GRID_WORKERS)
    attachments = await take_attachments(update, context)
    if message.photo:
        attachments["photos"] = [*attachments.get("photos", []), message.photo[-1].file_id]
    view = await svc.call_intake.draft(member, words if is_call(words) else f"呼叫 {words}", **attachments)
    text, rows = await render_call_draft(update, context, view)
    await message.reply_text(text, reply_markup=keyboard.inline(rows))


async def render_call_draft(update: Update, context: Context, view: CallDraftView) -> tuple[str, list]:
    svc = services(context)
    d = view.draft
    if view.needs_department:
        head = texts.CALL_UNKNOWN_DEPARTMENT.format(name=view.unknown_name) + "\n" if view.unknown_name else ""
        rows = [[button(_department_name(svc, code), "call_department", d.id, code)] for code in view.choices]
        rows.append([button(texts.BTN_CANCEL, "cancel", d.id)])
        return head + texts.CALL_PICK_DEPARTMENT.format(text=d.text), rows
    matter = svc.catalogue.matters.get(d.matter_code or "")
    coop = [_department_name(svc, c) for c in matter.cooperate] if matter and matter.lead == d.department_code else []
    limits = svc.workflow.calls.limits
    limit = (texts.CALL_LIMIT_URGENT.format(respond=limits.urgent_respond, arrive=limits.urgent_arrive)
             if d.urgency == "urgent" else texts.CALL_LIMIT_URGENT.format(respond=limits.respond,
                                                                           arrive=_arrive_limit(svc, d)))
    evidence = "、".join(w for w, present in (("照片", await svc.tickets.has_photos(d.id)),
                                               ("位置", d.latitude is not None)) if present)
    member = await acting_member(update, context)
    text = texts.CALL_CONFIRM.format(
        dept=_department_name(svc, d.department_code), matter=f"事项：{matter.name}\n" if matter else "",
        cooperate=texts.CALL_CONFIRM_COOP.format(names="、".join(coop)) if coop else "",
        urgency=texts.URGENCY[d.urgency or "normal"], limit=limit,
        grid=await svc.directory.grid_label(member.grid_id),
        evidence=texts.CALL_CONFIRM_EVIDENCE.format(what=evidence) if evidence else "", text=d.text)
    toggle = (button(texts.BTN_NORMAL, "urgency", d.id, "normal") if d.urgency == "urgent"
              else button(texts.BTN_URGENT, "urgency", d.id, "urgent"))
    rows = [[button(texts.BTN_SEND_CALL, "send_call", d.id)],
            [toggle, button(texts.BTN_OTHER_DEPARTMENT, "call_department", d.id), button(texts.BTN_CANCEL, "cancel", d.id)]]
    return text, rows


def _arrive_limit(svc, draft) -> str:
    matter = svc.catalogue.matters.get(draft.matter_code or "")
    return (matter.clocks.get("arrive") if matter else None) or svc.workflow.calls.limits.arrive


def _department_name(svc, code: str | None) -> str:
    if code == TOWNSHIP:
        return texts.TOWNSHIP_LABEL
    dept = svc.catalogue.departments.get(code or "")
    return dept.name if dept else (code or "")


@polite
async def call_draft_button(update: Update, context: Context) -> None:
    """发送呼叫 / 改为紧急 / 换部门 (or a department picked) on a call draft."""
    query = update.callback_query
    press, svc, member = await pressed(update, context)
    if press.action == "send_call":
        call = await svc.call_intake.send(press.id, member)
        await query.answer()
        await query.edit_message_text(texts.CALL_SENT_INLINE.format(number=call.number, text=call.text[:60]))
        return
    if press.action == "urgency" and press.arg in texts.URGENCY:
        view = await svc.call_intake.choose(press.id, member, urgency=press.arg)
    elif press.action == "call_department" and press.arg:
        view = await svc.call_intake.choose(press.id, member, department=press.arg)
    elif press.action == "call_department":
        view = await svc.call_intake.choose(press.id, member)
        view.needs_department = True
    else:
        raise WorkflowError(texts.ERR_FORGED)
    text, rows = await render_call_draft(update, context, view)
    await query.answer()
    await query.edit_message_text(text, reply_markup=keyboard.inline(rows))


@polite
async def my_grid(update: Update, context: Context) -> None:
    """/grid: the grid worker's grid — open tickets and calls, with state and what they wait for."""
    svc = services(context)
    member = await member_with_role(update, context, Role.GRID_WORKER, texts.GRID_ONLY)
    if member.grid_id is None:
        await update.effective_message.reply_text(texts.GRID_NONE)
        return
    now = svc.workflow.now()
    tickets, calls = await svc.tickets.open_in_grid(member.grid_id, now)
    lines = [texts.GRID_HEAD.format(grid=await svc.directory.grid_label(member.grid_id), tickets=len(tickets),
                                    calls=len(calls))]
    lines += [texts.GRID_TICKET.format(number=t.number, state=texts.STATE[t.state], clock=clock,
                                       matter=svc.catalogue.matters[t.matter_code].name if t.matter_code else
                                       texts.UNCLASSIFIED) for t, clock in tickets]
    lines += [texts.GRID_CALL.format(number=c.number, dept=dept, clock=call_clock_label(c, now)) for c, dept in calls]
    if not tickets and not calls:
        lines.append(texts.GRID_EMPTY)
    await update.effective_message.reply_text("\n".join(lines)[:4096])


@polite
async def proxy(update: Update, context: Context) -> None:
    """代办 手机号 诉求: a request filed for a resident; their phone stays in the system, never on a card."""
    svc = services(context)
    await member_with_role(update, context, Role.GRID_WORKER, texts.PROXY_ONLY)
    m = _PROXY.match(update.effective_message.text or "")
    phone, text = (m.group(1) or "").replace(" ", "").replace("-", ""), (m.group(2) or "").strip()
    if not phone or not text:
        await update.effective_message.reply_text(texts.PROXY_ASK_PHONE)
        return
    if not _PHONE.match(phone):
        await update.effective_message.reply_text(texts.PROXY_BAD_PHONE.format(phone=phone[:20]))
        return
    resident = await svc.directory.resident_by_phone(phone)
    from handlers.resident import show_draft  # the same draft view a resident gets

    await show_draft(update, context, text, on_behalf_of=resident, **await take_attachments(update, context))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("call", call, filters=PRIVATE))
    app.add_handler(CommandHandler("grid", my_grid, filters=PRIVATE))
    app.add_handler(MessageHandler(CALL_TEXT | CALL_CAPTION, call))
    app.add_handler(MessageHandler(PROXY_TEXT, proxy))
    app.add_handler(CallbackQueryHandler(call_draft_button, pattern=keyboard.pattern(
        "send_call", "urgency", "call_department")))
