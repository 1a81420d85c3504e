"""Texts of the Undo under a date said back, and of which date was taken from the text."""

from __future__ import annotations

ZH: dict[str, str] = {
    "btn.undo": "↩️ 撤销",
    "undo.taken": "（文中有多个日期：按“{matched}”取了 {date}，未取 {other}）",
    "ok.undo": "↩️ 已撤销，恢复为：",
    "ok.undo_row": "  {item}：{date}",
    "ok.undo_extension": "  {item} 的延期申请恢复为待审批（/today 可重新审批）",
    "note.undo_approved": "↩️ {who} 撤销了对您延期申请的批准：{item} 仍为 {date}，申请重新等待审批。",
    "err.undo_expired": "已超过 {minutes} 分钟，不能再撤销；请用命令重新设置日期。",
    "err.undo_not_yours": "只有做出这项修改的人或招商服务中心可以撤销。",
    "err.undo_changed": "这期间日期已被再次修改，不能撤销；请用 /project 查看当前日期。",
    "err.undo_done": "这项修改已经撤销过了。",
}

EN: dict[str, str] = {
    "btn.undo": "↩️ Undo",
    "undo.taken": "(the text holds several dates: took {date} from “{matched}”, not {other})",
    "ok.undo": "↩️ Undone; back to:",
    "ok.undo_row": "  {item}: {date}",
    "ok.undo_extension": "  the request for more time on {item} waits for a decision again (/today)",
    "note.undo_approved": "↩️ {who} took back the approval of your request: {item} stays due {date}; the request waits for a decision again.",
    "err.undo_expired": "More than {minutes} minutes have passed: it can no longer be undone; set the date again with the command.",
    "err.undo_not_yours": "Only who made this change, or the service center, can undo it.",
    "err.undo_changed": "The date was changed again meanwhile, so this cannot be undone; see /project for the current date.",
    "err.undo_done": "This change has already been undone.",
}
