"""The `wallchart` command line: demo, invite, import, export, report, migrate, tick, and run
without a token; what every sub-command says about a wrong configuration or a store it cannot
open; the demo never overwriting a store that holds anything but its own untouched city.

The commands run on this run's backend (`config`: an SQLite file, or a PostgreSQL database
with WALLCHART_TEST_STORE=postgresql). What only SQLite has stays on SQLite in both runs:
`demo` and `--db` (they take an SQLite file), `backup` (SQLite's online backup), and a
store file that is not there yet (`sqlite_config`)."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy

import bot.cli
from bot.cli import main, store_name
from bot.config import parse_config
from bot.texts import CATALOG
from storage.db import make_engine
from storage.models import Role
from tests.stores import NewStore, on_postgresql

DATA = Path(__file__).parent / "data"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Every sub-command, with what it needs to get as far as reading the config and the store.
COMMANDS = [
    ["run"],
    ["migrate"],
    ["import", str(DATA / "ledger-example.csv")],
    ["invite", "青山镇", "专员"],
    ["export", "ledger-out.xlsx"],
    ["tick"],
    ["tick", "--dry-run"],
    ["report"],
    ["demo"],
]


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither a token nor a config file from the machine the tests run on."""
    monkeypatch.delenv("WALLCHART_TOKEN", raising=False)
    monkeypatch.delenv("WALLCHART_CONFIG", raising=False)


@pytest.fixture(autouse=True)
def _in_a_folder_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`demo` and `report` write into the folder they run in: a test's own, not the repo."""
    monkeypatch.chdir(tmp_path)


async def fresh_store(new_store: NewStore, name: str) -> str:
    """A store for the commands to open: on SQLite a file not made yet (the command creates
    it), on PostgreSQL a migrated empty database (migrating one anew takes seconds)."""
    return await new_store(name, migrated=on_postgresql())


@pytest.fixture
async def store(new_store: NewStore) -> str:
    """The URL of this test's store, on this run's backend."""
    return await fresh_store(new_store, "city")


@pytest.fixture
def config(tmp_path: Path, store: str) -> Path:
    """A config whose store is `store`."""
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nurl = "{store}"\n')
    return path


@pytest.fixture
def sqlite_config(tmp_path: Path) -> Path:
    """A config whose store is the SQLite file city.sqlite3, not there yet, in both runs."""
    path = tmp_path / "sqlite.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "city.sqlite3"}"\n')
    return path


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows SQL reads from the store at URL, SQLite or PostgreSQL."""

    async def read() -> list[tuple[Any, ...]]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in await conn.execute(sqlalchemy.text(sql))]
        finally:
            await engine.dispose()

    # The test is not a coroutine: no event loop runs here.
    return asyncio.run(read())


def one_line(err: str) -> str:
    """The one line a failed command may write on stderr (no traceback, no log)."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("wallchart: "), err
    return lines[0]


def demo_city(tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str = "zh") -> str:
    """Build the demo city in tmp_path/demo.sqlite3; the --at of its next prompt time."""
    assert main(["demo", "--db", str(tmp_path / "demo.sqlite3"), "--lang", lang]) == 0
    found = re.search(r"--at (\S+?)[)）]", capsys.readouterr().out)
    assert found is not None
    return found[1]


def outbox_rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


# --- the demo ---------------------------------------------------------------------------


def test_demo_shows_the_city_and_tomorrows_prompts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--db", str(tmp_path / "demo.sqlite3")]) == 0
    out = capsys.readouterr().out
    assert "示范城市已写入" in out and "12 个单位" in out
    assert "今日待办" in out and "时间表" in out
    assert "机器人将发出" in out and "今日提醒" in out
    assert "wallchart tick --db" in out
    # The default configuration fits the Chinese city: no lines to add to it.
    assert "config.toml 里还要写上" not in out
    assert re.search(r"\d{4}-\d\d-\d\d 09:00 CST \(\+08:00\)", out)


def test_demo_in_english_is_english_throughout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(db), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "The demo city is in" in out and "Milestones" in out and "this officer gets" in out
    assert "was untouched; it was built anew" not in out  # a new file, nothing replaced
    assert CJK.findall(out) == [], [line for line in out.splitlines() if CJK.search(line)]
    assert re.search(r"At \d{4}-\d\d-\d\d 09:00 CST \(\+08:00\) the bot will send", out)
    # Nothing was queued by the demo's look at tomorrow, and nothing says so.
    assert not [r.getMessage() for r in caplog.records if "queued" in r.getMessage()]
    assert outbox_rows(db) == 0

    # The lines it prints make a config under which the bot finds the city's units.
    lines = out[out.index("config.toml also needs these lines:") :].splitlines()[1:]
    raw = tomllib.loads("\n".join(lines))
    config = parse_config(raw, env={})
    with sqlite3.connect(db) as conn:
        units = {name for (name,) in conn.execute("SELECT name FROM units")}
        industries = {i for (i,) in conn.execute("SELECT DISTINCT industry FROM projects")}
    assert config.city.service_center in units
    assert set(config.routing.values()) <= units
    assert industries == set(config.city.industries)
    # The city's name too, so that the bot's briefing and chart are titled in English.
    assert config.city.name == "Demo City"
    books = list(tmp_path.glob("briefing_*.xlsx"))
    assert len(books) == 1
    title = openpyxl.load_workbook(books[0]).worksheets[0]["A1"].value
    assert title.startswith("Demo City promotion meeting briefing · this week (")


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


