"""The defaults README.md states are the ones the code has: each case names the README's own words (which must still
be there) and the setting they describe. A default changed on one side only fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bots.discord.settings import DiscordSettings
from bots.telegram.settings import TelegramSettings
from bots.webchat.settings import WebchatSettings
from bots.x.settings import XSettings
from core.config import Settings, load_settings
from core.flood import Flood, FloodGate

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
FLAT = " ".join(README.split())  # sentences wrap across lines

DEFAULTS: list[tuple[str, Any, str, Any]] = [
    # (README words, settings object, field, value they promise)
    ("`visitor_messages_per_minute` (30)", WebchatSettings(), "visitor_messages_per_minute", 30),
    ("`new_visitors_per_address_per_minute` (20)", WebchatSettings(), "new_visitors_per_address_per_minute", 20),
    ("`sockets_per_address` (50)", WebchatSettings(), "sockets_per_address", 50),
    ("`mode: polling` (default", TelegramSettings(), "mode", "polling"),
    ("`public_url + webhook_path` (default `/webhooks/telegram`)", TelegramSettings(), "webhook_path",
     "/webhooks/telegram"),
    ("`max_download_bytes` (default 20 MiB)", TelegramSettings(), "max_download_bytes", 20 * 1024 * 1024),
    ("`rate_per_second` (30)", TelegramSettings(), "rate_per_second", 30),
    ("`rate_per_conversation_per_second` (1)", TelegramSettings(), "rate_per_conversation_per_second", 1),
    ("`group_messages_per_minute` (20)", TelegramSettings(), "group_messages_per_minute", 20),
    ("`send_timeout_seconds` (30:", TelegramSettings(), "send_timeout_seconds", 30),
    ("`api_base_url` (default `https://discord.com/api/v10`", DiscordSettings(), "api_base_url",
     "https://discord.com/api/v10"),
    ("`backfill_days` (14;", DiscordSettings(), "backfill_days", 14),
    ("`backfill_channels`, 1000 per shard", DiscordSettings(), "backfill_channels", 1000),
    ("**Polling** (default)", XSettings(), "mode", "polling"),
    ("`public_url + webhook_path` (default `/webhooks/x`)", XSettings(), "webhook_path", "/webhooks/x"),
    ("history is skipped unless `backfill: true`", XSettings(), "backfill", False),
    ("(SQLite `sqlite+aiosqlite:///supportbot.db` by default", Settings(), "database_url",
     "sqlite+aiosqlite:///supportbot.db"),
]
CHANNEL_BLOCKS = (WebchatSettings, TelegramSettings, DiscordSettings, XSettings)


@pytest.mark.parametrize(("words", "settings", "field", "value"), DEFAULTS, ids=[d[2] for d in DEFAULTS])
def test_a_default_the_readme_states_is_the_codes(words: str, settings: Any, field: str, value: Any) -> None:
    assert words in FLAT, f"README no longer says {words!r}: update this test with it"
    assert getattr(settings, field) == value


@pytest.mark.parametrize("block", CHANNEL_BLOCKS, ids=lambda b: b.__name__)
def test_every_channel_block_limits_a_customer_to_twenty_messages_a_minute_by_default(block: type) -> None:
    assert "`customer_messages_per_minute` (default 20" in FLAT
    assert block().customer_messages_per_minute == 20


def _count_until_flood(gate: FloodGate, channel: str) -> int:
    for n in range(1, 1000):
        if gate.check(channel, "customer-1") is not Flood.OK:
            return n - 1
    raise AssertionError("never limited")


def test_each_blocks_customer_limit_reaches_the_engines_flood_gate(tmp_path: Path) -> None:
    """What `supportbot run` builds from channels.yaml (core/runner.py): a block's own figure, or the default."""
    path = tmp_path / "channels.yaml"
    path.write_text("channels:\n  webchat:\n    enabled: true\n    customer_messages_per_minute: 3\n"
                    "  telegram:\n    enabled: false\n", encoding="utf-8")
    gate = FloodGate.for_channels(load_settings(path, env={}).channels)
    assert _count_until_flood(gate, "webchat") == 3
    assert _count_until_flood(gate, "telegram") == 20
