"""Telegram through python-telegram-bot (polling or webhook on the shared aiohttp app)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from bots.base import ChannelSettings


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

    @model_validator(mode="after")
    def _needs_credentials(self) -> TelegramSettings:
        if self.enabled and self.token is None:
            raise ValueError("token is required when the channel is enabled (token: ${TELEGRAM_BOT_TOKEN})")
        if self.enabled and self.mode == "webhook" and self.webhook_secret is None:
            raise ValueError("webhook_secret is required in webhook mode")
        return self
