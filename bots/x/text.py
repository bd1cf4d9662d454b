"""Text rules of X posts: thread splitting by weighted length, reply prefixes, comparing posts.

Lengths are X's weighted lengths (``length.py``): CJK characters and emoji weigh 2, every link
(``https://...`` or a bare ``okpay.com/login``) weighs 23, and 280 is the limit. A Chinese answer
of 200 characters is too long for one post; counting with ``len`` would make X refuse it.
"""

from __future__ import annotations

import re

from bots.x.length import normalise, url_spans, weighted_length, weights

_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w{1,15}\b)+\s*")
_SEPARATORS = ("\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "；", "; ", "，", ", ", " ")
MARKER_ROOM = 8  # the " (n/m)" marker of a thread part
# Room kept in every part of a thread for the short addition that makes a repeated answer differ
# (``wording.again``), so it can be added to any part without cutting the thread anew.
ADDITION_ROOM = 40


def split_post(text: str, limit: int, *, reserve: int = 0) -> list[str]:
    """Split a public answer into thread parts of weighted length <= ``limit``.

    Cuts at paragraph, sentence, clause or word boundaries (never mid-sentence when a boundary
    exists, never inside a link) and numbers the parts " (1/3)" so a reader sees the answer
    continues. ``reserve``: weighted room left free in each part of a thread.
    """
    text = normalise(text).strip()
    if weighted_length(text) <= limit:
        return [text]
    return _numbered(_chunks(text, limit - MARKER_ROOM - reserve))


def thread(text: str, limit: int, *, prefix: str = "", addition: str = "") -> list[str]:
    """The posts of one public answer: each starts with ``prefix`` (the customer's @handle) and ends
    with ``addition`` when given. A thread keeps ``ADDITION_ROOM`` free in every part, so the parts
    are the same with or without an addition: one can be added from any part on, mid-thread."""
    tail = f" {addition}" if addition else ""
    whole = normalise(text).strip()
    if weighted_length(prefix + whole + tail) <= limit:
        return [prefix + whole + tail]
    budget = limit - weighted_length(prefix) - MARKER_ROOM - ADDITION_ROOM
    return [prefix + part + tail for part in _numbered(_chunks(whole, budget))]


def _numbered(chunks: list[str]) -> list[str]:
    return [f"{chunk} ({i}/{len(chunks)})" for i, chunk in enumerate(chunks, 1)]


def _chunks(text: str, budget: int) -> list[str]:
    """Pieces of weighted length <= ``budget``, cut at the best boundary."""
    if budget <= 0:
        raise ValueError("limit too small for a thread")
    parts: list[str] = []
    rest = text
    while rest:
        total, fit = 0, 0
        for i, w in enumerate(weights(rest)):
            if total + w > budget:
                break
            total += w
            fit = i + 1
        else:
            parts.append(rest)
            break
        cut = _best_cut(rest, fit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


def _best_cut(text: str, fit: int) -> int:
    """The last boundary within the first ``fit`` characters, not inside a link."""
    urls = url_spans(text)
    for sep in _SEPARATORS:
        pos = text.rfind(sep, 0, fit)
        while pos > fit // 3:
            end = pos + len(sep)
            if not any(s < end < e for s, e in urls):
                return end
            pos = text.rfind(sep, 0, pos)
    for start, end in urls:
        if start < fit < end and start > 0:
            return start  # keep the link whole in the next part
    return max(fit, 1)


def same_post(ours: str, theirs: str) -> bool:
    """Whether a post X returns is the text we posted: X stores links as t.co, so links are left out."""
    def plain(text: str) -> str:
        text = normalise(text)
        for start, end in reversed(url_spans(text)):
            text = text[:start] + " " + text[end:]
        return " ".join(text.split())
    return plain(ours) == plain(theirs)


def strip_reply_prefix(text: str) -> str:
    """Drop the leading @handles X puts in front of replies and mentions ("@OKPay @bob how do I...")."""
    stripped = _LEADING_MENTIONS.sub("", text, count=1)
    return stripped if stripped.strip() else text.strip()
