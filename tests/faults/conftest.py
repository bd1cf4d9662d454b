"""Fault tests: the real `supportbot run` process, killed and restarted against fake platforms on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.process import SupportbotProcess


@pytest.fixture
def supportbot(tmp_path: Path) -> Iterator[Callable[..., SupportbotProcess]]:
    """``supportbot(config_yaml, env=None)`` -> a not yet started process in its own folder; killed at teardown."""
    made: list[SupportbotProcess] = []

    def make(config_yaml: str, env: dict[str, str] | None = None, name: str = "deploy") -> SupportbotProcess:
        process = SupportbotProcess(tmp_path / name, config_yaml, env)
        made.append(process)
        return process

    yield make
    for process in made:
        process.kill()
