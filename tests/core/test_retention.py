"""Retention of conversation history (core/retention.py through housekeeping) on SQLite and PostgreSQL: what
goes, what stays (on a ticket, still pending, recent), the statistics of past days unchanged, and a customer
who comes back after their history went is served as before.

Age is given after the fact: the rows' times (and the "did it help?" question's) are moved 100 days back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import delete, func, select, update

from core import agent_files, escalations, pipeline
from core.dispatch import Dispatcher, DispatchPolicy
from core.housekeeping import Housekeeping
from core.inbox import Inbox
from core.models import Author, Escalation, MemberJoined, utcnow
from core.pipeline import Engine
from core.retention import prune_empty
from core.stats import compute
from core.store import Store
from core.store.records import ensure_conversation, ensure_customer, insert_inbound
from core.store.tables import AgentFile, Conversation, Customer, Identity, Message, Outbox, StatsDay, Ticket
from tests.conftest import PG_URL, _open_store
from tests.fakes.memory_channel import MemoryChannel
from tests.web.inbox_helpers import customer_message

FAQ = "How can I contact customer support?"
OLD = timedelta(days=100)


class Settings:
    interval_minutes = 10.0
    keep_sent_replies_days = 30.0
    keep_unticketed_messages_days = 90.0


async def _age(store: Store, conversation_id: int, by: timedelta = OLD) -> None:
    """Everything of a conversation happened ``by`` earlier (its messages, deliveries, customer, open question)."""
    async with store.transaction() as session:
        for message in (await session.scalars(select(Message).where(Message.conversation_id == conversation_id))):
            message.created_at = message.created_at - by
            if message.handled_at:
                message.handled_at = message.handled_at - by
        conversation = await session.get(Conversation, conversation_id)
        conversation.last_message_at -= by
        conversation.created_at -= by
        state = dict(conversation.state or {})
        if isinstance(state.get("pending"), dict):
            state["pending"] = {**state["pending"], "at": (utcnow() - by).isoformat()}
            conversation.state = state
        customer = await session.get(Customer, conversation.customer_id)
        customer.created_at -= by


async def _move_to(store: Store, conversation_id: int, day: date, hour: int) -> None:
    """The conversation began at ``hour`` o'clock UTC of ``day`` (all of it moved back by as much)."""
    began = await store.scalar(select(func.min(Message.created_at)).where(Message.conversation_id == conversation_id))
    await _age(store, conversation_id, began - datetime.combine(day, time(hour), UTC))


async def _conversation_of(store: Store, outcome) -> int:  # type: ignore[no-untyped-def]
    return int(await store.scalar(select(Message.conversation_id).where(Message.id == outcome.message_id)))


async def _count(store: Store, table, *where) -> int:  # type: ignore[no-untyped-def]
    return int(await store.scalar(select(func.count()).select_from(table).where(*where)))


def _memory(message):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(message, channel="memory")


