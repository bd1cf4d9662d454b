"""One triage rule: a regex with an ``unless`` and an optional cheap precondition, matched by script.

Rules run on every message, so they are split once, when built: the alternatives whose literal letters are
only latin run only on messages with latin letters, the Chinese ones only on messages with Chinese; the
result is exactly ``pattern.search`` (tests/core/test_triage.py checks it), in about half the time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", _by_script(self.pattern.pattern))

    def matches(self, text: str, latin: bool = True, han: bool = True) -> bool:
        if self.needs is not None and not self.needs.search(text):
            return False
        either, latin_only, han_only = self.parts
        hit = ((either is not None and either.search(text)) or (latin and latin_only is not None
               and latin_only.search(text)) or (han and han_only is not None and han_only.search(text)))
        return bool(hit) and not (self.unless and self.unless.search(text))


_SYNTAX = re.compile(r"\\.|\[(?:\\.|[^\]])*\]|\(\?(?:[:!=]|<[!=]|P<\w+>)")
HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
LATIN_CHAR = re.compile(r"[a-z]")


def _alternatives(pattern: str) -> list[str]:
    """Top-level alternatives of a regex; an alternative that is one whole group is opened once more."""
    out: list[str] = []
    depth, start, i = 0, 0, 0
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
        elif c == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    out.append(pattern[start:])
    return out


def _whole_group(alt: str) -> str | None:
    """The inside of ``(?:...)`` when that group spans all of ``alt``."""
    if not (alt.startswith("(?:") and alt.endswith(")")):
        return None
    inner = alt[3:-1]
    return inner if _alternatives(f"({inner})") == [f"({inner})"] and _balanced(inner) else None


def _balanced(text: str) -> bool:
    depth, i = 0, 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 1
            while i < len(text) and text[i] != "]":
                i += 2 if text[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return False
        i += 1
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
