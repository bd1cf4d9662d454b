"""The gateway connection: where it goes, how fast it comes back, and that it never dies silently.

What an operator notices: a channel that cannot start or whose session ends for good raises (the
supervisor restarts it and /readyz names it); a reconnect shows as trouble and lasts seconds; a
deployment can point the bot at a proxy with ``api_base_url``/``gateway_url``.
"""

from __future__ import annotations

import asyncio
import time

import discord
import pytest
import yarl

from core.errors import ConfigError, RetryLater
from core.models import OutboundMessage
from tests.contract.harness_discord import DiscordHarness
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_scene import build, running

DEFAULTS = ("https://discord.com/api/v10", yarl.URL("wss://gateway.discord.gg/"))


def _urls() -> tuple[str, yarl.URL]:
    return discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


async def test_the_adapter_points_discord_py_at_api_base_url_and_puts_the_defaults_back(engine):
    assert _urls() == DEFAULTS
    scene = build()
    async with running(engine, scene) as h:
        assert _urls() == (scene.fake.rest_base, yarl.URL(scene.fake.gateway_url))  # from GET /gateway/bot
        assert ("GET", "/api/v10/gateway/bot") in scene.fake.requests
        assert h.adapter.health.receiving
    assert _urls() == DEFAULTS


async def test_a_configured_gateway_url_is_used_without_asking_discord(engine):
    scene = build()
    await scene.fake.start()  # its address goes into the settings
    scene.fake.fail_gateway_bot_for(60)
    async with running(engine, scene, gateway_url=scene.fake.gateway_url, shard_count=1) as h:
        msg = await scene.fake.user_dm(scene.alice, "hello")
        await h.handled(msg["id"])
        assert ("GET", "/api/v10/gateway/bot") not in scene.fake.requests


@pytest.mark.parametrize("fault", ["gateway_bot", "refused"])
async def test_a_first_connection_that_fails_makes_start_raise_at_once(engine, fault):
    fake = FakeDiscord()
    if fault == "gateway_bot":
        fake.fail_gateway_bot_for(60)  # a Discord API outage while we start
    else:
        await fake.refuse_for(60)  # the gateway answers 503 (REST works)
    began = time.monotonic()
    with pytest.raises(RetryLater, match="gateway/bot" if fault == "gateway_bot" else "connection failed"):
        async with DiscordHarness(engine, fake=fake):
            pass
    assert time.monotonic() - began < 3  # not ready_timeout (15 s here, 60 s by default)
    assert _urls() == DEFAULTS


async def test_a_close_4004_ends_wait_closed_with_the_reason(engine):
    scene = build()
    async with running(engine, scene) as h:
        waiting = asyncio.create_task(h.adapter.wait_closed())
        await asyncio.sleep(0.1)
        assert not waiting.done()
        await scene.fake.drop(code=4004)  # the token was reset: Authentication failed
        with pytest.raises(ConfigError, match="4004"):
            await asyncio.wait_for(waiting, 5)


async def test_wait_closed_returns_after_stop_and_send_says_why_it_cannot(engine):
    async with running(engine) as h:
        waiting = asyncio.create_task(h.adapter.wait_closed())
        await h.adapter.stop()
        await asyncio.wait_for(waiting, 5)  # returns, raises nothing
        with pytest.raises(RetryLater, match="not connected"):
            await h.adapter.send(OutboundMessage(channel="discord", conversation="dm:1", text="hi"))


async def test_a_refused_gateway_shows_as_trouble_and_comes_back_within_seconds(engine, store):
    """discord.py cannot resume (the gateway refuses for 2 s), identifies afresh and reads back the DM
    sent meanwhile; health says "trouble" in between and "receiving" again at READY."""
    scene = build()
    fake = scene.fake
    async with running(engine, scene, cursor_store=store) as h:
        await h.handled((await fake.user_dm(scene.alice, "hi"))["id"])
        states: list[str] = []
        h.adapter.health.listen(lambda health: states.append(health.state))
        await fake.refuse_for(2.0)
        await fake.wait_for(lambda: h.adapter.health.state == "trouble", what="trouble")
        missed = await fake.user_dm(scene.alice, "how do I reset my password")
        ended = time.monotonic() + 2.0
        await fake.wait_for(lambda: h.adapter.health.receiving, within=15, what="receiving again")
        assert time.monotonic() - ended < 7  # QuickBackoff (<= 3 s) + the IDENTIFY wait (1-2 s)
        assert (await h.handled(missed["id"])).action == "answer"
        assert h.tap.handled.count(missed["id"]) == 1
        assert fake.refused >= 1 and len(fake.identifies) == 2
        assert states[0] == "trouble" and states[-1] == "receiving"
        assert "disconnected" in (h.adapter.health.error or "")
