"""The ticket workflow: states, allowed transitions, who may do each, routing and the notices owed.

The only place that changes a ticket's state. Every change writes an Event and the Outbox rows it
causes in the same transaction, so a notice is never lost and never sent for a change that rolled back.

    received ──dispatch──▶ dispatched ──accept──▶ accepted ──resolve──▶ resolved ──rate──▶ rated
       ▲                     │    ▲                  ▲                    │  │
       │                   return │ uphold/dispatch  │                    │  └─close──▶ closed (未评价)
       └──── returned ◀──────┘    └──── returned     └──accept── reopened ◀─reopen (重办)

受理 received · 已派单 dispatched · 已签收 accepted · 已办结 resolved · 已评价 rated · 重办 reopened · 已退回 returned
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import actions, clocks, texts
from bot.calendar import TZ, WorkCalendar
from bot.clocks import Ladder
from nlp.catalogue import TOWNSHIP, Catalogue
from storage.db import Database
from storage.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    CoReporter,
    DailyCounter,
    Department,
    DepartmentKind,
    Event,
    Extension,
    Grid,
    Member,
    Outbox,
    Rating,
    Role,
    Ticket,
    Timer,
    utcnow,
)
from storage.models import TicketState as S

log = logging.getLogger(__name__)


class WorkflowError(Exception):
    """A refused action; `reply` is the polite Chinese sentence a handler shows."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


class IllegalTransition(WorkflowError):
    pass


class NotAllowed(WorkflowError):
    pass


class NotFound(WorkflowError):
    pass


# action -> (states it may start from, state it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "dispatch": (frozenset({S.RECEIVED, S.RETURNED}), S.DISPATCHED),
    "uphold": (frozenset({S.RETURNED}), S.DISPATCHED),
    "accept": (frozenset({S.DISPATCHED, S.REOPENED}), S.ACCEPTED),
    "return": (frozenset({S.DISPATCHED, S.REOPENED}), S.RETURNED),
    "resolve": (frozenset({S.ACCEPTED}), S.RESOLVED),
    "note": (frozenset({S.DISPATCHED, S.ACCEPTED, S.REOPENED, S.RESOLVED}), None),
    "arrive": (frozenset({S.ACCEPTED}), None),
    "extend": (frozenset({S.ACCEPTED}), None),
    "decide_extension": (frozenset({S.ACCEPTED}), None),
    "rate": (frozenset({S.RESOLVED}), S.RATED),
    "reopen": (frozenset({S.RESOLVED}), S.REOPENED),
    "close": (frozenset({S.RESOLVED}), S.CLOSED),
}
REPORTERS = frozenset(Role)  # rating is for the ticket's reporters, whatever their role
# action -> roles that may do it (department actions also require membership of that department)
ALLOWED: dict[str, frozenset[str]] = {
    "dispatch": frozenset({Role.DISPATCHER, Role.ADMIN}),
    "uphold": frozenset({Role.DISPATCHER, Role.ADMIN}),
    "accept": frozenset({Role.STAFF}),
    "return": frozenset({Role.STAFF}),
    "resolve": frozenset({Role.STAFF}),
    "note": frozenset({Role.STAFF}),
    "arrive": frozenset({Role.STAFF}),
    "extend": frozenset({Role.STAFF}),
    "decide_extension": frozenset({Role.DISPATCHER, Role.ADMIN}),
    "rate": REPORTERS,
    "reopen": REPORTERS,
    "close": frozenset(),  # only the callback clock closes a ticket (未评价)
}
SATISFACTION = ("satisfied", "basic", "dissatisfied")
RATEABLE = frozenset({S.RESOLVED, S.RATED, S.CLOSED})
MAX_EXTENSION_DAYS = 60
OPEN_STATES = frozenset({S.RECEIVED, S.DISPATCHED, S.ACCEPTED, S.RETURNED, S.REOPENED})


def check(action: str, state: str, number: str = "") -> str | None:
    """The state `action` leads to from `state`, or IllegalTransition."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise IllegalTransition(
            texts.ERR_ILLEGAL.format(number=number, state=texts.STATE.get(state, state), action=texts.ACTION[action])
        )
    return target


@dataclass
class Done:
    """What a workflow call did, for the handler's short confirmation."""

    ticket: Ticket
    reply: str = ""