async def test_history_without_a_ticket_goes_the_rest_stays_and_figures_do_not_change(any_store, triage, kb) -> None:
    store = any_store
    engine = Engine(store, triage, kb)
    ask = engine.handle_message
    # Old, done with: a visitor's FAQ answered and delivered; a Telegram customer's the same.
    visitor = await _conversation_of(store, await ask(_memory(customer_message(FAQ, user="visitor"))))
    regular = await _conversation_of(store, await ask(_memory(customer_message(FAQ, user="regular"))))
    # Old, but the story of a ticket: asked, then wanted a person (the answer joins the ticket).
    await ask(_memory(customer_message(FAQ, user="story")))
    story_ticket = (await ask(_memory(customer_message("/human", user="story")))).ticket_id
    assert story_ticket is not None
    # Old questions of a customer whose ticket is still open (opened later: the old turns are not on it).
    held = await _conversation_of(store, await ask(_memory(customer_message(FAQ, user="held"))))
    # Recent: answered today.
    recent = await _conversation_of(store, await ask(_memory(customer_message(FAQ, user="recent"))))
    # Old, but its "did it help?" is still open: the answer it refers to stays until the verdict.
    waiting = await _conversation_of(store, await ask(_memory(customer_message(FAQ, user="waiting"))))
    channel = MemoryChannel()
    await Dispatcher(store, {"memory": channel}, DispatchPolicy(poll_interval_seconds=0.05)).drain(timeout=5)
    # Old, still owed: the answer was never delivered (no dispatcher ran since).
    owed = await _conversation_of(store, await ask(_memory(customer_message(FAQ, user="owed"))))
    story = int(await store.scalar(select(Ticket.conversation_id).where(Ticket.id == story_ticket)))
    for conversation in (visitor, regular, story, held, owed, waiting):
        await _age(store, conversation)
    async with store.transaction() as session:  # "waiting" was asked a minute ago, about an old answer
        place = await session.get(Conversation, waiting)
        place.state = {**place.state, "pending": {**place.state["pending"], "at": utcnow().isoformat()}}
    async with store.transaction() as session:  # the visitor is a website-chat visitor, the regular on Telegram
        await session.execute(update(Identity).where(Identity.platform_user_id == "visitor").values(channel="webchat"))
    held_ticket = (await ask(_memory(customer_message("/human", user="held")))).ticket_id
    assert held_ticket is not None

    today = utcnow().date()
    start = today - OLD - timedelta(days=1)
    before = (await compute(store, start, today)).as_dict()
    story_messages = await _count(store, Message, Message.ticket_id == story_ticket)
    held_before = await _count(store, Message, Message.conversation_id == held)

    pruned = await Housekeeping(store, Settings()).run_once()
    assert pruned is not None and pruned.history is not None
    assert pruned.history.messages == 2 + 2 + 1  # visitor's and regular's question and answer, waiting's question
    assert pruned.history.conversations == 2 and pruned.history.customers == 1

    # Gone: the old history nobody needs, the visitor with nothing left; the Telegram customer stays known.
    assert await _count(store, Conversation, Conversation.id.in_((visitor, regular))) == 0
    assert await _count(store, Identity, Identity.platform_user_id == "visitor") == 0
    assert await _count(store, Identity, Identity.platform_user_id == "regular") == 1
    # Kept: the ticket's story, the conversation with an open ticket, the recent one, the undelivered answer,
    # the answer still awaiting its verdict.
    assert await _count(store, Message, Message.ticket_id == story_ticket) == story_messages
    assert await _count(store, Message, Message.conversation_id == held) == held_before
    assert await _count(store, Message, Message.conversation_id == recent) == 2
    assert await _count(store, Message, Message.conversation_id == owed) == 2
    assert await _count(store, Outbox, Outbox.status == "queued") >= 1
    assert [m.author_kind for m in await store.all(select(Message).where(Message.conversation_id == waiting))] \
        == ["bot"]
    # The figures of every day are what they were; the pruned days now come from stats_days.
    assert (await compute(store, start, today)).as_dict() == before
    assert (await compute(store, start, today, channel="memory")).as_dict()["totals"] == before["totals"]
    assert await _count(store, StatsDay) >= 1
    again = await Housekeeping(store, Settings()).run_once()
    assert again is not None and again.history is not None and again.history.messages == 0
    assert (await compute(store, start, today)).as_dict() == before


