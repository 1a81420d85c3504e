"""Texts of leaders' instructions (批示): given, acknowledged, reported done, listed, late."""

from __future__ import annotations

ZH: dict[str, str] = {
    # --- giving one, and the unit's notice
    "ok.instruct": "✅ 批示 #{id} 已送达 {code} 的责任单位 {unit}，完成期限 {date}。",
    "ok.instruct_default": "（文中未写期限，按默认 {days} 个工作日计算。）",
    "note.instruct": (
        "📣 <b>领导批示 #{id}</b>（{code} {name}）{who}：\n{text}\n"
        "请于 {date} 前办结。收到请点「收到」；办结后点「报告办结」，"
        "或发送 /fulfil {id} 办理情况；需要更多时间请点「申请延期」。"
    ),
    "err.instruction_past": (
        "批示中的完成期限 {date} 已经过去。请改写期限（如 月底前、3个工作日内）"
        "或不写期限（按默认工作日计算），再发一次批示内容。"
    ),
    # --- acknowledging and reporting done
    "ok.instruction_ack": "✔ 已收到批示 #{id}，请于 {date} 前办结。",
    "ok.instruction_ack_already": "批示 #{id} 本单位已经收到过了，请于 {date} 前办结。",
    "ok.fulfil": "✅ 已报告批示 #{id}（{code}）办结，{leader} 会收到通知。",
    "note.fulfilled": (
        "✅ <b>批示 #{id} 已办结</b>（{code}）\n{reporter}：{text}\n原批示（{date}）：{order}"
    ),
    "who.reporter": "{unit} {who}",
    "who.reporter_for": "{who}（{unit}，代{for_unit}）",
    "note.fulfilled_for": (
        "✅ <b>批示 #{id}（{code}）已由 {who}（{by_unit}）代本单位报告办结</b>\n"
        "办理情况：{text}\n原批示：{order}"
    ),
    "err.instruct_dropped": (
        "项目 {code} 已终止，不能再下达批示。如项目恢复推进，请先由招商服务中心调整阶段（/stage）。"
    ),
    # --- the leader told of a new deadline, and of it taken back
    "note.instruction_deadline": (
        "⏳ 您的批示 #{id}（{code}）期限由 {old} 延至 {date}，{who}（{unit}）批准。\n原批示：{order}"
    ),
    "note.instruction_deadline_undone": (
        "↩️ 您的批示 #{id}（{code}）的延期已被 {who}（{unit}）撤销：期限由 {old} 恢复为 {date}。"
        "\n原批示：{order}"
    ),
    # --- a project changed hands: its instruction goes to the new unit
    "note.instruction_moved": (
        "📣 <b>领导批示 #{id}</b>（{code} {name}）随项目由 {old} 转交 {unit} 办理。\n{who}：{text}\n"
        "请于 {date} 前办结。收到请点「收到」；办结后点「报告办结」，"
        "或发送 /fulfil {id} 办理情况；需要更多时间请点「申请延期」。"
    ),
    "err.unknown_instruction": "找不到批示 #{id}，或该批示不在您的范围内。发送 /instructions 查看。",
    "err.instruction_done": "批示 #{id} 已报告办结，无需再操作。",
    "err.no_instructions": "目前没有需要您办结的领导批示。",
    "ask.item.fulfil": "请选择要报告办结的批示：",
    "ask.text.fulfil": "请用一句话说明办理情况（领导会看到）：",
    "btn.fulfil": "✅ 报告办结",
    "btn.ack_instruction": "✔ 收到 批示#{id}",
    "btn.fulfil_item": "✅ 办结 批示#{id}",
    "item.instruction": "批示 #{id}（{code}）",
    "instr.ref": "批示#{id}",
    # --- /instructions and the card
    "instr.title": "📣 <b>未办结的领导批示 {n} 个</b>",
    "instr.row": "{n}. 批示 #{id} <code>{code}</code> → {unit}（{leader}）· 期限 {date} · {state}\n    {text}",
    "instr.none": "目前没有未办结的领导批示。",
    "instr.hint": "收到：点按钮或发送 /ack i批示号；办结：/fulfil 批示号 办理情况；延期：/extend",
    "instr.state.new": "待受理",
    "instr.state.acknowledged": "已受理",
    "instr.state.overdue": "逾期 {late} 个工作日",
    "instr.state.past": "已过期限",
    "instr.state.pending": "延期待批",
    "instr.state.dropped": "项目已终止，办结后请报告",
    "card.instructions": "<b>领导批示</b>",
    "card.instruction": "批示 #{id} [{state}] → {unit}：{text}（期限 {date}）",
    # --- the daily prompt, notices and digests
    "prompt.instructions": "\n📣 <b>待本单位办结的领导批示 {n} 个</b>（办结后点「办结」或发送 /fulfil 批示号 情况）",
    "prompt.instruction_row": "  {mark}批示 #{id} {code}（{leader}，{date} 前办结，{state}）{text}",
    "prompt.instruction_late": "  {mark}批示 #{id} {code}（{leader}，期限 {date}，已逾期 {late} 个工作日）{text}",
    "esc.instruction_ack": "<b>{level}</b>\n领导批示 #{id}（{code}，{who}）尚未受理：\n{title}\n请点「收到」，并于 {date} 前办结。",
    "esc.instruction_late": "<b>{level}</b>\n领导批示 #{id}（{code}，{who}）期限 {date} 已过 {late} 个工作日，尚未办结：\n{title}\n请尽快办结并报告，或申请延期。",
    "digest.climbed_instruction": "  {mark}批示 #{id} {code}：{title}（{who}，期限 {date}，逾期 {late} 个工作日）· 责任：{unit}",
    "digest.climbed_instruction_ack": "  {mark}批示 #{id} {code}：{title}（{who}，尚未受理，期限 {date}）· 责任：{unit}",
    "digest.given": "\n📣 <b>您批示、已逾期未办结的事项 {n} 个</b>",
    "digest.given_row": "  {mark}批示 #{id} {code} → {unit}：期限 {date}，逾期 {late} 个工作日 · {text}",
    # --- /today
    "today.instructions": "\n📣 <b>待本单位办结的领导批示 {n} 个</b>（/fulfil 批示号 办理情况）",
    "today.instruction_row": "  {mark}批示 #{id} {code}（{leader}，期限 {date}，{state}）{text}",
    "today.given": "\n📣 <b>您批示、已逾期未办结的事项 {n} 个</b>",
    "today.given_row": "  {mark}批示 #{id} {code} → {unit}：期限 {date}，{state} · {text}",
    "today.climbed_instruction": "  {mark}批示 #{id} {code}：{text}（{leader}，期限 {date}，{state}）· 责任：{unit}",
    # --- help and the menu
    "help.instructions": "/instructions — 未办结的领导批示（本单位的；服务中心和领导看全部）",
    "help.fulfil": "/fulfil 批示号 情况 — 报告领导批示已办结，如 <code>/fulfil 3 已完成土地摘牌</code>；收到批示：/ack i批示号",
    "cmd.instructions": "领导批示清单",
    "cmd.fulfil": "报告批示办结",
}

