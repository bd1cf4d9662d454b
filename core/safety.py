"""The engine's safety duties: warn a customer who sent a secret, and contain a flood.

A mixin of `core.pipeline.Engine` (it uses the engine's store, knowledge base and ticket opening), kept
apart so the message path stays readable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from core.decisions import Decision, Outcome
from core.flood import Flood
from core.models import InboundMessage
from core.redaction import KEY, PHRASE
from core.store.records import Place, QueuedReply, queue_reply
from core.store.tables import Conversation, Message, Ticket
from core.tickets import transition


class Safety:
    kb: Any

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
                    decision: Decision | None) -> QueuedReply:
        """The customer sent a secret: say we did not keep it, what to do now, and that staff never ask.
        In a public place the warning answers there and invites them to a private conversation."""
        from core.language import detect_language

        lang = decision.lang if decision is not None else detect_language(row.text, conversation.language)
        wallet = PHRASE in secrets or KEY in secrets
        text = self.kb.message("secret_warning_wallet" if wallet else "secret_warning", lang)
        return await queue_reply(session, conversation, text, author_kind="bot", ticket_id=row.ticket_id,
                                 reply_to=row.platform_id if row.public else None,
                                 invite_private=bool(row.public and row.private_address))
