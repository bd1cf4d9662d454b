"""The conversation: what the bot does with a decision, turn after turn, so it ends with the customer helped.

A mixin of `core.pipeline.Engine`; its state lives in ``conversation.state`` (the store), never in memory:

- **Did it help?** An answer offers "Solved" / "Not solved"; the choice is recorded on the answer
  (``messages.feedback``). "Not solved" hands off with the answer on the ticket; "thanks" closes the loop.
- **Clarify instead of guessing.** Two close FAQs: ask which, both as choices; too vague: ask what it is
  about. The next turn is decided again with both turns together; a second miss goes to a person.
- **Know when to stop.** Each answer that did not help counts against its FAQ's ``escalate_after``
  (2 for money and security, 3 elsewhere); a customer growing angry goes to a person at once.
- **The bot steps back** while a ticket is open or pending: no FAQ answers, the message joins the
  ticket, and outside business hours an acknowledgement says when people answer.
- **Intake.** A handoff on a transaction, login or verification case asks at once for what the support
  guide says a person needs (the ticket exists already, so silence still gets a person); the answer lands
  on the ticket as fields.
- **The whole story.** A new ticket takes the conversation since the customer's last finished ticket
  (at most 24 h) as "before handoff", and its subject is the problem, not the handoff phrase.
- **Satisfaction.** A rating (1-5) and an optional comment after a ticket is solved land on that ticket
  and reopen nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from core.decisions import Decision, Outcome, as_record
from core.hours import BusinessHours
from core.intake import DECLINE, IntakeTopic, read_fields, topic_for
from core.models import QuickReply, utcnow
from core.store.records import Place
from core.store.replies import queue_reply
from core.store.tables import Conversation, Message, Ticket
from core.tickets import raise_priority, record, transition
from core.triage_rules import ANGRY

FAQ_PAYLOAD, HUMAN_PAYLOAD = "faq:", "/human"
SOLVED, UNSOLVED, OTHER, RATE = "feedback:solved", "feedback:unsolved", "clarify:other", "rate:"
PENDING_FOR = timedelta(minutes=30)  # a question of the bot's not answered by then is forgotten
STORY_SPAN = timedelta(hours=24)
ACK_EVERY = timedelta(minutes=30)  # the "added to your ticket" acknowledgement, at most this often
NOT_THE_PROBLEM = frozenset({"asked_for_human", "unsolved", "unclear", "flood", "flood_more", "empty", "angry",
                             "command", "deep_link"})


class Conversations:
    kb: Any
    hours: BusinessHours
    _open_ticket: Callable[..., Awaitable[int]]  # the engine's (core/pipeline.py)
    _apply_flood: Callable[..., Awaitable[Outcome]]  # core/safety.py
    _redecide: Callable[..., Decision]

    async def _apply(self, session: Any, row: Message, conversation: Place | Conversation, ticket: Ticket | None,
                     decision: Decision | None) -> Outcome:
        """Carry out a decision for a stored message: join or open a ticket, queue the replies."""
        if decision is None:  # not addressed to the bot (group chatter): kept as context, reopens nothing
            return Outcome("stored", row.id, ticket.id if ticket else None)
        if decision.reason in ("flood", "flood_more"):
            return await self._apply_flood(session, row, conversation, ticket, decision)
        state = dict(conversation.state or {})
        pending = _live(state.get("pending"))
        payload = str(row.raw.get("payload") or "") if row.raw.get("button") else ""
        if payload.startswith(RATE) or (pending and pending.get("kind") == "comment" and not payload
                                         and not _wants_a_person(decision)):
            return await self._satisfaction(session, row, conversation, state, pending, payload, decision)
        if decision.action in ("answer", "handoff", "clarify"):
            conversation.language = decision.lang  # what the customer writes in beats the platform's UI language
        if ticket is not None and decision.reason != "deep_link":
            return await self._held(session, row, conversation, ticket, state, pending, decision)
        decision = self._follow_up(row, conversation, state, pending, payload, decision)
        if decision.action == "helped":
            return await self._helped(session, row, conversation, state, pending, decision)
        if decision.action == "handoff":
            return await self._hand_off(session, row, conversation, state, pending, decision)
        return await self._reply(session, row, conversation, ticket, state, decision)

    # ---- the turn after one of the bot's questions ---------------------------------------------
    def _follow_up(self, row: Message, conversation: Place | Conversation, state: dict[str, Any],
                   pending: dict[str, Any] | None, payload: str, decision: Decision) -> Decision:
        """What the customer's answer to the bot's last question means (a choice, a clarification, a verdict)."""
        kind = pending.get("kind") if pending else None
        faq = pending.get("faq") if pending else None
        if payload == SOLVED or (kind == "feedback" and decision.action == "greet" and decision.reason in
                                 ("thanks", "ack")):
            return Decision("helped", decision.lang, "", faq_id=faq)
        if payload == UNSOLVED:
            return Decision("handoff", decision.lang, "", faq_id=faq, reason="unsolved")
        if payload == OTHER:
            return Decision("handoff", decision.lang, "", reason="unclear")
        if kind == "clarify" and not payload and decision.action != "answer" and decision.reason != "asked_for_human":
            if pending.get("question") == "which":  # the reply only has to choose among what was offered
                again = self._redecide(row.text, conversation, decision.lang, offered=tuple(pending.get("options", ())),
                                       earlier=str(pending.get("text", "")))
            else:  # a vague first turn: both turns together say what it is about
                again = self._redecide(f"{pending.get('text', '')} {row.text}", conversation, decision.lang)
            if again.action == "answer":
                return again
            if decision.action != "handoff" or decision.reason in ("low_confidence", "not_covered"):
                return Decision("handoff", decision.lang, "", faq_id=again.faq_id, reason="unclear")
        if ANGRY.search(row.text.lower()):
            state["angry"] = int(state.get("angry", 0)) + 1
            if state["angry"] >= 2 or sum(state.get("unhelpful", {}).values()):
                return Decision("handoff", decision.lang, "", faq_id=faq, reason="angry", priority="high")
        if decision.reason == "unresolved" and decision.faq_id:
            counts = dict(state.get("unhelpful", {}))
            counts[decision.faq_id] = int(counts.get(decision.faq_id, 0)) + 1
            state["unhelpful"] = counts
            try:
                limit = self.kb.entry(decision.faq_id).escalate_after
            except KeyError:
                limit = 1
            if counts[decision.faq_id] < limit:
                return Decision("try_again", decision.lang, self.kb.message("try_again", decision.lang),
                                faq_id=decision.faq_id, reason="unresolved")
        return decision

    # ---- replies -------------------------------------------------------------------------------
    async def _reply(self, session: Any, row: Message, conversation: Place | Conversation, ticket: Ticket | None,
                     state: dict[str, Any], decision: Decision) -> Outcome:
        text, buttons = decision.reply, self._buttons(decision)
        if decision.action == "answer":
            state["last_faq"], state["turns"] = decision.faq_id, int(state.get("turns", 0)) + 1
            if conversation.public:  # where impersonators read along too
                text = f"{text}\n\n{self.kb.message('public_safety', decision.lang)}"
        if decision.action == "try_again":
            await self._mark_feedback(session, conversation, "unhelpful")
        queued = await queue_reply(session, conversation, text, author_kind="bot",
                                   ticket_id=ticket.id if ticket else None,
                                   reply_to=row.platform_id if row.public else None,
                                   quick_replies=buttons, decision=as_record(decision))
        if decision.action == "answer":
            state["pending"] = _ask("feedback", faq=decision.faq_id, message=queued.message_id)
        elif decision.action == "clarify":
            state["pending"] = _ask("clarify", text=row.text, options=list(decision.options), question=decision.reason)
        elif decision.action == "try_again":
            state["pending"] = _ask("feedback", faq=decision.faq_id, message=None)
        else:
            state.pop("pending", None)
        _remember(state, buttons)
        conversation.state = state
        action = "answer" if decision.action == "try_again" else decision.action
        return Outcome(action, row.id, ticket.id if ticket else None, None, (queued.outbox_id,))

    def _buttons(self, decision: Decision) -> tuple[QuickReply, ...]:
        """The choices offered with a reply, in the customer's language."""
        lang = decision.lang
        human = QuickReply(self.kb.message("button_human", lang), HUMAN_PAYLOAD)
        if decision.action == "answer":  # "Talk to a person" here means "not solved": the answer goes on the ticket
            return (QuickReply(self.kb.message("button_solved", lang), SOLVED), replace(human, payload=UNSOLVED))
        if decision.action == "clarify":
            titles = dict(self.kb.topics(lang))
            options = [QuickReply(titles[f], FAQ_PAYLOAD + f) for f in decision.options if f in titles]
            return (*options, QuickReply(self.kb.message("button_other", lang), OTHER))
        if decision.action == "greet" and decision.reason == "command":
            topics = tuple(QuickReply(title, FAQ_PAYLOAD + faq_id) for faq_id, title in self.kb.topics(lang))
            return (*topics, human)
        if decision.action == "try_again":
            return (human,)
        return ()

    async def _helped(self, session: Any, row: Message, conversation: Place | Conversation, state: dict[str, Any],
                      pending: dict[str, Any] | None, decision: Decision) -> Outcome:
        await self._mark_feedback(session, conversation, "helpful", (pending or {}).get("message"))
        state.pop("pending", None)
        state.pop("unhelpful", None)
        state.pop("angry", None)
        conversation.state = state
        queued = await queue_reply(session, conversation, self.kb.message("glad_helped", decision.lang),
                                   author_kind="bot", reply_to=row.platform_id if row.public else None,
                                   decision={"action": "helped", "faq_id": decision.faq_id})
        return Outcome("helped", row.id, None, None, (queued.outbox_id,))

    async def _mark_feedback(self, session: Any, conversation: Place | Conversation, verdict: str,
                             message_id: int | None = None) -> None:
        """The verdict on the bot's latest answer in this conversation (or the given one)."""
        if message_id is None:
            message_id = await session.scalar(
                select(Message.id).where(Message.conversation_id == conversation.id, Message.author_kind == "bot",
                                         Message.feedback.is_(None), Message.decision.is_not(None))
                .order_by(Message.id.desc()).limit(1))
        if message_id is not None:
            await session.execute(update(Message).where(Message.id == message_id).values(feedback=verdict))

    # ---- a person takes over -------------------------------------------------------------------
    async def _hand_off(self, session: Any, row: Message, conversation: Place | Conversation, state: dict[str, Any],
                        pending: dict[str, Any] | None, decision: Decision) -> Outcome:
        if decision.reason in ("unsolved", "unresolved", "angry"):
            await self._mark_feedback(session, conversation, "unhelpful", (pending or {}).get("message"))
        outbox: list[int] = []
        ticket_id = await self._open_ticket(session, row, conversation, decision, outbox)
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        story = await self._take_story(session, conversation, ticket, row)
        now = utcnow()
        if not self.hours.is_open(now):
            opens = when(self.hours.next_open(now), decision.lang)
            outbox.append((await queue_reply(session, conversation, self.kb.message(
                "after_hours", decision.lang, opens=opens), author_kind="bot", ticket_id=ticket_id)).outbox_id)
        topic = topic_for(self.kb.intake, decision.faq_id or state.get("last_faq"), decision.reason)
        for key in ("pending", "unhelpful", "angry"):
            state.pop(key, None)
        if topic is not None and not conversation.public and not _given(session, ticket, topic, [*story, row]):
            outbox.append((await queue_reply(session, conversation, self.kb.message(topic.question, decision.lang),
                                             author_kind="bot", ticket_id=ticket_id)).outbox_id)
            state["pending"] = _ask("intake", ticket=ticket_id, topic=topic.name)
        conversation.state = state
        return Outcome("handoff", row.id, ticket_id, None, tuple(outbox))

    async def _take_story(self, session: Any, conversation: Place | Conversation, ticket: Ticket,
                          row: Message) -> list[Message]:
        """The conversation since the customer's last finished ticket (at most a day) joins the new ticket,
        marked "before handoff"; the subject becomes the problem, not the words that asked for a person."""
        since = utcnow() - STORY_SPAN
        finished = await session.scalar(
            select(Ticket.solved_at).where(Ticket.conversation_id == conversation.id, Ticket.id != ticket.id,
                                           Ticket.solved_at.is_not(None)).order_by(Ticket.solved_at.desc()).limit(1))
        closed = await session.scalar(
            select(Ticket.closed_at).where(Ticket.conversation_id == conversation.id, Ticket.id != ticket.id,
                                           Ticket.closed_at.is_not(None)).order_by(Ticket.closed_at.desc()).limit(1))
        since = max([t for t in (since, finished, closed) if t is not None])
        story = list((await session.scalars(
            select(Message).where(Message.conversation_id == conversation.id, Message.ticket_id.is_(None),
                                  Message.direction.in_(("in", "out")), Message.created_at >= since,
                                  Message.id != row.id).order_by(Message.id))).all())
        for message in story:
            message.ticket_id, message.before_handoff = ticket.id, True
        subject = self._subject([*(m for m in story if m.direction == "in"), row], ticket.language or "en")
        if subject and subject != ticket.subject:
            ticket.subject = subject
        if story:
            record(session, ticket, "story", "system", messages=len(story))
        return story

    def _subject(self, said: list[Message], lang: str) -> str | None:
        """The first thing the customer said that states a problem; else the FAQ they were answered with."""
        faq = None
        for message in said:
            decision = message.decision or {}
            if message.raw.get("button") or decision.get("action") == "greet":
                continue
            faq = decision.get("faq_id") or faq
            if decision.get("reason") not in NOT_THE_PROBLEM and message.text.strip():
                return " ".join(message.text.split())[:120]
        if faq:
            try:
                return self.kb.entry(faq).title.get(lang) or None
            except KeyError:
                return None
        return None

    # ---- while a person holds the case ---------------------------------------------------------
    async def _held(self, session: Any, row: Message, conversation: Place | Conversation, ticket: Ticket,
                    state: dict[str, Any], pending: dict[str, Any] | None, decision: Decision) -> Outcome:
        """No FAQ answers while a ticket is open or pending: the message joins it (and reopens a solved one).
        A "thanks" after the ticket was solved closes the loop instead: it reopens nothing."""
        if ticket.status == "solved" and decision.action == "greet" and decision.reason in ("thanks", "ack"):
            queued = await queue_reply(session, conversation, self.kb.message("thanks", decision.lang),
                                       author_kind="bot", ticket_id=ticket.id)
            return Outcome("joined", row.id, ticket.id, None, (queued.outbox_id,))
        transition(session, ticket, "customer_message", "customer")
        if decision.action == "handoff":
            raise_priority(session, ticket, decision.priority, "triage")
        outbox: list[int] = []
        if pending and pending.get("kind") == "intake" and pending.get("ticket") == ticket.id \
                and not row.raw.get("button"):
            outbox += await self._intake(session, row, conversation, ticket, state, pending, decision.lang)
        elif not self.hours.is_open(utcnow()) and _due(state.get("acked_at"), ACK_EVERY):
            opens = when(self.hours.next_open(utcnow()), decision.lang)
            text = (f"{self.kb.message('waiting_ack', decision.lang, ticket=ticket.id)} "
                    f"{self.kb.message('after_hours', decision.lang, opens=opens)}")
            outbox.append((await queue_reply(session, conversation, text, author_kind="bot",
                                             ticket_id=ticket.id)).outbox_id)
            state["acked_at"] = utcnow().isoformat()
            conversation.state = state
        return Outcome("joined", row.id, ticket.id, None, tuple(outbox))

    async def _intake(self, session: Any, row: Message, conversation: Place | Conversation, ticket: Ticket,
                      state: dict[str, Any], pending: dict[str, Any], lang: str) -> list[int]:
        topic = self.kb.intake.get(pending.get("topic", ""))
        state.pop("pending", None)
        conversation.state = state
        if topic is None or DECLINE.match(row.text):
            return []
        found = read_fields(row.text, topic.fields)
        if not found and not row.attachments:
            return []
        if found:
            _keep_fields(session, ticket, found)
        queued = await queue_reply(session, conversation, self.kb.message("intake_thanks", lang, ticket=ticket.id),
                                   author_kind="bot", ticket_id=ticket.id)
        return [queued.outbox_id]

    # ---- satisfaction --------------------------------------------------------------------------
    async def _satisfaction(self, session: Any, row: Message, conversation: Place | Conversation,
                            state: dict[str, Any], pending: dict[str, Any] | None, payload: str,
                            decision: Decision) -> Outcome:
        """A rating or its comment lands on the solved ticket it was asked for; nothing reopens."""
        ticket_id = (pending or {}).get("ticket")
        ticket = await session.get(Ticket, ticket_id) if ticket_id else None
        if ticket is None:  # a rating tapped long after: the customer's latest solved ticket here
            ticket = await session.scalar(select(Ticket).where(
                Ticket.conversation_id == conversation.id, Ticket.solved_at.is_not(None))
                .order_by(Ticket.solved_at.desc()).limit(1))
        row.ticket_id = ticket.id if ticket else None
        if ticket is None:
            state.pop("pending", None)
            conversation.state = state
            return Outcome("stored", row.id)
        if payload.startswith(RATE):
            score = _score(payload[len(RATE):])
            if score is None:  # not one of the buttons sent (an old client, a forged payload): nothing to thank for
                conversation.state = state
                asked = await _request_rating(session, self.kb, ticket, conversation, decision.lang)
                return Outcome("stored", row.id, ticket.id, None, (asked,))
            ticket.rating, ticket.rated_at = score, utcnow()
            record(session, ticket, "rated", "customer", rating=score)
            state["pending"] = _ask("comment", ticket=ticket.id)
            key = "rating_thanks"
        else:
            ticket.rating_comment = " ".join(row.text.split())[:2000]
            record(session, ticket, "rating_comment", "customer", message_id=row.id)
            state.pop("pending", None)
            key = "comment_thanks"
        conversation.state = state
        queued = await queue_reply(session, conversation, self.kb.message(key, decision.lang), author_kind="bot",
                                   ticket_id=ticket.id)
        return Outcome("rated", row.id, ticket.id, None, (queued.outbox_id,))


