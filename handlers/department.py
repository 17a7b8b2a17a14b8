"""Department group chats: the ticket card's buttons and replies to the card.

    [签收]     ─▶ workflow.accept
    [退回]     ─▶ ask for a reason (ForceReply) ─▶ reply ─▶ workflow.return_  (goes to the dispatcher)
    [报到]     ─▶ ask for the location          ─▶ location reply ─▶ workflow.arrive
    [办结]     ─▶ ask for the result            ─▶ reply ─▶ workflow.resolve (the resident is told)
    [申请延期] ─▶ ask for date and reason        ─▶ reply ─▶ workflow.request_extension (dispatcher decides)
    reply to the card ─▶ workflow.add_note (relayed to the resident)

Only members of the department whose card it is may act; the workflow refuses everyone else.
"""

from __future__ import annotations

import functools

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot import actions, texts
from bot.workflow import WorkflowError, parse_extension
from handlers.common import Context, acting_member, answer_with, answers, ask, polite, pressed, services, take_answer
from storage.models import PendingInput

GROUPS = filters.ChatType.GROUPS
ASK = {
    actions.RETURN: ("return", texts.ASK_RETURN_REASON),
    actions.RESOLVE: ("resolve", texts.ASK_RESULT),
    actions.ARRIVE: ("arrive", texts.ASK_ARRIVAL),
    actions.EXTEND: ("extend", texts.ASK_EXTENSION),
}


@polite
async def card_button(update: Update, context: Context) -> None:
    query = update.callback_query
    payload, svc, member = await pressed(update, context)
    if payload.action == actions.ACCEPT:
        done = await svc.workflow.accept(payload.id, member, chat_id=update.effective_chat.id)
        await query.answer(done.reply)
        return
    if payload.action not in ASK:
        raise WorkflowError(texts.ERR_FORGED)
    action, question = ASK[payload.action]
    ticket = await svc.workflow.precheck(payload.id, member, action, chat_id=update.effective_chat.id)
    await ask(update, context, action, question.format(who=update.effective_user.full_name, number=ticket.number),
              ticket.id, placeholder=texts.ACTION[action])


@answers("return")
@answers("resolve")
async def answer_reason_or_result(update: Update, context: Context, pending: PendingInput) -> None:
    """退回理由 → workflow.return_; 办结结果 → workflow.resolve (acting for this chat's department)."""
    workflow = services(context).workflow
    act = workflow.return_ if pending.kind == "return" else workflow.resolve
    await answer_with(update, context, pending, functools.partial(act, chat_id=update.effective_chat.id))


@answers("extend")
async def answer_extend(update: Update, context: Context, pending: PendingInput) -> None:
    svc = services(context)
    member = await acting_member(update, context)
    parsed = parse_extension(update.effective_message.text or "", svc.workflow.now())
    if parsed is None:  # let the workflow word the refusal, with the current deadline in it
        parsed = (svc.workflow.now(), "")
    done = await svc.workflow.request_extension(pending.ticket_id, member, *parsed, chat_id=update.effective_chat.id)
    await svc.prompts.done(pending.id)
    await update.effective_message.reply_text(done.reply)


@answers("arrive")
async def answer_arrive(update: Update, context: Context, pending: PendingInput) -> None:
    message = update.effective_message
    if message.location is None:
        raise WorkflowError(texts.ARRIVAL_NEEDS_LOCATION)
    svc = services(context)
    done = await svc.workflow.arrive(pending.ticket_id, await acting_member(update, context),
                                     message.location.latitude, message.location.longitude,
                                     chat_id=update.effective_chat.id)
    await svc.prompts.done(pending.id)
    await message.reply_text(done.reply)


@polite
async def group_message(update: Update, context: Context) -> None:
    """An answer to the bot's question, or a reply to a card (a progress note for the resident)."""
    if await take_answer(update, context):
        return
    message = update.effective_message
    if message.reply_to_message is None or not message.text:
        return  # ordinary group chatter
    svc = services(context)
    ticket_id = await svc.tickets.for_card(update.effective_chat.id, message.reply_to_message.message_id)
    if ticket_id is None:
        return
    done = await svc.workflow.add_note(ticket_id, await acting_member(update, context), message.text,
                                       chat_id=update.effective_chat.id)
    await message.reply_text(done.reply)


def register(app: Application) -> None:
    buttons = "|".join([actions.ACCEPT, *ASK])
    app.add_handler(CallbackQueryHandler(card_button, pattern=rf"^t:({buttons}):"))
    app.add_handler(MessageHandler(GROUPS & (filters.TEXT | filters.LOCATION) & ~filters.COMMAND, group_message))
