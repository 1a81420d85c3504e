"""The configuration: the example file lists every key and parses to the defaults; every
mistake is named with its file and key or line."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from bot.config import PLAN_STEP_KEYS, Config, ConfigError, load_config, parse_config
from storage.models import ProblemCategory

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "config.example.toml"


def _example() -> dict[str, Any]:
    with EXAMPLE.open("rb") as fh:
        return tomllib.load(fh)


def test_example_config_is_the_default() -> None:
    config = parse_config(_example(), env={})
    assert config == Config()
    assert config.work.prompt_time == time(9, 0)


def missing_from_example(raw: dict[str, Any]) -> list[str]:
    """Every key of the config dataclasses that the parsed example RAW does not set."""
    missing = []
    for section in dataclasses.fields(Config):
        value = raw.get(section.name)
        default = getattr(Config(), section.name)
        if value is None:
            missing.append(f"[{section.name}]")
        elif dataclasses.is_dataclass(default):
            missing += [
                f"[{section.name}] {f.name}"
                for f in dataclasses.fields(default)
                if f.name not in value
            ]
        elif section.name == "routing":
            missing += [f"[routing] {c.value}" for c in ProblemCategory if c.value not in value]
        elif section.name == "plan":
            steps = value.get("steps") or [{}]
            missing += [f"[[plan.steps]] {k}" for k in PLAN_STEP_KEYS if k not in steps[0]]
        else:
            raise AssertionError(f"a new kind of section: teach this test [{section.name}]")
    return missing


def test_example_lists_every_key() -> None:
    assert missing_from_example(_example()) == []


def test_the_walk_finds_a_missing_key() -> None:
    """The test above can fail: drop a key from the example and it is named."""
    raw = _example()
    del raw["telegram"]["base_file_url"]
    del raw["routing"]["finance"]
    del raw["scheduler"]
    assert missing_from_example(raw) == [
        "[telegram] base_file_url",
        "[scheduler]",
        "[routing] finance",
    ]


def test_token_from_environment_wins() -> None:
    config = parse_config({"telegram": {"token": "file"}}, env={"WALLCHART_TOKEN": "env"})
    assert config.telegram.token == "env"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"telegram": {"tokn": "x"}}, r"\[telegram\] unknown keys: tokn"),
        ({"telegarm": {"token": "x"}}, r"unknown sections: \[telegarm\]"),
        ({"city": {"timezone": "Mars/Base"}}, "unknown timezone"),
        ({"plan": {"steps": [{"kind": "x"}]}}, "days_before"),
        ({"plan": {"steps": [{"kind": "x", "title": "y", "days": 3}]}}, "has: days, kind"),
        ({"plan": {"step": []}}, r"\[plan\] unknown keys: step"),
        ({"work": {"prompt_time": "9am"}}, r"\[work\] prompt_time: '9am' is not a time"),
        ({"work": {"prompt_time": "25:00"}}, "prompt_time: '25:00' is not a time"),
        ({"work": {"prompt_time": 9}}, "prompt_time: 9 is not a time"),
        ({"work": {"prompt_time": time(9, 30)}}, None),
        ({"work": {"soon_days": "7"}}, r"\[work\] soon_days: must be a whole number"),
        ({"work": {"soon_days": -1}}, "soon_days: must not be negative"),
        ({"work": {"extra_holidays": ["2026-10-32"]}}, r"extra_holidays\[0\]: '2026-10-32'"),
        ({"work": {"extra_holidays": "2026-10-08"}}, "extra_holidays: must be a list"),
        ({"telegram": {"admins": [12, "me"]}}, r"admins\[1\]: must be a whole number"),
        ({"telegram": {"rate_limit": "yes"}}, "rate_limit: must be true or false"),
        ({"scheduler": {"drain_interval": "2s"}}, "drain_interval: must be a number"),
        ({"escalation": {"late_days": [1, "3"]}}, r"late_days\[1\]: must be a whole number"),
        ({"city": {"name": 7}}, r"\[city\] name: must be text in quotes"),
        ({"routing": {"lnd": "自然资源局"}}, "unknown problem category 'lnd'"),
        ({"store": {"url": "nonsense"}}, r"\[store\] url: 'nonsense' is not a database URL"),
        ({"store": {"url": "mysql://u@h/db"}}, "runs on sqlite or postgresql, not mysql"),
        ({"work": "09:00"}, r"\[work\] must be a table"),
    ],
)
def test_mistakes_are_named(raw: dict[str, Any], message: str | None) -> None:
    if message is None:
        parse_config(raw, env={})  # a control: a good value passes
        return
    with pytest.raises(ConfigError, match=message):
        parse_config(raw, env={})


def test_an_aware_prompt_time_is_refused() -> None:
    from datetime import UTC

    with pytest.raises(ConfigError, match="without a zone"):
        parse_config({"work": {"prompt_time": time(9, tzinfo=UTC)}}, env={})


def test_values_as_people_write_them(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        "[work]\n"
        'prompt_time = "8:30"\n'
        'extra_holidays = ["2026-10-09", 2026-10-10]\n'
        "[scheduler]\n"
        "drain_interval = 3\n"
        "[telegram]\n"
        "admins = [123]\n"
    )
    config = load_config(path)
    assert config.work.prompt_time == time(8, 30)
    assert config.work.extra_holidays == (date(2026, 10, 9), date(2026, 10, 10))
    assert config.scheduler.drain_interval == 3.0
    assert isinstance(config.scheduler.drain_interval, float)
    assert config.telegram.admins == (123,)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.toml \(named by --config\)"):
        load_config(tmp_path / "nope.toml")


def test_missing_file_named_by_the_variable_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WALLCHART_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"gone.toml \(named by \$WALLCHART_CONFIG\)"):
        load_config()


def test_no_file_anywhere_means_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WALLCHART_CONFIG", raising=False)
    monkeypatch.delenv("WALLCHART_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert load_config() == Config()


def test_the_variable_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "city.toml"
    path.write_text('[city]\nname = "青山市"\n')
    monkeypatch.setenv("WALLCHART_CONFIG", str(path))
    assert load_config().city.name == "青山市"


def test_file_mistakes_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[work]\nsoon_days = 7\nprompt_time = \n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}, line 3, column 15: not valid TOML:")
    path.write_text("[telegram]\ntokn = 'x'\n")
    with pytest.raises(ConfigError, match=rf"^{path}: \[telegram\] unknown keys: tokn$"):
        load_config(path)
    path.write_bytes("[city]\nname = '青山市'\n".encode("gb18030"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_token_in_a_file_others_read_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, mode: int
) -> None:
    import logging

    monkeypatch.delenv("WALLCHART_TOKEN", raising=False)
    path = tmp_path / "config.toml"
    path.write_text('[telegram]\ntoken = "123456:VERY-SECRET"\n')
    path.chmod(mode)
    with caplog.at_level(logging.WARNING):
        assert load_config(path).telegram.token == "123456:VERY-SECRET"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        f"{path} holds the Telegram token and its group or others can read it "
        f"(mode 0{mode:o}): run `chmod 600 {path}`, or give the token in $WALLCHART_TOKEN"
    ]
    assert "SECRET" not in caplog.text


@pytest.mark.parametrize(
    ("mode", "toml", "env_token"),
    [
        (0o600, '[telegram]\ntoken = "123456:VERY-SECRET"\n', ""),
        (0o400, '[telegram]\ntoken = "123456:VERY-SECRET"\n', ""),
        (0o644, '[telegram]\nusername = "wallchart_bot"\n', ""),
        (0o644, '[telegram]\ntoken = ""\n', ""),
        # The environment's token is the one used: the file's is not the bot's secret.
        (0o644, '[telegram]\ntoken = "123456:OLD"\n', "123456:FROM-ENV"),
    ],
    ids=["600", "400", "no token", "empty token", "token from the environment"],
)
def test_no_warning_for_a_private_file_or_no_token_in_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    mode: int,
    toml: str,
    env_token: str,
) -> None:
    import logging

    if env_token:
        monkeypatch.setenv("WALLCHART_TOKEN", env_token)
    else:
        monkeypatch.delenv("WALLCHART_TOKEN", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(toml)
    path.chmod(mode)
    with caplog.at_level(logging.WARNING):
        load_config(path)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
