"""Triage: one customer message -> answer an FAQ, ask, hand off to a human, or greet. Pure, no I/O.

Order of questions, because a wrong answer about money is the worst outcome and a needless handoff the
next worst, while a question whose choices hold the right FAQ ends helped after one tap:
1. incidents, a specific case to trace and explicit requests for a person (core/triage_rules.py, highest
   priority wins), then the topics the knowledge base says it does not cover (its ``not_covered`` section);
2. small talk, also when it closes the loop ("thanks, it works now"); a vague opener ("help") is asked
   what it is about (core/triage_talk.py);
3. FAQ matching (synonyms -> terms -> BM25 over sample questions and per-FAQ documents): answered when the
   best FAQ is confident, clearly ahead and not contradicted by a word another FAQ owns; otherwise asked
   about ("which of these?") when the words are ours, and handed off when they are not.
The reply to a "which" question (``TriageContext.offered``) only has to choose among the choices.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from core.knowledge import Entry, KnowledgeBase
from core.language import detect_language, prepare, to_traditional
from core.matcher import QUERY_TERMS, Analyzer, Index
from core.triage_rule import HAN_CHAR, LATIN_CHAR, Rule, RuleTable
from core.triage_rules import RULES, UNRESOLVED
from core.triage_talk import (
    CLOSING,
    CLOSING_OPEN,
    GREETING_FILLER,
    GREETINGS,
    NO_TOPIC_TERMS,
    NONE_OF,
    ORDINAL,
    TROUBLE_TERMS,
    URGENT,
    VAGUE,
    asks,
)

READ_HEAD, READ_TAIL = 3072, 1024  # characters triage reads of a longer message: its start and its end
MAX_CHOICES = 3  # a "which" question offers at most this many FAQs
# Where a message turns to another question: a question mark with more after it, "also", "btw", "另外", "顺便"
_ANOTHER_QUESTION = re.compile(
    r"[?？]+(?=.*[a-z0-9\u4e00-\u9fff])|(?<![a-z])(?:and )?(?:also|plus|btw|by the way|another question|one more "
    r"(?:thing|question)|oh and)(?![a-z])|另外|顺便(?:问(?:一)?下|问)?|"
    r"(?:[,，。;；]\s*)还有(?=我|个|一个|一件|就是|想|要问)|还想问|再问(?:一)?下|同时(?:想|也)?问"
)
_ASKS = re.compile(
    r"[?？]|(?<![a-z])(?:how|what|whats|where|wheres|when|why|which|who|can|could|is|are|do|does|will|should)(?![a-z])|"
    r"吗|么|怎|多少|多久|多长|哪|什么|啥|能不能|可不可以|是否|有没有|几"
)

PRIORITY_RANK = {"urgent": 3, "high": 2, "normal": 1, "low": 0}


@dataclass(frozen=True, slots=True)
class Answer:
    faq_id: str
    confidence: float
    lang: str
    reply: str
    action: Literal["answer"] = "answer"


@dataclass(frozen=True, slots=True)
class Handoff:
    """``reply`` may contain ``{ticket}``: the pipeline fills it once the ticket exists."""

    reason: str
    priority: str
    lang: str
    confidence: float
    reply: str
    action: Literal["handoff"] = "handoff"
    faq_id: str | None = None


@dataclass(frozen=True, slots=True)
class Greet:
    kind: str
    lang: str
    reply: str
    confidence: float
    action: Literal["greet"] = "greet"


@dataclass(frozen=True, slots=True)
class Clarify:
    """Not sure enough to answer, sure enough not to need a person yet: ask. ``kind`` "which" offers the
    close FAQs (``options``) as choices; "vague" asks what it is about (with the topics as choices)."""

    kind: str
    options: tuple[str, ...]
    lang: str
    reply: str
    confidence: float
    action: Literal["clarify"] = "clarify"


Decision = Answer | Handoff | Greet | Clarify


@dataclass(frozen=True, slots=True)
class TriageContext:
    """``offered`` and ``earlier``: the message answers a "which" question that offered these FAQs about the
    ``earlier`` message. Its words then only have to choose among the choices (or say it is none of them)."""

    language_hint: str | None = None
    previous_faq_id: str | None = None
    turns: int = 0
    offered: tuple[str, ...] = ()
    earlier: str = ""


class SemanticBackend(Protocol):
    """Optional embedding scorer, e.g. a sentence-transformer loaded from a local model path.

    ``scores`` returns faq_id -> similarity in [0, 1]; it is blended with the lexical score.
    Nothing in the product requires one.
    """

    def scores(self, text: str, kb: KnowledgeBase) -> Mapping[str, float]: ...


class Triage:
    """Decides what to do with one message. Build once per knowledge base; ``decide`` is pure."""

    def __init__(
        self, kb: KnowledgeBase, *, min_confidence: float = 0.30, semantic: SemanticBackend | None = None
    ) -> None:
        self.kb = kb
        self.min_confidence = min_confidence
        self.min_specificity = 0.45  # only words every FAQ shares ("account") are no evidence
        self.min_single_specificity = 0.6
        self.min_margin = 0.2  # runner-up within 20 % of the best: ambiguous, ask which one
        self.min_guess = 0.2  # below the answer bar, a lead this strong is worth asking about
        self.min_guess_coverage = 0.5  # ... when at least half the message's words are the knowledge base's
        self.close_runner_up = 0.6  # a runner-up scoring this share of the best is offered too
        # a word mostly another FAQ's (this share of its use), unused by the best one, while that FAQ scores at
        # least rival_score of the best: the message carries evidence for both, ask which
        self.rival_share = 0.6
        self.rival_score = 0.5
        self.choice_lead = 1.15  # after "which one?", the words must prefer one choice by this factor
        self.semantic = semantic
        self._analyzer = Analyzer(kb.synonyms)
        texts = [q for e in kb.entries for qs in e.questions.values() for q in qs]
        texts += [k for e in kb.entries for ks in e.keywords.values() for k in ks]
        self._analyzer.learn(texts)
        faq_ids = [e.id for e in kb.entries]
        docs: list[tuple[int, list[str]]] = []
        declared: list[set[str]] = []  # each entry's own words: its titles' and keywords'
        for i, e in enumerate(kb.entries):
            titles = {lang: self._analyzer.terms(prepare(title)) for lang, title in e.title.items()}
            keywords = [self._analyzer.terms(prepare(k)) for ks in e.keywords.values() for k in ks]
            for lang, qs in e.questions.items():
                docs.extend((i, self._analyzer.terms(prepare(q))) for q in qs)
                docs.append((i, titles.get(lang, [])))
            docs.extend((i, terms) for terms in keywords)
            declared.append({t for terms in (*titles.values(), *keywords) for t in terms})
        self._index = Index(faq_ids, [d for d in docs if d[1]], declared)
        # generic incidents first; this knowledge base's uncovered topics break ties after them
        topics = tuple(Rule("not_covered", "normal", t.pattern, t.unless) for t in kb.not_covered.values())
        self._rules = RULES + topics
        self._table = RuleTable(self._rules)
        # An entry written later for a topic the knowledge base said it did not cover (an admin adds "dark mode"
        # while "dark mode" is still listed as uncovered) must not stay hidden behind that topic: the entries whose
        # own questions, titles or keywords the topic matches may answer it, when one of them matches clearly.
        self._claimed: dict[Rule, frozenset[str]] = {}
        for topic in topics:
            claimed = frozenset(e.id for e in kb.entries if any(
                topic.matches(prepare(t).lower()) for t in _own_texts(e)))
            if claimed:
                self._claimed[topic] = claimed

    def decide(self, text: str, context: TriageContext | None = None) -> Decision:
        decision = self._decide(text, context, None)
        # the words too thin to answer (a rule's handoff, an uncovered topic's too, is 0.95) and no case found in the
        # whole: the question among the pleasantries and background, judged on its own
        if isinstance(decision, Handoff) and decision.reason in ("low_confidence", "not_covered") and (
                decision.confidence < 0.9 and isinstance(text, str)):
            for sentence in asks(readable(text)):
                alone = self._decide(sentence, context, None)
                if alone.action in ("answer", "clarify"):
                    return alone
        return decision

    def _decide(self, text: str, context: TriageContext | None, past: Rule | None) -> Decision:
        """``past``: a topic rule that matched and was set aside for the entries written for it."""
        ctx = context or TriageContext()
        text = readable(text) if isinstance(text, str) else ""
        lang = detect_language(text, ctx.language_hint)
        prepared = prepare(text)
        if not prepared.strip():
            if text.strip():  # only a mention of the bot: it was called, say hello
                return Greet("greeting", lang, self.kb.message("greeting", lang), 0.9)
            return self._handoff("empty", "low", lang, 1.0)
        rule = _first_rule(self._table, prepared, past)
        if rule is not None and not (rule.reason == "tried_already" and ctx.previous_faq_id):
            claimed = self._claimed.get(rule)
            if claimed:  # the knowledge base has entries for this topic after all: one of them, clearly, or a person
                decision = self._decide(text, context, rule)
                if decision.action == "answer" and getattr(decision, "faq_id", None) in claimed:
                    return decision
            return self._handoff(rule.reason, rule.priority, lang, 0.95)
        if ctx.previous_faq_id and (rule is not None or UNRESOLVED.search(prepared)):
            return self._handoff("unresolved", "normal", lang, 0.9, ctx.previous_faq_id)
        offered = tuple(f for f in ctx.offered if f in self._index.position)
        if offered:
            return self._which_answered(text, prepared, lang, offered, ctx)
        rest, kind = _strip_greetings(prepared)
        if kind is not None and not _has_content(rest):
            return Greet(kind, lang, self.kb.message(kind, lang), 0.95)
        if kind in ("thanks", "ack") and CLOSING.search(prepared) and not CLOSING_OPEN.search(rest):
            return Greet("thanks", lang, self.kb.message("thanks", lang), 0.9)  # "thanks, it works now"
        if VAGUE.search(rest.strip()) or VAGUE.search(prepared.strip()):
            return self._vague(lang, 0.9)
        terms = self._analyzer.terms(rest)
        if kind is not None and len(terms) <= 2 and not any(self._index.known(t) for t in terms) and (
                not URGENT.search(prepared)):
            return Greet(kind, lang, self.kb.message(kind, lang), 0.8)  # "thanks for the quick reply"
        if not terms:
            return self._handoff("low_confidence", "normal", lang, 0.0)
        if self._only_trouble(terms):
            return self._vague(lang, 0.8)
        scores = self._scores(text, terms)
        known = sum(1 for t in terms if self._index.known(t))
        coverage = min(1.0, known / min(len(terms), QUERY_TERMS))  # long messages carry context words
        if not scores:
            return self._handoff("not_covered", "normal", lang, 0.0)
        best_id, best, second_id, second = _top_two(scores)
        margin = (best - second) / best if best > 0 else 0.0
        confidence = round(min(1.0, max(0.0, best * min(1.0, 0.5 + margin)) * (0.6 + 0.4 * coverage)), 4)
        specific = self._index.specificity(terms, best_id)
        # one known word among strangers is no evidence, nor is one word several FAQs share ("phone")
        thin = known < 2 and (coverage < 0.5 or specific < self.min_single_specificity)
        if confidence < self.min_confidence or specific < self.min_specificity or thin:
            # one shared word is enough to ask about only if it is this FAQ's own, or all the message says
            if coverage >= self.min_guess_coverage and best >= self.min_guess and (
                    known >= 2 or specific >= self.min_single_specificity or coverage >= 1.0):
                # the words are ours and one FAQ leads: ask rather than guess, or give up on a person
                runner_up = second_id if second >= self.close_runner_up * best else None
                return self._clarify(lang, confidence, best_id, runner_up)
            reason = "not_covered" if coverage < 0.5 else "low_confidence"
            return self._handoff(reason, "normal", lang, confidence, best_id if best > 0.15 else None)
        if margin < self.min_margin:
            return self._clarify(lang, confidence, best_id, second_id)
        rival = self._index.rival(terms, best_id, self.rival_share)
        if rival is not None and scores.get(rival, 0.0) >= self.rival_score * best:
            return self._clarify(lang, confidence, best_id, rival)
        asked = self._questions(rest)
        if len(asked) > 1:  # "转账失败了，还有认证要多久": two questions, offer both rather than answer one
            return self._clarify(lang, confidence, *asked[:MAX_CHOICES])
        return Answer(best_id, confidence, lang, self._answer(best_id, lang))

    def _only_trouble(self, terms: list[str]) -> bool:
        """Says something is wrong and names nothing of ours it is wrong with (words we do not know at most as many
        as ours: "my ledger nano isn't working" is about something else)."""
        known = [t for t in terms if self._index.known(t)]
        return (bool(known) and set(known) <= NO_TOPIC_TERMS and not TROUBLE_TERMS.isdisjoint(known)
                and len(terms) <= 2 * len(known))

    def _questions(self, rest: str) -> tuple[str, ...]:
        """The FAQs a message asks about one clause at a time, in order, when it says it asks more than one thing
        ("...? also ...", "另外", "顺便问一下"); one FAQ or none otherwise. A clause counts when two of its own words
        point at one FAQ as clearly as a question on its own would."""
        if not _ANOTHER_QUESTION.search(rest):
            return ()
        found: list[str] = []
        start, clauses = 0, []
        for m in _ANOTHER_QUESTION.finditer(rest):
            clauses.append(rest[start:m.start()] + m.group(0))
            start = m.end()
        clauses.append(rest[start:])
        for n, clause in enumerate(clauses):
            if n and not _ASKS.search(clause):  # "...？找了半天找不到" says more about the first, it asks nothing new
                continue
            terms = self._analyzer.terms(clause)
            if sum(1 for t in terms if self._index.known(t)) < 2:  # "? I no longer remember it" adds no question
                continue
            scores = self._index.score(terms)
            if not scores:
                continue
            faq_id, best, _, second = _top_two(scores)
            clear = best >= self.min_confidence and (best - second) / best >= self.min_margin
            if clear and self._index.specificity(terms, faq_id) >= self.min_single_specificity and faq_id not in found:
                found.append(faq_id)
        return tuple(found)

    def _which_answered(self, text: str, prepared: str, lang: str, offered: tuple[str, ...],
                        ctx: TriageContext) -> Decision:
        """The reply to "which of these?": a choice by position or by its words, none of them, or else the two
        turns decided together. An incident in the reply is decided as always."""
        both = TriageContext(ctx.language_hint, ctx.previous_faq_id, ctx.turns)
        if _first_rule(self._table, prepared) is not None:
            return self.decide(text, both)
        position = ORDINAL.search(prepared)
        if position is not None:
            faq_id = offered[0] if position.group("first") else offered[-1]
            return Answer(faq_id, 0.9, lang, self._answer(faq_id, lang))
        if NONE_OF.search(prepared):
            return self._handoff("unclear", "normal", lang, 0.9)
        terms = self._analyzer.terms(prepared)
        scores = self._scores(text, terms) if terms else {}
        ranked = sorted(((scores.get(f, 0.0), f) for f in offered), reverse=True)
        top, faq_id = ranked[0]
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        if top >= self.min_guess and top >= self.choice_lead * runner_up:
            return Answer(faq_id, round(min(1.0, top), 4), lang, self._answer(faq_id, lang))
        return self.decide(f"{ctx.earlier} {text}".strip(), both)

    def _vague(self, lang: str, confidence: float) -> Clarify:
        """What is it about? Every topic offered."""
        return Clarify("vague", tuple(e.id for e in self.kb.entries), lang, self.kb.message("clarify_vague", lang),
                       confidence)

    def _clarify(self, lang: str, confidence: float, *faq_ids: str | None) -> Clarify:
        options = tuple(f for f in faq_ids if f)
        return Clarify("which", options, lang, self.kb.message("clarify_which", lang), confidence)

    def ranking(self, text: str, top: int = 3) -> tuple[tuple[str, float], ...]:
        """The FAQs' match scores for ``text``, best first: what the knowledge page shows an editor
        ("why did it answer that, and what came second") without deciding anything."""
        terms = self._analyzer.terms(prepare(text))
        scores = self._scores(text, terms) if terms else {}
        ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return tuple((f, round(s, 4)) for f, s in ordered)

    def _scores(self, text: str, terms: list[str]) -> dict[str, float]:
        lexical = self._index.score(terms)
        if self.semantic is None:
            return lexical
        sem = self.semantic.scores(text, self.kb)
        ids = set(lexical) | {k for k in sem if k in self._index.position}
        return {f: 0.5 * lexical.get(f, 0.0) + 0.5 * max(0.0, min(1.0, sem.get(f, 0.0))) for f in ids}

    def _answer(self, faq_id: str, lang: str) -> str:
        return self.kb.answer(faq_id, lang)

    def _handoff(
        self, reason: str, priority: str, lang: str, confidence: float, faq_id: str | None = None
    ) -> Handoff:
        key = "urgent_handoff" if priority == "urgent" else "handoff"
        reply = self.kb.message(key, lang)
        return Handoff(reason, priority, lang, min(1.0, max(0.0, confidence)), reply, faq_id=faq_id)


def readable(text: str) -> str:
    """What triage reads of ``text``: all of it, or the start and the end of a long one. Deciding costs time in
    proportion to the text (a pasted log of 200,000 characters held the engine for seconds); what a customer
    asks is in the first lines, and a request for a person often closes the message. The store keeps it all."""
    if len(text) <= READ_HEAD + READ_TAIL:
        return text
    return f"{text[:READ_HEAD]}\n…\n{text[-READ_TAIL:]}"


def _top_two(scores: dict[str, float]) -> tuple[str, float, str, float]:
    """Best id and score, and the runner-up's; ties go to the smaller id (deterministic)."""
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    best_id, best = ranked[0]
    second_id, second = ranked[1] if len(ranked) > 1 else ("", 0.0)
    return best_id, best, second_id, second


