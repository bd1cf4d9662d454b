"""`supportbot run` as an operator starts it: a real process, a real port, SIGTERM, and what survives a restart."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest
from sqlalchemy import select

from core.accounts import agent_count, api_token_agent, create_session, session_agent, verify_password
from core.cli import main
from core.knowledge import load_knowledge_base
from core.models import Author, InboundMessage
from core.pipeline import Engine
from core.store import Store
from core.store.records import ensure_conversation, ensure_customer, insert_inbound
from core.store.tables import Message, Outbox
from core.triage import Triage

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path, extra: str = "") -> Path:
    path = folder / "channels.yaml"
    path.write_text(f"""\
brand: OKPay
database_url: sqlite+aiosqlite:///{folder}/supportbot.db
dispatch:
  poll_interval_seconds: 0.2
channels:
  webchat:
    enabled: true
{extra}""")
    return path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_", "X_"))}
    env.pop("SUPPORTBOT_DB_URL", None)
    env["PYTHONPATH"] = str(REPO)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


class Server:
    """`supportbot run` in a subprocess; stdout is read line by line."""

    def __init__(self, config: Path, port: int, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "run", "--config", str(config), "--port", str(port)],
            cwd=config.parent, env={**_env(), **(env or {})}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.url = f"http://127.0.0.1:{port}"

    def wait_started(self, timeout: float = 60) -> None:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"exited early: {self.process.wait()} {self.process.stderr.read()}")  # type: ignore[union-attr]
            self.lines.append(line)
            if line.startswith("Press Ctrl+C"):
                return
        raise TimeoutError("supportbot run did not start")

    def terminate(self, timeout: float = 60) -> tuple[int, str, str]:
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, "".join(self.lines) + out, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=30)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.kill()


def start(servers: list[Server], config: Path, env: dict[str, str] | None = None) -> Server:
    server = Server(config, free_port(), env)
    servers.append(server)
    server.wait_started(timeout=120)
    return server


async def _healthy(url: str) -> dict[str, str]:
    async with aiohttp.ClientSession() as session, session.get(url + "/healthz") as response:
        assert response.status == 200
        return await response.json()


async def _chat(url: str, text: str) -> str:
    """A visitor asks over the real WebSocket; returns the bot's answer."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(url + "/chat") as page:
            assert page.status == 200
        async with session.ws_connect(url + "/chat/ws") as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "history"
            await ws.send_str(json.dumps({"type": "message", "text": text, "id": "q1"}))
            while True:
                frame = await ws.receive_json(timeout=10)
                if frame.get("from") == "bot":
                    return str(frame["text"])


async def _queue_telegram_answer(db_url: str) -> int:
    """A Telegram customer's question answered while Telegram is not running: the reply waits in the outbox."""
    store = await Store.open(db_url)
    try:
        kb = load_knowledge_base()
        outcome = await Engine(store, Triage(kb), kb).handle_message(InboundMessage(
            "telegram", "tg-1", "9001", Author("9001", "Mei"), "How can I contact customer support?"))
        assert outcome.action == "answer" and len(outcome.outbox_ids) == 1
        return outcome.outbox_ids[0]
    finally:
        await store.close()


async def _store_unhandled(db_url: str) -> int:
    """A webchat message stored but never triaged: what a crash between the two steps leaves behind."""
    store = await Store.open(db_url)
    try:
        message = InboundMessage("webchat", "crash:1", "web:crashed", Author("crashed"), "How can I contact support?")
        async with store.transaction() as session:
            customer = await ensure_customer(session, "webchat", message.author)
            conversation = await ensure_conversation(session, "webchat", "web:crashed", customer, public=False)
            row = await insert_inbound(session, conversation, message)
            assert row is not None
            return row.id
    finally:
        await store.close()


async def _outbox_status(db_url: str, outbox_id: int) -> str:
    store = await Store.open(db_url, migrate=False)
    try:
        return str(await store.scalar(select(Outbox.status).where(Outbox.id == outbox_id)))
    finally:
        await store.close()


