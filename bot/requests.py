"""Which request is being handled — a Telegram update today, a web or Open311 call later — so that handling it
twice (a replay after a crash, a retry after Telegram failed us) changes nothing twice: events and drafts
carry its id. A handler whose answer could not be delivered says so (`retry_later`), and the inbox handles the
request again later."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Handling:
    request_id: str
    retry: bool = False  # the answer did not reach the person (Telegram unreachable): handle it again later


_current: ContextVar[Handling | None] = ContextVar("gridbot_request", default=None)


def current() -> str | None:
    """The id of the request being handled in this task, e.g. "tg:123456789"; None for the clocks."""
    handling_ = _current.get()
    return handling_.request_id if handling_ else None


def retry_later() -> None:
    handling_ = _current.get()
    if handling_ is not None:
        handling_.retry = True


@contextmanager
def handling(request_id: str) -> Iterator[Handling]:
    state = Handling(request_id)
    token = _current.set(state)
    try:
        yield state
    finally:
        _current.reset(token)


def telegram(update_id: int) -> str:
    return f"tg:{update_id}"
