"""Session-level building blocks the engine and the inbox share: customers, conversations, messages, outbox.

Each function works inside the caller's transaction, so one decision commits (or not) as a whole.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, event, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, class_mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state

from core.models import (
    Attachment,
    AttachmentKind,
    Author,
    InboundMessage,
    utcnow,
)
from core.redaction import KINDS, marker, redact, scrub
from core.store.batch import MISSING, batch_of
from core.store.connections import connection_of
from core.store.tables import Conversation, Customer, Identity, Message, Outbox, Ticket
from core.tickets import ACTIVE

IDENTITIES, MESSAGES, OUTBOX = Identity.__table__, Message.__table__, Outbox.__table__
_SURROGATE = re.compile("[\ud800-\udfff]")
# Built once: the hot path binds values into ready statements (no statement building per message).
_FIND_IDENTITY = (
    select(IDENTITIES.c.id, IDENTITIES.c.customer_id, IDENTITIES.c.display_name, IDENTITIES.c.handle)
    .where(IDENTITIES.c.channel == bindparam("channel_"), IDENTITIES.c.platform_user_id == bindparam("user_")))
CONVERSATIONS = Conversation.__table__
_PLACE_COLUMNS = tuple(CONVERSATIONS.c[name] for name in (
    "id", "customer_id", "channel", "address", "public", "language", "state", "last_message_at"))
_FIND_CONVERSATION = select(*_PLACE_COLUMNS).where(
    CONVERSATIONS.c.channel == bindparam("channel_"), CONVERSATIONS.c.address == bindparam("address_"),
    CONVERSATIONS.c.customer_id == bindparam("customer_"))
_FIND_BOTH = (  # a returning customer writing in a known conversation: one query for both
    select(*_FIND_IDENTITY.selected_columns, *_PLACE_COLUMNS)
    .select_from(IDENTITIES.join(CONVERSATIONS, and_(
        CONVERSATIONS.c.customer_id == IDENTITIES.c.customer_id, CONVERSATIONS.c.channel == IDENTITIES.c.channel,
        CONVERSATIONS.c.address == bindparam("address_"))))
    .where(IDENTITIES.c.channel == bindparam("channel_"), IDENTITIES.c.platform_user_id == bindparam("user_")))
_INSERT_CONVERSATION = insert(CONVERSATIONS).returning(CONVERSATIONS.c.id)
_SAVE_PLACE = update(CONVERSATIONS).where(CONVERSATIONS.c.id == bindparam("id_"))
TICKETS = Ticket.__table__
_ACTIVE_TICKET = (select(TICKETS.c.id)
                  .where(TICKETS.c.conversation_id == bindparam("conversation_"), TICKETS.c.status.in_(ACTIVE))
                  .order_by(TICKETS.c.id.desc()).limit(1).with_for_update())  # an agent's concurrent close waits
_INSERT_INBOUND = {
    dialect: dialect_insert(MESSAGES).on_conflict_do_nothing(index_elements=["channel", "platform_id"])
    .returning(MESSAGES.c.id) for dialect, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


async def ensure_customer(session: AsyncSession, channel: str, author: Author) -> int:
    """The id of the customer behind a platform identity, created on first contact (race-safe)."""
    author = bounded(author)
    conn = await connection_of(session)
    params = {"channel_": channel, "user_": author.platform_user_id}
    found = (await conn.execute(_FIND_IDENTITY, params)).first()
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
                return customer.id
        except IntegrityError:
            found = (await conn.execute(_FIND_IDENTITY, params)).first()
            assert found is not None
    await _refresh_identity(conn, found, author)
    return int(found[1])


async def _refresh_identity(conn: AsyncConnection, found: Any, author: Author) -> None:
    """Keep the name and handle the platform shows now (people rename themselves)."""
    author = bounded(author)
    identity_id, _, display_name, handle = found[:4]
    changes = {}
    if author.display_name and display_name != author.display_name:
        changes["display_name"] = author.display_name
    if author.handle and handle != author.handle:
        changes["handle"] = author.handle
    if changes:
        await conn.execute(update(IDENTITIES).where(IDENTITIES.c.id == identity_id).values(**changes))


async def ensure_place(session: AsyncSession, channel: str, author: Author, address: str, *,
                       public: bool) -> Place:
    """The conversation a customer's message belongs to, creating customer and conversation on first contact."""
    conn = await connection_of(session)
    batch = batch_of(conn)
    found = batch.place(channel, author.platform_user_id, address) if batch is not None else MISSING
    if found is MISSING:
        found = (await conn.execute(_FIND_BOTH, {"channel_": channel, "user_": author.platform_user_id,
                                                 "address_": address})).first()
    if found is None:
        customer_id = await ensure_customer(session, channel, author)
        return await ensure_conversation(session, channel, address, customer_id, public=public)
    await _refresh_identity(conn, found, author)
    return _hold(session, found[4:])


