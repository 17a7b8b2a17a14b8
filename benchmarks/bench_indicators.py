"""How long the command center's figures take on a busy county: N tickets (and N/10 calls) written straight into a
temporary SQLite database through the models (not the workflow, to be fast), then figures(), table() and
ranking() timed for a month.

    .venv/bin/python benchmarks/bench_indicators.py --tickets 20000
    .venv/bin/python benchmarks/bench_indicators.py --tickets 20000 --database postgresql://postgres@127.0.0.1/bench

Each ticket: received at a random moment of November 2026, dispatched to a random county department (a third of
them after a 退回 and a re-route or 维持原派), accepted (a tenth late), an on-site share arrived, most resolved (some
after an approved extension), rated or closed as 未评价, a few reopened, invalid or merged; 督办 events for late ones.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.directory import load_county
from bot.indicators import Indicators, month
from nlp.catalogue import load_catalogue
from storage.db import Database
from storage.models import (
    Assignment,
    Call,
    CallRating,
    Department,
    DepartmentKind,
    Event,
    Extension,
    Grid,
    Member,
    Rating,
    Ticket,
)

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 10, 31, 16, tzinfo=UTC)  # 1 November, local
H = timedelta(hours=1)


def _ticket(rng: random.Random, n: int, reporter: int, grids: list[int], departments: list[int]) -> tuple:
    """A ticket, its lead assignments, events, extensions and ratings (ids filled in after the ticket's flush)."""
    created = START + timedelta(seconds=rng.uniform(0, 29 * 86400))
    roll = rng.random()
    state = "invalid" if roll < 0.02 else "merged" if roll < 0.03 else "rated" if roll < 0.7 else \
        "closed" if roll < 0.85 else "accepted"
    ticket = Ticket(number=f"B{n:08d}", state=state, reporter_id=reporter, grid_id=rng.choice(grids),
                    matter_code=None, text="bench", created_at=created, updated_at=created)
    shares, events, at = [], [], created + timedelta(minutes=rng.uniform(1, 30))
    dept = rng.choice(departments)
    events.append(Event(kind="dispatched", at=at, department_id=dept))
    if rng.random() < 0.3:  # returned, then upheld or re-routed
        shares.append(Assignment(department_id=dept, role="lead", state="withdrawn", assigned_at=at,
                                 accept_due=at + 2 * H, resolve_due=at + 72 * H, returned_at=at + H))
        at += 2 * H
        upheld = rng.random() < 0.5
        dept = dept if upheld else rng.choice(departments)
        events.append(Event(kind="upheld" if upheld else "rerouted", at=at, department_id=dept))
    accepted = at + (3 * H if rng.random() < 0.1 else 0.5 * H)
    onsite = rng.random() < 0.4
    resolved = accepted + timedelta(hours=rng.uniform(2, 90)) if state in ("rated", "closed") else None
    lead = Assignment(department_id=dept, role="lead", state="resolved" if resolved else "accepted", assigned_at=at,
                      accept_due=at + 2 * H, accepted_at=accepted, resolve_due=at + 72 * H, resolved_at=resolved,
                      arrive_due=accepted + 24 * H if onsite else None,
                      arrived_at=accepted + timedelta(hours=rng.uniform(1, 30)) if onsite else None)
    shares.append(lead)
    if accepted > lead.accept_due:
        events.append(Event(kind="escalated", at=lead.accept_due, department_id=dept))
    extension = None
    if resolved and resolved > lead.resolve_due and rng.random() < 0.5:
        extension = Extension(requested_by=reporter, reason="bench", old_due=lead.resolve_due,
                              new_due=resolved + H, state="approved")
        lead.resolve_due = resolved + H
    ratings = []
    if state == "rated":
        ratings.append(Rating(member_id=reporter, round=0, solved=rng.random() < 0.9,
                              satisfaction=rng.choice(["satisfied", "satisfied", "basic", "dissatisfied"]),
                              at=resolved + 24 * H))
    return ticket, shares, events, extension, ratings


async def build(db: Database, tickets: int, seed: int) -> None:
    catalogue = load_catalogue(ROOT / "data" / "catalogue.yaml")
    await load_county(db, catalogue, ROOT / "data" / "county.yaml")
    rng = random.Random(seed)
    async with db.session() as s:
        departments = [d.id for d in (await s.exec(select(Department).where(
            Department.kind == DepartmentKind.COUNTY).order_by(Department.id))).all()]
        grids = [g.id for g in (await s.exec(select(Grid).order_by(Grid.id))).all()]
        reporter = Member(name="bench", role="resident")
        worker = Member(name="bench worker", role="grid_worker", grid_id=grids[0])
        s.add_all([reporter, worker])
        await s.flush()
        reporter_id, worker_id = reporter.id, worker.id
    batch = 2000
    for first in range(0, tickets, batch):
        async with db.session() as s:
            built = [_ticket(rng, n, reporter_id, grids, departments) for n in range(first, min(tickets, first + batch))]
            s.add_all(t for t, *_ in built)
            await s.flush()
            for ticket, shares, events, _, ratings in built:
                for row in (*shares, *events, *ratings):
                    row.ticket_id = ticket.id
                s.add_all([*shares, *events, *ratings])
            await s.flush()
            for ticket, shares, _, extension, _ in built:
                if extension is not None:
                    extension.ticket_id, extension.assignment_id = ticket.id, shares[-1].id
                    s.add(extension)
            calls = []
            for n in range(len(built) // 10):
                made = START + timedelta(seconds=rng.uniform(0, 29 * 86400))
                responded = made + timedelta(minutes=rng.uniform(2, 90))
                calls.append(Call(number=f"HB{first + n:08d}", state="closed", caller_id=worker_id,
                                  grid_id=rng.choice(grids), department_id=rng.choice(departments), text="bench",
                                  respond_due=made + H, arrive_due=made + 4 * H, responded_at=responded,
                                  arrived_at=responded + timedelta(minutes=rng.uniform(5, 200)), created_at=made,
                                  updated_at=made))
            s.add_all(calls)
            await s.flush()
            s.add_all(CallRating(call_id=c.id, member_id=worker_id, speed="satisfied", arrival="basic",
                                 outcome="satisfied") for c in calls)


async def timed(label: str, repeat: int, work) -> None:
    """Wall time and this process's CPU time (the figure that holds on a shared, loaded machine)."""
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = await work()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(f"{label:<26} wall median {statistics.median(times) * 1000:7.0f} ms, best {min(times) * 1000:6.0f} ms; "
          f"CPU median {statistics.median(cpu) * 1000:6.0f} ms ({repeat} runs){result}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--database", help="a database URL (migrated and filled: use an empty one); default a "
                                           "temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.database or f"sqlite:///{tmp}/bench.db")
        await db.migrate()
        started = time.perf_counter()
        await build(db, args.tickets, args.seed)
        print(f"built {args.tickets} tickets and {args.tickets // 10} calls in {time.perf_counter() - started:.1f} s "
              f"({'SQLite' if db.is_sqlite else 'PostgreSQL'})")
        catalogue = load_catalogue(ROOT / "data" / "catalogue.yaml")
        ind = Indicators(db, catalogue, now=lambda: datetime(2026, 12, 5, tzinfo=UTC))
        november = month(2026, 11)

        async def county():
            f = await ind.figures(november)
            return f"   dispatched {f.dispatched}, 签收 {f.accept_rate:.3f}, score {f.score:.1f}"

        async def departments():
            return f"   {len(await ind.table(november, 'department'))} departments"

        async def grids():
            return f"   {len(await ind.table(november, 'grid'))} grids"

        async def ranking():
            r = await ind.ranking(november, "county")
            return f"   {len(r.ranked)} ranked, {len(r.below_minimum)} below minimum, {len(r.no_orders)} none"

        async def calls():
            return f"   {(await ind.calls(november)).calls} calls"

        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        await timed("figures(month)", args.repeat, county)
        await timed("table(month, department)", args.repeat, departments)
        await timed("table(month, grid)", args.repeat, grids)
        await timed("ranking(month, county)", args.repeat, ranking)
        await timed("calls(month)", args.repeat, calls)
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
