"""Buttons at the Telegram edge: domain buttons ([label, action, subject id, argument]) become inline keyboards,
and a pressed button's callback_data becomes a `Press` again — encoded and checked in this one place.

callback_data is at most 64 bytes: every payload here is short ASCII (a code, an id, a short argument such as a
matter code), so the limit is never reached. Data that does not decode is forged or stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

# action → short code. Actions on tickets, drafts (a resident's unsent request) and prompts (a reply waiting
# for 转告群众 / 仅内部备注).
CODES = {
    # department cards
    "accept": "acc", "return": "ret", "resolve": "res", "arrive": "arr", "extend": "ext",
    # command center
    "dispatch": "dsp", "uphold": "uph", "browse": "cat", "approve_extension": "exa", "refuse_extension": "exr",
    # the resident's callback (回访)
    "solved": "cb", "satisfaction": "sat",
    # drafts
    "submit": "ok", "other": "alt", "pick": "pick", "human": "hum", "cancel": "x", "join": "join",
    # a plain message taken as the answer to the bot's question: make it a request after all
    "as_request": "req",
    # where a draft is: the grid, a township's grids (page), back to the townships
    "grid": "gr", "township": "tw", "places": "pl",
    # a reply to a card: relay it to the reporters or keep it internal
    "relay": "nr", "internal": "ni",
    # 网格呼叫: the grid worker's draft, the department's call card, the caller, the command center
    "send_call": "sc", "urgency": "urg", "call_department": "cdp",
    "respond": "rsp", "arrive_call": "car", "resolve_call": "crs",
    "confirm_arrival": "cfa", "dispute": "dsu", "confirm_done": "cfd", "reject_done": "rjd", "rate_call": "crt",
    "uphold_arrival": "upa", "reject_arrival": "rja",
    # the command center's tools: 无效工单, 并单, 改派 (category, then matter), the /open and /overdue lists
    "invalidate": "inv", "merge": "mrg", "reassign": "rsg", "reassign_to": "rst", "list": "ls",
}  # fmt: skip
ACTIONS = {code: action for action, code in CODES.items()}
_DATA = re.compile(r"^([a-z]{1,4}):(\d{1,12})(?::([A-Za-z0-9_-]{1,16}))?$")
LIMIT = 64


@dataclass(frozen=True)
class Press:
    """A decoded button press."""

    action: str
    id: int
    arg: str | None = None


def encode(action: str, subject_id: int, arg: str | None = None) -> str:
    data = f"{CODES[action]}:{subject_id}" + (f":{arg}" if arg else "")
    if len(data.encode()) > LIMIT or not _DATA.match(data):
        raise ValueError(f"cannot encode button {action} {subject_id} {arg!r}")
    return data


def decode(data: str | None) -> Press | None:
    m = _DATA.match(data or "")
    if not m or m[1] not in ACTIONS:
        return None
    return Press(ACTIONS[m[1]], int(m[2]), m[3])


def pattern(*actions: str) -> str:
    """A CallbackQueryHandler pattern for these actions."""
    return rf"^({'|'.join(CODES[a] for a in actions)}):"


def inline(buttons: list[list[list[Any]]] | None) -> InlineKeyboardMarkup | None:
    """Rows of domain buttons → an inline keyboard. A 2-item button [label, data] is raw callback data
    (rows written before the domain buttons existed); data "url:<URL>" makes a URL button."""
    if not buttons:
        return None
    rows = []
    for row in buttons:
        keys = []
        for item in row:
            label = item[0]
            if len(item) == 2:
                data = item[1]
                keys.append(InlineKeyboardButton(label, url=data[4:]) if data.startswith("url:")
                            else InlineKeyboardButton(label, callback_data=data))
            else:
                keys.append(InlineKeyboardButton(label, callback_data=encode(item[1], int(item[2]), item[3])))
        rows.append(keys)
    return InlineKeyboardMarkup(rows)


def markup(buttons: list[list[list[Any]]] | None, options: dict | None = None):
    """The reply markup of an outbox row: its buttons, or a ForceReply for a question."""
    if options and options.get("force_reply") is not None:
        return ForceReply(selective=True, input_field_placeholder=str(options["force_reply"])[:64] or None)
    return inline(buttons)
