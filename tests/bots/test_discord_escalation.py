"""Moderators escalate from their servers: the "Escalate to support" message command and
``/escalate [note]``. What a moderator notices: a private confirmation with the ticket number;
what an agent notices: the customer's message or the whole thread, the note, the attachments."""

from __future__ import annotations

from sqlalchemy import select

from core.store.tables import Conversation, Identity, Message, Ticket
from tests.fakes import discord_api
from tests.fakes.discord_scene import build, running

QUESTION = "My transfer of 500 USD is missing, tx 88231"


async def _customer_of(store, ticket_id: int) -> str:  # type: ignore[no-untyped-def]
    ticket = await store.scalar(select(Ticket).where(Ticket.id == ticket_id))
    return await store.scalar(select(Identity.platform_user_id).where(Identity.customer_id == ticket.customer_id))


async def _answer_to(fake, interaction_id: str) -> str:  # type: ignore[no-untyped-def]
    """What the moderator was shown: the deferral must be ephemeral, the final text replaces it."""
    [callback] = [c for c in fake.callbacks if c["id"] == interaction_id]
    assert callback["type"] == 5 and callback["data"]["flags"] & 64

    def edits() -> list[dict]:
        return [w for w in fake.webhook_messages if w["token"] == callback["token"]]

    await fake.wait_for(edits, what="the answer to the moderator")
    [edit] = edits()
    assert edit["method"] == "PATCH"  # the deferred "thinking..." message, edited: still ephemeral
    return edit["content"]


async def test_commands_are_registered_in_each_configured_guild(engine):
    scene = build()
    async with running(engine, scene):
        syncs = scene.fake.command_syncs
        assert set(syncs) == {scene.okpay["id"], scene.cn["id"]}
        for commands in syncs.values():
            by_name = {c["name"]: c for c in commands}
            assert by_name["Escalate to support"]["type"] == 3
            assert by_name["escalate"]["type"] == 1
            assert [(o["name"], o["required"]) for o in by_name["escalate"]["options"]] == [("note", False)]


async def test_message_command_by_a_role_moderator_opens_a_ticket_with_the_attachment(engine, store, kb):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        shot = fake.attachment("error.jpg", "image/jpeg", 2048)
        target = await fake.guild_message(scene.general, scene.alice, QUESTION, attachments=[shot])
        await h.handled(target["id"])
        interaction = await fake.context_menu(scene.mona, target)
        outcome = await h.handled(f"ix:{interaction}")

        assert outcome.action == "escalated"
        assert await _answer_to(fake, interaction) == kb.message("escalated_notice", "en", ticket=outcome.ticket_id)
        assert f"#{outcome.ticket_id}" in await _answer_to(fake, interaction)
        record = await store.ticket(outcome.ticket_id)
        assert record.ticket.source == "escalation"
        assert await _customer_of(store, outcome.ticket_id) == scene.alice["id"]
        [customer_row] = [m.message for m in record.messages if m.message.platform_id == target["id"]]
        assert customer_row.text == QUESTION
        assert [(a["kind"], a["name"], a["size"], a["mime_type"]) for a in customer_row.attachments] == [
            ("image", "error.jpg", 2048, "image/jpeg")]
        assert fake.sent == []  # nothing is said in public about it


async def test_slash_in_a_forum_post_escalates_the_whole_transcript_with_the_note(engine, store, kb):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        thread, starter = await fake.forum_post(scene.forum, scene.bob, "Withdrawal stuck", "My withdrawal is stuck")
        await h.handled(starter["id"])
        later = [await fake.guild_message(thread, scene.alice, "same here since Monday"),
                 await fake.guild_message(thread, scene.bob, "It says pending review")]
        await h.handled(later[-1]["id"])
        interaction = await fake.slash(scene.max, thread, "escalate", note="bob is verified, please check today")
        outcome = await h.handled(f"ix:{interaction}")

        assert outcome.action == "escalated"
        assert f"#{outcome.ticket_id}" in await _answer_to(fake, interaction)
        # the thread starter is the customer; the transcript came over REST history
        assert await _customer_of(store, outcome.ticket_id) == scene.bob["id"]
        assert ("GET", f"/api/v10/channels/{thread['id']}/messages") in fake.requests
        texts = (await store.ticket(outcome.ticket_id)).texts
        for said in ("My withdrawal is stuck", "same here since Monday", "It says pending review",
                     "bob is verified, please check today"):
            assert said in texts


