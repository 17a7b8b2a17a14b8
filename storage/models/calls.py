"""网格呼叫: a grid worker's call to a department, and the caller's rating of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.common import CallState, utcnow


class Call(SQLModel, table=True):
    """网格呼叫: a grid worker calls a department to the spot; it responds (响应), reports arrival (报到, with its
    location, checked against the call's place), handles it and the caller confirms and rates the response."""

    __table_args__ = (Index("ix_call_department_state", "department_id", "state"),)
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=20)
    state: str = Field(default=CallState.CALLED, max_length=16)
    caller_id: int = Field(foreign_key="member.id", index=True)
    grid_id: int | None = Field(default=None, foreign_key="grid.id", index=True)
    department_id: int = Field(foreign_key="department.id")
    matter_code: str | None = Field(default=None, foreign_key="matter.code")
    text: str = Field(sa_type=Text)
    latitude: float | None = None
    longitude: float | None = None
    urgency: str = Field(default="normal", max_length=16)  # urgent / normal
    respond_due: datetime
    arrive_due: datetime
    responded_at: datetime | None = None
    responder: str | None = Field(default=None, max_length=200)  # who is coming and when, as the department said
    arrived_at: datetime | None = None
    arrival_latitude: float | None = None
    arrival_longitude: float | None = None
    arrival_distance_m: float | None = None
    arrival_within_radius: bool | None = None
    arrival_photo: str | None = Field(default=None, max_length=200)  # evidence when no location could be sent
    arrival_confirmed: bool | None = None
    resolved_at: datetime | None = None
    result: str | None = Field(default=None, sa_type=Text)
    closed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class CallRating(SQLModel, table=True):
    """一哨一考核: the caller rates the department's response, arrival and handling."""

    __table_args__ = (UniqueConstraint("call_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    speed: str = Field(max_length=16)  # satisfied / basic / dissatisfied
    arrival: str = Field(max_length=16)
    outcome: str = Field(max_length=16)
    comment: str | None = Field(default=None, sa_type=Text)
    at: datetime = Field(default_factory=utcnow)
