"""Discord through discord.py (gateway for events, REST for sends)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from bots.base import ChannelSettings


class GuildSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    moderator_roles: list[str | int] = Field(default_factory=list)  # role names or ids
    moderator_users: list[int] = Field(default_factory=list)


class DiscordSettings(ChannelSettings):
    token: SecretStr | None = None
    guilds: dict[str, GuildSettings] = Field(default_factory=dict)  # guild id -> its moderators
    private_followup: Literal["dm", "thread"] = "dm"
    shard_count: int | None = Field(default=None, ge=1)
    rate_per_second: float = 40.0
    rate_per_conversation_per_second: float = 1.0

    @model_validator(mode="after")
    def _needs_credentials(self) -> DiscordSettings:
        if self.enabled and self.token is None:
            raise ValueError("token is required when the channel is enabled (token: ${DISCORD_BOT_TOKEN})")
        return self
