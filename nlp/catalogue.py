"""The responsibility catalogue (县乡"属地管理"事项主体责任和配合责任清单): departments and matters.

The catalogue is a YAML file (see ``data/catalogue.yaml``). :func:`load_catalogue` validates it completely and
raises :class:`CatalogueError` listing *every* problem, each prefixed by the file and the entry it concerns, so
that an editor can fix a broken catalogue in one pass. :func:`check_catalogue` returns the same list instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from nlp.taxonomy import TAXONOMY

#: placeholder usable in ``lead``/``cooperate``: the ticket's own township (属地), resolved at routing time
TOWNSHIP = "township"
#: the clock stages a matter may set; ``accept`` and ``resolve`` are mandatory, ``arrive`` iff onsite
CLOCK_STAGES = ("accept", "arrive", "resolve", "callback")
DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "catalogue.yaml"

SUPPORTED_VERSION = 1
_DEPT_CODE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
# Matter codes travel in Telegram callback data (64 bytes in total), hence the 12-character cap.
_MATTER_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,11}$")
#: the one grammar of time limits, everywhere (catalogue clocks, settings, the working-day calendar): a positive
#: number and a unit — m minutes, h hours, d calendar days, wd working days ("30m", "2h", "1.5d", "5wd")
LIMIT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(wd|m|h|d)\s*$", re.IGNORECASE)
_MATTER_KEYS = frozenset(
    {"code", "name", "category", "lead", "cooperate", "keywords", "clocks", "onsite", "emergency", "result_photo"}
)
_DEPT_KEYS = frozenset({"code", "name", "aliases", "group"})
#: the peer groups a county department is ranked in (bot/indicators): county departments, or utilities (water, power,
#: gas, heating, telecom: enterprises with a public-service duty, judged among themselves)
DEPARTMENT_GROUPS = ("county", "utility")
#: keyword weights are evidence units of the keyword model; beyond this a typo (30 for 3.0) is likely
MAX_KEYWORD_WEIGHT = 10.0


@dataclass(frozen=True)
class Department:
    """A county department (or enterprise with a public-service duty) that can lead or cooperate."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()  # what people call it (城管, 环保, 交警 …): how a grid worker names it in a 呼叫
    group: str = "county"  # its peer group in the rankings: "county" (县直部门) or "utility" (水电气热讯)


@dataclass(frozen=True)
class Matter:
    """One line of the responsibility list: what the matter is, who leads, who helps, how fast."""

    code: str
    name: str
    category1: str
    category2: str
    lead: str  # department code or TOWNSHIP
    cooperate: tuple[str, ...]  # department codes and/or TOWNSHIP
    keywords: Mapping[str, float]  # word -> weight (synonyms included)
    clocks: Mapping[str, str]  # stage -> "2h" | "3d" | "5wd"
    onsite: bool
    emergency: bool
    result_photo: bool = False  # 办结 must carry a photo of the result (处置后照片)


@dataclass(frozen=True)
class Catalogue:
    """A validated catalogue. Mappings keep the file's order."""

    departments: Mapping[str, Department]
    matters: Mapping[str, Matter]
    path: Path

    def matter(self, code: str) -> Matter:
        """The matter with this code; ``KeyError`` if unknown."""
        return self.matters[code]


class CatalogueError(Exception):
    """The catalogue cannot be used; ``problems`` lists every problem found, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# libyaml's parser is ten times faster than PyYAML's (0.05 s vs 0.6 s for the shipped catalogue): start-up.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKeyLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that records duplicate mapping keys, which PyYAML would otherwise silently overwrite.

    A duplicated keyword or matter field in a hand-edited list is almost always a mistake worth reporting.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                self.duplicates.append((key_node.start_mark.line + 1, str(key)))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_clock(limit: str) -> tuple[float, str]:
    """``"5wd"`` -> ``(5.0, "wd")``, ``"30m"`` -> ``(30.0, "m")``; raises ``ValueError`` for anything else."""
    match = LIMIT_RE.match(limit) if isinstance(limit, str) else None
    if not match or not float(match.group(1)) > 0:
        raise ValueError(f"bad time limit {limit!r}: expected a positive number and m, h, d or wd, e.g. 30m, 2h, 5wd")
    return float(match.group(1)), match.group(2).lower()


def _read_yaml(path: Path) -> tuple[Any, list[str]]:
    """Parse the file; return the document and problems (unreadable file, syntax errors, duplicate keys)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [f"{path}: file not found"]
    except UnicodeDecodeError:
        return None, [f"{path}: not UTF-8 text"]
    except OSError as exc:
        return None, [f"{path}: cannot read: {exc.strerror}"]
    loader = _DuplicateKeyLoader(text)
    try:
        doc = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return None, [f"{path}: YAML syntax error{where}: {getattr(exc, 'problem', None) or exc}"]
    finally:
        loader.dispose()
    problems = [f"{path}: line {line}: duplicate key {key!r}" for line, key in loader.duplicates]
    return doc, problems


