"""The permission matrix, through the real bot: every command and every button, for every
role, on its own unit's items and on another unit's.

The rows come from the Application itself (the commands and button prefixes it registers),
so a command or button added without a row here fails `test_every_command_and_button_has_a_row`.
What each call should do comes from `storage.rules.PERMISSIONS`; whether it did is read
from what the bot said (in the member's own language) and from the store afterwards: an
allowed call says its success and changes its item, a refused one says a refusal and
leaves every table as it was. Forged button payloads (another unit's problem, milestone,
instruction, request for more time, ledger offer, Undo or flow button) are refused, change
nothing and are logged.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import shutil
import string
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler

from bot.flow import Ask
from bot.texts import CATALOG
from storage import undo as undo_store
from storage.db import SessionMaker, make_engine, make_sessionmaker, set_actor
from storage.models import (
    AuditLog,
    Base,
    Extension,
    Instruction,
    Invite,
    Member,
    Milestone,
    Outbox,
    Problem,
    ProblemCategory,
    ProblemReply,
    ProblemStatus,
    ProgressReport,
    Project,
    Role,
    Unit,
    UnitKind,
)
from storage.rules import PERMISSIONS, Action, allowed
from tests.fakebot import document, message, press
from tests.harness import (
    COORD,
    LEADER,
    NOW,
    OFFICER,
    OTHER_OFFICER,
    Harness,
    seed,
    start_harness,
)
from tests.stores import PgStores, on_postgresql

# --- the rows: every command and button the Application registers -----------------------

# Each command with the rights it exercises; () for a command every member may use.
COMMAND_ROWS: dict[str, tuple[Action, ...]] = {
    "start": (),
    "help": (),
    "lang": (),
    "cancel": (),
    "today": (),
    # Every unit sees how it compares (storage/ranking.py).
    "rank": (),
    "project": (Action.VIEW,),
    "projects": (Action.VIEW,),
    "chart": (Action.VIEW,),
    "board": (Action.VIEW,),
    "instructions": (Action.VIEW,),
    "progress": (Action.LOG_PROGRESS,),
    "problem": (Action.RAISE_PROBLEM,),
    "reply": (Action.ANSWER_PROBLEM,),
    # /ack 12 is a problem's receipt, /ack i3 an instruction's.
    "ack": (Action.ANSWER_PROBLEM, Action.CARRY_OUT),
    "resolve": (Action.RESOLVE_PROBLEM,),
    "reopen": (Action.RESOLVE_PROBLEM,),
    "done": (Action.MARK_DONE,),
    "due": (Action.SET_DUE,),
    "stage": (Action.SET_STAGE,),
    "plan": (Action.PLAN,),
    "instruct": (Action.INSTRUCT,),
    "fulfil": (Action.CARRY_OUT,),
    "report": (Action.REPORT,),
    "invite": (Action.INVITE,),
    "import": (Action.IMPORT,),
    "link": (Action.LINK_GROUP,),
    "urge": (Action.URGE,),
    "extend": (Action.ASK_MORE_TIME,),
}

# Each button prefix with the rights it exercises; () for one every member may press.
# `go:` opens any flow command with its first field (each `go:<command>` is probed) and
# `f:` answers a flow's question (FLOW_PRESSES). None: the catch-all for a button no
# handler knows. `un:` is Undo, whose rule is storage.undo's, not the table's (undo_rule).
BUTTON_ROWS: dict[str | None, tuple[Action, ...]] = {
    "lang:": (),
    None: (),
    "go:": (),
    "f:": (),
    "un:": (),
    "nc:": (Action.LOG_PROGRESS,),
    "ack:": (Action.ANSWER_PROBLEM,),
    "md:": (Action.MARK_DONE,),
    "in:ack:": (Action.CARRY_OUT,),
    "xa:": (Action.GRANT_MORE_TIME,),
    "xr:": (Action.GRANT_MORE_TIME,),
    "imp:": (Action.IMPORT,),
}

# Where each kind of flow answer pressed as a button (`f:<ask>:<value>`) is exercised: by
# a matrix probe or a forged payload of that name. Dates and text are typed, not pressed.
FLOW_PRESSES: dict[Ask, str] = {
    Ask.PROJECT: "f:project",
    Ask.PROBLEM: "f:problem",
    Ask.ITEM: "f:item",
    Ask.MILESTONE: "f:milestone",
    Ask.STAGE: "go:stage",
    Ask.UNIT: "f:unit",
    Ask.DATE: "typed",
    Ask.TEXT: "typed",
}


def undo_rule(role: Role, own: bool) -> bool:
    """Undo is for who made the change, or a coordinator (storage.undo, README: Undo)."""
    return own or role is Role.COORDINATOR


def registered(app: Any) -> tuple[set[str], set[str | None], set[str]]:
    """The commands, the button prefixes and the flow commands (which `go:` opens) that
    APP registers, read from its handlers."""
    commands: set[str] = set()
    prefixes: set[str | None] = set()
    flows: set[str] = set()

    def walk(handler: object, in_flow: bool = False) -> None:
        if isinstance(handler, ConversationHandler):
            for inner in handler.entry_points:
                walk(inner, in_flow=True)
            for state in handler.states.values():
                for inner in state:
                    walk(inner)
            for inner in handler.fallbacks:
                walk(inner)
        elif isinstance(handler, CommandHandler):
            commands.update(handler.commands)
            if in_flow:
                flows.update(handler.commands)
        elif isinstance(handler, CallbackQueryHandler):
            pattern = handler.pattern
            if pattern is None:
                prefixes.add(None)
            else:
                raw = pattern.pattern if isinstance(pattern, re.Pattern) else str(pattern)
                prefixes.add(raw.removeprefix("^"))

    for group in app.handlers.values():
        for handler in group:
            walk(handler)
    return commands, prefixes, flows


# --- the city: for each role a unit of its own and another unit, with one of everything --


@dataclass(frozen=True)
class Place:
    """A unit of the world: its name and kind, its project and a colleague (an officer;
    a leader in the leadership) who raises, asks and is urged there."""

    name: str
    kind: UnitKind
    code: str
    mate: int


# The sample's units (tests.harness.seed) and new ones; every role has a home and another
# unit of its own, so that the five roles can be tried one after the other on one store.
PLACES: dict[str, Place] = {
    "east": Place("城东街道", UnitKind.SUBDISTRICT, "XNY01", 103),
    "south": Place("城南街道", UnitKind.SUBDISTRICT, "CN01", 105),
    "center": Place("招商服务中心", UnitKind.CENTER, "ZX01", 303),
    "lead": Place("市领导", UnitKind.LEADERSHIP, "LD01", 402),
    "data": Place("大数据局", UnitKind.DEPARTMENT, "DSJ01", 506),
    "west": Place("城西镇", UnitKind.TOWNSHIP, "SW02", OTHER_OFFICER),
    "north": Place("北山镇", UnitKind.TOWNSHIP, "BS01", 202),
    "lake": Place("南湖镇", UnitKind.TOWNSHIP, "NH01", 203),
    "ridge": Place("东岭镇", UnitKind.TOWNSHIP, "DL01", 204),
    "plain": Place("西坪镇", UnitKind.TOWNSHIP, "XP01", 205),
}
SEEDED = ("east", "west", "center")
# Each role's member under test (the sample's, or a new head and admin with units of
# their own), its home and the other unit it is tried on.
TESTED: dict[Role, tuple[int, str, str]] = {
    Role.OFFICER: (OFFICER, "east", "west"),
    Role.HEAD: (104, "south", "north"),
    Role.COORDINATOR: (COORD, "center", "lake"),
    Role.LEADER: (LEADER, "lead", "ridge"),
    Role.ADMIN: (505, "data", "plain"),
}
# What an invite for a unit of each kind is made for: a role that fits it.
INVITED = {UnitKind.CENTER: "coordinator", UnitKind.LEADERSHIP: "leader"}
DUE = date(2026, 12, 10)
UNDONE = date(2026, 12, 30)  # where an undo offer puts its milestone's date back
# "own": the member's unit's items, and what he did himself; "mate": his unit's, done by
# a colleague; "other": another unit's; "any": a call about no one unit's item.
SCOPES = ("own", "mate", "other", "any")


@dataclass(frozen=True)
class Spot:
    """What a probe works on: the member, and the items of the unit in scope."""

    role: Role
    uid: int
    scope: str
    unit: int
    unit_name: str
    kind: UnitKind
    code: str
    milestone: int  # number 1 of the project, open
    answer: int  # a problem routed to the unit, open
    raised: int  # answered, waiting for its raiser: the member (own), a colleague, another
    instruction: int  # to the unit, open
    extension: int  # a request for more time on the unit's milestone, by the colleague
    offer: int  # an undo offer by the member (own), the colleague or another unit's
    offered: int  # the milestone whose date the offer puts back
    land: int  # where problems are sent
    lead: int  # the leadership, which answers no problem
    group: int  # a group chat of the member's
    new_code: str  # the project the member's ledger brings

    @property
    def own(self) -> bool:
        return self.scope in ("own", "any")

    def fields(self) -> dict[str, Any]:
        """What a probe's steps are formatted with."""
        return {**vars(self), "invited": self.invited}

    @property
    def invited(self) -> str:
        return INVITED.get(self.kind, "officer")

    @property
    def ledger(self) -> bytes:
        return (
            f"code,name,industry,investment,unit\n{self.new_code},新项目,新能源,1000,城东街道\n"
        ).encode()


