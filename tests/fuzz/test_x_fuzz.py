"""Fuzzing the X channel's two ways in, whatever arrives: signed Account Activity deliveries POSTed to the real
aiohttp app, and v2 pages served by the fake X to the real tweepy client while polling.

Never a 5xx; a delivery that cannot be read is refused whole (400) with nothing stored; a page that cannot be
read is skipped item by item (the rest of the feed goes on); and never a half-stored message: each post or DM
is stored and handled, or not stored at all. The generators know which events they broke (an id, the author,
the text) and which they only dirtied (any other field): the dirtied ones must still be stored.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bots.x.adapter import DM_CURSOR, MENTIONS_CURSOR
from core.errors import AdapterError
from core.store import Store
from core.store.tables import Message
from core.web.app import MAX_BODY, create_app
from tests.contract.harness_x import XHarness
from tests.fuzz.json_junk import DEEP, JSON, dumps, parses
from tests.fuzz.x_generators import SAMPLES, delivery, mutated_sample, refresh, v2_dm, v2_page, v2_tweet
from tests.web.inbox_helpers import web_context

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
SURROGATE = re.compile("[\ud800-\udfff]")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()



class Hook:
    def __init__(self, x: XHarness, client: TestClient, store: Store) -> None:
        self.x, self.client, self.store = x, client, store

    async def post(self, body: bytes) -> int:
        secret = self.x.fake.creds.consumer_secret
        response = await self.client.post("/webhooks/x", data=body,
                                           headers={"x-twitter-webhooks-signature": sign(secret, body)})
        self.answer = (await response.read())[:300].decode("utf-8", "replace")
        return response.status


@pytest_asyncio.fixture
async def hook(engine, store, inbox, bus, kb, aiohttp_client) -> AsyncIterator[Hook]:  # type: ignore[no-untyped-def]
    """The X channel in webhook mode, mounted on the whole web app (its body limit, its error middleware)."""
    async with XHarness(engine, cursor_store=store, settings={"mode": "webhook"}) as x:
        x.customer("5001", "ann")
        app = create_app(web_context(store, engine, inbox, bus, kb), extra_routes=x.adapter.web_routes())
        yield Hook(x, await aiohttp_client(app), store)


async def inbound(store: Store) -> dict[str, Message]:
    rows = await store.all(select(Message).where(Message.channel == "x", Message.direction == "in"))
    return {row.platform_id: row for row in rows}


def complete(row: Message) -> None:
    """A stored message is whole: triaged (handled), from a customer, with text the store can keep."""
    assert row.handled_at is not None and row.decision is not None, row.platform_id
    assert row.author_kind == "customer" and row.conversation_id is not None
    assert "\x00" not in row.text and not SURROGATE.search(row.text)


# ---- Account Activity deliveries ----------------------------------------------------------------------------

@FUZZ
@given(case=delivery())
async def test_generated_deliveries_are_stored_whole_or_refused_whole(hook: Hook, case) -> None:  # type: ignore[no-untyped-def]
    payload, ids, broken, account = case
    body = dumps(payload).encode()
    before = await inbound(hook.store)
    status = await hook.post(body)
    after = await inbound(hook.store)
    new = set(after) - set(before)
    readable = parses(body)
    event(f"answered {status}, stored {len(new)}")
    if readable is None and status == 400:  # nested so deep that the server's json could not read it
        assert not new
    elif broken or readable is False or account in ("missing", "wrong type"):
        assert (status, new) == (400, set()), hook.answer
    elif account == "another":
        assert (status, new) == (200, set()), hook.answer
    else:
        assert (status, new) == (200, ids), hook.answer
    for platform_id in new:
        complete(after[platform_id])


@FUZZ
@given(case=mutated_sample())
async def test_mutated_sample_deliveries_never_fail_the_server_nor_half_store(hook: Hook, case) -> None:  # type: ignore[no-untyped-def]
    value, ids = case
    before = await inbound(hook.store)
    status = await hook.post(dumps(value).encode())
    after = await inbound(hook.store)
    new = set(after) - set(before)
    event(f"answered {status}, stored {len(new)}")
    assert status in (200, 400, 413)  # 413: a huge string took it past the app's body limit
    assert new <= ids and (status == 200 or not new)
    for platform_id in new:
        complete(after[platform_id])


@FUZZ
@given(body=st.binary(max_size=400) | JSON.map(lambda v: dumps(v).encode()) | DEEP.map(lambda d: d.text().encode()))
async def test_any_signed_body_is_a_client_error_or_ignored(hook: Hook, body: bytes) -> None:
    before = await inbound(hook.store)
    assert await hook.post(body) in (200, 400)
    assert await inbound(hook.store) == before


@pytest.mark.parametrize(("body", "status", "why"), [
    ("[" * 100_000 + "]" * 100_000, 400, "nested too deeply"),
    ('{"for_user_id": "1000", "x": ' + "[" * 5000 + "]" * 5000 + "}", 400, "nested too deeply"),
    ('[{"for_user_id": "1000"}]', 400, "not an object"),
    ('"1000"', 400, "not an object"),
    ("1e400", 400, "not an object"),
    ('{"for_user_id": 1' + "0" * 5000 + "}", 400, "malformed"),
    (json.dumps({k: v for k, v in SAMPLES["activity_dm.json"].items() if k != "for_user_id"}), 400, "for_user_id"),
    ('{"for_user_id": "1000", "favorite_events": [{"id": "1"}], "follow_events": [{}]}', 200, "ignored"),
    ('{"for_user_id": "1000", "direct_message_events": [{"type": "message_read", "id": []}]}', 200, "ignored"),
    (json.dumps({**SAMPLES["activity_dm.json"], "for_user_id": "2000"}), 200, "another account"),
    ('{"for_user_id": "1000", "direct_message_events": [{"type": "message_create", "id": "9"}]}', 400, "sender_id"),
])
async def test_hostile_deliveries_get_a_clear_answer(hook: Hook, body: str, status: int, why: str) -> None:
    before = await inbound(hook.store)
    response = await hook.client.post("/webhooks/x", data=body.encode(), headers={
        "x-twitter-webhooks-signature": sign(hook.x.fake.creds.consumer_secret, body.encode())})
    assert response.status == status
    assert why in await response.text()
    assert await inbound(hook.store) == before


async def test_a_body_over_the_apps_limit_is_refused_before_it_is_read(hook: Hook) -> None:
    body = b'{"for_user_id": "1000", "pad": "' + b"x" * MAX_BODY + b'"}'
    assert await hook.post(body) == 413
    assert await hook.store.scalar(select(func.count()).select_from(Message)) == 0


async def test_a_dm_with_a_lone_surrogate_and_a_nul_is_stored_readable(hook: Hook) -> None:
    payload = copy.deepcopy(SAMPLES["activity_dm.json"])
    [event_id] = refresh(payload)
    payload["direct_message_events"][0]["message_create"]["message_data"]["text"] = "pay\ud800ment\x00 stuck"
    assert await hook.post(json.dumps(payload).encode()) == 200
    row = (await inbound(hook.store))[event_id]
    complete(row)
    assert row.text == "pay\ufffdment stuck"


# ---- polling: v2 pages as X serves them -------------------------------------------------------------------


@pytest_asyncio.fixture
async def poller(engine, store) -> AsyncIterator[XHarness]:  # type: ignore[no-untyped-def]
    """The receiver without its loops (each example polls once, by hand); the baseline already taken."""
    async with XHarness(engine, cursor_store=store, settings={"mode": "webhook"}) as x:
        x.customer("5001", "ann")
        for key in (MENTIONS_CURSOR, DM_CURSOR):
            await store.set_cursor("x", key, "0")
        yield x



async def _poll_page(x: XHarness, family: str, page: tuple[bytes, set[str]]) -> None:
    body, good = page
    store: Store = x.cursors
    cursor = MENTIONS_CURSOR if family == "mentions" else DM_CURSOR
    before, position = await inbound(store), await store.get_cursor("x", cursor)
    x.fake.serve_next(family, body)
    receiver = x.adapter.receiver
    assert receiver is not None
    try:
        handed = await (receiver.poll_mentions() if family == "mentions" else receiver.poll_dms())
    except AdapterError:  # a body that is no page at all: X answering badly, the loop retries later
        if parses(body):
            try:
                page = json.loads(body)
            except ValueError:
                page = None
            assert not isinstance(page, dict), body[:200]
        good, handed = set(), 0
    after = await inbound(store)
    new = set(after) - set(before)
    event(f"stored {len(new)}")
    assert new == good and handed == len(good)
    for platform_id in new:
        complete(after[platform_id])
    # the cursor moves past what was handed over (and past nothing else)
    assert await store.get_cursor("x", cursor) == (max(good, key=int) if good else position)


@FUZZ
@given(page=v2_page(v2_tweet))
async def test_generated_mention_pages_hand_over_every_readable_post_once(poller: XHarness, page) -> None:  # type: ignore[no-untyped-def]
    await _poll_page(poller, "mentions", page)


@FUZZ
@given(page=v2_page(v2_dm))
async def test_generated_dm_pages_hand_over_every_readable_message_once(poller: XHarness, page) -> None:  # type: ignore[no-untyped-def]
    await _poll_page(poller, "dm_events", page)
