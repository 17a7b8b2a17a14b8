"""The real bot wired to an in-process Bot API double: the sandbox (`make run` with no token), the scripted
demo (`make demo`) and the end-to-end tests all use this one class.

The bot is exactly the production one; it reaches the double through PTB's base_url. The county's people
and department groups become personas of the double, so the chat page can play any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import func, select
from telegram import Update
from telegram.ext import Application, TypeHandler

from bot import app as assembly
from bot import texts
from bot.calendar import TZ
from bot.config import Settings
from bot.directory import load_county
from bot.double.server import BotApiDouble
from bot.sandbox_map import county_map
from bot.scheduler import SWEEP_SECONDS
from storage.db import Database
from storage.models import Department, DepartmentKind, Event, InboxUpdate, Member, Role, utcnow

GUEST_ID = 9_000_001  # a resident the county file does not know, to show first contact
MAX_TRAVEL = timedelta(days=30)


class SandboxClock:
    """The sandbox's clock: real time, plus however far the chat page has travelled ahead (催办, 督办 and 回访
    can be seen without waiting a day). Only the sandbox has one; a bot with a real token keeps real time."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return utcnow() + self.offset


class LocalBot:
    def __init__(self, svc: assembly.Services, double: BotApiDouble, app: Application) -> None:
        self.svc = svc
        self.double = double
        self.app = app
        self.processed: set[int] = set()
        self._before = double.last_update_id  # updates a previous bot on this double already handled
        app.add_handler(TypeHandler(Update, self._mark), group=100)  # runs after every other handler

    @classmethod
    async def start(cls, settings: Settings, *, db: Database | None = None, now: Callable[[], datetime] = utcnow,
                    double: BotApiDouble | None = None, host: str = "127.0.0.1", port: int = 0,
                    spec_path: Path | None = None, sweep_seconds: float | None = SWEEP_SECONDS) -> LocalBot:
        """Build the services, load the county file (idempotent), start the double and the bot."""
        svc = await assembly.build_services(settings, now=now, db=db)
        await load_county(svc.db, svc.catalogue, settings.county)
        double = double or BotApiDouble(spec_path=spec_path)
        double.zone = TZ.key  # the chat page shows the county's time, whatever the browser's zone
        await register_personas(svc, double)
        double.controls["map"] = lambda: county_map(svc.directory)  # the page's map: the one the bot uses
        async with svc.db.read() as s:  # the bot's inbox remembers the update ids it handled before
            double.continue_after((await s.exec(select(func.max(InboxUpdate.update_id)))).one())
        if not double.running:
            await double.start(host, port)
        app = assembly.build_application(svc, double.token, double.base_url, double.base_file_url)
        local = cls(svc, double, app)
        await assembly.start(app, poll_timeout=1, sweep_seconds=sweep_seconds)
        return local

    async def stop(self) -> None:
        await assembly.stop(self.app)

    async def enable_time_travel(self, clock: SandboxClock) -> None:
        """The chat page's ⏩ buttons: move the sandbox clock ahead; the clocks' sweep runs at once. A sandbox
        restarted on its database resumes where its clock had been moved (never before its last event)."""
        async with self.svc.db.read() as s:
            latest = (await s.exec(select(func.max(Event.at)))).one()
        if latest is not None and latest > clock.now():
            clock.offset += latest - clock.now() + timedelta(minutes=1)
        self.travel_clock = clock
        self.double.clock = lambda: clock.now().timestamp()
        self.double.controls["travel"] = self.travel

    async def travel(self, hours: float = 0, days: float = 0) -> dict:
        delta = timedelta(hours=float(hours), days=float(days))
        if not timedelta(0) < delta <= MAX_TRAVEL:
            raise ValueError(f"travel between a minute and {MAX_TRAVEL.days} days ahead")
        self.travel_clock.offset += delta
        fired = await self.svc.workflow.sweep()
        await self.settle()
        return {"now": self.travel_clock.now().isoformat(), "fired": fired}

    @property
    def url(self) -> str:
        return self.double.url + "/"

    async def _mark(self, update: Update, _context) -> None:
        self.processed.add(update.update_id)

    # -- driving it, as a person would --------------------------------------------------------
    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until every update sent so far is handled and every owed message delivered."""
        def handled() -> bool:
            last = self.double.last_update_id
            return last is None or last == self._before or last in self.processed

        await self.double.wait_for(handled, timeout=timeout)
        await self.svc.sender.drain(timeout=timeout)

    async def say(self, user_id: int, text: str, chat_id: int | None = None, reply_to: int | None = None) -> dict:
        message = self.double.send_text(chat_id or user_id, user_id, text, reply_to_message_id=reply_to)
        await self.settle()
        return message

    async def locate(self, user_id: int, latitude: float, longitude: float, chat_id: int | None = None,
                     reply_to: int | None = None) -> dict:
        message = self.double.send_location(chat_id or user_id, user_id, latitude, longitude,
                                            reply_to_message_id=reply_to)
        await self.settle()
        return message

    async def photo(self, user_id: int, caption: str | None = None, chat_id: int | None = None,
                    reply_to: int | None = None) -> dict:
        message = self.double.send_photo(chat_id or user_id, user_id, caption, reply_to_message_id=reply_to)
        await self.settle()
        return message

    async def press(self, chat_id: int, user_id: int, label: str, message_id: int | None = None) -> None:
        self.double.press_button(chat_id, user_id, label, message_id=message_id)
        await self.settle()

    def last(self, chat_id: int) -> dict:
        return self.double.last_bot_message(chat_id)

    def find(self, chat_id: int, fragment: str) -> dict:
        """The newest bot message in the chat whose text contains `fragment` (AssertionError if none)."""
        for m in reversed(self.double.bot_messages(chat_id)):
            if fragment in (m.get("text") or m.get("caption") or ""):
                return m
        raise AssertionError(f"no bot message with {fragment!r} in chat {chat_id}:\n{self.double.dump()}")

    def texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.double.bot_messages(chat_id)]

    async def submit(self, user_id: int, text: str) -> str:
        """A resident writes one sentence and presses 提交; returns the ticket number."""
        await self.say(user_id, text)
        await self.press(user_id, user_id, texts.BTN_SUBMIT)
        return self.find(user_id, "工单号：")["text"].split("工单号：")[1].split()[0]


async def register_personas(svc: assembly.Services, double: BotApiDouble) -> None:
    """Every member becomes a user of the double; every bound department chat a group of its staff."""
    async with svc.db.session() as s:
        members = (await s.exec(select(Member))).all()
        departments = (await s.exec(select(Department))).all()
    names = {d.id: d.name for d in departments}
    for m in members:  # staff are shown with their department: that is who they act for
        if m.telegram_id is None:
            continue  # a reporter without Telegram (web, Open311) has no chat to play
        label = names.get(m.department_id, "") if m.role == Role.STAFF else texts.ROLE.get(m.role, "")
        double.add_user(m.telegram_id, m.name or str(m.telegram_id), role_label=label)
    double.add_user(GUEST_ID, texts.SANDBOX_GUEST, role_label=texts.ROLE["resident"])
    command = [m.telegram_id for m in members if m.role in (Role.DISPATCHER, Role.ADMIN)]
    for d in departments:
        staff = [m.telegram_id for m in members if m.department_id == d.id]
        if d.kind == DepartmentKind.LEADERSHIP:
            staff = command  # so the sandbox can show what reaches the leadership chat
        if d.chat_id is not None:
            double.add_group(d.chat_id, d.name, members=staff)
        if d.supervisor_chat_id is not None:
            double.add_group(d.supervisor_chat_id, texts.SUPERVISOR_CHAT.format(dept=d.name))
