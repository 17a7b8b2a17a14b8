"""The crash-and-fault harness: the real bot as its own process (`gridbot run` with a token) against the Bot API
double over HTTP, residents filing requests concurrently, the bot SIGKILLed at random moments and restarted,
Telegram's faults injected (500s, 429s, dropped connections) and its send rates enforced. Small in `make test`
(tests/test_crash.py), large as a soak (benchmarks/soak.py).

Afterwards it checks, from the database and from what Telegram (the double) delivered:
every acknowledged ticket exists exactly once; every resident message got its draft and every 提交 its
number; every ticket's lead department got its card; each recipient's messages arrived in order; no group got
more than 20 sends in any minute; nobody was told 系统出了点问题.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml
from sqlmodel import col, select

from bot import texts
from bot.double.server import BotApiDouble
from bot.double.spec import find_spec
from storage.db import Database
from storage.models import Card, Department, Event, InboxUpdate, Outbox, OutboxState, Ticket, Timer, utcnow

ROOT = Path(__file__).resolve().parent.parent
FIRST_RESIDENT = 7_000_001
NUMBER = re.compile(r"工单号：(\d{8}-\d{4})")
SERIAL = re.compile(r"（编号(\d+-\d+)）")
CLOCK_GRACE = timedelta(minutes=5)  # a due clock fires within a sweep or two: older unfired ones were forgotten
REQUESTS = [  # one sentence each, for different departments
    "小区门口的路灯坏了一个星期，晚上黑灯瞎火", "楼下烧烤店油烟太大，熏得没法开窗", "老板拖欠我们三个月工资不给",
    "半夜工地施工吵得睡不着", "家里停水两天了", "有人在路边摆摊占道经营", "暖气不热，屋里才十几度",
    "小区里垃圾几天没人清运，臭气熏天", "孩子上学划片不合理", "出租车司机拒载还绕路", "村里低保评得不公平",
    "河道里有人倾倒建筑垃圾",
]


def spread_requests(limit: int = 200) -> list[str]:
    """One confidently routed sentence per matter of the shipped catalogue (its strongest keywords), ordered
    round-robin over lead departments: a large soak's cards spread over many groups, so Telegram's 20 sends a
    minute per group do not make the run last hours. Falls back to REQUESTS."""
    from nlp.catalogue import load_catalogue
    from nlp.classifier import Classifier

    catalogue = load_catalogue(ROOT / "data" / "catalogue.yaml")
    classifier = Classifier.load(catalogue, None)
    by_lead: dict[str, list[str]] = defaultdict(list)
    for code in sorted(catalogue.matters):
        matter = catalogue.matters[code]
        words = sorted(matter.keywords, key=lambda w: (-matter.keywords[w], w))[:2]
        text = f"反映一下：{'，'.join(words)}，影响群众生活，请尽快处理"
        result = classifier.classify(text)
        if result.top and result.top.code == code and result.confident(0.5) and not result.emergency:
            by_lead[matter.lead].append(text)
    ordered = [texts_ for _, texts_ in sorted(by_lead.items())]
    spread = [t for i in range(max(map(len, ordered), default=0)) for group in ordered if i < len(group)
              for t in [group[i]]]
    return spread[:limit] or REQUESTS


@dataclass
class Results:
    sent: dict[str, float] = field(default_factory=dict)  # serial → when the resident wrote it
    drafted: set[str] = field(default_factory=set)
    pressed: set[str] = field(default_factory=set)
    acknowledged: dict[str, str] = field(default_factory=dict)  # serial → ticket number
    kills: int = 0
    restarts: int = 0
    drained: bool = False  # every owed message went out before the drain timeout
    seconds: float = 0.0
    checks: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        return {"requests": len(self.sent), "drafted": len(self.drafted), "submitted": len(self.pressed),
                "acknowledged": len(self.acknowledged), "kills": self.kills, "drained": self.drained,
                "seconds": round(self.seconds, 1),
                **self.checks}


class Harness:
    def __init__(self, workdir: Path, database_url: str, *, residents: int, requests: int, kills: int,
                 fault_rates: dict[str, float] | None = None, seed: int = 7, step_timeout: float = 90.0,
                 kill_every: float = 4.0, sentences: list[str] | None = None, calm_drain: bool = False,
                 drain_timeout: float = 1800.0) -> None:
        self.workdir, self.database_url = workdir, database_url
        self.sentences = sentences or REQUESTS
        self.residents = [FIRST_RESIDENT + i for i in range(residents)]
        self.per_resident, self.kills, self.kill_every = requests, kills, kill_every
        self.fault_rates = fault_rates or {}
        self.calm_drain = calm_drain  # faults stop once every resident is done: the drain runs at Telegram's rates
        self.drain_timeout = drain_timeout  # how long to wait, after the residents, for every owed message
        self.rng = random.Random(seed)
        self.step_timeout = step_timeout
        self.double = BotApiDouble(token="123456:HARNESS-" + "x" * 27, spec_path=find_spec(ROOT), enforce_limits=True,
                                   log_limit=10_000_000)
        self.proc: subprocess.Popen | None = None
        self.results = Results()
        self.log = workdir / "gridbot.log"

    # -- setting up ----------------------------------------------------------------------------------
    async def setup(self) -> None:
        county = yaml.safe_load((ROOT / "data" / "county.yaml").read_text(encoding="utf-8"))
        grids = [g["code"] for t in county["townships"] for g in t["grids"]]
        county["members"] += [{"telegram_id": r, "name": f"居民{r - FIRST_RESIDENT + 1}", "role": "resident",
                               "grid": grids[i % len(grids)]} for i, r in enumerate(self.residents)]
        self.county = self.workdir / "county.yaml"
        self.county.write_text(yaml.safe_dump(county, allow_unicode=True), encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "bot.cli", "county", "load", str(self.county)], cwd=ROOT,
                              env=self.env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        await self.double.start()
        for m in county["members"]:
            self.double.add_user(m["telegram_id"], m.get("name") or str(m["telegram_id"]))
        chats = [d for d in [county.get("command_center"), county.get("leadership"), *county["departments"],
                             *county["townships"]] if d and d.get("chat_id")]
        for d in chats:
            self.double.add_group(d["chat_id"], d.get("name") or d["code"])
        self.double.fault_rates = dict(self.fault_rates)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDBOT_", "TELEGRAM_"))}
        env.update({"DATABASE_URL": self.database_url, "GRIDBOT_COUNTY": str(getattr(self, "county", "")),
                    "PYTHONUNBUFFERED": "1"})
        if not env["GRIDBOT_COUNTY"]:
            env.pop("GRIDBOT_COUNTY")
        return env

    def start_bot(self) -> None:
        env = self.env() | {"TELEGRAM_BOT_TOKEN": self.double.token, "TELEGRAM_API_BASE_URL": self.double.base_url,
                            "GRIDBOT_INSTANCE": "harness"}
        log = open(self.log, "a", encoding="utf-8")  # noqa: SIM115 — the process owns it
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env, stdout=log,
                                     stderr=subprocess.STDOUT)
        self.results.restarts += 1

    def kill_bot(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.results.kills += 1

    async def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        await self.double.stop()

    # -- traffic -------------------------------------------------------------------------------------
    async def run(self) -> Results:
        started = time.monotonic()
        self.start_bot()
        killer = asyncio.create_task(self._killer())
        await asyncio.gather(*(self._resident(r) for r in self.residents))
        killer.cancel()
        if self.calm_drain:
            self.double.fault_rates = {}
        if self.proc is None or self.proc.poll() is not None:
            self.start_bot()
        # The drain is what the residents' requests left owed: the clocks (催办, 督办 of tickets nobody accepts
        # here) keep adding messages for hours, so "an empty outbox" may never come; theirs are checked apart
        # (clocks_fired_twice, clocks_overdue) and count in the group rate.
        self.results.drained = await self._quiet(self.drain_timeout, await self._last_owed())
        self.results.seconds = time.monotonic() - started
        return self.results

    async def _killer(self) -> None:
        """SIGKILL the bot at random moments while residents write, restart it after a short pause."""
        for _ in range(self.kills):
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.kill_every)
            self.kill_bot()
            await asyncio.sleep(self.rng.uniform(0.2, 1.5))
            self.start_bot()

    async def _resident(self, user: int) -> None:
        for i in range(self.per_resident):
            serial = f"{user - FIRST_RESIDENT + 1}-{i + 1}"
            text = f"{self.sentences[(user + i) % len(self.sentences)]}（编号{serial}）"
            self.double.send_text(user, user, text)
            self.results.sent[serial] = time.monotonic()
            draft = await self._wait(user, lambda m, s=serial: f"（编号{s}）" in (m.get("text") or "")
                                     and any(b in str(m.get("reply_markup")) for b in ("提交", "仍然新建")))
            if draft is None:
                continue
            self.results.drafted.add(serial)
            data = next(b["callback_data"] for row in draft["reply_markup"]["inline_keyboard"] for b in row
                        if "提交" in b["text"] or "仍然新建" in b["text"])
            self.double.press(user, draft["message_id"], user, data)
            self.results.pressed.add(serial)
            ack = await self._wait(user, lambda m, s=serial: f"（编号{s}）" in (m.get("text") or "")
                                   and NUMBER.search(m.get("text") or ""))
            if ack is not None:
                self.results.acknowledged[serial] = NUMBER.search(ack["text"]).group(1)
            await asyncio.sleep(self.rng.uniform(0.0, 0.3))

    async def _wait(self, chat: int, match) -> dict | None:
        seen = -1

        def probe() -> dict | None:
            # Every change anywhere wakes all 60 residents: look at the chat only when it changed (at 10,000
            # requests, copying every history on every wake-up starved the double sharing this process).
            nonlocal seen
            if (now := self.double.chat_seq(chat)) == seen:
                return None
            seen = now
            return next((m for m in reversed(self.double.bot_messages(chat)) if match(m)), None)

        try:
            return await self.double.wait_for(probe, timeout=self.step_timeout)
        except AssertionError:
            return None

    async def _last_owed(self) -> int:
        """The newest outbox row now."""
        db = Database(self.database_url)
        try:
            async with db.read() as s:
                return (await s.exec(select(Outbox.id).order_by(col(Outbox.id).desc()))).first() or 0
        finally:
            await db.dispose()

    async def _quiet(self, timeout: float, last_owed: int) -> bool:
        """Until every update is handled and every message owed up to outbox row ``last_owed`` delivered or
        refused for good: True; False if that did not happen within ``timeout`` seconds."""
        db = Database(self.database_url)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                async with db.read() as s:
                    open_updates = len((await s.exec(select(InboxUpdate.update_id)
                                                     .where(col(InboxUpdate.handled_at).is_(None)))).all())
                    owed = len((await s.exec(select(Outbox.id).where(Outbox.state == OutboxState.PENDING,
                                                                     Outbox.id <= last_owed))).all())
                if not open_updates and not owed and not self.double._updates:
                    return True
                assert self.proc is not None and self.proc.poll() is None, self.tail()
                await asyncio.sleep(1.0)
        finally:
            await db.dispose()
        return False

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # -- checking ------------------------------------------------------------------------------------
    async def check(self) -> dict[str, int]:
        db = Database(self.database_url)
        try:
            async with db.read() as s:
                tickets = (await s.exec(select(Ticket))).all()
                cards = (await s.exec(select(Card))).all()
                rows = (await s.exec(select(Outbox).where(Outbox.state == OutboxState.SENT)
                                     .order_by(col(Outbox.id)))).all()
                chats = {d.id: d.chat_id for d in (await s.exec(select(Department))).all()}
                ladder = (await s.exec(select(Event.ticket_id, Event.kind, Event.data).where(
                    col(Event.kind).in_(["reminded", "escalated", "escalated2"])))).all()
                # due well before now (a sweep runs every few seconds) and neither fired nor cancelled
                overdue = len((await s.exec(select(Timer.id).where(
                    col(Timer.fired_at).is_(None), Timer.cancelled == False,  # noqa: E712
                    Timer.due_at < utcnow() - CLOCK_GRACE))).all())
        finally:
            await db.dispose()
        per_serial = Counter(m.group(1) for t in tickets if (m := SERIAL.search(t.text)))
        numbers = {t.number for t in tickets}
        r = self.results
        landed = {(c.subject_id, c.recipient) for c in cards if c.message_id is not None}
        lead_cards = [t for t in tickets if t.matter_code and t.state != "received"]
        missing_cards = sum(1 for t in lead_cards if not any(sid == t.id for sid, _ in landed))
        order_breaks = 0
        last: dict[str, int] = {}
        for row in rows:
            if row.kind == "card_edit" or row.sent_message_id is None:
                continue
            if row.sent_message_id < last.get(row.recipient, 0):
                order_breaks += 1
            last[row.recipient] = max(last.get(row.recipient, 0), row.sent_message_id)
        r.checks = {
            "lost": sum(1 for serial, number in r.acknowledged.items() if number not in numbers
                        or per_serial[serial] == 0),
            "duplicate_tickets": sum(n - 1 for n in per_serial.values() if n > 1),
            "messages_without_draft": len(set(r.sent) - r.drafted),
            "submits_without_number": len(r.pressed - set(r.acknowledged)),
            "tickets_without_card": missing_cards,
            "order_breaks": order_breaks,
            "max_group_sends_per_minute": self._max_group_rate(set(chats.values())),
            "error_replies": sum(texts.ERR_INTERNAL in (m.get("text") or "")
                                 for u in self.residents for m in self.double.bot_messages(u)),
            "unanswered_presses": len(self.double.unanswered_queries()),
            "clocks_fired": len(ladder),
            "clocks_fired_twice": sum(n - 1 for n in Counter((t, k, (d or {}).get("stage")) for t, k, d in ladder)
                                      .values() if n > 1),
            "clocks_overdue": overdue,
            "rate_limit_429s": self.double.rate_limited,
            "injected_faults": sum(1 for _, _, d in self.double.error_responses if d != "double crashed"),
        }
        return r.checks

    def _max_group_rate(self, groups: set[int | None]) -> int:
        """The most messages one group got in any 60 s: sends that took effect (an attempt refused with an
        injected 500 or 429 posted nothing; a dropped answer did post)."""
        sends = defaultdict(list)
        for at, chat_id in self.double.sends_done:
            if chat_id in groups:
                sends[chat_id].append(at)
        worst = 0
        for times in sends.values():
            times.sort()
            start = 0
            for end, at in enumerate(times):
                while at - times[start] >= 60.0:
                    start += 1
                worst = max(worst, end - start + 1)
        return worst
