"""The channels.yaml of every fault test, from one header and one block per platform.

What matters to a fault test (quick retries, rates that do or do not pace) is written once here, so a
platform's block cannot drift between the test that kills the receiver and the one that kills the sender.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x_api import FakeX
from tests.process import SupportbotProcess, free_port

WEBCHAT_OFF = "  webchat:\n    enabled: false\n"
# Fault tests that count messages, not pacing: the platform's limits out of the way (the fakes do not enforce
# them unless asked). Tests about pacing leave the defaults, the platforms' real limits.
UNPACED = "    rate_per_second: 1000\n    rate_per_conversation_per_second: 100\n"


def config(channels: str = "", *, database_url: str | None = None, public_url: str | None = None,
           poll_interval: float = 0.2, max_backoff: float = 2) -> str:
    """A deployment that retries within a second or two and looks for due replies often."""
    lines = [f"database_url: {database_url}"] if database_url else []
    lines += ["web:", "  host: 127.0.0.1"]
    lines += [f"  public_url: {public_url}"] if public_url else []
    lines += ["dispatch:", "  base_backoff_seconds: 0.2", f"  max_backoff_seconds: {max_backoff:g}",
              f"  poll_interval_seconds: {poll_interval:g}"]
    text = "\n".join(lines) + "\n"
    return text + "channels:\n" + channels if channels else text


def telegram(api: str, mode: str = "polling", *, unpaced: bool = False) -> str:
    """The Telegram block; token and webhook secret from the environment (:func:`telegram_env`)."""
    return ("  telegram:\n    enabled: true\n    token: ${TELEGRAM_BOT_TOKEN}\n"
            "    webhook_secret: ${TELEGRAM_WEBHOOK_SECRET}\n"
            f"    api_base_url: {api}\n    mode: {mode}\n    poll_timeout_seconds: 10\n") + (UNPACED if unpaced else "")


def telegram_env(token: str, secret: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_WEBHOOK_SECRET": secret}


def telegram_deployment(supportbot: Callable[..., SupportbotProcess], secret: str, *,
                        unpaced: bool = False) -> Callable[..., SupportbotProcess]:
    """``deploy(fake, mode="polling")`` for the ``supportbot`` fixture: one process on the fake Bot API, by
    polling or by webhook (then on a port known beforehand, for the public URL)."""
    def deploy(fake: FakeTelegram, mode: str = "polling") -> SupportbotProcess:
        port = free_port()
        public_url = f"http://127.0.0.1:{port}" if mode == "webhook" else None
        yaml = config(telegram(fake.api_base_url, mode, unpaced=unpaced), public_url=public_url)
        return supportbot(yaml, telegram_env(fake.token, secret), port=port)

    return deploy


def discord(api: str, *, gateway_url: str | None = None, unpaced: bool = False) -> str:
    """The Discord block (website chat off); the token from ``DISCORD_BOT_TOKEN``."""
    gateway = f"    gateway_url: {gateway_url}\n" if gateway_url else ""
    return (WEBCHAT_OFF + "  discord:\n    enabled: true\n    token: ${DISCORD_BOT_TOKEN}\n"
            f"    api_base_url: {api}\n{gateway}    guild_ready_timeout: 0.2\n") + (UNPACED if unpaced else "")


def x(api: str, *, rate: float | None = None) -> str:
    """The X block (website chat off), polling every 0.2 s; ``rate`` per second on the channel and each
    conversation, or unpaced; credentials from the environment (:func:`x_env`)."""
    pace = f"    rate_per_second: {rate:g}\n    rate_per_conversation_per_second: {rate:g}\n" if rate else UNPACED
    return (WEBCHAT_OFF + "  x:\n    enabled: true\n"
            "    consumer_key: ${X_CONSUMER_KEY}\n    consumer_secret: ${X_CONSUMER_SECRET}\n"
            "    access_token: ${X_ACCESS_TOKEN}\n    access_token_secret: ${X_ACCESS_TOKEN_SECRET}\n"
            f"    api_base_url: {api}\n    poll_interval: 0.2\n") + pace


def x_env(api: FakeX) -> dict[str, str]:
    c = api.creds
    return {"X_CONSUMER_KEY": c.consumer_key, "X_CONSUMER_SECRET": c.consumer_secret,
            "X_ACCESS_TOKEN": c.access_token, "X_ACCESS_TOKEN_SECRET": c.access_token_secret}
