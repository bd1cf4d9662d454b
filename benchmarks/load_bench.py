"""Load benchmark: 10,000 customer messages through the Telegram webhook and the website chat, end to end.

Starts the real product on 127.0.0.1 in two topologies and sends it FAQ questions in English and Chinese
from many distinct customers, about half through Telegram (the fake Bot API of tests/fakes, in a process
of its own with the Telegram customers: benchmarks/load_telegram.py), half through the website chat
(visitors in this process: cookie from /chat, then the socket, as benchmarks/chat_bench.py does):

- ``one``: one `supportbot run` (role all), on SQLite and, with ``--postgres``, on PostgreSQL;
- ``scaled``: on PostgreSQL, two ``--role web`` processes (visitors and Telegram customers split over
  both; each customer stays on one) and one ``--role dispatcher``.

Each customer asks its next question once the reply to the previous one arrived (at most ``--in-flight``
questions wait for replies at once, half per channel), so replies match questions by chat and order. The
run goes in ``--rounds`` rounds; after each the database size is printed (housekeeping runs every few
seconds with retentions of seconds for delivered outbox rows and for messages without a ticket, so
pruning shows). Printed: sent and replied per channel, lost (no reply within ``--reply-timeout``) and
duplicated (more replies than questions on a chat, or one socket frame id twice), both must be 0;
throughput from the first question in to the last reply out; p50/p99 of question in -> reply out per channel;
peak RSS (VmHWM) of every server process; the scaled/one ratio.
Bounded: ``--deadline`` seconds for everything; exits 1 on a lost or duplicated reply or the deadline.

    python benchmarks/load_bench.py [--quick] [--messages 10000] [--topology one|scaled|both]
                                    [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test | off]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fakes and the process helper live in tests/
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from benchmarks.chat_bench import create_database, drop_database
from benchmarks.load_telegram import serve
from benchmarks.load_webchat import Crowd
from tests.fakes.telegram_api import TOKEN
from tests.process import SupportbotProcess, free_port

QUESTIONS = {"en": ["How can I contact customer support?", "I forgot my password, how do I log in?",
                    "How do I verify my identity?", "Can I cancel a transaction?"],
             "zh": ["怎么联系客服？", "转账失败了怎么办", "忘记密码怎么办", "如何进行身份认证"]}
SECRET = "load-bench_Secret-1"
TELEGRAM_RATE = 5000.0  # the fake is not strict: the product's own throughput is measured, not Telegram's 30/s
PER_CHAT_RATE = 1000.0
VACUUMED: set[str] = set()  # databases the benchmark vacuumed itself (the server's autovacuum is off)
CONFIG = """\
database_url: {db}
web:
  host: 127.0.0.1
  public_url: http://127.0.0.1:{port}
dispatch:
  poll_interval_seconds: 0.5
housekeeping:
  interval_minutes: {interval_minutes}
  keep_sent_replies_days: {keep_days}
  keep_unticketed_messages_days: {history_days}
channels:
  webchat:
    enabled: true
    visitor_messages_per_minute: 100000
    customer_messages_per_minute: 1000000
    new_visitors_per_address_per_minute: 100000
    sockets_per_address: 100000
  telegram:
    enabled: true
    token: ${{TELEGRAM_BOT_TOKEN}}
    webhook_secret: ${{TELEGRAM_WEBHOOK_SECRET}}
    api_base_url: {api}
    mode: webhook
    rate_per_second: {rate}
    rate_per_conversation_per_second: {per_chat}
    customer_messages_per_minute: 1000000
