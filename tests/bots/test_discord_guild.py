"""Server channels, threads and forum posts: the bot answers only when addressed, moves account
talk to a DM (or a private thread), and picks up edits and deletions of what it stored."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from core.store.tables import Ticket
from tests.fakes import discord_api
from tests.fakes.discord_scene import build, running, stored
from tests.fakes.discord_world import PRIVATE_THREAD
from tests.fakes.memory_channel import public_answer

ACCOUNT_QUESTION = "My transfer of 500 USD to my brother is missing, transaction id 88231, please check"


async def test_chatter_is_stored_as_context_but_not_answered(engine, store, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        msg = await scene.fake.guild_message(scene.general, scene.alice, "hello everyone, nice weather")
        outcome = await h.handled(msg["id"])
        await make_dispatcher({"discord": h.adapter}).drain()
        assert outcome.action == "stored" and scene.fake.sent == []
        row = await stored(store, msg["id"])
        assert row.public is True and row.addressed is False
        assert row.private_address == f"dm:{scene.alice['id']}"


async def test_a_mention_with_an_account_question_moves_to_a_dm(engine, store, inbox, kb, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        msg = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        outcome = await h.handled(msg["id"])
        assert outcome.action == "handoff"
        row = await stored(store, msg["id"])
        assert row.text == ACCOUNT_QUESTION  # the bot's own mention is not part of what was asked
        dispatcher = make_dispatcher({"discord": h.adapter})
        await dispatcher.drain()

        public, private = fake.sent
        # a short public note, as a reply to the question (it pings the author), no account talk
        assert public["channel_id"] == scene.general["id"]
        assert public["content"] == kb.message("handoff_public", "en")
        assert public["message_reference"]["message_id"] == msg["id"]
        # the ticket acknowledgement goes to the customer's DM, opened by the bot
        dm = fake.channels[int(private["channel_id"])]
        assert dm["type"] == 1 and dm["recipients"][0]["id"] == scene.alice["id"]
        assert private["content"] == kb.message("handoff", "en", ticket=outcome.ticket_id)
        assert ("POST", "/api/v10/users/@me/channels") in fake.requests

        # the agent's reply and the customer's answer both live in that DM
        await inbox.reply(outcome.ticket_id, "Found it: the transfer is on hold for a check.")
        await dispatcher.drain()
        assert fake.sent[-1]["channel_id"] == private["channel_id"]
        answer = await fake.user_dm(scene.alice, "ok, thank you")
        assert (await h.handled(answer["id"])).ticket_id == outcome.ticket_id


async def test_mentioning_the_bots_role_addresses_it_too(engine, store, kb, make_dispatcher):
    scene = build()
    role = scene.fake.add_bot_role(scene.okpay["id"])
    async with running(engine, scene) as h:
        msg = await scene.fake.guild_message(scene.general, scene.alice, "how do I reset my password",
                                             mention_role=role)
        assert (await h.handled(msg["id"])).action == "answer"
        assert (await stored(store, msg["id"])).text == "how do I reset my password"
        await make_dispatcher({"discord": h.adapter}).drain()
        assert [m["content"] for m in scene.fake.sent] == [public_answer(kb, "login", "en")]


async def test_in_a_thread_the_bot_opened_every_message_is_for_the_bot(engine, store, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        mine = fake.add_thread(scene.general, fake.bot["id"], "Support")
        await fake.dispatch("THREAD_CREATE", {**mine, "newly_created": True}, guild_id=scene.okpay["id"])
        theirs = fake.add_thread(scene.general, scene.bob["id"], "Chat")
        await fake.dispatch("THREAD_CREATE", {**theirs, "newly_created": True}, guild_id=scene.okpay["id"])
        in_mine = await fake.guild_message(mine, scene.alice, "how do I reset my password")
        in_theirs = await fake.guild_message(theirs, scene.alice, "how do I reset my password")
        assert (await h.handled(in_mine["id"])).action == "answer"
        assert (await h.handled(in_theirs["id"])).action == "stored"
        await make_dispatcher({"discord": h.adapter}).drain()
        assert [m["channel_id"] for m in fake.sent] == [mine["id"]]
        assert (await stored(store, in_mine["id"])).raw["parent_id"] == scene.general["id"]


async def test_a_forum_post_mentioning_the_bot_is_answered_in_the_post(engine, kb, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        thread, starter = await scene.fake.forum_post(scene.forum, scene.bob, "Login help",
                                                      "how do I reset my password", mention_bot=True)
        assert (await h.handled(starter["id"])).action == "answer"
        await make_dispatcher({"discord": h.adapter}).drain()
        [answer] = scene.fake.sent
        assert answer["channel_id"] == thread["id"] and answer["content"] == public_answer(kb, "login", "en")


async def test_private_followup_in_a_private_thread(engine, store, inbox, kb, make_dispatcher):
    scene = build()
    async with running(engine, scene, cursor_store=store, private_followup="thread") as h:
        fake = scene.fake
        msg = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        outcome = await h.handled(msg["id"])
        assert (await stored(store, msg["id"])).private_address == (
            f"thread:{scene.general['id']}:{scene.alice['id']}")
        dispatcher = make_dispatcher({"discord": h.adapter})
        await dispatcher.drain()
        public, private = fake.sent
        assert public["channel_id"] == scene.general["id"] and public["content"] == kb.message("handoff_public", "en")
        thread = fake.channels[int(private["channel_id"])]
        assert thread["type"] == PRIVATE_THREAD and thread["parent_id"] == scene.general["id"]
        assert thread["thread_metadata"]["invitable"] is False
        assert fake.thread_members[int(thread["id"])] == {int(fake.bot["id"]), int(scene.alice["id"])}
        assert private["content"] == kb.message("handoff", "en", ticket=outcome.ticket_id)

        # the agent's reply reuses the thread; the customer's answer there joins the ticket
        await inbox.reply(outcome.ticket_id, "Found it: the transfer is on hold for a check.")
        await dispatcher.drain()
        assert fake.sent[-1]["channel_id"] == thread["id"]
        assert sum(1 for c in fake.channels.values() if c["type"] == PRIVATE_THREAD) == 1
        answer = await fake.guild_message(thread, scene.alice, "ok, thank you")
        assert (await h.handled(answer["id"])).ticket_id == outcome.ticket_id
        assert (await stored(store, answer["id"])).public is False
    # after a restart the thread is still known (the cursor store remembers it), not opened again
    async with running(engine, scene, cursor_store=store, private_followup="thread") as h:
        again = await fake.guild_message(thread, scene.alice, "one more question about it")
        assert (await h.handled(again["id"])).ticket_id == outcome.ticket_id
        await inbox.reply(outcome.ticket_id, "Answered in the same thread.")
        await make_dispatcher({"discord": h.adapter}).drain()
        assert fake.sent[-1]["channel_id"] == thread["id"]
        assert sum(1 for c in fake.channels.values() if c["type"] == PRIVATE_THREAD) == 1


async def test_edits_and_deletions_are_reflected_after_a_restart(engine, store, make_dispatcher):
    """Raw events: the messages were stored before a restart, so discord.py's cache has never seen them."""
    scene = build()
    fake = scene.fake
    async with running(engine, scene) as h:
        msg = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        outcome = await h.handled(msg["id"])
        dm = await fake.user_dm(scene.alice, "here is my id card")
        await h.handled(dm["id"])
        await make_dispatcher({"discord": h.adapter}).drain()
    async with running(engine, scene) as h:
        await fake.edit_message(msg, f"<@{fake.bot['id']}> {ACCOUNT_QUESTION} (sent yesterday at 9:00)")
        assert (await h.handled(msg["id"])).action == "edited"
        record = await store.ticket(outcome.ticket_id)
        assert f"{ACCOUNT_QUESTION} (sent yesterday at 9:00)" in record.texts
        assert ACCOUNT_QUESTION not in record.texts
        assert any(e.kind == "message_edited" for e in record.events)

        await fake.delete_message(dm)
        await h.handled(dm["id"])
        assert (await stored(store, dm["id"])).deleted_at is not None

        # embed unfurls (no edited_timestamp) and the bot's own edits are not customer edits
        own = fake.sent[0]
        await fake.dispatch("MESSAGE_UPDATE", dict(own, embeds=[{"type": "link", "url": "https://okpay.example"}]),
                            guild_id=scene.okpay["id"])
        await fake.edit_message(own, "edited by the bot")
        later = await fake.user_dm(scene.bob, "last one")
        await h.handled(later["id"])
        assert own["id"] not in h.tap.handled


