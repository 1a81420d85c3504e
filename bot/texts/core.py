"""Texts of the everyday chat: commands, cards, questions, confirmations and errors."""

from __future__ import annotations

ZH: dict[str, str] = {
    # --- strangers and registration
    "refuse": "您好！本机器人仅供招商项目责任单位使用。请向招商服务中心索取邀请码，然后发送 /start 邀请码。",
    "start.registered": "欢迎，{name}！您已加入 <b>{unit}</b>，身份：{role}。",
    "start.back": "欢迎回来，{name}。发送 /today 查看今日待办，/help 查看全部命令。",
    "lang.name": "中文",
    "lang.pick": "请选择语言：",
    "lang.set": "已切换为中文。",
    "hint.help": "没有看懂这条消息。发送 /help 查看可用命令。",
    "help.body": (
        "<b>挂图作战 · 使用说明</b>\n"
        "/today — 我的今日待办\n"
        "/projects [阶段|单位|关键词] — 项目列表，如 <code>/projects 开工</code>\n"
        "/project 编号 — 项目卡片，如 <code>/project XNY01</code>\n"
        "/progress 编号 内容 — 报送进展\n"
        "/problem 编号 内容 — 提出问题，随后选择答复单位\n"
        "/reply 问题号 内容 — 答复问题，如 <code>/reply 12 已协调供电公司</code>\n"
        "/resolve 问题号 [说明] — 确认问题已解决\n"
        "/done 编号 节点号 — 节点完成，如 <code>/done XNY01 2</code>\n"
        "/due 编号 节点号 日期 — 调整节点日期，如 <code>/due XNY01 3 2027-03-01</code>\n"
        "/plan 编号 目标日期 — 按模板倒排节点\n"
        "/stage 编号 阶段 — 变更阶段（洽谈/签约/开工/投产/暂停/终止）\n"
        "/instruct 编号 内容 — 领导批示\n"
        "/extend — 为逾期节点或待答复问题申请延期\n"
        "/urge 问题号 或 /urge 编号 节点号 — 催办（服务中心）\n"
        "/invite 单位 角色 — 生成邀请码\n"
        "/import — 发送台账文件（说明写 /import）导入单位和项目\n"
        "/lang zh|en — 切换语言\n"
        "不带参数发送命令，机器人会一步步引导；随时可点「取消」或发送 /cancel。"
    ),
    # --- the command menu
    "cmd.today": "我的今日待办",
    "cmd.projects": "项目列表",
    "cmd.project": "项目卡片",
    "cmd.progress": "报送进展",
    "cmd.problem": "提出问题",
    "cmd.reply": "答复问题",
    "cmd.resolve": "确认解决",
    "cmd.done": "节点完成",
    "cmd.due": "调整节点日期",
    "cmd.plan": "倒排节点",
    "cmd.stage": "变更阶段",
    "cmd.instruct": "领导批示",
    "cmd.invite": "生成邀请码",
    "cmd.lang": "切换语言",
    "cmd.import": "导入台账",
    "cmd.help": "使用说明",
    "cmd.cancel": "取消当前操作",
    # --- names
    "role.officer": "专员",
    "role.head": "单位负责人",
    "role.coordinator": "服务中心",
    "role.leader": "分管领导",
    "role.admin": "管理员",
    "stage.negotiating": "洽谈",
    "stage.signed": "签约",
    "stage.started": "开工",
    "stage.operating": "投产",
    "stage.paused": "暂停",
    "stage.dropped": "终止",
    "pstatus.open": "待受理",
    "pstatus.acknowledged": "已受理",
    "pstatus.answered": "已答复",
    "pstatus.resolved": "已解决",
    "pstatus.closed": "已关闭",
    "pcat.land": "土地",
    "pcat.permits": "审批",
    "pcat.utilities": "水电气路",
    "pcat.finance": "资金",
    "pcat.other": "其他",
    "ms.site": "选址",
    "ms.land": "土地摘牌",
    "ms.eia": "环评批复",
    "ms.permits": "施工许可",
    "ms.utilities": "水电气接入",
    "ms.groundbreaking": "开工建设",
    "wd.0": "周一",
    "wd.1": "周二",
    "wd.2": "周三",
    "wd.3": "周四",
    "wd.4": "周五",
    "wd.5": "周六",
    "wd.6": "周日",
    "fmt.date": "{iso}（{wd}）",
    # --- buttons and questions
    "btn.cancel": "✖ 取消",
    "btn.reply": "💬 答复",
    "btn.resolve": "✔ 确认解决",
    "btn.progress": "📝 报送进展",
    "ask.project": "请选择项目（或直接输入项目编号）：",
    "ask.milestone": "请选择节点（或输入节点号）：",
    "ask.milestone.none": "该项目没有未完成的节点。",
    "ask.problem": "请选择问题（或输入问题号）：",
    "ask.problem.none": "目前没有需要您处理的问题。",
    "ask.stage": "请选择新阶段：",
    "ask.unit": "请选择负责答复的单位（⭐ 为按问题类别推荐）：",
    "ask.unit.none": "还没有可选的单位，请先导入单位。",
    "ask.text": "请输入内容：",
    "ask.text.progress": "请输入本次进展：",
    "ask.text.problem": "请描述遇到的问题：",
    "ask.text.reply": "请输入答复内容：",
    "ask.text.instruct": "请输入批示内容：",
    "ask.date": "请输入日期，如 2027-03-01：",
    "ask.date.plan": "请输入目标日期（倒排的终点），如 2027-06-30：",
    "ask.date.due": "请输入新的计划日期，如 2027-03-01：",
    "flow.cancelled": "已取消。",
    "flow.nothing": "当前没有进行中的操作。",
    "flow.group_hint": "（请直接回复本条消息；发送 /cancel 取消）",
    # --- the project card and lists
    "card.title": "<b>{code} · {name}</b>",
    "card.head": "阶段：{stage}　责任单位：{unit}\n产业：{industry}　企业：{enterprise}",
    "card.money": "计划投资：{investment} 万元　用地：{land} 亩　投资强度：{intensity} 万元/亩",
    "card.milestones": "<b>时间表</b>",
    "card.ms_done": "{date} 完成",
    "card.no_milestones": "尚无节点，可用 /plan {code} 目标日期 倒排。",
    "card.problems": "<b>未解决问题</b>",
    "card.problem": "#{id} [{status}] → {unit}：{text}",
    "card.none": "无",
    "card.last": "<b>最近进展</b> {date} {author}：{text}",
    "card.no_progress": "<b>最近进展</b> 暂无",
    "card.no_change": "（已查看，无变化）",
    "list.title": "<b>共 {n} 个项目</b>",
    "list.row": "<code>{code}</code> {name} · {stage} · {unit}",
    "list.empty": "没有符合条件的项目。",
    # --- today
    "today.empty": "今天没有待办事项。👍",
    "today.title": "<b>今日待办 · {date}</b>",
    "today.overdue": "\n🔴 <b>已逾期节点 {n} 个</b>",
    "today.soon": "\n🟡 <b>{days} 天内到期节点 {n} 个</b>",
    "today.waiting": "\n💬 <b>待答复问题 {n} 个</b>",
    "today.waiting_row": "  #{id} {code}（已等 {days} 天）{text}",
    "today.stale": "\n⏳ <b>{days} 天未报送进展的项目 {n} 个</b>",
    "today.stale_row": "  <code>{code}</code> {name}",
    # --- confirmations
    "ok.progress": "✅ 已记录 {code} 的进展（{date}）。",
    "ok.done": "✅ {code} 节点 {n}「{title}」已完成，{date}。",
    "ok.due": "✅ {code} 节点 {n}「{title}」：{before} → {date}",
    "ok.stage": "✅ {code} 阶段：{before} → {stage}",
    "ok.plan": "✅ {code} 已按目标日期 {date} 倒排节点：",
    "ok.problem": "✅ 问题 #{id}（{code}）已转 {unit}，答复期限 {date}。",
    "ok.reply": "✅ 已答复问题 #{id}，提出人会收到通知。",
    "ok.resolve": "✅ 问题 #{id} 已确认解决。",
    "ok.instruct": "✅ 批示已送达 {code} 的责任单位 {unit}。",
    "ok.invite": (
        "邀请码：<code>{code}</code>\n单位：{unit}　角色：{role}\n"
        "链接：{link}\n有效期至 {date}，仅可使用一次。"
    ),
    "ok.link": "✅ 本群已关联到 {unit}。",
    # --- notices to other people
    "note.problem": (
        "📌 <b>新问题 #{id}</b>（{code} {name}）\n提出人：{who}\n{text}\n"
        "请于 {date} 前答复：点「答复」或发送 /reply {id} 内容"
    ),
    "note.reply": "💬 问题 #{id}（{code}）收到 {unit} {who} 的答复：\n{text}",
    "note.resolved": "✔ 问题 #{id}（{code}）已确认解决。",
    "note.instruct": "📣 <b>领导批示</b>（{code}）{who}：\n{text}",
    # --- errors
    "err.internal": "抱歉，处理时出错，本次操作未保存。请稍后再试。",
    "err.not_allowed": "您没有权限执行此操作。",
    "err.unknown_project": "找不到项目「{code}」，或该项目不在您的范围内。发送 /projects 查看。",
    "err.unknown_milestone": "{code} 没有节点 {n}。",
    "err.unknown_problem": "找不到问题 #{id}，或该问题不在您的范围内。",
    "err.unknown_unit": "找不到单位「{unit}」。",
    "err.already_done": "节点 {n} 已于 {date} 完成。",
    "err.date_past": "日期 {date} 已经过去，请输入今天或以后的日期。",
    "err.plan_past": "目标日期 {date} 不在未来，无法倒排。",
    "err.text_empty": "内容不能为空。",
    "err.text_long": "内容太长（最多 {limit} 字），请精简后再发。",
    "err.problem_closed": "问题 #{id} 已是「{status}」状态，不能再操作。",
    "err.bad_stage": "没有「{stage}」这个阶段。可选：洽谈、签约、开工、投产、暂停、终止。",
    "err.stage_same": "项目已经处于该阶段。",
    "err.stage_dropped": "已终止的项目不能再变更阶段。",
    "err.stage_backward": "项目阶段不能倒退；如确需更正，请联系招商服务中心。",
    "err.bad_date": "没能识别日期「{text}」，请写成 2027-03-01 这样的格式。",
    "err.bad_number": "「{text}」不是有效的编号。",
    "err.bad_role": "没有「{role}」这个角色。可选：专员、单位负责人、服务中心、分管领导、管理员。",
    "err.bad_button": "这个按钮无效，请重新选择。",
    "err.stale_button": "这个操作已经结束，请重新发送命令。",
    "err.invite_invalid": "邀请码无效、已使用或已过期，请向招商服务中心重新索取。",
    "err.group_only": "请在单位的工作群里发送此命令。",
    "usage.invite": "用法：/invite 单位名称 角色，如 <code>/invite 城东街道 专员</code>",
    "usage.import": "请把台账（.xlsx 工作簿或项目 .csv）作为文件发送，并在文件说明里写 /import。",
    "err.file_too_big": "文件太大（最多 {limit} MB）。",
}