def _score(value: str) -> int | None:
    """The rating a button's payload gives: one digit 1-5 (a full-width "５" too); anything else is none."""
    return int(value) if len(value) == 1 and value.isdecimal() and 1 <= int(value) <= 5 else None


def _ask(kind: str, **data: Any) -> dict[str, Any]:
    return {"kind": kind, "at": utcnow().isoformat(), **data}


def _live(pending: Any) -> dict[str, Any] | None:
    """The bot's open question, unless it is too old to be what the customer is answering."""
    if not isinstance(pending, dict):
        return None
    return pending if _due(pending.get("at"), PENDING_FOR) is False else None


def awaited_answer(state: Any) -> int | None:
    """The bot answer a live "did it help?" question refers to by id (retention keeps it until the verdict)."""
    pending = _live((state or {}).get("pending")) if isinstance(state, dict) else None
    message = pending.get("message") if pending and pending.get("kind") == "feedback" else None
    return int(message) if isinstance(message, int) else None


def _due(at: Any, every: timedelta) -> bool:
    """Whether ``every`` has passed since ``at`` (an ISO time; missing or unreadable: yes)."""
    try:
        return utcnow() - datetime.fromisoformat(str(at)) >= every
    except ValueError:
        return True


def _remember(state: dict[str, Any], buttons: tuple[QuickReply, ...]) -> None:
    """The labels of the choices just offered: a tap is stored as what the customer saw, not the payload."""
    if buttons:
        state["buttons"] = {b.payload: b.label for b in buttons if not b.url}


