"""What was written while the bot had no gateway session is read back from channel history.

After op 9 (or a refused resume) Discord never replays the missed events; after a RESUME it does.
What a customer notices: a DM or a mention sent while the bot was away is answered once, like any
other; what a moderator notices: chatter and their own messages are treated as they would be live.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from bots.discord.positions import Positions, snowflake_at
from core.store.tables import Message
from tests.fakes.discord_scene import build, running, stored
from tests.fakes.memory_channel import public_answer


async def _away(fake):  # type: ignore[no-untyped-def]
    """Op 9 (session not resumable) and no new session until ``fake.hold_ready`` is set again."""
    fake.hold_ready.clear()
    await fake.invalidate()


async def _back(h, fake, identifies: int, runs: int) -> None:  # type: ignore[no-untyped-def]
    """Let the bot identify again and wait until the backfill of that new session is done."""
    fake.hold_ready.set()
    await fake.wait_for(lambda: len(fake.identifies) > identifies and h.adapter.backfill.runs > runs,
                        what="a new session and its backfill")


async def test_after_op_9_missed_dms_and_channel_messages_are_read_back_once(engine, store, kb, make_dispatcher):
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store) as h:
        thread = fake.add_thread(scene.general, scene.bob["id"], "Chat")
        await fake.dispatch("THREAD_CREATE", {**thread, "newly_created": True}, guild_id=scene.okpay["id"])
        seen = [await fake.user_dm(scene.alice, "hi"),
                await fake.guild_message(scene.general, scene.bob, "morning all"),
                await fake.guild_message(thread, scene.bob, "anyone here?")]
        for msg in seen:
            await h.handled(msg["id"])
        await fake.wait_for(lambda: h.adapter.backfill.runs >= 1, what="the first backfill")
        runs, identifies = h.adapter.backfill.runs, len(fake.identifies)

        await _away(fake)
        missed = [await fake.user_dm(scene.alice, "how do I reset my password"),
                  await fake.user_dm(scene.alice, "忘记密码了怎么办"),
                  await fake.guild_message(scene.general, scene.bob, "how do I reset my password", mention_bot=True),
                  await fake.guild_message(scene.general, scene.alice, "nice weather today"),
                  await fake.guild_message(scene.general, scene.mona, "please keep it on topic"),
                  await fake.guild_message(thread, scene.alice, "how do I reset my password", mention_bot=True)]
        assert [e["d"]["id"] for e in fake.undelivered] == [m["id"] for m in missed]  # never sent live
        await _back(h, fake, identifies, runs)
        for msg in missed:
            await h.handled(msg["id"])
        # each read back once, oldest first in each channel; nothing seen before is read again
        for channel_id in {m["channel_id"] for m in missed}:
            mine = [m["id"] for m in missed if m["channel_id"] == channel_id]
            assert [p for p in h.tap.handled if p in mine] == mine
        assert all(h.tap.handled.count(m["id"]) == 1 for m in seen + missed)
        reads = {cid: q for cid, q in fake.history_reads}
        assert reads[int(seen[0]["channel_id"])]["after"] == seen[0]["id"]
        assert reads[int(scene.general["id"])]["after"] == seen[1]["id"]
        assert reads[int(thread["id"])]["after"] == seen[2]["id"]

        # treated exactly as live: the mention is answered, chatter is context, the moderator is one
        outcomes = [h.tap.outcomes[m["id"]].action for m in missed]
        assert outcomes == ["answer", "answer", "answer", "stored", "stored", "answer"]
        chatter, moderator = await stored(store, missed[3]["id"]), await stored(store, missed[4]["id"])
        assert (chatter.public, chatter.addressed, chatter.private_address) == (True, False, f"dm:{scene.alice['id']}")
        assert h.tap.items[missed[4]["id"]].author.is_moderator and moderator.text == "please keep it on topic"
        in_thread = h.tap.items[missed[5]["id"]]
        assert in_thread.raw["thread"] is True and in_thread.raw["parent_id"] == scene.general["id"]
        assert in_thread.conversation == thread["id"]
        await make_dispatcher({"discord": h.adapter}).drain(timeout=15)
        answers = [m for m in fake.sent if m["content"] in (kb.answer("login", "en"), kb.answer("login", "zh-Hans"),
                                                         public_answer(kb, "login", "en"),
                                                         public_answer(kb, "login", "zh-Hans"))]
        assert sorted(m["channel_id"] for m in answers) == sorted(
            [seen[0]["channel_id"]] * 2 + [scene.general["id"], thread["id"]])


async def test_after_a_resume_discord_replays_and_nothing_is_read_back(engine, store):
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store) as h:
        first = await fake.user_dm(scene.alice, "hello")
        await h.handled(first["id"])
        await fake.wait_for(lambda: h.adapter.backfill.runs >= 1, what="the first backfill")
        reads = len(fake.history_reads)
        await fake.drop()  # close 4000: discord.py resumes
        missed = await fake.user_dm(scene.alice, "how do I reset my password")
        assert (await h.handled(missed["id"])).action == "answer"
        await fake.wait_for(lambda: fake.resumes and fake.connected(), what="the RESUME")
        assert len(fake.identifies) == 1 and len(fake.history_reads) == reads  # replayed, not read back
        assert h.tap.handled.count(missed["id"]) == 1
        assert h.adapter.health.receiving


async def test_read_positions_survive_a_restart(engine, store):
    """Stopped for a while (a deploy): what was written meanwhile is read back from the stored
    positions; what was stored before the stop is not fetched again."""
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store) as h:
        before = [await fake.user_dm(scene.alice, "hi"), await fake.guild_message(scene.general, scene.bob, "hey"),
                  await fake.user_dm(scene.bob, "hello")]
        for msg in before:
            await h.handled(msg["id"])
    # nobody is connected: Discord keeps the messages, the gateway events reach no one
    missed = [await fake.user_dm(scene.alice, "how do I reset my password"),
              await fake.guild_message(scene.general, scene.alice, "how do I reset my password", mention_bot=True)]
    fake.history_reads.clear()
    async with running(engine, scene, cursor_store=store) as h:
        for msg in missed:
            assert (await h.handled(msg["id"])).action == "answer"
        await fake.wait_for(lambda: h.adapter.backfill.runs >= 1, what="the backfill")
        assert not set(h.tap.handled) & {m["id"] for m in before}  # nothing twice
        reads = {cid: q["after"] for cid, q in fake.history_reads}
        assert reads == {int(before[0]["channel_id"]): before[0]["id"], int(scene.general["id"]): before[1]["id"],
                         int(before[2]["channel_id"]): before[2]["id"]}
        rows = await store.messages_for_conversation("discord", f"dm:{scene.alice['id']}")
        inbound = [r.message.platform_id for r in rows if r.message.direction == "in"]
        assert inbound == [before[0]["id"], missed[0]["id"]]


async def test_a_live_message_waits_for_the_older_ones_being_read_back(engine, store):
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store) as h:
        await h.handled((await fake.user_dm(scene.alice, "hi"))["id"])
        await fake.wait_for(lambda: h.adapter.backfill.runs >= 1, what="the first backfill")
        runs, identifies = h.adapter.backfill.runs, len(fake.identifies)
        await _away(fake)
        missed = [await fake.user_dm(scene.alice, f"missed {i}") for i in range(3)]
        fake.history_delay = 0.5
        fake.hold_ready.set()
        dm_channel = int(missed[0]["channel_id"])
        await fake.wait_for(lambda: any(cid == dm_channel for cid, _ in fake.history_reads[-1:]) and
                            len(fake.identifies) > identifies, what="the backfill reading the DM")
        live = await fake.user_dm(scene.alice, "are you there?")  # delivered live, during the read
        await h.handled(live["id"])
        # in order; the read may also meet the live message (it landed before the page was read): stored once
        firsts = list(dict.fromkeys(h.tap.handled))
        assert firsts[-4:] == [m["id"] for m in missed] + [live["id"]]
        ids = [m["id"] for m in missed] + [live["id"]]
        assert len(await store.all(select(Message.id).where(Message.channel == "discord",
                                                            Message.platform_id.in_(ids)))) == 4
        assert h.adapter.backfill.runs > runs


async def test_the_backfill_is_bounded_per_channel_and_goes_on_after_the_next_session(engine, store):
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store, backfill_pages=1) as h:
        await h.handled((await fake.user_dm(scene.alice, "hi"))["id"])
    missed = [await fake.user_dm(scene.alice, f"line {i}") for i in range(130)]  # while stopped
    ids = [m["id"] for m in missed]
    async with running(engine, scene, cursor_store=store, backfill_pages=1) as h:
        await fake.wait_for(lambda: h.adapter.backfill.runs >= 1, what="the backfill")
        assert h.tap.handled == ids[:100]  # one page of 100, oldest first
    async with running(engine, scene, cursor_store=store, backfill_pages=1) as h:
        await fake.wait_for(lambda: h.adapter.backfill.runs >= 1, what="the next backfill")
        assert h.tap.handled == ids[100:]


async def test_a_channel_the_bot_can_no_longer_read_is_forgotten(engine, store):
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store) as h:
        gone = fake.add_text_channel(scene.okpay["id"], "old-announcements")
        await fake.dispatch("CHANNEL_CREATE", gone, guild_id=scene.okpay["id"])
        await h.handled((await fake.guild_message(gone, scene.bob, "hey"))["id"])
        await h.handled((await fake.user_dm(scene.alice, "hi"))["id"])
        await fake.wait_for(lambda: h.adapter.backfill.runs >= 1, what="the first backfill")
        identifies = len(fake.identifies)
        await _away(fake)
        del fake.channels[int(gone["id"])]  # deleted while we were away: 404 Unknown Channel
        fake.guilds[int(scene.okpay["id"])]["channels"].remove(gone)
        missed = await fake.user_dm(scene.alice, "how do I reset my password")
        await _back(h, fake, identifies, 1)
        assert (await h.handled(missed["id"])).action == "answer"
        assert h.adapter.positions.last(int(gone["id"])) is None
        assert h.adapter.positions.last(int(missed["channel_id"])) == int(missed["id"])
        assert h.adapter.health.receiving


async def test_a_strangers_missed_first_dm_is_read_back_when_they_write_again(engine, store):
    """Bots cannot list their DM channels: a first DM sent while the bot was away stays unknown
    until the customer writes again; then it is read back before the new one."""
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store):
        pass
    stranger = fake.add_user("dora")
    first = await fake.user_dm(stranger, "how do I reset my password")  # nobody connected
    async with running(engine, scene, cursor_store=store) as h:
        await fake.wait_for(lambda: h.adapter.backfill.runs >= 1, what="the backfill")
        assert first["id"] not in h.tap.handled  # nothing could tell the bot about this channel
        again = await fake.user_dm(stranger, "hello? is anyone there?")
        await h.handled(again["id"])
        assert h.tap.handled == [first["id"], again["id"]]
        assert h.tap.outcomes[first["id"]].action == "answer"


async def test_known_channels_are_bounded_and_kept_in_the_store(store):
    """At most ``limit`` channels per shard (the least recently active gives its row to a new one)
    and none silent for longer than ``max_age``; a new Positions on the same store (a restart) reads
    the same. A DM channel registered to be read from far back stays known although its position is old."""
    now = snowflake_at(time.time())
    day = snowflake_at(time.time()) - snowflake_at(time.time() - 86400)
    positions = Positions(store, limit=3, max_age=7 * 86400)
    await positions.load([0])
    await positions.register(101, None, now - 9 * day - 1, 0, now - 9 * day)  # silent for 9 days
    await positions.register(102, None, now - 20 * day, 0, now)  # a DM first seen now, read from 20 days back
    await positions.register(103, 7, now - day - 1, 0, now - day)
    positions.note(103, 7, now - day, 0)
    # saved at once: a crash now (no close) keeps all three, 102 still to be read from 20 days back
    crashed = Positions(store, limit=3, max_age=7 * 86400)
    await crashed.load([0])
    assert [(s.channel_id, s.last_id) for s in crashed.channels(0)] == [(102, now - 20 * day), (103, now - day - 1)]
    positions.note(104, None, now + 1, 0)  # a fourth channel: 101, the stalest, makes room
    await positions.close()

    again = Positions(store, limit=3, max_age=7 * 86400)
    await again.load([0])
    assert [(s.channel_id, s.guild_id, s.last_id) for s in again.channels(0)] == [
        (104, None, now + 1), (102, None, now - 20 * day), (103, 7, now - day)]  # most recently active first
    assert again.last(101) is None
    old = Positions(store, limit=3, max_age=0.5 * 86400)  # a shorter memory drops 103 (a day old) at load
    await old.load([0])
    assert sorted(s.channel_id for s in old.channels(0)) == [102, 104]
