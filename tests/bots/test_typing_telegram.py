"""An agent writing a reply shows "typing…" on Telegram (Bot API sendChatAction), through the real engine, inbox,
dispatcher, typing indicators and python-telegram-bot against the fake Bot API: in the chat (and forum topic) the
reply goes to, at most once per 4 s, never in public for a private ticket, and never at a reply's expense."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from core import typing_indicators
from core.typing_indicators import TypingIndicators
from tests.fakes.telegram_world import telegram_world, wait_until

GROUP = -1001234567890


@asynccontextmanager
async def typing_for(world: Any, store: Any, bus: Any, **options: Any) -> AsyncIterator[TypingIndicators]:
    """``options``: TypingIndicators' own (``paused_for``: the dispatcher's pacing, as core/runner.py wires it)."""
    typing = TypingIndicators(store, bus, {"telegram": world.adapter}, **options)
    await typing.start()
    try:
        yield typing
    finally:
        await typing.stop()


async def _private_ticket(world: Any, store: Any, user_id: int = 5001) -> int:
    fake = world.fake
    user = fake.user(user_id, "Ann")
    asked = fake.message(fake.private_chat(user), user, "/human my withdrawal is stuck")
    await fake.deliver("message", asked)
    row = await world.stored(store, f"{user_id}:{asked['message_id']}", until=lambda r: r.ticket_id)
    return int(row.ticket_id)


def _actions(fake: Any) -> list[tuple[int, str, int | None]]:
    return [(chat, action, topic) for chat, action, topic, _ in fake.chat_actions]


async def test_an_agent_writing_shows_typing_in_the_customers_chat_once_per_four_seconds(
        engine, inbox, store, bus, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store) as world, typing_for(world, store, bus) as typing:
        fake = world.fake
        ticket_id = await _private_ticket(world, store)
        await make_dispatcher({"telegram": world.adapter}).drain()
        sent = len(fake.sent)

        await inbox.typing(ticket_id)
        await wait_until(lambda: _actions(fake) == [(5001, "typing", None)], what="typing in Ann's chat")
        await inbox.typing(ticket_id)  # the agent keeps writing: Telegram still shows it (5 s)
        await typing.settled()
        assert _actions(fake) == [(5001, "typing", None)] and len(fake.sent) == sent  # nothing was sent


async def test_typing_goes_into_the_forum_topic_the_reply_goes_to(engine, store, bus, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store) as world, typing_for(world, store, bus) as typing:
        fake = world.fake
        forum = fake.group(GROUP, "OKPay 社区", forum=True)
        li = fake.user(5002, "李")
        topic = fake.message(forum, li, None, forum_topic_created={"name": "帮助", "icon_color": 7322096})
        bus.publish("typing", channel="telegram", conversation=f"{GROUP}:{topic['message_id']}", who="agent",
                    ticket_id=1)
        await wait_until(lambda: fake.chat_actions, what="typing in the topic")
        await typing.settled()
        assert _actions(fake) == [(GROUP, "typing", topic["message_id"])]


async def test_a_private_ticket_never_types_in_the_public_group_the_customer_came_from(
        engine, inbox, store, bus, make_dispatcher, tmp_path):
    """Ann asked for a person in the group and never opened the bot: replies go privately (Telegram refuses them
    and a public note says an answer waits). Typing goes where the reply goes, so it is refused too: nothing in
    the group."""
    async with telegram_world(engine, tmp_path, cursor_store=store) as world, typing_for(world, store, bus) as typing:
        fake = world.fake
        ann = fake.user(5001, "Ann", username="ann_w")
        asked = fake.message(fake.group(GROUP, "OKPay Community"), ann, "/human my withdrawal is stuck")
        await fake.deliver("message", asked)
        row = await world.stored(store, f"{GROUP}:{asked['message_id']}", until=lambda r: r.ticket_id)

        await inbox.typing(int(row.ticket_id))
        await wait_until(lambda: fake.failed("sendChatAction") == 1, what="the refused typing")
        await typing.settled()
        tried = [params for method, params in fake.calls if method == "sendchataction"]
        assert [p["chat_id"] for p in tried] == ["5001"] and fake.chat_actions == []


async def test_a_refused_typing_call_is_dropped_and_the_reply_right_after_goes_out(
        engine, inbox, store, bus, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store) as world, typing_for(world, store, bus) as typing:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        ann, bob, carl = [await _private_ticket(world, store, user) for user in (5001, 5003, 5004)]
        await dispatcher.drain()

        fake.fail_next("sendChatAction", 500)
        await inbox.typing(ann)
        await wait_until(lambda: fake.failed("sendChatAction") == 1, what="a 500 on typing")
        fake.fail_next("sendChatAction", 429, retry_after=30)
        await inbox.typing(bob)  # a flood wait answered to a typing call: typing stops, replies do not
        await wait_until(lambda: fake.failed("sendChatAction") == 2, what="a 429 on typing")
        await typing.settled()

        began = time.monotonic()
        await inbox.reply(ann, "Your withdrawal is on its way.")
        await dispatcher.drain()
        assert time.monotonic() - began < 3.0
        assert fake.sent_to(5001)[-1]["text"] == "Your withdrawal is on its way."
        await inbox.typing(carl)  # within Telegram's retry_after (which holds the whole bot): not even tried
        await typing.settled()
        assert [m for m, _ in fake.calls].count("sendchataction") == 2 and fake.chat_actions == []


def _typing_calls(fake: Any) -> list[tuple[float, int]]:
    """(when, HTTP status) of every sendChatAction the fake Bot API answered."""
    return [(at, status) for at, method, status in fake.timeline if method == "sendchataction"]


async def test_no_typing_is_tried_while_a_flood_wait_pauses_the_channel(
        engine, inbox, store, bus, make_dispatcher, tmp_path):
    """README (Channels): no typing is tried while a channel is paused by a flood wait; after it, typing works."""
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        async with typing_for(world, store, bus, paused_for=dispatcher.pacing.paused_for) as typing:
            ann = await _private_ticket(world, store)
            await dispatcher.start()
            try:
                fake.fail_next("sendMessage", 429, retry_after=2)  # a flood wait: the whole bot waits 2 s
                await inbox.reply(ann, "Your withdrawal is on its way.")
                await wait_until(lambda: dispatcher.pacing.paused_for("telegram") > 0, what="the flood wait")

                await inbox.typing(ann)
                await typing.settled()
                assert dispatcher.pacing.paused_for("telegram") > 0  # still paused: the check above was in time
                assert _typing_calls(fake) == []  # not even tried: it would only be refused

                await wait_until(lambda: any(m["text"] == "Your withdrawal is on its way." for m in fake.sent_to(5001)),
                                 what="the reply after the flood wait")
                await inbox.typing(ann)
                await wait_until(lambda: _actions(fake) == [(5001, "typing", None)], what="typing after the wait")
            finally:
                await dispatcher.stop()


async def test_a_429_on_typing_stops_typing_for_as_long_as_telegram_asks_then_it_resumes(
        engine, inbox, store, bus, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store) as world, typing_for(world, store, bus) as typing:
        fake = world.fake
        ann, bob = [await _private_ticket(world, store, user) for user in (5001, 5003)]
        fake.fail_next("sendChatAction", 429, retry_after=1)
        await inbox.typing(ann)
        await wait_until(lambda: fake.failed("sendChatAction") == 1, what="a 429 on typing")
        await typing.settled()

        async def typed() -> bool:  # the agent keeps writing to Bob, an event every 50 ms
            await inbox.typing(bob)
            await typing.settled()
            return bool(fake.chat_actions)

        await wait_until(typed, timeout=4, what="typing again after retry_after")
        (refused, _), (resumed, status) = _typing_calls(fake)  # nothing was tried in between
        assert status == 200 and 0.9 <= resumed - refused < 2.0  # the platform's 1 s: not sooner, not much later
        assert _actions(fake) == [(5003, "typing", None)]


async def test_a_hanging_typing_call_is_abandoned_after_its_timeout(
        engine, inbox, store, bus, tmp_path, monkeypatch: pytest.MonkeyPatch):
    """README (Channels): typing calls have a 5 s timeout (shortened here; the default is checked)."""
    assert typing_indicators.CALL_TIMEOUT == 5.0
    monkeypatch.setattr(typing_indicators, "CALL_TIMEOUT", 0.3)
    async with telegram_world(engine, tmp_path, cursor_store=store) as world, typing_for(world, store, bus) as typing:
        fake = world.fake
        ann = await _private_ticket(world, store)
        answer = asyncio.Event()

        async def hang(params: Any) -> bool:  # Telegram takes the call and never answers (until the test ends)
            await answer.wait()
            return True

        monkeypatch.setattr(fake, "_m_sendchataction", hang)
        try:
            await inbox.typing(ann)
            await wait_until(lambda: any(m == "sendchataction" for m, _ in fake.calls), what="the typing call")
            began = time.monotonic()
            await asyncio.wait_for(typing.settled(), 3)  # the call was given up: nothing of it is left running
            assert time.monotonic() - began < 2.0
        finally:
            answer.set()
