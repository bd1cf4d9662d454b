"""The website chat: a WebSocket at /chat/ws served by the shared aiohttp app."""

from __future__ import annotations

from pydantic import Field

from bots.base import ChannelSettings


class WebchatSettings(ChannelSettings):
    enabled: bool = True
    max_message_length: int = Field(default=4000, gt=0)
    allowed_origins: list[str] = Field(default_factory=list)  # empty: same origin only
    rate_per_second: float = 1000.0
    rate_per_conversation_per_second: float = 50.0
