"""What departments do with a ticket: 签收, 退回, 报到, 进展, 延期, 办结 — and the command center's decision on
an extension. Each call names the department it acts for (the chat the button was pressed in)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import select

from bot import clocks, notices, queries, texts
from bot.cards import arrival_distance
from bot.outbox import to_department
from bot.workflow.base import WORD_CHARS, Step, required
from bot.workflow.routing import Done
from bot.workflow.rules import IllegalTransition, NotFound, WorkflowError
from storage.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    Attachment,
    Department,
    Extension,
    Member,
    Ticket,
)

MAX_EXTENSION_DAYS = 60
#: a 办结 result needs this many letters, digits or characters ("已修复"): the resident reads it as the answer
RESULT_MIN_CHARS = 3


class ArrivalRequired(WorkflowError):
    """办结 of an on-site matter before 报到: arrive first, or state why nobody had to go (recorded)."""


class DepartmentActions(Step):
    async def accept(self, ticket_id: int, actor: Member, acting_for: int | None = None) -> Done:
        """签收. The lead's acceptance moves the ticket; a cooperating department's only its own share."""
        async with self.tx() as s:
            ticket = await self.ticket(s, ticket_id)
            mine = await queries.department_assignment(s, ticket.id, actor.department_id or 0)
            lead = mine is None or mine.role == AssignmentRole.LEAD
            assignment = await self.permit(s, "accept" if lead else "accept_share", ticket, actor, acting_for)
            if assignment.state != AssignmentState.PENDING:
                raise IllegalTransition(texts.ALREADY_ACCEPTED.format(number=ticket.number))
            now = self.now()
            self.apply(s, ticket, "accept" if lead else "accept_share", actor, department_id=assignment.department_id)
            assignment.state, assignment.accepted_at = AssignmentState.ACCEPTED, now
            s.add(assignment)
            if lead:
                await clocks.cancel(s, ticket.id, ["accept"])
                matter = self.catalogue.matter(ticket.matter_code)
                if matter.onsite and "arrive" in matter.clocks:
                    assignment.arrive_due = self.ctx.calendar.add(now, matter.clocks["arrive"])
                    s.add_all(clocks.stage_timers(ticket.id, assignment.id, "arrive", now, assignment.arrive_due,
                                                  self.ctx.ladder))
                dept = await s.get(Department, assignment.department_id)
                await notices.reporters(s, ticket, texts.N_ACCEPTED.format(number=ticket.number, dept=dept.name), now)
            await self.cards.refresh(s, ticket, now)
        return Done(ticket, texts.DONE_ACCEPT)

    async def return_(self, ticket_id: int, actor: Member, reason: str, acting_for: int | None = None) -> Done:
        """退回: only the lead, only before acceptance, only with a reason; the dispatcher decides next."""
        reason = required(reason, texts.RETURN_REASON_EMPTY)
        async with self.acting("return", ticket_id, actor, acting_for) as (s, ticket, assignment):
            self.apply(s, ticket, "return", actor, department_id=assignment.department_id, note=reason)
            assignment.state, assignment.returned_at = AssignmentState.RETURNED, self.now()
            s.add(assignment)
            await clocks.cancel(s, ticket.id, clocks.STAGES)
            dept = await s.get(Department, assignment.department_id)
            await self.to_dispatcher(s, ticket, texts.DISPATCH_REASON_RETURN.format(dept=dept.name, reason=reason),
                returned=ticket.matter_code)
            await self.cards.refresh(s, ticket, self.now())
        return Done(ticket, texts.DONE_RETURN)

    async def add_note(self, ticket_id: int, actor: Member, text: str, *, relay: bool,
                       acting_for: int | None = None) -> Done:
        """A department's note on the ticket: relayed to the reporters as 办理进展, or kept as an internal note."""
        text = required(text, texts.EMPTY_TEXT)
        async with self.acting("note", ticket_id, actor, acting_for) as (s, ticket, assignment):
            self.apply(s, ticket, "note", actor, kind="note" if relay else "internal_note",
                       department_id=assignment.department_id, note=text)
            if relay:
                dept = await s.get(Department, assignment.department_id)
                await notices.reporters(s, ticket, texts.N_NOTE.format(number=ticket.number, dept=dept.name,
                                                                       text=text), self.now())
        return Done(ticket, texts.DONE_NOTE if relay else texts.DONE_INTERNAL_NOTE)

    async def arrive(self, ticket_id: int, actor: Member, latitude: float, longitude: float,
                     acting_for: int | None = None) -> Done:
        """报到: the lead department reports arrival on site, with its location; stops the arrive clock."""
        async with self.acting("arrive", ticket_id, actor, acting_for) as (s, ticket, assignment):
            if assignment.arrived_at is not None or assignment.arrive_due is None:
                raise IllegalTransition(texts.ERR_ILLEGAL.format(
                    number=ticket.number, state=texts.STATE[ticket.state], action=texts.ACTION["arrive"]))
            assignment.arrived_at = self.now()
            assignment.arrival_latitude, assignment.arrival_longitude = latitude, longitude
            far = arrival_distance(ticket, assignment)
            outside = far is not None and far > self.cards.radius_m
            self.apply(s, ticket, "arrive", actor, department_id=assignment.department_id,
                       data={"latitude": latitude, "longitude": longitude, "distance_m": far, "outside": outside})
            s.add(assignment)
            await clocks.cancel(s, ticket.id, ["arrive"])
            dept = await s.get(Department, assignment.department_id)
            await notices.reporters(s, ticket, texts.N_ARRIVED.format(number=ticket.number, dept=dept.name), self.now())
            if outside:  # the command center looks: wrong place, or a 报到 from the office
                await notices.command_center(s, texts.N_ARRIVAL_FAR.format(
                    number=ticket.number, dept=dept.name, m=round(far), r=round(self.cards.radius_m)), self.now(),
                    ticket)
            await self.cards.refresh(s, ticket, self.now())
        if far is None:
            return Done(ticket, texts.DONE_ARRIVE)
        reply = texts.DONE_ARRIVE_FAR if outside else texts.DONE_ARRIVE_NEAR
        return Done(ticket, reply.format(m=round(far), r=round(self.cards.radius_m)))

    async def waive_arrival(self, ticket_id: int, actor: Member, reason: str, acting_for: int | None = None) -> Done:
        """An on-site matter settled without going there (e.g. by phone): why, on the record; 办结 may follow."""
        reason = required(reason, texts.WAIVE_REASON_EMPTY)
        async with self.acting("waive_arrival", ticket_id, actor, acting_for) as (s, ticket, assignment):
            if assignment.arrive_due is None or assignment.arrived_at is not None:
                raise IllegalTransition(texts.NO_ARRIVAL_NEEDED)
            self.apply(s, ticket, "waive_arrival", actor, department_id=assignment.department_id, note=reason)
            assignment.arrival_waiver = reason[:1000]
            s.add(assignment)
            await clocks.cancel(s, ticket.id, ["arrive"])
            await self.cards.refresh(s, ticket, self.now())
        return Done(ticket, texts.DONE_WAIVED)

    async def resolve(self, ticket_id: int, actor: Member, result: str, acting_for: int | None = None,
                      photos: Sequence[str] = (), media_group_id: str | None = None) -> Done:
        """办结 with the result text and 处置后照片 (required for matters the catalogue marks so); the reporters
        are told the result, see the photos, and will be asked (回访)."""
        result = required(result, texts.RESULT_EMPTY)
        if len(WORD_CHARS.findall(result)) < RESULT_MIN_CHARS:  # "好", "ok": the resident would learn nothing
            raise WorkflowError(texts.RESULT_TOO_SHORT)
        async with self.acting("resolve", ticket_id, actor, acting_for) as (s, ticket, assignment):
            self.require_arrival(assignment)
            if not photos and self.catalogue.matter(ticket.matter_code).result_photo:
                raise WorkflowError(texts.RESULT_PHOTO_REQUIRED)
            now = self.now()
            s.add_all(Attachment(ticket_id=ticket.id, kind="photo", purpose="result", file_id=f,
                                 media_group_id=media_group_id, created_at=now) for f in photos)
            ticket.result, ticket.resolved_at = result, now
            self.apply(s, ticket, "resolve", actor, department_id=assignment.department_id, note=result)
            assignment.state, assignment.resolved_at = AssignmentState.RESOLVED, now
            s.add(assignment)
            await clocks.cancel(s, ticket.id, clocks.STAGES)
            matter = self.catalogue.matter(ticket.matter_code)
            s.add_all(clocks.callback_timers(ticket.id, now, matter.clocks.get("callback"), self.ctx.calendar,
                                             self.ctx.ladder))
            dept = await s.get(Department, assignment.department_id)
            await notices.reporters(s, ticket, texts.N_RESOLVED.format(number=ticket.number, dept=dept.name,
                                                                       result=result), now,
                                    media={"photos": list(photos)} if photos else None)
            await self.cards.refresh(s, ticket, now)
        return Done(ticket, texts.DONE_RESOLVE)

    async def add_result_photo(self, actor: Member, media_group_id: str, file_id: str,
                               acting_for: int | None = None) -> Ticket | None:
        """A further photo of the album a 办结 came with: recorded with the result (None: no such 办结)."""
        async with self.ctx.db.session() as s:
            first = (await s.exec(select(Attachment).where(Attachment.purpose == "result",
                                                           Attachment.media_group_id == media_group_id))).first()
            if first is None:
                return None
            ticket = await self.ticket(s, first.ticket_id)
            lead = await queries.lead_assignment(s, ticket.id)
            if lead is None or lead.department_id != actor.department_id or (
                    acting_for is not None and lead.department_id != acting_for):
                return None
            s.add(Attachment(ticket_id=ticket.id, kind="photo", purpose="result", file_id=file_id,
                             media_group_id=media_group_id, created_at=self.now()))
            await self.cards.refresh(s, ticket, self.now())
            return ticket

    @staticmethod
    def require_arrival(assignment: Assignment) -> None:
        if assignment.arrive_due is not None and assignment.arrived_at is None and not assignment.arrival_waiver:
            raise ArrivalRequired(texts.RESOLVE_NEEDS_ARRIVAL)

    async def request_extension(self, ticket_id: int, actor: Member, new_due: datetime, reason: str,
                                acting_for: int | None = None) -> Done:
        """延期: the lead asks to move its resolve deadline; the command center decides."""
        reason = reason.strip()
        async with self.acting("extend", ticket_id, actor, acting_for) as (s, ticket, assignment):
            latest = self.now() + timedelta(days=MAX_EXTENSION_DAYS)
            if not reason or new_due <= assignment.resolve_due or new_due > latest:
                raise WorkflowError(texts.EXTENSION_BAD.format(due=texts.local(assignment.resolve_due),
                                                               days=MAX_EXTENSION_DAYS))
            if await queries.pending_extension(s, ticket.id) is not None:
                raise WorkflowError(texts.EXTENSION_PENDING)
            self.apply(s, ticket, "extend", actor, department_id=assignment.department_id, note=reason,
                       data={"new_due": new_due.isoformat()})
            extension = Extension(ticket_id=ticket.id, assignment_id=assignment.id, requested_by=actor.id,
                                  reason=reason, old_due=assignment.resolve_due, new_due=new_due,
                                  requested_at=self.now())
            s.add(extension)
            await s.flush()
            center = await queries.command_center(s)
            if center is not None:
                await self.cards.post(s, ticket, f"extension:{extension.id}", to_department(center.id), self.now())
        return Done(ticket, texts.DONE_EXTENSION)

    async def decide_extension(self, ticket_id: int, extension_id: int, actor: Member, approve: bool) -> Done:
        """The dispatcher approves (the clock moves, the resident is told) or refuses a pending extension."""
        async with self.acting("decide_extension", ticket_id, actor) as (s, ticket, _):
            extension = await s.get(Extension, extension_id)
            if extension is None or extension.ticket_id != ticket.id or extension.state != "pending":
                raise NotFound(texts.NO_EXTENSION)
            now = self.now()
            assignment = await s.get(Assignment, extension.assignment_id)
            dept = await s.get(Department, assignment.department_id)
            self.apply(s, ticket, "decide_extension", actor, kind="extension_approved" if approve
                       else "extension_refused", department_id=dept.id, note=extension.reason)
            extension.state = "approved" if approve else "refused"
            extension.decided_by, extension.decided_at = actor.id, now
            s.add(extension)
            if approve:
                assignment.resolve_due = extension.new_due
                s.add(assignment)
                await clocks.cancel(s, ticket.id, ["resolve"])
                s.add_all(clocks.stage_timers(ticket.id, assignment.id, "resolve", now, extension.new_due,
                                              self.ctx.ladder))
                due = texts.local(extension.new_due)
                notices.department(s, dept, texts.N_EXTENSION_APPROVED_DEPT.format(number=ticket.number, due=due),
                                   now, ticket)
                await notices.reporters(s, ticket, texts.N_EXTENSION_RESIDENT.format(
                    number=ticket.number, due=due, reason=extension.reason), now)
            else:
                notices.department(s, dept, texts.N_EXTENSION_REFUSED_DEPT.format(
                    number=ticket.number, due=texts.local(assignment.resolve_due)), now, ticket)
            await self.cards.refresh(s, ticket, now)
        return Done(ticket, texts.EXTENSION_APPROVED if approve else texts.EXTENSION_REFUSED)
