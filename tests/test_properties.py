"""Property tests over bad input: text commands, guided flows, buttons and the ledger importer.

Three properties hold for whatever a member sends (Hypothesis draws it: Chinese, full-width
forms, emoji, control characters, HTML, numbers, dates, very long text, forged buttons,
workbooks and CSV files of any content):

* no input crashes a handler: no exception reaches an error handler, nothing is logged as
  an error, and no answer is `err.internal`;
* a refused call writes nothing: when a refusal was said (a Refused, or an `err.*`,
  `usage.*` or ledger refusal), every record table is as it was, and the logs (audit,
  notices) did not grow; a flow's scratch state and the answers' own outbox rows aside;
* every answer is in the member's language: an English member's answers hold no Chinese
  that is not the member's own input, the store's data or the English catalog's own (the
  input forms it names), and a Chinese member's answers hold Chinese of their own.

The real Application runs over the fake Bot API (tests/harness.py), on SQLite or, with
WALLCHART_TEST_STORE=postgresql, on PostgreSQL. One harness serves all the examples of a
test; each update is checked against the store read before and after it. Examples are
derandomized and no example database is kept, so CI runs the same inputs each time.
WALLCHART_PROPERTIES_SCALE multiplies the examples to hunt for more (8: about 7 minutes);
WALLCHART_PROPERTIES_SHRINK=0 reports a failure as found, without minutes of shrinking.
The last part of the file holds the faults these properties found, each with its variants.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import os
import re
import unicodedata
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, func, make_url, select, update
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool
from telegram import Update

import bot.flow
import bot.handlers.base
import bot.handlers.notices
import bot.handlers.problems
import bot.handlers.projects
import bot.handlers.start
from bot.config import Config
from bot.dates import deadline_in_text, parse_deadline_detail
from bot.handlers.base import FLOW_KEY, Call
from bot.handlers.ledger import error_line
from bot.input import fold, number, raw_words, split_command, take_word, words
from bot.texts import CATALOG, t
from storage import ranking
from storage.db import set_actor
from storage.errors import Refused
from storage.ledger import (
    PROJECT_COLUMNS,
    UNIT_COLUMNS,
    ColumnUse,
    ImportResult,
    LedgerError,
    import_ledger,
    read_ledger,
)
from storage.models import AuditLog, Base, Member, ProgressReport, Project, Unit, UnitKind
from tests.fakebot import document, message, photo, press
from tests.harness import (
    ADMIN,
    COORD,
    HEAD,
    LAND_OFFICER,
    LEADER,
    OFFICER,
    OTHER_OFFICER,
    Harness,
)

# --- settings ---------------------------------------------------------------------------

# One harness (a function-scoped fixture) serves every example of a test: that is the point.
_HEALTH = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
]


# Shrinking a failure through the bot can take minutes.
PHASES = tuple(
    p
    for p in Phase
    if p not in (Phase.shrink, Phase.explain)
    or os.environ.get("WALLCHART_PROPERTIES_SHRINK") != "0"
)


SCALE = float(os.environ.get("WALLCHART_PROPERTIES_SCALE", "1"))


def examples(n: int) -> settings:
    """N derandomized examples, no deadline, no example database: CI runs the same inputs."""
    return settings(
        max_examples=max(1, round(n * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=_HEALTH,
        print_blob=False,
        phases=PHASES,
    )


# --- what a member types ----------------------------------------------------------------

TOKENS = (
    # Chinese words, names the store knows, dates as officers write them
    "很好", "完成土地预审", "城东街道", "城西镇", "自然资源局", "经开区（高新区）", "专员",
    "单位负责人", "服务中心", "分管领导", "签约", "开工", "投产", "本月", "季度", "年",
    "下周五", "明年6月底", "腊月十五", "春节前", "十二月廿八", "第二个周五", "3个工作日内",
    "今天", "昨天", "12月1日", "2月30日", "99月99日", "月底", "周", "week", "month", "Q3",
    "第53周", "week 53", "next Friday", "EOD", "25:99", "31号", "0号",
    # full-width forms and Chinese punctuation
    "ＸＮＹ０１", "ｘｎｙ０１", "＃１", "＃１２", "１２３", "，", "：", "、", "；", "\u3000",
    "（", "）", "【", "】", "。", "！", "﹐", "､", "︓", "🄂", "¨",
    # emoji and joiners
    "😀", "👍🏻", "🇨🇳", "👨\u200d👩\u200d👧", "\u200d", "\ufe0f",
    # control and format characters
    "\x00", "\x01", "\x1f", "\x7f", "\u200b", "\u202e", "\ufeff", "\r", "\t", "\n",
    # HTML and things that look like it
    "<b>", "</b>", "<code>", "</code>", "&amp;", "&", "<", ">", "<a href='x'>", "<i>x",
    # numbers, ids, codes, payload-like words
    "0", "1", "2", "3", "7", "-1", "#1", "i1", "m:1", "p:1", "i:1", "99999999999999999999",
    "2147483647", "2147483648", "1e309", "NaN", "١٢", "Ⅻ", "½", "²", "XNY01", "xny01", "SW02",
    "NOPE", "XNY01@wallchart_test_bot", "f:cancel", "en", "zh", "EN",
    # dates written out
    "2027-02-30", "2026-12-31", "2026/12/05", "12/5", "12.5", "0000-00-00", "9999-12-31",
    "2026.1", "2026年13月", "2026年12月5日", "12/5/2026", "1900-01-01",
)  # fmt: skip
SEPARATORS = (" ", "，", "：", "、", "\n", "\u3000", ",", "", "  ")

# Any character Python can hold (no lone surrogates, which Telegram's JSON cannot carry).
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
token = st.one_of(st.sampled_from(TOKENS), any_text)
joined = st.lists(st.tuples(token, st.sampled_from(SEPARATORS)), min_size=1, max_size=6).map(
    lambda parts: "".join(word + sep for word, sep in parts)
)
# Long text: Telegram takes up to 4,096 characters; a little more must not break anything.
long_text = st.builds(
    lambda piece, n: (piece * n)[:4500],
    st.sampled_from(("很", "a ", "😀", "<b>", "Ｗ", "\x01", "&", "XNY01 ", "下周五 ", "1")),
    st.integers(300, 4500),
)
# NUL included: the bot drops it on the way in (bot.handlers.gate.normalise), since
# PostgreSQL refuses it in a text column.
argument = st.one_of(joined, joined, any_text, long_text)

MEMBERS = (OFFICER, HEAD, OTHER_OFFICER, COORD, LEADER, ADMIN, LAND_OFFICER)
member = st.sampled_from(MEMBERS)
language = st.sampled_from(("zh", "en"))
GROUP = -500

# Every command the bot registers. A test below checks this against the Application, so a
# new command is drawn here too.
COMMANDS = (
    "start", "help", "lang", "invite", "link", "cancel", "projects", "today", "chart",
    "board", "report", "rank", "import", "urge", "ack", "instructions", "project",
    "progress", "done", "due", "stage", "plan", "problem", "reply", "resolve", "reopen",
    "instruct", "fulfil", "extend",
)  # fmt: skip
# The commands that ask for what they miss (bot.flow).
FLOWS = (
    "project", "progress", "done", "due", "stage", "plan", "problem", "reply", "resolve",
    "reopen", "instruct", "fulfil", "extend",
)  # fmt: skip
# Every button prefix the bot sends; the last are none of its own.
BUTTON_PREFIXES = (
    "f:", "f:project:", "f:milestone:", "f:problem:", "f:stage:", "f:unit:", "f:item:",
    "f:date:", "f:text:", "go:", "go:reply:", "go:extend:", "go:fulfil:", "go:extend:p:",
    "go:extend:m:", "go:extend:i:", "go:nothing:", "lang:", "ack:", "md:", "nc:", "xa:", "xr:",
    "in:ack:", "un:", "imp:", "", "x:", "f", "go",
)  # fmt: skip


# --- reading the answers ----------------------------------------------------------------

# Chinese as a reader sees it: ideographs (with extensions and compatibility forms), CJK
# punctuation and the full-width forms (，：（）), kana and hangul.
CJK = re.compile(
    "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff]+"
)
INTERNAL = {t("zh", "err.internal"), t("en", "err.internal")}


def covered(run: str, haystack: str) -> bool:
    """Whether RUN is made of pieces of HAYSTACK (an answer may join a name to an input)."""
    i = 0
    while i < len(run):
        # The longest piece from i that the haystack holds; holding is monotone in length.
        lo, hi = i, len(run)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if run[i:mid] in haystack:
                lo = mid
            else:
                hi = mid - 1
        if lo == i:
            return False
        i = lo
    return True


# The part of CJK that is words, not punctuation.
WORDS = re.compile(
    "[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]"
)


# How answers quote what was typed: `“…”` in English, `「…」` and `“…”` in Chinese.
QUOTES = {("“", "”"), ("「", "」"), ('"', '"')}


def foreign(text: str, haystack: str) -> list[str]:
    """The Chinese in an English answer that neither the input nor the store gave.

    Words may be pieces of the haystack (a name next to a quoted input). A punctuation mark
    alone (`，`, `、`, `（`) is the writer's, not a name's: it must be the English catalog's
    own, a whole input, or stand in the input or the data as in the answer, with the two
    characters before or after it.
    """
    plain = html.unescape(text)
    found = []
    for m in CJK.finditer(plain):
        run = m.group()
        if WORDS.search(run) or len(run) > 1:
            ok = covered(run, haystack)
        else:
            left = plain[max(0, m.start() - 2) : m.end()]
            right = plain[m.start() : m.end() + 2]
            whole = f"\x00{run}\x00" in f"\x00{haystack}\x00"
            # A mark the answer quotes by itself (`there is no role “【”`) is the input's.
            marks = (plain[m.start() - 1 : m.start()], plain[m.end() : m.end() + 1])
            quoted = marks in QUOTES and run in haystack
            ok = run in MEANT or whole or quoted or left in haystack or right in haystack
        if not ok:
            found.append(run)
    return found


def own_chinese(text: str, inputs: Sequence[str]) -> bool:
    """Whether a Chinese answer holds Chinese beyond the input it quotes."""
    for quoted in sorted(inputs, key=len, reverse=True):
        if quoted:
            text = text.replace(quoted, "")
    return CJK.search(text) is not None


def variants(text: str) -> list[str]:
    """The forms an answer may quote an input in: as typed, folded, escaped, cut."""
    forms = {text, fold(text), unicodedata.normalize("NFKC", text), text.strip()}
    forms |= {html.escape(f, quote=False) for f in list(forms)}
    forms |= {f.upper() for f in list(forms)} | {f.lower() for f in list(forms)}
    return [f for f in forms if f]


# --- watching one update ----------------------------------------------------------------

# Scratch and plumbing, not records: a flow's questions and the import offers, the updates
# received, who the active process is.
SCRATCH = {"chat_state", "inbox", "leases"}
# Logs that only grow: compared by their size and last id (a change to a record writes an
# audit row, and a notice an outbox row). The replies' own outbox rows are the answers.
LOGS = {"audit_log", "outbox"}
REPLY_KIND = "reply"

Snapshot = dict[str, list[tuple[Any, ...]]]


def _queries() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for table in Base.metadata.sorted_tables:
        if table.name in SCRATCH:
            continue
        if table.name in LOGS:
            query = select(func.count(), func.max(table.c.id))
            if table.name == "outbox":
                query = query.where(table.c.kind != REPLY_KIND)
            found.append((table.name, query))
        else:
            found.append((table.name, select(table)))
    return found


QUERIES = _queries()


def _pg_query() -> Any:
    """The same reads as one PostgreSQL statement, each table as JSON: one round trip."""
    parts = []
    for table in Base.metadata.sorted_tables:
        if table.name in SCRATCH:
            continue
        if table.name in LOGS:
            where = f" WHERE kind <> '{REPLY_KIND}'" if table.name == "outbox" else ""
            parts.append(f"(SELECT json_build_array(count(*), max(id)) FROM {table.name}{where})")
        else:
            parts.append(f"(SELECT coalesce(json_agg(t), '[]') FROM {table.name} t)")
    return sql("SELECT " + ", ".join(parts))


PG_QUERY = _pg_query()


class Store:
    """Reads the harness's store between updates. On SQLite through a synchronous engine
    of its own: the snapshots are most of a turn's queries, and a synchronous read of a
    local file is many times quicker than one through the async driver."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        url = make_url(h.url)
        self.sync: Engine | None = None
        if url.get_backend_name() == "sqlite":
            self.sync = create_engine(url.set(drivername="sqlite"), poolclass=NullPool)

    async def snapshot(self) -> Snapshot:
        """The rows of every record table, and the size of every log, in an id-free order."""
        rows: Snapshot = {}
        if self.sync is not None:
            with self.sync.connect() as conn:
                for name, query in QUERIES:
                    rows[name] = sorted((tuple(r) for r in conn.execute(query)), key=repr)
            return rows
        async with self.h.sessions() as s:
            values = (await s.execute(PG_QUERY)).one()
        for (name, _), value in zip(QUERIES, values, strict=True):
            found = json.loads(value) if isinstance(value, str) else value
            if name in LOGS:
                rows[name] = [tuple(found)]
                continue
            columns = [c.name for c in Base.metadata.tables[name].columns]
            rows[name] = sorted((tuple(r[c] for c in columns) for r in found), key=repr)
        return rows

    async def set_lang(self, uid: int, lang: str) -> None:
        change = update(Member).where(Member.tg_user_id == uid).values(lang=lang)
        if self.sync is not None:
            with self.sync.begin() as conn:
                conn.execute(change)
            return
        async with self.h.sessions() as s:
            await s.execute(change)
            await s.commit()

    def close(self) -> None:
        if self.sync is not None:
            self.sync.dispose()


