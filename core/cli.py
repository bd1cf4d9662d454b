"""The `supportbot` command. Typed errors are mapped to exit codes once, in `main`; nothing else exits.

Adding a command is one function and one registration::

    @command("user add", help="create an agent",
             arguments=[arg("email"), arg("--admin", action="store_true")])
    def user_add(args: argparse.Namespace) -> int: ...

A name with a space becomes a sub-command of a group (`supportbot user add`). The function may be
``async``; it is then run with ``asyncio.run``.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import DEFAULT_CONFIG, Settings, load_settings
from core.errors import ConfigError, NotFound, SupportbotError, UsageError


@dataclass(frozen=True)
class Arg:
    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*flags: str, **options: Any) -> Arg:
    """One argparse argument, written like ``parser.add_argument``."""
    return Arg(flags, options)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[argparse.Namespace], Any]
    arguments: tuple[Arg, ...] = ()


COMMANDS: dict[str, Command] = {}


def command(name: str, *, help: str, arguments: list[Arg] | tuple[Arg, ...] = ()) -> Callable:
    """Register ``run`` as ``supportbot <name>``."""

    def register(run: Callable[[argparse.Namespace], Any]) -> Callable[[argparse.Namespace], Any]:
        if name in COMMANDS:
            raise ValueError(f"command {name!r} registered twice")
        COMMANDS[name] = Command(name, help, run, tuple(arguments))
        return run

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supportbot", description="Multi-channel customer-support bot.")
    root = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups: dict[str, Any] = {}
    for name, cmd in sorted(COMMANDS.items()):
        *group_path, leaf = name.split()
        subparsers = root
        for depth in range(len(group_path)):
            key = " ".join(group_path[: depth + 1])
            if key not in groups:
                group = subparsers.add_parser(group_path[depth], help=f"{key} commands")
                group.set_defaults(group_parser=group)
                groups[key] = group.add_subparsers(dest=f"sub_{depth}", metavar="COMMAND")
            subparsers = groups[key]
        sub = subparsers.add_parser(leaf, help=cmd.help, description=cmd.help)
        for argument in cmd.arguments:
            sub.add_argument(*argument.flags, **argument.options)
        sub.set_defaults(run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `supportbot` console script: returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already explained
        return exc.code if isinstance(exc.code, int) else 2
    run = getattr(args, "run", None)
    if run is None:
        (getattr(args, "group_parser", None) or parser).print_help(sys.stderr)
        return 2
    try:
        result = run(args)
        if inspect.isawaitable(result):
            result = asyncio.run(result)
        return int(result or 0)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except SupportbotError as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `supportbot triage < big | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


# ---------------------------------------------------------------------------------------------- commands


@command("check-config", help="validate a channels.yaml and its knowledge base, print a summary",
         arguments=[arg("path", nargs="?", help=f"config file (default: ./{DEFAULT_CONFIG})")])
def check_config(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path else DEFAULT_CONFIG
    if args.path is None and not path.is_file():
        print(f"no ./{DEFAULT_CONFIG}: showing the built-in defaults")
        settings = load_settings(None)
    else:
        settings = load_settings(path)
    kb = _knowledge_base(settings)
    enabled = settings.enabled_channels()
    print(f"configuration OK: {settings.config_path or 'built-in defaults'}")
    print(f"  brand:           {settings.brand}")
    print(f"  database:        {_safe_url(settings.database_url)}")
    print(f"  web:             http://{settings.web.host}:{settings.web.port}"
          + (f" (public {settings.web.public_url})" if settings.web.public_url else ""))
    print(f"  channels:        {', '.join(enabled) if enabled else '(none enabled)'}")
    kb_where = settings.knowledge_base_path or "packaged default"
    print(f"  knowledge base:  {len(kb.entries)} entries ({kb_where})")
    return 0


@command("triage", help="decide what the bot would do with each line of stdin (answer, handoff, greet)",
         arguments=[
             arg("--json", action="store_true", help="one JSON object per line"),
             arg("--kb", metavar="PATH", help="knowledge base file (default: the configured one)"),
             arg("--config", metavar="PATH", help=f"config file (default: ./{DEFAULT_CONFIG} if present)"),
         ])
def triage(args: argparse.Namespace) -> int:
    from core.triage import Triage, decision_to_dict

    settings = load_settings(args.config, credentials=False)
    kb = _knowledge_base(settings, override=args.kb)
    minimum = settings.triage.min_confidence
    engine = Triage(kb) if minimum is None else Triage(kb, min_confidence=minimum)
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(errors="backslashreplace")  # a non-UTF-8 terminal must not crash the run
    interactive = sys.stdin.isatty()
    for line in _stdin_lines():
        result = decision_to_dict(engine.decide(line))
        out.write((json.dumps(result, ensure_ascii=False) if args.json else _one_line(result)) + "\n")
        if interactive:
            out.flush()
    out.flush()
    return 0


_CONFIG_ARG = arg("--config", metavar="PATH", help=f"config file (default: ./{DEFAULT_CONFIG} if present)")


@command("run", help="start everything: web inbox, website chat, enabled channels, dispatcher (Ctrl+C stops)",
         arguments=[_CONFIG_ARG, arg("--host", help="listen address (default: web.host)"),
                    arg("--port", type=int, help="listen port (default: web.port; 0 picks a free one)"),
                    arg("--role", choices=["all", "web", "dispatcher", "channels"], default="all",
                        help="what this process runs (default all; the others need PostgreSQL): web = inbox, API, "
                             "website chat, webhooks; dispatcher = sends the outbox; channels = Telegram/X polling "
                             "and the Discord gateway, one process per receiver at a time")])
async def run(args: argparse.Namespace) -> int:
    import logging

    from core.roles import check_role
    from core.runner import serve

    settings = load_settings(args.config)
    check_role(args.role, settings.database_url)  # before any logging or connecting: a clear error
    # Everything the server writes holds customers' words or files (the SQLite database, screenshots downloaded
    # from Telegram, agents' uploads, kept updates): readable by the account that runs it only.
    os.umask(0o077)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    await serve(settings, host=args.host, port=args.port, role=args.role)
    return 0


@command("user add", help="create an agent; the password is asked for (or read from stdin when piped)",
         arguments=[arg("name", help="sign-in name"), arg("--role", choices=["agent", "admin"], default="agent"),
                    arg("--display-name", default="", help="the name customers and colleagues see"), _CONFIG_ARG])
async def user_add(args: argparse.Namespace) -> int:
    from core.accounts import create_agent

    password = _read_password()
    async with _store(args) as store:
        agent_id = await create_agent(store, args.name, password, role=args.role, display_name=args.display_name)
    print(f"created {args.role} {args.name!r} (id {agent_id})")
    return 0


@command("token create", help="create a REST API token (printed once; only its hash is stored)",
         arguments=[arg("name", help="what the token is for, e.g. crm-sync"),
                    arg("--agent", metavar="NAME", help="act as this agent (default: the API itself)"), _CONFIG_ARG])
async def token_create(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from core.accounts import create_api_token
    from core.store.tables import Agent

    async with _store(args) as store:
        agent_id = None
        if args.agent:
            agent_id = await store.scalar(select(Agent.id).where(Agent.name == args.agent))
            if agent_id is None:
                raise NotFound(f"--agent: no agent named {args.agent!r}")
        token = await create_api_token(store, args.name, agent_id=agent_id)
    print(token)
    print("Store it now: it is shown only this once. Use it as  Authorization: Bearer <token>", file=sys.stderr)
    return 0


@command("token revoke", help="revoke the REST API tokens with this name (they answer 401 at once)",
         arguments=[arg("name"), _CONFIG_ARG])
async def token_revoke(args: argparse.Namespace) -> int:
    from core.accounts import revoke_api_tokens

    async with _store(args) as store:
        count = await revoke_api_tokens(store, args.name)
    if not count:
        raise NotFound(f"no live token named {args.name!r}")
    print(f"revoked {count} token(s) named {args.name!r}")
    return 0


@command("user reset-password", help="set a new password for an agent (asked for, or read from stdin); "
         "their sessions end", arguments=[arg("name"), _CONFIG_ARG])
async def user_reset_password(args: argparse.Namespace) -> int:
    from core.accounts import reset_password

    password = _read_password()
    async with _store(args) as store:
        if not await reset_password(store, args.name, password):
            raise NotFound(f"no agent named {args.name!r}")
    print(f"new password set for {args.name!r}; their sessions have ended")
    return 0


@command("user disable", help="stop an agent from signing in (ends their sessions); `user enable` undoes it",
         arguments=[arg("name"), _CONFIG_ARG])
async def user_disable(args: argparse.Namespace) -> int:
    return await _set_active(args, active=False)


@command("user enable", help="let a disabled agent sign in again", arguments=[arg("name"), _CONFIG_ARG])
async def user_enable(args: argparse.Namespace) -> int:
    return await _set_active(args, active=True)


async def _set_active(args: argparse.Namespace, *, active: bool) -> int:
    from core.accounts import set_agent_active

    async with _store(args) as store:
        if not await set_agent_active(store, args.name, active):
            raise NotFound(f"no agent named {args.name!r}")
    print(f"agent {args.name!r} {'enabled' if active else 'disabled'}")
    return 0


@command("db upgrade", help="bring the database schema to the newest version (also done by `run`)",
         arguments=[_CONFIG_ARG])
async def db_upgrade(args: argparse.Namespace) -> int:
    async with _store(args) as store:
        print(f"database {store.safe_url} is at the newest schema")
    return 0


def _store(args: argparse.Namespace) -> Any:
    """The configured store, migrated, closed afterwards."""
    from contextlib import asynccontextmanager

    from core.store import Store

    @asynccontextmanager
    async def opened() -> Any:
        store = await Store.open(load_settings(args.config, credentials=False).database_url)
        try:
            yield store
        finally:
            await store.close()

    return opened()


def _read_password() -> str:
    """From a prompt on a terminal (twice, not echoed), else the first line of stdin."""
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise UsageError("the two passwords differ; nothing was changed")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("no password given (type it when asked, or pipe it on stdin)")
    return password


# ---------------------------------------------------------------------------------------------- helpers


def _knowledge_base(settings: Settings, override: str | None = None) -> Any:
    from core.knowledge import load_knowledge_base

    path = Path(override) if override else settings.knowledge_base_path
    return load_knowledge_base(path, brand=settings.brand)


def _safe_url(url: str) -> str:
    """The database URL with any password hidden."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("://", 1)[0] + "://..."


def _stdin_lines() -> Iterator[str]:
    """Lines of stdin without their line ends; bytes that are not UTF-8 become U+FFFD, never a crash."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # already text (a test's StringIO)
        for line in sys.stdin:
            yield line.removesuffix("\n").removesuffix("\r")
        return
    # Only "\n" ends a line, so a stray "\r" inside a message cannot turn one line into two.
    stream = io.TextIOWrapper(buffer, encoding="utf-8", errors="replace", newline="\n")
    try:
        for line in stream:
            yield line.removesuffix("\n").removesuffix("\r")
    finally:
        stream.detach()  # leave sys.stdin usable


def _one_line(result: dict[str, Any]) -> str:
    confidence = f"{result['confidence']:.2f}"
    head = f"{result['action']:<7} {confidence} {result['lang']:<7} {result['faq_id'] or '-'}"
    detail = result["reason"] if result["action"] == "handoff" and result.get("reason") else result["reply"]
    detail = " ".join(str(detail or "").split())
    return f"{head}  {detail[:80] + '…' if len(detail) > 80 else detail}"


if __name__ == "__main__":  # `python -m core.cli`: use the importable module so its registry is the one
    from core.cli import main as _main

    sys.exit(_main())
