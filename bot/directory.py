"""Who is who: departments, grids, members, invites, and the county file that sets them up.

The county file (YAML) is loaded by `gridbot county load FILE`; loading is idempotent (upsert by code /
telegram_id), so the same file can be re-applied after edits. It also draws the grid map (each grid's boundary
and places, checked by bot/countymap.py), which `Directory.grid_map()` serves to the bot. Invites (/start CODE
deep links) do the same from chat: bind a group to a department, give a user a role.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.countymap import GridEntry, GridMap, Place, check_map
from bot.geo import GRID_NEAR_M
from nlp.catalogue import Catalogue
from storage.db import Database
from storage.models import Department, DepartmentKind, Grid, Invite, Matter, Member, Role, utcnow

HEAD = "head"  # an invite kind: staff who head their department (see its figures and open list)


class CountyError(Exception):
    """The county file is wrong; `problems` name the file and entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class LoadReport:
    departments: int = 0
    townships: int = 0
    grids: int = 0
    members: int = 0


_ROLES = {r.value for r in Role}
#: county files loaded by this process: a Directory's cached grid map is rebuilt when this moves
_county_loads = 0


def parse_county(path: Path, catalogue: Catalogue) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise CountyError([f"{path}: cannot read: {e}"]) from None
    if not isinstance(doc, dict):
        raise CountyError([f"{path}: expected a mapping with departments, townships, members"])
    problems: list[str] = []
    codes: set[str] = set(catalogue.departments)
    for key in ("command_center", "leadership"):
        entry = doc.get(key)
        if entry is not None and not (isinstance(entry, dict) and entry.get("code") and entry.get("name")):
            problems.append(f"{path}: {key}: needs code and name")
        elif entry:
            codes.add(entry["code"])
    for i, d in enumerate(doc.get("departments") or []):
        if not isinstance(d, dict) or not d.get("code"):
            problems.append(f"{path}: departments[{i}]: needs a code")
        elif d["code"] not in catalogue.departments and not d.get("name"):
            problems.append(f"{path}: departments[{i}] ({d['code']}): not in the catalogue, so it needs a name")
        else:
            codes.add(d["code"])
    grids: set[str] = set()
    for i, t in enumerate(doc.get("townships") or []):
        if not isinstance(t, dict) or not t.get("code") or not t.get("name"):
            problems.append(f"{path}: townships[{i}]: needs code and name")
            continue
        codes.add(t["code"])
        for j, g in enumerate(t.get("grids") or []):
            if not isinstance(g, dict) or not g.get("code") or not g.get("name"):
                problems.append(f"{path}: townships[{i}] ({t['code']}).grids[{j}]: needs code and name")
            elif g["code"] in grids:
                problems.append(f"{path}: townships[{i}] ({t['code']}).grids[{j}]: duplicate grid code {g['code']}")
            else:
                grids.add(g["code"])
    for i, m in enumerate(doc.get("members") or []):
        where = f"{path}: members[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("telegram_id"), int):
            problems.append(f"{where}: needs an integer telegram_id")
            continue
        where += f" ({m['telegram_id']})"
        if m.get("role", "resident") not in _ROLES:
            problems.append(f"{where}: role must be one of {', '.join(sorted(_ROLES))}")
        if m.get("department") and m["department"] not in codes:
            problems.append(f"{where}: unknown department {m['department']}")
        if m.get("grid") and m["grid"] not in grids:
            problems.append(f"{where}: unknown grid {m['grid']}")
        if m.get("role") == Role.STAFF and not m.get("department"):
            problems.append(f"{where}: staff needs a department")
        if m.get("head") and m.get("role") != Role.STAFF:
            problems.append(f"{where}: head: true is for staff (the head of their department)")
    problems += check_map(doc, path)
    if problems:
        raise CountyError(problems)
    return doc


