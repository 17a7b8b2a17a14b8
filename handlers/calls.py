"""Calls (网格呼叫) after they are sent: the department's call card (响应 / 报到 / 办结, a reply is a 进展 for the
caller), the caller's answers (确认到场 / 有异议, 确认办结 / 还没办完, the rating) and the command center's
decision on a disputed arrival.

    [响应] ─▶ who is coming, when (reply) ─▶ calls.respond          the caller is told
    [报到] ─▶ location (or a photo) reply ─▶ calls.arrive_call      ─▶ caller: [确认到场] [有异议 ─▶ reason ─▶ 指挥中心]
    [办结] ─▶ result (reply)              ─▶ calls.resolve          ─▶ caller: [确认办结 ─▶ rating] [还没办完 ─▶ reason]
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot import texts
from bot.calls.actions import SATISFACTION, rating_buttons
from bot.workflow import WorkflowError
from handlers import keyboard
from handlers.common import Context, acting_for, acting_member, answers, ask, polite, pressed, services

ASK = {
    "respond": ("call_respond", texts.ASK_RESPONDER),
    "arrive_call": ("call_arrive", texts.ASK_CALL_ARRIVAL),
    "resolve_call": ("call_resolve", texts.ASK_CALL_RESULT),
}
LETTER = {key[0]: key for key in SATISFACTION}


@polite
async def card_button(update: Update, context: Context) -> None:
    press, svc, member = await pressed(update, context)
    kind, question = ASK[press.action]
    call = await svc.workflow.calls.may(press.action, press.id, member, acting_for=await acting_for(update, context))
    await ask(update, context, kind, question.format(who=update.effective_user.full_name, number=call.number),
              None, placeholder=texts.ACTION[press.action], data={"call_id": call.id})


@answers("call_respond")
@answers("call_resolve")
async def answer_text(update: Update, context: Context, pending) -> None:
    calls = services(context).workflow.calls
    act = calls.respond if pending.kind == "call_respond" else calls.resolve
    done = texts.DONE_RESPOND if pending.kind == "call_respond" else texts.DONE_CALL_RESOLVE
    await act(pending.data["call_id"], await acting_member(update, context), update.effective_message.text or "",
              acting_for=await acting_for(update, context))
    await services(context).prompts.done(pending.id)
    await update.effective_message.reply_text(done)


@answers("call_arrive")
async def answer_arrive(update: Update, context: Context, pending) -> None:
    message = update.effective_message
    if message.location is None and not message.photo:
        raise WorkflowError(texts.ARRIVAL_NEEDS_LOCATION)
    location = message.location
    await services(context).workflow.calls.arrive(
        pending.data["call_id"], await acting_member(update, context), location.latitude if location else None,
        location.longitude if location else None, photo=message.photo[-1].file_id if message.photo else None,
        acting_for=await acting_for(update, context))
    await services(context).prompts.done(pending.id)
    await message.reply_text(texts.DONE_CALL_ARRIVE)


@polite
async def caller_button(update: Update, context: Context) -> None:
    """The caller: 确认到场 / 有异议, 确认办结 / 还没办完, and the three questions of the rating."""
    query = update.callback_query
    press, svc, member = await pressed(update, context)
    calls = svc.workflow.calls
    if press.action in ("confirm_arrival", "confirm_done"):
        await (calls.confirm_arrival if press.action == "confirm_arrival" else calls.confirm_done)(press.id, member)
        await query.answer(texts.DONE_CONFIRMED)
        asked = getattr(query.message, "text", None) or ""  # the question stays readable, answered: no buttons, a mark at the end
        await query.edit_message_text(f"{asked}\n{texts.CONFIRMED_MARK[press.action]}"[:4096], reply_markup=None)
    elif press.action in ("dispute", "reject_done"):
        call = await calls.may(press.action, press.id, member)
        kind, question = ("call_dispute", texts.ASK_DISPUTE) if press.action == "dispute" else (
            "call_not_done", texts.ASK_NOT_DONE)
        await ask(update, context, kind, question, None, placeholder=texts.ACTION[press.action],
                  data={"call_id": call.id})
    elif press.action == "rate_call" and press.arg and set(press.arg) <= set(LETTER) and len(press.arg) <= 3:
        await rate(update, context, press, member)
    else:
        raise WorkflowError(texts.ERR_FORGED)


async def rate(update: Update, context: Context, press: keyboard.Press, member) -> None:
    """一哨一考核: 响应速度, then 到场情况, then 处置结果; then an optional comment."""
    calls = services(context).workflow.calls
    query = update.callback_query
    call = await calls.may("rate_call", press.id, member)
    if len(press.arg) < 3:
        await query.answer()
        await query.edit_message_text(texts.CALL_RATE_ASK.format(number=call.number,
                                                                 aspect=texts.RATE_ASPECTS[len(press.arg)]),
                                      reply_markup=keyboard.inline(rating_buttons(call.id, press.arg)))
        return
    speed, arrival, outcome = (LETTER[c] for c in press.arg)
    await calls.rate(call.id, member, speed, arrival, outcome)
    await query.answer()
    await query.edit_message_text(texts.CALL_RATED.format(speed=texts.SATISFACTION[speed],
                                                          arrival=texts.SATISFACTION[arrival],
                                                          outcome=texts.SATISFACTION[outcome]))
    await ask(update, context, "call_comment", texts.CALLBACK_COMMENT, None, placeholder=texts.ACTION["comment"],
              data={"call_id": call.id})


@answers("call_dispute")
@answers("call_not_done")
@answers("call_comment")
async def caller_text(update: Update, context: Context, pending) -> None:
    calls = services(context).workflow.calls
    act, done = {"call_dispute": (calls.dispute, texts.DONE_DISPUTE),
                 "call_not_done": (calls.reject_done, texts.DONE_NOT_DONE),
                 "call_comment": (calls.comment, texts.CALLBACK_COMMENT_SAVED)}[pending.kind]
    await act(pending.data["call_id"], await acting_member(update, context), update.effective_message.text or "")
    await services(context).prompts.done(pending.id)
    await update.effective_message.reply_text(done)


@polite
async def dispute_button(update: Update, context: Context) -> None:
    """The command center decides a disputed arrival: it stands, or the department must arrive again."""
    press, svc, member = await pressed(update, context)
    await svc.workflow.calls.decide_dispute(press.id, member, uphold=press.action == "uphold_arrival")
    await update.callback_query.answer(texts.DONE_CONFIRMED)


async def note(update: Update, context: Context, call_id: int) -> None:
    """A department member's reply to the call card: a 进展 for the caller (a colleague: relayed as written)."""
    await services(context).workflow.calls.note(call_id, await acting_member(update, context),
                                                update.effective_message.text or "",
                                                acting_for=await acting_for(update, context))
    await update.effective_message.reply_text(texts.DONE_CALL_NOTE)




def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(card_button, pattern=keyboard.pattern(*ASK)))
    app.add_handler(CallbackQueryHandler(caller_button, pattern=keyboard.pattern(
        "confirm_arrival", "dispute", "confirm_done", "reject_done", "rate_call")))
    app.add_handler(CallbackQueryHandler(dispute_button, pattern=keyboard.pattern("uphold_arrival", "reject_arrival")))
