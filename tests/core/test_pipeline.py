"""Conversation transcripts through the real engine, store and dispatcher (memory channel at the edge)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.inbox import Inbox
from core.models import Attachment, AttachmentKind, Author, Escalation, InboundMessage, MessageEdit
from core.pipeline import Engine
from core.store import Store
from core.store.tables import Agent, Message, Ticket
from tests.fakes.memory_channel import MemoryChannel

ALICE = Author("u-alice", "Alice", language="zh-CN")
BOB = Author("u-bob", "Bob", handle="bob", language="en")
MOD = Author("u-mod", "Mod", is_moderator=True)


def msg(pid: str, text: str, author: Author = ALICE, conversation: str = "dm-alice", **kw: object) -> InboundMessage:
    return InboundMessage("memory", pid, conversation, author, text, **kw)  # type: ignore[arg-type]


@pytest.fixture
def channel() -> MemoryChannel:
    return MemoryChannel()


async def test_faq_is_answered_in_the_customers_language(engine: Engine, make_dispatcher, channel) -> None:
    zh = await engine.handle_message(msg("1", "忘记密码了怎么重置"))
    en = await engine.handle_message(msg("2", "How do I reset my password? I forgot it", BOB, "dm-bob"))
    assert (zh.action, en.action) == ("answer", "answer")
    await make_dispatcher({"memory": channel}).drain()
    zh_reply, en_reply = channel.texts("dm-alice")[0], channel.texts("dm-bob")[0]
    assert "密码" in zh_reply and "邮箱" in zh_reply
    assert "password" in en_reply.lower() and "email" in en_reply.lower().replace("e-mail", "email")
    # every answer asks whether it helped, and "not solved" is the way to a person (in their language)
    choices = [[q.payload for q in r.quick_replies] for r in channel.sent]
    assert choices == [["feedback:solved", "feedback:unsolved"]] * 2
    assert [q.label for q in channel.sent[0].quick_replies] == ["已解决", "转人工客服"]


async def test_redelivered_event_creates_nothing_twice(engine: Engine, store: Store) -> None:
    first = await engine.handle_message(msg("42", "我要转人工"))
    again = await engine.handle_message(msg("42", "我要转人工"))
    assert first.action == "handoff" and again.action == "duplicate"
    assert len(await store.all(Message.__table__.select().where(Message.direction == "in"))) == 1
    assert len(await store.all(Ticket.__table__.select())) == 1
    assert len(await store.outbox_rows()) == 1


async def test_handoff_ticket_agent_reply_goes_home(engine: Engine, inbox: Inbox, store: Store, make_dispatcher,
                                                    channel) -> None:
    out = await engine.handle_message(msg("1", "I want to talk to a real person", BOB, "dm-bob"))
    assert out.action == "handoff" and out.ticket_id
    record = await store.ticket(out.ticket_id)
    assert record.ticket.status == "open" and record.ticket.first_response_due is not None
    hours = (record.ticket.first_response_due - record.ticket.created_at).total_seconds() / 3600
    assert 23.9 < hours <= 24.0
    await inbox.reply(out.ticket_id, "Hello Bob, I'm Dana from support.")
    await inbox.reply(out.ticket_id, "customer looks legit", internal=True)
    await make_dispatcher({"memory": channel}).drain()
    assert channel.texts("dm-bob")[-2:] == ["agent from the OKPay team has joined the conversation.",
                                            "Hello Bob, I'm Dana from support."]
    assert "customer looks legit" not in channel.texts()  # internal notes are never sent
    record = await store.ticket(out.ticket_id)
    kinds = [(m.message.author_kind, m.delivery) for m in record.messages]
    assert kinds == [("customer", None), ("bot", "sent"), ("bot", "sent"), ("agent", "sent"), ("note", None)]
    assert record.ticket.first_responded_at is not None


async def test_message_joins_open_ticket_and_is_not_answered_while_a_human_owns_it(
        engine: Engine, inbox: Inbox, store: Store) -> None:
    out = await engine.handle_message(msg("1", "转人工"))
    async with store.transaction() as session:
        agent = Agent(name="dana", role="agent")
        session.add(agent)
        await session.flush()
        agent_id = agent.id
    await inbox.assign(out.ticket_id, agent_id)
    follow = await engine.handle_message(msg("2", "忘记密码怎么办"))  # an FAQ, but a human owns the case
    assert follow.action == "joined" and follow.ticket_id == out.ticket_id and follow.outbox_ids == ()
    record = await store.ticket(out.ticket_id)
    customer_texts = [m.message.text for m in record.messages if m.message.author_kind == "customer"]
    assert customer_texts == ["转人工", "忘记密码怎么办"]


async def test_solved_ticket_reopens_on_a_new_customer_message(engine: Engine, inbox: Inbox, store: Store) -> None:
    out = await engine.handle_message(msg("1", "my account was hacked and money is gone", BOB, "dm-bob"))
    assert (await store.ticket(out.ticket_id)).ticket.priority == "urgent"
    await inbox.set_status(out.ticket_id, "solved")
    again = await engine.handle_message(msg("2", "it happened again, please help me now", BOB, "dm-bob"))
    assert again.ticket_id == out.ticket_id
    record = await store.ticket(out.ticket_id)
    assert record.ticket.status == "open"
    assert [(e.data["before"], e.data["after"]) for e in record.events if e.kind == "status"] == [
        ("open", "solved"), ("solved", "open")]


async def test_group_chatter_is_stored_but_not_answered(engine: Engine, store: Store) -> None:
    out = await engine.handle_message(msg("g1", "忘记密码怎么办", conversation="group-1", public=True, addressed=False))
    assert out.action == "stored" and out.outbox_ids == ()
    assert len(await store.messages_for_conversation("memory", "group-1")) == 1


async def test_public_handoff_moves_to_private_and_says_nothing_specific_in_public(
        engine: Engine, store: Store, make_dispatcher, channel) -> None:
    out = await engine.handle_message(msg("g2", "我的钱被盗了，订单号 88812345", conversation="group-1", public=True,
                                          private_conversation="dm-alice"))
    assert out.action == "handoff"
    await make_dispatcher({"memory": channel}).drain()
    public = [r for r in channel.sent if r.conversation == "group-1"]
    private = [r for r in channel.sent if r.conversation == "dm-alice"]
    assert len(public) == 1 and public[0].invite_private and public[0].reply_to == "g2"
    assert "88812345" not in public[0].text and f"#{out.ticket_id}" not in public[0].text
    assert len(private) == 1 and f"#{out.ticket_id}" in private[0].text
    record = await store.ticket(out.ticket_id)
    assert record.ticket.priority == "urgent"


async def test_a_handoff_that_opens_the_private_conversation_still_saves_the_public_one(
        engine: Engine, store: Store) -> None:
    """The private conversation is created in a savepoint mid-transaction; the public one's later changes
    (its last message is the bot's public reply) must still be written at commit."""
    from sqlalchemy import select

    from core.store.tables import Conversation

    await engine.handle_message(msg("g0", "怎么联系客服", conversation="group-2", public=True,
                                    private_conversation="dm-alice-2"))
    out = await engine.handle_message(msg("g3", "我的钱被盗了", conversation="group-2", public=True,
                                          private_conversation="dm-alice-2"))
    async with store.sessions() as session:
        group = await session.scalar(select(Conversation).where(Conversation.address == "group-2"))
        replies = (await session.scalars(select(Message).where(Message.ticket_id == out.ticket_id,
                                                               Message.direction == "out"))).all()
    public = sorted((m for m in replies if m.conversation_id == group.id), key=lambda m: m.id)
    assert [m.before_handoff for m in public] == [True, False]  # the earlier answer is the ticket's story
    assert group.last_message_at == public[-1].created_at
    assert group.state.get("turns") == 1  # the earlier answer's state is kept too


async def test_escalation_by_moderator_opens_ticket_with_context_and_note(engine: Engine, store: Store) -> None:
    earlier = msg("g1", "有人说是客服让我转账", conversation="group-1", public=True, addressed=False)
    target = msg("g2", "他现在还要我的验证码", conversation="group-1", public=True, addressed=False,
                 private_conversation="dm-alice")
    esc = Escalation("memory", "cmd-1", MOD, target, note="looks like a scam", context=(earlier,))
    out = await engine.handle_escalation(esc)
    assert out.action == "escalated" and out.ticket_id and f"#{out.ticket_id}" in (out.notice or "")
    record = await store.ticket(out.ticket_id)
    texts = [m.message.text for m in record.messages]
    assert "有人说是客服让我转账" in texts and "他现在还要我的验证码" in texts and "looks like a scam" in texts
    assert record.ticket.source == "escalation"
    assert (await engine.handle_escalation(esc)).ticket_id == out.ticket_id  # replayed command: same ticket


async def test_escalation_by_non_moderator_is_refused(engine: Engine, store: Store) -> None:
    target = msg("g2", "help", conversation="group-1", public=True)
    out = await engine.handle_escalation(Escalation("memory", "cmd-2", BOB, target))
    assert out.action == "refused" and out.ticket_id is None and out.notice
    assert await store.all(Ticket.__table__.select()) == []


async def test_edit_and_delete_are_reflected_on_the_ticket(engine: Engine, store: Store) -> None:
    out = await engine.handle_message(msg("1", "转人工 订单 123"))
    await engine.handle_edit(MessageEdit("memory", "1", "转人工 订单 124"))
    await engine.handle_edit(MessageEdit("memory", "1", None, deleted=True))
    record = await store.ticket(out.ticket_id)
    first = record.messages[0].message
    assert first.text == "转人工 订单 124" and first.edited_at and first.deleted_at
    assert {"message_edited", "message_deleted"} <= {e.kind for e in record.events}


async def test_attachments_are_typed_on_the_stored_message(engine: Engine, store: Store) -> None:
    shot = Attachment(AttachmentKind.IMAGE, "file-1", name="error.png", mime_type="image/png", size=2048)
    out = await engine.handle_message(msg("1", "转人工，截图在这", attachments=(shot,)))
    stored = (await store.ticket(out.ticket_id)).messages[0].message
    assert stored.attachments == [{"kind": "image", "ref": "file-1", "name": "error.png", "mime_type": "image/png",
                                   "size": 2048, "url": None, "local_path": None}]


async def test_crash_between_store_and_triage_is_recovered(engine: Engine, store: Store) -> None:
    # Phase 1 only (what a crash right after storing leaves behind): stored, never triaged.
    from core.store.records import ensure_conversation, ensure_customer, insert_inbound

    m = msg("9", "怎么联系客服")
    async with store.transaction() as session:
        customer = await ensure_customer(session, "memory", m.author)
        conv = await ensure_conversation(session, "memory", m.conversation, customer, public=False)
        await insert_inbound(session, conv, m)
    assert await engine.recover() == 1
    assert len(await store.outbox_rows()) == 1
    assert await engine.recover() == 0  # finished work is not redone


async def test_commands_and_buttons(engine: Engine, make_dispatcher, channel) -> None:
    start = await engine.handle_message(msg("1", "/start"))
    assert start.action == "greet"
    await make_dispatcher({"memory": channel}).drain()
    payloads = [q.payload for q in channel.sent[0].quick_replies]
    assert "faq:login" in payloads and "/human" in payloads
    pressed = await engine.handle_message(msg("2", "faq:verification", raw={"button": True}))
    assert pressed.action == "answer"
    human = await engine.handle_message(msg("3", "/human"))
    assert human.action == "handoff"


def test_received_at_must_be_aware() -> None:
    with pytest.raises(ValueError):
        InboundMessage("memory", "1", "c", ALICE, "x", received_at=datetime(2026, 1, 1))
    assert InboundMessage("memory", "1", "c", ALICE, "x", received_at=datetime(2026, 1, 1, tzinfo=UTC))


async def test_following_the_private_invitation_confirms_the_ticket(engine: Engine, make_dispatcher, channel) -> None:
    public = await engine.handle_message(msg("g5", "转人工", conversation="group-1", public=True,
                                             private_conversation="dm-alice"))
    follow = await engine.handle_message(msg("p1", f"/start ticket-{public.ticket_id}"))
    assert follow.ticket_id == public.ticket_id and follow.action == "greet"
    await make_dispatcher({"memory": channel}).drain()
    assert f"#{public.ticket_id}" in channel.texts("dm-alice")[-1]
    assert channel.texts("dm-alice")[-1] != channel.texts("dm-alice")[0]  # not the generic greeting
    # a made-up ticket number in the link gets the plain greeting, not someone else's case
    other = await engine.handle_message(msg("p2", "/start ticket-999", BOB, "dm-bob"))
    assert other.action == "greet" and other.ticket_id is None


async def test_commands_answer_in_the_language_the_customer_writes(engine: Engine, make_dispatcher,
                                                                   channel) -> None:
    await engine.handle_message(msg("1", "你好，我想问一下"))
    await engine.handle_message(msg("2", "/start"))
    await make_dispatcher({"memory": channel}).drain()
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in channel.texts("dm-alice"))


