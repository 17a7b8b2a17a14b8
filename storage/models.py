"""The tables. One place for the schema; Alembic migrations under storage/migrations mirror it.

Telegram ids are 64-bit (groups look like -1001234567890), so every chat/user id column is BigInteger.
All datetimes are UTC-aware (sqlmodel's UTCDateTime rejects naive values); local time (Asia/Shanghai)
is only for display, ticket numbers and the working-day calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class DepartmentKind(StrEnum):
    COUNTY = "county"  # 县直部门 / 单位
    TOWNSHIP = "township"  # 镇街: 属地 role
    COMMAND = "command"  # 指挥中心 (dispatchers' chat)
    LEADERSHIP = "leadership"  # 领导督办群: last step of the escalation ladder


class Role(StrEnum):
    RESIDENT = "resident"
    GRID_WORKER = "grid_worker"
    STAFF = "staff"
    DISPATCHER = "dispatcher"
    ADMIN = "admin"


class TicketState(StrEnum):
    RECEIVED = "received"  # 受理: waiting for a dispatcher to pick the matter
    DISPATCHED = "dispatched"  # 已派单
    ACCEPTED = "accepted"  # 已签收
    RETURNED = "returned"  # 已退回: waiting for the dispatcher's decision
    RESOLVED = "resolved"  # 已办结: waiting for the resident's callback (回访)
    REOPENED = "reopened"  # 重办: back with the lead department, new clock
    RATED = "rated"  # 已评价 (closed with the resident's answer)
    CLOSED = "closed"  # 未评价 (closed without an answer)


class AssignmentRole(StrEnum):
    LEAD = "lead"  # 主体责任
    COOPERATE = "cooperate"  # 配合责任


class AssignmentState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"  # re-routed away by the dispatcher


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


class Member(SQLModel, table=True):
    """A Telegram user known to the bot, with one role."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_type=BigInteger, unique=True, index=True)
    name: str = Field(default="", max_length=100)
    role: str = Field(default=Role.RESIDENT, max_length=16)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    grid_id: int | None = Field(default=None, foreign_key="grid.id")
    phone: str | None = Field(default=None, max_length=32)
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
    active: bool = True


class DailyCounter(SQLModel, table=True):
    """Per-day sequence behind human-readable ticket numbers (20261126-0007)."""

    day: str = Field(primary_key=True, max_length=8)
    last: int = 0


class Ticket(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=16)
    state: str = Field(default=TicketState.RECEIVED, max_length=16, index=True)
    reporter_id: int = Field(foreign_key="member.id", index=True)
    source: str = Field(default=Role.RESIDENT, max_length=16)
    grid_id: int | None = Field(default=None, foreign_key="grid.id")
    matter_code: str | None = Field(default=None, foreign_key="matter.code")
    text: str = Field(sa_type=Text)
    photo_file_id: str | None = Field(default=None, max_length=200)
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

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
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


class Event(SQLModel, table=True):
    """Append-only history of a ticket; written in the same transaction as every change."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=32)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    department_id: int | None = Field(default=None, foreign_key="department.id")
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent: Telegram refused for good (blocked, chat not found)


class Outbox(SQLModel, table=True):
    """A message the bot owes someone, written in the transaction that caused it; the sender delivers it.

    `buttons` is rows of [label, callback_data]; `edit_of` makes it an edit of an earlier row's message.
    """

    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_sent", "chat_id", "sent_message_id"),
        Index("ix_outbox_heads", "state", "chat_id", "id"),  # each chat's oldest pending row, per sweep
    )
    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    kind: str = Field(max_length=32)
    text: str = Field(sa_type=Text)
    buttons: list[list[list[str]]] | None = Field(default=None, sa_type=JSON)
    edit_of: int | None = Field(default=None, foreign_key="outbox.id")
    state: str = Field(default=OutboxState.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    sent_message_id: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = Field(default=None, max_length=500)


class Draft(SQLModel, table=True):
    """A request the resident has written but not yet submitted (shown back with 提交 / 换一类 / 取消)."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    text: str = Field(sa_type=Text)
    photo_file_id: str | None = Field(default=None, max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    matter_code: str | None = Field(default=None, max_length=16)
    confidence: float | None = None
    candidates: list[str] = Field(default_factory=list, sa_type=JSON)
    emergency: bool = False
    status: str = Field(default="open", max_length=16)  # open / submitted / cancelled
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    created_at: datetime = Field(default_factory=utcnow)


class PendingInput(SQLModel, table=True):
    """The bot asked someone for a text (退回理由, 办结结果, …) and waits for their reply."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    user_id: int = Field(sa_type=BigInteger)
    kind: str = Field(max_length=32)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    prompt_message_id: int | None = Field(default=None, sa_type=BigInteger)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)


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


class Timer(SQLModel, table=True):
    """A due time of a ticket's clock. The source of truth for reminders, escalation and callbacks;
    APScheduler only drives the sweep that claims due rows."""

    __table_args__ = (Index("ix_timer_due", "fired_at", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    stage: str = Field(max_length=16)  # accept / arrive / resolve / callback / extension
    step: str = Field(max_length=16)  # remind / escalate / escalate2 / ask / ask_again / close
    due_at: datetime
    fired_at: datetime | None = None
    cancelled: bool = False


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
