"""One table-driven contract suite, run against every channel adapter through its harness.

Each ``tests/contract/harness_<channel>.py`` pairs the real adapter with a fake platform server on
127.0.0.1. The rows below are what every channel must do the same way, whatever its platform.
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from pathlib import Path

import pytest

import bots
from bots.base import ChannelAdapter
from core.errors import RateLimited, RetryLater, Undeliverable
from core.models import OutboundMessage
from core.pipeline import Engine
from core.store import Store

HARNESSES = sorted(
    m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("harness_")
)


def test_every_registered_channel_has_a_harness() -> None:
    assert sorted(f"harness_{name}" for name in bots.REGISTRY) == HARNESSES


# The website chat is served by us: there is no remote platform that could answer 429 or 500.
REMOTE = [h for h in HARNESSES if h != "harness_webchat"]


def _factory(name: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"tests.contract.{name}").make_harness


@pytest.fixture(params=HARNESSES)
def harness_factory(request):  # type: ignore[no-untyped-def]
    return _factory(request.param)


@pytest.fixture(params=REMOTE)
def remote_harness_factory(request):  # type: ignore[no-untyped-def]
    return _factory(request.param)


async def test_adapter_satisfies_the_protocol(harness_factory, engine: Engine) -> None:
    async with harness_factory(engine) as h:
        assert isinstance(h.adapter, ChannelAdapter)
        assert h.adapter.name == h.channel and h.adapter.max_text_length > 0
    await h.adapter.stop()  # stop is idempotent


async def test_customer_faq_is_answered_in_the_same_conversation(harness_factory, engine: Engine, store: Store,
                                                                  make_dispatcher) -> None:
    async with harness_factory(engine) as h:
        conversation = await h.customer_dm("How can I contact customer support?")
        await make_dispatcher({h.channel: h.adapter}).drain(timeout=15)
        replies = [d for d in h.delivered() if d.conversation == conversation]
        assert replies, "the FAQ answer reached the customer's conversation"
        stored = await store.messages_for_conversation(h.channel, conversation)
        assert [m.message.author_kind for m in stored][:2] == ["customer", "bot"]
        assert stored[1].message.platform_id == replies[0].platform_id  # what was sent is recorded (echo guard)


async def test_redelivered_event_is_stored_once(harness_factory, engine: Engine, store: Store) -> None:
    async with harness_factory(engine) as h:
        conversation = await h.customer_dm("我要转人工")
        await h.redeliver_last()
        await asyncio.sleep(0.3)
        stored = await store.messages_for_conversation(h.channel, conversation)
        assert [m.message.author_kind for m in stored].count("customer") == 1


@pytest.mark.parametrize(("status", "error"), [(429, RateLimited), (500, RetryLater), (403, Undeliverable)])
async def test_platform_errors_map_to_typed_errors(remote_harness_factory, engine: Engine, status: int,
                                                   error: type[Exception]) -> None:
    async with remote_harness_factory(engine) as h:
        conversation = await h.customer_dm("hello")
        h.fail_next_sends(status, retry_after=1.0)
        with pytest.raises(error) as caught:
            await h.adapter.send(OutboundMessage(h.channel, conversation, "test reply"))
        if status == 429:
            assert caught.value.retry_after is not None and caught.value.retry_after >= 0.5


async def test_long_replies_are_split_not_cut(harness_factory, engine: Engine) -> None:
    async with harness_factory(engine) as h:
        conversation = await h.customer_dm("hello")
        before = len(h.delivered())
        words = " ".join(f"word{i}" for i in range(h.adapter.max_text_length // 3))
        await h.adapter.send(OutboundMessage(h.channel, conversation, words))
        parts = h.delivered()[before:]
        assert len(parts) >= 2 and all(len(p.text) <= h.adapter.max_text_length for p in parts)
        assert " ".join(p.text for p in parts).split() == words.split()