async def test_slash_in_a_thread_started_from_a_message_includes_that_message(engine, store):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        first = await fake.guild_message(scene.general, scene.alice, QUESTION)
        await h.handled(first["id"])
        # a moderator opens a thread on alice's message (thread id = message id), people reply there
        thread = fake.add_thread(scene.general, scene.mona["id"], "tx 88231", thread_id=int(first["id"]))
        await fake.dispatch("THREAD_CREATE", {**thread, "newly_created": True}, guild_id=scene.okpay["id"])
        reply = await fake.guild_message(thread, scene.alice, "it was sent on Monday")
        await h.handled(reply["id"])
        interaction = await fake.slash(scene.mona, thread, "escalate")
        outcome = await h.handled(f"ix:{interaction}")

        assert await _customer_of(store, outcome.ticket_id) == scene.alice["id"]
        texts = (await store.ticket(outcome.ticket_id)).texts
        assert QUESTION in texts and "it was sent on Monday" in texts


async def test_slash_in_a_channel_takes_the_latest_customer_message(engine, store):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        await fake.guild_message(scene.general, scene.bob, "anyone else?")
        mine = await fake.guild_message(scene.general, scene.alice, QUESTION)
        await fake.guild_message(scene.general, scene.mona, "let me get support for you")
        await h.handled(mine["id"])
        interaction = await fake.slash(scene.mona, scene.general, "escalate", note="urgent")
        outcome = await h.handled(f"ix:{interaction}")
        assert await _customer_of(store, outcome.ticket_id) == scene.alice["id"]
        texts = (await store.ticket(outcome.ticket_id)).texts
        assert QUESTION in texts and "anyone else?" not in texts


async def test_non_moderators_are_refused_privately_and_nothing_is_opened(engine, store, kb):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        target = await fake.guild_message(scene.general, scene.alice, QUESTION)
        await h.handled(target["id"])
        by_customer = await fake.context_menu(scene.bob, target)
        assert (await h.handled(f"ix:{by_customer}")).action == "refused"
        assert await _answer_to(fake, by_customer) == kb.message("escalation_refused", "en")
        # "Helpers" is a moderator role in the first guild only
        cn_target = await fake.guild_message(scene.cn_general, scene.alice, "我的转账不见了")
        await h.handled(cn_target["id"])
        by_hank = await fake.slash(scene.hank, scene.cn_general, "escalate", locale="zh-CN")
        assert (await h.handled(f"ix:{by_hank}")).action == "refused"
        assert await _answer_to(fake, by_hank) == kb.message("escalation_refused", "zh-Hans")
        assert await store.all(select(Ticket.id)) == []
        assert fake.sent == []


async def test_two_guilds_each_with_their_own_moderators(engine, store):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        a = await fake.guild_message(scene.general, scene.alice, QUESTION)
        b = await fake.guild_message(scene.cn_general, scene.alice, "我的转账不见了，交易号 88231")
        c = await fake.guild_message(scene.cn_general, scene.alice, "还有一笔也不见了")
        for msg in (a, b, c):
            await h.handled(msg["id"])
        results = {}
        for who, target in (("mona", a), ("wang", b), ("carl", c)):
            interaction = await fake.context_menu(getattr(scene, who), target, locale="zh-CN")
            results[who] = await h.handled(f"ix:{interaction}")
        assert {who: o.action for who, o in results.items()} == {
            "mona": "escalated",  # role name "Helpers" in the first guild
            "wang": "escalated",  # role id of "版主" in the second guild
            "carl": "escalated",  # user id listed in the second guild
        }