"""


@dataclass
class Outcome:
    """What one topology did, for the summary lines and the ratio."""

    name: str
    samples: dict[str, list[tuple[float, float | None]]] = field(default_factory=lambda: {"telegram": [],
                                                                                            "webchat": []})
    duplicated: dict[str, int] = field(default_factory=lambda: {"telegram": 0, "webchat": 0})
    sizes: list[tuple[str, int, int, int]] = field(default_factory=list)  # (when, bytes, messages, outbox rows)
    spans: list[float] = field(default_factory=list)  # seconds from first question in to last reply out, per round
    warm_lost: int = 0
    memory: list[tuple[str, int, int]] = field(default_factory=list)  # (process, KiB at start, peak KiB)
    cpu: list[tuple[str, float]] = field(default_factory=list)  # (process, CPU seconds during the rounds)
    busy: float = 0.0  # share of all CPUs in use during the rounds
    problems: list[str] = field(default_factory=list)
    kinds: dict[str, Counter[str]] = field(default_factory=dict)  # channel -> reply text (40 chars) -> count
    vacuumed: bool = False  # the benchmark ran VACUUM itself before measuring sizes (see database_size)

    @property
    def lost(self) -> int:
        return self.warm_lost + sum(1 for rows in self.samples.values() for _, out in rows if out is None)

    @property
    def rate(self) -> float:
        """Messages per second of round time (each round: first question in -> last reply out)."""
        rows = sum(len(rs) for rs in self.samples.values())
        return rows / sum(self.spans) if self.spans else 0.0

    @property
    def overall(self) -> float:
        """Messages per second from the first question in to the last reply out of the whole run, pauses
        between rounds (the size measurements) included."""
        rows = [r for rs in self.samples.values() for r in rs]
        outs = [o for _, o in rows if o is not None]
        return len(rows) / (max(outs) - min(i for i, _ in rows)) if outs else 0.0


def vm_kib(pid: int, key: str = "VmHWM") -> int:
    """A memory figure of a process from /proc/<pid>/status, in KiB: VmHWM is the peak resident set size."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs, from /proc/stat: the share of the machine in use over an interval."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


async def database_size(db_url: str) -> tuple[int, int, int]:
    """(bytes on disk: SQLite file + WAL, or pg_database_size; rows in messages; rows in outbox).

    A PostgreSQL server with autovacuum off never makes the space of pruned rows reusable: then this runs
    the plain VACUUM autovacuum would have run (between rounds, outside their timing), and says so."""
    counts = "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM outbox)"
    if db_url.startswith("sqlite"):
        path = Path(db_url.split(":///", 1)[1])
        size = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
            messages, outbox = conn.execute(counts).fetchone()
        return size, int(messages), int(outbox)
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        if await conn.fetchval("SHOW autovacuum") == "off":
            VACUUMED.add(db_url)
            await conn.execute("VACUUM")
        size = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
        row = await conn.fetchrow(counts)
        return size, int(row[0]), int(row[1])
    finally:
        await conn.close()


