"""Residents (and grid workers) in their private chat with the bot: write a request, follow tickets, answer
the bot's questions.

    text (photos, place: handlers/media.py) ─▶ draft shown back (and where? handlers/places.py) ─▶ 提交 ─▶ number
                                  │  换一类 ─▶ pick a matter / 交给人工分派
                                  └─ 取消
"""

from __future__ import annotations

import logging

from telegram import InputMediaPhoto, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import requests, texts
from bot.intake import DraftView
from bot.outbox import button
from bot.prompts import ANSWERED
from bot.workflow import NotAllowed, NotFound, WorkflowError
from handlers import admin, command, keyboard, places
from handlers.common import (
    Context,
    acting_member,
    answer_with,
    answers,
    ask,
    polite,
    pressed,
    services,
    take_answer,
    take_attachments,
)
from storage.models import PendingInput

log = logging.getLogger(__name__)
PRIVATE = filters.ChatType.PRIVATE
MAX_CHOICES = 6


async def start(update: Update, context: Context) -> None:
    """/start greets and explains; /start CODE redeems an invite (deep link)."""
    if context.args:
        await admin.redeem(update, context, context.args[0])
        return
    member = await acting_member(update, context)
    await context.bot_data["menus"].ensure(context.bot, member)
    await update.effective_message.reply_text(texts.START + "\n\n" + texts.HELP[texts.role_key(member)])


async def help_command(update: Update, context: Context) -> None:
    """/help: what this person's role can do (and their command menu is brought up to date)."""
    member = await acting_member(update, context)
    await context.bot_data["menus"].ensure(context.bot, member)
    await update.effective_message.reply_text(texts.HELP[texts.role_key(member)])


async def my_tickets(update: Update, context: Context) -> None:
    """/my: the resident's tickets with their status."""
    svc = services(context)
    tickets = await svc.tickets.of_member(await acting_member(update, context))
    if not tickets:
        await update.effective_message.reply_text(texts.NO_TICKETS)
        return
    lines = [texts.MY_TICKETS_HEAD.format(n=len(tickets))] + [
        texts.MY_TICKET_LINE.format(number=t.number, state=texts.STATE[t.state], matter=_matter_name(svc, t.matter_code))
        for t in tickets]
    await update.effective_message.reply_text("\n".join(lines))


@polite
async def show_ticket(update: Update, context: Context) -> None:
    """/t NUMBER: one ticket with its history, for whoever may see it (bot/tickets.py); the command center gets
    its tools with it."""
    if not context.args:
        await update.effective_message.reply_text(texts.T_USAGE)
        return
    svc = services(context)
    number = context.args[0].strip()[:20]
    member = await acting_member(update, context)
    view = await svc.tickets.view(number, member)
    if view is None:
        raise NotFound(texts.T_NOT_FOUND.format(number=number))  # unknown, or someone else's: said alike
    t = view.ticket
    history = "\n".join(
        texts.HISTORY_LINE.format(at=texts.local(e.at), kind=texts.EVENT.get(e.kind, e.kind),
                                  who=f"（{dept}）" if dept else "", note=f"：{e.note}" if e.note else "")
        for e, dept in view.events if e.kind != "internal_note")
    await update.effective_message.reply_text(texts.TICKET_VIEW.format(
        number=t.number, state=texts.STATE[t.state], matter=_matter_name(svc, t.matter_code),
        lead=view.lead or texts.UNCLASSIFIED, text=t.text,
        result=texts.TICKET_RESULT.format(result=t.result) if t.result else "", history=history)[:4096],
        reply_markup=keyboard.inline(command.tool_buttons(t)) if command.commands(member) else None)
    for caption, photos in ((texts.T_PHOTOS, view.photos), (texts.T_RESULT_PHOTOS, view.result_photos)):
        await send_album(update, photos, caption.format(n=len(photos)))


async def send_album(update: Update, photos: list[str], caption: str) -> None:
    """Photos by file id (Telegram keeps them): one photo, or albums of up to ten; the caption on the first."""
    for start in range(0, len(photos), 10):
        chunk = photos[start:start + 10]
        first = caption if start == 0 else None
        if len(chunk) == 1:
            await update.effective_message.reply_photo(chunk[0], caption=first)
        else:
            await update.effective_message.reply_media_group(
                [InputMediaPhoto(f, caption=first if i == 0 else None) for i, f in enumerate(chunk)])


@polite
async def request_text(update: Update, context: Context) -> None:
    """Any text is a request (unless it answers the bot's question): show what was understood."""
    if await take_answer(update, context):
        return
    if await services(context).tickets.consumed(requests.current()):
        return  # handled before (a replay after a crash): it answered a question whose prompt is closed now
    await draft_from(update, context, update.effective_message.text)