@dataclass
class World:
    units: dict[str, int] = field(default_factory=dict)
    milestone: dict[str, int] = field(default_factory=dict)
    later: dict[str, int] = field(default_factory=dict)  # another open milestone
    answer: dict[str, int] = field(default_factory=dict)
    instruction: dict[str, int] = field(default_factory=dict)
    extension: dict[str, int] = field(default_factory=dict)
    raised: dict[tuple[Role, str], int] = field(default_factory=dict)
    offer: dict[tuple[Role, str], int] = field(default_factory=dict)

    def spot(self, role: Role, scope: str) -> Spot:
        uid, home, other = TESTED[role]
        place = other if scope == "other" else home
        mine = "own" if scope == "any" else scope
        return Spot(
            role,
            uid,
            scope,
            self.units[place],
            PLACES[place].name,
            PLACES[place].kind,
            PLACES[place].code,
            self.milestone[place],
            self.answer[place],
            self.raised[role, mine],
            self.instruction[place],
            self.extension[place],
            self.offer[role, mine],
            self.later[place] if mine == "mate" else self.milestone[place],
            self.units["land"],
            self.units["lead"],
            -7000 - 10 * list(Role).index(role) - SCOPES.index(scope),
            f"NEW{list(Role).index(role)}",
        )


async def build_world(sessions: SessionMaker, ids: dict[str, int]) -> World:
    """On top of the sample city (tests.harness.seed, whose IDS are given): the PLACES
    and their people; in every place a project with two open milestones, a problem to
    answer, an instruction and a request for more time; for every role a problem and an
    undo offer of the member's, of a colleague's and of another unit's."""
    w = World(units={key: ids[key] for key in (*SEEDED, "land")})
    yesterday = NOW - timedelta(days=1)
    async with sessions() as s:
        set_actor(s, None)
        w.units["lead"] = await s.scalar(select(Unit.id).where(Unit.kind == UnitKind.LEADERSHIP))
        new = {
            k: Unit(name=p.name, kind=p.kind, parent_id=ids["center"])
            for k, p in PLACES.items()
            if k not in w.units
        }
        s.add_all(new.values())
        await s.flush()
        w.units.update({k: u.id for k, u in new.items()})
        people = [
            (p.mate, k, Role.LEADER if k == "lead" else Role.OFFICER)
            for k, p in PLACES.items()
            if p.mate != OTHER_OFFICER  # the sample's
        ]
        people += [(TESTED[r][0], TESTED[r][1], r) for r in (Role.HEAD, Role.ADMIN)]
        s.add_all(
            Member(tg_user_id=uid, name=f"同事{uid}", unit_id=w.units[k], role=role)
            for uid, k, role in people
        )
        s.add_all(
            Project(
                code=p.code,
                name=f"{p.name}项目",
                industry="新能源",
                investment=5000,
                unit_id=w.units[k],
            )
            for k, p in PLACES.items()
            if k not in ("east", "west")  # the sample's
        )
        await s.flush()
        members = {m.tg_user_id: m.id for m in (await s.scalars(select(Member))).all()}
        projects = {p.code: p.id for p in (await s.scalars(select(Project))).all()}
        s.add_all(
            Milestone(
                project_id=projects[p.code],
                seq=seq,
                title=f"节点{seq}",
                kind="other",
                planned_date=DUE,
                owner_unit_id=w.units[k],
            )
            for k, p in PLACES.items()
            if k != "east"
            for seq in (1, 2)
        )
        await s.flush()
        ms = {(m.project_id, m.seq): m for m in (await s.scalars(select(Milestone))).all()}
        first = {k: ms[projects[p.code], 1] for k, p in PLACES.items()}
        # The sample's XNY01 has the land bureau's number 2 and its own number 3.
        later = {k: ms[projects[p.code], 3 if k == "east" else 2] for k, p in PLACES.items()}
        rows: dict[tuple[str, Any], Any] = {}
        for k, p in PLACES.items():
            w.milestone[k], w.later[k] = first[k].id, later[k].id
            rows["answer", k] = Problem(
                project_id=projects[p.code],
                raiser_id=members[p.mate],
                text=f"{p.name}需要协调的问题",
                category=ProblemCategory.OTHER,
                unit_id=w.units[k],
                reply_deadline=date(2026, 12, 8),
                created_at=yesterday,
            )
            rows["instruction", k] = Instruction(
                leader_id=members[PLACES["lead"].mate],
                project_id=projects[p.code],
                text=f"加快推进{p.code}",
                unit_id=w.units[k],
                deadline=DUE,
                created_at=yesterday,
            )
            old = later[k].planned_date
            assert old is not None
            rows["extension", k] = Extension(
                item_kind="milestone",
                item_id=later[k].id,
                requester_id=members[p.mate],
                old_date=old,
                new_date=old + timedelta(days=14),
            )
        # Who made each role's raised problem and undo offer, where, on which milestone.
        makers: dict[tuple[Role, str], tuple[int, str, Milestone]] = {}
        for role, (uid, home, other) in TESTED.items():
            makers[role, "own"] = (uid, home, first[home])
            makers[role, "mate"] = (PLACES[home].mate, home, later[home])
            makers[role, "other"] = (PLACES[other].mate, other, first[other])
        for key, (uid, k, _) in makers.items():
            rows["raised", key] = Problem(
                project_id=projects[PLACES[k].code],
                raiser_id=members[uid],
                text="供地手续请尽快办理",
                category=ProblemCategory.LAND,
                unit_id=w.units["land"],
                reply_deadline=date(2026, 12, 8),
                status=ProblemStatus.ANSWERED,
                created_at=yesterday,
                answered_at=NOW - timedelta(hours=2),
            )
        s.add_all(rows.values())
        await s.flush()
        for (kind, key), row in rows.items():
            getattr(w, kind)[key] = row.id
        # Undo offers last: a change logged after an offer would void it.
        for key, (uid, _, target) in makers.items():
            assert target.planned_date is not None
            offer = await undo_store.offer(
                s,
                members[uid],
                [
                    undo_store.Target(
                        "milestones",
                        target.id,
                        restore={"planned_date": UNDONE.isoformat()},
                        expect={"planned_date": target.planned_date.isoformat()},
                    )
                ],
                NOW,
                "due",
            )
            assert offer is not None
            w.offer[key] = offer
        await s.commit()
    return w


