"""What every part of the workflow shares: its dependencies, transactions, the one state setter, events,
and the check of who may act."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import clocks, queries, requests, texts
from bot.calendar import WorkCalendar
from bot.cards import Cards
from bot.clocks import Ladder
from bot.outbox import to_department
from bot.workflow import rules
from bot.workflow.rules import DEPARTMENT, NotAllowed, NotFound, Replayed, Who, WorkflowError
from nlp.catalogue import Catalogue
from storage.db import Database
from storage.models import Assignment, AssignmentRole, AssignmentState, Card, Event, Member, Ticket


@dataclass
class Context:
    db: Database
    catalogue: Catalogue
    calendar: WorkCalendar
    now: Callable[[], datetime]
    ladder: Ladder
    cards: Cards
    on_commit: Callable[[], None] | None = None  # wakes the sender: new messages are owed
    on_label: Callable[[str, str], None] | None = None  # a dispatcher's matter choice trains the classifier
    dispatch_limit: str = "2h"  # a ticket waits at most this long in the command center for 派单


#: a letter, digit or character of any script: what a text says, without punctuation, symbols and spaces
WORD_CHARS = re.compile(r"[^\W_]")


def required(text: str | None, refusal: str) -> str:
    """The text, stripped; WorkflowError(refusal) when nothing is left (an empty reason, result, note…)."""
    text = (text or "").strip()
    if not text:
        raise WorkflowError(refusal)
    return text


class Step:
    """Base of the workflow's parts (routing, department actions, callbacks, the clock sweep)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def catalogue(self) -> Catalogue:
        return self.ctx.catalogue

    @property
    def cards(self) -> Cards:
        return self.ctx.cards

    def now(self) -> datetime:
        return self.ctx.now()

    def committed(self) -> None:
        if self.ctx.on_commit:
            self.ctx.on_commit()

    @asynccontextmanager
    async def tx(self, session: AsyncSession | None = None):
        """A transaction of its own (committed, then the sender is woken), or the caller's (e.g. intake, which
        closes its draft in the same transaction)."""
        if session is not None:
            yield session
            return
        async with self.ctx.db.session() as s:
            yield s
        self.committed()

    @asynccontextmanager
    async def acting(self, action: str, ticket_id: int, actor: Member | None, acting_for: int | None = None,
                     session: AsyncSession | None = None):
        """A transaction in which `actor` does `action` to the ticket: (session, the locked ticket, the actor's
        department's assignment for a department action) — once the rules allowed it, before anything is written."""
        async with self.tx(session) as s:
            ticket = await self.ticket(s, ticket_id)
            request = requests.current()
            if request is not None and await queries.caused(s, ticket.id, request):
                raise Replayed(texts.ALREADY_DONE)  # the same update handled again: it changed the ticket already
            yield s, ticket, await self.permit(s, action, ticket, actor, acting_for)

    async def ticket(self, s: AsyncSession, ticket_id: int) -> Ticket:
        ticket = await queries.ticket_for_update(s, ticket_id)
        if ticket is None:
            raise NotFound(texts.ERR_NOT_FOUND)
        return ticket

    async def permit(self, s: AsyncSession, action: str, ticket: Ticket, actor: Member | None,
                     acting_for: int | None = None) -> Assignment | None:
        """Refuse (NotAllowed, IllegalTransition) unless `actor` may do `action` on this ticket now — checked
        before anything is written. A department action returns the actor's department's assignment.
        `acting_for` is the department whose chat the button was pressed in: a card's buttons are its own
        department's, even for staff of another department assigned to the same ticket."""
        assignment = await self._who(s, action, ticket, actor, acting_for)
        rules.check_state(action, ticket.state, ticket.number)
        return assignment

    async def _who(self, s: AsyncSession, action: str, ticket: Ticket, actor: Member | None,
                   acting_for: int | None) -> Assignment | None:
        rule = rules.rule(action)
        rules.check_role(action, actor.role if actor else None)
        if rule.who in DEPARTMENT:
            if actor.department_id is None or (acting_for is not None and acting_for != actor.department_id):
                raise NotAllowed(texts.NOT_YOUR_DEPARTMENT)
            assignment = await queries.department_assignment(s, ticket.id, actor.department_id)
            wanted = {Who.LEAD: AssignmentRole.LEAD, Who.COOPERATING: AssignmentRole.COOPERATE}.get(rule.who)
            if assignment is None or (wanted and assignment.role != wanted):
                raise NotAllowed(texts.NOT_YOUR_DEPARTMENT)
            return assignment
        if rule.who == Who.REPORTER and actor.id not in await queries.reporters(s, ticket):
            raise NotAllowed(texts.ERR_NOT_ALLOWED)
        return None

    def apply(self, s: AsyncSession, ticket: Ticket, action: str, actor: Member | None, *, kind: str | None = None,
              department_id: int | None = None, note: str | None = None, data: dict | None = None) -> None:
        """The only state setter: the rules table decides whether `action` may start from the ticket's state and
        where it leads; the change and its event are written together."""
        target = rules.check_state(action, ticket.state, ticket.number)
        previous = ticket.state
        if target is not None:
            ticket.state = target
            ticket.updated_at = self.now()
            s.add(ticket)
        self.event(s, ticket, kind or rules.rule(action).event, actor, department_id=department_id,
                   from_state=previous if target else None, to_state=target, note=note, data=data)

    async def withdraw(self, s: AsyncSession, ticket: Ticket) -> None:
        """The departments that had the ticket no longer do (their cards lose their buttons on refresh); its
        stage clocks stop."""
        rows = await s.exec(select(Assignment).where(Assignment.ticket_id == ticket.id, col(Assignment.state).in_(
            [AssignmentState.PENDING, AssignmentState.RETURNED, AssignmentState.ACCEPTED])))
        for a in rows.all():
            a.state = AssignmentState.WITHDRAWN
            s.add(a)
        await clocks.cancel(s, ticket.id, clocks.STAGES)

    def event(self, s: AsyncSession, ticket: Ticket, kind: str, actor: Member | None, *,
              department_id: int | None = None, from_state: str | None = None, to_state: str | None = None,
              note: str | None = None, data: dict[str, Any] | None = None) -> None:
        s.add(Event(ticket_id=ticket.id, at=self.now(), kind=kind, actor_id=actor.id if actor else None,
                    department_id=department_id, from_state=from_state, to_state=to_state, note=note,
                    data=data or {}, request_id=requests.current()))

    async def evidence(self, s: AsyncSession, ticket: Ticket) -> dict:
        """The request's photos and place, sent with each card so staff see the scene and can navigate."""
        media: dict = {}
        evidence = await queries.attachments(s, ticket.id)
        photos = [a.file_id for a in evidence if a.kind == "photo"]
        if photos:
            media["photos"] = photos
        for kind in ("voice", "video"):
            recording = next((a.file_id for a in evidence if a.kind == kind), None)
            if recording:
                media[kind] = recording
        if ticket.latitude is not None:  # a venue: staff can navigate to it, and see which grid it is in
            media["location"] = [ticket.latitude, ticket.longitude, await queries.grid_name(s, ticket.grid_id),
                                 texts.VENUE_ADDRESS.format(number=ticket.number)]
        return media

    async def to_dispatcher(self, s: AsyncSession, ticket: Ticket, reason: str, returned: str | None = None) -> None:
        """A 待分派 card in the command center's chat. A county without one keeps the ticket in 受理 (listed by /my).
        The card remembers the last event before it: what the dispatcher does after that is its outcome."""
        center = await queries.command_center(s)
        if center is None:
            return
        await s.flush()
        after = (await s.exec(select(func.max(Event.id)).where(Event.ticket_id == ticket.id))).one() or 0
        n = len((await s.exec(select(Card.id).where(Card.subject_kind == "ticket", Card.subject_id == ticket.id,
                                                    col(Card.key).startswith("dispatch:")))).all())
        now = self.now()
        await self.cards.post(s, ticket, f"dispatch:{n + 1}", to_department(center.id), now,
                              data={"reason": reason, "returned": returned, "after": after},
                              media=await self.evidence(s, ticket))
        await clocks.cancel(s, ticket.id, ["dispatch"])
        s.add_all(clocks.stage_timers(ticket.id, None, "dispatch", now, self.dispatch_due(now), self.ctx.ladder))

    def dispatch_due(self, start: datetime) -> datetime:
        """When a ticket waiting in the command center must have been dispatched (GRIDBOT_DISPATCH_LIMIT)."""
        return self.ctx.calendar.add(start, self.ctx.dispatch_limit)

    def lead_name(self, matter_code: str) -> str:
        dept = self.catalogue.departments.get(self.catalogue.matter(matter_code).lead)
        return dept.name if dept else texts.TOWNSHIP_LABEL