async def draft_from(update: Update, context: Context, text: str, photo: str | None = None,
                     media_group_id: str | None = None) -> None:
    """A request from this text, with the photos and place kept for it (and this photo)."""
    attachments = await take_attachments(update, context)
    if photo:
        attachments["photos"] = [*attachments.get("photos", []), photo]
    await show_draft(update, context, text, media_group_id=media_group_id, **attachments)


async def show_draft(update: Update, context: Context, text: str, *, on_behalf_of=None, **attachments) -> None:
    """What was understood, with 提交 / 换一类 / 取消 (and 加入 for an open duplicate); an emergency warning first."""
    svc = services(context)
    view = await svc.intake.draft(await acting_member(update, context), text, on_behalf_of=on_behalf_of,
                                  **attachments)
    message = update.effective_message
    if view.draft.emergency:
        template = texts.EMERGENCY if view.alerted else texts.EMERGENCY_NO_CENTER
        what = texts.EMERGENCY_KIND.get(view.emergency_kind or "", texts.EMERGENCY_KIND["danger"])
        where = "" if view.draft.latitude is not None else texts.EMERGENCY_ASK_WHERE
        await message.reply_text(template.format(what=what, hotlines=texts.hotlines(view.emergency_kind),
                                                 tip=texts.safety_tip(view.emergency_kind), where=where))
    body, rows = render_draft(context, view)
    await message.reply_text(body, reply_markup=keyboard.inline(rows))
    await places.ask_place(update, context, view)


async def unsupported(update: Update, context: Context) -> None:
    await update.effective_message.reply_text(texts.UNSUPPORTED)


async def unknown_command(update: Update, context: Context) -> None:
    member = await acting_member(update, context)
    await update.effective_message.reply_text(texts.UNKNOWN_COMMAND + "\n\n" + texts.HELP[texts.role_key(member)])


def render_draft(context: Context, view: DraftView) -> tuple[str, list]:
    svc = services(context)
    d = view.draft
    grid = texts.UNDERSTOOD_GRID.format(grid=view.grid) if view.grid else ""
    if view.confident and d.matter_code:
        matter = svc.catalogue.matter(d.matter_code)
        coop = [_department_name(svc, c, view.township) for c in matter.cooperate]
        text = texts.UNDERSTOOD.format(
            matter=matter.name, lead=_department_name(svc, matter.lead, view.township),
            cooperate=texts.UNDERSTOOD_COOP.format(names="、".join(coop)) if coop else "", grid=grid, text=d.text)
    else:
        text = texts.NOT_SURE.format(grid=grid, text=d.text)
    if view.on_behalf_of:
        text = texts.PROXY_UNDERSTOOD.format(who=view.on_behalf_of) + text
    if view.duplicates:
        note = texts.DUPLICATE_NOTE.format(numbers="、".join(t.number for t in view.duplicates))
        text = text.rsplit("\n\n", 1)[0] + "\n\n" + note
    rows = [[button(f"{texts.BTN_JOIN} {t.number}", "join", d.id, str(t.id))] for t in view.duplicates]
    rows.append([button(texts.BTN_SUBMIT if not view.duplicates else texts.BTN_NEW, "submit", d.id),
                 button(texts.BTN_OTHER, "other", d.id), button(texts.BTN_CANCEL, "cancel", d.id)])
    return text, rows


async def confirm(update: Update, context: Context, text: str) -> None:
    """Show the ticket number in place of the draft. The ticket is already committed: if Telegram refuses the
    edit (flood control, a network error), the number still reaches the resident, through the outbox."""
    query = update.callback_query
    try:
        await query.answer()
        await query.edit_message_text(text)
    except TelegramError:
        log.warning("could not confirm in place; the confirmation goes through the outbox", exc_info=True)
        member = await acting_member(update, context)
        await services(context).workflow.tell(member.id, text)


