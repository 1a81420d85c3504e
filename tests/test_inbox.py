"""The inbox, the replies and the lease, in one process: each rule of "never lose, never
double" that does not need a process to die (tests/test_faults.py kills the real one).

Updates go through bot.intake.Intake as in production: kept in the inbox, then handed to
the Application; what was stored and sent is counted.
"""

from __future__ import annotations

import asyncio
import copy
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.intake import Intake
from bot.lease import AdvisoryLease, FileLease, lock_key
from bot.runtime import ReplyFirst, Services, services
from bot.texts import t
from storage import inbox, leases
from storage.db import make_engine
from storage.models import Inbox, Outbox, OutboxStatus, Problem, ProgressReport
from storage.outbox import Message, enqueue
from tests.fakebot import message, photo, press, user
from tests.harness import COORD, HEAD, OFFICER, STRANGER, Harness, start_harness

GROUP = -100


def svc_of(h: Harness) -> Services:
    return services(h.app)  # type: ignore[arg-type]


async def count(h: Harness, model: Any, *where: Any) -> int:
    async with h.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def through_inbox(h: Harness, *updates: dict[str, Any]) -> list[str]:
    """Keep UPDATES in the inbox and handle what was kept; the texts sent meanwhile."""
    intake = Intake(h.app, svc_of(h))
    before = len(h.api.calls)
    await intake.keep(list(updates))
    while not intake.queue.empty():
        await intake.handle(*intake.queue.get_nowait())
    await intake.flush()
    await h.drain()
    return [str(p["text"]) for m, p in h.api.calls[before:] if m == "sendMessage"]


def edited(update: dict[str, Any], new_text: str) -> dict[str, Any]:
    """The same message, edited: a new update id, `edited_message`, the same message id."""
    msg = copy.deepcopy(update["message"])
    msg["text"] = new_text
    msg["edit_date"] = int(time.time())
    return {"update_id": update["update_id"] + 100_000, "edited_message": msg}


# --- the same update twice --------------------------------------------------------------


async def test_an_update_delivered_twice_is_stored_and_answered_once(h: Harness) -> None:
    update = message(OFFICER, "/progress XNY01 完成土地摘牌")
    replies = await through_inbox(h, update, update)
    replies += await through_inbox(h, update)  # redelivered after a crash
    assert await count(h, ProgressReport) == 1
    assert len([r for r in replies if "已记录 XNY01" in r]) == 1
    assert await count(h, Inbox, Inbox.done_at.is_not(None)) == 1


async def test_the_same_message_under_a_second_update_id_is_dropped(h: Harness) -> None:
    first = message(OFFICER, "/progress XNY01 环评已受理")
    second = {**first, "update_id": first["update_id"] + 7}
    await through_inbox(h, first)
    replies = await through_inbox(h, second)
    assert replies == []
    assert await count(h, ProgressReport) == 1


async def test_a_row_handled_by_another_worker_is_not_handled_again(h: Harness) -> None:
    """Two workers racing on one row: the handler's own mark decides, in its transaction."""
    update = message(OFFICER, "/progress XNY01 水电接入")
    intake = Intake(h.app, svc_of(h))
    await intake.keep([update])
    queued = intake.queue.get_nowait()
    await intake.handle(*queued)
    await intake.handle(*queued)
    assert await count(h, ProgressReport) == 1
    assert len([p for m, p in h.api.calls if m == "sendMessage"]) == 1


async def test_a_redelivered_button_press_is_not_answered_with_an_error(h: Harness) -> None:
    await h.send(OFFICER, "/progress")
    tap = press(OFFICER, "f:project:XNY01")
    await through_inbox(h, tap)
    replies = await through_inbox(h, tap)
    assert replies == []
    assert not [r for r in h.api.texts(OFFICER) if r == t("zh", "err.internal")]
    done = await through_inbox(h, message(OFFICER, "按下一次就够了"))
    assert "已记录 XNY01" in done[0]
    assert await count(h, ProgressReport) == 1


# --- edits, forwards and captions ---------------------------------------------------------


