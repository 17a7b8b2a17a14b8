"""The tables. One place for the schema; Alembic migrations under storage/migrations mirror it.

Telegram ids are 64-bit (groups look like -1001234567890), so every chat/user id column is BigInteger.
All datetimes are UTC-aware (sqlmodel's UTCDateTime rejects naive values); local time (Asia/Shanghai)
is only for display, ticket numbers and the working-day calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Text, UniqueConstraint, text
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
    INVALID = "invalid"  # 无效工单: closed by the command center with a reason (spam, not a request); counted apart
    MERGED = "merged"  # 并单: a duplicate merged into another ticket (its reporters follow that one)


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


class DailyCounter(SQLModel, table=True):
    """Per-day sequence behind human-readable numbers: tickets 20261126-0007, calls H20261126-0003."""

    day: str = Field(primary_key=True, max_length=16)
    last: int = 0


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


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent: Telegram refused for good (blocked, chat not found)
    NO_CHANNEL = "no_channel"  # the recipient has no chat (a reporter without Telegram, an unbound department)


class Outbox(SQLModel, table=True):
    """A message owed to a person or a department, written in the transaction that caused it.

    `recipient` is who, never a chat: "member:<id>", "department:<id>" (its group) or "supervisor:<id>" (its
    分管领导's chat). The sender resolves the chat at delivery and records it with the message id. `buttons` are
    domain buttons, rows of [label, action, subject id, argument]; the Telegram edge encodes them. `media` is
    evidence sent before the text ({"photos": [file ids], "location": [lat, lon], "voice": file id}); `options`
    holds delivery details such as {"force_reply": placeholder}. A row with `card_id` posts or edits that card.
    """

    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_sent", "chat_id", "sent_message_id"),
        Index("ix_outbox_heads", "state", "recipient", "id"),  # each recipient's oldest pending row, per pass
    )
    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=40)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    card_id: int | None = Field(default=None, foreign_key="card.id")
    kind: str = Field(max_length=32)
    text: str = Field(sa_type=Text)
    buttons: list[list[list[Any]]] | None = Field(default=None, sa_type=JSON)
    media: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    options: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    state: str = Field(default=OutboxState.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    sent_message_id: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = Field(default=None, max_length=500)
    claimed_by: str | None = Field(default=None, max_length=64)  # the sender instance holding the lease


class Card(SQLModel, table=True):
    """A live card about a subject (a ticket today) in someone's chat: the department's card, the command
    center's 待分派 card, an extension request. Its text and buttons are re-rendered after every change, so a
    card always shows the current state and only the buttons allowed now. The sender records where it landed."""

    __table_args__ = (
        UniqueConstraint("subject_kind", "subject_id", "key"),
        Index("ix_card_message", "chat_id", "message_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(default="ticket", max_length=16)
    subject_id: int
    key: str = Field(max_length=40)  # e.g. "department:5", "dispatch", "extension:3"
    recipient: str = Field(max_length=40)
    text: str = Field(default="", sa_type=Text)
    buttons: list[list[list[Any]]] | None = Field(default=None, sa_type=JSON)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # what rendering needs beyond the ticket
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


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


class PendingInput(SQLModel, table=True):
    """The bot asked someone for a text (退回理由, 办结结果, …) and waits for their reply. Asked directly, the
    question's message id is known at once; asked through the outbox (`outbox_id`), once it is delivered."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    user_id: int | None = Field(default=None, sa_type=BigInteger)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    kind: str = Field(max_length=32)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    prompt_message_id: int | None = Field(default=None, sa_type=BigInteger)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
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
    """A due time of a subject's clock (a ticket today, a call next). The source of truth for reminders,
    escalation and callbacks; APScheduler only drives the sweep that claims due rows. Only live rows (not fired,
    not cancelled) are in the due index, so the sweep never scans the history."""

    __table_args__ = (
        # the predicate as each dialect renders the sweep's condition, so the planner uses the index
        Index("ix_timer_live_due", "due_at", sqlite_where=text("fired_at IS NULL AND cancelled = 0"),
              postgresql_where=text("fired_at IS NULL AND cancelled = false")),
        Index("ix_timer_subject", "subject_kind", "subject_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(default="ticket", max_length=16)
    subject_id: int
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    stage: str = Field(max_length=16)  # accept / arrive / resolve / callback
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


class InboxUpdate(SQLModel, table=True):
    """An update from Telegram, stored before it is confirmed (the next getUpdates offset, or the webhook's 200)
    and handled from here at least once, in order. Nothing a person sends is lost by a crash."""

    update_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    payload: dict[str, Any] = Field(sa_type=JSON)
    received_at: datetime = Field(default_factory=utcnow)
    handled_at: datetime | None = Field(default=None, index=True)
    attempts: int = 0


class Audit(SQLModel, table=True):
    """A refused action: who tried what, where, and why it was refused (for the command center's review)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    action: str = Field(max_length=64)
    subject: str | None = Field(default=None, max_length=64)
    reason: str = Field(sa_type=Text)


class CallState(StrEnum):
    CALLED = "called"  # 已呼叫: waiting for the department's 响应
    RESPONDED = "responded"  # 已响应: someone is on the way
    ARRIVED = "arrived"  # 已报到: on site
    DISPUTED = "disputed"  # 报到有异议: the caller disputes the arrival; the dispatcher decides
    RESOLVED = "resolved"  # 已办结: waiting for the caller to confirm (事不完、人不走)
    CLOSED = "closed"  # 已完成: the caller confirmed; rated (一哨一考核)
    CANCELLED = "cancelled"  # 已撤回 by the caller before anyone arrived


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


class ReportRun(SQLModel, table=True):
    """A scheduled report (the daily brief, the monthly ranking) for one period: written when it falls due, fired
    once (bot/reports/schedule.py). `fired_at` is set in the transaction that wrote the report's messages, so a
    crash before that commit fires it again and a commit means it never fires twice. A run overtaken by a newer
    one of its kind before it could fire (the bot was down for days) is `skipped`."""

    __table_args__ = (UniqueConstraint("kind", "period_start"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # daily_brief / monthly_ranking
    period_start: datetime
    period_end: datetime
    due_at: datetime = Field(index=True)
    fired_at: datetime | None = None
    skipped: bool = False
