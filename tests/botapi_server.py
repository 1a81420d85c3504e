"""The fake Bot API served over HTTP on 127.0.0.1, so the bot talks to it as to Telegram.

PTB's HTTPXRequest POSTs to `<base_url><token>/<method>`. Without files the body is
`application/x-www-form-urlencoded`; with files it is `multipart/form-data`. Either way
every value is a string: strings as they are, everything else JSON-encoded (numbers,
booleans, and the nested objects such as `reply_markup` or `commands`). The server turns
the nested ones back into objects, as Telegram does, and leaves scalars as strings
(Telegram accepts "123" for an integer and FakeBotAPI converts what it needs). A JSON
body (`application/json`) is taken as it is.

The server runs in its own thread, so the bot's HTTP calls and the test's `push` and
reads meet in FakeBotAPI from two threads: `lock` guards every use of it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from tests.fakebot import FakeBotAPI

T = TypeVar("T")

# Bot API parameters whose type is an object or an array, JSON-encoded in form bodies.
# Anything not named here stays a string; a stand-in cannot know every method's types,
# and guessing from the value would turn a message text like "[1, 2]" into a list.
JSON_FIELDS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "explanation_entities",
        "link_preview_options",
        "media",
        "menu_button",
        "options",
        "permissions",
        "reaction",
        "reply_markup",
        "reply_parameters",
        "results",
        "rights",
        "scope",
    }
)

# A getUpdates long poll waits at most this long here, whatever timeout the bot asks for,
# so that a test never hangs on a poll.
MAX_LONG_POLL = 2.0


def _form_value(name: str, value: str) -> Any:
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value


def decode_body(content_type: str, body: bytes) -> dict[str, Any]:
    """The parameters of a Bot API request, as Telegram would read them."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return {}
    if media == "application/json":
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ValueError("a JSON body must be an object")
        return decoded
    if media == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        return {k: _form_value(k, v) for k, v in pairs}
    if media == "multipart/form-data":
        # The email package parses MIME multipart; it only needs the boundary in a header.
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        params: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                raise ValueError("a multipart part without a name or content")
            if part.get_filename() is not None:
                params[name] = payload  # an uploaded file: its bytes
            else:
                params[name] = _form_value(name, payload.decode("utf-8"))
        return params
    raise ValueError(f"unsupported content type {content_type!r}")


class BotAPIServer:
    """FakeBotAPI on http://127.0.0.1:<ephemeral port>; use as a context manager.

    getUpdates behaves as Telegram's: an update is delivered again and again until the
    bot confirms it by asking with an `offset` above its id; `timeout` makes it wait for
    updates (up to MAX_LONG_POLL).
    """

    def __init__(self, api: FakeBotAPI, token: str) -> None:
        self.api = api
        self.token = token
        self.lock = threading.Condition()
        # Requests that FakeBotAPI could not answer (a test should expect none).
        self.errors: list[str] = []
        self._unconfirmed: list[dict[str, Any]] = []
        self._closed = False
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            # A short poll interval: shutdown() waits for the loop to notice.
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="botapi-server",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What goes into `[telegram] base_url`; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    def __enter__(self) -> BotAPIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self.lock:
            self._closed = True
            self.lock.notify_all()  # end any long poll at once
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # --- the test's side

    def push(self, update: dict[str, Any]) -> None:
        """Queue an update for the bot's next getUpdates."""
        with self.lock:
            self.api.push(update)
            self.lock.notify_all()

    def read(self, look: Callable[[FakeBotAPI], T]) -> T:
        """Look at the recorded calls without racing the server's threads."""
        with self.lock:
            return look(self.api)

    def pending(self) -> int:
        """Updates not yet confirmed by the bot."""
        with self.lock:
            return len(self._unconfirmed) + len(self.api.updates)

    # --- the HTTP side

    def answer(self, method: str, params: dict[str, Any]) -> tuple[bool, Any]:
        if method == "getUpdates":
            return self._get_updates(params)
        with self.lock:
            return self.api.handle(method, params)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._unconfirmed = [u for u in self._unconfirmed if u["update_id"] >= offset]
        elif offset < 0:
            # Telegram: a negative offset keeps only the last -offset updates.
            self._unconfirmed = self._unconfirmed[offset:]

    def _get_updates(self, params: dict[str, Any]) -> tuple[bool, Any]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(float(params.get("timeout") or 0), MAX_LONG_POLL)
        with self.lock:
            self._confirm(offset)
            self.lock.wait_for(
                lambda: self._unconfirmed or self.api.updates or self._closed, timeout
            )
            # FakeBotAPI hands over (and forgets) what was pushed; until the bot confirms
            # them, the updates live here.
            ok, fresh = self.api.handle("getUpdates", params)
            self._unconfirmed.extend(fresh)
            self._unconfirmed.sort(key=lambda u: u["update_id"])
            self._confirm(offset)
            return ok, self._unconfirmed[:limit]


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as httpx expects of Telegram; every response carries its length.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle's algorithm holds the
    # second one back some 40 ms on a kept-alive connection.
    disable_nagle_algorithm = True
    # An idle connection left open by a client that died is dropped after this long.
    timeout = 30

    def do_POST(self) -> None:
        owner: BotAPIServer = self.server.owner  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        prefix = f"/bot{owner.token}/"
        if not url.path.startswith(prefix):
            # Telegram's answer to a wrong token; PTB raises InvalidToken on it.
            self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        method = url.path.removeprefix(prefix)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        try:
            params = dict(parse_qsl(url.query))
            params.update(decode_body(self.headers.get("Content-Type", ""), body))
            ok, result = owner.answer(method, params)
        except Exception as exc:  # shown to the bot as Telegram shows a bad request
            with owner.lock:
                owner.errors.append(f"{method}: {type(exc).__name__}: {exc}")
            self._reply(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
            return
        if ok:
            self._reply(200, {"ok": True, "result": result})
        else:
            self._reply(int(result["error_code"]), {"ok": False, **result})

    do_GET = do_POST

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # every call is recorded by FakeBotAPI; the access log would only be noise
