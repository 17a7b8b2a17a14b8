"""Reading a period's rows: a handful of queries per call, never one per ticket.

The tickets in scope are those with a lead assignment dispatched, due (resolve or arrival limit) or resolved in
the period, received in the period, or with a 督办 / 无效工单 / 并单 event in it. For them: the tickets, all
their lead assignments and routing events (to know what followed a return or an assignment), the approved
extensions and the 回访 answers. Calls: those made in the period and their ratings. Plain rows, no ORM objects.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.indicators.periods import Period
from storage.db import Database
from storage.models import (
    Assignment,
    AssignmentRole,
    Call,
    CallRating,
    Department,
    Event,
    Extension,
    Grid,
    Rating,
    Ticket,
)

ROUTING = ("dispatched", "rerouted", "upheld", "reassigned")  # each writes one lead assignment (bot/workflow/routing.py)
IN_PERIOD = ("escalated", "escalated2", "invalidated", "merged")  # counted by when they happened
EVENT_KINDS = ROUTING + IN_PERIOD


@dataclass
class Rows:
    tickets: list[Any] = field(default_factory=list)
    leads: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    extended: set[int] = field(default_factory=set)  # lead assignments with an approved extension
    ratings: list[Any] = field(default_factory=list)


@dataclass
class CallRows:
    calls: list[Any] = field(default_factory=list)
    ratings: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Places:
    """The county's departments and grids: who is who, and each grid's township."""

    departments: dict[int, Any]  # id → (id, code, name, kind)
    grids: dict[int, Any]  # id → (id, code, name, township_id)


async def _rows(s: AsyncSession, columns: tuple, *where) -> list[Any]:
    """The rows as named tuples: attribute access on them is several times cheaper than on SQLAlchemy's rows, and
    the counting reads every field of tens of thousands of them. (Reading SQLite's datetimes as text and parsing
    them here was measured too: no gain — the cost is in fetching the rows.)"""
    shape = namedtuple("Row", [c.key for c in columns])  # noqa: PYI024
    return [shape(*row) for row in (await s.exec(select(*columns).where(*where))).all()]


def _within(column, period: Period):
    return and_(column >= period.start, column < period.end)


def _scope(period: Period):
    """The ids of the tickets a period's figures read (see the module's docstring)."""
    lead = select(Assignment.ticket_id).where(Assignment.role == AssignmentRole.LEAD, or_(
        _within(Assignment.assigned_at, period), _within(Assignment.resolve_due, period),
        _within(Assignment.resolved_at, period), _within(Assignment.arrive_due, period)))
    events = select(Event.ticket_id).where(col(Event.kind).in_(IN_PERIOD), _within(Event.at, period),
                                           col(Event.ticket_id).is_not(None))
    return select(Ticket.id).where(or_(col(Ticket.id).in_(lead), _within(Ticket.created_at, period),
                                       col(Ticket.id).in_(events)))


async def places(db: Database) -> Places:
    async with db.read() as s:
        departments = (await s.exec(select(Department.id, Department.code, Department.name, Department.kind))).all()
        grids = (await s.exec(select(Grid.id, Grid.code, Grid.name, Grid.township_id))).all()
    return Places({d.id: d for d in departments}, {g.id: g for g in grids})


async def tickets(db: Database, period: Period) -> Rows:
    scope = _scope(period)
    a = Assignment
    async with db.read() as s:
        ticket_rows = await _rows(s, (Ticket.id, Ticket.state, Ticket.grid_id, Ticket.created_at),
                                  col(Ticket.id).in_(scope))
        leads = await _rows(s, (a.id, a.ticket_id, a.department_id, a.state, a.assigned_at, a.accepted_at,
                                a.accept_due, a.arrive_due, a.arrived_at, a.arrival_waiver, a.resolve_due,
                                a.resolved_at, a.returned_at),
                            a.role == AssignmentRole.LEAD, col(a.ticket_id).in_(scope))
        events = await _rows(s, (Event.id, Event.ticket_id, Event.kind, Event.at, Event.department_id),
                             col(Event.kind).in_(EVENT_KINDS), col(Event.ticket_id).in_(scope))
        extended = (await s.exec(select(Extension.assignment_id).where(
            Extension.state == "approved", col(Extension.ticket_id).in_(scope)))).all()
        ratings = await _rows(s, (Rating.id, Rating.ticket_id, Rating.round, Rating.solved, Rating.satisfaction),
                              col(Rating.ticket_id).in_(scope))
    return Rows(ticket_rows, leads, events, set(extended), ratings)


async def calls(db: Database, period: Period) -> CallRows:
    made = _within(Call.created_at, period)
    async with db.read() as s:
        rows = await _rows(s, (Call.id, Call.state, Call.grid_id, Call.department_id, Call.created_at,
                               Call.respond_due, Call.responded_at, Call.arrive_due, Call.arrived_at), made)
        ratings = await _rows(s, (CallRating.id, CallRating.call_id, CallRating.speed, CallRating.arrival,
                                  CallRating.outcome), col(CallRating.call_id).in_(select(Call.id).where(made)))
    return CallRows(rows, ratings)