async def _build(url: str) -> tuple[dict[str, int], World]:
    """Seed the city and build its world in the migrated store at URL."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        sessions = make_sessionmaker(engine)
        ids = await seed(sessions)
        world = await build_world(sessions, ids)
        if url.startswith("sqlite"):
            async with engine.connect() as conn:
                # Everything into the file itself: its copies take no WAL along.
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await engine.dispose()
    return ids, world


async def _pg(server: str, *statements: str) -> None:
    admin = make_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            for statement in statements:
                await conn.exec_driver_sql(statement)
    finally:
        await admin.dispose()


@dataclass(frozen=True)
class Built:
    """The city with its world, built once; each test takes a copy (`copy`), much faster
    than building it anew: a copy of the file on SQLite, a database cloned from it
    (CREATE DATABASE … TEMPLATE) on PostgreSQL."""

    ids: dict[str, int]
    world: World
    file: Path | None = None  # SQLite
    server: str = ""  # PostgreSQL: the server, the built database and the tests' copy
    built: str = ""
    copy_name: str = ""

    async def copy(self, folder: Path) -> str:
        """The URL of a new copy of the built store."""
        if self.file is not None:
            shutil.copy(self.file, folder / "city.sqlite3")
            return f"sqlite:///{folder / 'city.sqlite3'}"
        await _pg(
            self.server,
            f'DROP DATABASE IF EXISTS "{self.copy_name}" WITH (FORCE)',
            f'CREATE DATABASE "{self.copy_name}" TEMPLATE "{self.built}"',
        )
        return f"{self.server}/{self.copy_name}"


@pytest.fixture(scope="module")
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    # Sync, like conftest's pg_url: asyncio.run cannot run inside the tests' event loop.
    if not on_postgresql():
        path = tmp_path_factory.mktemp("permissions") / "city.sqlite3"
        shutil.copy(request.getfixturevalue("template_db"), path)
        ids, world = asyncio.run(_build(f"sqlite:///{path}"))
        yield Built(ids, world, file=path)
        return
    stores: PgStores = request.getfixturevalue("pg_stores")
    name = f"{stores.name}_permissions"
    drop = [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in (f"{name}_copy", name)]
    asyncio.run(_pg(stores.server, *drop, f'CREATE DATABASE "{name}" TEMPLATE "{stores.template}"'))
    try:
        ids, world = asyncio.run(_build(f"{stores.server}/{name}"))
        yield Built(ids, world, server=stores.server, built=name, copy_name=f"{name}_copy")
    finally:
        asyncio.run(_pg(stores.server, *drop))


@dataclass
class City:
    h: Harness
    w: World


@pytest.fixture
async def city(built: Built, tmp_path: Path) -> AsyncIterator[City]:
    """The real Application over the sample city and its world (build_world)."""
    harness = await start_harness(await built.copy(tmp_path))
    harness.ids = dict(built.ids)
    yield City(harness, built.world)
    await harness.stop()


@pytest.fixture(autouse=True)
def no_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pictures are other tests' business: here a chart, a funnel or a ranking is a stub,
    so that the matrix stays fast. What is decided before the drawing is what is tested."""
    png = b"\x89PNG\r\n\x1a\n"
    monkeypatch.setattr("bot.handlers.charts.wall_chart_pngs", lambda *a, **k: [png])
    monkeypatch.setattr("bot.handlers.charts.funnel_png", lambda *a, **k: png)
    monkeypatch.setattr("bot.charts.rank_png", lambda *a, **k: png)


# --- reading what the bot said ----------------------------------------------------------


