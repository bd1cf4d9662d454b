"""The `channels.discord` block. Its own module, so helpers never import the adapter back for it."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator

from bots.base import ChannelSettings, needs_credentials


class GuildSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    moderator_roles: list[str | int] = Field(default_factory=list)  # role names or ids
    moderator_users: list[int] = Field(default_factory=list)


class DiscordSettings(ChannelSettings):
    token: SecretStr | None = None
    # Where discord.py sends REST calls, and the gateway it connects to (None: the URL GET /gateway/bot
    # answers, as discord.py does). For a proxy or a fake Discord; READY's resume_gateway_url is used as is.
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str | None = None
    guilds: dict[str, GuildSettings] = Field(default_factory=dict)  # guild id -> its moderators
    private_followup: Literal["dm", "thread"] = "dm"
    # Hand every member who joins a server to the impersonation check before they post. Discord tells a bot
    # about joins only with the privileged Server Members intent: enable it in the Developer Portal (Bot >
    # Privileged Gateway Intents) before turning this on. Off, posters are still checked when they write.
    watch_joins: bool = False
    shard_count: int | None = Field(default=None, ge=1)
    rate_per_second: float = 40.0  # messages sent per second (the dispatcher's pacing)
    # Every request bound by Discord's global limit (50/s per bot, all routes), sends and reads alike, is
    # spaced to stay under this. With several processes on one bot token, split it between them.
    requests_per_second: float = Field(default=45.0, gt=0)
    rate_per_conversation_per_second: float = 1.0
    # Which shards this process runs (scale-out: split 0..shard_count-1 across processes).
    shard_ids: list[int] | None = None
    # When X-RateLimit-Remaining reaches 0, discord.py may pause a send this long for the bucket to
    # reset (message buckets reset within ~5 s), which avoids the 429. Longer resets, and every 429,
    # go back to the dispatcher as RateLimited(retry_after): the outbox owns long waits.
    max_ratelimit_wait: float = Field(default=10.0, gt=0)
    send_timeout: float = Field(default=20.0, gt=0)  # beyond it a send is RetryLater (nonce dedupes)
    ready_timeout: float = Field(default=60.0, gt=0)
    guild_ready_timeout: float = Field(default=2.0, gt=0)  # quiet time after the last GUILD_CREATE
    transcript_limit: int = Field(default=200, ge=1, le=1000)
    # After every new gateway session (not after a RESUME, where Discord replays what was missed) the
    # channels seen lately are read back from where we stopped. Bounded: at most this many channels,
    # active within these days, and this many pages of 100 messages per channel per backfill.
    backfill_channels: int = Field(default=1000, ge=0, le=20000)  # 0: no backfill at all
    backfill_days: float = Field(default=14.0, gt=0)
    backfill_pages: int = Field(default=10, ge=1, le=100)

    @field_validator("api_base_url", "gateway_url")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        schemes = "https?" if info.field_name == "api_base_url" else "wss?"
        if value is not None and not re.match(rf"^({schemes})://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an absolute {schemes.rstrip('?')}(s):// URL")
        return value.rstrip("/") if value else value

    @field_validator("guilds", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # YAML reads unquoted snowflakes as ints; the keys are ids either way.
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _needs_credentials(self, info: ValidationInfo) -> DiscordSettings:
        if self.enabled and self.token is None and needs_credentials(info):
            raise ValueError("token is required when the channel is enabled (token: ${DISCORD_BOT_TOKEN})")
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("shard_ids needs shard_count")
            bad = [s for s in self.shard_ids if not 0 <= s < self.shard_count]
            if bad:
                raise ValueError(f"shard_ids {bad} are outside 0..{self.shard_count - 1}")
        return self

