"""Groups, supergroups and forum topics: the bot answers only when addressed; moderators escalate
customers' messages with ``/escalate`` as a reply. Real PTB, fake Bot API, real engine and dispatcher."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from core.store.tables import Ticket
from tests.fakes.memory_channel import public_answer
from tests.fakes.telegram_world import telegram_world, wait_until

GROUP = -1001500600700
ADMIN = 9000
CUSTOMER = 5001
# Who Telegram names as the sender of an anonymous administrator's message (``sender_chat`` is the group itself)
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}


def _notice_for(fake, command: dict) -> dict | None:  # type: ignore[no-untyped-def]
    """The bot's notice in the group answering ``command`` (a confirmation or a refusal), once posted."""
    return next((m for m in fake.sent_to(GROUP)
                 if m.get("reply_to_message", {}).get("message_id") == command["message_id"]), None)


async def test_a_mention_is_answered_and_an_unaddressed_message_is_only_stored(
    engine, store, kb, make_dispatcher, tmp_path
):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[ADMIN])
        ann = fake.user(CUSTOMER, "Ann", language_code="en")
        chatter = fake.message(group, ann, "I forgot my password again lol")
        asked = fake.message(group, ann, "@okpay_support_bot I forgot my password, how do I reset it?")
        await fake.deliver("message", chatter)
        await fake.deliver("message", asked)
        quiet = await world.stored(store, f"{GROUP}:{chatter['message_id']}")
        loud = await world.stored(store, f"{GROUP}:{asked['message_id']}")
        await make_dispatcher({"telegram": world.adapter}).drain()

        assert quiet.addressed is False and quiet.public is True
        assert loud.addressed is True and loud.text == "I forgot my password, how do I reset it?"
        [answer] = fake.sent_to(GROUP)
        assert answer["text"] == public_answer(kb, "login", "en")
        assert answer["reply_to_message"]["message_id"] == asked["message_id"]
        assert "message_thread_id" not in answer


