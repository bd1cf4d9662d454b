"""Website chat harness: the real adapter on a real aiohttp server, and a customer's browser as a real client.

There is no remote platform: the "platform" is the visitor's WebSocket. The visitor runs in its own
thread with its own event loop, like a browser in another process, so ``delivered()`` can read what
the server has already pushed without awaiting (the contract suite calls it synchronously).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from bots.base import Inbound
from bots.webchat.adapter import COOKIE, WebchatAdapter, WebchatSettings, conversation_of
from tests.contract.harness import Delivered

T = TypeVar("T")


class ThreadVisitor:
    """One browser: a cookie jar, GET /chat, one WebSocket; every frame it receives is kept in order."""

    def __init__(self, base_url: str, on_frame: Callable[[ThreadVisitor, dict[str, Any]], None]) -> None:
        self.base_url = base_url
        self.on_frame = on_frame
        self.frames: list[dict[str, Any]] = []
        self.conversation = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="webchat-visitor", daemon=True)
        self._thread.start()
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None

    async def _call(self, coro: Awaitable[T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))  # type: ignore[arg-type]

    async def open(self) -> None:
        await self._call(self._open())

    async def _open(self) -> None:
        self._session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with self._session.get(self.base_url + "/chat") as page:
            assert page.status == 200
        token = self._session.cookie_jar.filter_cookies(URL(self.base_url + "/chat"))[COOKIE].value
        self.conversation = conversation_of(token)
        self._ws = await self._session.ws_connect(self.base_url + "/chat/ws")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                frame = json.loads(message.data)
                self.frames.append(frame)
                self.on_frame(self, frame)

    async def send(self, frame: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._call(self._ws.send_str(json.dumps(frame)))

    async def wait_for(self, probe: Callable[[dict[str, Any]], bool], *, start: int = 0,
                       timeout: float = 10.0) -> dict[str, Any]:
        """The first frame from index ``start`` on that matches ``probe``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for frame in self.frames[start:]:
                if probe(frame):
                    return frame
            await asyncio.sleep(0.01)
        raise TimeoutError(f"no matching frame; got {self.frames[-5:]}")

    def settle(self, quiet: float = 0.05, limit: float = 2.0) -> None:
        """Block until no frame arrived for ``quiet`` seconds (what the server wrote is already on its way)."""
        deadline = time.monotonic() + limit
        seen = -1
        while len(self.frames) != seen and time.monotonic() < deadline:
            seen = len(self.frames)
            time.sleep(quiet)

    async def close(self) -> None:
        async def shut() -> None:
            if self._ws is not None:
                await self._ws.close()
            if self._reader is not None:
                await asyncio.gather(self._reader, return_exceptions=True)
            if self._session is not None:
                await self._session.close()

        try:
            await self._call(shut())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()


