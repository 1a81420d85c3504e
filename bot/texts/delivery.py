"""Texts of the outbox sender."""

ZH: dict[str, str] = {
    "note.unreachable": (
        "⚠️ {name}（{unit}）已屏蔽本机器人或注销了账号，收不到提醒和督办通知了。"
        "请提醒其解除屏蔽，并给机器人发一条消息（例如 /today）。"
    ),
}
EN: dict[str, str] = {
    "note.unreachable": (
        "⚠️ {name} ({unit}) has blocked the bot or closed their account and no longer "
        "gets reminders or notices. Please ask them to unblock the bot and send it a "
        "message (for example /today)."
    ),
}