def pattern(lang: str, key: str, **fixed: object) -> str:
    """A regex for the catalog text KEY in LANG: FIXED parameters as `t()` writes them
    (escaped), the others anything."""
    parts = []
    for literal, name, spec, _ in string.Formatter().parse(CATALOG[lang][key]):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name in fixed and not spec:
            parts.append(re.escape(html.escape(str(fixed[name]), quote=False)))
        else:
            parts.append(".*?")
    return "".join(parts)


def keys(*wanted: str) -> list[str]:
    """Catalog keys: each as given, or every key under a prefix ending in a dot."""
    found = []
    for key in wanted:
        found += [k for k in CATALOG["zh"] if k.startswith(key)] if key.endswith(".") else [key]
    return found


# What a refusal for a right says: that the member may not (and who may), or that the
# item is unknown, as another unit's item is to those who do not see it.
PERMISSION_REFUSALS = keys(
    "err.not_allowed",
    "err.not_allowed.who",
    "err.unknown_project",
    "err.unknown_problem",
    "err.unknown_instruction",
    "err.unknown_item",
    "err.unknown_milestone",
    "err.chart_code_not_yours",
    "err.chart_not_yours",
    "err.undo_not_yours",
)
ANY_REFUSAL = [k for k in keys("err.") if k != "err.internal"]
LANGS = ("zh", "en")
OTHER_LANG = {"zh": "en", "en": "zh"}


def says(texts: list[str], lang: str, wanted: list[str], *, whole: bool = True) -> bool:
    """Whether one of TEXTS is (or, not WHOLE, contains) one of the WANTED texts in LANG."""
    for key in wanted:
        regex = re.compile(pattern(lang, key), re.S)
        for text in texts:
            if (regex.fullmatch(text) if whole else regex.search(text)) is not None:
                return True
    return False


def foreign_refusals(texts: list[str], lang: str) -> list[str]:
    """The refusals among TEXTS said in the other language only."""
    return [
        text
        for text in texts
        if says([text], OTHER_LANG[lang], ANY_REFUSAL) and not says([text], lang, ANY_REFUSAL)
    ]


# --- driving the bot --------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    text: str
    group: bool = False  # in the spot's group chat rather than in private
    uid: int | None = None  # sent by another member (a step that sets the scene)


@dataclass(frozen=True)
class Press:
    data: str


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes
    caption: str
    uid: int | None = None


Step = Send | Press | Upload
MEDIA = ("sendPhoto", "sendDocument", "sendMediaGroup")


@dataclass
class Heard:
    texts: list[str]
    media: list[str]
    upload: int = 0  # the message id of the last file sent


async def drive(h: Harness, spot: Spot, steps: list[Step]) -> Heard:
    """Send STEPS as the spot's member; what the bot sent to the member's chat meanwhile.
    `{upload}` in a press stands for the message id of the last file sent."""
    start = len(h.api.calls)
    chat = spot.uid
    upload = 0
    for step in steps:
        if isinstance(step, Send):
            if step.group:
                chat = spot.group
                await h.process(message(spot.uid, step.text, chat_id=spot.group, kind="group"))
            else:
                await h.process(message(step.uid or spot.uid, step.text))
        elif isinstance(step, Press):
            await h.process(press(spot.uid, step.data.replace("{upload}", str(upload))))
        else:
            file_id = f"f{len(h.api.files) + 1}"
            h.api.files[file_id] = step.content
            update = document(step.uid or spot.uid, file_id, step.name, step.caption)
            upload = int(update["message"]["message_id"])
            await h.process(update)
    calls = h.api.calls[start:]
    return Heard(
        [str(p["text"]) for m, p in calls if m == "sendMessage" and int(p["chat_id"]) == chat],
        [m for m, p in calls if m in MEDIA and int(p["chat_id"]) == chat],
        upload,
    )


# Not what a call does but how it is carried: the updates received, the flows' scratch,
# who is the active process. The outbox's replies are what the bot said (checked apart).
CARRIAGE = frozenset({"inbox", "chat_state", "leases"})


def _reads() -> list[tuple[str, Any]]:
    """The statements `snapshot` runs, made once (making one costs more than running it
    on these small tables)."""
    reads = []
    for table in Base.metadata.sorted_tables:
        if table.name in CARRIAGE:
            continue
        stmt = select(table).order_by(*table.primary_key.columns)
        if table.name == Outbox.__tablename__:
            stmt = stmt.where(table.c.kind != "reply")
        reads.append((table.name, stmt))
    return reads


READS = _reads()


