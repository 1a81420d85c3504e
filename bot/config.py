"""Configuration: a TOML file read into typed, frozen dataclasses, one per section.

The token may come from the environment (WALLCHART_TOKEN) so that the file can be shared.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from storage.escalation import Thresholds
from storage.models import ProblemCategory
from storage.ranking import Weights
from storage.rules import PlanStep
from storage.workdays import WorkCalendar

log = logging.getLogger("wallchart.config")

TOKEN_ENV = "WALLCHART_TOKEN"
CONFIG_ENV = "WALLCHART_CONFIG"


class ConfigError(ValueError):
    """The configuration file is wrong; the message says where."""


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = ""
    base_file_url: str = ""
    # Used only to print t.me deep links from the command line; the bot asks Telegram itself.
    username: str = ""
    admins: tuple[int, ...] = ()
    rate_limit: bool = True
    max_retries: int = 3
    # No longer used: a flow's state is written with each update (bot.persistence). Still
    # read, so that an older config file keeps working.
    persistence_interval: float = 2.0


@dataclass(frozen=True)
class StoreConfig:
    url: str = "sqlite:///wallchart.sqlite3"


@dataclass(frozen=True)
class CityConfig:
    name: str = "示范市"
    timezone: str = "Asia/Shanghai"
    service_center: str = "招商服务中心"
    industries: tuple[str, ...] = ("新能源", "新材料", "生物医药", "高端装备制造", "现代服务业")
    # Other names ledgers give a key industry (光伏 = "新能源"); the ledger import reads them.
    industry_aliases: dict[str, str] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class WorkConfig:
    soon_days: int = 7
    stale_days: int = 14
    invite_days: int = 7
    # Working days a unit has to answer a problem.
    reply_days: int = 3
    # Working days a unit has to carry out a leader's instruction that names no deadline.
    instruction_days: int = 5
    prompt_time: time = time(9, 0)
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()

    def calendar(self) -> WorkCalendar:
        """The working-day calendar: China's, with this config's extra days."""
        return WorkCalendar(self.extra_holidays, self.extra_workdays)


@dataclass(frozen=True)
class SchedulerConfig:
    # Only one process of a city's bots should run the scheduler.
    enabled: bool = True
    # Seconds between two drains of the outbox.
    drain_interval: float = 2.0
    drain_batch: int = 200
    max_attempts: int = 8
    # Telegram allows about one message a second to one private chat.
    private_interval: float = 1.0


@dataclass(frozen=True)
class ServeConfig:
    """How the bot process serves: long polling or a webhook, its HTTP server, and how a
    standby process waits for the active one (bot.lease)."""

    # Empty: long polling. A URL (https://bot.example.gov.cn/telegram): Telegram posts the
    # updates there (`wallchart run --webhook URL` sets it too).
    webhook_url: str = ""
    # The HTTP server for the webhook and /health. Port 0: none in polling mode, 8080 in
    # webhook mode.
    listen: str = "127.0.0.1"
    port: int = 0
    # Telegram's X-Telegram-Bot-Api-Secret-Token, 1-256 of A-Z a-z 0-9 _ -; empty: one
    # derived from the bot token, the same in every process.
    secret_token: str = ""
    # Seconds between a standby process's tries to become the active one.
    standby_interval: float = 5.0
    # Members whose updates are handled side by side (each member's in order); 0: 8 on
    # PostgreSQL, 1 on SQLite (one writer).
    lanes: int = 0


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class MeetingConfig:
    """The weekly promotion meeting: its briefing is sent by itself before it."""

    enabled: bool = True
    # "monday" … "sunday"; on a day off, the working day before it.
    weekday: str = "monday"
    # Local time at which the briefing and the wall chart go out.
    time: time = time(8, 30)

    @property
    def weekday_number(self) -> int:
        """0 for Monday … 6 for Sunday, as date.weekday() counts."""
        return WEEKDAYS.index(self.weekday)


DEFAULT_ROUTING: dict[str, str] = {
    "land": "自然资源局",
    "permits": "行政审批局",
    "utilities": "住建局",
    "finance": "财政局",
    "other": "招商服务中心",
}

DEFAULT_PLAN: tuple[PlanStep, ...] = (
    PlanStep("site", "选址", 120),
    PlanStep("land", "土地摘牌", 90),
    PlanStep("eia", "环评批复", 60),
    PlanStep("permits", "施工许可", 30),
    PlanStep("utilities", "水电气接入", 14),
    PlanStep("groundbreaking", "开工建设", 0),
)


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    city: CityConfig = field(default_factory=CityConfig)
    work: WorkConfig = field(default_factory=WorkConfig)
    # [escalation] is read straight into the rules' own thresholds.
    escalation: Thresholds = field(default_factory=Thresholds)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    # [rank] is read straight into the ranking's own weights.
    rank: Weights = field(default_factory=Weights)
    meeting: MeetingConfig = field(default_factory=MeetingConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)
    # Problem category → the unit that answers it by default.
    routing: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ROUTING))
    plan: tuple[PlanStep, ...] = DEFAULT_PLAN


# The sections of the file and the dataclass each one is read into; [routing] and [plan]
# have shapes of their own.
SECTIONS: dict[str, type[Any]] = {
    "telegram": TelegramConfig,
    "store": StoreConfig,
    "city": CityConfig,
    "work": WorkConfig,
    "escalation": Thresholds,
    "scheduler": SchedulerConfig,
    "rank": Weights,
    "meeting": MeetingConfig,
    "serve": ServeConfig,
}
PLAN_STEP_KEYS = ("kind", "title", "days_before")
_BACKENDS = ("sqlite", "postgresql", "postgres")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _parse_time(where: str, value: Any) -> time:
    # A TOML local time arrives as a time; "9:00" is what people write, so take it too.
    if isinstance(value, str) and (m := _TIME.fullmatch(value.strip())):
        hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    if isinstance(value, time):
        if value.tzinfo is None:
            return value
        raise ConfigError(
            f"{where}: give the local time without a zone ([city] timezone is the zone)"
        )
    raise ConfigError(f'{where}: {_shown(value)} is not a time of day; write it like "09:00"')


def _parse_date(where: str, value: Any) -> date:
    # TOML has dates of its own; a quoted "2026-10-08" is the same mistake-free intent.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where}: {_shown(value)} is not a date; write it like 2026-10-08")


def _convert(where: str, kind: Any, value: Any) -> Any:
    """VALUE as the field's type KIND, or ConfigError naming WHERE and what was expected."""
    if get_origin(kind) is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: must be a list, like [...], not {_shown(value)}")
        item = get_args(kind)[0]
        return tuple(_convert(f"{where}[{i}]", item, v) for i, v in enumerate(value))
    if get_origin(kind) is dict:
        if not isinstance(value, dict):
            raise ConfigError(f'{where}: must be a table, like {{ a = "b" }}, not {_shown(value)}')
        item = get_args(kind)[1]
        return {str(k): _convert(f"{where} {k}", item, v) for k, v in value.items()}
    if kind is time:
        return _parse_time(where, value)
    if kind is date:
        return _parse_date(where, value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: must be true or false, not {_shown(value)}")
    if kind in (int, float):
        ok = isinstance(value, int) or (kind is float and isinstance(value, float))
        if not ok or isinstance(value, bool):
            expected = "a whole number" if kind is int else "a number"
            raise ConfigError(f"{where}: must be {expected}, not {_shown(value)}")
        # No setting counts backwards: a negative number is always a slip.
        if value < 0:
            raise ConfigError(f"{where}: must not be negative, not {value}")
        return kind(value)
    if kind is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: must be text in quotes, not {_shown(value)}")
    raise TypeError(f"no reader for {kind!r}")  # a new field type needs a branch above


def _build(cls: type[Any], values: dict[str, Any], where: str) -> Any:
    hints = get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"[{where}] unknown keys: {', '.join(sorted(unknown))}")
    converted = {k: _convert(f"[{where}] {k}", hints[k], v) for k, v in values.items()}
    return cls(**converted)


