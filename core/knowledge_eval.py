"""The project's evaluation set, run against a knowledge base before it is published, and "try a question".

The set ships as core/data/triage_eval.yaml (a copy of tests/core/triage_eval.yaml; a test keeps the
two equal). ``evaluate`` is the one measure of triage quality: tests/core/test_triage_eval.py and
benchmarks/triage_quality.py use it too. A draft is compared with the knowledge base in force; a gated
figure that gets worse marks the change as lowering the scores.

Figures:
- answered or clarified: of messages labelled with an FAQ, the share answered with it, or met with a
  "which" question whose (at most three) choices include it: the customer taps it and is helped;
- strict FAQ accuracy: the same without the clarifying questions (shown, not gated: adding an entry may
  turn an answer into a question, which is not a wrong answer);
- handoff recall: of messages labelled handoff, the share handed off. A clarifying question is not a
  handoff, except for messages labelled ``reason: vague`` ("help", "问题"), where asking is right;
- wrong answers: answers with the wrong FAQ, or answers where a handoff or greeting was expected, over all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from core.triage import Answer, Clarify, Decision, Triage

EVAL_FILE = "triage_eval.yaml"
ACTIONS = {"answer", "handoff", "greet"}
MAX_OPTIONS = 3  # a "which" question with more choices than this helps nobody
THRESHOLDS = {"answered_or_clarified": 0.95, "handoff_recall": 0.95, "wrong_answer_rate": 0.01}  # issue 13's goal
HIGHER_IS_BETTER = {"answered_or_clarified": True, "handoff_recall": True, "wrong_answer_rate": False}
LABELS = {"answered_or_clarified": "FAQ answered (or the right choice offered)", "handoff_recall": "Handoff recall",
          "wrong_answer_rate": "Wrong answers"}


@lru_cache(maxsize=1)
def eval_set() -> tuple[dict[str, Any], ...]:
    text = resources.files("core").joinpath("data", EVAL_FILE).read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text))


@dataclass(frozen=True, slots=True)
class Outcome:
    """One labelled message as decided: ``ok`` when the customer is served as labelled (a right
    clarifying question counts), ``exact`` when the decision is the label itself."""

    item: dict[str, Any]
    decision: Decision
    ok: bool
    exact: bool
    wrong_answer: bool


def judge(triage: Triage, item: dict[str, Any]) -> Outcome:
    d = triage.decide(item["text"])
    expected, faq_id = item["action"], item.get("faq_id")
    right_answer = isinstance(d, Answer) and d.faq_id == faq_id
    if expected == "answer":
        clarified = (isinstance(d, Clarify) and d.kind == "which" and len(d.options) <= MAX_OPTIONS
                     and faq_id in d.options)
        ok = right_answer or clarified
    elif expected == "handoff":
        ok = d.action == "handoff" or (item.get("reason") == "vague" and isinstance(d, Clarify))
    else:
        ok = d.action == expected
    exact = ok and (expected != "answer" or right_answer)
    return Outcome(item, d, ok, exact, isinstance(d, Answer) and not right_answer)


@dataclass(frozen=True, slots=True)
class Scores:
    messages: int
    faq_accuracy: float
    answered_or_clarified: float
    handoff_recall: float
    wrong_answers: int
    wrong_answer_rate: float
    outcomes: tuple[bool, ...]  # per message of the set: served as labelled

    def figure(self, name: str) -> float:
        return float(getattr(self, name))

    def passes(self, name: str, thresholds: dict[str, float] = THRESHOLDS) -> bool:
        value, limit = self.figure(name), thresholds[name]
        return value >= limit if HIGHER_IS_BETTER[name] else value <= limit

    def meets(self, thresholds: dict[str, float] = THRESHOLDS) -> bool:
        return all(self.passes(name, thresholds) for name in thresholds)

    def as_dict(self) -> dict[str, float | int]:
        return {"messages": self.messages, "faq_accuracy": self.faq_accuracy,
                "answered_or_clarified": self.answered_or_clarified, "handoff_recall": self.handoff_recall,
                "wrong_answers": self.wrong_answers, "wrong_answer_rate": self.wrong_answer_rate}


def evaluate(triage: Triage, items: tuple[dict[str, Any], ...] | list[dict[str, Any]] | None = None,
             judged: list[Outcome] | None = None) -> Scores:
    """Scores of ``items`` (the shipped set by default); each Outcome is appended to ``judged`` if given."""
    items = eval_set() if items is None else items
    faq = handoff = strict = helped = handed = wrong = 0
    outcomes: list[bool] = []
    for item in items:
        o = judge(triage, item)
        if judged is not None:
            judged.append(o)
        if item["action"] == "answer":
            faq += 1
            strict += o.exact
            helped += o.ok
        elif item["action"] == "handoff":
            handoff += 1
            handed += o.ok
        wrong += o.wrong_answer
        outcomes.append(o.ok)
    return Scores(len(items), round(strict / faq, 4) if faq else 1.0, round(helped / faq, 4) if faq else 1.0,
                  round(handed / handoff, 4) if handoff else 1.0, wrong,
                  round(wrong / len(items), 4) if items else 0.0, tuple(outcomes))


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    label: str
    current: float
    draft: float
    worse: bool
    better: bool
    passes: bool


@dataclass(frozen=True, slots=True)
class Comparison:
    rows: tuple[Row, ...]
    lost: tuple[dict[str, Any], ...]  # messages the draft gets wrong that the current base got right
    gained: tuple[dict[str, Any], ...]

    @property
    def lowers(self) -> bool:
        return any(r.worse for r in self.rows)


def compare(current: Scores, draft: Scores, items: tuple[dict[str, Any], ...] | None = None) -> Comparison:
    items = eval_set() if items is None else items
    rows = []
    for name, higher in HIGHER_IS_BETTER.items():
        a, b = current.figure(name), draft.figure(name)
        worse = b < a if higher else b > a
        better = b > a if higher else b < a
        rows.append(Row(name, LABELS[name], a, b, worse, better, draft.passes(name)))
    lost = tuple(i for i, was, now in zip(items, current.outcomes, draft.outcomes, strict=False) if was and not now)
    gained = tuple(i for i, was, now in zip(items, current.outcomes, draft.outcomes, strict=False) if now and not was)
    return Comparison(tuple(rows), lost, gained)


@dataclass(frozen=True, slots=True)
class Trial:
    """What the bot would do with one question: the decision, its confidence and the runner-up FAQ."""

    action: str
    faq_id: str | None
    reason: str | None
    confidence: float
    reply: str
    ranking: tuple[tuple[str, float], ...]  # FAQs by lexical score, best first (at most three)

    @property
    def runner_up(self) -> tuple[str, float] | None:
        chosen = self.faq_id or (self.ranking[0][0] if self.ranking else None)
        return next(((f, s) for f, s in self.ranking if f != chosen), None)


def try_question(triage: Triage, text: str) -> Trial:
    d = triage.decide(text)
    return Trial(d.action, getattr(d, "faq_id", None), getattr(d, "reason", None), d.confidence, d.reply,
                 triage.ranking(text))
