"""Read-only views of tickets for residents, cards and the classifier's history. Never changes state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, or_, select

from bot import queries, texts
from bot.calls.rules import OPEN as CALL_OPEN
from bot.lists import waiting
from bot.workflow.rules import OPEN_STATES
from storage.db import Database
from storage.models import (
    Assignment,
    AssignmentRole,
    Attachment,
    Call,
    Card,
    CoReporter,
    Department,
    Event,
    Member,
    Role,
    Ticket,
)


@dataclass
class TicketView:
    ticket: Ticket
    lead: str | None
    events: list[tuple[Event, str | None]]  # event, department name
    photos: list[str] = field(default_factory=list)  # the request's photos (file ids)
    result_photos: list[str] = field(default_factory=list)  # 处置后照片


class Tickets:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def of_member(self, member: Member, limit: int = 10) -> list[Ticket]:
        """The member's tickets, as reporter or co-reporter, newest first."""
        async with self.db.read() as s:
            joined = select(CoReporter.ticket_id).where(CoReporter.member_id == member.id)
            rows = await s.exec(select(Ticket).where(or_(Ticket.reporter_id == member.id, col(Ticket.id).in_(joined)))
                                .order_by(col(Ticket.id).desc()).limit(limit))
            return list(rows.all())

    async def view(self, number: str, member: Member) -> TicketView | None:
        """One ticket with its history, for whoever may see it: its reporters, the grid worker who filed it or
        whose grid it is, staff of a department it was assigned to, and the command center (any ticket)."""
        async with self.db.read() as s:
            ticket = (await s.exec(select(Ticket).where(Ticket.number == number))).first()
            if ticket is None or not await self._may_see(s, ticket, member):
                return None
            lead = (await s.exec(select(Department.name).join(Assignment, Assignment.department_id == Department.id)
                                 .where(Assignment.ticket_id == ticket.id, Assignment.role == AssignmentRole.LEAD)
                                 .order_by(col(Assignment.id).desc()))).first()
            rows = await s.exec(select(Event, Department.name).join(Department, isouter=True,
                                                                    onclause=Event.department_id == Department.id)
                                .where(Event.ticket_id == ticket.id).order_by(col(Event.id)))
            evidence = (await s.exec(select(Attachment).where(Attachment.ticket_id == ticket.id,
                                                              Attachment.kind == "photo")
                                     .order_by(col(Attachment.id)))).all()
            return TicketView(ticket, lead, list(rows.all()),
                              [a.file_id for a in evidence if a.purpose == "request"],
                              [a.file_id for a in evidence if a.purpose == "result"])

    @staticmethod
    async def _may_see(s, ticket: Ticket, member: Member) -> bool:
        if member.role in (Role.DISPATCHER, Role.ADMIN) or member.id in (ticket.reporter_id, ticket.filed_by):
            return True
        if member.role == Role.GRID_WORKER and member.grid_id is not None and member.grid_id == ticket.grid_id:
            return True
        if member.role == Role.STAFF and member.department_id is not None:
            return await queries.department_assignment(s, ticket.id, member.department_id) is not None
        return (await s.exec(select(CoReporter.id).where(CoReporter.ticket_id == ticket.id,
                                                         CoReporter.member_id == member.id))).first() is not None

    async def has_photos(self, draft_id: int) -> bool:
        async with self.db.read() as s:
            return (await s.exec(select(Attachment.id).where(Attachment.draft_id == draft_id).limit(1))).first() is not None

    async def open_in_grid(self, grid_id: int, now: datetime
                           ) -> tuple[list[tuple[Ticket, str]], list[tuple[Call, str]]]:
        """A grid's open tickets (with what each waits for and until when) and open calls (with the department)."""
        async with self.db.read() as s:
            tickets = (await s.exec(select(Ticket).where(Ticket.grid_id == grid_id,
                                                         col(Ticket.state).in_(OPEN_STATES))
                                    .order_by(col(Ticket.id)))).all()
            labelled = []
            for t in tickets:
                lead = await queries.lead_assignment(s, t.id)
                labelled.append((t, _waiting(t, lead, now)))
            calls = (await s.exec(select(Call, Department.name).join(Department, Department.id == Call.department_id)
                                  .where(Call.grid_id == grid_id, col(Call.state).in_(CALL_OPEN))
                                  .order_by(col(Call.id)))).all()
            return labelled, list(calls)

    async def consumed(self, request_id: str | None) -> bool:
        """Whether this request (update) already changed some ticket — e.g. it was the answer to a question."""
        if request_id is None:
            return False
        async with self.db.read() as s:
            return (await s.exec(select(Event.id).where(Event.request_id == request_id).limit(1))).first() is not None

    async def card_at(self, chat_id: int, message_id: int) -> Card | None:
        """The card that message `message_id` in `chat_id` is (a reply to a card is about its ticket)."""
        async with self.db.read() as s:
            return (await s.exec(select(Card).where(Card.chat_id == chat_id, Card.message_id == message_id))).first()

    async def labelled_history(self, limit: int = 50_000) -> list[tuple[str, str]]:
        """(text, matter) pairs a dispatcher confirmed or corrected: training data for the classifier."""
        async with self.db.read() as s:
            rows = await s.exec(select(Ticket.text, Event.data).join(Event, Event.ticket_id == Ticket.id)
                                .where(col(Event.kind).in_(["dispatched", "rerouted"]),
                                       col(Event.actor_id).is_not(None))
                                .order_by(col(Event.id)).limit(limit))
            return [(text, data["matter"]) for text, data in rows.all() if data.get("matter")]


def _waiting(ticket: Ticket, lead: Assignment | None, now: datetime) -> str:
    """What an open ticket waits for, and until when (for /grid); past that: 已超时."""
    stage, due = waiting(ticket, lead, None)
    if stage == "dispatch" or due is None:
        return texts.STATE[ticket.state]
    late = texts.OVERDUE_MARK if due < now else ""
    return texts.WAITING.format(what=texts.STAGE[stage], due=texts.local(due)) + late
