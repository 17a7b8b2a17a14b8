"""The clock sweep: fires every due timer once, in due order, through a registry of what fires for each kind.

Timers belong to a subject (a ticket today, a call next): `FIRES[(subject kind, stage)]` says what a due step
does. Safe in several processes on PostgreSQL (claimed rows are skipped by the others); a failing timer stays
due and is retried at the next sweep instead of being lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import clocks, notices, queries, texts
from bot.workflow.base import Context, Step
from bot.workflow.callback import Callbacks
from storage.models import Assignment, Department, Timer

log = logging.getLogger(__name__)
Fire = Callable[[AsyncSession, Timer], Awaitable[None]]


class Sweep(Step):
    def __init__(self, ctx: Context, callbacks: Callbacks) -> None:
        super().__init__(ctx)
        self.fires: dict[tuple[str, str], Fire] = {
            ("ticket", "dispatch"): self._dispatch,
            ("ticket", "accept"): self._ladder,
            ("ticket", "arrive"): self._ladder,
            ("ticket", "resolve"): self._ladder,
            ("ticket", "callback"): self._callback,
        }
        self._callbacks = callbacks

    def register(self, subject_kind: str, stage: str, fire: Fire) -> None:
        """What a due step of (subject kind, stage) does; e.g. calls register their own."""
        self.fires[(subject_kind, stage)] = fire

    async def __call__(self, batch: int = 100) -> int:
        """Fire every due timer once, in due order; returns how many fired."""
        fired = 0
        while True:
            done = 0
            async with self.ctx.db.session() as s:
                timers = await clocks.claim_due(s, self.now(), batch)
                # Subjects are locked in ascending id order, so two sweepers never wait on each other in a cycle;
                # a subject's own steps stay in due order.
                for timer in sorted(timers, key=lambda t: (t.subject_kind, t.subject_id, t.due_at, t.id)):
                    try:
                        async with s.begin_nested():
                            await self.fires[(timer.subject_kind, timer.stage)](s, timer)
                            timer.fired_at = self.now()
                            s.add(timer)
                        done += 1
                    except Exception:  # noqa: BLE001 — one broken timer must not stop the clock for the others
                        log.exception("timer %s of %s %s failed; it stays due and is retried at the next sweep",
                                      timer.id, timer.subject_kind, timer.subject_id)
            fired += done
            if done:
                self.committed()
            if len(timers) < batch or not done:
                return fired

    async def _ladder(self, s: AsyncSession, timer: Timer) -> None:
        """催办 / 督办 / 领导督办 of a ticket's stage; each an event on the ticket."""
        ticket = await self.ticket(s, timer.subject_id)
        assignment = await s.get(Assignment, timer.assignment_id) if timer.assignment_id is not None else None
        if assignment is None:
            raise LookupError(f"timer {timer.id}: its assignment {timer.assignment_id} does not exist")
        due = {"accept": assignment.accept_due, "arrive": assignment.arrive_due,
               "resolve": assignment.resolve_due}[timer.stage]
        dept = await s.get(Department, assignment.department_id)
        values = {"number": ticket.number, "matter": self.catalogue.matter(ticket.matter_code).name,
                  "stage": texts.STAGE[timer.stage], "due": texts.local(due), "dept": dept.name}
        await notices.ladder(s, ticket, timer.step, dept, values, self.now(), late=due <= self.now())
        kind = {"remind": "reminded", "escalate": "escalated", "escalate2": "escalated2"}[timer.step]
        self.event(s, ticket, kind, None, department_id=dept.id, data={"stage": timer.stage, "due": due.isoformat()})

    async def _dispatch(self, s: AsyncSession, timer: Timer) -> None:
        """A ticket still waiting in the command center: 催办 and 督办 to the center, 领导督办 to the leaders."""
        ticket = await self.ticket(s, timer.subject_id)
        # every step names the stage's deadline (the 督办 step's time), not its own time
        deadline = (await s.exec(select(Timer.due_at).where(
            Timer.subject_kind == "ticket", Timer.subject_id == ticket.id, Timer.stage == "dispatch",
            Timer.step == clocks.ESCALATE).order_by(col(Timer.id).desc()))).first() or timer.due_at
        values = {"number": ticket.number, "text": ticket.text[:60], "due": texts.local(deadline)}
        if timer.step == "escalate2":
            leaders = await queries.leadership(s)
            if leaders is not None:
                notices.department(s, leaders, texts.DISPATCH_LADDER[timer.step].format(**values), self.now(), ticket)
        else:
            await notices.command_center(s, texts.DISPATCH_LADDER[timer.step].format(**values), self.now(), ticket,
                                         kind=timer.step)
        kind = {"remind": "reminded", "escalate": "escalated", "escalate2": "escalated2"}[timer.step]
        self.event(s, ticket, kind, None, data={"stage": "dispatch"})

    async def _callback(self, s: AsyncSession, timer: Timer) -> None:
        await self._callbacks.fire(s, await self.ticket(s, timer.subject_id), timer)