async def test_a_429_on_command_registration_does_not_stop_the_channel(engine, monkeypatch):
    """Discord refused the command sync with a 429: the adapter still starts and serves customers."""
    async def limited(self, request):  # type: ignore[no-untyped-def]
        return discord_api.FakeDiscord.too_many(5.0)

    monkeypatch.setattr(discord_api.FakeDiscord, "_sync_commands", limited)
    scene = build()
    async with running(engine, scene, ready_timeout=5.0) as h:
        msg = await scene.fake.user_dm(scene.alice, "how do I reset my password")
        assert (await h.handled(msg["id"])).action == "answer"
        assert scene.fake.command_syncs == {}


async def test_a_429_on_the_moderators_notice_is_waited_out(engine, store, kb, monkeypatch):
    """The "thinking..." message is replaced even when Discord refuses the first edit with a 429."""
    original = discord_api.FakeDiscord._edit_original
    edits = {"n": 0}

    async def limited_once(self, request):  # type: ignore[no-untyped-def]
        edits["n"] += 1
        if edits["n"] == 1:
            return discord_api.FakeDiscord.too_many(0.3)
        return await original(self, request)

    monkeypatch.setattr(discord_api.FakeDiscord, "_edit_original", limited_once)
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        target = await fake.guild_message(scene.general, scene.alice, QUESTION)
        await h.handled(target["id"])
        interaction = await fake.context_menu(scene.mona, target)
        outcome = await h.handled(f"ix:{interaction}")
        assert outcome.action == "escalated"
        assert await _answer_to(fake, interaction) == kb.message("escalated_notice", "en", ticket=outcome.ticket_id)
        assert edits["n"] == 2


async def test_escalate_in_a_thread_answers_in_the_thread_and_keeps_moderators_out_of_the_customers_words(
        engine, store, kb, make_dispatcher):
    """A moderator opens a thread on alice's message, writes there, another moderator too, and runs
    ``/escalate`` in the thread: the public note is posted in the thread (where the moderator acted,
    not in its parent), alice is the ticket's customer, and no customer message on it is a moderator's."""
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        first = await fake.guild_message(scene.general, scene.alice, QUESTION)
        await h.handled(first["id"])
        thread = fake.add_thread(scene.general, scene.mona["id"], "tx 88231", thread_id=int(first["id"]))
        await fake.dispatch("THREAD_CREATE", {**thread, "newly_created": True}, guild_id=scene.okpay["id"])
        said = [await fake.guild_message(thread, scene.mona, "Let me get support on this for you"),
                await fake.guild_message(thread, scene.alice, "it was sent on Monday"),
                await fake.guild_message(thread, scene.max, "Seen the same report from others")]
        for msg in said:
            await h.handled(msg["id"])
        interaction = await fake.slash(scene.mona, thread, "escalate", note="verified customer")
        outcome = await h.handled(f"ix:{interaction}")
        assert outcome.action == "escalated"
        await make_dispatcher({"discord": h.adapter}).drain()

        public = [m for m in fake.sent if m["content"] == kb.message("handoff_public", "en")]
        assert [m["channel_id"] for m in public] == [thread["id"]]
        assert not any(m["channel_id"] == scene.general["id"] for m in fake.sent)
        assert await _customer_of(store, outcome.ticket_id) == scene.alice["id"]
        async with store.sessions() as session:
            rows = (await session.execute(
                select(Message.text, Identity.platform_user_id)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .join(Identity, Identity.customer_id == Conversation.customer_id)
                .where(Message.ticket_id == outcome.ticket_id, Message.direction == "in"))).all()
        assert {who for _, who in rows} == {scene.alice["id"]}
        assert {text for text, _ in rows} == {QUESTION, "it was sent on Monday"}
        assert "verified customer" in (await store.ticket(outcome.ticket_id)).texts  # the moderator's words: the note


async def test_escalating_ones_own_message_is_refused_privately(engine, store):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        mine = await fake.guild_message(scene.general, scene.mona, "Customers: please use the support form")
        await h.handled(mine["id"])
        interaction = await fake.context_menu(scene.mona, mine)
        await fake.wait_for(lambda: any(c["id"] == interaction for c in fake.callbacks), what="the deferral")
        assert "your own message" in await _answer_to(fake, interaction)
        assert await store.all(select(Ticket.id)) == []
