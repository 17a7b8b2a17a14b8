"""What the application owes people: messages addressed to a member or a department, never to a chat.

A change writes its `Outbox` rows in its own transaction (`owe`), so a notice is never lost and never sent for
a change that rolled back. Which chat, which button encoding, which transport: decided at delivery
(bot/sender.py resolves the address, handlers/keyboard.py encodes the buttons). A member without Telegram (a
web or Open311 reporter) is addressed the same way; the sender marks what it cannot deliver `no_channel`.

Buttons are domain buttons: `[label, action, subject id, argument or None]`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Outbox, PendingInput

MEMBER, DEPARTMENT, SUPERVISOR, CHAT = "member", "department", "supervisor", "chat"
Button = list[Any]  # [label, action, subject id, argument or None]


def to_member(member_id: int) -> str:
    return f"{MEMBER}:{member_id}"


def to_department(department_id: int) -> str:
    """The department's group chat (its staff)."""
    return f"{DEPARTMENT}:{department_id}"


def to_supervisor(department_id: int) -> str:
    """The chat of the department's supervising leader (分管领导), for 督办."""
    return f"{SUPERVISOR}:{department_id}"


def parse_recipient(recipient: str) -> tuple[str, int]:
    kind, _, ident = recipient.partition(":")
    return kind, int(ident)


def button(label: str, action: str, subject_id: int, arg: str | None = None) -> Button:
    return [label, action, subject_id, arg]


def owe(s: AsyncSession, recipient: str, text: str, now: datetime, *, kind: str = "notice",
        ticket_id: int | None = None, buttons: list[list[Button]] | None = None, media: dict | None = None,
        options: dict | None = None, card_id: int | None = None) -> Outbox:
    """Owe `recipient` a message (in the caller's transaction)."""
    row = Outbox(recipient=recipient, ticket_id=ticket_id, card_id=card_id, kind=kind, text=text,
                 buttons=buttons or None, media=media or None, options=options or None, created_at=now,
                 next_attempt_at=now)
    s.add(row)
    return row


async def ask(s: AsyncSession, member_id: int, text: str, now: datetime, *, kind: str, ticket_id: int | None,
              placeholder: str, data: dict | None = None) -> Outbox:
    """Owe a member a question they answer by replying to it (e.g. the dispatcher's question to a reporter).
    The question is recorded with the message that carries it, so the reply finds it once it is delivered."""
    row = owe(s, to_member(member_id), text, now, kind="question", ticket_id=ticket_id,
              options={"force_reply": placeholder})
    await s.flush()
    s.add(PendingInput(member_id=member_id, kind=kind, ticket_id=ticket_id, outbox_id=row.id, data=data or {},
                       created_at=now))
    return row
