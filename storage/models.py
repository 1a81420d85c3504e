"""The records: typed SQLAlchemy models for units, members, projects and what hangs off them.

Timestamps are aware datetimes in UTC; calendar dates (planned, done, deadlines) are plain
dates in the city's local calendar, because that is how officers think about them.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# The largest id a record can have: ids are 32-bit INTEGER columns on PostgreSQL.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    """Now as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite has no time zones and hands back naive values; storing naive UTC and re-attaching
    the zone on the way out keeps the Python side aware everywhere.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        # TypeDecorator answers `object`; Undo reads it to turn logged text back into values.
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UnitKind(enum.StrEnum):
    TOWNSHIP = "township"
    SUBDISTRICT = "subdistrict"
    DEPARTMENT = "department"
    CENTER = "center"
    LEADERSHIP = "leadership"


class Role(enum.StrEnum):
    OFFICER = "officer"
    HEAD = "head"
    COORDINATOR = "coordinator"
    LEADER = "leader"
    ADMIN = "admin"


class Stage(enum.StrEnum):
    NEGOTIATING = "negotiating"
    SIGNED = "signed"
    STARTED = "started"
    OPERATING = "operating"
    PAUSED = "paused"
    DROPPED = "dropped"


class ProblemStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    CLOSED = "closed"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


class ExtensionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    # Overtaken before anyone decided: the item was done, answered or given another date,
    # or the date asked for has passed. Approving it would move a deadline back.
    OUTDATED = "outdated"


class ProblemCategory(enum.StrEnum):
    LAND = "land"
    PERMITS = "permits"
    UTILITIES = "utilities"
    FINANCE = "finance"
    OTHER = "other"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    # Stored as plain strings (no native enum type) so a new value needs no ALTER TYPE.
    return Enum(
        cls,
        native_enum=False,
        length=16,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], lazy="raise")


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    tg_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role: Mapped[Role] = mapped_column(_enum(Role))
    lang: Mapped[str] = mapped_column(String(2), default="zh")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # False once Telegram said the member blocked the bot; the unit head is told once.
    reachable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role: Mapped[Role] = mapped_column(_enum(Role))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(lazy="joined")


class ProjectLead(Base):
    """A named officer on a project (专人专班)."""

    __tablename__ = "project_leads"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept upper-case so that the code people type matches whatever case they use.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    enterprise: Mapped[str] = mapped_column(String(200), default="")
    industry: Mapped[str] = mapped_column(String(50))
    investment: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    land_mu: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    stage: Mapped[Stage] = mapped_column(_enum(Stage), default=Stage.NEGOTIATING)
    # A unit's /today and prompt read its own projects and milestones: indexed.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    target_signed: Mapped[date | None] = mapped_column(Date)
    target_started: Mapped[date | None] = mapped_column(Date)
    target_operating: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The target of the stage the project is heading for (签约/开工/投产) climbs like an
    # overdue milestone once passed; a stage move or a new target date starts it over.
    target_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    target_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(lazy="joined")

    @property
    def targets(self) -> dict[Stage, date | None]:
        """The target date of each stage there is one for (签约/开工/投产)."""
        return {
            Stage.SIGNED: self.target_signed,
            Stage.STARTED: self.target_started,
            Stage.OPERATING: self.target_operating,
        }

    @property
    def intensity(self) -> Decimal | None:
        """Investment per mu (万元/亩), the figure land officers compare projects by."""
        if not self.land_mu:
            return None
        return (self.investment / self.land_mu).quantize(Decimal("0.01"))


@event.listens_for(Project.stage, "set")
@event.listens_for(Project.target_signed, "set")
@event.listens_for(Project.target_started, "set")
@event.listens_for(Project.target_operating, "set")
def _target_starts_over(project: Project, value: object, old: object, _initiator: object) -> None:
    """A new stage or target date is a new deadline: its escalation starts over.

    An event rather than a line in /stage, so that the ledger import and every other
    writer are covered too.
    """
    if value != old:
        project.target_level = 0
        project.target_escalated_at = None


class StageMove(Base):
    """A project reaching a stage, when, and by whose hand: the funnel's and the ranking's
    history. Written by the flush hook in storage.audit for every writer (a command, the
    ledger import); `from_stage` is None when the project entered the store at `to_stage`."""

    __tablename__ = "stage_moves"
    __table_args__ = (Index("ix_stage_moves_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    from_stage: Mapped[Stage | None] = mapped_column(_enum(Stage))
    to_stage: Mapped[Stage] = mapped_column(_enum(Stage))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class Milestone(Base):
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("project_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    # The N people type in /done CODE N; stable once given.
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), default="other")
    planned_date: Mapped[date | None] = mapped_column(Date)
    done_date: Mapped[date | None] = mapped_column(Date)
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@event.listens_for(Milestone.planned_date, "set")
def _milestone_starts_over(ms: Milestone, value: object, old: object, _initiator: object) -> None:
    """A milestone given a new date (/due, /plan, an extension, the ledger) starts its
    escalation over: every climb is measured against the current deadline."""
    if value != old:
        ms.escalation_level = 0
        ms.escalated_at = None


class ProgressReport(Base):
    __tablename__ = "progress_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    report_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # "report", or "no_change" when the officer only confirmed the project was checked.
    kind: Mapped[str] = mapped_column(String(12), default="report", server_default="report")
    # A site photo or document sent with the report: Telegram's file id and "photo"/"document".
    file_id: Mapped[str | None] = mapped_column(String(200))
    file_kind: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Member] = relationship(lazy="joined")