EN: dict[str, str] = {
    "refuse": "Hello! This bot is for the units responsible for investment projects. Please ask the investment service center for an invite code, then send /start CODE.",
    "start.registered": "Welcome, {name}! You have joined <b>{unit}</b> as {role}.",
    "start.back": "Welcome back, {name}. Send /today for your list, /help for every command.",
    "lang.name": "English",
    "lang.pick": "Choose your language:",
    "lang.set": "Language set to English.",
    "hint.help": "I did not understand that. Send /help for the commands.",
    "help.body": (
        "<b>Wallchart · how to use</b>\n"
        "/today — my list for today\n"
        "/projects [stage|unit|word] — projects, e.g. <code>/projects started</code>\n"
        "/project CODE — the project card, e.g. <code>/project XNY01</code>\n"
        "/progress CODE text — log progress\n"
        "/problem CODE text — raise a problem, then pick the unit that must answer\n"
        "/reply ID text — answer a problem, e.g. <code>/reply 12 power company contacted</code>\n"
        "/resolve ID [note] — sign a problem off as resolved\n"
        "/done CODE N — milestone N is done, e.g. <code>/done XNY01 2</code>\n"
        "/due CODE N DATE — move milestone N, e.g. <code>/due XNY01 3 2027-03-01</code>\n"
        "/plan CODE DATE — plan the milestones backward from a target date\n"
        "/stage CODE STAGE — move the project (negotiating/signed/started/operating/paused/dropped)\n"
        "/instruct CODE text — a leader's instruction\n"
        "/extend — ask for more time on a milestone or a problem's answer\n"
        "/urge ID or /urge CODE N — urge an item now (service center)\n"
        "/invite UNIT ROLE — make an invite code\n"
        "/import — send the ledger file with the caption /import to load units and projects\n"
        "/lang zh|en — switch language\n"
        "Send a command without arguments and the bot guides you step by step; press Cancel or send /cancel at any time."
    ),
    "cmd.today": "My list for today",
    "cmd.projects": "Projects",
    "cmd.project": "Project card",
    "cmd.progress": "Log progress",
    "cmd.problem": "Raise a problem",
    "cmd.reply": "Answer a problem",
    "cmd.resolve": "Sign a problem off",
    "cmd.done": "Milestone done",
    "cmd.due": "Move a milestone date",
    "cmd.plan": "Plan milestones backward",
    "cmd.stage": "Change stage",
    "cmd.instruct": "Leader's instruction",
    "cmd.invite": "Make an invite code",
    "cmd.lang": "Switch language",
    "cmd.import": "Import the ledger",
    "cmd.help": "How to use",
    "cmd.cancel": "Cancel the current step",
    "role.officer": "officer",
    "role.head": "unit head",
    "role.coordinator": "coordinator",
    "role.leader": "leader",
    "role.admin": "admin",
    "stage.negotiating": "negotiating",
    "stage.signed": "signed",
    "stage.started": "started",
    "stage.operating": "operating",
    "stage.paused": "paused",
    "stage.dropped": "dropped",
    "pstatus.open": "open",
    "pstatus.acknowledged": "acknowledged",
    "pstatus.answered": "answered",
    "pstatus.resolved": "resolved",
    "pstatus.closed": "closed",
    "pcat.land": "land",
    "pcat.permits": "permits",
    "pcat.utilities": "utilities",
    "pcat.finance": "finance",
    "pcat.other": "other",
    "ms.site": "Site selection",
    "ms.land": "Land acquired",
    "ms.eia": "EIA approved",
    "ms.permits": "Construction permit",
    "ms.utilities": "Utilities connected",
    "ms.groundbreaking": "Groundbreaking",
    "wd.0": "Mon",
    "wd.1": "Tue",
    "wd.2": "Wed",
    "wd.3": "Thu",
    "wd.4": "Fri",
    "wd.5": "Sat",
    "wd.6": "Sun",
    "fmt.date": "{iso} ({wd})",
    "btn.cancel": "✖ Cancel",
    "btn.reply": "💬 Reply",
    "btn.resolve": "✔ Resolved",
    "btn.progress": "📝 Report progress",
    "ask.project": "Pick the project (or type its code):",
    "ask.milestone": "Pick the milestone (or type its number):",
    "ask.milestone.none": "This project has no open milestones.",
    "ask.problem": "Pick the problem (or type its number):",
    "ask.problem.none": "No problem is waiting for you.",
    "ask.stage": "Pick the new stage:",
    "ask.unit": "Pick the unit that must answer (⭐ suggested by the problem's category):",
    "ask.unit.none": "There are no units yet; import them first.",
    "ask.text": "Type the text:",
    "ask.text.progress": "What progress is there?",
    "ask.text.problem": "Describe the problem:",
    "ask.text.reply": "Type your answer:",
    "ask.text.instruct": "Type the instruction:",
    "ask.date": "Type the date, e.g. 2027-03-01:",
    "ask.date.plan": "Type the target date (the end of the backward plan), e.g. 2027-06-30:",
    "ask.date.due": "Type the new planned date, e.g. 2027-03-01:",
    "flow.cancelled": "Cancelled.",
    "flow.nothing": "Nothing is in progress.",
    "flow.group_hint": "(reply to this message; /cancel to stop)",
    "card.title": "<b>{code} · {name}</b>",
    "card.head": "Stage: {stage}   Unit: {unit}\nIndustry: {industry}   Enterprise: {enterprise}",
    "card.money": "Investment: {investment} (10k CNY)   Land: {land} mu   Intensity: {intensity} per mu",
    "card.milestones": "<b>Time list</b>",
    "card.ms_done": "done {date}",
    "card.no_milestones": "No milestones yet; plan them with /plan {code} DATE.",
    "card.problems": "<b>Open problems</b>",
    "card.problem": "#{id} [{status}] → {unit}: {text}",
    "card.none": "none",
    "card.last": "<b>Last progress</b> {date} {author}: {text}",
    "card.no_progress": "<b>Last progress</b> none yet",
    "card.no_change": "(checked, no change)",
    "list.title": "<b>{n} projects</b>",
    "list.row": "<code>{code}</code> {name} · {stage} · {unit}",
    "list.empty": "No project matches.",
    "today.empty": "Nothing on your list today. 👍",
    "today.title": "<b>Today · {date}</b>",
    "today.overdue": "\n🔴 <b>{n} milestones overdue</b>",
    "today.soon": "\n🟡 <b>{n} milestones due within {days} days</b>",
    "today.waiting": "\n💬 <b>{n} problems waiting for your answer</b>",
    "today.waiting_row": "  #{id} {code} (waiting {days} days) {text}",
    "today.stale": "\n⏳ <b>{n} projects without progress for {days} days</b>",
    "today.stale_row": "  <code>{code}</code> {name}",
    "ok.progress": "✅ Progress on {code} logged ({date}).",
    "ok.done": "✅ {code} milestone {n} “{title}” done, {date}.",
    "ok.due": "✅ {code} milestone {n} “{title}”: {before} → {date}",
    "ok.stage": "✅ {code} stage: {before} → {stage}",
    "ok.plan": "✅ {code} planned backward from {date}:",
    "ok.problem": "✅ Problem #{id} ({code}) sent to {unit}; answer due {date}.",
    "ok.reply": "✅ Answer to problem #{id} saved; the raiser is told.",
    "ok.resolve": "✅ Problem #{id} signed off as resolved.",
    "ok.instruct": "✅ Instruction sent to {unit}, responsible for {code}.",
    "ok.invite": (
        "Invite code: <code>{code}</code>\nUnit: {unit}   Role: {role}\n"
        "Link: {link}\nValid until {date}, once."
    ),
    "ok.link": "✅ This group is now linked to {unit}.",
    "note.problem": (
        "📌 <b>New problem #{id}</b> ({code} {name})\nRaised by: {who}\n{text}\n"
        "Answer by {date}: press Reply or send /reply {id} text"
    ),
    "note.reply": "💬 Problem #{id} ({code}) answered by {who} of {unit}:\n{text}",
    "note.resolved": "✔ Problem #{id} ({code}) signed off as resolved.",
    "note.instruct": "📣 <b>Leader's instruction</b> ({code}) {who}:\n{text}",
    "err.internal": "Sorry, something went wrong and nothing was saved. Please try again later.",
    "err.not_allowed": "You are not allowed to do that.",
    "err.unknown_project": "No project “{code}” within your reach. Send /projects to see yours.",
    "err.unknown_milestone": "{code} has no milestone {n}.",
    "err.unknown_problem": "No problem #{id} within your reach.",
    "err.unknown_unit": "No unit “{unit}”.",
    "err.already_done": "Milestone {n} was already done on {date}.",
    "err.date_past": "{date} is in the past; give today or a later date.",
    "err.plan_past": "The target date {date} is not in the future; nothing to plan backward.",
    "err.text_empty": "The text is empty.",
    "err.text_long": "The text is too long (at most {limit} characters); please shorten it.",
    "err.problem_closed": "Problem #{id} is already {status}.",
    "err.bad_stage": "There is no stage “{stage}”. Choose: negotiating, signed, started, operating, paused, dropped.",
    "err.stage_same": "The project is already at that stage.",
    "err.stage_dropped": "A dropped project cannot change stage.",
    "err.stage_backward": "A project's stage does not go back; ask the service center to correct a mistake.",
    "err.bad_date": "I could not read the date “{text}”; write it like 2027-03-01.",
    "err.bad_number": "“{text}” is not a valid number.",
    "err.bad_role": "There is no role “{role}”. Choose: officer, head, coordinator, leader, admin.",
    "err.bad_button": "That button is not valid; please choose again.",
    "err.stale_button": "That step has ended; please send the command again.",
    "err.invite_invalid": "The invite code is invalid, used or expired; ask the service center for a new one.",
    "err.group_only": "Send this command in the unit's work group.",
    "usage.invite": "Usage: /invite UNIT ROLE, e.g. <code>/invite Chengdong officer</code>",
    "usage.import": "Send the ledger (an .xlsx workbook or a projects .csv) as a file with the caption /import.",
    "err.file_too_big": "The file is too big (at most {limit} MB).",
}

