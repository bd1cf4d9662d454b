"""Channel registry: the name used in `channels.yaml` -> the adapter class that serves it.

Adding a channel is one package under ``bots/`` (``settings.py``, ``adapter.py``, ...), one line
here, one `channels.yaml` block and one folder of sample payloads under tests/payloads/. Imports are
lazy: validating a configuration imports only the settings modules, and a deployment that only runs
the website chat never imports discord.py.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, NamedTuple

from core.errors import ConfigError

if TYPE_CHECKING:
    from bots.base import ChannelAdapter, ChannelSettings



class Entry(NamedTuple):
    package: str  # bots/<platform>/: the adapter lives in .adapter, its settings in .settings
    adapter: str
    settings: str


REGISTRY: dict[str, Entry] = {
    "webchat": Entry("bots.webchat", "WebchatAdapter", "WebchatSettings"),
    "telegram": Entry("bots.telegram", "TelegramAdapter", "TelegramSettings"),
    "discord": Entry("bots.discord", "DiscordAdapter", "DiscordSettings"),
    "x": Entry("bots.x", "XAdapter", "XSettings"),
}


def _entry(name: str) -> Entry:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ConfigError(f"unknown channel {name!r} (known channels: {known})") from None


def adapter_class(name: str) -> type[ChannelAdapter]:
    """The adapter class registered for ``name``; a clear error for an unknown channel."""
    entry = _entry(name)
    return getattr(import_module(f"{entry.package}.adapter"), entry.adapter)


def settings_model(name: str) -> type[ChannelSettings]:
    """The pydantic model that validates the ``channels.<name>`` block."""
    entry = _entry(name)
    return getattr(import_module(f"{entry.package}.settings"), entry.settings)