class ChatPage:
    """What core/web/static/chat.js does, in Python, on the test's own loop: one browser tab.

    Every message stays pending until the server acks it; on each (re)connect the history comes
    first, stored messages in it are no longer pending, and the rest is sent again in order with the
    same ids; an error with a retry code ("unavailable", "rate_limited") sends the pending ones again
    a moment later. A dropped socket is reopened with backoff, as the page does.
    """

    RETRY_CODES = frozenset({"unavailable", "rate_limited"})

    def __init__(self, base_url: str, *, retry_after: float = 0.5) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry_after = retry_after
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.pending: dict[str, str] = {}  # client id -> text, in the order typed
        self.acks: list[str] = []  # every ack received (a resend may be acked again)
        # shown as sent: acked, echoed, or found stored in the history after a reconnect (a kill between the
        # store and the ack leaves no ack, and the page does not send it again)
        self.confirmed: set[str] = set()
        self.replies: dict[str, dict[str, Any]] = {}  # bot/agent messages by frame id (live or from history)
        self.errors: list[dict[str, Any]] = []
        self.conversation = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self._retry: asyncio.Task[None] | None = None
        self._closing = False

    async def open(self) -> None:
        """Load the page (the visitor cookie), then keep a socket open until `close`."""
        async with self.session.get(self.base_url + "/chat") as page:
            assert page.status == 200
        token = self.session.cookie_jar.filter_cookies(URL(self.base_url + "/chat"))[COOKIE].value
        self.conversation = conversation_of(token)
        self._task = asyncio.create_task(self._run())

    async def say(self, text: str) -> str:
        client_id = uuid.uuid4().hex
        self.pending[client_id] = text
        await self._transmit(client_id)
        return client_id

    async def _transmit(self, client_id: str) -> None:
        ws = self._ws
        if ws is None or ws.closed or client_id not in self.pending:
            return  # sent after the next connect
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(json.dumps({"type": "message", "text": self.pending[client_id], "id": client_id}))

    async def _run(self) -> None:
        backoff = 0.1
        while not self._closing:
            try:
                self._ws = await self.session.ws_connect(self.base_url + "/chat/ws")
            except (aiohttp.ClientError, OSError):
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.1
            try:
                async for message in self._ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        await self._on_frame(json.loads(message.data))
            except (aiohttp.ClientError, ConnectionError):
                pass
            self._ws = None

    async def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "history":
            for item in frame["messages"]:
                if item["from"] == "customer":
                    self.pending.pop(item["id"], None)
                    self.confirmed.add(item["id"])
                else:
                    self.replies[item["id"]] = item
            for client_id in list(self.pending):
                await self._transmit(client_id)
        elif kind == "ack":
            self.acks.append(frame["id"])
            self.confirmed.add(frame["id"])
            self.pending.pop(frame["id"], None)
        elif kind == "message" and frame.get("from") in ("bot", "agent"):
            self.replies[frame["id"]] = frame
        elif kind == "message" and frame.get("from") == "customer":  # the echo of a stored message
            self.confirmed.add(frame["id"])
            self.pending.pop(frame["id"], None)
        elif kind == "error":
            self.errors.append(frame)
            if frame.get("code") in self.RETRY_CODES:  # one timer for all, as the page's clearTimeout/setTimeout
                if self._retry is not None:
                    self._retry.cancel()
                self._retry = asyncio.create_task(self._resend_later())

    async def _resend_later(self) -> None:
        await asyncio.sleep(self.retry_after)
        for client_id in list(self.pending):
            await self._transmit(client_id)

    def drop(self) -> None:
        """The network drops the connection (no closing handshake); the page notices and reconnects."""
        assert self._ws is not None
        self._ws.get_extra_info("socket").shutdown(socket.SHUT_RDWR)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        for task in (self._task, self._retry):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.session.close()


class WebchatHarness:
    channel = "webchat"

    def __init__(self, inbound: Inbound, settings: WebchatSettings | None = None) -> None:
        self.inbound = inbound
        self.adapter = WebchatAdapter(settings or WebchatSettings())
        self.server: TestServer | None = None
        self.visitors: dict[str, ThreadVisitor] = {}
        self._delivered: list[Delivered] = []
        self._lock = threading.Lock()
        self._last: tuple[str, dict[str, Any]] | None = None

    async def __aenter__(self) -> WebchatHarness:
        app = web.Application()
        app.add_routes(self.adapter.web_routes())
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        await self.adapter.start(self.inbound)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for visitor in self.visitors.values():
            await visitor.close()
        await self.adapter.stop()
        if self.server is not None:
            await self.server.close()

    def _record(self, visitor: ThreadVisitor, frame: dict[str, Any]) -> None:
        if frame.get("type") == "message" and frame.get("from") in ("bot", "agent"):
            with self._lock:
                self._delivered.append(Delivered(visitor.conversation, frame["text"], frame["id"]))

    async def visitor(self, user_id: str) -> ThreadVisitor:
        if user_id not in self.visitors:
            assert self.server is not None
            visitor = ThreadVisitor(str(self.server.make_url("")).rstrip("/"), self._record)
            await visitor.open()
            await visitor.wait_for(lambda f: f["type"] == "history")
            self.visitors[user_id] = visitor
        return self.visitors[user_id]

    async def customer_dm(self, text: str, *, user_id: str = "5001") -> str:
        visitor = await self.visitor(user_id)
        frame = {"type": "message", "text": text, "id": uuid.uuid4().hex}
        await self._send(user_id, frame)
        return visitor.conversation

    async def _send(self, user_id: str, frame: dict[str, Any]) -> None:
        visitor = self.visitors[user_id]
        before = len(visitor.frames)
        await visitor.send(frame)
        # handed over: the server acks the visitor's message once the engine has stored it
        await visitor.wait_for(lambda f: f.get("type") == "ack" and f.get("id") == frame["id"], start=before)
        self._last = (user_id, frame)

    async def redeliver_last(self) -> None:
        assert self._last is not None
        await self._send(*self._last)

    def delivered(self) -> list[Delivered]:
        for visitor in self.visitors.values():
            visitor.settle()
        with self._lock:
            return list(self._delivered)

    def fail_next_sends(self, status: int, *, count: int = 1, retry_after: float | None = None) -> None:
        raise NotImplementedError("the website chat has no remote platform that could fail a send")


def make_harness(inbound: Inbound) -> WebchatHarness:
    return WebchatHarness(inbound)
