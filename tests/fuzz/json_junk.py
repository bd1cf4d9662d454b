"""Hostile JSON for the fuzz tests: any JSON value, odd text, numbers Python refuses, and nesting deeper than
Python's recursion limit (written as text: the test's own json.dumps could not nest that deep)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

ODD_TEXT = st.sampled_from([
    "", " ", "\ud800", "a\udfffb", "\ud83d", "nul\x00byte", "\x1b[31mred\x1b[0m", "\u202egnp.exe", "\ufeff",
    "\u200b\u200d", "𝕏" * 40, "😀" * 30, "蔡" * 200, "x" * 20_000, "\n" * 50, "<script>alert(1)</script>",
    "' OR 1=1 --", "%s%n%x", "../../etc/passwd", "\r\n\r\nHTTP/1.1 200 OK", "Ｏ" * 10, "١٢٣", "\t",
])
TEXT = st.text(max_size=40) | ODD_TEXT
SCALAR = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
          | st.floats(allow_nan=False, allow_infinity=False) | TEXT)
JSON = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=12)


@dataclass(frozen=True)
class Deep:
    """A value nested ``depth`` levels deep, in arrays or objects, spliced in as text by `dumps`."""

    depth: int
    objects: bool = False

    def text(self) -> str:
        if self.objects:
            return '{"a":' * self.depth + "1" + "}" * self.depth
        return "[" * self.depth + "]" * self.depth


DEEP = st.builds(Deep, st.sampled_from([30, 500, sys.getrecursionlimit() - 20, sys.getrecursionlimit() + 1, 20_000]),
                 st.booleans())
# numbers json.loads turns into something odd or refuses: a float overflow, more digits than int() allows
RAW_NUMBER = st.sampled_from(["1e400", "-1e400", "9" * 5000, "1" * 4301, "-0", "1E-400"])


@dataclass(frozen=True)
class Raw:
    """JSON text spliced in verbatim (a number Python refuses, a lone surrogate escape)."""

    text: str


HOSTILE = JSON | DEEP | RAW_NUMBER.map(Raw) | st.sampled_from(['"\\ud800"', '"\\udc00\\ud800"', '"\\u0000"']).map(Raw)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def mutate(draw: st.DrawFn, value: Any, huge_from: int = 5_000) -> Any:
    """One to three changes anywhere in a platform's real sample: a field removed, replaced by hostile JSON, odd
    text or deep nesting, wrapped in a list, or made a huge string (``huge_from`` to 200,000 characters).
    Changes ``value`` in place where it can; returns the result (a change at the root replaces it)."""
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(value)))
        op = draw(st.sampled_from(["remove", "replace", "odd text", "deep", "wrap", "huge"]))
        new = {"replace": HOSTILE, "odd text": TEXT, "deep": DEEP}.get(op)
        if not path:
            value = draw(new) if new is not None else [value]
            continue
        *parent_path, last = path
        parent = value
        for step in parent_path:
            parent = parent[step]
        if isinstance(parent, (Deep, Raw)) or not isinstance(parent, (dict, list)):
            continue
        if op == "remove":
            del parent[last]
        elif op == "wrap":
            parent[last] = [parent[last]]
        elif op == "huge":
            parent[last] = "\u4e2d" * draw(st.integers(huge_from, 200_000))
        else:
            assert new is not None
            parent[last] = draw(new)
    return value


def dumps(value: Any) -> str:
    """JSON text of ``value``, with each `Deep` and `Raw` inside it written out as text."""
    marks: dict[str, str] = {}

    def swap(item: Any) -> Any:
        if isinstance(item, (Deep, Raw)):
            key = f"@@splice{len(marks)}@@"
            marks[key] = item.text() if isinstance(item, Deep) else item.text
            return key
        if isinstance(item, dict):
            return {k: swap(v) for k, v in item.items()}
        if isinstance(item, list):
            return [swap(v) for v in item]
        return item

    text = json.dumps(swap(value))
    for key, spliced in marks.items():
        text = text.replace(json.dumps(key), spliced)
    return text


def parses(text: bytes | str) -> bool | None:
    """Whether Python's json module can read ``text`` (deep inside a server): False when it nests past the
    recursion limit or holds an integer longer than int() accepts; None when it nests so deep that it depends
    on how deep the reader's own stack already is; True otherwise (as far as nesting and numbers go)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = deepest = 0
    in_string = escaped = False
    run = longest = 0
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        run = run + 1 if char.isdigit() else 0
        longest = max(longest, run)
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    if deepest >= sys.getrecursionlimit() or longest > sys.get_int_max_str_digits():
        return False
    return None if deepest > 600 else True