async def test_run_serves_creates_the_first_admin_once_and_stops_cleanly(tmp_path: Path,
                                                                         servers: list[Server]) -> None:
    config = write_config(tmp_path)
    db_url = f"sqlite+aiosqlite:///{tmp_path}/supportbot.db"
    kb = load_knowledge_base()

    first = start(servers, config)
    assert await _healthy(first.url) == {"status": "ok"}
    assert await _chat(first.url, "How can I contact customer support?") == kb.answer("contact", "en")
    outbox_id = await _queue_telegram_answer(db_url)
    async with aiohttp.ClientSession() as session, session.ws_connect(first.url + "/chat/ws") as tab:
        assert (await tab.receive_json(timeout=10))["type"] == "history"
        closing = asyncio.ensure_future(tab.receive(timeout=30))  # the tab answers the close, like a browser
        began = time.monotonic()
        code, out, err = await asyncio.to_thread(first.terminate)  # an open chat tab does not hold the stop
        assert (await closing).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert code == 0, err
    assert time.monotonic() - began < 8
    assert f"inbox:         {first.url}/" in out and f"website chat:  {first.url}/chat" in out
    secret = tmp_path / "data" / "first-admin-password.txt"  # the output (a container's log) never holds it
    assert str(secret) in out or "data/first-admin-password.txt" in out
    assert secret.stat().st_mode & 0o777 == 0o600
    written = [tmp_path / "supportbot.db", tmp_path / "data", *(tmp_path / "data").rglob("*")]
    assert [p for p in written if p.stat().st_mode & 0o077] == []  # customers' words: the server's account only
    password = secret.read_text().split("password: ", 1)[1].split()[0]
    assert password not in out + err
    assert out.rstrip().endswith("stopped")
    assert await _outbox_status(db_url, outbox_id) == "queued"  # not lost, not sent by a channel that is off

    store = await Store.open(db_url, migrate=False)
    try:
        assert await verify_password(store, "admin", password) is not None
    finally:
        await store.close()

    unhandled = await _store_unhandled(db_url)
    second = start(servers, config)
    await _healthy(second.url)
    code, out, err = second.terminate()
    assert code == 0, err
    assert "password:" not in out and "First start" not in out  # printed once, on the first start only
    store = await Store.open(db_url, migrate=False)
    try:
        row = await store.scalar(select(Message).where(Message.id == unhandled))
        assert row.handled_at is not None and row.decision["faq_id"] == "contact"  # recovered on start
        assert await store.scalar(select(Outbox.status).where(Outbox.id == outbox_id)) == "queued"
    finally:
        await store.close()


async def test_a_channel_that_cannot_start_is_reported_and_the_rest_keep_running(
        tmp_path: Path, servers: list[Server]) -> None:
    closed = free_port()  # nothing listens there: Telegram's API is "down"
    config = write_config(tmp_path, f"""\
  telegram:
    enabled: true
    token: ${{TELEGRAM_BOT_TOKEN}}
    api_base_url: http://127.0.0.1:{closed}
""")
    server = start(servers, config, {"TELEGRAM_BOT_TOKEN": "7012345678:AAE-do-not-print-me"})
    assert "channels:      webchat\n" in "".join(server.lines)
    assert await _chat(server.url, "How can I contact customer support?")
    async with aiohttp.ClientSession() as session, session.get(server.url + "/readyz") as response:
        assert response.status == 503
        ready = await response.json()
    assert ready["not_receiving"] == ["telegram"] and ready["channels"]["webchat"]["state"] == "receiving"
    assert ready["channels"]["telegram"]["state"] in ("retrying", "starting")
    await asyncio.sleep(2.5)  # the first retries (1 s, 2 s) happen and fail the same way
    code, _, err = server.terminate()
    assert code == 0
    assert "channel telegram did not start" in err and "started again with backoff" in err
    assert "channel telegram is not receiving" in err and "starting it again in" in err
    assert "AAE-do-not-print-me" not in err


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
         stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _in_store(db_url: str, use: Callable[[Store], Awaitable[T]]) -> T:
    """Run ``use`` on the database the CLI just changed, as the web process would see it (its own store)."""
    async def run() -> T:
        store = await Store.open(db_url, migrate=False)
        try:
            return await use(store)
        finally:
            await store.close()

    return asyncio.run(run())


async def _sign_in(store: Store, name: str, password: str) -> str:
    """What a browser sign-in does: check the password, open a session; returns the cookie's secret."""
    agent_id = await verify_password(store, name, password)
    assert agent_id is not None, f"{name} can sign in"
    return await create_session(store, agent_id)


