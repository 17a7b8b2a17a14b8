"""The county: departments, grids (with their map), people, the matters of the list, invites, numbering."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, text
from sqlmodel import Field, SQLModel

from storage.models.common import DepartmentKind, Role, utcnow


class Department(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=32)
    name: str = Field(max_length=100)
    kind: str = Field(default=DepartmentKind.COUNTY, max_length=16)
    chat_id: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    supervisor_chat_id: int | None = Field(default=None, sa_type=BigInteger)


class Grid(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=32)
    name: str = Field(max_length=100)
    township_id: int = Field(foreign_key="department.id", index=True)
    # The grid map (bot/countymap.py), as the county file gives it: a GeoJSON Polygon in WGS-84, positions
    # [longitude, latitude] (None: not drawn yet), and the gazetteer (streets, 小区, 村, markets, schools): each
    # entry a name, or {name, location: [longitude, latitude], address?} for a place with a point.
    boundary: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    places: list[str | dict[str, Any]] = Field(default_factory=list, sa_type=JSON, sa_column_kwargs={"server_default": "[]"})


class Member(SQLModel, table=True):
    """A person known to the bot, with one role. Most reach it through Telegram (`telegram_id`); a reporter
    from the web or Open311 has none. `phone` is private: it never appears on a card or in a group."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    name: str = Field(default="", max_length=100)
    role: str = Field(default=Role.RESIDENT, max_length=16)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    grid_id: int | None = Field(default=None, foreign_key="grid.id")
    phone: str | None = Field(default=None, max_length=32)
    head: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})  # heads its department
    created_at: datetime = Field(default_factory=utcnow)


class Matter(SQLModel, table=True):
    """A matter of the responsibility list, mirrored from the catalogue at start-up."""

    code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=100)
    category1: str = Field(default="", max_length=32)
    category2: str = Field(default="", max_length=64)
    lead: str = Field(max_length=32)
    cooperate: list[str] = Field(default_factory=list, sa_type=JSON)
    clocks: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    onsite: bool = False
    emergency: bool = False
    result_photo: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})  # 办结 needs 处置后照片
    active: bool = True


class Invite(SQLModel, table=True):
    """A deep-link code (/start CODE) that binds a group to a department or gives a user a role."""

    code: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=16)  # "group" | "role"
    role: str | None = Field(default=None, max_length=16)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    grid_id: int | None = Field(default=None, foreign_key="grid.id")
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    uses_left: int = 1


class DailyCounter(SQLModel, table=True):
    """Per-day sequence behind human-readable numbers: tickets 20261126-0007, calls H20261126-0003."""

    day: str = Field(primary_key=True, max_length=16)
    last: int = 0