_MEMBER_COLUMNS = [c.name for c in Member.__table__.columns]


def langs_in(snap: Snapshot) -> dict[int, str]:
    """Each member's language, by Telegram id."""
    tg, lang = _MEMBER_COLUMNS.index("tg_user_id"), _MEMBER_COLUMNS.index("lang")
    return {int(row[tg]): str(row[lang]) for row in snap["members"]}


def texts_in(snap: Snapshot) -> str:
    """Every text the records hold, joined: what an answer may quote in any language."""
    found: list[str] = []
    for name, rows in snap.items():
        if name in LOGS:
            continue
        for row in rows:
            for value in row:
                if isinstance(value, str):
                    found.append(value)
                elif isinstance(value, dict | list):
                    found.append(repr(value))
    return "\x00".join(found)


@dataclass
class Turn:
    """What one update did: the answers to its chat, the notices, the keys said."""

    replies: list[str]
    notices: list[tuple[int, str]]
    keys: list[str]
    refused: list[str]
    errors: list[BaseException]
    logged: list[logging.LogRecord]
    changed: list[str]


@dataclass(repr=False)
class Watch:
    """Records the catalog keys said, the refusals and the errors of each update."""

    h: Harness
    caplog: pytest.LogCaptureFixture
    store: Store
    keys: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return "Watch()"

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        keys = self.keys
        said = Call.t

        def call_t(call: Call, key: str, **params: Any) -> str:
            keys.append(key)
            return said(call, key, **params)

        monkeypatch.setattr(Call, "t", call_t)
        refusal = bot.handlers.base.refusal

        def recorded(lang: str, exc: Refused) -> str:
            self.refused.append(exc.key)
            return refusal(lang, exc)

        for module in (bot.handlers.base, bot.flow, bot.handlers.start):
            monkeypatch.setattr(module, "refusal", recorded)

        async def on_error(update: object, context: Any) -> None:
            self.errors.append(context.error)

        self.h.app.add_error_handler(on_error)
        self.caplog.set_level(logging.WARNING)

    async def run(self, update: dict[str, Any], *inputs: str) -> Turn:
        """Process UPDATE as the harness does, checking the three properties."""
        h = self.h
        self.keys.clear()
        self.refused.clear()
        self.errors.clear()
        logged = len(self.caplog.records)
        before = await self.store.snapshot()
        start = len(h.api.calls)
        media = len(h.api.media)
        await h.app.process_update(Update.de_json(update, h.app.bot))
        replied = len(h.api.calls)
        await h.drain()
        after = await self.store.snapshot()
        chat = _chat_of(update)
        replies = _texts(h.api.calls[start:replied], chat)
        replies += [str(m["caption"]) for m in h.api.media[media:] if m.get("caption")]
        notices = [
            (int(p["chat_id"]), str(p["text"]))
            for m, p in h.api.calls[replied:]
            if m == "sendMessage"
        ]
        turn = Turn(
            replies=replies,
            notices=notices,
            keys=list(self.keys),
            refused=list(self.refused),
            errors=list(self.errors),
            logged=[r for r in self.caplog.records[logged:] if r.levelno >= logging.ERROR],
            changed=[name for name in after if after[name] != before[name]],
        )
        self.inputs = [v for text in inputs for v in variants(text)]
        await self.check(update, turn, before, after)
        return turn

    async def check(
        self,
        update: dict[str, Any],
        turn: Turn,
        before: Snapshot,
        after: Snapshot,
    ) -> None:
        where = f"update {_shown(update)}: answers {turn.replies!r}"
        assert not turn.errors, f"{where}: raised {turn.errors!r}"
        assert not turn.logged, f"{where}: logged {[r.getMessage() for r in turn.logged]}"
        for text in turn.replies + [text for _, text in turn.notices]:
            assert text not in INTERNAL, where
        if refusing(turn):
            assert not turn.changed, (
                f"{where}: refused ({turn.refused or turn.keys}) but wrote "
                + "; ".join(_diff(name, before[name], after[name]) for name in turn.changed)
            )
        haystack = "\x00".join(
            [texts_in(before), texts_in(after), *self.inputs, *DATA_WORDS, *MEANT]
        )
        sender = _sender_of(update)
        langs = langs_in(after)
        lang = langs.get(sender)
        labels = [x for x in _button_labels(self.h, _chat_of(update)) if x not in LANGUAGE_NAMES]
        for text in turn.replies + labels:
            if lang == "en":
                assert not foreign(text, haystack), (
                    f"{where}: Chinese in English: {foreign(text, haystack)}"
                )
            elif lang == "zh" and text:
                assert own_chinese(text, self.inputs), f"{where}: no Chinese in {text!r}"
        for chat_id, text in turn.notices:
            if langs.get(chat_id) == "en":
                assert not foreign(text, haystack), (
                    f"{where}: Chinese in an English notice {text!r}"
                )