async def test_replies_to_the_bot_and_commands_count_as_addressed(engine, store, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        group = fake.group(GROUP)
        ann = fake.user(CUSTOMER, "Ann")
        first = fake.message(group, ann, "@okpay_support_bot is OKPay safe?")
        await fake.deliver("message", first)
        await world.stored(store, f"{GROUP}:{first['message_id']}")
        await make_dispatcher({"telegram": world.adapter}).drain()
        [bot_answer] = fake.sent_to(GROUP)
        follow_up = fake.message(group, ann, "and what about 2FA?", reply_to=bot_answer)
        other_bot = fake.message(group, ann, "/help@some_other_bot")
        ours = fake.message(group, ann, "/help@okpay_support_bot")
        for message in (follow_up, other_bot, ours):
            await fake.deliver("message", message)
        rows = [await world.stored(store, f"{GROUP}:{m['message_id']}") for m in (follow_up, other_bot, ours)]
        assert [r.addressed for r in rows] == [True, False, True]
        assert rows[0].reply_to == f"{GROUP}:{bot_answer['message_id']}"
        assert rows[2].text == "/help"


async def test_a_forum_topic_is_its_own_conversation_and_the_answer_stays_in_it(
    engine, store, kb, make_dispatcher, tmp_path
):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        forum = fake.group(GROUP, "OKPay 社区", forum=True)
        li = fake.user(CUSTOMER, "李", language_code="zh-hans")
        topic = fake.message(forum, li, None, forum_topic_created={"name": "帮助", "icon_color": 7322096})
        asked = fake.message(forum, li, "@okpay_support_bot 忘记密码了怎么办", thread_id=topic["message_id"],
                             reply_to=topic)
        await fake.deliver("message", topic)
        await fake.deliver("message", asked)
        row = await world.stored(store, f"{GROUP}:{asked['message_id']}")
        await make_dispatcher({"telegram": world.adapter}).drain()

        assert row.reply_to is None  # the implicit reply to the topic's first message is not a reply
        stored = await store.messages_for_conversation("telegram", f"{GROUP}:{topic['message_id']}")
        assert [m.message.text for m in stored] == ["忘记密码了怎么办", public_answer(kb, "login", "zh-Hans")]
        [answer] = fake.sent_to(GROUP)
        assert answer["message_thread_id"] == topic["message_id"]
        assert answer["reply_to_message"]["message_id"] == asked["message_id"]


async def test_a_moderator_escalates_a_customer_message_into_a_ticket(engine, store, kb, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[1, ADMIN])
        ann = fake.user(CUSTOMER, "Ann", language_code="en")
        mod = fake.user(ADMIN, "Mia", username="mia_mod", language_code="en")
        earlier = fake.message(group, ann, "hi all, anyone else having trouble?")
        problem = fake.message(group, ann, "my withdrawal of 300 USDT is stuck since Monday")
        command = fake.message(group, mod, "/escalate VIP, checked: not on our status page", reply_to=problem)
        for message in (earlier, problem, command):
            await fake.deliver("message", message)
        escalated = await world.stored(store, f"{GROUP}:{problem['message_id']}", until=lambda r: r.ticket_id)

        ticket = await store.ticket(escalated.ticket_id)
        assert ticket.ticket.source == "escalation"
        assert "my withdrawal of 300 USDT is stuck since Monday" in ticket.texts
        assert "hi all, anyone else having trouble?" in ticket.texts  # context the agent reads
        assert "VIP, checked: not on our status page" in ticket.texts  # the moderator's note
        assert [m for m, _ in fake.calls].count("getchatadministrators") == 1  # cached for the chat
        await make_dispatcher({"telegram": world.adapter}).drain()

        in_group = fake.sent_to(GROUP)
        notice = next(m for m in in_group if m["reply_to_message"]["message_id"] == command["message_id"])
        assert notice["text"] == kb.message("escalated_notice", "en", ticket=ticket.ticket.id)
        invite = next(m for m in in_group if m["reply_to_message"]["message_id"] == problem["message_id"])
        [[button]] = invite["reply_markup"]["inline_keyboard"]
        assert button["url"] == f"https://t.me/okpay_support_bot?start=ticket-{ticket.ticket.id}"
        # Ann never opened a private chat: Telegram refuses, and the failure is data on the message
        private = await store.messages_for_conversation("telegram", str(CUSTOMER))
        assert [(m.delivery, "initiate conversation" in (m.delivery_error or ""))
                for m in private if m.message.direction == "out"] == [
            ("dead", True)
        ]


async def test_a_listed_moderator_may_escalate_and_others_are_refused(engine, store, kb, tmp_path):
    async with telegram_world(engine, tmp_path, moderators=[7777]) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[ADMIN])
        ann = fake.user(CUSTOMER, "Ann", language_code="en")
        bob = fake.user(6002, "Bob", language_code="en")
        helper = fake.user(7777, "Hal", language_code="en")
        problem = fake.message(group, ann, "my card payment was declined twice")
        refused = fake.message(group, bob, "/escalate", reply_to=problem)
        accepted = fake.message(group, helper, "/escalate", reply_to=problem)
        await fake.deliver("message", problem)
        await fake.deliver("message", refused)
        await world.stored(store, f"{GROUP}:{problem['message_id']}")

        no = await wait_until(lambda: _notice_for(fake, refused), what="the refusal")
        assert no["text"] == kb.message("escalation_refused", "en")
        row = await world.stored(store, f"{GROUP}:{problem['message_id']}")
        assert row.ticket_id is None

        await fake.deliver("message", accepted)
        yes = await wait_until(lambda: _notice_for(fake, accepted), what="the confirmation")
        row = await world.stored(store, f"{GROUP}:{problem['message_id']}")
        assert row.ticket_id is not None
        assert yes["text"] == kb.message("escalated_notice", "en", ticket=row.ticket_id)


async def test_an_anonymous_admin_may_escalate_and_a_post_as_another_chat_is_refused(engine, store, kb, tmp_path):
    """README (Telegram): moderators include anonymous admins, who post as the group itself (``sender_chat``);
    someone posting as another chat (their channel) is not one."""
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[ADMIN])
        ann = fake.user(CUSTOMER, "Ann", language_code="en")
        problem = fake.message(group, ann, "my card payment was declined twice")
        await fake.deliver("message", problem)
        await world.stored(store, f"{GROUP}:{problem['message_id']}")

        channel = {"id": -1009988776655, "type": "channel", "title": "OKPay Deals"}
        as_channel = fake.message(group, {**ANONYMOUS_ADMIN, "id": 136817688, "username": "Channel_Bot",
                                          "first_name": "Channel"}, "/escalate", reply_to=problem, sender_chat=channel)
        await fake.deliver("message", as_channel)
        no = await wait_until(lambda: _notice_for(fake, as_channel), what="the refusal")
        assert no["text"] == kb.message("escalation_refused", "en")
        assert (await world.stored(store, f"{GROUP}:{problem['message_id']}")).ticket_id is None

        anonymous = fake.message(group, ANONYMOUS_ADMIN, "/escalate card declined twice", reply_to=problem,
                                 sender_chat=group)
        await fake.deliver("message", anonymous)
        row = await world.stored(store, f"{GROUP}:{problem['message_id']}", until=lambda r: r.ticket_id)
        yes = await wait_until(lambda: _notice_for(fake, anonymous), what="the confirmation")
        assert yes["text"] == kb.message("escalated_notice", "en", ticket=row.ticket_id)
        assert (await store.ticket(row.ticket_id)).ticket.source == "escalation"


