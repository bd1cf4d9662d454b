"""Replies: a message going out and its outbox row, written together in the caller's transaction, and the
outbox payload's JSON form (what the dispatcher reads back to send)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.models import OutboundMessage, QuickReply, utcnow
from core.store.batch import WriteBatch, batch_of
from core.store.connections import connection_of
from core.store.records import Place, attachment_from_json, attachment_json
from core.store.tables import Conversation, Identity, Message, Outbox, Ticket

MESSAGES, OUTBOX = Message.__table__, Outbox.__table__
_INSERT_MESSAGE = insert(MESSAGES).returning(MESSAGES.c.id)
_INSERT_OUTBOX = insert(OUTBOX).returning(OUTBOX.c.id)


async def queue_reply(session: AsyncSession, conversation: Place | Conversation, text: str, *, author_kind: str,
                      ticket_id: int | None = None, agent_id: int | None = None, author_name: str = "",
                      reply_to: str | None = None, quick_replies: tuple[QuickReply, ...] = (),
                      invite_private: bool = False, public: bool | None = None,
                      decision: dict[str, Any] | None = None, fallback: bool = False,
                      action: str | None = None, target: str | None = None) -> QueuedReply:
    """Write a reply and its delivery row in the caller's transaction: persisted before anything sends.

    ``fallback``: a private reply (an agent's) carries where the customer last wrote in public on this
    channel, so an adapter the platform refuses in private (Telegram 403 before /start, Discord closed
    DMs, X without DMs) can tell them there instead of the reply dying."""
    now = utcnow()
    is_public = conversation.public if public is None else public
    conversation.last_message_at = now
    # the customer's language, for any text an adapter must add itself; a private conversation the customer never
    # wrote in (a reply that may become a public note) has none yet: the ticket's is theirs
    lang = conversation.language or (await session.scalar(select(Ticket.language).where(Ticket.id == ticket_id))
                                     if ticket_id is not None and fallback else None)
    place = await public_place(session, conversation.customer_id, conversation.channel) \
        if fallback and not is_public else None
    conn = await connection_of(session)
    batch = batch_of(conn)
    kept = batch if batch is not None and batch.valid else None  # a group commit: the rows go in with its others
    values = dict(
        conversation_id=conversation.id, ticket_id=ticket_id, channel=conversation.channel, platform_id=None,
        direction="out", author_kind=author_kind, agent_id=agent_id, author_name=author_name, text=text,
        attachments=[], reply_to=reply_to, private_address=None, public=is_public, addressed=True,
        decision=decision, raw={}, created_at=now, handled_at=now, edited_at=None, deleted_at=None)
    message_id = await _new_row(conn, kept, "messages", _INSERT_MESSAGE, values)
    meta: dict[str, Any] = {"author": author_kind, "message_id": message_id, "at": now.isoformat()}
    if ticket_id is not None:
        meta["ticket_id"] = ticket_id
    if lang:
        meta["lang"] = lang
    if decision is not None and decision.get("action"):
        meta["decision"] = decision["action"]  # "answer": a knowledge-base answer, general by nature
    if place is not None:
        meta["public_fallback"] = place
    outbound = OutboundMessage(channel=conversation.channel, conversation=conversation.address, text=text,
                               reply_to=reply_to, quick_replies=quick_replies, invite_private=invite_private,
                               public=is_public, meta=meta, action=action, target=target)
    row = dict(message_id=message_id, channel=conversation.channel, conversation=conversation.address,
               payload=outbound_to_json(outbound), status="queued", attempts=0, next_attempt_at=now, locked_until=None,
               sent_at=None, last_error=None, created_at=now)
    outbox_id = await _new_row(conn, kept, "outbox", _INSERT_OUTBOX, row)
    return QueuedReply(message_id, outbox_id)


async def _new_row(conn: AsyncConnection, batch: WriteBatch | None, table: str, insert_row: Any,
                   values: dict[str, Any]) -> int:
    """The new row's id: kept for the group commit's one insert when there is one, else inserted now. Both rows
    of a reply go the same way, decided once (a message inserted later than its outbox row would break the key)."""
    if batch is not None:
        return await batch.keep(conn, table, values)
    return (await conn.execute(insert_row, values)).scalar_one()


async def public_place(session: AsyncSession, customer_id: int, channel: str) -> dict[str, Any] | None:
    """Where the customer last wrote in public on ``channel``, and who they are there (for a mention)."""
    found = (await session.execute(
        select(Conversation.address, Message.platform_id)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Conversation.customer_id == customer_id, Conversation.channel == channel, Conversation.public,
               Message.direction == "in").order_by(Message.id.desc()).limit(1))).first()
    if found is None:
        return None
    who = (await session.execute(select(Identity.platform_user_id, Identity.handle).where(
        Identity.customer_id == customer_id, Identity.channel == channel).limit(1))).first()
    return {"conversation": found.address, "reply_to": found.platform_id,
            "user_id": who.platform_user_id if who else None, "handle": who.handle if who else None}


@dataclass(frozen=True, slots=True)
class QueuedReply:
    message_id: int
    outbox_id: int


def add_note(session: AsyncSession, conversation_id: int, ticket_id: int, text: str, *, channel: str,
             author_kind: str = "note", agent_id: int | None = None, author_name: str = "",
             platform_id: str | None = None) -> Message:
    """An internal note: stored on the ticket, never queued, never sent."""
    note = Message(conversation_id=conversation_id, ticket_id=ticket_id, channel=channel, platform_id=platform_id,
                   direction="note", author_kind=author_kind, agent_id=agent_id, author_name=author_name,
                   text=text, created_at=utcnow(), handled_at=utcnow())
    session.add(note)
    return note


_QUICK_REPLY = tuple(f.name for f in fields(QuickReply))  # what `asdict` gives, without its deep copy of each value


def outbound_to_json(reply: OutboundMessage) -> dict[str, Any]:
    return {
        "text": reply.text, "reply_to": reply.reply_to, "invite_private": reply.invite_private,
        "public": reply.public, "quick_replies": [{name: getattr(q, name) for name in _QUICK_REPLY}
                                                  for q in reply.quick_replies],
        "attachments": [attachment_json(a) for a in reply.attachments], "meta": dict(reply.meta),
        **({"action": reply.action, "target": reply.target} if reply.action else {}),
    }


def outbound_from_row(row: Outbox) -> OutboundMessage:
    data = row.payload
    return OutboundMessage(
        channel=row.channel, conversation=row.conversation, text=data.get("text", ""), outbox_id=row.id,
        reply_to=data.get("reply_to"), invite_private=bool(data.get("invite_private")),
        public=bool(data.get("public")),
        quick_replies=tuple(QuickReply(**q) for q in data.get("quick_replies", ())),
        attachments=tuple(attachment_from_json(a) for a in data.get("attachments", ())), meta=data.get("meta", {}),
        action=data.get("action"), target=data.get("target"),
    )