# Words every answer may hold in any language: the configured city's names (its industries,
# its service center), which are data, not catalog text.
CITY = Config().city
DATA_WORDS = (*CITY.industries, CITY.service_center, CITY.name)
# Chinese that English answers hold on purpose: the input forms they name (the measures a
# ledger may use, the period words /rank takes), and the list separator of the role names.
# (The `.also` entries are other names of the roles, split at `、`, never shown.)
MEANT = tuple(
    run
    for key, text in CATALOG["en"].items()
    if not key.endswith(".also")
    for run in CJK.findall(text)
) + tuple(ranking.accepted_words().split())


# The language buttons name each language in itself.
LANGUAGE_NAMES = {t(lang, "lang.name") for lang in CATALOG}


def _diff(name: str, before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]) -> str:
    gone = [r for r in before if r not in after][:3]
    new = [r for r in after if r not in before][:3]
    return f"{name}: {gone} -> {new}"


# Refusals said without a Refused: a ledger that was not imported, a file a flow cannot keep.
REFUSALS = ("err.", "usage.", "ledger.invalid_file", "flow.no_file")


def refusing(turn: Turn) -> bool:
    """Whether the update was refused: a Refused said, or an error or usage text."""
    return bool(turn.refused) or any(k.startswith(REFUSALS) for k in turn.keys)


