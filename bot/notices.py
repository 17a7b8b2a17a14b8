"""Who must be told what: notices owed to reporters, departments, the command center and the leaders.

The workflow decides that something happened; this module decides who hears of it (addresses, never chats)
and with which words (bot/texts.py). Cards live in bot/cards.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import queries, texts
from bot.outbox import Button, owe, to_department, to_member, to_supervisor
from storage.models import Department, Ticket


async def reporters(s: AsyncSession, ticket: Ticket, text: str, now: datetime, *, kind: str = "notice",
                    buttons: list[list[Button]] | None = None, skip: frozenset[int] = frozenset(),
                    media: dict | None = None) -> None:
    """The reporter and every co-reporter (附议), except the members in `skip`; `media` goes before the text."""
    for member_id in await queries.reporters(s, ticket):
        if member_id not in skip:
            owe(s, to_member(member_id), text, now, kind=kind, ticket_id=ticket.id, buttons=buttons, media=media)


def department(s: AsyncSession, dept: Department, text: str, now: datetime, ticket: Ticket | None = None) -> None:
    owe(s, to_department(dept.id), text, now, ticket_id=ticket.id if ticket else None)


async def command_center(s: AsyncSession, text: str, now: datetime, ticket: Ticket | None = None,
                         kind: str = "notice") -> bool:
    """The command center's chat; False when the county has none."""
    center = await queries.command_center(s)
    if center is None:
        return False
    owe(s, to_department(center.id), text, now, kind=kind, ticket_id=ticket.id if ticket else None)
    return True


async def ladder(s: AsyncSession, ticket: Ticket, step: str, dept: Department, values: dict, now: datetime,
                 late: bool = False) -> None:
    """催办 to the department (a reminder that fires after the deadline — the bot was down — says it has passed);
    督办 to the command center and the department's supervisor; 领导督办 to the leadership chat."""
    if step == "remind":
        text = (texts.LADDER_REMIND_LATE if late else texts.LADDER_REMIND).format(**values)
        owe(s, to_department(dept.id), text, now, kind=step, ticket_id=ticket.id)
    elif step == "escalate":
        text = texts.LADDER_ESCALATE.format(**values)
        await command_center(s, text, now, ticket, kind=step)
        if dept.supervisor_chat_id is not None:
            owe(s, to_supervisor(dept.id), text, now, kind=step, ticket_id=ticket.id)
    else:
        leaders = await queries.leadership(s)
        if leaders is not None:
            owe(s, to_department(leaders.id), texts.LADDER_ESCALATE2.format(**values), now, kind=step,
                ticket_id=ticket.id)


async def emergency(s: AsyncSession, text: str, grid: str, now: datetime, kind: str | None = None,
                    grid_id: int | None = None, reporter_id: int | None = None) -> bool:
    """🚨 the command center at once (before the resident has even confirmed the request), and the grid's
    workers, who are nearest (not the reporter, if a grid worker reported it). False without a command center."""
    what = texts.EMERGENCY_KIND.get(kind or "", texts.EMERGENCY_KIND["danger"])
    for worker in await queries.grid_workers(s, grid_id):
        if worker.id != reporter_id:
            owe(s, to_member(worker.id), texts.EMERGENCY_GRID_WORKER.format(
                what=what, text=text, grid=grid, hotlines=texts.hotlines(kind)), now, kind="emergency")
    return await command_center(s, texts.EMERGENCY_ALERT.format(
        what=what, text=text, grid=grid, hotlines=texts.hotlines(kind)), now, kind="emergency")
