"""Department group chats: the card's buttons and replies to a card.

    [签收]     ─▶ workflow.department.accept
    [退回]     ─▶ ask for a reason (ForceReply) ─▶ reply ─▶ department.return_  (goes to the dispatcher)
    [报到]     ─▶ ask for the location          ─▶ location reply ─▶ department.arrive
    [办结]     ─▶ ask for the result            ─▶ reply (text, or photos + caption) ─▶ department.resolve
               (the resident is told, with the 处置后照片; matters marked result_photo require one)
               (on-site matter, no 报到 yet: ask why nobody went ─▶ department.waive_arrival, recorded)
    [申请延期] ─▶ ask for date and reason        ─▶ reply ─▶ department.request_extension (dispatcher decides)
    reply to the card ─▶ shown back with [转告群众] / [仅内部备注] ─▶ department.add_note

Only members of the department whose card it is may act; the workflow refuses everyone else.
"""

from __future__ import annotations

import functools

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot import texts
from bot.outbox import button
from bot.workflow import ArrivalRequired, NotAllowed, NotFound, WorkflowError
from bot.workflow.parsing import parse_extension
from handlers import calls, keyboard
from handlers.common import (
    Context,
    acting_for,
    acting_member,
    answer_with,
    answers,
    ask,
    polite,
    pressed,
    services,
    take_answer,
)
from storage.models import PendingInput

GROUPS = filters.ChatType.GROUPS
ASK = {
    "return": texts.ASK_RETURN_REASON,
    "resolve": texts.ASK_RESULT,
    "arrive": texts.ASK_ARRIVAL,
    "extend": texts.ASK_EXTENSION,
}


@polite
async def card_button(update: Update, context: Context) -> None:
    query = update.callback_query
    press, svc, member = await pressed(update, context)
    department = await acting_for(update, context)
    if press.action == "accept":
        done = await svc.workflow.department.accept(press.id, member, acting_for=department)
        await query.answer(done.reply)
        return
    if press.action not in ASK:
        raise WorkflowError(texts.ERR_FORGED)
    who = update.effective_user.full_name
    try:
        ticket = await svc.workflow.may(press.action, press.id, member, acting_for=department)
    except ArrivalRequired:
        ticket = await svc.workflow.may("waive_arrival", press.id, member, acting_for=department)
        await ask(update, context, "waive_arrival", texts.ASK_WAIVER.format(who=who, number=ticket.number),
                  ticket.id, placeholder=texts.ACTION["waive_arrival"])
        return
    question = ASK[press.action]
    if press.action == "resolve" and ticket.matter_code and svc.catalogue.matter(ticket.matter_code).result_photo:
        question = texts.ASK_RESULT_WITH_PHOTO  # this matter's 办结 needs a photo: say so before, not after
    await ask(update, context, press.action, question.format(who=who, number=ticket.number), ticket.id,
              placeholder=texts.ACTION[press.action])


@answers("return")
@answers("waive_arrival")
async def answer_text(update: Update, context: Context, pending: PendingInput) -> None:
    """退回理由 → return_; 办结结果 → resolve; 未到场原因 → waive_arrival (acting for this chat's department)."""
    department = services(context).workflow.department
    act = {"return": department.return_, "waive_arrival": department.waive_arrival}[pending.kind]
    await answer_with(update, context, pending, functools.partial(act, acting_for=await acting_for(update, context)))


@answers("resolve")
async def answer_result(update: Update, context: Context, pending: PendingInput) -> None:
    """办结结果: text, or photos with the result in their caption (处置后照片). Photos without words are kept
    with the question until the result is written."""
    message, svc = update.effective_message, services(context)
    photos = list(pending.data.get("photos", []))
    if message.photo:
        photos = list(dict.fromkeys([*photos, message.photo[-1].file_id]))
    result = (message.caption if message.photo else message.text) or ""
    if message.photo and not result.strip():
        album = message.media_group_id
        await svc.prompts.keep(pending.id, {"photos": photos, "album": album})
        if album is None or pending.data.get("album") != album:  # once per album
            await message.reply_text(texts.RESULT_PHOTO_KEPT.format(n=len(photos)))
        return
    done = await svc.workflow.department.resolve(
        pending.ticket_id, await acting_member(update, context), result,
        acting_for=await acting_for(update, context), photos=photos, media_group_id=message.media_group_id)
    await svc.prompts.done(pending.id)
    await message.reply_text(done.reply)


