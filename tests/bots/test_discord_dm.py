"""Direct messages with the bot: real discord.py against the fake Discord, the real engine and
dispatcher. What a customer notices: answers in their DM, in their language; buttons that work;
an agent's reply arriving where they asked."""

from __future__ import annotations

import pytest

from tests.fakes.discord_scene import build, running, stored


async def test_faq_is_answered_in_english_and_chinese(engine, store, kb, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        en = await fake.user_dm(scene.alice, "I forgot my password, how do I reset it?")
        zh = await fake.user_dm(scene.bob, "忘记密码了怎么办")
        await h.handled(en["id"])
        await h.handled(zh["id"])
        await make_dispatcher({"discord": h.adapter}).drain()

        to_alice = [m for m in fake.sent if m["channel_id"] == en["channel_id"]]
        to_bob = [m for m in fake.sent if m["channel_id"] == zh["channel_id"]]
        assert [m["content"] for m in to_alice] == [kb.answer("login", "en")]
        assert [m["content"] for m in to_bob] == [kb.answer("login", "zh-Hans")]
        # the answer asks whether it helped, as buttons whose custom_id is the payload
        solved, person = to_bob[0]["components"][0]["components"]
        assert (solved["custom_id"], solved["label"]) == ("feedback:solved", kb.message("button_solved", "zh-Hans"))
        assert (person["custom_id"], person["label"]) == ("feedback:unsolved", kb.message("button_human", "zh-Hans"))
        # the DM is the conversation "dm:<user>"; the bot's own message (echoed back by the gateway)
        # is known by its Discord id and not taken for a customer message
        rows = await store.messages_for_conversation("discord", f"dm:{scene.bob['id']}")
        assert [(r.message.direction, r.message.platform_id) for r in rows] == [
            ("in", zh["id"]), ("out", to_bob[0]["id"])]
        assert (await stored(store, zh["id"])).public is False


@pytest.mark.parametrize(("text", "lang"), [("/start", "en"), ("/start 你好", "zh-Hans")])
async def test_greeting_lists_topics_as_buttons_in_the_customers_language(engine, kb, make_dispatcher, text, lang):
    scene = build()
    async with running(engine, scene) as h:
        await h.handled((await scene.fake.user_dm(scene.alice, text))["id"])
        await make_dispatcher({"discord": h.adapter}).drain()
        [greeting] = scene.fake.sent
        assert greeting["content"] == kb.message("greeting", lang)
        buttons = [c for row in greeting["components"] for c in row["components"]]
        assert [(b["label"], b["custom_id"]) for b in buttons] == [
            *((title, f"faq:{faq_id}") for faq_id, title in kb.topics(lang)),
            (kb.message("button_human", lang), "/human")]
        assert all(b["type"] == 2 and b["style"] == 1 for b in buttons)


async def test_a_button_press_is_the_customers_answer_and_is_acknowledged(engine, store, kb, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        await h.handled((await fake.user_dm(scene.alice, "/start"))["id"])
        dispatcher = make_dispatcher({"discord": h.adapter})
        await dispatcher.drain()
        [greeting] = fake.sent

        interaction_id = await fake.press_button(scene.alice, greeting, "faq:login")
        outcome = await h.handled(f"ix:{interaction_id}")
        assert outcome.action == "answer"
        # acknowledged as a deferred update (type 6): the buttons stay, no "interaction failed"
        await fake.wait_for(lambda: fake.callbacks, what="the acknowledgement")
        assert [(c["id"], c["type"]) for c in fake.callbacks] == [(interaction_id, 6)]
        await dispatcher.drain()
        assert fake.sent[-1]["content"] == kb.answer("login", "en")
        assert fake.sent[-1]["channel_id"] == greeting["channel_id"]
        press = await stored(store, f"ix:{interaction_id}")
        assert press.raw["payload"] == "faq:login" and press.raw["button"] is True
        assert press.text == kb.topics("en")[[faq for faq, _ in kb.topics("en")].index("login")][1]  # its label
        assert press.conversation_id == (await stored(store, greeting["id"])).conversation_id


async def test_handoff_then_the_agents_reply_arrives_in_the_same_dm(engine, store, inbox, kb, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        msg = await fake.user_dm(scene.alice, "/human")
        outcome = await h.handled(msg["id"])
        assert outcome.action == "handoff"
        dispatcher = make_dispatcher({"discord": h.adapter})
        await dispatcher.drain()
        assert [m["content"] for m in fake.sent] == [kb.message("handoff", "en", ticket=outcome.ticket_id)]

        await inbox.reply(outcome.ticket_id, "Hi Alice, I have unlocked your account.")
        await dispatcher.drain()
        assert fake.sent[-2]["content"] == kb.message("agent_joined", "en", agent="agent")
        assert fake.sent[-1]["content"] == "Hi Alice, I have unlocked your account."
        assert fake.sent[-1]["channel_id"] == msg["channel_id"]
        # the customer answers in the DM: it joins the same ticket
        again = await fake.user_dm(scene.alice, "thanks, it works")
        assert (await h.handled(again["id"])).ticket_id == outcome.ticket_id
        record = await store.ticket(outcome.ticket_id)
        assert "Hi Alice, I have unlocked your account." in record.texts and "thanks, it works" in record.texts


async def test_a_long_reply_is_split_and_attachments_reach_the_ticket(engine, store, inbox, make_dispatcher):
    scene = build()
    async with running(engine, scene) as h:
        fake = scene.fake
        receipt = fake.attachment("receipt.png", "image/png", 48213)
        statement = fake.attachment("statement.pdf", "application/pdf", 120_000)
        msg = await fake.user_dm(scene.alice, "/human", attachments=[receipt, statement])
        outcome = await h.handled(msg["id"])
        record = await store.ticket(outcome.ticket_id)
        [row] = [m.message for m in record.messages if m.message.platform_id == msg["id"]]
        assert [(a["kind"], a["name"], a["size"], a["mime_type"], a["url"]) for a in row.attachments] == [
            ("image", "receipt.png", 48213, "image/png", receipt["url"]),
            ("document", "statement.pdf", 120_000, "application/pdf", statement["url"])]

        long_reply = "\n\n".join(f"Step {i}: " + "check the settings page carefully. " * 12 for i in range(12))
        await inbox.reply(outcome.ticket_id, long_reply)
        await make_dispatcher({"discord": h.adapter}).drain()
        parts = [m["content"] for m in fake.sent[1:] if "has joined the conversation" not in m["content"]]
        assert len(parts) >= 2 and all(len(p) <= 2000 for p in parts)
        assert " ".join(" ".join(parts).split()) == " ".join(long_reply.split())