@dataclass(slots=True, eq=False)
class Place:
    """A conversation as the engine holds it: read by one Core query, written back by one UPDATE.

    The ORM would load and flush a full object for every message; a Place registers itself on the
    session and a ``before_commit`` hook writes what changed (language, state, last message time),
    so no code path can forget to save it. An ORM ``Conversation`` works everywhere a Place does.
    """

    id: int
    customer_id: int
    channel: str
    address: str
    public: bool
    language: str | None
    state: dict[str, Any]
    last_message_at: datetime
    saved: tuple[Any, ...] = ()

    def changes(self) -> tuple[Any, ...]:
        return self.language, self.state, self.last_message_at


async def ensure_conversation(session: AsyncSession, channel: str, address: str, customer_id: int, *,
                              public: bool, language: str | None = None) -> Place:
    conn = await connection_of(session)
    params = {"channel_": channel, "address_": address, "customer_": customer_id}
    found = (await conn.execute(_FIND_CONVERSATION, params)).first()
    if found is None:
        now = utcnow()
        try:
            async with session.begin_nested():
                new_id = (await conn.execute(_INSERT_CONVERSATION, dict(
                    channel=channel, address=address, customer_id=customer_id, public=public, language=language,
                    state={}, created_at=now, last_message_at=now))).scalar_one()
                found = (new_id, customer_id, channel, address, public, language, {}, now)
        except IntegrityError:
            found = (await conn.execute(_FIND_CONVERSATION, params)).first()
            assert found is not None
    place = _hold(session, found)
    if language and place.language != language:
        place.language = language
    return place


def _hold(session: AsyncSession, row: Any) -> Place:
    """One Place per conversation and transaction: two messages of one conversation in a batch see each other's
    changes (a second read of it returns the one already held)."""
    places = session.info.setdefault("places", {})
    place = places.get(row[0])
    if place is None:
        place = places[row[0]] = Place(*row)
        place.saved = place.changes()
    return place


@event.listens_for(Session, "before_commit")
def _save_places(session: Session) -> None:
    """Runs inside the async session's greenlet, so the sync ``execute`` here is the async one underneath.

    Only for the outermost commit: releasing a savepoint (a race-safe insert) fires this hook too,
    and the places must stay registered for the changes made after it.
    """
    if session.in_nested_transaction():
        return
    changed = [place for place in session.info.pop("places", {}).values() if place.changes() != place.saved]
    if changed:  # one statement for all of them (a batch holds many)
        session.connection().execute(_SAVE_PLACE, [
            {"id_": place.id, "language": place.language, "state": place.state,
             "last_message_at": place.last_message_at} for place in changed])
        for place in changed:
            place.saved = place.changes()


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    data = asdict(attachment)
    data["kind"] = str(attachment.kind)
    return data


def attachment_from_json(data: dict[str, Any]) -> Attachment:
    return Attachment(**{**data, "kind": AttachmentKind(data.get("kind", "other"))})


async def insert_inbound(session: AsyncSession, conversation: Place | Conversation, message: InboundMessage, *,
                         author_kind: str = "customer", ticket_id: int | None = None,
                         handled: bool = False, decision: dict[str, Any] | None = None,
                         secrets: tuple[str, ...] | None = None) -> Message | None:
    """Store a customer's message once, in one statement; a redelivery (same channel + platform id) returns None.

    This is where inbound text enters the store, so secrets are removed here (core/redaction.py): from
    the text and from every string of the platform payload. A message the engine already redacted
    passes through unchanged (the markers are not secrets); ``secrets``: it did, and found these kinds.
    In a group commit (core/store/batch.py) the row is kept and inserted with the batch's others.
    """
    message, kinds = redacted(message) if secrets is None else (message, secrets)
    values: dict[str, Any] = dict(
        conversation_id=conversation.id, ticket_id=ticket_id, channel=message.channel,
        platform_id=message.platform_id, direction="in", author_kind=author_kind,
        author_name=message.author.display_name or (message.author.handle or message.author.platform_user_id),
        text=message.text, attachments=[attachment_json(a) for a in message.attachments],
        reply_to=message.reply_to, private_address=message.private_conversation, public=message.public,
        addressed=message.addressed, raw=_jsonable(message.raw), created_at=message.received_at,
        handled_at=utcnow() if handled else None, decision=decision, agent_id=None, edited_at=None,
        deleted_at=None, redacted=list(kinds) or None,
    )
    conn = await connection_of(session)
    batch = batch_of(conn)
    key = (message.channel, message.platform_id)
    if batch is not None and batch.valid and key in batch.checked:
        if key in batch.stored:
            return None
        batch.stored.add(key)
        new_id = await batch.keep(conn, "messages", values)
    else:
        new_id = (await conn.execute(_INSERT_INBOUND[conn.dialect.name], values)).scalar()
        if new_id is None:
            return None
    row = _attached(session, Message, {"id": new_id, **values})
    conversation.last_message_at = max(conversation.last_message_at, message.received_at)
    return row


