"""What several test modules need: the fixture county's people and chats, and look-ups of what happened."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, func, select

from storage.db import Database
from storage.models import Event, Member, Ticket

# tests/fixtures/county.yaml
RESIDENT, NEIGHBOUR, GRID_WORKER, OTHER_GRID_WORKER = 1001, 1002, 1101, 1102
STRANGER = 9_999_999  # a Telegram user the county does not know
ZFJ_STAFF, ZJJ_STAFF, JTJ_STAFF, GAJ_STAFF, TOWNSHIP_STAFF = 2001, 2101, 2201, 2401, 2801
ZFJ_HEAD = 2002  # heads 综合行政执法局: its figures and open list
DISPATCHER, ADMIN = 3001, 4001
ZFJ, ZJJ, JTJ, GAJ, TOWNSHIP = -100101, -100102, -100103, -100105, -100800
CENTER, LEADERS, SUPERVISOR = -100900, -100950, -100191
ILLEGAL_BUILDING = "我家楼下有人私搭乱建，在院子里加盖了一个大棚子"  # T-WJ: accept 2h, arrive 24h, resolve 5wd


async def ticket_by_number(bot, number: str) -> Ticket:
    async with bot.svc.db.read() as s:
        return (await s.exec(select(Ticket).where(Ticket.number == number))).one()


async def event_kinds(bot, number: str) -> list[str]:
    async with bot.svc.db.read() as s:
        rows = await s.exec(select(Event.kind).join(Ticket, Ticket.id == Event.ticket_id)
                            .where(Ticket.number == number).order_by(col(Event.id)))
        return list(rows.all())


def count(bot, chat_id: int, fragment: str) -> int:
    """How many bot messages in the chat contain `fragment`."""
    return sum(fragment in t for t in bot.texts(chat_id))


async def advance(bot, **delta) -> None:
    """Move the county's clock and let the sweep and the sender do what fell due."""
    bot.clock.advance(timedelta(**delta))
    await bot.svc.workflow.sweep()
    await bot.settle()


async def member(db: Database, telegram_id: int) -> Member:
    async with db.read() as s:
        return (await s.exec(select(Member).where(Member.telegram_id == telegram_id))).one()


async def row_counts(db: Database, *tables) -> tuple[int, ...]:
    async with db.read() as s:
        return tuple([(await s.exec(select(func.count()).select_from(t))).one() for t in tables])


def current(bot, chat_id: int, message_id: int) -> dict:
    """A bot message as it is now (cards are edited in place)."""
    return next(m for m in bot.double.bot_messages(chat_id) if m["message_id"] == message_id)