def _wants_a_person(decision: Decision) -> bool:
    return decision.action == "handoff" and decision.reason not in ("low_confidence", "not_covered", "unresolved")


def when(moment: datetime, lang: str) -> str:
    """A time people read in their language: "Mon 09:00 (Asia/Shanghai)", "周一 09:00"."""
    zone = getattr(moment.tzinfo, "key", None) or moment.strftime("%Z")
    if lang.startswith("zh"):
        day = "一二三四五六日"[moment.weekday()]
        return f"{'週' if lang == 'zh-Hant' else '周'}{day} {moment:%H:%M}（{zone}）"
    return f"{moment:%a %H:%M} ({zone})"


CHOICES = frozenset({SOLVED, UNSOLVED, OTHER})


# ---- hooks for the inbox (core/inbox.py) ---------------------------------------------------------
async def agent_joins(session: Any, kb: Any, ticket: Ticket, conversation: Conversation, agent: str) -> int | None:
    """Before the first agent reply of a ticket goes out: "<agent> from the team has joined the conversation"."""
    if ticket.first_responded_at is not None or kb is None:
        return None
    text = kb.message("agent_joined", ticket.language or "en", agent=agent)
    return (await queue_reply(session, conversation, text, author_kind="bot", ticket_id=ticket.id,
                              fallback=True)).outbox_id


