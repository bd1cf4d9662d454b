"""An agent writing a reply shows "typing…" on Telegram (Bot API sendChatAction), through the real engine, inbox,
dispatcher, typing indicators and python-telegram-bot against the fake Bot API: in the chat (and forum topic) the
reply goes to, at most once per 4 s, never in public for a private ticket, and never at a reply's expense."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from core.typing_indicators import TypingIndicators
from tests.fakes.telegram_world import telegram_world, wait_until

GROUP = -1001234567890


@asynccontextmanager
async def typing_for(world: Any, store: Any, bus: Any) -> AsyncIterator[TypingIndicators]:
    typing = TypingIndicators(store, bus, {"telegram": world.adapter})
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
