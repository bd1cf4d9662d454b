"""The engine's safety duties: warn a customer who sent a secret, and contain a flood.

A mixin of `core.pipeline.Engine` (it uses the engine's store, knowledge base and ticket opening), kept
apart so the message path stays readable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from core.decisions import Decision, Outcome
from core.flood import Flood
from core.impersonation import Guard
from core.models import Author, InboundMessage, utcnow
from core.redaction import KEY, PHRASE
from core.store.records import Place, ensure_conversation
from core.store.replies import QueuedReply, add_note, queue_reply
from core.store.tables import Conversation, Message, Ticket
from core.tickets import ACTIVE, first_response_due, record, transition


class Safety:
    kb: Any
    guard: Guard
    first_response_hours: float

    _open_ticket: Callable[..., Awaitable[int]]  # the engine's (core/pipeline.py)

    async def _apply_flood(self, session: Any, row: Message, conversation: Place | Conversation,
                           ticket: Ticket | None, decision: Decision) -> Outcome:
        outbox: list[int] = []
        if ticket is None:
            ticket_id = await self._open_ticket(session, row, conversation, decision, outbox)
        else:
            transition(session, ticket, "customer_message", "customer")
            row.ticket_id = ticket_id = ticket.id
        if decision.reason == "flood":
            notice = self.kb.message("flood_notice", decision.lang, ticket=ticket_id)
            queued = await queue_reply(session, conversation, notice, author_kind="bot", ticket_id=ticket_id,
                                       reply_to=row.platform_id if row.public else None)
            outbox.append(queued.outbox_id)
        return Outcome("flood", row.id, ticket_id, None, tuple(outbox))

    def _flooded(self, message: InboundMessage, conversation: Place | Conversation, flood: Flood) -> Decision:
        """Over the customer's per-minute limit: the first such message becomes a handoff with one notice
        (a person reads what they sent), the rest join that ticket quietly."""
        from core.language import detect_language

        lang = detect_language(message.text, conversation.language or message.author.language)
        return Decision("handoff", lang, "", reason="flood" if flood is Flood.FIRST else "flood_more")

    async def _warn(self, session: Any, row: Message, conversation: Place | Conversation, secrets: tuple[str, ...],
                    decision: Decision | None) -> list[QueuedReply]:
        """The customer sent a secret: say we did not keep it, what to do now, and that staff never ask.
        In a public place the message is deleted where the platform lets the bot (others may have read it,
        but not everyone), and the warning answers there and invites them to a private conversation."""
        from core.language import detect_language

        lang = decision.lang if decision is not None else detect_language(row.text, conversation.language)
        wallet = PHRASE in secrets or KEY in secrets
        queued: list[QueuedReply] = []
        if row.public and row.platform_id:
            what = ", ".join(secrets)
            queued.append(await queue_reply(
                session, conversation, f"Delete the customer's public message: it held a {what}.", author_kind="bot",
                ticket_id=row.ticket_id, action="delete_message", target=row.platform_id))
        text = self.kb.message("secret_warning_wallet" if wallet else "secret_warning", lang)
        queued.append(await queue_reply(session, conversation, text, author_kind="bot", ticket_id=row.ticket_id,
                                        reply_to=row.platform_id if row.public else None,
                                        invite_private=bool(row.public and row.private_address)))
        return queued

    # ---- impersonation ------------------------------------------------------------------------
    async def _watch_names(self, session: Any, channel: str, author: Author,
                           conversation: Place | Conversation) -> list[int]:
        """A public place's member: a moderator's name is protected from now on; a name imitating a protected
        one opens one ticket for the moderators (the account is never told), tells them where configured,
        and asks the channel to remove the account where configured. Returns the outbox rows queued."""
        guard: Guard = self.guard
        if author.is_moderator:
            guard.learn(channel, author.platform_user_id, author.display_name or author.handle or "")
            return []
        target = guard.suspect(channel, author.platform_user_id, author.display_name, author.handle)
        if target is None:
            return []
        ticket, opened = await self._impersonation_ticket(session, conversation, author, target.name, "system")
        if not opened:
            return []
        outbox: list[int] = []
        who = f"{author.display_name or author.handle} (id {author.platform_user_id})"
        alert = guard.alerts.get(channel)
        if alert:
            place = await ensure_conversation(session, channel, alert, conversation.customer_id, public=True)
            text = (f"Possible impersonator in {conversation.address}: {who} looks like “{target.name}”. "
                    f"Ticket #{ticket.id}. Staff never DM first: warn the members if they were contacted.")
            outbox.append((await queue_reply(session, place, text, author_kind="bot", ticket_id=ticket.id)).outbox_id)
        if guard.remove:
            text = f"Remove {who} from this place: a possible impersonator of “{target.name}”."
            outbox.append((await queue_reply(session, conversation, text, author_kind="bot", ticket_id=ticket.id,
                                             action="remove_member", target=author.platform_user_id)).outbox_id)
        return outbox

    async def _impersonation_ticket(self, session: Any, conversation: Place | Conversation, author: Author,
                                    imitated: str, actor: str) -> tuple[Ticket, bool]:
        """The account's open impersonation ticket, or a new one (high priority, no message to the account)."""
        found = await session.scalar(select(Ticket).where(
            Ticket.customer_id == conversation.customer_id, Ticket.reason == "impersonation",
            Ticket.status.in_(ACTIVE)).limit(1))
        if found is not None:
            return found, False
        now = utcnow()
        name = author.display_name or author.handle or author.platform_user_id
        ticket = Ticket(customer_id=conversation.customer_id, conversation_id=conversation.id,
                        channel=conversation.channel, status="open", priority="high",
                        subject=f"Possible impersonator: “{name}” looks like “{imitated}”"[:250],
                        reason="impersonation", source="impersonation", language=None,
                        first_response_due=first_response_due(self.first_response_hours), created_at=now,
                        updated_at=now, tags=["impersonator-suspect"])
        session.add(ticket)
        await session.flush()
        record(session, ticket, "created", actor, reason="impersonation", imitates=imitated,
               account=author.platform_user_id, handle=author.handle)
        add_note(session, conversation.id, ticket.id,
                 f"{name} (@{author.handle or '-'}, id {author.platform_user_id}) in {conversation.address} looks "
                 f"like “{imitated}”. Check the account; staff never DM customers first.",
                 channel=conversation.channel, author_kind="note", author_name="supportbot")
        return ticket, True
