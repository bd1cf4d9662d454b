"""A running Telegram setup for tests: the fake Bot API, the real adapter (real PTB) and, around them,
whatever the test hands in (the real engine and dispatcher, or a recorder at the network edge).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from sqlalchemy import event, select

from bots.base import Inbound
from bots.telegram.adapter import TelegramAdapter, TelegramSettings
from core.models import Escalation, InboundMessage, MemberJoined, MessageEdit
from tests.fakes.telegram_api import FakeTelegram

WEBHOOK_SECRET = "s3cret-Token_for-tests"


@dataclass
class Recorder:
    """The engine's side of the boundary, recording what the adapter hands over (no core involved)."""

    messages: list[InboundMessage] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    edits: list[MessageEdit] = field(default_factory=list)
    joined: list[MemberJoined] = field(default_factory=list)

    async def handle_message(self, message: InboundMessage) -> object:
        self.messages.append(message)
        return None

    async def handle_escalation(self, escalation: Escalation) -> object:
        self.escalations.append(escalation)
        return None

    async def handle_edit(self, edit: MessageEdit) -> object:
        self.edits.append(edit)
        return None

    async def handle_member_joined(self, event: MemberJoined) -> object:
        self.joined.append(event)
        return None


async def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll ``predicate`` (sync or async) until truthy; a clear failure after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


class DatabaseOutage:
    """The store's database answers every statement with an error (as when the server is down or the
    disk fails) between ``begin()`` and ``end()``: injected where SQLAlchemy hands statements to the
    driver, so everything above it (the engine, the store) runs for real."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.down = False
        self.refused = 0  # statements refused so far

    def _refuse(self, *_args: Any) -> None:
        if self.down:
            self.refused += 1
            raise self._store.engine.dialect.loaded_dbapi.OperationalError("disk I/O error")

    def begin(self) -> None:
        self.down = True
        if not event.contains(self._store.engine.sync_engine, "before_cursor_execute", self._refuse):
            event.listen(self._store.engine.sync_engine, "before_cursor_execute", self._refuse)

    def end(self) -> None:
        self.down = False
        event.remove(self._store.engine.sync_engine, "before_cursor_execute", self._refuse)


@dataclass
class TelegramWorld:
    fake: FakeTelegram
    adapter: TelegramAdapter
    webhook_url: str | None = None

    async def stored(self, store: Any, platform_id: str, timeout: float = 5.0,
                     until: Callable[[Any], Any] = lambda row: True) -> Any:
        """The store's row for a Telegram message id, once the engine has stored and triaged it."""
        from core.store.tables import Message

        query = select(Message).where(Message.channel == "telegram", Message.platform_id == platform_id)

        async def handled() -> Any:
            row = await store.scalar(query)
            return row if row is not None and row.handled_at is not None and until(row) else None

        return await wait_until(handled, timeout, f"message {platform_id} stored and handled")


def settings_for(fake: FakeTelegram, **overrides: Any) -> TelegramSettings:
    values: dict[str, Any] = {"enabled": True, "token": fake.token, "api_base_url": fake.api_base_url,
                              "poll_timeout_seconds": 10}
    if overrides.get("mode") == "webhook":
        values["webhook_secret"] = WEBHOOK_SECRET
    values.update(overrides)
    return TelegramSettings(**values)


@asynccontextmanager
async def telegram_world(inbound: Inbound, data_dir: Path, *, fake: FakeTelegram | None = None,
                         cursor_store: Any = None, **overrides: Any) -> AsyncIterator[TelegramWorld]:
    """Fake Bot API (a new one, or ``fake`` already running) + a started adapter pointed at it."""
    if fake is not None:
        async with _adapter_on(fake, inbound, data_dir, cursor_store, overrides) as world:
            yield world
        return
    async with FakeTelegram() as api, _adapter_on(api, inbound, data_dir, cursor_store, overrides) as world:
        yield world


@asynccontextmanager
async def _adapter_on(api: FakeTelegram, inbound: Inbound, data_dir: Path, cursor_store: Any,
                      overrides: dict[str, Any]) -> AsyncIterator[TelegramWorld]:
    """In webhook mode also our aiohttp app serving ``adapter.web_routes()`` on 127.0.0.1."""
    settings = settings_for(api, **overrides)
    server: TestServer | None = None
    public_url = None
    port = unused_port()
    if settings.mode == "webhook":
        public_url = f"http://127.0.0.1:{port}"
    adapter = TelegramAdapter(settings, public_url=public_url, data_dir=data_dir, cursor_store=cursor_store)
    if public_url is not None:
        app = web.Application()
        app.add_routes(adapter.web_routes())
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
    await adapter.start(inbound)
    try:
        yield TelegramWorld(api, adapter, public_url + settings.webhook_path if public_url else None)
    finally:
        await adapter.stop()
        if server is not None:
            await server.close()