def _chat_of(update: dict[str, Any]) -> int:
    if "callback_query" in update:
        return int(update["callback_query"]["message"]["chat"]["id"])
    return int(update["message"]["chat"]["id"])


def _sender_of(update: dict[str, Any]) -> int:
    body = update.get("callback_query") or update["message"]
    return int(body["from"]["id"])


def _texts(calls: Sequence[tuple[str, dict[str, Any]]], chat: int) -> list[str]:
    return [str(p["text"]) for m, p in calls if m == "sendMessage" and int(p["chat_id"]) == chat]


def _button_labels(h: Harness, chat: int) -> list[str]:
    """The labels of the buttons under the last message to CHAT."""
    sent = h.api.sent(chat)
    if not sent or "reply_markup" not in sent[-1]:
        return []
    markup = sent[-1]["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [str(b["text"]) for row in markup.get("inline_keyboard", []) for b in row]


def _shown(update: dict[str, Any]) -> str:
    body = update.get("callback_query") or update["message"]
    for name in ("data", "text", "caption"):
        if name in body:
            value = str(body[name])
            return repr(value if len(value) < 200 else value[:200] + f"…({len(value)})")
    return repr(sorted(body))


async def begin(w: Watch, uid: int, lang: str) -> None:
    """Speak LANG, and end a flow an earlier example left waiting: each starts at the top."""
    await w.store.set_lang(uid, lang)
    if (w.h.app.user_data.get(uid) or {}).get(FLOW_KEY):
        for chat in (uid, GROUP):
            await w.h.process(message(uid, "/cancel", chat_id=chat, kind=_kind(chat)))


def _kind(chat: int) -> str:
    return "private" if chat > 0 else "group"


async def furnish(h: Harness) -> None:
    """Give the sample city something to answer about: problems (one answered), a leader's
    instruction, a request for more time waiting for approval, a moved milestone."""
    await h.send(OFFICER, "/problem XNY01 用地指标还没有落实")
    await h.press(OFFICER, h.buttons(OFFICER)[0])
    await h.send(OFFICER, "/problem XNY01 环评批复还没有下来")
    await h.press(OFFICER, h.buttons(OFFICER)[0])
    await h.send(LAND_OFFICER, "/reply 1 下周一挂牌")
    await h.send(LEADER, "/instruct XNY01 请尽快完成土地摘牌")
    await h.press(LAND_OFFICER, "go:extend:p:2")
    await h.send(LAND_OFFICER, "下周五")
    await h.send(HEAD, "/due XNY01 2 12月20日")


@pytest.fixture
async def w(
    h: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Watch]:
    await furnish(h)
    store = Store(h)
    watch = Watch(h, caplog, store)
    watch.install(monkeypatch)
    yield watch
    store.close()


# --- the list of commands is the Application's ------------------------------------------


def registered_commands(h: Harness) -> set[str]:
    from telegram.ext import CommandHandler, ConversationHandler

    found: set[str] = set()
    for handlers in h.app.handlers.values():
        for handler in handlers:
            inner = handler.entry_points if isinstance(handler, ConversationHandler) else [handler]
            for one in inner:
                if isinstance(one, CommandHandler):
                    found |= set(one.commands)
    return found


async def test_every_registered_command_is_drawn(h: Harness) -> None:
    assert registered_commands(h) == set(COMMANDS)
    flows = {c.name for c in [*bot.handlers.projects.COMMANDS, *bot.handlers.problems.COMMANDS,
                              *bot.handlers.notices.COMMANDS]}  # fmt: skip
    assert flows == set(FLOWS)


# --- (1) text commands ------------------------------------------------------------------

# Who sends each command of an example, in which language, in which chat.
senders = st.lists(
    st.tuples(member, language, st.sampled_from((False, False, False, True))),
    min_size=len(COMMANDS),
    max_size=len(COMMANDS),
)


@given(
    arg=argument,
    suffix=st.sampled_from(("", "", "", "@wallchart_test_bot", "@WALLCHART_TEST_BOT")),
    sep=st.sampled_from((" ", " ", "\n", "，", "  ", "\u3000")),
    who=senders,
)
@examples(7)
async def test_every_command_with_any_argument(
    w: Watch, arg: str, suffix: str, sep: str, who: list[tuple[int, str, bool]]
) -> None:
    """One argument, as typed after every command, by members of each role and language,
    in a private chat or in a group."""
    for command, (uid, lang, in_group) in zip(COMMANDS, who, strict=True):
        await begin(w, uid, lang)
        chat = GROUP if in_group else uid
        text = f"/{command}{suffix}{sep}{arg}"
        await w.run(message(uid, text, chat_id=chat, kind=_kind(chat)), sep + arg, arg)


@given(who=member, lang=language, text=argument)
@examples(25)
async def test_any_message_that_is_no_command(w: Watch, who: int, lang: str, text: str) -> None:
    await begin(w, who, lang)
    if not text.strip() or text.startswith("/"):
        text = "x" + text
    await w.run(message(who, text), text)


# --- (2) guided flows and buttons -------------------------------------------------------


@st.composite
def payload(draw: st.DrawFn, offered: Sequence[str]) -> str:
    """Button data as a forger or an old client sends it: another flow's, cut, made up."""
    kind = draw(st.integers(0, 4))
    if kind == 0 and offered:
        real = draw(st.sampled_from(offered))
        return real[: draw(st.integers(0, len(real)))]
    if kind == 1 and offered:
        real = draw(st.sampled_from(offered))
        return real + draw(st.sampled_from(("0", "9", ":1", " ", "x", "\x01", "9" * 30)))
    tail = draw(st.one_of(st.sampled_from(TOKENS), any_text, st.integers(-5, 2**40).map(str)))
    return (draw(st.sampled_from(BUTTON_PREFIXES)) + tail)[:64]


@st.composite
def step(draw: st.DrawFn) -> tuple[str, Any]:
    """One thing a member does while a flow waits: type, tap, forge, send a file, leave."""
    kind = draw(st.sampled_from(("type", "type", "tap", "tap", "forge", "photo", "command")))
    if kind == "type":
        return kind, draw(argument)
    if kind == "tap":
        return kind, draw(st.integers(0, 20))
    if kind == "photo":
        return kind, draw(st.one_of(st.just(""), argument))
    if kind == "command":
        return kind, draw(st.sampled_from(("/cancel", "/today", "/progress", "/help")))
    return kind, None  # forged: drawn once the offered buttons are known


@given(
    who=st.lists(st.tuples(member, language), min_size=len(FLOWS), max_size=len(FLOWS)),
    first=st.one_of(
        st.just(""), st.just(""), argument, st.sampled_from(("XNY01", "1", "i:1", "m:2", "p:1"))
    ),
    steps=st.lists(step(), min_size=1, max_size=4),
    data=st.data(),
)
@examples(5)
async def test_every_flow_with_any_answers(
    w: Watch,
    who: list[tuple[int, str]],
    first: str,
    steps: list[tuple[str, Any]],
    data: st.DataObject,
) -> None:
    """Each guided flow opened (with what is typed after the command, often nothing), then
    the same answers: typed text, a tap on an offered button, forged button data, a photo,
    another command."""
    h = w.h
    for command, (uid, lang) in zip(FLOWS, who, strict=True):
        await begin(w, uid, lang)
        await w.run(message(uid, f"/{command} {first}".rstrip()), first)
        for kind, value in steps:
            offered = h.buttons(uid)
            if kind == "type":
                text = value if value.strip() and not value.startswith("/") else "x" + value
                await w.run(message(uid, text), text)
            elif kind == "tap":
                if offered:
                    await w.run(press(uid, offered[value % len(offered)]))
            elif kind == "forge":
                forged = data.draw(payload(offered), label=f"forged for /{command}")
                if forged:
                    await w.run(press(uid, forged), forged)
            elif kind == "photo":
                h.api.files["p1"] = b"\x89PNG"
                await w.run(photo(uid, "p1", value), value)
            else:
                await w.run(message(uid, value), value)


@given(who=member, lang=language, data=st.data())
@examples(60)
async def test_any_button_data(w: Watch, who: int, lang: str, data: st.DataObject) -> None:
    """Every button the bot ever sent, cut or lengthened, and made-up ones, to anyone."""
    await begin(w, who, lang)
    offered = sorted({b for uid in MEMBERS for b in w.h.api.all_buttons(uid)})
    forged = data.draw(payload(offered), label="forged")
    if forged:
        await w.run(press(who, forged), forged)


# --- (3) the ledger importer ------------------------------------------------------------

LEDGER_HEADERS = {
    "code": ("项目编号", "code", "编号", "项目代码"),
    "name": ("项目名称", "name", "项目"),
    "enterprise": ("企业名称", "投资主体", "enterprise"),
    "industry": ("产业", "所属行业", "industry"),
    "investment": (
        "计划投资(万元)",
        "总投资（亿元）",
        "投资额/元",
        "investment",
        "协议投资（万美元）",
        "计划投资",
    ),
    "land_mu": ("用地面积(亩)", "占地（公顷）", "用地，平方米", "land_mu"),
    "stage": ("阶段", "项目状态", "stage"),
    "unit": ("责任单位", "unit", "属地单位"),
    "target_signed": ("签约目标", "签约时间"),
    "target_started": ("开工目标", "计划开工"),
    "target_operating": ("投产目标", "竣工投产时间"),
    "extra": ("序号", "备注", "", "合计"),
}

NUMBERS = (
    350000, 0, -1, 45000.5, 1.0e15, 10**30, "120,000", "8.6亿元", "3500万", "1,200元", "１２万元",
    "-5万元", "1e5", "∞", "NaN", "inf", "12万美元", "40公顷", "5平方米", "１２", "0.001", ".5",
    "1" * 40, "9" * 13, "十二万", "约3亿", "3 亿 元", True, "", " ", "—",
)  # fmt: skip
DATES = (
    date(2026, 3, 15), datetime(2026, 9, 30, 8, 0), "2026/03/01", "2026-8-31", "2026年6月",
    "2026年6月30日", "2026.10", 2026.1, 2026.3, 2026.12, 46000, 46000.5, 0, -3, 10**9,
    "0000-00-00", "2026-02-30", "3/1/2026", "2026-13-01", "明年", "2026年", "99999-01-01",
    "1899-12-31", "2101-01-01", "", None, "2026-06-30 00:00:00", "２０２６－０６－３０",
)  # fmt: skip
TEXTS = (
    "QS01", "qs01", "ＱＳ０１", "QS 01", "合计", "小计（3个）", "一、新开工项目（2个）", "城东街道",
    "城西镇", "新能源", "新能源产业", "生物医药", "火星产业", "签约", "在建", "暂缓", "终止",
    "<b>x</b>", "=SUM(A1:A3)", "=1/0", "'=1+1", "😀", "\u3000", "很" * 300, "A" * 21, "株" * 20,
    "㍿" * 6, "ﷺ" * 2, "ß" * 11, "ﬃ" * 7, "Ⅻ", "乡镇", "街道", "领导", "中心", "部门",
)  # fmt: skip

# Project codes as ledgers write them, and as they should not: some longer once folded
# (`㍿` is `株式会社`, `ß` is `SS`), some the store has (XNY01: an update, not a new row).
CODES = (
    "QS01", "qs01", "ＱＳ０１", "QS 01", "XNY01", "xny01", "SW02", "2026001", 2026001.0,
    "A" * 20, "A" * 21, "㍿" * 6, "ß" * 11, "ﬃ" * 7, "ﷺ", "\u00ad", "合计", "小计（3个）",
    "=A1", "'=1+1", "<b>", "\u3000QS02\u3000",
)  # fmt: skip
UNIT_NAMES = (
    "城东街道", "城西镇", "城东街道 ", "城东街道\x01", "城东街道（东区）", "自然资源局",
    "招商服务中心", "市领导", "CHENGDONG", "新区",
)  # fmt: skip

cell = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(DATES),
    st.sampled_from(TEXTS),
    st.none(),
    any_text,
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
)