async def test_an_edit_of_a_message_never_seen_is_stored_as_a_new_one(engine, store):
    """A message the bot never received (chatter that was not for it) edited to mention it: the edited text is the
    customer's question; dropping it as an edit of nothing would lose it."""
    scene = build()
    fake = scene.fake
    async with running(engine, scene) as h:
        unseen = fake.new_message(scene.general, scene.alice["id"], "hmm", mentions=[fake.bot["id"]])
        unseen["mentions"][0]["member"] = fake.member(scene.okpay["id"], fake.bot["id"])
        await fake.edit_message(unseen, f"<@{fake.bot['id']}> {ACCOUNT_QUESTION}")
        outcome = await h.handled(unseen["id"], count=2)  # the edit of nothing, then the message
        assert outcome.action == "handoff"
        row = await stored(store, unseen["id"])
        assert row is not None and ACCOUNT_QUESTION in row.text


async def test_a_failed_add_to_the_private_thread_is_made_good_on_the_retry(engine, store, kb, make_dispatcher,
                                                                           monkeypatch):
    """Adding the customer failed once (a 503): the retried reply must not land in a thread the
    customer cannot see; the same thread is reused and the customer is added to it."""
    original = discord_api.FakeDiscord._add_thread_member
    adds = {"n": 0}

    async def flaky(self, request):  # type: ignore[no-untyped-def]
        adds["n"] += 1
        if adds["n"] == 1:
            return web.Response(status=503, text="upstream")
        return await original(self, request)

    monkeypatch.setattr(discord_api.FakeDiscord, "_add_thread_member", flaky)
    scene = build()
    async with running(engine, scene, cursor_store=store, private_followup="thread") as h:
        fake = scene.fake
        msg = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        outcome = await h.handled(msg["id"])
        await make_dispatcher({"discord": h.adapter}).drain(timeout=30)
        [thread] = [c for c in fake.channels.values() if c["type"] == PRIVATE_THREAD]
        assert int(scene.alice["id"]) in fake.thread_members[int(thread["id"])]
        [ack] = [m for m in fake.sent if m["channel_id"] == thread["id"]]
        assert ack["content"] == kb.message("handoff", "en", ticket=outcome.ticket_id)


