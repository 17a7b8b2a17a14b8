"""Button payloads (Telegram callback_data), built and parsed in one place.

callback_data is at most 64 bytes; every payload here is ASCII and short (ids and matter codes),
so the limit is never reached. Anything that does not parse is treated as forged or stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Ticket actions on a department card / dispatcher card.
ACCEPT = "acc"  # 签收
RETURN = "ret"  # 退回
RESOLVE = "res"  # 办结
DISPATCH = "dsp"  # dispatcher picks a matter: dsp:<ticket>:<matter>
UPHOLD = "uph"  # dispatcher upholds a return: back to the same department
ARRIVE = "arr"  # 报到 (on-site arrival, with location)
EXTEND = "ext"  # 申请延期
APPROVE = "exa"  # dispatcher approves an extension
REFUSE = "exr"  # dispatcher refuses an extension
SOLVED = "cb"  # callback: cb:<ticket>:y|n
SATISFIED = "sat"  # callback: sat:<ticket>:<y|n><satisfied|basic|dissatisfied initial>
BROWSE = "cat"  # dispatcher browses matters by category: cat:<ticket>[:<category index>]
# Draft actions in the resident's private chat.
SUBMIT = "ok"
OTHER = "alt"  # 换一类: show other matters
PICK = "pick"  # pick:<draft>:<matter>
HUMAN = "hum"  # let a dispatcher decide
CANCEL = "x"
JOIN = "join"  # join:<draft>:<ticket>: become a co-reporter of an open duplicate

_PAYLOAD = re.compile(r"^(t|d):([a-z]{1,4}):(\d{1,12})(?::([A-Za-z0-9_-]{1,16}))?$")


@dataclass(frozen=True)
class Payload:
    scope: str  # "t" ticket, "d" draft
    action: str
    id: int
    arg: str | None = None

    def encode(self) -> str:
        data = f"{self.scope}:{self.action}:{self.id}" + (f":{self.arg}" if self.arg else "")
        assert len(data.encode()) <= 64, data
        return data


def ticket(action: str, ticket_id: int, arg: str | None = None) -> str:
    return Payload("t", action, ticket_id, arg).encode()


def draft(action: str, draft_id: int, arg: str | None = None) -> str:
    return Payload("d", action, draft_id, arg).encode()


def parse(data: str | None) -> Payload | None:
    m = _PAYLOAD.match(data or "")
    if not m:
        return None
    return Payload(m[1], m[2], int(m[3]), m[4])
