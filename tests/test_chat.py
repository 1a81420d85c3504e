"""Handler tests: the real Application, real updates, the fake Bot API, no network."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.models import (
    AuditLog,
    Member,
    Milestone,
    Problem,
    ProblemStatus,
    ProgressReport,
    Project,
)
from tests.fakebot import document, photo
from tests.harness import (
    ADMIN,
    COORD,
    HEAD,
    LAND_OFFICER,
    LEADER,
    OFFICER,
    OTHER_OFFICER,
    STRANGER,
    Harness,
    seed,
    start_harness,
)
from tests.stores import NewStore


async def count(h: Harness, model: type) -> int:
    async with h.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


# --- strangers and registration ---------------------------------------------------------


async def test_stranger_gets_one_refusal_in_both_languages_whatever_they_send(h: Harness) -> None:
    for text in ("/today", "/project XNY01", "hello", "/progress XNY01 done"):
        replies = await h.send(STRANGER, text)
        assert len(replies) == 1
        assert "邀请码" in replies[0] and "invite code" in replies[0]
        assert "XNY01" not in replies[0]
    assert await count(h, ProgressReport) == 0


async def test_stranger_in_a_group_is_ignored(h: Harness) -> None:
    assert await h.send(STRANGER, "/today", chat_id=-500, kind="group") == []


async def test_invite_and_register_with_deep_link_code(h: Harness) -> None:
    replies = await h.send(COORD, "/invite 城东街道 专员")
    code = replies[0].split("<code>")[1].split("</code>")[0]
    assert f"https://t.me/wallchart_test_bot?start={code}" in replies[0]
    welcome = await h.send(777, f"/start {code}")
    assert "城东街道" in welcome[0] and "专员" in welcome[0]
    # the code is one-time
    again = await h.send(778, f"/start {code}")
    assert "邀请码无效" in again[0] and "invalid" in again[0]
    assert "城东街道" in (await h.send(777, "/project XNY01"))[0]


async def test_officer_cannot_invite_and_coordinator_cannot_make_admins(h: Harness) -> None:
    assert "没有权限" in (await h.send(OFFICER, "/invite 城东街道 专员"))[0]
    refused = (await h.send(COORD, "/invite 城东街道 admin"))[0]
    assert "没有权限" in refused and "请联系管理员" in refused
    assert "<code>" in (await h.send(ADMIN, "/invite 城东街道 admin"))[0]
    # a role of two words, and a Chinese comma between the unit and the role
    assert "<code>" in (await h.send(COORD, "/invite 城东街道 unit head"))[0]
    assert "<code>" in (await h.send(COORD, "/invite 城东街道，负责人"))[0]
    # a leader's code for a township would give the leader a township's prompts
    wrong = (await h.send(COORD, "/invite 城东街道 分管领导"))[0]
    assert "不能设" in wrong and "街道" in wrong


async def test_configured_admin_becomes_a_member_on_start(new_store: NewStore) -> None:
    from bot.config import Config, TelegramConfig

    harness = await start_harness(
        await new_store(), Config(telegram=TelegramConfig(admins=(4242,)))
    )
    try:
        first = (await harness.send(4242, "/start"))[0]
        # The very first /start says what to set up, in order, with the exact commands.
        assert first.index("<code>/import</code>") < first.index(
            "<code>/invite 招商服务中心 服务中心"
        )
        assert "欢迎回来" in (await harness.send(4242, "/start"))[0]
        async with harness.sessions() as s:
            m = await s.scalar(select(Member).where(Member.tg_user_id == 4242))
            assert m is not None and m.role.value == "admin"
    finally:
        await harness.stop()


# --- language ---------------------------------------------------------------------------


async def test_lang_switches_every_reply(h: Harness) -> None:
    assert "English" in (await h.send(OFFICER, "/lang en"))[0]
    card = (await h.send(OFFICER, "/project xny01"))[0]
    assert "Stage: signed" in card and "Site selection" in card
    assert "中文" in (await h.send(OFFICER, "/lang zh"))[0]
    assert "阶段：签约" in (await h.send(OFFICER, "/project XNY01"))[0]


# --- the card ---------------------------------------------------------------------------


async def test_card_shows_lights_money_and_escapes_html(h: Harness) -> None:
    card = (await h.send(OFFICER, "/project XNY01"))[0]
    assert "光伏组件&lt;智造&gt;基地" in card  # HTML in names is escaped
    assert "🔴 1. 选址" in card  # 2026-11-20 is overdue on 2026-12-03
    assert "🟡 2. 土地摘牌" in card  # due within 7 days
    assert "🟢 3. 开工建设" in card
    assert "投资强度：400 万元/亩" in card  # 120000 / 300


async def test_other_units_project_looks_unknown(h: Harness) -> None:
    reply = (await h.send(OTHER_OFFICER, "/project XNY01"))[0]
    assert "找不到项目" in reply and "阶段" not in reply
    assert "找不到项目" in (await h.send(OFFICER, "/project NOPE"))[0]


# --- progress, problems, replies --------------------------------------------------------


async def test_progress_with_arguments(h: Harness) -> None:
    reply = (await h.send(OFFICER, "/progress xny01 完成土地预审"))[0]
    assert "已记录 XNY01" in reply
    assert await count(h, ProgressReport) == 1
    assert "完成土地预审" in (await h.send(OFFICER, "/project XNY01"))[0]


async def test_progress_too_long_is_refused_and_nothing_written(h: Harness) -> None:
    reply = (await h.send(OFFICER, "/progress XNY01 " + "很" * 3000))[0]
    assert "太长" in reply
    assert await count(h, ProgressReport) == 0


async def test_guided_progress_flow_with_buttons(h: Harness) -> None:
    await h.send(OFFICER, "/progress")
    assert h.buttons(OFFICER) == ["f:project:XNY01", "f:cancel"]
    await h.press(OFFICER, "f:project:XNY01")
    assert "请输入本次进展" in h.api.texts(OFFICER)[-1]
    await h.send(OFFICER, "环评公示结束")
    assert "已记录 XNY01" in h.api.texts(OFFICER)[-1]
    assert await count(h, ProgressReport) == 1


async def test_a_nul_anywhere_in_an_update_is_dropped_before_the_handlers(h: Harness) -> None:
    """PostgreSQL's text cannot hold U+0000: on it, what carried one was lost with "not
    saved". In a command, a flow's answer, a problem, a photo's caption and a file's name
    it is dropped, and the rest kept, on both stores."""
    assert "已记录 XNY01" in (await h.send(OFFICER, "/progress XNY01 完成\x00土地预审"))[0]
    await h.send(OFFICER, "/progress")
    await h.press(OFFICER, "f:project:XNY01")
    assert "已记录 XNY01" in (await h.send(OFFICER, "\x00环评公示结束\x00"))[0]
    await h.send(OFFICER, "/problem XNY01 用地指标\x00还没有落实")
    assert "已转 自然资源局" in (await h.press(OFFICER, f"f:unit:{h.ids['land']}"))[0]
    h.api.files["ph1"] = b"\xff\xd8\xff"
    replies = await h.process(photo(OFFICER, "ph1", "/progress XNY01 现场\x00照片"))
    assert "已记录 XNY01" in replies[0]
    bad = "项目编号,项目名称,产业类别,计划投资（万元）,责任单位\nQ1,甲,新能源,十二万,城东街道\n"
    refused = (await h.upload(ADMIN, bad.encode(), "台\x00账.csv"))[0]
    assert "“台账.csv”中有 1 处问题" in refused and "十二万" in refused
    async with h.sessions() as s:
        reports = await s.scalars(select(ProgressReport.text).order_by(ProgressReport.id))
        assert list(reports) == ["完成土地预审", "环评公示结束", "现场照片"]
        assert await s.scalar(select(Problem.text)) == "用地指标还没有落实"


async def test_forged_button_is_refused(h: Harness) -> None:
    await h.send(OFFICER, "/progress")
    # a project of another unit, forged into the payload
    replies = await h.press(OFFICER, "f:project:SW02")
    assert any("找不到项目" in r for r in replies)
    replies = await h.press(OFFICER, "f:stage:signed")
    assert any("按钮无效" in r for r in replies)
    await h.press(OFFICER, "f:cancel")
    assert "已取消" in h.api.texts(OFFICER)[-1]
    assert "已经结束" in (await h.press(OFFICER, "f:project:XNY01"))[0]
    assert await count(h, ProgressReport) == 0


async def test_problem_routed_by_category_then_answered_and_resolved(h: Harness) -> None:
    await h.send(OFFICER, "/problem XNY01 用地指标还没有落实")
    buttons = h.buttons(OFFICER)
    land_unit = h.ids["land"]
    assert buttons[0] == f"f:unit:{land_unit}"  # land → 自然资源局 suggested first
    await h.press(OFFICER, buttons[0])
    assert "已转 自然资源局" in h.api.texts(OFFICER)[-1]
    # the land bureau's officer is told, with a Reply button
    note = h.api.texts(LAND_OFFICER)[-1]
    assert "新问题" in note and "用地指标" in note
    async with h.sessions() as s:
        problem = await s.scalar(select(Problem))
        assert problem is not None and problem.category.value == "land"
    reply_button = f"go:reply:{problem.id}"
    assert reply_button in h.buttons(LAND_OFFICER)
    await h.press(LAND_OFFICER, reply_button)
    await h.send(LAND_OFFICER, "下周一挂牌")
    assert "已答复" in h.api.texts(LAND_OFFICER)[-1]
    assert "下周一挂牌" in h.api.texts(OFFICER)[-1]  # the raiser hears the answer
    # another township may not answer or resolve it
    assert "找不到问题" in (await h.send(OTHER_OFFICER, f"/reply {problem.id} 我来答"))[0]
    assert "已确认解决" in (await h.send(OFFICER, f"/resolve {problem.id} 谢谢"))[0]
    async with h.sessions() as s:
        p = await s.get(Problem, problem.id)
        assert p is not None and p.status is ProblemStatus.RESOLVED


async def test_problem_reply_deadline_from_its_words_or_three_working_days(h: Harness) -> None:
    await h.send(OFFICER, "/problem XNY01 用地指标还没有落实，请下周五前答复")
    replies = await h.press(OFFICER, h.buttons(OFFICER)[0])
    assert "答复期限 2026-12-11（周五）" in replies[0]  # Thursday the 3rd: Friday of next week
    await h.send(OFFICER, "/problem XNY01 施工许可卡住了")
    replies = await h.press(OFFICER, h.buttons(OFFICER)[0])
    assert "答复期限 2026-12-08（周二）" in replies[0]  # 3 working days: Fri, Mon, Tue


async def test_only_raiser_or_coordinator_resolves(h: Harness) -> None:
    await h.send(OFFICER, "/problem XNY01 资金缺口")
    await h.press(OFFICER, h.buttons(OFFICER)[0])
    async with h.sessions() as s:
        pid = await s.scalar(select(Problem.id))
    assert "没有权限" in (await h.send(HEAD, f"/resolve {pid}"))[0]
    assert "已确认解决" in (await h.send(COORD, f"/resolve {pid}"))[0]
    assert "不能再操作" in (await h.send(COORD, f"/resolve {pid}"))[0]


# --- milestones and stages --------------------------------------------------------------


async def test_done_and_due(h: Harness) -> None:
    assert "已完成" in (await h.send(OFFICER, "/done XNY01 1"))[0]
    assert "已于" in (await h.send(OFFICER, "/done XNY01 1"))[0]
    assert "没有节点 9" in (await h.send(OFFICER, "/done XNY01 9"))[0]
    assert "没有权限" in (await h.send(OFFICER, "/due XNY01 3 2027-04-01"))[0]
    reply = (await h.send(HEAD, "/due XNY01 3 2027-04-01"))[0]
    assert "2027-03-01（周一） → 2027-04-01（周四）" in reply
    assert "已经过去" in (await h.send(HEAD, "/due XNY01 3 2026-01-01"))[0]


async def test_land_bureau_marks_its_own_milestone_done(h: Harness) -> None:
    assert "已完成" in (await h.send(LAND_OFFICER, "/done XNY01 2"))[0]
    assert "没有节点 1" in (await h.send(LAND_OFFICER, "/done XNY01 1"))[0]


async def test_stage_moves_and_bad_stage(h: Harness) -> None:
    assert "没有「开挖」这个阶段" in (await h.send(HEAD, "/stage XNY01 开挖"))[0]
    assert "签约 → 开工" in (await h.send(HEAD, "/stage XNY01 started"))[0]
    assert "没有权限" in (await h.send(OFFICER, "/stage XNY01 operating"))[0]
    async with h.sessions() as s:
        p = await s.scalar(select(Project).where(Project.code == "XNY01"))
        assert p is not None and p.stage.value == "started"
        audit = (
            await s.scalars(
                select(AuditLog)
                .where(AuditLog.entity == "projects", AuditLog.action == "update")
                .order_by(AuditLog.id)
            )
        ).all()
        assert audit[-1].before == {"stage": "signed"} and audit[-1].after == {"stage": "started"}


async def test_guided_stage_flow(h: Harness) -> None:
    await h.send(HEAD, "/stage")
    await h.press(HEAD, "f:project:XNY01")
    assert "f:stage:operating" in h.buttons(HEAD)
    await h.press(HEAD, "f:stage:operating")
    assert "签约 → 投产" in h.api.texts(HEAD)[-1]


async def test_plan_backward_from_target(h: Harness) -> None:
    assert "没有权限" in (await h.send(HEAD, "/plan XNY01 2027-06-30"))[0]
    assert "已经过去" in (await h.send(COORD, "/plan SW02 2026-01-01"))[0]
    # the past date left the flow waiting for a new one; a new /plan says it ends that one
    dropped, reply = await h.send(COORD, "/plan SW02 2027-06-30")
    assert "未完成的 /plan 已取消" in dropped
    assert "1. 选址" in reply and "6. 开工建设 — 2027-06-30" in reply
    squeezed = (await h.send(COORD, "/plan XNY01 2026-12-31"))[-1]
    assert "只能排在今天" in squeezed
    async with h.sessions() as s:
        ms = (await s.scalars(select(Milestone).join(Project).where(Project.code == "SW02"))).all()
        assert len(ms) == 6


async def test_instruct_reaches_the_unit(h: Harness) -> None:
    assert "没有权限" in (await h.send(COORD, "/instruct XNY01 加快"))[0]
    reply = (await h.send(LEADER, "/instruct XNY01 月底前完成摘牌"))[0]
    assert "城东街道" in reply and "2026-12-31" in reply
    assert "领导批示" in h.api.texts(OFFICER)[-1]
    assert h.buttons(OFFICER) == ["in:ack:1", "go:fulfil:1", "go:extend:i:1"]


# --- lists ------------------------------------------------------------------------------


async def test_projects_filters(h: Harness) -> None:
    assert "XNY01" in (await h.send(OFFICER, "/projects"))[0]
    assert "SW02" not in (await h.send(OFFICER, "/projects"))[0]
    everything = (await h.send(COORD, "/projects"))[0]
    assert "XNY01" in everything and "SW02" in everything
    signed = (await h.send(COORD, "/projects 签约"))[0]
    assert "XNY01" in signed and "SW02" not in signed
    assert "SW02" in (await h.send(COORD, "/projects 城西镇"))[0]


async def test_today_lists_overdue_and_soon(h: Harness) -> None:
    reply = (await h.send(OFFICER, "/today"))[0]
    assert "已逾期节点 1 个" in reply and "1. 选址" in reply
    # XNY01's 土地摘牌, due in five days, is the land bureau's to do, not 城东街道's
    assert "到期节点" not in reply and "土地摘牌" not in reply
    land = (await h.send(LAND_OFFICER, "/today"))[0]
    assert "内到期节点 1 个" in land and "2. 土地摘牌" in land
    assert "nc:XNY01" not in h.api.buttons(LAND_OFFICER)  # not its project to report on


# --- groups -----------------------------------------------------------------------------


async def test_group_link_and_commands_for_members_only(h: Harness) -> None:
    assert "工作群" in (await h.send(HEAD, "/link"))[0]
    assert "已关联到 城东街道" in (await h.send(HEAD, "/link", chat_id=-100, kind="group"))[0]
    assert "XNY01" in (await h.send(OFFICER, "/projects", chat_id=-100, kind="group"))[0]
    assert await h.send(STRANGER, "/projects", chat_id=-100, kind="group") == []


# --- the ledger in chat ----------------------------------------------------------------

DATA = Path(__file__).parent / "data"


async def test_import_ledger_in_chat(h: Harness) -> None:
    workbook = (DATA / "ledger-example.xlsx").read_bytes()
    assert "没有权限" in (await h.upload(OFFICER, workbook, "台账.xlsx"))[0]
    assert "说明里写 /import" in (await h.send(COORD, "/import"))[0]
    before = await count(h, Project)
    reply = (await h.upload(COORD, workbook, "台账.xlsx"))[0]
    assert "导入" in reply
    assert await count(h, Project) > before


async def test_bad_ledger_in_chat_lists_rows_and_writes_nothing(h: Harness) -> None:
    bad = "code,name,industry,investment,unit\nQ1,甲,新能源,十二万,城东街道\nQ2,乙,新能源,5,无此单位\n"
    before = await count(h, Project)
    reply = (await h.upload(COORD, bad.encode(), "projects.csv"))[0]
    assert "第 2 行" in reply and "十二万" in reply
    assert "第 3 行" in reply and "无此单位" in reply
    assert await count(h, Project) == before


# --- restart ----------------------------------------------------------------------------


async def test_half_done_flow_survives_a_restart(new_store: NewStore) -> None:
    db = await new_store()
    first = await start_harness(db)
    await seed(first.sessions)
    await first.send(OFFICER, "/progress")
    await first.press(OFFICER, "f:project:XNY01")
    await first.stop()

    second = await start_harness(db)
    try:
        replies = await second.send(OFFICER, "重启后继续填写")
        assert "已记录 XNY01" in replies[0]
        assert await count(second, ProgressReport) == 1
    finally:
        await second.stop()


async def test_command_menu_in_both_languages(h: Harness) -> None:
    from bot.app import _post_init

    await _post_init(h.app)
    menus = [p for m, p in h.api.calls if m == "setMyCommands"]
    langs = {p.get("language_code") for p in menus}
    assert langs == {None, "zh", "en"}
    en = next(p for p in menus if p.get("language_code") == "en")
    assert {"command": "progress", "description": "Log progress"} in en["commands"]


async def test_group_flow_asks_with_a_forced_reply(h: Harness) -> None:
    await h.send(HEAD, "/link", chat_id=-100, kind="group")
    await h.send(OFFICER, "/progress XNY01", chat_id=-100, kind="group")
    asked = h.api.sent(-100)[-1]
    markup = asked["reply_markup"]
    assert "force_reply" in (markup if isinstance(markup, str) else str(markup))
    assert "reply_parameters" in asked
    replies = await h.send(OFFICER, "群里报送的进展", chat_id=-100, kind="group")
    assert "已记录 XNY01" in replies[0]


def test_long_replies_are_split_at_line_breaks() -> None:
    from bot.handlers.base import split_message

    text = "\n".join(f"第 {i} 行 " + "字" * 50 for i in range(200))
    pieces = split_message(text)
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == text
    assert split_message("x" * 5000) == ["x" * 4096, "x" * 904]


def test_storage_never_imports_telegram() -> None:
    root = Path(__file__).parent.parent / "storage"
    offenders = [
        p.name
        for p in root.rglob("*.py")
        if "import telegram" in p.read_text() or "from telegram" in p.read_text()
    ]
    assert offenders == []


# --- typed from a Chinese keyboard -------------------------------------------------------


async def reports(h: Harness) -> list[ProgressReport]:
    async with h.sessions() as s:
        return list((await s.scalars(select(ProgressReport).order_by(ProgressReport.id))).all())


@pytest.mark.parametrize(
    "typed",
    [
        "/progress XNY01，完成预审",
        "/progress XNY01：完成预审",
        "/progress XNY01 ，完成预审",
        "/progress XNY01、完成预审",
        "/progress XNY01；完成预审",
        "/progress XNY01,完成预审",
        "/progress ＸＮＹ０１ 完成预审",
        "/progress ｘｎｙ０１：完成预审",
        "/progress\u3000XNY01\u3000完成预审",
        "/progress，XNY01，完成预审",
    ],
)
async def test_progress_typed_on_a_chinese_keyboard(h: Harness, typed: str) -> None:
    assert "已记录 XNY01" in (await h.send(OFFICER, typed))[0]
    assert [r.text for r in await reports(h)] == ["完成预审"]


async def test_report_text_keeps_its_chinese_punctuation_and_full_width_forms(h: Harness) -> None:
    await h.send(OFFICER, "/progress ＸＮＹ０１：完成１０ＧＷｈ产线，下周：调试")
    assert [r.text for r in await reports(h)] == ["完成１０ＧＷｈ产线，下周：调试"]


async def test_full_width_codes_ids_and_numbers_in_commands(h: Harness) -> None:
    assert "阶段：签约" in (await h.send(OFFICER, "/project ＸＮＹ０１"))[0]
    assert "节点 1「选址」已完成" in (await h.send(OFFICER, "/done ＸＮＹ０１ １"))[0]
    assert "节点 2「土地摘牌」已完成" in (await h.send(OFFICER, "/done XNY01，＃２"))[0]
    assert (
        "2027-03-01（周一） → 2026-12-11（周五）" in (await h.send(HEAD, "/due XNY01 ３ 下周五"))[0]
    )
    await h.send(OFFICER, "/problem XNY01 资金缺口")
    await h.press(OFFICER, h.buttons(OFFICER)[0])
    async with h.sessions() as s:
        pid = await s.scalar(select(Problem.id))
    full = str(pid).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert "已答复问题" in (await h.send(COORD, f"/reply {full}，好的，马上协调"))[0]
    async with h.sessions() as s:
        answered = await s.get(Problem, pid)
        assert answered is not None and answered.status is ProblemStatus.ANSWERED
    assert "通知了" in (await h.send(COORD, f"/urge ＃{full}"))[0]
    assert "通知了" in (await h.send(COORD, "/urge ＸＮＹ０１，３"))[0]
    assert "已确认解决" in (await h.send(OFFICER, f"/resolve ＃{full}：谢谢"))[0]


async def test_flow_answers_typed_on_a_chinese_keyboard(h: Harness) -> None:
    await h.send(OFFICER, "/progress")
    await h.send(OFFICER, "ｘｎｙ０１")
    assert "XNY01" in h.api.texts(OFFICER)[-1] and "请输入本次进展" in h.api.texts(OFFICER)[-1]
    await h.send(OFFICER, "，基础浇筑完成")
    assert "已记录 XNY01" in h.api.texts(OFFICER)[-1]
    # a code and its text in one answer
    await h.send(OFFICER, "/progress")
    await h.send(OFFICER, "ＸＮＹ０１：主体封顶")
    assert "已记录 XNY01" in h.api.texts(OFFICER)[-1]
    await h.send(OFFICER, "/done")
    await h.send(OFFICER, "ＸＮＹ０１")
    await h.send(OFFICER, "＃１")
    assert "节点 1「选址」已完成" in h.api.texts(OFFICER)[-1]
    assert [r.text for r in await reports(h)] == ["基础浇筑完成", "主体封顶"]
    # punctuation alone is no answer: the bot says so and asks again
    await h.send(OFFICER, "/progress XNY01")
    refused, asked = await h.send(OFFICER, "，")
    assert "不能为空" in refused and "请输入本次进展" in asked
    await h.press(OFFICER, "f:cancel")
    # the unit that must answer may be typed by its name, as written
    await h.send(OFFICER, "/problem ＸＮＹ０１：缺电")
    await h.send(OFFICER, "自然资源局")
    assert "已转 自然资源局" in h.api.texts(OFFICER)[-1]


async def test_forced_reply_in_a_group_typed_on_a_chinese_keyboard(h: Harness) -> None:
    await h.send(HEAD, "/link", chat_id=-100, kind="group")
    await h.send(OFFICER, "/progress", chat_id=-100, kind="group")
    await h.send(OFFICER, "ＸＮＹ０１：群里报送", chat_id=-100, kind="group")
    assert "已记录 XNY01" in h.api.texts(-100)[-1]
    assert [r.text for r in await reports(h)] == ["群里报送"]


# --- guided flows name what was picked ----------------------------------------------------


async def test_flow_questions_name_the_project_and_milestone_picked(h: Harness) -> None:
    await h.send(HEAD, "/due")
    await h.press(HEAD, "f:project:XNY01")
    assert h.api.texts(HEAD)[-1].startswith("XNY01 光伏组件&lt;智造&gt;基地 — ")
    await h.press(HEAD, "f:milestone:3")
    asked = h.api.texts(HEAD)[-1]
    assert asked.startswith("XNY01 光伏组件&lt;智造&gt;基地 · 3. 开工建设 — 新的日期？")
    assert "下周五" in asked and "月底前" in asked and "2027-03-01" in asked
    await h.send(HEAD, "月底前")
    assert "2027-03-01（周一） → 2026-12-31（周四）" in h.api.texts(HEAD)[-1]


async def test_flow_questions_in_english_name_the_pick_too(h: Harness) -> None:
    await h.send(HEAD, "/lang en")
    await h.send(HEAD, "/due XNY01 3")
    assert h.api.texts(HEAD)[-1].startswith(
        "XNY01 光伏组件&lt;智造&gt;基地 · 3. Groundbreaking — New date?"
    )
    await h.send(OFFICER, "/reply")
    assert "目前没有" in h.api.texts(OFFICER)[-1]


async def test_due_offers_only_projects_with_open_milestones(h: Harness) -> None:
    await h.send(COORD, "/due")
    assert h.buttons(COORD) == ["f:project:XNY01", "f:cancel"]  # SW02 has no milestone
    await h.press(COORD, "f:cancel")
    for n in (1, 2, 3):
        await h.send(COORD, f"/done XNY01 {n}")
    await h.send(COORD, "/due")
    assert h.buttons(COORD) == ["f:cancel"]
    await h.send(COORD, "/done")
    assert h.buttons(COORD) == ["f:cancel"]


# --- help and refusals by the role table -------------------------------------------------


async def test_help_shows_each_role_its_own_commands(h: Harness) -> None:
    officer = (await h.send(OFFICER, "/help"))[0]
    assert "/progress" in officer and "/extend" in officer
    assert all(c not in officer for c in ("/invite", "/urge", "/plan", "/instruct ", "/import"))
    leader = (await h.send(LEADER, "/help"))[0]
    assert "/instruct" in leader and "/project " in leader
    assert all(c not in leader for c in ("/progress", "/due", "/invite", "/urge"))
    admin = (await h.send(ADMIN, "/help"))[0]
    assert "/invite" in admin and "/import" in admin and "/progress" not in admin
    coord = (await h.send(COORD, "/help"))[0]
    assert all(c in coord for c in ("/urge", "/plan", "/invite", "/due", "/progress"))
    assert "/instruct " not in coord and "/instructions" in coord


async def test_refusal_says_who_can(h: Harness) -> None:
    refused = (await h.send(OFFICER, "/due XNY01 3 2027-04-01"))[0]
    assert refused == "您没有权限执行此操作，请联系单位负责人或招商服务中心。"
    assert "请联系分管领导" in (await h.send(COORD, "/instruct XNY01 加快"))[0]
    assert "请联系招商服务中心" in (await h.send(HEAD, "/plan XNY01 2027-06-30"))[0]
    await h.send(OFFICER, "/lang en")
    refused = (await h.send(OFFICER, "/stage XNY01 started"))[0]
    assert refused.endswith("ask the unit head or the investment service center.")


async def test_problem_status_reads_in_the_members_language(h: Harness) -> None:
    await h.send(OFFICER, "/problem XNY01 资金缺口")
    await h.press(OFFICER, h.buttons(OFFICER)[0])
    async with h.sessions() as s:
        pid = await s.scalar(select(Problem.id))
    await h.send(COORD, f"/resolve {pid}")
    again = (await h.send(COORD, f"/resolve {pid}"))[0]
    assert "「已解决」" in again and "resolved" not in again
    await h.send(COORD, "/lang en")
    assert "already resolved" in (await h.send(COORD, f"/resolve {pid}"))[0]


# --- site photos and files with a /progress caption ---------------------------------------


async def test_photo_with_a_progress_caption_is_a_report_with_its_file(h: Harness) -> None:
    replies = await h.process(photo(OFFICER, "site-1", "/progress ＸＮＹ０１，基础浇筑完成"))
    assert "已记录 XNY01" in replies[0] and "照片" in replies[0]
    await h.process(document(OFFICER, "doc-1", "周报.pdf", "/progress XNY01 第一周周报"))
    stored = await reports(h)
    assert [(r.text, r.file_id, r.file_kind) for r in stored] == [
        ("基础浇筑完成", "site-1", "photo"),  # the largest size of the photo
        ("第一周周报", "doc-1", "document"),
    ]


async def test_photo_caption_for_another_bot_or_without_text(h: Harness) -> None:
    group = {"chat_id": -100, "kind": "group"}
    await h.send(HEAD, "/link", **group)
    await h.process(photo(OFFICER, "x", "/progress@other_bot XNY01 不是给我的", **group))
    assert await reports(h) == []
    ours = "/progress@wallchart_test_bot XNY01 群里的照片"
    assert "已记录 XNY01" in (await h.process(photo(OFFICER, "g1", ours, **group)))[0]
    # the code alone: the photo is kept while the bot asks for the words
    await h.process(photo(OFFICER, "site-2", "/progress XNY01"))
    assert "XNY01" in h.api.texts(OFFICER)[-1] and "请输入本次进展" in h.api.texts(OFFICER)[-1]
    await h.send(OFFICER, "钢结构吊装")
    assert [(r.text, r.file_id) for r in await reports(h)] == [
        ("群里的照片", "g1"),
        ("钢结构吊装", "site-2"),
    ]


async def test_photo_sent_as_the_answer_in_a_progress_flow(h: Harness) -> None:
    await h.send(OFFICER, "/progress")
    await h.press(OFFICER, "f:project:XNY01")
    await h.process(photo(OFFICER, "site-3"))  # the photo first, the words after
    assert "请输入本次进展" in h.api.texts(OFFICER)[-1]
    await h.send(OFFICER, "围墙完工")
    await h.send(OFFICER, "/progress XNY01")
    await h.process(photo(OFFICER, "site-4", "屋面防水"))
    assert [(r.text, r.file_id) for r in await reports(h)] == [
        ("围墙完工", "site-3"),
        ("屋面防水", "site-4"),
    ]
    # a step that keeps no file says so rather than dropping it unseen
    await h.send(OFFICER, "/problem XNY01")
    assert "这一步不收文件" in (await h.process(photo(OFFICER, "p", "缺电")))[0]


async def test_import_caption_still_loads_the_ledger_mid_flow(h: Harness) -> None:
    await h.send(COORD, "/progress")
    before = await count(h, Project)
    workbook = (DATA / "ledger-example.xlsx").read_bytes()
    assert "导入" in (await h.upload(COORD, workbook, "台账.xlsx"))[0]
    assert await count(h, Project) > before
    assert await reports(h) == []


# --- text over the limit -------------------------------------------------------------------


async def test_over_long_text_in_the_flow_is_kept_and_the_project_stays_chosen(
    h: Harness,
) -> None:
    await h.send(OFFICER, "/progress")
    await h.press(OFFICER, "f:project:XNY01")
    long = "甲" * 1999 + "乙" + "丙" * 500
    refused, asked = await h.send(OFFICER, long)
    assert "共 2500 字" in refused and "最多 2000 字" in refused
    assert "<code>" + "甲" * 1999 + "乙</code>" in refused  # the first part, cut to the limit
    assert asked.startswith("XNY01 光伏组件&lt;智造&gt;基地 — ")
    assert await reports(h) == []
    await h.send(OFFICER, "甲" * 10)
    assert "已记录 XNY01" in h.api.texts(OFFICER)[-1]
    assert [r.text for r in await reports(h)] == ["甲" * 10]


async def test_over_long_typed_progress_waits_for_the_shortened_text(h: Harness) -> None:
    await h.send(OFFICER, "/lang en")
    refused, asked = await h.send(OFFICER, "/progress XNY01，" + "x" * 2001)
    assert "2001 characters, at most 2000" in refused
    assert "<code>" + "x" * 2000 + "</code>" in refused
    assert asked.startswith("XNY01 ")
    await h.send(OFFICER, "short")
    assert "Progress on XNY01 logged" in h.api.texts(OFFICER)[-1]
    assert [r.text for r in await reports(h)] == ["short"]


# --- found by trying it as an office would -----------------------------------------------


async def test_full_width_codes_in_a_ledger_are_stored_half_width(h: Harness) -> None:
    csv = "code,name,industry,investment,unit\nｃｎ０１,甲,新能源,100,城东街道\n"
    assert any("导入" in r for r in await h.upload(COORD, csv.encode(), "projects.csv"))
    for typed in ("/project cn01", "/project ＣＮ０１", "/project CN01"):
        assert "CN01 · 甲" in (await h.send(OFFICER, typed))[0]
    # the same project when a later ledger writes it half-width
    again = "code,name,industry,investment,unit\nCN01,甲,新能源,200,城东街道\n"
    await h.upload(COORD, again.encode(), "projects.csv")
    assert await count(h, Project) == 3


async def test_a_bad_invite_code_from_a_member_is_answered_not_an_error(h: Harness) -> None:
    reply = (await h.send(OFFICER, "/start ABCDEFGH"))[0]
    assert "邀请码" in reply and "出错" not in reply


@pytest.mark.parametrize(
    ("uid", "command"),
    [
        (OFFICER, "/plan"),
        (OFFICER, "/due"),
        (OFFICER, "/stage"),
        (OFFICER, "/instruct"),
        (LEADER, "/progress"),
        (LEADER, "/problem"),
        (LEADER, "/extend"),
    ],
)
async def test_a_command_the_role_never_may_run_is_refused_at_once(
    h: Harness, uid: int, command: str
) -> None:
    reply = (await h.send(uid, command))[0]
    assert "没有权限" in reply and "请联系" in reply
    assert h.api.buttons(uid) == []  # no empty picker


async def test_a_past_date_in_a_flow_is_asked_for_again(h: Harness) -> None:
    await h.send(HEAD, "/due XNY01 3")
    again = await h.send(HEAD, "2026-11-01")
    assert "已经过去" in again[0]
    assert "2026-12-11" in (await h.send(HEAD, "下周五"))[0]