def test_user_add_token_create_and_db_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """These commands start no channel: an enabled channel's missing credentials are not their business."""
    monkeypatch.delenv("SUPPORTBOT_DB_URL", raising=False)
    monkeypatch.delenv("DISCORD_BOT_TOKEN", raising=False)
    config = str(write_config(tmp_path, "  discord:\n    enabled: true\n    token: ${DISCORD_BOT_TOKEN}\n"))
    code, _, err = _cli(["check-config", config], monkeypatch, capsys)
    assert code == 2 and "channels.discord" in err and "token is required" in err  # but a check still says so
    db_url = f"sqlite+aiosqlite:///{tmp_path}/supportbot.db"
    code, out, _ = _cli(["db", "upgrade", "--config", config], monkeypatch, capsys)
    assert code == 0 and "newest schema" in out

    code, out, err = _cli(["user", "add", "alice", "--role", "agent", "--display-name", "Alice", "--config", config],
                          monkeypatch, capsys, "correct horse battery\n")
    assert code == 0, err
    assert "created agent 'alice'" in out and "correct horse" not in out + err
    code, _, err = _cli(["user", "add", "alice", "--config", config], monkeypatch, capsys, "another password\n")
    assert code == 1 and "already exists" in err
    code, _, err = _cli(["user", "add", "bob", "--config", config], monkeypatch, capsys, "short\n")
    assert code == 1 and "8 characters" in err
    code, _, err = _cli(["user", "add", "carol", "--config", config], monkeypatch, capsys, "")
    assert code == 1 and "no password" in err and "invalid configuration" not in err

    code, out, err = _cli(["token", "create", "crm-sync", "--agent", "alice", "--config", config], monkeypatch, capsys)
    assert code == 0, err
    token = out.strip()
    assert "shown only this once" in err and token.count("\n") == 0
    code, _, err = _cli(["token", "create", "x", "--agent", "nobody", "--config", config], monkeypatch, capsys)
    assert code == 1 and "no agent named 'nobody'" in err and "invalid configuration" not in err

    async def check(store: Store) -> str:
        alice = await verify_password(store, "alice", "correct horse battery")
        assert alice is not None
        assert await verify_password(store, "alice", "wrong password") is None
        valid, agent = await api_token_agent(store, token)
        assert valid and agent is not None and agent.id == alice
        cookie = await _sign_in(store, "alice", "correct horse battery")
        assert await session_agent(store, cookie) is not None
        return cookie

    cookie = _in_store(db_url, check)

    code, out, err = _cli(["user", "reset-password", "alice", "--config", config], monkeypatch, capsys,
                          "a brand new secret\n")
    assert code == 0 and "sessions have ended" in out and "brand new" not in out + err
    code, _, err = _cli(["user", "reset-password", "zed", "--config", config], monkeypatch, capsys, "whatever12\n")
    assert code == 1 and "no agent named 'zed'" in err

    async def reset(store: Store) -> None:
        assert await verify_password(store, "alice", "correct horse battery") is None
        assert await verify_password(store, "alice", "a brand new secret") is not None
        # "ends that agent's sessions": whoever held the old cookie (say, whoever learnt the old password) is out
        assert await session_agent(store, cookie) is None

    _in_store(db_url, reset)


def test_user_disable_stops_sign_in_and_ends_sessions_and_enable_undoes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """README: `user disable NAME` stops an agent from signing in and ends their sessions; `user enable` undoes it."""
    monkeypatch.delenv("SUPPORTBOT_DB_URL", raising=False)
    config = str(write_config(tmp_path))
    db_url = f"sqlite+aiosqlite:///{tmp_path}/supportbot.db"
    password = "correct horse battery"
    code, _, err = _cli(["user", "add", "dana", "--config", config], monkeypatch, capsys, password + "\n")
    assert code == 0, err
    cookie = _in_store(db_url, lambda store: _sign_in(store, "dana", password))

    code, out, err = _cli(["user", "disable", "dana", "--config", config], monkeypatch, capsys)
    assert code == 0 and "'dana' disabled" in out, err
    assert _in_store(db_url, lambda store: verify_password(store, "dana", password)) is None
    assert _in_store(db_url, lambda store: session_agent(store, cookie)) is None

    code, out, err = _cli(["user", "enable", "dana", "--config", config], monkeypatch, capsys)
    assert code == 0 and "'dana' enabled" in out, err
    assert _in_store(db_url, lambda store: session_agent(store, cookie)) is None  # ended, not merely suspended
    fresh = _in_store(db_url, lambda store: _sign_in(store, "dana", password))
    assert _in_store(db_url, lambda store: session_agent(store, fresh)) is not None

    for command in ("disable", "enable"):
        code, _, err = _cli(["user", command, "zed", "--config", config], monkeypatch, capsys)
        assert code == 1 and "no agent named 'zed'" in err


async def test_a_busy_port_is_a_clear_error_and_the_first_password_is_not_spent(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "core.cli", "run", "--config", str(config), "--port", str(port)],
            cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1 and "invalid configuration" not in result.stderr  # not a config problem
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/supportbot.db", migrate=False)
    try:
        assert await agent_count(store) == 0  # the next successful start still creates and prints the admin
    finally:
        await store.close()


async def test_a_host_that_is_not_ours_is_named_in_the_error(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "core.cli", "run", "--config", str(config), "--host", "256.1.1.1"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1 and "invalid configuration" not in result.stderr
    assert "'256.1.1.1' is not a host name or an address of this machine" in result.stderr
    assert "--host" in result.stderr
