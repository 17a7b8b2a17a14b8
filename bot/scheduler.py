"""APScheduler drives the clock sweep; the due times themselves live in the `timer` table.

The sweep runs at start (so what fell due while the bot was down fires once, in order) and then every
`interval` seconds. misfire_grace_time=None and coalesce: a late or missed run is simply run once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.workflow import Workflow

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30


class ClockDriver:
    def __init__(self, workflow: Workflow, interval: float = SWEEP_SECONDS) -> None:
        self.workflow = workflow
        self.interval = interval
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._sweeping = asyncio.Lock()

    def start(self) -> None:
        self._scheduler.add_job(self.sweep, "interval", seconds=self.interval, id="sweep",
                                next_run_time=datetime.now(UTC), misfire_grace_time=None, coalesce=True,
                                max_instances=1)
        self._scheduler.start()

    async def sweep(self) -> None:
        async with self._sweeping:
            fired = await self.workflow.sweep()
        if fired:
            log.info("clock sweep fired %d timer(s)", fired)

    async def stop(self) -> None:
        """Stop scheduling, then wait for a sweep under way (it must finish before the database closes)."""
        self._scheduler.shutdown(wait=False)
        async with self._sweeping:
            pass