def _attached(session: AsyncSession, cls: type[Any], values: dict[str, Any]) -> Any:
    """An ORM object for a row that is in the database (or kept to be inserted with a batch): later changes to it
    become UPDATEs. Filled as the ORM fills a loaded row, not attribute by attribute (a third of the cost)."""
    row = class_mapper(cls).class_manager.new_instance()
    instance_state(row).dict.update(values)
    make_transient_to_detached(row)
    session.add(row)
    return row


def storable(text: str) -> str:
    """Text every database keeps: no NUL (PostgreSQL refuses it) and no lone surrogates (not UTF-8)."""
    if "\x00" not in text and not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


def _storable_raw(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(k)): _storable_raw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable_raw(v) for v in value]
    return value


def bounded(author: Author) -> Author:
    """An author as the store keeps one: names and handles within their columns, text that can be stored."""
    name, handle = storable(author.display_name)[:256], storable(author.handle)[:256] if author.handle else None
    lang = author.language if author.language and len(author.language) <= 16 and author.language.isascii() else None
    if (name, handle, lang) == (author.display_name, author.handle, author.language):
        return author
    return replace(author, display_name=name, handle=handle, language=lang)


def redacted(message: InboundMessage) -> tuple[InboundMessage, tuple[str, ...]]:
    """The message as it may be stored (text any database keeps, bounded names), and the kinds of secrets taken
    out of it. Every channel's inbound text passes here, in the engine and again in `insert_inbound`."""
    text = storable(message.text)
    author = bounded(message.author)
    raw = message.raw if text is message.text else _storable_raw(message.raw)
    if text is not message.text or author is not message.author:
        message = replace(message, text=text, author=author, raw=raw)
    found = redact(message.text)
    already = tuple(kind for kind in KINDS if marker(kind) in message.text)
    if not found.found:
        return message, already
    clean = replace(message, text=found.text, raw=scrub(message.raw))
    return clean, tuple(dict.fromkeys(already + found.kinds))


async def find_message(session: AsyncSession, channel: str, platform_id: str) -> Message | None:
    return await session.scalar(
        select(Message).where(Message.channel == channel, Message.platform_id == platform_id))


async def stored_context(session: AsyncSession, target: Message, customer_id: int, address: str, *,
                         limit: int = 5, within: timedelta = timedelta(hours=24)) -> list[Message]:
    """What the customer said in the same place just before ``target`` (and the message it answered),
    oldest first: the context of an escalation on a platform that gives bots no history."""
    since = (target.created_at or utcnow()) - within
    mine = or_(Conversation.customer_id == customer_id, Message.platform_id == target.reply_to) \
        if target.reply_to else Conversation.customer_id == customer_id
    rows = await session.scalars(
        select(Message).join(Conversation, Message.conversation_id == Conversation.id)
        .where(Conversation.channel == target.channel, Conversation.address == address, Message.direction == "in",
               Message.id < target.id, Message.deleted_at.is_(None), Message.created_at >= since, mine)
        .order_by(Message.id.desc()).limit(limit))
    return list(reversed(rows.all()))


async def active_ticket(session: AsyncSession, conversation_id: int) -> Ticket | None:
    """The ticket a new customer message joins: the newest one not closed (solved ones reopen)."""
    conn = await connection_of(session)
    batch = batch_of(conn)
    ticket_id = batch.ticket(conversation_id) if batch is not None else MISSING
    if ticket_id is MISSING:
        ticket_id = (await conn.execute(_ACTIVE_TICKET, {"conversation_": conversation_id})).scalar()
    return None if ticket_id is None else await session.get(Ticket, ticket_id)  # locked by the query above


def _jsonable(value: Any) -> Any:
    """Platform payloads may hold non-JSON objects; keep what JSON can carry, stringify the rest."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