@pytest.mark.parametrize(
    "first, then",
    [
        ("/progress XNY01 完成预审", "/progress XNY01 完成预审和规划"),
        ("/progress XNY01 done", "/progress XNY01 done twice"),
        ("/problem XNY01 缺电", "/problem XNY01 缺电缺水"),
    ],
)
async def test_an_edited_command_is_answered_and_never_applied(
    h: Harness, first: str, then: str
) -> None:
    original = message(OFFICER, first)
    await through_inbox(h, original)
    reports = await count(h, ProgressReport)
    problems = await count(h, Problem)
    replies = await through_inbox(h, edited(original, then))
    assert replies == [t("zh", "err.edited")]
    assert await count(h, ProgressReport) == reports
    assert await count(h, Problem) == problems


async def test_edits_in_a_group_are_answered_only_for_commands(h: Harness) -> None:
    await h.send(HEAD, "/link", chat_id=GROUP, kind="group")
    chatter = message(OFFICER, "今天开会吗", chat_id=GROUP, kind="group")
    command = message(OFFICER, "/progress XNY01 群里报", chat_id=GROUP, kind="group")
    await through_inbox(h, chatter, command)
    assert await through_inbox(h, edited(chatter, "今天下午开会吗")) == []
    assert await through_inbox(h, edited(command, "/progress XNY01 群里改")) == [
        t("zh", "err.edited")
    ]
    assert await count(h, ProgressReport) == 1


async def test_a_strangers_edit_is_not_answered(h: Harness) -> None:
    assert await h.process(edited(message(STRANGER, "/progress XNY01 x"), "/progress y")) == []


@pytest.mark.parametrize(
    "origin",
    [
        {"type": "user", "date": 1, "sender_user": user(HEAD, "刘局长")},
        {"type": "hidden_user", "date": 1, "sender_user_name": "某人"},
        {"type": "chat", "date": 1, "sender_chat": {"id": -5, "type": "group", "title": "群"}},
    ],
)
@pytest.mark.parametrize("text", ["/progress XNY01 别人写的进展", "/problem XNY01 别人的问题"])
async def test_a_forwarded_command_is_refused(
    h: Harness, origin: dict[str, Any], text: str
) -> None:
    update = message(OFFICER, text)
    update["message"]["forward_origin"] = origin
    replies = await through_inbox(h, update)
    assert replies == [t("zh", "err.forwarded")]
    assert await count(h, ProgressReport) == 0
    assert await count(h, Problem) == 0


async def test_forwarded_plain_text_is_not_taken_for_a_command(h: Harness) -> None:
    update = message(OFFICER, "转发一段话")
    update["message"]["forward_origin"] = {
        "type": "hidden_user",
        "date": 1,
        "sender_user_name": "x",
    }
    replies = await through_inbox(h, update)
    assert t("zh", "err.forwarded") not in replies


@pytest.mark.parametrize(
    "caption",
    ["/progress XNY01 现场照片：桩基完成", "/progress@wallchart_test_bot XNY01 桩基完成"],
)
async def test_a_photo_with_a_command_caption_is_the_command_with_its_photo(
    h: Harness, caption: str
) -> None:
    replies = await through_inbox(h, photo(OFFICER, "pic1", caption))
    assert any("已记录 XNY01" in r for r in replies)
    async with h.sessions() as s:
        report = await s.scalar(select(ProgressReport))
    assert report is not None and "桩基完成" in report.text
    assert report.file_id == "pic1"


async def test_a_caption_command_that_keeps_no_file_runs_and_says_so(h: Harness) -> None:
    replies = await through_inbox(h, photo(OFFICER, "pic2", "/problem XNY01 供电线路没接通"))
    assert t("zh", "flow.no_file") in replies
    # The problem asks which unit should answer: the command ran.
    assert h.api.buttons(OFFICER)


async def test_a_caption_for_another_bot_is_left_alone(h: Harness) -> None:
    await through_inbox(h, photo(OFFICER, "pic3", "/progress@other_bot XNY01 别的机器人"))
    assert await count(h, ProgressReport) == 0


# --- a press Telegram will not let us answer, a reply that fails after the commit -------


