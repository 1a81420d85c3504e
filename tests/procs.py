"""The bot as a real process: `python -m bot.cli run`, started, killed and read from tests.

Used by the fault tests (tests/test_faults.py): each runs `wallchart run` against the
loopback Bot API stand-in (tests/botapi_server.py), breaks something, and counts what was
stored and sent. Waits are bounded and poll in short steps, so a healthy run never waits
longer than it must; a failed wait says what it waited for and shows the log's tail.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from storage.db import make_engine

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
# A slow CI machine (2 cores, other suites running) takes seconds just to import the bot.
START = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, **sections: dict[str, Any]) -> Path:
    """A TOML config file from SECTIONS (`telegram={"token": …}`), readable by its owner
    only, as `wallchart run` wants a file holding a token."""
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


class BotProcess:
    """`python -m bot.cli --config CONFIG run ARGS`, its stderr kept in LOG.

    Each start appends to the same log, after a line that says which start it is.
    """

    def __init__(
        self, config: Path, log: Path, args: Sequence[str] = (), options: Sequence[str] = ()
    ) -> None:
        self.config = config
        self.log_path = log
        self.args = list(args)
        self.options = list(options)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts: list[float] = []  # time.monotonic() of each start
        self.pids: list[int] = []

    def start(self) -> BotProcess:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log_path.open("a") as log:
            log.write(f"--- start {len(self.starts) + 1}\n")
        env = {k: v for k, v in os.environ.items() if k != "WALLCHART_TOKEN"}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.cli",
                    *self.options,
                    "--config",
                    str(self.config),
                    "run",
                    *self.args,
                ],
                cwd=self.config.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env={**env, "PYTHONPATH": str(ROOT)},
            )
        self.starts.append(time.monotonic())
        self.pids.append(self.proc.pid)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed, the kernel closes the sockets."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGINT, as Ctrl-C or systemd's stop; returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            raise AssertionError(
                f"the bot did not stop within {timeout}s:\n{self.tail()}"
            ) from None

    def close(self) -> None:
        """Whatever state it is in, the process is gone afterwards."""
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(timeout=30)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.splitlines()[-lines:])


def wait_until(
    look: Callable[[], T],
    what: str,
    timeout: float = START,
    *,
    procs: Sequence[BotProcess] = (),
    step: float = 0.02,
) -> T:
    """Call LOOK until it returns something true; fail after TIMEOUT seconds, or at once
    if one of PROCS died meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        found = look()
        if found:
            return found
        for p in procs:
            if not p.alive():
                raise AssertionError(f"the bot died while waiting for {what}:\n{p.tail()}")
        if time.monotonic() > deadline:
            logs = "\n".join(p.tail() for p in procs)
            raise AssertionError(f"no {what} within {timeout}s\n{logs}")
        time.sleep(step)


def health(port: int) -> tuple[int, dict[str, Any]]:
    """GET /health on 127.0.0.1:PORT: the status and the JSON body; (0, {}) if nothing
    answers there."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            return int(r.status), json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> int:
    """POST BODY as JSON, as Telegram posts an update to a webhook; the HTTP status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


# What the tests' own PostgreSQL connections call themselves, so that a test that cuts
# the bot's connections can spare them.
TEST_APPLICATION = "wallchart-test"


def probe_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for the test's own looks at a store: no pool, and on PostgreSQL named
    TEST_APPLICATION."""
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {"server_settings": {"application_name": TEST_APPLICATION}}
    return make_engine(url, poolclass=NullPool, **kwargs)


class Store:
    """Plain SQL on the bot's store from the test, one short connection per look."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        async def go() -> list[tuple[Any, ...]]:
            engine = probe_engine(self.url)
            try:
                async with engine.connect() as conn:
                    result = await conn.execute(text(sql), params)
                    return [tuple(r) for r in result] if result.returns_rows else []
            finally:
                await engine.dispose()

        return asyncio.run(go())

    def scalar(self, sql: str, **params: Any) -> Any:
        found = self.rows(sql, **params)
        return found[0][0] if found else None

    def execute(self, sql: str, **params: Any) -> None:
        async def go() -> None:
            engine = probe_engine(self.url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(text(sql), params)
            finally:
                await engine.dispose()

        asyncio.run(go())
