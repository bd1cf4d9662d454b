"""The OpenAPI document is checked against the running app with schemathesis (bounded examples).

The app runs on a real 127.0.0.1 port in a background thread with a seeded SQLite store; every
generated request must get a documented status (never a 5xx) and a response matching the schema.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from core import accounts
from core.config import default_settings
from core.events import EventBus
from core.inbox import Inbox
from core.knowledge import load_knowledge_base
from core.pipeline import Engine
from core.store import Store
from core.triage import Triage
from core.web.app import create_app
from core.web.context import AppContext
from core.web.openapi import document
from tests.web.inbox_helpers import customer_message

schema = schemathesis.openapi.from_dict(document())


class LiveApp:
    """The app on a real port, in its own thread and event loop."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ready = threading.Event()
        self.url = ""
        self.token = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        store = await Store.open(f"sqlite+aiosqlite:///{self.folder}/openapi.db")
        kb = load_knowledge_base()
        bus = EventBus()
        engine = Engine(store, Triage(kb), kb, bus=bus)
        for n in range(3):
            await engine.handle_message(customer_message("/human", user=f"s{n}"))
            await engine.handle_message(customer_message(f"withdrawal {n} is late", user=f"s{n}"))
        agent_id = await accounts.create_agent(store, "schema", "password123")
        self.token = await accounts.create_api_token(store, "schemathesis", agent_id=agent_id)
        ctx = AppContext(store=store, engine=engine, inbox=Inbox(store, kb, bus=bus), bus=bus, kb=kb,
                         settings=default_settings())
        runner = web.AppRunner(create_app(ctx))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self.ready.set()
        await self._stop.wait()
        await runner.cleanup()
        await store.close()

    def __enter__(self) -> LiveApp:
        self.thread.start()
        assert self.ready.wait(30), "app did not start"
        return self

    def __exit__(self, *_: Any) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with LiveApp(tmp_path_factory.mktemp("openapi")) as app:
        yield app


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case: Any, live_app: LiveApp) -> None:
    # A cursor is opaque: any string is schema-valid, but only ones the API handed out are accepted (422).
    # A stats range is checked across parameters ('from' after 'to', over 366 days): schema-valid dates may get 422.
    query = case.query or {}
    excluded = [positive_data_acceptance] if query.get("cursor") or "from" in query or "to" in query else []
    # Generated cases carry a random bearer token: swap in a valid one; a case without one must get 401.
    headers = {"Authorization": f"Bearer {live_app.token}"} if "Authorization" in (case.headers or {}) else None
    response = case.call_and_validate(base_url=live_app.url, headers=headers, excluded_checks=excluded)
    if headers is None:
        assert response.status_code == 401


def test_document_is_served_and_names_the_bearer_scheme(live_app: LiveApp) -> None:
    response = requests.get(f"{live_app.url}/api/v1/openapi.json",
                            headers={"Authorization": f"Bearer {live_app.token}"}, timeout=10)
    assert response.status_code == 200
    served = response.json()
    assert served["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert set(served["paths"]) >= {"/api/v1/tickets", "/api/v1/tickets/{ticket_id}",
                                    "/api/v1/tickets/{ticket_id}/replies", "/api/v1/stats",
                                    "/api/v1/tickets/bulk", "/api/v1/canned-responses",
                                    "/api/v1/canned-responses/{response_id}"}
    assert requests.get(f"{live_app.url}/api/v1/openapi.json", timeout=10).status_code == 401