def _routing(raw: dict[str, Any]) -> dict[str, str]:
    routing = dict(DEFAULT_ROUTING)
    categories = [c.value for c in ProblemCategory]
    for key, unit in _section(raw, "routing").items():
        if key not in categories:
            known = ", ".join(categories)
            raise ConfigError(f"[routing] unknown problem category {key!r} (known: {known})")
        routing[key] = _convert(f"[routing] {key}", str, unit)
    return routing


def _plan(raw: dict[str, Any]) -> tuple[PlanStep, ...]:
    plan = _section(raw, "plan")
    unknown = set(plan) - {"steps"}
    if unknown:
        raise ConfigError(f"[plan] unknown keys: {', '.join(sorted(unknown))}")
    steps = plan.get("steps")
    if steps is None:
        return DEFAULT_PLAN
    if not isinstance(steps, list):
        raise ConfigError("[[plan.steps]] must be tables, each with kind, title and days_before")
    result = []
    for n, step in enumerate(steps, start=1):
        where = f"[[plan.steps]] number {n}"
        if not isinstance(step, dict) or set(step) != set(PLAN_STEP_KEYS):
            got = ", ".join(sorted(step)) if isinstance(step, dict) else _shown(step)
            raise ConfigError(f"{where} needs kind, title and days_before (has: {got})")
        result.append(
            PlanStep(
                _convert(f"{where} kind", str, step["kind"]),
                _convert(f"{where} title", str, step["title"]),
                _convert(f"{where} days_before", int, step["days_before"]),
            )
        )
    return tuple(result)