def _first_rule(table: RuleTable, prepared: str, past: Rule | None = None) -> Rule | None:
    """The matching rule with the highest priority; table order breaks ties. ``past``: look only at the rules
    after this one (it matched, and was set aside)."""
    found: Rule | None = None
    latin, han = bool(LATIN_CHAR.search(prepared)), bool(HAN_CHAR.search(prepared))
    start = 0 if past is None else table.rules.index(past) + 1
    for i, opened in table.candidates(prepared):
        rule = table.rules[i]
        if i < start or (found is not None and PRIORITY_RANK[rule.priority] <= PRIORITY_RANK[found.priority]):
            continue
        if rule.matches(prepared, latin, han, opened):
            found = rule
    return found


_GREET = [(kind, re.compile("|".join(pats))) for kind, pats in GREETINGS]
_FILLER = re.compile("|".join(GREETING_FILLER))
_CONTENT = re.compile(r"[a-z0-9\u3400-\u4dbf\u4e00-\u9fff]")


def _strip_greetings(prepared: str) -> tuple[str, str | None]:
    """Remove hello/thanks/ok phrases; return the rest and the strongest kind found."""
    kinds: list[str] = []
    rest = prepared
    for kind, pattern in _GREET:
        rest, n = pattern.subn(" ", rest)
        if n:
            kinds.append(kind)
    if not kinds:
        return prepared, None
    kind = "thanks" if "thanks" in kinds else ("greeting" if "greeting" in kinds else "ack")
    return rest, kind


def _has_content(rest: str) -> bool:
    return bool(_CONTENT.search(_FILLER.sub(" ", rest)))


def decision_to_dict(d: Decision) -> dict:
    """Plain JSON-able form (CLI, API, logs)."""
    return {
        "action": d.action,
        "faq_id": getattr(d, "faq_id", None),
        "confidence": d.confidence,
        "lang": d.lang,
        "reply": d.reply,
        "reason": d.reason if isinstance(d, Handoff) else None,
        "options": list(d.options) if isinstance(d, Clarify) else [],
    }


__all__ = [
    "Answer", "Clarify", "Decision", "Greet", "Handoff", "SemanticBackend", "Triage", "TriageContext",
    "decision_to_dict", "detect_language", "to_traditional",
]


def _own_texts(entry: Entry) -> list[str]:
    """What an entry says it is about: its questions, titles and keywords, in every language."""
    return [*(q for qs in entry.questions.values() for q in qs), *entry.title.values(),
            *(k for ks in entry.keywords.values() for k in ks)]