async def test_untriaged_failing_pending_and_an_agents_file_outlive_the_retention(any_store, triage, kb,
                                                                                  tmp_path) -> None:
    """README (Delivery, housekeeping): nothing goes before it was handled: "not a customer message the bot has not
    triaged yet", nothing of a conversation with a reply "failing", nothing of a conversation whose ticket is
    "pending", "not a reply carrying an agent's file". Each is past the retention; an old finished FAQ exchange beside
    them goes, so the pass did run with them in reach."""
    store = any_store
    engine, inbox = Engine(store, triage, kb), Inbox(store, kb)
    ask = engine.handle_message
    channel = MemoryChannel()
    dispatcher = Dispatcher(store, {"memory": channel}, DispatchPolicy(poll_interval_seconds=0.05))
    done = await _conversation_of(store, await ask(_memory(customer_message(FAQ, user="done"))))
    pending = await _conversation_of(store, await ask(_memory(customer_message(FAQ, user="pending"))))
    filed = (await ask(_memory(customer_message("/human", user="filer")))).ticket_id
    assert filed is not None
    await dispatcher.drain(timeout=5)
    for conversation in (done, pending):
        await _age(store, conversation)
    # A ticket opened now, set pending: the old FAQ turns before it are on no ticket (older than 24 h).
    held = (await ask(_memory(customer_message("/human", user="pending")))).ticket_id
    assert held is not None
    await inbox.set_status(held, "pending")

    async def receipt() -> AsyncIterator[bytes]:
        yield b"\x89PNG\r\n\x1a\n" + b"0" * 64

    upload = await agent_files.save(tmp_path, "receipt.png", receipt())
    file_reply = await inbox.reply(filed, "Here is your receipt.", files=[upload])
    await inbox.set_status(filed, "solved")  # no longer open or pending: only the file keeps its reply
    await dispatcher.drain(timeout=5)
    await _age(store, int(await store.scalar(select(Ticket.conversation_id).where(Ticket.id == filed))))
    # A reply being retried: the platform failed once (500), the row waits for its next attempt.
    failing = await _conversation_of(store, await ask(_memory(customer_message(FAQ, user="failing"))))
    channel.fail_next(500)
    assert await dispatcher.run_once() == 1
    assert await store.scalar(select(Outbox.status).join(Message, Message.id == Outbox.message_id)
                              .where(Message.conversation_id == failing)) == "failed"
    await _age(store, failing)
    # Stored, never triaged (a crash between storing and deciding: recovered on the next start).
    untriaged = customer_message("my withdrawal is missing", user="untriaged", channel="memory")
    async with store.transaction() as session:
        customer = await ensure_customer(session, "memory", untriaged.author)
        place = await ensure_conversation(session, "memory", untriaged.conversation, customer, public=False)
        stored = await insert_inbound(session, place, untriaged)
        assert stored is not None and stored.handled_at is None
        waiting = stored.conversation_id
    await _age(store, waiting)
    await ask(_memory(customer_message("hello", user="someone else")))  # the newest row stays whatever it is
    kept = (pending, failing, waiting, int(await store.scalar(select(Message.conversation_id)
                                                           .where(Message.id == file_reply))))
    before = [await _count(store, Message, Message.conversation_id == c) for c in kept]

    pruned = await Housekeeping(store, Settings()).run_once()
    assert pruned is not None and pruned.history is not None
    assert [await _count(store, Message, Message.conversation_id == c) for c in kept] == before and all(before)
    assert pruned.history.messages == 2  # the finished FAQ exchange: the question and its answer
    assert await _count(store, Message, Message.conversation_id == done) == 0
    # The link /f/<token>/<name> answers while the file's row and its sent reply (direction out) are there.
    assert (await store.all(select(Message.direction).join(AgentFile, AgentFile.message_id == Message.id)
                            .where(AgentFile.token == upload.token))) == ["out"]
    assert agent_files.path_of(tmp_path, upload.relative) is not None


async def test_a_customer_comes_back_after_their_history_went(any_store, triage, kb) -> None:
    store = any_store
    engine = Engine(store, triage, kb)
    first = await engine.handle_message(_memory(customer_message("怎么联系客服？", user="back")))
    await Dispatcher(store, {"memory": MemoryChannel()}, DispatchPolicy(poll_interval_seconds=0.05)).drain(timeout=5)
    conversation = await _conversation_of(store, first)
    customer = int(await store.scalar(select(Conversation.customer_id).where(Conversation.id == conversation)))
    await _age(store, conversation)
    await engine.handle_message(_memory(customer_message("hello", user="someone else")))  # the newest row stays
    pruned = await Housekeeping(store, Settings()).run_once()
    assert pruned is not None and pruned.history is not None and pruned.history.conversations == 1

    again = await engine.handle_message(_memory(customer_message(FAQ, user="back")))
    assert again.action == "answer"
    place = await store.all(select(Conversation).where(Conversation.customer_id == customer))
    assert len(place) == 1 and place[0].id != conversation  # the same customer, in a new conversation
    channel = MemoryChannel()
    await Dispatcher(store, {"memory": channel}, DispatchPolicy(poll_interval_seconds=0.05)).drain(timeout=5)
    assert any("support" in sent.text.lower() for sent in channel.sent)
    record = await store.messages_for_conversation("memory", "conv-back")
    assert [m.message.author_kind for m in record] == ["customer", "bot"]


