"""The evaluation set the running product ships (core/data) is the project's, and measures what the tests measure."""

from __future__ import annotations

from pathlib import Path

from core.knowledge_eval import THRESHOLDS, compare, eval_set, evaluate, try_question
from core.triage import Triage

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_evaluation_set_is_the_projects() -> None:
    shipped = (REPO / "core" / "data" / "triage_eval.yaml").read_text(encoding="utf-8")
    project = (REPO / "tests" / "core" / "triage_eval.yaml").read_text(encoding="utf-8")
    assert shipped == project, "copy tests/core/triage_eval.yaml to core/data/triage_eval.yaml"


def test_scores_of_the_packaged_knowledge_base_meet_the_thresholds(triage: Triage) -> None:
    scores = evaluate(triage)
    assert scores.messages == len(eval_set()) >= 180
    assert all(scores.passes(name) for name in THRESHOLDS), scores.as_dict()
    same = compare(scores, scores)
    assert not same.lowers and not same.lost and not same.gained


def test_trying_a_question_names_the_runner_up(triage: Triage) -> None:
    trial = try_question(triage, "my transfer did not arrive")
    assert trial.ranking and trial.runner_up is not None and trial.runner_up[0] != trial.faq_id
    assert 0 <= trial.confidence <= 1
