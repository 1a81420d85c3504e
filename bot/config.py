"""Configuration: a TOML file read into typed, frozen dataclasses, one per section.

The token may come from the environment (WALLCHART_TOKEN) so that the file can be shared.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.escalation import Thresholds
from storage.rules import PlanStep
from storage.workdays import WorkCalendar

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
    # Flow state is flushed to the store this often (seconds); a clean stop flushes at once.
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
    # Problem category → the unit that answers it by default.
    routing: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ROUTING))
    plan: tuple[PlanStep, ...] = DEFAULT_PLAN


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _build(cls: type[Any], values: dict[str, Any], where: str) -> Any:
    known = set(cls.__dataclass_fields__)
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"[{where}] unknown keys: {', '.join(sorted(unknown))}")
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return cls(**converted)
    except TypeError as exc:
        raise ConfigError(f"[{where}] {exc}") from exc


def _plan(raw: dict[str, Any]) -> tuple[PlanStep, ...]:
    steps = raw.get("plan", {}).get("steps")
    if steps is None:
        return DEFAULT_PLAN
    try:
        return tuple(
            PlanStep(str(s["kind"]), str(s["title"]), int(s["days_before"])) for s in steps
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"[[plan.steps]] needs kind, title and days_before: {exc}") from exc


def parse_config(raw: dict[str, Any], env: dict[str, str] | None = None) -> Config:
    """Build the config from parsed TOML; the environment's token wins over the file's."""
    env = dict(os.environ) if env is None else env
    telegram = dict(_section(raw, "telegram"))
    if env.get(TOKEN_ENV):
        telegram["token"] = env[TOKEN_ENV]
    work = dict(_section(raw, "work"))
    if isinstance(work.get("prompt_time"), str):
        work["prompt_time"] = time.fromisoformat(work["prompt_time"])
    routing = dict(DEFAULT_ROUTING)
    routing.update({str(k): str(v) for k, v in _section(raw, "routing").items()})
    config = Config(
        telegram=_build(TelegramConfig, telegram, "telegram"),
        store=_build(StoreConfig, _section(raw, "store"), "store"),
        city=_build(CityConfig, _section(raw, "city"), "city"),
        work=_build(WorkConfig, work, "work"),
        escalation=_build(Thresholds, _section(raw, "escalation"), "escalation"),
        scheduler=_build(SchedulerConfig, _section(raw, "scheduler"), "scheduler"),
        routing=routing,
        plan=_plan(raw),
    )
    try:
        config.city.tz  # noqa: B018  (fail at start-up, not at the first prompt)
    except Exception as exc:
        raise ConfigError(f"[city] unknown timezone {config.city.timezone!r}") from exc
    return config


def load_config(path: str | Path | None = None) -> Config:
    """Read the config file: PATH, else $WALLCHART_CONFIG, else ./config.toml if present."""
    chosen = path or os.environ.get(CONFIG_ENV) or "config.toml"
    p = Path(chosen)
    if not p.exists():
        if path is not None:
            raise ConfigError(f"config file not found: {p}")
        return parse_config({})
    with p.open("rb") as fh:
        return parse_config(tomllib.load(fh))
