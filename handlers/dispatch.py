"""The command center's chat: dispatchers pick the matter of unclear or returned tickets, uphold a return,
decide extensions, and ask reporters questions (a reply to a 待分派 card, handled with the group messages).

A return never goes silently to another office: it lands here, and a dispatcher decides.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot import texts
from bot.outbox import button
from bot.workflow import WorkflowError
from handlers import keyboard
from handlers.common import Context, answer_with, answers, ask, polite, pressed, services


@polite
async def dispatch_button(update: Update, context: Context) -> None:
    query = update.callback_query
    press, svc, member = await pressed(update, context)
    if press.action == "dispatch" and press.arg:
        done = await svc.workflow.routing.dispatch(press.id, press.arg, member)
    elif press.action == "uphold":
        ticket = await svc.workflow.may("uphold", press.id, member)
        lead = svc.catalogue.departments.get(svc.catalogue.matter(ticket.matter_code).lead)
        await ask(update, context, "uphold", texts.ASK_UPHOLD_NOTE.format(
            who=update.effective_user.full_name, dept=lead.name if lead else texts.TOWNSHIP_LABEL), ticket.id,
            placeholder=texts.ACTION["uphold"])
        return
    elif press.action in ("approve_extension", "refuse_extension") and press.arg and press.arg.isdigit():
        done = await svc.workflow.department.decide_extension(press.id, int(press.arg), member,
                                                              press.action == "approve_extension")
    elif press.action == "browse":
        await browse(update, context, press, member)
        return
    else:
        raise WorkflowError(texts.ERR_FORGED)
    await query.answer(done.reply)  # the card itself is brought up to date by the workflow


async def browse(update: Update, context: Context, press: keyboard.Press, member) -> None:
    """Categories, then the matters of one category: the whole catalogue is reachable in two taps."""
    svc = services(context)
    ticket = await svc.workflow.may("dispatch", press.id, member)
    categories = list(dict.fromkeys(m.category1 for m in svc.catalogue.matters.values()))
    index = int(press.arg) if press.arg and press.arg.isdigit() else None
    if index is None or index >= len(categories):
        text = texts.BROWSE_CATEGORIES.format(number=ticket.number, text=ticket.text)
    else:
        text = texts.BROWSE_MATTERS.format(number=ticket.number, text=ticket.text, category=categories[index])
    rows = catalogue_rows(svc.catalogue, ticket.id, press.arg)
    await update.callback_query.answer()
    await update.callback_query.edit_message_text(text[:4096], reply_markup=keyboard.inline(rows))


def catalogue_rows(catalogue, ticket_id: int, arg: str | None, browse: str = "browse",
                   pick: str = "dispatch") -> list[list]:
    """The catalogue as buttons: its categories (`browse` with the category's index), or one category's
    matters (`pick` with the matter's code) and a way back."""
    categories = list(dict.fromkeys(m.category1 for m in catalogue.matters.values()))
    index = int(arg) if arg and arg.isdigit() else None
    if index is None or index >= len(categories):
        buttons = [button(c, browse, ticket_id, str(i)) for i, c in enumerate(categories)]
    else:
        buttons = [button(m.name, pick, ticket_id, m.code)
                   for m in catalogue.matters.values() if m.category1 == categories[index]]
        buttons.append(button(texts.BTN_BACK, browse, ticket_id))
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


@answers("uphold")
async def answer_uphold(update: Update, context: Context, pending) -> None:
    await answer_with(update, context, pending, services(context).workflow.routing.uphold)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(dispatch_button, pattern=keyboard.pattern(
        "dispatch", "uphold", "browse", "approve_extension", "refuse_extension")))
