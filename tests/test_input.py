"""Reading what members type: full-width forms and Chinese punctuation around codes and ids."""

from __future__ import annotations

import pytest

from bot.flow import Ask, Command, Fields, parse_line
from bot.handlers import notices, problems, projects
from bot.input import fold, number, split_command, take_word, words

COMMANDS = {c.name: c for c in [*projects.COMMANDS, *problems.COMMANDS, *notices.COMMANDS]}


def command(name: str) -> Command:
    return COMMANDS[name]


@pytest.mark.parametrize(
    ("name", "line", "expected"),
    [
        # the code, then the text: every separator a Chinese or ASCII keyboard gives
        ("progress", "QS01 完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "QS01，完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "QS01：完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "QS01、完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "QS01；完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "QS01,完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "QS01:完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "QS01;完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "QS01\u3000完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "QS01 ，完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "QS01：\u3000 完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "，QS01，完成预审", {"project": "QS01", "text": "完成预审"}),
        # full-width codes fold to ASCII; the case is the store's business
        ("progress", "ＱＳ０１ 完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "ＱＳ０１，完成预审", {"project": "QS01", "text": "完成预审"}),
        ("progress", "ｑｓ０１：完成预审", {"project": "qs01", "text": "完成预审"}),
        ("progress", "QS-01 完成预审", {"project": "QS-01", "text": "完成预审"}),
        # the text is kept as written: its punctuation and full-width forms stay
        (
            "progress",
            "QS01 完成预审，下周开工：准备就绪",
            {"project": "QS01", "text": "完成预审，下周开工：准备就绪"},
        ),
        ("progress", "QS01 完成１０ＧＷｈ产线", {"project": "QS01", "text": "完成１０ＧＷｈ产线"}),
        ("progress", "QS01\n第一行\n第二行", {"project": "QS01", "text": "第一行\n第二行"}),
        ("progress", "  QS01  ", {"project": "QS01"}),
        ("progress", "QS01，", {"project": "QS01"}),
        ("progress", "", {}),
        ("progress", " ，：", {}),
        # ids and numbers
        ("reply", "１２ 好", {"problem": "12", "text": "好"}),
        ("reply", "＃１２，好的，马上办", {"problem": "#12", "text": "好的，马上办"}),
        ("reply", "12：已协调", {"problem": "12", "text": "已协调"}),
        ("resolve", "１２", {"problem": "12"}),
        ("done", "ＱＳ０１ ２", {"project": "QS01", "milestone": "2"}),
        ("done", "QS01，2", {"project": "QS01", "milestone": "2"}),
        ("done", "QS01、＃２", {"project": "QS01", "milestone": "#2"}),
        (
            "due",
            "QS01 ３ 下周五",
            {"project": "QS01", "milestone": "3", "date": "下周五"},
        ),
        (
            "due",
            "ＱＳ０１：３，月底前",
            {"project": "QS01", "milestone": "3", "date": "月底前"},
        ),
        ("stage", "QS01，开工", {"project": "QS01", "stage": "开工"}),
        # the unit of a problem is always chosen, never typed
        ("problem", "QS01：用地指标未落实", {"project": "QS01", "text": "用地指标未落实"}),
        # the buttons' item references keep their colon
        ("extend", "m:12 下周五", {"item": "m:12", "date": "下周五"}),
    ],
)
def test_parse_line(name: str, line: str, expected: Fields) -> None:
    assert parse_line(command(name), line) == expected


@pytest.mark.parametrize(
    ("name", "first", "before", "line", "expected"),
    [
        # an answer to "which project?" may carry the text too
        (
            "progress",
            Ask.PROJECT,
            {},
            "ＱＳ０１，完成预审",
            {"project": "QS01", "text": "完成预审"},
        ),
        ("progress", Ask.PROJECT, {}, "qs01", {"project": "qs01"}),
        # an answer to "which text?" is all text, without the punctuation that leads it
        (
            "progress",
            Ask.TEXT,
            {"project": "QS01"},
            "：完成预审，QS02 也开工",
            {"project": "QS01", "text": "完成预审，QS02 也开工"},
        ),
        # the unit a problem goes to is typed only as the answer, and kept as written
        (
            "problem",
            Ask.UNIT,
            {"project": "QS01", "text": "缺电"},
            "经开区（高新区） 管委会",
            {"project": "QS01", "text": "缺电", "unit": "经开区（高新区） 管委会"},
        ),
        # fields already known are not overwritten
        (
            "due",
            Ask.MILESTONE,
            {"project": "QS01"},
            "３ 下周五",
            {"project": "QS01", "milestone": "3", "date": "下周五"},
        ),
    ],
)
def test_parse_an_answer(
    name: str, first: Ask, before: Fields, line: str, expected: Fields
) -> None:
    assert parse_line(command(name), line, before, first) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("#12", 12),
        ("＃１２", 12),
        (" １２ ", 12),
        ("３", 3),
        ("12a", None),
        ("-1", None),
        ("1.5", None),
        ("", None),
        ("#", None),
        ("١٢", None),  # Arabic-Indic digits are digits to Python, not to an officer
    ],
)
def test_number(text: str, expected: int | None) -> None:
    assert number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/progress QS01 完成", ("progress", None, " QS01 完成")),
        ("/progress，QS01", ("progress", None, "，QS01")),
        ("/Progress@wallchart_bot QS01", ("progress", "wallchart_bot", " QS01")),
        ("/urge ＃１２", ("urge", None, " ＃１２")),
        ("完成预审", ("", None, "完成预审")),
    ],
)
def test_split_command(text: str, expected: tuple[str, str | None, str]) -> None:
    assert split_command(text) == expected


def test_words_fold_and_split_at_chinese_punctuation() -> None:
    assert words("ＱＳ０１，３") == ["QS01", "3"]
    assert words(" ＃１２ ") == ["#12"]
    assert words("QS01：3；下周五") == ["QS01", "3", "下周五"]
    assert words("") == []
    assert take_word("ＱＳ０１ ，完成，好") == ("QS01", "完成，好")
    assert fold("ＱＳ０１") == "QS01"
