"""The ticket workflow: the only place a ticket changes state.

Every change goes through the rules table (rules.py) and writes its event, the messages it owes (to people
and departments, bot/outbox.py) and its cards (bot/cards.py) in the same transaction. The parts, each reached
from a handler in one hop (`svc.workflow.department.accept(...)`):

    routing      受理, 派单, 维持原派单, 改派, the dispatcher's question to the reporter (routing.py)
    command      无效工单, 并单                                                    (command.py)
    department   签收, 退回, 报到, 进展, 延期 and its decision, 办结                   (department.py)
    callback     回访, 重办, comments                                              (callback.py)
    sweep        the clocks: 催办, 督办, 领导督办, 回访 questions, 未评价               (sweep.py)
    calls        网格呼叫: 呼叫, 响应, 报到, 异议, 办结, 确认, 一哨一考核             (bot/calls/)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot import queries, texts
from bot.calendar import WorkCalendar
from bot.cards import Cards
from bot.clocks import Ladder
from bot.outbox import CHAT, owe, to_member
from bot.workflow.base import Context, Step
from bot.workflow.callback import Callbacks
from bot.workflow.command import CommandActions
from bot.workflow.department import ArrivalRequired, DepartmentActions
from bot.workflow.routing import Done, Routing
from bot.workflow.rules import (
    OPEN_STATES,
    RULES,
    IllegalTransition,
    NotAllowed,
    NotFound,
    WorkflowError,
)
from bot.workflow.sweep import Sweep
from nlp.catalogue import Catalogue
from storage.db import Database
from storage.models import AssignmentRole, AssignmentState, Member, Ticket, utcnow
from storage.models import TicketState as S

if TYPE_CHECKING:
    from bot.calls.actions import CallLimits

__all__ = ["OPEN_STATES", "RULES", "ArrivalRequired", "Done", "IllegalTransition", "NotAllowed", "NotFound",
           "Workflow", "WorkflowError"]


class Workflow:
    """The facade: the workflow's parts over one shared context."""

    def __init__(self, db: Database, catalogue: Catalogue, calendar: WorkCalendar,
                 now: Callable[[], datetime] = utcnow, on_commit: Callable[[], None] | None = None,
                 on_label: Callable[[str, str], None] | None = None, ladder: Ladder = Ladder(),
                 call_limits: CallLimits | None = None, dispatch_limit: str = "2h") -> None:
        from bot.calls.actions import CallFlow, CallLimits  # calls build on the workflow's parts

        self.ctx = Context(db=db, catalogue=catalogue, calendar=calendar, now=now, ladder=ladder,
                           cards=Cards(catalogue, (call_limits or CallLimits()).radius_m), on_commit=on_commit, on_label=on_label,
                           dispatch_limit=dispatch_limit)
        self.routing = Routing(self.ctx)
        self.department = DepartmentActions(self.ctx)
        self.callback = Callbacks(self.ctx)
        self.command = CommandActions(self.ctx)
        self.sweep = Sweep(self.ctx, self.callback)
        self.calls = CallFlow(self.ctx, call_limits or CallLimits())
        for stage in ("respond", "arrive"):
            self.sweep.register("call", stage, self.calls.fire)
        self._check = Step(self.ctx)
        self.ops_chat: int | None = None

    @property
    def db(self) -> Database:
        return self.ctx.db

    def now(self) -> datetime:
        return self.ctx.now()

    def set_clock(self, now: Callable[[], datetime]) -> None:
        self.ctx.now = now

    async def may(self, action: str, ticket_id: int, actor: Member, acting_for: int | None = None) -> Ticket:
        """Would `action` by `actor` be allowed now? Raises as the action itself would; changes nothing.

        Asked before asking for a reason or result, so nobody types one for a button they may not press."""
        async with self.ctx.db.read() as s:
            ticket = await s.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFound(texts.ERR_NOT_FOUND)
            if action == "rate" and ticket.state != S.RESOLVED:
                action = "rate_late"  # a co-reporter answering after the first answer decided
            if action == "accept":
                mine = await queries.department_assignment(s, ticket.id, actor.department_id or 0)
                if mine is not None and mine.role == AssignmentRole.COOPERATE:
                    action = "accept_share"
            assignment = await self._check.permit(s, action, ticket, actor, acting_for)
            if action in ("accept", "accept_share") and assignment.state != AssignmentState.PENDING:
                raise IllegalTransition(texts.ALREADY_ACCEPTED.format(number=ticket.number))
            if action == "resolve":
                DepartmentActions.require_arrival(assignment)
            return ticket

    async def alert_operators(self, text: str) -> None:
        """A fault of ours, for the people who run the bot (GRIDBOT_OPS_CHAT_ID); only logged without one."""
        if self.ops_chat is None:
            return
        async with self._check.tx() as s:
            owe(s, f"{CHAT}:{self.ops_chat}", text, self.now(), kind="ops")

    async def tell(self, member_id: int, text: str) -> None:
        """A message owed outside any state change (e.g. a confirmation Telegram refused to show in place)."""
        async with self._check.tx() as s:
            owe(s, to_member(member_id), text, self.now())
