"""Wallet safety on Discord. What a customer notices: a recovery phrase posted in a channel disappears, and the
warning says so. What a moderator notices: an impersonator is banned (where the operator asked for it), or
"Report impersonator" on their message opens the case; a joiner named like support is flagged before posting.
What an agent notices when the bot may not act: the row says which permission to give the bot."""

from __future__ import annotations

import pytest
from mnemonic import Mnemonic
from sqlalchemy import select

from bots.discord.settings import DiscordSettings
from core.errors import ConfigError, RateLimited, Undeliverable
from core.flood import FloodGate
from core.impersonation import Guard
from core.models import OutboundMessage
from core.pipeline import Engine
from core.store.tables import Message, Outbox, Ticket
from tests.contract.harness_discord import DiscordHarness
from tests.fakes.discord_moderation import BAN_MEMBERS, MANAGE_MESSAGES
from tests.fakes.discord_scene import build, running, stored

PHRASE = Mnemonic("english").generate(128)
SCAM = "DM me and I will verify your wallet"


def _guarded_engine(store, triage, kb, bus, **guard) -> Engine:  # type: ignore[no-untyped-def]
    return Engine(store, triage, kb, bus=bus, flood=FloodGate(default=1000), guard=Guard("OKPay", **guard))


async def _row(store, action: str) -> Outbox:  # type: ignore[no-untyped-def]
    rows = [r for r in await store.all(select(Outbox).order_by(Outbox.id)) if r.payload.get("action") == action]
    assert len(rows) == 1, rows
    return rows[0]


async def test_a_recovery_phrase_posted_in_public_is_deleted_before_the_warning(engine, store, make_dispatcher):
    scene = build()
    fake = scene.fake
    fake.grant_bot(scene.okpay["id"], MANAGE_MESSAGES)
    async with running(engine, scene) as h:
        posted = await fake.guild_message(scene.general, scene.alice, f"my seed is {PHRASE} help", mention_bot=True)
        await h.handled(posted["id"])
        await make_dispatcher({"discord": h.adapter}).drain()

        assert fake.deleted == [int(posted["id"])] and int(posted["id"]) not in fake.messages
        warning = next(m for m in fake.sent if m["channel_id"] == scene.general["id"])
        assert "recovery phrase" in warning["content"] and all(PHRASE not in m["content"] for m in fake.sent)
        delete = await _row(store, "delete_message")
        assert delete.status == "sent" and delete.id < min(r.id for r in await store.all(select(Outbox))
                                                           if r.payload.get("action") is None)
        deletion = await store.scalar(select(Message).where(Message.id == delete.message_id))
        assert deletion.platform_id == f"deleted:{posted['id']}"
        [(method, path, reason)] = fake.audit_reasons
        assert method == "DELETE" and path.endswith(f"/messages/{posted['id']}") and reason.startswith("supportbot")
        customer = await stored(store, posted["id"])
        assert PHRASE not in customer.text and "[redacted" in customer.text  # never kept


async def test_without_manage_messages_the_agent_reads_which_permission_to_give(engine, store, make_dispatcher):
    scene = build()
    fake = scene.fake
    async with running(engine, scene) as h:
        posted = await fake.guild_message(scene.general, scene.alice, f"seed {PHRASE}", mention_bot=True)
        await h.handled(posted["id"])
        await make_dispatcher({"discord": h.adapter}).drain()

        assert fake.deleted == [] and int(posted["id"]) in fake.messages
        delete = await _row(store, "delete_message")
        assert delete.status == "dead" and "Manage Messages" in delete.last_error and "50013" in delete.last_error
        assert fake.sent, "the warning still goes out"


async def test_deleting_again_is_done_and_a_dm_or_a_button_press_cannot_be_deleted(engine):
    scene = build()
    fake = scene.fake
    fake.grant_bot(scene.okpay["id"], MANAGE_MESSAGES)
    async with running(engine, scene) as h:
        posted = await fake.guild_message(scene.general, scene.alice, "hello")
        action = OutboundMessage(channel="discord", conversation=scene.general["id"], text="Delete it.",
                                 action="delete_message", target=posted["id"], outbox_id=5)
        first = await h.adapter.send(action)
        again = await h.adapter.send(action)  # a retry after a crash: Discord answers 404 Unknown Message
        assert first.platform_id == again.platform_id == f"deleted:{posted['id']}"
        assert fake.deleted == [int(posted["id"])]

        dm = await fake.user_dm(scene.alice, "hello")
        with pytest.raises(Undeliverable, match="direct message"):
            await h.adapter.send(OutboundMessage(channel="discord", conversation=f"dm:{scene.alice['id']}", text="x",
                                                 action="delete_message", target=dm["id"]))
        with pytest.raises(Undeliverable, match="button press"):
            await h.adapter.send(OutboundMessage(channel="discord", conversation=scene.general["id"], text="x",
                                                 action="delete_message", target="ix:123"))


