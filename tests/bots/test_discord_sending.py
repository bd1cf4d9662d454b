"""Sending as Discord defines it. What a customer and an operator notice: after a global 429 the bot
sends nothing at all until Discord's ``retry_after`` has passed (then everything, once); a route's or
a channel's own limit holds only that conversation; a customer whose DMs are closed still learns that
an answer waits (never its text in public); a send repeated with its nonce creates nothing twice."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from core import agent_files
from core.models import OutboundMessage
from core.store.tables import Cursor, Message, Outbox
from tests.fakes.discord_scene import build, running

ACCOUNT_QUESTION = "My transfer of 500 USD to my brother is missing, transaction id 88231, please check"
PRIVATE_ANSWER = "Your transfer 88231 is held for a compliance check until Friday."
LONG = "\n\n".join(f"Part {i} for {{name}}. " + "Details of the check we ran. " * 40 for i in range(3))


async def _tickets(h, scene, users):  # type: ignore[no-untyped-def]
    """Each user asks for a person in DM: user id -> ticket id."""
    found = {}
    for user in users:
        msg = await scene.fake.user_dm(user, "/human")
        found[user["id"]] = (await h.handled(msg["id"])).ticket_id
    return found


async def _rows(store):  # type: ignore[no-untyped-def]
    return list(await store.all(select(Outbox).order_by(Outbox.id)))


@pytest.mark.parametrize("signal", ["both", "body", "headers"])
async def test_a_global_429_stops_every_request_until_discord_says(engine, store, inbox, make_dispatcher, signal):
    """``"global": true`` in the body or ``X-RateLimit-Global`` / ``X-RateLimit-Scope: global`` in the headers.
    Hard case: right after a restart (each reply first opens its DM channel), sends are not paced (1000/s),
    replies have three parts and the API answers slowly, so many sends are half done when the 429 comes.
    Requests already on the wire then cannot be called back: they arrive within a few milliseconds."""
    scene = build()
    fake = scene.fake
    fake.global_signal = signal
    users = [fake.add_user(f"customer{i}") for i in range(12)]
    async with running(engine, scene) as h:
        tickets = await _tickets(h, scene, users)
        await make_dispatcher({"discord": h.adapter}).drain(timeout=20)
    async with running(engine, scene, rate_per_second=1000.0, rate_per_conversation_per_second=100.0) as h:
        fake.send_delay = 0.1
        fake.fail_next_sends(429, scope="global", retry_after=1.5, after=5)
        for user in users:
            await inbox.reply(tickets[user["id"]], LONG.format(name=user["username"]))
        await make_dispatcher({"discord": h.adapter}).drain(timeout=20)

        [(start, end)] = fake.global_blocks
        assert fake.requests_during_blocks(grace=0.05) == []  # nothing at all, not only no message
        assert max(fake.rejected_at_global) - start < 0.05
        said = " ".join(m["content"] for m in fake.sent)
        assert all(said.count(f"Part {i} for {u['username']}.") == 1 for i in range(3) for u in users)
        assert min(t for t in fake.sent_at if t > start) >= end  # the first send after the block, not before
        rows = await _rows(store)
        assert {r.status for r in rows} == {"sent"} and max(r.attempts for r in rows) == 1


@pytest.mark.parametrize("scope", ["user", "shared"])
async def test_a_route_or_resource_429_holds_only_that_conversation(engine, store, inbox, make_dispatcher, scope):
    scene = build()
    fake = scene.fake
    async with running(engine, scene) as h:
        tickets = await _tickets(h, scene, [scene.alice, scene.bob])
        dispatcher = make_dispatcher({"discord": h.adapter})
        for ticket in tickets.values():  # the agent's first replies (and the "joined" notices they bring)
            await inbox.reply(ticket, "Looking into it.")
        await dispatcher.drain(timeout=15)
        fake.fail_next_sends(429, scope=scope, retry_after=2.0)
        await inbox.reply(tickets[scene.alice["id"]], "for alice")
        await inbox.reply(tickets[scene.bob["id"]], "for bob")
        began = time.monotonic()
        await dispatcher.drain(timeout=15)

        at = {m["content"]: t for m, t in zip(fake.sent, fake.sent_at, strict=True)}
        to_alice = f"/api/v10/channels/{fake.dm_channel(scene.alice['id'])['id']}/messages"
        refused = next(t for t, m, p in fake.request_log if t > began and m == "POST" and p == to_alice)
        assert at["for bob"] < refused + 1.0  # bob's reply did not wait for alice's limit
        assert at["for alice"] >= refused + 2.0 - 0.05
        assert fake.global_blocks == [] and fake.requests_during_blocks() == []
        alice_row = (await _rows(store))[-2]
        assert alice_row.status == "sent" and alice_row.attempts == 1


async def test_reads_outside_a_send_wait_out_a_global_block_and_interaction_answers_do_not(
        engine, store, inbox, make_dispatcher):
    """The escalation's transcript read waits at the gate; the "thinking..." answer to the moderator goes
    at once (Discord: interaction endpoints are not bound by the global limit)."""
    scene = build()
    fake = scene.fake
    async with running(engine, scene) as h:
        tickets = await _tickets(h, scene, [scene.bob])
        dispatcher = make_dispatcher({"discord": h.adapter})
        await dispatcher.drain()
        first = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION)
        await h.handled(first["id"])
        thread = fake.add_thread(scene.general, scene.mona["id"], "tx 88231", thread_id=int(first["id"]))
        await fake.dispatch("THREAD_CREATE", {**thread, "newly_created": True}, guild_id=scene.okpay["id"])

        fake.fail_next_sends(429, scope="global", retry_after=2.0)
        await inbox.reply(tickets[scene.bob["id"]], "for bob")
        deadline = time.monotonic() + 5
        while not fake.global_blocks:  # the reply waits for its conversation's turn, then is refused
            assert time.monotonic() < deadline, "the reply was never tried"
            await dispatcher.run_once()
            await asyncio.sleep(0.05)
        interaction = await fake.slash(scene.mona, thread, "escalate")
        outcome = await h.handled(f"ix:{interaction}", within=15)

        [(start, end)] = fake.global_blocks
        assert outcome.action == "escalated"
        assert fake.requests_during_blocks(grace=0.05) == []
        callback = next(t for t, _, p in fake.request_log if p.endswith(f"/interactions/{interaction}/"
                                                                        f"{fake.callbacks[-1]['token']}/callback"))
        history = next(t for t, m, p in fake.request_log if m == "GET" and p == f"/api/v10/channels/{thread['id']}"
                       "/messages")
        assert start < callback < end <= history


async def test_closed_dms_an_agents_answer_is_announced_where_the_customer_asked(
        engine, store, inbox, kb, make_dispatcher):
    scene = build()
    fake = scene.fake
    async with running(engine, scene) as h:
        question = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        ticket = (await h.handled(question["id"])).ticket_id
        dispatcher = make_dispatcher({"discord": h.adapter})
        await dispatcher.drain()
        fake.closed_dms.add(int(scene.alice["id"]))  # she turned off DMs from server members
        await inbox.reply(ticket, PRIVATE_ANSWER)
        await dispatcher.drain()

        note = fake.sent[-1]
        assert note["channel_id"] == scene.general["id"]
        assert note["content"].startswith(f"<@{scene.alice['id']}> ") and "allow direct messages" in note["content"]
        assert note["message_reference"]["message_id"] == question["id"]
        mentions = fake.allowed_mentions[note["id"]]  # only she is pinged: no @everyone, roles or others
        assert mentions["parse"] == [] and [str(u) for u in mentions["users"]] == [scene.alice["id"]]
        assert all(PRIVATE_ANSWER not in m["content"] for m in fake.sent)  # never the answer itself
        row = (await _rows(store))[-1]
        assert row.status == "sent" and row.noted_publicly  # the answer itself is owed until she writes privately
        out = await store.scalar(select(Message).where(Message.id == row.message_id))
        assert out.platform_id is None  # the note's id is not the answer's


async def test_closed_dms_the_tickets_acknowledgement_is_announced_too(engine, store, kb, make_dispatcher):
    """The core gives no public place for the bot's own acknowledgement: the adapter remembers where the
    customer just wrote."""
    scene = build()
    fake = scene.fake
    fake.closed_dms.add(int(scene.alice["id"]))
    async with running(engine, scene) as h:
        question = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        outcome = await h.handled(question["id"])
        await make_dispatcher({"discord": h.adapter}).drain()

        public, note = fake.sent
        assert public["content"] == kb.message("handoff_public", "en")
        assert note["channel_id"] == scene.general["id"] and note["content"].startswith(f"<@{scene.alice['id']}>")
        assert f"#{outcome.ticket_id}" not in note["content"]
        assert {r.status for r in await _rows(store)} == {"sent"}


async def test_closed_dms_go_to_the_customers_private_thread_when_there_is_one(
        engine, store, inbox, kb, make_dispatcher):
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store, private_followup="thread") as h:
        question = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        await h.handled(question["id"])
        [ticket] = (await _tickets(h, scene, [scene.alice])).values()  # and a case of hers in DM
        dispatcher = make_dispatcher({"discord": h.adapter})
        await dispatcher.drain()
        thread_id = next(c for c in fake.channels.values() if c["type"] == 12)["id"]
        fake.closed_dms.add(int(scene.alice["id"]))
        before = len(fake.sent)
        await inbox.reply(ticket, PRIVATE_ANSWER)
        await dispatcher.drain()

        joined, reply = fake.sent[before:]
        assert joined["channel_id"] == reply["channel_id"] == thread_id  # private: only she and the moderators
        assert reply["content"] == f"<@{scene.alice['id']}> {PRIVATE_ANSWER}"
        assert int(scene.alice["id"]) in fake.thread_members[int(thread_id)]


async def test_files_an_agent_attaches_are_uploaded_with_the_reply(engine, store, inbox, make_dispatcher, tmp_path):
    """Discord takes files as multipart ``files[n]`` parts beside ``payload_json``: the customer gets the file
    itself in the DM, not a link to the inbox; a file that is gone is the agent's to resend, not retried."""
    scene = build()
    fake = scene.fake

    async def chunks(data: bytes):  # type: ignore[no-untyped-def]
        yield data

    receipt = await agent_files.save(tmp_path, "receipt.png", chunks(b"\x89PNG\r\n\x1a\n" + b"0" * 64))
    async with running(engine, scene) as h:
        [ticket] = (await _tickets(h, scene, [scene.alice])).values()
        dispatcher = make_dispatcher({"discord": h.adapter})
        await dispatcher.drain()
        await inbox.reply(ticket, "Your receipt is attached.", files=[receipt])
        await dispatcher.drain()
        sent = fake.sent[-1]
        assert sent["content"] == "Your receipt is attached." and sent["channel_id"] == fake.dm_channel(
            scene.alice["id"])["id"]
        [upload] = sent["attachments"]
        assert upload["filename"] == "receipt.png"
        assert fake.uploads[int(upload["id"])] == receipt.absolute.read_bytes()

        gone = await agent_files.save(tmp_path, "gone.pdf", chunks(b"%PDF-1.4"))
        gone.absolute.unlink()
        before = len(fake.sent)
        await inbox.reply(ticket, "And the statement.", files=[gone])
        await dispatcher.drain()
        assert len(fake.sent) == before  # nothing half-sent
        assert (await _rows(store))[-1].status == "dead"  # shown to the agent as not delivered, with the reason


