"""The rules of a call (网格呼叫), one table like the ticket's (bot/workflow/rules.py):

    called ──respond──▶ responded ──arrive──▶ arrived ──resolve──▶ resolved ──confirm_done──▶ closed ──rate
      │                    │  ▲                │   ▲  ▲                 │
      └─────arrive_call────┼──┼────────────────┘   │  └─reject_done (事不完、人不走)
      └──cancel──▶ cancelled  └─reject_arrival─ disputed ◀─dispute (the caller)    (uphold_arrival ─▶ arrived)

已呼叫 called · 已响应 responded · 已报到 arrived · 报到有异议 disputed · 已办结 resolved · 已完成 closed
"""

from __future__ import annotations

from bot.workflow.rules import Rule, Who
from storage.models import CallState as C


def _rule(sources: set[str], target: str | None, who: Who, event: str) -> Rule:
    return Rule(frozenset(sources), target, who, event)


OPEN = frozenset({C.CALLED, C.RESPONDED, C.ARRIVED, C.DISPUTED, C.RESOLVED})

CALL_RULES: dict[str, Rule] = {
    "respond": _rule({C.CALLED}, C.RESPONDED, Who.CALLED, "call_responded"),
    "arrive_call": _rule({C.CALLED, C.RESPONDED}, C.ARRIVED, Who.CALLED, "call_arrived"),
    "confirm_arrival": _rule({C.ARRIVED}, None, Who.CALLER, "call_arrival_confirmed"),
    "dispute": _rule({C.ARRIVED}, C.DISPUTED, Who.CALLER, "call_disputed"),
    "uphold_arrival": _rule({C.DISPUTED}, C.ARRIVED, Who.COMMAND, "call_arrival_upheld"),
    "reject_arrival": _rule({C.DISPUTED}, C.RESPONDED, Who.COMMAND, "call_arrival_rejected"),
    "call_note": _rule({C.RESPONDED, C.ARRIVED, C.DISPUTED}, None, Who.CALLED, "call_note"),
    "resolve_call": _rule({C.ARRIVED}, C.RESOLVED, Who.CALLED, "call_resolved"),
    "confirm_done": _rule({C.RESOLVED}, C.CLOSED, Who.CALLER, "call_closed"),
    "reject_done": _rule({C.RESOLVED}, C.ARRIVED, Who.CALLER, "call_reopened"),
    "rate_call": _rule({C.CLOSED}, None, Who.CALLER, "call_rated"),
    "cancel_call": _rule({C.CALLED, C.RESPONDED}, C.CANCELLED, Who.CALLER, "call_cancelled"),
}
# the buttons of the department's call card, in display order
CARD_ACTIONS = ("respond", "arrive_call", "resolve_call")
