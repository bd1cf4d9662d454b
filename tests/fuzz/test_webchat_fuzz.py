"""Fuzzing the website chat's socket with what a hostile page could send: any JSON, JSON nested past Python's
recursion limit, numbers Python refuses, every frame type with fields missing, extra or of the wrong type, huge
and odd strings (control characters, lone surrogates written as JSON escapes), binary frames; and last, maybe,
a protocol violation (a frame over the size limit, a text frame that is not UTF-8).

Through the real app (its middlewares) and a real WebSocket client. Each frame gets an error frame or is handled;
the socket stays open for the next good message, which is acknowledged; a protocol violation closes it with the
WebSocket close code for it (1009, 1007) and the visitor reconnects; nothing but JSON frames ever travels on the
socket (no HTTP error page). The store holds exactly the messages the server acknowledged, each handled and
answered (its reply queued), nothing else.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bots.webchat.adapter import COOKIE, WebchatAdapter, WebchatSettings, visitor_id
from bots.webchat.frames import frame_size_limit
from core.store import Store
from core.store.tables import Conversation, Identity, Message
from core.web.app import create_app
from tests.fuzz.json_junk import DEEP, HOSTILE, TEXT, Raw, dumps
from tests.web.inbox_helpers import web_context

LIMIT = 2000  # characters a visitor's message may have
SETTINGS = WebchatSettings(max_message_length=LIMIT, visitor_messages_per_minute=100_000,
                           new_visitors_per_address_per_minute=100_000)
MAX_FRAME = frame_size_limit(LIMIT)  # the socket's max_msg_size for that limit
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
SURROGATE = re.compile("[\ud800-\udfff]")
FRAME_TYPES = {"history", "ack", "message", "error"}
GOOD_IDS = (f"good{n}" for n in itertools.count())

TYPES = st.sampled_from(["message", "button", "history", "ack", "error", "", "MESSAGE", "message\x00"]) | HOSTILE
CLIENT_ID = st.sampled_from(["a1", "x" * 64, "x" * 65, "", "a b", "ü", "../1", "a1"]) | HOSTILE
WORDS = TEXT | st.sampled_from(["how do I reset my password?", "转人工", "hi\ud800there", "\x00", " \x00 ",
                                "x" * (LIMIT + 1), "蔡" * LIMIT]) | st.sampled_from(
    ['"\\ud800"', '"ok \\udfff\\ud800 then"', '"\\u0000"', '"a\\u0000b"']).map(Raw)
FIELDS = st.fixed_dictionaries({"type": TYPES}, optional={
    "text": WORDS | HOSTILE, "payload": WORDS | HOSTILE, "id": CLIENT_ID, "extra": HOSTILE, "quick_replies": HOSTILE})
# frames of the two kinds a visitor sends, right in type, anything in the rest (a customer's message, dirty)
SENDABLE = st.fixed_dictionaries({"type": st.just("message"), "text": WORDS},
                                 optional={"id": CLIENT_ID, "payload": HOSTILE, "extra": HOSTILE}) | \
    st.fixed_dictionaries({"type": st.just("button"), "payload": WORDS}, optional={"id": CLIENT_ID, "text": HOSTILE})
TEXT_FRAME = (SENDABLE.map(dumps) | FIELDS.map(dumps) | HOSTILE.map(dumps) | DEEP.map(lambda d: d.text())
              | TEXT.filter(lambda t: not SURROGATE.search(t))  # (a WebSocket text frame is UTF-8)
              | st.just('{"type": "message", "text": ' + "9" * 5000 + "}"))
FRAME = TEXT_FRAME | st.binary(max_size=64)
VIOLATION = st.sampled_from([None, None, "oversize", "not utf-8"])


class Tab:
    """One browser tab: the visitor's cookie and one socket; every frame it got is kept."""

    def __init__(self, session: aiohttp.ClientSession, url: Any) -> None:
        self.session, self.url = session, url
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.frames: list[dict[str, Any]] = []
        self.closed: int | None = None

    async def open(self) -> None:
        self.ws = await self.session.ws_connect(self.url / "chat" / "ws")
        self.closed = None
        await self.until(lambda f: f["type"] == "history")

    async def until(self, probe: Any, timeout: float = 10.0) -> dict[str, Any] | None:
        """Read frames up to the first that matches ``probe``; None when the server closed the socket first."""
        assert self.ws is not None
        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                self.closed = self.ws.close_code
                return None
            # only JSON text frames travel on the socket: never bytes, never an HTTP page inside the stream
            assert message.type == aiohttp.WSMsgType.TEXT, (message.type, message.data, message.extra)
            frame = json.loads(message.data)
            assert isinstance(frame, dict) and frame.get("type") in FRAME_TYPES, frame
            if frame["type"] == "error":
                assert isinstance(frame["error"], str) and isinstance(frame["code"], str), frame
                assert len(message.data) < 1000, "an error frame does not echo what it refuses"
            self.frames.append(frame)
            if probe(frame):
                return frame


class Chat:
    def __init__(self, server: TestServer, store: Store) -> None:
        self.server, self.store = server, store

    async def tab(self) -> tuple[Tab, str]:
        """A new visitor (their own cookie) with one open tab; and their conversation address."""
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        url = self.server.make_url("")
        async with session.get(url / "chat") as page:
            assert page.status == 200
        tab = Tab(session, url)
        await tab.open()
        token = session.cookie_jar.filter_cookies(url / "chat")[COOKIE].value
        return tab, visitor_id(token)


