"""The Bot API's HTTP transport: PTB's `BaseRequest` over aiohttp instead of httpx.

Why not PTB's own HTTPXRequest: on every request httpx's connection pool checks each
idle connection for expiry (a poll and a getpeername per connection), and its pure-Python
HTTP parsing adds the rest: about 1.5–2 ms of CPU per Bot API call with 16 calls in
flight, against 0.3–0.4 ms for aiohttp's C parser (measured with PTB's Bot against the
loopback stand-in of tests/botapi_server.py). A new problem tells its whole unit, so the
bot makes several calls per update, and the transport was a third of its CPU.

PTB's contract (telegram.request.BaseRequest) is kept: `do_request` returns the status
and the body, and raises `TimedOut` for every timeout and `NetworkError` for everything
else that kept an answer from arriving; PTB turns the status into its own errors
(RetryAfter, BadRequest, Forbidden …) as it does for httpx.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's HTTPXRequest defaults (seconds), so switching transport changes no behaviour.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
# What a TimedOut says when the request never left: no free connection in time, or none
# opened. Any other TimedOut is in doubt: Telegram may have carried the call out.
NOT_SENT = "Timed out before the request was sent"
# Time a request may wait for a free connection. PTB's default is 1 s and ends in
# TimedOut when the pool is busy; a burst of notices should wait its turn instead.
POOL_TIMEOUT = 30.0


log = logging.getLogger(__name__)


def in_doubt(exc: BaseException) -> bool:
    """Whether a failed Bot API call may still have been carried out: it timed out after
    the request was sent. Sending it again may then deliver it twice."""
    return isinstance(exc, TimedOut) and exc.message != NOT_SENT


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp `ClientSession` with at most POOL_SIZE connections.

    POOL_SIZE bounds the calls in flight at once (the outbox sender's chats, the replies
    of the lanes, the long poll); a call beyond it waits up to POOL_TIMEOUT seconds.
    """

    def __init__(self, pool_size: int = 32) -> None:
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # No cookies: Telegram sets none, and aiohttp would parse for them on every call.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """POST (or GET) REQUEST_DATA to URL; returns (HTTP status, body).

        Timeouts are in seconds, None for none; PTB's DEFAULT_NONE takes this module's
        defaults. aiohttp has no write timeout of its own, so PTB's write timeout is not
        applied: the read timeout starts once the request is written. Raises
        RuntimeError before `initialize`; TimedOut (its message NOT_SENT when the request
        never left) and NetworkError as HTTPXRequest does.
        """
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        read = _seconds(read_timeout, READ_TIMEOUT)
        connect = _seconds(connect_timeout, CONNECT_TIMEOUT)
        pool = _seconds(pool_timeout, POOL_TIMEOUT)
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's `connect` covers waiting for a pooled connection and opening one.
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        data: Any = None
        if request_data is not None:
            data = (
                _form(request_data.json_parameters, files)
                if files
                else request_data.json_parameters
            )
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                body = await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            # No free connection in time, or none opened: the request never left.
            raise TimedOut(NOT_SENT) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            # The class name, as PTB does for httpx: a dropped connection's message is empty.
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        # The URL holds the token: bot.cli's log filter hides it.
        log.debug('HTTP Request: %s %s "%s"', method, url, response.status)
        return response.status, body


def _seconds(value: ODVInput[float], default: float) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _form(fields: dict[str, str], files: dict[str, Any]) -> aiohttp.FormData:
    """A multipart body: the parameters as fields, each upload as (filename, content,
    mime type), the shape PTB's `RequestData.multipart_data` gives."""
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename or name, content_type=mimetype)
    return form