async def test_under_a_day_a_customer_writing_again_after_their_history_went_counts_again_that_day(
        any_store, triage, kb) -> None:  # type: ignore[no-untyped-def]
    """README (Housekeeping): "With a retention under a day (for tests and benchmarks), a customer who writes again
    the same day after their history went counts again that day." That day's figure: one more conversation.

    The day is yesterday, each conversation moved to an hour of it: "the same day" never depends on the time of
    day the test runs at (just after midnight, or across it)."""
    class UnderADay(Settings):
        keep_unticketed_messages_days = 1e-9  # under a millisecond

    store = any_store
    day = utcnow().date() - timedelta(days=1)
    engine = Engine(store, triage, kb)
    first = await _conversation_of(store, await engine.handle_message(_memory(customer_message("hello", user="again"))))
    await Dispatcher(store, {"memory": MemoryChannel()}, DispatchPolicy(poll_interval_seconds=0.05)).drain(timeout=5)
    await _move_to(store, first, day, 9)
    other = await _conversation_of(store, await engine.handle_message(  # the newest row stays
        _memory(customer_message("hello", user="someone else"))))
    await _move_to(store, other, day, 10)
    assert (await compute(store, day, day)).as_dict()["totals"]["conversations"] == 2

    pruned = await Housekeeping(store, UnderADay()).run_once()
    assert pruned is not None and pruned.history is not None and pruned.history.conversations == 1
    assert await _count(store, Conversation, Conversation.id == first) == 0  # their history went, that day
    assert (await compute(store, day, day)).as_dict()["totals"]["conversations"] == 2  # still counted once
    again = await _conversation_of(store, await engine.handle_message(
        _memory(customer_message("hello again", user="again"))))
    await _move_to(store, again, day, 11)  # written later that day
    assert (await compute(store, day, day)).as_dict()["totals"]["conversations"] == 3  # and again


async def test_retention_off_keeps_everything(any_store, triage, kb) -> None:
    class Forever(Settings):
        keep_unticketed_messages_days = None

    engine = Engine(any_store, triage, kb)
    await _age(any_store, await _conversation_of(any_store, await engine.handle_message(
        _memory(customer_message(FAQ, user="kept")))))
    pruned = await Housekeeping(any_store, Forever()).run_once()
    assert pruned is not None and pruned.history is None
    assert await _count(any_store, Message) == 2


async def test_a_conversation_over_two_days_keeps_its_figures_and_a_given_up_reply_goes(any_store, triage, kb) -> None:
    store = any_store
    engine = Engine(store, triage, kb)
    channel = MemoryChannel()
    channel.fail_next(403)  # the first answer is given up: past the retention it goes with its conversation
    dispatcher = Dispatcher(store, {"memory": channel}, DispatchPolicy(poll_interval_seconds=0.05))
    conversation = await _conversation_of(store, await engine.handle_message(
        _memory(customer_message(FAQ, user="twice"))))
    await dispatcher.drain(timeout=5)
    await _age(store, conversation, timedelta(days=1))
    await engine.handle_message(_memory(customer_message("忘记密码怎么办", user="twice")))
    await dispatcher.drain(timeout=5)
    await _age(store, conversation)
    await engine.handle_message(_memory(customer_message("hello", user="someone else")))  # the newest row stays
    assert await _count(store, Outbox, Outbox.status == "dead") == 1
    today = utcnow().date()
    ranges = [(today - OLD - timedelta(days=1), today), (today - OLD, today - OLD),
              (today - OLD - timedelta(days=1), today - OLD - timedelta(days=1))]
    before = [(await compute(store, start, end)).as_dict() for start, end in ranges]
    assert before[0]["totals"]["conversations"] == 3  # one conversation-day each old day, and today's
    assert before[1]["totals"]["conversations"] == before[2]["totals"]["conversations"] == 1

    pruned = await Housekeeping(store, Settings()).run_once()
    assert pruned is not None and pruned.history is not None and pruned.history.messages == 4
    assert await _count(store, Outbox, Outbox.status == "dead") == 0
    assert [(await compute(store, start, end)).as_dict() for start, end in ranges] == before


async def _empty_and_old(store: Store, conversation_id: int) -> None:
    """The state retention deletes: no message left (its history pruned), quiet for longer than kept."""
    async with store.transaction() as session:
        mine = select(Message.id).where(Message.conversation_id == conversation_id).scalar_subquery()
        await session.execute(delete(Outbox).where(Outbox.message_id.in_(mine)))
        await session.execute(delete(Message).where(Message.conversation_id == conversation_id))
    await _age(store, conversation_id)


