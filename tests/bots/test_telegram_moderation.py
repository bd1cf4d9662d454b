"""Telegram moderation end to end (real PTB, fake Bot API, real engine and dispatcher): a secret posted in a
group is deleted where the bot may delete, an impersonator who joins is banned where the bot may ban, and
where it may not, the agent reads on the row what to change. Joins reach the engine from the service
message and from ``chat_member``; moderators report impersonators with ``/impersonator``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from telegram.error import BadRequest, Forbidden, TimedOut

from bots.telegram.escalation import IMPERSONATOR_USAGE, IMPERSONATOR_USAGE_PRIVATE
from bots.telegram.moderation import _refused
from core.errors import RetryLater, Uncertain, Undeliverable
from core.flood import FloodGate
from core.impersonation import Guard
from core.models import OutboundMessage
from core.pipeline import Engine
from core.store.tables import Message, Ticket
from tests.fakes.telegram_api import BOT_ID
from tests.fakes.telegram_world import Recorder, telegram_world, wait_until

GROUP = -1001500600700
OWNER, MOD, CUSTOMER, SCAMMER = 1, 9000, 5001, 6666
SECRET = "@okpay_support_bot my password is Hunter22! why can't I log in"


def _guarding_engine(store: Any, triage: Any, kb: Any, bus: Any) -> Engine:
    return Engine(store, triage, kb, bus=bus, flood=FloodGate(default=1_000_000),
                  guard=Guard(kb.brand, remove=True))


async def _rows_by_action(store: Any) -> dict[str | None, Any]:
    return {row.payload.get("action"): row for row in await store.outbox_rows()}


async def test_a_secret_posted_in_a_group_is_deleted_and_the_customer_warned(
        engine, store, kb, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[OWNER, BOT_ID])
        ann = fake.user(CUSTOMER, "Ann")
        posted = fake.message(group, ann, SECRET)
        await fake.deliver("message", posted)
        await world.stored(store, f"{GROUP}:{posted['message_id']}")
        await make_dispatcher({"telegram": world.adapter}).drain()

        assert fake.deleted == [(GROUP, posted["message_id"])]  # gone from the group
        warning = next(m for m in fake.sent_to(GROUP) if m["text"].startswith(kb.message("secret_warning", "en")))
        assert "reply_to_message" not in warning  # what it answered is gone: it goes out all the same
        row = (await _rows_by_action(store))["delete_message"]
        assert row.status == "sent"
        step = await store.scalar(select(Message).where(Message.id == row.message_id))
        assert step.platform_id == f"deleted:{GROUP}:{posted['message_id']}"  # a stable id, not a message's
        stored = await world.stored(store, f"{GROUP}:{posted['message_id']}")
        assert "Hunter22" not in stored.text


async def test_without_the_right_to_delete_the_agent_is_told_what_to_change(
        engine, store, kb, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[OWNER])  # the bot is a plain member
        ann = fake.user(CUSTOMER, "Ann")
        posted = fake.message(group, ann, SECRET)
        await fake.deliver("message", posted)
        await world.stored(store, f"{GROUP}:{posted['message_id']}")
        await make_dispatcher({"telegram": world.adapter}).drain()

        assert fake.deleted == [] and fake.failed("deleteMessage") == 1  # asked once, never again
        row = (await _rows_by_action(store))["delete_message"]
        assert row.status == "dead"
        assert "make the bot an admin" in row.last_error and "delete messages" in row.last_error
        assert any(m["text"].startswith(kb.message("secret_warning", "en")) for m in fake.sent_to(GROUP))


async def test_a_secret_older_than_48_hours_is_not_retried_and_the_agent_reads_why(
        engine, store, kb, make_dispatcher, tmp_path):
    """README, Telegram: "Telegram lets a bot delete messages for 48 hours only" (an update read late, after an
    outage): even with the right to delete, the refusal is final and says why, and the customer is still warned."""
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[OWNER, BOT_ID])  # the bot may delete
        ann = fake.user(CUSTOMER, "Ann")
        posted = fake.message(group, ann, SECRET)
        posted["date"] -= 49 * 3600
        await fake.deliver("message", posted)
        await world.stored(store, f"{GROUP}:{posted['message_id']}")
        await make_dispatcher({"telegram": world.adapter}).drain()

        assert fake.deleted == [] and fake.failed("deleteMessage") == 1  # asked once, never again
        row = (await _rows_by_action(store))["delete_message"]
        assert row.status == "dead" and "older than 48 hours" in row.last_error
        assert any(m["text"].startswith(kb.message("secret_warning", "en")) for m in fake.sent_to(GROUP))


async def test_a_delete_done_before_a_retry_counts_as_done(tmp_path) -> None:
    async with telegram_world(Recorder(), tmp_path) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[OWNER, BOT_ID])
        posted = fake.message(group, fake.user(CUSTOMER, "Ann"), "my seed words are ...")
        step = OutboundMessage("telegram", str(GROUP), "Delete it", action="delete_message",
                               target=f"{GROUP}:{posted['message_id']}")
        first = await world.adapter.send(step)
        again = await world.adapter.send(step)  # Telegram: "message to delete not found"
        assert first.platform_id == again.platform_id == f"deleted:{GROUP}:{posted['message_id']}"
        assert fake.deleted == [(GROUP, posted["message_id"])]
        with pytest.raises(Undeliverable, match="not a Telegram message id"):
            await world.adapter.send(OutboundMessage("telegram", str(GROUP), "x", action="delete_message",
                                                     target="cb:123"))


def test_a_step_without_an_answer_is_tried_again_never_marked_as_maybe_done_twice() -> None:
    timed_out = TimedOut("Timed out")
    timed_out.__cause__ = TimeoutError()
    with pytest.raises(RetryLater) as raised:
        _refused(timed_out, "ban", GROUP, gone=())
    assert not isinstance(raised.value, Uncertain)
    _refused(BadRequest("Message to delete not found"), "delete", GROUP, gone=("message to delete not found",))
    with pytest.raises(Undeliverable, match="not in chat"):
        _refused(Forbidden("Forbidden: bot was kicked from the supergroup chat"), "ban", GROUP, gone=())
    with pytest.raises(Undeliverable, match="upgrade the group to a supergroup"):
        _refused(BadRequest("Need to be inviter of a user to kick it from a basic group"), "ban", -42, gone=())


async def test_an_impersonator_who_joins_is_banned_and_cannot_come_back(
        store, triage, kb, bus, make_dispatcher, tmp_path):
    engine = _guarding_engine(store, triage, kb, bus)
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[OWNER, BOT_ID])
        fake_support = fake.user(SCAMMER, "0KPay Suppоrt", username="okpay_help_desk")  # a Cyrillic "о"
        ann = fake.user(CUSTOMER, "Ann")
        service, _ = fake.join(group, fake_support)
        await fake.deliver("message", service)
        plain, _ = fake.join(group, ann)
        await fake.deliver("message", plain)
        ticket = await wait_until(lambda: store.scalar(select(Ticket)), what="the impersonation ticket")
        await make_dispatcher({"telegram": world.adapter}).drain()

        assert ticket.reason == "impersonation" and "0KPay" in ticket.subject
        assert fake.banned == {GROUP: {SCAMMER}}  # Ann is left alone
        row = (await _rows_by_action(store))["remove_member"]
        assert row.status == "sent"
        with pytest.raises(ValueError, match="banned"):
            fake.join(group, fake_support)  # a ban, not a kick: the invite link no longer lets them in
        assert fake.sent_to(SCAMMER) == [] and not any("0KPay" in m.get("text", "") for m in fake.sent)


async def test_in_a_large_group_the_chat_member_update_alone_brings_the_join(
        store, triage, kb, bus, make_dispatcher, tmp_path):
    engine = _guarding_engine(store, triage, kb, bus)
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[OWNER, BOT_ID])
        _, change = fake.join(group, fake.user(SCAMMER, "OKPay Official"))
        await fake.deliver("chat_member", change)  # no service message: Telegram drops them in large groups
        await wait_until(lambda: store.scalar(select(Ticket)), what="the impersonation ticket")
        await make_dispatcher({"telegram": world.adapter}).drain()
        assert fake.banned == {GROUP: {SCAMMER}}


@pytest.mark.parametrize(("admins", "withheld", "expected"), [
    ([OWNER], set(), "make the bot an admin of that group with the right to ban users"),
    ([OWNER, BOT_ID], {"can_restrict_members"}, "with the right to ban users"),
])
async def test_when_the_bot_may_not_ban_the_agent_reads_why_on_the_row(
        store, triage, kb, bus, make_dispatcher, tmp_path, admins, withheld, expected):
    engine = _guarding_engine(store, triage, kb, bus)
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=admins)
        fake.withheld_rights[GROUP] = withheld
        service, _ = fake.join(group, fake.user(SCAMMER, "OKPay Support Team"))
        await fake.deliver("message", service)
        await wait_until(lambda: store.scalar(select(Ticket)), what="the impersonation ticket")
        await make_dispatcher({"telegram": world.adapter}).drain()
        row = (await _rows_by_action(store))["remove_member"]
        assert fake.banned == {} and row.status == "dead" and expected in row.last_error


async def test_an_administrator_is_never_removed_and_the_agent_reads_why(tmp_path) -> None:
    async with telegram_world(Recorder(), tmp_path) as world:
        fake = world.fake
        fake.group(GROUP, admins=[OWNER, BOT_ID, MOD])
        refusals = ((MOD, "a bot cannot ban an administrator"), (OWNER, "Can't remove chat owner.*the owner must"))
        for user, why in refusals:
            with pytest.raises(Undeliverable, match=why):
                await world.adapter.send(OutboundMessage("telegram", f"{GROUP}:7", "Remove", action="remove_member",
                                                         target=str(user)))
        assert fake.banned == {}
        # a member of a topic's group is removed from the group; the id is the step's, stable across retries
        sent = await world.adapter.send(OutboundMessage("telegram", f"{GROUP}:7", "Remove", action="remove_member",
                                                        target=str(SCAMMER)))
        assert sent.platform_id == f"removed:{GROUP}:{SCAMMER}" and fake.banned == {GROUP: {SCAMMER}}


async def test_joins_are_handed_over_per_person_and_never_for_bots(tmp_path) -> None:
    recorder = Recorder()
    async with telegram_world(recorder, tmp_path, moderators=[7777]) as world:
        fake = world.fake
        forum = fake.group(GROUP, forum=True, admins=[OWNER, BOT_ID])
        ann, hal = fake.user(CUSTOMER, "Ann", username="ann_w"), fake.user(7777, "Hal")
        other_bot = {"id": 4242, "is_bot": True, "first_name": "Spam", "username": "spam_bot"}
        service, _ = fake.join(forum, ann, by=hal)
        service["new_chat_members"] = [ann, other_bot, fake.bot_user, hal]  # one message, several newcomers
        await fake.deliver("message", service)
        _, bot_change = fake.join(forum, other_bot)
        await fake.deliver("chat_member", bot_change)
        left = {"chat": forum, "from": ann, "date": bot_change["date"], "old_chat_member": {"status": "member",
                "user": ann}, "new_chat_member": {"status": "left", "user": ann}}
        await fake.deliver("chat_member", left)
        await fake.deliver("message", fake.message(forum, ann, "hello all"))  # a chat's updates keep their order
        await wait_until(lambda: recorder.messages, what="the group message after the joins")

        assert [(j.conversation, j.author.platform_user_id, j.author.handle, j.author.is_moderator)
                for j in recorder.joined] == [(str(GROUP), str(CUSTOMER), "ann_w", False),
                                              (str(GROUP), "7777", None, True)]
        assert [m.text for m in recorder.messages] == ["hello all"]  # the service message is no customer message


async def test_a_moderator_reports_an_impersonator_with_a_reply(engine, store, kb, tmp_path) -> None:
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        group = fake.group(GROUP, admins=[OWNER, MOD])
        scammer = fake.user(SCAMMER, "Helpful Harry", username="harry_helps")
        mod, bob = fake.user(MOD, "Mia", language_code="en"), fake.user(6002, "Bob", language_code="en")
        bait = fake.message(group, scammer, "DM me your recovery code and I'll unlock your wallet")
        refused = fake.message(group, bob, "/impersonator", reply_to=bait)
        reported = fake.message(group, mod, "/impersonator asked two members for codes in DMs", reply_to=bait)
        bare = fake.message(group, mod, "/impersonator")
        for message in (bait, refused, reported, bare):
            await fake.deliver("message", message)
        await fake.deliver("message", fake.message(fake.private_chat(mod), mod, "/impersonator"))

        def notice(command: dict) -> Any:
            return next((m["text"] for m in fake.sent if m.get("reply_to_message", {}).get("message_id")
                         == command["message_id"] and m["chat"]["id"] == command["chat"]["id"]), None)

        ticket = await wait_until(lambda: store.scalar(select(Ticket)), what="the impersonator's ticket")
        assert await wait_until(lambda: notice(reported)) == kb.message("impersonator_notice", "en",
                                                                         ticket=ticket.id)
        assert notice(refused) == kb.message("escalation_refused", "en")
        # the commands after the report are answered after it (a group's replies are paced): wait for theirs too
        assert await wait_until(lambda: notice(bare), what="the usage reply in the group") == IMPERSONATOR_USAGE
        assert await wait_until(lambda: fake.sent_to(MOD) and fake.sent_to(MOD)[-1]["text"],
                                what="the usage reply in private") == IMPERSONATOR_USAGE_PRIVATE
        assert "impersonator" in ticket.tags
        record = await store.ticket(ticket.id)
        assert "asked two members for codes in DMs" in record.texts
        assert len(await store.all(select(Ticket))) == 1