@pytest_asyncio.fixture
async def chat(engine, store, inbox, bus, kb) -> AsyncIterator[Chat]:  # type: ignore[no-untyped-def]
    """The website chat mounted on the whole web app (its error middleware, its body limit)."""
    adapter = WebchatAdapter(SETTINGS)
    app = create_app(web_context(store, engine, inbox, bus, kb), extra_routes=adapter.web_routes())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    await adapter.start(engine)
    try:
        yield Chat(server, store)
    finally:
        await adapter.stop()
        await server.close()


async def stored(store: Store, visitor: str) -> dict[str, Message]:
    rows = await store.all(select(Message).join(Conversation, Message.conversation_id == Conversation.id).where(
        Message.channel == "webchat", Conversation.address == f"web:{visitor}"))
    return {row.platform_id or "": row for row in rows}


async def _send(tab: Tab, frame: str | bytes) -> None:
    assert tab.ws is not None
    if isinstance(frame, bytes):
        await tab.ws.send_bytes(frame)
    else:
        await tab.ws.send_str(frame)


@FUZZ
@given(frames=st.lists(FRAME, min_size=1, max_size=6), violation=VIOLATION)
async def test_any_frames_leave_the_socket_usable_and_store_only_acknowledged_messages(
        chat: Chat, frames: list[str | bytes], violation: str | None) -> None:
    tab, visitor = await chat.tab()
    try:
        for frame in frames:
            if len(frame if isinstance(frame, bytes) else frame.encode()) > MAX_FRAME:
                violation = "oversize"  # a huge string made this one too big: it is the violation, and the last
                break
            await _send(tab, frame)
        if violation == "oversize":
            await tab.ws.send_str('{"type": "message", "text": "' + "x" * MAX_FRAME + '"}')  # type: ignore[union-attr]
        elif violation == "not utf-8":
            await tab.ws.send_frame(b'{"type": "message", "text": "\xff\xfe"}', aiohttp.WSMsgType.TEXT)  # type: ignore[union-attr]
        good = next(GOOD_IDS)
        await tab.ws.send_str(json.dumps({"type": "message", "text": "is there a fee to withdraw?", "id": good}))  # type: ignore[union-attr]
        ack = await tab.until(lambda f: f["type"] == "ack" and f["id"] == good)
        if violation is None:
            assert ack is not None, f"the socket closed ({tab.closed}) after frames that break no protocol rule"
        else:  # closed with the close code that names the violation; the page reconnects and sends again
            assert ack is None and tab.closed == {"oversize": 1009, "not utf-8": 1007}[violation]
            await tab.open()
            await tab.ws.send_str(json.dumps({"type": "message", "text": "is there a fee?", "id": good}))  # type: ignore[union-attr]
            assert await tab.until(lambda f: f["type"] == "ack" and f["id"] == good) is not None
        acked = {f"{visitor}:{f['id']}" for f in tab.frames if f["type"] == "ack"}
        rows = await stored(chat.store, visitor)
        inbound = {pid: row for pid, row in rows.items() if row.direction == "in"}
        event(f"stored {len(inbound)} message(s)")
        assert set(inbound) == acked  # every acknowledged message is stored, and nothing else
        for row in inbound.values():
            assert row.handled_at is not None and row.decision is not None  # triaged, not half-stored
            assert "\x00" not in row.text and not SURROGATE.search(row.text) and 0 < len(row.text) <= LIMIT
        assert any(row.direction == "out" for row in rows.values())  # and answered: a reply is queued
    finally:
        if tab.ws is not None:
            await tab.ws.close()
        await tab.session.close()


async def test_lone_surrogates_and_nuls_are_stored_readable_and_acknowledged(chat: Chat) -> None:
    tab, visitor = await chat.tab()
    try:
        await _send(tab, '{"type": "message", "id": "s1", "text": "my card \\ud83d is \\u0000blocked \\udfff"}')
        assert await tab.until(lambda f: f["type"] == "ack") == {"type": "ack", "id": "s1"}
        echo = await tab.until(lambda f: f["type"] == "message" and f["from"] == "customer")
        assert echo is not None and echo["text"] == "my card \ufffd is blocked \ufffd"
        [row] = [r for r in (await stored(chat.store, visitor)).values() if r.direction == "in"]
        assert row.text == "my card \ufffd is blocked \ufffd"
    finally:
        await tab.session.close()


async def test_a_frame_type_nested_deep_is_refused_in_a_short_error(chat: Chat) -> None:
    tab, _ = await chat.tab()
    try:
        await _send(tab, '{"type": ' + "[" * 900 + "]" * 900 + ', "id": "d1"}')
        error = await tab.until(lambda f: f["type"] == "error")
        assert error == {"type": "error", "error": "unknown frame type of JSON type list; use 'message' or 'button'",
                         "code": "bad_frame", "id": "d1"}
        await _send(tab, json.dumps({"type": "message", "text": "hello", "id": "d2"}))
        assert await tab.until(lambda f: f["type"] == "ack") == {"type": "ack", "id": "d2"}
    finally:
        await tab.session.close()


async def test_an_overlong_language_header_is_not_kept_as_the_visitors_language(chat: Chat, store: Store) -> None:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    url = chat.server.make_url("")
    try:
        async with session.get(url / "chat") as page:
            assert page.status == 200
        ws = await session.ws_connect(url / "chat" / "ws", headers={"Accept-Language": "x-" + "a" * 4000 + ",en"})
        await ws.receive_json()  # the history
        await ws.send_json({"type": "message", "text": "hello", "id": "l1"})
        while (frame := await ws.receive_json(timeout=10))["type"] != "ack":
            assert frame["type"] != "error", frame
        languages = {i.language for i in await store.all(select(Identity).where(Identity.channel == "webchat"))}
        assert languages and all(lang is None or len(lang) <= 16 for lang in languages)
    finally:
        await session.close()