class Workflow:
    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        calendar: WorkCalendar,
        now: Callable[[], datetime] = utcnow,
        on_commit: Callable[[], None] | None = None,
        on_label: Callable[[str, str], None] | None = None,
        ladder: Ladder = Ladder(),
    ) -> None:
        self.db = db
        self.catalogue = catalogue
        self.calendar = calendar
        self.now = now
        self._on_commit = on_commit
        self._on_label = on_label  # a dispatcher's matter choice is training data for the classifier
        self.ladder = ladder

    def committed(self) -> None:
        if self._on_commit:
            self._on_commit()

    # -- intake -------------------------------------------------------------------------------
    async def submit(
        self,
        reporter: Member,
        text: str,
        *,
        matter_code: str | None,
        confidence: float | None = None,
        emergency: bool = False,
        photo_file_id: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        candidates: Sequence[str] = (),
        session: AsyncSession | None = None,
    ) -> Ticket:
        """受理: file a ticket; with a matter it is routed at once, without one it waits for a dispatcher."""
        async with self._tx(session) as s:
            now = self.now()
            ticket = Ticket(
                number=await self._next_number(s, now),
                reporter_id=reporter.id,
                source=Role.GRID_WORKER if reporter.role == Role.GRID_WORKER else Role.RESIDENT,
                grid_id=reporter.grid_id,
                text=text,
                photo_file_id=photo_file_id,
                latitude=latitude,
                longitude=longitude,
                confidence=confidence,
                candidates=list(candidates)[:5],
                emergency=emergency,
                created_at=now,
                updated_at=now,
            )
            s.add(ticket)
            await s.flush()
            self._event(s, ticket, "submitted", reporter, to_state=S.RECEIVED, data={"confidence": confidence})
            if emergency:
                await self._alert_emergency(s, ticket)
            if matter_code is None:
                await self._to_dispatcher(s, ticket, texts.DISPATCH_REASON_LOW)
            elif not await self._route(s, ticket, matter_code, actor=None):
                await self._to_dispatcher(s, ticket, texts.DISPATCH_REASON_NO_LEAD.format(
                    dept=self._lead_name(matter_code)))
        if session is None:
            self.committed()
        return ticket

    async def join(self, ticket_id: int, member: Member, session: AsyncSession | None = None) -> Ticket:
        """附议: a resident who reports the same open ticket becomes a co-reporter and gets its notices."""
        async with self._tx(session) as s:
            ticket = await self._ticket(s, ticket_id)
            if ticket.state not in OPEN_STATES:
                raise IllegalTransition(texts.ERR_ILLEGAL.format(
                    number=ticket.number, state=texts.STATE[ticket.state], action=texts.ACTION["join"]))
            exists = await s.exec(select(CoReporter).where(
                CoReporter.ticket_id == ticket.id, CoReporter.member_id == member.id))
            if ticket.reporter_id != member.id and exists.first() is None:
                s.add(CoReporter(ticket_id=ticket.id, member_id=member.id, joined_at=self.now()))
                self._event(s, ticket, "co_reporter", member)
        if session is None:
            self.committed()
        return ticket

    # -- dispatcher -----------------------------------------------------------------------------
    async def dispatch(self, ticket_id: int, matter_code: str, actor: Member) -> Done:
        """派单 / 重新派单: the dispatcher picks the matter; the ticket goes to its lead department."""
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            self._require_role("dispatch", actor)
            check("dispatch", ticket.state, ticket.number)
            if matter_code not in self.catalogue.matters:
                raise NotFound(texts.ERR_FORGED)
            rerouted = ticket.state == S.RETURNED
            await self._withdraw_open_assignments(s, ticket)
            if not await self._route(s, ticket, matter_code, actor, kind="rerouted" if rerouted else "dispatched"):
                raise WorkflowError(texts.DISPATCH_REASON_NO_LEAD.format(dept=self._lead_name(matter_code)))
        self.committed()
        if self._on_label:
            self._on_label(ticket.text, matter_code)
        return Done(ticket, texts.DONE_DISPATCH)

    async def uphold(self, ticket_id: int, actor: Member, note: str) -> Done:
        """维持原派单: the dispatcher rejects a return; the same lead department gets it back, with a note."""
        note = note.strip()
        if not note:
            raise WorkflowError(texts.EMPTY_TEXT)
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            self._require_role("uphold", actor)
            check("uphold", ticket.state, ticket.number)
            await self._withdraw_open_assignments(s, ticket)
            if not await self._route(s, ticket, ticket.matter_code, actor, kind="upheld", note=note):
                raise WorkflowError(texts.DISPATCH_REASON_NO_LEAD.format(dept=self._lead_name(ticket.matter_code)))
        self.committed()
        return Done(ticket, texts.DONE_DISPATCH)

    # -- departments ----------------------------------------------------------------------------
    async def accept(self, ticket_id: int, actor: Member, chat_id: int | None = None) -> Done:
        """签收. The lead's acceptance moves the ticket; a cooperating department's only its own share."""
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            assignment = await self._actor_assignment(s, ticket, actor, "accept", chat_id=chat_id)
            if assignment.state != AssignmentState.PENDING:
                raise IllegalTransition(texts.ERR_ILLEGAL.format(
                    number=ticket.number, state=texts.STATE[S.ACCEPTED], action=texts.ACTION["accept"]))
            now = self.now()
            if assignment.role == AssignmentRole.LEAD:
                check("accept", ticket.state, ticket.number)
                self._set_state(s, ticket, S.ACCEPTED, "accepted", actor, assignment.department_id)
                await clocks.cancel(s, ticket.id, ["accept"])
                matter = self.catalogue.matter(ticket.matter_code)
                if matter.onsite and "arrive" in matter.clocks:
                    assignment.arrive_due = self.calendar.add(now, matter.clocks["arrive"])
                    s.add_all(clocks.stage_timers(ticket.id, assignment.id, "arrive", now, assignment.arrive_due,
                                                  self.ladder))
                dept = await s.get(Department, assignment.department_id)
                await self._notify_reporters(s, ticket, texts.N_ACCEPTED.format(number=ticket.number, dept=dept.name))
            else:
                self._event(s, ticket, "cooperate_accepted", actor, department_id=assignment.department_id)
            assignment.state = AssignmentState.ACCEPTED
            assignment.accepted_at = now
            s.add(assignment)
            await self._refresh_cards(s, ticket)
        self.committed()
        return Done(ticket, texts.DONE_ACCEPT)

    async def return_(self, ticket_id: int, actor: Member, reason: str, chat_id: int | None = None) -> Done:
        """退回: only the lead, only before acceptance, only with a reason; the dispatcher decides next."""
        reason = reason.strip()
        if not reason:
            raise WorkflowError(texts.RETURN_REASON_EMPTY)
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            assignment = await self._actor_assignment(s, ticket, actor, "return", lead_only=True, chat_id=chat_id)
            check("return", ticket.state, ticket.number)
            assignment.state = AssignmentState.RETURNED
            assignment.returned_at = self.now()
            s.add(assignment)
            await clocks.cancel(s, ticket.id, clocks.STAGES)
            self._set_state(s, ticket, S.RETURNED, "returned", actor, assignment.department_id, note=reason)
            dept = await s.get(Department, assignment.department_id)
            await self._refresh_cards(s, ticket)
            await self._to_dispatcher(s, ticket, texts.DISPATCH_REASON_RETURN.format(dept=dept.name, reason=reason),
                                      uphold=True)
        self.committed()
        return Done(ticket, texts.DONE_RETURN)

    async def resolve(self, ticket_id: int, actor: Member, result: str, chat_id: int | None = None) -> Done:
        """办结 with the result text; the reporters are told the result."""
        result = result.strip()
        if not result:
            raise WorkflowError(texts.RESULT_EMPTY)
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            assignment = await self._actor_assignment(s, ticket, actor, "resolve", lead_only=True, chat_id=chat_id)
            check("resolve", ticket.state, ticket.number)
            now = self.now()
            assignment.state = AssignmentState.RESOLVED
            assignment.resolved_at = now
            s.add(assignment)
            ticket.result = result
            ticket.resolved_at = now
            self._set_state(s, ticket, S.RESOLVED, "resolved", actor, assignment.department_id, note=result)
            await clocks.cancel(s, ticket.id, clocks.STAGES)
            matter = self.catalogue.matter(ticket.matter_code)
            s.add_all(clocks.callback_timers(ticket.id, now, matter.clocks.get("callback"), self.calendar,
                                             self.ladder))
            dept = await s.get(Department, assignment.department_id)
            await self._refresh_cards(s, ticket)
            await self._notify_reporters(
                s, ticket, texts.N_RESOLVED.format(number=ticket.number, dept=dept.name, result=result))
        self.committed()
        return Done(ticket, texts.DONE_RESOLVE)

    async def add_note(self, ticket_id: int, actor: Member, text: str, chat_id: int | None = None) -> Done:
        """A department's reply to its card: relayed to the reporters as a progress note (进展)."""
        text = text.strip()
        if not text:
            raise WorkflowError(texts.EMPTY_TEXT)
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            assignment = await self._actor_assignment(s, ticket, actor, "note", chat_id=chat_id)
            check("note", ticket.state, ticket.number)
            self._event(s, ticket, "note", actor, department_id=assignment.department_id, note=text)
            dept = await s.get(Department, assignment.department_id)
            await self._notify_reporters(s, ticket, texts.N_NOTE.format(number=ticket.number, dept=dept.name, text=text))
        self.committed()
        return Done(ticket, texts.DONE_NOTE)

    async def arrive(self, ticket_id: int, actor: Member, latitude: float, longitude: float,
                     chat_id: int | None = None) -> Done:
        """报到: the lead department reports arrival on site, with its location; stops the arrive clock."""
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            assignment = await self._actor_assignment(s, ticket, actor, "arrive", lead_only=True, chat_id=chat_id)
            check("arrive", ticket.state, ticket.number)
            if assignment.arrived_at is not None or assignment.arrive_due is None:
                raise IllegalTransition(texts.ERR_ILLEGAL.format(
                    number=ticket.number, state=texts.STATE[ticket.state], action=texts.ACTION["arrive"]))
            assignment.arrived_at = self.now()
            assignment.arrival_latitude, assignment.arrival_longitude = latitude, longitude
            s.add(assignment)
            self._event(s, ticket, "arrived", actor, department_id=assignment.department_id,
                        data={"latitude": latitude, "longitude": longitude})
            await clocks.cancel(s, ticket.id, ["arrive"])
            dept = await s.get(Department, assignment.department_id)
            await self._refresh_cards(s, ticket)
            await self._notify_reporters(s, ticket, texts.N_ARRIVED.format(number=ticket.number, dept=dept.name))
        self.committed()
        return Done(ticket, texts.DONE_ARRIVE)

    async def request_extension(self, ticket_id: int, actor: Member, new_due: datetime, reason: str,
                                chat_id: int | None = None) -> Done:
        """延期: the lead asks to move its resolve deadline; the command center decides."""
        reason = reason.strip()
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            assignment = await self._actor_assignment(s, ticket, actor, "extend", lead_only=True, chat_id=chat_id)
            check("extend", ticket.state, ticket.number)
            latest = self.now() + timedelta(days=MAX_EXTENSION_DAYS)
            if not reason or new_due <= assignment.resolve_due or new_due > latest:
                raise WorkflowError(texts.EXTENSION_BAD.format(due=texts.local(assignment.resolve_due),
                                                               days=MAX_EXTENSION_DAYS))
            if await self._pending_extension(s, ticket) is not None:
                raise WorkflowError(texts.EXTENSION_PENDING)
            s.add(Extension(ticket_id=ticket.id, assignment_id=assignment.id, requested_by=actor.id, reason=reason,
                            old_due=assignment.resolve_due, new_due=new_due, requested_at=self.now()))
            self._event(s, ticket, "extension_requested", actor, department_id=assignment.department_id,
                        note=reason, data={"new_due": new_due.isoformat()})
            center = await self._command_center(s)
            if center and center.chat_id is not None:
                dept = await s.get(Department, assignment.department_id)
                text = texts.EXTENSION_CARD.format(
                    number=ticket.number, matter=self.catalogue.matter(ticket.matter_code).name, dept=dept.name,
                    old=texts.local(assignment.resolve_due), new=texts.local(new_due), reason=reason)
                self._send(s, center.chat_id, "extension", text, ticket, [[
                    [texts.BTN_APPROVE, actions.ticket(actions.APPROVE, ticket.id)],
                    [texts.BTN_REFUSE, actions.ticket(actions.REFUSE, ticket.id)]]])
        self.committed()
        return Done(ticket, texts.DONE_EXTENSION)

    async def decide_extension(self, ticket_id: int, actor: Member, approve: bool) -> Done:
        """The dispatcher approves (the clock moves, the resident is told) or refuses a pending extension."""
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            self._require_role("decide_extension", actor)
            extension = await self._pending_extension(s, ticket)
            if extension is None:
                raise NotFound(texts.NO_EXTENSION)
            check("decide_extension", ticket.state, ticket.number)
            now = self.now()
            extension.state = "approved" if approve else "refused"
            extension.decided_by, extension.decided_at = actor.id, now
            s.add(extension)
            assignment = await s.get(Assignment, extension.assignment_id)
            dept = await s.get(Department, assignment.department_id)
            if approve:
                assignment.resolve_due = extension.new_due
                s.add(assignment)
                await clocks.cancel(s, ticket.id, ["resolve"])
                s.add_all(clocks.stage_timers(ticket.id, assignment.id, "resolve", now, extension.new_due,
                                              self.ladder))
                self._event(s, ticket, "extension_approved", actor, department_id=dept.id, note=extension.reason)
                due = texts.local(extension.new_due)
                if dept.chat_id is not None:
                    self._send(s, dept.chat_id, "notice",
                               texts.N_EXTENSION_APPROVED_DEPT.format(number=ticket.number, due=due), ticket)
                await self._notify_reporters(s, ticket, texts.N_EXTENSION_RESIDENT.format(
                    number=ticket.number, due=due, reason=extension.reason))
                await self._refresh_cards(s, ticket)
            else:
                self._event(s, ticket, "extension_refused", actor, department_id=dept.id)
                if dept.chat_id is not None:
                    self._send(s, dept.chat_id, "notice", texts.N_EXTENSION_REFUSED_DEPT.format(
                        number=ticket.number, due=texts.local(assignment.resolve_due)), ticket)
        self.committed()
        decision = texts.EXTENSION_APPROVED if approve else texts.EXTENSION_REFUSED
        return Done(ticket, decision)

    async def rate(self, ticket_id: int, member: Member, solved: bool, satisfaction: str) -> Done:
        """回访 answer. The first answer of a round decides: 未解决 or 不满意 reopens (重办), else 已评价.
        Later answers of co-reporters are recorded and counted, and change nothing else."""
        if satisfaction not in SATISFACTION:
            raise WorkflowError(texts.ERR_FORGED)
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            self._check_rater(ticket, member, await self.reporter_chats(s, ticket))
            done = (await s.exec(select(Rating).where(Rating.ticket_id == ticket.id, Rating.member_id == member.id,
                                                      Rating.round == ticket.reopen_count))).first()
            if done is not None:
                raise WorkflowError(texts.CALLBACK_ALREADY)
            s.add(Rating(ticket_id=ticket.id, member_id=member.id, round=ticket.reopen_count, solved=solved,
                         satisfaction=satisfaction, at=self.now()))
            labels = {"solved": texts.SOLVED[solved], "satisfaction": texts.SATISFACTION[satisfaction]}
            if ticket.state != S.RESOLVED:
                self._event(s, ticket, "rated", member, data={"solved": solved, "satisfaction": satisfaction})
                reply = texts.CALLBACK_THANKS.format(**labels)
            elif not solved or satisfaction == "dissatisfied":
                dept = await self._reopen(s, ticket, member, solved, satisfaction)
                reply = texts.CALLBACK_REOPENED.format(number=ticket.number, dept=dept.name, **labels)
            else:
                ticket.solved, ticket.satisfaction, ticket.closed_at = solved, satisfaction, self.now()
                self._set_state(s, ticket, S.RATED, "rated", member,
                                data={"solved": solved, "satisfaction": satisfaction})
                await clocks.cancel(s, ticket.id, ["callback"])
                await self._refresh_cards(s, ticket)
                reply = texts.CALLBACK_THANKS.format(**labels)
        self.committed()
        return Done(ticket, reply)

    @staticmethod
    def _check_rater(ticket: Ticket, member: Member, reporters: list[int]) -> None:
        """Only reporters rate, and only a resolved ticket (co-reporters may still answer once it is rated)."""
        if member.telegram_id not in reporters:
            raise NotAllowed(texts.ERR_NOT_ALLOWED)
        if ticket.state not in RATEABLE:
            raise IllegalTransition(texts.ERR_ILLEGAL.format(
                number=ticket.number, state=texts.STATE[ticket.state], action=texts.ACTION["rate"]))

    async def comment(self, ticket_id: int, member: Member, text: str) -> Done:
        """The optional comment after a rating; a reopened ticket's lead department sees it."""
        text = text.strip()
        if not text:
            raise WorkflowError(texts.EMPTY_TEXT)
        async with self._tx() as s:
            ticket = await self._ticket(s, ticket_id)
            rating = (await s.exec(select(Rating).where(Rating.ticket_id == ticket.id, Rating.member_id == member.id)
                                   .order_by(col(Rating.id).desc()))).first()
            if rating is None:
                raise NotAllowed(texts.ERR_NOT_ALLOWED)
            rating.comment = text[:1000]
            s.add(rating)
            self._event(s, ticket, "comment", member, note=rating.comment)
            if ticket.state == S.REOPENED:
                lead = await self._lead_assignment(s, ticket)
                dept = await s.get(Department, lead.department_id)
                if dept.chat_id is not None:
                    self._send(s, dept.chat_id, "notice", texts.N_COMMENT_TO_DEPARTMENT.format(
                        number=ticket.number, comment=rating.comment), ticket)
        self.committed()
        return Done(ticket, texts.CALLBACK_COMMENT_SAVED)

    async def tell(self, chat_id: int, text: str) -> None:
        """A message owed outside any state change (e.g. a confirmation Telegram refused to show in place)."""
        async with self._tx() as s:
            self._send(s, chat_id, "notice", text, None)
        self.committed()

    # -- clocks ---------------------------------------------------------------------------------
    async def sweep(self, batch: int = 100) -> int:
        """Fire every due timer once, in due order; returns how many fired. Safe to run in several processes
        on PostgreSQL (claimed rows are skipped by the others)."""
        fired = 0
        while True:
            done = 0
            async with self.db.session() as s:
                timers = await clocks.claim_due(s, self.now(), batch)
                # Tickets are locked in ascending id order, so two sweepers never wait on each other in a cycle;
                # a ticket's own steps stay in due order.
                for timer in sorted(timers, key=lambda t: (t.ticket_id, t.due_at, t.id)):
                    try:
                        async with s.begin_nested():
                            await self._fire(s, timer)
                            timer.fired_at = self.now()
                            s.add(timer)
                        done += 1
                    except Exception:  # noqa: BLE001 — one broken timer must not stop the clock for the others
                        log.exception("timer %s of ticket %s failed; it stays due and is retried at the next sweep",
                                      timer.id, timer.ticket_id)
            fired += done
            if done:
                self.committed()
            if len(timers) < batch or not done:
                return fired

    async def _fire(self, s: AsyncSession, timer: Timer) -> None:
        ticket = await self._ticket(s, timer.ticket_id)
        if timer.stage == "callback":
            await self._fire_callback(s, ticket, timer)
            return
        assignment = await s.get(Assignment, timer.assignment_id) if timer.assignment_id is not None else None
        if assignment is None:
            raise LookupError(f"timer {timer.id}: its assignment {timer.assignment_id} does not exist")
        due = {"accept": assignment.accept_due, "arrive": assignment.arrive_due,
               "resolve": assignment.resolve_due}[timer.stage]
        dept = await s.get(Department, assignment.department_id)
        values = {"number": ticket.number, "matter": self.catalogue.matter(ticket.matter_code).name,
                  "stage": texts.STAGE[timer.stage], "due": texts.local(due), "dept": dept.name}
        if timer.step == clocks.REMIND:
            chats, template = [dept.chat_id], texts.LADDER_REMIND
        elif timer.step == clocks.ESCALATE:
            center = await self._command_center(s)
            chats, template = [center.chat_id if center else None, dept.supervisor_chat_id], texts.LADDER_ESCALATE
        else:
            leaders = (await s.exec(select(Department).where(Department.kind == DepartmentKind.LEADERSHIP))).first()
            chats, template = [leaders.chat_id if leaders else None], texts.LADDER_ESCALATE2
        for chat_id in dict.fromkeys(c for c in chats if c is not None):
            self._send(s, chat_id, timer.step, template.format(**values), ticket)
        kind = {"remind": "reminded", "escalate": "escalated", "escalate2": "escalated2"}[timer.step]
        self._event(s, ticket, kind, None, department_id=dept.id, data={"stage": timer.stage, "due": due.isoformat()})

    async def _fire_callback(self, s: AsyncSession, ticket: Ticket, timer: Timer) -> None:
        if ticket.state != S.RESOLVED:
            return
        if timer.step == clocks.CLOSE:
            ticket.closed_at = self.now()
            self._set_state(s, ticket, S.CLOSED, "closed", None)
            await self._notify_reporters(s, ticket, texts.CALLBACK_CLOSED.format(number=ticket.number))
            await self._refresh_cards(s, ticket)
            return
        answered = set((await s.exec(select(Member.telegram_id).join(Rating, Rating.member_id == Member.id).where(
            Rating.ticket_id == ticket.id, Rating.round == ticket.reopen_count))).all())
        template = texts.CALLBACK_ASK if timer.step == clocks.ASK else texts.CALLBACK_ASK_AGAIN
        text = template.format(number=ticket.number, result=ticket.result or "")
        buttons = [[[texts.BTN_SOLVED, actions.ticket(actions.SOLVED, ticket.id, "y")],
                    [texts.BTN_UNSOLVED, actions.ticket(actions.SOLVED, ticket.id, "n")]]]
        for chat_id in await self.reporter_chats(s, ticket):
            if chat_id not in answered:
                self._send(s, chat_id, "callback", text, ticket, buttons)
        self._event(s, ticket, "callback_asked" if timer.step == clocks.ASK else "callback_reminded", None)

    async def _reopen(self, s: AsyncSession, ticket: Ticket, member: Member, solved: bool,
                      satisfaction: str) -> Department:
        """重办: back to the lead department with a new clock; counted against it."""
        previous = await self._lead_assignment(s, ticket)
        dept = await s.get(Department, previous.department_id)
        matter = self.catalogue.matter(ticket.matter_code)
        now = self.now()
        ticket.reopen_count += 1
        ticket.solved, ticket.satisfaction, ticket.resolved_at, ticket.result = solved, satisfaction, None, None
        note = texts.N_REOPENED_CARD.format(solved=texts.SOLVED[solved],
                                           satisfaction=texts.SATISFACTION[satisfaction], comment="")
        self._set_state(s, ticket, S.REOPENED, "reopened", member, dept.id, note=note,
                        data={"solved": solved, "satisfaction": satisfaction})
        await clocks.cancel(s, ticket.id, ["callback"])
        assignment = Assignment(ticket_id=ticket.id, department_id=dept.id, role=AssignmentRole.LEAD, assigned_at=now,
                                accept_due=self.calendar.add(now, matter.clocks["accept"]),
                                resolve_due=self.calendar.add(now, matter.clocks["resolve"]))
        previous.state = AssignmentState.WITHDRAWN
        s.add_all([previous, assignment])
        await s.flush()
        s.add_all(clocks.stage_timers(ticket.id, assignment.id, "accept", now, assignment.accept_due, self.ladder))
        s.add_all(clocks.stage_timers(ticket.id, assignment.id, "resolve", now, assignment.resolve_due, self.ladder))
        await self._refresh_cards(s, ticket)
        if dept.chat_id is not None:
            text, buttons = await self._card(s, ticket, assignment)
            self._send(s, dept.chat_id, "card", text, ticket, buttons)
        return dept

    async def _lead_assignment(self, s: AsyncSession, ticket: Ticket) -> Assignment:
        return (await s.exec(select(Assignment).where(Assignment.ticket_id == ticket.id,
                                                      Assignment.role == AssignmentRole.LEAD)
                             .order_by(col(Assignment.id).desc()))).first()

    async def _pending_extension(self, s: AsyncSession, ticket: Ticket) -> Extension | None:
        return (await s.exec(select(Extension).where(Extension.ticket_id == ticket.id,
                                                     Extension.state == "pending"))).first()

    async def precheck(self, ticket_id: int, actor: Member, action: str, chat_id: int | None = None) -> Ticket:
        """Would `action` by `actor` be allowed now? Raises as the action would; changes nothing.

        Used before asking for a reason or result, so nobody types one for a button they may not press."""
        async with self.db.session() as s:
            ticket = await s.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFound(texts.ERR_NOT_FOUND)
            if action in ("dispatch", "uphold", "decide_extension"):
                self._require_role(action, actor)
            elif action == "rate":
                self._check_rater(ticket, actor, await self.reporter_chats(s, ticket))
                return ticket
            else:
                lead_only = action in ("return", "resolve", "arrive", "extend")
                a = await self._actor_assignment(s, ticket, actor, action, lead_only=lead_only, chat_id=chat_id)
                if action == "accept" and a.role == AssignmentRole.COOPERATE:
                    if a.state != AssignmentState.PENDING:
                        raise IllegalTransition(texts.ERR_ILLEGAL.format(
                            number=ticket.number, state=texts.STATE[S.ACCEPTED], action=texts.ACTION[action]))
                    return ticket
            check(action, ticket.state, ticket.number)
            return ticket

    # -- internals: routing ---------------------------------------------------------------------
    async def _route(self, s: AsyncSession, ticket: Ticket, matter_code: str, actor: Member | None,
                     kind: str = "dispatched", note: str | None = None) -> bool:
        """Assign lead and cooperating departments and send their cards. False if the lead can't be reached."""
        matter = self.catalogue.matter(matter_code)
        township = await self._township(s, ticket)
        lead = await self._department(s, matter.lead, township)
        if lead is None or lead.chat_id is None:
            return False
        ticket.matter_code = matter_code
        now = self.now()
        accept_due = self.calendar.add(now, matter.clocks["accept"])
        resolve_due = self.calendar.add(now, matter.clocks["resolve"])
        assignments = [Assignment(ticket_id=ticket.id, department_id=lead.id, role=AssignmentRole.LEAD,
                                  assigned_at=now, accept_due=accept_due, resolve_due=resolve_due)]
        seen = {lead.id}
        for code in matter.cooperate:
            dept = await self._department(s, code, township)
            if dept is not None and dept.id not in seen:
                seen.add(dept.id)
                assignments.append(Assignment(ticket_id=ticket.id, department_id=dept.id,
                                              role=AssignmentRole.COOPERATE, assigned_at=now,
                                              accept_due=accept_due, resolve_due=resolve_due))
        s.add_all(assignments)
        await s.flush()
        s.add_all(clocks.stage_timers(ticket.id, assignments[0].id, "accept", now, accept_due, self.ladder))
        s.add_all(clocks.stage_timers(ticket.id, assignments[0].id, "resolve", now, resolve_due, self.ladder))
        self._set_state(s, ticket, S.DISPATCHED, kind, actor, lead.id, note=note, data={"matter": matter_code})
        for a in assignments:
            dept = lead if a.department_id == lead.id else await s.get(Department, a.department_id)
            if dept.chat_id is not None:
                text, buttons = await self._card(s, ticket, a)
                self._send(s, dept.chat_id, "card", text, ticket, buttons)
        await self._notify_reporters(s, ticket, texts.N_DISPATCHED.format(number=ticket.number, lead=lead.name))
        return True

    async def _to_dispatcher(self, s: AsyncSession, ticket: Ticket, reason: str, uphold: bool = False) -> None:
        """Hand the ticket to the command center's chat with matter buttons (never silently elsewhere)."""
        center = await self._command_center(s)
        if center is None or center.chat_id is None:
            return  # the county has no command center chat yet; the ticket waits in 受理 and is listed in /my
        candidates = list(dict.fromkeys([c for c in (ticket.matter_code, *ticket.candidates)
                                         if c in self.catalogue.matters]))
        grid = await self._grid_name(s, ticket)
        suggestion = "、".join(self.catalogue.matter(c).name for c in candidates[:3]) or texts.NOTHING
        buttons = [[[f"{self.catalogue.matter(c).name}", actions.ticket(actions.DISPATCH, ticket.id, c)]]
                   for c in candidates[:6]]
        if uphold:
            buttons.insert(0, [[texts.BTN_UPHOLD, actions.ticket(actions.UPHOLD, ticket.id)]])
        buttons.append([[texts.BTN_BROWSE, actions.ticket(actions.BROWSE, ticket.id)]])
        text = texts.DISPATCH_CARD.format(number=ticket.number, text=ticket.text, grid=grid, reason=reason,
                                          suggestion=suggestion)
        self._send(s, center.chat_id, "dispatch", text, ticket, buttons)

    async def _alert_emergency(self, s: AsyncSession, ticket: Ticket) -> None:
        center = await self._command_center(s)
        self._event(s, ticket, "emergency", None)
        if center and center.chat_id is not None:
            grid = await self._grid_name(s, ticket)
            self._send(s, center.chat_id, "emergency",
                       texts.EMERGENCY_ALERT.format(number=ticket.number, text=ticket.text, grid=grid), ticket)

    async def _withdraw_open_assignments(self, s: AsyncSession, ticket: Ticket) -> None:
        rows = await s.exec(select(Assignment).where(Assignment.ticket_id == ticket.id,
                                                     col(Assignment.state).in_([AssignmentState.PENDING,
                                                                                AssignmentState.RETURNED])))
        for a in rows.all():
            a.state = AssignmentState.WITHDRAWN
            s.add(a)
        await clocks.cancel(s, ticket.id, clocks.STAGES)

    # -- internals: cards and notices -----------------------------------------------------------
    async def _card(self, s: AsyncSession, ticket: Ticket, assignment: Assignment):
        """A department's card: what, where, who leads, the clocks — never the resident's name or phone."""
        matter = self.catalogue.matter(ticket.matter_code)
        assignments = (await s.exec(select(Assignment).where(
            Assignment.ticket_id == ticket.id, Assignment.state != AssignmentState.WITHDRAWN))).all()
        names = {}
        for a in assignments:
            names[a.id] = (await s.get(Department, a.department_id)).name
        lead = next((names[a.id] for a in assignments if a.role == AssignmentRole.LEAD), "")
        coop = list(dict.fromkeys(names[a.id] for a in assignments if a.role == AssignmentRole.COOPERATE))
        extra = ""
        if assignment.role == AssignmentRole.COOPERATE:
            extra += texts.CARD_ROLE_COOP
        if ticket.photo_file_id:
            extra += texts.CARD_PHOTO
        if ticket.latitude is not None:
            extra += texts.CARD_LOCATION.format(lat=ticket.latitude, lon=ticket.longitude)
        note = (await s.exec(select(Event.note).where(
            Event.ticket_id == ticket.id, col(Event.kind).in_(["upheld", "reopened"]),
            Event.department_id == assignment.department_id).order_by(col(Event.id).desc()))).first()
        if note and assignment.role == AssignmentRole.LEAD and ticket.state != S.RATED:
            extra += texts.CARD_DISPATCHER_NOTE.format(note=note)
        if assignment.arrived_at:
            extra += texts.CARD_ARRIVED.format(at=texts.local(assignment.arrived_at))
        if ticket.result:
            extra += texts.CARD_RESULT.format(result=ticket.result)
        if ticket.resolved_at and ticket.state in (S.RESOLVED, S.RATED, S.CLOSED):
            limits = texts.LIMIT_DONE.format(at=texts.local(ticket.resolved_at))
        else:
            parts = []
            if assignment.state == AssignmentState.PENDING:
                parts.append(texts.LIMIT_ACCEPT.format(due=texts.local(assignment.accept_due)))
            if assignment.arrive_due and not assignment.arrived_at:
                parts.append(texts.LIMIT_ARRIVE.format(due=texts.local(assignment.arrive_due)))
            parts.append(texts.LIMIT_RESOLVE.format(due=texts.local(assignment.resolve_due)))
            limits = "；".join(parts)
        text = texts.CARD.format(
            number=ticket.number, state=texts.STATE[ticket.state], matter=f"{matter.name}（{matter.code}）",
            lead=lead, cooperate=texts.CARD_COOP_LINE.format(names="、".join(coop)) if coop else "",
            grid=await self._grid_name(s, ticket), text=ticket.text, extra=extra, limits=limits)
        return text, self._card_buttons(ticket, assignment)

    @staticmethod
    def _card_buttons(ticket: Ticket, a: Assignment) -> list[list[list[str]]]:
        row: list[list[str]] = []
        if a.state == AssignmentState.PENDING and ticket.state in (S.DISPATCHED, S.REOPENED):
            row.append([texts.BTN_ACCEPT, actions.ticket(actions.ACCEPT, ticket.id)])
            if a.role == AssignmentRole.LEAD:
                row.append([texts.BTN_RETURN, actions.ticket(actions.RETURN, ticket.id)])
        if a.role == AssignmentRole.LEAD and a.state == AssignmentState.ACCEPTED and ticket.state == S.ACCEPTED:
            if a.arrive_due and not a.arrived_at:
                row.append([texts.BTN_ARRIVE, actions.ticket(actions.ARRIVE, ticket.id)])
            row.append([texts.BTN_RESOLVE, actions.ticket(actions.RESOLVE, ticket.id)])
            row.append([texts.BTN_EXTEND, actions.ticket(actions.EXTEND, ticket.id)])
        return [row] if row else []

    async def _refresh_cards(self, s: AsyncSession, ticket: Ticket) -> None:
        """Edit every department card of the ticket to show its new state and the buttons still allowed."""
        await s.flush()
        cards = (await s.exec(select(Outbox).where(Outbox.ticket_id == ticket.id, Outbox.kind == "card",
                                                   col(Outbox.edit_of).is_(None)))).all()
        for card in cards:
            dept = (await s.exec(select(Department).where(Department.chat_id == card.chat_id))).first()
            if dept is None:
                continue
            a = (await s.exec(select(Assignment).where(Assignment.ticket_id == ticket.id,
                                                       Assignment.department_id == dept.id)
                              .order_by(col(Assignment.id).desc()))).first()
            if a is None:
                continue
            if a.state == AssignmentState.WITHDRAWN:
                a = Assignment(ticket_id=ticket.id, department_id=dept.id, role=a.role,
                               state=AssignmentState.WITHDRAWN, accept_due=a.accept_due, resolve_due=a.resolve_due)
            text, buttons = await self._card(s, ticket, a)
            self._send(s, card.chat_id, "card_edit", text, ticket, buttons, edit_of=card.id)

    async def _notify_reporters(self, s: AsyncSession, ticket: Ticket, text: str) -> None:
        for chat_id in await self.reporter_chats(s, ticket):
            self._send(s, chat_id, "notice", text, ticket)

    async def reporter_chats(self, s: AsyncSession, ticket: Ticket) -> list[int]:
        """The reporter and co-reporters (private chat id == Telegram user id)."""
        ids = [ticket.reporter_id] + list((await s.exec(
            select(CoReporter.member_id).where(CoReporter.ticket_id == ticket.id))).all())
        members = (await s.exec(select(Member).where(col(Member.id).in_(ids)))).all()
        return [m.telegram_id for m in sorted(members, key=lambda m: ids.index(m.id))]

    def _send(self, s: AsyncSession, chat_id: int, kind: str, text: str, ticket: Ticket | None,
              buttons: list | None = None, edit_of: int | None = None) -> None:
        s.add(Outbox(chat_id=chat_id, ticket_id=ticket.id if ticket else None, kind=kind, text=text,
                     buttons=buttons or None, edit_of=edit_of, created_at=self.now(), next_attempt_at=self.now()))

    # -- internals: lookups ---------------------------------------------------------------------
    def _tx(self, session: AsyncSession | None = None):
        if session is not None:
            return _Borrowed(session)
        return self.db.session()

    async def _ticket(self, s: AsyncSession, ticket_id: int) -> Ticket:
        ticket = (await s.exec(select(Ticket).where(Ticket.id == ticket_id).with_for_update())).first()
        if ticket is None:
            raise NotFound(texts.ERR_NOT_FOUND)
        return ticket

    @staticmethod
    def _require_role(action: str, actor: Member) -> None:
        if actor.role not in ALLOWED[action]:
            raise NotAllowed(texts.NOT_DISPATCHER if action in ("dispatch", "uphold", "decide_extension")
                             else texts.ERR_NOT_ALLOWED)

    async def _actor_assignment(self, s: AsyncSession, ticket: Ticket, actor: Member, action: str,
                                lead_only: bool = False, chat_id: int | None = None) -> Assignment:
        """The actor's department's live assignment on this ticket, or NotAllowed. With `chat_id` (where the
        button was pressed), the actor must also belong to the department of that chat: a card's buttons are
        its own department's, even for staff of another department assigned to the same ticket."""
        if actor.role not in ALLOWED[action] or actor.department_id is None:
            raise NotAllowed(texts.NOT_YOUR_DEPARTMENT)
        if chat_id is not None:
            here = (await s.exec(select(Department).where(Department.chat_id == chat_id))).first()
            if here is None or here.id != actor.department_id:
                raise NotAllowed(texts.NOT_YOUR_DEPARTMENT)
        rows = await s.exec(select(Assignment).where(
            Assignment.ticket_id == ticket.id, Assignment.department_id == actor.department_id,
            Assignment.state != AssignmentState.WITHDRAWN).order_by(col(Assignment.id).desc()))
        assignment = rows.first()
        if assignment is None or (lead_only and assignment.role != AssignmentRole.LEAD):
            raise NotAllowed(texts.NOT_YOUR_DEPARTMENT)
        return assignment

    async def _township(self, s: AsyncSession, ticket: Ticket) -> Department | None:
        if ticket.grid_id is None:
            return None
        grid = await s.get(Grid, ticket.grid_id)
        return await s.get(Department, grid.township_id) if grid else None

    async def _department(self, s: AsyncSession, code: str, township: Department | None) -> Department | None:
        if code == TOWNSHIP:
            return township
        return (await s.exec(select(Department).where(Department.code == code))).first()

    async def _command_center(self, s: AsyncSession) -> Department | None:
        return (await s.exec(select(Department).where(Department.kind == DepartmentKind.COMMAND)
                             .order_by(col(Department.id)))).first()

    async def _grid_name(self, s: AsyncSession, ticket: Ticket) -> str:
        if ticket.grid_id is None:
            return texts.NO_GRID
        grid = await s.get(Grid, ticket.grid_id)
        township = await s.get(Department, grid.township_id)
        return f"{township.name}·{grid.name}"

    def _lead_name(self, matter_code: str) -> str:
        lead = self.catalogue.matter(matter_code).lead
        dept = self.catalogue.departments.get(lead)
        return dept.name if dept else texts.TOWNSHIP_LABEL

    async def _next_number(self, s: AsyncSession, now: datetime) -> str:
        """20261126-0007: local date and a per-day sequence, incremented under a row lock."""
        day = now.astimezone(TZ).strftime("%Y%m%d")
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        await s.exec(insert(DailyCounter).values(day=day, last=0).on_conflict_do_nothing())  # first of the day
        counter = (await s.exec(select(DailyCounter).where(DailyCounter.day == day).with_for_update())).one()
        counter.last += 1
        s.add(counter)
        await s.flush()
        return f"{day}-{counter.last:04d}"

    def _set_state(self, s: AsyncSession, ticket: Ticket, state: str, kind: str, actor: Member | None,
                   department_id: int | None = None, note: str | None = None, data: dict | None = None) -> None:
        previous = ticket.state
        ticket.state = state
        ticket.updated_at = self.now()
        s.add(ticket)
        self._event(s, ticket, kind, actor, department_id=department_id, from_state=previous, to_state=state,
                    note=note, data=data)

    def _event(self, s: AsyncSession, ticket: Ticket, kind: str, actor: Member | None, *,
               department_id: int | None = None, from_state: str | None = None, to_state: str | None = None,
               note: str | None = None, data: dict | None = None) -> None:
        s.add(Event(ticket_id=ticket.id, at=self.now(), kind=kind, actor_id=actor.id if actor else None,
                    department_id=department_id, from_state=from_state, to_state=to_state, note=note,
                    data=data or {}))


class _Borrowed:
    """Use a caller's open transaction (e.g. intake that also marks its draft submitted)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def __aenter__(self) -> AsyncSession:
        return self.session

    async def __aexit__(self, *exc) -> None:
        return None



_DEADLINE = re.compile(r"^\s*(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?\s*(.*)$", re.S)


def parse_extension(text: str, now: datetime) -> tuple[datetime, str] | None:
    """'12-10 等待配件到货' → (18:00 local on 10 Dec, the reason); None if it doesn't read as a date + reason.
    A month-day already past this year means next year."""
    m = _DEADLINE.match(text or "")
    if not m:
        return None
    today = now.astimezone(TZ).date()
    try:
        day = date(int(m[1]) if m[1] else today.year, int(m[2]), int(m[3]))
    except ValueError:
        return None
    if not m[1] and day < today:
        day = day.replace(year=day.year + 1)
    return datetime.combine(day, time(18, 0), TZ).astimezone(now.tzinfo), m[4].strip()
