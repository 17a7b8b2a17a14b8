"""What is open, and what is overdue: every open ticket with its lead department, township, the stage it
waits for and that stage's deadline — read in a handful of queries, whatever the number of tickets — for the
command center's /open and /overdue (grouped by department or township, paged) and a head's own list.

The stage an open ticket waits for: 分派 (received or returned: the dispatch clock), else the lead's 签收 while
pending, 到场 while an on-site matter has no 报到, else 办结 (its deadline as extended).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from bot.clocks import ESCALATE
from bot.workflow.rules import AWAITING_DISPATCH, OPEN_STATES
from storage.db import Database
from storage.models import Assignment, AssignmentRole, AssignmentState, Department, Grid, Ticket, Timer

OPEN, OVERDUE = "o", "v"
BY_DEPARTMENT, BY_TOWNSHIP, ALL = "d", "t", "a"
NONE = 0  # the unit of tickets without one (not dispatched yet; no grid)


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    lead: tuple[int, str] | None  # the lead department (id, name)
    township: tuple[int, str] | None
    stage: str  # dispatch / accept / arrive / resolve
    due: datetime | None

    def late(self, now: datetime) -> bool:
        return self.due is not None and self.due < now

    def unit(self, by: str) -> int:
        found = self.lead if by == BY_DEPARTMENT else self.township if by == BY_TOWNSHIP else None
        return found[0] if found else NONE


def waiting(ticket: Ticket, lead: Assignment | None, dispatch_due: datetime | None) -> tuple[str, datetime | None]:
    """The stage an open ticket waits for and its deadline (module docstring)."""
    if lead is None or ticket.state in AWAITING_DISPATCH:
        return "dispatch", dispatch_due
    if lead.state == AssignmentState.PENDING and lead.accept_due:
        return "accept", lead.accept_due
    if lead.arrive_due and not lead.arrived_at:
        return "arrive", lead.arrive_due
    return "resolve", lead.resolve_due


class OpenLists:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def rows(self, kind: str, now: datetime, department_id: int | None = None) -> list[Row]:
        """Open (or overdue) tickets, oldest first; only one lead department's when given."""
        async with self.db.read() as s:
            tickets = list((await s.exec(select(Ticket).where(col(Ticket.state).in_(OPEN_STATES))
                                         .order_by(col(Ticket.id)))).all())
            ids = [t.id for t in tickets]
            leads = {a.ticket_id: a for a in (await s.exec(select(Assignment).where(
                col(Assignment.ticket_id).in_(ids), Assignment.role == AssignmentRole.LEAD,
                Assignment.state != AssignmentState.WITHDRAWN).order_by(col(Assignment.id)))).all()}
            dispatch = {t.subject_id: t.due_at for t in (await s.exec(select(Timer).where(
                Timer.subject_kind == "ticket", col(Timer.subject_id).in_(ids), Timer.stage == "dispatch",
                Timer.step == ESCALATE, Timer.cancelled == False))).all()}  # noqa: E712
            names = {d.id: d.name for d in (await s.exec(select(Department))).all()}
            townships = {g.id: g.township_id for g in (await s.exec(select(Grid))).all()}
        rows = []
        for t in tickets:
            lead = leads.get(t.id)
            stage, due = waiting(t, lead, dispatch.get(t.id))
            township = townships.get(t.grid_id) if t.grid_id else None
            row = Row(t, (lead.department_id, names[lead.department_id]) if lead else None,
                      (township, names[township]) if township else None, stage, due)
            if department_id is not None and row.unit(BY_DEPARTMENT) != department_id:
                continue
            if kind == OVERDUE and not row.late(now):
                continue
            rows.append(row)
        return rows

    @staticmethod
    def units(rows: list[Row], by: str) -> list[tuple[int, str, int]]:
        """(unit id, name, count) of the rows, most first, then by name; NONE ("未派单"/"未指定") last."""
        counts = Counter(row.unit(by) for row in rows)
        names = {row.unit(by): (row.lead if by == BY_DEPARTMENT else row.township or (NONE, ""))[1]
                 for row in rows if row.unit(by) != NONE}
        named = sorted(((uid, names[uid], n) for uid, n in counts.items() if uid != NONE),
                       key=lambda u: (-u[2], u[1], u[0]))
        return named + ([(NONE, "", counts[NONE])] if counts.get(NONE) else [])
