"""Everything a request handler may need, built once by the runner and stored on the app under one typed key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from core.channels import Channels
from core.events import EventBus
from core.inbox import Inbox
from core.pipeline import Engine
from core.store import Store


@dataclass
class AppContext:
    store: Store
    engine: Engine
    inbox: Inbox
    bus: EventBus
    kb: Any  # core.knowledge.KnowledgeBase
    settings: Any  # core.config.Settings
    adapters: Mapping[str, Any] = field(default_factory=dict)  # enabled channel adapters by name
    channels: Channels | None = None  # their supervisor: state for /readyz (None in tests without channels)
    data_dir: Path = Path("data")  # the data folder: files agents attach to replies live under it
    role: str = "all"  # what this process runs (core/roles.py): /readyz answers for that
    saved_version: int | None = None  # the published knowledge base version in force (core/saved.py)
    saved_loaded: bool = False  # set once core/saved.py has put it into this process


CONTEXT: web.AppKey[AppContext] = web.AppKey("supportbot", AppContext)
