"""The crash-and-fault harness, small (the soak is benchmarks/soak.py): the bot as its own process, SIGKILLed at
random moments while residents file requests, with Telegram's faults injected — nothing is lost."""

from __future__ import annotations

from sqlalchemy import text

from storage.db import Database
from tests.conftest import TABLES
from tests.harness import Harness

FAULTS = {"500": 0.05, "429": 0.05, "drop": 0.02}
ZERO = ("lost", "duplicate_tickets", "messages_without_draft", "submits_without_number", "tickets_without_card",
        "order_breaks", "error_replies", "unanswered_presses")


async def run(tmp_path, url: str) -> dict:
    harness = Harness(tmp_path, url, residents=4, requests=3, kills=2, fault_rates=FAULTS)
    try:
        await harness.setup()
        await harness.run()
        checks = await harness.check()
    except AssertionError as e:
        raise AssertionError(f"{e}\n{harness.tail()}") from None
    finally:
        await harness.stop()
    summary = harness.results.summary()
    assert harness.results.kills == 2 and len(harness.results.sent) == 12 and harness.results.drained, summary
    assert {k: checks[k] for k in ZERO} == dict.fromkeys(ZERO, 0), summary
    assert checks["max_group_sends_per_minute"] <= 20, summary
    assert checks["injected_faults"] > 0, "the faults were injected"
    return summary


async def test_sigkilled_twice_with_faults_on_sqlite_nothing_is_lost(tmp_path):
    await run(tmp_path, f"sqlite:///{tmp_path / 'gridbot.db'}")


async def test_sigkilled_twice_with_faults_on_postgresql_nothing_is_lost(tmp_path, postgres):
    db = Database(postgres)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    await db.dispose()
    await run(tmp_path, postgres)
