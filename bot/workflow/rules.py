"""The rules of the ticket workflow: one table that the code obeys.

For every action: the states it may start from, the state it leads to (None: unchanged), who may do it and
the event it writes. The only state setter (`Step.apply`) consults it; the pre-check handlers run before
asking for a reason (`Workflow.may`) and the buttons a card shows (`card_actions`) are derived from it.

    received ──dispatch──▶ dispatched ──accept──▶ accepted ──resolve──▶ resolved ──rate──▶ rated
       ▲                     │    ▲                                       │  │
       │                   return │ uphold/dispatch                       │  └─close──▶ closed (未评价)
       └──── returned ◀──────┘    └──── returned          accepted ◀─accept── reopened ◀─reopen (重办)

受理 received · 已派单 dispatched · 已签收 accepted · 已办结 resolved · 已评价 rated · 重办 reopened ·
已退回 returned · 已关闭 closed · 无效工单 invalid · 已并单 merged (the command center ends an open ticket
as invalid or merges it into another; 改派 reassign moves a ticket with a department to another lead)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot import texts
from storage.models import Role
from storage.models import TicketState as S


class WorkflowError(Exception):
    """A refused action; `reply` is the polite Chinese sentence a handler shows. Nothing changed."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


class IllegalTransition(WorkflowError):
    """The action is not possible in the ticket's current state."""


class NotAllowed(WorkflowError):
    """This person may not do this action (on this ticket, from this chat)."""


class NotFound(WorkflowError):
    """No such ticket (or a forged reference to one)."""


class Replayed(WorkflowError):
    """The same request (update) was handled before and already changed this ticket: nothing is done twice."""


class Who(StrEnum):
    """Who may do an action, beyond their role."""

    COMMAND = "command"  # a dispatcher or admin of the command center
    LEAD = "lead"  # staff of the lead department (主办), acting in their own department's chat
    ASSIGNED = "assigned"  # staff of any department assigned to the ticket (lead or cooperating)
    COOPERATING = "cooperating"  # staff of a cooperating department (协办)
    REPORTER = "reporter"  # the reporter or a co-reporter (附议) of the ticket
    CALLER = "caller"  # the grid worker who made the call (网格呼叫)
    CALLED = "called"  # staff of the department called, acting in its own chat
    ANYONE = "anyone"  # any known person (e.g. joining an open ticket as a co-reporter)
    SYSTEM = "system"  # only the clocks


ROLES: dict[Who, frozenset[str]] = {
    Who.COMMAND: frozenset({Role.DISPATCHER, Role.ADMIN}),
    Who.LEAD: frozenset({Role.STAFF}),
    Who.ASSIGNED: frozenset({Role.STAFF}),
    Who.COOPERATING: frozenset({Role.STAFF}),
    Who.REPORTER: frozenset(Role),
    Who.CALLER: frozenset({Role.GRID_WORKER}),
    Who.CALLED: frozenset({Role.STAFF}),
    Who.ANYONE: frozenset(Role),
    Who.SYSTEM: frozenset(),
}
DEPARTMENT = frozenset({Who.LEAD, Who.ASSIGNED, Who.COOPERATING, Who.CALLED})


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    target: str | None  # None: the ticket's state does not change
    who: Who
    event: str  # the Event kind written

    @property
    def roles(self) -> frozenset[str]:
        return ROLES[self.who]


def _rule(sources: set[str], target: str | None, who: Who, event: str) -> Rule:
    return Rule(frozenset(sources), target, who, event)


OPEN_STATES = frozenset({S.RECEIVED, S.DISPATCHED, S.ACCEPTED, S.RETURNED, S.REOPENED})
AWAITING_DISPATCH = frozenset({S.RECEIVED, S.RETURNED})
WITH_DEPARTMENT = frozenset({S.DISPATCHED, S.ACCEPTED, S.REOPENED})

