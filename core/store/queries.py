"""Inbox read queries: the filtered, searchable ticket list, a customer across channels, identity lookup.

The list pages by keyset (a cursor holding the last row's sort key), so page 500 costs what page 1
costs. Text search uses the trigram indexes of migration 0002: FTS5 on SQLite, pg_trgm on
PostgreSQL, both with case-insensitive substring semantics.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, and_, cast, func, or_, select, text
from sqlalchemy.orm import aliased

from core.errors import NotFound
from core.models import utcnow
from core.store import Store
from core.store.tables import Agent, Conversation, Customer, Identity, Message, Ticket
from core.tickets import PRIORITIES, STATUSES

SORTS = ("newest", "due", "activity")  # activity: the newest message first (the inbox default)
MAX_LIMIT = 200
MIN_INDEXED_QUERY = 3  # trigram indexes need three characters; shorter queries scan
SCAN_WINDOW = 2000  # newest tickets checked directly before a search falls back to the index
PREVIEW_LENGTH = 160


class InvalidQuery(ValueError):
    """A filter value or cursor the list cannot use (the API answers 422)."""


@dataclass(frozen=True, slots=True)
class TicketFilter:
    status: str | None = None  # one of STATUSES, "active" (open + pending), "snoozed" or None for all
    channel: str | None = None
    assignee: str | None = None  # "mine" | "unassigned" | an agent id | an agent name
    priority: str | None = None
    tag: str | None = None
    overdue: bool = False  # first response still owed and its due time passed
    q: str | None = None
    sort: str = "newest"

    def validate(self) -> TicketFilter:
        """Raise InvalidQuery for values the list cannot use (PostgreSQL also refuses NUL in text)."""
        for value in (self.channel, self.assignee, self.tag, self.q):
            if value is not None and "\x00" in value:
                raise InvalidQuery("text filters cannot contain NUL characters")
        if self.status not in (None, "active", "snoozed", *STATUSES):
            raise InvalidQuery(f"unknown status {self.status!r}")
        if self.priority not in (None, *PRIORITIES):
            raise InvalidQuery(f"unknown priority {self.priority!r}")
        if self.sort not in SORTS:
            raise InvalidQuery(f"unknown sort {self.sort!r}; expected newest, due or activity")
        if self.q is not None and len(self.q) > 200:
            raise InvalidQuery("search text is limited to 200 characters")
        return self


@dataclass(frozen=True, slots=True)
class TicketRow:
    id: int
    status: str
    priority: str
    channel: str
    subject: str
    customer_id: int
    customer: str
    assignee_id: int | None
    assignee: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    first_response_due: datetime | None
    first_responded_at: datetime | None
    snoozed_until: datetime | None = None
    last_activity_at: datetime | None = None
    last_customer_at: datetime | None = None  # the newest customer message (unread marker)
    last_agent_at: datetime | None = None
    preview: str = ""  # the start of the newest message
    preview_author: str | None = None  # its author_kind

    @property
    def overdue(self) -> bool:
        return (self.first_responded_at is None and self.first_response_due is not None
                and self.status in ("open", "pending") and self.first_response_due < utcnow())

    @property
    def waiting_since(self) -> datetime | None:
        """The customer wrote last and no agent answered since: they wait from then (open or pending only)."""
        if self.status not in ("open", "pending") or self.last_customer_at is None:
            return None
        if self.last_agent_at is not None and self.last_agent_at >= self.last_customer_at:
            return None
        return self.last_customer_at

    @property
    def snoozed(self) -> bool:
        return self.status == "pending" and self.snoozed_until is not None


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidQuery("malformed cursor") from None
    if not isinstance(values, list) or len(values) != 2 or not isinstance(values[1], int):
        raise InvalidQuery("malformed cursor")
    return values


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _indexed_search(dialect: str, q: str) -> Any:
    """Tickets whose subject or any message contains ``q``, found through the trigram indexes.

    Cheap when few rows match; a common term makes the index return (and the database collect)
    every match, which is what `_recent_search` avoids.
    """
    if dialect == "sqlite" and len(q) >= MIN_INDEXED_QUERY:
        phrase = '"' + q.replace('"', '""') + '"'
        ids = text("SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :fts_q UNION "
                   "SELECT m.ticket_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
                   "WHERE messages_fts MATCH :fts_q").bindparams(fts_q=phrase)
        return Ticket.id.in_(ids.columns(Ticket.id))
    pattern = _like(q)
    subjects = select(Ticket.id).where(Ticket.subject.ilike(pattern, escape="\\"))
    # the condition of PostgreSQL's partial trigram index (migration 0008): only messages with a ticket are indexed
    messages = select(Message.ticket_id).where(Message.ticket_id.is_not(None),
                                               Message.text.ilike(pattern, escape="\\"))
    return Ticket.id.in_(subjects.union(messages))


def _row_matches(q: str) -> Any:
    """The same test per ticket (subject, or one of its messages), for scanning a few recent tickets."""
    pattern = _like(q)
    return or_(Ticket.subject.ilike(pattern, escape="\\"),
               select(Message.id).where(Message.ticket_id == Ticket.id,
                                        Message.text.ilike(pattern, escape="\\")).exists())


def parse_id(raw: object) -> int | None:
    """A database id from user input: digits that fit a signed 64-bit column, else None (never a 500)."""
    text = str(raw).strip()  # ASCII digits only: "²".isdigit() is true, and "١" would be ticket 1
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _assignee_condition(value: str, me: int | None) -> Any:
    if value == "mine":
        if me is None:
            raise InvalidQuery("'mine' needs a signed-in agent")
        return Ticket.assignee_id == me
    if value == "unassigned":
        return Ticket.assignee_id.is_(None)
    if parse_id(value) is not None:
        return Ticket.assignee_id == parse_id(value)
    return Ticket.assignee_id.in_(select(Agent.id).where(Agent.name == value))


def _conditions(f: TicketFilter, me: int | None) -> list[Any]:
    """Every filter but the text search, on the tickets table alone."""
    conditions: list[Any] = []
    if f.status == "active":
        conditions.append(Ticket.status.in_(("open", "pending")))
    elif f.status == "snoozed":
        conditions.extend((Ticket.status == "pending", Ticket.snoozed_until.is_not(None)))
    elif f.status:
        conditions.append(Ticket.status == f.status)
    if f.channel:
        conditions.append(Ticket.channel == f.channel)
    if f.priority:
        conditions.append(Ticket.priority == f.priority)
    if f.assignee:
        conditions.append(_assignee_condition(f.assignee, me))
    if f.tag:
        # tags is a JSON list serialised by json.dumps; a quoted element is matched whole.
        tag = json.dumps(f.tag.strip().lower())
        conditions.append(cast(Ticket.tags, Text).like(_like(tag), escape="\\"))
    if f.overdue:
        conditions.extend((Ticket.first_responded_at.is_(None), Ticket.status.in_(("open", "pending")),
                           Ticket.first_response_due < utcnow()))
    return conditions


def _rows_select() -> Select[Any]:
    """Just the columns a list row shows, as plain tuples: loading full ORM tickets costs more than the query."""
    assignee = aliased(Agent)
    last = aliased(Message)  # the newest message, for the preview (kept by migration 0004's triggers)
    return (select(Ticket.id, Ticket.status, Ticket.priority, Ticket.channel, Ticket.subject, Ticket.customer_id,
                   Customer.display_name, Ticket.assignee_id, assignee.display_name, assignee.name, Ticket.tags,
                   Ticket.created_at, Ticket.updated_at, Ticket.first_response_due, Ticket.first_responded_at,
                   Ticket.snoozed_until, Ticket.last_activity_at, Ticket.last_customer_at, Ticket.last_agent_at,
                   func.substr(last.text, 1, PREVIEW_LENGTH), last.author_kind)
            .join(Customer, Customer.id == Ticket.customer_id)
            .outerjoin(assignee, assignee.id == Ticket.assignee_id)
            .outerjoin(last, last.id == Ticket.last_message_id))


def ticket_query(f: TicketFilter, *, dialect: str, me: int | None = None) -> Select[Any]:
    """Tickets with their customer's and assignee's names, filtered (text search is added by list_tickets)."""
    return _rows_select().where(*_conditions(f, me))


async def list_tickets(store: Store, f: TicketFilter, *, me: int | None = None, limit: int = 50,
                       cursor: str | None = None) -> tuple[list[TicketRow], str | None]:
    """One page of tickets and the cursor of the next page (None at the end).

    A search first scans the newest ``SCAN_WINDOW`` tickets that pass the other filters (in page
    order): when a page fills there, it is exactly the page the index would give, and a common
    word costs a few thousand substring checks instead of collecting every match. Otherwise the
    trigram indexes answer (rare words: few matches, fast).
    """
    f.validate()
    limit = max(1, min(int(limit), MAX_LIMIT))
    stmt = _ordered(ticket_query(f, dialect=store.dialect, me=me), f, cursor)
    q = (f.q or "").strip()
    async with store.sessions() as session:
        if q:
            if store.dialect == "postgresql":
                # A cached generic plan cannot see how common the word is and picks a slow join: plan each time.
                await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            candidates = _ordered(select(Ticket.id).where(*_conditions(f, me)), f, cursor).limit(SCAN_WINDOW)
            recent = stmt.where(Ticket.id.in_(candidates), _row_matches(q)).limit(limit + 1)
            rows = (await session.execute(recent)).all()
            if len(rows) <= limit:
                rows = (await session.execute(stmt.where(_indexed_search(store.dialect, q)).limit(limit + 1))).all()
        else:
            rows = (await session.execute(stmt.limit(limit + 1))).all()
    tickets = [_row(r) for r in rows[:limit]]
    if len(rows) <= limit or not tickets:
        return tickets, None
    last = tickets[-1]
    key = None
    if f.sort == "due" and last.first_response_due:
        key = last.first_response_due.isoformat()
    elif f.sort == "activity" and last.last_activity_at:
        key = last.last_activity_at.isoformat()
    return tickets, encode_cursor([key, last.id])


def _cursor_time(raw: object) -> datetime:
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError:
        raise InvalidQuery("malformed cursor") from None
    if when.tzinfo is None:
        raise InvalidQuery("malformed cursor")
    return when


def _ordered(stmt: Select[Any], f: TicketFilter, cursor: str | None) -> Select[Any]:
    if f.sort == "due":
        stmt = stmt.where(Ticket.first_response_due.is_not(None)).order_by(Ticket.first_response_due, Ticket.id)
        if cursor:
            due_text, last_id = decode_cursor(cursor)
            due = _cursor_time(due_text)
            stmt = stmt.where(or_(Ticket.first_response_due > due,
                                  and_(Ticket.first_response_due == due, Ticket.id > last_id)))
        return stmt
    if f.sort == "activity":
        stmt = stmt.order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        if cursor:
            at_text, last_id = decode_cursor(cursor)
            at = _cursor_time(at_text)
            stmt = stmt.where(or_(Ticket.last_activity_at < at,
                                  and_(Ticket.last_activity_at == at, Ticket.id < last_id)))
        return stmt
    stmt = stmt.order_by(Ticket.id.desc())
    if cursor:
        _, last_id = decode_cursor(cursor)
        stmt = stmt.where(Ticket.id < last_id)
    return stmt


def _row(r: Any) -> TicketRow:
    (tid, status, priority, channel, subject, customer_id, customer, assignee_id, assignee_display, assignee_name,
     tags, created_at, updated_at, due, responded, snoozed, activity, customer_at, agent_at, preview,
     preview_author) = r
    return TicketRow(tid, status, priority, channel, subject, customer_id, customer or "", assignee_id,
                     (assignee_display or assignee_name) if assignee_id else None, list(tags or []), created_at,
                     updated_at, due, responded, snoozed, activity, customer_at, agent_at,
                     " ".join((preview or "").split()), preview_author)


async def ticket_row(store: Store, ticket_id: int) -> TicketRow:
    async with store.sessions() as session:
        found = (await session.execute(_rows_select().where(Ticket.id == ticket_id))).first()
    if found is None:
        raise NotFound(f"ticket #{ticket_id} does not exist")
    return _row(found)


@dataclass(frozen=True, slots=True)
class CustomerView:
    customer: Customer
    identities: list[Identity]
    conversations: list[Conversation]
    tickets: list[TicketRow]


async def customer_view(store: Store, customer_id: int) -> CustomerView:
    """One customer across channels: every identity, conversation and ticket."""
    async with store.sessions() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} does not exist")
        identities = list((await session.scalars(select(Identity).where(Identity.customer_id == customer_id)
                                                  .order_by(Identity.id))).all())
        conversations = list((await session.scalars(
            select(Conversation).where(Conversation.customer_id == customer_id)
            .order_by(Conversation.last_message_at.desc()))).all())
    tickets = await customer_tickets(store, customer_id)
    return CustomerView(customer, identities, conversations, tickets)


async def customer_tickets(store: Store, customer_id: int, *, exclude: int | None = None,
                           limit: int = 100) -> list[TicketRow]:
    stmt = _rows_select().where(Ticket.customer_id == customer_id).order_by(Ticket.id.desc()).limit(limit)
    if exclude is not None:
        stmt = stmt.where(Ticket.id != exclude)
    async with store.sessions() as session:
        rows = (await session.execute(stmt)).all()
    return [_row(r) for r in rows]


async def find_identities(store: Store, q: str, *, limit: int = 20) -> list[Identity]:
    """Identities whose handle, display name or platform user id contains ``q`` (to link by hand)."""
    q = q.strip()
    if not q:
        return []
    pattern = _like(q)
    stmt = (select(Identity).where(or_(Identity.handle.ilike(pattern, escape="\\"),
                                       Identity.display_name.ilike(pattern, escape="\\"),
                                       Identity.platform_user_id.ilike(pattern, escape="\\")))
            .order_by(Identity.id.desc()).limit(limit))
    return await store.all(stmt)
