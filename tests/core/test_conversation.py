"""Conversations that end helped, turn by turn, through the real engine and store (channel-neutral)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.decisions import Outcome
from core.hours import BusinessHours
from core.knowledge import load_knowledge_base
from core.models import Author, InboundMessage, utcnow
from core.pipeline import Engine
from core.store import Store
from core.store.replies import outbound_from_row
from core.store.tables import Message, Outbox, Ticket
from core.triage import Triage

MEI = Author("u-mei", "Mei", language="zh-CN")
ANN = Author("u-ann", "Ann", language="en")
BOB = Author("u-bob", "Bob", language="en")
_N = iter(range(10_000))


async def say(engine: Engine, text: str, who: Author = ANN, *, button: bool = False):  # type: ignore[no-untyped-def]
    where = f"dm-{who.platform_user_id}"
    return await engine.handle_message(InboundMessage("memory", f"m{next(_N)}", where, who, text,
                                                      raw={"button": True} if button else {}))


async def bot_lines(store: Store, who: Author = ANN) -> list[tuple[str, list[str]]]:
    """What the bot queued for this customer, oldest first: (text, choices)."""
    rows = [outbound_from_row(r) for r in await store.outbox_rows()]
    return [(r.text, [q.payload for q in r.quick_replies]) for r in rows
            if r.conversation == f"dm-{who.platform_user_id}"]


async def tickets(store: Store) -> list[Ticket]:
    return await store.all(select(Ticket).order_by(Ticket.id))


async def test_an_answer_asks_whether_it_helped_and_solved_closes_the_loop(engine, store, kb) -> None:
    await say(engine, "how do I reset my password?")
    [(answer, choices)] = await bot_lines(store)
    assert answer == kb.answer("login", "en") and choices == ["feedback:solved", "feedback:unsolved"]
    done = await say(engine, "feedback:solved", button=True)
    assert done.action == "helped" and await tickets(store) == []
    assert (await bot_lines(store))[-1][0] == kb.message("glad_helped", "en")
    answered = await store.scalar(select(Message).where(Message.author_kind == "bot").order_by(Message.id))
    assert answered.feedback == "helpful"
    tap = await store.scalar(select(Message).where(Message.raw["payload"].as_string() == "feedback:solved"))
    assert tap.text == "Solved"  # stored as the label the customer tapped, not the payload


async def test_thanks_after_an_answer_opens_nothing(engine, store) -> None:
    await say(engine, "how do I reset my password?")
    assert (await say(engine, "thanks, that helped!")).action == "helped"
    await say(engine, "好的明白了", MEI)
    await say(engine, "👍", MEI)
    assert await tickets(store) == []


async def test_not_solved_opens_a_ticket_with_the_whole_story(engine, store, kb) -> None:
    await say(engine, "hi")
    await say(engine, "my transfer has not arrived yet")
    await say(engine, "feedback:unsolved", button=True)
    [ticket] = await tickets(store)
    assert ticket.reason == "unsolved"
    assert ticket.subject == "my transfer has not arrived yet"  # the problem, not "not solved"
    record = await store.ticket(ticket.id)
    before = [(m.message.author_kind, m.message.before_handoff) for m in record.messages]
    assert ("customer", True) in before and ("bot", True) in before  # the question and the bot's answer
    answer = next(m.message for m in record.messages
                  if m.message.author_kind == "bot" and (m.message.decision or {}).get("action") == "answer")
    assert answer.decision["faq_id"] == "transaction-failed" and answer.feedback == "unhelpful"
    # a transaction case: the bot asks at once for what the team needs
    assert (await bot_lines(store))[-1][0] == kb.message("intake_transaction", "en")


async def test_intake_answers_land_on_the_ticket_as_fields(engine, store, kb) -> None:
    await say(engine, "转账失败了", MEI)
    await say(engine, "feedback:unsolved", MEI, button=True)
    await say(engine, "单号 TX20261129883104，金额 300 USDT，昨天晚上8点", MEI)
    [ticket] = await tickets(store)
    assert ticket.fields == {"transaction_id": "TX20261129883104", "amount": "300 USDT", "time": "昨天"}
    assert "TX20261129883104" in ticket.subject and "300 USDT" in ticket.subject  # the number and the amount
    assert (await bot_lines(store, MEI))[-1][0] == kb.message("intake_thanks", "zh-Hans", ticket=ticket.id)
    assert (await say(engine, "还有别的吗", MEI)).action == "joined"  # asked once; the ticket has it now


async def test_what_the_customer_already_said_lands_on_the_ticket_and_is_not_asked_again(engine, store, kb) -> None:
    """An outside probe: the intake question asked for the transaction number and amount the first message gave."""
    handed = await say(engine, "transfer TX20261129883104 of 500 USDT yesterday still hasn't arrived")
    [ticket] = await tickets(store)
    assert handed.action == "handoff"
    assert ticket.fields == {"transaction_id": "TX20261129883104", "amount": "500 USDT", "time": "yesterday"}
    assert "TX20261129883104" in ticket.subject  # found by its number at once
    assert kb.message("intake_transaction", "en") not in [text for text, _ in await bot_lines(store)]


async def test_what_is_missing_is_still_asked_for_and_what_was_given_is_kept(engine, store, kb) -> None:
    await say(engine, "我转了300 USDT还没到账", MEI)
    await say(engine, "feedback:unsolved", MEI, button=True)
    [ticket] = await tickets(store)
    assert ticket.fields == {"amount": "300 USDT"}
    assert (await bot_lines(store, MEI))[-1][0] == kb.message("intake_transaction", "zh-Hans")
    await say(engine, "单号 TX20261129883104，昨天晚上", MEI)
    [ticket] = await tickets(store)
    assert ticket.fields == {"amount": "300 USDT", "transaction_id": "TX20261129883104", "time": "昨天"}


@pytest.mark.parametrize(("who", "problem", "declines", "later"), [
    (ANN, "my transfer has not arrived yet", "no, I don't have it", "any news?"),
    (MEI, "转账失败了", "没有", "有进展吗"),
])
async def test_a_customer_who_declines_the_intake_question_keeps_the_ticket_and_is_not_asked_again(
        engine, store, kb, who, problem, declines, later) -> None:  # type: ignore[no-untyped-def]
    """README (Intake): "a customer who declines or goes silent still has their ticket"; the question is asked once."""
    lang = "en" if who is ANN else "zh-Hans"
    question = kb.message("intake_transaction", lang)
    await say(engine, problem, who)
    opened = await say(engine, "feedback:unsolved", who, button=True)
    assert opened.action == "handoff" and (await bot_lines(store, who))[-1][0] == question
    for text in (declines, later):
        turn = await say(engine, text, who)
        assert turn.action == "joined" and turn.ticket_id == opened.ticket_id
    [ticket] = await tickets(store)
    assert ticket.status == "open" and not ticket.fields
    assert [text for text, _ in await bot_lines(store, who)].count(question) == 1


@pytest.mark.parametrize(("text", "reason", "question"), [
    ("I've reset the password twice and the account is still locked", "account_locked", "intake_login"),
    ("我的实名认证被驳回了三次", "review_problem", "intake_verification"),
])
async def test_a_handoff_on_a_locked_account_or_a_refused_review_asks_what_the_team_needs(
        engine, store, kb, text, reason, question) -> None:  # type: ignore[no-untyped-def]
    who = MEI if reason == "review_problem" else ANN
    assert (await say(engine, text, who)).action == "handoff"
    [ticket] = await tickets(store)
    assert ticket.reason == reason
    assert (await bot_lines(store, who))[-1][0] == kb.message(question, "zh-Hans" if who is MEI else "en")


async def test_a_vague_message_gets_one_question_then_both_turns_decide(engine, store, kb) -> None:
    first = await say(engine, "问题", MEI)
    assert first.action == "clarify"
    question, choices = (await bot_lines(store, MEI))[-1]
    assert question == kb.message("clarify_vague", "zh-Hans") and "faq:transaction-failed" in choices
    second = await say(engine, "转账一直没到账", MEI)
    assert second.action == "answer" and await tickets(store) == []
    assert (await bot_lines(store, MEI))[-1][0] == kb.answer("transaction-failed", "zh-Hans")


async def test_a_clarifying_choice_is_answered_and_something_else_goes_to_a_person(engine, store, kb) -> None:
    await say(engine, "I have a question")
    assert (await say(engine, "faq:verification", button=True)).action == "answer"
    await say(engine, "help")
    out = await say(engine, "clarify:other", button=True)
    assert out.action == "handoff" and (await tickets(store))[0].reason == "unclear"


async def test_two_unhelpful_answers_on_money_bring_a_person(engine, store, kb) -> None:
    await say(engine, "my payment failed")
    again = await say(engine, "still not working")
    assert again.action == "answer" and (await bot_lines(store))[-1][0] == kb.message("try_again", "en")
    assert await tickets(store) == []
    third = await say(engine, "tried everything, still not working")
    assert third.action == "handoff" and (await tickets(store))[0].reason == "unresolved"


async def test_a_customer_growing_angry_gets_a_person_before_the_limit(engine, store) -> None:
    """Insults and complaints go to a person at once (triage); here the anger rises while the questions still
    look like FAQs, so only the tone over the turns says it is time."""
    await say(engine, "how do I reset my password?")
    await say(engine, "I still can't log in!!!")
    assert await tickets(store) == []  # once is not yet a pattern (login allows three tries)
    out = await say(engine, "why is it so hard to log in!!! I can't log in")
    assert out.action == "handoff"
    [ticket] = await tickets(store)
    assert ticket.reason == "angry" and ticket.priority == "high"


async def test_the_bot_steps_back_while_a_person_holds_the_case(engine, store, kb) -> None:
    opened = await say(engine, "/human")
    before = len(await bot_lines(store))
    held = await say(engine, "how do I reset my password?")
    assert held.action == "joined" and held.ticket_id == opened.ticket_id
    assert len(await bot_lines(store)) == before  # no FAQ answer while a person holds it (within hours)


async def test_outside_business_hours_the_customer_is_told_when_people_answer(store, triage, kb, bus) -> None:
    closed = BusinessHours(always=False, timezone="UTC", days=["mon"], opens="09:00", closes="09:01")
    engine = Engine(store, triage, kb, bus=bus, hours=closed)
    opened = await say(engine, "/human")
    opens = closed.next_open(datetime.now(UTC))
    lines = [text for text, _ in await bot_lines(store)]
    assert any(opens.strftime("%H:%M") in text and "offline" in text for text in lines)
    await say(engine, "is anyone there?")
    await say(engine, "hello??")
    ack = kb.message("waiting_ack", "en", ticket=opened.ticket_id)
    acks = [t for t, _ in await bot_lines(store) if t.startswith(ack)]
    assert len(acks) == 1  # once, not after every message


async def test_a_rating_lands_on_the_solved_ticket_and_reopens_nothing(engine, store, inbox, kb) -> None:
    opened = await say(engine, "/human")
    await inbox.reply(opened.ticket_id, "We fixed it.")
    await inbox.set_status(opened.ticket_id, "solved")
    lines = await bot_lines(store)
    assert lines[-1] == (kb.message("rating_request", "en"), [f"rate:{n}" for n in range(1, 6)])
    assert any(text == kb.message("agent_joined", "en", agent="agent") for text, _ in lines)
    await say(engine, "rate:4", button=True)
    await say(engine, "quick and friendly, thanks")
    ticket = (await store.ticket(opened.ticket_id)).ticket
    assert (ticket.status, ticket.rating, ticket.rating_comment) == ("solved", 4, "quick and friendly, thanks")
    assert (await bot_lines(store))[-1][0] == kb.message("comment_thanks", "en")
    assert (await say(engine, "thanks!")).action == "joined"
    assert (await store.ticket(opened.ticket_id)).ticket.status == "solved"  # a thank-you reopens nothing


async def test_a_rating_that_is_not_one_of_the_buttons_is_asked_again_not_thanked(engine, store, inbox, kb) -> None:
    """"Thank you for your rating!" for rate:999 while nothing was recorded: the customer believed they had rated."""
    opened = await say(engine, "/human", MEI)
    await inbox.set_status(opened.ticket_id, "solved")
    ask = (kb.message("rating_request", "zh-Hans"), [f"rate:{n}" for n in range(1, 6)])
    assert (await bot_lines(store, MEI))[-1] == ask
    for payload in ("rate:999", "rate:0", "rate:-1", "rate:1e9", "rate:", "rate:²", "rate:+5"):
        before = len(await bot_lines(store, MEI))
        await say(engine, payload, MEI, button=True)
        assert (await bot_lines(store, MEI))[before:] == [ask], payload  # asked again, in her language
    assert (await store.ticket(opened.ticket_id)).ticket.rating is None
    await say(engine, "rate:５", MEI, button=True)  # a full-width digit is still a 5
    assert (await store.ticket(opened.ticket_id)).ticket.rating == 5
    assert (await bot_lines(store, MEI))[-1][0] == kb.message("rating_thanks", "zh-Hans")


async def test_a_traditional_chinese_customer_gets_traditional_everywhere(engine, store, kb) -> None:
    yu = Author("u-yu", "Yu", language="zh-TW")
    await say(engine, "忘記密碼怎麼辦", yu)
    text, _ = (await bot_lines(store, yu))[-1]
    rows = [outbound_from_row(r) for r in await store.outbox_rows()]
    labels = [q.label for r in rows for q in r.quick_replies]
    assert text == kb.answer("login", "zh-Hant") and labels == ["已解決", "轉人工客服"]


async def _written_ago(store: Store, ago: timedelta, *turns: Outcome) -> None:
    """These turns (the customer's message and the bot's replies to it) happened ``ago`` earlier."""
    replies = select(Outbox.message_id).where(Outbox.id.in_([i for turn in turns for i in turn.outbox_ids]))
    async with store.transaction() as session:
        await session.execute(update(Message).where(Message.id.in_([t.message_id for t in turns]) |
                                                    Message.id.in_(replies)).values(created_at=utcnow() - ago))


async def _story(store: Store, ticket_id: int | None) -> list[tuple[str, str]]:
    assert ticket_id is not None
    return [(m.message.author_kind, m.message.text) for m in (await store.ticket(ticket_id)).messages
            if m.message.before_handoff]


async def test_a_new_ticket_takes_the_story_since_the_last_finished_ticket_and_at_most_a_day(
        engine, store, inbox, kb) -> None:  # type: ignore[no-untyped-def]
    """README: "A new ticket takes the conversation since the customer's last finished ticket (at most 24 h)".
    Ann: an exchange before her earlier ticket was finished (4 h ago), then one after it. Bob: an exchange 25 h old,
    then a recent one. Each new ticket's story ("before handoff") is the later exchange only."""
    earlier = await say(engine, "/human")
    await inbox.set_status(earlier.ticket_id, "solved")
    await inbox.set_status(earlier.ticket_id, "closed")
    before = await say(engine, "how do I verify my identity?")
    await say(engine, "my transfer has not arrived yet")
    # Dated after the fact: Ann's identity question 5 h ago, on no ticket, her earlier case asked 6 h ago and finished
    # 4 h ago. Only "since the last finished ticket" keeps the question off the new ticket (the 24 h do not).
    await _written_ago(store, timedelta(hours=5), before)
    async with store.transaction() as session:
        await session.execute(update(Message).where(Message.ticket_id == earlier.ticket_id)
                              .values(created_at=utcnow() - timedelta(hours=6)))
        four_hours_ago = utcnow() - timedelta(hours=4)
        await session.execute(update(Ticket).where(Ticket.id == earlier.ticket_id)
                              .values(solved_at=four_hours_ago, closed_at=four_hours_ago))
    old = await say(engine, "how do I verify my identity?", BOB)
    await say(engine, "my transfer has not arrived yet", BOB)
    await _written_ago(store, timedelta(hours=25), old)

    for who in (ANN, BOB):
        handoff = await say(engine, "/human", who)
        assert handoff.action == "handoff" and handoff.ticket_id != earlier.ticket_id
        assert await _story(store, handoff.ticket_id) == [
            ("customer", "my transfer has not arrived yet"), ("bot", kb.answer("transaction-failed", "en"))]
    left = await store.all(select(Message.ticket_id).where(Message.id.in_([old.message_id, before.message_id])))
    assert left == [None, None]  # on no ticket: neither joined a new one


