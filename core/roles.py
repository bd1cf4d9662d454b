"""What one process runs: `supportbot run --role all|web|dispatcher|channels`.

- ``all`` (the default): everything, as one process (the only role on SQLite).
- ``web``: inbox pages, REST API, the website chat's sockets and the platforms' webhooks (the
  receive side of every channel that receives over HTTP). Any number of copies behind a proxy.
- ``dispatcher``: sends the outbox for the channels that can send from any process (Telegram; the
  website chat through the web process holding the socket, core/relay.py). Any number of copies:
  the claim skips rows another copy locked, and channel pacing is shared (core/pacing_pg.py).
- ``channels``: the receivers that hold a connection (Telegram polling, the Discord gateway, X
  polling). Any number of copies: one runs each receiver, the others stand by (core/receivers.py).
  A channel that can only send through its running client (Discord, X) is sent from here, by the
  process that runs it.

Every role serves /healthz and /readyz (and runs housekeeping, one process at a time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bots.base import ServesWebhooks
from core.errors import UsageError
from core.relay import sends_to_local_sockets

ROLES = ("all", "web", "dispatcher", "channels")


def check_role(role: str, database_url: str) -> None:
    """Roles other than ``all`` share one database between processes: PostgreSQL only."""
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if role != "all" and not database_url.startswith("postgresql"):
        raise UsageError(f"--role {role} needs PostgreSQL (database_url: postgresql+asyncpg://USER:PASSWORD@HOST/DB "
                         "or SUPPORTBOT_DB_URL): separate processes share their work through it. On SQLite run "
                         "one process with --role all (the default).")


def receives_in_web(adapter: object) -> bool:
    """A channel whose events arrive over HTTP (webhooks, the website chat's sockets): a web process receives."""
    return isinstance(adapter, ServesWebhooks) and bool(adapter.web_routes())


def sends_anywhere(adapter: object) -> bool:
    """Whether any process can send for this channel without running its receiver."""
    return bool(getattr(adapter, "sends_without_receiving", False)) or sends_to_local_sockets(adapter)


@dataclass(frozen=True)
class Plan:
    role: str
    web: bool  # the whole web app (else only /healthz and /readyz)
    direct: list[str] = field(default_factory=list)  # channels started here whatever the other processes do
    elected: list[str] = field(default_factory=list)  # channels started here only while this process owns them
    senders: list[str] = field(default_factory=list)  # channels this process's dispatcher sends

    @property
    def runs(self) -> list[str]:
        return self.direct + self.elected


def plan(role: str, adapters: Mapping[str, Any], *, postgres: bool) -> Plan:
    web_side = [name for name, adapter in adapters.items() if receives_in_web(adapter)]
    held = [name for name in adapters if name not in web_side]  # polling loops and gateways
    if role == "all":
        if not postgres:  # one process: nothing to elect
            return Plan(role, web=True, direct=list(adapters), senders=list(adapters))
        return Plan(role, web=True, direct=web_side, elected=held, senders=list(adapters))
    if role == "web":
        return Plan(role, web=True, direct=web_side)
    if role == "dispatcher":
        return Plan(role, web=False, senders=[name for name, a in adapters.items() if sends_anywhere(a)])
    # channels: the connection holders, and the webhook channels that can only send through a started client (X)
    elected = held + [name for name in web_side if not sends_anywhere(adapters[name])]
    senders = [name for name in elected if not sends_anywhere(adapters[name])]
    return Plan(role, web=False, elected=elected, senders=senders)


def sending_rule(adapters: Mapping[str, Any], channels: Any) -> Callable[[str], bool]:
    """``can_send`` for this process's dispatcher: a channel run here sends while it is up; one run elsewhere
    (or nowhere here) only if it can send without its receiver."""

    def can_send(name: str) -> bool:
        if channels is not None and name in channels.health and name not in channels.standby:
            return bool(channels.can_send(name))
        return sends_anywhere(adapters.get(name))

    return can_send
