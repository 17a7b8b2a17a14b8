"""Settings from the environment (and an optional .env file), validated in one place.

A wrong value stops start-up with one line naming the variable (ConfigError), never a traceback.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from bot.calendar import Limit
from bot.geo import GRID_NEAR_M

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


class ConfigError(Exception):
    """A setting is wrong; the message names the variable and says what is expected."""


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite:///var/gridbot.db"
    catalogue: Path = DATA / "catalogue.yaml"
    county: Path = DATA / "county.yaml"
    calendar: Path | None = None
    model: Path | None = None
    confidence_threshold: float = 0.5
    duplicate_window_days: int = 7
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    remind_share: float = 0.75
    escalate2_after: float = 1.0
    callback_reminder: str = "1d"
    callback_close: str = "3d"
    retention_days: int = 30
    private_interval: float = 1.0  # seconds between messages to one private chat (Telegram: about 1/s)
    sandbox_allowed: bool = True  # GRIDBOT_SANDBOX=0 (the Docker image): no token is an error, not the sandbox
    ops_chat_id: int | None = None  # where faults of ours are reported (besides the log)
    arrival_radius_m: float = 500.0  # 报到 farther than this from the call's place is marked out of range
    grid_near_m: float = GRID_NEAR_M  # a location outside every grid belongs to the nearest one this near
    call_urgent_respond: str = "10m"
    call_urgent_arrive: str = "30m"
    call_respond: str = "1h"
    call_arrive: str = "4h"  # a normal call of a matter without an arrival clock
    dispatch_limit: str = "2h"  # a ticket waiting in the command center (unclear, returned, a voice note)
    media_dir: Path | None = None  # keep the county's own copies of photos and recordings here
    reports_dir: Path = Path("var/reports")  # the scheduled reports' charts, until the sender has sent them
    media_max_mb: int = 2048
    instance: str = ""  # this process's name for its outbox leases (default: host name)
    daily_brief_at: time = time(8, 30)  # local time of the daily brief (covers the previous local day)
    monthly_ranking_at: tuple[int, time] = (1, time(9, 0))  # day of month (1–28) and local time: previous month
    cjk_font: Path | None = None  # the font charts set Chinese in (default: the first installed of bot/reports/fonts.py)
    satisfied_weight: float = 0.9  # 基本满意 counts this much of 满意 in 满意率 (bot/indicators)
    score_weights: str = "响应:0.1,解决:0.5,满意:0.4"  # the composite score's rates and weights
    rank_min_orders: int = 5  # fewer orders in the period: listed apart, not ranked
    rank_list_size: int = 3  # the red and black lists' length
    score_mode: str = "absolute"  # rankings: each unit's own rates, or "relative" (比值法 against the group's best)

    @property
    def sandbox(self) -> bool:
        """No token: run against the local Bot API double instead of Telegram."""
        return not self.token


_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; # comments; optional quotes. Real environment variables win."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ConfigError(f"{path}:{n}: expected KEY=VALUE, got {line!r}")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def load_settings(env: dict[str, str] | None = None, dotenv: Path | None = ROOT / ".env") -> Settings:
    values = read_dotenv(dotenv) if dotenv else {}
    values.update(os.environ if env is None else env)

    def get(name: str) -> str | None:
        v = values.get(name, "").strip()
        return v or None

    token = get("TELEGRAM_BOT_TOKEN")
    if token and not _TOKEN.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN: does not look like a bot token (digits:secret, from @BotFather)")
    base = get("TELEGRAM_API_BASE_URL") or Settings.api_base_url
    if not re.match(r"^https?://[^\s/]+", base):
        raise ConfigError(f"TELEGRAM_API_BASE_URL: expected an http(s) URL such as {Settings.api_base_url}, got {base!r}")
    db_url = get("DATABASE_URL") or Settings.database_url
    if not re.match(r"^(sqlite|postgres(ql)?)(\+\w+)?://", db_url):
        raise ConfigError("DATABASE_URL: expected sqlite:///path.db or postgresql://user:password@host/db, "
                          f"got {_without_password(db_url)!r}")

    def path(name: str, default: Path | None) -> Path | None:
        v = get(name)
        if v is None:
            return default
        p = Path(v)
        if not p.is_file():
            raise ConfigError(f"{name}: file not found: {v}")
        return p

    def number(name: str, default, kind, lo, hi):
        v = get(name)
        if v is None:
            return default
        try:
            n = kind(v)
        except ValueError:
            raise ConfigError(f"{name}: expected a number between {lo} and {hi}, got {v!r}") from None
        if not lo <= n <= hi:
            raise ConfigError(f"{name}: expected a number between {lo} and {hi}, got {v!r}")
        return n

    def choice(name: str, options: tuple[str, ...], default: str) -> str:
        v = (get(name) or default).strip().lower()
        if v not in options:
            raise ConfigError(f"{name}: expected one of {', '.join(options)}, got {v!r}")
        return v

    def limit(name: str, default: str) -> str:
        v = get(name) or default
        try:
            return str(Limit.parse(v))
        except ValueError:
            raise ConfigError(f"{name}: expected a limit such as 30m, 2h, 3d or 5wd, got {v!r}") from None

    def clock_time(name: str, text: str) -> time:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            raise ConfigError(f"{name}: expected a local time such as 08:30, got {text!r}")
        return time(int(m[1]), int(m[2]))

    def monthly(name: str, default: tuple[int, time]) -> tuple[int, time]:
        v = get(name)
        if v is None:
            return default
        day, _, at = v.partition(" ")
        if not day.isdigit() or not 1 <= int(day) <= 28 or not at.strip():
            raise ConfigError(f"{name}: expected a day of the month (1–28) and a local time such as '1 09:00', "
                              f"got {v!r}")
        return int(day), clock_time(name, at.strip())
    def weights(name: str, default: str) -> str:
        from bot.indicators.score import parse_weights  # no cycle: the indicators never import the settings

        v = get(name) or default
        try:
            return ",".join(f"{key}:{weight:g}" for key, weight in parse_weights(v))
        except ValueError as e:
            raise ConfigError(f"{name}: {e} (e.g. {default})") from None

    sandbox = (get("GRIDBOT_SANDBOX") or "auto").lower()
    if sandbox not in ("auto", "1", "0", "true", "false", "yes", "no"):
        raise ConfigError(f"GRIDBOT_SANDBOX: expected 1 (allowed when there is no token) or 0, got {sandbox!r}")
    return Settings(
        token=token,
        api_base_url=base.rstrip("/"),
        database_url=db_url,
        catalogue=path("GRIDBOT_CATALOGUE", Settings.catalogue),
        county=path("GRIDBOT_COUNTY", Settings.county),
        calendar=path("GRIDBOT_CALENDAR", None),
        model=path("GRIDBOT_MODEL", None),
        confidence_threshold=number("GRIDBOT_CONFIDENCE_THRESHOLD", Settings.confidence_threshold, float, 0.0, 1.0),
        duplicate_window_days=number("GRIDBOT_DUPLICATE_WINDOW_DAYS", Settings.duplicate_window_days, int, 0, 365),
        web_host=get("GRIDBOT_WEB_HOST") or Settings.web_host,
        web_port=number("GRIDBOT_WEB_PORT", Settings.web_port, int, 1, 65535),
        remind_share=number("GRIDBOT_REMIND_SHARE", Settings.remind_share, float, 0.05, 0.99),
        escalate2_after=number("GRIDBOT_ESCALATE2_AFTER", Settings.escalate2_after, float, 0.05, 10.0),
        callback_reminder=limit("GRIDBOT_CALLBACK_REMINDER", Settings.callback_reminder),
        callback_close=limit("GRIDBOT_CALLBACK_CLOSE", Settings.callback_close),
        retention_days=number("GRIDBOT_RETENTION_DAYS", Settings.retention_days, int, 1, 3650),
        sandbox_allowed=sandbox not in ("0", "false", "no"),
        ops_chat_id=number("GRIDBOT_OPS_CHAT_ID", None, int, -(10**15), 10**15),
        arrival_radius_m=number("GRIDBOT_ARRIVAL_RADIUS_M", Settings.arrival_radius_m, float, 10, 100_000),
        grid_near_m=number("GRIDBOT_GRID_NEAR_M", Settings.grid_near_m, float, 0, 5_000),
        call_urgent_respond=limit("GRIDBOT_CALL_URGENT_RESPOND", Settings.call_urgent_respond),
        call_urgent_arrive=limit("GRIDBOT_CALL_URGENT_ARRIVE", Settings.call_urgent_arrive),
        call_respond=limit("GRIDBOT_CALL_RESPOND", Settings.call_respond),
        call_arrive=limit("GRIDBOT_CALL_ARRIVE", Settings.call_arrive),
        dispatch_limit=limit("GRIDBOT_DISPATCH_LIMIT", Settings.dispatch_limit),
        media_dir=Path(get("GRIDBOT_MEDIA_DIR")) if get("GRIDBOT_MEDIA_DIR") else None,
        reports_dir=Path(get("GRIDBOT_REPORTS_DIR") or Settings.reports_dir),
        media_max_mb=number("GRIDBOT_MEDIA_MAX_MB", Settings.media_max_mb, int, 1, 10_000_000),
        instance=get("GRIDBOT_INSTANCE") or socket.gethostname()[:40],
        daily_brief_at=clock_time("GRIDBOT_DAILY_BRIEF_AT", get("GRIDBOT_DAILY_BRIEF_AT") or "08:30"),
        monthly_ranking_at=monthly("GRIDBOT_MONTHLY_RANKING_AT", Settings.monthly_ranking_at),
        cjk_font=path("GRIDBOT_CJK_FONT", None),
        satisfied_weight=number("GRIDBOT_SATISFIED_WEIGHT", Settings.satisfied_weight, float, 0.0, 1.0),
        score_weights=weights("GRIDBOT_SCORE_WEIGHTS", Settings.score_weights),
        rank_min_orders=number("GRIDBOT_RANK_MIN_ORDERS", Settings.rank_min_orders, int, 0, 100_000),
        rank_list_size=number("GRIDBOT_RANK_LIST_SIZE", Settings.rank_list_size, int, 0, 100),
        score_mode=choice("GRIDBOT_SCORE_MODE", ("absolute", "relative"), Settings.score_mode),
    )


def _without_password(url: str) -> str:
    """A database URL as it may appear in an error message: user and host, never the password."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)