# --- `wallchart demo` (printed in a terminal; tags are dropped there)
ZH |= {
    "demo.built": (
        "示范城市已写入 {db}：{units} 个单位、{members} 名成员、{projects} 个项目、"
        "{milestones} 个节点、{problems} 个问题、{progress_reports} 条进展。"
    ),
    "demo.as": "—— 以 {name}（{unit}）的身份发送 {cmd}：",
    "demo.tomorrow": "—— {at} 机器人将发出 {n} 条消息（{climbs} 个事项提级），这位专员收到的是：",
    "demo.tick": "（全部消息：wallchart tick --db {db} --dry-run --at {at}）",
    "demo.next": (
        "接下来可以试试：\n"
        "1. 在 @BotFather 创建机器人，把令牌放进 WALLCHART_TOKEN；\n"
        '2. 新建 config.toml，写入 [store] url = "sqlite:///{db}"，并在 [telegram] admins 里填上您的 Telegram 数字 ID；\n'
        "3. 运行 wallchart run，在 Telegram 里发送 /start，然后 /invite {unit} 专员 生成邀请码；\n"
        "4. 试试 /project {code}、/today、/reply {problem} 已协调、/problem {code} 用地指标未落实。"
    ),
}
EN |= {
    "demo.built": (
        "The demo city is in {db}: {units} units, {members} members, {projects} projects, "
        "{milestones} milestones, {problems} problems, {progress_reports} progress reports."
    ),
    "demo.as": "—— As {name} ({unit}), sending {cmd}:",
    "demo.tomorrow": "—— At {at} the bot will send {n} messages ({climbs} items climb); this officer gets:",
    "demo.tick": "(every message: wallchart tick --db {db} --dry-run --at {at})",
    "demo.next": (
        "What to try next:\n"
        "1. Create a bot with @BotFather and put its token in WALLCHART_TOKEN;\n"
        '2. Write a config.toml with [store] url = "sqlite:///{db}" and your numeric Telegram id in [telegram] admins;\n'
        "3. Run wallchart run, send /start to the bot in Telegram, then /invite {unit} officer for an invite code;\n"
        "4. Try /project {code}, /today, /reply {problem} coordinated, /problem {code} land quota missing."
    ),
}