async def test_a_demoted_admin_is_refused_once_the_moderator_cache_expires(engine, store, kb, tmp_path):
    """README (Telegram): administrators are checked once per chat every ``moderator_cache_seconds``."""
    async with telegram_world(engine, tmp_path, moderator_cache_seconds=1.0) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[ADMIN])
        ann = fake.user(CUSTOMER, "Ann", language_code="en")
        mod = fake.user(ADMIN, "Mia", language_code="en")
        problems = [fake.message(group, ann, text) for text in ("my card payment was declined twice",
                                                                "my withdrawal is stuck since Monday",
                                                                "my verification was rejected")]
        for problem in problems:
            await fake.deliver("message", problem)
        await world.stored(store, f"{GROUP}:{problems[-1]['message_id']}")

        async def escalate(problem: dict) -> dict:
            command = fake.message(group, mod, "/escalate", reply_to=problem)
            await fake.deliver("message", command)
            return await wait_until(lambda: _notice_for(fake, command), what="the answer to /escalate")

        assert (await escalate(problems[0]))["text"] != kb.message("escalation_refused", "en")
        fake.admins[GROUP] = []  # Mia is demoted; the bot's list of the chat's admins is still fresh
        assert (await escalate(problems[1]))["text"] != kb.message("escalation_refused", "en")
        assert [m for m, _ in fake.calls].count("getchatadministrators") == 1  # once per chat
        await asyncio.sleep(1.1)  # the cache's lifetime passes (a duration, nothing to wait for)
        assert (await escalate(problems[2]))["text"] == kb.message("escalation_refused", "en")
        assert (await world.stored(store, f"{GROUP}:{problems[2]['message_id']}")).ticket_id is None


async def test_escalate_without_a_reply_gets_the_usage_and_opens_nothing(engine, store, tmp_path):
    from bots.telegram.escalation import USAGE

    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[ADMIN])
        mod = fake.user(ADMIN, "Mia")
        command = fake.message(group, mod, "/escalate please look")
        await fake.deliver("message", command)
        [usage] = await wait_until(lambda: fake.sent_to(GROUP), what="the usage notice")
        assert usage["text"] == USAGE
        assert usage["reply_to_message"]["message_id"] == command["message_id"]
        assert await store.outbox_rows() == []


async def test_escalating_the_bots_own_answer_gets_the_usage_and_opens_nothing(
    engine, store, make_dispatcher, tmp_path
):
    from bots.telegram.escalation import USAGE

    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[1, ADMIN])
        ann = fake.user(CUSTOMER, "Ann", language_code="en")
        mod = fake.user(ADMIN, "Mia", username="mia_mod", language_code="en")
        question = fake.message(group, ann, "@okpay_support_bot is OKPay safe?")
        await fake.deliver("message", question)
        await world.stored(store, f"{GROUP}:{question['message_id']}")
        await make_dispatcher({"telegram": world.adapter}).drain()
        [bot_answer] = fake.sent_to(GROUP)
        command = fake.message(group, mod, "/escalate wrong answer, please help her", reply_to=bot_answer)
        await fake.deliver("message", command)

        def usage() -> dict | None:
            return next((m for m in fake.sent_to(GROUP)
                         if m.get("reply_to_message", {}).get("message_id") == command["message_id"]), None)

        notice = await wait_until(usage, what="the usage notice")
        assert notice["text"] == USAGE
        assert await store.all(select(Ticket.id)) == []  # no ticket with the bot as its customer


