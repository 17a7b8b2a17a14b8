"""Look-ups that several modules need, in one place (read inside the caller's transaction)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import texts
from nlp.catalogue import TOWNSHIP
from storage.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    Attachment,
    CoReporter,
    Department,
    DepartmentKind,
    Event,
    Extension,
    Grid,
    Member,
    Role,
    Ticket,
)


async def ticket_for_update(s: AsyncSession, ticket_id: int) -> Ticket | None:
    """The ticket, locked for this transaction (FOR UPDATE on PostgreSQL; SQLite holds its write lock)."""
    return (await s.exec(select(Ticket).where(Ticket.id == ticket_id).with_for_update())).first()


async def command_center(s: AsyncSession) -> Department | None:
    return (await s.exec(select(Department).where(Department.kind == DepartmentKind.COMMAND)
                         .order_by(col(Department.id)))).first()


async def leadership(s: AsyncSession) -> Department | None:
    return (await s.exec(select(Department).where(Department.kind == DepartmentKind.LEADERSHIP)
                         .order_by(col(Department.id)))).first()


async def department_by_code(s: AsyncSession, code: str) -> Department | None:
    return (await s.exec(select(Department).where(Department.code == code))).first()


async def township_of(s: AsyncSession, ticket: Ticket) -> Department | None:
    if ticket.grid_id is None:
        return None
    grid = await s.get(Grid, ticket.grid_id)
    return await s.get(Department, grid.township_id) if grid else None


async def responsible(s: AsyncSession, code: str, township: Department | None) -> Department | None:
    """The department behind a catalogue code; `township` (属地) is the ticket's own township."""
    if code == TOWNSHIP:
        return township
    return await department_by_code(s, code)


async def grid_name(s: AsyncSession, grid_id: int | None) -> str:
    """"龙都街道·东关社区第一网格", or 未指定."""
    if grid_id is None:
        return texts.NO_GRID
    grid = await s.get(Grid, grid_id)
    township = await s.get(Department, grid.township_id)
    return f"{township.name}·{grid.name}"


async def assignments(s: AsyncSession, ticket_id: int, *, live: bool = False) -> list[Assignment]:
    query = select(Assignment).where(Assignment.ticket_id == ticket_id)
    if live:
        query = query.where(Assignment.state != AssignmentState.WITHDRAWN)
    return list((await s.exec(query.order_by(col(Assignment.id)))).all())


async def lead_assignment(s: AsyncSession, ticket_id: int) -> Assignment | None:
    """The newest lead assignment (a re-route or 重办 makes a new one)."""
    return (await s.exec(select(Assignment).where(Assignment.ticket_id == ticket_id,
                                                  Assignment.role == AssignmentRole.LEAD)
                         .order_by(col(Assignment.id).desc()))).first()


async def department_assignment(s: AsyncSession, ticket_id: int, department_id: int) -> Assignment | None:
    """A department's live assignment on a ticket."""
    return (await s.exec(select(Assignment).where(
        Assignment.ticket_id == ticket_id, Assignment.department_id == department_id,
        Assignment.state != AssignmentState.WITHDRAWN).order_by(col(Assignment.id).desc()))).first()


async def reporters(s: AsyncSession, ticket: Ticket) -> list[int]:
    """Member ids of the reporter, the grid worker who filed it for them (代办) and the co-reporters (附议)."""
    co = (await s.exec(select(CoReporter.member_id).where(CoReporter.ticket_id == ticket.id)
                       .order_by(col(CoReporter.id)))).all()
    return list(dict.fromkeys([ticket.reporter_id, *([ticket.filed_by] if ticket.filed_by else []), *co]))


async def pending_extension(s: AsyncSession, ticket_id: int) -> Extension | None:
    return (await s.exec(select(Extension).where(Extension.ticket_id == ticket_id,
                                                 Extension.state == "pending"))).first()


async def attachments(s: AsyncSession, ticket_id: int, purpose: str = "request") -> list[Attachment]:
    return list((await s.exec(select(Attachment).where(Attachment.ticket_id == ticket_id,
                                                       Attachment.purpose == purpose)
                              .order_by(col(Attachment.id)))).all())


async def caused(s: AsyncSession, ticket_id: int, request_id: str) -> bool:
    """Whether this request already wrote events on this ticket (it is being handled a second time)."""
    return (await s.exec(select(Event.id).where(Event.ticket_id == ticket_id, Event.request_id == request_id)
                         .limit(1))).first() is not None


async def member(s: AsyncSession, member_id: int) -> Member | None:
    return await s.get(Member, member_id)


async def grid_workers(s: AsyncSession, grid_id: int | None) -> list[Member]:
    """The grid workers of a grid (none for an unknown grid)."""
    if grid_id is None:
        return []
    return list((await s.exec(select(Member).where(Member.grid_id == grid_id, Member.role == Role.GRID_WORKER)
                              .order_by(col(Member.id)))).all())
