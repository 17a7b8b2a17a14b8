"""Shared by the tables: the UTC clock and the enumerations of states and roles."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum


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


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent: Telegram refused for good (blocked, chat not found)
    NO_CHANNEL = "no_channel"  # the recipient has no chat (a reporter without Telegram, an unbound department)


class CallState(StrEnum):
    CALLED = "called"  # 已呼叫: waiting for the department's 响应
    RESPONDED = "responded"  # 已响应: someone is on the way
    ARRIVED = "arrived"  # 已报到: on site
    DISPUTED = "disputed"  # 报到有异议: the caller disputes the arrival; the dispatcher decides
    RESOLVED = "resolved"  # 已办结: waiting for the caller to confirm (事不完、人不走)
    CLOSED = "closed"  # 已完成: the caller confirmed; rated (一哨一考核)
    CANCELLED = "cancelled"  # 已撤回 by the caller before anyone arrived