async def test_a_public_follow_up_joins_the_customers_private_ticket(engine: Engine, store: Store) -> None:
    first = await engine.handle_message(msg("g7", "我的转账没到账，订单号 88812345", conversation="post-1", public=True,
                                            private_conversation="dm-alice"))
    again = await engine.handle_message(msg("g8", "还是没到账，也没收到私信，订单号 88812345", conversation="post-2",
                                            public=True, private_conversation="dm-alice"))
    assert first.action == "handoff" and again.ticket_id == first.ticket_id
    assert len(await store.all(Ticket.__table__.select())) == 1
    assert again.outbox_ids == ()  # nothing more said in public about a running case


async def test_an_agents_private_reply_carries_where_the_customer_wrote_in_public(engine, inbox, store) -> None:
    """So a channel that is refused in private (no /start, closed DMs) can still reach the customer."""
    from core.store.replies import outbound_from_row

    asked = InboundMessage("telegram", "-100:7", "-100", Author("55", "Ann", handle="ann"), "@bot /human",
                           public=True, private_conversation="55")
    outcome = await engine.handle_message(asked)
    await inbox.reply(outcome.ticket_id, "We refunded it.", agent_id=None)
    rows = await store.outbox_rows()
    reply = outbound_from_row(rows[-1])
    assert reply.conversation == "55" and reply.text == "We refunded it."
    assert reply.meta["public_fallback"] == {"conversation": "-100", "reply_to": "-100:7", "user_id": "55",
                                             "handle": "ann"}


