"""网格呼叫、部门报到: the only place a call changes state, through its rules table (bot/calls/rules.py).

A grid worker calls a department to the spot; the department responds (响应: who is coming, when), reports its
arrival (报到, with its location, checked against the call's place and a radius), handles it (进展, 办结); the
caller confirms the arrival (or disputes it: the dispatcher decides) and the result (or not: 事不完、人不走), and
rates the response (一哨一考核). No 响应 or 报到 in time: 催办, then 督办 to the township and the command center.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import clocks, geo, notices, queries, requests, texts
from bot.calendar import TZ
from bot.calls.cards import CallCards
from bot.calls.rules import CALL_RULES
from bot.outbox import button, owe, to_department, to_member
from bot.workflow.base import Step, required
from bot.workflow.rules import DEPARTMENT, NotAllowed, NotFound, Replayed, Who, WorkflowError, check_role, check_state
from nlp.catalogue import TOWNSHIP
from storage.models import Call, CallRating, DailyCounter, Department, Event, Grid, Member, Role, Timer
from storage.models import CallState as C

SATISFACTION = ("satisfied", "basic", "dissatisfied")


@dataclass(frozen=True)
class CallLimits:
    """How fast a call must be answered: urgent (紧急) by default 10 minutes to respond and 30 to arrive (平谷's
    origin rule); normal (一般): the matter's arrival clock when it has one, else the county's setting."""

    radius_m: float = 500.0
    urgent_respond: str = "10m"
    urgent_arrive: str = "30m"
    respond: str = "1h"
    arrive: str = "4h"


class CallFlow(Step):
    def __init__(self, ctx, limits: CallLimits) -> None:
        super().__init__(ctx)
        self.limits = limits
        self.call_cards = CallCards(ctx.catalogue, ctx.now)

    # -- the grid worker calls ---------------------------------------------------------------------
    async def make(self, caller: Member, department_code: str, text: str, *, urgency: str, matter_code: str | None,
                   photos: list[str] = (), latitude: float | None = None, longitude: float | None = None,
                   session: AsyncSession | None = None) -> Call:
        """呼叫: the call card goes to the department's group, with the photos and the place before it."""
        if caller.role != Role.GRID_WORKER:
            raise NotAllowed(texts.CALL_ONLY_GRID_WORKERS)
        text = required(text, texts.CALL_EMPTY)
        async with self.tx(session) as s:
            dept = await self.department_for(s, caller, department_code)
            now = self.now()
            respond, arrive = self._limits(urgency, matter_code)
            call = Call(number=await self._number(s), caller_id=caller.id, grid_id=caller.grid_id,
                        department_id=dept.id, matter_code=matter_code, text=text, latitude=latitude,
                        longitude=longitude, urgency=urgency, respond_due=self.ctx.calendar.add(now, respond),
                        arrive_due=self.ctx.calendar.add(now, arrive), created_at=now, updated_at=now)
            s.add(call)
            await s.flush()
            for stage, due in (("respond", call.respond_due), ("arrive", call.arrive_due)):
                s.add_all(clocks.stage_timers(call.id, None, stage, now, due, self.ctx.ladder, subject_kind="call"))
            self._event(s, call, "call_made", caller, to_state=C.CALLED, department_id=dept.id,
                        data={"urgency": urgency, "matter": matter_code})
            media = {"photos": list(photos)} if photos else {}
            if latitude is not None:
                media["location"] = [latitude, longitude]
            await self.call_cards.post(s, call, "department", to_department(dept.id), now, media=media)
            owe(s, to_member(caller.id), texts.CALL_SENT.format(number=call.number, dept=dept.name,
                                                                  due=texts.local(call.arrive_due)), now)
        return call

    async def department_for(self, s: AsyncSession, caller: Member, code: str) -> Department:
        """The department behind a code (township: the caller's own), able to receive the call card."""
        township = None
        if code == TOWNSHIP and caller.grid_id is not None:
            grid = await s.get(Grid, caller.grid_id)
            township = await s.get(Department, grid.township_id) if grid else None
        dept = await queries.responsible(s, code, township)
        if dept is None or dept.chat_id is None:
            name = self.catalogue.departments[code].name if code in self.catalogue.departments else code
            raise WorkflowError(texts.CALL_NO_CHAT.format(dept=name))
        return dept

    # -- the department ------------------------------------------------------------------------------
    async def respond(self, call_id: int, actor: Member, who: str, acting_for: int | None = None) -> Call:
        """响应: someone is on the way (who, and when they expect to arrive, in the department's words)."""
        who = required(who, texts.CALL_RESPONDER_EMPTY)
        async with self._acting("respond", call_id, actor, acting_for) as (s, call):
            call.responded_at, call.responder = self.now(), who[:200]
            self._apply(s, call, "respond", actor, note=who)
            await clocks.cancel(s, call.id, ["respond"], subject_kind="call")
            await self._tell_caller(s, call, texts.N_CALL_RESPONDED.format(number=call.number, dept=await self._dept(s, call),
                                                                           who=who))
        return call

    async def arrive(self, call_id: int, actor: Member, latitude: float | None, longitude: float | None,
                     photo: str | None = None, acting_for: int | None = None) -> Call:
        """报到 with the location (or, where none can be sent, a photo of the scene); the distance to the call's
        place is checked against the radius and recorded. The caller confirms or disputes."""
        async with self._acting("arrive_call", call_id, actor, acting_for) as (s, call):
            call.arrived_at = self.now()
            call.arrival_latitude, call.arrival_longitude, call.arrival_photo = latitude, longitude, photo
            if None not in (latitude, longitude, call.latitude, call.longitude):
                call.arrival_distance_m = geo.distance_m(call.latitude, call.longitude, latitude, longitude)
                call.arrival_within_radius = call.arrival_distance_m <= self.limits.radius_m
            self._apply(s, call, "arrive_call", actor, data={"distance_m": call.arrival_distance_m,
                                                       "within": call.arrival_within_radius,
                                                       "late": call.arrived_at > call.arrive_due})
            await clocks.cancel(s, call.id, ["respond", "arrive"], subject_kind="call")
            buttons = [[button(texts.BTN_CONFIRM_ARRIVAL, "confirm_arrival", call.id),
                        button(texts.BTN_DISPUTE, "dispute", call.id)]]
            await self._tell_caller(s, call, texts.N_CALL_ARRIVED.format(
                number=call.number, dept=await self._dept(s, call), where=self.call_cards.arrival_line(call)), buttons)
        return call

    async def note(self, call_id: int, actor: Member, text: str, acting_for: int | None = None) -> Call:
        text = required(text, texts.EMPTY_TEXT)
        async with self._acting("call_note", call_id, actor, acting_for) as (s, call):
            self._apply(s, call, "call_note", actor, note=text)
            await self._tell_caller(s, call, texts.N_CALL_NOTE.format(number=call.number, dept=await self._dept(s, call),
                                                                      text=text))
        return call

    async def resolve(self, call_id: int, actor: Member, result: str, acting_for: int | None = None) -> Call:
        """办结: the caller is asked to confirm (事不完、人不走: they may say it is not done)."""
        result = required(result, texts.RESULT_EMPTY)
        async with self._acting("resolve_call", call_id, actor, acting_for) as (s, call):
            call.resolved_at, call.result = self.now(), result
            self._apply(s, call, "resolve_call", actor, note=result)
            buttons = [[button(texts.BTN_CONFIRM_DONE, "confirm_done", call.id),
                        button(texts.BTN_NOT_DONE, "reject_done", call.id)]]
            await self._tell_caller(s, call, texts.N_CALL_RESOLVED.format(
                number=call.number, dept=await self._dept(s, call), result=result), buttons)
        return call

    # -- the caller ----------------------------------------------------------------------------------
    async def confirm_arrival(self, call_id: int, caller: Member) -> Call:
        async with self._acting("confirm_arrival", call_id, caller) as (s, call):
            call.arrival_confirmed = True
            self._apply(s, call, "confirm_arrival", caller)
            notices.department(s, await s.get(Department, call.department_id),
                               texts.N_CALL_ARRIVAL_CONFIRMED.format(number=call.number), self.now())
        return call

    async def dispute(self, call_id: int, caller: Member, reason: str) -> Call:
        """The caller says nobody is here (or not where they should be): the command center decides."""
        reason = required(reason, texts.DISPUTE_EMPTY)
        async with self._acting("dispute", call_id, caller) as (s, call):
            call.arrival_confirmed = False
            self._apply(s, call, "dispute", caller, note=reason)
            center = await queries.command_center(s)
            if center is not None:
                await self.call_cards.post(s, call, f"dispute:{call.id}-{self.now().timestamp():.0f}",
                                      to_department(center.id), self.now(),
                                      data={"reason": reason, "arrival": self.call_cards.arrival_line(call),
                                            "arrived_at": call.arrived_at.isoformat() if call.arrived_at else None})
            notices.department(s, await s.get(Department, call.department_id),
                               texts.N_CALL_DISPUTED.format(number=call.number, reason=reason), self.now())
        return call

    async def decide_dispute(self, call_id: int, actor: Member, uphold: bool) -> Call:
        """The dispatcher: the arrival stands, or the department must arrive again (a new arrival clock)."""
        action = "uphold_arrival" if uphold else "reject_arrival"
        async with self._acting(action, call_id, actor) as (s, call):
            self._apply(s, call, action, actor)
            dept = await s.get(Department, call.department_id)
            if not uphold:
                now = self.now()
                call.arrived_at = call.arrival_distance_m = call.arrival_within_radius = None
                call.arrival_latitude = call.arrival_longitude = call.arrival_photo = None
                call.arrive_due = self.ctx.calendar.add(now, self._limits(call.urgency, call.matter_code)[1])
                s.add_all(clocks.stage_timers(call.id, None, "arrive", now, call.arrive_due, self.ctx.ladder,
                                              subject_kind="call"))
            text = (texts.N_DISPUTE_UPHELD if uphold else texts.N_DISPUTE_REJECTED).format(
                number=call.number, dept=dept.name, due=texts.local(call.arrive_due))
            notices.department(s, dept, text, self.now())
            await self._tell_caller(s, call, text)
        return call

    async def confirm_done(self, call_id: int, caller: Member) -> Call:
        async with self._acting("confirm_done", call_id, caller) as (s, call):
            call.closed_at = self.now()
            self._apply(s, call, "confirm_done", caller)
            notices.department(s, await s.get(Department, call.department_id),
                               texts.N_CALL_CLOSED.format(number=call.number), self.now())
            await self._tell_caller(s, call, texts.CALL_RATE_ASK.format(number=call.number, aspect=texts.RATE_ASPECTS[0]),
                                    rating_buttons(call.id, ""))
        return call

    async def reject_done(self, call_id: int, caller: Member, reason: str) -> Call:
        """事不完、人不走: not done yet; back to the department, on site."""
        reason = required(reason, texts.NOT_DONE_EMPTY)
        async with self._acting("reject_done", call_id, caller) as (s, call):
            call.resolved_at, call.result = None, None
            self._apply(s, call, "reject_done", caller, note=reason)
            notices.department(s, await s.get(Department, call.department_id),
                               texts.N_CALL_NOT_DONE.format(number=call.number, reason=reason), self.now())
        return call

    async def rate(self, call_id: int, caller: Member, speed: str, arrival: str, outcome: str) -> Call:
        """一哨一考核: response speed, arrival, handling — each 满意 / 基本满意 / 不满意."""
        if not {speed, arrival, outcome} <= set(SATISFACTION):
            raise WorkflowError(texts.ERR_FORGED)
        async with self._acting("rate_call", call_id, caller) as (s, call):
            if (await s.exec(select(CallRating).where(CallRating.call_id == call.id,
                                                      CallRating.member_id == caller.id))).first():
                raise WorkflowError(texts.CALLBACK_ALREADY)
            s.add(CallRating(call_id=call.id, member_id=caller.id, speed=speed, arrival=arrival, outcome=outcome,
                             at=self.now()))
            self._apply(s, call, "rate_call", caller, data={"speed": speed, "arrival": arrival, "outcome": outcome})
        return call

    async def comment(self, call_id: int, caller: Member, text: str) -> Call:
        text = required(text, texts.EMPTY_TEXT)
        async with self._acting("rate_call", call_id, caller) as (s, call):
            rating = (await s.exec(select(CallRating).where(CallRating.call_id == call.id,
                                                            CallRating.member_id == caller.id))).first()
            if rating is None:
                raise NotAllowed(texts.ERR_NOT_ALLOWED)
            rating.comment = text[:1000]
            s.add(rating)
        return call

    async def cancel(self, call_id: int, caller: Member) -> Call:
        async with self._acting("cancel_call", call_id, caller) as (s, call):
            self._apply(s, call, "cancel_call", caller)
            await clocks.cancel(s, call.id, ["respond", "arrive"], subject_kind="call")
            notices.department(s, await s.get(Department, call.department_id),
                               texts.N_CALL_CANCELLED.format(number=call.number), self.now())
        return call

    # -- the clocks ----------------------------------------------------------------------------------
    async def fire(self, s: AsyncSession, timer: Timer) -> None:
        """No 响应 or 报到 in time: 催办 to the department; 督办 to the township and the command center; 领导督办."""
        call = await self._lock(s, timer.subject_id)
        dept = await s.get(Department, call.department_id)
        due = call.respond_due if timer.stage == "respond" else call.arrive_due
        text = texts.CALL_LADDER[timer.step].format(number=call.number, dept=dept.name, stage=texts.STAGE[timer.stage],
                                                    due=texts.local(due), text=call.text[:60])
        now = self.now()
        if timer.step == clocks.REMIND:
            notices.department(s, dept, text, now)
        elif timer.step == clocks.ESCALATE:
            await notices.command_center(s, text, now, kind="escalate")
            township = await queries.township_of(s, call)
            if township is not None and township.id != dept.id:
                notices.department(s, township, text, now)
            await self._tell_caller(s, call, text)
        else:
            leaders = await queries.leadership(s)
            if leaders is not None:
                notices.department(s, leaders, text, now)
        kind = {"remind": "call_reminded", "escalate": "call_escalated", "escalate2": "call_escalated2"}[timer.step]
        self._event(s, call, kind, None, department_id=dept.id, data={"stage": timer.stage})
        await self.call_cards.refresh(s, call, now)

    async def may(self, action: str, call_id: int, actor: Member, acting_for: int | None = None) -> Call:
        """Would `action` be allowed now? Raises as the action would; changes nothing (asked before a question)."""
        async with self.ctx.db.read() as s:
            call = await s.get(Call, call_id)
            if call is None:
                raise NotFound(texts.CALL_NOT_FOUND)
            await self._permit(s, action, call, actor, acting_for)
            return call

    # -- internals -----------------------------------------------------------------------------------
    def _limits(self, urgency: str, matter_code: str | None) -> tuple[str, str]:
        if urgency == "urgent":
            return self.limits.urgent_respond, self.limits.urgent_arrive
        matter = self.catalogue.matters.get(matter_code or "")
        return self.limits.respond, (matter.clocks.get("arrive") if matter else None) or self.limits.arrive

    async def _number(self, s: AsyncSession) -> str:
        day = "H" + self.now().astimezone(TZ).strftime("%Y%m%d")
        insert = sqlite_insert if self.ctx.db.is_sqlite else pg_insert
        await s.exec(insert(DailyCounter).values(day=day, last=0).on_conflict_do_nothing())
        counter = (await s.exec(select(DailyCounter).where(DailyCounter.day == day).with_for_update())).one()
        counter.last += 1
        s.add(counter)
        await s.flush()
        return f"{day}-{counter.last:04d}"

    async def _lock(self, s: AsyncSession, call_id: int) -> Call:
        call = (await s.exec(select(Call).where(Call.id == call_id).with_for_update())).first()
        if call is None:
            raise NotFound(texts.CALL_NOT_FOUND)
        return call

    @asynccontextmanager
    async def _acting(self, action: str, call_id: int, actor: Member, acting_for: int | None = None):
        """A transaction in which `actor` does `action` to the call, once the rules allowed it; the call's cards
        are brought up to date before it commits."""
        async with self.tx() as s:
            call = await self._lock(s, call_id)
            request = requests.current()
            if request is not None and (await s.exec(select(Event.id).where(
                    Event.call_id == call.id, Event.request_id == request).limit(1))).first() is not None:
                raise Replayed(texts.ALREADY_DONE)
            await self._permit(s, action, call, actor, acting_for)
            yield s, call
            await self.call_cards.refresh(s, call, self.now())

    async def _permit(self, s: AsyncSession, action: str, call: Call, actor: Member, acting_for: int | None) -> None:
        rule = CALL_RULES[action]
        check_role(action, actor.role if actor else None, CALL_RULES)
        if rule.who in DEPARTMENT:
            if actor.department_id != call.department_id or (acting_for is not None and acting_for != call.department_id):
                raise NotAllowed(texts.NOT_YOUR_DEPARTMENT)
        elif rule.who == Who.CALLER and actor.id != call.caller_id:
            raise NotAllowed(texts.CALL_NOT_CALLER)
        check_state(action, call.state, call.number, CALL_RULES)

    def _apply(self, s: AsyncSession, call: Call, action: str, actor: Member | None, *, note: str | None = None,
               data: dict | None = None) -> None:
        target = check_state(action, call.state, call.number, CALL_RULES)
        previous = call.state
        if target is not None:
            call.state = target
        call.updated_at = self.now()
        s.add(call)
        self._event(s, call, CALL_RULES[action].event, actor, from_state=previous if target else None,
                    to_state=target, note=note, data=data)

    def _event(self, s: AsyncSession, call: Call, kind: str, actor: Member | None, **fields) -> None:
        s.add(Event(call_id=call.id, at=self.now(), kind=kind, actor_id=actor.id if actor else None,
                    request_id=requests.current(), **fields))

    async def _dept(self, s: AsyncSession, call: Call) -> str:
        return (await s.get(Department, call.department_id)).name

    async def _tell_caller(self, s: AsyncSession, call: Call, text: str, buttons=None) -> None:
        owe(s, to_member(call.caller_id), text, self.now(), kind="call", buttons=buttons)


def rating_buttons(call_id: int, answers: str) -> list[list]:
    """The next question of the rating: answers so far are letters (s 满意, b 基本满意, d 不满意)."""
    return [[button(label, "rate_call", call_id, answers + key[0]) for key, label in texts.SATISFACTION.items()]]

