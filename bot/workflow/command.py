"""The command center ends a ticket that should not run: 无效工单 (spam, not a request, with a reason the reporter
is told) and 并单 (a duplicate merged into an open ticket: its reporters follow that one). Both are counted
apart from the indicators (bot/indicators). 改派 (reassign) is routing's (bot/workflow/routing.py)."""

from __future__ import annotations

from sqlmodel import select

from bot import notices, queries, texts
from bot.workflow.base import Step, required
from bot.workflow.routing import Done
from bot.workflow.rules import OPEN_STATES, NotFound, WorkflowError
from storage.models import CoReporter, Member, Ticket


class CommandActions(Step):
    async def invalidate(self, ticket_id: int, actor: Member, reason: str) -> Done:
        """无效工单: closed with a reason; the departments' cards lose their buttons, the reporters are told."""
        reason = required(reason, texts.INVALID_REASON_EMPTY)[:500]
        async with self.acting("invalidate", ticket_id, actor) as (s, ticket, _):
            await self.withdraw(s, ticket)
            self.apply(s, ticket, "invalidate", actor, note=reason)
            now = self.now()
            await notices.reporters(s, ticket, texts.N_INVALID.format(number=ticket.number, reason=reason), now)
            await self.cards.refresh(s, ticket, now)
        return Done(ticket, texts.DONE_INVALID.format(number=ticket.number))

    async def merge(self, ticket_id: int, actor: Member, into_number: str) -> Done:
        """并单: this ticket's reporters become co-reporters (附议) of the open ticket `into_number`, and follow it."""
        into_number = required(into_number, texts.MERGE_TARGET_EMPTY).strip()[:20]
        async with self.acting("merge", ticket_id, actor) as (s, ticket, _):
            target = (await s.exec(select(Ticket).where(Ticket.number == into_number).with_for_update())).first()
            if target is None:
                raise NotFound(texts.MERGE_TARGET_UNKNOWN.format(number=into_number))
            if target.id == ticket.id:
                raise WorkflowError(texts.MERGE_SELF)
            if target.state not in OPEN_STATES:
                raise WorkflowError(texts.MERGE_TARGET_CLOSED.format(number=target.number,
                                                                     state=texts.STATE[target.state]))
            already = set(await queries.reporters(s, target))
            own = ticket.reporter_id in already  # the same resident reported it twice
            for member_id in await queries.reporters(s, ticket):
                if member_id not in already:
                    s.add(CoReporter(ticket_id=target.id, member_id=member_id, joined_at=self.now()))
                    already.add(member_id)
            await self.withdraw(s, ticket)
            self.apply(s, ticket, "merge", actor, note=target.number, data={"into": target.id})
            self.event(s, target, "absorbed", actor, note=ticket.number, data={"from": ticket.id})
            now = self.now()
            told = texts.N_MERGED_OWN if own else texts.N_MERGED
            await notices.reporters(s, ticket, told.format(number=ticket.number, into=target.number), now)
            await self.cards.refresh(s, ticket, now)
        return Done(ticket, texts.DONE_MERGED.format(number=ticket.number, into=target.number))
