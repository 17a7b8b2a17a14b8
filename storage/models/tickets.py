"""Tickets and what hangs on them: co-reporters, departments' assignments, the event log, callbacks
(回访), extensions (延期), evidence and the resident's drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.common import AssignmentState, Role, TicketState, utcnow


class Ticket(SQLModel, table=True):
    __table_args__ = (Index("ix_ticket_duplicates", "grid_id", "matter_code", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=16)
    state: str = Field(default=TicketState.RECEIVED, max_length=16, index=True)
    reporter_id: int = Field(foreign_key="member.id", index=True)
    source: str = Field(default=Role.RESIDENT, max_length=16)  # resident / grid_worker (巡查) / proxy (代办)
    filed_by: int | None = Field(default=None, foreign_key="member.id")  # the grid worker who filed it (代办)
    grid_id: int | None = Field(default=None, foreign_key="grid.id")
    grid_source: str | None = Field(default=None, max_length=16)  # how the grid was found (bot/places.py)
    matter_code: str | None = Field(default=None, foreign_key="matter.code")
    text: str = Field(sa_type=Text)
    latitude: float | None = None
    longitude: float | None = None
    confidence: float | None = None
    candidates: list[str] = Field(default_factory=list, sa_type=JSON)  # classifier's suggestions, best first
    emergency: bool = False
    result: str | None = Field(default=None, sa_type=Text)
    solved: bool | None = None
    satisfaction: str | None = Field(default=None, max_length=16)
    reopen_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


class CoReporter(SQLModel, table=True):
    """Another resident who reported the same thing and joined the ticket; gets the same notices."""

    __table_args__ = (UniqueConstraint("ticket_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    joined_at: datetime = Field(default_factory=utcnow)


class Assignment(SQLModel, table=True):
    """One department's share of a ticket: lead (主体责任) or cooperating (配合责任)."""

    __table_args__ = (Index("ix_assignment_department_state", "department_id", "state"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    department_id: int = Field(foreign_key="department.id")
    role: str = Field(max_length=16)
    state: str = Field(default=AssignmentState.PENDING, max_length=16)
    assigned_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    returned_at: datetime | None = None
    accept_due: datetime | None = None
    arrive_due: datetime | None = None
    resolve_due: datetime | None = None
    arrived_at: datetime | None = None
    arrival_latitude: float | None = None
    arrival_longitude: float | None = None
    arrival_waiver: str | None = Field(default=None, sa_type=Text)  # why an on-site matter was settled remotely


class Event(SQLModel, table=True):
    """Append-only history of a ticket or a call (网格呼叫); written in the same transaction as every change.
    `request_id` is the update (or web request) that caused it: a replayed update finds its events and changes
    nothing twice."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    call_id: int | None = Field(default=None, foreign_key="call.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=32)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    department_id: int | None = Field(default=None, foreign_key="department.id")
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    request_id: str | None = Field(default=None, max_length=40, index=True)


class Rating(SQLModel, table=True):
    """A reporter's answer to the callback (回访): solved? how satisfied? an optional comment."""

    __table_args__ = (UniqueConstraint("ticket_id", "member_id", "round"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    round: int = 0  # the ticket's reopen_count when asked: each 重办 is rated again
    solved: bool
    satisfaction: str = Field(max_length=16)  # satisfied / basic / dissatisfied
    comment: str | None = Field(default=None, sa_type=Text)
    at: datetime = Field(default_factory=utcnow)


class Extension(SQLModel, table=True):
    """A department's request to move its resolve deadline (延期); the dispatcher decides."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    assignment_id: int = Field(foreign_key="assignment.id")
    requested_by: int = Field(foreign_key="member.id")
    reason: str = Field(sa_type=Text)
    old_due: datetime
    new_due: datetime
    state: str = Field(default="pending", max_length=16)  # pending / approved / refused
    decided_by: int | None = Field(default=None, foreign_key="member.id")
    requested_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class Attachment(SQLModel, table=True):
    """Evidence kept by Telegram file id (no re-upload): a request's photos and voice, a result's photos."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    draft_id: int | None = Field(default=None, foreign_key="draft.id", index=True)
    kind: str = Field(default="photo", max_length=16)  # photo / voice / video / document
    purpose: str = Field(default="request", max_length=16)  # request / result
    file_id: str = Field(max_length=200)
    file_size: int | None = None
    duration: int | None = None  # seconds, for voice and video
    stored_path: str | None = Field(default=None, max_length=300)  # the county's own copy (GRIDBOT_MEDIA_DIR)
    media_group_id: str | None = Field(default=None, max_length=40)  # the album it came in (later photos join)
    created_at: datetime = Field(default_factory=utcnow)


class Draft(SQLModel, table=True):
    """A request the resident has written but not yet submitted (shown back with 提交 / 换一类 / 取消). `request_id`
    is the message it came from: handled twice (a replay after a crash), it is still one draft."""

    __table_args__ = (UniqueConstraint("member_id", "request_id", name="uq_draft_member_id_request_id"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    text: str = Field(sa_type=Text)
    latitude: float | None = None
    longitude: float | None = None
    matter_code: str | None = Field(default=None, max_length=16)
    confidence: float | None = None
    candidates: list[str] = Field(default_factory=list, sa_type=JSON)
    emergency: bool = False
    status: str = Field(default="open", max_length=16)  # open / submitted / cancelled
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    request_id: str | None = Field(default=None, max_length=40)
    kind: str = Field(default="request", max_length=16,  # request / call (a grid worker's 呼叫) / proxy (代办)
                      sa_column_kwargs={"server_default": "request"})
    department_code: str | None = Field(default=None, max_length=32)  # a call's department
    urgency: str | None = Field(default=None, max_length=16)  # a call's: urgent / normal
    on_behalf_of: int | None = Field(default=None, foreign_key="member.id")  # 代办: the resident
    call_id: int | None = Field(default=None, foreign_key="call.id")  # the call a call draft became
    grid_id: int | None = Field(default=None, foreign_key="grid.id")  # where it is, once known
    grid_source: str | None = Field(default=None, max_length=16)
    media_group_id: str | None = Field(default=None, max_length=40)  # the album it came with
    created_at: datetime = Field(default_factory=utcnow)