async def test_actions_wait_at_the_global_gate_like_every_request(engine):
    scene = build()
    fake = scene.fake
    fake.grant_bot(scene.okpay["id"], MANAGE_MESSAGES | BAN_MEMBERS)
    async with running(engine, scene) as h:
        posted = await fake.guild_message(scene.general, scene.alice, "hello")
        h.adapter.global_limit.block(5.0)  # as after a global 429
        before = len(fake.request_log)
        for action, target in (("delete_message", posted["id"]), ("remove_member", scene.bob["id"])):
            with pytest.raises(RateLimited) as caught:
                await h.adapter.send(OutboundMessage(channel="discord", conversation=scene.general["id"], text="x",
                                                     action=action, target=target))
            assert caught.value.scope == "channel" and caught.value.retry_after > 4
        assert fake.request_log[before:] == [] and fake.deleted == [] and fake.bans == {}


@pytest.mark.parametrize("bot_may", ["ban", "nothing", "ban, but ranks below"])
async def test_an_impersonator_who_posts_is_banned_where_the_operator_asked(store, triage, kb, bus, make_dispatcher,
                                                                             bot_may):
    engine = _guarded_engine(store, triage, kb, bus, remove=True)
    scene = build()
    fake = scene.fake
    scammer = fake.add_user("okpay_support", display="0KPay Suppоrt")
    fake.add_member(scene.okpay["id"], scammer)
    if bot_may != "nothing":
        role = fake.grant_bot(scene.okpay["id"], BAN_MEMBERS)
        if bot_may == "ban, but ranks below":
            role["position"] = 0  # not above the member's highest role (@everyone, 0)
    async with running(engine, scene) as h:
        posted = await fake.guild_message(scene.general, scammer, SCAM)
        await h.handled(posted["id"])
        await make_dispatcher({"discord": h.adapter}).drain()

        [ticket] = await store.all(select(Ticket).where(Ticket.reason == "impersonation"))
        row = await _row(store, "remove_member")
        gid, uid = int(scene.okpay["id"]), int(scammer["id"])
        if bot_may == "ban":
            assert row.status == "sent" and fake.bans == {gid: {uid}}
            assert fake.ban_queries == [{"delete_message_seconds": "0"}]  # their messages stay as evidence
            removal = await store.scalar(select(Message).where(Message.id == row.message_id))
            assert removal.platform_id == f"banned:{gid}:{uid}"
            assert await fake.member_join(scene.okpay, scammer) == 0  # cannot come back with an invite
        else:
            assert row.status == "dead" and fake.bans == {}
            assert "Ban Members" in row.last_error and "highest role" in row.last_error
        assert all(m["channel_id"] != scene.general["id"] for m in fake.sent)  # never told in public
        assert ticket.priority == "high"


@pytest.mark.parametrize("system_channel", [True, False])
async def test_with_watch_joins_a_joiner_named_like_support_is_flagged_and_banned(store, triage, kb, bus,
                                                                                  make_dispatcher, system_channel):
    engine = _guarded_engine(store, triage, kb, bus, remove=True)
    scene = build()
    fake = scene.fake
    fake.grant_bot(scene.okpay["id"], BAN_MEMBERS)
    if system_channel:
        scene.okpay["system_channel_id"] = scene.general["id"]
    scammer = fake.add_user("okpay.help", display="OKPay Suppport")
    ordinary = fake.add_user("dora")
    async with running(engine, scene, watch_joins=True) as h:
        assert fake.identifies[-1]["intents"] & (1 << 1)  # the Server Members intent was asked for
        await fake.member_join(scene.okpay, ordinary)
        await fake.member_join(scene.okpay, scammer)
        outcome = await h.handled(f"join:{scammer['id']}")
        await h.handled(f"join:{ordinary['id']}")
        await make_dispatcher({"discord": h.adapter}).drain()

        assert outcome.action == "flagged"
        event = h.tap.items[f"join:{scammer['id']}"]
        assert event.conversation == (scene.general["id"] if system_channel else scene.okpay["id"])
        assert event.author.display_name == "OKPay Suppport" and not event.author.is_moderator
        assert fake.bans == {int(scene.okpay["id"]): {int(scammer["id"])}}
        assert len(await store.all(select(Ticket))) == 1  # nothing about the ordinary member
        assert fake.sent == []


