"""What every audience's handlers share: the services, the acting member, keyboards, polite errors."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import ForceReply, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import actions, texts
from bot.workflow import WorkflowError
from storage.models import Member, PendingInput

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Awaitable[None]]
Answer = Callable[[Update, Context, PendingInput], Awaitable[None]]
ANSWERS: dict[str, Answer] = {}  # prompt kind → what to do with the person's answer


def answers(kind: str) -> Callable[[Answer], Answer]:
    """Register the handler of answers to the bot's question of this kind (退回理由, 办结结果, …)."""

    def register(fn: Answer) -> Answer:
        ANSWERS[kind] = fn
        return fn

    return register


async def take_answer(update: Update, context: Context) -> bool:
    """If this message answers a question the bot asked this person here, handle it and say so.

    In private chats only an explicit reply to the question counts (any other text is a new request);
    in groups a plain message counts too, for bots that see all group messages."""
    message = update.effective_message
    replied = message.reply_to_message
    if replied is None and update.effective_chat.type == "private":
        return False
    pending = await services(context).prompts.find(update.effective_chat.id, update.effective_user.id,
                                                   replied.message_id if replied else None)
    if pending is None or pending.kind not in ANSWERS:
        return False
    await ANSWERS[pending.kind](update, context, pending)
    return True


def services(context: Context) -> Services:
    return context.application.bot_data["services"]


async def acting_member(update: Update, context: Context) -> Member:
    user = update.effective_user
    return await services(context).directory.member(user.id, user.full_name)


async def pressed(update: Update, context: Context) -> tuple[actions.Payload, Services, Member]:
    """A button press: its payload (forged or stale data is refused politely), the services, the presser."""
    payload = actions.parse(update.callback_query.data)
    if payload is None:
        raise WorkflowError(texts.ERR_FORGED)
    return payload, services(context), await acting_member(update, context)


async def tell(update: Update, text: str) -> None:
    """Answer the user where they are: as a callback answer for a button, else as a reply."""
    if update.callback_query is not None:
        await update.callback_query.answer(text[:200], show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def ask(update: Update, context: Context, kind: str, question: str, ticket_id: int,
              placeholder: str) -> None:
    """Ask the person who pressed a button for a text, as a reply (works with group privacy mode on)."""
    query = update.callback_query
    await query.answer()
    prompt = await query.message.reply_text(
        question, reply_markup=ForceReply(selective=True, input_field_placeholder=placeholder))
    await services(context).prompts.ask(update.effective_chat.id, update.effective_user.id, kind,
                                        ticket_id=ticket_id, prompt_message_id=prompt.message_id)


async def answer_with(update: Update, context: Context, pending: PendingInput, action) -> None:
    """Hand the person's text answer to the workflow action it was asked for, then close the question."""
    done = await action(pending.ticket_id, await acting_member(update, context), update.effective_message.text or "")
    await services(context).prompts.done(pending.id)
    await update.effective_message.reply_text(done.reply)


def polite(handler: Handler) -> Handler:
    """Turn a refused action (WorkflowError) into its polite reply; nothing changed."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: Context) -> None:
        try:
            await handler(update, context)
        except WorkflowError as refusal:
            await tell(update, refusal.reply)

    return wrapper


async def on_error(update: object, context: Context) -> None:
    """Log the failure and tell the user their action did not take effect (transactions rolled back)."""
    log.error("handler failed", exc_info=context.error)
    if isinstance(update, Update):
        try:
            await tell(update, texts.ERR_INTERNAL)
        except TelegramError:
            log.warning("could not tell the user about the failure", exc_info=True)
