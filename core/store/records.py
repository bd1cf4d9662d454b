"""Session-level building blocks the engine and the inbox share: customers, conversations, messages, outbox.

Each function works inside the caller's transaction, so one decision commits (or not) as a whole.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from core.models import (
    Attachment,
    AttachmentKind,
    Author,
    InboundMessage,
    OutboundMessage,
    QuickReply,
    utcnow,
)
from core.store.tables import Conversation, Customer, Identity, Message, Outbox, Ticket
from core.tickets import ACTIVE


async def ensure_customer(session: AsyncSession, channel: str, author: Author) -> Customer:
    """The customer behind a platform identity, created on first contact (race-safe)."""
    stmt = (select(Identity, Customer).join(Customer, Customer.id == Identity.customer_id)
            .where(Identity.channel == channel, Identity.platform_user_id == author.platform_user_id))
    found = (await session.execute(stmt)).first()
    if found is None:
        try:
            async with session.begin_nested():
                customer = Customer(display_name=author.display_name or (author.handle or ""),
                                    language=author.language)
                session.add(customer)
                await session.flush()
                session.add(Identity(customer_id=customer.id, channel=channel,
                                     platform_user_id=author.platform_user_id, handle=author.handle,
                                     display_name=author.display_name, language=author.language))
                await session.flush()
                return customer
        except IntegrityError:
            found = (await session.execute(stmt)).first()
            assert found is not None
    identity, customer = found
    if author.display_name and identity.display_name != author.display_name:
        identity.display_name = author.display_name
    if author.handle and identity.handle != author.handle:
        identity.handle = author.handle
    return customer


async def ensure_conversation(session: AsyncSession, channel: str, address: str, customer: Customer, *,
                              public: bool, language: str | None = None) -> Conversation:
    stmt = select(Conversation).where(Conversation.channel == channel, Conversation.address == address,
                                      Conversation.customer_id == customer.id)
    conversation = await session.scalar(stmt)
    if conversation is None:
        try:
            async with session.begin_nested():
                conversation = Conversation(channel=channel, address=address, customer_id=customer.id,
                                            public=public, language=language, state={})
                session.add(conversation)
                await session.flush()
        except IntegrityError:
            conversation = await session.scalar(stmt)
            assert conversation is not None
    if language and conversation.language != language:
        conversation.language = language
    return conversation


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    data = asdict(attachment)
    data["kind"] = str(attachment.kind)
    return data


def attachment_from_json(data: dict[str, Any]) -> Attachment:
    return Attachment(**{**data, "kind": AttachmentKind(data.get("kind", "other"))})


async def insert_inbound(session: AsyncSession, conversation: Conversation, message: InboundMessage, *,
                         author_kind: str = "customer", ticket_id: int | None = None,
                         handled: bool = False, decision: dict[str, Any] | None = None) -> Message | None:
    """Store a customer's message once, in one statement; a redelivery (same channel + platform id) returns None."""
    values: dict[str, Any] = dict(
        conversation_id=conversation.id, ticket_id=ticket_id, channel=message.channel,
        platform_id=message.platform_id, direction="in", author_kind=author_kind,
        author_name=message.author.display_name or (message.author.handle or message.author.platform_user_id),
        text=message.text, attachments=[attachment_json(a) for a in message.attachments],
        reply_to=message.reply_to, private_address=message.private_conversation, public=message.public,
        addressed=message.addressed, raw=_jsonable(message.raw), created_at=message.received_at,
        handled_at=utcnow() if handled else None, decision=decision, agent_id=None, edited_at=None,
        deleted_at=None,
    )
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = (insert(Message).values(**values)
                 .on_conflict_do_nothing(index_elements=["channel", "platform_id"]).returning(Message.id))
    new_id = await session.scalar(statement)
    if new_id is None:
        return None
    row = Message(id=new_id, **values)
    make_transient_to_detached(row)  # it is in the database now: later changes become UPDATEs
    session.add(row)
    conversation.last_message_at = max(conversation.last_message_at, message.received_at)
    return row


