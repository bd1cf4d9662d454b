"""Fault tests: the real `supportbot run` process, killed and restarted against fake platforms on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from tests.fakes.x_api import FakeX
from tests.process import SupportbotProcess


@pytest.fixture
def supportbot(tmp_path: Path) -> Iterator[Callable[..., SupportbotProcess]]:
    """``supportbot(config_yaml, env=None, name="deploy", port=None, role="all")`` -> a not yet started process in
    its own folder (``name``); killed at teardown."""
    made: list[SupportbotProcess] = []

    def make(config_yaml: str, env: dict[str, str] | None = None, name: str = "deploy", port: int | None = None,
             role: str = "all") -> SupportbotProcess:
        process = SupportbotProcess(tmp_path / name, config_yaml, env, port=port, role=role)
        made.append(process)
        return process

    yield make
    for process in made:
        process.kill()


@pytest_asyncio.fixture
async def x_fake() -> AsyncIterator[tuple[FakeX, str]]:
    """The fake X API v2 on a loopback port: (the fake, its base URL)."""
    api = FakeX()
    server = TestServer(api.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield api, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
