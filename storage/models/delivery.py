"""What the bot owes and keeps: the outbox, live cards, questions waiting for a reply, clocks, the durable
inbox, the audit of refusals and the scheduled reports' runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.models.common import OutboxState, utcnow


class Outbox(SQLModel, table=True):
    """A message owed to a person or a department, written in the transaction that caused it.

    `recipient` is who, never a chat: "member:<id>", "department:<id>" (its group) or "supervisor:<id>" (its
    分管领导's chat). The sender resolves the chat at delivery and records it with the message id. `buttons` are
    domain buttons, rows of [label, action, subject id, argument]; the Telegram edge encodes them. `media` is
    evidence sent before the text ({"photos": [file ids], "location": [lat, lon], "voice": file id}, or a
    scheduled report's chart {"photo_file": path}); `options` holds delivery details
    such as {"force_reply": placeholder}. A row with `card_id` posts or edits that card.
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
