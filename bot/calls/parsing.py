"""What a grid worker writes to call a department: "呼叫城管 人民路菜市场门口占道经营", "/call 环保 河道里有人倒垃圾",
"呼叫 河道里有人倾倒建筑垃圾" (no department named: the catalogue decides). Departments are found by their names as
people say them (the catalogue's aliases), their full names and their codes; an unknown name gets the closest."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from nlp.catalogue import TOWNSHIP, Catalogue

_PREFIX = re.compile(r"^\s*(?:[/／](?:call|呼叫)(?:@\w+)?|呼叫)\s*", re.IGNORECASE)
_LOOKS_LIKE_A_NAME = re.compile(r"^(\S{1,12}?(?:局|队|所|公司|中心|委|办|站|院|部|处|科))(?:[\s，,：:。]|$)")
_SEPARATORS = " \t，,：:。;；"
TOWNSHIP_NAMES = ("街道办", "街道", "镇政府", "镇街", "乡镇", "属地", "镇里", "街道上")


@dataclass(frozen=True)
class CallWords:
    department: str | None  # a catalogue code, TOWNSHIP for the grid's own township, None: not named
    text: str  # what is to be done there
    unknown_name: str | None = None  # a department named that the catalogue does not know


def is_call(text: str | None) -> bool:
    return bool(text) and bool(_PREFIX.match(text))


class Departments:
    """Every name a department goes by → its code; longest names first, so 交警大队 wins over 交警."""

    def __init__(self, catalogue: Catalogue) -> None:
        names: dict[str, str] = {}
        for code, dept in catalogue.departments.items():
            for name in (dept.name, code, *dept.aliases):
                names.setdefault(name.lower(), code)
        for name in TOWNSHIP_NAMES:
            names.setdefault(name, TOWNSHIP)
        self.names = dict(sorted(names.items(), key=lambda item: (-len(item[0]), item[0])))
        self.catalogue = catalogue

    def parse(self, message: str) -> CallWords:
        body = _PREFIX.sub("", message or "", count=1).strip()
        lowered = body.lower()
        for name, code in self.names.items():
            if lowered.startswith(name):
                return CallWords(code, body[len(name):].strip(_SEPARATORS))
        looks = _LOOKS_LIKE_A_NAME.match(body)
        if looks:
            return CallWords(None, body[looks.end():].strip(_SEPARATORS), unknown_name=looks.group(1))
        return CallWords(None, body)

    def closest(self, name: str, n: int = 3) -> list[str]:
        """The codes of the departments whose names are most like `name` (best first, each once)."""
        matches = difflib.get_close_matches(name.lower(), list(self.names), n=n * 3, cutoff=0.3)
        return list(dict.fromkeys(self.names[m] for m in matches if self.names[m] != TOWNSHIP))[:n]
