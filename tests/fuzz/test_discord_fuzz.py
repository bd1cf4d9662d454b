"""Fuzzing the Discord channel's way in: MESSAGE_CREATE and INTERACTION_CREATE dispatches with generated and
mutated payloads, sent by the fake's real gateway to the real discord.py client and the adapter.

Whatever arrives: the client stays connected on the same session (discord.py may drop an event it cannot read;
the adapter never dies or hangs); nothing is half-stored (each message or button press is stored and handled, or
not stored at all); a message whose optional parts are odd (embeds, attachments, components, a poll, a reference,
flags, fields Discord may add one day) is still stored with its text; a system message (a join, a pin, a thread
notice) never is; and valid events afterwards are stored and answered. The generators know which part they
broke: an ``essential`` part (id, channel, author, member, content, type, the whole payload) may cost the event,
a ``dirty`` one may not.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import discord.utils
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.store import Store
from core.store.tables import Message, Outbox
from tests.contract.harness_discord import DiscordHarness
from tests.fakes.discord_scene import Scene, build, running
from tests.fuzz.json_junk import DEEP, HOSTILE, JSON, TEXT, dumps, parses

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
SURROGATE = re.compile("[\ud800-\udfff]")
# Message fields the channel can do without: odd values here must not cost the customer's text.
OPTIONAL = ("embeds", "components", "reactions", "poll", "attachments", "sticker_items", "activity", "application",
            "application_id", "thread", "interaction", "interaction_metadata", "message_snapshots",
            "referenced_message", "message_reference", "flags", "tts", "pinned", "mention_everyone", "nonce",
            "edited_timestamp", "mentions", "mention_roles", "position", "role_subscription_data", "call",
            "purchase_notification")
# Shapes that look right at first sight: lists of objects with missing or mistyped fields.
SHAPES = st.sampled_from([
    [{"id": "x"}], [{"type": "rich", "title": 5, "fields": [{"name": None}], "color": "red"}],
    [{"id": "1", "filename": 5, "size": "big", "url": None, "content_type": ["image/png"]}],
    [{"type": 1, "components": [{"type": 99, "custom_id": {}}]}], [{"emoji": {"id": "e", "name": 3}, "count": "2"}],
    {"question": {"text": None}, "answers": "none", "expiry": "soon"}, [None, 1, "a", []], {"id": "1"},
])
SYSTEM_TYPES = st.sampled_from([1, 6, 7, 8, 18, 21, 23, 46])  # recipient add, pin, join, boost, thread notices...
BAD_ID = st.sampled_from([None, "", "abc", "１２３", "1.5", "-", [1], {"id": "1"}, "9" * 400])
NOT_TEXT = JSON.filter(lambda v: not isinstance(v, str)) | DEEP
HANDLERS = ("discord.py: on_message", "discord.py: on_interaction", "discord.py: on_raw", "CommandTree")


@dataclass
class Case:
    data: Any  # the dispatch's ``d``
    platform_id: str
    kind: str  # "dirty" (must be stored), "essential" (may be dropped), "system" (never stored)
    what: str


@dataclass
class Channel:
    h: DiscordHarness
    scene: Scene
    store: Store
    markers: int = 0

    @property
    def fake(self) -> Any:
        return self.scene.fake

    async def settled(self) -> None:
        """Until discord.py's handler tasks for what was dispatched have finished (bounded)."""
        def idle() -> bool:
            return not any(not t.done() and t.get_name().startswith(HANDLERS) for t in asyncio.all_tasks())

        await self.fake.wait_for(idle, within=15, what="the event handlers to finish")

    async def still_receiving(self) -> str:
        """The same session is up, and an ordinary message after the fuzzed one is stored and handled: its id."""
        self.markers += 1
        marker = await self.fake.guild_message(self.scene.general, self.scene.bob, f"marker {self.markers}")
        await self.h.handled(marker["id"], within=15)
        await self.settled()
        assert self.h.adapter is not None and self.h.adapter.client is not None
        assert not self.h.adapter.client.is_closed() and self.h.adapter.health.receiving
        assert self.fake.connected() and len(self.fake.identifies) == 1 and not self.fake.resumes
        complete((await inbound(self.store))[marker["id"]])
        return marker["id"]


