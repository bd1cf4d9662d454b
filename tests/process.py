"""The real `supportbot run` in a subprocess, for tests about processes: restarts, SIGKILL, readiness.

Its stdout and stderr go to files in the test's folder (a pipe nobody reads would block a chatty
child), the database is a SQLite file there unless the config says otherwise, and a killed process
can be started again on the same folder, port and database, as an operator's supervisor would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from core.store import Store

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without any real channel credentials, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_", "X_"))}
    env.pop("SUPPORTBOT_DB_URL", None)
    env["PYTHONPATH"] = str(REPO)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **(extra or {})}


class SupportbotProcess:
    """One deployment: a folder with channels.yaml and the database, served by `supportbot run` on one port.

    ``config_yaml`` may use ``{db_url}`` and ``{folder}``; without a ``database_url`` line the SQLite file
    ``folder/supportbot.db`` is used.
    """

    def __init__(self, folder: Path, config_yaml: str, env: dict[str, str] | None = None,
                 port: int | None = None, role: str = "all") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db_url = f"sqlite+aiosqlite:///{self.folder}/supportbot.db"
        text = config_yaml.replace("{db_url}", self.db_url).replace("{folder}", str(self.folder))
        if "database_url:" not in text:
            text = f"database_url: {self.db_url}\n{text}"
        self.config = self.folder / "channels.yaml"
        self.config.write_text(text)
        self.env = child_env(env)
        self.port = port or free_port()
        self.role = role  # `--role` (core/roles.py): several processes share one PostgreSQL database
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    # ---- lifecycle ------------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> None:
        """Start (or start again) and block until it says it runs; raise with its stderr if it exits."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.runs += 1
        out = (self.folder / f"stdout.{self.runs}.log").open("wb")
        err = (self.folder / f"stderr.{self.runs}.log").open("wb")
        with out, err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "core.cli", "run", "--config", str(self.config), "--port", str(self.port),
                 *(["--role", self.role] if self.role != "all" else [])],
                cwd=self.folder, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Press Ctrl+C" in self.stdout():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"supportbot run exited with {self.process.returncode}:\n{self.stderr()}")
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(f"supportbot run did not start in {timeout}s:\n{self.stderr()}")

    async def astart(self, timeout: float = 60) -> None:
        """`start` without blocking the test's event loop (where the fake platforms run)."""
        await asyncio.to_thread(self.start, timeout)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM and wait: the clean stop an operator's supervisor does."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return int(self.process.returncode)

    async def aterminate(self, timeout: float = 60) -> int:
        return await asyncio.to_thread(self.terminate, timeout)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # ---- what it said ---------------------------------------------------------------------------
    def stdout(self, run: int | None = None) -> str:
        return self._read("stdout", run)

    def stderr(self, run: int | None = None) -> str:
        return self._read("stderr", run)

    def _read(self, kind: str, run: int | None) -> str:
        path = self.folder / f"{kind}.{run or self.runs}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ---- over HTTP ------------------------------------------------------------------------------
    async def readyz(self) -> tuple[int, dict[str, Any]]:
        return await self._status("/readyz")

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        return await self._status("/healthz")

    async def _status(self, path: str) -> tuple[int, dict[str, Any]]:
        async with aiohttp.ClientSession() as session, session.get(self.url + path) as response:
            return response.status, await response.json(content_type=None)

    async def wait_ready(self, timeout: float = 30) -> dict[str, Any]:
        """Poll /readyz until it answers 200 (every enabled channel receives); its body."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                status, body = await self.readyz()
            except aiohttp.ClientError as exc:
                last = exc
            else:
                if status == 200:
                    return body
                last = body
            await asyncio.sleep(0.1)
        raise TimeoutError(f"not ready after {timeout}s: {last}\n{self.stderr()[-3000:]}")

    async def store(self) -> Store:
        """A Store on the same database, for assertions (close it)."""
        return await Store.open(self.db_url, migrate=False)

    def __enter__(self) -> SupportbotProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


async def eventually(check: Any, *, timeout: float = 20, interval: float = 0.1, what: str = "condition") -> Any:
    """Await ``check()`` (sync or async) until it returns something truthy; its value, or TimeoutError."""
    deadline = time.monotonic() + timeout
    value: Any = None
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(interval)
    raise TimeoutError(f"{what} not reached in {timeout}s (last: {value!r})")
