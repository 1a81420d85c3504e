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

Faults, for the tests that break things on purpose (tests/test_faults.py):
- `fail(method, failure)`: the next matching call fails (HTTP 500, any Bot API error, or a
  connection dropped without an answer), at once or after `hang` seconds (longer than
  the client waits: a timeout); rules are consumed in the order given.
- `slow(method, seconds)`: every such call is answered that much later (it has been
  carried out by then, as a slow Telegram would).
- two getUpdates long polls at once: the older one is answered 409 Conflict, as Telegram
  does, and counted in `conflicts`.
- `redeliver(update)`: an update handed out again whatever offset the bot asks for (a
  confirmation Telegram lost).
- `client_url(tag)`: a base URL whose calls are recorded under TAG in `by_client` (with
  the moment of each), to tell two bot processes apart.
- `watch(look)`: an event set the moment the recorded calls satisfy LOOK.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
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


# Telegram's words for two long polls at once; PTB raises Conflict on a 409.
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
# A failure that answers nothing: the connection is closed instead.
DROP = "drop"


@dataclass
class Fault:
    """One injected failure: the next call of METHOD (whose parameters WHEN accepts)
    gets FAILURE instead of being carried out, TIMES times.

    FAILURE is DROP (the connection closes without an answer) or an HTTP error as
    (status, description): (500, "Internal Server Error"), (400, "Bad Request: query is
    too old and response timeout expired or query id is invalid")…
    """

    method: str
    failure: str | tuple[int, str]
    when: Callable[[dict[str, Any]], bool] | None = None
    times: int = 1
    # Seconds the call is held before it fails: longer than the client waits, a timeout.
    hang: float = 0.0


@dataclass
class _Poll:
    """A getUpdates long poll being answered: whose, and whether a newer one ended it."""

    tag: str
    alive: Callable[[], bool]
    terminated: bool = False


