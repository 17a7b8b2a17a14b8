"""APScheduler drives the clock sweep, the pruning, the media archive and the scheduled reports; the due times
themselves live in the `timer` and `reportrun` tables.

The sweep runs at start (so what fell due while the bot was down fires once, in order) and then every
`interval` seconds. misfire_grace_time=None and coalesce: a late or missed run is simply run once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import retention
from bot.media import Archiver
from bot.reports.schedule import Fire, ReportSchedule, no_report
from bot.workflow import Workflow
from storage.db import Database

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30
PRUNE_HOURS = 6
ARCHIVE_MINUTES = 5
REPORT_SECONDS = 60


class ClockDriver:
    def __init__(self, workflow: Workflow, db: Database, interval: float = SWEEP_SECONDS,
                 retention: timedelta = timedelta(days=30), archiver: Archiver | None = None,
                 reports: ReportSchedule | None = None, report_fire: Fire = no_report) -> None:
        self.archiver = archiver
        self.reports = reports
        self.report_fire = report_fire
        self.workflow = workflow
        self.db = db
        self.interval = interval
        self.retention = retention
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._sweeping = asyncio.Lock()

    def start(self) -> None:
        now = datetime.now(UTC)
        common = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        self._scheduler.add_job(self.sweep, "interval", seconds=self.interval, id="sweep", next_run_time=now, **common)
        self._scheduler.add_job(self.prune, "interval", hours=PRUNE_HOURS, id="prune",
                                next_run_time=now + timedelta(minutes=1), **common)
        if self.archiver is not None:
            self._scheduler.add_job(self.archive, "interval", minutes=ARCHIVE_MINUTES, id="archive",
                                    next_run_time=now + timedelta(seconds=30), **common)
        if self.reports is not None:
            self._scheduler.add_job(self.report, "interval", seconds=REPORT_SECONDS, id="reports",
                                    next_run_time=now + timedelta(seconds=10), **common)
        self._scheduler.start()

    async def sweep(self) -> None:
        async with self._sweeping:
            fired = await self.workflow.sweep()
        if fired:
            log.info("clock sweep fired %d timer(s)", fired)

    async def prune(self) -> None:
        gone = await retention.prune(self.db, self.workflow.now() - self.retention)
        if any(gone.values()):
            log.info("pruned %s", gone)

    async def archive(self) -> None:
        copied = await self.archiver.run()
        if copied:
            log.info("archived %d attachment(s)", copied)

    async def report(self) -> None:
        """Fire the scheduled reports that are due (one missed while the bot was down fires now)."""
        async with self._sweeping:
            await self.reports.run_due(self.report_fire)

    async def stop(self) -> None:
        """Stop scheduling, then wait for a sweep under way (it must finish before the database closes)."""
        self._scheduler.shutdown(wait=False)
        async with self._sweeping:
            pass
