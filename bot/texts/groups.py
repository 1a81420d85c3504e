"""Texts about a unit's work group: the bot removed from it."""

from __future__ import annotations

from typing import Final

ZH: Final[dict[str, str]] = {
    "note.group_removed": (
        "⚠️ 机器人已被移出 {unit} 的工作群，该群已解除关联。此后给 {unit} 的通知直接发给其成员。"
        "重新拉机器人入群不会自动恢复关联：请单位负责人在群里再发一次 /link。"
    ),
}

EN: Final[dict[str, str]] = {
    "note.group_removed": (
        "⚠️ The bot was removed from {unit}'s work group, so the group is no longer linked. "
        "Notices for {unit} now go to its members directly. Adding the bot back does not "
        "link the group again: the unit head sends /link in the group once more."
    ),
}