@answers("extend")
async def answer_extend(update: Update, context: Context, pending: PendingInput) -> None:
    svc = services(context)
    parsed = parse_extension(update.effective_message.text or "", svc.workflow.now())
    if parsed is None:  # let the workflow word the refusal, with the current deadline in it
        parsed = (svc.workflow.now(), "")
    done = await svc.workflow.department.request_extension(
        pending.ticket_id, await acting_member(update, context), *parsed, acting_for=await acting_for(update, context))
    await svc.prompts.done(pending.id)
    await update.effective_message.reply_text(done.reply)


@answers("arrive")
async def answer_arrive(update: Update, context: Context, pending: PendingInput) -> None:
    message = update.effective_message
    if message.location is None:
        raise WorkflowError(texts.ARRIVAL_NEEDS_LOCATION)
    svc = services(context)
    done = await svc.workflow.department.arrive(pending.ticket_id, await acting_member(update, context),
                                                message.location.latitude, message.location.longitude,
                                                acting_for=await acting_for(update, context))
    await svc.prompts.done(pending.id)
    await message.reply_text(done.reply)


@polite
async def group_message(update: Update, context: Context) -> None:
    """An answer to the bot's question; a reply to a department card (a note: relayed to the resident only
    when its author says so); a dispatcher's reply to a 待分派 card (a question to the reporter)."""
    if await take_answer(update, context):
        return
    message = update.effective_message
    if message.photo:
        await _photo(update, context)
        return
    if message.reply_to_message is None or not message.text:
        return  # ordinary group chatter
    svc = services(context)
    card = await svc.tickets.card_at(update.effective_chat.id, message.reply_to_message.message_id)
    if card is None:
        return
    member = await acting_member(update, context)
    if card.subject_kind == "call":
        await calls.note(update, context, card.subject_id)
        return
    if card.key.startswith("dispatch:"):
        done = await svc.workflow.routing.ask_reporter(card.subject_id, member, message.text)
        await message.reply_text(done.reply)
        return
    if not card.key.startswith("assignment:"):
        return
    ticket = await svc.workflow.may("note", card.subject_id, member, acting_for=await acting_for(update, context))
    prompt = await svc.prompts.ask(update.effective_chat.id, update.effective_user.id, "note", ticket_id=ticket.id,
                                   prompt_message_id=message.message_id, data={"text": message.text[:3000]})
    rows = [[button(texts.BTN_RELAY, "relay", prompt.id), button(texts.BTN_INTERNAL, "internal", prompt.id)]]
    await message.reply_text(texts.NOTE_CONFIRM.format(text=message.text[:500]), reply_markup=keyboard.inline(rows))


async def _photo(update: Update, context: Context) -> None:
    """A photo that answers no question: the rest of an album a 办结 came with; sent in reply to the bot (a
    card), a word on how to send 处置后照片. Nothing changes."""
    svc, message = services(context), update.effective_message
    department = await acting_for(update, context)
    if not department:
        return  # not a department's group
    member = await acting_member(update, context)
    if message.media_group_id and await svc.workflow.department.add_result_photo(
            member, message.media_group_id, message.photo[-1].file_id, acting_for=department):
        return
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return  # photos the staff share among themselves (a bot that sees all group messages sees those too)
    if message.media_group_id and not await svc.prompts.first_of_album(update.effective_chat.id,
                                                                      update.effective_user.id, message.media_group_id):
        return  # the hint went with the album's first photo
    await message.reply_text(texts.GROUP_PHOTO_HINT)


@polite
async def note_button(update: Update, context: Context) -> None:
    """转告群众 / 仅内部备注 on a department member's reply to a card; only its author decides."""
    query = update.callback_query
    press, svc, member = await pressed(update, context)
    prompt = await svc.prompts.get(press.id)
    if prompt is None or prompt.kind != "note":
        raise NotFound(texts.NOTE_GONE)
    if prompt.user_id != update.effective_user.id or prompt.chat_id != update.effective_chat.id:
        raise NotAllowed(texts.NOTE_NOT_YOURS)
    done = await svc.workflow.department.add_note(prompt.ticket_id, member, prompt.data.get("text", ""),
                                                  relay=press.action == "relay",
                                                  acting_for=await acting_for(update, context))
    await svc.prompts.done(prompt.id)
    await query.answer(done.reply)
    await query.edit_message_text(f"{done.reply}\n“{prompt.data.get('text', '')[:500]}”")


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(card_button, pattern=keyboard.pattern("accept", *ASK)))
    app.add_handler(CallbackQueryHandler(note_button, pattern=keyboard.pattern("relay", "internal")))
    app.add_handler(MessageHandler(GROUPS & (filters.TEXT | filters.LOCATION | filters.PHOTO) & ~filters.COMMAND,
                                   group_message))
