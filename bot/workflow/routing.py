"""受理 and 派单: a request becomes a ticket and reaches its lead department — or the command center, where a
dispatcher picks the matter, upholds a return, or asks the reporter a question. Never silently elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import clocks, notices, outbox, queries, texts
from bot.calendar import TZ
from bot.outbox import owe, to_department, to_member
from bot.workflow.base import Step, required
from bot.workflow.rules import NotFound, WorkflowError
from storage.models import (
    Assignment,
    AssignmentRole,
    Attachment,
    CoReporter,
    DailyCounter,
    Member,
    Role,
    Ticket,
)
from storage.models import TicketState as S


@dataclass
class Done:
    """What a workflow call did, for the handler's short confirmation."""

    ticket: Ticket
    reply: str = ""


NOTE_LABEL = {"uphold": texts.NOTE_FROM_DISPATCHER, "reassign": texts.NOTE_REASSIGNED}  # shown on the lead's card


class Routing(Step):
    async def submit(self, reporter: Member, text: str, *, matter_code: str | None, confidence: float | None = None,
                     emergency: bool = False, photos: Sequence[str] = (), latitude: float | None = None,
                     longitude: float | None = None, candidates: Sequence[str] = (),
                     grid_id: int | None = None, grid_source: str | None = None, filed_by: Member | None = None,
                     media: Sequence[tuple[str, str, int | None, int | None]] = (),
                     session: AsyncSession | None = None) -> Ticket:
        """受理: file a ticket; with a matter it is routed at once, without one it waits for a dispatcher."""
        async with self.tx(session) as s:
            now = self.now()
            source = "proxy" if filed_by else Role.GRID_WORKER if reporter.role == Role.GRID_WORKER else Role.RESIDENT
            ticket = Ticket(number=await self._next_number(s), reporter_id=reporter.id, source=source,
                            filed_by=filed_by.id if filed_by else None,
                            grid_id=grid_id if grid_id is not None else reporter.grid_id,
                            grid_source=grid_source if grid_id is not None else ("home" if reporter.grid_id else None),
                            text=text,
                            latitude=latitude, longitude=longitude, confidence=confidence,
                            candidates=list(candidates)[:5], emergency=emergency, created_at=now, updated_at=now)
            s.add(ticket)
            await s.flush()
            s.add_all(Attachment(ticket_id=ticket.id, kind="photo", file_id=f, created_at=now) for f in photos)
            s.add_all(Attachment(ticket_id=ticket.id, kind=kind, file_id=f, duration=seconds, file_size=size,
                                 created_at=now) for kind, f, seconds, size in media)
            self.event(s, ticket, "submitted", filed_by or reporter, to_state=S.RECEIVED,
                       data={"confidence": confidence, "emergency": emergency, "source": source})
            if filed_by is not None:  # 代办: the resident hears of it (if they have Telegram), by number
                owe(s, to_member(reporter.id), texts.N_PROXY_FILED.format(
                    grid_worker=filed_by.name, number=ticket.number, excerpt=ticket.text[:40]), now)
            if matter_code is None:
                recorded = next((kind for kind, *_ in media if kind in texts.RECORDING), None)
                await self.to_dispatcher(s, ticket, texts.DISPATCH_REASON_RECORDING.format(
                    what=texts.RECORDING[recorded]) if recorded else texts.DISPATCH_REASON_LOW)
            elif not await self._route(s, ticket, matter_code, None, "route"):
                await self.to_dispatcher(s, ticket, texts.DISPATCH_REASON_NO_LEAD.format(
                    dept=self.lead_name(matter_code)))
            if emergency:
                lead = await queries.lead_assignment(s, ticket.id)
                place = (texts.EMERGENCY_POINT.format(latitude=ticket.latitude, longitude=ticket.longitude)
                         if ticket.latitude is not None and ticket.longitude is not None
                         else texts.EMERGENCY_NO_POINT.format(grid=await queries.grid_name(s, ticket.grid_id)))
                await notices.command_center(s, texts.EMERGENCY_FILED.format(
                    number=ticket.number, text=ticket.text, where=texts.EMERGENCY_WHERE_LEAD if lead
                    else texts.EMERGENCY_WHERE_CENTER, place=place), now, ticket, kind="emergency")
        return ticket

    async def alert_emergency(self, text: str, grid: str, kind: str | None = None, grid_id: int | None = None,
                              reporter_id: int | None = None) -> bool:
        """⚠️ A danger right now: the command center (and the grid's workers) are told the moment the message
        arrives, before the resident confirms anything. False when the county has no command center chat."""
        async with self.tx() as s:
            return await notices.emergency(s, text, grid, self.now(), kind, grid_id, reporter_id)

    async def join(self, ticket_id: int, member: Member, session: AsyncSession | None = None) -> Ticket:
        """附议: a resident who reports the same open ticket becomes a co-reporter and gets its notices."""
        async with self.acting("join", ticket_id, member, session=session) as (s, ticket, _):
            exists = (await s.exec(select(CoReporter).where(CoReporter.ticket_id == ticket.id,
                                                            CoReporter.member_id == member.id))).first()
            if ticket.reporter_id == member.id or exists is not None:
                return ticket
            s.add(CoReporter(ticket_id=ticket.id, member_id=member.id, joined_at=self.now()))
            self.apply(s, ticket, "join", member)
        return ticket

    async def dispatch(self, ticket_id: int, matter_code: str, actor: Member) -> Done:
        """派单 / 重新派单: the dispatcher picks the matter; the ticket goes to its lead department."""
        async with self.acting("dispatch", ticket_id, actor) as (s, ticket, _):
            if matter_code not in self.catalogue.matters:
                raise NotFound(texts.ERR_FORGED)
            kind = "rerouted" if ticket.state == S.RETURNED else "dispatched"
            await self.withdraw(s, ticket)
            if not await self._route(s, ticket, matter_code, actor, "dispatch", kind=kind):
                raise WorkflowError(texts.DISPATCH_REASON_NO_LEAD.format(dept=self.lead_name(matter_code)))
        if self.ctx.on_label:
            self.ctx.on_label(ticket.text, matter_code)
        return Done(ticket, texts.DONE_DISPATCH)

    async def uphold(self, ticket_id: int, actor: Member, note: str) -> Done:
        """维持原派单: the dispatcher rejects a return; the same lead department gets it back, with the note."""
        note = required(note, texts.EMPTY_TEXT)
        async with self.acting("uphold", ticket_id, actor) as (s, ticket, _):
            await self.withdraw(s, ticket)
            if not await self._route(s, ticket, ticket.matter_code, actor, "uphold", note=note):
                raise WorkflowError(texts.DISPATCH_REASON_NO_LEAD.format(dept=self.lead_name(ticket.matter_code)))
        return Done(ticket, texts.DONE_UPHOLD)

    async def reassign(self, ticket_id: int, actor: Member, reason: str, *, matter_code: str) -> Done:
        """改派: the command center moves a ticket a department has (accepted or not) to the lead of another
        matter, with a reason the new lead sees on its card. The old departments' cards lose their buttons."""
        reason = required(reason, texts.REASSIGN_REASON_EMPTY)
        async with self.acting("reassign", ticket_id, actor) as (s, ticket, _):
            if matter_code not in self.catalogue.matters:
                raise NotFound(texts.ERR_FORGED)
            old = await queries.lead_assignment(s, ticket.id)
            await self.withdraw(s, ticket)
            moved = {"from_department": old.department_id} if old else {}
            if not await self._route(s, ticket, matter_code, actor, "reassign", note=reason, data=moved):
                raise WorkflowError(texts.DISPATCH_REASON_NO_LEAD.format(dept=self.lead_name(matter_code)))
        if self.ctx.on_label:
            self.ctx.on_label(ticket.text, matter_code)
        return Done(ticket, texts.DONE_REASSIGN)

    async def ask_reporter(self, ticket_id: int, actor: Member, question: str) -> Done:
        """A dispatcher's question to the reporter (e.g. where exactly?); the answer comes back to the card."""
        question = required(question, texts.EMPTY_TEXT)
        async with self.acting("ask_reporter", ticket_id, actor) as (s, ticket, _):
            self.apply(s, ticket, "ask_reporter", actor, note=question)
            await outbox.ask(s, ticket.reporter_id, texts.QUESTION_TO_REPORTER.format(
                number=ticket.number, question=question), self.now(), kind="answer_dispatcher",
                ticket_id=ticket.id, placeholder=texts.ACTION["answer_dispatcher"])
            await self.cards.refresh(s, ticket, self.now())
        return Done(ticket, texts.DONE_ASKED)

    async def answer_dispatcher(self, ticket_id: int, member: Member, answer: str) -> Done:
        """The reporter's answer to the dispatcher's question: shown on the card and told to the center."""
        answer = required(answer, texts.EMPTY_TEXT)
        async with self.acting("answer_dispatcher", ticket_id, member) as (s, ticket, _):
            self.apply(s, ticket, "answer_dispatcher", member, note=answer[:1000])
            await notices.command_center(s, texts.N_REPORTER_ANSWERED.format(number=ticket.number, text=answer),
                                         self.now(), ticket)
            await self.cards.refresh(s, ticket, self.now())
        return Done(ticket, texts.DONE_ANSWERED)

    # -- internals ---------------------------------------------------------------------------------
    async def _route(self, s: AsyncSession, ticket: Ticket, matter_code: str, actor: Member | None, action: str,
                     kind: str | None = None, note: str | None = None, data: dict | None = None) -> bool:
        """Assign the lead and cooperating departments, start their clocks, post their cards, tell the reporters.
        False (and nothing written) if the lead department has no chat to receive the card."""
        matter = self.catalogue.matter(matter_code)
        township = await queries.township_of(s, ticket)
        lead = await queries.responsible(s, matter.lead, township)
        if lead is None or lead.chat_id is None:
            return False
        ticket.matter_code = matter_code
        now = self.now()
        accept_due = self.ctx.calendar.add(now, matter.clocks["accept"])
        resolve_due = self.ctx.calendar.add(now, matter.clocks["resolve"])
        shares = [Assignment(ticket_id=ticket.id, department_id=lead.id, role=AssignmentRole.LEAD, assigned_at=now,
                             accept_due=accept_due, resolve_due=resolve_due)]
        seen = {lead.id}
        for code in matter.cooperate:
            dept = await queries.responsible(s, code, township)
            if dept is not None and dept.id not in seen:
                seen.add(dept.id)
                shares.append(Assignment(ticket_id=ticket.id, department_id=dept.id, role=AssignmentRole.COOPERATE,
                                         assigned_at=now, accept_due=accept_due, resolve_due=resolve_due))
        s.add_all(shares)
        await s.flush()
        s.add_all(clocks.stage_timers(ticket.id, shares[0].id, "accept", now, accept_due, self.ctx.ladder))
        s.add_all(clocks.stage_timers(ticket.id, shares[0].id, "resolve", now, resolve_due, self.ctx.ladder))
        self.apply(s, ticket, action, actor, kind=kind, department_id=lead.id, note=note,
                   data={"matter": matter_code, **(data or {})})
        media = await self.evidence(s, ticket)
        posted = set()
        for share in shares:
            label = NOTE_LABEL.get(action)
            data = {"label": label, "note": note} if label and note and share is shares[0] else {}
            card = await self.cards.post(s, ticket, f"assignment:{share.id}", to_department(share.department_id),
                                         now, data=data, media=media)
            posted.add(card.id)
        await self.cards.refresh(s, ticket, now, skip=frozenset(posted))
        template = {"uphold": texts.N_UPHELD, "reassign": texts.N_REASSIGNED}.get(action, texts.N_DISPATCHED)
        await notices.reporters(s, ticket, template.format(number=ticket.number, lead=lead.name), now)
        return True

    async def _next_number(self, s: AsyncSession) -> str:
        """20261126-0007: local date and a per-day sequence, incremented under a row lock."""
        day = self.now().astimezone(TZ).strftime("%Y%m%d")
        insert = sqlite_insert if self.ctx.db.is_sqlite else pg_insert
        await s.exec(insert(DailyCounter).values(day=day, last=0).on_conflict_do_nothing())  # first of the day
        counter = (await s.exec(select(DailyCounter).where(DailyCounter.day == day).with_for_update())).one()
        counter.last += 1
        s.add(counter)
        await s.flush()
        return f"{day}-{counter.last:04d}"