RULES: dict[str, Rule] = {
    # intake and the command center (a ticket is born 受理 received, event "submitted")
    "join": _rule(OPEN_STATES, None, Who.ANYONE, "co_reporter"),
    "route": _rule({S.RECEIVED}, S.DISPATCHED, Who.SYSTEM, "dispatched"),  # the classifier was sure
    "dispatch": _rule(AWAITING_DISPATCH, S.DISPATCHED, Who.COMMAND, "dispatched"),
    "uphold": _rule({S.RETURNED}, S.DISPATCHED, Who.COMMAND, "upheld"),
    "ask_reporter": _rule(AWAITING_DISPATCH, None, Who.COMMAND, "asked_reporter"),
    "answer_dispatcher": _rule(OPEN_STATES, None, Who.REPORTER, "reporter_answered"),
    "decide_extension": _rule({S.ACCEPTED}, None, Who.COMMAND, "extension_decided"),
    "invalidate": _rule(OPEN_STATES, S.INVALID, Who.COMMAND, "invalidated"),  # 无效工单, with a reason
    "merge": _rule(OPEN_STATES, S.MERGED, Who.COMMAND, "merged"),  # 并单 into another open ticket
    "reassign": _rule(WITH_DEPARTMENT, S.DISPATCHED, Who.COMMAND, "reassigned"),  # 改派, with a reason
    # departments
    "accept": _rule({S.DISPATCHED, S.REOPENED}, S.ACCEPTED, Who.LEAD, "accepted"),
    "accept_share": _rule(WITH_DEPARTMENT, None, Who.COOPERATING, "cooperate_accepted"),
    "return": _rule({S.DISPATCHED, S.REOPENED}, S.RETURNED, Who.LEAD, "returned"),
    "note": _rule(WITH_DEPARTMENT | {S.RESOLVED}, None, Who.ASSIGNED, "note"),
    "arrive": _rule({S.ACCEPTED}, None, Who.LEAD, "arrived"),
    "waive_arrival": _rule({S.ACCEPTED}, None, Who.LEAD, "arrival_waived"),
    "extend": _rule({S.ACCEPTED}, None, Who.LEAD, "extension_requested"),
    "resolve": _rule({S.ACCEPTED}, S.RESOLVED, Who.LEAD, "resolved"),
    # the resident's callback (回访)
    "rate": _rule({S.RESOLVED}, S.RATED, Who.REPORTER, "rated"),
    "reopen": _rule({S.RESOLVED}, S.REOPENED, Who.REPORTER, "reopened"),
    "rate_late": _rule({S.RATED, S.CLOSED, S.REOPENED}, None, Who.REPORTER, "rated"),  # co-reporters after the first
    "comment": _rule({S.RESOLVED, S.RATED, S.CLOSED, S.REOPENED, S.ACCEPTED}, None, Who.REPORTER, "comment"),
    "close": _rule({S.RESOLVED}, S.CLOSED, Who.SYSTEM, "closed"),
}


def rule(action: str) -> Rule:
    return RULES[action]


def check_state(action: str, state: str, number: str = "", table: dict[str, Rule] = RULES) -> str | None:
    """The state `action` leads to from `state`, or IllegalTransition with a polite reply."""
    r = table[action]
    if state not in r.sources:
        states = texts.STATE if table is RULES else texts.CALL_STATE
        raise IllegalTransition(texts.ERR_ILLEGAL.format(
            number=number, state=states.get(state, state), action=texts.ACTION[action]))
    return r.target


def check_role(action: str, role: str | None, table: dict[str, Rule] = RULES) -> None:
    """NotAllowed unless someone with `role` (None: the clocks) may do `action`."""
    r = table[action]
    if r.who == Who.SYSTEM:
        if role is not None:
            raise NotAllowed(texts.ERR_NOT_ALLOWED)
        return
    if role not in r.roles:
        if r.who == Who.COMMAND:
            raise NotAllowed(texts.NOT_DISPATCHER)
        if r.who in DEPARTMENT:
            raise NotAllowed(texts.NOT_YOUR_DEPARTMENT)
        if r.who == Who.CALLER:
            raise NotAllowed(texts.CALL_NOT_CALLER)
        raise NotAllowed(texts.ERR_NOT_ALLOWED)


# The buttons of a department card, in display order; whether each shows is decided by the rules.
CARD_ACTIONS = ("accept", "return", "arrive", "resolve", "extend")


def card_actions(state: str, lead: bool, assignment_state: str, needs_arrival: bool) -> list[str]:
    """The actions a department card offers now: allowed from the ticket's state for this assignment."""
    from storage.models import AssignmentState as A

    offered = []
    for action in CARD_ACTIONS:
        if action == "accept":
            name = "accept" if lead else "accept_share"
            if assignment_state == A.PENDING and state in RULES[name].sources:
                offered.append(action)
        elif lead and assignment_state == (A.PENDING if action == "return" else A.ACCEPTED):
            if state in RULES[action].sources and (action != "arrive" or needs_arrival):
                offered.append(action)
    return offered