async def test_no_faq_answer_while_a_ticket_is_pending(engine, store, inbox, kb) -> None:
    """README: "no FAQ answers while a ticket is open or pending": the pending half (waiting on the customer)."""
    opened = await say(engine, "/human")
    await inbox.reply(opened.ticket_id, "Could you tell us when it started?")
    await inbox.set_status(opened.ticket_id, "pending")
    before = len(await bot_lines(store))
    held = await say(engine, "how do I reset my password?")
    assert held.action == "joined" and held.ticket_id == opened.ticket_id
    new = [text for text, _ in (await bot_lines(store))[before:]]
    assert kb.answer("login", "en") not in new
    assert all(text.startswith(kb.message("waiting_ack", "en", ticket=opened.ticket_id)) for text in new)  # at most
    assert (await store.ticket(opened.ticket_id)).ticket.status == "open"  # the customer's answer reopens it


ESCALATE_AFTER_KB = """
entries:
  - id: card-limit
    title: {zh-Hans: 银行卡限额, en: Card limit}
    questions:
      zh-Hans: [银行卡限额是多少]
      en: [what is the card limit, how much can I spend with my card]
    answer: {zh-Hans: 每日限额一万。, en: The card limit is 10000 a day.}
    escalate_after: 1
  - id: opening-hours
    title: {zh-Hans: 营业时间, en: Opening hours}
    questions:
      zh-Hans: [你们几点上班]
      en: [when are you open, what are your opening hours]
    answer: {zh-Hans: 我们 24 小时在线。, en: We are online around the clock.}
    escalate_after: 3
"""


async def test_escalate_after_of_each_entry_decides_how_many_tries_before_a_person(store, tmp_path) -> None:
    """README: "three elsewhere, `escalate_after` per entry in the knowledge base": an entry with 1 hands off at
    the first "still not working" after its answer; one with 3 tries again twice, then hands off."""
    path = tmp_path / "kb.yaml"
    path.write_text(ESCALATE_AFTER_KB, encoding="utf-8")
    kb = load_knowledge_base(path)
    engine = Engine(store, Triage(kb), kb)
    assert (await say(engine, "what is the card limit?")).action == "answer"
    first = await say(engine, "still not working")
    assert first.action == "handoff" and (await tickets(store))[0].reason == "unresolved"

    assert (await say(engine, "what are your opening hours?", BOB)).action == "answer"
    for _ in range(2):
        again = await say(engine, "still not working", BOB)
        assert again.action == "answer" and (await bot_lines(store, BOB))[-1][0] == kb.message("try_again", "en")
    third = await say(engine, "still not working", BOB)
    assert third.action == "handoff" and third.ticket_id != first.ticket_id
