"""The `channels.discord` block: what an operator writes in YAML must mean what they think."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from bots.discord.adapter import intents
from bots.discord.settings import DiscordSettings
from core.errors import ConfigError
from tests.contract.harness_discord import DiscordHarness
from tests.fakes.discord_api import FakeDiscord


def test_unquoted_guild_ids_and_mixed_role_names_and_ids_are_accepted():
    block = yaml.safe_load("""
enabled: true
token: abc
guilds:
  1000000000000000001: {moderator_roles: [Helpers, 1000000000000000100], moderator_users: [80351110224678913]}
""")
    settings = DiscordSettings(**block)
    conf = settings.guilds["1000000000000000001"]
    assert conf.moderator_roles == ["Helpers", 1000000000000000100]
    assert conf.moderator_users == [80351110224678913]


@pytest.mark.parametrize(("block", "words"), [
    ({"enabled": True}, "token is required"),
    ({"token": "t", "shard_ids": [0]}, "shard_ids needs shard_count"),
    ({"token": "t", "shard_count": 2, "shard_ids": [2]}, "outside 0..1"),
    ({"token": "t", "private_followup": "email"}, "private_followup"),
    ({"token": "t", "guilds": {"1": {"moderator_role": ["x"]}}}, "moderator_role"),
])
def test_mistakes_are_reported(block, words):
    with pytest.raises(ValidationError, match=words):
        DiscordSettings(**block)


def test_the_intents_are_the_documented_six_and_not_members():
    wanted = intents()
    assert (wanted.guilds, wanted.guild_messages, wanted.dm_messages, wanted.message_content) == (True,) * 4
    assert wanted.guild_typing and wanted.dm_typing  # customers typing, shown on the ticket page
    assert not wanted.members and not wanted.presences
    assert wanted.value == (1 << 0) | (1 << 9) | (1 << 11) | (1 << 12) | (1 << 14) | (1 << 15)


async def test_a_bot_without_the_message_content_intent_fails_to_start_with_a_fix(engine):
    fake = FakeDiscord()
    fake.message_content_enabled = False
    with pytest.raises(ConfigError, match="Message Content intent"):
        async with DiscordHarness(engine, fake=fake):
            pass


async def test_a_rejected_token_fails_to_start_with_a_clear_error(engine):
    harness = DiscordHarness(engine)
    harness.fake.token = "the-real-token"  # the bot was configured with another one
    with pytest.raises(ConfigError, match="token was rejected"):
        async with harness:
            pass


def test_api_base_url_and_gateway_url_default_to_discord_and_must_be_urls():
    settings = DiscordSettings(token="t")
    assert (settings.api_base_url, settings.gateway_url) == ("https://discord.com/api/v10", None)
    proxy = DiscordSettings(token="t", api_base_url="https://discord-proxy.internal/api/v10/",
                            gateway_url="wss://gateway-proxy.internal/")
    assert (proxy.api_base_url, proxy.gateway_url) == ("https://discord-proxy.internal/api/v10",
                                                       "wss://gateway-proxy.internal")
    with pytest.raises(ValidationError, match="api_base_url"):
        DiscordSettings(token="t", api_base_url="discord.com/api/v10")
    with pytest.raises(ValidationError, match="gateway_url"):
        DiscordSettings(token="t", gateway_url="https://gateway.discord.gg")
