"""The outbox sender (bot/sender.py) against the Bot API double, with a real PTB `Bot` and real databases
(SQLite, and PostgreSQL when reachable). No county and no bot application: rows are addressed to raw chats.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.delivery import TEXT_LIMIT
from bot.double.server import ApiError, BotApiDouble
from bot.ratelimit import RateLimiter
from bot.sender import MERGE_SEPARATOR
from bot.sender import OutboxSender as _Sender
from handlers.keyboard import markup
from storage.db import Database
from storage.models import Card, Outbox, OutboxState, utcnow
from tests.conftest import SPEC, TABLES

ALICE, BOB, CAROL = 1001, 1002, 1003
GROUP, GROUP2 = -2001, -2002
# PTB itself warns when it builds a RetryAfter with int seconds (its deprecated default).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

FAST = {"private_interval": 0.01, "max_backoff": 0.05}  # limits that don't matter for the test at hand


def OutboxSender(db: Database, bot: Bot, **kw: Any) -> _Sender:  # noqa: N802 — the sender with the real keyboard
    return _Sender(db, bot, markup, **kw)


# -- fixtures: a clean migrated database (conftest: `database` is SQLite then PostgreSQL, `sqlite_db`) -----
@pytest.fixture
def db(database: Database) -> Database:
    return database


@pytest.fixture
def sqlite(sqlite_db: Database) -> Database:
    return sqlite_db


async def start_double(*, enforce_limits: bool = False) -> BotApiDouble:
    double = BotApiDouble(spec_path=SPEC, enforce_limits=enforce_limits)
    await double.start()
    for user_id, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        double.add_user(user_id, name)
    double.add_group(GROUP, "城管局")
    double.add_group(GROUP2, "住建局")
    return double


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    double = await start_double()
    yield double
    await double.stop()
    assert not double.violations, double.violations


@pytest.fixture
async def limited_api() -> AsyncIterator[BotApiDouble]:
    """The double answering 429 whenever Telegram's documented send rates are exceeded."""
    double = await start_double(enforce_limits=True)
    yield double
    await double.stop()
    assert not double.violations, double.violations


async def make_bot(double: BotApiDouble, read_timeout: float = 5.0) -> Bot:
    request = HTTPXRequest(connection_pool_size=16, read_timeout=read_timeout)
    bot = Bot(double.token, base_url=double.base_url, request=request)
    await bot.initialize()
    return bot


@pytest.fixture
async def ptb(api: BotApiDouble) -> AsyncIterator[Bot]:
    b = await make_bot(api)
    yield b
    await b.shutdown()


# -- helpers ----------------------------------------------------------------------------------------
async def add(db: Database, *rows: tuple[int, str] | dict[str, Any]) -> list[int]:
    """Insert rows in one transaction, as the workflow does; (chat, text) or Outbox fields with "chat" (a raw
    chat address: these tests need no county)."""
    fields = [dict(r) if isinstance(r, dict) else {"chat": r[0], "text": r[1]} for r in rows]
    for f in fields:
        f["recipient"] = f"chat:{f.pop('chat')}"
        f.setdefault("kind", "notice")
    async with db.session() as s:
        objs = [Outbox(**f) for f in fields]
        s.add_all(objs)
        await s.flush()
        return [o.id for o in objs]  # type: ignore[misc]


async def load(db: Database) -> dict[int, Outbox]:
    async with db.session() as s:
        return {o.id: o for o in (await s.exec(select(Outbox))).all()}  # type: ignore[misc]


def texts(double: BotApiDouble, chat_id: int) -> list[str]:
    return [m["text"] for m in double.bot_messages(chat_id)]


def sends(double: BotApiDouble, chat_id: int, method: str = "sendMessage") -> list[tuple[float, str]]:
    return [(t, p.get("text", "")) for t, m, p in double.requests if m == method and p.get("chat_id") == chat_id]


