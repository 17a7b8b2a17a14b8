"""The outbox sender keeps Telegram's limits: merging a group's surplus notices, the rate limiter, and a
backlog of groups at their limit that must not hold back anyone else."""

from __future__ import annotations

import time

import pytest
from telegram import Bot

from bot.delivery import TEXT_LIMIT
from bot.double.server import BotApiDouble
from bot.ratelimit import RateLimiter
from bot.sender import MERGE_SEPARATOR
from storage.db import Database
from storage.models import OutboxState
from tests.outbox.conftest import (
    ALICE,
    BOB,
    CAROL,
    FAST,
    GROUP,
    GROUP2,
    OutboxSender,
    add,
    flood_errors,
    load,
    make_bot,
    texts,
)

# PTB itself warns when it builds a RetryAfter with int seconds (its deprecated default).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


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
