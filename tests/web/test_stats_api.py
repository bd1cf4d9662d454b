"""`GET /api/v1/stats` over HTTP on SQLite and PostgreSQL: the figures, the defaults, and the refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest_asyncio

from core import accounts
from core.events import EventBus
from core.inbox import Inbox
from core.models import utcnow
from core.pipeline import Engine
from core.web.app import create_app
from tests.web.inbox_helpers import customer_message, web_context


@pytest_asyncio.fixture
async def api(aiohttp_client, any_store, triage, kb):  # type: ignore[no-untyped-def]
    bus = EventBus()
    engine = Engine(any_store, triage, kb, bus=bus)
    client = await aiohttp_client(create_app(web_context(any_store, engine, Inbox(any_store, kb, bus=bus), bus, kb)))
    agent_id = await accounts.create_agent(any_store, "stats", "password123")
    client.engine = engine
    client.auth = {"Authorization": f"Bearer {await accounts.create_api_token(any_store, 'stats', agent_id=agent_id)}"}
    return client


async def test_stats_of_today_per_channel_and_day(api) -> None:
    await api.engine.handle_message(customer_message("How can I contact customer support?", user="a"))
    await api.engine.handle_message(customer_message("/human", user="b", channel="telegram"))
    response = await api.get("/api/v1/stats", headers=api.auth)
    assert response.status == 200
    body = await response.json()
    today = utcnow().date()
    assert body["to"] == today.isoformat() and body["from"] == (today - timedelta(days=29)).isoformat()
    assert len(body["days"]) == 30 and body["days"][-1]["conversations"] == 2
    assert body["totals"]["conversations"] == 2 and body["totals"]["deflection_rate"] == 0.5
    assert body["totals"]["handoffs_by_reason"] == {"asked_for_human": 1}
    assert body["channels"]["telegram"]["first_response"]["waiting"] == 1
    assert body["goal_hours"] == 24.0

    one = await (await api.get("/api/v1/stats", params={"channel": "webchat", "from": today.isoformat(),
                                                        "to": today.isoformat()}, headers=api.auth)).json()
    assert one["totals"]["conversations"] == 1 and one["totals"]["handoffs"] == 0 and len(one["days"]) == 1

    api.engine.first_response_hours = 8  # what /settings does to the running engine
    assert (await (await api.get("/api/v1/stats", headers=api.auth)).json())["goal_hours"] == 8.0


async def test_bad_ranges_are_refused_with_the_reason(api) -> None:
    for params, words in [({"from": "2025-02-01", "to": "2025-01-01"}, "after"),
                          ({"from": "2023-01-01", "to": "2025-01-01"}, "366"),
                          ({"from": "yesterday"}, "YYYY-MM-DD"), ({"to": "2025-02-30"}, "calendar date"),
                          ({"to": "9999-12-31"}, "between"), ({"since": "2025-01-01"}, "since")]:
        response = await api.get("/api/v1/stats", params=params, headers=api.auth)
        assert response.status == 422, params
        assert words in (await response.json())["error"]["message"], params
    assert (await api.get("/api/v1/stats")).status == 401
