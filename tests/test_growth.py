"""Growth: what is no longer needed is pruned, what every change queries is indexed, and the calendar warns
before it runs out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from bot import retention
from bot.calendar import WorkCalendar
from bot.cli import main as cli
from storage.models import Card, Draft, Outbox, OutboxState, PendingInput, Ticket
from tests.conftest import START
from tests.helpers import ILLEGAL_BUILDING, RESIDENT, ZFJ_STAFF, row_counts


async def test_delivered_messages_old_drafts_and_unanswered_questions_are_pruned_and_the_record_is_kept(bot):
    number = await bot.submit(RESIDENT, ILLEGAL_BUILDING)
    await bot.say(RESIDENT, "小区门口的路灯坏了一个星期")  # a draft never submitted
    await bot.press(-100101, ZFJ_STAFF, "退回")  # a question never answered
    db = bot.svc.db
    async with db.session() as s:
        s.add(Outbox(recipient="member:1", kind="notice", text="still owed", created_at=START, next_attempt_at=START))
    sent_before, *_ = await row_counts(db, Outbox)
    assert sent_before > 3

    assert await retention.prune(db, START) == {"outbox": 0, "drafts": 0, "prompts": 0}  # nothing is old yet
    gone = await retention.prune(db, START + timedelta(days=1))

    assert gone["drafts"] == 2 and gone["prompts"] == 1 and gone["outbox"] == sent_before - 1
    async with db.read() as s:
        left = (await s.exec(select(Outbox))).all()
        assert [o.text for o in left] == ["still owed"] and left[0].state == OutboxState.PENDING
        assert (await s.exec(select(Ticket.number))).all() == [number]
        assert len((await s.exec(select(Card))).all()) == 3  # the cards (and the ticket's history) stay
        assert not (await s.exec(select(Draft))).all() and not (await s.exec(select(PendingInput))).all()
    await bot.say(RESIDENT, f"/t {number}")  # the resident still sees the whole history
    assert "派单" in bot.find(RESIDENT, "办理记录")["text"]


async def test_the_sweep_reads_only_live_timers_through_their_index(sqlite_db):
    async with sqlite_db.read() as s:
        plan = (await s.exec(text(
            "EXPLAIN QUERY PLAN SELECT * FROM timer WHERE timer.fired_at IS NULL AND timer.cancelled = 0 "
            "AND timer.due_at <= '2026-11-26' ORDER BY timer.due_at, timer.id LIMIT 100"))).all()
    assert any("ix_timer_live_due" in str(row) for row in plan), plan


def test_the_calendar_warns_when_it_does_not_cover_the_next_60_days(capsys, monkeypatch, tmp_path):
    calendar = WorkCalendar.load()
    assert calendar.coverage_warnings(START) != []  # 26 Nov 2026 + 60 days is in 2027, which it does not list
    assert calendar.coverage_warnings(START - timedelta(days=200)) == []
    empty = tmp_path / "calendar.yaml"
    empty.write_text("holidays: []\n", encoding="utf-8")
    monkeypatch.setenv("GRIDBOT_CALENDAR", str(empty))
    assert cli(["catalogue", "check"]) == 0  # a warning, not a failure: the catalogue itself is fine
    assert "lists no holidays for" in capsys.readouterr().err
