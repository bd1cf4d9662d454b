"""Roles: what each process runs, the SQLite refusal, and housekeeping done once per interval by any process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import pytest
from aiohttp import web
from sqlalchemy import select, text

from core.errors import UsageError
from core.housekeeping import JOB_RUNS, LOCK_KEY, Housekeeping
from core.roles import plan, sending_rule
from core.store import Store
from tests.conftest import PG_URL
from tests.process import child_env


class Polling:  # holds a connection, sends only while it runs (X polling, the Discord gateway)
    def __init__(self) -> None:
        self.settings = None


class Hooked(Polling):  # receives over HTTP, sends from any process (Telegram in webhook mode)
    sends_without_receiving: ClassVar[bool] = True

    def web_routes(self) -> list[web.RouteDef]:
        return [web.post("/hook", lambda r: web.Response())]


class PollingAnywhere(Polling):  # polls, sends from any process (Telegram polling)
    sends_without_receiving: ClassVar[bool] = True


class Sockets(Hooked):  # the website chat
    sends_without_receiving: ClassVar[bool] = False
    sends_to_local_sockets: ClassVar[bool] = True


class HookedOnly(Polling):  # receives over HTTP, sends only through its started client (X in webhook mode)
    def web_routes(self) -> list[web.RouteDef]:
        return [web.post("/x", lambda r: web.Response())]


ADAPTERS: dict[str, Any] = {"chat": Sockets(), "tg": PollingAnywhere(), "hook": Hooked(), "gw": Polling(),
                            "xhook": HookedOnly()}


def test_each_role_runs_its_part_and_all_of_them_cover_everything() -> None:
    web_ = plan("web", ADAPTERS, postgres=True)
    dispatcher = plan("dispatcher", ADAPTERS, postgres=True)
    channels = plan("channels", ADAPTERS, postgres=True)
    assert web_.web and web_.direct == ["chat", "hook", "xhook"] and not web_.senders and not web_.elected
    assert not dispatcher.web and not dispatcher.runs and sorted(dispatcher.senders) == ["chat", "hook", "tg"]
    assert sorted(channels.elected) == ["gw", "tg", "xhook"] and sorted(channels.senders) == ["gw", "xhook"]
    # every channel is received somewhere and sent from somewhere
    assert set(web_.direct) | set(channels.elected) == set(ADAPTERS)
    assert set(dispatcher.senders) | set(channels.senders) == set(ADAPTERS)
    one = plan("all", ADAPTERS, postgres=False)
    assert one.direct == list(ADAPTERS) and not one.elected and one.senders == list(ADAPTERS)
    several = plan("all", ADAPTERS, postgres=True)  # copies of `all` on PostgreSQL elect their connection holders
    assert sorted(several.elected) == ["gw", "tg"] and several.senders == list(ADAPTERS)


def test_a_channel_run_elsewhere_is_sent_here_only_if_it_can_be_sent_without_its_receiver() -> None:
    class Supervisor:
        health: ClassVar[dict[str, object]] = {"gw": object(), "tg": object()}
        standby: ClassVar[set[str]] = {"gw", "tg"}

        def can_send(self, name: str) -> bool:
            return True

    can_send = sending_rule(ADAPTERS, Supervisor())
    assert can_send("tg") and not can_send("gw")  # Telegram sends from any process; the gateway owner sends Discord
    assert sending_rule(ADAPTERS, None)("chat")


@pytest.mark.parametrize("role", ["web", "dispatcher", "channels"])
def test_on_sqlite_only_the_whole_process_may_run(tmp_path: Path, role: str) -> None:
    config = tmp_path / "channels.yaml"
    config.write_text(f"database_url: sqlite+aiosqlite:///{tmp_path}/supportbot.db\n")
    done = subprocess.run([sys.executable, "-m", "core.cli", "run", "--config", str(config), "--role", role],
                          cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert f"--role {role} needs PostgreSQL" in done.stderr and "--role all" in done.stderr
    assert not (tmp_path / "supportbot.db").exists()  # refused before touching anything


def test_an_unknown_role_is_named() -> None:
    from core.roles import check_role

    with pytest.raises(UsageError, match="unknown role 'cron'"):
        check_role("cron", "postgresql+asyncpg://x@y/z")


@pytest.mark.skipif(PG_URL.lower() == "off", reason="SUPPORTBOT_TEST_PG_URL=off leaves PostgreSQL out")
async def test_housekeeping_in_several_processes_runs_one_at_a_time_and_once_per_interval(tmp_path: Path) -> None:
    import uuid

    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(raw)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    first = await Store.open(PG_URL, schema=schema)  # two processes' stores on one database
    second = await Store.open(PG_URL, schema=schema, migrate=False)
    try:
        a, b = Housekeeping(first), Housekeeping(second)  # every role runs one, every 10 minutes
        async with second.engine.connect() as conn:  # another process is pruning right now
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            assert await a.run_once() is None
            await conn.rollback()
        results = await asyncio.gather(a.run_once(due_only=True), b.run_once(due_only=True))
        assert sum(result is not None for result in results) == 1  # together: one of them did it
        assert await a.run_once(due_only=True) is None and await b.run_once(due_only=True) is None  # not due yet
        ran = await first.scalar(select(JOB_RUNS.c.ran_at).where(JOB_RUNS.c.name == "housekeeping"))
        async with first.engine.begin() as conn:  # an interval later
            await conn.execute(JOB_RUNS.update().values(ran_at=ran.replace(year=ran.year - 1)))
        assert await b.run_once(due_only=True) is not None
        assert await a.run_once(due_only=True) is None
    finally:
        await second.close()
        await first.close()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()
