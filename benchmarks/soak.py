"""The soak: the crash-and-fault harness (tests/harness.py) at scale — the real bot as its own process, many
residents filing requests, SIGKILLed many times, with Telegram's faults injected — then every property checked.

    .venv/bin/python benchmarks/soak.py --database sqlite --residents 60 --requests 10000 --kills 20
    .venv/bin/python benchmarks/soak.py --database postgresql://postgres@127.0.0.1:5432/gridbot_soak ...

`--requests` is the total, at least (each resident files ⌈requests / residents⌉: 10,020 for 10,000 over 60); the sentences are one per matter of the catalogue, so
the cards spread over the departments' groups as a county's day does (20 sends a minute per group is Telegram's
limit, and the run waits until every card has arrived). `--faults 0.05,0.05,0.02` are the rates of 500s, 429s
and dropped connections (the method took effect, the answer was lost); `--calm-drain` stops them once every
resident is done, so the cards still owed go out at Telegram's own rates. Prints a JSON summary; exits 1 if a
property failed. The PostgreSQL database must exist (it is emptied first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from storage.db import Database  # noqa: E402
from tests.conftest import TABLES  # noqa: E402
from tests.harness import Harness, spread_requests  # noqa: E402

MUST_BE_ZERO = ("lost", "duplicate_tickets", "messages_without_draft", "submits_without_number",
                "tickets_without_card", "order_breaks", "error_replies", "unanswered_presses", "clocks_fired_twice",
                "clocks_overdue")


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{work / 'soak.db'}" if args.database == "sqlite" else args.database
        if not url.startswith("sqlite"):
            db = Database(url)
            await db.migrate()
            async with db.engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
            await db.dispose()
        rates = dict(zip(("500", "429", "drop"), map(float, args.faults.split(",")), strict=True))
        per_resident = max(1, -(-args.requests // args.residents))  # at least --requests in all
        harness = Harness(work, url, residents=args.residents, requests=per_resident, kills=args.kills,
                          fault_rates=rates, step_timeout=args.step_timeout, kill_every=args.kill_every,
                          sentences=spread_requests(), calm_drain=args.calm_drain,
                          drain_timeout=args.drain_timeout)
        try:
            await harness.setup()
            await harness.run()
            checks = await harness.check()
        finally:
            await harness.stop()
        summary = {"database": "sqlite" if url.startswith("sqlite") else "postgresql", "faults": rates,
                   "calm_drain": args.calm_drain,
                   **harness.results.summary()}
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        failed = [k for k in MUST_BE_ZERO if checks[k]] + (["group rate"] if checks["max_group_sends_per_minute"] > 20
                                                          else []) + ([] if harness.results.drained else ["drain"])
        if failed:
            unanswered = harness.double.unanswered_queries()
            print(f"FAILED: {failed}\nunanswered presses (callback query ids, as in the bot's log): "
                  f"{unanswered[:50]}\n{harness.tail()}", file=sys.stderr)
        return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL URL")
    parser.add_argument("--residents", type=int, default=60)
    parser.add_argument("--requests", type=int, default=10_000, help="in total, at least (rounded up to a multiple of --residents)")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--kill-every", type=float, default=20.0, help="seconds between kills, on average")
    parser.add_argument("--faults", default="0.05,0.05,0.02", help="rates of 500s, 429s, dropped connections")
    parser.add_argument("--calm-drain", action="store_true",
                        help="stop injecting faults once every resident is done (the cards still owed then go out "
                             "at Telegram's rates instead of under a 429 every twentieth send)")
    parser.add_argument("--drain-timeout", type=float, default=4 * 3600.0,
                        help="seconds to wait, after the residents, for every owed message (a group takes 20 a minute)")
    parser.add_argument("--workdir", help="keep the bot's log (gridbot.log) and the SQLite database here")
    parser.add_argument("--step-timeout", type=float, default=300.0, help="how long a resident waits for an answer")
    sys.exit(asyncio.run(main(parser.parse_args())))