async def ask_for_rating(session: Any, kb: Any, ticket: Ticket, conversation: Conversation) -> int | None:
    """After "your ticket is solved": a 1-5 rating as choices; the answer lands on this ticket (see _satisfaction)."""
    if kb is None:
        return None
    return await _request_rating(session, kb, ticket, conversation, ticket.language or "en")


async def _request_rating(session: Any, kb: Any, ticket: Ticket, conversation: Place | Conversation,
                          lang: str) -> int:
    """The 1-5 rating question with its buttons, in ``lang``; the next tap lands on ``ticket``."""
    buttons = tuple(QuickReply(str(n), f"{RATE}{n}") for n in range(1, 6))
    queued = await queue_reply(session, conversation, kb.message("rating_request", lang), author_kind="bot",
                               ticket_id=ticket.id, quick_replies=buttons)
    state = dict(conversation.state or {})
    state["pending"] = _ask("rating", ticket=ticket.id)
    _remember(state, buttons)
    conversation.state = state
    return queued.outbox_id


# Fields a customer states in so many words; "error" and "country" are whatever they answer to the question.
STATED = ("transaction_id", "amount", "time")


def _given(session: Any, ticket: Ticket, topic: IntakeTopic, said: list[Message]) -> bool:
    """Whether the customer already gave everything the intake question asks for (before or in the message that
    handed off: "txn TX2026..., 500 USD, yesterday, still not arrived"): what they gave lands on the ticket now,
    and the question is asked only for what is missing."""
    stated = tuple(field for field in topic.fields if field in STATED)
    if not stated:
        return False
    found = read_fields(" \n".join(m.text for m in said if m.direction == "in" and not m.raw.get("button")), stated)
    if found:
        _keep_fields(session, ticket, found)
    return set(topic.fields) <= set(found)


def _keep_fields(session: Any, ticket: Ticket, found: dict[str, str]) -> None:
    before = dict(ticket.fields or {})
    ticket.fields = {**before, **found}
    record(session, ticket, "fields", "customer", before=before, after=ticket.fields)
    details = [found[k] for k in ("transaction_id", "amount") if k in found]
    if details and ticket.subject and " · " not in ticket.subject:
        ticket.subject = " · ".join([ticket.subject, *details])[:250]
