"""The command center's figures in chat (bot/statistics.py, bot/export.py):

    /stats [期间] [单位]   a chart of the main rates and the key figures in its caption (no arguments: today and
                          the month to date); a department head: their own department
    /rank [期间]           one ranking chart per peer group, with the red and black lists
    /export [期间]         an xlsx: tickets with every stage time, indicators per unit, calls
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot import texts
from bot.delivery import utf16_len
from bot.statistics import CAPTION_LIMIT, Picture
from bot.workflow import NotAllowed, WorkflowError
from handlers.common import Context, acting_member, polite, services
from storage.models import Role


@polite
async def stats(update: Update, context: Context) -> None:
    svc = services(context)
    scope = await svc.statistics.scope(await acting_member(update, context), texts.STATS_REFUSED)
    periods, unit = await svc.statistics.arguments(list(context.args or []), scope)
    await _send(update, await svc.statistics.stats(periods, unit))


@polite
async def rank(update: Update, context: Context) -> None:
    svc = services(context)
    member = await acting_member(update, context)
    if member.role not in (Role.DISPATCHER, Role.ADMIN):
        raise NotAllowed(texts.RANK_REFUSED)
    period = svc.statistics.period(context.args)
    pictures = await svc.statistics.rankings(period)
    if not pictures:
        await update.effective_message.reply_text(texts.RANK_NOTHING)
    for picture in pictures:
        await _send(update, picture)


@polite
async def export(update: Update, context: Context) -> None:
    svc = services(context)
    scope = await svc.statistics.scope(await acting_member(update, context), texts.EXPORT_REFUSED)
    if scope.department is not None and update.effective_chat.type != "private":
        raise WorkflowError(texts.EXPORT_PRIVATE)  # the department's group is every staff member's
    period = svc.statistics.period(context.args)
    made = await svc.exporter.export(period, scope.department)
    caption = texts.EXPORT_CAPTION.format(scope=scope.department.name if scope.department else texts.UNIT_COUNTY,
                                          period=period.label, tickets=made.tickets)
    await update.effective_message.reply_document(made.data, filename=made.filename, caption=caption)


async def _send(update: Update, picture: Picture) -> None:
    message = update.effective_message
    if picture.png is None:
        text = f"{texts.CHART_UNAVAILABLE}\n\n{picture.text}" if picture.font_missing else picture.text
        await message.reply_text(text[:4096])
    elif utf16_len(picture.text) <= CAPTION_LIMIT:
        await message.reply_photo(picture.png, caption=picture.text)
    else:
        await message.reply_photo(picture.png)
        await message.reply_text(picture.text[:4096])


def register(app: Application) -> None:
    app.add_handler(CommandHandler("stats", stats))
    app.add_handler(CommandHandler("rank", rank))
    app.add_handler(CommandHandler("export", export))
