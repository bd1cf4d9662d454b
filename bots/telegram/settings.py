"""The `channels.telegram` block. Its own module, so helpers never import the adapter back for it."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, model_validator

from bots.base import ChannelSettings, needs_credentials


class TelegramSettings(ChannelSettings):
    token: SecretStr | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/webhooks/telegram"
    api_base_url: str = "https://api.telegram.org"
    moderators: list[int] = Field(default_factory=list)
    max_download_bytes: int = Field(default=20 * 1024 * 1024, ge=0)
    rate_per_second: float = 30.0
    rate_per_conversation_per_second: float = 1.0
    group_messages_per_minute: int = 20
    moderator_cache_seconds: float = Field(default=300.0, ge=0)
    poll_timeout_seconds: int = Field(default=30, ge=0, le=50)
    # How long a Bot API call may take to be written and answered. PTB's 5 s default gave up on
    # messages Telegram had accepted but answered slowly, and the retry sent them twice.
    send_timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    @model_validator(mode="after")
    def _needs_credentials(self, info: ValidationInfo) -> TelegramSettings:
        if self.enabled and self.token is None and needs_credentials(info):
            raise ValueError("token is required when the channel is enabled (token: ${TELEGRAM_BOT_TOKEN})")
        if self.enabled and self.mode == "webhook" and self.webhook_secret is None and needs_credentials(info):
            raise ValueError("webhook_secret is required in webhook mode")
        if self.webhook_secret is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", self.webhook_secret.get_secret_value()
        ):
            raise ValueError("webhook_secret must be 1-256 characters of A-Z a-z 0-9 _ -")
        return self