# --- import and invite ------------------------------------------------------------------


def test_import_then_invite(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "import", str(DATA / "ledger-example.xlsx")]) == 0
    assert "导入" in capsys.readouterr().out
    assert main(["--config", str(config), "invite", "青山镇", "专员"]) == 0
    code, link, about = capsys.readouterr().out.strip().splitlines()
    assert len(code) == 8 and link.endswith(f"?start={code}")
    assert about.startswith("青山镇 · 专员 · 有效期至 ") and about.endswith(" CST (+08:00)")
    assert main(["--config", str(config), "invite", "无此镇", "officer"]) == 1
    assert "找不到单位" in capsys.readouterr().err


ROLE_NAMES = sorted(
    {(CATALOG[lang][f"role.{role.value}"], role) for lang in CATALOG for role in Role}
    | {(role.value, role) for role in Role}
)


@pytest.mark.parametrize(("name", "role"), ROLE_NAMES)
def test_invite_takes_every_name_of_a_role(
    config: Path, capsys: pytest.CaptureFixture[str], name: str, role: Role
) -> None:
    assert main(["--config", str(config), "import", str(DATA / "ledger-example.xlsx")]) == 0
    capsys.readouterr()
    # each role where it belongs: leaders in the leadership, coordinators in the center
    unit = {Role.LEADER: "市领导", Role.COORDINATOR: "招商服务中心"}.get(role, "青山镇")
    assert main(["--config", str(config), "invite", unit, name, "--lang", "en"]) == 0
    about = capsys.readouterr().out.strip().splitlines()[-1]
    assert about.startswith(f"{unit} · {CATALOG['en'][f'role.{role.value}']} · valid until ")
    assert re.search(r"valid until \d{4}-\d\d-\d\d \d\d:\d\d CST \(\+08:00\)$", about)


@pytest.mark.parametrize(
    ("unit", "role"), [("青山镇", "leader"), ("青山镇", "服务中心"), ("市领导", "专员")]
)
def test_invite_refuses_a_role_where_it_does_not_belong(
    config: Path, capsys: pytest.CaptureFixture[str], unit: str, role: str
) -> None:
    assert main(["--config", str(config), "import", str(DATA / "ledger-example.xlsx")]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "invite", unit, role]) == 1
    err = capsys.readouterr().err
    assert "不能设" in err and "township" not in err and "leadership" not in err


def test_invite_help_lists_the_roles_in_both_languages(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["invite", "--help"])
    # argparse wraps the help; the names are read across the line breaks.
    text = " ".join(capsys.readouterr().out.split())
    for name, _role in ROLE_NAMES:
        assert name in text


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