def _parse_departments(raw: Any, where: str, problems: list[str]) -> dict[str, Department]:
    departments: dict[str, Department] = {}
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: 'departments' must be a non-empty list")
        return departments
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            problems.append(f"{where}: departments[{i}]: must be a mapping with code and name")
            continue
        code, name = entry.get("code"), entry.get("name")
        label = f"{where}: departments[{i}] ({code})"
        for key in sorted(set(entry) - _DEPT_KEYS, key=str):
            problems.append(f"{label}: unknown field {key!r}")
        if not isinstance(code, str) or not _DEPT_CODE.match(code):
            problems.append(f"{label}: code must be short lowercase ASCII (letters, digits, _), got {code!r}")
            continue
        if code == TOWNSHIP:
            problems.append(f"{label}: code {TOWNSHIP!r} is reserved for the ticket's own township")
            continue
        if code in departments:
            problems.append(f"{label}: duplicate department code")
            continue
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{label}: name is missing")
            continue
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            problems.append(f"{label}: aliases must be a list of names")
            continue
        group = entry.get("group", "county")
        if group not in DEPARTMENT_GROUPS:
            problems.append(f"{label}: group must be one of {', '.join(DEPARTMENT_GROUPS)}, got {group!r}")
            continue
        departments[code] = Department(code=code, name=name.strip(), aliases=tuple(a.strip() for a in aliases),
                                       group=group)
    return departments