def _connection_alive(sock: socket.socket) -> bool:
    """Whether the client is still there: a closed connection reads as end of file."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return True
        return sock.recv(1, socket.MSG_PEEK) != b""
    except (OSError, ValueError):
        return False


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
        # Fault injection (see the module's docstring); all guarded by `lock`.
        self.faults: list[Fault] = []
        self.faulted: list[tuple[str, dict[str, Any], str | tuple[int, str]]] = []
        self.delays: dict[str, float] = {}
        self.conflicts: list[tuple[str, str]] = []  # (the poll ended, by whose poll)
        # (client tag, method, time.monotonic()) of every call, faulted ones too
        self.by_client: list[tuple[str, str, float]] = []
        self._redelivered: list[dict[str, Any]] = []
        self._poll: _Poll | None = None
        self._watches: list[tuple[Callable[[FakeBotAPI], bool], threading.Event]] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
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

    def client_url(self, tag: str) -> str:
        """A base URL like `base_url` whose calls are recorded under TAG (letters and
        digits) in `by_client`."""
        if not tag.isalnum():
            raise ValueError(f"a client tag is letters and digits, not {tag!r}")
        return f"http://127.0.0.1:{self.port}/{tag}/bot"

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

    def push_all(self, updates: list[dict[str, Any]]) -> None:
        """Queue updates so that the next getUpdates hands them over together (the same
        update twice in one batch, as from two pollers)."""
        with self.lock:
            for update in updates:
                self.api.push(update)
            self.lock.notify_all()

    def read(self, look: Callable[[FakeBotAPI], T]) -> T:
        """Look at the recorded calls without racing the server's threads."""
        with self.lock:
            return look(self.api)

    def pending(self) -> int:
        """Updates not yet confirmed by the bot."""
        with self.lock:
            return len(self._unconfirmed) + len(self.api.updates) + len(self._redelivered)

    def fail(
        self,
        method: str,
        failure: str | tuple[int, str],
        *,
        when: Callable[[dict[str, Any]], bool] | None = None,
        times: int = 1,
        hang: float = 0.0,
    ) -> Fault:
        """Make the next TIMES calls of METHOD that WHEN accepts fail with FAILURE (see
        Fault), HANG seconds late; after the rules queued before it."""
        fault = Fault(method, failure, when, times, hang)
        with self.lock:
            self.faults.append(fault)
        return fault

    def slow(self, method: str, seconds: float) -> None:
        """Answer every call of METHOD SECONDS late (0: at once again)."""
        with self.lock:
            self.delays[method] = seconds

    def redeliver(self, update: dict[str, Any]) -> None:
        """Hand UPDATE out again with the next getUpdates, whatever its offset says."""
        with self.lock:
            self._redelivered.append(dict(update))
            self.lock.notify_all()

    def watch(self, look: Callable[[FakeBotAPI], bool]) -> threading.Event:
        """An event set as soon as LOOK finds what it wants, checked after every call:
        lets a test act (kill the bot) the moment a count is reached."""
        event = threading.Event()
        with self.lock:
            if look(self.api):
                event.set()
            else:
                self._watches.append((look, event))
        return event

    # --- the HTTP side

    def answer(
        self,
        method: str,
        params: dict[str, Any],
        *,
        tag: str = "",
        alive: Callable[[], bool] = lambda: True,
    ) -> tuple[bool, Any] | str:
        """Carry out one call: (ok, result or error), or DROP to close the connection."""
        with self.lock:
            self.by_client.append((tag, method, time.monotonic()))
            fault = self._fault(method, params)
        if fault is not None:
            failure, hang = fault
            if hang:
                time.sleep(hang)
            return failure
        if method == "getUpdates":
            return self._get_updates(params, tag, alive)
        with self.lock:
            answer = self.api.handle(method, params)
            self._check_watches()
            delay = self.delays.get(method, 0.0)
        if delay:
            time.sleep(delay)
        return answer

    def _fault(
        self, method: str, params: dict[str, Any]
    ) -> tuple[tuple[bool, Any] | str, float] | None:
        """The first rule that takes this call: (what to answer, how late)."""
        for fault in self.faults:
            if fault.method != method or fault.times <= 0:
                continue
            if fault.when is not None and not fault.when(params):
                continue
            fault.times -= 1
            self.faulted.append((method, params, fault.failure))
            if isinstance(fault.failure, str):
                return fault.failure, fault.hang
            status, description = fault.failure
            return (False, {"error_code": status, "description": description}), fault.hang
        return None

    def _check_watches(self) -> None:
        for look, event in list(self._watches):
            if look(self.api):
                event.set()
                self._watches.remove((look, event))

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._unconfirmed = [u for u in self._unconfirmed if u["update_id"] >= offset]
        elif offset < 0:
            # Telegram: a negative offset keeps only the last -offset updates.
            self._unconfirmed = self._unconfirmed[offset:]

    def _get_updates(
        self, params: dict[str, Any], tag: str, alive: Callable[[], bool]
    ) -> tuple[bool, Any]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(float(params.get("timeout") or 0), MAX_LONG_POLL)
        with self.lock:
            poll = _Poll(tag, alive)
            older = self._poll
            if older is not None and older.alive():
                # Telegram ends the older of two long polls with a 409.
                older.terminated = True
                self.conflicts.append((older.tag, tag))
            self._poll = poll
            self.lock.notify_all()
            self._confirm(offset)
            deadline = time.monotonic() + timeout
            # In short steps: a client that died (SIGKILL) is noticed and its poll ended,
            # so that it does not count as a second poller.
            while not (
                self._unconfirmed
                or self.api.updates
                or self._redelivered
                or self._closed
                or poll.terminated
            ):
                left = deadline - time.monotonic()
                if left <= 0 or not alive():
                    break
                self.lock.wait(min(left, 0.05))
            if self._poll is poll:
                self._poll = None
            if poll.terminated:
                return False, {"error_code": 409, "description": CONFLICT}
            # FakeBotAPI hands over (and forgets) what was pushed; until the bot confirms
            # them, the updates live here.
            ok, fresh = self.api.handle("getUpdates", params)
            self._unconfirmed.extend(fresh)
            self._unconfirmed.sort(key=lambda u: u["update_id"])
            self._confirm(offset)
            batch = self._unconfirmed[:limit]
            if self._redelivered:
                # Ahead of the rest, as a lost confirmation would have them.
                batch = [*self._redelivered, *batch][:limit]
                self._redelivered.clear()
            return ok, batch


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that died mid-request (a test killed the bot) is no error of the server.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


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
        path = url.path
        tag = ""
        head, _, rest = path.lstrip("/").partition("/")
        # A token holds a colon, so `bot<token>` is never a tag; `file` is the downloads'.
        if head.isalnum() and head != "file" and rest:
            # A client's tag before the token (client_url).
            tag, path = head, f"/{rest}"
        prefix = f"/bot{owner.token}/"
        if not path.startswith(prefix):
            # Telegram's answer to a wrong token; PTB raises InvalidToken on it.
            self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        method = path.removeprefix(prefix)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) < length:
            # The client died mid-request (a test killed the bot): Telegram would not act
            # on half a request either.
            self.close_connection = True
            return
        try:
            params = dict(parse_qsl(url.query))
            params.update(decode_body(self.headers.get("Content-Type", ""), body))
            answer = owner.answer(
                method, params, tag=tag, alive=lambda: _connection_alive(self.connection)
            )
        except Exception as exc:  # shown to the bot as Telegram shows a bad request
            with owner.lock:
                owner.errors.append(f"{method}: {type(exc).__name__}: {exc}")
            self._reply(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
            return
        if answer == DROP:
            # No answer at all: the client sees the connection closed under its request.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        assert not isinstance(answer, str)
        ok, result = answer
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
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client died waiting (a test killed the bot): nobody reads the answer.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # every call is recorded by FakeBotAPI; the access log would only be noise