async def load_county(db: Database, catalogue: Catalogue, path: Path) -> LoadReport:
    """Apply a county file: catalogue departments, command center, townships, grids (with their map), members."""
    global _county_loads
    doc = parse_county(path, catalogue)
    report = LoadReport()
    async with db.session() as s:
        await sync_catalogue(s, catalogue)
        overrides = {d["code"]: d for d in doc.get("departments") or []}
        for code, dept in catalogue.departments.items():
            await _upsert_department(s, code, overrides.get(code, {}).get("name", dept.name),
                                     DepartmentKind.COUNTY, overrides.get(code, {}))
            report.departments += 1
        for code, d in overrides.items():
            if code not in catalogue.departments:
                await _upsert_department(s, code, d["name"], DepartmentKind.COUNTY, d)
                report.departments += 1
        for key, kind in (("command_center", DepartmentKind.COMMAND), ("leadership", DepartmentKind.LEADERSHIP)):
            if doc.get(key):
                await _upsert_department(s, doc[key]["code"], doc[key]["name"], kind, doc[key])
        for t in doc.get("townships") or []:
            township = await _upsert_department(s, t["code"], t["name"], DepartmentKind.TOWNSHIP, t)
            report.townships += 1
            for g in t.get("grids") or []:
                grid = (await s.exec(select(Grid).where(Grid.code == g["code"]))).first() or Grid(code=g["code"])
                grid.name, grid.township_id = g["name"], township.id
                grid.boundary = g.get("boundary")  # the file is the map: a boundary taken out of it goes too
                grid.places = [Place.parse(entry).stored() for entry in g.get("places") or []]  # names stripped
                s.add(grid)
                report.grids += 1
        await s.flush()
        for m in doc.get("members") or []:
            member = await member_by_telegram(s, m["telegram_id"]) or Member(telegram_id=m["telegram_id"])
            member.name = m.get("name", member.name)
            member.role = m.get("role", Role.RESIDENT)
            member.phone = m.get("phone", member.phone)
            member.head = bool(m.get("head", False))
            member.department_id = (await department_by_code(s, m["department"])).id if m.get("department") else None
            member.grid_id = (await grid_by_code(s, m["grid"])).id if m.get("grid") else None
            s.add(member)
            report.members += 1
    _county_loads += 1
    return report


async def sync_catalogue(s: AsyncSession, catalogue: Catalogue) -> None:
    """Mirror the catalogue's matters into the table (tickets reference them); retired ones stay, inactive."""
    existing = {m.code: m for m in (await s.exec(select(Matter))).all()}
    for code, m in catalogue.matters.items():
        row = existing.pop(code, None) or Matter(code=code, name=m.name, lead=m.lead)
        row.name, row.category1, row.category2, row.lead = m.name, m.category1, m.category2, m.lead
        row.cooperate, row.clocks = list(m.cooperate), dict(m.clocks)
        row.onsite, row.emergency, row.result_photo, row.active = m.onsite, m.emergency, m.result_photo, True
        s.add(row)
    for row in existing.values():
        row.active = False
        s.add(row)
    for code, dept in catalogue.departments.items():
        if await department_by_code(s, code) is None:
            s.add(Department(code=code, name=dept.name, kind=DepartmentKind.COUNTY))
    await s.flush()


async def _upsert_department(s: AsyncSession, code: str, name: str, kind: str, entry: dict) -> Department:
    dept = await department_by_code(s, code) or Department(code=code, name=name)
    dept.name, dept.kind = name, kind
    if "chat_id" in entry:
        dept.chat_id = entry["chat_id"]
    if "supervisor_chat_id" in entry:
        dept.supervisor_chat_id = entry["supervisor_chat_id"]
    s.add(dept)
    await s.flush()
    return dept


async def member_by_telegram(s: AsyncSession, telegram_id: int) -> Member | None:
    return (await s.exec(select(Member).where(Member.telegram_id == telegram_id))).first()


async def department_by_code(s: AsyncSession, code: str) -> Department | None:
    return (await s.exec(select(Department).where(Department.code == code))).first()


async def department_by_chat(s: AsyncSession, chat_id: int) -> Department | None:
    return (await s.exec(select(Department).where(Department.chat_id == chat_id))).first()


async def grid_by_code(s: AsyncSession, code: str) -> Grid | None:
    return (await s.exec(select(Grid).where(Grid.code == code))).first()