async def test_a_customer_following_the_invitation_joins_the_ticket_in_private(
    engine, store, kb, make_dispatcher, tmp_path
):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        group = fake.group(GROUP)
        ann = fake.user(CUSTOMER, "Ann", language_code="en")
        question = fake.message(group, ann, "@okpay_support_bot my transfer of 300 USDT to account "
                                            "6222 0211 4455 is missing, please check")
        await fake.deliver("message", question)
        row = await world.stored(store, f"{GROUP}:{question['message_id']}", until=lambda r: r.ticket_id)
        dispatcher = make_dispatcher({"telegram": world.adapter})
        await dispatcher.drain()
        [invite] = fake.sent_to(GROUP)
        [[button]] = invite["reply_markup"]["inline_keyboard"]
        assert button["url"].endswith(f"?start=ticket-{row.ticket_id}")

        start = fake.message(fake.private_chat(ann), ann, f"/start ticket-{row.ticket_id}")  # what the link sends
        await fake.deliver("message", start)
        joined = await world.stored(store, f"{CUSTOMER}:{start['message_id']}")
        await dispatcher.drain()
        assert joined.text == f"/start ticket-{row.ticket_id}" and joined.ticket_id == row.ticket_id
        reply = fake.sent_to(CUSTOMER)[-1]
        assert reply["text"] == kb.message("ticket_joined", "en", ticket=row.ticket_id)
        assert f"#{row.ticket_id}" in reply["text"]


async def test_files_in_group_chatter_are_not_downloaded_until_escalated(engine, store, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[ADMIN])
        ann = fake.user(CUSTOMER, "Ann", language_code="en")
        mod = fake.user(ADMIN, "Mia", language_code="en")
        file_id, unique = fake.add_file(b"\x89PNG holiday photo", folder="photos")
        photo = [{"file_id": file_id, "file_unique_id": unique, "width": 800, "height": 600, "file_size": 18}]
        chatter = fake.message(group, ann, caption="look where I am", photo=photo)
        await fake.deliver("message", chatter)
        row = await world.stored(store, f"{GROUP}:{chatter['message_id']}")
        assert row.addressed is False
        [kept] = row.attachments
        assert kept["ref"] == file_id and kept["local_path"] is None  # recorded, not fetched
        assert "getfile" not in [m for m, _ in fake.calls]
        assert not (tmp_path / "telegram" / unique).exists()

        command = fake.message(group, mod, "/escalate", reply_to=chatter)
        await fake.deliver("message", command)
        escalated = await world.stored(store, f"{GROUP}:{chatter['message_id']}", until=lambda r: r.ticket_id)
        [image] = escalated.attachments
        assert image["ref"] == file_id  # the agent's ticket names the photo
        assert (tmp_path / "telegram" / unique).read_bytes() == b"\x89PNG holiday photo"  # fetched now


async def test_the_context_of_an_escalation_survives_a_restart(triage, kb, tmp_path):
    """The Bot API gives bots no history: the chatter before a restart is read back from the store."""
    from core.dispatch import Dispatcher
    from core.events import EventBus
    from core.pipeline import Engine
    from core.store import Store
    from tests.conftest import FAST
    from tests.fakes.telegram_api import FakeTelegram

    url = f"sqlite+aiosqlite:///{tmp_path}/restart.db"
    fake = FakeTelegram()
    async with fake:
        group = fake.group(GROUP, admins=[1, ADMIN])
        ann = fake.user(CUSTOMER, "Ann", language_code="en")
        mod = fake.user(ADMIN, "Mia", language_code="en")
        earlier = fake.message(group, ann, "hi all, is anyone else's withdrawal stuck?")
        problem = fake.message(group, ann, "mine is 300 USDT since Monday, tx 0x9f2c")
        store = await Store.open(url)
        try:
            async with telegram_world(Engine(store, triage, kb, bus=EventBus()), tmp_path, fake=fake) as world:
                for message in (earlier, problem):
                    await fake.deliver("message", message)
                await world.stored(store, f"{GROUP}:{problem['message_id']}")
        finally:
            await store.close()

        # a new process: new store connection, engine, adapter and dispatcher on the same database
        store = await Store.open(url)
        try:
            bus = EventBus()
            async with telegram_world(Engine(store, triage, kb, bus=bus), tmp_path, fake=fake) as world:
                command = fake.message(group, mod, "/escalate", reply_to=problem)
                await fake.deliver("message", command)
                row = await world.stored(store, f"{GROUP}:{problem['message_id']}", until=lambda r: r.ticket_id)
                ticket = await store.ticket(row.ticket_id)
                assert ticket.ticket.source == "escalation"
                assert "hi all, is anyone else's withdrawal stuck?" in ticket.texts  # said before the restart
                assert "mine is 300 USDT since Monday, tx 0x9f2c" in ticket.texts
                await Dispatcher(store, {"telegram": world.adapter}, FAST, bus=bus).drain()
                notice = next(m for m in fake.sent_to(GROUP)
                              if m["reply_to_message"]["message_id"] == command["message_id"])
                assert notice["text"] == kb.message("escalated_notice", "en", ticket=row.ticket_id)
        finally:
            await store.close()