@pytest_asyncio.fixture
async def channel(engine, store) -> AsyncIterator[Channel]:  # type: ignore[no-untyped-def]
    scene = build()
    async with running(engine, scene, rate_per_second=1000.0, rate_per_conversation_per_second=1000.0) as h:
        yield Channel(h, scene, store)


async def inbound(store: Store) -> dict[str, Message]:
    rows = await store.all(select(Message).where(Message.channel == "discord", Message.direction == "in"))
    return {row.platform_id: row for row in rows}


def complete(row: Message) -> None:
    """Stored whole: triaged, from a customer, in a conversation, with text the store can keep."""
    assert row.handled_at is not None and row.conversation_id is not None, row.platform_id
    assert row.author_kind == "customer", row.platform_id
    assert "\x00" not in row.text and not SURROGATE.search(row.text), row.platform_id


def _mutate_optional(draw: Callable[..., Any], data: dict[str, Any]) -> str:
    names = draw(st.lists(st.sampled_from(OPTIONAL), min_size=1, max_size=4, unique=True))
    for name in names:
        op = draw(st.sampled_from(["remove", "hostile", "shape", "deep"]))
        if op == "remove":
            data.pop(name, None)
        else:
            data[name] = draw({"hostile": HOSTILE, "shape": SHAPES, "deep": DEEP}[op])
    if draw(st.booleans()):  # a field Discord may add one day
        data["future_" + draw(st.text(max_size=8))] = draw(HOSTILE)
    return "dirty " + ",".join(names)


def _break_essential(draw: Callable[..., Any], data: dict[str, Any], guild: bool) -> tuple[Any, str]:
    part = draw(st.sampled_from(["id", "channel_id", "author", "author id", "content", "type", "whole"]
                                + (["member", "guild_id"] if guild else [])))
    if part == "whole":
        return draw(HOSTILE), part
    if part == "author id":
        data["author"]["id"] = draw(BAD_ID)
    elif part == "content":
        data["content"] = draw(NOT_TEXT)
    elif part == "type":
        data["type"] = draw(st.sampled_from([999, -1, "0", None, 2**40, [0]]))
    elif draw(st.booleans()):
        data.pop(part, None)
    else:
        data[part] = draw(BAD_ID if part.endswith("id") else HOSTILE)
    return data, part


@st.composite
def message_case(draw: st.DrawFn, scene: Scene) -> Case:
    """A customer's message in a DM or a server channel, mutated."""
    fake = scene.fake
    guild = draw(st.booleans())
    place = scene.general if guild else fake.dm_channel(scene.alice["id"])
    mention = guild and draw(st.booleans())
    content = draw(TEXT)
    msg = fake.new_message(place, scene.alice["id"], f"<@{fake.bot['id']}> {content}" if mention else content,
                           mentions=[fake.bot["id"]] if mention else [])
    data = copy.deepcopy(msg)
    if guild:
        for m in data["mentions"]:
            m["member"] = fake.member(place["guild_id"], m["id"])
    kind = draw(st.sampled_from(["dirty", "dirty", "essential", "system", "valid"]))
    if kind == "valid":
        return Case(data, msg["id"], "dirty", "valid")
    if kind == "system":
        data["type"] = draw(SYSTEM_TYPES)
        return Case(data, msg["id"], "system", f"type {data['type']}")
    if kind == "dirty":
        return Case(data, msg["id"], "dirty", _mutate_optional(draw, data))
    value, part = _break_essential(draw, data, guild)
    return Case(value, msg["id"], "essential", part)