def test_export_then_import_changes_nothing(
    config: Path,
    store: str,
    new_store: NewStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for example in ("ledger-example.xlsx", "ledger-example.csv"):
        assert main(["--config", str(config), "import", str(DATA / example)]) == 0
    capsys.readouterr()
    out = tmp_path / "台账导出.xlsx"
    # In Chinese by default, as import, invite, report and demo speak.
    assert main(["--config", str(config), "export", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"已从存储 {store_name(store)} ([store] url in {config})")
    assert said.rstrip().endswith(f"导出到 {out}：6 个单位、14 个项目")
    assert main(["--config", str(config), "export", str(out), "--lang", "en"]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {out} from the store {store_name(store)}")
    assert said.rstrip().endswith(": 6 units, 14 projects")

    # Into another store, twice: the second import finds nothing new and nothing changed.
    other = tmp_path / "other.toml"
    other.write_text(f'[store]\nurl = "{asyncio.run(fresh_store(new_store, "other"))}"\n')
    assert main(["--config", str(other), "import", str(out)]) == 0
    assert "单位：新增 6 个" in capsys.readouterr().out
    assert main(["--config", str(other), "import", str(out)]) == 0
    said = capsys.readouterr().out
    assert "单位：新增 0 个，更新 0 个，无变化 6 个；" in said
    assert "项目：新增 0 个，更新 0 个，无变化 14 个。" in said
    assert "未使用的列：—" in said
    again = tmp_path / "again.xlsx"
    assert main(["--config", str(other), "export", str(again)]) == 0
    for name in ("单位", "项目"):
        first, second = (openpyxl.load_workbook(f)[name] for f in (out, again))
        assert [[c.value for c in r] for r in first.rows] == [
            [c.value for c in r] for r in second.rows
        ]

    csv_out = tmp_path / "projects.csv"
    assert main(["--config", str(other), "export", str(csv_out)]) == 0
    assert "14 个项目（CSV 不含单位" in capsys.readouterr().out
    assert main(["--config", str(other), "export", str(csv_out), "--lang", "en"]) == 0
    assert "14 projects (a CSV holds no units" in capsys.readouterr().out
    assert main(["--config", str(config), "import", str(csv_out)]) == 0
    assert "项目：新增 0 个，更新 0 个，无变化 14 个。" in capsys.readouterr().out


def test_export_says_what_it_cannot_write(
    config: Path, sqlite_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No store yet: said, and none is created (as for tick). A store that is not there is
    # an SQLite file's; a PostgreSQL database that is not there is another error.
    assert main(["--config", str(sqlite_config), "export", str(tmp_path / "a.xlsx")]) == 1
    assert "没有存储" in capsys.readouterr().err
    assert (
        main(["--config", str(sqlite_config), "export", str(tmp_path / "a.xlsx"), "--lang", "en"])
        == 1
    )
    assert "There is no store at" in capsys.readouterr().err
    assert not (tmp_path / "city.sqlite3").exists() and not (tmp_path / "a.xlsx").exists()
    (tmp_path / "folder.xlsx").mkdir()
    for target, why, why_zh in [
        ("ledger.xls", "name it .xlsx (units and projects) or .csv (projects only)",
         "文件名请以 .xlsx（单位和项目）或 .csv（仅项目）结尾"),
        ("ledger", "name it .xlsx (units and projects) or .csv (projects only)",
         "文件名请以 .xlsx（单位和项目）或 .csv（仅项目）结尾"),
        ("no/such/ledger.xlsx", f"the folder {tmp_path / 'no' / 'such'} does not exist",
         f"文件夹 {tmp_path / 'no' / 'such'} 不存在"),
        ("folder.xlsx", "it is a folder", "这是一个文件夹"),
    ]:  # fmt: skip
        path = tmp_path / target
        assert main(["--config", str(config), "export", str(path), "--lang", "en"]) == 2
        assert one_line(capsys.readouterr().err) == f"wallchart: cannot write {path}: {why}"
        assert main(["--config", str(config), "export", str(path)]) == 2
        assert one_line(capsys.readouterr().err) == f"wallchart: 不能写入 {path}：{why_zh}"
    # An empty store: a blank ledger, and it says so.
    assert main(["--config", str(config), "migrate"]) == 0
    capsys.readouterr()
    assert (
        main(["--config", str(config), "export", str(tmp_path / "blank.xlsx"), "--lang", "en"]) == 0
    )
    said = capsys.readouterr().out
    assert ": 0 units, 0 projects" in said and "the store is empty" in said
    assert main(["--config", str(config), "export", str(tmp_path / "blank.xlsx")]) == 0
    said = capsys.readouterr().out
    assert "0 个单位、0 个项目" in said and "存储是空的" in said
    assert main(["--config", str(config), "import", str(tmp_path / "blank.xlsx")]) == 1
    assert "没有" in capsys.readouterr().err


# --- report -----------------------------------------------------------------------------


def frozen(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    """The command line's clock stopped at AT."""
    monkeypatch.setattr(bot.cli, "now", lambda: at)


def test_report_writes_a_readable_workbook(
    config: Path,
    store: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["--config", str(config), "import", str(DATA / "ledger-example.xlsx")]) == 0
    live = sorted(
        code for (code,) in rows(store, "SELECT code FROM projects WHERE stage != 'dropped'")
    )
    capsys.readouterr()
    out = tmp_path / "out" / "简报.xlsx"
    out.parent.mkdir()
    # 10:00 in the city on Thursday 3 December 2026: the week ends that day.
    frozen(monkeypatch, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    argv = ["--config", str(config), "report", "--week", "--out", str(out)]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert f"简报已写入 {out}" in said and "本周（2026-11-27 至 2026-12-03）" in said
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["摘要", "进展", "问题", "批示"]
    assert wb["进展"]["A2"].value == "责任单位"
    codes = [r[1] for r in wb["进展"].iter_rows(min_row=3, values_only=True)]
    assert sorted(codes) == live and len(live) > 5
    assert wb["进展"].print_title_rows == "$1:$2"

    # Without --out: the name a member would get, in this folder; a month, in English.
    assert main(["--config", str(config), "report", "--month", "--lang", "en"]) == 0
    written = sorted(p.name for p in tmp_path.glob("briefing_month_*.xlsx"))
    assert len(written) == 1
    said = capsys.readouterr().out
    assert f"The briefing is in {tmp_path / written[0]}" in said
    assert "this month (2026-12-01 to 2026-12-03)" in said
    assert written == ["briefing_month_2026-12-03.xlsx"]
    assert openpyxl.load_workbook(tmp_path / written[0]).sheetnames[0] == "Summary"


def test_report_is_todays_and_an_xlsx(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No briefing "as of" another day (it would mix that day's period with today's lights
    and open items), and no workbook under a name that is not .xlsx."""
    assert main(["--config", str(config), "import", str(DATA / "ledger-example.xlsx")]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "report", "--date", "2026-11-23"])
    assert exited.value.code == 2
    capsys.readouterr()
    for name in ("x.csv", "x.xls", "x"):
        out = tmp_path / name
        assert main(["--config", str(config), "report", "--out", str(out)]) == 2
        line = one_line(capsys.readouterr().err)
        assert line == f"wallchart: 不能写入 {out}：简报是 Excel 工作簿，请用 .xlsx 结尾的文件名"
        assert not out.exists()
    out = tmp_path / "x.csv"
    assert main(["--config", str(config), "report", "--out", str(out), "--lang", "en"]) == 2
    assert one_line(capsys.readouterr().err) == (
        f"wallchart: cannot write {out}: the briefing is an Excel workbook; name it .xlsx"
    )
    assert main(["--config", str(config), "report", "--out", str(tmp_path / "X.XLSX")]) == 0
    assert openpyxl.load_workbook(tmp_path / "X.XLSX").sheetnames[0] == "摘要"


def test_report_on_an_empty_or_missing_store(
    config: Path, sqlite_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Missing: an SQLite file's way (see test_export_says_what_it_cannot_write).
    assert main(["--config", str(sqlite_config), "report"]) == 1
    assert "处没有存储" in capsys.readouterr().err
    assert main(["--config", str(sqlite_config), "report", "--lang", "en"]) == 1
    assert "There is no store at" in capsys.readouterr().err
    assert not (tmp_path / "city.sqlite3").exists()
    assert main(["--config", str(config), "migrate"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "report", "--week"]) == 1
    assert "没有项目" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.xlsx"))
    with pytest.raises(SystemExit):
        main(["--config", str(config), "report", "--week", "--month"])


def test_demo_writes_its_wall_chart_and_briefing_here(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--db", str(tmp_path / "demo.sqlite3")]) == 0
    out = capsys.readouterr().out
    charts = sorted(tmp_path.glob("挂图_*.png"))
    books = sorted(tmp_path.glob("招商例会简报_*.xlsx"))
    assert charts and len(books) == 1
    assert f"已写入当前文件夹 {tmp_path}" in out
    for path in [*charts, *books]:
        assert f"  {path.name}" in out.splitlines()
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in charts)
    wb = openpyxl.load_workbook(books[0])
    assert len(list(wb["进展"].iter_rows(min_row=3))) >= 29  # the demo's projects but one


# --- the demo never overwrites a store that is not its own ---------------------------------


def dump(db: Path) -> list[str]:
    """Every row and the schema of the SQLite file DB, as SQL."""
    with closing(sqlite3.connect(db)) as conn:
        return list(conn.iterdump())


def count(db: Path, table: str) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_the_demo_refuses_a_real_store_and_leaves_it_intact(
    sqlite_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = sqlite_config  # the demo's store is a file (--db)
    db = tmp_path / "city.sqlite3"
    assert main(["--config", str(config), "import", str(DATA / "ledger-example.xlsx")]) == 0
    assert main(["--config", str(config), "invite", "青山镇", "专员"]) == 0
    capsys.readouterr()
    before = dump(db)
    assert main(["demo", "--db", str(db)]) == 1
    captured = capsys.readouterr()
    assert one_line(captured.err) == (
        f"wallchart: {db} 里已有数据（6 个单位、10 个项目、0 名成员），不是示范程序上次留下、"
        "未经改动的示范城市，示范不会覆盖它。请用 --db 另选一个文件，或加 --force 替换它"
        "（其中的数据将全部删除）。"
    )
    assert captured.out == ""
    assert main(["demo", "--db", str(db), "--lang", "en"]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"wallchart: {db} holds data (6 units, 10 projects, 0 members)")
    assert "--db" in line and "--force" in line
    # Nothing touched: not the store, and no chart or workbook written beside it.
    assert dump(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city.sqlite3", "sqlite.toml"]

    # --force replaces it, as asked.
    assert main(["demo", "--db", str(db), "--force"]) == 0
    assert "示范城市已写入" in capsys.readouterr().out
    assert count(db, "projects") == 30 and count(db, "invites") == 0


def test_an_untouched_demo_is_built_anew(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite3"
    at = demo_city(tmp_path, capsys)
    # What only reads leaves it the demo's own: a dry run and the briefing.
    assert main(["tick", "--db", str(db), "--dry-run", "--at", at]) == 0
    assert main(["report", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["demo", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"（{db} 里上次的示范城市未经改动，已重新生成。）" in out
    assert "示范城市已写入" in out
    assert count(db, "projects") == 30
    # Twice under the default name in this folder, as `wallchart demo` and `run` without a
    # token do.
    assert main(["demo"]) == 0
    assert main(["demo", "--lang", "en"]) == 0
    assert "The previous demo city in wallchart-demo.sqlite3 was untouched" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("change", ["invite", "tick"])
def test_a_demo_changed_since_it_was_built_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    """The store the demo tells users to run the bot on: an invite made there, or the
    scheduler's messages, are someone's work."""
    db = tmp_path / "demo.sqlite3"
    at = demo_city(tmp_path, capsys)
    config = tmp_path / "demo.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{db}"\n')
    if change == "invite":
        assert main(["--config", str(config), "invite", "青山镇", "专员"]) == 0
    else:
        assert main(["tick", "--db", str(db), "--at", at]) == 0
    capsys.readouterr()
    before = dump(db)
    assert main(["demo", "--db", str(db)]) == 1
    line = one_line(capsys.readouterr().err)
    assert "示范城市建成后有过改动" in line and "--force" in line
    assert dump(db) == before
    if change == "invite":
        assert count(db, "invites") == 1
    else:
        assert outbox_rows(db) > 0


def test_the_demo_takes_an_empty_file_and_refuses_one_that_is_no_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    assert main(["demo", "--db", str(empty)]) == 0
    assert count(empty, "projects") == 30
    capsys.readouterr()
    notes = tmp_path / "notes.txt"
    notes.write_text("会议记录：下周一招商例会\n")
    assert main(["demo", "--db", str(notes)]) == 1
    assert "不是 Wallchart 的存储" in one_line(capsys.readouterr().err)
    assert notes.read_text() == "会议记录：下周一招商例会\n"


# --- tick -------------------------------------------------------------------------------


@pytest.mark.parametrize("dry", [["--dry-run"], []], ids=["dry run", "tick"])
def test_tick_without_a_store_creates_none(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    dry: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["tick", *dry]) == 1
    captured = capsys.readouterr()
    assert f"no store at {tmp_path / 'wallchart.sqlite3'}" in captured.err
    assert "(the default [store] url: no config file): nothing to send" in captured.err
    assert ("nothing was saved" in captured.err) == bool(dry)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ('[store]\nurl = "sqlite:///wallchart.sqlite3"\n', "[store] url in {path}"),
        ('[city]\nname = "示范市"\n', "the default [store] url: {path} sets none"),
    ],
    ids=["sets the default", "sets none"],
)
def test_the_store_is_named_by_where_its_url_came_from(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: str,
    named: str,
) -> None:
    # A config that names the default store names it: "sets none" would send the reader
    # looking for a key that is there.
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "mine.toml"
    path.write_text(config, encoding="utf-8")
    assert main(["--config", str(path), "tick"]) == 1
    assert f"({named.format(path=path)}): nothing to send" in capsys.readouterr().err


def test_tick_on_an_empty_store_says_so(
    config: Path, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "migrate"]) == 0
    assert store_name(store) in capsys.readouterr().out
    for dry in ([], ["--dry-run"]):
        assert main(["--config", str(config), "tick", *dry]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert f"The store {store_name(store)} ([store] url in {config})" in captured.err
        assert "is empty: no units, no projects, no members" in captured.err
        assert ("nothing was saved" in captured.err) == bool(dry)
    assert rows(store, "SELECT count(*) FROM outbox") == [(0,)]


def test_dry_run_says_nothing_was_saved_and_saves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    at = demo_city(tmp_path, capsys)
    db = tmp_path / "demo.sqlite3"
    caplog.set_level(logging.DEBUG)
    assert main(["tick", "--db", str(db), "--dry-run", "--at", at]) == 0
    out = capsys.readouterr().out
    assert f"Store: {db} (12 units, 30 projects, 29 members)" in out
    assert re.search(r"tick as at \d{4}-\d\d-\d\d 09:00 CST \(\+08:00\)", out)
    assert "=== " in out and "messages would be sent" in out
    assert out.rstrip().endswith("Dry run: nothing was saved and nothing was sent.")
    assert outbox_rows(db) == 0
    assert not [r.getMessage() for r in caplog.records if "queued" in r.getMessage()]


def test_tick_says_what_it_queued_once_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    at = demo_city(tmp_path, capsys)
    db = tmp_path / "demo.sqlite3"
    assert main(["tick", "--db", str(db), "--at", at]) == 0
    out = capsys.readouterr().out
    queued = re.search(r"climbed, (\d+) messages? queued", out)
    assert queued is not None and int(queued[1]) == outbox_rows(db) > 0
    assert "Dry run" not in out
    # The day is done: a second pass sends nothing more.
    assert main(["tick", "--db", str(db), "--at", at]) == 0
    assert "already done; nothing to send" in capsys.readouterr().out
    assert int(queued[1]) == outbox_rows(db)


def test_a_moment_that_is_not_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["tick", "--at", "tomorrow"])
    assert caught.value.code == 2
    assert "'tomorrow' is not a moment" in capsys.readouterr().err


# --- a wrong configuration, for every sub-command -----------------------------------------

BAD_CONFIGS = {
    "prompt_time": ('[work]\nprompt_time = "9am"\n', r"\[work\] prompt_time: '9am'"),
    "syntax": ("[work]\nsoon_days = 7\nprompt_time = \n", r", line 3, column 15: not valid TOML"),
    "unknown key": ("[telegram]\ntokn = 'x'\n", r"\[telegram\] unknown keys: tokn"),
    "timezone": ("[city]\ntimezone = 'Nowhere/Land'\n", "unknown timezone"),
}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("mistake", BAD_CONFIGS)
def test_a_bad_config_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    command: list[str],
    mistake: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    text, message = BAD_CONFIGS[mistake]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["--config", str(path), *command]) == 2
    captured = capsys.readouterr()
    assert re.match(rf"wallchart: {re.escape(str(path))}.*{message}", one_line(captured.err))
    assert captured.out == ""
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert list(tmp_path.iterdir()) == [path]  # no store, no demo file


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("named_by", ["--config", "$WALLCHART_CONFIG"])
def test_a_missing_config_file_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    named_by: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "missing.toml"
    if named_by == "--config":
        argv = ["--config", str(missing), *command]
    else:
        monkeypatch.setenv("WALLCHART_CONFIG", str(missing))
        argv = command
    assert main(argv) == 2
    line = one_line(capsys.readouterr().err)
    assert line == f"wallchart: config file not found: {missing} (named by {named_by})"
    assert list(tmp_path.iterdir()) == []  # in particular no default store


# --- a store that cannot be opened --------------------------------------------------------

STORE_COMMANDS = [c for c in COMMANDS if c != ["demo"]]


def _store_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "store.toml"
    # A token, so that `run` goes for the store instead of showing the demo.
    path.write_text(f'[telegram]\ntoken = "123:TEST"\n[store]\nurl = "{url}"\n')
    path.chmod(0o600)  # a token in a file others read is warned about
    return path


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_postgresql_database_that_does_not_exist(
    pg_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    command: list[str],
) -> None:
    name = f"nosuchdb_{uuid.uuid4().hex[:8]}"
    url = f"{pg_url.rsplit('/', 1)[0]}/{name}"
    path = _store_config(tmp_path, url)
    assert main(["--config", str(path), *command]) == 2
    line = one_line(capsys.readouterr().err)
    assert line == (
        f"wallchart: cannot open the store {url} ([store] url in {path}): "
        f'database "{name}" does not exist'
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_database_server_that_is_not_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    url = "postgresql://someone:secret@127.0.0.1:1/city"
    assert main(["--config", str(_store_config(tmp_path, url)), *command]) == 2
    line = one_line(capsys.readouterr().err)
    assert "cannot open the store postgresql://someone:***@127.0.0.1:1/city" in line
    assert "connection refused" in line and "secret" not in line


@pytest.mark.parametrize("command", [["demo"], ["tick"], ["tick", "--dry-run"]], ids=" ".join)
def test_an_sqlite_file_in_a_folder_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    db = tmp_path / "no" / "such" / "folder" / "x.sqlite3"
    assert main([*command, "--db", str(db)]) in (1, 2)
    err = capsys.readouterr().err
    if command[0] == "tick":
        assert f"no store at {db} (--db)" in err  # a tick does not try to create it
    else:
        assert one_line(err) == (
            f"wallchart: cannot open the store {db} (--db): the folder {db.parent} does not exist"
        )


# --- the real thing: a process, its stderr and its exit code ------------------------------


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[work]\nprompt_time = "9am"\n', "prompt_time: '9am' is not a time of day"),
        ("[work\n", "line 1, column 6: not valid TOML"),
        ('[store]\nurl = "postgresql://postgres@127.0.0.1:1/city"\n', "connection refused"),
    ],
)
def test_the_process_writes_one_line_and_exits_2(tmp_path: Path, toml: str, expected: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(path), "tick"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert expected in one_line(done.stderr)


# --- run: the first word with Telegram ----------------------------------------------------


def _run_config(tmp_path: Path, store: str, base_url: str, token: str = "123:WRONG") -> Path:
    path = tmp_path / "run.toml"
    path.write_text(
        f'[telegram]\ntoken = "{token}"\nbase_url = "{base_url}"\n[store]\nurl = "{store}"\n'
    )
    path.chmod(0o600)  # as it should be: a token in a file others read is warned about
    return path


def test_run_with_a_token_telegram_refuses(
    tmp_path: Path,
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.botapi_server import BotAPIServer
    from tests.fakebot import FakeBotAPI

    with BotAPIServer(FakeBotAPI(), token="123:RIGHT") as server:
        path = _run_config(tmp_path, store, server.base_url)
        assert main(["--config", str(path), "run"]) == 2
        line = one_line(capsys.readouterr().err)
        assert line == f"wallchart: Telegram refused the token ([telegram] token in {path})"
        monkeypatch.setenv("WALLCHART_TOKEN", "456:ALSO-WRONG")
        assert main(["--config", str(path), "run"]) == 2
        assert one_line(capsys.readouterr().err).endswith("($WALLCHART_TOKEN)")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_standby_with_a_refused_token_says_so_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process holds the lease: this one would stand by, and a wrong token would
    come out only when it takes over. It is checked before standing by."""
    from bot.lease import FileLease
    from tests.botapi_server import BotAPIServer
    from tests.fakebot import FakeBotAPI

    db = tmp_path / "city.sqlite3"
    active = FileLease(Path(f"{db}.lock"))
    assert asyncio.run(active.try_take())
    try:
        with BotAPIServer(FakeBotAPI(), token="123:RIGHT") as server:
            path = _run_config(tmp_path, f"sqlite:///{db}", server.base_url)
            assert main(["--config", str(path), "run"]) == 2
            line = one_line(capsys.readouterr().err)
            assert line == f"wallchart: Telegram refused the token ([telegram] token in {path})"
    finally:
        asyncio.run(active.release())


def test_run_with_a_bot_api_that_is_not_there(
    tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = _run_config(tmp_path, store, "http://127.0.0.1:1/bot")
    assert main(["--config", str(path), "run"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("wallchart: cannot reach the Bot API at http://127.0.0.1:1/bot: ")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_run_polls_after_asking_telegram_once(tmp_path: Path, store: str) -> None:
    """The check before polling leaves the bot to run as before: one getMe, then polling."""
    import signal
    import time

    from tests.botapi_server import BotAPIServer
    from tests.fakebot import FakeBotAPI

    with BotAPIServer(FakeBotAPI(), token="123:RIGHT") as server:
        path = _run_config(tmp_path, store, server.base_url, token="123:RIGHT")
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--config", str(path), "run"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        deadline = time.monotonic() + 30
        while not server.read(lambda api: any(m == "getUpdates" for m, _ in api.calls)):
            assert bot.poll() is None and time.monotonic() < deadline, bot.communicate()
            time.sleep(0.05)
        bot.send_signal(signal.SIGINT)
        _out, err = bot.communicate(timeout=30)
        assert bot.returncode == 0, err
        assert server.read(lambda api: sum(m == "getMe" for m, _ in api.calls)) == 1
    assert "Traceback" not in err


# --- tick that sends ----------------------------------------------------------------------


def test_a_tick_at_a_moment_to_come_sends_at_once_and_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tick --at` a future moment (the demo's next prompt time) queues the messages for
    that moment; a manual tick sends them now, over the Bot API stand-in, and returns."""
    import threading

    from tests.botapi_server import BotAPIServer
    from tests.fakebot import FakeBotAPI

    at = demo_city(tmp_path, capsys)
    db = tmp_path / "demo.sqlite3"
    with BotAPIServer(FakeBotAPI(), token="123:RIGHT") as server:
        path = tmp_path / "send.toml"
        path.write_text(
            f'[telegram]\ntoken = "123:RIGHT"\nbase_url = "{server.base_url}"\n'
            "[scheduler]\nprivate_interval = 0.0\n"
        )
        codes: list[int] = []
        # In a thread with a bound: the bug was a tick that never returned.
        runner = threading.Thread(
            target=lambda: codes.append(
                main(["--config", str(path), "tick", "--db", str(db), "--at", at])
            ),
            daemon=True,
        )
        runner.start()
        runner.join(timeout=60)
        assert not runner.is_alive(), "the tick did not return"
        assert codes == [0]
        sent = server.read(lambda api: len(api.sent()))
    out = capsys.readouterr().out
    queued = re.search(r"climbed, (\d+) messages? queued", out)
    assert queued is not None and int(queued[1]) > 0
    assert sent == int(queued[1])
    with sqlite3.connect(db) as conn:
        left = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
    assert left == 0


def test_a_tick_that_cannot_reach_telegram_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The messages are queued and kept; the failure to send them is one line, exit 2."""
    at = demo_city(tmp_path, capsys)
    db = tmp_path / "demo.sqlite3"
    path = tmp_path / "nowhere.toml"
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    path.write_text('[telegram]\ntoken = "123:RIGHT"\nbase_url = "http://127.0.0.1:9/bot"\n')
    assert main(["--config", str(path), "tick", "--db", str(db), "--at", at]) == 2
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert "cannot reach the Bot API at http://127.0.0.1:9/bot" in line
    assert "stay in the outbox" in line
    assert "queued" in captured.out
    with sqlite3.connect(db) as conn:
        left = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
    assert left > 0


# --- the log ------------------------------------------------------------------------------


@pytest.fixture
def log_levels() -> Iterator[None]:
    """Put the loggers configure_logging sets back as they were."""
    from bot.cli import CHATTY

    names = [*CHATTY, "apscheduler.scheduler", ""]
    saved = {n: logging.getLogger(n).level for n in names}
    yield
    for n, level in saved.items():
        logging.getLogger(n).setLevel(level)


@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "-v"])
async def test_the_running_bot_logs_no_job_runs_unless_verbose(
    new_store: NewStore,
    caplog: pytest.LogCaptureFixture,
    log_levels: None,
    verbose: bool,
) -> None:
    """APScheduler logs two INFO lines each time a job runs (the outbox every two seconds):
    by default they are not written; -v shows them."""
    import asyncio

    from bot.cli import configure_logging
    from tests.harness import start_harness

    configure_logging(verbose)
    caplog.set_level(logging.DEBUG, logger="")  # the handler takes all; loggers decide
    for name in ("httpx", "apscheduler", "apscheduler.executors.default"):
        # caplog.set_level on the root must not lower what configure_logging set
        assert logging.getLogger(name).getEffectiveLevel() == (
            logging.INFO if verbose else logging.WARNING
        )
    h = await start_harness(await new_store())
    try:
        await h.app.start()
        assert h.app.job_queue is not None
        ran = asyncio.Event()

        async def job(_context: object) -> None:
            ran.set()

        h.app.job_queue.run_once(job, 0, name="outbox")
        await asyncio.wait_for(ran.wait(), 5)
        await asyncio.sleep(0.1)  # the executor logs once the job has returned
        await h.app.stop()
    finally:
        await h.stop()
    running = [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler")]
    job_lines = [m for m in running if 'Running job "outbox' in m or "executed successfully" in m]
    assert bool(job_lines) is verbose, running


# --- backup -------------------------------------------------------------------------------


def _probe_rows(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM probe").fetchone()[0])


def test_backup_copies_the_committed_rows_while_a_writer_holds_a_transaction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The copy is the store as committed: a transaction still open elsewhere (the running
    bot's) is not in it, and does not stop the copy."""
    demo_city(tmp_path, capsys)
    db = tmp_path / "demo.sqlite3"
    path = tmp_path / "c.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{db}"\n')
    with closing(sqlite3.connect(db, isolation_level=None)) as writer:
        writer.execute("CREATE TABLE probe (n INTEGER)")
        writer.executemany("INSERT INTO probe VALUES (?)", [(n,) for n in range(100)])
        units = writer.execute("SELECT count(*) FROM units").fetchone()[0]
        projects = writer.execute("SELECT count(*) FROM projects").fetchone()[0]
        writer.execute("BEGIN IMMEDIATE")
        writer.executemany("INSERT INTO probe VALUES (?)", [(n,) for n in range(100, 150)])
        writer.execute("DELETE FROM projects")
        out = tmp_path / "copy.sqlite3"
        assert main(["--config", str(path), "backup", str(out)]) == 0
        writer.execute("COMMIT")
    said = capsys.readouterr().out
    assert f"is copied to {out} ({out.stat().st_size / 1_048_576:.1f} MB, " in said
    with closing(sqlite3.connect(out)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert copy.execute("SELECT count(*) FROM units").fetchone()[0] == units > 0
        assert copy.execute("SELECT count(*) FROM projects").fetchone()[0] == projects > 0
        assert sorted(n for (n,) in copy.execute("SELECT n FROM probe")) == list(range(100))
    assert _probe_rows(db) == 150
    assert sorted(p.name for p in tmp_path.glob("*copy*")) == ["copy.sqlite3"]


def test_backup_while_rows_are_being_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A writer committing row after row meanwhile: the copy holds a prefix of them, whole."""
    import threading

    db = tmp_path / "city.sqlite3"
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{db}"\n')
    assert main(["--config", str(config), "migrate"]) == 0
    with closing(sqlite3.connect(db)) as conn:
        # WAL, as the bot's store: readers and the writer do not wait for each other.
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.execute("CREATE TABLE probe (n INTEGER, pad TEXT)")
        conn.commit()
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        with closing(sqlite3.connect(db, timeout=10)) as w:
            n = 0
            while not stop.is_set() or n < 200:
                w.execute("INSERT INTO probe VALUES (?, ?)", (n, "x" * 2000))
                w.commit()
                written.append(n)
                n += 1

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        while len(written) < 50:
            stop.wait(0.01)
        out = tmp_path / "copy.sqlite3"
        assert main(["--config", str(config), "backup", str(out)]) == 0
    finally:
        stop.set()
        writer.join(30)
    with closing(sqlite3.connect(out)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        got = [n for (n,) in copy.execute("SELECT n FROM probe ORDER BY n")]
    assert len(got) >= 50 and got == list(range(len(got)))
    assert _probe_rows(db) == len(written) >= len(got)


def test_backup_refuses_an_existing_file_unless_forced(
    sqlite_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = sqlite_config  # SQLite's online backup
    assert main(["--config", str(config), "migrate"]) == 0
    out = tmp_path / "old.sqlite3"
    out.write_bytes(b"yesterday's copy")
    capsys.readouterr()
    assert main(["--config", str(config), "backup", str(out)]) == 2
    line = one_line(capsys.readouterr().err)
    assert line == f"wallchart: {out} exists: add --force to replace it"
    assert out.read_bytes() == b"yesterday's copy"
    assert main(["--config", str(config), "backup", str(out), "--force"]) == 0
    with closing(sqlite3.connect(out)) as copy:
        assert copy.execute("SELECT count(*) FROM units").fetchone() == (0,)
    # The store itself is never the copy's target, forced or not.
    store = tmp_path / "city.sqlite3"
    assert main(["--config", str(config), "backup", str(store), "--force"]) == 2
    assert "is the store itself" in one_line(capsys.readouterr().err)


def test_backup_without_a_store_writes_nothing(
    sqlite_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = sqlite_config  # SQLite's online backup
    out = tmp_path / "copy.sqlite3"
    assert main(["--config", str(config), "backup", str(out)]) == 2
    assert "there is no store at" in one_line(capsys.readouterr().err)
    assert not out.exists() and not (tmp_path / "city.sqlite3").exists()


def test_backup_of_postgresql_says_to_use_pg_dump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pg.toml"
    path.write_text('[store]\nurl = "postgresql://wallchart:s3cret@db.example/city"\n')
    out = tmp_path / "copy.sqlite3"
    assert main(["--config", str(path), "backup", str(out)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "pg_dump -Fc" in line and "pg_restore" in line
    assert "postgresql://wallchart:***@db.example/city" in line and "s3cret" not in line
    assert not out.exists()


# --- the token stays out of the log ---------------------------------------------------------


def test_the_token_never_reaches_the_log_or_the_error(tmp_path: Path, store: str) -> None:
    """-v logs every request's URL (bot.transport), and the Bot API's URL holds the token: each
    line shows it hidden, as does the one-line error."""
    from tests.botapi_server import BotAPIServer
    from tests.fakebot import FakeBotAPI

    token = "987654:SECRET-token_value"
    with BotAPIServer(FakeBotAPI(), token="123:RIGHT") as server:
        path = _run_config(tmp_path, store, server.base_url, token=token)
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "-v", "--config", str(path), "run"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    err = done.stderr
    assert "Telegram refused the token" in err
    assert "SECRET" not in err and "987654" not in err
    requests = [line for line in err.splitlines() if "HTTP Request" in line]
    assert requests and all("/bot[REDACTED]/getMe" in line for line in requests), err


def test_the_redaction_covers_arguments_tracebacks_and_any_bot_url(
    caplog: pytest.LogCaptureFixture, log_levels: None
) -> None:
    from bot.cli import configure_logging, hide_token

    configure_logging(False)
    hide_token("555:CONFIGURED")
    caplog.set_level(logging.INFO)
    log = logging.getLogger("wallchart.test")
    log.info("GET %s", "https://api.telegram.org/bot555:CONFIGURED/getUpdates")
    log.info("another %s", "https://example.org/bot42:OTHER_one-x/sendMessage")
    log.info("bare %s", "555:CONFIGURED")
    try:
        raise RuntimeError("failed at https://api.telegram.org/bot555:CONFIGURED/getMe")
    except RuntimeError:
        log.exception("it failed")
    text = caplog.text
    assert "CONFIGURED" not in text and "OTHER_one" not in text, text
    assert "https://api.telegram.org/bot[REDACTED]/getUpdates" in text
    assert "https://example.org/bot[REDACTED]/sendMessage" in text
    assert "bare [REDACTED]" in text
    assert "failed at https://api.telegram.org/bot[REDACTED]/getMe" in text


def test_a_token_in_a_file_others_read_is_one_warning_line(tmp_path: Path, store: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[telegram]\ntoken = "123456:VERY-SECRET"\n[store]\nurl = "{store}"\n')
    path.chmod(0o644)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(path), "migrate"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and f"run `chmod 600 {path}`" in warnings[0], done.stderr
    assert "SECRET" not in done.stderr + done.stdout