async def test_a_press_is_acted_on_when_answering_it_fails(h: Harness) -> None:
    handle = h.api.handle

    def too_old(method: str, params: dict[str, Any]) -> tuple[bool, Any]:
        if method == "answerCallbackQuery":
            return False, {
                "error_code": 400,
                "description": "Bad Request: query is too old and response timeout "
                "expired or query id is invalid",
            }
        return handle(method, params)

    h.api.handle = too_old  # type: ignore[method-assign]
    await h.send(OFFICER, "/progress")
    replies = await through_inbox(h, press(OFFICER, "f:project:XNY01"))
    assert t("zh", "err.internal") not in replies
    await through_inbox(h, message(OFFICER, "旧按钮也算数"))
    assert await count(h, ProgressReport) == 1


@pytest.mark.parametrize("status", [500, 502, 429])
async def test_a_confirmation_that_fails_after_the_commit_is_sent_later(
    h: Harness, status: int
) -> None:
    handle = h.api.handle
    failures = [status]

    def flaky(method: str, params: dict[str, Any]) -> tuple[bool, Any]:
        if method == "sendMessage" and failures and int(params["chat_id"]) == OFFICER:
            code = failures.pop()
            extra = {"parameters": {"retry_after": 0}} if code == 429 else {}
            return False, {"error_code": code, "description": "Internal Server Error", **extra}
        return handle(method, params)

    h.api.handle = flaky  # type: ignore[method-assign]
    intake = Intake(h.app, svc_of(h))
    await intake.keep([message(OFFICER, "/progress XNY01 确认失败也不能说没保存")])
    await intake.handle(*intake.queue.get_nowait())
    await intake.flush()
    assert await count(h, ProgressReport) == 1
    assert t("zh", "err.internal") not in h.api.texts(OFFICER)
    # The confirmation waits in the outbox, given back to the sender.
    async with h.sessions() as s:
        row = await s.scalar(select(Outbox).where(Outbox.kind == "reply"))
    assert row is not None and row.status == OutboxStatus.PENDING and row.claimed_until is None
    h.clock.now += timedelta(seconds=1)
    await h.drain()
    assert [x for x in h.api.texts(OFFICER) if "已记录 XNY01" in x] != []
    assert await count(h, Outbox, Outbox.kind == "reply", Outbox.status == OutboxStatus.SENT) == 1


async def test_replies_sent_at_once_are_recorded_and_not_sent_again(h: Harness) -> None:
    replies = await through_inbox(h, message(OFFICER, "/progress XNY01 一次就好"))
    assert len(replies) == 1
    await h.drain()
    assert len(h.api.texts(OFFICER)) == 1
    assert await count(h, Outbox, Outbox.status == OutboxStatus.PENDING) == 0


async def test_a_question_in_a_group_is_kept_with_its_forced_reply(h: Harness) -> None:
    await h.send(HEAD, "/link", chat_id=GROUP, kind="group")
    await through_inbox(h, message(OFFICER, "/progress XNY01", chat_id=GROUP, kind="group"))
    async with h.sessions() as s:
        row = await s.scalar(
            select(Outbox)
            .where(Outbox.kind == "reply", Outbox.chat_id == GROUP)
            .order_by(Outbox.id.desc())
        )
    assert row is not None and row.reply_to is not None and row.buttons is None


# --- a dropped connection -----------------------------------------------------------------


def dropped() -> DBAPIError:
    return DBAPIError(
        "SELECT 1",
        {},
        ConnectionResetError("server closed the connection"),
        connection_invalidated=True,
    )


@pytest.mark.parametrize(
    "failure",
    [dropped, lambda: OperationalError("UPDATE", {}, Exception("database is locked"))],
)
async def test_a_dropped_connection_runs_the_update_once_more(
    h: Harness, monkeypatch: pytest.MonkeyPatch, failure: Any
) -> None:
    import bot.handlers.base as base

    real = base.member_by_tg
    calls = 0

    async def flaky(session: Any, tg_id: int) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise failure()
        return await real(session, tg_id)

    monkeypatch.setattr(base, "member_by_tg", flaky)
    replies = await through_inbox(h, message(OFFICER, "/progress XNY01 断线重试"))
    assert calls == 2
    assert await count(h, ProgressReport) == 1
    assert len([r for r in replies if "已记录 XNY01" in r]) == 1