@polite
async def draft_button(update: Update, context: Context) -> None:
    """提交 / 换一类 / pick / 交给人工 / 取消 / 加入 on a draft."""
    query = update.callback_query
    press, svc, member = await pressed(update, context)
    if press.action == "submit":
        ticket = await svc.intake.submit(press.id, member)
        template = texts.SUBMITTED if ticket.matter_code else texts.SUBMITTED_TO_HUMAN
        await confirm(update, context, template.format(number=ticket.number, state=texts.STATE[ticket.state],
                                                       excerpt=excerpt(ticket.text)))
    elif press.action == "join" and press.arg and press.arg.isdigit():
        ticket = await svc.intake.join(press.id, member, int(press.arg))
        await confirm(update, context, texts.SUBMITTED.format(number=ticket.number, state=texts.STATE[ticket.state],
                                                              excerpt=excerpt(ticket.text)))
    elif press.action == "other":
        draft = await svc.intake.get(press.id, member)
        codes = [c for c in draft.candidates if c in svc.catalogue.matters][:MAX_CHOICES]
        rows = [[button(svc.catalogue.matter(c).name, "pick", draft.id, c)] for c in codes]
        rows.append([button(texts.BTN_HUMAN, "human", draft.id), button(texts.BTN_CANCEL, "cancel", draft.id)])
        await query.answer()
        await query.edit_message_text(f"{texts.CHOOSE_OTHER}\n\n{draft.text}", reply_markup=keyboard.inline(rows))
    elif press.action in ("pick", "human"):
        view = await svc.intake.pick(press.id, member, press.arg if press.action == "pick" else None)
        text, rows = render_draft(context, view)
        await query.answer()
        await query.edit_message_text(text, reply_markup=keyboard.inline(rows))
    elif press.action == "cancel":
        await svc.intake.cancel(press.id, member)
        await query.answer()
        await query.edit_message_text(texts.DRAFT_CANCELLED)
    else:
        raise WorkflowError(texts.ERR_FORGED)


@polite
async def callback_button(update: Update, context: Context) -> None:
    """回访: 已解决 / 未解决, then 满意 / 基本满意 / 不满意, then an optional comment."""
    query = update.callback_query
    press, svc, member = await pressed(update, context)
    if press.arg is None:
        raise WorkflowError(texts.ERR_FORGED)
    if press.action == "solved" and press.arg in ("y", "n"):
        ticket = await svc.workflow.may("rate", press.id, member)
        rows = [[button(label, "satisfaction", ticket.id, press.arg + key) for key, label in texts.SATISFACTION.items()]]
        await query.answer()
        await query.edit_message_text(texts.CALLBACK_SATISFACTION.format(number=ticket.number),
                                      reply_markup=keyboard.inline(rows))
        return
    solved, satisfaction = press.arg[:1], press.arg[1:]
    if press.action != "satisfaction" or solved not in ("y", "n"):
        raise WorkflowError(texts.ERR_FORGED)
    done = await svc.workflow.callback.rate(press.id, member, solved == "y", satisfaction)
    await query.edit_message_text(done.reply)
    await ask(update, context, "comment", texts.CALLBACK_COMMENT, done.ticket.id, placeholder=texts.ACTION["comment"])


@polite
async def as_request_button(update: Update, context: Context) -> None:
    """作为新诉求: a plain message that was taken as the answer to the bot's question becomes a draft request."""
    query = update.callback_query
    press, svc, _ = await pressed(update, context)
    kept = await svc.prompts.get(press.id)
    if kept is None or kept.kind != ANSWERED:
        raise NotFound(texts.AS_REQUEST_GONE)
    if kept.user_id != update.effective_user.id or kept.chat_id != update.effective_chat.id:
        raise NotAllowed(texts.AS_REQUEST_NOT_YOURS)
    await query.answer()
    await query.edit_message_reply_markup(None)
    await show_draft(update, context, kept.data.get("text", ""))
    await svc.prompts.done(kept.id)


@answers("comment")
async def answer_comment(update: Update, context: Context, pending: PendingInput) -> None:
    await answer_with(update, context, pending, services(context).workflow.callback.comment)


@answers("answer_dispatcher")
async def answer_dispatcher(update: Update, context: Context, pending: PendingInput) -> None:
    """The reporter's answer to the dispatcher's question goes back to the command center's card."""
    await answer_with(update, context, pending, services(context).workflow.routing.answer_dispatcher)


def excerpt(text: str) -> str:
    return text if len(text) <= texts.EXCERPT else text[:texts.EXCERPT] + "…"


def _matter_name(svc, code: str | None) -> str:
    return svc.catalogue.matters[code].name if code in svc.catalogue.matters else texts.UNCLASSIFIED


def _department_name(svc, code: str, township: str | None = None) -> str:
    dept = svc.catalogue.departments.get(code)
    return dept.name if dept else township or texts.TOWNSHIP_LABEL


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", help_command, filters=PRIVATE))
    app.add_handler(CommandHandler("my", my_tickets, filters=PRIVATE))
    app.add_handler(CommandHandler("t", show_ticket))  # also in groups: the command center, a department's
    app.add_handler(CallbackQueryHandler(draft_button, pattern=keyboard.pattern(
        "submit", "other", "pick", "human", "cancel", "join")))
    app.add_handler(CallbackQueryHandler(callback_button, pattern=keyboard.pattern("solved", "satisfaction")))
    app.add_handler(CallbackQueryHandler(as_request_button, pattern=keyboard.pattern("as_request")))


def register_fallbacks(app: Application) -> None:
    """Registered last: anything in a private chat that no other handler took."""
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT, request_text))