async def snapshot(h: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but CARRIAGE and the replies in the outbox."""
    async with h.sessions() as s:
        return {name: [tuple(r) for r in (await s.execute(stmt)).all()] for name, stmt in READS}


def changed_tables(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


async def set_lang(h: Harness, uid: int, lang: str) -> None:
    async with h.sessions() as s:
        await s.execute(update(Member).where(Member.tg_user_id == uid).values(lang=lang))
        await s.commit()


# --- what an allowed call changes -------------------------------------------------------

Effect = Callable[[AsyncSession, Spot], Awaitable[object]]


def count(model: type[Any], *where: Callable[[Spot], Any]) -> Effect:
    async def read(s: AsyncSession, spot: Spot) -> object:
        stmt = select(func.count()).select_from(model)
        for condition in where:
            stmt = stmt.where(condition(spot))
        return await s.scalar(stmt)

    return read


def value(column: Any, ident: Callable[[Spot], Any], by: Any = None) -> Effect:
    """COLUMN of the row whose id (or BY) is IDENT(spot)."""

    async def read(s: AsyncSession, spot: Spot) -> object:
        key = by if by is not None else column.class_.id
        return await s.scalar(select(column).where(key == ident(spot)))

    return read


def of_project(model: Any) -> Callable[[Spot], Any]:
    return lambda p: model.project_id.in_(select(Project.id).where(Project.code == p.code))


def urged(entity: str, ident: Callable[[Spot], int]) -> Effect:
    return count(
        AuditLog,
        lambda _: AuditLog.action == "urge",
        lambda _: AuditLog.entity == entity,
        lambda p: AuditLog.entity_id == str(ident(p)),
    )


def asked(kind: str, ident: Callable[[Spot], int]) -> Effect:
    return count(
        Extension, lambda _: Extension.item_kind == kind, lambda p: Extension.item_id == ident(p)
    )


async def plan_dates(s: AsyncSession, spot: Spot) -> object:
    rows = await s.execute(
        select(Milestone.seq, Milestone.planned_date)
        .join(Project, Project.id == Milestone.project_id)
        .where(Project.code == spot.code)
        .order_by(Milestone.seq)
    )
    return [tuple(r) for r in rows.all()]


reports = count(ProgressReport, of_project(ProgressReport))
unit_reports = count(
    ProgressReport,
    lambda p: ProgressReport.project_id.in_(select(Project.id).where(Project.unit_id == p.unit)),
)
problems_on = count(Problem, of_project(Problem))
instructions_on = count(Instruction, of_project(Instruction))
replies = count(ProblemReply, lambda p: ProblemReply.problem_id == p.answer)
answer_status = value(Problem.status, lambda p: p.answer)
raised_status = value(Problem.status, lambda p: p.raised)
done_date = value(Milestone.done_date, lambda p: p.milestone)
planned = value(Milestone.planned_date, lambda p: p.milestone)
offered = value(Milestone.planned_date, lambda p: p.offered)
stage = value(Project.stage, lambda p: p.code, by=Project.code)
instruction_done = value(Instruction.done_at, lambda p: p.instruction)
instruction_ack = value(Instruction.acknowledged_at, lambda p: p.instruction)
invites = count(Invite, lambda p: Invite.unit_id == p.unit)
chat_id = value(Unit.chat_id, lambda p: p.unit)
decision = value(Extension.status, lambda p: p.extension)
imported = count(Project, lambda p: Project.code == p.new_code)


# --- the probes: one way each to exercise a right ---------------------------------------

Shows = Callable[[Spot, str], str]


@dataclass(frozen=True)
class Probe:
    """One command or button exercising ACTION (None: Undo's own rule), by STEPS: texts
    sent, `press:DATA` pressed, formatted with the Spot's fields; or a function of it.

    An allowed call says OK (a catalog key, in the member's language), changes EFFECT,
    sends MEDIA or shows what SHOWS matches; a refused one says a refusal (when REFUSAL)
    and leaves the store as it was. Read-only probes (no EFFECT) leave it so either way.
    """

    entry: str
    action: Action | None
    steps: list[str] | Callable[[Spot], list[Step]]
    ok: str | None = None
    effect: Effect | None = None
    scopes: tuple[str, ...] = ("other", "own")
    shows: Shows | None = None
    refusal: bool = True
    media: str | None = None
    variant: str = ""

    def allows(self, role: Role, own: bool) -> bool:
        if self.action is None:
            return undo_rule(role, own)
        return allowed(role, self.action, own=own)

    def make(self, spot: Spot) -> list[Step]:
        if callable(self.steps):
            return self.steps(spot)
        fields = spot.fields()
        return [
            Press(s.removeprefix("press:").format(**fields))
            if s.startswith("press:")
            else Send(s.format(**fields))
            for s in self.steps
        ]

    @property
    def name(self) -> str:
        return f"{self.entry}[{self.variant}]" if self.variant else self.entry


def card(spot: Spot, lang: str) -> str:
    return re.escape(spot.code) + ".*" + pattern(lang, "card.head")


def listed(spot: Spot, _lang: str) -> str:
    return re.escape(f"<code>{spot.code}</code>")


def instruction_row(spot: Spot, lang: str) -> str:
    return pattern(lang, "instr.row", id=spot.instruction, code=spot.code)


def city_total(_spot: Spot, lang: str) -> str:
    # The whole city's funnel (every project), where a unit's shows its own.
    return pattern(lang, "board.total", n=len(PLACES))


TEXT = "场地平整已完成"
ANSWER_TEXT = "下周一答复"
PROBLEM_TEXT = "用地指标还没有落实"
INSTRUCTION_TEXT = "加快推进土地摘牌"
NEW_DATE = "2026-12-24"
RESOLVING = ("other", "mate", "own")  # whose problem or change: another's, a colleague's, his

# Short names, so that each probe holds on a line of the table below.
V, LOG, RAISE, ANSWER = (
    Action.VIEW,
    Action.LOG_PROGRESS,
    Action.RAISE_PROBLEM,
    Action.ANSWER_PROBLEM,
)
RESOLVE, DONE, GRANT = Action.RESOLVE_PROBLEM, Action.MARK_DONE, Action.GRANT_MORE_TIME
CARRY, ASK, DUE_, STAGE = Action.CARRY_OUT, Action.ASK_MORE_TIME, Action.SET_DUE, Action.SET_STAGE

PROBES: list[Probe] = [
    # Seeing projects, charts and instructions
    Probe("/project", V, ["/project {code}"], shows=card),
    Probe("go:project", V, ["press:go:project:{code}"], shows=card),
    Probe("/projects", V, ["/projects"], shows=listed, refusal=False),
    Probe("/chart", V, ["/chart {code}"], media="sendPhoto"),
    Probe("/chart", V, ["/chart {unit_name}"], media="sendPhoto", variant="unit"),
    Probe("/board", V, ["/board"], shows=city_total, refusal=False, scopes=("other",)),
    Probe("/instructions", V, ["/instructions"], shows=instruction_row, refusal=False),
    # Progress
    Probe("/progress", LOG, ["/progress {code} " + TEXT], "ok.progress", reports),
    Probe("go:progress", LOG, ["press:go:progress:{code}", TEXT], "ok.progress", reports),
    Probe("f:project", LOG, ["/progress", "press:f:project:{code}", TEXT], "ok.progress", reports),
    Probe("nc:", LOG, ["press:nc:{code}"], "ok.no_change", reports),
    Probe("nc:", LOG, ["press:nc:*"], "ok.no_change", unit_reports, ("own",), variant="all"),
    # Problems
    Probe("/problem", RAISE, ["/problem {code} " + PROBLEM_TEXT, "press:f:unit:{land}"],
          "ok.problem", problems_on),
    Probe("go:problem", RAISE, ["press:go:problem:{code}", PROBLEM_TEXT, "press:f:unit:{land}"],
          "ok.problem", problems_on),
    Probe("/reply", ANSWER, ["/reply {answer} " + ANSWER_TEXT], "ok.reply", replies),
    Probe("go:reply", ANSWER, ["press:go:reply:{answer}", ANSWER_TEXT], "ok.reply", replies),
    Probe("f:problem", ANSWER, ["/reply", "press:f:problem:{answer}", ANSWER_TEXT], "ok.reply",
          replies),
    Probe("/ack", ANSWER, ["/ack {answer}"], "ok.ack", answer_status),
    Probe("ack:", ANSWER, ["press:ack:{answer}"], "ok.ack", answer_status),
    Probe("/resolve", RESOLVE, ["/resolve {raised}"], "ok.resolve", raised_status, RESOLVING),
    Probe("go:resolve", RESOLVE, ["press:go:resolve:{raised}"], "ok.resolve", raised_status,
          RESOLVING),
    Probe("/reopen", RESOLVE, ["/reopen {raised} 答复不完整"], "ok.reopen", raised_status,
          RESOLVING),
    Probe("go:reopen", RESOLVE, ["press:go:reopen:{raised}", "答复不完整"], "ok.reopen",
          raised_status, RESOLVING),
    # Milestones, stages and plans
    Probe("/done", DONE, ["/done {code} 1"], "ok.done", done_date),
    Probe("go:done", DONE, ["press:go:done:{code}", "press:f:milestone:1"], "ok.done", done_date),
    Probe("f:milestone", DONE, ["/done {code}", "press:f:milestone:1"], "ok.done", done_date),
    Probe("md:", DONE, ["press:md:{milestone}"], "ok.done", done_date),
    Probe("/due", DUE_, ["/due {code} 1 2026-12-18"], "ok.due", planned),
    Probe("go:due", DUE_, ["press:go:due:{code}", "press:f:milestone:1", "2026-12-18"], "ok.due",
          planned),
    Probe("/stage", STAGE, ["/stage {code} started"], "ok.stage", stage),
    Probe("go:stage", STAGE, ["press:go:stage:{code}", "press:f:stage:started"], "ok.stage",
          stage),
    Probe("/plan", Action.PLAN, ["/plan {code} 2027-06-30"], "ok.plan", plan_dates),
    Probe("go:plan", Action.PLAN, ["press:go:plan:{code}", "2027-06-30"], "ok.plan", plan_dates),
    # Leaders' instructions
    Probe("/instruct", Action.INSTRUCT, ["/instruct {code} " + INSTRUCTION_TEXT], "ok.instruct",
          instructions_on),
    Probe("go:instruct", Action.INSTRUCT, ["press:go:instruct:{code}", INSTRUCTION_TEXT],
          "ok.instruct", instructions_on),
    Probe("/fulfil", CARRY, ["/fulfil {instruction} 已完成摘牌"], "ok.fulfil", instruction_done),
    Probe("go:fulfil", CARRY, ["press:go:fulfil:{instruction}", "已完成摘牌"], "ok.fulfil",
          instruction_done),
    Probe("/ack", CARRY, ["/ack i{instruction}"], "ok.instruction_ack", instruction_ack,
          variant="instruction"),
    Probe("in:ack:", CARRY, ["press:in:ack:{instruction}"], "ok.instruction_ack", instruction_ack),
    # The city's briefing, invites, the ledger and groups
    Probe("/report", Action.REPORT, ["/report"], media="sendDocument", scopes=("any",)),
    Probe("/invite", Action.INVITE, ["/invite {unit_name} {invited}"], "ok.invite", invites),
    Probe("/import", Action.IMPORT, lambda p: [Upload("台账.csv", p.ledger, "/import")],
          "ledger.summary", imported, ("any",)),
    Probe("imp:", Action.IMPORT, lambda p: [Upload("台账.csv", p.ledger, ""), Press("imp:{upload}")],
          "ledger.summary", imported, ("any",)),
    Probe("/link", Action.LINK_GROUP,
          lambda p: [Send("/link" if p.own else f"/link {p.unit_name}", group=True)], "ok.link",
          chat_id),
    # Urging, more time and its decision, Undo
    Probe("/urge", Action.URGE, ["/urge {answer}"], "ok.urge",
          urged("problems", lambda p: p.answer), variant="problem"),
    Probe("/urge", Action.URGE, ["/urge {code} 1"], "ok.urge",
          urged("milestones", lambda p: p.milestone), variant="milestone"),
    Probe("/urge", Action.URGE, ["/urge i{instruction}"], "ok.urge",
          urged("instructions", lambda p: p.instruction), variant="instruction"),
    Probe("/extend", ASK, ["/extend m:{milestone} " + NEW_DATE], "ok.extension",
          asked("milestone", lambda p: p.milestone)),
    Probe("go:extend", ASK, ["press:go:extend:m:{milestone}", NEW_DATE], "ok.extension",
          asked("milestone", lambda p: p.milestone), variant="milestone"),
    Probe("go:extend", ASK, ["press:go:extend:p:{answer}", NEW_DATE], "ok.extension",
          asked("problem", lambda p: p.answer), variant="problem"),
    Probe("go:extend", ASK, ["press:go:extend:i:{instruction}", NEW_DATE], "ok.extension",
          asked("instruction", lambda p: p.instruction), variant="instruction"),
    Probe("f:item", ASK, ["/extend", "press:f:item:m:{milestone}", NEW_DATE], "ok.extension",
          asked("milestone", lambda p: p.milestone)),
    Probe("xa:", GRANT, ["press:xa:{extension}"], "ok.approved", decision),
    Probe("xr:", GRANT, ["press:xr:{extension}"], "ok.refused", decision),
    Probe("un:", None, ["press:un:{offer}"], "ok.undo", offered, RESOLVING),
]  # fmt: skip


# --- the matrix -------------------------------------------------------------------------


async def attempt(city: City, probe: Probe, role: Role, scope: str, lang: str) -> None:
    """Run PROBE once as ROLE on SCOPE's items, in LANG; check what it said and did."""
    h, spot = city.h, city.w.spot(role, scope)
    expected = probe.allows(role, spot.own)
    where = f"{probe.name} as {role.value} on {scope} items ({lang}), " + (
        "allowed" if expected else "refused"
    )
    await set_lang(h, spot.uid, lang)
    # The whole store is compared where nothing may change; elsewhere the item is.
    whole = not expected or probe.effect is None
    before = await snapshot(h) if whole else {}
    async with h.sessions() as s:
        old = await probe.effect(s, spot) if probe.effect else None
    heard = await drive(h, spot, probe.make(spot))
    moved = changed_tables(before, await snapshot(h)) if whole else []
    async with h.sessions() as s:
        new = await probe.effect(s, spot) if probe.effect else None
    texts = heard.texts
    assert not says(texts, lang, ["err.internal"]), f"{where}: said {texts}"
    assert not foreign_refusals(texts, lang), f"{where}: refused in the wrong language: {texts}"
    refused = says(texts, lang, PERMISSION_REFUSALS)
    shown = probe.shows is not None and any(
        re.search(probe.shows(spot, lang), text, re.S) for text in texts
    )
    # Looking changes nothing, whoever looks; a refusal changes nothing at all.
    assert moved == [], f"{where}: changed {moved}, said {texts}"
    if expected:
        assert not refused, f"{where}: said {texts}"
        if probe.ok is not None:
            assert says(texts, lang, [probe.ok], whole=False), f"{where}: said {texts}"
        if probe.effect is not None:
            assert new != old, f"{where}: the store kept {old!r}, said {texts}"
        if probe.media is not None:
            assert probe.media in heard.media, f"{where}: sent {heard.media}, said {texts}"
        if probe.shows is not None:
            assert shown, f"{where}: said {texts}"
    else:
        if probe.refusal:
            assert refused, f"{where}: no refusal said in {lang}: {texts}"
        if probe.ok is not None:
            assert not says(texts, lang, [probe.ok], whole=False), f"{where}: said {texts}"
        assert probe.media not in heard.media, f"{where}: sent {heard.media}"
        assert not shown, f"{where}: shown in {texts}"


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
async def test_matrix(city: City, probe: Probe) -> None:
    """PROBE as each role in turn, on another unit's items, then (where it matters) a
    colleague's, then the member's own: each role has units and items of its own, and an
    allowed call changes only its own item, so each call is measured on a store the calls
    before it left as the table says. The languages take turns."""
    failed = []
    for i, role in enumerate(Role):
        for j, scope in enumerate(probe.scopes):
            try:
                await attempt(city, probe, role, scope, LANGS[(i + j) % 2])
            except AssertionError as exc:
                failed.append(str(exc).split("\nassert ")[0])
    assert not failed, "\n".join(failed)


async def test_every_command_and_button_has_a_row(city: City) -> None:
    """A command or button the Application registers without a row here, or a row for one
    it no longer registers, fails; so does a right of the table no probe exercises."""
    commands, prefixes, flows = registered(city.h.app)
    assert commands == set(COMMAND_ROWS), (
        f"without a row: {sorted(commands - set(COMMAND_ROWS))}; "
        f"stale rows: {sorted(set(COMMAND_ROWS) - commands)}"
    )
    assert prefixes == set(BUTTON_ROWS), (
        f"without a row: {prefixes - set(BUTTON_ROWS)}; stale: {set(BUTTON_ROWS) - prefixes}"
    )
    probed = {(p.entry, p.action) for p in PROBES}
    for name, actions in COMMAND_ROWS.items():
        for action in actions:
            assert (f"/{name}", action) in probed, f"/{name} ({action}) has no probe"
        if not actions:
            assert name in OPEN, f"/{name} is open to every member but not in OPEN"
    for prefix, actions in BUTTON_ROWS.items():
        for action in actions:
            assert (prefix, action) in probed, f"{prefix} ({action}) has no probe"
    # Every flow command can be opened by a button (`go:<command>`) with its first field.
    for name in flows:
        assert (f"go:{name}", COMMAND_ROWS[name][0]) in probed, f"go:{name} has no probe"
    assert ("un:", None) in probed and "lang:" in OPEN and "unknown button" in OPEN
    entries = {p.entry for p in PROBES} | {f.press for f in FORGED}
    assert set(FLOW_PRESSES) == set(Ask), f"no row for f:{set(Ask) - set(FLOW_PRESSES)}"
    for ask, where in FLOW_PRESSES.items():
        assert where == "typed" or where in entries, f"f:{ask.value} is exercised nowhere"
    assert set(PERMISSIONS) == set(Action)
    assert {p.action for p in PROBES} >= set(Action), "a right of the table is never exercised"
    # Each probe meets both a role the table lets through and one it stops, so that both
    # what an allowed call does and what a refused one does not are seen for each.
    for p in PROBES:
        outcomes = {p.allows(r, scope in ("own", "any")) for r in Role for scope in p.scopes}
        assert outcomes == {True, False}, f"{p.name} is {outcomes} for every role"


# --- what every member may use ----------------------------------------------------------

# Each open command or button, with what it says (catalog keys, a prefix with a dot).
OPEN: dict[str, tuple[Step, list[str]]] = {
    "start": (Send("/start"), keys("start.back")),
    "help": (Send("/help"), keys("help.title")),
    "lang": (Send("/lang"), keys("lang.pick")),
    "cancel": (Send("/cancel"), keys("flow.nothing")),
    "today": (Send("/today"), keys("today.")),
    "rank": (Send("/rank"), keys("rank.")),
    "unknown button": (Press("zz:1"), keys("err.bad_button")),
    "lang:": (Press("lang:en"), keys("lang.set")),
}


async def test_what_every_member_may_use(city: City) -> None:
    """Every role may use the open commands and buttons, in its language, changing
    nothing but, for the language button, its language."""
    h = city.h
    for role in Role:
        spot = city.w.spot(role, "own")
        for lang in LANGS:
            await set_lang(h, spot.uid, lang)
            before = await snapshot(h)
            for name, (step, wanted) in OPEN.items():
                if name == "lang:":
                    continue
                texts = (await drive(h, spot, [step])).texts
                assert says(texts, lang, wanted, whole=False), f"{name} as {role.value}: {texts}"
                assert not says(texts, lang, PERMISSION_REFUSALS), f"{name}: {texts}"
            assert changed_tables(before, await snapshot(h)) == [], role
        # The language button switches whoever presses it.
        for lang in LANGS:
            texts = (await drive(h, spot, [Press(f"lang:{lang}")])).texts
            assert says(texts, lang, OPEN["lang:"][1]), texts
            async with h.sessions() as s:
                chosen = await s.scalar(select(Member.lang).where(Member.tg_user_id == spot.uid))
            assert chosen == lang


# --- forged payloads --------------------------------------------------------------------


@dataclass(frozen=True)
class Forged:
    """A press of PRESS's kind, by ROLE, whose payload names what the member may not act
    on, or is no payload the bot makes at all, once SCENE has set up the chat. DATA and
    SCENE are formatted with the fields of the role's Spot in SCOPE: another unit's items,
    or his own unit's (`own`, `mate`)."""

    press: str
    role: Role
    data: str
    scene: tuple[str, ...] = ()
    what: str = ""
    scope: str = "other"

    @property
    def name(self) -> str:
        return f"{self.press}[{self.what}]" if self.what else self.press


HUGE = "9" * 30  # no id; more than an INTEGER column holds on PostgreSQL
OF, HD = Role.OFFICER, Role.HEAD

FORGED: list[Forged] = [
    # The buttons under another unit's notices and prompts
    Forged("ack:", OF, "ack:{answer}"),
    Forged("md:", OF, "md:{milestone}"),
    Forged("nc:", OF, "nc:{code}"),
    Forged("in:ack:", OF, "in:ack:{instruction}"),
    Forged("xa:", HD, "xa:{extension}"),
    Forged("xr:", HD, "xr:{extension}"),
    # An officer deciding his own unit's request, which is his head's to decide
    Forged("xa:", OF, "xa:{extension}", what="own unit", scope="own"),
    Forged("un:", OF, "un:{offer}"),
    Forged("un:", HD, "un:{offer}", what="a colleague's", scope="mate"),
    # The coordinator's ledger offer, pressed in another chat by another who may import
    Forged("imp:", Role.ADMIN, "imp:{upload}", ("upload-by-coordinator",)),
    # Buttons that open a flow with another unit's item
    Forged("go:project", OF, "go:project:{code}"),
    Forged("go:progress", OF, "go:progress:{code}"),
    Forged("go:problem", OF, "go:problem:{code}"),
    Forged("go:done", OF, "go:done:{code}"),
    Forged("go:due", HD, "go:due:{code}"),
    Forged("go:stage", HD, "go:stage:{code}"),
    Forged("go:plan", HD, "go:plan:{code}"),
    Forged("go:reply", OF, "go:reply:{answer}"),
    Forged("go:resolve", OF, "go:resolve:{raised}"),
    Forged("go:resolve", OF, "go:resolve:{raised}", what="a colleague's", scope="mate"),
    Forged("go:reopen", HD, "go:reopen:{raised}", what="a colleague's", scope="mate"),
    Forged("go:fulfil", OF, "go:fulfil:{instruction}"),
    Forged("go:extend", OF, "go:extend:m:{milestone}", what="m"),
    Forged("go:extend", OF, "go:extend:p:{answer}", what="p"),
    Forged("go:extend", OF, "go:extend:i:{instruction}", what="i"),
    Forged("go:instruct", Role.COORDINATOR, "go:instruct:{code}"),
    # A flow's own buttons, with another unit's item in place of one offered
    Forged("f:project", OF, "f:project:{code}", ("/progress",)),
    Forged("f:problem", OF, "f:problem:{answer}", ("/reply",)),
    Forged("f:item", OF, "f:item:m:{milestone}", ("/extend",), what="m"),
    Forged("f:item", OF, "f:item:p:{answer}", ("/extend",), what="p"),
    Forged("f:item", OF, "f:item:i:{instruction}", ("/extend",), what="i"),
    # The leadership gives instructions and answers no problem: it is never offered
    Forged("f:unit", OF, "f:unit:{lead}", ("/problem {own_code} " + PROBLEM_TEXT,)),
    Forged("f:milestone", OF, "f:milestone:99", ("/done {own_code}",)),
    # A field the flow is not asking for, and a flow that is not running
    Forged("f:project", OF, "f:project:{own_code}", ("/extend",), what="not asked"),
    Forged("f:project", OF, "f:project:{code}", ("/cancel",), what="no flow"),
    # Payloads the bot never makes
    Forged("ack:", OF, "ack:abc", what="garbled"),
    Forged("ack:", OF, f"ack:{HUGE}", what="huge"),
    Forged("md:", OF, "md:", what="empty"),
    Forged("md:", OF, f"md:{HUGE}", what="huge"),
    Forged("xa:", HD, "xa:-1", what="negative"),
    Forged("xa:", HD, f"xa:{HUGE}", what="huge"),
    Forged("in:ack:", OF, f"in:ack:{HUGE}", what="huge"),
    Forged("un:", OF, "un:１２", what="full-width"),
    Forged("nc:", OF, "nc:", what="empty"),
    Forged("go:", OF, "go:nothing:1", what="no such command"),
    Forged("go:reply", OF, "go:reply:abc", what="garbled"),
    Forged("go:reply", OF, f"go:reply:{HUGE}", what="huge"),
    Forged("go:extend", OF, f"go:extend:m:{HUGE}", what="huge"),
    Forged("unknown", OF, "zz:{answer}", what="no such button"),
    Forged("lang:", OF, "lang:xx", what="no such language"),
    Forged("un:", OF, "un:1", what="not an offer"),
    Forged("go:extend", OF, "go:extend:x:{milestone}", what="no such kind"),
]


async def forge(city: City, forged: Forged) -> tuple[str, list[str], list[str]]:
    """Set the scene and press the forged payload in English; the payload, what changed
    in the store and what the bot said."""
    h, spot = city.h, city.w.spot(forged.role, forged.scope)
    fields = {**spot.fields(), "own_code": city.w.spot(forged.role, "own").code}
    await set_lang(h, spot.uid, "en")
    scene: list[Step] = [
        Upload("台账.csv", spot.ledger, "", uid=COORD)
        if s == "upload-by-coordinator"
        else Send(s.format(**fields))
        for s in forged.scene
    ]
    data = forged.data.format(**fields, upload=(await drive(h, spot, scene)).upload)
    before = await snapshot(h)
    texts = (await drive(h, spot, [Press(data)])).texts
    return data, changed_tables(before, await snapshot(h)), texts


async def test_a_forged_payload_is_refused_and_changes_nothing(city: City) -> None:
    """Every forged press in turn, on one store: each must leave it as it found it."""
    failed = []
    for forged in FORGED:
        data, moved, texts = await forge(city, forged)
        if moved or not says(texts, "en", ANY_REFUSAL) or foreign_refusals(texts, "en"):
            who = forged.role.value
            failed.append(f"{forged.name} {data} by {who}: changed {moved}, said {texts}")
    assert not failed, "\n".join(failed)


async def test_a_forged_payload_is_logged(city: City, caplog: pytest.LogCaptureFixture) -> None:
    """A refused press is logged (bot.handlers.base, WARNING, "refused…"): a forged
    payload may be someone probing."""
    unlogged = []
    for forged in FORGED:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bot.handlers.base"):
            data, _, _ = await forge(city, forged)
        if not [
            r
            for r in caplog.records
            if r.name == "bot.handlers.base"
            and r.levelno == logging.WARNING
            and r.getMessage().startswith("refused")
        ]:
            unlogged.append(f"{forged.name} {data}")
    assert not unlogged, "refused but not logged: " + ", ".join(unlogged)