def first_occurrences(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def flood_errors(double: BotApiDouble) -> list[str]:
    return [d for _, _, d in double.error_responses if "Too Many Requests" in d]


# -- order, keyboards ------------------------------------------------------------------------------
async def test_delivers_every_chat_in_order_with_keyboards(db: Database, api: BotApiDouble, ptb: Bot) -> None:
    buttons = [[["签收", "acc:1"], ["退回", "ret:1"]], [["查看详情", "url:https://example.org/t/1"]]]
    ids = await add(
        db,
        (ALICE, "a1"),
        (BOB, "b1"),
        {"chat": ALICE, "text": "a2 card", "buttons": buttons},
        (GROUP, "g1"),
        (BOB, "b2"),
        (ALICE, "a3"),
    )
    sender = OutboxSender(db, ptb, **FAST)
    await sender.drain(timeout=5)

    assert texts(api, ALICE) == ["a1", "a2 card", "a3"]
    assert texts(api, BOB) == ["b1", "b2"]
    assert texts(api, GROUP) == ["g1"]
    card = api.bot_messages(ALICE)[1]
    assert card["reply_markup"]["inline_keyboard"] == [
        [{"text": "签收", "callback_data": "acc:1"}, {"text": "退回", "callback_data": "ret:1"}],
        [{"text": "查看详情", "url": "https://example.org/t/1"}],
    ]
    assert "reply_markup" not in api.bot_messages(ALICE)[0]
    rows = await load(db)
    assert all(r.state == OutboxState.SENT and r.sent_at is not None for r in rows.values())
    assert rows[ids[2]].sent_message_id == card["message_id"]
    assert await sender.deliver_once() == 0


async def test_a_delayed_head_holds_back_its_chat_only(sqlite: Database, api: BotApiDouble, ptb: Bot) -> None:
    later = utcnow() + timedelta(hours=1)  # e.g. the lease of a sender that crashed mid-delivery
    await add(sqlite, {"chat": ALICE, "text": "a1", "next_attempt_at": later}, (ALICE, "a2"), (BOB, "b1"))
    sender = OutboxSender(sqlite, ptb, **FAST)
    await sender.drain(timeout=2)  # returns: nothing else becomes due within the window
    assert texts(api, BOB) == ["b1"]
    assert texts(api, ALICE) == []
    assert [r.state for r in (await load(sqlite)).values()] == ["pending", "pending", "sent"]


# -- errors ----------------------------------------------------------------------------------------
async def test_flood_control_waits_retry_after_for_that_chat_only(
    sqlite: Database, api: BotApiDouble, ptb: Bot
) -> None:
    api.inject_fault("sendMessage", "429", retry_after=1)
    (a1,) = await add(sqlite, (ALICE, "a1"))
    sender = OutboxSender(sqlite, ptb, **FAST)
    assert await sender.deliver_once() == 1
    row = (await load(sqlite))[a1]
    assert row.state == OutboxState.PENDING and row.attempts == 0  # a 429 is not a failure
    assert row.next_attempt_at >= utcnow() + timedelta(seconds=0.8)
    await add(sqlite, (ALICE, "a2"), (BOB, "b1"), (BOB, "b2"))

    await sender.drain(timeout=5)

    assert texts(api, ALICE) == ["a1", "a2"]
    assert texts(api, BOB) == ["b1", "b2"]
    alice = sends(api, ALICE)
    assert alice[1][0] - alice[0][0] >= 0.95  # waited what Telegram asked
    assert max(t for t, _ in sends(api, BOB)) < alice[1][0]  # Bob was not held back by Alice's wait
    assert (await load(sqlite))[a1].attempts == 0


async def test_flood_control_for_several_chats_at_once_pauses_every_chat(
    sqlite: Database, api: BotApiDouble, ptb: Bot
) -> None:
    api.inject_fault("sendMessage", "429", count=2, retry_after=1)
    await add(sqlite, (ALICE, "a1"), (BOB, "b1"))
    sender = OutboxSender(sqlite, ptb, **FAST)
    assert await sender.deliver_once() == 2  # both answered 429: the bot as a whole is flooded
    await add(sqlite, (CAROL, "c1"))
    await sender.drain(timeout=5)
    (flooded, _), (carol, _) = sends(api, ALICE)[0], sends(api, CAROL)[0]
    assert carol - flooded >= 0.9
    assert [texts(api, c) for c in (ALICE, BOB, CAROL)] == [["a1"], ["b1"], ["c1"]]


async def test_a_group_that_became_a_supergroup_gets_its_messages_there(
    sqlite: Database, api: BotApiDouble, ptb: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    supergroup = -1_000_000_002_002
    api.add_group(supergroup, "住建局")
    send = api._api_sendMessage

    async def migrated(params: dict[str, Any]) -> dict[str, Any]:  # the double has no migrations
        if params.get("chat_id") == GROUP2:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": supergroup})
        return await send(params)

    monkeypatch.setattr(api, "_api_sendMessage", migrated)
    (row,) = await add(sqlite, (GROUP2, "g1"))
    await OutboxSender(sqlite, ptb, **FAST).drain(timeout=3)
    assert texts(api, supergroup) == ["g1"]
    sent = (await load(sqlite))[row]
    assert (sent.state, sent.chat_id) == (OutboxState.SENT, supergroup)


async def test_server_errors_and_timeouts_still_deliver_everything_in_order(
    db: Database, api: BotApiDouble
) -> None:
    bot = await make_bot(api, read_timeout=0.3)
    api.inject_fault("sendMessage", "500", count=3)
    api.inject_fault("sendMessage", "timeout", delay=0.6)  # answered late, but Telegram acted
    expected = {
        ALICE: [f"a{i}" for i in range(4)],
        BOB: [f"b{i}" for i in range(4)],
        GROUP: [f"g{i}" for i in range(3)],
    }
    interleaved = [(chat, ts[i]) for i in range(4) for chat, ts in expected.items() if i < len(ts)]
    await add(db, *interleaved)
    sender = OutboxSender(db, bot, **FAST)

    await sender.drain(timeout=10)
    total = sum(map(len, expected.values()))
    # The timed-out request still delivers when the double finally answers: at-least-once.
    await api.wait_for(lambda: sum(len(api.bot_messages(c)) for c in expected) == total + 1, timeout=3)

    for chat, wanted in expected.items():
        assert first_occurrences(texts(api, chat)) == wanted
    rows = await load(db)
    assert all(r.state == OutboxState.SENT for r in rows.values())
    assert sum(r.attempts for r in rows.values()) == 4  # 3 × 500 + 1 timeout, each retried
    assert any(r.error and "Internal Server Error" in r.error for r in rows.values())
    await bot.shutdown()


async def test_permanent_refusals_fail_once_and_other_chats_flow(
    sqlite: Database, api: BotApiDouble, ptb: Bot
) -> None:
    api.set_blocked(BOB)
    ids = await add(
        sqlite,
        (BOB, "b1"),
        (ALICE, "a1"),
        (-999_999, "to a chat that does not exist"),
        {"chat": ALICE, "text": "bad card", "buttons": [[["按钮", "x" * 80]]]},  # > 64 bytes
        (BOB, "b2"),
        (ALICE, "a2"),
    )
    await OutboxSender(sqlite, ptb, **FAST).drain(timeout=5)

    rows = await load(sqlite)
    b1, a1, nowhere, bad, b2, a2 = (rows[i] for i in ids)
    assert texts(api, ALICE) == ["a1", "a2"]
    for row in (b1, b2):
        assert row.state == OutboxState.FAILED and "blocked" in (row.error or "") and row.attempts == 1
    assert nowhere.state == OutboxState.FAILED and "chat not found" in (nowhere.error or "").lower()
    assert bad.state == OutboxState.FAILED and bad.error
    assert a1.state == a2.state == OutboxState.SENT
    assert len(sends(api, BOB)) == 2  # refused for good: never retried


async def test_403_from_fault_injection_marks_failed(sqlite: Database, api: BotApiDouble, ptb: Bot) -> None:
    api.inject_fault("sendMessage", "403")
    ids = await add(sqlite, (CAROL, "c1"))
    await OutboxSender(sqlite, ptb, **FAST).drain(timeout=3)
    assert (await load(sqlite))[ids[0]].state == OutboxState.FAILED


# -- cards: posting and editing ---------------------------------------------------------------------
async def new_card(db: Database, chat: int) -> int:
    async with db.session() as s:
        card = Card(subject_id=1, key=f"test:{utcnow().timestamp()}", recipient=f"chat:{chat}")
        s.add(card)
        await s.flush()
        return card.id  # type: ignore[return-value]


async def test_edits_edit_the_right_card(db: Database, api: BotApiDouble, ptb: Bot) -> None:
    k1, k2, k3 = await new_card(db, ALICE), await new_card(db, ALICE), await new_card(db, ALICE)
    c1, c2, bad = await add(
        db,
        {"chat": ALICE, "kind": "card", "card_id": k1, "text": "工单 1 待签收", "buttons": [[["签收", "acc:1"]]]},
        {"chat": ALICE, "kind": "card", "card_id": k2, "text": "工单 2 待签收", "buttons": [[["签收", "acc:2"]]]},
        {"chat": ALICE, "kind": "card", "card_id": k3, "text": "bad", "buttons": [[["按钮", "y" * 80]]]},  # fails
    )
    ids = await add(
        db,
        {"chat": ALICE, "kind": "card_edit", "card_id": k1, "text": "工单 1 已签收"},
        {"chat": ALICE, "kind": "card_edit", "card_id": k1, "text": "工单 1 已签收"},  # not modified: fine
        {"chat": ALICE, "kind": "card_edit", "card_id": k3, "text": "工单 3 已签收"},  # its card never landed
    )
    await OutboxSender(db, ptb, **FAST).drain(timeout=5)

    messages = api.bot_messages(ALICE)
    assert [m["text"] for m in messages] == ["工单 1 已签收", "工单 2 待签收", "工单 3 已签收"]
    assert "reply_markup" not in messages[0]  # the edit's own (empty) keyboard replaces the old one
    assert messages[1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "acc:2"
    edits = [p for _, m, p in api.requests if m == "editMessageText"]
    assert [p["message_id"] for p in edits] == [messages[0]["message_id"]] * 2
    rows = await load(db)
    assert rows[ids[0]].sent_message_id == rows[ids[1]].sent_message_id == rows[c1].sent_message_id
    assert rows[bad].state == OutboxState.FAILED
    assert rows[ids[2]].state == OutboxState.SENT and rows[ids[2]].sent_message_id == messages[2]["message_id"]
    assert rows[c2].state == OutboxState.SENT
    async with db.read() as s:
        assert (await s.get(Card, k3)).message_id == messages[2]["message_id"]  # the card now lives there


async def test_an_edit_whose_message_is_gone_posts_the_card_anew(
    sqlite: Database, api: BotApiDouble, ptb: Bot
) -> None:
    k = await new_card(sqlite, BOB)
    (c1,) = await add(sqlite, {"chat": BOB, "kind": "card", "card_id": k, "text": "card",
                               "buttons": [[["签收", "acc:1"]]]})
    sender = OutboxSender(sqlite, ptb, **FAST)
    await sender.drain(timeout=3)
    await ptb.delete_message(BOB, (await load(sqlite))[c1].sent_message_id)
    (edit,) = await add(sqlite, {"chat": BOB, "kind": "card_edit", "card_id": k, "text": "card, accepted"})
    await sender.drain(timeout=3)
    assert texts(api, BOB) == ["card, accepted"]
    assert (await load(sqlite))[edit].state == OutboxState.SENT


async def test_a_backlog_of_groups_at_their_limit_does_not_hold_back_a_residents_reply(
    sqlite: Database, api: BotApiDouble, ptb: Bot
) -> None:
    """At 10,000 requests a resident's confirmation waited 16 minutes: the oldest heads (one per group, each
    group at its 20 a minute) filled every pass's batch and were skipped, so newer heads were never looked at."""
    groups = [-3001 - i for i in range(10)]
    for g in groups:
        api.add_group(g, f"部门{g}")
    sender = OutboxSender(sqlite, ptb, global_per_second=2, group_per_minute=1, **FAST)  # a batch of 2: scans 8
    for g in groups:
        sender.limiter.seed(g, 0.0)  # each group has had its message this minute
    await add(sqlite, *[{"chat": g, "kind": "card", "text": f"卡片{g}", "buttons": [[["签收", "acc:1"]]]}
                        for g in groups])
    await add(sqlite, (ALICE, "已提交，编号 1"))
    for _ in range(3):
        await sender.deliver_once()
    assert texts(api, ALICE) == ["已提交，编号 1"]
    assert all(texts(api, g) == [] for g in groups)
    # and with only those groups left the sender sleeps until their minute is up instead of polling at once
    assert sender._sleep_for(await sender._pending_heads()) >= 29


# -- grouping and length ---------------------------------------------------------------------------
async def test_a_burst_to_a_group_is_merged_and_nothing_is_lost(
    sqlite: Database, limited_api: BotApiDouble
) -> None:
    bot = await make_bot(limited_api)
    notices = [f"通知 {i:02d}" for i in range(60)]
    card = {"chat": GROUP, "kind": "card", "text": "派单卡片", "buttons": [[["签收", "acc:9"]]]}
    ids = await add(sqlite, *[(GROUP, t) for t in notices[:30]], card, *[(GROUP, t) for t in notices[30:]])
    await add(sqlite, (GROUP2, "x1"), (GROUP2, "x2"), (GROUP2, "x3"))  # within budget: not merged

    started = time.monotonic()
    await OutboxSender(sqlite, bot, private_interval=0.01).drain(timeout=10)
    assert time.monotonic() - started < 5

    messages = limited_api.bot_messages(GROUP)
    assert 3 <= len(messages) <= 5
    assert [m["text"] for m in messages if "reply_markup" in m] == ["派单卡片"]  # cards stay whole
    received = [part for m in messages for part in m["text"].split(MERGE_SEPARATOR)]
    assert received == notices[:30] + ["派单卡片"] + notices[30:]
    assert texts(limited_api, GROUP2) == ["x1", "x2", "x3"]
    rows = await load(sqlite)
    assert all(r.state == OutboxState.SENT for r in rows.values())
    assert {rows[i].sent_message_id for i in ids} == {m["message_id"] for m in messages}
    assert not flood_errors(limited_api)
    await bot.shutdown()


async def test_merging_respects_the_length_limit_and_long_texts_are_cut(
    sqlite: Database, api: BotApiDouble, ptb: Bot
) -> None:
    notices = [f"{i:02d}" + "长" * 998 for i in range(25)]  # 1000 characters each
    await add(sqlite, *[(GROUP, t) for t in notices])
    huge = "😀" * 3000  # 6000 UTF-16 code units
    (cut,) = await add(sqlite, (ALICE, huge))
    await OutboxSender(sqlite, ptb, **FAST).drain(timeout=5)

    messages = texts(api, GROUP)
    assert 7 <= len(messages) < 25
    assert all(len(m.encode("utf-16-le")) // 2 <= TEXT_LIMIT for m in messages)
    assert [p for m in messages for p in m.split(MERGE_SEPARATOR)] == notices
    (sent,) = texts(api, ALICE)
    assert sent.endswith("…") and len(sent.encode("utf-16-le")) // 2 <= TEXT_LIMIT
    assert huge.startswith(sent[:-1])
    assert (await load(sqlite))[cut].state == OutboxState.SENT


# -- rate limits -----------------------------------------------------------------------------------
async def test_a_burst_to_private_chats_provokes_no_429(sqlite: Database, limited_api: BotApiDouble) -> None:
    bot = await make_bot(limited_api)
    wanted = {chat: [f"{chat}-{i}" for i in range(3)] for chat in (ALICE, BOB, CAROL)}
    await add(sqlite, *[(chat, ts[i]) for i in range(3) for chat, ts in wanted.items()])
    started = time.monotonic()
    await OutboxSender(sqlite, bot).drain(timeout=10)  # production limits

    assert time.monotonic() - started >= 2.0  # three messages per chat, ~1 s apart
    for chat, ts in wanted.items():
        assert texts(limited_api, chat) == ts
    assert not flood_errors(limited_api)
    await bot.shutdown()


def test_rate_limiter_keeps_telegrams_limits() -> None:
    now = [100.0]
    limiter = RateLimiter(private_interval=1.0, group_per_minute=20, global_per_second=30, clock=lambda: now[0])

    def send(chat_id: int) -> None:
        assert limiter.delay(chat_id) == 0
        limiter.release(limiter.acquire(chat_id))

    send(ALICE)
    assert limiter.delay(ALICE) == pytest.approx(1.0)
    assert limiter.delay(BOB) == 0  # other chats are not affected
    now[0] += 1.0
    assert limiter.delay(ALICE) == 0

    # Spacing counts from Telegram's answer: a slow request pushes the next one back.
    slot = limiter.acquire(BOB)
    now[0] += 0.7
    limiter.release(slot)
    assert limiter.delay(BOB) == pytest.approx(1.0)

    # Groups: 20 per rolling minute.
    now[0] += 10
    for i in range(20):
        assert limiter.group_budget(GROUP) == 20 - i
        send(GROUP)
        now[0] += 1.0
    assert limiter.group_budget(GROUP) == 0
    assert limiter.delay(GROUP) == pytest.approx(40.0)  # the first of the 20 leaves the window
    now[0] += 40.0
    assert limiter.delay(GROUP) == 0 and limiter.group_budget(GROUP) == 1

    # Overall: 30 per second, across chats.
    now[0] += 100
    for chat in range(1, 31):
        send(chat)
    assert limiter.delay(31) == pytest.approx(1.0)
    assert limiter.global_delay() == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.delay(31) == 0

    limiter.pause_all(5)  # Telegram flood-controls the whole bot
    assert limiter.delay(12345) == pytest.approx(5.0)


# -- restart and concurrency -----------------------------------------------------------------------
async def test_a_stopped_sender_is_finished_by_the_next_without_duplicates(
    sqlite: Database, api: BotApiDouble, ptb: Bot
) -> None:
    first = OutboxSender(sqlite, ptb, private_interval=0.1)
    task = asyncio.create_task(first.run())
    await asyncio.sleep(0.1)  # idle now, with a 30 s poll interval: only wake() makes it look
    wanted = {chat: [f"{chat}-{i}" for i in range(8)] for chat in (ALICE, BOB)}
    await add(sqlite, *[(chat, t) for chat, ts in wanted.items() for t in ts])
    woken = time.monotonic()
    first.wake()
    await api.wait_for(lambda: len(api.bot_messages(ALICE)) >= 3, timeout=3)
    assert time.monotonic() - woken < 1.0
    await first.stop()
    await asyncio.wait_for(task, 1)
    delivered = sum(len(api.bot_messages(c)) for c in wanted)
    assert delivered < 16  # stopped mid-way
    rows = await load(sqlite)
    assert sum(r.state == OutboxState.SENT for r in rows.values()) == delivered  # results recorded

    await OutboxSender(sqlite, ptb, private_interval=0.1).drain(timeout=5)
    for chat, ts in wanted.items():
        assert texts(api, chat) == ts  # each exactly once, in order
    assert len([1 for _, m, _ in api.requests if m == "sendMessage"]) == 16


async def test_two_senders_on_postgresql_deliver_each_row_exactly_once(postgres: str, api: BotApiDouble) -> None:
    # Two Database handles and two bots: as two processes would have.
    dbs = [Database(postgres), Database(postgres)]
    async with dbs[0].engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    bots = [await make_bot(api), await make_bot(api)]
    chats = [ALICE, BOB, CAROL, GROUP, GROUP2]
    wanted = {chat: [f"{chat}-{i}" for i in range(10)] for chat in chats}
    await add(dbs[0], *[(chat, wanted[chat][i]) for i in range(10) for chat in chats])
    senders = [OutboxSender(d, b, private_interval=0.01, group_per_minute=1000) for d, b in zip(dbs, bots, strict=True)]

    await asyncio.gather(*(s.drain(timeout=10) for s in senders))

    for chat, ts in wanted.items():
        assert texts(api, chat) == ts
    assert len([1 for _, m, _ in api.requests if m == "sendMessage"]) == 50
    rows = await load(dbs[0])
    assert all(r.state == OutboxState.SENT for r in rows.values())
    for b in bots:
        await b.shutdown()
    for d in dbs:
        await d.dispose()


async def test_stop_without_run_and_wake_before_run_are_harmless(sqlite: Database, ptb: Bot) -> None:
    sender = OutboxSender(sqlite, ptb)
    sender.wake()
    await sender.stop()
    await asyncio.wait_for(sender.run(), 1)  # already stopped: returns at once
