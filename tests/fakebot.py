"""A Bot API stand-in: answers methods like Telegram would and records every call.

`FakeRequest` plugs it into PTB without any network (PTB's own tests do the same);
the end-to-end test serves the same `FakeBotAPI` over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 1000,
    "is_bot": True,
    "first_name": "Wallchart",
    "username": "wallchart_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


MEDIA_METHODS = ("sendPhoto", "sendDocument", "sendMediaGroup")


class FakeBotAPI:
    """Records calls; sendMessage and friends return what Telegram would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        # chat ids whose messages fail as if the user blocked the bot
        self.blocked: set[int] = set()
        # file_id -> content, for getFile and the download that follows it
        self.files: dict[str, bytes] = {}
        # photos and documents the bot sent: chat_id, kind ("photo"/"document"), data, caption
        self.media: list[dict[str, Any]] = []

    def handle(self, method: str, params: dict[str, Any]) -> tuple[bool, Any]:
        self.calls.append((method, params))
        if method == "getMe":
            return True, BOT_USER
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            if chat_id in self.blocked:
                return False, {
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                }
            msg = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                markup = params["reply_markup"]
                markup = json.loads(markup) if isinstance(markup, str) else markup
                # Telegram echoes only inline keyboards back in the Message.
                if "inline_keyboard" in markup:
                    msg["reply_markup"] = markup
            return True, msg
        if method in MEDIA_METHODS:
            return self._media(method, params)
        if method == "getFile":
            file_id = str(params["file_id"])
            return True, {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"documents/{file_id}",
            }
        if method == "getUpdates":
            batch, self.updates = self.updates, []
            return True, batch
        return True, True

    def _media(self, method: str, params: dict[str, Any]) -> tuple[bool, Any]:
        """A photo, a document or an album: the file's bytes are kept in `self.media`."""
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            return False, {
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        if method == "sendMediaGroup":
            items = params["media"]
            items = json.loads(items) if isinstance(items, str) else items
        else:
            field = "photo" if method == "sendPhoto" else "document"
            items = [{"type": field, "media": params[field], "caption": params.get("caption")}]
        sent = []
        for item in items:
            kind = str(getattr(item["type"], "value", item["type"]))
            ref = item["media"]
            # An upload travels as a multipart part: under the parameter's own name, or (in
            # an album) under the name its "attach://<part>" reference gives.
            data = ref if isinstance(ref, bytes) else None
            if isinstance(ref, str) and ref.startswith("attach://"):
                data = params.get(ref[len("attach://") :])
                if not isinstance(data, bytes):
                    raise AssertionError(f"{method}: no file part for {ref}")
            self.media.append(
                {"chat_id": chat_id, "kind": kind, "data": data, "caption": item.get("caption")}
            )
            msg_id = next(self._ids)
            file = {"file_id": f"sent{msg_id}", "file_unique_id": f"usent{msg_id}"}
            msg: dict[str, Any] = {
                "message_id": msg_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": BOT_USER,
            }
            if item.get("caption"):
                msg["caption"] = item["caption"]
            if kind == "photo":
                msg["photo"] = [{**file, "width": 100, "height": 100}]
            else:
                msg["document"] = file
            sent.append(msg)
        return True, sent if method == "sendMediaGroup" else sent[0]

    def push(self, update: dict[str, Any]) -> None:
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self.updates.append(update)

    # --- what the bot said

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [
            p
            for m, p in self.calls
            if m == "sendMessage" and (chat_id is None or int(p["chat_id"]) == chat_id)
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [str(p["text"]) for p in self.sent(chat_id)]

    def buttons(self, chat_id: int | None = None) -> list[str]:
        """The callback data of the buttons under the last message to CHAT_ID."""
        sent = self.sent(chat_id)
        if not sent or "reply_markup" not in sent[-1]:
            return []
        markup = sent[-1]["reply_markup"]
        markup = json.loads(markup) if isinstance(markup, str) else markup
        return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]

    def all_buttons(self, chat_id: int) -> list[str]:
        """The callback data of every button ever sent to CHAT_ID."""
        found = []
        for p in self.sent(chat_id):
            markup = p.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup
            for row in (markup or {}).get("inline_keyboard", []):
                found += [b["callback_data"] for b in row]
        return found

    def clear(self) -> None:
        self.calls.clear()
        self.media.clear()


class FakeRequest(BaseRequest):
    """PTB's HTTP layer replaced by a direct call into FakeBotAPI."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:
            return 200, self.api.files[url.rsplit("/", 1)[-1]]
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            # As on the wire: each file is a part named by the "attach://" reference.
            for part, upload in request_data.multipart_data.items():
                content = upload[1]
                params[part] = content if isinstance(content, bytes) else content.read()
        ok, result = self.api.handle(name, params)
        if ok:
            return 200, json.dumps({"ok": True, "result": result}).encode()
        return int(result["error_code"]), json.dumps({"ok": False, **result}).encode()


_msg_ids = itertools.count(10_000)


def user(uid: int, name: str = "测试", lang: str = "zh") -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": name, "language_code": lang}


def chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    c: dict[str, Any] = {"id": chat_id, "type": kind}
    if kind != "private":
        c["title"] = "工作群"
    return c


def message(
    uid: int, text: str, *, chat_id: int | None = None, kind: str = "private", name: str = "测试"
) -> dict[str, Any]:
    """An update carrying a text message (commands get their bot_command entity)."""
    msg: dict[str, Any] = {
        "message_id": next(_msg_ids),
        "date": int(time.time()),
        "chat": chat(chat_id if chat_id is not None else uid, kind),
        "from": user(uid, name),
        "text": text,
    }
    msg.update(_command_entity("entities", text))
    return {"update_id": next(_msg_ids), "message": msg}


# Telegram ends a bot command at the first character that cannot be in one, so
# `/progress，QS01` is the command `/progress` followed by `，QS01`.
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")


def _command_entity(field: str, text: str) -> dict[str, Any]:
    found = _COMMAND.match(text)
    if found is None:
        return {}
    return {field: [{"type": "bot_command", "offset": 0, "length": found.end()}]}


def document(
    uid: int,
    file_id: str,
    file_name: str,
    caption: str = "/import",
    *,
    chat_id: int | None = None,
    kind: str = "private",
) -> dict[str, Any]:
    """An update carrying a file sent with a caption."""
    return _captioned(
        uid,
        caption,
        {"document": {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name}},
        chat_id,
        kind,
    )


def photo(
    uid: int, file_id: str, caption: str = "", *, chat_id: int | None = None, kind: str = "private"
) -> dict[str, Any]:
    """An update carrying a photo, as Telegram sends it: several sizes, the largest last."""
    sizes = [
        {
            "file_id": f"{file_id}-small",
            "file_unique_id": f"u{file_id}s",
            "width": 90,
            "height": 60,
        },
        {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280, "height": 853},
    ]
    return _captioned(uid, caption, {"photo": sizes}, chat_id, kind)


def _captioned(
    uid: int, caption: str, media: dict[str, Any], chat_id: int | None, kind: str
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "message_id": next(_msg_ids),
        "date": int(time.time()),
        "chat": chat(chat_id if chat_id is not None else uid, kind),
        "from": user(uid),
        **media,
    }
    if caption:
        msg["caption"] = caption
        msg.update(_command_entity("caption_entities", caption))
    return {"update_id": next(_msg_ids), "message": msg}


def press(
    uid: int, data: str, *, chat_id: int | None = None, kind: str = "private"
) -> dict[str, Any]:
    """An update carrying a button press on a message the bot sent."""
    cid = chat_id if chat_id is not None else uid
    return {
        "update_id": next(_msg_ids),
        "callback_query": {
            "id": str(next(_msg_ids)),
            "from": user(uid),
            "chat_instance": str(cid),
            "data": data,
            "message": {
                "message_id": next(_msg_ids),
                "date": int(time.time()),
                "chat": chat(cid, kind),
                "from": BOT_USER,
                "text": "…",
            },
        },
    }
