"""Group commit: customers' messages arriving together are stored in one transaction, each exactly as alone.

What a customer would notice is checked (each message stored once, answered with its own answer, a
conversation's second message decided on what its first changed, one broken message failing alone),
and that the batch really is one transaction with few statements (the reason it exists).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import count

import pytest
from sqlalchemy import event, select, text

from core.decisions import Outcome
from core.events import EventBus
from core.flood import FloodGate
from core.knowledge import KnowledgeBase
from core.models import Author, InboundMessage, utcnow
from core.pipeline import Engine
from core.store import Store
from core.store.tables import Message, Outbox
from core.triage import Triage

_ids = count()


def _message(user: str, text: str, *, platform_id: str | None = None, received_at: datetime | None = None,
             button: bool = False) -> InboundMessage:
    return InboundMessage(channel="webchat", platform_id=platform_id or f"{user}:{next(_ids)}",
                          conversation=f"web:{user}", author=Author(platform_user_id=user, display_name=user),
                          text=text, received_at=received_at or utcnow(), raw={"button": True} if button else {})


@pytest.fixture
def any_engine(any_store: Store, triage: Triage, kb: KnowledgeBase) -> Engine:
    return Engine(any_store, triage, kb, bus=EventBus(), flood=FloodGate(default=1_000_000))


@contextmanager
def counted(store: Store) -> Iterator[dict[str, int]]:
    """Statements sent to the database and transactions committed while the block runs."""
    seen = {"statements": 0, "commits": 0}

    def statement(*_: object) -> None:
        seen["statements"] += 1

    def commit(*_: object) -> None:
        seen["commits"] += 1

    engine = store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


async def _replies(store: Store, message_id: int) -> list[str]:
    """The bot's replies queued right after a customer's message, up to the next customer message."""
    inbound = await store.scalar(select(Message).where(Message.id == message_id))
    rows = await store.all(select(Message).where(Message.conversation_id == inbound.conversation_id,
                                                 Message.id > message_id).order_by(Message.id))
    replies = []
    for row in rows:
        if row.direction == "in":
            break
        replies.append(row.text)
    return replies


async def test_messages_arriving_together_share_a_transaction_and_each_gets_its_own_answer(
        any_engine: Engine, kb: KnowledgeBase) -> None:
    store = any_engine.store
    questions = {"How can I contact customer support?": "contact", "I forgot my password, how do I log in?": "login",
                 "怎么联系客服？": "contact"}
    customers = [f"visitor{n}" for n in range(30)]
    for user in customers:  # customers who wrote before (a first contact creates the customer: more statements)
        await any_engine.handle_message(_message(user, "hello"))
    asked = [(user, list(questions)[n % 3]) for n, user in enumerate(customers)]
    with counted(store) as seen:
        outcomes = await asyncio.gather(*(any_engine.handle_message(_message(u, q)) for u, q in asked))
    assert [o.action for o in outcomes] == ["answer"] * 30
    for (_, question), outcome in zip(asked, outcomes, strict=True):
        lang = "zh-Hans" if question.startswith("怎") else "en"
        assert outcome.message_id is not None
        assert (await _replies(store, outcome.message_id))[0] == kb.answer(questions[question], lang)
    assert len({o.message_id for o in outcomes}) == 30
    assert seen["commits"] <= 2  # alone: 30
    assert seen["statements"] <= 20  # alone: about 8 each, 240 in all


async def test_a_conversation_s_second_message_in_a_batch_is_decided_on_what_the_first_changed(
        any_engine: Engine, kb: KnowledgeBase) -> None:
    store = any_engine.store
    await any_engine.handle_message(_message("ann", "hello"))
    first, again, thanks, other = await asyncio.gather(
        any_engine.handle_message(_message("ann", "How can I contact customer support?", platform_id="ann:1")),
        any_engine.handle_message(_message("ann", "How can I contact customer support?", platform_id="ann:1")),
        any_engine.handle_message(_message("ann", "feedback:solved", button=True)),
        any_engine.handle_message(_message("bob", "I forgot my password, how do I log in?")))
    assert (first.action, again.action, thanks.action, other.action) == ("answer", "duplicate", "helped", "answer")
    answer = await store.scalar(select(Message).where(Message.id == await _outbox_message(store, first.outbox_ids[0])))
    assert answer.text == kb.answer("contact", "en")
    assert answer.feedback == "helpful"  # the tap in the same batch marked the answer queued just before it
    assert (await store.scalar(select(Message).where(Message.id == thanks.message_id))).text == \
        kb.message("button_solved", "en")  # stored as the label the first message's answer offered
    assert len(await store.all(select(Message).where(Message.platform_id == "ann:1"))) == 1


async def _outbox_message(store: Store, outbox_id: int) -> int:
    return int(await store.scalar(select(Outbox.message_id).where(Outbox.id == outbox_id)))


async def _refuse(store: Store, word: str) -> None:
    """The database refuses any message containing ``word`` (as a constraint would): a fault at its edge."""
    async with store.transaction() as session:
        if store.dialect == "sqlite":
            await session.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN new.text LIKE '%{word}%' "
                                       "BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        else:
            await session.execute(text(f"CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                       f"IF NEW.text LIKE '%{word}%' THEN RAISE EXCEPTION 'refused'; END IF; "
                                       "RETURN NEW; END $$"))
            await session.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON messages FOR EACH ROW "
                                       "EXECUTE FUNCTION refuse()"))


async def test_a_message_the_database_refuses_fails_alone_and_the_others_of_its_batch_are_stored_and_answered(
        any_engine: Engine, kb: KnowledgeBase) -> None:
    store = any_engine.store
    for user in ("ann", "bob", "cid", "dan"):
        await any_engine.handle_message(_message(user, "hello"))
    await _refuse(store, "poison")
    question = "How can I contact customer support?"
    broken = _message("cid", f"{question} poison")
    results = await asyncio.gather(*(any_engine.handle_message(_message(u, question)) for u in ("ann", "bob")),
                                   any_engine.handle_message(broken),
                                   any_engine.handle_message(_message("dan", question)), return_exceptions=True)
    assert isinstance(results[2], Exception)  # its caller learns it was not stored (a platform is not acked)
    stored = [r for r in results if isinstance(r, Outcome)]
    assert [o.action for o in stored] == ["answer"] * 3
    for outcome in stored:
        assert outcome.message_id is not None
        assert await _replies(store, outcome.message_id) == [kb.answer("contact", "en")]
    assert await store.scalar(select(Message.id).where(Message.platform_id == broken.platform_id)) is None
    cid = await store.all(select(Message).where(Message.conversation_id == (
        await store.scalar(select(Message.conversation_id).where(Message.platform_id.like("cid:%"))))))
    assert [m.text for m in cid] == ["hello", kb.message("greeting", "en")]  # nothing half-written for it