async def test_joins_are_not_watched_by_default_and_the_intent_is_not_asked_for(engine):
    scene = build()
    fake = scene.fake
    fake.members_intent_enabled = False  # a bot without the Server Members switch still starts
    async with running(engine, scene) as h:
        assert not fake.identifies[-1]["intents"] & (1 << 1)
        assert await fake.member_join(scene.okpay, fake.add_user("OKPay Support")) == 0  # Discord sends nothing
        msg = await fake.user_dm(scene.alice, "hello")
        await h.handled(msg["id"])
        assert not [k for k in h.tap.handled if k.startswith("join:")]


async def test_watch_joins_without_the_portal_switch_says_which_intent_to_enable(engine):
    scene = build()
    scene.fake.members_intent_enabled = False
    with pytest.raises(ConfigError, match="Server Members"):
        async with running(engine, scene, watch_joins=True):
            pass


def test_watch_joins_is_off_unless_set():
    assert DiscordSettings().watch_joins is False
    assert DiscordSettings(watch_joins=True).watch_joins is True


async def _moderator_saw(fake, interaction_id: str) -> str:  # type: ignore[no-untyped-def]
    await fake.wait_for(lambda: any(c["id"] == interaction_id for c in fake.callbacks), what="the deferral")
    [callback] = [c for c in fake.callbacks if c["id"] == interaction_id]
    assert callback["type"] == 5 and callback["data"]["flags"] & 64  # only the moderator sees it
    await fake.wait_for(lambda: any(w["token"] == callback["token"] for w in fake.webhook_messages),
                        what="the answer to the moderator")
    return next(w["content"] for w in fake.webhook_messages if w["token"] == callback["token"])


async def test_report_impersonator_marks_the_account_and_only_the_moderator_sees_the_notice(engine, store, kb):
    scene = build()
    fake = scene.fake
    async with running(engine, scene) as h:
        assert {c["name"]: c["type"] for c in fake.command_syncs[scene.okpay["id"]]}["Report impersonator"] == 3
        posted = await fake.guild_message(scene.general, scene.bob, SCAM)
        await h.handled(posted["id"])
        refused = await fake.context_menu(scene.alice, posted, "Report impersonator")  # not a moderator
        assert (await h.handled(f"ix:{refused}")).action == "refused"
        reported = await fake.context_menu(scene.mona, posted, "Report impersonator")
        outcome = await h.handled(f"ix:{reported}")

        assert h.tap.items[f"ix:{reported}"].kind == "impersonator"
        assert await _moderator_saw(fake, refused) == kb.message("escalation_refused", "en")
        assert await _moderator_saw(fake, reported) == kb.message("impersonator_notice", "en", ticket=outcome.ticket_id)
        ticket = await store.scalar(select(Ticket).where(Ticket.id == outcome.ticket_id))
        assert "impersonator" in ticket.tags
        assert fake.sent == []  # nothing said in public, nothing to the account


async def test_a_moderator_cannot_report_their_own_message(engine):
    scene = build()
    fake = scene.fake
    async with running(engine, scene) as h:
        own = await fake.guild_message(scene.general, scene.mona, "welcome everyone")
        await h.handled(own["id"])
        interaction = await fake.context_menu(scene.mona, own, "Report impersonator")
        answer = await _moderator_saw(fake, interaction)
        assert "your own message" in answer and f"ix:{interaction}" not in h.tap.handled


@pytest.mark.parametrize(("lang", "words"), [("zh-Hans", "隐私设置"), ("zh-Hant", "隱私設定"),
                                             ("en", "Privacy Settings"), (None, "Privacy Settings")])
async def test_the_closed_dms_note_is_in_the_customers_language(engine, lang, words):
    scene = build()
    fake = scene.fake
    fake.closed_dms.add(int(scene.alice["id"]))
    async with DiscordHarness(engine, fake=fake, settings=scene.settings()) as h:
        asked = await fake.guild_message(scene.general, scene.alice, "转账没到账", mention_bot=True)
        await h.handled(asked["id"])
        meta = {"public_fallback": {"conversation": scene.general["id"], "reply_to": asked["id"]},
                **({"lang": lang} if lang else {})}
        sent = await h.adapter.send(OutboundMessage(channel="discord", conversation=f"dm:{scene.alice['id']}",
                                                    text="Your transfer is held.", outbox_id=9, meta=meta))
        note = fake.sent[-1]
        assert sent.public_note and note["channel_id"] == scene.general["id"]
        assert words in note["content"] and note["content"].startswith(f"<@{scene.alice['id']}> ")
        other = {"zh-Hans": "隱私設定", "zh-Hant": "隐私设置"}.get(lang or "en", "隐私")
        assert other not in note["content"]  # one language, not all of them
