"""Assembly: settings → services → PTB Application, and the start/stop sequence every mode shares.

`serve()` is what `gridbot run` does: with a token it talks to Telegram (long polling); without one it
starts the local Bot API double and its chat page, and the very same bot talks to that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram.error import NetworkError, RetryAfter
from telegram.ext import Application, ApplicationBuilder, Defaults, ExtBot
from telegram.request import HTTPXRequest

import handlers
from bot.audit import AuditLog
from bot.calendar import WorkCalendar
from bot.calls.actions import CallLimits
from bot.calls.intake import CallIntake
from bot.clocks import Ladder
from bot.config import Settings
from bot.directory import Directory, sync_catalogue
from bot.export import Exporter
from bot.inbox import Inbox
from bot.indicators import Indicators
from bot.intake import Intake
from bot.media import Archiver
from bot.polling import Handler, Poller
from bot.prompts import Prompts
from bot.ratelimit import RateLimiter
from bot.reliable import CALLBACK_LIFETIME, ReliableBot
from bot.reports.schedule import ReportSchedule
from bot.scheduler import SWEEP_SECONDS, ClockDriver
from bot.sender import OutboxSender
from bot.statistics import Statistics
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
    call_intake: CallIntake | None = None
    indicators: Indicators | None = None
    statistics: Statistics | None = None
    exporter: Exporter | None = None
    inbox: Inbox | None = None
    audit: AuditLog | None = None
    sender: OutboxSender | None = None
    clocks: ClockDriver | None = None
    poller: Poller | None = None
    handler: Handler | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
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
    call_limits = CallLimits(radius_m=settings.arrival_radius_m, urgent_respond=settings.call_urgent_respond,
                             urgent_arrive=settings.call_urgent_arrive, respond=settings.call_respond,
                             arrive=settings.call_arrive)
    workflow = Workflow(db, catalogue, calendar, now=now, ladder=ladder, call_limits=call_limits,
                        dispatch_limit=settings.dispatch_limit,
                        on_commit=lambda: holder[0].wake_sender() if holder else None, on_label=classifier.learn)
    tickets = Tickets(db)
    directory = Directory(db, settings.grid_near_m)
    classifier.learn_many(await tickets.labelled_history())
    svc = Services(
        settings=settings, db=db, catalogue=catalogue, classifier=classifier, calendar=calendar, workflow=workflow,
        directory=directory, tickets=tickets, prompts=Prompts(db, now), inbox=Inbox(db),
        audit=AuditLog(db, now),
        call_intake=CallIntake(db, workflow, classifier, catalogue, settings.confidence_threshold, directory),
        intake=Intake(db, workflow, classifier, catalogue, settings.confidence_threshold,
                      timedelta(days=settings.duplicate_window_days), directory))
    svc.indicators = Indicators(db, catalogue, settings, now=now)
    svc.statistics = Statistics(svc.indicators, reports_dir=settings.reports_dir, now=now)
    svc.exporter = Exporter(svc.indicators)
    workflow.ops_chat = settings.ops_chat_id
    holder.append(svc)
    return svc


def build_application(svc: Services, token: str, base_url: str, base_file_url: str | None = None) -> Application:
    """The PTB Application over the reliable bot; no PTB Updater (bot/polling.py stores updates before
    confirming them) and no PTB JobQueue (our clocks live in the database)."""
    # A reply to a message deleted meanwhile (or replayed from the inbox after a crash) is still delivered,
    # without the quote, instead of failing with "message to be replied not found".
    bot = ReliableBot(token, base_url=base_url, base_file_url=base_file_url or base_url.replace("/bot", "/file/bot"),
                      request=HTTPXRequest(connection_pool_size=64), get_updates_request=HTTPXRequest(),
                      defaults=Defaults(allow_sending_without_reply=True))
    # Updates one at a time: a ticket's changes stay in order.
    app = ApplicationBuilder().bot(bot).updater(None).concurrent_updates(False).job_queue(None).build()
    app.bot_data["services"] = svc
    handlers.register(app)
    return app


async def persist(call: Callable[[], Awaitable[Any]], what: str, stopping: asyncio.Event) -> bool:
    """Start-up calls (getMe, setMyCommands) retry until Telegram answers instead of ending the process;
    False if the bot was asked to stop meanwhile."""
    delay = 1.0
    while not stopping.is_set():
        try:
            await call()
            return True
        except (NetworkError, RetryAfter) as exc:
            log.warning("start-up: %s failed (%s); retrying in %.0f s", what, exc, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)
        delay = min(delay * 2, 60.0)
    return False


async def start(app: Application, *, poll_timeout: int = 10, sweep_seconds: float | None = SWEEP_SECONDS) -> bool:
    """Initialise (getMe), start the sender, the clock sweep, the handlers and long polling through the inbox.
    sweep_seconds=None leaves the sweep to the caller (tests drive it with a controllable clock)."""
    svc: Services = app.bot_data["services"]
    if not await persist(app.initialize, "getMe", svc.stopping):
        return False
    if not await persist(lambda: menus.install_defaults(app.bot), "setMyCommands", svc.stopping):
        return False
    bot: ReliableBot = app.bot
    sender_bot = ExtBot(bot.token, base_url=bot.base_url.removesuffix(bot.token),
                        request=HTTPXRequest(connection_pool_size=16))  # no retries of its own: the sender's policy
    if not await persist(sender_bot.initialize, "getMe (sender)", svc.stopping):
        return False
    limiter = RateLimiter(private_interval=svc.settings.private_interval, group_per_minute=20, global_per_second=30)
    bot.share_limits(limiter)  # direct replies and the sender's messages share each chat's budget
    svc.sender = OutboxSender(svc.db, sender_bot, keyboard.markup, now=svc.workflow.now, instance=svc.settings.instance,
                              limiter=limiter)
    await svc.sender.resume_own_claims()
    svc.tasks.append(asyncio.create_task(svc.sender.run(), name="outbox"))
    if sweep_seconds is not None:
        archiver = Archiver(svc.db, sender_bot, svc.settings.media_dir, svc.settings.media_max_mb * 2**20) \
            if svc.settings.media_dir else None
        reports = ReportSchedule(svc.db, svc.workflow.now, daily_at=svc.settings.daily_brief_at,
                                 monthly_at=svc.settings.monthly_ranking_at)
        svc.clocks = ClockDriver(svc.workflow, svc.db, sweep_seconds,
                                 retention=timedelta(days=svc.settings.retention_days), archiver=archiver,
                                 reports=reports, report_fire=svc.statistics.fire)
        svc.clocks.start()
    await app.start()
    svc.handler = Handler(app, svc.inbox, svc.workflow.now)

    def arrived(payloads: list[dict], waited: float) -> None:  # every press answered within 15 s of the press
        for payload in payloads:
            bot.guard_press(payload, waited)
        svc.handler.wake()

    # Presses stored but not handled before a crash: their spinners have been running at least since then.
    since = svc.workflow.now() - timedelta(seconds=CALLBACK_LIFETIME)
    for row in await svc.inbox.pending(10_000, received_since=since):
        bot.guard_press(row.payload, math.inf)
    svc.poller = Poller(app.bot, svc.inbox, svc.workflow.now, on_stored=arrived, timeout=poll_timeout)
    svc.tasks.append(asyncio.create_task(svc.handler.run(), name="inbox"))
    svc.tasks.append(asyncio.create_task(svc.poller.run(), name="polling"))
    return True


async def stop(app: Application) -> None:
    """Stop polling, finish the update under way, stop the clocks and the sender, then close."""
    svc: Services = app.bot_data["services"]
    svc.stopping.set()
    if svc.poller is not None:
        svc.poller.stop()
    if svc.handler is not None:
        svc.handler.stop()
    if svc.clocks is not None:
        await svc.clocks.stop()
        svc.clocks = None
    if svc.sender is not None:
        await svc.sender.stop()
    for task in svc.tasks:
        if task.get_name() == "polling":
            task.cancel()  # a long poll in flight: what it fetched is not stored, so not confirmed either
        with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 5.0)  # the handler finishes the update under way
    svc.tasks.clear()
    if app.running:
        await app.stop()
    if app._initialized:  # noqa: SLF001 — a start interrupted before getMe succeeded has nothing to close
        await app.shutdown()
    if svc.sender is not None:
        await svc.sender.bot.shutdown()


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
        await local.enable_time_travel(clock)
        log.info("GridBot sandbox (no TELEGRAM_BOT_TOKEN): open %s to chat as residents and departments", local.url)
        try:
            await stopping.wait()
        finally:
            await local.stop()
            await local.double.stop()
            await local.svc.db.dispose()
        return
    svc = await build_services(settings)
    svc.stopping = stopping
    app = build_application(svc, settings.token, settings.api_base_url)
    try:
        if await start(app):
            log.info("GridBot is running as @%s (long polling %s)", app.bot.username, settings.api_base_url)
            await stopping.wait()
    finally:
        await stop(app)
        await svc.db.dispose()
