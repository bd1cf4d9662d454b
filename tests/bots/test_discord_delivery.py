"""Delivery and connection faults: rate limits, server errors, a blocked user, a dropped gateway
socket, shards. What a customer notices: every reply arrives exactly once, nothing they wrote is lost."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from core.models import utcnow
from core.store.tables import Message, Outbox
from tests.fakes.discord_scene import build, running


async def _handoff(h, scene):  # type: ignore[no-untyped-def]
    """Alice asks for a person in DM; returns the ticket id and drains the acknowledgement."""
    msg = await scene.fake.user_dm(scene.alice, "/human")
    return (await h.handled(msg["id"])).ticket_id


async def _rows(store):  # type: ignore[no-untyped-def]
    return list(await store.all(select(Outbox).order_by(Outbox.id)))


async def _attempted(dispatcher, store):  # type: ignore[no-untyped-def]
    """Passes until the newest row was tried once: the dispatcher paces a conversation (1 message/s)
    and gives a row back, untried, while its conversation must wait."""
    deadline = asyncio.get_running_loop().time() + 5
    while (row := (await _rows(store))[-1]).status == "queued":
        assert asyncio.get_running_loop().time() < deadline, "the reply was never tried"
        await dispatcher.run_once()
        await asyncio.sleep(0.05)
    return row


@pytest.mark.parametrize("retry_after", [0.3, 1.5])
async def test_429_is_waited_out_by_the_dispatcher_and_the_reply_is_delivered_exactly_once(
        engine, store, inbox, make_dispatcher, retry_after):
    """discord.py would sleep on a 429 inside the send; the adapter hands it to the dispatcher as
    RateLimited(retry_after), which reschedules the row after exactly that long."""
    scene = build()
    async with running(engine, scene) as h:
        ticket = await _handoff(h, scene)
        dispatcher = make_dispatcher({"discord": h.adapter})
        await inbox.reply(ticket, "Looking into it.")  # the agent's first reply (and any notice it brings)
        await dispatcher.drain()
        scene.fake.fail_next_sends(429, retry_after=retry_after)
        await inbox.reply(ticket, "Your transfer is back.")
        row = await _attempted(dispatcher, store)
        assert row.status == "failed" and row.last_error.startswith("rate limited")
        [refused_at] = scene.fake.rejected_at
        assert abs((row.next_attempt_at - refused_at).total_seconds() - retry_after) < 0.2
        await dispatcher.drain(timeout=15)

        assert scene.fake.rejected_429 == 1
        assert [m["content"] for m in scene.fake.sent].count("Your transfer is back.") == 1
        row = (await _rows(store))[-1]
        assert row.status == "sent" and row.attempts == 1  # a 429 does not use up an attempt
        assert (row.sent_at - refused_at).total_seconds() >= retry_after - 0.05


async def test_rate_limit_headers_are_honoured_before_discord_has_to_refuse(engine, store, inbox, make_dispatcher):
    scene = build()
    scene.fake.bucket_limit, scene.fake.bucket_window = 2, 0.6
    async with running(engine, scene, rate_per_conversation_per_second=100.0, max_ratelimit_wait=1.0) as h:
        ticket = await _handoff(h, scene)
        for i in range(5):
            await inbox.reply(ticket, f"update {i}")
        await make_dispatcher({"discord": h.adapter}).drain(timeout=15)
        contents = [m["content"] for m in scene.fake.sent if "has joined the conversation" not in m["content"]]
        assert contents[1:] == [f"update {i}" for i in range(5)]
        assert scene.fake.rejected_429 == 0  # X-RateLimit-Remaining: 0 made discord.py wait first


async def test_server_errors_are_retried_and_a_blocked_user_is_given_up(engine, store, inbox, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        ticket = await _handoff(h, scene)
        dispatcher = make_dispatcher({"discord": h.adapter})
        await inbox.reply(ticket, "Looking into it.")  # the agent's first reply (and the "joined" notice it brings)
        await dispatcher.drain()
        scene.fake.fail_next_sends(500, count=2)
        await inbox.reply(ticket, "after an outage")
        await dispatcher.drain(timeout=15)
        assert [m["content"] for m in scene.fake.sent].count("after an outage") == 1
        row = (await _rows(store))[-1]
        assert row.status == "sent" and row.attempts == 3

        scene.fake.fail_next_sends(403)  # "Cannot send messages to this user" (DMs closed, bot blocked)
        await inbox.reply(ticket, "never arrives")
        await dispatcher.drain()
        row = (await _rows(store))[-1]
        assert row.status == "dead" and "50007" in row.last_error
        assert "never arrives" not in [m["content"] for m in scene.fake.sent]


async def test_a_split_reply_failing_halfway_is_completed_without_repeating_the_first_part(
        engine, store, inbox, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        ticket = await _handoff(h, scene)
        dispatcher = make_dispatcher({"discord": h.adapter})
        await inbox.reply(ticket, "Looking into it.")  # the agent's first reply (and the "joined" notice it brings)
        await dispatcher.drain()
        before = len(scene.fake.sent)
        long_reply = "\n\n".join(f"Part {i}. " + "Details of the check we ran. " * 40 for i in range(3))
        scene.fake.fail_next_sends(502, after=1)  # the first part goes out, the second fails
        await inbox.reply(ticket, long_reply)
        await dispatcher.drain(timeout=15)
        parts = scene.fake.sent[before:]
        assert len({m["id"] for m in parts}) == len(parts) >= 2  # no part posted twice
        assert " ".join(" ".join(m["content"] for m in parts).split()) == " ".join(long_reply.split())
        # the stored reply carries the id of its first part (the echo guard's key)
        row = (await _rows(store))[-1]
        out = await store.scalar(select(Message).where(Message.id == row.message_id))
        assert out.platform_id == parts[0]["id"]


async def test_a_dropped_gateway_resumes_and_a_replayed_event_creates_nothing_twice(
        engine, store, kb, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        first = await fake.user_dm(scene.alice, "how do I reset my password")
        await h.handled(first["id"])
        # Discord drops the socket (close 4000) and, while the bot is away, bob writes
        fake.replay_on_resume = [fake.frame_of("MESSAGE_CREATE", first["id"])]  # at-least-once
        await fake.drop()
        missed = await fake.user_dm(scene.bob, "忘记密码了怎么办")
        outcome = await h.handled(missed["id"])
        assert outcome.action == "answer"  # nothing lost: replayed after RESUME
        assert (await h.handled(first["id"], count=2)).action == "duplicate"  # nothing twice

        [resume] = fake.resumes
        assert resume["session_id"] in fake.sessions and resume["seq"] >= 3  # READY, GUILD_CREATEs, message
        assert len(fake.identifies) == 1  # resumed, not re-identified
        assert ("GET", "/gateway-resume") in fake.requests  # at READY's resume_gateway_url
        await make_dispatcher({"discord": h.adapter}).drain()
        assert [m["content"] for m in fake.sent] == [kb.answer("login", "en"), kb.answer("login", "zh-Hans")]
        assert len(await store.messages_for_conversation("discord", f"dm:{scene.alice['id']}")) == 2


async def test_two_shards_serve_two_guilds(engine, store, make_dispatcher):
    scene = build(shard_count=2)  # /gateway/bot recommends 2 shards; one guild on each
    async with running(engine, scene) as h:
        fake = scene.fake
        assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
        assert fake.shard_of(scene.okpay["id"]) != fake.shard_of(scene.cn["id"])
        a = await fake.guild_message(scene.general, scene.alice, "how do I reset my password", mention_bot=True)
        b = await fake.guild_message(scene.cn_general, scene.alice, "忘记密码了怎么办", mention_bot=True)
        assert (await h.handled(a["id"])).action == "answer"
        assert (await h.handled(b["id"])).action == "answer"
        await make_dispatcher({"discord": h.adapter}).drain()
        assert sorted(m["channel_id"] for m in fake.sent) == sorted([scene.general["id"], scene.cn_general["id"]])
        assert {m["message_reference"]["message_id"] for m in fake.sent} == {a["id"], b["id"]}


async def test_a_revoked_token_keeps_the_reply_queued_until_the_credentials_work(
        engine, store, inbox, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        ticket = await _handoff(h, scene)
        dispatcher = make_dispatcher({"discord": h.adapter})
        await inbox.reply(ticket, "Looking into it.")  # the agent's first reply (and the "joined" notice it brings)
        await dispatcher.drain()
        scene.fake.fail_next_sends(401)  # the token was reset in the Developer Portal
        await inbox.reply(ticket, "Your refund was approved.")
        row = await _attempted(dispatcher, store)
        assert row.status == "failed" and "401" in row.last_error
        assert (row.next_attempt_at - utcnow()).total_seconds() > 250  # waits for an operator, not dead

        async with store.transaction() as session:  # credentials fixed: skip the five-minute wait
            await session.execute(update(Outbox).where(Outbox.id == row.id).values(next_attempt_at=utcnow()))
        await dispatcher.drain()
        assert [m["content"] for m in scene.fake.sent].count("Your refund was approved.") == 1
        assert (await _rows(store))[-1].status == "sent"
