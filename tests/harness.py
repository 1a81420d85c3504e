"""The real Application over the fake Bot API, on a store of its own, at a fixed moment."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.config import Config
from bot.delivery import drain
from storage.db import SessionMaker, make_engine, make_sessionmaker, set_actor
from storage.models import Member, Milestone, Project, Role, Stage, Unit, UnitKind
from tests.fakebot import FakeBotAPI, FakeRequest, document, message, press

# A Thursday in the city's time zone; 09:30 local.
NOW = datetime(2026, 12, 3, 1, 30, tzinfo=UTC)
TODAY = date(2026, 12, 3)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Harness:
    api: FakeBotAPI
    app: Application  # type: ignore[type-arg]
    engine: AsyncEngine
    sessions: SessionMaker
    url: str  # the store's, with its password: another harness over it is the bot restarted
    clock: Clock
    config: Config
    ids: dict[str, int] = field(default_factory=dict)

    async def process(self, update: dict[str, Any]) -> list[str]:
        """Process one update, then deliver the outbox (as the sender job would at once);
        return the texts the bot sent meanwhile."""
        before = len(self.api.calls)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await self.drain()
        return [str(p["text"]) for m, p in self.api.calls[before:] if m == "sendMessage"]

    async def drain(self) -> None:
        await drain(self.app.bot, self.sessions, self.config.scheduler, now=self.clock)

    async def send(self, uid: int, text: str, **kw: Any) -> list[str]:
        """A text message from UID; what the bot sent back (replies first, then notices)."""
        return await self.process(message(uid, text, **kw))

    async def press(self, uid: int, data: str, **kw: Any) -> list[str]:
        return await self.process(press(uid, data, **kw))

    async def upload(
        self, uid: int, content: bytes, file_name: str, caption: str = "/import"
    ) -> list[str]:
        """Send a file with a caption; return what the bot sent back."""
        file_id = f"f{len(self.api.files) + 1}"
        self.api.files[file_id] = content
        return await self.process(document(uid, file_id, file_name, caption))

    def buttons(self, chat_id: int) -> list[str]:
        return self.api.buttons(chat_id)

    async def stop(self) -> None:
        await self.app.update_persistence()
        await self.app.shutdown()
        await self.engine.dispose()


async def start_harness(url: str, config: Config | None = None) -> Harness:
    """The bot over the migrated store at URL (the `new_store` fixture makes one)."""
    config = config or Config()
    config = replace(
        config,
        telegram=replace(config.telegram, token="123:TEST", rate_limit=False),
        # The tests' clock stands still: no spacing between two messages to one chat.
        scheduler=replace(config.scheduler, private_interval=0.0),
    )
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    api = FakeBotAPI()
    clock = Clock()
    app = build_application(config, sessions, request=FakeRequest(api), clock=clock)
    await app.initialize()
    return Harness(api, app, engine, sessions, url, clock, config)


# Telegram ids of the sample people
OFFICER, HEAD, OTHER_OFFICER, COORD, LEADER, ADMIN, LAND_OFFICER, STRANGER = (
    101,
    102,
    201,
    301,
    401,
    501,
    601,
    999,
)


async def seed(sessions: SessionMaker) -> dict[str, int]:
    """A small city: two townships, the land bureau, the center and leadership; one project."""
    async with sessions() as s:
        set_actor(s, None)
        lead = Unit(name="市领导", kind=UnitKind.LEADERSHIP)
        s.add(lead)
        await s.flush()
        center = Unit(name="招商服务中心", kind=UnitKind.CENTER, parent_id=lead.id)
        s.add(center)
        await s.flush()
        east = Unit(name="城东街道", kind=UnitKind.SUBDISTRICT, parent_id=center.id)
        west = Unit(name="城西镇", kind=UnitKind.TOWNSHIP, parent_id=center.id)
        land = Unit(name="自然资源局", kind=UnitKind.DEPARTMENT, parent_id=center.id)
        s.add_all([east, west, land])
        await s.flush()
        people = [
            (OFFICER, "王专员", east, Role.OFFICER),
            (HEAD, "李主任", east, Role.HEAD),
            (OTHER_OFFICER, "赵专员", west, Role.OFFICER),
            (COORD, "陈科长", center, Role.COORDINATOR),
            (LEADER, "刘市长", lead, Role.LEADER),
            (ADMIN, "管理员", center, Role.ADMIN),
            (LAND_OFFICER, "孙科员", land, Role.OFFICER),
        ]
        for tg, name, unit, role in people:
            s.add(Member(tg_user_id=tg, name=name, unit_id=unit.id, role=role, lang="zh"))
        p1 = Project(
            code="XNY01",
            name="光伏组件<智造>基地",
            enterprise="阳光新能源有限公司",
            industry="新能源",
            investment=120000,
            land_mu=300,
            stage=Stage.SIGNED,
            unit_id=east.id,
        )
        p2 = Project(
            code="SW02",
            name="生物医药产业园",
            industry="生物医药",
            investment=50000,
            unit_id=west.id,
        )
        s.add_all([p1, p2])
        await s.flush()
        s.add_all(
            [
                Milestone(
                    project_id=p1.id,
                    seq=1,
                    title="选址",
                    kind="site",
                    planned_date=date(2026, 11, 20),
                    owner_unit_id=east.id,
                ),
                Milestone(
                    project_id=p1.id,
                    seq=2,
                    title="土地摘牌",
                    kind="land",
                    planned_date=date(2026, 12, 8),
                    owner_unit_id=land.id,
                ),
                Milestone(
                    project_id=p1.id,
                    seq=3,
                    title="开工建设",
                    kind="groundbreaking",
                    planned_date=date(2027, 3, 1),
                    owner_unit_id=east.id,
                ),
            ]
        )
        await s.commit()
        return {"east": east.id, "west": west.id, "land": land.id, "center": center.id, "p1": p1.id}