@dataclass
class Sheet:
    title: str
    rows: list[list[Any]]
    merged: list[tuple[int, int, int, int]]


def good_project(code: str, unit: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": "年产10GWh储能电池项目",
        "enterprise": "澜岳新能源科技有限公司",
        "industry": "新能源",
        "investment": 350000,
        "land_mu": 600,
        "stage": "签约",
        "unit": unit,
        "target_signed": date(2026, 3, 15),
        "target_started": "2026-09-30",
        "target_operating": "2027/12/31",
        "extra": None,
    }


@st.composite
def project_sheet(draw: st.DrawFn) -> Sheet:
    """A projects sheet: a header (some columns left out, some written another way) and
    rows that start good, with any cells replaced by anything; maybe merged cells."""
    fields = draw(
        st.lists(st.sampled_from(list(LEDGER_HEADERS)), min_size=1, max_size=14).map(
            lambda fs: list(dict.fromkeys(fs))
        )
    )
    fields = fields if draw(st.integers(0, 3)) else list(LEDGER_HEADERS)
    header = [draw(st.sampled_from(LEDGER_HEADERS[f])) for f in fields]
    rows: list[list[Any]] = []
    if draw(st.booleans()):
        rows.append([draw(st.sampled_from(("单位：亿元", "2026年项目台账", "单位：万美元", "")))])
    rows.append(header)
    n = draw(st.integers(0, 5))
    for i in range(n):
        code = draw(st.one_of(st.just(f"P{i:02d}"), st.sampled_from(CODES), cell))
        base = good_project(code, draw(st.one_of(st.sampled_from(UNIT_NAMES), cell)))
        row = [base[f] for f in fields]
        for _ in range(draw(st.integers(0, 3))):
            if row:
                row[draw(st.integers(0, len(row) - 1))] = draw(cell)
        rows.append(row)
    merged: list[tuple[int, int, int, int]] = []
    for _ in range(draw(st.integers(0, 2))):
        r1 = draw(st.integers(1, len(rows) + 1))
        c1 = draw(st.integers(1, max(len(fields), 1)))
        merged.append((r1, c1, r1 + draw(st.integers(0, 3)), c1 + draw(st.integers(0, 2))))
    title = draw(st.sampled_from(("项目", "projects", "Sheet1", "台账", "<b>项目</b>")))
    return Sheet(title, rows, merged)


