"""The website chat as a browser sees it: a visitor with its own cookie jar and sockets, and a chat served by
the real adapter, engine and dispatcher on 127.0.0.1 (shared by the webchat tests)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from bots.webchat.adapter import COOKIE, WebchatAdapter, WebchatSettings, conversation_of
from core.dispatch import Dispatcher
from core.pipeline import Engine


class Visitor:
    """A browser: its own cookie jar; each `connect()` is one tab's WebSocket."""

    def __init__(self, base: URL, headers: dict[str, str] | None = None) -> None:
        self.base = base
        self.headers = headers or {}
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.frames: list[dict[str, Any]] = []

    async def load_page(self) -> aiohttp.ClientResponse:
        async with self.session.get(self.base / "chat", headers=self.headers) as response:
            await response.read()
            return response

    @property
    def conversation(self) -> str:
        return conversation_of(self.session.cookie_jar.filter_cookies(self.base / "chat")[COOKIE].value)

    async def connect(self) -> list[dict[str, Any]]:
        """Open a socket and return the history it starts with."""
        self.ws = await self.session.ws_connect(self.base / "chat" / "ws", headers=self.headers)
        self.frames = []
        return (await self.next(lambda f: f["type"] == "history"))["messages"]

    async def send(self, frame: dict[str, Any] | str) -> None:
        assert self.ws is not None
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    async def say(self, text: str, *, client_id: str | None = None) -> str:
        client_id = client_id or uuid.uuid4().hex
        await self.send({"type": "message", "text": text, "id": client_id})
        return client_id

    async def next(self, probe: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """The first frame (already received or still to come) that matches ``probe``; it is consumed."""
        assert self.ws is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for index, frame in enumerate(self.frames):
                if probe(frame):
                    return self.frames.pop(index)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no matching frame; unmatched: {self.frames}")
            message = await self.ws.receive(timeout=remaining)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"socket ended: {message.type} {message.data} {message.extra}")
            self.frames.append(json.loads(message.data))

    async def reply(self, timeout: float = 10.0) -> dict[str, Any]:
        return await self.next(lambda f: f["type"] == "message" and f["from"] in ("bot", "agent"), timeout)

    async def error(self) -> dict[str, Any]:
        return await self.next(lambda f: f["type"] == "error")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.session.close()


class Chat:
    def __init__(self, server: TestServer, adapter: WebchatAdapter, dispatcher: Dispatcher) -> None:
        self.server, self.adapter, self.dispatcher = server, adapter, dispatcher
        self.visitors: list[Visitor] = []

    async def visitor(self, *, connect: bool = True, headers: dict[str, str] | None = None) -> Visitor:
        visitor = Visitor(self.server.make_url(""), headers)
        self.visitors.append(visitor)
        await visitor.load_page()
        if connect:
            await visitor.connect()
        return visitor


def make_chat_fixture(settings: WebchatSettings):  # type: ignore[no-untyped-def]
    async def fixture(engine: Engine, make_dispatcher: Callable[..., Dispatcher]) -> AsyncIterator[Chat]:
        adapter = WebchatAdapter(settings)
        app = web.Application()
        app.add_routes(adapter.web_routes())
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        await adapter.start(engine)
        dispatcher = make_dispatcher({"webchat": adapter})
        await dispatcher.start()
        chat = Chat(server, adapter, dispatcher)
        try:
            yield chat
        finally:
            for visitor in chat.visitors:
                await visitor.close()
            await adapter.stop()
            await dispatcher.stop()
            await server.close()

    return pytest_asyncio.fixture(fixture)
