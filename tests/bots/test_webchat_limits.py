"""The website chat under abuse and at start-up: per-network limits on new visitors and open chats, and no
error window while the server starts."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bots.webchat.adapter import WebchatAdapter, WebchatSettings
from core.pipeline import Engine
from core.store import Store
from core.store.tables import Customer
from tests.bots.webchat_helpers import Chat, make_chat_fixture

limited = make_chat_fixture(WebchatSettings(new_visitors_per_address_per_minute=5, sockets_per_address=8))


async def _open(chat: Chat, cookies: aiohttp.CookieJar | None = None) -> int:
    """One socket without the page (a script): its status, 101 when accepted."""
    session = aiohttp.ClientSession(cookie_jar=cookies or aiohttp.DummyCookieJar())
    try:
        ws = await session.ws_connect(chat.server.make_url("/chat/ws"))
    except aiohttp.WSServerHandshakeError as exc:
        await session.close()
        return exc.status
    chat.sockets.append((session, ws))
    return 101


async def test_one_network_cannot_mint_customers_by_the_hundred(limited: Chat, store: Store) -> None:
    limited.sockets = []
    try:
        statuses = [await _open(limited) for _ in range(12)]
        assert statuses[:5] == [101] * 5 and set(statuses[5:]) == {429}  # new visitors per minute from one address
        for _, ws in limited.sockets:
            await ws.send_json({"type": "message", "text": "hello", "id": "h1"})
        await asyncio.sleep(0.5)
        assert await store.scalar(select(func.count()).select_from(Customer)) <= 5
    finally:
        for session, ws in limited.sockets:
            await ws.close()
            await session.close()


async def test_a_visitor_who_reconnects_before_writing_is_not_new_again(limited: Chat) -> None:
    """A phone's chat drops and comes back, a page is reloaded: one visitor, counted once against the address's
    new visitors (an outside probe was refused at the 16th reconnect of one cookie, for a minute and more)."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as page:  # the page mints the visitor's cookie
        async with page.get(limited.server.make_url("/chat")) as loaded:
            assert loaded.status == 200
    limited.sockets = []
    try:
        for _ in range(12):  # more than the 5 new visitors a minute this address may bring
            assert await _open(limited, jar) == 101
            session, ws = limited.sockets.pop()
            await ws.close()
            await session.close()
        others = [await _open(limited) for _ in range(5)]  # four more new visitors, then the limit
        assert others[:4] == [101] * 4 and others[4] == 429
    finally:
        for session, ws in limited.sockets:
            await ws.close()
            await session.close()


async def test_a_returning_visitor_is_welcome_and_open_chats_are_capped(limited: Chat) -> None:
    known = await limited.visitor()  # talks, so the store knows them
    await known.say("hello")
    await known.reply()
    for _ in range(4):
        await limited.visitor(connect=False)  # pages loaded: cookies minted, no socket yet
    limited.sockets = []
    try:
        for _ in range(6):  # the known visitor's other tabs: never "new", but each is an open chat
            assert await _open(limited, known.session.cookie_jar) == 101
        assert await _open(limited, known.session.cookie_jar) == 101  # 8 open: the first tab + 7
        assert await _open(limited, known.session.cookie_jar) == 429  # one network's open chats are capped
    finally:
        for session, ws in limited.sockets:
            await ws.close()
            await session.close()  # the cookie jar stays the visitor's


async def test_a_visitor_arriving_while_the_server_starts_waits_instead_of_failing(engine: Engine) -> None:
    adapter = WebchatAdapter(WebchatSettings())
    app = web.Application()
    app.add_routes(adapter.web_routes())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()  # listening, the chat not started yet (the moment after the port opens)
    try:
        async with aiohttp.ClientSession() as session:
            connecting = asyncio.ensure_future(session.ws_connect(server.make_url("/chat/ws")))
            await asyncio.sleep(0.2)
            assert not connecting.done()
            await adapter.start(engine)
            ws = await connecting
            assert (await ws.receive_json(timeout=5))["type"] == "history"
            await ws.close()
        await adapter.stop()
        async with aiohttp.ClientSession() as session, session.get(server.make_url("/chat")) as page:
            assert page.status == 503  # stopped: refused at once, not kept waiting
    finally:
        await server.close()
