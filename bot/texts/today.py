"""Texts of /today (each person's own list, and the overseers' overview) and of the
project card's targets and checks."""

from __future__ import annotations

ZH: dict[str, str] = {
    "today.targets": "\n🎯 <b>已过目标日期的项目 {n} 个</b>",
    "today.target_row": "  {code} {name}：计划{stage} {date}，已过 {late} 个工作日",
    "today.waiting_mine": "\n💬 <b>待本单位答复的问题 {n} 个</b>",
    "today.waiting_row2": "  #{id} {code}（已等 {waited} 个工作日，{date} 前答复）{text}",
    "today.waiting_late": "  #{id} {code}（答复期限 {date}，已超 {late} 个工作日）{text}",
    "today.signoff": "\n✅ <b>已答复、等您确认办结的问题 {n} 个</b>（/resolve 办结，/reopen 退回）",
    "today.signoff_row": "  #{id} {code}：{unit} 已答复 · {text}",
    "today.climbed": "\n⬆️ <b>已升级到您这里的事项 {n} 个</b>",
    "today.climbed_ms": "  {mark}{code} 节点{seq}「{title}」计划 {date} · 责任：{unit}",
    "today.climbed_problem": "  {mark}问题 #{id} {code}：{text} · 待{party}",
    "today.climbed_target": "  {mark}{code} 计划{stage} {date} · 责任：{unit}",
    "today.party_unit": "{unit} 答复",
    "today.party_raiser": "提出人确认办结",
    "today.nothing_mine": "您今天没有需要亲自处理的事项。",
    "today.overview": "\n📋 <b>全市概况</b>（仅供了解，不是您的待办）\n  逾期节点 {overdue} 个 · 待答复问题 {waiting} 个 · 待确认办结 {signoff} 个\n  已过目标日期的项目 {targets} 个 · {days} 天以上未报送进展的项目 {stale} 个",
    "card.targets": "<b>目标</b>",
    "card.target_row": "{light} {stage}：{date}",
    "card.target_none": "未设目标日期",
    "card.checked": "✔ {date} {author}：已查看，无变化",
    "card.file": " 📎",
    "card.no_milestones_ask": "尚无节点，请联系招商服务中心制定时间表。",
}

EN: dict[str, str] = {
    "today.targets": "\n🎯 <b>{n} {n:s/project/projects} past a target date</b>",
    "today.target_row": "  {code} {name}: {stage} planned by {date}, {late} working {late:s/day/days} past",
    "today.waiting_mine": "\n💬 <b>{n} {n:s/problem/problems} waiting for your unit's answer</b>",
    "today.waiting_row2": "  #{id} {code} (waiting {waited} working {waited:s/day/days}; answer by {date}) {text}",
    "today.waiting_late": "  #{id} {code} (answer was due {date}, {late} working {late:s/day/days} late) {text}",
    "today.signoff": "\n✅ <b>{n} {n:s/answer waits/answers wait} for your sign-off</b> (/resolve to sign off, /reopen to send back)",
    "today.signoff_row": "  #{id} {code}: answered by {unit} · {text}",
    "today.climbed": "\n⬆️ <b>{n} {n:s/item has/items have} climbed to you</b>",
    "today.climbed_ms": "  {mark}{code} milestone {seq} “{title}” planned {date} · responsible: {unit}",
    "today.climbed_problem": "  {mark}problem #{id} {code}: {text} · waiting for {party}",
    "today.climbed_target": "  {mark}{code} {stage} planned by {date} · responsible: {unit}",
    "today.party_unit": "{unit} to answer",
    "today.party_raiser": "its raiser to sign off",
    "today.nothing_mine": "Nothing needs you in person today.",
    "today.overview": "\n📋 <b>The city at a glance</b> (for reading; not your to-do)\n  {overdue} overdue {overdue:s/milestone/milestones} · {waiting} {waiting:s/problem/problems} waiting for an answer · {signoff} {signoff:s/answer/answers} waiting for sign-off\n  {targets} {targets:s/project/projects} past a target date · {stale} {stale:s/project/projects} without progress for over {days} days",
    "card.targets": "<b>Targets</b>",
    "card.target_row": "{light} {stage}: {date}",
    "card.target_none": "no target dates set",
    "card.checked": "✔ {date} {author}: checked, no change",
    "card.file": " 📎",
    "card.no_milestones_ask": "No milestones yet; ask the investment service center to plan them.",
}
