"""The outbox sender delivers: in order per chat, through server errors and flood control, cards posted and
edited, resumed after a restart, exactly once with two senders on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from telegram import Bot

from bot.double.server import ApiError, BotApiDouble
from storage.db import Database
from storage.models import Card, OutboxState, utcnow
from tests.conftest import TABLES
from tests.outbox.conftest import (
    ALICE,
    BOB,
    CAROL,
    FAST,
    GROUP,
    GROUP2,
    OutboxSender,
    add,
    first_occurrences,
    load,
    make_bot,
    sends,
    texts,
)

# PTB itself warns when it builds a RetryAfter with int seconds (its deprecated default).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


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