class Problem(Base):
    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    raiser_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[ProblemCategory] = mapped_column(_enum(ProblemCategory))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    reply_deadline: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ProblemStatus] = mapped_column(_enum(ProblemStatus), default=ProblemStatus.OPEN)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the answering unit answered: from then on the problem waits for its raiser's
    # sign-off, and a late sign-off is measured from here.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    project: Mapped[Project] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")


@event.listens_for(Problem.reply_deadline, "set")
def _reply_starts_over(problem: Problem, value: object, old: object, _initiator: object) -> None:
    """A new reply deadline (an approved extension, a reopen) starts the unit's climb over."""
    if value != old:
        problem.escalation_level = 0
        problem.escalated_at = None


class ProblemReply(Base):
    __tablename__ = "problem_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Member] = relationship(lazy="joined")


class Instruction(Base):
    """A leader's instruction (批示), tracked like any other action."""

    __tablename__ = "instructions"

    id: Mapped[int] = mapped_column(primary_key=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"))
    text: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    deadline: Mapped[date | None] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The unit's receipt, its report of completion (a line of text, by whom) and the
    # escalation, as for problems and milestones.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_text: Mapped[str | None] = mapped_column(Text)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@event.listens_for(Instruction.deadline, "set")
def _instruction_starts_over(
    instruction: Instruction, value: object, old: object, _initiator: object
) -> None:
    """A new deadline (an approved extension) starts the unit's climb over, as for problems."""
    if value != old:
        instruction.escalation_level = 0
        instruction.escalated_at = None


class Extension(Base):
    """A request for more time on a milestone, a problem's answer or an instruction, and
    its decision."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_kind: Mapped[str] = mapped_column(String(12))  # "milestone", "problem", "instruction"
    item_id: Mapped[int] = mapped_column(Integer)
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    old_date: Mapped[date | None] = mapped_column(Date)
    new_date: Mapped[date] = mapped_column(Date)
    status: Mapped[ExtensionStatus] = mapped_column(
        _enum(ExtensionStatus), default=ExtensionStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(Base):
    """A file the bot sends on its own (the meeting's workbook and wall chart), kept in the
    store so that the outbox can send it after a restart."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "photo" or "document"
    kind: Mapped[str] = mapped_column(String(12))
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Outbox(Base):
    """Every message the bot sends on its own, written before it is sent.

    The unique dedupe key makes a second tick (after a restart, or in a second process)
    add nothing; the sender marks each row once Telegram has taken it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_not_before", "status", "not_before"),
        # The sender looks up the last message sent to a chat to keep the per-chat interval.
        Index("ix_outbox_chat_id_sent_at", "chat_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    # Inline buttons as rows of [label, callback data].
    buttons: Mapped[list[list[list[str]]] | None] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # A photo or document sent with `text` as its caption.
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    # Higher goes first: a reply to a member who just wrote (1) before bulk prompts (0).
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # Set while a sender has taken the row; the active process clears what a dead one left.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A reply to this message in its chat (a question asked in a group).
    reply_to: Mapped[int | None] = mapped_column(BigInteger)


class SchedulerRun(Base):
    """One row per working day whose prompts were made: the daily tick runs once per day."""

    __tablename__ = "scheduler_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    messages: Mapped[int] = mapped_column(Integer, default=0)


class AuditLog(Base):
    """Append-only: one row per changed record, written by the flush hook in storage.audit."""

    __tablename__ = "audit_log"
    # Undo, the ranking's history and the moves of instructions read one record's rows.
    __table_args__ = (Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    action: Mapped[str] = mapped_column(String(10))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ChatState(Base):
    """State of half-done guided flows, so that they survive a restart of the bot.

    Written by the bot's persistence class; `scope` is `conv:<name>` for a
    ConversationHandler's states or `user` for the flow's scratch data.
    """

    __tablename__ = "chat_state"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(60))
    data: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Inbox(Base):
    """Every update from Telegram, stored before it is confirmed and marked once handled.

    A crash between the two leaves the row pending, and the next active process handles
    it; the primary key and the unique (chat, message) drop a redelivered update and a
    message that arrives twice under two update ids.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id"),
        Index("ix_inbox_done_at", "done_at"),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(30))
    # Only for a new message: an edit or a button press keeps these None.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Lease(Base):
    """Who is the active process: it alone fetches updates, ticks and sends.

    The lock itself is PostgreSQL's advisory lock (or a file lock beside a SQLite store);
    this row only tells everyone, the health endpoint included, who holds it.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
