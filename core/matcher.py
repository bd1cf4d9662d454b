"""FAQ matching: text -> terms (typos, synonyms, jieba) and an inverted BM25 index over the sample questions.

Scores are normalised to [0, 1] so that one confidence threshold means the same for every knowledge
base. An FAQ's score is half its best single sample question and half the FAQ taken as one document
(all its questions together): the first rewards a close paraphrase, the second a message that shares
the FAQ's vocabulary without resembling any one sample. Posting weights are computed at build time
and only postings of the message's own terms are visited, so a 5,000-entry base stays fast.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence

from rapidfuzz import fuzz, process

from core.language import add_words, latin_words, prepare, split_terms

K1, B = 1.2, 0.75
QUERY_TERMS = 6  # a long message is judged like a question of this many words: the rest is context
W_DOC = 0.5  # share of the best single sample question in an FAQ's score
_SUFFIXES = ("ing", "ed", "est", "er", "es", "s", "ly", "ment")
# Words people drop into a question without changing it ("what does it actually do"). Removed before
# phrase synonyms are looked up, so "what is this app even" still reads as "what is this app".
FILLER = frozenset("actually basically literally kinda sorta um uh umm hmm lol pls plz please just even really".split())
_CHUNK = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*|[\u3400-\u4dbf\u4e00-\u9fff]+|[^\sa-z0-9\u3400-\u4dbf\u4e00-\u9fff]+")


class Analyzer:
    """Prepared text -> terms, with typo repair (rapidfuzz) and synonyms mapped to one canonical word."""

    def __init__(self, synonyms: Mapping[str, tuple[str, ...]]) -> None:
        self._latin: dict[str, str] = {}
        self._han: dict[str, str] = {}
        for canon, items in synonyms.items():
            for v in (canon, *items):
                v = " ".join(prepare(v).split())
                if v:
                    (self._latin if v.isascii() else self._han).setdefault(v, canon)
        self._latin_max = max((len(v.split()) for v in self._latin), default=1)
        self._han_max = max((len(v) for v in self._han), default=1)
        self._known: set[str] = {w for v in self._latin for w in latin_words(v)}
        self._filler = FILLER - self._known  # a word some phrase synonym needs is kept
        self._vocab: list[str] = []
        self._typos: dict[str, str] = {}
        add_words(list(self._han))

    def learn(self, texts: list[str]) -> None:
        """Words of the knowledge base: known words are never 'corrected'; others are corrected to them."""
        for text in texts:
            self._known.update(latin_words(prepare(text)))
        self._vocab = sorted(w for w in self._known if len(w) >= 4)

    def terms(self, prepared: str) -> list[str]:
        parts: list[str] = []
        run: list[str] = []  # latin words separated only by spaces: candidates for phrase synonyms
        for m in _CHUNK.finditer(prepared):
            token = m.group(0)
            if token[0].isascii() and token[0].isalnum():
                if token not in self._filler:
                    run.append(self._fix(token) if token.isalpha() else token)
                continue
            self._phrases(run, parts)
            run = []
            if not token.isascii():
                self._han_words(token, parts)
        self._phrases(run, parts)
        return split_terms(" ".join(parts))

    def _phrases(self, run: list[str], out: list[str]) -> None:
        i, n = 0, len(run)
        while i < n:
            for k in range(min(self._latin_max, n - i), 0, -1):
                canon = self._latin.get(" ".join(run[i : i + k]))
                if canon is not None:
                    out.append(canon)
                    i += k
                    break
            else:
                out.append(run[i])
                i += 1

    def _han_words(self, text: str, out: list[str]) -> None:
        """Longest synonym variant first, left to right; the characters in between go to jieba later."""
        i, n, start = 0, len(text), 0
        while i < n:
            for k in range(min(self._han_max, n - i), 0, -1):
                canon = self._han.get(text[i : i + k])
                if canon is not None:
                    if start < i:
                        out.append(text[start:i])
                    out.append(canon)
                    i += k
                    start = i
                    break
            else:
                i += 1
        if start < n:
            out.append(text[start:])

    def _fix(self, word: str) -> str:
        """Unknown word -> a known one: inflection first (safest -> safe), then a close spelling."""
        if word in self._known or len(word) < 5 or not self._vocab:
            return word
        fixed = self._typos.get(word)
        if fixed is None:
            fixed = self._stem(word)
            if fixed is None:
                hit = process.extractOne(word, self._vocab, scorer=fuzz.ratio, score_cutoff=85)
                fixed = hit[0] if hit else word
            if len(self._typos) < 50_000:
                self._typos[word] = fixed
        return fixed

    def _stem(self, word: str) -> str | None:
        """Another form of the same word that the knowledge base uses: safest -> safe, rejecting -> rejected."""
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                base = word[: -len(suffix)]
                stems = (base, base + "e", base[:-1] if base[-1:] == base[-2:-1] else base)
                for candidate in stems:
                    if candidate in self._known:
                        return candidate
                for candidate in stems:
                    for other in _SUFFIXES[:4]:
                        if candidate + other in self._known:
                            return candidate + other
        return None


def _bm25_postings(docs: list[list[str]]) -> tuple[dict[str, list[tuple[int, float]]], dict[str, float]]:
    """term -> [(doc, precomputed BM25 weight)] highest weight first, and term -> idf."""
    lengths = [len(d) or 1 for d in docs]
    avg = sum(lengths) / max(len(docs), 1)
    raw: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, terms in enumerate(docs):
        for term, tf in Counter(terms).items():
            raw[term].append((i, tf))
    n = len(docs)
    idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in raw.items()}
    postings = {
        t: sorted(((d, idf[t] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[d] / avg))) for d, tf in p),
                  key=lambda dw: (-dw[1], dw[0]))  # impact order: a capped walk sees the best first
        for t, p in raw.items()
    }
    return postings, idf


class Index:
    """Two inverted BM25 indexes: single sample questions, and each FAQ as one document.

    Scoring walks the postings of the message's rarest words, up to ``budget`` postings; the other
    words are then looked up in the candidate questions' own weights. For a small base everything
    fits the budget and the result is exact BM25; for a large one, questions that share only common
    words with the message are not candidates, and their score would be low anyway.
    """

    def __init__(self, faq_ids: list[str], docs: list[tuple[int, list[str]]],
                 declared: Sequence[Collection[str]] | None = None) -> None:
        self.faq_ids = faq_ids
        # each FAQ's own vocabulary (its titles and keywords): the words it says it is about
        self.declared = [frozenset(d) for d in declared] if declared is not None else None
        self.position = {f: i for i, f in enumerate(faq_ids)}
        self.doc_faq = [faq for faq, _ in docs]
        self.postings, self.idf = _bm25_postings([terms for _, terms in docs])
        self.doc_weights: list[dict[str, float]] = [{} for _ in docs]
        for term, plist in self.postings.items():
            for doc, w in plist:
                self.doc_weights[doc][term] = w
        merged: list[list[str]] = [[] for _ in faq_ids]
        for faq, terms in docs:
            merged[faq].extend(set(terms))
        faq_postings, self.faq_idf = _bm25_postings(merged)
        self.faq_weights: list[dict[str, float]] = [{} for _ in faq_ids]
        for term, plist in faq_postings.items():
            for faq, w in plist:
                self.faq_weights[faq][term] = w
        self.top_faq_idf = max(self.faq_idf.values(), default=0.0)
        # share of a word's use that falls in each FAQ (FAQ sizes evened out): "delayed" lives in the
        # failed-transaction FAQ even if one cancel question says "pending"; "account" lives everywhere
        sizes = [0] * len(faq_ids)
        df: dict[str, Counter[int]] = defaultdict(Counter)
        for faq, terms in docs:
            sizes[faq] += 1
            for term in set(terms):
                df[term][faq] += 1
        self.concentration: dict[str, dict[int, float]] = {}
        for term, per_faq in df.items():
            rates = {faq: n / sizes[faq] for faq, n in per_faq.items()}
            total = sum(rates.values())
            self.concentration[term] = {faq: r / total for faq, r in rates.items()}
        self.budget = max(1000, len(docs) // 60)  # postings walked per message, at most

    def known(self, term: str) -> bool:
        return term in self.postings

    def specificity(self, terms: list[str], faq_id: str) -> float:
        """How much the best shared word belongs to this FAQ: 1.0 if only it uses the word, 1/n if all n do."""
        faq = self.position[faq_id]
        return max((self.concentration[t].get(faq, 0.0) for t in set(terms) if t in self.concentration), default=0.0)

    def rival(self, terms: list[str], faq_id: str, share: float) -> str | None:
        """Another FAQ that owns (``share`` of the use of) a word of the message this FAQ never uses, a word that
        FAQ names as its own (title or keywords) when the index was given them.

        "sent usdt to my friend, he didn't get it yet": "usdt" points at the about page, "didn't get" at the
        delayed-transfer FAQ. Such a message carries evidence for two answers, so it is worth asking which. With
        seven FAQs most words are owned by one of them by chance ("usual", "website", "的话"); such a word is no
        evidence, and asking on it turned one clear answer in twenty into a question.
        """
        faq = self.position[faq_id]
        found: tuple[float, int] | None = None
        for t in set(terms):
            owners = self.concentration.get(t)
            if not owners or owners.get(faq, 0.0) > 0.0:
                continue
            other, value = max(owners.items(), key=lambda kv: (kv[1], -kv[0]))
            if self.declared is not None and t not in self.declared[other]:
                continue
            if value >= share and (found is None or (value, -other) > (found[0], -found[1])):
                found = (value, other)
        return self.faq_ids[found[1]] if found else None

    def score(self, terms: list[str]) -> dict[str, float]:
        """faq id -> score in [0, 1], for the FAQs that share a word with the message."""
        query = [t for t in dict.fromkeys(terms) if t in self.postings]
        if not query:
            return {}
        drive, walked = [], 0
        for t in sorted(query, key=lambda t: len(self.postings[t])):  # rarest words drive the walk
            if drive and walked + len(self.postings[t]) > self.budget:
                break
            drive.append(t)
            walked += len(self.postings[t])
        limit = self.budget  # even the rarest word may be common: its best-weighted questions come first
        rest = [t for t in query if t not in drive]
        doc_scores: dict[int, float] = defaultdict(float)
        for t in drive:
            for doc, w in self.postings[t][:limit]:
                doc_scores[doc] += w
        if rest:
            weights = self.doc_weights
            for doc in doc_scores:
                own = weights[doc]
                doc_scores[doc] += sum(own.get(t, 0.0) for t in rest)
        best: dict[int, float] = {}
        doc_faq = self.doc_faq
        for doc, s in doc_scores.items():
            faq = doc_faq[doc]
            if s > best.get(faq, 0.0):
                best[faq] = s
        bound = sum(heapq.nlargest(QUERY_TERMS, (self.idf[t] for t in query))) * (K1 + 1)
        fbound = sum(heapq.nlargest(QUERY_TERMS, (self.faq_idf[t] for t in query))) * (K1 + 1)
        out: dict[str, float] = {}
        for faq, s in best.items():
            score = W_DOC * s / bound
            if fbound:
                own = self.faq_weights[faq]
                score += (1 - W_DOC) * sum(own.get(t, 0.0) for t in query) / fbound
            out[self.faq_ids[faq]] = score
        return out
