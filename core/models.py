"""The one message vocabulary that crosses the adapter boundary.

Adapters build these from platform events and turn `OutboundMessage` back into platform calls.
Everything is frozen: a message is a fact that happened, not a buffer to edit. Platform detail
stays in ``raw`` (never compared, never shown in ``repr``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def utcnow() -> datetime:
    """Timezone-aware now; every timestamp in the product is UTC."""
    return datetime.now(UTC)


class AttachmentKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STICKER = "sticker"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the customer sent; ``ref`` is what the platform needs to fetch it again (file id or url)."""

    kind: AttachmentKind
    ref: str
    name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    url: str | None = None
    local_path: str | None = None  # set when the adapter downloaded a copy


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a message, as the platform knows them."""

    platform_user_id: str
    display_name: str = ""
    handle: str | None = None
    language: str | None = None  # a hint (Telegram language_code, Discord locale), not a decision
    is_moderator: bool = False
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's message, normalised.

    ``(channel, platform_id)`` is the identity: it dedupes redelivered events and stops echo loops.
    ``conversation`` is where a reply goes (chat id, DM channel, thread, tweet conversation).
    ``private_conversation`` is where a private follow-up may go when ``public`` is true
    (a DM address), or None when the platform cannot open one.
    """

    channel: str
    platform_id: str
    conversation: str
    author: Author
    text: str
    public: bool = False
    received_at: datetime = field(default_factory=utcnow)
    attachments: tuple[Attachment, ...] = ()
    reply_to: str | None = None
    private_conversation: str | None = None
    addressed: bool = True  # in a group: was the bot mentioned, replied to or commanded?
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.channel or not self.platform_id or not self.conversation:
            raise ValueError("channel, platform_id and conversation are required")
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Escalation:
    """A moderator pointing at someone else's message or thread: "this needs support".

    ``target`` is the customer's message (its author becomes the ticket's customer); ``context``
    holds earlier messages of the thread, oldest first, for the agent to read.
    """

    channel: str
    platform_id: str  # identity of the escalation event itself (command message / interaction id)
    moderator: Author
    target: InboundMessage
    note: str = ""
    context: tuple[InboundMessage, ...] = ()
    received_at: datetime = field(default_factory=utcnow)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    kind: str = "escalate"  # or "impersonator": the moderator reports the target's author as an impersonator


@dataclass(frozen=True, slots=True)
class QuickReply:
    """A button the customer can press; its ``payload`` comes back as the customer's choice."""

    label: str
    payload: str
    url: str | None = None  # a link button instead of a choice


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """What the core wants said, and where. Adapters render it; they never change what it says."""

    channel: str
    conversation: str
    text: str
    outbox_id: int | None = None  # identity of this delivery in the outbox
    reply_to: str | None = None  # platform message id to thread under
    quick_replies: tuple[QuickReply, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    invite_private: bool = False  # adapter adds its way to continue privately (deep link, DM)
    public: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # A moderation step instead of a message (``text`` then only describes it for the inbox):
    # "delete_message" (``target``: the platform id of a customer's public message that held a secret) or
    # "remove_member" (``target``: the platform user id of an impersonator, removed from ``conversation``).
    # An adapter whose platform does not let a bot do it raises Undeliverable, which the agent sees.
    action: str | None = None
    target: str | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """Proof of delivery: the platform's id for what was sent (stored for echo suppression)."""

    platform_id: str
    sent_at: datetime = field(default_factory=utcnow)
    # Only a public note reached the customer ("an answer is waiting"): the platform refused the private
    # reply. The reply stays owed and goes out privately as soon as the customer writes to us privately.
    public_note: bool = False


@dataclass(frozen=True, slots=True)
class MemberJoined:
    """Someone joined a public place (a group, a guild) the bot watches: their name is checked for
    impersonation before they post anything."""

    channel: str
    conversation: str  # the group / guild channel
    author: Author
    joined_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class MessageEdit:
    """A customer edited (or deleted, ``text is None``) a message the store already holds."""

    channel: str
    platform_id: str
    text: str | None
    edited_at: datetime = field(default_factory=utcnow)
    deleted: bool = False