def _pruned_once_found(monkeypatch, store: Store, name: str,  # type: ignore[no-untyped-def]
                       module: object = pipeline) -> list[tuple[int, int]]:
    """Housekeeping's pass deletes what is empty and old, and commits, right after the engine's ``name`` (a
    lookup of conversation, as ``module`` calls it) found it and before anything referring to it is written."""
    real = getattr(module, name)
    pruned: list[tuple[int, int]] = []

    async def found_then_pruned(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        place = await real(session, *args, **kwargs)
        if not pruned:
            async with store.connection() as conn:
                pruned.append(await prune_empty(conn, utcnow() - timedelta(days=90), 100))
        return place

    monkeypatch.setattr(module, name, found_then_pruned)
    return pruned


ONLY_PG = pytest.mark.skipif(PG_URL.lower() == "off", reason="the race needs two writers at once: PostgreSQL only")


@ONLY_PG
@pytest.mark.parametrize("channel", ["memory", "webchat"])
async def test_a_customer_writing_while_their_empty_conversation_is_pruned_is_still_served(
        tmp_path, triage, kb, monkeypatch, channel) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: retention deletes an empty, quiet conversation (and a website visitor left with nothing)
    between the moment a new message found it and the moment the message is inserted. The insert then refers to
    rows that are gone; the message must still be stored once, in a new conversation, and answered. (SQLite
    reads and writes a message under its one write lock, so retention cannot step in between there.)"""
    store, cleanup = await _open_store("postgresql", tmp_path)
    try:
        engine = Engine(store, triage, kb)
        old = await _conversation_of(store, await engine.handle_message(
            customer_message("hello", user="back", channel=channel)))
        await _empty_and_old(store, old)
        await engine.handle_message(customer_message("hello", user="someone else", channel=channel))  # newest stays

        pruned = _pruned_once_found(monkeypatch, store, "ensure_place")
        again = await engine.handle_message(customer_message(FAQ, user="back", channel=channel, pid="again"))
        assert pruned == [(1, 1 if channel == "webchat" else 0)]
        assert again.action == "answer"
        stored = await store.all(select(Message).where(Message.platform_id == "again"))
        assert len(stored) == 1 and stored[0].conversation_id != old
        assert await _count(store, Conversation, Conversation.id == stored[0].conversation_id) == 1
        assert await _count(store, Outbox, Outbox.status == "queued") >= 1  # the answer waits to go out
    finally:
        await cleanup()  # type: ignore[misc]


@pytest_asyncio.fixture
async def quiet_member(tmp_path, triage, kb):  # type: ignore[no-untyped-def]
    """PostgreSQL, with a group member ("6" in Telegram group -100) whose conversation is empty and quiet for
    longer than kept (and a newer conversation, as the newest row always stays): (store, engine, its id)."""
    store, cleanup = await _open_store("postgresql", tmp_path)
    engine = Engine(store, triage, kb)
    group = await _conversation_of(store, await engine.handle_message(customer_message(
        "gm", user="6", channel="telegram", conversation="-100", public=True, addressed=False)))
    await _empty_and_old(store, group)
    await engine.handle_message(customer_message("hello", user="someone else", channel="telegram"))
    yield store, engine, group
    await cleanup()  # type: ignore[misc]


@ONLY_PG
async def test_an_impersonator_joining_a_group_whose_empty_conversation_is_pruned_is_still_flagged(
        quiet_member, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The same race on a member joining a group: a member who wrote in the group long ago comes back under a
    name imitating the brand; the flag and its ticket are written, in a new conversation of theirs."""
    store, engine, group = quiet_member
    pruned = _pruned_once_found(monkeypatch, store, "ensure_conversation")
    flagged = await engine.handle_member_joined(MemberJoined("telegram", "-100", Author("6", "OKPay Official")))
    assert pruned[0][0] == 1 and flagged.action == "flagged"
    [ticket] = await store.all(select(Ticket))
    assert "OKPay Official" in ticket.subject and ticket.conversation_id != group
    assert await _count(store, Conversation, Conversation.id == ticket.conversation_id) == 1


@ONLY_PG
async def test_a_moderator_escalating_a_message_whose_empty_conversation_is_pruned_still_opens_the_ticket(
        quiet_member, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A moderator escalates a group member's new message while retention deletes the member's old, empty
    conversation: the ticket is opened with the message on it, in a new conversation."""
    store, engine, group = quiet_member
    pruned = _pruned_once_found(monkeypatch, store, "ensure_conversation", escalations)
    target = customer_message("my withdrawal is stuck for 3 days", user="6", channel="telegram",
                              conversation="-100", public=True, addressed=False, pid="stuck")
    outcome = await engine.handle_escalation(Escalation(
        "telegram", "esc-1", Author("77", "Mia", is_moderator=True), target, note="please look"))
    assert pruned[0][0] == 1 and outcome.action == "escalated"
    [ticket] = await store.all(select(Ticket))
    assert ticket.id == outcome.ticket_id and ticket.conversation_id != group
    [stored] = await store.all(select(Message).where(Message.platform_id == "stuck"))
    assert stored.ticket_id == ticket.id and stored.conversation_id != group
