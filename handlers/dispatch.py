"""The command center's chat: dispatchers pick the matter of unclear or returned tickets, or uphold a return.

A return never goes silently to another office: it lands here, and a dispatcher decides.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot import actions, texts
from bot.outbox import build_markup
from bot.workflow import WorkflowError
from handlers.common import Context, acting_member, answer_with, answers, ask, polite, pressed, services
from storage.models import PendingInput


@polite
async def dispatch_button(update: Update, context: Context) -> None:
    query = update.callback_query
    payload, svc, member = await pressed(update, context)
    if payload.action == actions.DISPATCH and payload.arg:
        done = await svc.workflow.dispatch(payload.id, payload.arg, member)
        matter = svc.catalogue.matter(payload.arg)
    elif payload.action == actions.UPHOLD:
        ticket = await svc.workflow.precheck(payload.id, member, "uphold")
        lead = svc.catalogue.departments.get(svc.catalogue.matter(ticket.matter_code).lead)
        await ask(update, context, "uphold", texts.ASK_UPHOLD_NOTE.format(
            who=update.effective_user.full_name, dept=lead.name if lead else texts.TOWNSHIP_LABEL), ticket.id,
            placeholder=texts.ACTION["uphold"])
        return
    elif payload.action in (actions.APPROVE, actions.REFUSE):
        done = await svc.workflow.decide_extension(payload.id, member, payload.action == actions.APPROVE)
        await query.answer(done.reply)
        await query.edit_message_text(texts.EXTENSION_DECIDED.format(
            number=done.ticket.number, decision=done.reply, who=update.effective_user.full_name))
        return
    elif payload.action == actions.BROWSE:
        await browse(update, context, payload)
        return
    else:
        raise WorkflowError(texts.ERR_FORGED)
    await query.answer(done.reply)
    lead = svc.catalogue.departments.get(matter.lead)
    await query.edit_message_text(texts.DISPATCH_DONE.format(
        number=done.ticket.number, matter=matter.name, lead=lead.name if lead else texts.TOWNSHIP_LABEL,
        who=update.effective_user.full_name))


async def browse(update: Update, context: Context, payload: actions.Payload) -> None:
    """Categories, then the matters of one category: the whole catalogue is reachable in two taps."""
    svc = services(context)
    ticket = await svc.workflow.precheck(payload.id, await acting_member(update, context), "dispatch")
    categories = list(dict.fromkeys(m.category1 for m in svc.catalogue.matters.values()))
    index = int(payload.arg) if payload.arg and payload.arg.isdigit() else None
    if index is None or index >= len(categories):
        text = texts.BROWSE_CATEGORIES.format(number=ticket.number, text=ticket.text)
        buttons = [[c, actions.ticket(actions.BROWSE, ticket.id, str(i))] for i, c in enumerate(categories)]
    else:
        text = texts.BROWSE_MATTERS.format(number=ticket.number, text=ticket.text, category=categories[index])
        buttons = [[m.name, actions.ticket(actions.DISPATCH, ticket.id, m.code)]
                   for m in svc.catalogue.matters.values() if m.category1 == categories[index]]
        buttons.append([texts.BTN_BACK, actions.ticket(actions.BROWSE, ticket.id)])
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    await update.callback_query.answer()
    await update.callback_query.edit_message_text(text[:4096], reply_markup=build_markup(rows))


@answers("uphold")
async def answer_uphold(update: Update, context: Context, pending: PendingInput) -> None:
    await answer_with(update, context, pending, services(context).workflow.uphold)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(dispatch_button, pattern=rf"^t:({actions.DISPATCH}|{actions.UPHOLD}|{actions.BROWSE}|{actions.APPROVE}|{actions.REFUSE}):"))