class Directory:
    """Member and department look-ups and invites, each in its own short transaction; the grid map."""

    #: seconds a cached grid map is trusted before the database is read again (a load from another process)
    MAP_REFRESH_S = 60.0

    def __init__(self, db: Database, near_m: float = GRID_NEAR_M) -> None:
        self.db = db
        self.near_m = near_m
        self._map: GridMap | None = None
        self._map_rows: tuple = ()
        self._map_seen = (-1, 0.0)  # (_county_loads, monotonic time) when the rows were last read

    async def grid_map(self) -> GridMap:
        """The county's grid map (bot/countymap.py: ``locate(lat, lon)``, ``places_in(text)``), built from the
        database and cached: rebuilt after a county file is loaded in this process, and re-read at most every
        MAP_REFRESH_S seconds, so `gridbot county load` from a shell reaches a running bot within a minute."""
        loads, now = _county_loads, time.monotonic()
        if self._map is not None and self._map_seen[0] == loads and now - self._map_seen[1] < self.MAP_REFRESH_S:
            return self._map
        async with self.db.read() as s:
            rows = tuple((code, boundary, tuple(places or ())) for code, boundary, places in (await s.exec(
                select(Grid.code, Grid.boundary, Grid.places).order_by(col(Grid.code)))).all())
        if self._map is None or rows != self._map_rows:
            self._map = GridMap((GridEntry(*row) for row in rows), self.near_m)
            self._map_rows = rows
        self._map_seen = (loads, now)
        return self._map

    async def member(self, telegram_id: int, name: str = "") -> Member:
        """The member for a Telegram user; unknown users become residents on first contact."""
        async with self.db.session() as s:
            member = await member_by_telegram(s, telegram_id)
            if member is None:
                member = Member(telegram_id=telegram_id, name=name[:100], role=Role.RESIDENT)
                s.add(member)
                await s.flush()
            return member

    async def known_member(self, telegram_id: int) -> Member | None:
        async with self.db.session() as s:
            return await member_by_telegram(s, telegram_id)

    async def grids_by_code(self) -> dict[str, Grid]:
        async with self.db.read() as s:
            return {g.code: g for g in (await s.exec(select(Grid).order_by(col(Grid.code)))).all()}

    async def grid_label(self, grid_id: int | None) -> str:
        from bot import queries

        async with self.db.read() as s:
            return await queries.grid_name(s, grid_id)

    async def resident_by_phone(self, phone: str) -> Member:
        """The resident with this phone (a grid worker files for them: 代办); new ones have no Telegram id."""
        async with self.db.session() as s:
            member = (await s.exec(select(Member).where(Member.phone == phone).order_by(col(Member.id)))).first()
            if member is None:
                member = Member(name="", phone=phone, role=Role.RESIDENT)
                s.add(member)
                await s.flush()
            return member

    async def department_of_chat(self, chat_id: int) -> Department | None:
        async with self.db.session() as s:
            return await department_by_chat(s, chat_id)

    async def departments(self) -> list[Department]:
        async with self.db.session() as s:
            return list((await s.exec(select(Department).order_by(col(Department.kind), col(Department.code)))).all())

    async def grids(self) -> list[tuple[Grid, Department]]:
        async with self.db.session() as s:
            rows = await s.exec(select(Grid, Department).where(Grid.township_id == Department.id)
                                .order_by(col(Grid.code)))
            return list(rows.all())

    async def create_invite(self, creator: Member, kind: str, *, role: str | None = None, department: str | None = None,
                            grid: str | None = None, hours: int = 72, uses: int = 1,
                            now: datetime | None = None) -> tuple[Invite, Department | None, Grid | None]:
        """A one-off code for a /start deep link. Raises LookupError naming the unknown code."""
        now = now or utcnow()
        async with self.db.session() as s:
            dept = await department_by_code(s, department) if department else None
            if department and dept is None:
                raise LookupError(department)
            g = await grid_by_code(s, grid) if grid else None
            if grid and g is None:
                raise LookupError(grid)
            invite = Invite(code=secrets.token_urlsafe(9), kind=kind, role=role,
                            department_id=dept.id if dept else None, grid_id=g.id if g else None,
                            created_by=creator.id, created_at=now, expires_at=now + timedelta(hours=hours),
                            uses_left=uses)
            s.add(invite)
            return invite, dept, g

    async def redeem(self, code: str, *, telegram_id: int, name: str, chat_id: int,
                     now: datetime | None = None) -> tuple[Invite, Department | None, Grid | None] | None:
        """Use an invite: bind the group (kind group) or set the user's role; None if invalid or used up."""
        now = now or utcnow()
        async with self.db.session() as s:
            invite = (await s.exec(select(Invite).where(Invite.code == code).with_for_update())).first()
            if invite is None or invite.uses_left <= 0 or invite.expires_at <= now:
                return None
            if (invite.kind == "group") != (chat_id < 0):
                return None
            dept = await s.get(Department, invite.department_id) if invite.department_id else None
            grid = await s.get(Grid, invite.grid_id) if invite.grid_id else None
            if invite.kind == "group":
                other = await department_by_chat(s, chat_id)
                if other is not None and other.id != dept.id:
                    other.chat_id = None
                    s.add(other)
                    await s.flush()
                dept.chat_id = chat_id
                s.add(dept)
            else:
                member = await member_by_telegram(s, telegram_id) or Member(telegram_id=telegram_id, name=name[:100])
                member.role = Role.STAFF if invite.role == HEAD else invite.role or Role.RESIDENT
                member.head = invite.role == HEAD
                member.department_id = dept.id if dept else None
                member.grid_id = grid.id if grid else member.grid_id
                s.add(member)
            invite.uses_left -= 1
            s.add(invite)
            return invite, dept, grid
