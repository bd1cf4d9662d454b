"""The engine: the one entry point every channel calls. Store first, then decide, then queue replies.

The customer's message, the decision, any ticket and every reply (into the outbox) commit in one
transaction; the insert is idempotent on channel + platform id, so a redelivery changes nothing.
Deciding is pure; if it fails the message is still stored with ``handled_at`` unset, and
`recover()` finishes it on the next start. Nothing a customer sends is lost, nothing is answered twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update

from core.conversation import CHOICES, RATE, Conversations
from core.decisions import Decision, Outcome, as_record, customer_ticket
from core.escalations import Escalations
from core.events import EventBus
from core.flood import Flood, FloodGate
from core.group_commit import GroupCommit
from core.hours import BusinessHours
from core.impersonation import Guard
from core.language import detect_language
from core.models import InboundMessage, MemberJoined, MessageEdit, utcnow
from core.redaction import redact
from core.safety import Safety
from core.store import Store
from core.store.batch import batch_of, write_batch
from core.store.connections import connection_of
from core.store.db import written_again_if_deleted
from core.store.records import (
    Place,
    ensure_conversation,
    ensure_customer,
    ensure_place,
    find_message,
    insert_inbound,
    redacted,
)
from core.store.replies import queue_reply
from core.store.tables import Conversation, Identity, Message, Outbox, Ticket
from core.tickets import first_response_due, record
from core.triage import TriageContext

log = logging.getLogger(__name__)
_LOCK_CONVERSATION = select(Conversation.id).where(Conversation.id == bindparam("id_")).with_for_update()

COMMAND = re.compile(r"^/(?P<name>[A-Za-z_]+)(?:@\w+)?(?:\s+(?P<args>.*))?$", re.S)
GREETING_COMMANDS = frozenset({"start", "help", "menu"})
HUMAN_COMMANDS = frozenset({"human", "agent", "support"})
DEEP_LINK_TICKET = re.compile(r"ticket-(\d+)")  # "/start ticket-12": the customer followed a public invitation
FAQ_PAYLOAD = "faq:"


class Decider(Protocol):
    """core.triage.Triage: pure, no I/O."""

    def decide(self, text: str, context: Any = None) -> Any: ...


class Engine(Conversations, Safety, Escalations):
    def __init__(self, store: Store, triage: Decider, kb: Any, *, bus: EventBus | None = None,
                 first_response_hours: float = 24.0, flood: FloodGate | None = None,
                 guard: Guard | None = None, hours: BusinessHours | None = None) -> None:
        self.store = store
        self.triage = triage
        self.kb = kb
        self.bus = bus or EventBus()
        self.first_response_hours = first_response_hours
        self.flood = flood or FloodGate()
        self.guard = guard or Guard(getattr(kb, "brand", None) or "Support")
        self.hours = hours or BusinessHours()  # when people answer (settings may change it while running)
        self.assigner: Any = None  # core.assignment.AutoAssigner when settings.tickets.auto_assign (set by create_app)
        self.dispatcher: Any = None  # core.dispatch.Dispatcher of this process, once started: replies skip its queue
        self._arrivals: GroupCommit[InboundMessage, Outcome] = GroupCommit(self._store_together, self._store_alone)

    # ---- inbound messages -------------------------------------------------------------------
    async def handle_message(self, message: InboundMessage) -> Outcome:
        """Store the message and queue what it calls for; returns once that is committed.

        Messages arriving while others are being written share the next transaction (core/group_commit.py,
        core/store/batch.py): each is decided and stored exactly as alone, and its caller returns after the
        commit. Deciding is pure and happens before the write; if it fails, the message is handed to a human
        (reason ``triage_error``), never dropped. A redelivery is recognised by the insert itself.
        Secrets are taken out first (core/redaction.py): nothing downstream, logs included, sees them.
        """
        return await self._arrivals.submit(message)

    async def _store_alone(self, message: InboundMessage) -> Outcome:
        return await written_again_if_deleted(lambda: self._store_one(message),
                                              f"message {message.channel}/{message.platform_id}")

    async def _store_one(self, message: InboundMessage) -> Outcome:
        message, secrets = redacted(message)
        async with self._delivering() as deliveries:
            async with self.store.transaction(hot=True) as session:
                outcome, conversation_id = await self._store(session, message, secrets)
                leased = await deliveries(session, outcome.outbox_ids)
        if conversation_id is not None:
            self._announce(conversation_id, outcome.ticket_id, outcome.outbox_ids, leased)
        return outcome

    async def _store_together(self, messages: Sequence[InboundMessage]) -> list[Outcome]:
        """Several messages in one transaction: read ahead once, decide each in order, write the rows at once,
        lease all their replies in one statement (the conversation of two messages of a batch is shared, so
        the second is decided on what the first changed)."""
        if len(messages) == 1:
            return [await self._store_alone(messages[0])]
        prepared = [redacted(m) for m in messages]
        senders = [(m.channel, m.author.platform_user_id, m.conversation, m.platform_id) for m, _ in prepared]
        results: list[tuple[Outcome, int | None]] = []
        async with self._delivering() as deliveries, self.store.transaction(hot=True) as session:
            async with write_batch(session) as batch:
                conn = await connection_of(session)
                for index, (message, secrets) in enumerate(prepared):
                    if not batch.valid:  # first, or a statement the read-ahead did not foresee ran
                        await batch.read_ahead(conn, senders[index:])
                    results.append(await self._store(session, message, secrets))
            leased = await deliveries(session, tuple(i for outcome, _ in results for i in outcome.outbox_ids))
        by_id = {row.id: row for row in leased}
        for outcome, conversation_id in results:
            if conversation_id is not None:
                self._announce(conversation_id, outcome.ticket_id, outcome.outbox_ids,
                               [by_id[i] for i in outcome.outbox_ids if i in by_id])
        return [outcome for outcome, _ in results]

    async def _store(self, session: Any, message: InboundMessage,
                     secrets: tuple[str, ...]) -> tuple[Outcome, int | None]:
        """One redacted message in the caller's transaction: its outcome, and its conversation (None: a duplicate)."""
        conversation = await ensure_place(session, message.channel, message.author, message.conversation,
                                          public=message.public)
        await _lock(session, conversation)
        ticket = await customer_ticket(session, conversation,
                                        message.private_conversation if message.addressed else None)
        decision = None
        flood = self.flood.check(message.channel, message.author.platform_user_id) if message.addressed \
            else Flood.OK
        if flood is not Flood.OK:  # stored, never answered one by one
            decision = self._flooded(message, conversation, flood)
        elif message.addressed:
            decision = self._safe_decide(message.text, conversation, message.author.language,
                                         button=bool(message.raw.get("button")), ticket=ticket)
        if message.raw.get("button"):  # stored as what the customer saw; the payload stays beside it
            label = (conversation.state or {}).get("buttons", {}).get(message.text)
            message = replace(message, text=label or message.text, raw={**message.raw, "payload": message.text})
        row = await insert_inbound(session, conversation, message, ticket_id=ticket.id if ticket else None,
                                   handled=True, decision=as_record(decision), secrets=secrets)
        if row is None:
            return Outcome("duplicate"), None
        warned = await self._warn(session, row, conversation, secrets, decision) if secrets else []
        watched = await self._watch_names(session, message.channel, message.author, conversation) \
            if message.public else []
        outcome = await self._apply(session, row, conversation, ticket, decision)
        if warned:  # first in the outbox (it matters most), and on the ticket the message opened
            if outcome.ticket_id is not None:
                await session.execute(update(Message).where(Message.id.in_([w.message_id for w in warned]))
                                      .values(ticket_id=outcome.ticket_id))
            outcome = replace(outcome, outbox_ids=(*(w.outbox_id for w in warned), *outcome.outbox_ids))
        if watched:
            outcome = replace(outcome, outbox_ids=(*outcome.outbox_ids, *watched))
        if not message.public and outcome.ticket_id is not None:
            owed = await self._owed_replies(session, outcome.ticket_id, conversation)
            outcome = replace(outcome, outbox_ids=(*outcome.outbox_ids, *owed))
        return outcome, conversation.id

    async def _owed_replies(self, session: Any, ticket_id: int, conversation: Place | Conversation) -> list[int]:
        """Replies the platform refused in private (only a public note reached the customer) go out now that the
        customer writes to us privately: each once, in order, into this private conversation."""
        rows = (await session.execute(
            select(Outbox.id, Message.text, Message.author_kind, Message.agent_id, Message.author_name)
            .join(Message, Message.id == Outbox.message_id)
            .where(Message.ticket_id == ticket_id, Outbox.noted_publicly).order_by(Outbox.id))).all()
        if not rows:
            return []
        await session.execute(update(Outbox).where(Outbox.id.in_([r.id for r in rows])).values(noted_publicly=False))
        queued = [await queue_reply(session, conversation, r.text, author_kind=r.author_kind, ticket_id=ticket_id,
                                    agent_id=r.agent_id, author_name=r.author_name) for r in rows]
        return [q.outbox_id for q in queued]

    async def handle_member_joined(self, event: MemberJoined) -> Outcome:
        """A new member of a group or guild: their name is checked before they say anything."""
        suspect = self.guard.suspect(event.channel, event.author.platform_user_id, event.author.display_name,
                                     event.author.handle)
        if not event.author.is_moderator and suspect is None:
            return Outcome("stored")  # nothing to keep about an ordinary member
        return await written_again_if_deleted(lambda: self._member_joined(event, suspect),
                                              f"member {event.channel}/{event.author.platform_user_id}")

    async def _member_joined(self, event: MemberJoined, suspect: Any) -> Outcome:
        async with self.store.transaction() as session:
            customer_id = await ensure_customer(session, event.channel, event.author)
            conversation = await ensure_conversation(session, event.channel, event.conversation, customer_id,
                                                     public=True)
            outbox = await self._watch_names(session, event.channel, event.author, conversation)
            leased = await self._lease(session, tuple(outbox))
        self._announce(conversation.id, None, outbox, leased)
        return Outcome("flagged" if suspect and not event.author.is_moderator else "stored", outbox_ids=tuple(outbox))

    async def recover(self) -> int:
        """Finish messages stored before a crash but never triaged. Returns how many."""
        ids = await self.store.all(select(Message.id).where(Message.direction == "in",
                                                            Message.handled_at.is_(None)).order_by(Message.id))
        for message_id in ids:
            try:
                await self.process(message_id)
            except Exception:  # one bad row must not keep the product from starting
                log.exception("could not finish stored message %s; it stays unhandled", message_id)
        return len(ids)

    async def process(self, message_id: int) -> Outcome:
        """Decide on one stored, unhandled message (the recovery path)."""
        async with self.store.transaction() as session:
            row = await session.get(Message, message_id, with_for_update=True)  # two recovering processes
            if row is None or row.handled_at is not None:
                return Outcome("duplicate", message_id)
            conversation = await session.get(Conversation, row.conversation_id)
            assert conversation is not None
            hint = await session.scalar(select(Identity.language).where(
                Identity.customer_id == conversation.customer_id, Identity.channel == row.channel))
            await _lock(session, conversation)
            ticket = await customer_ticket(session, conversation, row.private_address if row.addressed else None)
            decision = None
            if row.addressed:
                decision = self._safe_decide(row.text, conversation, hint, button=bool(row.raw.get("button")),
                                             ticket=ticket)
            row.handled_at, row.decision = utcnow(), as_record(decision)
            row.ticket_id = ticket.id if ticket else None
            outcome = await self._apply(session, row, conversation, ticket, decision)
            leased = await self._lease(session, outcome.outbox_ids)
        self._announce(conversation.id, outcome.ticket_id, outcome.outbox_ids, leased)
        return outcome

    @asynccontextmanager
    async def _delivering(self) -> AsyncIterator[Callable[[Any, tuple[int, ...]], Awaitable[list[Any]]]]:
        """For a transaction that queues replies: ``deliveries(session, outbox_ids)`` (called last in it) records
        the deliveries this process's dispatcher made meanwhile (core/sent_marks.py) and leases the new replies.
        The marks count once the transaction committed; if it did not, the dispatcher writes them itself."""
        settle: list[Callable[[bool], None]] = []

        async def deliveries(session: Any, outbox_ids: tuple[int, ...]) -> list[Any]:
            if self.dispatcher is not None and outbox_ids:
                done = await self.dispatcher.marks.write_in(await connection_of(session))
                if done is not None:
                    settle.append(done)
            return await self._lease(session, outbox_ids)

        try:
            yield deliveries
        except BaseException:
            for done in settle:
                done(False)
            raise
        for done in settle:
            done(True)

    async def _lease(self, session: Any, outbox_ids: tuple[int, ...]) -> list[Any]:
        """Lease the replies for this process's dispatcher in the same transaction: no claim pass before they go."""
        if self.dispatcher is None or not outbox_ids:
            return []
        return await self.dispatcher.lease(await connection_of(session), outbox_ids)

    def _safe_decide(self, text: str, conversation: Place | Conversation, hint: str | None, *, button: bool,
                     ticket: Ticket | None) -> Decision:
        """A decision that cannot fail: if deciding raises, a person takes the message."""
        try:
            return self._decide(text, conversation, hint, button=button,
                                open_tickets=frozenset({ticket.id}) if ticket else frozenset())
        except Exception:
            log.exception("deciding on message %r failed; handing it to a person", text[:80])
            from core.language import normalise_hint

            return Decision("handoff", normalise_hint(hint) or conversation.language or "en", "",
                             reason="triage_error", priority="normal")

    def _decide(self, text: str, conversation: Place | Conversation, hint: str | None, *, button: bool,
                open_tickets: frozenset[int] = frozenset(), offered: tuple[str, ...] = (),
                earlier: str = "") -> Decision:
        command = COMMAND.match(text.strip())
        # "/start" or a button payload says nothing about the customer's language: only free text does.
        evidence = (command.group("args") or "") if command else ("" if button else text)
        known = conversation.language or hint
        lang = detect_language(evidence, known)
        name = command.group("name").lower() if command else None
        if name in GREETING_COMMANDS:
            ticket_ref = DEEP_LINK_TICKET.fullmatch((command.group("args") or "").strip()) if command else None
            if ticket_ref and int(ticket_ref.group(1)) in open_tickets:
                ticket_id = int(ticket_ref.group(1))
                return Decision("greet", lang, self.kb.message("ticket_joined", lang, ticket=ticket_id),
                                 reason="deep_link")
            return Decision("greet", lang, self.kb.message("greeting", lang), reason="command")
        if name in HUMAN_COMMANDS:
            return Decision("handoff", lang, "", reason="asked_for_human")
        if button and text.startswith(FAQ_PAYLOAD):
            faq_id = text[len(FAQ_PAYLOAD):]
            try:
                return Decision("answer", lang, self.kb.answer(faq_id, lang), faq_id=faq_id)
            except KeyError:
                pass
        if button and (text in CHOICES or text.startswith(RATE)):  # the conversation reads these (core/conversation)
            return Decision("choice", lang, "", reason="button")
        context = TriageContext(language_hint=hint, previous_faq_id=conversation.state.get("last_faq"),
                                turns=int(conversation.state.get("turns", 0)), offered=offered, earlier=earlier)
        d = self.triage.decide(text, context)
        return Decision(d.action, d.lang, d.reply, getattr(d, "faq_id", None), d.confidence,
                        getattr(d, "reason", None) or getattr(d, "kind", None), getattr(d, "priority", "normal"),
                        tuple(getattr(d, "options", ())))

    def _redecide(self, text: str, conversation: Place | Conversation, hint: str | None, *,
                  offered: tuple[str, ...] = (), earlier: str = "") -> Decision:
        """The reply to a clarifying question, decided again: choosing among what was ``offered`` about the
        ``earlier`` message, or (a vague first turn) with both turns joined in ``text``."""
        try:
            return self._decide(text, conversation, hint, button=False, offered=offered, earlier=earlier)
        except Exception:
            log.exception("deciding again on a clarification failed")
            return Decision("handoff", hint or "en", "", reason="triage_error")

    async def _open_ticket(self, session: Any, row: Message, conversation: Place | Conversation, decision: Decision,
                           outbox: list[int], *, source: str = "customer", actor: str = "customer") -> int:
        """A new ticket; account talk always continues in private, never in a public place."""
        home = conversation
        if conversation.public and row.private_address:
            home = await ensure_conversation(session, row.channel, row.private_address, conversation.customer_id,
                                             public=False)
        subject = " ".join(row.text.split())[:120] or "(no text)"
        ticket = Ticket(customer_id=conversation.customer_id, conversation_id=home.id, channel=row.channel,
                        status="open", priority=decision.priority, subject=subject, reason=decision.reason,
                        source=source, language=decision.lang,
                        first_response_due=first_response_due(self.first_response_hours),
                        created_at=utcnow(), updated_at=utcnow(), tags=[])
        session.add(ticket)
        await session.flush()
        row.ticket_id = ticket.id
        record(session, ticket, "created", actor, reason=decision.reason, priority=decision.priority)
        if self.assigner is not None:
            await self.assigner(session, ticket)
        ack_key = "urgent_handoff" if decision.priority == "urgent" else "handoff"
        ack = self.kb.message(ack_key, decision.lang, ticket=ticket.id)
        if conversation.public:
            queued = await queue_reply(session, conversation, self.kb.message("handoff_public", decision.lang),
                                       author_kind="bot", ticket_id=ticket.id, reply_to=row.platform_id,
                                       invite_private=True)
            outbox.append(queued.outbox_id)
        if home is not conversation or not conversation.public:
            queued = await queue_reply(session, home, ack, author_kind="bot", ticket_id=ticket.id)
            outbox.append(queued.outbox_id)
        return ticket.id

    # ---- edits and deletions -----------------------------------------------------------------
    async def handle_edit(self, edit: MessageEdit) -> Outcome:
        async with self.store.transaction() as session:
            row = await find_message(session, edit.channel, edit.platform_id)
            if row is None:
                return Outcome("unknown")
            if edit.deleted:
                row.deleted_at = edit.edited_at
            elif edit.text is not None and redact(edit.text).text != row.text:
                clean = redact(edit.text)
                before, row.text, row.edited_at = row.text, clean.text, edit.edited_at
                if clean.found:
                    row.redacted = list(dict.fromkeys([*(row.redacted or []), *clean.kinds]))
                if row.ticket_id is not None:
                    ticket = await session.get(Ticket, row.ticket_id)
                    assert ticket is not None
                    record(session, ticket, "message_edited", "customer", message_id=row.id, before=before,
                           after=row.text)
            if edit.deleted and row.ticket_id is not None:
                ticket = await session.get(Ticket, row.ticket_id)
                assert ticket is not None
                record(session, ticket, "message_deleted", "customer", message_id=row.id)
            message_id, ticket_id, conversation_id = row.id, row.ticket_id, row.conversation_id
        self._announce(conversation_id, ticket_id, [])
        return Outcome("edited", message_id, ticket_id)

    def _announce(self, conversation_id: int, ticket_id: int | None, outbox: Sequence[int],
                  leased: Sequence[Any] = ()) -> None:
        if leased:
            self.dispatcher.deliver(leased)
        self.bus.publish("message", conversation_id=conversation_id, ticket_id=ticket_id)
        if ticket_id is not None:
            self.bus.publish("ticket", ticket_id=ticket_id)
        taken = {row.id for row in leased}
        if rest := [i for i in outbox if i not in taken]:
            self.bus.publish("outbox", ids=rest)


async def _lock(session: Any, conversation: Place | Conversation) -> None:
    """Serialise decisions per conversation (PostgreSQL row lock; SQLite has one writer anyway): two
    messages arriving at once must not both see "no ticket" and open two. A batch locked its
    conversations when it read them (core/store/batch.py)."""
    if session.bind.dialect.name != "sqlite":
        batch = batch_of(await connection_of(session))
        if batch is None or conversation.id not in batch.locked:
            await session.execute(_LOCK_CONVERSATION, {"id_": conversation.id})
