"""Moderator escalations: a moderator points at a customer's message (or thread) and a ticket opens.

A mixin of `core.pipeline.Engine`. Whether the moderator may escalate is decided here, from the
platform fact the adapter reports (``Author.is_moderator``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from core.decisions import Decision, Outcome, customer_ticket
from core.impersonation import Guard
from core.language import detect_language
from core.models import Author, Escalation, InboundMessage, utcnow
from core.redaction import redact
from core.store import Store
from core.store.db import written_again_if_deleted
from core.store.records import Place, ensure_conversation, ensure_customer, find_message, insert_inbound, stored_context
from core.store.replies import add_note, queue_reply
from core.store.tables import Conversation, Message, Ticket
from core.tickets import record


class Escalations:
    store: Store
    kb: Any
    guard: Guard
    _lease: Callable[..., Awaitable[list[Any]]]
    _impersonation_ticket: Callable[..., Awaitable[tuple[Ticket, bool]]]  # core/safety.py

    _open_ticket: Callable[..., Awaitable[int]]  # the engine's (core/pipeline.py)
    _announce: Callable[..., None]

    async def handle_escalation(self, escalation: Escalation) -> Outcome:
        lang = detect_language(escalation.note or escalation.target.text, escalation.moderator.language)
        if not escalation.moderator.is_moderator:
            return Outcome("refused", notice=self.kb.message("escalation_refused", lang))
        what = f"escalation {escalation.channel}/{escalation.platform_id}"
        if escalation.kind == "impersonator":
            return await written_again_if_deleted(lambda: self._report_impersonator(escalation, lang), what)
        return await written_again_if_deleted(lambda: self._escalate(escalation, lang), what)

    async def _escalate(self, escalation: Escalation, lang: str) -> Outcome:
        target = escalation.target
        outbox: list[int] = []
        async with self.store.transaction() as session:
            marker = f"escalation:{escalation.platform_id}"
            existing = await find_message(session, escalation.channel, marker)
            if existing is not None and existing.ticket_id is not None:
                return Outcome("duplicate", existing.id, existing.ticket_id,
                               self.kb.message("escalated_notice", lang, ticket=existing.ticket_id))
            customer_id = await ensure_customer(session, target.channel, target.author)
            conversation = await ensure_conversation(session, target.channel, target.conversation, customer_id,
                                                     public=target.public)
            rows: list[Message] = []
            for earlier in escalation.context:
                author = await ensure_customer(session, earlier.channel, earlier.author)
                place = await ensure_conversation(session, earlier.channel, earlier.conversation, author,
                                                  public=earlier.public)
                rows.append(await _stored(session, place, earlier))
            row = await _stored(session, conversation, target)
            if not escalation.context:  # the platform gave none (Telegram): what the store saw of this place
                rows = await stored_context(session, row, customer_id, target.conversation)
            ticket = await customer_ticket(session, conversation, row.private_address)
            cust_lang = detect_language(target.text, target.author.language)
            if ticket is None:
                decision = Decision("handoff", cust_lang, "", reason="escalated", priority="normal")
                ticket_id = await self._open_ticket(session, row, conversation, decision, outbox,
                                                    source="escalation", actor=_actor(escalation.moderator))
                ticket = await session.get(Ticket, ticket_id)
                assert ticket is not None
            else:
                row.ticket_id = ticket.id
            for stored in rows:
                stored.ticket_id = stored.ticket_id or ticket.id
            note_text = redact(escalation.note or "").text
            add_note(session, ticket.conversation_id, ticket.id, note_text, channel=escalation.channel,
                     author_kind="moderator", author_name=_actor(escalation.moderator), platform_id=marker)
            record(session, ticket, "escalated", _actor(escalation.moderator), note=note_text,
                   message_id=row.id, context=len(rows))
            ticket_id = ticket.id
        self._announce(conversation.id, ticket_id, outbox)
        return Outcome("escalated", row.id, ticket_id, self.kb.message("escalated_notice", lang, ticket=ticket_id),
                       tuple(outbox))

    async def _report_impersonator(self, escalation: Escalation, lang: str) -> Outcome:
        """A moderator reports the target's author as an impersonator: the account's impersonation ticket
        (opened if none) is marked, with the moderator's note and the reported message as evidence."""
        target = escalation.target
        marker = f"escalation:{escalation.platform_id}"
        async with self.store.transaction() as session:
            existing = await find_message(session, escalation.channel, marker)
            if existing is not None and existing.ticket_id is not None:  # the platform delivered it again
                return Outcome("duplicate", existing.id, existing.ticket_id,
                               self.kb.message("impersonator_notice", lang, ticket=existing.ticket_id))
            customer_id = await ensure_customer(session, target.channel, target.author)
            conversation = await ensure_conversation(session, target.channel, target.conversation, customer_id,
                                                     public=target.public)
            row = await _stored(session, conversation, target)
            ticket, _ = await self._impersonation_ticket(session, conversation, target.author, "a moderator's report",
                                                         _actor(escalation.moderator))
            row.ticket_id = ticket.id
            if "impersonator" not in (ticket.tags or []):
                record(session, ticket, "tags", _actor(escalation.moderator), before=ticket.tags,
                       after=sorted({*(ticket.tags or []), "impersonator"}))
                ticket.tags = sorted({*(ticket.tags or []), "impersonator"})
            note = redact(escalation.note or "").text
            add_note(session, ticket.conversation_id, ticket.id, note or "Reported as an impersonator.",
                     channel=escalation.channel, author_kind="moderator", author_name=_actor(escalation.moderator),
                     platform_id=marker)
            record(session, ticket, "reported_impersonator", _actor(escalation.moderator), message_id=row.id)
            ticket_id = ticket.id
            outbox: list[int] = []
            if self.guard.remove and target.public:  # configured: the reported account leaves the place too
                who = target.author.display_name or target.author.handle or target.author.platform_user_id
                outbox.append((await queue_reply(
                    session, conversation, f"Remove {who} from this place: reported as an impersonator by "
                    f"{_actor(escalation.moderator)}.", author_kind="bot", ticket_id=ticket_id, action="remove_member",
                    target=target.author.platform_user_id)).outbox_id)
            leased = await self._lease(session, tuple(outbox))
        self._announce(conversation.id, ticket_id, outbox, leased)
        return Outcome("escalated", row.id, ticket_id, self.kb.message("impersonator_notice", lang, ticket=ticket_id))


async def _stored(session: Any, conversation: Place | Conversation, message: InboundMessage) -> Message:
    """The message's row, stored now or earlier (seen as group chatter); an escalation counts as handling it."""
    row = await insert_inbound(session, conversation, message, handled=True) or await find_message(
        session, message.channel, message.platform_id)
    assert row is not None  # the insert only yields nothing when the row exists
    row.handled_at = row.handled_at or utcnow()
    return row


def _actor(author: Author) -> str:
    return author.display_name or author.handle or author.platform_user_id
