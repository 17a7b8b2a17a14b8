"""Scheduled reports that fire once each at their local time, across restarts and crashes.

Two kinds: the daily brief (every day at GRIDBOT_DAILY_BRIEF_AT local, covering the previous local day) and the
monthly ranking (on day D of each month at GRIDBOT_MONTHLY_RANKING_AT, covering the previous month). The
`reportrun` table is the source of truth; APScheduler only calls `run_due` every minute (bot/scheduler.py).

`run_due(fire)`:
1. writes the row of the latest occurrence of each kind that is due by now (idempotently: unique (kind,
   period_start), insert … on conflict do nothing), and marks older unfired rows of the kind `skipped` — a bot
   that was down for three days sends one daily brief (the latest), not four. A new database starts with the
   next occurrence: the one last due before its first run is written skipped (a county that starts today gets
   no report of a period before it began);
2. for each due row that is neither fired nor skipped, in due order, in a transaction of its own: claims it
   (PostgreSQL: FOR UPDATE SKIP LOCKED, so several bot processes may run it; SQLite: the session's BEGIN
   IMMEDIATE holds the write lock), calls `await fire(kind, period_start, period_end, session)`, which writes
   the report's outbox rows in that session, and sets `fired_at`. A crash or an error before the commit leaves
   the row unfired (it fires on the next run); a commit means it never fires again.

`fire` runs while the transaction holds SQLite's write lock: it should read the figures and write the outbox
rows, not do slow work (render charts in the sender or keep them small; each chart renders in well under a
second, see benchmarks/bench_reports.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar import TZ
from storage.db import Database
from storage.models import ReportRun

log = logging.getLogger(__name__)

DAILY_BRIEF, MONTHLY_RANKING = "daily_brief", "monthly_ranking"
KINDS = (DAILY_BRIEF, MONTHLY_RANKING)
Fire = Callable[[str, datetime, datetime, AsyncSession], Awaitable[None]]


async def no_report(kind: str, period_start: datetime, period_end: datetime, s: AsyncSession) -> None:
    """The placeholder `fire`: writes nothing (the /stats and /rank reports replace it)."""
    log.info("scheduled report %s for %s – %s: no report callback configured", kind, period_start, period_end)


@dataclass(frozen=True)
class Run:
    """One occurrence of a scheduled report: what period it covers and when it is due (all UTC)."""

    kind: str
    period_start: datetime
    period_end: datetime
    due_at: datetime


class ReportSchedule:
    def __init__(self, db: Database, now: Callable[[], datetime], tz: tzinfo = TZ,
                 daily_at: time = time(8, 30), monthly_at: tuple[int, time] = (1, time(9, 0))) -> None:
        day, _ = monthly_at
        if not 1 <= day <= 28:
            raise ValueError(f"monthly report day must be 1–28 (every month has it), got {day}")
        self.db = db
        self.now = now
        self.tz = tz
        self.daily_at = daily_at
        self.monthly_at = monthly_at

    # -- when ------------------------------------------------------------------------------------
    def _at(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)

    def _daily(self, day: date) -> Run:
        """The brief due on local `day`, covering the local day before."""
        return Run(DAILY_BRIEF, self._at(day - timedelta(days=1), time()), self._at(day, time()),
                   self._at(day, self.daily_at))

    def _monthly(self, first: date) -> Run:
        """The ranking due in the month that begins on `first`, covering the month before."""
        previous = (first - timedelta(days=1)).replace(day=1)
        day, at = self.monthly_at
        return Run(MONTHLY_RANKING, self._at(previous, time()), self._at(first, time()),
                   self._at(first.replace(day=day), at))

    def latest(self, kind: str, now: datetime) -> Run:
        """The newest occurrence of `kind` due at or before `now`."""
        today = now.astimezone(self.tz).date()
        if kind == DAILY_BRIEF:
            run = self._daily(today)
            return run if run.due_at <= now else self._daily(today - timedelta(days=1))
        if kind == MONTHLY_RANKING:
            first = today.replace(day=1)
            run = self._monthly(first)
            return run if run.due_at <= now else self._monthly((first - timedelta(days=1)).replace(day=1))
        raise ValueError(f"unknown report kind {kind!r}")

    def next(self, kind: str, now: datetime) -> Run:
        """The first occurrence of `kind` due after `now` (for display: "next brief at …")."""
        run = self.latest(kind, now)
        end = run.period_end.astimezone(self.tz).date()
        if kind == DAILY_BRIEF:
            return self._daily(end + timedelta(days=1))
        return self._monthly((end + timedelta(days=32)).replace(day=1))

    # -- firing ----------------------------------------------------------------------------------
    async def run_due(self, fire: Fire = no_report) -> list[Run]:
        """Write the due rows, then fire each due unfired one once; returns what fired, in due order. A `fire`
        that raises is logged and its row left unfired (it is tried again on the next run)."""
        now = self.now()
        await self._write_due(now)
        fired: list[Run] = []
        failed: list[int] = []
        while True:
            run: Run | None = None
            try:
                async with self.db.session() as s:
                    query = (select(ReportRun)
                             .where(col(ReportRun.fired_at).is_(None), ReportRun.skipped == False,  # noqa: E712
                                    ReportRun.due_at <= now, col(ReportRun.id).not_in(failed))
                             .order_by(col(ReportRun.due_at), col(ReportRun.id)).limit(1)
                             .with_for_update(skip_locked=True))
                    row = (await s.exec(query)).first()
                    if row is None:
                        break
                    run = Run(row.kind, row.period_start, row.period_end, row.due_at)
                    failed.append(row.id)  # until it commits: a failure must not be retried in this run
                    await fire(row.kind, row.period_start, row.period_end, s)
                    row.fired_at = now
                    s.add(row)
            except Exception:  # noqa: BLE001 — one report's fault must not stop the others, nor the scheduler
                if run is None:  # the database itself failed: the next run tries again
                    log.exception("scheduled reports: could not claim a due report")
                    break
                log.exception("scheduled report %s failed; it is tried again on the next run", run.kind)
                continue
            failed.pop()
            fired.append(run)
            log.info("scheduled report %s for %s – %s fired", run.kind, run.period_start, run.period_end)
        return fired

    async def _write_due(self, now: datetime) -> None:
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        async with self.db.session() as s:
            for kind in KINDS:
                run = self.latest(kind, now)
                first = (await s.exec(select(ReportRun.id).where(ReportRun.kind == kind).limit(1))).first() is None
                await s.exec(insert(ReportRun)
                             .values(kind=run.kind, period_start=run.period_start, period_end=run.period_end,
                                     due_at=run.due_at, skipped=first)
                             .on_conflict_do_nothing(index_elements=["kind", "period_start"]))
                await s.exec(update(ReportRun)
                             .where(ReportRun.kind == kind, ReportRun.period_start < run.period_start,
                                    col(ReportRun.fired_at).is_(None), ReportRun.skipped == False)  # noqa: E712
                             .values(skipped=True))
