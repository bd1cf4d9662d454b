"""Typing both ways on Discord, with the real discord.py against the fake Discord (REST and gateway), the real
engine, inbox, dispatcher and typing indicators: an agent writing shows the bot typing where the reply goes (the
DM, the customer's private thread), and a customer typing there is announced for their ticket's page (TYPING_START
reaches the bot only because it asks for the typing intents)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from core.typing_indicators import TypingIndicators
from tests.fakes.discord_scene import build, running
from tests.fakes.discord_world import PRIVATE_THREAD

ACCOUNT_QUESTION = "My transfer of 500 USD to my brother is missing, transaction id 88231, please check"


@asynccontextmanager
async def typing_for(h: Any, store: Any, bus: Any) -> AsyncIterator[TypingIndicators]:
    typing = TypingIndicators(store, bus, {"discord": h.adapter})
    typing.attach({"discord": h.adapter})
    await typing.start()
    try:
        yield typing
    finally:
        await typing.stop()


async def customer_typing(events: asyncio.Queue[Any], timeout: float = 5.0) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        while True:
            event = await events.get()
            if event.kind == "typing" and event.data.get("who") == "customer":
                return dict(event.data)

    return await asyncio.wait_for(first(), timeout)


async def test_an_agent_writing_shows_the_bot_typing_in_the_customers_dm_and_the_customer_typing_back(
        engine, inbox, store, bus, make_dispatcher):
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store) as h, typing_for(h, store, bus) as typing, \
            bus.subscribe() as events:
        asked = await fake.user_dm(scene.alice, "/human my transfer is missing")
        ticket_id = (await h.handled(asked["id"])).ticket_id
        dm = fake.dm_channel(scene.alice["id"])

        await inbox.typing(ticket_id)
        await fake.wait_for(lambda: fake.typing_in(dm["id"]), what="the bot typing in Alice's DM")
        await inbox.typing(ticket_id)  # Discord shows it for 10 s: no second call now
        await typing.settled()
        assert [cid for cid, _ in fake.typing_calls] == [int(dm["id"])] and fake.sent == []

        await fake.user_types(scene.bob, fake.dm_channel(scene.bob["id"]))  # Bob has no ticket: nothing to show
        assert await fake.user_types(scene.alice, dm)  # delivered: the bot asked for the DM typing intent
        shown = await customer_typing(events)
        assert (shown["ticket_id"], shown["channel"], shown["seconds"]) == (ticket_id, "discord", 10.0)


async def test_the_private_thread_gets_the_typing_and_a_moderator_typing_there_is_not_the_customer(
        engine, inbox, store, bus, make_dispatcher):
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store, private_followup="thread") as h, \
            typing_for(h, store, bus) as typing, bus.subscribe() as events:
        asked = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        ticket_id = (await h.handled(asked["id"])).ticket_id
        await make_dispatcher({"discord": h.adapter}).drain()
        [thread] = [c for c in fake.channels.values() if c["type"] == PRIVATE_THREAD]

        await inbox.typing(ticket_id)
        await fake.wait_for(lambda: fake.typing_calls, what="the bot typing")
        await typing.settled()
        assert [cid for cid, _ in fake.typing_calls] == [int(thread["id"])]  # never in #general

        await fake.user_types(scene.mona, thread)  # a moderator looking into it
        await fake.user_types(scene.alice, thread)
        shown = await customer_typing(events)
        assert shown["ticket_id"] == ticket_id and shown["conversation"] == f"thread:{scene.general['id']}:" \
            f"{scene.alice['id']}"
        await typing.settled()
        later = [events.get_nowait() for _ in range(events.qsize())]
        assert not [e for e in later if e.kind == "typing"]  # one announcement: Alice's, none for Mona


async def test_typing_never_opens_the_private_thread_it_would_type_in(engine, inbox, store, bus):
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store, private_followup="thread") as h, \
            typing_for(h, store, bus) as typing:
        asked = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        ticket_id = (await h.handled(asked["id"])).ticket_id  # the thread opens with the first reply, not yet
        await inbox.typing(ticket_id)
        await typing.settled()
        assert fake.typing_calls == [] and not [c for c in fake.channels.values() if c["type"] == PRIVATE_THREAD]
        assert ("POST", f"/api/v10/channels/{scene.general['id']}/threads") not in fake.requests


async def test_a_refused_typing_call_is_dropped_and_the_reply_right_after_goes_out(
        engine, inbox, store, bus, make_dispatcher):
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store) as h, typing_for(h, store, bus) as typing:
        asked = await fake.user_dm(scene.alice, "/human my transfer is missing")
        ticket_id = (await h.handled(asked["id"])).ticket_id
        dispatcher = make_dispatcher({"discord": h.adapter})
        await dispatcher.drain()
        fake.fail_next_typing(429, retry_after=5.0)
        await inbox.typing(ticket_id)
        await fake.wait_for(lambda: any(p.endswith("/typing") for _, p in fake.requests), what="the typing call")
        await typing.settled()

        began = time.monotonic()
        await inbox.reply(ticket_id, "Found it: the transfer is on hold for a check.")
        await dispatcher.drain()
        assert time.monotonic() - began < 3.0
        assert fake.sent[-1]["content"] == "Found it: the transfer is on hold for a check."
        assert fake.typing_calls == []
