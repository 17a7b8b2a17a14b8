"""Optional Bot API spec for the Bot API double: decode and check requests against it.

The spec is the machine-readable Bot API description (``api.min.json`` from
PaulSonOfLars/telegram-bot-api-spec): ``methods -> {name: {fields: [{name, types, required}],
returns: [...]}}``.  The double runs without it; given one, it becomes strict: every request is
checked for unknown methods, unknown or missing parameters and wrong scalar types, so a test can
prove that the bot only sends what Telegram documents.

Real Telegram silently ignores unknown parameters; the strictness here is on purpose, to catch
typos and parameters that PTB or our code invented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ApiSpec", "UploadedFile", "SpecProblem", "decode_value", "missing_param_message"]


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (what PTB sends for ``InputFile``)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class SpecProblem:
    """One way a request breaks the spec; ``status`` is the HTTP code Telegram would answer."""

    status: int
    description: str


def missing_param_message(name: str) -> str:
    """Telegram's wording for a missing parameter ("chat_id is empty", "message text is empty")."""
    if name == "text":
        return "Bad Request: message text is empty"
    return f"Bad Request: {name} is empty"


def decode_value(raw: Any, types: list[str] | None) -> Any:
    """Decode one form/query value the way Telegram does.

    PTB JSON-encodes every non-string value (``"123"``, ``"true"``, ``'{"inline_keyboard":..}'``),
    so anything whose type is not plain ``String`` is parsed as JSON; a value that is not valid
    JSON stays a string (e.g. ``chat_id="@channel"``).  Values from JSON bodies are already typed.
    """
    if not isinstance(raw, str) or types == ["String"]:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _matches(value: Any, type_name: str) -> bool:
    """Whether ``value`` may stand for one spec type; object types only need to be objects."""
    if type_name.startswith("Array of "):
        return isinstance(value, list)
    if type_name == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "Boolean":
        return isinstance(value, bool)
    if type_name == "String":
        # Telegram coerces numbers to strings (e.g. a numeric callback_query_id in a JSON body).
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    if type_name == "InputFile":
        return isinstance(value, UploadedFile | str)
    return isinstance(value, dict)


class ApiSpec:
    """The parsed spec: which methods exist, their fields and return types."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._methods: dict[str, dict[str, Any]] = data.get("methods", {})
        self.version: str = str(data.get("version", "unknown"))

    @classmethod
    def load(cls, path: Path) -> ApiSpec:
        """Read a spec file (``api.min.json`` or the indented ``api.json``)."""
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def methods(self) -> list[str]:
        """Every method name the spec defines."""
        return list(self._methods)

    def has_method(self, method: str) -> bool:
        """Whether the Bot API defines ``method`` (names are case-sensitive here)."""
        return method in self._methods

    def field_types(self, method: str) -> dict[str, list[str]]:
        """Parameter name -> list of allowed type names."""
        return {f["name"]: list(f["types"]) for f in self._methods.get(method, {}).get("fields", [])}

    def returns(self, method: str) -> list[str]:
        """The documented return types, e.g. ``["Message", "Boolean"]``."""
        return list(self._methods.get(method, {}).get("returns", []))

    def decode(self, method: str, raw: dict[str, Any]) -> dict[str, Any]:
        """Decode every raw value of a request using the method's field types."""
        types = self.field_types(method)
        return {name: decode_value(value, types.get(name)) for name, value in raw.items()}

    def check(self, method: str, params: dict[str, Any]) -> SpecProblem | None:
        """The first problem of a decoded request, or None when it follows the spec."""
        if not self.has_method(method):
            return SpecProblem(404, "Not Found")
        fields = self._methods[method].get("fields", [])
        known = {f["name"] for f in fields}
        for name in params:
            if name not in known:
                return SpecProblem(400, f"Bad Request: unknown parameter {name}")
        for field in fields:
            name = field["name"]
            # Emptiness is the method's business (setWebhook(url="") is legal), presence is ours.
            if field["required"] and params.get(name) is None:
                return SpecProblem(400, missing_param_message(name))
            if name in params and not any(_matches(params[name], t) for t in field["types"]):
                wanted = " or ".join(field["types"])
                return SpecProblem(400, f'Bad Request: field "{name}" must be of type {wanted}')
        return None


SPEC_RELATIVE = Path("shared/data/telegram-bot-api/api.min.json")
SPEC_FALLBACKS = (Path("/work") / SPEC_RELATIVE,)


def find_spec(start: Path | None = None) -> Path | None:
    """The Bot API spec (JSON) to validate requests against, if this machine has one: $GRIDBOT_BOTAPI_SPEC, else
    `shared/data/telegram-bot-api/api.min.json` beside any folder above `start` (the repository), else the
    workplace's copy — so a clone anywhere validates whenever the spec is present. Never needed to run."""
    import os

    env = os.environ.get("GRIDBOT_BOTAPI_SPEC")
    if env:
        return Path(env) if Path(env).is_file() else None
    here = (start or Path(__file__)).resolve()
    for folder in here.parents:
        if (folder / SPEC_RELATIVE).is_file():
            return folder / SPEC_RELATIVE
    return next((p for p in SPEC_FALLBACKS if p.is_file()), None)
