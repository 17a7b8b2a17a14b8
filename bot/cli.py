"""`gridbot` command line: run the bot, play the demo, load a county, check the catalogue, train the model."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gridbot", description="网格通 GridBot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (no TELEGRAM_BOT_TOKEN: the local sandbox on http://127.0.0.1:8080/)")
    sub.add_parser("demo", help="play the whole loop through the Bot API double and print the transcript")
    sub.add_parser("migrate", help="bring the database schema up to date")
    db = sub.add_parser("db", help="the database").add_subparsers(dest="action", required=True)
    db.add_parser("backup", help="an online copy of the SQLite database (PostgreSQL: use pg_dump)").add_argument("file")
    county = sub.add_parser("county", help="county file").add_subparsers(dest="action", required=True)
    county.add_parser("load", help="load (idempotently) a county file").add_argument("file")
    county.add_parser("check", help="validate a county file").add_argument("file")
    cat = sub.add_parser("catalogue", help="responsibility catalogue").add_subparsers(dest="action", required=True)
    cat.add_parser("check", help="validate the catalogue, listing problems by entry").add_argument("file", nargs="?")
    nlp = sub.add_parser("nlp", help="classifier").add_subparsers(dest="action", required=True)
    train = nlp.add_parser("train", help="train the learned model on labelled CSVs (title,detail,label)")
    train.add_argument("--data", action="append", required=True)
    train.add_argument("--out", required=True)
    train.add_argument("--text", default="title+detail", choices=["title", "title+detail"])
    train.add_argument("--history", action="store_true", help="also use dispatcher-confirmed tickets from DATABASE_URL")
    ev = nlp.add_parser("eval", help="evaluate on a labelled CSV (label: category, or matter: matter code); prints JSON")
    ev.add_argument("--model")
    ev.add_argument("--data", required=True)
    ev.add_argument("--text", default="title", choices=["title", "title+detail"])
    ev.add_argument("--predictions", metavar="OUT.csv", help="write matter,lead,confidence,routed,emergency per input row")
    cl = nlp.add_parser("classify", help="show the top matters for a text")
    cl.add_argument("text")
    cl.add_argument("--model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "alembic", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return _dispatch(args)
    except ConfigError as e:
        print(f"gridbot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        settings = load_settings()  # a wrong setting stops here, before anything starts
        if settings.sandbox and not settings.sandbox_allowed:
            raise ConfigError("TELEGRAM_BOT_TOKEN: not set, and GRIDBOT_SANDBOX=0 forbids the local sandbox "
                              "(set the token, or GRIDBOT_SANDBOX=1 to try the sandbox)")
        from bot.app import serve

        asyncio.run(serve(settings))
        return 0
    if args.command == "demo":
        from bot.demo import play

        return asyncio.run(play())
    if args.command == "migrate":
        from storage.db import Database

        async def migrate() -> None:
            db = Database(load_settings().database_url)
            await db.migrate()
            await db.dispose()

        asyncio.run(migrate())
        return 0
    if args.command == "county":
        return _county(args)
    if args.command == "db":
        from storage.backup import BackupError, backup

        try:
            size = backup(load_settings().database_url, Path(args.file))
        except BackupError as e:
            print(f"gridbot: {e}", file=sys.stderr)
            return 2
        print(f"{args.file}: {size / 1e6:.1f} MB, a consistent copy (restore: stop the bot, copy it back)")
        return 0
    if args.command == "catalogue":
        from bot.calendar import WorkCalendar
        from nlp.commands import cmd_catalogue_check
        from storage.models import utcnow

        for warning in WorkCalendar.load(load_settings().calendar).coverage_warnings(utcnow()):
            print(f"warning: {warning}", file=sys.stderr)
        return cmd_catalogue_check(args.file)
    from nlp import commands

    if args.action == "train":
        history = asyncio.run(_history()) if args.history else ()
        return commands.cmd_train(args.data, args.out, history=history, text_mode=args.text)
    if args.action == "eval":
        return commands.cmd_eval(args.model, args.data, text_mode=args.text, predictions=args.predictions)
    return commands.cmd_classify(args.text, args.model)


def _county(args: argparse.Namespace) -> int:
    from bot.countymap import Place, missing_boundaries
    from bot.directory import CountyError, load_county, parse_county
    from nlp.catalogue import CatalogueError, load_catalogue
    from storage.db import Database

    settings = load_settings()
    path = Path(args.file)
    try:
        catalogue = load_catalogue(settings.catalogue)
        doc = parse_county(path, catalogue)
        for warning in missing_boundaries(doc, path):
            print(f"warning: {warning}", file=sys.stderr)
        if args.action == "check":
            grids = [g for t in doc.get("townships") or [] for g in t.get("grids") or []]
            places = [Place.parse(entry) for g in grids for entry in g.get("places") or []]
            print(f"{path}: ok ({len(grids)} grids, {sum(g.get('boundary') is not None for g in grids)} with a "
                  f"boundary, {len(places)} places, {sum(p.location is not None for p in places)} with a point)")
            return 0

        async def load():
            db = Database(settings.database_url)
            await db.migrate()
            try:
                return await load_county(db, catalogue, path)
            finally:
                await db.dispose()

        report = asyncio.run(load())
    except (CountyError, CatalogueError) as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{path}: {report.departments} departments, {report.townships} townships, "
          f"{report.grids} grids, {report.members} members")
    return 0


async def _history() -> list[tuple[str, str]]:
    from bot.tickets import Tickets
    from storage.db import Database

    db = Database(load_settings().database_url)
    await db.migrate()
    try:
        return await Tickets(db).labelled_history()
    finally:
        await db.dispose()


if __name__ == "__main__":
    sys.exit(main())
