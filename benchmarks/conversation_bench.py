"""How many conversations end helped: multi-turn transcripts through the real engine and store.

Run:  python benchmarks/conversation_bench.py [FILE ...]
      (default: tests/core/conversations_eval.yaml and tests/core/conversations_blind.yaml)

Each transcript's customer turns are sent in order; a turn equal to the label of a choice the bot just
offered ("Solved", "转人工客服", a topic) is sent as a tap on it, as the customer would. Afterwards:
- **ended helped**: answered with an FAQ (or clarified, then answered) and no person needed: no ticket
  opened, and the customer's last verdict on an answer (if any) was not "not solved";
- **end agrees**: the bot's last act (answer / handoff / greet) is what the transcript's author says a
  careful agent's conversation ends with;
- **helped recall / precision**: against the author's ``helped`` label.
Prints one line per file and, with ``--misses``, the transcripts that disagree (not for blind files).
Bounded: in-process, SQLite in a temporary folder, stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from core.flood import FloodGate
from core.knowledge import load_knowledge_base
from core.models import Author, InboundMessage
from core.pipeline import Engine
from core.store import Store
from core.store.replies import outbound_from_row
from core.store.tables import Message, Outbox, Ticket
from core.triage import Triage

REPO = Path(__file__).resolve().parents[1]
DEFAULT = [REPO / "tests/core/conversations_eval.yaml", REPO / "tests/core/conversations_blind.yaml"]


async def run_one(engine: Engine, store: Store, n: int, turns: list[str]) -> dict[str, object]:
    where = f"conv-{n}"
    author = Author(f"u{n}", f"Customer {n}")
    for i, text in enumerate(turns):
        offered = await _offered(store, where)
        payload = offered.get(text.strip())
        await engine.handle_message(InboundMessage(
            "bench", f"{n}-{i}", where, author, payload or text, raw={"button": True} if payload else {}))
    bot = await store.all(select(Message).join(Outbox, Outbox.message_id == Message.id).where(
        Outbox.conversation == where).order_by(Message.id))
    tickets = await store.all(select(Ticket).join(Message, Message.ticket_id == Ticket.id).where(
        Message.channel == "bench", Message.platform_id.like(f"{n}-%")))
    decisions = [(m.decision or {}).get("action") for m in bot]
    answered = "answer" in decisions
    verdicts = [m.feedback for m in bot if m.feedback]
    unhelpful = bool(verdicts) and verdicts[-1] == "unhelpful"  # the customer's last word on an answer
    last = next((d for d in reversed(decisions) if d), None)
    end = "handoff" if tickets else ("answer" if last in ("answer", "helped") and answered else "greet")
    return {"end": end, "helped": answered and not tickets and not unhelpful,
            "clarified": "clarify" in decisions and answered}


async def _offered(store: Store, where: str) -> dict[str, str]:
    """The labels of the choices on the bot's latest message to this conversation -> their payloads."""
    rows = await store.all(select(Outbox).where(Outbox.conversation == where).order_by(Outbox.id.desc()).limit(3))
    for row in rows:
        reply = outbound_from_row(row)
        if reply.quick_replies:
            return {q.label: q.payload for q in reply.quick_replies}
    return {}


async def measure(path: Path, items: list[dict[str, object]], show_misses: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite+aiosqlite:///{folder}/bench.db")
        kb = load_knowledge_base()
        engine = Engine(store, Triage(kb), kb, flood=FloodGate(default=1_000_000))
        results = [await run_one(engine, store, n, item["turns"]) for n, item in enumerate(items)]
        await store.close()
    agree = sum(r["end"] == item["end"] for r, item in zip(results, items, strict=True))
    helped = [bool(r["helped"]) for r in results]
    labelled = [bool(item.get("helped")) for item in items]
    true_pos = sum(h and lab for h, lab in zip(helped, labelled, strict=True))
    print(f"{path.name}: {len(items)} conversations; ended helped {sum(helped)}/{len(items)} = "
          f"{sum(helped) / len(items):.1%} (clarified then answered: {sum(bool(r['clarified']) for r in results)}); "
          f"end agrees with the label {agree / len(items):.1%}; helped recall "
          f"{true_pos / max(1, sum(labelled)):.1%}, precision {true_pos / max(1, sum(helped)):.1%}; "
          f"ends: {dict(Counter(str(r['end']) for r in results))}")
    if show_misses and "blind" not in path.name:
        for r, item in zip(results, items, strict=True):
            if r["end"] != item["end"] or bool(r["helped"]) != bool(item.get("helped")):
                print(f"  {item.get('name', '?')}: expected {item['end']}/{item.get('helped')}, "
                      f"got {r['end']}/{r['helped']}: {item['turns']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--misses", action="store_true", help="list disagreements (never for blind files)")
    args = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    for path in args.files or [p for p in DEFAULT if p.exists()]:
        asyncio.run(measure(path, yaml.safe_load(path.read_text(encoding="utf-8")), args.misses))


if __name__ == "__main__":
    main()