def _parse_matter(
    entry: Any, label: str, departments: Mapping[str, Department], problems: list[str]
) -> Matter | None:
    """Validate one matter entry; append every problem found and return the matter only if it has none."""
    start = len(problems)

    def bad(message: str) -> None:
        problems.append(f"{label}: {message}")

    for key in sorted(set(entry) - _MATTER_KEYS, key=str):
        bad(f"unknown field {key!r}")
    code = entry.get("code")
    if not isinstance(code, str) or not _MATTER_CODE.match(code):
        bad(f"code must be 1-12 ASCII letters/digits/-/_, got {code!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        bad("name is missing")

    category = entry.get("category")
    cat1 = cat2 = ""
    if not (isinstance(category, list) and len(category) == 2 and all(isinstance(c, str) for c in category)):
        bad("category must be [first-level, second-level]")
    else:
        cat1, cat2 = category
        if cat1 not in TAXONOMY:
            bad(f"unknown first-level category {cat1!r}")
        elif cat2 not in TAXONOMY[cat1]:
            bad(f"{cat2!r} is not a second-level category of {cat1!r}")

    def known(dept: Any) -> bool:
        return dept == TOWNSHIP or (isinstance(dept, str) and dept in departments)

    lead = entry.get("lead")
    if not known(lead):
        bad(f"lead {lead!r} is not a department code or {TOWNSHIP!r}")
    cooperate_raw = entry.get("cooperate", [])
    cooperate: tuple[str, ...] = ()
    if not isinstance(cooperate_raw, list):
        bad("cooperate must be a list")
    else:
        cooperate = tuple(cooperate_raw)
        for dept in cooperate:
            if not known(dept):
                bad(f"cooperating department {dept!r} is not a department code or {TOWNSHIP!r}")
        if len(set(cooperate)) != len(cooperate):
            bad("cooperate lists a department twice")
        if lead in cooperate:
            bad(f"lead {lead!r} is also listed as cooperating")

    keywords: dict[str, float] = {}
    raw_keywords = entry.get("keywords")
    if not isinstance(raw_keywords, dict) or not raw_keywords:
        bad("keywords must be a non-empty mapping word: weight")
    else:
        for word, weight in raw_keywords.items():
            if not isinstance(word, str) or not word.strip():
                bad(f"keyword {word!r} must be text (quote numbers such as \"110\")")
            elif isinstance(weight, bool) or not isinstance(weight, (int, float)) or not (
                0 < weight <= MAX_KEYWORD_WEIGHT and math.isfinite(weight)
            ):
                bad(f"keyword {word!r}: weight must be a number in (0, {MAX_KEYWORD_WEIGHT:g}], got {weight!r}")
            else:
                keywords[word.strip().lower()] = float(weight)

    onsite, emergency = entry.get("onsite"), entry.get("emergency")
    result_photo = entry.get("result_photo", False)
    if not isinstance(result_photo, bool):
        bad("result_photo must be true or false")
    if not isinstance(onsite, bool):
        bad("onsite must be true or false")
    if not isinstance(emergency, bool):
        bad("emergency must be true or false")

    clocks: dict[str, str] = {}
    raw_clocks = entry.get("clocks")
    if not isinstance(raw_clocks, dict):
        bad("clocks must be a mapping stage: limit")
    else:
        for stage, limit in raw_clocks.items():
            if stage not in CLOCK_STAGES:
                bad(f"unknown clock stage {stage!r} (stages: {', '.join(CLOCK_STAGES)})")
                continue
            try:
                parse_clock(str(limit))
            except ValueError:
                bad(f"clock {stage}: {limit!r} is not a limit like 30m, 2h, 3d or 5wd")
                continue
            clocks[stage] = str(limit)
        for stage in ("accept", "resolve"):
            if stage not in raw_clocks:
                bad(f"clock {stage!r} is required")
        if isinstance(onsite, bool) and onsite != ("arrive" in raw_clocks):
            bad("clock 'arrive' must be set exactly when onsite is true")

    if len(problems) > start:
        return None
    return Matter(
        code=code,
        name=name.strip(),
        category1=cat1,
        category2=cat2,
        lead=lead,
        cooperate=cooperate,
        keywords=MappingProxyType(keywords),
        clocks=MappingProxyType(clocks),
        onsite=onsite,
        emergency=emergency,
        result_photo=result_photo,
    )


def _parse(path: Path) -> tuple[Catalogue | None, list[str]]:
    doc, problems = _read_yaml(path)
    if doc is None and problems:
        return None, problems
    where = str(path)
    if not isinstance(doc, dict):
        return None, problems + [f"{where}: the file must be a mapping with version, departments and matters"]
    if doc.get("version") != SUPPORTED_VERSION:
        problems.append(f"{where}: version must be {SUPPORTED_VERSION}, got {doc.get('version')!r}")
    for key in sorted(set(doc) - {"version", "departments", "matters"}, key=str):
        problems.append(f"{where}: unknown top-level field {key!r}")
    departments = _parse_departments(doc.get("departments"), where, problems)

    matters: dict[str, Matter] = {}
    names: dict[str, str] = {}
    raw_matters = doc.get("matters")
    if not isinstance(raw_matters, list) or not raw_matters:
        problems.append(f"{where}: 'matters' must be a non-empty list")
        raw_matters = []
    for i, entry in enumerate(raw_matters):
        if not isinstance(entry, dict):
            problems.append(f"{where}: matters[{i}]: must be a mapping")
            continue
        label = f"{where}: matters[{i}] ({entry.get('code')})"
        matter = _parse_matter(entry, label, departments, problems)
        if matter is None:
            continue
        if matter.code in matters:
            problems.append(f"{label}: duplicate matter code")
        elif matter.name in names:
            problems.append(f"{label}: same name as matter {names[matter.name]}")
        else:
            matters[matter.code] = matter
            names[matter.name] = matter.code
    if problems:
        return None, problems
    return (
        Catalogue(departments=MappingProxyType(departments), matters=MappingProxyType(matters), path=path),
        [],
    )


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE) -> Catalogue:
    """Load and fully validate a catalogue; raise :class:`CatalogueError` listing all problems."""
    catalogue, problems = _parse(Path(path))
    if catalogue is None:
        raise CatalogueError(problems)
    return catalogue


def check_catalogue(path: Path | str = DEFAULT_CATALOGUE) -> list[str]:
    """Every problem of the catalogue at ``path``, one line each; empty if it is fine."""
    return _parse(Path(path))[1]
