"""The `wallchart` command line: demo, invite, import, migrate, and run without a token."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main

DATA = Path(__file__).parent / "data"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config whose store is a fresh SQLite file, and no token anywhere."""
    monkeypatch.delenv("WALLCHART_TOKEN", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "city.sqlite3"}"\n')
    return path


def test_demo_shows_the_city_and_tomorrows_prompts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--db", str(tmp_path / "demo.sqlite3")]) == 0
    out = capsys.readouterr().out
    assert "示范城市已写入" in out and "12 个单位" in out
    assert "今日待办" in out and "时间表" in out
    assert "机器人将发出" in out and "今日提醒" in out
    assert "wallchart tick --db" in out


def test_run_without_a_token_runs_the_demo(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--config", str(config), "run"]) == 0
    out = capsys.readouterr().out
    assert "No Telegram token" in out and "示范城市已写入" in out


def test_import_then_invite(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "import", str(DATA / "ledger-example.xlsx")]) == 0
    assert "导入" in capsys.readouterr().out
    assert main(["--config", str(config), "invite", "青山镇", "专员"]) == 0
    code, link, about = capsys.readouterr().out.strip().splitlines()
    assert len(code) == 8 and link.endswith(f"?start={code}") and "青山镇" in about
    assert main(["--config", str(config), "invite", "无此镇", "officer"]) == 1
    assert "找不到单位" in capsys.readouterr().err


def test_bad_ledger_reports_rows_and_imports_nothing(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,industry,investment,unit\nQ1,甲,新能源,十二万,城东\n")
    assert main(["--config", str(config), "import", str(bad), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "row 2" in err and "十二万" in err and "Nothing was imported" in err
    missing = tmp_path / "missing.csv"
    missing.write_text("code,name\nQ1,甲\n")
    assert main(["--config", str(config), "import", str(missing)]) == 1
    assert "缺少必填列" in capsys.readouterr().err


def test_migrate_and_a_bad_config(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "migrate"]) == 0
    broken = tmp_path / "broken.toml"
    broken.write_text("[city]\ntimezone = 'Nowhere/Land'\n")
    assert main(["--config", str(broken), "migrate"]) == 2
    assert "unknown timezone" in capsys.readouterr().err