async def test_a_reply_refused_in_private_goes_out_once_the_customer_writes_privately(engine, inbox, store,
                                                                                        make_dispatcher) -> None:
    """Telegram before /start, Discord with closed DMs: a public note says an answer waits; it is delivered
    as soon as the customer opens the private conversation, once."""
    from core.models import Sent

    class Refusing(MemoryChannel):
        refused = False

        async def send(self, reply):  # type: ignore[no-untyped-def]
            if reply.text == "We refunded it." and not self.refused:
                self.refused = True
                self.sent.append(reply)
                return Sent("note-1", public_note=True)  # only "an answer is waiting" reached them
            return await super().send(reply)

    channel = Refusing()
    asked = InboundMessage("telegram", "-100:7", "-100", Author("55", "Ann"), "/human", public=True,
                           private_conversation="55")
    outcome = await engine.handle_message(asked)
    await inbox.reply(outcome.ticket_id, "We refunded it.")
    dispatcher = make_dispatcher({"telegram": channel})
    await dispatcher.drain()
    assert [r.conversation for r in channel.sent if r.text == "We refunded it."] == ["55"]
    reply_row = [m for m in (await store.ticket(outcome.ticket_id)).messages if m.message.text == "We refunded it."]
    assert reply_row[0].message.platform_id is None  # the note's id is not the reply's

    await engine.handle_message(InboundMessage("telegram", "55:1", "55", Author("55", "Ann"),
                                               f"/start ticket-{outcome.ticket_id}"))
    await engine.handle_message(InboundMessage("telegram", "55:2", "55", Author("55", "Ann"), "thanks"))
    await dispatcher.drain()
    delivered = [r for r in channel.sent if r.text == "We refunded it."]
    assert [r.conversation for r in delivered] == ["55", "55"]  # the note, then the reply itself: once