class FakeProcess:
    """The fake Bot API and the Telegram customers, in a spawned process (load_telegram.py)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.pipe, theirs = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(target=serve, args=(self.port, SECRET, theirs),
                                                                    daemon=True)
        self.process.start()
        theirs.close()  # the child holds it now: when the child ends, a waiting recv() ends too
        if not self.pipe.poll(60) or self.pipe.recv() != "ready":
            raise RuntimeError("the fake Bot API did not start")

    async def ask(self, *command: object) -> object:
        self.pipe.send(command)
        return await asyncio.to_thread(self.pipe.recv)

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self.pipe.send(("stop",))
            except OSError:
                pass
            self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def plan(customers: int, first_id: int, count: int, offset: int) -> tuple[list[int], list[str], list[list[str]]]:
    """One round: customer ids, languages and each customer's questions (``count`` spread evenly; ``offset``
    turns the questions, so each round asks each customer something else)."""
    ids = [first_id + n for n in range(customers)]
    langs = ["zh" if n % 2 else "en" for n in range(customers)]
    texts: list[list[str]] = [[] for _ in ids]
    for k in range(count):
        n = k % customers
        pool = QUESTIONS[langs[n]]
        texts[n].append(pool[(n + offset + len(texts[n])) % len(pool)])
    return ids, langs, texts


async def run_topology(name: str, args: argparse.Namespace, pg_url: str | None, scaled: bool) -> Outcome:
    """Start the deployment, run the rounds, measure, clean up everything it started."""
    outcome = Outcome(name)
    fake = FakeProcess()
    created: tuple[str, str] | None = None
    processes: list[SupportbotProcess] = []
    crowd: Crowd | None = None
    with tempfile.TemporaryDirectory(prefix="load_bench_") as tmp:
        try:
            if pg_url:
                created = await create_database(pg_url)
                db_url = created[0]
            else:
                db_url = f"sqlite+aiosqlite:///{tmp}/supportbot.db"
            env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET}
            roles = [("web-a", "web"), ("web-b", "web"), ("dispatcher", "dispatcher")] if scaled else [("all", "all")]
            for label, role in roles:
                port = free_port()
                text = CONFIG.format(db=db_url, port=port, api=f"http://127.0.0.1:{fake.port}", rate=TELEGRAM_RATE,
                                     per_chat=PER_CHAT_RATE, interval_minutes=args.housekeeping_seconds / 60,
                                     keep_days=args.keep_seconds / 86400,
                                     history_days=args.keep_history_seconds / 86400)
                processes.append(SupportbotProcess(Path(tmp) / label, text, env, port=port, role=role))
            await asyncio.gather(*(p.astart() for p in processes))
            await asyncio.gather(*(p.wait_ready() for p in processes))
            webs = [p for p in processes if p.role in ("web", "all")]
            pids = {f"{p.role} ({p.folder.name})": p.process.pid for p in processes}  # type: ignore[union-attr]
            at_start = {who: vm_kib(pid, "VmRSS") for who, pid in pids.items()}
            pids |= {"fake Telegram + its customers": fake.process.pid, "webchat client": os.getpid()}
            print(f"\n== {name}: {', '.join(f'{p.role} pid {p.process.pid}' for p in processes)}; "  # type: ignore[union-attr]
                  f"database {db_url.split('://')[0]}; load average {os.getloadavg()[0]:.2f}")
            outcome.sizes.append(("before", *await database_size(db_url)))
            crowd = Crowd([p.url for p in webs], args.visitors, QUESTIONS)
            await crowd.open()
            hooks = [p.url + "/webhooks/telegram" for p in webs]
            warm = min(200, args.messages // 10)
            rounds = [("warm-up", warm)] + [(f"round {n + 1}", args.messages // args.rounds
                                             + (1 if n < args.messages % args.rounds else 0))
                                            for n in range(args.rounds)]
            for number, (label, count) in enumerate(rounds):
                half = count // 2
                ids, langs, texts = plan(args.telegram_users, 700_000, count - half, number * 3)
                tg = {"targets": hooks, "users": ids, "languages": langs, "texts": texts,
                      "in_flight": max(1, args.in_flight // 2), "reply_timeout": args.reply_timeout}
                tg_samples, chat_samples = await asyncio.gather(
                    fake.ask("round", tg), crowd.run_round(half, max(1, args.in_flight // 2), args.reply_timeout))
                rows = {"telegram": [(i, o) for _, _, i, o in tg_samples], "webchat": chat_samples}  # type: ignore[union-attr]
                lost = sum(1 for rs in rows.values() for _, o in rs if o is None)
                ins, outs = [i for rs in rows.values() for i, _ in rs], [o for rs in rows.values() for _, o in rs if o]
                span = max(max(outs, default=0.0) - min(ins, default=0.0), 1e-9)
                outcome.problems += [f"telegram chat {chat}: question {n} unanswered after {args.reply_timeout:g} s"
                                     for chat, n, _, o in tg_samples if o is None]  # type: ignore[union-attr]
                outcome.problems += crowd.take_lost()
                if label == "warm-up":
                    outcome.warm_lost = lost
                    cpu_before, busy_before = {who: cpu_seconds(pid) for who, pid in pids.items()}, machine_busy()
                else:
                    outcome.spans.append(span)
                    for channel, rs in rows.items():
                        outcome.samples[channel] += rs
                size, messages, outbox = await database_size(db_url)
                outcome.sizes.append((label, size, messages, outbox))
                print(f"{label}: {len(rows['telegram'])} telegram + {len(rows['webchat'])} webchat questions in "
                      f"{span:.2f} s ({(len(rows['telegram']) + len(rows['webchat'])) / span:.0f}/s), lost {lost}; "
                      f"database {size / 1e6:.2f} MB, {messages} messages, {outbox} outbox rows")
            busy_after = machine_busy()
            outcome.busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
            outcome.cpu = [(who, cpu_seconds(pid) - cpu_before[who]) for who, pid in pids.items()]
            await asyncio.sleep(args.grace)  # late or second replies arrive now, if any
            outcome.memory = [(who, at_start[who], vm_kib(pids[who])) for who in at_start]
            tally = await fake.ask("tally")
            for chat, (asked, got, extra) in tally["chats"].items():  # type: ignore[index]
                if got > asked:
                    outcome.duplicated["telegram"] += got - asked
                    outcome.problems.append(f"telegram chat {chat}: {asked} questions, {got} replies; "
                                            f"extra {extra[:2]}")
            outcome.duplicated["webchat"] = crowd.duplicated(outcome.problems)
            outcome.kinds = {"telegram": tally["kinds"], "webchat": crowd.kinds()}  # type: ignore[index]
            if tally["webhook_retries"]:  # type: ignore[index]
                outcome.problems.append(f"webhook answered non-2xx {tally['webhook_retries']} times (retried)")  # type: ignore[index]
            await asyncio.sleep(max(0.0, args.keep_seconds + args.housekeeping_seconds - args.grace))
            outcome.sizes.append(("after retention", *await database_size(db_url)))
            outcome.vacuumed = db_url in VACUUMED
        except asyncio.CancelledError:  # the deadline: say what was still missing
            if crowd is not None:
                print(f"{name}: stopped by the deadline; {crowd.waiting()} webchat questions still waiting for a "
                      "reply; the Telegram round in progress is cut")
            raise
        finally:
            if crowd is not None:
                await crowd.close()
            for p in processes:
                if p.running:
                    try:
                        await p.aterminate(30)
                    except Exception:  # killed instead; cleanup goes on
                        p.kill()
            fake.stop()
            if created and pg_url:
                await drop_database(pg_url, created[1])
    return outcome


def report(outcome: Outcome) -> None:
    print(f"-- {outcome.name}")
    for channel, rows in outcome.samples.items():
        ms = sorted((o - i) * 1000 for i, o in rows if o is not None)
        lost = sum(1 for _, o in rows if o is None)
        q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [float("nan")] * 99
        print(f"{channel:<9} sent {len(rows):>6}  replied {len(ms):>6}  lost {lost}  duplicated "
              f"{outcome.duplicated[channel]}  p50 {q[49]:7.1f} ms  p99 {q[98]:7.1f} ms")
    for channel, kinds in outcome.kinds.items():
        print(f"{channel} replies: " + "; ".join(f"{n} x {text!r}" for text, n in kinds.most_common(3))
              + (f"; {len(kinds) - 3} other kinds" if len(kinds) > 3 else ""))
    rows = [r for rs in outcome.samples.values() for r in rs]
    print(f"throughput {outcome.rate:.1f} messages/s over the rounds (each: first question in -> last reply out; "
          f"{len(rows)} messages in {sum(outcome.spans):.1f} s); {outcome.overall:.1f}/s over the whole run "
          f"incl. the pauses between rounds")
    print("peak RSS (VmHWM): " + ", ".join(f"{who} {peak / 1024:.0f} MiB (at start {start / 1024:.0f})"
                                          for who, start, peak in outcome.memory))
    print(f"CPU during the rounds: all CPUs {outcome.busy:.0%} busy; " + ", ".join(
        f"{who} {seconds:.1f} s" for who, seconds in outcome.cpu) + " (the rest: PostgreSQL, the system)")
    print("database size: " + ", ".join(f"{when} {size / 1e6:.2f} MB" for when, size, _, _ in outcome.sizes)
          + ("; autovacuum is off on this server: the benchmark ran VACUUM before each measurement"
             if outcome.vacuumed else ""))
    print("rows (messages/outbox): " + ", ".join(f"{when} {m}/{o}" for when, _, m, o in outcome.sizes))
    for problem in outcome.problems[:20]:
        print(f"  ! {problem}")
    if len(outcome.problems) > 20:
        print(f"  ! ... and {len(outcome.problems) - 20} more")


async def main(args: argparse.Namespace) -> int:
    pg = None if args.postgres.lower() == "off" else args.postgres
    runs: list[tuple[str, str | None, bool]] = []
    if args.topology in ("one", "both"):
        runs.append(("one process, SQLite", None, False))
        if pg:
            runs.append(("one process, PostgreSQL", pg, False))
    if args.topology in ("scaled", "both"):
        if not pg:
            raise SystemExit("the scaled topology needs --postgres URL")
        runs.append(("scaled: 2 web + 1 dispatcher, PostgreSQL", pg, True))
    print(f"load_bench: {args.messages} messages per topology ({args.messages - args.messages // 2} telegram from "
          f"{args.telegram_users} users, {args.messages // 2} webchat from {args.visitors} visitors), {args.rounds} "
          f"rounds, at most {args.in_flight} awaiting a reply; fake Telegram not strict, configured rate "
          f"{TELEGRAM_RATE:.0f}/s per bot and {PER_CHAT_RATE:.0f}/s per chat; housekeeping every "
          f"{args.housekeeping_seconds:.0f} s, keeping sent replies {args.keep_seconds:.0f} s and messages without a "
          f"ticket {args.keep_history_seconds:.0f} s; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    outcomes: list[Outcome] = []
    try:
        async with asyncio.timeout(args.deadline):
            for name, url, scaled in runs:
                outcomes.append(await run_topology(name, args, url, scaled))
                report(outcomes[-1])
    except TimeoutError:
        print(f"DEADLINE: stopped after {args.deadline:.0f} s; finished: {[o.name for o in outcomes]}, not finished: "
              f"{[n for n, _, _ in runs[len(outcomes):]]}")
        return 1
    one = next((o for o in outcomes if o.name == "one process, PostgreSQL"), None)
    scaled_run = next((o for o in outcomes if o.name.startswith("scaled")), None)
    if one and scaled_run and one.rate:
        print(f"\nscaled / one process on PostgreSQL: {scaled_run.rate / one.rate:.2f}x "
              f"({scaled_run.rate:.1f} vs {one.rate:.1f} messages/s)")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    bad = sum(o.lost + sum(o.duplicated.values()) for o in outcomes)
    if bad:
        print(f"FAILED: {bad} lost or duplicated replies")
    return 1 if bad else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="per topology, about half per channel")
    parser.add_argument("--quick", action="store_true", help="1,000 messages from 100 + 100 customers")
    parser.add_argument("--topology", choices=("one", "scaled", "both"), default="both")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
                        help="server for fresh databases (dropped afterwards); 'off' runs SQLite only")
    parser.add_argument("--telegram-users", type=int, default=500)
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--in-flight", type=int, default=100, help="questions awaiting a reply at once, in all")
    parser.add_argument("--reply-timeout", type=float, default=60.0)
    parser.add_argument("--grace", type=float, default=3.0, help="seconds to wait for late or second replies")
    parser.add_argument("--housekeeping-seconds", type=float, default=3.0)
    parser.add_argument("--keep-seconds", type=float, default=5.0, help="retention of delivered outbox rows")
    parser.add_argument("--keep-history-seconds", type=float, default=5.0,
                        help="retention of messages without a ticket (all of this benchmark's)")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds for the whole run")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.telegram_users, args.visitors = 1000, 100, 100
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
