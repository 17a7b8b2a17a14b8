"""Stage clocks: the due times of a ticket's stages and the steps of the ladder, kept in the `timer` table.

The table is the source of truth; APScheduler only drives the sweep (bot/workflow/sweep.py), which claims due rows and fires
each exactly once (on PostgreSQL with FOR UPDATE SKIP LOCKED, so several bot processes can sweep; SQLite
means one process). A bot that was down fires what fell due meanwhile, in due order, on its first sweep.

Ladder of a stage (分派 dispatch, 签收 accept, 到场 arrive, 办结 resolve), from its start to its deadline:
    remind (催办, to the department)  at `remind_share` of the limit
    escalate (督办, to the command center and the department's supervisor)  at the deadline
    escalate2 (领导督办, to the leadership chat)  a further `escalate2_after` of the limit later
Callback (回访) after 办结: ask after the matter's `callback` limit, ask again once, then close as 未评价.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar import WorkCalendar
from bot.config import Settings
from storage.models import Timer

STAGES = ("dispatch", "accept", "arrive", "resolve")  # dispatch: waiting in the command center for 派单
REMIND, ESCALATE, ESCALATE2 = "remind", "escalate", "escalate2"
ASK, ASK_AGAIN, CLOSE = "ask", "ask_again", "close"


@dataclass(frozen=True)
class Ladder:
    """How the ladder is set; the defaults are the settings' (bot/config.py), changed in the environment."""

    remind_share: float = Settings.remind_share
    escalate2_after: float = Settings.escalate2_after
    callback_after: str = "1d"  # when a matter's catalogue entry names no callback limit
    callback_reminder: str = Settings.callback_reminder
    callback_close: str = Settings.callback_close


def stage_timers(subject_id: int, assignment_id: int | None, stage: str, start: datetime, due: datetime,
                 ladder: Ladder, subject_kind: str = "ticket") -> list[Timer]:
    span = due - start
    steps = [(REMIND, start + span * ladder.remind_share), (ESCALATE, due),
             (ESCALATE2, due + span * ladder.escalate2_after)]
    return [Timer(subject_kind=subject_kind, subject_id=subject_id, assignment_id=assignment_id, stage=stage,
                  step=step, due_at=at) for step, at in steps]


def callback_timers(ticket_id: int, resolved_at: datetime, limit: str | None, calendar: WorkCalendar,
                    ladder: Ladder) -> list[Timer]:
    ask = calendar.add(resolved_at, limit or ladder.callback_after)
    steps = [(ASK, ask), (ASK_AGAIN, calendar.add(ask, ladder.callback_reminder)),
             (CLOSE, calendar.add(ask, ladder.callback_close))]
    return [Timer(subject_kind="ticket", subject_id=ticket_id, stage="callback", step=step, due_at=at)
            for step, at in steps]


async def cancel(s: AsyncSession, subject_id: int, stages: Iterable[str], assignment_id: int | None = None,
                 subject_kind: str = "ticket") -> None:
    """Stop the ladder of finished stages (their unfired steps will never fire)."""
    query = (update(Timer).where(Timer.subject_kind == subject_kind, Timer.subject_id == subject_id,
                                 col(Timer.stage).in_(list(stages)), col(Timer.fired_at).is_(None),
                                 Timer.cancelled == False)  # noqa: E712
             .values(cancelled=True))
    if assignment_id is not None:
        query = query.where(Timer.assignment_id == assignment_id)
    await s.exec(query)


async def claim_due(s: AsyncSession, now: datetime, limit: int = 100) -> list[Timer]:
    """Due, unfired rows in due order, locked for this transaction; other sweepers skip them."""
    query = (select(Timer).where(col(Timer.fired_at).is_(None), Timer.cancelled == False,  # noqa: E712
                                 Timer.due_at <= now)
             .order_by(col(Timer.due_at), col(Timer.id)).limit(limit).with_for_update(skip_locked=True))
    return list((await s.exec(query)).all())
