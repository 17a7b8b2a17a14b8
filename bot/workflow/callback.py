"""回访: after 办结 the reporters say whether the problem is solved and how satisfied they are. The first
answer decides: 未解决 or 不满意 reopens the ticket (重办) to the lead department with a new clock; otherwise
it is 已评价. Co-reporters' later answers are recorded and counted, and change nothing else."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import clocks, notices, queries, texts
from bot.outbox import button, to_department
from bot.workflow.base import Step, required
from bot.workflow.routing import Done
from bot.workflow.rules import NotAllowed, WorkflowError
from storage.models import Assignment, AssignmentRole, AssignmentState, Department, Member, Rating, Ticket, Timer
from storage.models import TicketState as S

SATISFACTION = ("satisfied", "basic", "dissatisfied")


class Callbacks(Step):
    async def rate(self, ticket_id: int, member: Member, solved: bool, satisfaction: str) -> Done:
        if satisfaction not in SATISFACTION:
            raise WorkflowError(texts.ERR_FORGED)
        async with self.tx() as s:
            ticket = await self.ticket(s, ticket_id)
            first = ticket.state == S.RESOLVED
            reopen = first and (not solved or satisfaction == "dissatisfied")
            action = ("reopen" if reopen else "rate") if first else "rate_late"
            await self.permit(s, action, ticket, member)
            if (await s.exec(select(Rating).where(Rating.ticket_id == ticket.id, Rating.member_id == member.id,
                                                  Rating.round == ticket.reopen_count))).first() is not None:
                raise WorkflowError(texts.CALLBACK_ALREADY)
            s.add(Rating(ticket_id=ticket.id, member_id=member.id, round=ticket.reopen_count, solved=solved,
                         satisfaction=satisfaction, at=self.now()))
            labels = {"solved": texts.SOLVED[solved], "satisfaction": texts.SATISFACTION[satisfaction]}
            data = {"solved": solved, "satisfaction": satisfaction}
            if reopen:
                dept = await self._reopen(s, ticket, member, data, labels)
                reply = texts.CALLBACK_REOPENED.format(number=ticket.number, dept=dept.name, **labels)
            else:
                if first:
                    ticket.solved, ticket.satisfaction, ticket.closed_at = solved, satisfaction, self.now()
                self.apply(s, ticket, action, member, data=data)
                if first:
                    await clocks.cancel(s, ticket.id, ["callback"])
                    await self.cards.refresh(s, ticket, self.now())
                reply = texts.CALLBACK_THANKS.format(**labels)
        return Done(ticket, reply)

    async def comment(self, ticket_id: int, member: Member, text: str) -> Done:
        """The optional comment after a rating; a reopened ticket's lead department sees it."""
        text = required(text, texts.EMPTY_TEXT)
        async with self.acting("comment", ticket_id, member) as (s, ticket, _):
            rating = (await s.exec(select(Rating).where(Rating.ticket_id == ticket.id, Rating.member_id == member.id)
                                   .order_by(Rating.id.desc()))).first()  # type: ignore[union-attr]
            if rating is None:
                raise NotAllowed(texts.ERR_NOT_ALLOWED)
            rating.comment = text[:1000]
            s.add(rating)
            self.apply(s, ticket, "comment", member, note=rating.comment)
            if ticket.state in (S.REOPENED, S.ACCEPTED):
                lead = await queries.lead_assignment(s, ticket.id)
                notices.department(s, await s.get(Department, lead.department_id), texts.N_COMMENT_TO_DEPARTMENT.format(
                    number=ticket.number, comment=rating.comment), self.now(), ticket)
        return Done(ticket, texts.CALLBACK_COMMENT_SAVED)

    async def _reopen(self, s: AsyncSession, ticket: Ticket, member: Member, data: dict, labels: dict) -> Department:
        """重办: back to the lead department with a new card and clock (counted against it); the cooperating
        departments' cards show the new deadline."""
        previous = await queries.lead_assignment(s, ticket.id)
        dept = await s.get(Department, previous.department_id)
        matter = self.catalogue.matter(ticket.matter_code)
        now = self.now()
        feedback = texts.RESIDENT_FEEDBACK.format(**labels)
        self.apply(s, ticket, "reopen", member, department_id=dept.id, note=feedback, data=data)
        if ticket.result:  # the new card says what was done the first time, not only that it was not enough
            feedback += texts.PREVIOUS_RESULT.format(result=ticket.result)
        ticket.reopen_count += 1
        ticket.solved, ticket.satisfaction = data["solved"], data["satisfaction"]
        ticket.resolved_at = ticket.result = None
        await clocks.cancel(s, ticket.id, ["callback"])
        assignment = Assignment(ticket_id=ticket.id, department_id=dept.id, role=AssignmentRole.LEAD, assigned_at=now,
                                accept_due=self.ctx.calendar.add(now, matter.clocks["accept"]),
                                resolve_due=self.ctx.calendar.add(now, matter.clocks["resolve"]))
        previous.state = AssignmentState.WITHDRAWN
        s.add_all([previous, assignment])
        for share in await queries.assignments(s, ticket.id, live=True):
            if share.role == AssignmentRole.COOPERATE:
                share.resolve_due = assignment.resolve_due
                s.add(share)
        await s.flush()
        s.add_all(clocks.stage_timers(ticket.id, assignment.id, "accept", now, assignment.accept_due, self.ctx.ladder))
        s.add_all(clocks.stage_timers(ticket.id, assignment.id, "resolve", now, assignment.resolve_due,
                                      self.ctx.ladder))
        await self.cards.post(s, ticket, f"assignment:{assignment.id}", to_department(dept.id), now,
                              data={"label": texts.NOTE_FROM_RESIDENT, "note": feedback},
                              media=await self.evidence(s, ticket))
        await self.cards.refresh(s, ticket, now)
        return dept

    # -- fired by the clocks ----------------------------------------------------------------------------
    async def fire(self, s: AsyncSession, ticket: Ticket, timer: Timer) -> None:
        """A callback step fell due: ask, ask again (only those who have not answered), or close as 未评价."""
        if ticket.state != S.RESOLVED:
            return
        now = self.now()
        if timer.step == clocks.CLOSE:
            ticket.closed_at = now
            self.apply(s, ticket, "close", None)
            await notices.reporters(s, ticket, texts.CALLBACK_CLOSED.format(number=ticket.number), now)
            await self.cards.refresh(s, ticket, now)
            return
        answered = frozenset((await s.exec(select(Rating.member_id).where(
            Rating.ticket_id == ticket.id, Rating.round == ticket.reopen_count))).all())
        template = texts.CALLBACK_ASK if timer.step == clocks.ASK else texts.CALLBACK_ASK_AGAIN
        buttons = [[button(texts.BTN_SOLVED, "solved", ticket.id, "y"),
                    button(texts.BTN_UNSOLVED, "solved", ticket.id, "n")]]
        await notices.reporters(s, ticket, template.format(number=ticket.number, result=ticket.result or ""), now,
                                kind="callback", buttons=buttons, skip=answered)
        self.event(s, ticket, "callback_asked" if timer.step == clocks.ASK else "callback_reminded", None)