async def test_a_send_repeated_with_its_nonce_creates_nothing_twice(engine):
    scene = build()
    async with running(engine, scene) as h:
        long_text = "\n\n".join(f"Part {i}. " + "Details of the check we ran. " * 40 for i in range(3))
        reply = OutboundMessage(channel="discord", conversation=f"dm:{scene.alice['id']}", text=long_text,
                                outbox_id=77)
        first = await h.adapter.send(reply)
        again = await h.adapter.send(reply)  # a retry after a crash, or by another process
        assert first.platform_id == again.platform_id
        assert len(scene.fake.sent) == scene.fake.nonce_hits == 3


async def test_private_thread_rows_are_delivery_state_that_expires(engine, store, make_dispatcher):
    scene = build()
    async with running(engine, scene, cursor_store=store, private_followup="thread") as h:
        question = await scene.fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        await h.handled(question["id"])
        await make_dispatcher({"discord": h.adapter}).drain()
    rows = {c.key: c for c in await store.all(select(Cursor).where(Cursor.channel == "discord"))}
    threads = [c for k, c in rows.items() if k.startswith(("thread:", "owner:", "user-thread:"))]
    assert len(threads) == 3
    for row in threads:
        assert 80 < (row.expires_at - row.updated_at).days <= 90
    assert all(c.expires_at is None for k, c in rows.items() if k.startswith("seen:"))  # read positions stay


def test_the_adapters_maps_are_bounded():
    from bots.discord.memory import Places
    from bots.lru import LRU

    lru: LRU[int, int] = LRU(3)
    for i in range(10):
        lru.put(i, i)
    assert len(lru) == 3 and lru.get(0) is None and lru.get(9) == 9
    places = Places(size=2)
    for user in range(5):
        places.saw_public(user, 100 + user, 1000 + user, f"u{user}")
        places.saw_dm(user, 200 + user)
    assert places.public(0) is None and places.public(4)["conversation"] == "104"
    assert len(places.dm_channels) == 2