EN: dict[str, str] = {
    "ok.instruct": "✅ Instruction #{id} sent to {unit}, responsible for {code}; due {date}.",
    "ok.instruct_default": "(No deadline in the text: the default of {days} working {days:s/day/days} applies.)",
    "note.instruct": (
        "📣 <b>Leader's instruction #{id}</b> ({code} {name}) {who}:\n{text}\n"
        "Due {date}. Press Acknowledge when you have it; once it is carried out, press "
        "Report done or send /fulfil {id} what was done; press More time if you need it."
    ),
    "err.instruction_past": (
        "The deadline in the instruction, {date}, has passed. Write another (e.g. by the "
        "end of the month, within 3 working days) or none (the default number of working "
        "days applies), and send the instruction again."
    ),
    "ok.instruction_ack": "✔ Instruction #{id} acknowledged; it is due {date}.",
    "ok.instruction_ack_already": "Your unit already acknowledged instruction #{id}; it is due {date}.",
    "ok.fulfil": "✅ Instruction #{id} ({code}) reported done; {leader} is told.",
    "note.fulfilled": (
        "✅ <b>Instruction #{id} done</b> ({code})\n{reporter}: {text}\n"
        "Your instruction ({date}): {order}"
    ),
    "who.reporter": "{unit}, {who}",
    "who.reporter_for": "{who} ({unit}, for {for_unit})",
    "note.fulfilled_for": (
        "✅ <b>Instruction #{id} ({code}) was reported done for your unit</b> by {who} ({by_unit})\n"
        "What was done: {text}\nThe instruction: {order}"
    ),
    "err.instruct_dropped": (
        "Project {code} was dropped: no instruction can be given on it. Should it be revived, "
        "the service center moves it to another stage first (/stage)."
    ),
    "note.instruction_deadline": (
        "⏳ Your instruction #{id} ({code}) is now due {date} instead of {old}: more time "
        "approved by {who} ({unit}).\nYour instruction: {order}"
    ),
    "note.instruction_deadline_undone": (
        "↩️ {who} ({unit}) took back the extension of your instruction #{id} ({code}): due "
        "{date} again, not {old}.\nYour instruction: {order}"
    ),
    "note.instruction_moved": (
        "📣 <b>Leader's instruction #{id}</b> ({code} {name}) came with its project from {old} "
        "to {unit}.\n{who}: {text}\nDue {date}. Press Acknowledge when you have it; once it is "
        "carried out, press Report done or send /fulfil {id} what was done; press More time "
        "if you need it."
    ),
    "err.unknown_instruction": "No instruction #{id} within your reach. Send /instructions to see yours.",
    "err.instruction_done": "Instruction #{id} was already reported done.",
    "err.no_instructions": "No leader's instruction is waiting for you to carry out.",
    "ask.item.fulfil": "Pick the instruction you carried out:",
    "ask.text.fulfil": "In a line, what was done? (The leader reads it.)",
    "btn.fulfil": "✅ Report done",
    "btn.ack_instruction": "✔ Ack instr. #{id}",
    "btn.fulfil_item": "✅ Done instr. #{id}",
    "item.instruction": "Instruction #{id} ({code})",
    "instr.ref": "instr. #{id}",
    "instr.title": "📣 <b>{n} open leader's {n:s/instruction/instructions}</b>",
    "instr.row": "{n}. Instruction #{id} <code>{code}</code> → {unit} ({leader}) · due {date} · {state}\n    {text}",
    "instr.none": "No leader's instruction is open.",
    "instr.hint": "Acknowledge: the button or /ack i and the number (/ack i3); done: /fulfil NUMBER what was done; more time: /extend",
    "instr.state.new": "new",
    "instr.state.acknowledged": "acknowledged",
    "instr.state.overdue": "overdue {late} working {late:s/day/days}",
    "instr.state.past": "past its deadline",
    "instr.state.pending": "more time asked",
    "instr.state.dropped": "project dropped; report it done",
    "card.instructions": "<b>Leader's instructions</b>",
    "card.instruction": "Instruction #{id} [{state}] → {unit}: {text} (due {date})",
    "prompt.instructions": "\n📣 <b>{n} leader's {n:s/instruction/instructions} for your unit to carry out</b> (press Done or send /fulfil NUMBER what was done)",
    "prompt.instruction_row": "  {mark}instruction #{id} {code} ({leader}; due {date}; {state}) {text}",
    "prompt.instruction_late": "  {mark}instruction #{id} {code} ({leader}; was due {date}, {late} working {late:s/day/days} late) {text}",
    "esc.instruction_ack": "<b>{level}</b>\nLeader's instruction #{id} ({code}, {who}) has not been acknowledged:\n{title}\nPress Acknowledge, and carry it out by {date}.",
    "esc.instruction_late": "<b>{level}</b>\nLeader's instruction #{id} ({code}, {who}) was due {date}, {late} working {late:s/day/days} ago, and is not reported done:\n{title}\nPlease carry it out and report it, or ask for more time.",
    "digest.climbed_instruction": "  {mark}instruction #{id} {code}: {title} ({who}; due {date}, {late} working {late:s/day/days} late) · responsible: {unit}",
    "digest.climbed_instruction_ack": "  {mark}instruction #{id} {code}: {title} ({who}; not acknowledged; due {date}) · responsible: {unit}",
    "digest.given": "\n📣 <b>{n} of your instructions {n:s/is/are} overdue and not done</b>",
    "digest.given_row": "  {mark}instruction #{id} {code} → {unit}: due {date}, {late} working {late:s/day/days} late · {text}",
    "today.instructions": "\n📣 <b>{n} leader's {n:s/instruction/instructions} for your unit to carry out</b> (/fulfil NUMBER what was done)",
    "today.instruction_row": "  {mark}instruction #{id} {code} ({leader}; due {date}; {state}) {text}",
    "today.given": "\n📣 <b>{n} of your instructions {n:s/is/are} overdue and not done</b>",
    "today.given_row": "  {mark}instruction #{id} {code} → {unit}: due {date}, {state} · {text}",
    "today.climbed_instruction": "  {mark}instruction #{id} {code}: {text} ({leader}; due {date}; {state}) · responsible: {unit}",
    "help.instructions": "/instructions — open leader's instructions (your unit's; the service center and leaders see all)",
    "help.fulfil": "/fulfil NUMBER text — report a leader's instruction carried out, e.g. <code>/fulfil 3 land acquired</code>; to acknowledge one: /ack i and its number, e.g. <code>/ack i3</code>",
    "cmd.instructions": "Leader's instructions",
    "cmd.fulfil": "Report an instruction done",
}
