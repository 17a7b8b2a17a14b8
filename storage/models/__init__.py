"""The tables. One place for the schema; Alembic migrations under storage/migrations mirror it.

Telegram ids are 64-bit (groups look like -1001234567890), so every chat/user id column is BigInteger.
All datetimes are UTC-aware (sqlmodel's UTCDateTime rejects naive values); local time (Asia/Shanghai)
is only for display, ticket numbers and the working-day calendar.

One module per part of the schema; import the tables from here."""

from storage.models.calls import Call, CallRating
from storage.models.common import (
                                   AssignmentRole,
                                   AssignmentState,
                                   CallState,
                                   DepartmentKind,
                                   OutboxState,
                                   Role,
                                   TicketState,
                                   utcnow,
)
from storage.models.county import DailyCounter, Department, Grid, Invite, Matter, Member
from storage.models.delivery import Audit, Card, InboxUpdate, Outbox, PendingInput, ReportRun, Timer
from storage.models.tickets import Assignment, Attachment, CoReporter, Draft, Event, Extension, Rating, Ticket

__all__ = ["Assignment", "AssignmentRole", "AssignmentState", "Attachment", "Audit", "Call", "CallRating", "CallState", "Card", "CoReporter", "DailyCounter", "Department", "DepartmentKind", "Draft", "Event", "Extension", "Grid", "InboxUpdate", "Invite", "Matter", "Member", "Outbox", "OutboxState", "PendingInput", "Rating", "ReportRun", "Role", "Ticket", "TicketState", "Timer", "utcnow"]
