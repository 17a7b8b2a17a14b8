"""The world of the 12345 indicators' tests (bot/indicators): histories are made through the real workflow
actions with a fake clock, so the figures read what the bot really writes.

The fixture county (tests/fixtures): T-LD 路灯 → 住建 zjj (accept 4h, resolve 3d), T-WJ 违法建设 → 执法 zfj (onsite:
accept 2h, arrive 24h, resolve 5wd), T-DL 道路 → 交通 jtj (onsite: accept 2h, arrive 24h), T-ZS 噪音 → 公安 gaj.
The clock starts on Thursday 2026-11-26 09:00 local (01:00 UTC).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.calendar import WorkCalendar
from bot.directory import load_county
from bot.indicators import Indicators, Unit, month
from bot.indicators.score import parse_weights
from bot.workflow import Workflow
from nlp.catalogue import load_catalogue
from storage.models import Department, DepartmentKind, Member
from tests.conftest import FIXTURES, Clock
from tests.helpers import member

RESIDENT, NEIGHBOUR, GRID_WORKER = 1001, 1002, 1101
ZFJ_STAFF, ZJJ_STAFF, JTJ_STAFF, GAJ_STAFF, DISPATCHER = 2001, 2101, 2201, 2401, 3001
NOVEMBER = month(2026, 11)
DECEMBER = month(2026, 12)
WEIGHTS = parse_weights("响应:0.1,解决:0.5,满意:0.4")
SPOT = (35.99, 119.405)


class World:
    def __init__(self, db, catalogue, clock: Clock, flow: Workflow, people: dict[int, Member]) -> None:
        self.db, self.catalogue, self.clock, self.flow, self.p = db, catalogue, clock, flow, people

    def indicators(self, **overrides) -> Indicators:
        return Indicators(self.db, self.catalogue, now=self.clock.now, **overrides)

    def later(self, **delta) -> None:
        self.clock.advance(timedelta(**delta))

    async def file(self, matter: str, who: int = RESIDENT, grid_id: int | None = None) -> int:
        ticket = await self.flow.routing.submit(self.p[who], f"反映一个问题（{matter}）", matter_code=matter,
                                                grid_id=grid_id, grid_source="chosen" if grid_id else None)
        return ticket.id

    async def accept(self, ticket_id: int, staff: int) -> None:
        await self.flow.department.accept(ticket_id, self.p[staff])

    async def resolve(self, ticket_id: int, staff: int, onsite: bool = False) -> None:
        if onsite:
            await self.flow.department.arrive(ticket_id, self.p[staff], *SPOT)
        await self.flow.department.resolve(ticket_id, self.p[staff], "已处理")

    async def unit(self, code: str) -> Unit:
        async with self.db.read() as s:
            dept = (await s.exec(select(Department).where(Department.code == code))).one()
        kind = "township" if dept.kind == DepartmentKind.TOWNSHIP else "department"
        return Unit(kind, dept.id, dept.name, dept.code)


async def build_world(db, catalogue_path=FIXTURES / "catalogue.yaml") -> World:
    catalogue = load_catalogue(catalogue_path)
    await load_county(db, catalogue, FIXTURES / "county.yaml")
    clock = Clock()
    flow = Workflow(db, catalogue, WorkCalendar(), now=clock.now)
    people = {t: await member(db, t) for t in (RESIDENT, NEIGHBOUR, GRID_WORKER, ZFJ_STAFF, ZJJ_STAFF, JTJ_STAFF,
                                                GAJ_STAFF, DISPATCHER)}
    return World(db, catalogue, clock, flow, people)


@pytest.fixture
async def world(database) -> World:
    return await build_world(database)


@pytest.fixture
async def sqlite_world(sqlite_db) -> World:
    return await build_world(sqlite_db)
