"""The length X checks a post against, counted by twitter-text (the official rules, ported to Python).

X does not count characters the way ``len`` does (twitter-text config v3): characters outside a few
Latin and punctuation ranges (CJK, most symbols) weigh 2, an emoji (even a sequence of several code
points) weighs 2, and every link weighs 23 however long it is (X wraps it in t.co). A link is what
X's own link detection finds: ``https://okpay.com/a``, but also a bare ``okpay.com/login`` or
``www.okpay.com``; counting only ``http(s)://`` text made a 301-character post that X refused.

``twitter-text-parser`` gives the total; the splitter also needs to know where a cut may fall, so
``weights`` spreads the same figures over the characters (a link's or emoji's weight on its first one).
"""

from __future__ import annotations

import re
import unicodedata

from twitter_text import extract_emojis_with_indices, extract_urls_with_indices, parse_tweet
from twitter_text.config import config as _configs
from twitter_text.get_character_weight import get_character_weight

CONFIG = _configs["version3"]
URL_WEIGHT: int = CONFIG["transformed_url_length"]
_SCALE: int = CONFIG["scale"]
_LINE_ENDINGS = re.compile(r"\r\n|\r")


def normalise(text: str) -> str:
    """What X counts: NFC, with one kind of line ending."""
    return _LINE_ENDINGS.sub("\n", unicodedata.normalize("NFC", text))


def weighted_length(text: str) -> int:
    """The length X checks against ``max_post_length`` (280)."""
    return int(parse_tweet(text, CONFIG).weightedLength)


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where X sees links in (normalised) ``text``: (start, end) code point indices."""
    return [(int(u["indices"][0]), int(u["indices"][1])) for u in extract_urls_with_indices(text)]


def weights(text: str) -> list[int]:
    """The weight of each character of normalised ``text``; they add up to ``weighted_length(text)``.

    A link's 23 and an emoji's 2 sit on their first character, the rest of them weigh 0, so a cut
    can be placed by summing, and a cut inside a link or an emoji shows as a zero-weight position.
    """
    out = [get_character_weight(ch, CONFIG) for ch in text]
    for match in extract_emojis_with_indices(text):
        start, end = match["indices"]
        out[start:end] = [CONFIG["default_weight"]] + [0] * (end - start - 1)
    for start, end in url_spans(text):
        out[start:end] = [URL_WEIGHT * _SCALE] + [0] * (end - start - 1)
    return [w // _SCALE for w in out]
