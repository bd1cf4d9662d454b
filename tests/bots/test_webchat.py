"""The website chat as a visitor uses it: real aiohttp server and WebSocket client, real engine and dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select, text

from bots.webchat.adapter import COOKIE, WebchatAdapter, WebchatSettings
from core import agent_files
from core.dispatch import Dispatcher
from core.inbox import Inbox
from core.knowledge import KnowledgeBase
from core.pipeline import Engine
from core.store import Store
from core.store.tables import Message, Outbox, Ticket
from core.web.app import create_app
from tests.bots.webchat_helpers import Chat, Visitor, make_chat_fixture
from tests.contract.harness_webchat import ChatPage
from tests.web.inbox_helpers import web_context

chat = make_chat_fixture(WebchatSettings(max_message_length=500))
strict_chat = make_chat_fixture(WebchatSettings(visitor_messages_per_minute=3,
                                                allowed_origins=["https://www.okpay.example"]))
default_chat = make_chat_fixture(WebchatSettings())


async def _ticket_of(store: Store, conversation: str) -> Ticket:
    thread = await store.messages_for_conversation("webchat", conversation)
    ticket = await store.scalar(select(Ticket).where(Ticket.conversation_id == thread[0].message.conversation_id))
    assert ticket is not None, "a ticket was opened for the conversation"
    return ticket


async def _delivered(store: Store, message_id: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await store.scalar(select(Outbox.status).where(Outbox.message_id == message_id)) == "sent":
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"message {message_id} was not delivered")


# ---- answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "faq_id", "lang"), [
    ("I forgot my password, how do I log in?", "login", "en"),
    ("如何联系客服", "contact", "zh-Hans"),
])
async def test_faq_is_answered_over_the_socket_in_the_visitors_language(
        chat: Chat, kb: KnowledgeBase, question: str, faq_id: str, lang: str) -> None:
    visitor = await chat.visitor()
    client_id = await visitor.say(question)
    echo = await visitor.next(lambda f: f.get("from") == "customer")
    assert echo["id"] == client_id and echo["text"] == question
    answer = await visitor.reply()
    assert answer["from"] == "bot"
    assert answer["text"] == kb.answer(faq_id, lang)
    assert re.fullmatch(r"m\d+", answer["id"]) and answer["at"].endswith("+00:00")
    assert "feedback:unsolved" in [q["payload"] for q in answer["quick_replies"]]  # "did it help?", and a person


async def test_quick_reply_button_is_answered(chat: Chat, kb: KnowledgeBase) -> None:
    visitor = await chat.visitor()
    await visitor.send({"type": "button", "payload": "/menu", "id": "menu1"})
    menu = await visitor.reply()
    assert menu["text"] == kb.message("greeting", "en")
    payloads = [q["payload"] for q in menu["quick_replies"]]
    assert "faq:login" in payloads and payloads[-1] == "/human"
    await visitor.send({"type": "button", "payload": "faq:login", "id": "pick1"})
    assert (await visitor.reply())["text"] == kb.answer("login", "en")


# ---- handoff and the agent's reply ----------------------------------------------------------------


async def test_handoff_opens_a_ticket_and_the_agent_reply_reaches_the_socket(
        chat: Chat, store: Store, inbox: Inbox) -> None:
    visitor = await chat.visitor()
    await visitor.say("I want to talk to a human")
    ack = await visitor.reply()
    ticket = await _ticket_of(store, visitor.conversation)
    assert f"#{ticket.id}" in ack["text"] and ticket.status == "open"
    message_id = await inbox.reply(ticket.id, "Hi, this is Alice from OKPay. How can I help?")
    reply = await visitor.next(lambda f: f.get("from") == "agent")  # after the bot's "... has joined" notice
    assert reply == {"type": "message", "from": "agent", "id": f"m{message_id}",
                     "text": "Hi, this is Alice from OKPay. How can I help?", "at": reply["at"],
                     "quick_replies": [], "attachments": []}
    await _delivered(store, message_id)
    record = await store.ticket(ticket.id)
    assert [m.delivery for m in record.messages if m.message.id == message_id] == ["sent"]


async def test_agent_reply_to_an_offline_visitor_appears_in_history_on_reconnect(
        chat: Chat, store: Store, inbox: Inbox) -> None:
    visitor = await chat.visitor()
    await visitor.say("人工客服")
    await visitor.reply()
    ticket = await _ticket_of(store, visitor.conversation)
    assert visitor.ws is not None
    await visitor.ws.close()
    message_id = await inbox.reply(ticket.id, "您好，我们已经查到您的交易。")
    await _delivered(store, message_id)  # delivered with nobody online: stored, shown later
    history = await visitor.connect()
    assert [m["from"] for m in history] == ["customer", "bot", "bot", "agent"]  # the handoff, "... has joined"
    assert history[0]["text"] == "人工客服" and history[-1]["text"] == "您好，我们已经查到您的交易。"
    assert history[-1]["id"] == f"m{message_id}"


async def test_files_an_agent_sends_reach_the_chat_as_links_live_and_after_a_reload(
        chat: Chat, store: Store, inbox: Inbox, tmp_path: Path) -> None:
    visitor = await chat.visitor()
    await visitor.say("I want to talk to a human")
    await visitor.reply()
    ticket = await _ticket_of(store, visitor.conversation)

    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        yield data

    receipt = await agent_files.save(tmp_path, "receipt.png", chunks(b"\x89PNG\r\n\x1a\n" + b"0" * 64))
    statement = await agent_files.save(tmp_path, "statement.pdf", chunks(b"%PDF-1.4 statement"))
    message_id = await inbox.reply(ticket.id, "Here is your receipt and the statement.", files=[receipt, statement])
    live = await visitor.next(lambda f: f.get("from") == "agent")
    expected = [{"kind": "image", "url": receipt.link, "name": "receipt.png"},
                {"kind": "file", "url": statement.link, "name": "statement.pdf"}]
    assert live["attachments"] == expected and live["text"] == "Here is your receipt and the statement."
    await _delivered(store, message_id)
    assert visitor.ws is not None
    await visitor.ws.close()
    history = await visitor.connect()
    assert history[-1]["id"] == f"m{message_id}" and history[-1]["attachments"] == expected
    assert all(m["attachments"] == [] for m in history[:-1])


async def test_every_open_tab_gets_the_conversation(chat: Chat, kb: KnowledgeBase) -> None:
    first = await chat.visitor()
    second = Visitor(first.base)
    second.session.cookie_jar.update_cookies({COOKIE: first.session.cookie_jar.filter_cookies(
        first.base / "chat")[COOKIE].value}, first.base / "chat")
    chat.visitors.append(second)
    await second.connect()
    client_id = await first.say("How can I contact customer support?")
    for tab in (first, second):
        assert (await tab.next(lambda f: f.get("from") == "customer"))["id"] == client_id
        assert (await tab.reply())["text"] == kb.answer("contact", "en")


# ---- history and identity -------------------------------------------------------------------------


async def test_reload_keeps_the_conversation_and_a_new_visitor_starts_empty(chat: Chat, kb: KnowledgeBase) -> None:
    visitor = await chat.visitor()
    first = await visitor.say("How can I contact customer support?")
    answer = await visitor.reply()
    assert visitor.ws is not None
    await visitor.ws.close()
    await visitor.load_page()  # a reload: same cookie
    history = await visitor.connect()
    assert [(m["id"], m["from"], m["text"]) for m in history] == [
        (first, "customer", "How can I contact customer support?"), (answer["id"], "bot", answer["text"])]
    stranger = await chat.visitor()
    assert await stranger.connect() == []
    assert stranger.conversation != visitor.conversation


async def test_page_sets_an_httponly_visitor_cookie_and_has_no_inline_script(chat: Chat) -> None:
    visitor = Visitor(chat.server.make_url(""), {"Accept-Language": "zh-TW,zh;q=0.9"})
    chat.visitors.append(visitor)
    async with visitor.session.get(visitor.base / "chat", headers=visitor.headers) as page:
        html = await page.text()
        cookie = page.cookies[COOKIE]
        csp = page.headers["Content-Security-Policy"]
    assert cookie["httponly"] and cookie["path"] == "/chat" and len(cookie.value) >= 32
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [] and re.search(r"<[^>]+\son[a-z]+\s*=", html) is None
    assert '<html lang="zh-Hant">' in html and "轉人工客服" in html
    again = await chat.visitor()  # the same browser keeps its cookie across page loads
    before = again.conversation
    await again.load_page()
    assert again.conversation == before


async def test_socket_without_the_page_cookie_gets_a_visitor_of_its_own(chat: Chat, kb: KnowledgeBase) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session, \
            session.ws_connect(chat.server.make_url("/chat/ws")) as ws:
        assert (await ws.receive_json(timeout=5)) == {"type": "history", "messages": []}
        await ws.send_json({"type": "message", "text": "How can I contact customer support?", "id": "x1"})
        frames = [await ws.receive_json(timeout=5) for _ in range(3)]  # the ack, the echo, the answer
        assert {"type": "ack", "id": "x1"} in frames
        assert kb.answer("contact", "en") in [f.get("text") for f in frames]


# ---- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("frame", "words"), [
    ("this is not json", "malformed JSON"),
    ("[" * 3000 + "]" * 3000, "malformed JSON"),  # nested deeper than Python's parser goes (RecursionError)
    ("[1, 2]", "JSON object"),
    ({"type": "dance", "text": "hi"}, "unknown frame type"),
    ({"type": "message", "text": "   "}, "empty message"),
    ({"type": "message", "text": 42}, "empty message"),
    ({"type": "button"}, "payload"),
])
async def test_bad_frames_get_an_error_and_the_socket_stays_open(chat: Chat, store: Store, kb: KnowledgeBase,
                                                                 frame: Any, words: str) -> None:
    visitor = await chat.visitor()
    await visitor.send(frame)
    error = await visitor.error()
    assert words in error["error"]
    await visitor.say("How can I contact customer support?")
    assert (await visitor.reply())["text"] == kb.answer("contact", "en")
    stored = await store.messages_for_conversation("webchat", visitor.conversation)
    assert [m.message.author_kind for m in stored] == ["customer", "bot"]


async def test_oversized_text_is_refused_and_the_limit_itself_is_accepted(chat: Chat, store: Store) -> None:
    visitor = await chat.visitor()
    await visitor.say("x" * 501, client_id="big")
    error = await visitor.error()
    assert error["code"] == "too_long" and error["id"] == "big" and "500" in error["error"]
    assert await store.messages_for_conversation("webchat", visitor.conversation) == []
    await visitor.say("y" * 500, client_id="fits")
    assert (await visitor.next(lambda f: f.get("from") == "customer"))["id"] == "fits"


async def test_resending_the_same_client_id_stores_it_once(chat: Chat, store: Store) -> None:
    visitor = await chat.visitor()
    for _ in range(3):
        await visitor.say("How can I contact customer support?", client_id="same-id-1")
        assert (await visitor.next(lambda f: f.get("from") == "customer"))["id"] == "same-id-1"
    await visitor.reply()
    await asyncio.sleep(0.3)
    assert [f for f in visitor.frames if f.get("from") == "bot"] == []  # answered once
    rows = await store.all(select(Message).where(Message.channel == "webchat", Message.direction == "in"))
    assert len(rows) == 1


async def _inbound_texts(store: Store) -> list[str]:
    return await store.all(select(Message.text).where(Message.channel == "webchat", Message.direction == "in")
                           .order_by(Message.id))


async def test_an_id_used_again_for_another_text_is_refused_and_an_exact_resend_still_acked(
        chat: Chat, store: Store) -> None:
    """Only the first text of an id is kept: a different one must not look sent (acked, echoed)."""
    visitor = await chat.visitor()
    await visitor.say("my transfer of 500 USD failed", client_id="dup1")
    await visitor.next(lambda f: f["type"] == "ack" and f["id"] == "dup1")
    await visitor.say("actually it was 9000 USD, please hurry", client_id="dup1")
    error = await visitor.error()
    assert error["code"] == "duplicate_id" and error["id"] == "dup1" and "not stored" in error["error"]
    await visitor.say("my transfer of 500 USD failed", client_id="dup1")  # the page's resend after a reconnect
    await visitor.next(lambda f: f["type"] == "ack" and f["id"] == "dup1")
    await visitor.send({"type": "button", "payload": "human", "id": "b1"})
    await visitor.next(lambda f: f["type"] == "ack" and f["id"] == "b1")
    await visitor.send({"type": "button", "payload": "solved", "id": "b1"})
    assert (await visitor.error())["code"] == "duplicate_id"
    await visitor.say("human", client_id="b1")  # a typed message under a button's id is another message
    assert (await visitor.error())["code"] == "duplicate_id"
    await asyncio.sleep(0.3)
    assert not [f for f in visitor.frames if f["type"] == "ack" or f.get("text", "").startswith("actually")]
    assert await _inbound_texts(store) == ["my transfer of 500 USD failed", "human"]


@pytest.mark.parametrize("bad", [123, 1.5, True, "", "x" * 65, "id with space", "ключ", "abc\n", ["x"], {"a": 1}])
async def test_an_id_the_server_does_not_take_gets_an_error_and_nothing_is_stored(
        chat: Chat, store: Store, bad: Any) -> None:
    """Replaced by an id of its own, the ack never named the client's: a client resending until it is acked
    resent forever, and each resend was stored again."""
    visitor = await chat.visitor()
    await visitor.send({"type": "message", "text": "my card was charged twice", "id": bad})
    error = await visitor.error()
    assert error["code"] == "bad_id" and "1 to 64" in error["error"] and "id" not in error
    await visitor.send({"type": "message", "text": "and where is my refund"})  # no id: the server gives one
    ack = await visitor.next(lambda f: f["type"] == "ack")
    assert re.fullmatch("[0-9a-f]{32}", ack["id"])
    assert await _inbound_texts(store) == ["and where is my refund"]


async def test_text_at_the_limit_is_taken_however_json_escapes_it(default_chat: Chat, store: Store) -> None:
    """4,000 emoji written as JSON escapes ("\\ud83d\\ude00", 12 bytes each, as Python's json.dumps writes them)
    closed the socket (1009) though within the limit; one more is a too_long error, the socket stays open."""
    visitor = await default_chat.visitor()
    for count, name in ((4000, "at-limit"), (4001, "over")):
        frame = json.dumps({"type": "message", "id": name, "text": "\U0001F600" * count})
        assert frame.count("\\ud83d\\ude00") == count  # 12 bytes a character
        await visitor.send(frame)
    await visitor.next(lambda f: f["type"] == "ack" and f["id"] == "at-limit")
    error = await visitor.error()
    assert error["code"] == "too_long" and error["id"] == "over" and "4001" in error["error"]
    assert await _inbound_texts(store) == ["\U0001F600" * 4000]
    assert visitor.ws is not None and not visitor.ws.closed


async def test_same_client_id_from_two_visitors_is_two_messages(chat: Chat, store: Store) -> None:
    one, two = await chat.visitor(), await chat.visitor()
    await one.say("hello", client_id="c1")
    await two.say("hello", client_id="c1")
    for visitor in (one, two):
        await visitor.next(lambda f: f.get("from") == "customer")
    rows = await store.all(select(Message).where(Message.channel == "webchat", Message.direction == "in"))
    assert len(rows) == 2


async def test_foreign_origin_is_refused(strict_chat: Chat) -> None:
    base = strict_chat.server.make_url("")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(base / "chat" / "ws", headers={"Origin": "https://evil.example"})
        assert refused.value.status == 403
        for origin in (f"http://{base.host}:{base.port}", "https://www.okpay.example"):
            async with session.ws_connect(base / "chat" / "ws", headers={"Origin": origin}) as ws:
                assert (await ws.receive_json(timeout=5))["type"] == "history"


@pytest.mark.parametrize("origins", [[], ["https://www.okpay.example", "https://help.okpay.example"]])
async def test_listed_origins_and_only_they_may_embed_the_page(aiohttp_client, engine, store, inbox, bus, kb,
                                                               origins: list[str]) -> None:
    """README: allowed_origins empty means same host only; listed origins may embed the page. Served by the whole
    web app, as `supportbot run` does, so its security headers (no framing for inbox pages) are in play."""
    adapter = WebchatAdapter(WebchatSettings(allowed_origins=origins))
    client = await aiohttp_client(create_app(web_context(store, engine, inbox, bus, kb),
                                             extra_routes=adapter.web_routes()))
    await adapter.start(engine)
    try:
        page = await client.get("/chat")
    finally:
        await adapter.stop()
    assert page.status == 200
    directives = dict(d.strip().partition(" ")[::2] for d in page.headers["Content-Security-Policy"].split(";"))
    assert sorted(directives["frame-ancestors"].split()) == sorted(["'self'", *origins])
    if origins:
        assert "X-Frame-Options" not in page.headers  # a browser that obeys it over the CSP would refuse them


async def test_a_chatty_visitor_is_rate_limited_with_an_error_frame(strict_chat: Chat, store: Store) -> None:
    visitor = await strict_chat.visitor()
    for n in range(5):
        await visitor.say(f"hello number {n}", client_id=f"n{n}")
    errors = [await visitor.error() for _ in range(2)]
    assert {e["code"] for e in errors} == {"rate_limited"} and {e["id"] for e in errors} == {"n3", "n4"}
    stored = await store.messages_for_conversation("webchat", visitor.conversation)
    assert [m.message.text for m in stored if m.message.direction == "in"] == [f"hello number {n}" for n in range(3)]
    assert visitor.ws is not None and not visitor.ws.closed


async def test_stop_closes_sockets_and_new_ones_are_refused_until_started(chat: Chat, engine: Engine) -> None:
    visitor = await chat.visitor()
    await chat.adapter.stop()
    assert visitor.ws is not None
    closed = await visitor.ws.receive(timeout=5)
    assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await visitor.connect()
    assert refused.value.status == 503
    await chat.adapter.start(engine)
    assert await visitor.connect() == []


async def test_the_browser_language_is_the_hint_for_text_without_a_language(chat: Chat, kb: KnowledgeBase) -> None:
    visitor = await chat.visitor(headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"})
    await visitor.send({"type": "button", "payload": "/menu", "id": "menu-tw"})
    menu = await visitor.reply()
    assert menu["text"] == kb.message("greeting", "zh-Hant")
    assert {"label": kb.message("button_human", "zh-Hant"), "payload": "/human"} in menu["quick_replies"]


async def test_visitors_writing_at_the_same_moment_are_all_stored_and_answered(chat: Chat, store: Store,
                                                                                  kb: KnowledgeBase) -> None:
    crowd = [await chat.visitor() for _ in range(12)]
    await asyncio.gather(*(v.say("How can I contact customer support?", client_id="same") for v in crowd))
    answers = await asyncio.gather(*(v.reply() for v in crowd))
    assert {a["text"] for a in answers} == {kb.answer("contact", "en")}
    assert all(f["type"] != "error" for v in crowd for f in v.frames)  # no "database is locked" on SQLite
    rows = await store.all(select(Message).where(Message.channel == "webchat", Message.direction == "in"))
    assert len(rows) == 12


# ---- stored before acknowledged, resent until acknowledged --------------------------------------


class Gate:
    """The engine behind a gate: a handover waits until the test opens it (a slow database)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.store, self.kb = engine, engine.store, engine.kb
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()
        self.handed: list[str] = []

    async def handle_message(self, message: Any) -> Any:
        self.handed.append(message.platform_id.split(":")[1])
        self.entered.set()
        await self.opened.wait()
        return await self.engine.handle_message(message)

    async def handle_escalation(self, escalation: Any) -> Any:
        return await self.engine.handle_escalation(escalation)

    async def handle_edit(self, edit: Any) -> Any:
        return await self.engine.handle_edit(edit)


@contextlib.asynccontextmanager
async def served(inbound: Any, make_dispatcher: Callable[..., Dispatcher]) -> AsyncIterator[Chat]:
    adapter = WebchatAdapter(WebchatSettings())
    app = web.Application()
    app.add_routes(adapter.web_routes())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    await adapter.start(inbound)
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


async def _inbound_rows(store: Store) -> list[Message]:
    return await store.all(select(Message).where(Message.channel == "webchat", Message.direction == "in"))


async def _until(probe: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout}s")
        await asyncio.sleep(0.02)


async def test_the_ack_comes_only_after_the_engine_committed_the_message(
        engine: Engine, store: Store, make_dispatcher: Callable[..., Dispatcher]) -> None:
    gate = Gate(engine)
    async with served(gate, make_dispatcher) as chat:
        visitor = await chat.visitor()
        client_id = await visitor.say("How can I contact customer support?")
        await asyncio.wait_for(gate.entered.wait(), 5)  # the engine has it, and has not committed
        with pytest.raises(TimeoutError):
            await visitor.next(lambda f: f["type"] == "ack", timeout=0.3)
        assert await _inbound_rows(store) == []
        gate.opened.set()
        assert await visitor.next(lambda f: f["type"] == "ack") == {"type": "ack", "id": client_id}
        [row] = await _inbound_rows(store)  # committed by the time the ack arrived
        assert row.platform_id.endswith(f":{client_id}")


async def test_visitors_writing_while_the_database_is_busy_are_acked_only_after_their_batch_committed(
        chat: Chat, store: Store, kb: KnowledgeBase) -> None:
    """Messages arriving together share a transaction (group commit); none is acked before that commit."""
    crowd = [await chat.visitor() for _ in range(20)]
    other = sqlite3.connect(store.url.split(":///", 1)[1], isolation_level=None,  # another writer holds the lock
                            check_same_thread=False)
    # taken off the loop's thread: a transaction of the server's own (the dispatcher's poll) may be open right now
    # and needs the loop to finish, so waiting for the lock on the loop's thread could wait for ever (5 s)
    await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
    try:
        ids = await asyncio.gather(*(v.say("How can I contact customer support?") for v in crowd))
        with pytest.raises(TimeoutError):
            await crowd[-1].next(lambda f: f["type"] == "ack", timeout=0.5)
        assert not [f for v in crowd for f in v.frames if f["type"] == "ack"]
        assert await _inbound_rows(store) == []
    finally:
        other.execute("COMMIT")
        other.close()
    for visitor, client_id in zip(crowd, ids, strict=True):
        assert await visitor.next(lambda f: f["type"] == "ack") == {"type": "ack", "id": client_id}
        stored = await store.scalar(select(Message.id).where(Message.platform_id == f"{visitor.conversation[4:]}:"
                                                                                      f"{client_id}"))
        assert stored is not None  # committed by the time its ack arrived
    answers = await asyncio.gather(*(v.reply() for v in crowd))
    assert {a["text"] for a in answers} == {kb.answer("contact", "en")}
    assert len(await _inbound_rows(store)) == 20


async def test_a_message_the_database_refused_gets_no_ack_leaves_nothing_behind_and_its_resend_is_stored_once(
        chat: Chat, store: Store, kb: KnowledgeBase) -> None:
    """The outbox table is gone for a while: the engine's transaction (message + reply) fails as a whole."""
    async with store.transaction() as session:
        await session.execute(text("ALTER TABLE outbox RENAME TO outbox_away"))
    page = ChatPage(str(chat.server.make_url("")), retry_after=0.2)
    try:
        await page.open()
        client_id = await page.say("How can I contact customer support?")
        def refusals() -> list[dict[str, Any]]:  # errors about the message (the history could not be read either)
            return [e for e in page.errors if e.get("id")]

        await _until(lambda: _true(len(refusals()) >= 2), "a resend after an error")
        assert {(e["id"], e["code"]) for e in refusals()} == {(client_id, "unavailable")}
        assert page.acks == [] and list(page.pending) == [client_id]  # still shown as "not sent yet"
        assert await _inbound_rows(store) == []  # the message did not stay without its reply
        async with store.transaction() as session:
            await session.execute(text("ALTER TABLE outbox_away RENAME TO outbox"))
        await _until(lambda: _true(page.replies), "the answer after the database came back")
        assert client_id in page.acks and page.pending == {}
        await chat.dispatcher.drain()
        assert [r["text"] for r in page.replies.values()] == [kb.answer("contact", "en")]  # answered once
        [row] = await _inbound_rows(store)
        assert row.platform_id.endswith(f":{client_id}")
    finally:
        await page.close()


async def test_unacknowledged_messages_are_resent_after_a_reconnect_stored_once_and_answered_once(
        engine: Engine, store: Store, kb: KnowledgeBase, make_dispatcher: Callable[..., Dispatcher]) -> None:
    gate = Gate(engine)
    async with served(gate, make_dispatcher) as chat:
        page = ChatPage(str(chat.server.make_url("")))
        try:
            await page.open()
            await _until(lambda: _true(page._ws is not None), "the socket")
            questions = ["How can I contact customer support?", "I forgot my password, how do I log in?",
                         "如何联系客服"]
            ids = [await page.say(q) for q in questions]
            await asyncio.wait_for(gate.entered.wait(), 5)  # the first one is being stored
            page.drop()  # the connection drops before any ack; the page reconnects and resends
            await _until(lambda: _true(gate.handed.count(ids[0]) == 2), "the resend of the first message")
            gate.opened.set()  # both handovers of the first message go on: one stores it, one is a duplicate
            await _until(lambda: _true(not page.pending and len(page.replies) >= 3), "every message acked and answered")
            await chat.dispatcher.drain()
            await asyncio.sleep(0.2)  # a second answer would be pushed by now
        finally:
            await page.close()
    rows = await _inbound_rows(store)
    assert sorted(r.platform_id.split(":")[1] for r in rows) == sorted(ids)  # each once
    assert sorted(r["text"] for r in page.replies.values()) == sorted(
        [kb.answer("contact", "en"), kb.answer("login", "en"), kb.answer("contact", "zh-Hans")])  # each once
    assert sorted(page.acks) == sorted(ids)  # the duplicate too (its first ack went to the dropped socket)
    assert sorted(gate.handed) == sorted([ids[0], *ids])


async def test_the_chat_is_up_once_started_and_wait_closed_returns_after_stop(chat: Chat) -> None:
    assert chat.adapter.health.receiving
    closed = asyncio.create_task(chat.adapter.wait_closed())
    await asyncio.sleep(0.05)
    assert not closed.done()
    await chat.adapter.stop()
    await asyncio.wait_for(closed, 5)


async def _true(value: Any) -> bool:
    return bool(value)
