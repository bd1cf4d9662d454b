"""The `channels.x` block. Its own module, so helpers never import the adapter back for it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, model_validator

from bots.base import ChannelSettings, needs_credentials


class XSettings(ChannelSettings):
    bearer_token: SecretStr | None = None
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_path: str = "/webhooks/x"
    api_base_url: str = "https://api.x.com"
    poll_interval: float = Field(default=60.0, gt=0)  # the fastest polling; rate headers may slow it
    escalate_keyword: str = "#escalate"
    moderators: list[str] = Field(default_factory=list)  # handles (without @) or user ids
    max_post_length: int = Field(default=280, ge=120)
    # where a customer who does not accept DMs from the account can write instead (the website chat);
    # default: <web.public_url>/chat when public_url is set
    contact_url: str | None = None
    escalation_context: int = Field(default=5, ge=0, le=20)  # posts above the target given to agents
    backfill: bool = False  # first start: hand over history the API still has instead of starting now
    rate_per_second: float = 1.0
    rate_per_conversation_per_second: float = 0.5

    @model_validator(mode="after")
    def _needs_credentials(self, info: ValidationInfo) -> XSettings:
        if self.enabled and needs_credentials(info):
            missing = [
                k
                for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
                if getattr(self, k) is None
            ]
            if missing:
                raise ValueError("required when the channel is enabled: " + ", ".join(missing))
        return self
