"""Fuzzing the Telegram channel's two ways in, whatever arrives: updates POSTed with the right secret to the webhook
on the real aiohttp app, and updates served by the fake Bot API to the real polling loop. Both read each update
the same way (bots/telegram/updates.py) and hand it through the adapter to the real engine.

Never a 5xx; an update that cannot be read is a 400 (webhook) or kept on disk and passed (polling), with nothing
stored; one that is read is stored whole or deliberately ignored (200); polling never sticks on a bad update.
The generators know which fields they broke (an id, the chat, the author, the text) and which they only
dirtied (a username, entities, the replied-to message): a message with dirtied fields must still be stored.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bots.telegram.adapter import ALLOWED_UPDATES, SECRET_HEADER, TelegramAdapter
from bots.telegram.updates import TEXT_LIMIT, storable
from core.store import Store
from core.store.tables import Message
from core.web.app import create_app
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import WEBHOOK_SECRET, settings_for, wait_until
from tests.fuzz.json_junk import DEEP, HOSTILE, JSON, TEXT, dumps, mutate, parses
from tests.web.inbox_helpers import web_context

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "telegram"
SAMPLES = [update for path in sorted(PAYLOADS.glob("*.json"))
           for update in (lambda d: d if isinstance(d, list) else [d])(json.loads(path.read_text()))
           if "update_id" in update]
UPDATE_IDS = itertools.count(900_000_000)  # unique per example: a redelivery would be a duplicate
MESSAGE_IDS = itertools.count(100_000)
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
GROUP = -1001500600700
BAD_ID = st.sampled_from([None, "", "5001", "abc", 1.5, True, [1], {"id": 1}, 2**64, -(2**64)])
NOT_TEXT = JSON.filter(lambda v: not isinstance(v, str))
SURROGATE = re.compile("[\ud800-\udfff]")


def maybe(good: Any) -> st.SearchStrategy[Any]:
    """A field the adapter reads but does not need: the right value, or any JSON at all."""
    return st.just(good) | JSON


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Hook:
    def __init__(self, fake: FakeTelegram, adapter: TelegramAdapter, client: TestClient, store: Store) -> None:
        self.fake, self.adapter, self.client, self.store = fake, adapter, client, store
        self.answer = ""

    async def post(self, body: bytes) -> int:
        response = await self.client.post("/webhooks/telegram", data=body, headers={
            SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"})
        self.answer = (await response.read())[:300].decode("utf-8", "replace")
        return response.status


@pytest_asyncio.fixture
async def hook(engine, store, inbox, bus, kb, aiohttp_client, tmp_path) -> AsyncIterator[Hook]:  # type: ignore[no-untyped-def]
    """The channel in webhook mode, mounted on the whole web app (its body limit, its error middleware)."""
    async with FakeTelegram() as fake:
        adapter = TelegramAdapter(settings_for(fake, mode="webhook"), data_dir=tmp_path, cursor_store=store)
        await adapter.start(engine)  # no public URL: the webhook is set elsewhere; only getMe is asked
        app = create_app(web_context(store, engine, inbox, bus, kb), extra_routes=adapter.web_routes())
        try:
            yield Hook(fake, adapter, await aiohttp_client(app), store)
        finally:
            await adapter.stop()


async def inbound(store: Store) -> dict[str, Message]:
    rows = await store.all(select(Message).where(Message.channel == "telegram", Message.direction == "in"))
    return {row.platform_id: row for row in rows}


def complete(row: Message) -> None:
    """A stored message is whole: triaged (handled), from a customer, with text the store can keep."""
    assert row.handled_at is not None, row.platform_id
    assert row.author_kind == "customer" and row.conversation_id is not None
    assert "\x00" not in row.text and not SURROGATE.search(row.text)
    assert "\x00" not in (row.author_name or "") and not SURROGATE.search(row.author_name or "")


# ---- updates built field by field ----------------------------------------------------------------------------


@st.composite
def person(draw: st.DrawFn, user_id: int) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": draw(st.just("") | TEXT)}
    for key, good in (("last_name", "Lee"), ("username", "ann_lee"), ("language_code", "zh-hans")):
        if draw(st.booleans()):
            user[key] = draw(maybe(good) | TEXT)
    return user


@st.composite
def message_update(draw: st.DrawFn) -> tuple[dict[str, Any], str | None, bool]:
    """(update, the platform id it must be stored under or None when it has nothing to store, broken?)."""
    user_id = draw(st.sampled_from([5001, 5002, 777_000_000_001]))
    private = draw(st.booleans())
    chat: dict[str, Any] = ({"id": user_id, "type": "private", "first_name": "Ann"} if private
                            else {"id": GROUP, "type": "supergroup", "title": draw(maybe("OKPay Community"))})
    message_id = next(MESSAGE_IDS)
    text = draw(TEXT)
    message: dict[str, Any] = {"message_id": message_id, "date": draw(st.integers(0, 2**32)), "chat": chat,
                               "from": draw(person(user_id)), "text": text}
    optional = {
        "entities": [{"type": "mention", "offset": 0, "length": 18}],
        "reply_to_message": {"message_id": 1, "date": 1764316800, "chat": chat, "text": "earlier"},
        "message_thread_id": 77, "is_topic_message": False, "media_group_id": "13847295610",
        "edit_date": 1764316900, "caption_entities": [], "link_preview_options": {"is_disabled": True},
    }
    for key, good in optional.items():
        if draw(st.booleans()):
            message[key] = draw(maybe(good))
    if draw(st.booleans()):
        message["document"] = {"file_id": "BQACAgIAAxkBAAI" + draw(st.text("abcXYZ09_-", max_size=20)),
                               "file_unique_id": draw(st.text("abcXYZ09_-", min_size=1, max_size=20)),
                               "file_size": draw(maybe(1234)), "file_name": draw(maybe("receipt.pdf") | TEXT),
                               "mime_type": draw(maybe("application/pdf"))}
    if draw(st.booleans()):
        message["future_" + draw(st.text("abc", max_size=6))] = draw(JSON)  # a field Telegram may add one day
    broken = draw(st.booleans())
    if broken:
        part = draw(st.sampled_from(["message_id", "date", "chat", "chat id", "chat type", "from", "text"]))
        if part in ("message_id", "date"):
            message.pop(part) if draw(st.booleans()) else message.update({part: draw(BAD_ID)})
        elif part == "chat":
            message["chat"] = draw(NOT_TEXT | st.just({}))
        elif part == "chat id":
            message["chat"] = {**chat, "id": draw(BAD_ID)}
        elif part == "chat type":
            message["chat"] = {**chat, "type": draw(NOT_TEXT)}
        elif part == "from":
            message["from"] = draw(NOT_TEXT.filter(lambda v: v is not None) | st.just({"id": user_id}))
        else:
            message["text"] = draw(NOT_TEXT.filter(lambda v: v is not None))
    update = {"update_id": next(UPDATE_IDS), draw(st.sampled_from(["message", "message", "edited_message"])): message}
    cleaned = storable(text)
    if not broken and utf16(cleaned) > TEXT_LIMIT:
        broken = True  # longer than Telegram lets anyone write: not a Telegram message
    stored = None if broken or "edited_message" in update or not (cleaned or "document" in message) \
        else f"{chat['id']}:{message_id}"
    return update, stored, broken


@st.composite
def other_update(draw: st.DrawFn) -> tuple[dict[str, Any], str | None, bool]:
    """A button press, a join, or an update of a kind the adapter does not ask for."""
    kind = draw(st.sampled_from(["callback_query", "chat_member", "ignored"]))
    update: dict[str, Any] = {"update_id": next(UPDATE_IDS)}
    user = draw(person(5003))
    if kind == "callback_query":
        query_id = str(next(MESSAGE_IDS))
        data = draw(st.text(min_size=1, max_size=64))
        query: dict[str, Any] = {"id": query_id, "from": user, "chat_instance": "-88123", "data": data}
        if draw(st.booleans()):
            query["message"] = draw(maybe({"message_id": 46, "date": 1764316808, "chat": {"id": 5003,
                                                                                           "type": "private"}}))
        update["callback_query"] = query
        return update, f"cb:{query_id}", False
    if kind == "chat_member":
        update["chat_member"] = {"chat": {"id": GROUP, "type": "supergroup", "title": "OKPay Community"},
                                 "from": user, "date": 1764316808, "old_chat_member": {"status": "left", "user": user},
                                 "new_chat_member": {"status": draw(maybe("member")), "user": user}}
        broken = not isinstance(update["chat_member"]["new_chat_member"]["status"], str) or len(
            update["chat_member"]["new_chat_member"]["status"]) > 32
        return update, None, broken
    update[draw(st.sampled_from(["poll", "message_reaction", "channel_post", "business_message"]))] = draw(HOSTILE)
    return update, None, False


UPDATES = message_update() | other_update()


@FUZZ
@given(case=UPDATES)
async def test_generated_updates_are_stored_whole_or_refused_whole(hook: Hook, case) -> None:  # type: ignore[no-untyped-def]
    update, expected, broken = case
    event("refused" if broken else "stored" if expected else "ignored")
    body = dumps(update).encode()
    before = await inbound(hook.store)
    status = await hook.post(body)
    after = await inbound(hook.store)
    new = set(after) - set(before)
    readable = parses(body)  # an ignored kind may hold JSON too deep, or numbers too long, for Python to read
    if readable is False or (readable is None and status == 400):
        assert (status, new) == (400, set()), hook.answer
    elif broken:
        assert (status, new) == (400, set()), hook.answer
    else:
        assert (status, new) == (200, {expected} if expected else set()), hook.answer
    for platform_id in new:
        complete(after[platform_id])


# ---- mutations of the sample updates ---------------------------------------------------------------------


def _refresh(update: dict[str, Any]) -> None:
    """New ids for the sample, so each example stores its own (a redelivery would be a duplicate)."""
    update["update_id"] = next(UPDATE_IDS)
    for kind in ("message", "edited_message"):
        if kind in update:
            update[kind]["message_id"] = next(MESSAGE_IDS)
    if "callback_query" in update:
        update["callback_query"]["id"] = str(next(MESSAGE_IDS))


@st.composite
def mutated_sample(draw: st.DrawFn) -> Any:
    value: Any = copy.deepcopy(draw(st.sampled_from(SAMPLES)))
    _refresh(value)
    return mutate(draw, value)


@FUZZ
@given(value=mutated_sample())
async def test_mutated_samples_never_fail_the_server_nor_half_store(hook: Hook, value: Any) -> None:
    before = await inbound(hook.store)
    status = await hook.post(dumps(value).encode())
    after = await inbound(hook.store)
    new = set(after) - set(before)
    event(f"{status}, {'stored' if new else 'nothing stored'}")
    assert status in (200, 400, 413), hook.answer  # 413: three huge strings are more than the app reads
    # at most the message itself and, for an escalation, the customer's message it points at (a mutation may have
    # changed the ids the sample was given)
    assert len(new) <= 2 and (status == 200 or not new), (status, new)
    for platform_id in new:
        complete(after[platform_id])


@FUZZ
@given(body=st.binary(max_size=400) | JSON.map(lambda v: dumps(v).encode()) | DEEP.map(lambda d: d.text().encode())
       | HOSTILE.map(lambda v: dumps({"update_id": 1, "message": v}).encode()))
async def test_any_body_with_the_secret_is_a_client_error_or_ignored(hook: Hook, body: bytes) -> None:
    before = await inbound(hook.store)
    assert await hook.post(body) in (200, 400), hook.answer
    assert await inbound(hook.store) == before


PRIVATE_TEXT: dict[str, Any] = {"update_id": 7, "message": {
    "message_id": 1, "date": 1, "chat": {"id": 5001, "type": "private", "first_name": "Ann"},
    "from": {"id": 5001, "is_bot": False, "first_name": "Ann"}, "text": "hi"}}


@pytest.mark.parametrize(("body", "status", "why"), [
    ("[" * 100_000 + "]" * 100_000, 400, "malformed JSON"),
    ('{"update_id": 1, "x": ' + "[" * 5000 + "]" * 5000 + "}", 400, "malformed JSON"),
    ('{"update_id": 1, "message": ' + '{"a":' * 200 + "1" + "}" * 200 + "}", 400, "not a Telegram update"),
    ('{"update_id": 1' + "0" * 5000 + "}", 400, "malformed JSON"),
    ('{"update_id": true}', 400, "not a Telegram update"),
    ('{"update_id": 1e3}', 400, "not a Telegram update"),
    ('{"update_id": 18446744073709551616}', 400, "not a Telegram update"),
    ('{"update_id": 7, "message": {"message_id": 1, "date": 1, "chat": {"id": "5001", "type": "private"}}}', 400,
     "message.chat.id"),
    ('{"update_id": 7, "message": {"message_id": 1, "date": 1, "chat": {"id": 5001, "type": "private"}, '
     '"voice": {"file_id": "a", "file_unique_id": "b"}}}', 400, "python-telegram-bot"),
    ('{"update_id": 7, "message": {"message_id": 1, "date": 99999999999999, "chat": {"id": 5001, "type": "private"}, '
     '"text": "hi"}}', 400, "out of range"),
    ('{"update_id": 7, "poll": {"id": []}}', 200, "ok"),
    ('{"update_id": 7}', 200, "ok"),
    # README (Telegram): texts over 4096 characters are refused, as Telegram itself would (it counts UTF-16 units)
    (json.dumps(PRIVATE_TEXT | {"message": PRIVATE_TEXT["message"] | {"text": "x" * 4097}}), 400,
     "longer than Telegram's 4096 characters"),
    (json.dumps(PRIVATE_TEXT | {"message": PRIVATE_TEXT["message"] | {"text": "😀" * 2049}}), 400,
     "longer than Telegram's 4096 characters"),
])
async def test_hostile_updates_get_a_clear_answer(hook: Hook, body: str, status: int, why: str) -> None:
    before = await inbound(hook.store)
    assert await hook.post(body.encode()) == status
    assert why in hook.answer
    assert await inbound(hook.store) == before


async def test_a_text_of_exactly_4096_characters_is_stored(hook: Hook) -> None:
    """The limit is Telegram's own: a text at it is a customer's message like any other."""
    text = "😀" * 2047 + "ab"  # 4096 UTF-16 units
    assert await hook.post(json.dumps(PRIVATE_TEXT | {"message": PRIVATE_TEXT["message"] | {"text": text}}).encode()
                           ) == 200, hook.answer
    assert (await inbound(hook.store))["5001:1"].text == text


async def test_a_message_with_a_lone_surrogate_a_nul_and_odd_side_fields_is_stored_readable(hook: Hook) -> None:
    update = copy.deepcopy(next(u for u in SAMPLES if u.get("message", {}).get("text", "").startswith("How do I")))
    message = update["message"]
    message.update(text="pay\ud800ment\x00 stuck", entities="not a list", reply_to_message=[1])
    message["from"].update(username=["x"], first_name="A" * 5000, language_code="x" * 40)
    assert await hook.post(json.dumps(update).encode()) == 200, hook.answer
    row = (await inbound(hook.store))[f"{message['chat']['id']}:{message['message_id']}"]
    complete(row)
    assert row.text == "pay\ufffdment stuck" and row.author_name == "A" * 64 + " Lee"  # Telegram's 64


async def test_an_unreadable_update_is_kept_on_disk_for_an_operator(hook: Hook, tmp_path: Path) -> None:
    body = '{"update_id": 4242, "message": {"message_id": "x", "date": 1, "chat": {"id": 5, "type": "private"}}}'
    assert await hook.post(body.encode()) == 400
    kept = tmp_path / "telegram" / "failed-updates" / "4242.json"
    assert json.loads(kept.read_text())["message"]["message_id"] == "x"
    assert await hook.store.scalar(select(func.count()).select_from(Message)) == 0


# ---- polling: the same updates served by getUpdates --------------------------------------------------------


@pytest_asyncio.fixture
async def poller(engine, store, tmp_path) -> AsyncIterator[tuple[FakeTelegram, TelegramAdapter]]:  # type: ignore[no-untyped-def]
    async with FakeTelegram(max_long_poll=0.5) as fake:
        adapter = TelegramAdapter(settings_for(fake, poll_timeout_seconds=1), data_dir=tmp_path, cursor_store=store)
        await adapter.start(engine)
        await wait_until(lambda: adapter.health.receiving, what="polling")
        try:
            yield fake, adapter
        finally:
            await adapter.stop()


@FUZZ
@given(batch=st.lists(UPDATES | mutated_sample().map(lambda m: (m, None, None)), min_size=1, max_size=4))
async def test_polling_passes_every_update_and_stores_what_it_can_read(  # type: ignore[no-untyped-def]
        poller, store, batch) -> None:
    fake, adapter = poller
    before = await inbound(store)
    served = []
    for update, _, _ in batch:
        try:  # the fake serves Python values: spliced text (deep nesting, odd numbers) is read back first
            update = json.loads(dumps(update))
        except (ValueError, RecursionError):
            continue
        if _depth(update) > 40:
            continue  # deeper than the fake's own JSON writer goes (not something Telegram sends)
        if not isinstance(update, dict) or type(update.get("update_id")) is not int:
            update = {"update_id": next(UPDATE_IDS), "message": update}  # getUpdates always gives each an id
        if set(update) & set(ALLOWED_UPDATES) or set(update) == {"update_id"}:
            served.append(update["update_id"])  # (Telegram never sends kinds the bot did not ask for)
        await fake.redeliver(update)
    await wait_until(lambda: not set(served) & set(fake.pending), 10, "the batch confirmed")
    after = await inbound(store)
    new = set(after) - set(before)
    wanted = {expected for _, expected, broken in batch if expected and broken is False}
    assert wanted <= new
    for platform_id in new:
        complete(after[platform_id])
    assert adapter.health.receiving, adapter.health.error


def _depth(value: Any) -> int:
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            todo += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            todo += [(v, depth + 1) for v in item]
    return deepest
