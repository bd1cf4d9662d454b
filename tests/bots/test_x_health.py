"""What the X channel tells the supervisor: up once both feeds polled, trouble while X fails for a while,
and `wait_closed` raising when polling cannot go on. Real tweepy against the fake X API v2."""

from __future__ import annotations

import asyncio

import pytest

from bots.x.adapter import DM_CURSOR
from bots.x.http import CredentialsRefused
from tests.contract.harness_x import XHarness
from tests.fakes.x_api import FakeX


class Recorder:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_message(self, message):  # type: ignore[no-untyped-def]
        self.messages.append(message)

    async def handle_escalation(self, escalation):  # type: ignore[no-untyped-def]
        return None

    async def handle_edit(self, edit):  # type: ignore[no-untyped-def]
        return None


async def until(probe, what: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout}s")
        await asyncio.sleep(0.02)


async def test_polling_is_up_after_its_first_rounds_in_trouble_while_x_is_down_and_up_again() -> None:
    rec = Recorder()
    fake = FakeX()
    fake.add_user("5001", "ann")
    async with XHarness(rec, fake=fake) as x:
        health = x.adapter.health
        await until(lambda: health.receiving, "receiving after the first polls")
        closed = asyncio.create_task(x.adapter.wait_closed())
        fake.outage(0.6, status=503)
        event = fake.dm("5001", "written while X is down")
        await until(lambda: health.state == "trouble", "trouble during the outage")
        assert "503" in (health.error or "")
        await x.until_handed(DM_CURSOR, event)
        await until(lambda: health.receiving, "receiving after the outage")
        assert not closed.done()  # transient trouble is ridden out, not raised
        await x.adapter.stop()
        await asyncio.wait_for(closed, 5)  # returns after stop
    assert [m.text for m in rec.messages] == ["written while X is down"]


async def test_revoked_credentials_end_polling_and_wait_closed_raises() -> None:
    async with XHarness(Recorder()) as x:
        await until(lambda: x.adapter.health.receiving, "receiving")
        x.fake.creds.access_token_secret = "revoked-on-the-x-side"  # every signed call now answers 401
        with pytest.raises(CredentialsRefused, match="401"):
            await asyncio.wait_for(x.adapter.wait_closed(), 10)
        assert x.adapter.health.state == "trouble" and "401" in (x.adapter.health.error or "")


async def test_a_poll_loop_that_died_makes_wait_closed_raise() -> None:
    async with XHarness(Recorder()) as x:
        closed = asyncio.create_task(x.adapter.wait_closed())
        await asyncio.sleep(0.1)
        assert x.adapter._polling is not None
        x.adapter._polling._tasks[0].cancel()  # as if the loop were killed from outside
        with pytest.raises(Exception, match="cancelled"):
            await asyncio.wait_for(closed, 5)


async def test_webhook_mode_is_up_once_started_and_wait_closed_returns_after_stop() -> None:
    async with XHarness(Recorder(), settings={"mode": "webhook"}) as x:
        assert x.adapter.health.receiving
        closed = asyncio.create_task(x.adapter.wait_closed())
        await asyncio.sleep(0.05)
        assert not closed.done()
        await x.adapter.stop()
        await asyncio.wait_for(closed, 5)
