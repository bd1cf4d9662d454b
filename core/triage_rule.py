"""One triage rule: a regex with an ``unless`` and an optional cheap precondition, matched by script.

Rules run on every message, so they are split once, when built: the alternatives whose literal letters are
only latin run only on messages with latin letters, the Chinese ones only on messages with Chinese; the
result is exactly ``pattern.search`` (tests/core/test_triage.py checks it), in about half the time.

Each alternative also gets a gate: words one of which every match of it contains, read off the regex itself
(`needed`). A message with none of them cannot match, so the alternative is not run. A triage runs every rule on
every message, so ``RuleTable`` looks for all the rules' gate words at once, in one pass of an Aho-Corasick
automaton (pyahocorasick), and runs only the alternatives whose words it found: a decision searched about 120 gate
regexes before, most of them in vain, and one rule's dozen kilobytes of shapes cost nothing on a message without
their words. The result is still exactly ``pattern.search``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from re import _constants as sre  # the parser's node types (stable since 3.11)
from re import _parser as sre_parse
from typing import Any

import ahocorasick


@dataclass(frozen=True, slots=True)
class Rule:
    """``pattern`` is kept whole; for speed it is also split by script, so a Chinese message skips the
    English alternatives and an English one the Chinese (``matches`` is the same as ``pattern.search``)."""

    reason: str
    priority: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None
    needs: re.Pattern[str] | None = None  # a cheap test that must pass before ``pattern`` can match
    # the alternatives by script (0 any, 1 latin, 2 Chinese), each on its own, with its own gate words
    pieces: tuple[tuple[re.Pattern[str], ...], ...] = field(init=False, repr=False, compare=False, default=())
    piece_words: tuple[tuple[tuple[str, ...], ...], ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        pieces = tuple(tuple(re.compile(a) for a in alts) for alts in _by_script(self.pattern.pattern))
        object.__setattr__(self, "pieces", pieces)
        object.__setattr__(self, "piece_words", tuple(tuple(_gate_words(p) for p in ps) for ps in pieces))

    def matches(self, text: str, latin: bool = True, han: bool = True,
                opened: Iterable[tuple[int, int]] | None = None) -> bool:
        """``opened``: (script, alternative) pairs whose gate words the caller already found in ``text``
        (``RuleTable`` finds them for every rule in one pass); only those run. None: the gates are looked for here."""
        if self.needs is not None and not self.needs.search(text):
            return False
        if opened is None:
            opened = [(k, j) for k, alternatives in enumerate(self.piece_words) for j, words in enumerate(alternatives)
                      if not words or any(w in text for w in words)]
        hit = any((k == 0 or (latin if k == 1 else han)) and self.pieces[k][j].search(text) for k, j in opened)
        return hit and not (self.unless and self.unless.search(text))


class RuleTable:
    """Rules in table order, with their gate words in one automaton: a message's gates are found in one pass."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        holders: dict[str, list[tuple[int, int, int]]] = {}
        self._always: dict[int, list[tuple[int, int]]] = {}  # alternatives with no gate run on every message
        for i, rule in enumerate(rules):
            for k, alternatives in enumerate(rule.piece_words):
                for j, words in enumerate(alternatives):
                    if not words:
                        self._always.setdefault(i, []).append((k, j))
                    for word in words:
                        holders.setdefault(word, []).append((i, k, j))
        self._automaton: Any = None
        if holders:
            automaton = ahocorasick.Automaton()
            for word, keys in holders.items():
                automaton.add_word(word, tuple(keys))
            automaton.make_automaton()
            self._automaton = automaton

    def candidates(self, text: str) -> list[tuple[int, list[tuple[int, int]]]]:
        """The rules that can match ``text``, in table order, each with the (script, alternative) pairs that can:
        those with a gate word in ``text`` and those without a gate. Nothing else can match."""
        found: dict[int, set[tuple[int, int]]] = {i: set(pairs) for i, pairs in self._always.items()}
        if self._automaton is not None:
            for _, keys in self._automaton.iter(text):
                for i, k, j in keys:
                    found.setdefault(i, set()).add((k, j))
        return [(i, sorted(found[i])) for i in sorted(found)]


