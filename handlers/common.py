"""What every audience's handlers share: the services, the acting member and department, questions and
answers, polite refusals."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import ForceReply, Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot import requests, texts
from bot.prompts import ANSWERED, ATTACH
from bot.workflow import NotAllowed, NotFound, WorkflowError
from handlers import keyboard
from storage.models import Member, PendingInput

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Awaitable[None]]
Answer = Callable[[Update, Context, PendingInput], Awaitable[None]]
ANSWERS: dict[str, Answer] = {}  # question kind → what to do with the person's answer


def answers(kind: str) -> Callable[[Answer], Answer]:
    """Register the handler of answers to the bot's question of this kind (退回理由, 办结结果, …)."""

    def register(fn: Answer) -> Answer:
        ANSWERS[kind] = fn
        return fn

    return register


async def take_answer(update: Update, context: Context) -> bool:
    """If this message answers a question the bot asked this person here, handle it and say so.

    A reply names the question it answers. Without a reply, a message answers the person's only open question
    here. With several open: in a group (bots that see all group messages) the bot asks them to reply to one;
    in a private chat the message is a new request (a resident writes requests there). A plain message taken as
    an answer in a private chat comes with a button that makes it a new request after all."""
    message = update.effective_message
    chat, user = update.effective_chat, update.effective_user
    prompts = services(context).prompts
    plain = message.reply_to_message is None
    if not plain:
        pending = await prompts.replied(chat.id, user.id, message.reply_to_message.message_id)
    else:
        waiting = [p for p in await prompts.open(chat.id, user.id) if p.kind in ANSWERS]
        if len(waiting) > 1:
            if chat.type == "private":
                return False
            await message.reply_text(texts.WHICH_QUESTION.format(n=len(waiting)))
            return True
        pending = waiting[0] if waiting else None
    if pending is None or pending.kind not in ANSWERS:
        return False
    await ANSWERS[pending.kind](update, context, pending)
    if plain and chat.type == "private" and message.text:
        kept = await prompts.ask(chat.id, user.id, ANSWERED, data={"text": message.text})
        await message.reply_text(texts.ANSWER_TAKEN_PLAIN, reply_markup=keyboard.inline(
            [[[texts.BTN_AS_REQUEST, "as_request", kept.id, None]]]))
    return True


def services(context: Context) -> Services:
    return context.application.bot_data["services"]


async def acting_member(update: Update, context: Context) -> Member:
    user = update.effective_user
    return await services(context).directory.member(user.id, user.full_name)


async def member_with_role(update: Update, context: Context, role: str, refusal: str) -> Member:
    """The acting member, who must have `role` (else NotAllowed with `refusal`: polite, audited)."""
    member = await acting_member(update, context)
    if member.role != role:
        raise NotAllowed(refusal)
    return member


async def acting_for(update: Update, context: Context) -> int | None:
    """The department whose chat this is (its cards' buttons are its own), or None outside department chats."""
    if update.effective_chat.type == "private":
        return None
    dept = await services(context).directory.department_of_chat(update.effective_chat.id)
    return dept.id if dept else 0  # 0: a group bound to no department acts for nobody


async def pressed(update: Update, context: Context) -> tuple[keyboard.Press, Services, Member]:
    """A button press: its decoded data (forged or stale data is refused politely), the services, the presser."""
    press = keyboard.decode(update.callback_query.data)
    if press is None:
        raise WorkflowError(texts.ERR_FORGED)
    return press, services(context), await acting_member(update, context)