@st.composite
def unit_sheet(draw: st.DrawFn) -> Sheet:
    rows: list[list[Any]] = [["单位名称", "类型", "上级单位"]]
    names = ("城东街道", "城西镇", "新区", "新区管委会", "很" * 120, "招商服务中心", "<i>局</i>")
    for _ in range(draw(st.integers(0, 4))):
        rows.append(
            [
                draw(st.one_of(st.sampled_from(names), cell)),
                draw(st.one_of(st.sampled_from(("乡镇", "街道", "部门", "中心", "领导")), cell)),
                draw(st.one_of(st.sampled_from((*names, None)), cell)),
            ]
        )
    return Sheet("单位", rows, [])


@dataclass
class LedgerFile:
    name: str
    content: bytes
    sheets: list[Sheet]


def _xlsx_cell(value: Any) -> Any:
    # A workbook cannot hold control characters (openpyxl refuses them): a CSV can.
    if isinstance(value, str):
        return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", value)
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    return value


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> None:
    wb = openpyxl.Workbook()
    for n, sheet in enumerate(sheets):
        ws = wb.worksheets[0] if n == 0 else wb.create_sheet()
        ws.title = re.sub(r"[\\/*?:\[\]]", "", sheet.title)[:31] or f"S{n}"
        for row in sheet.rows:
            ws.append([_xlsx_cell(v) for v in row])
        for r1, c1, r2, c2 in sheet.merged:
            if (r1, c1) != (r2, c2):
                ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    wb.save(path)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


@st.composite
def ledger_file(draw: st.DrawFn, folder: Path) -> LedgerFile:
    """A workbook (units and projects, or projects alone), a CSV in some encoding, or junk."""
    kind = draw(st.sampled_from(("xlsx", "xlsx", "csv", "csv", "junk")))
    projects = draw(project_sheet())
    if kind == "xlsx":
        sheets = [draw(unit_sheet()), projects] if draw(st.booleans()) else [projects]
        path = folder / "upload.xlsx"
        write_workbook(path, sheets)
        return LedgerFile(
            draw(st.sampled_from(("台账.xlsx", "<b>x</b>.xlsx", "a.XLSX"))),
            path.read_bytes(),
            sheets,
        )
    if kind == "csv":
        buffer = io.StringIO()
        delimiter = draw(st.sampled_from((",", ";", "\t")))
        csv.writer(buffer, delimiter=delimiter).writerows(
            [_csv_cell(v) for v in row] for row in projects.rows
        )
        encoding = draw(st.sampled_from(("utf-8-sig", "utf-8", "gb18030", "utf-16")))
        content = buffer.getvalue().encode(encoding, errors="replace")
        return LedgerFile(
            draw(st.sampled_from(("台账.csv", "x.CSV", "ledger.txt"))), content, [projects]
        )
    junk = draw(
        st.sampled_from(
            (b"PK\x03\x04broken", b"\xd0\xcf\x11\xe0old", b"", b"\xff\xfe\x00", b"\x80\x81\xfe")
        )
    ) + draw(st.binary(max_size=64))
    return LedgerFile(
        draw(st.sampled_from(("台账.xlsx", "台账.csv", "台账.pdf", "noname"))), junk, []
    )


def ledger_words(file: LedgerFile) -> list[str]:
    """The texts of the file and the importer's own column labels: what an error may quote."""
    found = [file.name, *(s.title for s in file.sheets)]
    for sheet in file.sheets:
        for row in sheet.rows:
            found += [_csv_cell(v) for v in row]
    found += [c.label for c in (*UNIT_COLUMNS, *PROJECT_COLUMNS)]
    return [v for text in found for v in variants(text)]


async def store_rows(session: AsyncSession) -> tuple[Any, ...]:
    units = (await session.execute(select(Unit.name, Unit.kind, Unit.parent_id))).all()
    projects = (await session.execute(select(Project.code, Project.name, Project.investment))).all()
    audit = await session.scalar(select(func.count()).select_from(AuditLog))
    return sorted(units, key=repr), sorted(projects, key=repr), audit


INDUSTRIES = Config().city.industries


