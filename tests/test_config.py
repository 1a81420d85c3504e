"""The configuration: the example file parses to the defaults; mistakes are named."""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path

import pytest

from bot.config import Config, ConfigError, load_config, parse_config

ROOT = Path(__file__).parent.parent


def test_example_config_is_the_default() -> None:
    with (ROOT / "config.example.toml").open("rb") as fh:
        config = parse_config(tomllib.load(fh), env={})
    assert config == Config()
    assert config.work.prompt_time == time(9, 0)


def test_token_from_environment_wins() -> None:
    config = parse_config({"telegram": {"token": "file"}}, env={"WALLCHART_TOKEN": "env"})
    assert config.telegram.token == "env"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"telegram": {"tokn": "x"}}, "unknown keys: tokn"),
        ({"city": {"timezone": "Mars/Base"}}, "unknown timezone"),
        ({"plan": {"steps": [{"kind": "x"}]}}, "days_before"),
    ],
)
def test_mistakes_are_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(raw, env={})


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(tmp_path / "nope.toml")
