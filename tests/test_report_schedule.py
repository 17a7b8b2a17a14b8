"""Scheduled reports (bot/reports/schedule.py): due at the right local time, fired once each across restarts and
failures, a long outage sends only the latest, months end where the calendar says. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlmodel import col, func, select

from bot.outbox import owe, to_department
from bot.reports.schedule import DAILY_BRIEF, MONTHLY_RANKING, ReportSchedule
from storage.models import Outbox, ReportRun
from tests.conftest import Clock

# 2026-11-26 08:29 in the county (UTC+8): one minute before the daily brief
BEFORE_BRIEF = datetime(2026, 11, 26, 0, 29, tzinfo=UTC)


def local(y, m, d, hh=0, mm=0) -> datetime:
    """A county-local wall time, as UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=8)


class Recorder:
    """A fire callback that writes an outbox row in the schedule's transaction (as the real one will), and can be
    told to fail after writing it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime, datetime]] = []
        self.fail = False

    async def __call__(self, kind, start, end, s) -> None:
        self.calls.append((kind, start, end))
        owe(s, to_department(1), f"{kind} {start.isoformat()}", end)
        if self.fail:
            raise RuntimeError("the report could not be built")


def schedule(db, clock: Clock) -> ReportSchedule:
    return ReportSchedule(db, clock.now, daily_at=time(8, 30), monthly_at=(1, time(9, 0)))


async def outbox_texts(db) -> list[str]:
    async with db.read() as s:
        return list((await s.exec(select(Outbox.text).order_by(col(Outbox.id)))).all())


async def test_the_daily_brief_fires_once_at_0830_local_across_a_restart(database):
    clock, fire = Clock(BEFORE_BRIEF), Recorder()
    reports = schedule(database, clock)
    assert await reports.run_due(fire) == []  # a new database: yesterday's brief is not sent late
    clock.advance(timedelta(minutes=1))  # 08:30 local = 00:30 UTC
    fired = await reports.run_due(fire)
    assert [(r.kind, r.period_start, r.period_end, r.due_at) for r in fired] == [
        (DAILY_BRIEF, local(2026, 11, 25), local(2026, 11, 26), datetime(2026, 11, 26, 0, 30, tzinfo=UTC))]
    assert await reports.run_due(fire) == []
    clock.advance(timedelta(hours=3))
    assert await schedule(database, clock).run_due(fire) == []  # a restart: a new schedule on the same database
    assert len(fire.calls) == 1
    assert await outbox_texts(database) == [f"daily_brief {local(2026, 11, 25).isoformat()}"]
    async with database.read() as s:
        row = (await s.exec(select(ReportRun).where(ReportRun.kind == DAILY_BRIEF,
                                                    col(ReportRun.fired_at).is_not(None)))).one()
    assert row.fired_at == datetime(2026, 11, 26, 0, 30, tzinfo=UTC) and not row.skipped


async def test_a_fire_that_fails_leaves_the_report_unfired_and_it_fires_next_time(database):
    clock, fire = Clock(BEFORE_BRIEF), Recorder()
    reports = schedule(database, clock)
    await reports.run_due(fire)
    clock.advance(timedelta(minutes=1))
    fire.fail = True
    assert await reports.run_due(fire) == []
    assert len(fire.calls) == 1 and await outbox_texts(database) == []  # its messages rolled back with it
    fire.fail = False
    clock.advance(timedelta(minutes=1))
    fired = await reports.run_due(fire)
    assert [r.period_start for r in fired] == [local(2026, 11, 25)]
    assert len(await outbox_texts(database)) == 1
    assert await reports.run_due(fire) == []


async def test_a_bot_down_for_three_days_sends_only_the_latest_brief(database):
    clock, fire = Clock(BEFORE_BRIEF), Recorder()
    reports = schedule(database, clock)
    await reports.run_due(fire)
    clock.advance(timedelta(minutes=1))
    fire.fail = True  # the brief of the 26th is written but never sent: the bot goes down
    await reports.run_due(fire)
    fire.fail, fire.calls = False, []
    clock.advance(timedelta(days=3, hours=2))  # back on the 29th at 10:31
    fired = await schedule(database, clock).run_due(fire)
    assert [(r.kind, r.period_start) for r in fired] == [(DAILY_BRIEF, local(2026, 11, 28))]
    async with database.read() as s:
        rows = (await s.exec(select(ReportRun).where(ReportRun.kind == DAILY_BRIEF)
                             .order_by(col(ReportRun.period_start)))).all()
    assert [(r.period_start, r.fired_at is not None, r.skipped) for r in rows] == [
        (local(2026, 11, 24), False, True),  # the first run's: before the county started
        (local(2026, 11, 25), False, True),  # overtaken while the bot was down
        (local(2026, 11, 28), True, False)]
    assert await reports.run_due(fire) == [] and len(fire.calls) == 1


async def test_the_monthly_ranking_fires_on_the_first_at_0900_for_the_month_before(database):
    clock, fire = Clock(local(2026, 12, 31, 23, 0)), Recorder()
    reports = schedule(database, clock)
    await reports.run_due(fire)
    clock.at = local(2027, 1, 1, 8, 59)
    fired = await reports.run_due(fire)
    assert [r.kind for r in fired] == [DAILY_BRIEF]  # the brief of Dec 31 at 08:30; the ranking not yet
    clock.at = local(2027, 1, 1, 9, 0)
    fired = await reports.run_due(fire)
    assert [(r.kind, r.period_start, r.period_end) for r in fired] == [
        (MONTHLY_RANKING, local(2026, 12, 1), local(2027, 1, 1))]
    clock.at = local(2027, 1, 20, 9, 0)
    assert [r.kind for r in await reports.run_due(fire)] == [DAILY_BRIEF]
    async with database.read() as s:
        n = (await s.exec(select(func.count()).select_from(ReportRun)
                          .where(ReportRun.kind == MONTHLY_RANKING, col(ReportRun.fired_at).is_not(None)))).one()
    assert n == 1


def test_periods_across_month_and_year_ends():
    reports = ReportSchedule(None, lambda: None)
    run = reports.latest(DAILY_BRIEF, local(2027, 1, 1, 8, 30))
    assert (run.period_start, run.period_end) == (local(2026, 12, 31), local(2027, 1, 1))
    run = reports.latest(DAILY_BRIEF, local(2027, 1, 1, 8, 29))
    assert (run.period_start, run.period_end, run.due_at) == (local(2026, 12, 30), local(2026, 12, 31),
                                                             local(2026, 12, 31, 8, 30))
    run = reports.latest(MONTHLY_RANKING, local(2027, 3, 1, 9, 0))
    assert (run.period_start, run.period_end) == (local(2027, 2, 1), local(2027, 3, 1))  # 28 days
    run = reports.latest(MONTHLY_RANKING, local(2028, 3, 1, 8, 0))  # before 09:00: still January's
    assert (run.period_start, run.period_end, run.due_at) == (local(2028, 1, 1), local(2028, 2, 1),
                                                             local(2028, 2, 1, 9, 0))
    run = reports.latest(MONTHLY_RANKING, local(2028, 3, 15))
    assert run.period_end - run.period_start == timedelta(days=29)  # a leap February
    assert reports.latest(MONTHLY_RANKING, local(2027, 1, 1, 8, 0)).period_start == local(2026, 11, 1)
    assert reports.next(MONTHLY_RANKING, local(2026, 12, 15)).due_at == local(2027, 1, 1, 9, 0)
    assert reports.next(DAILY_BRIEF, local(2026, 12, 31, 9, 0)).due_at == local(2027, 1, 1, 8, 30)
    later = ReportSchedule(None, lambda: None, monthly_at=(5, time(7, 15)))
    run = later.latest(MONTHLY_RANKING, local(2027, 3, 5, 7, 15))
    assert (run.period_start, run.due_at) == (local(2027, 2, 1), local(2027, 3, 5, 7, 15))


async def test_the_scheduler_job_runs_the_schedule_with_the_injected_callback(sqlite_db):
    from bot.scheduler import ClockDriver

    clock, fire = Clock(BEFORE_BRIEF + timedelta(minutes=1)), Recorder()
    reports = schedule(sqlite_db, clock)
    await reports.run_due(fire)  # the first run of a new database: nothing is sent late
    clock.advance(timedelta(days=1))
    driver = ClockDriver(None, sqlite_db, reports=reports, report_fire=fire)
    await driver.report()
    await driver.report()
    assert [kind for kind, _, _ in fire.calls] == [DAILY_BRIEF]
