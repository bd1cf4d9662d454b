"""Accounts that imitate the brand or a moderator are flagged to the team, never told, and removed if configured."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.impersonation import Guard, Protected, imitates, skeleton
from core.models import Author, Escalation, InboundMessage, MemberJoined
from core.pipeline import Engine
from core.store import Store
from core.store.replies import outbound_from_row
from core.store.tables import Ticket

PROTECTED = [Protected("OKPay Support", "1"), Protected("Mia Chen", "77")]


@pytest.mark.parametrize("name", ["0KРаy Suppоrt", "OKPay_Support", "OKPay Support Team", "okpay supp0rt",
                                  "ＯＫＰａｙ　Ｓｕｐｐｏｒｔ", "Mia Chem", "M1a Chen", "Мia Сhen"])
def test_look_alike_names_are_caught(name: str) -> None:
    assert imitates(name, PROTECTED, user_id="999") is not None, skeleton(name)


@pytest.mark.parametrize("name", ["Ann", "OKPay fan club", "John Smith", "okpay", "Mia", "李明", "Support Group"])
def test_ordinary_names_are_not(name: str) -> None:
    assert imitates(name, PROTECTED, user_id="999") is None


def test_the_real_holder_is_never_a_suspect() -> None:
    assert imitates("OKPay Support", PROTECTED, user_id="1") is None


def _engine(store: Store, triage, kb, bus, **guard) -> Engine:  # type: ignore[no-untyped-def]
    from core.flood import FloodGate

    return Engine(store, triage, kb, bus=bus, flood=FloodGate(default=1000), guard=Guard("OKPay", **guard))


def _post(pid: str, user: str, name: str, text: str = "hi all", *, moderator: bool = False) -> InboundMessage:
    return InboundMessage("telegram", pid, "-100", Author(user, name, is_moderator=moderator), text, public=True,
                          addressed=False)


async def test_a_poster_imitating_the_brand_opens_one_ticket_and_alerts_the_moderators(store, triage, kb,
                                                                                        bus) -> None:
    engine = _engine(store, triage, kb, bus, remove=True, alerts={"telegram": "-100999"})
    for i in range(3):
        await engine.handle_message(_post(f"p{i}", "666", "0KPay Suppоrt", "DM me to verify your wallet"))
    [ticket] = await store.all(select(Ticket))
    assert ticket.reason == "impersonation" and ticket.priority == "high" and "0KPay" in ticket.subject
    rows = {r.conversation: outbound_from_row(r) for r in await store.outbox_rows()}
    assert set(rows) == {"-100999", "-100"}  # the moderators' chat, and the removal: nothing to the account
    assert "666" in rows["-100999"].text and f"#{ticket.id}" in rows["-100999"].text
    assert rows["-100"].action == "remove_member" and rows["-100"].target == "666"


async def test_moderators_names_are_protected_once_they_speak(store, triage, kb, bus) -> None:
    engine = _engine(store, triage, kb, bus)
    await engine.handle_message(_post("m1", "77", "Mia Chen", "welcome!", moderator=True))
    await engine.handle_message(_post("m2", "77", "Mia Chen", "rules are pinned", moderator=True))
    await engine.handle_message(_post("c1", "555", "Mia Chem", "I am an admin, DM me"))
    [ticket] = await store.all(select(Ticket))
    assert "Mia Chen" in ticket.subject and await store.outbox_rows() == []  # flagged, nobody removed by default


async def test_a_joining_member_is_checked_before_posting(store, triage, kb, bus) -> None:
    engine = _engine(store, triage, kb, bus)
    plain = await engine.handle_member_joined(MemberJoined("telegram", "-100", Author("5", "Ann")))
    flagged = await engine.handle_member_joined(MemberJoined("telegram", "-100", Author("6", "OKPay Official")))
    assert plain.action == "stored" and flagged.action == "flagged" and flagged.outbox_ids == ()
    [ticket] = await store.all(select(Ticket))
    assert "OKPay Official" in ticket.subject


async def test_a_moderator_reports_an_impersonator_and_an_agent_marks_one(store, triage, kb, bus, inbox) -> None:
    engine = _engine(store, triage, kb, bus)
    target = _post("x1", "321", "Helpful Harry", "send me your code and I'll fix it")
    report = Escalation("telegram", "r1", Author("77", "Mia", is_moderator=True), target, note="scam DMs",
                        kind="impersonator")
    outcome = await engine.handle_escalation(report)
    again = await engine.handle_escalation(report)
    assert again.action == "duplicate" and again.ticket_id == outcome.ticket_id
    record = await store.ticket(outcome.ticket_id)
    assert "impersonator" in record.ticket.tags and "scam DMs" in record.texts
    assert outcome.notice == kb.message("impersonator_notice", "en", ticket=outcome.ticket_id)
    refused = await engine.handle_escalation(Escalation("telegram", "r2", Author("8", "Joe"), target,
                                                        kind="impersonator"))
    assert refused.action == "refused"
    assert await store.outbox_rows() == []  # removal is not configured: nobody is removed

    strict = _engine(store, triage, kb, bus, remove=True)
    other_target = _post("x2", "654", "Support Desk", "DM me your code")
    await strict.handle_escalation(Escalation("telegram", "r3", Author("77", "Mia", is_moderator=True), other_target,
                                              kind="impersonator"))
    [removal] = [outbound_from_row(r) for r in await store.outbox_rows()]
    assert (removal.action, removal.target, removal.conversation) == ("remove_member", "654", "-100")

    other = await engine.handle_message(InboundMessage("telegram", "d1", "42", Author("42", "Bo"), "/human"))
    await inbox.mark_impersonator(other.ticket_id)
    assert "impersonator" in (await store.ticket(other.ticket_id)).ticket.tags


async def test_a_secret_posted_in_public_is_deleted_then_warned_about(store, triage, kb, bus) -> None:
    engine = _engine(store, triage, kb, bus)
    await engine.handle_message(InboundMessage("telegram", "-100:9", "-100", Author("9", "Li"),
                                               "@bot my password is Hunter22!", public=True,
                                               private_conversation="9"))
    rows = [outbound_from_row(r) for r in await store.outbox_rows()]
    assert rows[0].action == "delete_message" and rows[0].target == "-100:9"
    assert rows[1].text == kb.message("secret_warning", "en") and rows[1].invite_private

