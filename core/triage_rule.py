"""One triage rule: a regex with an ``unless`` and an optional cheap precondition, matched by script.

Rules run on every message, so they are split once, when built: the alternatives whose literal letters are
only latin run only on messages with latin letters, the Chinese ones only on messages with Chinese; the
result is exactly ``pattern.search`` (tests/core/test_triage.py checks it), in about half the time.

Each part also gets a gate: words one of which every match of that part contains, read off the regex
itself (`needed`) and searched as plain literals, which the regex engine skips through far faster than
the part's ``\b...\b.{0,20}...`` shapes. A message with none of them cannot match, so the part is not
run: the result is still exactly ``pattern.search``, in about half the time again.

A triage runs every rule on every message, so ``RuleTable`` looks for all the rules' gate words at once, in one
pass of an Aho-Corasick automaton (pyahocorasick), and runs only the parts whose gate it found: a decision
searched about 120 gate regexes before, most of them in vain.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
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
    parts: tuple[re.Pattern[str] | None, ...] = field(init=False, repr=False, compare=False, default=())
    gates: tuple[re.Pattern[str] | None, ...] = field(init=False, repr=False, compare=False, default=())
    gate_words: tuple[tuple[str, ...], ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        parts = _by_script(self.pattern.pattern)
        words = tuple(_gate_words(part) for part in parts)
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "gate_words", words)
        object.__setattr__(self, "gates", tuple(
            re.compile("|".join(re.escape(w) for w in ws)) if ws else None for ws in words))

    def matches(self, text: str, latin: bool = True, han: bool = True,
                open_gates: Collection[int] | None = None) -> bool:
        """``open_gates``: the parts (0 any script, 1 latin, 2 Chinese) whose gate words the caller already found
        in ``text`` (``RuleTable`` does, for every rule in one pass); None: the gates are searched here."""
        if self.needs is not None and not self.needs.search(text):
            return False
        for k, part in enumerate(self.parts):
            if part is None or (k == 1 and not latin) or (k == 2 and not han):
                continue
            gate = self.gates[k]
            if gate is not None and not (gate.search(text) if open_gates is None else k in open_gates):
                continue
            if part.search(text):
                return not (self.unless and self.unless.search(text))
        return False


class RuleTable:
    """Rules in table order, with their gate words in one automaton: a message's gates are found in one pass."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        holders: dict[str, list[tuple[int, int]]] = {}
        for i, rule in enumerate(rules):
            for k, words in enumerate(rule.gate_words):
                for word in words:
                    holders.setdefault(word, []).append((i, k))
        # rules with a part that has no gate run on every message
        self._always = {i for i, rule in enumerate(rules) if any(
            part is not None and not words for part, words in zip(rule.parts, rule.gate_words, strict=True))}
        self._automaton: Any = None
        if holders:
            automaton = ahocorasick.Automaton()
            for word, keys in holders.items():
                automaton.add_word(word, tuple(keys))
            automaton.make_automaton()
            self._automaton = automaton

    def candidates(self, text: str) -> list[tuple[int, set[int]]]:
        """The rules that can match ``text``, in table order, each with its parts whose gate words ``text`` has;
        every other rule cannot match (each of its parts has a gate and none is in the text)."""
        found: dict[int, set[int]] = {i: set() for i in self._always}
        if self._automaton is not None:
            for _, keys in self._automaton.iter(text):
                for i, k in keys:
                    found.setdefault(i, set()).add(k)
        return sorted(found.items())


def _gate_words(part: re.Pattern[str] | None) -> tuple[str, ...]:
    """Plain literals every match of ``part`` contains one of (empty: no such set, the part has no gate)."""
    words = needed(part.pattern, part.flags) if part is not None else None
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


def _by_script(pattern: str) -> tuple[re.Pattern[str] | None, ...]:
    """The alternatives of ``pattern`` as three regexes: any text, latin text only, Chinese text only.

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
    return tuple(re.compile("|".join(f"(?:{a})" for a in alts)) if alts else None
                 for alts in (groups["any"], groups["latin"], groups["han"]))
