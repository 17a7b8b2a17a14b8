"""Assembly: settings → services → PTB Application, and the start/stop sequence every mode shares.

`serve()` is what `gridbot run` does: with a token it talks to Telegram (long polling); without one it
starts the local Bot API double and its chat page, and the very same bot talks to that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram.ext import Application, ApplicationBuilder

import handlers
from bot.calendar import WorkCalendar
from bot.clocks import Ladder
from bot.config import Settings
from bot.directory import Directory, sync_catalogue
from bot.intake import Intake
from bot.prompts import Prompts
from bot.scheduler import SWEEP_SECONDS, ClockDriver
from bot.sender import OutboxSender
from bot.tickets import Tickets
from bot.workflow import Workflow
from handlers import keyboard, menus
from nlp.catalogue import Catalogue, load_catalogue
from nlp.classifier import Classifier
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything handlers, the scheduler and the web layer call; built once per process."""

    settings: Settings
    db: Database
    catalogue: Catalogue
    classifier: Classifier
    calendar: WorkCalendar
    workflow: Workflow
    directory: Directory
    intake: Intake
    tickets: Tickets
    prompts: Prompts
    sender: OutboxSender | None = None
    clocks: ClockDriver | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)

    def wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()


async def build_services(settings: Settings, *, now: Callable[[], datetime] = utcnow,
                         db: Database | None = None) -> Services:
    """Load the catalogue, model and calendar, migrate the database, replay dispatchers' labels."""
    catalogue = load_catalogue(settings.catalogue)
    classifier = Classifier.load(catalogue, settings.model)
    calendar = WorkCalendar.load(settings.calendar)
    for warning in calendar.coverage_warnings(now()):
        log.warning("%s", warning)
    db = db or Database(settings.database_url)
    await db.migrate()
    async with db.session() as s:
        await sync_catalogue(s, catalogue)
    holder: list[Services] = []
    ladder = Ladder(remind_share=settings.remind_share, escalate2_after=settings.escalate2_after,
                    callback_reminder=settings.callback_reminder, callback_close=settings.callback_close)
    workflow = Workflow(db, catalogue, calendar, now=now, ladder=ladder,
                        on_commit=lambda: holder[0].wake_sender() if holder else None, on_label=classifier.learn)
    tickets = Tickets(db)
    classifier.learn_many(await tickets.labelled_history())
    svc = Services(
        settings=settings, db=db, catalogue=catalogue, classifier=classifier, calendar=calendar, workflow=workflow,
        directory=Directory(db), tickets=tickets, prompts=Prompts(db, now),
        intake=Intake(db, workflow, classifier, catalogue, settings.confidence_threshold,
                      timedelta(days=settings.duplicate_window_days)))
    holder.append(svc)
    return svc


def build_application(svc: Services, token: str, base_url: str, base_file_url: str | None = None) -> Application:
    builder = ApplicationBuilder().token(token).base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    # Updates one at a time (a ticket's changes stay in order); no PTB JobQueue: our clocks live in the database.
    app = builder.concurrent_updates(False).job_queue(None).build()
    app.bot_data["services"] = svc
    handlers.register(app)
    return app


async def start(app: Application, *, poll_timeout: int = 10, sweep_seconds: float | None = SWEEP_SECONDS) -> None:
    """Initialise (getMe), start the outbox sender, the clock sweep, the handlers and long polling.

    sweep_seconds=None leaves the sweep to the caller (tests drive it with a controllable clock)."""
    svc: Services = app.bot_data["services"]
    await app.initialize()
    await menus.install_defaults(app.bot)
    svc.sender = OutboxSender(svc.db, app.bot, keyboard.markup, now=svc.workflow.now,
                              private_interval=svc.settings.private_interval)
    svc.tasks.append(asyncio.create_task(svc.sender.run(), name="outbox"))
    if sweep_seconds is not None:
        svc.clocks = ClockDriver(svc.workflow, svc.db, sweep_seconds,
                                 retention=timedelta(days=svc.settings.retention_days))
        svc.clocks.start()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=poll_timeout, drop_pending_updates=False)


async def stop(app: Application) -> None:
    svc: Services = app.bot_data["services"]
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    if svc.clocks is not None:
        await svc.clocks.stop()
        svc.clocks = None
    if svc.sender is not None:
        await svc.sender.stop()
    for task in svc.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    svc.tasks.clear()
    await app.shutdown()


async def serve(settings: Settings) -> None:
    """`gridbot run`: the real bot with a token, else the sandbox (double + chat page + the same bot)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    if settings.sandbox:
        from bot.double.spec import find_spec
        from bot.sandbox import LocalBot, SandboxClock  # only the sandbox needs the double

        clock = SandboxClock()
        local = await LocalBot.start(settings, host=settings.web_host, port=settings.web_port, now=clock.now,
                                     spec_path=find_spec())
        local.enable_time_travel(clock)
        log.info("GridBot sandbox (no TELEGRAM_BOT_TOKEN): open %s to chat as residents and departments", local.url)
        try:
            await stopping.wait()
        finally:
            await local.stop()
            await local.double.stop()
            await local.svc.db.dispose()
        return
    svc = await build_services(settings)
    app = build_application(svc, settings.token, settings.api_base_url)
    await start(app)
    log.info("GridBot is running as @%s (long polling %s)", app.bot.username, settings.api_base_url)
    try:
        await stopping.wait()
    finally:
        await stop(app)
        await svc.db.dispose()