async def test_a_moderator_in_a_customers_private_thread_is_not_answered_as_the_customer(
        engine, store, inbox, make_dispatcher):
    scene = build()
    async with running(engine, scene, cursor_store=store, private_followup="thread") as h:
        fake = scene.fake
        msg = await fake.guild_message(scene.general, scene.alice, ACCOUNT_QUESTION, mention_bot=True)
        first = await h.handled(msg["id"])
        dispatcher = make_dispatcher({"discord": h.adapter})
        await dispatcher.drain()
        thread = fake.channels[int(fake.sent[-1]["channel_id"])]
        before = len(fake.sent)
        note = await fake.guild_message(thread, scene.mona, "Hi, I'm checking the transfer id 88231 with finance now")
        assert (await h.handled(note["id"])).action == "stored"
        await dispatcher.drain()
        assert len(fake.sent) == before  # nothing posted into the customer's thread
        tickets = await store.all(select(Ticket.id))
        assert tickets == [first.ticket_id]  # no ticket opened for the moderator
        row = await stored(store, note["id"])
        assert row.addressed is False and row.text.startswith("Hi, I'm checking")  # kept as context
        # the customer still speaks for herself in the same thread
        answer = await fake.guild_message(thread, scene.alice, "thank you")
        assert (await h.handled(answer["id"])).ticket_id == first.ticket_id
