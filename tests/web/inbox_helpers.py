"""Fixtures and helpers shared by the inbox and API tests: a real app over a real (migrated) store."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from core import accounts
from core.config import default_settings
from core.events import EventBus
from core.inbox import Inbox
from core.models import Author, InboundMessage
from core.pipeline import Engine
from core.store import Store
from core.web.app import create_app
from core.web.context import AppContext

PASSWORD = "correct horse battery"
_COUNTER = 0
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Agent:
    id: int
    name: str
    client: TestClient
    csrf: str = ""

    async def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
        return await self.client.post(path, data={"csrf": self.csrf, **data}, allow_redirects=False, **kwargs)


def web_context(store: Store, engine: Engine, inbox: Inbox, bus: EventBus, kb: Any, settings: Any = None) -> AppContext:
    return AppContext(store=store, engine=engine, inbox=inbox, bus=bus, kb=kb, settings=settings or default_settings())


@pytest.fixture
def ctx(store: Store, engine: Engine, inbox: Inbox, bus: EventBus, kb: Any) -> AppContext:
    return web_context(store, engine, inbox, bus, kb)


@pytest_asyncio.fixture
async def client(aiohttp_client: Callable[..., Awaitable[TestClient]], ctx: AppContext) -> TestClient:
    return await aiohttp_client(create_app(ctx))


async def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token of the session."""
    response = await client.post("/login", data={"name": name, "password": password, "next": "/"},
                                 allow_redirects=False)
    assert response.status == 303, await response.text()
    page = await (await client.get("/")).text()
    found = CSRF.search(page)
    assert found, "signed-in page has a CSRF token"
    return found.group(1)


@pytest_asyncio.fixture
async def agent(client: TestClient, store: Store) -> Agent:
    agent_id = await accounts.create_agent(store, "alice", PASSWORD, role="admin", display_name="Alice")
    return Agent(agent_id, "alice", client, await sign_in(client, "alice"))


def customer_message(text: str, *, user: str = "u1", pid: str | None = None, channel: str = "webchat",
                     name: str = "Customer One", conversation: str | None = None, **kwargs: Any) -> InboundMessage:
    global _COUNTER
    _COUNTER += 1
    return InboundMessage(channel=channel, platform_id=pid or f"m{_COUNTER}",
                          conversation=conversation or f"conv-{user}", author=Author(user, name, handle=f"h_{user}"),
                          text=text, **kwargs)


async def open_ticket(engine: Engine, text: str = "about my withdrawal", **kwargs: Any) -> int:
    """A ticket (the customer asks for a human), then ``text`` joins it."""
    first = {k: v for k, v in kwargs.items() if k not in ("pid", "attachments")}
    outcome = await engine.handle_message(customer_message("/human", **first))
    if outcome.ticket_id is None:
        raise AssertionError(f"expected a ticket, got {outcome}")
    await engine.handle_message(customer_message(text, **kwargs))
    return outcome.ticket_id
