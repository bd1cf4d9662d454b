"""Multi-turn transcripts through the real engine: each ends where a careful agent's conversation would."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from benchmarks.conversation_bench import run_one
from core.flood import FloodGate
from core.pipeline import Engine

TRANSCRIPTS = yaml.safe_load((Path(__file__).parent / "conversations_eval.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("item", TRANSCRIPTS, ids=[t["name"] for t in TRANSCRIPTS])
async def test_transcript_ends_as_a_careful_agent_would(store, triage, kb, item) -> None:
    engine = Engine(store, triage, kb, flood=FloodGate(default=1_000_000))
    result = await run_one(engine, store, 1, item["turns"])
    assert (result["end"], result["helped"]) == (item["end"], bool(item["helped"]))