async def find_message(session: AsyncSession, channel: str, platform_id: str) -> Message | None:
    return await session.scalar(
        select(Message).where(Message.channel == channel, Message.platform_id == platform_id))


async def active_ticket(session: AsyncSession, conversation_id: int) -> Ticket | None:
    """The ticket a new customer message joins: the newest one not closed (solved ones reopen)."""
    return await session.scalar(
        select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.status.in_(ACTIVE))
        .order_by(Ticket.id.desc()).limit(1).with_for_update())  # an agent's concurrent close waits, or wins


async def queue_reply(session: AsyncSession, conversation: Conversation, text: str, *, author_kind: str,
                      ticket_id: int | None = None, agent_id: int | None = None, author_name: str = "",
                      reply_to: str | None = None, quick_replies: tuple[QuickReply, ...] = (),
                      invite_private: bool = False, public: bool | None = None,
                      decision: dict[str, Any] | None = None) -> tuple[Message, Outbox]:
    """Write a reply and its delivery row in the caller's transaction: persisted before anything sends."""
    now = utcnow()
    is_public = conversation.public if public is None else public
    conversation.last_message_at = now  # set before the flush below: one UPDATE, not two
    message = Message(conversation_id=conversation.id, ticket_id=ticket_id, channel=conversation.channel,
                      direction="out", author_kind=author_kind, agent_id=agent_id, author_name=author_name,
                      text=text, reply_to=reply_to, public=is_public, decision=decision, created_at=now,
                      handled_at=now)
    session.add(message)
    await session.flush()
    outbound = OutboundMessage(channel=conversation.channel, conversation=conversation.address, text=text,
                               reply_to=reply_to, quick_replies=quick_replies, invite_private=invite_private,
                               public=is_public, meta=_reply_meta(message, ticket_id))
    outbox = Outbox(message_id=message.id, channel=conversation.channel, conversation=conversation.address,
                    payload=outbound_to_json(outbound), status="queued", next_attempt_at=now, created_at=now)
    session.add(outbox)
    await session.flush()
    return message, outbox


def _reply_meta(message: Message, ticket_id: int | None) -> dict[str, Any]:
    """What a channel may show besides the text: who wrote it and the stored message id (the website chat's key)."""
    meta: dict[str, Any] = {"author": message.author_kind, "message_id": message.id,
                            "at": message.created_at.isoformat()}
    if ticket_id is not None:
        meta["ticket_id"] = ticket_id
    return meta


def add_note(session: AsyncSession, conversation_id: int, ticket_id: int, text: str, *, channel: str,
             author_kind: str = "note", agent_id: int | None = None, author_name: str = "",
             platform_id: str | None = None) -> Message:
    """An internal note: stored on the ticket, never queued, never sent."""
    note = Message(conversation_id=conversation_id, ticket_id=ticket_id, channel=channel, platform_id=platform_id,
                   direction="note", author_kind=author_kind, agent_id=agent_id, author_name=author_name,
                   text=text, created_at=utcnow(), handled_at=utcnow())
    session.add(note)
    return note


def outbound_to_json(reply: OutboundMessage) -> dict[str, Any]:
    return {
        "text": reply.text, "reply_to": reply.reply_to, "invite_private": reply.invite_private,
        "public": reply.public, "quick_replies": [asdict(q) for q in reply.quick_replies],
        "attachments": [attachment_json(a) for a in reply.attachments], "meta": dict(reply.meta),
    }


def outbound_from_row(row: Outbox) -> OutboundMessage:
    data = row.payload
    return OutboundMessage(
        channel=row.channel, conversation=row.conversation, text=data.get("text", ""), outbox_id=row.id,
        reply_to=data.get("reply_to"), invite_private=bool(data.get("invite_private")),
        public=bool(data.get("public")),
        quick_replies=tuple(QuickReply(**q) for q in data.get("quick_replies", ())),
        attachments=tuple(attachment_from_json(a) for a in data.get("attachments", ())), meta=data.get("meta", {}),
    )


def _jsonable(value: Any) -> Any:
    """Platform payloads may hold non-JSON objects; keep what JSON can carry, stringify the rest."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
