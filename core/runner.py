"""`supportbot run`: the whole product in one process and one event loop, or one role of it (core/roles.py).

Start order: store (migrations) -> events (on PostgreSQL: LISTEN/NOTIFY, core/events_pg.py) and this
process's instance record -> knowledge base, triage, engine, inbox -> what admins saved (published knowledge
base, preferences; core/saved.py, followed from then on) -> recovery of messages stored before a crash ->
channel adapters built from `channels.yaml` -> the web app (inbox, API, website
chat, webhooks; only /healthz and /readyz for the dispatcher and channels roles) on aiohttp's
AppRunner/TCPSite -> dispatcher -> typing indicators (core/typing_indicators.py) -> channels, each under the
supervisor (core/channels.py), those with an elected receiver only while this process owns it
(core/receivers.py). Stop order: typing indicators, dispatcher (finishes the sends in flight; the rest stays
queued in the outbox for the next start), receivers and channels, web server, instance, events, store.

A channel that fails to start, or stops receiving for good, is reported and started again with
backoff for as long as the process runs; the others keep running, its replies wait in the outbox,
and `/readyz` names it. Only the store and the web server are fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import secrets
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from bots import adapter_class
from bots.base import ServesWebhooks
from core import saved
from core.channels import Channels, reason
from core.config import Settings
from core.errors import Conflict, UsageError
from core.events import EventBus
from core.events_pg import PostgresEventBus
from core.flood import FloodGate
from core.housekeeping import Housekeeping
from core.impersonation import Guard
from core.pacing_pg import SharedPacing
from core.receivers import Receivers
from core.relay import RelayedAdapter, SocketRelay, sends_to_local_sockets
from core.roles import check_role, plan, sending_rule
from core.store import Store
from core.typing_indicators import TypingIndicators
from core.web.context import AppContext

log = logging.getLogger(__name__)

ADMIN_NAME = "admin"
PASSWORD_FILE = "first-admin-password.txt"


@dataclass
class Running:
    """A started supportbot: what `stop` needs, and where it listens."""

    ctx: AppContext
    runner: web.AppRunner
    dispatcher: Any
    url: str
    failed: dict[str, str] = field(default_factory=dict)  # channel -> why its first start failed (retried)
    admin_password: Path | None = None  # the file holding the first administrator's password (first start only)
    housekeeping: Any = None
    role: str = "all"
    receivers: Any = None  # core.receivers.Receivers: the receivers elected among processes (PostgreSQL)
    relay: Any = None  # core.relay.SocketRelay: replies other processes sent, pushed to our sockets
    instance: Any = None  # core.instances.Instance: this process as the other processes see it
    follower: Any = None  # core.saved.Follower: what admins save in any process, put into this one
    typing: Any = None  # core.typing_indicators.TypingIndicators: typing shown both ways

    @property
    def adapters(self) -> dict[str, Any]:
        return dict(self.ctx.adapters)


async def start(settings: Settings, *, host: str | None = None, port: int | None = None,
                out: TextIO | None = None, data_dir: str | Path = "data", role: str = "all") -> Running:
    """Start what ``role`` runs (core/roles.py; everything by default) and return once it serves."""
    from core.dispatch import Dispatcher
    from core.inbox import Inbox
    from core.instances import Instance
    from core.knowledge import load_knowledge_base
    from core.pipeline import Engine
    from core.triage import Triage

    check_role(role, settings.database_url)
    out = out or sys.stdout
    host = host or settings.web.host
    port = settings.web.port if port is None else port
    kb = load_knowledge_base(settings.knowledge_base_path, brand=settings.brand)
    minimum = settings.triage.min_confidence
    triage = Triage(kb) if minimum is None else Triage(kb, min_confidence=minimum)
    store = await Store.open(settings.database_url)
    postgres = store.dialect == "postgresql"
    bus: EventBus = PostgresEventBus(store) if postgres else EventBus()
    instance = Instance(store, role=role)
    follower: saved.Follower | None = None
    try:
        await bus.start()
        await instance.register()
        flood = FloodGate.for_channels(settings.channels)
        guard = Guard(settings.brand, settings.impersonation.protected_names, remove=settings.impersonation.remove,
                      alerts=settings.impersonation.alert)
        engine = Engine(store, triage, kb, bus=bus, first_response_hours=settings.tickets.first_response_hours,
                        flood=flood, guard=guard)
        inbox = Inbox(store, kb, bus=bus)
        ctx = AppContext(store=store, engine=engine, inbox=inbox, bus=bus, kb=kb, settings=settings,
                         data_dir=Path(data_dir), role=role)
        await saved.load(ctx)  # what admins published on /knowledge and /settings, before anything is decided
        follower = saved.Follower(ctx)
        await follower.start()  # and whatever any process saves from now on
        if role != "dispatcher":  # a process that takes messages in finishes those a crash left half done
            recovered = await engine.recover()
            if recovered:
                log.info("finished %d message(s) stored before the last stop", recovered)
        adapters, broken = _build_adapters(settings, data_dir, store)
        layout = plan(role, adapters, postgres=postgres)
        runs = {name: adapters[name] for name in layout.runs}
        channels = Channels(runs, engine, failed=broken) if layout.runs or layout.web else None
        receivers = Receivers(store, channels, layout.elected) if channels is not None and layout.elected and \
            postgres else None
        ctx.adapters, ctx.channels = runs, channels
        runner, url = await _start_web(ctx, settings, host, port, full=layout.web)
        try:  # only once we listen: a password made by a start that then failed would never be seen
            admin_password = await ensure_first_admin(store, data_dir, settings.web.first_admin_name) \
                if layout.web else None
        except BaseException:
            await runner.cleanup()
            raise
    except BaseException:
        if follower is not None:
            await follower.stop()
        await instance.close()
        await bus.close()
        await store.close()
        raise
    dispatcher = None
    if layout.senders:
        senders = {name: RelayedAdapter(adapters[name], bus) if postgres and sends_to_local_sockets(adapters[name])
                   else adapters[name] for name in layout.senders}
        can_send = sending_rule(adapters, channels)
        pacing = SharedPacing(store, bus) if postgres else None
        if pacing is not None:
            await pacing.start()
        dispatcher = Dispatcher(store, senders, settings.dispatch, bus=bus, can_send=can_send, instance=instance,
                                pacing=pacing)
        if channels is not None:
            channels.on_change(lambda health: dispatcher.wake() if can_send(health.name) else None)
        await dispatcher.start()
        engine.dispatcher = dispatcher  # replies of the channels it sends go out without waiting for a claim pass
    relay = SocketRelay(store, bus, runs) if postgres and layout.web else None
    if relay is not None:
        await relay.start()
    typing = _typing(store, bus, adapters, runs, layout.senders, channels, dispatcher, postgres=postgres)
    await typing.start()
    failed = await channels.start() if channels is not None else {}
    if receivers is not None:
        await receivers.start()
        assert channels is not None
        failed.update({name: channels.health[name].error or "not started yet" for name in layout.elected
                       if name not in channels.standby and not channels.can_send(name)})
    housekeeping = Housekeeping(store, settings.housekeeping)  # every role: one process at a time does it
    await housekeeping.start()
    running = Running(ctx, runner, dispatcher, url, failed, admin_password, housekeeping, role, receivers, relay,
                      instance, follower, typing)
    _announce(running, settings, out)
    return running


async def stop(running: Running) -> None:
    """Finish in-flight sends, stop the channels, close the web server and the store. Queued replies stay queued.

    The dispatcher stops first: a send after a channel stopped would reopen its platform connection. Elected
    receivers stop before their locks are let go, so two processes never run one receiver at once.
    """
    if running.housekeeping is not None:
        await running.housekeeping.stop()
    if running.typing is not None:
        await running.typing.stop()
    if running.dispatcher is not None:
        await running.dispatcher.stop()
        stop_pacing = getattr(running.dispatcher.pacing, "stop", None)
        if stop_pacing is not None:
            await stop_pacing()
    if running.relay is not None:
        await running.relay.stop()
    if running.receivers is not None:
        await running.receivers.stop()
    if running.ctx.channels is not None:
        await running.ctx.channels.stop()
    await running.runner.cleanup()
    if running.follower is not None:
        await running.follower.stop()
    if running.instance is not None:
        await running.instance.close()
    await running.ctx.bus.close()
    await running.ctx.store.close()


async def serve(settings: Settings, *, host: str | None = None, port: int | None = None, role: str = "all") -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly (used by `supportbot run`)."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        running = await start(settings, host=host, port=port, role=role)
        try:
            await stopping.wait()
            print("stopping: finishing sends in flight; queued replies stay in the outbox", flush=True)
        finally:
            await stop(running)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("stopped", flush=True)


async def ensure_first_admin(store: Store, data_dir: str | Path = "data", name: str = ADMIN_NAME) -> Path | None:
    """On a first start (no agent at all) create the administrator with a random password.

    The password goes to a file only this user can read, never to the output: in a container the
    output is the log, which many people and systems keep. Returns the file's path, once.
    """
    from core.accounts import agent_count, create_agent

    if await agent_count(store):
        return None
    password = secrets.token_urlsafe(12)
    path = Path(data_dir) / PASSWORD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # left over from an earlier database: it holds no valid password now
    try:
        await create_agent(store, name, password, role="admin", display_name="Administrator")
    except Conflict:  # another process started at the same moment and created it
        return None
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(f"name: {name}\npassword: {password}\n"
                   "Sign in to the inbox with this, then delete this file (`supportbot user reset-password` "
                   "sets a new password).\n")
    return path


def _typing(store: Store, bus: EventBus, adapters: dict[str, Any], runs: dict[str, Any], senders: list[str],
            channels: Any, dispatcher: Any, *, postgres: bool) -> TypingIndicators:
    """Typing both ways (core/typing_indicators.py): socket channels type in every process that runs them,
    platform channels where this process sends them, while they are up; the channels run here report customers
    typing."""
    local = {name: a for name, a in runs.items() if sends_to_local_sockets(a)}
    remote = {name: adapters[name] for name in senders if not sends_to_local_sockets(adapters[name])}
    can_send = sending_rule(adapters, channels)
    pacing = getattr(dispatcher, "pacing", None)
    typing = TypingIndicators(store, bus, {**remote, **local}, can_type=lambda name: name in local or can_send(name),
                              shared=postgres, paused_for=pacing.paused_for if pacing is not None else None)
    typing.attach(runs)
    return typing


def _build_adapters(settings: Settings, data_dir: str | Path, store: Store) -> tuple[dict[str, Any], dict[str, str]]:
    adapters: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name in settings.enabled_channels():
        try:
            adapters[name] = adapter_class(name)(settings.channels[name], public_url=settings.web.public_url,
                                                 data_dir=str(data_dir), cursor_store=store)
        except Exception as exc:
            failed[name] = reason(exc)
    return adapters, failed


async def _start_web(ctx: AppContext, settings: Settings, host: str, port: int, *,
                     full: bool = True) -> tuple[web.AppRunner, str]:
    """The web app (``full``), or only the status endpoints a dispatcher or channels process answers."""
    from core.web.app import create_app, create_status_app

    routes = [route for adapter in ctx.adapters.values() if isinstance(adapter, ServesWebhooks)
              for route in adapter.web_routes()]
    app = create_app(ctx, extra_routes=routes) if full else create_status_app(ctx)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            hint = f"{host!r} is not a host name or an address of this machine; choose another with --host or web.host"
        elif exc.errno in (errno.EADDRINUSE, errno.EACCES):
            hint = "choose another port with --port or web.port"
        else:
            hint = "check --host/--port (web.host, web.port)"
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; {hint}") from None
    bound = runner.addresses[0][1] if runner.addresses else port
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = (settings.web.public_url if full else None) or f"http://{shown}:{bound}"
    return runner, url


def _announce(running: Running, settings: Settings, out: TextIO) -> None:
    store = running.ctx.store
    channels = running.ctx.channels
    standby = channels.standby if channels is not None else set()
    if running.role in ("all", "web"):
        lines = ["supportbot is running" + ("" if running.role == "all" else " (role: web)"),
                 f"  inbox:         {running.url}/"]
        for adapter in running.adapters.values():  # a channel with a page of its own (the website chat) says where
            label, path = getattr(adapter, "page", None) or (None, None)
            if label:
                lines.append(f"  {label + ':':<15}{running.url}{path}")
    else:
        lines = [f"supportbot is running (role: {running.role})", f"  status:        {running.url}/readyz"]
    if running.dispatcher is not None and running.role != "all":
        lines.append(f"  sends:         {', '.join(running.dispatcher.adapters) or '(nothing)'}")
    up = [name + (" (standby: another process runs it)" if name in standby else "") for name in running.adapters
          if name not in running.failed]
    lines += [f"  channels:      {', '.join(up) or '(none)'}",
              f"  database:      {store.safe_url}"]
    if running.admin_password:
        lines += ["",
                  f"First start: created the administrator account '{settings.web.first_admin_name}'. Its password "
                  "is in this file, readable only by you:",
                  f"  {running.admin_password}",
                  "Sign in to the inbox with it, then delete the file; add agents with "
                  "`supportbot user add NAME --role agent`."]
    lines += ["", "Press Ctrl+C to stop."]
    print("\n".join(lines), file=out, flush=True)
    for name, why in running.failed.items():
        retried = name in running.adapters
        print(f"channel {name} did not start: {why}. "
              + ("It is started again with backoff for as long as supportbot runs; " if retried else
                 "Fix the configuration and restart supportbot; ")
              + "the other channels keep running and its replies stay queued; GET /readyz shows its state.",
              file=sys.stderr, flush=True)