@given(data=st.data())
@examples(40)
async def test_the_importer_refuses_any_file_whole(
    session: AsyncSession, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """read_ledger and import_ledger on any file: the rows, or a LedgerError and no change;
    every error said in both languages, the English one without Chinese of its own."""
    folder = tmp_path_factory.mktemp("ledger")
    file = data.draw(ledger_file(folder), label="file")
    suffix = Path(file.name).suffix.lower() or ".xlsx"
    path = folder / f"ledger{suffix}"
    path.write_bytes(file.content)
    set_actor(session, None)
    before = await store_rows(session)
    try:
        ledger = read_ledger(path)
        await import_ledger(session, ledger, INDUSTRIES)
    except LedgerError as exc:
        assert exc.errors
        assert await store_rows(session) == before
        haystack = "\x00".join([*ledger_words(file), path.name, *DATA_WORDS, *MEANT])
        for error in exc.errors:
            zh, en = (error_line(lang, error, INDUSTRIES) for lang in ("zh", "en"))
            assert CJK.search(zh), zh
            assert not foreign(en, haystack), (en, foreign(en, haystack))
    finally:
        await session.rollback()


@given(
    who=st.sampled_from((COORD, ADMIN, OFFICER)),
    lang=language,
    offered=st.booleans(),
    data=st.data(),
)
@examples(30)
async def test_an_uploaded_ledger_of_any_content(
    w: Watch,
    tmp_path_factory: pytest.TempPathFactory,
    who: int,
    lang: str,
    offered: bool,
    data: st.DataObject,
) -> None:
    """/import with any file, or the file sent alone and its import button pressed."""
    h = w.h
    await begin(w, who, lang)
    file = data.draw(ledger_file(tmp_path_factory.mktemp("upload")), label="file")
    file_id = f"f{len(h.api.files) + 1}"
    h.api.files[file_id] = file.content
    quoted = ledger_words(file)
    caption = "" if offered else "/import"
    turn = await w.run(document(who, file_id, file.name, caption), *quoted)
    buttons = h.buttons(who)
    if offered and buttons and buttons[0].startswith("imp:"):
        await w.run(press(who, buttons[0]), *quoted)
    assert turn.replies or (offered and not file.name.lower().endswith((".xlsx", ".csv")))


# --- (4) what the handlers stand on: words, numbers, dates ------------------------------

DATE_WORDS = (
    "12月5日前", "下周五", "下下周五", "本周五", "周末", "月初", "上旬", "中旬", "下旬", "月底",
    "年初", "年中", "上半年", "年底", "季度末", "下季度", "一季度", "Q3", "元旦", "春节", "过年",
    "除夕", "元宵", "清明", "劳动节", "五一", "端午", "中秋", "国庆", "十一", "春节后3个工作日内",
    "春节后一周内", "年前", "节后", "节前", "腊月十五", "正月十五", "农历八月十五", "二月初二",
    "闰二月十五", "元月底", "次月5日", "12月8日至12日", "周三至周五", "12/8-12/12", "Mon to Wed",
    "周五三点前", "by EOD tomorrow", "下午5点前", "17:30", "今晚8点", "5pm", "第二个周五",
    "下月第一个周一", "本月最后一个周五", "the first Monday of January", "第50周", "week 50",
    "每月20日前", "每周五", "每两周报一次", "every two weeks", "5th of this month",
    "next month 8th", "next June", "十二月廿八", "99999年", "第0周", "第99周", "0月0日", "2月29日",
    "2月30日", "13月1日", "32号", "99999999天内", "in 99999999 days", "within 999999999999 months",
    "下下下下下下下下下下周五", "2100年春节前", "1999年12月31日", "前", "内", "请", "之前", "至",
)  # fmt: skip
date_text = st.one_of(
    st.lists(
        st.tuples(st.one_of(st.sampled_from(DATE_WORDS), token), st.sampled_from(SEPARATORS)),
        min_size=1,
        max_size=5,
    ).map(lambda parts: "".join(word + sep for word, sep in parts)),
    any_text,
    long_text.map(lambda text: text[:1500]),
)


@given(text=date_text, today=st.dates(date(2000, 1, 1), date(2099, 12, 31)))
@examples(150)
def test_any_text_read_as_a_deadline(text: str, today: date) -> None:
    """The date field's reader and the free text's: a day or None, never an exception, and
    the words it quotes are the text's own."""
    for read in (parse_deadline_detail, deadline_in_text):
        found = read(text, today)
        if found is not None:
            assert isinstance(found.day, date)
            assert found.matched in text


# What parts words, once folded: blanks and the separators bot.input names.
SEPARATOR = re.compile(r"[\s,:;，：、；]")


@given(text=st.one_of(argument, st.sampled_from(TOKENS)))
@examples(150)
def test_any_text_read_as_words_and_numbers(text: str) -> None:
    """Codes, ids and numbers from any text: words without separators, numbers within an
    id's range, and a command line's rest the text's own tail."""
    for word in words(text):
        assert word and not SEPARATOR.search(word), word
    first, rest = take_word(text)
    assert first or not rest
    found = number(text)
    assert found is None or 0 <= found <= 2**31 - 1
    name, _, tail = split_command(text)
    assert text.endswith(tail) and (name == "" or text.startswith("/"))
    assert all(part in text for part in raw_words(text))


# --- faults the properties found, each as a kind, with its variants ---------------------


def _ledger_csv(tmp_path: Path, rows: Sequence[Sequence[Any]], delimiter: str = ",") -> Path:
    path = tmp_path / "ledger.csv"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows([[_csv_cell(v) for v in r] for r in rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


PROJECT_HEADER = ["code", "name", "industry", "investment", "land_mu", "unit"]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("investment", "1" * 40),
        ("investment", "9" * 29 + "亿元"),
        ("investment", "123456789012345678901234567890.5万元"),
        ("land_mu", "7" * 35),
        ("land_mu", "8" * 30 + "平方公里"),
    ],
)
def test_a_number_past_the_decimal_precision_is_too_large(
    tmp_path: Path, column: str, value: str
) -> None:
    """Rounding to cents raised InvalidOperation for a number of more than 28 digits."""
    row = ["Q1", "甲", "新能源", 1000, 10, "城东街道"]
    row[PROJECT_HEADER.index(column)] = value
    ledger = read_ledger(_ledger_csv(tmp_path, [PROJECT_HEADER, row]))
    assert [(e.row, e.key) for e in ledger.errors] == [(2, "ledger.too_large")]


@pytest.mark.parametrize("value", [10**30, 1.0e300, 123456789012345678901234567890.0])
def test_a_huge_number_in_a_workbook_is_too_large(tmp_path: Path, value: float) -> None:
    path = tmp_path / "ledger.xlsx"
    row = ["Q1", "甲", "新能源", value, value, "城东街道"]
    write_workbook(path, [Sheet("项目", [PROJECT_HEADER, row], [])])
    ledger = read_ledger(path)
    assert [(e.row, e.key) for e in ledger.errors] == [(2, "ledger.too_large")] * 2


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe" + "code,name".encode("utf-16-le") + b"\x00",  # cut in a character
        b"\xff\xfe\x00\xd8",  # a lone high surrogate, little-endian
        b"\xfe\xff\xdc\x00code",  # a lone low surrogate, big-endian
        b"\xff\xfeA",  # nothing but the mark and a byte
    ],
)
def test_a_unicode_csv_that_does_not_decode_is_refused(tmp_path: Path, data: bytes) -> None:
    """A UTF-16 byte order mark over bytes that are no UTF-16 raised UnicodeDecodeError."""
    path = tmp_path / "ledger.csv"
    path.write_bytes(data)
    with pytest.raises(LedgerError) as refused:
        read_ledger(path)
    assert [e.key for e in refused.value.errors] == ["ledger.bad_encoding"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("where", ["cell", "open quote"])
def test_a_csv_cell_past_the_readers_limit_is_refused(
    tmp_path: Path, delimiter: str, where: str
) -> None:
    """The csv module's field limit (131,072 characters) raised csv.Error."""
    path = tmp_path / "ledger.csv"
    long = "很" * 140_000
    cell = long if where == "cell" else '"' + long  # a quote never closed runs to the end
    row = delimiter.join(["Q1", cell, "新能源", "1", "城东街道"])
    path.write_text(delimiter.join([*PROJECT_HEADER[:4], "unit"]) + "\n" + row + "\n")
    with pytest.raises(LedgerError) as refused:
        read_ledger(path)
    assert [e.key for e in refused.value.errors] == ["ledger.unreadable"]


async def _east(session: AsyncSession) -> None:
    set_actor(session, None)
    session.add(Unit(name="城东街道", kind=UnitKind.SUBDISTRICT))
    await session.flush()


@pytest.mark.parametrize("code", ["㍿" * 6, "ß" * 11, "ﬃ" * 7, "ｱﾞ" * 11])
async def test_a_code_longer_once_folded_is_too_long(
    session: AsyncSession, tmp_path: Path, code: str
) -> None:
    """The width of a code was checked before NFKC and capitals made it longer: PostgreSQL
    refused the row (varchar(20)) and SQLite kept a code no export could read back."""
    await _east(session)
    before = await store_rows(session)
    ledger = read_ledger(
        _ledger_csv(tmp_path, [PROJECT_HEADER, [code, "甲", "新能源", 1, 1, "城东街道"]])
    )
    with pytest.raises(LedgerError) as refused:
        await import_ledger(session, ledger, INDUSTRIES)
    assert [(e.row, e.key) for e in refused.value.errors] == [(2, "ledger.too_long")]
    assert await store_rows(session) == before


async def test_a_code_as_wide_as_the_column_once_folded_is_imported(
    session: AsyncSession, tmp_path: Path
) -> None:
    await _east(session)
    ledger = read_ledger(
        _ledger_csv(tmp_path, [PROJECT_HEADER, ["㍿" * 5, "甲", "新能源", 1, 1, "城东街道"]])
    )
    await import_ledger(session, ledger, INDUSTRIES)
    stored = await session.scalar(select(Project.code))
    assert stored == "株式会社" * 5


def test_the_columns_read_are_punctuated_in_the_readers_language() -> None:
    """The import's summary listed the columns with `，`, `；`, `【】` and `（）` in English."""
    result = ImportResult(
        columns=(
            ColumnUse("单位", "单位名称", "name", "单位名称 / name"),
            ColumnUse("项目", "总投资（亿元）", "investment", "计划投资 / investment", "亿元→万元"),
            ColumnUse("项目", "项目编号", "code", "项目编号 / code"),
            ColumnUse("项目", "备注"),
            ColumnUse("项目", "序号"),
        )
    )
    en = result.as_params("en")
    assert en["columns"] == (
        "[单位] “单位名称”→单位名称 / name; "
        "[项目] “总投资（亿元）”→计划投资 / investment (亿元→万元), “项目编号”→项目编号 / code"
    )
    assert en["ignored"] == "[项目] “备注”, “序号”"
    zh = result.as_params("zh")
    assert zh == result.as_params()
    assert zh["columns"] == (
        "【单位】“单位名称”→单位名称 / name；"
        "【项目】“总投资（亿元）”→计划投资 / investment（亿元→万元），“项目编号”→项目编号 / code"
    )
    assert zh["ignored"] == "【项目】“备注”、“序号”"


async def test_an_english_member_reads_the_import_in_english_punctuation(h: Harness) -> None:
    """The allowed industries (joined with `、`) and the columns read, for each language."""
    unknown = "code,name,industry,investment,unit\nQ2,甲,火星,3,城东街道\n"
    good = "项目编号,项目名称,产业,总投资（亿元）,责任单位,备注,序号\nQ1,甲,新能源,3,城东街道,x,1\n"
    zh_refusal = (await h.upload(COORD, unknown.encode(), "a.csv"))[0]
    assert "（新能源、新材料、生物医药、高端装备制造、现代服务业）" in zh_refusal
    await h.send(COORD, "/lang en")
    en_refusal = (await h.upload(COORD, unknown.encode(), "a.csv"))[0]
    assert "(新能源, 新材料, 生物医药, 高端装备制造, 现代服务业)" in en_refusal
    summary = (await h.upload(COORD, good.encode(), "b.csv"))[0]
    assert "→计划投资 / investment (亿元→万元), “责任单位”" in summary
    assert "Columns not used: “备注”, “序号”" in summary
    for text in (en_refusal, summary):
        assert not re.search("[，；、【】]", text), text


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("XNY01﹐3", ["XNY01", "3"]),  # the small comma
        ("XNY01︐3", ["XNY01", "3"]),  # the vertical comma
        ("XNY01､3", ["XNY01", "3"]),  # the half-width ideographic comma
        ("ＸＮＹ０１﹕３", ["XNY01", "3"]),  # the small colon, full-width letters
        ("XNY01\u037e3", ["XNY01", "3"]),  # the Greek question mark, which is a semicolon
        ("﹐XNY01", ["XNY01"]),
        ("🄂3", ["1", "3"]),  # DIGIT ONE COMMA
    ],
)
def test_a_separator_typed_in_another_form_parts_words(typed: str, read: list[str]) -> None:
    """A mark that folds to a separator was kept inside the word: `XNY01﹐3` was one code."""
    assert words(typed) == read


async def test_a_code_and_text_parted_by_a_small_comma(h: Harness) -> None:
    reply = (await h.send(OFFICER, "/progress XNY01﹐完成土地预审"))[0]
    assert "已记录 XNY01" in reply
    async with h.sessions() as s:
        assert await s.scalar(select(ProgressReport.text)) == "完成土地预审"


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("1" * 4400, None),  # past Python's 4,300 digits for int()
        ("＃" + "１" * 5000, None),
        ("0" * 5000 + "12", 12),  # leading zeros do not make a number larger
        ("2147483647", 2**31 - 1),
        ("2147483648", None),
        ("0" * 20, 0),
    ],
)
def test_a_number_of_thousands_of_digits_is_no_id(typed: str, read: int | None) -> None:
    """int() raised ValueError for a digit run over 4,300 digits long."""
    assert number(typed) == read
