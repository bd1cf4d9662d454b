"""Moderation steps on X: the bot may delete only its own posts and cannot remove an account, so the engine's
"delete this post" and "remove this account" rows are reported to the agent with what to do instead, and
nothing describing them is ever posted. Real tweepy against the fake X, the real engine and dispatcher."""

from __future__ import annotations

from sqlalchemy import select

from core.flood import FloodGate
from core.impersonation import Guard
from core.pipeline import Engine
from core.store.replies import outbound_from_row
from core.store.tables import Outbox
from tests.contract.harness_x import XHarness
from tests.fakes.x_api import BOT_ID


async def _rows(store, action: str) -> list[Outbox]:  # type: ignore[no-untyped-def]
    return [r for r in await store.all(select(Outbox)) if outbound_from_row(r).action == action]


async def test_a_secret_posted_in_public_is_not_deletable_on_x_the_agent_is_told_and_the_warning_still_goes(
        engine, store, make_dispatcher) -> None:
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        post = await x.mention("help, my password is Hunter22! and login fails", user_id="5001")
        await make_dispatcher({"x": x.adapter}).drain()

        [row] = await _rows(store, "delete_message")
        assert outbound_from_row(row).target == post
        assert row.status == "dead"
        assert "does not let the bot delete someone else's post" in row.last_error
        assert f"https://x.com/i/web/status/{post}" in row.last_error and "Report post" in row.last_error
        # the warning went under the post; the description of the step ("Delete the customer's ...") never did
        posts = x.fake.bot_posts()
        assert posts and all(p["referenced_tweets"][0]["id"] in {post, *(q["id"] for q in posts)} for p in posts)
        assert not any("Delete the customer" in p["text"] or "Hunter22" in p["text"] for p in posts)
        assert x.fake.tweets[post]["author_id"] == "5001"  # still there: X would not let the bot remove it


async def test_an_impersonator_cannot_be_removed_on_x_the_agent_is_told_to_report_it(
        store, triage, kb, bus, make_dispatcher) -> None:
    guarded = Engine(store, triage, kb, bus=bus, flood=FloodGate(default=1000), guard=Guard("OKPay", remove=True))
    async with XHarness(guarded, cursor_store=store) as x:
        x.fake.add_user("6666", "okpay_supp0rt", "0KPay Suppоrt")
        await x.mention("DM me to verify your wallet", user_id="6666")
        await make_dispatcher({"x": x.adapter}).drain()

        [row] = await _rows(store, "remove_member")
        assert outbound_from_row(row).target == "6666" and row.status == "dead"
        assert "no way for the bot to remove the account 6666" in row.last_error
        assert "Report the account on X" in row.last_error
        assert not any("Remove" in p["text"] for p in x.fake.bot_posts())
        assert not [e for e in x.fake.bot_dms() if e["dm_conversation_id"] == f"{BOT_ID}-6666"]
