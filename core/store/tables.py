"""The database schema. One table per domain word; every change goes through an Alembic migration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.models import utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Always timezone-aware UTC in Python; SQLite forgets the zone, so it is restored on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use core.models.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


# BIGINT primary keys on PostgreSQL, INTEGER (rowid alias) on SQLite.
PK = BigInteger().with_variant(Integer(), "sqlite")


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="agent")  # agent | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # online | busy | away, set by the agent; auto-assignment picks only online agents (core/assignment.py)
    availability: Mapped[str] = mapped_column(String(8), default="online", server_default="online")
    seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(256), default="")
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identity(Base):
    """One customer's account on one channel; several identities may point at one customer."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "platform_user_id", name="uq_identity"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    handle: Mapped[str | None] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(256), default="")
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """Where replies go for one customer: a DM, a group chat, a thread, a post."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "address", "customer_id", name="uq_conversation"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(256))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)  # multi-turn flow state lives here, not in memory
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Retention (core/retention.py): this conversation's figures up to this UTC day are in stats_days, not
    # counted from its messages (migration 0009); only housekeeping writes it.
    counted_through: Mapped[date | None] = mapped_column(Date)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_created", "status", "created_at"),
                      Index("ix_tickets_status_activity", "status", "last_activity_at", "id"))
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    subject: Mapped[str] = mapped_column(String(256), default="")
    reason: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="customer")  # customer | escalation | agent
    language: Mapped[str | None] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    first_response_due: Mapped[datetime | None]
    first_responded_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # What the bot collected before a person took over (transaction_id, amount, time, error, country).
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1-5, asked when the ticket is solved
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    solved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None] = mapped_column(index=True)  # pending until then, then open again
    # Kept by database triggers on messages (migration 0004), so every writer keeps them right:
    last_activity_at: Mapped[datetime | None] = mapped_column(default=utcnow)  # newest message (list order)
    last_message_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))  # preview
    last_customer_at: Mapped[datetime | None]  # newest customer message (unread marker, waiting time)
    last_agent_at: Mapped[datetime | None]  # newest agent reply


class Message(Base):
    """Every message in or out. ``(channel, platform_id)`` is unique: redeliveries and echoes collide here."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "platform_id", name="uq_message_platform_id"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        # what retention may prune, oldest first (migration 0009): messages without a ticket
        Index("ix_messages_unticketed_created", "created_at", sqlite_where=text("ticket_id IS NULL"),
              postgresql_where=text("ticket_id IS NULL")),
    )
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str | None] = mapped_column(String(256))
    direction: Mapped[str] = mapped_column(String(8))  # in | out | note
    author_kind: Mapped[str] = mapped_column(String(16))  # customer | bot | agent | note | moderator
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    author_name: Mapped[str] = mapped_column(String(256), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    reply_to: Mapped[str | None] = mapped_column(String(256))
    private_address: Mapped[str | None] = mapped_column(String(256))  # where a private follow-up may go
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    addressed: Mapped[bool] = mapped_column(Boolean, default=True)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    redacted: Mapped[list[Any] | None] = mapped_column(JSON)  # kinds of secrets removed before storing (core/redaction)
    # Part of the story before a person was asked (joined to the ticket at the handoff), shown as such.
    before_handoff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    feedback: Mapped[str | None] = mapped_column(String(16))  # a bot answer the customer marked helpful|unhelpful
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]  # inbound: triage done; None after a crash -> recovered on start
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class StatsDay(Base):
    """The conversation figures of one UTC day and channel whose messages retention pruned (core/retention.py);
    the statistics read these for the conversations counted here and the messages for the rest."""

    __tablename__ = "stats_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversations: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)  # answered by the bot, no ticket that day
    deflected: Mapped[int] = mapped_column(Integer, default=0)


class Outbox(Base):
    """One delivery to make. Written in the same transaction as its message; the dispatcher empties it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_conversation", "channel", "conversation", "id"),
        # the undelivered rows of a conversation (migration 0007): "is an older reply still undelivered?"
        Index("ix_outbox_pending", "channel", "conversation", "id",
              sqlite_where=text("status IN ('queued', 'failed', 'sending')"),
              postgresql_where=text("status IN ('queued', 'failed', 'sending')")),
    )
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    conversation: Mapped[str] = mapped_column(String(256))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|sending|sent|failed|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(32))  # the instance sending it (core/instances.py)
    # A send may have reached the platform twice: taken over from a dead instance mid-send, or a
    # timeout after the request was written. Shown as "may have been sent twice".
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Refused in private, announced in public: owed to the customer once they write privately.
    noted_publicly: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Instance(Base):
    """A running supportbot process. Outbox leases name it; its heartbeat says it still lives."""

    __tablename__ = "instances"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16), default="all")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TicketEvent(Base):
    """The ticket's activity log: every status, priority, assignee, tag, merge and edit change."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128), default="system")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cursor(Base):
    """Where a polling channel stopped reading (e.g. X since_id), so a restart neither misses nor repeats."""

    __tablename__ = "cursors"
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Delivery state (a thread's progress, a button's payload) is pruned after this; read positions never.
    expires_at: Mapped[datetime | None] = mapped_column(index=True)


class Preference(Base):
    """A setting an admin changed on /settings (business hours, SLA, auto-assignment); channels.yaml keeps the
    secrets and the defaults, a row here overrides one section of it."""

    __tablename__ = "preferences"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeVersion(Base):
    """The knowledge base as edited on /knowledge: one shared draft and the published versions (the newest rules).

    ``content`` is the YAML document's data (entries, messages, synonyms, not_covered); the configured
    file is the seed until the first publication. ``scores`` holds the evaluation set's figures.
    """

    __tablename__ = "knowledge_versions"
    __table_args__ = (Index("ix_knowledge_versions_state", "state", "id"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # draft | published
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    based_on: Mapped[int | None] = mapped_column(Integer)  # the published version a draft started from
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]


class TicketRead(Base):
    """When an agent last looked at a ticket: newer customer messages make it unread for them."""

    __tablename__ = "ticket_reads"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedResponse(Base):
    """A saved reply agents insert with ``/``: personal (``owner_id``) or shared with everyone (no owner)."""

    __tablename__ = "canned_responses"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    shortcut: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentFile(Base):
    """A file an agent attached to a reply: kept under the data folder, found by an unguessable token."""

    __tablename__ = "agent_files"
    id: Mapped[int] = mapped_column(PK, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # image | document
    size: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(String(512))  # relative to the data folder
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
