"""Telegram handlers, one module per audience, combined here. They speak Telegram only and call bot/."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import texts
from handlers import admin, calls, command, department, dispatch, grid, media, places, resident, stats
from handlers.common import Context, on_error, services
from handlers.menus import Menus
from storage.models import DepartmentKind


async def stale_button(update: Update, context: Context) -> None:
    """A button whose data no handler knows: forged, or from an older version of the bot."""
    await update.callback_query.answer(texts.ERR_FORGED, show_alert=True)


async def edited(update: Update, context: Context) -> None:
    """An edit of a message already sent changes nothing (a request was understood as first written). A live
    location moving is an edit too: silently ignored."""
    if update.effective_chat.type == "private" and update.effective_message.location is None:
        await update.effective_message.reply_text(texts.EDITED_IGNORED)


async def group_help(update: Update, context: Context) -> None:
    """A department's group gets the department's help; the command center's group its own."""
    dept = await services(context).directory.department_of_chat(update.effective_chat.id)
    command = dept is not None and dept.kind == DepartmentKind.COMMAND
    await update.effective_message.reply_text(texts.HELP["command_group" if command else "group"])


def register(app: Application) -> None:
    app.bot_data["menus"] = Menus()
    # Order matters: edits first, commands and buttons, then each audience's messages, private fallbacks last.
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, edited))
    app.add_handler(CommandHandler("help", group_help, filters=filters.ChatType.GROUPS))
    admin.register(app)
    grid.register(app)
    calls.register(app)
    resident.register(app)
    department.register(app)
    dispatch.register(app)
    command.register(app)
    stats.register(app)
    places.register(app)
    resident.register_fallbacks(app)
    media.register_fallbacks(app)
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE, resident.unsupported))
    app.add_handler(CallbackQueryHandler(stale_button))
    app.add_error_handler(on_error)
