"""A call's cards: the called department's call card (marked 呼叫, buttons 响应 / 报到 / 办结 while allowed) and
the command center's card when the caller disputes an arrival. Kept current like a ticket's (bot/cards.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import queries, texts
from bot.calls.rules import CALL_RULES, CARD_ACTIONS
from bot.cards import CardBoard
from bot.outbox import Button, button
from nlp.catalogue import Catalogue
from storage.models import Call, Card, Department, Member
from storage.models import CallState as C


class CallCards(CardBoard):
    subject_kind = "call"

    def __init__(self, catalogue: Catalogue, now) -> None:
        self.catalogue = catalogue
        self.now = now

    async def shared(self, s: AsyncSession, call: Call) -> dict:
        caller = await s.get(Member, call.caller_id)
        dept = await s.get(Department, call.department_id)
        return {"grid": await queries.grid_name(s, call.grid_id), "caller": caller.name if caller else "",
                "dept": dept.name if dept else ""}

    async def render(self, s: AsyncSession, call: Call, card: Card, shared: dict) -> tuple[str, list[list[Button]]]:
        if card.key.startswith("dispute"):
            return self._dispute(call, card, shared)
        return self._department(call, shared)

    def _department(self, call: Call, shared: dict) -> tuple[str, list[list[Button]]]:
        matter = self.catalogue.matters.get(call.matter_code or "")
        lines = [texts.CALL_CARD.format(
            urgency=texts.URGENCY[call.urgency], number=call.number, state=texts.CALL_STATE[call.state],
            dept=shared["dept"], matter=f"事项：{matter.name}\n" if matter else "", grid=shared["grid"],
            caller=shared["caller"], text=call.text,
            place=texts.CALL_PLACE.format(lat=call.latitude, lon=call.longitude) if call.latitude is not None
            else texts.CALL_NO_PLACE)]
        if call.responder:
            lines.append(texts.CALL_RESPONDER.format(who=call.responder, at=texts.local(call.responded_at)))
        if call.arrived_at:
            lines.append(self.arrival_line(call))
        if call.result:
            lines.append(texts.CARD_RESULT.format(result=call.result).rstrip())
        limits = self._limits(call)
        if limits:
            lines.append(limits)
        open_actions = [a for a in CARD_ACTIONS if call.state in CALL_RULES[a].sources]
        row = [button(texts.CALL_BUTTON[a], a, call.id) for a in open_actions]
        return "\n".join(lines), [row] if row else []

    @staticmethod
    def arrival_line(call: Call) -> str:
        if call.arrival_distance_m is None:
            where = texts.ARRIVAL_PHOTO if call.arrival_photo else texts.ARRIVAL_NO_DISTANCE
        else:
            where = texts.ARRIVAL_DISTANCE.format(
                m=round(call.arrival_distance_m), ok=texts.WITHIN[bool(call.arrival_within_radius)])
        return texts.CALL_ARRIVED.format(at=texts.local(call.arrived_at), where=where)

    def _limits(self, call: Call) -> str:
        now = self.now()
        parts = []
        if call.state == C.CALLED:
            parts.append(texts.CALL_LIMIT_RESPOND.format(due=texts.local(call.respond_due),
                                                         late=texts.LATE if now > call.respond_due else ""))
        if call.state in (C.CALLED, C.RESPONDED):
            parts.append(texts.CALL_LIMIT_ARRIVE.format(due=texts.local(call.arrive_due),
                                                        late=texts.LATE if now > call.arrive_due else ""))
        if call.arrived_at and call.arrived_at > call.arrive_due:
            parts.append(texts.CALL_ARRIVED_LATE)
        return texts.CALL_LIMITS.format(limits="；".join(parts)) if parts else ""

    def _dispute(self, call: Call, card: Card, shared: dict) -> tuple[str, list[list[Button]]]:
        # the arrival disputed, as it was: a rejected one is cleared from the call for the new 报到
        text = texts.DISPUTE_CARD.format(number=call.number, dept=shared["dept"], grid=shared["grid"],
                                         caller=shared["caller"], arrival=card.data.get("arrival") or
                                         self.arrival_line(call), reason=card.data.get("reason", ""))
        if call.state != C.DISPUTED:
            if "arrived_at" not in card.data:  # a card posted before the decision was recorded this way
                return text + "\n" + texts.DISPUTE_DONE, []
            upheld = call.arrived_at is not None and call.arrived_at.isoformat() == card.data["arrived_at"]
            return text + "\n" + (texts.DISPUTE_DONE_UPHELD if upheld else texts.DISPUTE_DONE_REJECTED), []
        return text, [[button(texts.BTN_UPHOLD_ARRIVAL, "uphold_arrival", call.id),
                       button(texts.BTN_REJECT_ARRIVAL, "reject_arrival", call.id)]]


def call_clock_label(call: Call, now: datetime) -> str:
    """What a call waits for and until when, for /grid."""
    if call.state == C.CALLED:
        late = texts.OVERDUE_MARK if call.respond_due < now else ""
        return texts.CALL_WAITING_RESPONSE.format(due=texts.local(call.respond_due)) + late
    if call.state == C.RESPONDED:
        late = texts.OVERDUE_MARK if call.arrive_due < now else ""
        return texts.CALL_WAITING_ARRIVAL.format(due=texts.local(call.arrive_due)) + late
    return texts.CALL_STATE[call.state]
