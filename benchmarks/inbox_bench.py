"""Inbox benchmark: ticket list and search latency at 100k tickets / 1M messages, then the inbox under load.

    python benchmarks/inbox_bench.py --scale 0.05            # 5k tickets, 50k messages (quick)
    python benchmarks/inbox_bench.py --scale 1               # 100k tickets, 1M messages
    python benchmarks/inbox_bench.py --backends sqlite --agents 100 --duration 30 --rate 2

Phase 1 fills a store with bulk inserts (sqlite3 executemany / asyncpg COPY) and times
core.store.queries.list_tickets for common list filters and searches (p50/p95 over --repeat runs).
Phase 2 starts the web app in a separate process on 127.0.0.1, signs in --agents agents, opens one
live stream (SSE) per agent, and has each agent load pages and call the API while customer
messages stream into the engine at --rate per second; it prints page/API latency and the live
update delay (message handed to the engine -> event received by each agent). Everything is local
and bounded by --duration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PG_URL = os.environ.get("SUPPORTBOT_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SCHEMA = "inbox_bench"
ZH = ["提现", "到账", "充值", "银行卡", "账户", "冻结", "验证码", "手续费", "转账", "失败", "退款", "实名认证", "密码",
      "登录", "客服", "订单", "余额", "限额", "审核", "汇率", "还没有", "为什么", "已经", "三天", "请帮忙", "查一下"]
EN = ["withdrawal", "deposit", "card", "account", "frozen", "verification", "code", "fee", "transfer", "failed",
      "refund", "KYC", "password", "login", "support", "order", "balance", "limit", "review", "exchange", "rate",
      "pending", "stuck", "help", "please", "why", "still", "not", "received", "my", "the", "is", "since", "days"]
CHANNELS = ["webchat", "telegram", "discord", "x"]
STATUSES = ["open"] * 3 + ["pending"] + ["solved"] * 3 + ["closed"] * 3
PRIORITIES = ["normal"] * 6 + ["low", "high", "high", "urgent"]
TAGS = ["kyc", "refund", "card", "vip", "bug", "fraud"]
NEEDLE = "TX-424242"  # appears in exactly one message: the selective search


def text(rng: random.Random) -> str:
    if rng.random() < 0.5:
        body = "".join(rng.choice(ZH) for _ in range(rng.randint(5, 12)))
    else:
        body = " ".join(rng.choice(EN) for _ in range(rng.randint(6, 14)))
    if rng.random() < 0.2:
        body += f" TX-{rng.randint(100000, 999999)}"
    return body


def rows(scale: float, seed: int = 7) -> dict[str, list[tuple[Any, ...]]]:
    """Deterministic bulk data; ids are explicit so both backends hold the same store."""
    rng = random.Random(seed)
    n_tickets = max(100, int(100_000 * scale))
    per_ticket = 10
    now = datetime.now(UTC)
    start = now - timedelta(days=180)
    step = (now - start) / n_tickets
    data: dict[str, list[tuple[Any, ...]]] = {k: [] for k in
                                              ("agents", "customers", "identities", "conversations", "tickets",
                                               "messages")}
    for a in range(1, 21):
        data["agents"].append((a, f"bench{a}", f"Agent {a}", None, "agent", True, None, start))
    mid = 0
    needle_ticket = n_tickets // 2
    for t in range(1, n_tickets + 1):
        created = start + step * t
        channel = rng.choice(CHANNELS)
        data["customers"].append((t, f"Customer {t}", None, created))
        data["identities"].append((t, t, channel, f"u{t}", f"handle{t}", f"Customer {t}", None, created))
        data["conversations"].append((t, t, channel, f"c{t}", False, None, "{}", created, created))
        status = rng.choice(STATUSES)
        first_texts = [text(rng) for _ in range(per_ticket)]
        if t == needle_ticket:
            first_texts[3] += " " + NEEDLE
        responded = None if status == "open" and rng.random() < 0.5 else created + timedelta(hours=rng.random() * 30)
        tags = json.dumps(rng.sample(TAGS, 1)) if rng.random() < 0.2 else "[]"
        data["tickets"].append((
            t, t, t, channel, status, rng.choice(PRIORITIES), first_texts[0][:120], "asked_for_human", "customer",
            "zh-Hans" if first_texts[0][0] in "提到充银账冻验手转失退实密登客订余限审汇还为已三请查" else "en",
            rng.randint(1, 20) if rng.random() < 0.5 else None, tags, created + timedelta(hours=24), responded, None,
            created, created, None, None))
        for i, body in enumerate(first_texts):
            mid += 1
            inbound = i % 2 == 0
            data["messages"].append((
                mid, t, t, channel, f"b{mid}" if inbound else None, "in" if inbound else "out",
                "customer" if inbound else "agent", None if inbound else rng.randint(1, 20),
                f"Customer {t}" if inbound else "Agent", body, "[]", None, None, False, True, None, "{}",
                created + timedelta(minutes=i), created + timedelta(minutes=i), None, None))
    return data


COLUMNS = {
    "agents": "id, name, display_name, password_hash, role, active, seen_at, created_at",
    "customers": "id, display_name, language, created_at",
    "identities": "id, customer_id, channel, platform_user_id, handle, display_name, language, created_at",
    "conversations": "id, customer_id, channel, address, public, language, state, created_at, last_message_at",
    "tickets": "id, customer_id, conversation_id, channel, status, priority, subject, reason, source, language, "
               "assignee_id, tags, first_response_due, first_responded_at, merged_into_id, created_at, updated_at, "
               "solved_at, closed_at",
    "messages": "id, conversation_id, ticket_id, channel, platform_id, direction, author_kind, agent_id, author_name, "
                "text, attachments, reply_to, private_address, public, addressed, decision, raw, created_at, "
                "handled_at, edited_at, deleted_at",
}


def _sqlite_value(v: Any) -> Any:
    return v.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v


def fill_sqlite(path: str, data: dict[str, list[tuple[Any, ...]]]) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    for table, cols in COLUMNS.items():
        marks = ",".join("?" * len(cols.split(",")))
        db.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                       ([_sqlite_value(v) for v in row] for row in data[table]))
        db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()


async def fill_postgres(raw_url: str, data: dict[str, list[tuple[Any, ...]]]) -> None:
    import asyncpg

    conn = await asyncpg.connect(raw_url, server_settings={"search_path": SCHEMA})
    try:
        # Bulk load without the trigram indexes, then build them once (much faster than per-row upkeep).
        await conn.execute("DROP INDEX IF EXISTS ix_messages_text_trgm; DROP INDEX IF EXISTS ix_tickets_subject_trgm")
        for table, cols in COLUMNS.items():
            await conn.copy_records_to_table(table, records=data[table], columns=[c.strip() for c in cols.split(",")])
        trgm = await conn.fetchval("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                   "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")
        await conn.execute(f'CREATE INDEX ix_messages_text_trgm ON messages USING gin (text "{trgm}".gin_trgm_ops)')
        await conn.execute(f'CREATE INDEX ix_tickets_subject_trgm ON tickets USING gin (subject "{trgm}".gin_trgm_ops)')
        for table in COLUMNS:
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def line(label: str, ms: list[float], extra: str = "") -> None:
    print(f"  {label:<44} p50 {pct(ms, .5):8.1f} ms   p95 {pct(ms, .95):8.1f} ms   n={len(ms)} {extra}")


QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("list: open, newest first", {"status": "open"}),
    ("list: all, newest first", {}),
    ("list: pending + channel=telegram", {"status": "pending", "channel": "telegram"}),
    ("list: unassigned open", {"status": "open", "assignee": "unassigned"}),
    ("list: assignee=7", {"assignee": "7"}),
    ("list: tag=vip", {"tag": "vip"}),
    ("list: priority=urgent, active", {"priority": "urgent", "status": "active"}),
    ("list: overdue", {"overdue": True}),
    ("list: open by due time", {"status": "open", "sort": "due"}),
    ("search: rare order number (1 hit)", {"q": NEEDLE}),
    ("search: 'exchange rate' (common)", {"q": "exchange rate"}),
    ("search: '实名认证' (common, zh)", {"q": "实名认证"}),
    ("search: '实名认证' + status=open", {"q": "实名认证", "status": "open"}),
    ("search: 'TX-1234' (prefix, rarer)", {"q": "TX-1234"}),
    ("search: '到账' (2 chars: scan path)", {"q": "到账"}),
]


async def measure_queries(store: Any, repeat: int) -> None:
    from core.store.queries import TicketFilter, list_tickets

    for label, params in QUERIES:
        f = TicketFilter(**params)
        times: list[float] = []
        found = 0
        for _ in range(repeat):
            started = time.perf_counter()
            tickets, cursor = await list_tickets(store, f, limit=50)
            times.append((time.perf_counter() - started) * 1000)
            found = len(tickets)
        line(label, times, f"rows={found}")
        if label == "list: open, newest first" and cursor:
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                await list_tickets(store, f, limit=50, cursor=cursor)
                times.append((time.perf_counter() - started) * 1000)
            line("list: open, page 2 (keyset cursor)", times)


# ---------------------------------------------------------------------------------------------- load phase


def _serve(url: str, schema: str | None, port: int, ready: Any) -> None:
    asyncio.run(_serve_async(url, schema, port, ready))


async def _serve_async(url: str, schema: str | None, port: int, ready: Any) -> None:
    from aiohttp import web
    from sqlalchemy import select

    from core.config import default_settings
    from core.dispatch import Dispatcher, DispatchPolicy
    from core.events import EventBus
    from core.inbox import Inbox
    from core.knowledge import load_knowledge_base
    from core.models import Author, InboundMessage, Sent
    from core.pipeline import Engine
    from core.store import Store
    from core.store.tables import Message
    from core.triage import Triage
    from core.web.app import create_app
    from core.web.context import AppContext

    store = await Store.open(url, schema=schema, migrate=False)
    kb = load_knowledge_base()
    bus = EventBus()
    engine = Engine(store, Triage(kb), kb, bus=bus)

    class NullChannel:
        name = "webchat"
        max_text_length = 4096

        async def send(self, reply: Any) -> Sent:
            return Sent(platform_id=f"out-{reply.outbox_id}")

    dispatcher = Dispatcher(store, {c: NullChannel() for c in CHANNELS},
                            DispatchPolicy(poll_interval_seconds=0.2), bus=bus)

    async def inbound(request: web.Request) -> web.Response:
        body = await request.json()
        message = InboundMessage(channel=body["channel"], platform_id=body["id"], conversation=body["conversation"],
                                 author=Author(body["user"], body["name"]), text=body["text"])
        outcome = await engine.handle_message(message)
        conversation_id = await store.scalar(select(Message.conversation_id).where(Message.id == outcome.message_id))
        return web.json_response({"message_id": outcome.message_id, "conversation_id": conversation_id})

    for warm in ("提现三天还没到账", "my withdrawal is stuck"):  # load jieba and the matcher before measuring
        engine.triage.decide(warm)
    ctx = AppContext(store=store, engine=engine, inbox=Inbox(store, kb, bus=bus), bus=bus, kb=kb,
                     settings=default_settings())
    lags: list[float] = []

    async def watch_loop() -> None:  # how late the server's event loop wakes up: stalls show here
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.05)
            lags.append((time.perf_counter() - started - 0.05) * 1000)

    async def lag(request: web.Request) -> web.Response:
        values = list(lags)
        lags.clear()
        return web.json_response({"p50": pct(values, .5), "p95": pct(values, .95), "max": max(values or [0])})

    watcher = asyncio.create_task(watch_loop())
    app = create_app(ctx, extra_routes=[web.post("/bench/inbound", inbound), web.get("/bench/lag", lag)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await dispatcher.start()
    ready.set()
    await asyncio.Event().wait()
    watcher.cancel()


async def load_test(url: str, schema: str | None, agents: int, duration: float, rate: float,
                    max_ticket: int) -> None:
    import aiohttp

    from core import accounts
    from core.store import Store

    store = await Store.open(url, schema=schema, migrate=False)
    names = [f"load{i}" for i in range(agents)]
    existing = {a.name for a in await accounts.list_agents(store)}
    for name in names:
        if name not in existing:
            await accounts.create_agent(store, name, "bench-password")
    token = await accounts.create_api_token(store, "bench")
    await store.close()

    port = 18000 + random.randint(0, 999)
    ready = multiprocessing.get_context("spawn").Event()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(url, schema, port, ready), daemon=True)
    server.start()
    if not ready.wait(60):
        raise SystemExit("server did not start")
    base = f"http://127.0.0.1:{port}"
    page_ms: list[float] = []
    api_ms: list[float] = []
    arrivals: list[tuple[int, float]] = []
    refreshed: list[tuple[int, float]] = []
    sent_at: dict[int, float] = {}
    stop = asyncio.Event()
    signed_in: list[str] = []
    kind: dict[str, list[float]] = {k: [] for k in ("list page", "ticket page", "API list", "API ticket")}
    everyone_in = asyncio.Event()
    rng = random.Random(3)

    async def timed(session: aiohttp.ClientSession, path: str, into: list[float], also: list[float],
                    **kw: Any) -> None:
        started = time.perf_counter()
        async with session.get(base + path, **kw) as response:
            await response.read()
            if response.status != 200:
                print("  !", path, response.status)
        into.append((time.perf_counter() - started) * 1000)
        also.append(into[-1])

    async def agent(name: str) -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.post(base + "/login", data={"name": name, "password": "bench-password"},
                                    allow_redirects=False) as response:
                assert response.status == 303, response.status
            events = asyncio.create_task(listen(session))
            signed_in.append(name)
            if len(signed_in) == len(names):
                everyone_in.set()
            await everyone_in.wait()  # measure the steady state, not the sign-in burst (argon2 is slow on purpose)
            while not stop.is_set():
                await asyncio.sleep(rng.uniform(1.0, 4.0))
                pick = rng.random()
                if pick < 0.4:
                    await timed(session, "/?status=open", page_ms, kind["list page"])
                elif pick < 0.7:
                    await timed(session, f"/tickets/{rng.randint(1, max_ticket)}", page_ms, kind["ticket page"])
                elif pick < 0.85:
                    await timed(session, "/api/v1/tickets?status=open&limit=50", api_ms, kind["API list"],
                                headers={"Authorization": f"Bearer {token}"})
                else:
                    await timed(session, f"/api/v1/tickets/{rng.randint(1, max_ticket)}", api_ms,
                                kind["API ticket"], headers={"Authorization": f"Bearer {token}"})
            events.cancel()

    async def listen(session: aiohttp.ClientSession) -> None:
        refreshing = False
        tasks: set[asyncio.Task[None]] = set()

        async def refresh(conversation_id: int) -> None:
            nonlocal refreshing
            await asyncio.sleep(0.15 + rng.random() * 0.35)  # as the page script: coalesce, spread agents
            try:
                async with session.get(base + "/?status=open&fragment=rows") as response:
                    await response.read()
            except (aiohttp.ClientError, RuntimeError):  # the run ended under this refresh
                return
            refreshed.append((conversation_id, time.perf_counter()))
            refreshing = False

        async with session.get(base + "/events", timeout=aiohttp.ClientTimeout(total=None)) as response:
            kind = None
            async for raw in response.content:
                row = raw.decode().strip()
                if row.startswith("event: "):
                    kind = row[7:]
                elif row.startswith("data: ") and kind == "message":
                    data = json.loads(row[6:])
                    conversation_id = data.get("conversation_id")
                    if conversation_id is not None:
                        arrivals.append((conversation_id, time.perf_counter()))
                        # The page refreshes its list on the ticket event sent together with this one.
                        if data.get("ticket_id") is not None and not refreshing:
                            refreshing = True
                            task = asyncio.create_task(refresh(conversation_id))
                            tasks.add(task)
                            task.add_done_callback(tasks.discard)

    client_lags: list[float] = []

    async def watch_client() -> None:  # the measuring side's own lateness, to read the figures against
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.05)
            client_lags.append((time.perf_counter() - started - 0.05) * 1000)

    async def send_one(session: aiohttp.ClientSession, count: int) -> None:
        t = rng.randint(1, max_ticket) if rng.random() < 0.5 else max_ticket + 10_000_000 + count
        body = {"channel": "webchat", "id": f"live-{time.time_ns()}", "conversation": f"c{t}",
                "user": f"u{t}", "name": f"Customer {t}",
                "text": rng.choice(["/human", "my withdrawal is stuck", "提现三天还没到账", "hello?"])}
        started = time.perf_counter()
        async with session.post(base + "/bench/inbound", json=body) as response:
            if response.status != 200:
                print("  ! inbound", response.status, (await response.text())[:200])
                return
            result = await response.json()
        # The engine announces the conversation once the message is handled, before the POST returns;
        # arrivals are matched to this start time afterwards.
        if result.get("conversation_id"):
            sent_at[result["conversation_id"]] = started

    async def stream_messages() -> int:
        """Customer messages at a fixed rate, each in its own task (a slow engine must not slow the rate)."""
        count = 0
        pending: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                await asyncio.sleep(1 / rate)
                count += 1
                task = asyncio.create_task(send_one(session, count))
                pending.add(task)
                task.add_done_callback(pending.discard)
            if pending:
                await asyncio.wait(pending, timeout=10)
        return count

    try:
        workers = [asyncio.create_task(agent(n)) for n in names]
        await everyone_in.wait()  # every agent signed in with its stream open
        client_watch = asyncio.create_task(watch_client())
        async with aiohttp.ClientSession() as probe, probe.get(base + "/bench/lag") as response:
            await response.read()  # forget the sign-in burst
        producer = asyncio.create_task(stream_messages())
        await asyncio.sleep(duration)
        async with aiohttp.ClientSession() as probe, probe.get(base + "/bench/lag") as response:
            loop_lag = await response.json()
        stop.set()
        sent = await producer
        await asyncio.wait([*workers, client_watch], timeout=10)
    finally:
        server.terminate()
        server.join(5)
    live_ms = [(t - sent_at[m]) * 1000 for m, t in arrivals if m in sent_at]
    refresh_ms = [(t - sent_at[m]) * 1000 for m, t in refreshed if m in sent_at]
    print(f"  {agents} agents signed in with live streams, {sent} customer messages in {duration:.0f} s")
    print(f"  server event-loop lag: p50 {loop_lag['p50']:.1f} ms, p95 {loop_lag['p95']:.1f} ms, "
          f"max {loop_lag['max']:.0f} ms; client (measuring) loop lag: p50 {pct(client_lags, .5):.1f} ms, "
          f"p95 {pct(client_lags, .95):.1f} ms; load average {os.getloadavg()[0]:.2f}")
    line("page (list / ticket) under load", page_ms)
    line("API (list / ticket) under load", api_ms)
    for label, values in kind.items():
        line(f"  {label}", values)
    line("live event delay (message -> every agent)", live_ms)
    line("live list refresh (event + fragment fetch)", refresh_ms)


async def run_backend(backend: str, args: argparse.Namespace, data: dict[str, list[tuple[Any, ...]]]) -> None:
    import asyncpg

    from core.store import Store

    n_tickets, n_messages = len(data["tickets"]), len(data["messages"])
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="inbox-bench-")
        url, schema, raw = f"sqlite+aiosqlite:///{folder}/bench.db", None, ""
        await (await Store.open(url)).close()
        started = time.perf_counter()
        fill_sqlite(f"{folder}/bench.db", data)
    else:
        raw = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(raw)
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
        await conn.close()
        url, schema = PG_URL, SCHEMA
        await (await Store.open(url, schema=schema)).close()
        started = time.perf_counter()
        await fill_postgres(raw, data)
    took = time.perf_counter() - started
    print(f"\n{backend}: {n_tickets:,} tickets, {n_messages:,} messages loaded in {took:.1f} s")
    store = await Store.open(url, schema=schema, migrate=False)
    try:
        await measure_queries(store, args.repeat)
    finally:
        await store.close()
    try:
        if args.agents:
            await load_test(url, schema, args.agents, args.duration, args.rate, n_tickets)
    finally:
        if backend == "sqlite":
            shutil.rmtree(folder, ignore_errors=True)
        else:
            conn = await asyncpg.connect(raw)
            await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.05, help="1.0 = 100,000 tickets and 1,000,000 messages")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--agents", type=int, default=100, help="0 skips the load phase")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=2.0, help="customer messages per second during the load phase")
    args = parser.parse_args()
    started = time.perf_counter()
    data = rows(args.scale)
    print(f"generated {len(data['tickets']):,} tickets / {len(data['messages']):,} messages "
          f"in {time.perf_counter() - started:.1f} s")
    for backend in args.backends.split(","):
        asyncio.run(run_backend(backend.strip(), args, data))


if __name__ == "__main__":
    main()