@st.composite
def press_case(draw: st.DrawFn, scene: Scene) -> Case:
    """A quick-reply button press (or another interaction) in a DM or a server channel, mutated."""
    fake = scene.fake
    guild = draw(st.booleans())
    user = scene.alice
    place = scene.general if guild else fake.dm_channel(user["id"])
    shown = fake.new_message(place, fake.bot["id"], "Pick a topic")
    data = fake._interaction("interaction_component", user, place)
    data["data"] = {"custom_id": "faq:fees", "component_type": 2}
    data["message"] = copy.deepcopy(shown)
    ident = f"ix:{data['id']}"
    kind = draw(st.sampled_from(["dirty", "dirty", "essential", "other"]))
    if kind == "dirty":
        part = draw(st.sampled_from(["custom_id", "locale", "guild_locale", "future", "version"]))
        if part == "custom_id":
            data["data"]["custom_id"] = draw(TEXT)
        elif part == "future":
            data["future_" + draw(st.text(max_size=8))] = draw(HOSTILE)
        else:
            data[part] = draw(TEXT | st.integers())
        return Case(data, ident, "dirty", part)
    if kind == "other":  # another kind of interaction: a ping, an unknown command, a modal, autocomplete
        data["type"] = draw(st.sampled_from([1, 2, 4, 5, 99]))
        data["data"] = draw(st.just({"id": "1", "name": "nope", "type": 1}) | HOSTILE)
        return Case(data, ident, "essential", f"type {data['type']}")
    part = draw(st.sampled_from(["id", "data", "custom_id", "component_type", "user", "member", "channel",
                                 "message", "token", "channel_id", "whole"]))
    if part == "whole":
        return Case(draw(HOSTILE), ident, "essential", part)
    if part in ("custom_id", "component_type"):
        data["data"][part] = draw(NOT_TEXT if part == "custom_id" else HOSTILE)
    elif draw(st.booleans()):
        data.pop(part, None)
    else:
        data[part] = draw(BAD_ID if part.endswith("id") else HOSTILE)
    return Case(data, ident, "essential", part)


async def _check(ch: Channel, case: Case, event_name: str) -> None:
    guild_id = ch.scene.okpay["id"]  # one shard: DMs and the server arrive on the same session
    before = await inbound(ch.store)
    text = dumps(case.data)
    if case.kind == "dirty" and parses(text) is not True:  # nested past what json can decode: the whole frame
        case.kind, case.what = "essential", f"{case.what} (an undecodable frame)"
    await ch.fake.dispatch_text(event_name, text, guild_id=guild_id)
    marker = await ch.still_receiving()
    after = await inbound(ch.store)
    new = set(after) - set(before) - {marker}
    stored = case.platform_id in new
    event(f"{case.kind}: {'stored' if stored else 'not stored'}")
    for platform_id in new:
        complete(after[platform_id])
    if case.kind == "dirty":
        assert stored, f"{case.what}: the message was lost"
    elif case.kind == "system":
        assert not new, case.what


@FUZZ
@given(data=st.data())
async def test_messages_of_any_shape_never_stop_the_channel_nor_half_store(channel: Channel, data) -> None:  # type: ignore[no-untyped-def]
    await _check(channel, data.draw(message_case(channel.scene)), "MESSAGE_CREATE")


@FUZZ
@given(data=st.data())
async def test_interactions_of_any_shape_never_stop_the_channel_nor_half_store(channel: Channel, data) -> None:  # type: ignore[no-untyped-def]
    case = data.draw(press_case(channel.scene))
    await _check(channel, case, "INTERACTION_CREATE")
    if case.kind == "dirty":  # stored, so acknowledged (Discord's 3 s), as any press
        await channel.fake.wait_for(lambda: any(c["id"] == case.platform_id[3:] and c["type"] == 6
                                                for c in channel.fake.callbacks), what="the acknowledgement")


async def test_after_hostile_events_valid_ones_are_stored_and_answered(channel: Channel, make_dispatcher) -> None:
    """A burst of what discord.py cannot read, then a DM and a button press: both answered."""
    fake, scene = channel.fake, channel.scene
    dm = fake.dm_channel(scene.alice["id"])
    hostile = ["[" * 5000 + "]" * 5000, '{"id": "1", "channel_id": ' + "[" * 100_000 + "]" * 100_000 + "}",
               '"\\ud800"', "null", "1e400", '{"id": "' + "9" * 5000 + '"}',
               dumps({**fake.new_message(dm, scene.alice["id"], "hi"), "attachments": [{"id": "x"}], "embeds": [1]})]
    for text in hostile:
        await fake.dispatch_text("MESSAGE_CREATE", text)
        await fake.dispatch_text("INTERACTION_CREATE", text)
    await channel.still_receiving()
    question = await fake.user_dm(scene.alice, "How long does a withdrawal take?")
    await channel.h.handled(question["id"])
    shown = fake.new_message(dm, fake.bot["id"], "Pick a topic")
    press = await fake.press_button(scene.alice, shown, "/human")
    await channel.h.handled(f"ix:{press}")
    await make_dispatcher({"discord": channel.h.adapter}).drain(timeout=20)

    rows = await channel.store.all(select(Outbox))
    assert rows and {r.status for r in rows} == {"sent"}
    answers = [m for m in fake.sent if m["channel_id"] == dm["id"]]
    assert len(answers) >= 2  # the answer to the question and the handoff after the press
    stored = await inbound(channel.store)
    complete(stored[question["id"]])
    complete(stored[f"ix:{press}"])