def _check_store(store: StoreConfig) -> None:
    """Refuse a URL that no engine could open, while the file and key can still be named."""
    try:
        backend = make_url(store.url).get_backend_name()
    except ArgumentError:
        raise ConfigError(
            f'[store] url: {store.url!r} is not a database URL; write "sqlite:///FILE" '
            'or "postgresql://user@host/dbname"'
        ) from None
    if backend not in _BACKENDS:
        raise ConfigError(f"[store] url: Wallchart runs on sqlite or postgresql, not {backend}")


def parse_config(raw: dict[str, Any], env: dict[str, str] | None = None) -> Config:
    """Build the config from parsed TOML; the environment's token wins over the file's."""
    env = dict(os.environ) if env is None else env
    unknown = set(raw) - set(SECTIONS) - {"routing", "plan"}
    if unknown:
        raise ConfigError(f"unknown sections: {', '.join(f'[{k}]' for k in sorted(unknown))}")
    values = {name: dict(_section(raw, name)) for name in SECTIONS}
    if env.get(TOKEN_ENV):
        values["telegram"]["token"] = env[TOKEN_ENV]
    sections = {name: _build(cls, values[name], name) for name, cls in SECTIONS.items()}
    config = Config(**sections, routing=_routing(raw), plan=_plan(raw))
    _check_store(config.store)
    try:
        config.city.tz  # noqa: B018  (fail at start-up, not at the first prompt)
    except Exception as exc:
        raise ConfigError(f"[city] unknown timezone {config.city.timezone!r}") from exc
    if config.meeting.weekday not in WEEKDAYS:
        raise ConfigError(
            f"[meeting] weekday: {config.meeting.weekday!r} is not one of {', '.join(WEEKDAYS)}"
        )
    secret = config.serve.secret_token
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise ConfigError("[serve] secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -")
    for alias, industry in config.city.industry_aliases.items():
        if industry not in config.city.industries:
            raise ConfigError(
                f"[city] industry_aliases {alias}: {industry!r} is not one of [city] industries"
            )
    return config


def config_path(path: str | Path | None = None) -> tuple[Path, str | None]:
    """The file to read and, when it must exist, who named it (the option or the variable)."""
    if path:
        return Path(path), "--config"
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]), f"${CONFIG_ENV}"
    return Path("config.toml"), None


def load_config(path: str | Path | None = None) -> Config:
    """Read the config file: PATH, else $WALLCHART_CONFIG, else ./config.toml if present.

    A file named by PATH or by the variable must exist; ./config.toml may be absent (the
    defaults apply). Every mistake raises ConfigError with the file and the key or line.
    """
    p, named_by = config_path(path)
    if not p.exists():
        if named_by is not None:
            raise ConfigError(f"config file not found: {p} (named by {named_by})")
        return parse_config({})
    try:
        with p.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says where at the end of its message: "... (at line 3, column 7)".
        m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", str(exc), re.DOTALL)
        where = f"{p}, line {m[2]}, column {m[3]}" if m else str(p)
        raise ConfigError(f"{where}: not valid TOML: {m[1] if m else exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot be read: {exc.strerror or exc}") from None
    try:
        config = parse_config(raw)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None
    warning = loose_permissions(p, raw)
    if warning:
        log.warning("%s", warning)
    return config


def loose_permissions(path: Path, raw: dict[str, Any]) -> str | None:
    """The warning for a config file at PATH (parsed as RAW) that holds the bot token and
    that the file's group or others may read; None when the token is not in the file, is
    overridden by $WALLCHART_TOKEN, or the file is private. The warning never shows the
    token."""
    telegram = raw.get("telegram")
    in_file = isinstance(telegram, dict) and bool(telegram.get("token"))
    if not in_file or os.environ.get(TOKEN_ENV) or os.name == "nt":
        return None
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"{path} holds the Telegram token and its group or others can read it "
        f"(mode {mode:04o}): run `chmod 600 {path}`, or give the token in ${TOKEN_ENV}"
    )
