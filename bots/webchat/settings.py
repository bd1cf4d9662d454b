"""The `channels.webchat` block."""

from __future__ import annotations

from pydantic import Field

from bots.base import ChannelSettings


class WebchatSettings(ChannelSettings):
    enabled: bool = True
    max_message_length: int = Field(default=4000, gt=0)
    allowed_origins: list[str] = Field(default_factory=list)  # empty: same origin only
    rate_per_second: float = 1000.0
    rate_per_conversation_per_second: float = 50.0
    # Inbound: a visitor may send this many messages at once, refilled over a minute; more get an error frame.
    visitor_messages_per_minute: int = Field(default=30, gt=0)
    # Per client address (one network): new visitors it may bring per minute, and chats it may hold open.
    new_visitors_per_address_per_minute: int = Field(default=20, gt=0)
    sockets_per_address: int = Field(default=50, gt=0)