async def test_a_message_with_a_lone_surrogate_and_a_nul_is_stored_readable(channel: Channel) -> None:
    """JSON may escape what is no Unicode character ("\\ud800") and NUL, which PostgreSQL text cannot hold."""
    fake, scene = channel.fake, channel.scene
    msg = fake.new_message(fake.dm_channel(scene.alice["id"]), scene.alice["id"], "pay\ud800ment\x00 stuck")
    msg["author"]["global_name"] = "Al\udfffice\x00"
    msg["attachments"] = [{**fake.attachment("a\ud800.png", "image/png", 10), "filename": "a\ud800\x00.png"}]
    await fake.dispatch_text("MESSAGE_CREATE", dumps(msg))
    await channel.h.handled(msg["id"])
    row = (await inbound(channel.store))[msg["id"]]
    complete(row)
    assert row.text == "pay\ufffdment stuck"
    assert row.attachments[0]["name"] == "a\ufffd.png"
    assert channel.h.tap.items[msg["id"]].author.display_name == "Al\ufffdice"


def _as_strict_as_orjson(data: str | bytes) -> Any:
    """What orjson (discord.py's "speed" extra) refuses and the standard library reads: an escaped lone
    surrogate ("no low surrogate in string"), a number beyond a double ("number is infinity")."""
    def finite(text: str) -> float:
        if math.isinf(value := float(text)):
            raise ValueError("number is infinity when parsed as double")
        return value

    decoded = json.loads(data, parse_float=finite)
    json.dumps(decoded, ensure_ascii=False).encode("utf-8")  # a lone surrogate: UnicodeEncodeError, a ValueError
    return decoded


@pytest_asyncio.fixture
async def strict_channel(engine, store, monkeypatch) -> AsyncIterator[Channel]:  # type: ignore[no-untyped-def]
    """The channel as with orjson installed: discord.py decodes every frame with a strict decoder."""
    monkeypatch.setattr(discord.utils, "_from_json", _as_strict_as_orjson)
    scene = build()
    async with running(engine, scene, rate_per_second=1000.0, rate_per_conversation_per_second=1000.0) as h:
        yield Channel(h, scene, store)


async def test_with_orjson_installed_a_message_with_a_lone_surrogate_or_a_huge_number_is_not_lost(
        strict_channel: Channel) -> None:
    """A stricter decoder refusing the frame would drop the customer's whole message: the standard library
    reads it instead, and the text arrives as with it."""
    fake, scene = strict_channel.fake, strict_channel.scene
    msg = fake.new_message(fake.dm_channel(scene.alice["id"]), scene.alice["id"], "pay\ud800ment stuck")
    with pytest.raises(ValueError):  # the decoder in place refuses this frame, as orjson does
        _as_strict_as_orjson(dumps(msg))
    odd = fake.new_message(fake.dm_channel(scene.alice["id"]), scene.alice["id"], "still waiting for 1e999 USDT")
    odd_frame = dumps(odd).replace('"nonce"', '"huge": 1e999, "nonce"', 1) if '"nonce"' in dumps(odd) else \
        dumps(odd)[:-1] + ', "huge": 1e999}'
    with pytest.raises(ValueError):
        _as_strict_as_orjson(odd_frame)
    await fake.dispatch_text("MESSAGE_CREATE", dumps(msg))
    await fake.dispatch_text("MESSAGE_CREATE", odd_frame)
    await strict_channel.h.handled(msg["id"])
    await strict_channel.h.handled(odd["id"])
    stored = await inbound(strict_channel.store)
    assert stored[msg["id"]].text == "pay\ufffdment stuck"
    assert stored[odd["id"]].text == "still waiting for 1e999 USDT"