def _gate_words(piece: re.Pattern[str]) -> tuple[str, ...]:
    """Plain literals every match of ``piece`` contains one of (empty: no such set, it has no gate)."""
    words = needed(piece.pattern, piece.flags)
    return tuple(sorted(words)) if words else ()


def needed(pattern: str, flags: int = 0) -> set[str] | None:
    """Strings one of which every match of ``pattern`` contains; None when the pattern shows no such set (any
    case-insensitive or verbose part, or nothing it must match literally)."""
    parsed = sre_parse.parse(pattern, flags)
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    return _needed_in(list(parsed))


def _needed_in(items: list[tuple[Any, Any]]) -> set[str] | None:
    """For a sequence, every element must match, so any element's set will do: the one whose shortest word is
    at least three characters with the fewest words (cheap to search, rarely present), else the longest."""
    choices: list[set[str]] = []
    run: list[str] = []

    def close() -> None:
        if run:
            choices.append({"".join(run)})
            run.clear()

    for op, value in items:
        if op is sre.LITERAL:
            run.append(chr(value))
            continue
        close()
        found: set[str] | None = None
        if op is sre.SUBPATTERN and not (value[1] or value[2]):  # a group that changes no flags
            found = _needed_in(list(value[3]))
        elif op is sre.BRANCH:
            branches = [_needed_in(list(branch)) for branch in value[1]]
            if all(branches):
                found = set().union(*branches)  # type: ignore[arg-type]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and value[0] >= 1:
            found = _needed_in(list(value[2]))
        elif op is sre.ATOMIC_GROUP:
            found = _needed_in(list(value))
        if found:  # anything else (classes, anchors, lookarounds, optional parts) requires no literal
            choices.append(found)
    close()
    if not choices:
        return None
    strong = [c for c in choices if min(map(len, c)) >= 3]
    if strong:
        return min(strong, key=len)
    return max(choices, key=lambda c: (min(map(len, c)), -len(c)))


_SYNTAX = re.compile(r"\\.|\[(?:\\.|[^\]])*\]|\(\?(?:[:!=]|<[!=]|P<\w+>)")
HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
LATIN_CHAR = re.compile(r"[a-z]")


def _structure(pattern: str) -> Iterator[tuple[int, str, int]]:
    """(position, character, group depth after it) of a regex's characters, escapes and classes skipped."""
    depth, i = 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 1
            while i < len(pattern) and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        yield i, c, depth
        i += 1


def _alternatives(pattern: str) -> list[str]:
    """Top-level alternatives of a regex; an alternative that is one whole group is opened once more."""
    out: list[str] = []
    start = 0
    for i, c, depth in _structure(pattern):
        if c == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
    out.append(pattern[start:])
    return out


def _whole_group(alt: str) -> str | None:
    """The inside of ``(?:...)`` when that group spans all of ``alt``."""
    if not (alt.startswith("(?:") and alt.endswith(")")):
        return None
    inner = alt[3:-1]
    return inner if _alternatives(f"({inner})") == [f"({inner})"] and _balanced(inner) else None


def _balanced(text: str) -> bool:
    depth = 0
    for _, _, depth in _structure(text):
        if depth < 0:
            return False
    return depth == 0


def _by_script(pattern: str) -> tuple[tuple[str, ...], ...]:
    """The alternatives of ``pattern`` in three groups: for any text, latin text only, Chinese text only.

    An alternative needs latin text when its literal letters (outside classes and escapes) are latin only,
    Chinese text when they are Chinese only; anything else (digits, symbols, both) runs on every message.
    """
    groups: dict[str, list[str]] = {"any": [], "latin": [], "han": []}
    pending = _alternatives(pattern)
    while pending:
        alt = pending.pop()
        inner = _whole_group(alt)
        if inner is not None and len(_alternatives(inner)) > 1:
            pending.extend(_alternatives(inner))
            continue
        bare = _SYNTAX.sub("", alt)
        han, latin = bool(HAN_CHAR.search(bare)), bool(LATIN_CHAR.search(bare))
        groups["han" if han and not latin else "latin" if latin and not han else "any"].append(alt)
    return tuple(tuple(groups[script]) for script in ("any", "latin", "han"))
