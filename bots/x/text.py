"""Text rules of X posts: weighted length, thread splitting, reply prefixes, the DM invitation.

X does not count characters the way ``len`` does: CJK characters and emoji weigh 2, every URL
weighs 23 (t.co), and 280 is the limit of the *weighted* length (twitter-text config v3). A
Chinese answer of 200 characters is therefore too long for one post; counting with ``len``
would make X refuse it.
"""

from __future__ import annotations

import re
import unicodedata

# twitter-text v3: weight 100 per unit in these ranges, 200 elsewhere; scale 100.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL_WEIGHT = 23
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w{1,15}\b)+\s*")
_SEPARATORS = ("\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "；", "; ", "，", ", ", " ")
# Room kept for the " (n/m)" marker of a thread.
_MARKER_ROOM = 8

# Posted before the DM is sent, so it must stay true if the DM fails: point to DMs, claim nothing.
_INVITES = {
    "en": "Please check your DMs from us.",
    "zh-Hans": "请查看我们的私信。",
    "zh-Hant": "請查看我們的私訊。",
}
_INVITE_HINT = re.compile(r"(?<![a-z])(?:dms?|direct messages?)(?![a-z])|私信|私訊|私讯")


def _char_weight(ch: str) -> int:
    cp = ord(ch)
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT_RANGES) else 2


def _weights(text: str) -> list[int]:
    """Per-character weights; a URL's whole weight sits on its first character."""
    weights = [_char_weight(ch) for ch in text]
    for match in _URL.finditer(text):
        start, end = match.span()
        for i in range(start, end):
            weights[i] = 0
        weights[start] = _URL_WEIGHT
    return weights


def weighted_length(text: str) -> int:
    """The length X checks against ``max_post_length``."""
    return sum(_weights(unicodedata.normalize("NFC", text)))


def split_post(text: str, limit: int) -> list[str]:
    """Split a public answer into thread parts of weighted length <= ``limit``.

    Cuts at paragraph, sentence, clause or word boundaries (never mid-sentence when a boundary
    exists) and numbers the parts " (1/3)" so a reader sees the answer continues.
    """
    text = unicodedata.normalize("NFC", text).strip()
    if weighted_length(text) <= limit:
        return [text]
    budget = limit - _MARKER_ROOM
    if budget <= 0:
        raise ValueError("limit too small for a thread")
    parts: list[str] = []
    rest = text
    while rest:
        weights = _weights(rest)
        total, fit = 0, 0
        for i, w in enumerate(weights):
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
    count = len(parts)
    return [f"{part} ({i}/{count})" for i, part in enumerate(parts, 1)]


def _best_cut(text: str, fit: int) -> int:
    """The last boundary within the first ``fit`` characters, not inside a URL."""
    urls = [m.span() for m in _URL.finditer(text)]
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


# what X turns into a t.co link: full URLs, and bare domains with a path (okpay.com/x)
_LINKED = re.compile(r"https?://\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/\S*", re.IGNORECASE)


def same_post(ours: str, theirs: str) -> bool:
    """Whether a post X returns is the text we posted: X stores links as t.co, so links are left out."""
    def plain(text: str) -> str:
        return " ".join(_LINKED.sub(" ", unicodedata.normalize("NFC", text)).split())
    return plain(ours) == plain(theirs)


def strip_reply_prefix(text: str) -> str:
    """Drop the leading @handles X puts in front of replies and mentions ("@OKPay @bob how do I...")."""
    stripped = _LEADING_MENTIONS.sub("", text, count=1)
    return stripped if stripped.strip() else text.strip()


def invite_line(language: str | None, text: str) -> str:
    """The short "please check your DMs" note, in the answer's language."""
    if language in _INVITES:
        return _INVITES[language]
    if language and language.startswith("zh"):
        return _INVITES["zh-Hant" if language.lower() in ("zh-tw", "zh-hk", "zh-hant") else "zh-Hans"]
    if re.search(r"[\u4e00-\u9fff]", text):
        return _INVITES["zh-Hant" if _looks_traditional(text) else "zh-Hans"]
    return _INVITES["en"]


def with_invite(text: str, language: str | None) -> str:
    """Append the DM note unless the engine's text already says so."""
    if _INVITE_HINT.search(text.lower()):
        return text
    line = invite_line(language, text)
    body = text.rstrip()
    if not body:
        return line
    if re.search(r"[\u4e00-\u9fff]$", body):
        body += "。"
    return body + ("" if _char_weight(body[-1]) == 2 else " ") + line


def _looks_traditional(text: str) -> bool:
    try:
        from opencc import OpenCC
    except ImportError:  # pragma: no cover - opencc is a dependency
        return False
    return OpenCC("t2s").convert(text) != text