async def test_a_second_drop_is_an_error_and_nothing_is_saved(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.handlers.base as base

    async def down(session: Any, tg_id: int) -> Any:
        raise dropped()

    monkeypatch.setattr(base, "member_by_tg", down)
    await through_inbox(h, message(OFFICER, "/progress XNY01 连不上"))
    monkeypatch.undo()
    assert await count(h, ProgressReport) == 0
    assert h.api.texts(OFFICER)[-1] == t("zh", "err.internal")


async def test_a_sent_mark_that_cannot_be_written_is_never_sent_again(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.outbox as store

    async with h.sessions() as s:
        await enqueue(s, [Message("bulk:1", COORD, "prompt", "今日提醒", None)], h.clock())
        await s.commit()
    real = store.update_rows
    failing = True

    async def flaky(session: Any, changes: Any) -> None:
        if failing and any(v.get("status") == OutboxStatus.SENT for _id, v in changes):
            raise dropped()
        await real(session, changes)

    monkeypatch.setattr(store, "update_rows", flaky)
    await h.drain()
    assert h.api.texts(COORD) == ["今日提醒"]
    failing = False
    h.clock.now += timedelta(minutes=30)  # the claim has long lapsed
    await h.drain()
    assert h.api.texts(COORD) == ["今日提醒"]
    assert await count(h, Outbox, Outbox.status == OutboxStatus.SENT) == 1


# --- flows across a crash -------------------------------------------------------------------


async def test_a_flow_step_survives_a_crash_without_a_clean_stop(h: Harness) -> None:
    """Nothing is flushed at stop: the step is in the store with the update that made it."""
    await h.send(OFFICER, "/progress")
    await h.press(OFFICER, "f:project:XNY01")
    # The process dies: no stop, no persistence flush.
    second = await start_harness(h.url)
    try:
        replies = await second.send(OFFICER, "崩溃后接着填")
        assert "已记录 XNY01" in replies[0]
    finally:
        await second.stop()


# --- bulk waits for replies --------------------------------------------------------------


async def test_bulk_sends_wait_while_a_reply_is_on_its_way() -> None:
    gate = ReplyFirst()
    order: list[str] = []

    async def bulk() -> None:
        await gate.bulk()
        order.append("bulk")

    async with gate.replying():
        waiting = asyncio.create_task(bulk())
        await asyncio.sleep(0.01)
        order.append("reply")
    await waiting
    assert order == ["reply", "bulk"]


async def test_the_sender_takes_replies_before_bulk_rows(h: Harness) -> None:
    async with h.sessions() as s:
        bulk = [Message(f"bulk:{i}", COORD, "prompt", f"提醒{i}") for i in range(5)]
        await enqueue(s, bulk, h.clock())
        await enqueue(s, [Message("reply:x", COORD, "reply", "您的回复", priority=1)], h.clock())
        await s.commit()
    await h.drain()
    assert h.api.texts(COORD)[0] == "您的回复"


# --- the store's inbox ------------------------------------------------------------------------


async def test_one_batch_keeps_each_update_and_each_message_once(h: Harness) -> None:
    # All in one statement: an update id twice, one message under two update ids, and
    # an update kept by an earlier batch; only the first of each comes back as kept.
    now = h.clock()
    first = message(OFFICER, "/progress P001 一")
    again = {**message(OFFICER, "/progress P001 二"), "update_id": 10_000}
    same_message = {**again, "update_id": 10_001}  # (chat, message id) of `again`
    other = message(HEAD, "/today")
    async with h.sessions() as s:
        assert await inbox.keep(s, [inbox.received(first)], now) == [first["update_id"]]
        kept = await inbox.keep(
            s,
            [inbox.received(u) for u in (first, again, again, same_message, other)],
            now,
        )
        await s.commit()
        assert kept == sorted([10_000, other["update_id"]])
        assert sorted(uid for uid, _ in await inbox.pending(s)) == sorted(
            [first["update_id"], 10_000, other["update_id"]]
        )


async def test_prune_forgets_old_handled_updates_but_the_newest(h: Harness) -> None:
    now = h.clock()
    async with h.sessions() as s:
        rows = [inbox.received(message(OFFICER, f"x{i}")) for i in range(4)]
        await inbox.keep(s, rows, now - timedelta(days=30))
        for r in rows[:3]:
            await inbox.finish(s, r.update_id, now - timedelta(days=30))
        await s.commit()
        assert await inbox.prune(s, now - timedelta(days=7)) == 3
        await s.commit()
        assert [uid for uid, _ in await inbox.pending(s)] == [rows[3].update_id]
        assert await inbox.last_update_id(s) == rows[3].update_id


# --- the lease ---------------------------------------------------------------------------------


async def test_one_file_lease_at_a_time(tmp_path: Path) -> None:
    first, second = FileLease(tmp_path / "s.lock"), FileLease(tmp_path / "s.lock")
    assert await first.try_take()
    assert not await second.try_take()
    await first.release()
    assert await second.try_take()
    assert await second.still_held()
    await second.release()


def test_the_lock_key_is_the_bots() -> None:
    assert lock_key("123:AAA") == lock_key("123:BBB")
    assert lock_key("123:AAA") != lock_key("124:AAA")
    assert 0 < lock_key("7999999999:X") < 2**63


async def test_one_advisory_lease_at_a_time_and_lost_with_its_connection(pg_url: str) -> None:
    engine = make_engine(pg_url)
    other = make_engine(pg_url)
    key = lock_key("424242:T")
    first, second = AdvisoryLease(engine, key), AdvisoryLease(other, key)
    try:
        assert await first.try_take()
        assert not await second.try_take()
        assert await first.still_held()
        # The holder's connection dies (a crash, a network cut): the server frees the lock.
        assert first.conn is not None
        pid = await first.conn.scalar(text("SELECT pg_backend_pid()"))
        async with other.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            await conn.commit()
        assert not await first.still_held()
        for _ in range(50):
            if await second.try_take():
                break
            await asyncio.sleep(0.1)
        assert await second.still_held()
    finally:
        await first.release()
        await second.release()
        await engine.dispose()
        await other.dispose()


async def test_the_active_process_is_recorded_for_all_to_read(h: Harness) -> None:
    async with h.sessions() as s:
        await leases.took(s, "host-a:1", h.clock())
        await s.commit()
        h.clock.now += timedelta(seconds=5)
        await leases.beat(s, "host-a:1", h.clock())
        await leases.beat(s, "host-b:2", h.clock())  # not the holder: no effect
        await s.commit()
        found = await leases.current(s)
    assert found is not None and found.holder == "host-a:1"
    assert found.beat_at - found.since == timedelta(seconds=5)


async def test_a_stranger_through_the_inbox_is_refused_once_and_marked(h: Harness) -> None:
    replies = await through_inbox(h, message(STRANGER, "/progress XNY01 x"))
    assert len(replies) == 1
    assert await count(h, Inbox, Inbox.done_at.is_(None)) == 0


# --- what PostgreSQL cannot store -------------------------------------------------------------


@pytest.mark.parametrize(
    "sent, stored",
    [("/progress XNY01 桩基\x00完成", "桩基完成"), ("/progress XNY01\x00 done\x00", "done")],
)
async def test_nul_characters_are_dropped_on_the_way_in(h: Harness, sent: str, stored: str) -> None:
    replies = await through_inbox(h, message(OFFICER, sent))
    assert any("已记录 XNY01" in r for r in replies)
    async with h.sessions() as s:
        report = await s.scalar(select(ProgressReport))
    assert report is not None and report.text == stored


@pytest.mark.parametrize("data", ["un:2147483648", "un:99999999999", "un:１２", "un:\x001"])
async def test_an_undo_press_past_any_id_is_a_bad_button(h: Harness, data: str) -> None:
    replies = await through_inbox(h, press(OFFICER, data))
    assert replies == [t("zh", "err.bad_button")]


async def test_replies_sent_are_recorded_even_when_the_next_commit_fails(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record of earlier replies rides on the next update's commit: if that commit
    fails, the record waits for the one after, and no ✅ goes out twice."""
    import storage.outbox as store

    intake = Intake(h.app, svc_of(h))
    await intake.keep([message(OFFICER, "/progress XNY01 第一条")])
    await intake.handle(*intake.queue.get_nowait())  # sent; its record waits
    real = store.mark_replies_sent
    failures = [dropped(), dropped()]

    async def flaky(session: Any, keys: Any, now: Any) -> None:
        if keys and failures:
            raise failures.pop()
        await real(session, keys, now)

    monkeypatch.setattr(store, "mark_replies_sent", flaky)
    await intake.keep([message(OFFICER, "/progress XNY01 第二条")])
    await intake.handle(*intake.queue.get_nowait())  # its commit fails twice: not saved
    monkeypatch.undo()
    await intake.flush()
    h.clock.now += timedelta(minutes=10)  # every claim has lapsed
    await h.drain()
    assert len([x for x in h.api.texts(OFFICER) if "已记录 XNY01" in x]) == 1
    assert await count(h, ProgressReport) == 1


# --- one sender, and the operator's mistakes -----------------------------------------------


def test_a_manual_tick_leaves_the_sending_to_the_running_bot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`wallchart tick` with a token sends only when no bot process holds the lease: two
    senders could send one message twice."""
    import sqlite3

    from bot.cli import main
    from tests.botapi_server import BotAPIServer
    from tests.fakebot import FakeBotAPI
    from tests.test_cli import demo_city

    monkeypatch.chdir(tmp_path)  # the demo writes its chart and workbook here
    at = demo_city(tmp_path, capsys)
    db = tmp_path / "demo.sqlite3"
    held = FileLease(Path(f"{db}.lock"))
    assert asyncio.run(held.try_take())
    try:
        with BotAPIServer(FakeBotAPI(), token="123:RIGHT") as server:
            path = tmp_path / "send.toml"
            path.write_text(f'[telegram]\ntoken = "123:RIGHT"\nbase_url = "{server.base_url}"\n')
            assert main(["--config", str(path), "tick", "--db", str(db), "--at", at]) == 0
            sent = server.read(lambda api: len(api.sent()))
    finally:
        asyncio.run(held.release())
    assert "the running bot" in capsys.readouterr().out
    assert sent == 0
    with sqlite3.connect(db) as conn:
        pending = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()
    assert pending[0] > 0


def test_a_port_taken_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    from bot.cli import main

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    path = tmp_path / "c.toml"
    path.write_text(
        f'[telegram]\ntoken = "123:X"\nbase_url = "http://127.0.0.1:1/bot"\n'
        f'[store]\nurl = "sqlite:///{tmp_path / "s.sqlite3"}"\n[serve]\nport = {port}\n'
    )
    path.chmod(0o600)
    try:
        assert main(["--config", str(path), "run"]) == 2
    finally:
        taken.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f":{port}" in err[0] and "port of its own" in err[0]


@pytest.mark.parametrize(
    "typed",
    [
        "／progress XNY01 全角斜杠也是命令",
        "／progress@wallchart_test_bot XNY01 全角斜杠也是命令",
        "／progress，XNY01，全角斜杠也是命令",
    ],
)
async def test_a_full_width_slash_is_a_command(h: Harness, typed: str) -> None:
    replies = await through_inbox(h, message(OFFICER, typed))
    assert any("已记录 XNY01" in r for r in replies)
    async with h.sessions() as s:
        report = await s.scalar(select(ProgressReport))
    assert report is not None and report.text == "全角斜杠也是命令"


async def test_a_full_width_slash_in_a_caption_is_a_command(h: Harness) -> None:
    await through_inbox(h, photo(OFFICER, "pic9", "／progress XNY01 现场照片"))
    async with h.sessions() as s:
        report = await s.scalar(select(ProgressReport))
    assert report is not None and report.file_id == "pic9"


async def test_a_full_width_slash_alone_is_not_a_command(h: Harness) -> None:
    replies = await through_inbox(h, message(OFFICER, "／ 这不是命令"))
    assert await count(h, ProgressReport) == 0
    assert replies == [t("zh", "hint.help")]
