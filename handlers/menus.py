"""Command menus: each role sees the commands it can use (/help says the same in words).

The default menu of private chats is the residents'; a member with another role gets their own menu in their
private chat the first time they talk to the bot after start-up or after their role changes (one request,
not one per member at start-up: a county has thousands). Groups get the department chat's menu.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError

from bot import texts
from storage.models import Member, Role

log = logging.getLogger(__name__)


def _commands(role: str) -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in texts.COMMANDS[role]]


async def install_defaults(bot: Bot) -> None:
    await bot.set_my_commands(_commands(Role.RESIDENT), scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(_commands("group"), scope=BotCommandScopeAllGroupChats())


class Menus:
    """Remembers which private chats already have their role's menu (in this process)."""

    def __init__(self) -> None:
        self._set: dict[int, str] = {}

    async def ensure(self, bot: Bot, member: Member) -> None:
        key = texts.role_key(member)
        if member.telegram_id is None or self._set.get(member.telegram_id) == key:
            return
        try:
            if key == Role.RESIDENT:
                await bot.delete_my_commands(scope=BotCommandScopeChat(member.telegram_id))
            else:
                await bot.set_my_commands(_commands(key), scope=BotCommandScopeChat(member.telegram_id))
        except TelegramError:
            log.warning("could not set the command menu of chat %s", member.telegram_id, exc_info=True)
            return
        self._set[member.telegram_id] = key