async def tell(update: Update, text: str) -> None:
    """Answer the user where they are: as a callback answer for a button, else as a reply."""
    if update.callback_query is not None:
        await update.callback_query.answer(text[:200], show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def ask(update: Update, context: Context, kind: str, question: str, ticket_id: int | None, placeholder: str,
              data: dict | None = None) -> None:
    """Ask the person who pressed a button (or wrote) for a text, as a reply (works with group privacy on)."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    prompt = await update.effective_message.reply_text(
        question, reply_markup=ForceReply(selective=True, input_field_placeholder=placeholder[:64]))
    await services(context).prompts.ask(update.effective_chat.id, update.effective_user.id, kind,
                                        ticket_id=ticket_id, prompt_message_id=prompt.message_id, data=data)


async def answer_with(update: Update, context: Context, pending: PendingInput, action) -> None:
    """Hand the person's text answer to the workflow action it was asked for, then close the question."""
    done = await action(pending.ticket_id, await acting_member(update, context), update.effective_message.text or "")
    await services(context).prompts.done(pending.id)
    await update.effective_message.reply_text(done.reply)


async def attach(update: Update, context: Context, **values) -> None:
    """Keep photos or a place for the resident's next text (a stored prompt, so restarts keep it)."""
    svc = services(context)
    chat, user = update.effective_chat.id, update.effective_user.id
    pending = await svc.prompts.attachments(chat, user)
    data = dict(pending.data) if pending is not None else {}
    if "photos" in values:
        values["photos"] = list(dict.fromkeys([*data.get("photos", []), *values["photos"]]))  # replays: once
    data.update(values)
    await svc.prompts.ask(chat, user, ATTACH, data=data)


async def take_attachments(update: Update, context: Context) -> dict:
    svc = services(context)
    pending = await svc.prompts.attachments(update.effective_chat.id, update.effective_user.id)
    if pending is None:
        return {}
    await svc.prompts.done(pending.id)
    return {k: pending.data[k] for k in ("photos", "latitude", "longitude") if k in pending.data}


def polite(handler: Handler) -> Handler:
    """Turn a refused action (WorkflowError) into its polite reply; nothing changed. Refusals of who may act
    (and forged buttons) are also put on the record (bot/audit.py)."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: Context) -> None:
        try:
            await handler(update, context)
        except WorkflowError as refusal:
            await tell(update, refusal.reply)
            if isinstance(refusal, (NotAllowed, NotFound)) or refusal.reply == texts.ERR_FORGED:
                await refused(update, context, refusal.reply)

    return wrapper


async def refused(update: Update, context: Context, reason: str) -> None:
    """Record a refusal: the person, the chat, what they tried (a button's action and subject, or a command)."""
    user, chat = update.effective_user, update.effective_chat
    member = await services(context).directory.known_member(user.id) if user else None
    if update.callback_query is not None:
        press = keyboard.decode(update.callback_query.data)
        action = f"button:{press.action}" if press else "button:forged"
        subject = f"{press.id}:{press.arg}" if press and press.arg else str(press.id) if press else (
            update.callback_query.data or "")[:64]
    else:
        text = (update.effective_message.text or "") if update.effective_message else ""
        action = f"command:{text.split()[0][:40]}" if text.startswith("/") else "message"
        subject = " ".join(text.split()[1:2])[:64] or None
    await services(context).audit.refused(member, telegram_id=user.id if user else None,
                                          chat_id=chat.id if chat else None, action=action, subject=subject,
                                          reason=reason)


async def on_error(update: object, context: Context) -> None:
    """Telegram unreachable (past the bot's retries): the inbox handles the update again later, so the person
    still gets their answer — no apology now. Anything else is a fault of ours: log it, tell the person their
    action did not take effect (its transaction rolled back), and tell the operators."""
    error = context.error
    if isinstance(error, (RetryAfter, NetworkError)) and not isinstance(error, BadRequest):
        log.warning("Telegram did not take the answer (%s); the update will be handled again", error)
        requests.retry_later()
        return
    log.error("handler failed", exc_info=error)
    if isinstance(update, Update):
        try:
            await tell(update, texts.ERR_INTERNAL)
        except TelegramError:
            log.warning("could not tell the user about the failure", exc_info=True)
    await services(context).workflow.alert_operators(texts.OPS_ALERT.format(
        error=f"{type(error).__name__}: {error}"[:300], request=requests.current() or "-"))
