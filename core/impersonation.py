"""Names that imitate the bot, the brand or a moderator: the scam every wallet community sees first.

A name is reduced to a skeleton before comparing: Unicode confusables mapped to their Latin look-alikes
(the ``confusable-homoglyphs`` data: Cyrillic "О" and digit "0" become "O"), compatibility forms folded
(NFKC: full-width letters), case folded, look-alike digits read as letters (0 o, 1 l, 3 e, 5 s, ...),
and everything that is not a letter or a digit dropped ("OKPay_Support" = "okpay support"). A name
whose skeleton equals, contains, or is one or two edits from a protected name's skeleton is a
suspect; the account that really holds the name (its platform user id) never is.
"""

from __future__ import annotations

import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from confusable_homoglyphs import confusables
from rapidfuzz.distance import Levenshtein

_DIGITS_AS_LETTERS = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                                    "$": "s", "@": "a", "|": "l", "!": "i"})
MIN_LENGTH = 4  # shorter skeletons ("OK") match too much to mean anything


@dataclass(frozen=True, slots=True)
class Protected:
    """A name people trust in this channel, and the account that really holds it (if known)."""

    name: str
    user_id: str | None = None


@lru_cache(maxsize=20_000)
def skeleton(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name)
    found = confusables.is_confusable(folded, greedy=True, preferred_aliases=["latin", "common"]) or []
    swaps = {}
    for item in found:
        latin = [h["c"] for h in item["homoglyphs"] if h["c"].isascii()]
        if latin:
            swaps[item["character"]] = latin[0]
    mapped = "".join(swaps.get(c, c) for c in folded).casefold().translate(_DIGITS_AS_LETTERS)
    return "".join(c for c in mapped if c.isalnum())


def imitates(name: str, protected: Iterable[Protected], *, user_id: str | None = None) -> Protected | None:
    """The protected name ``name`` imitates, or None. The real holder (same user id) is never a suspect."""
    mine = skeleton(name)
    if len(mine) < MIN_LENGTH:
        return None
    for target in protected:
        if target.user_id is not None and target.user_id == user_id:
            continue
        theirs = skeleton(target.name)
        if len(theirs) < MIN_LENGTH:
            continue
        if theirs in mine or Levenshtein.distance(mine, theirs, score_cutoff=_allowed(theirs)) <= _allowed(theirs):
            return target
    return None


def _allowed(skeleton_: str) -> int:
    return 1 if len(skeleton_) < 8 else 2


BRAND_ROLES = ("support", "official", "admin", "team", "help", "service", "客服", "官方")
MODERATORS_KEPT = 500  # per channel, most recently seen first


class Guard:
    """Who is protected in each channel (the brand's own names, configured ones, the moderators seen lately)
    and who imitates them. Verdicts are cached per (channel, account, name): a name is checked once."""

    def __init__(self, brand: str, names: Iterable[str] = (), *, remove: bool = False,
                 alerts: dict[str, str] | None = None) -> None:
        self.protected = [Protected(f"{brand} {role}") for role in BRAND_ROLES] + [Protected(n) for n in names]
        self.remove = remove  # ask the channel to remove a suspect from the place (where the platform lets bots)
        self.alerts = dict(alerts or {})  # channel -> conversation where moderators are told
        self._moderators: dict[str, OrderedDict[str, str]] = {}
        self._verdicts: OrderedDict[tuple[str, str, str], Protected | None] = OrderedDict()

    def learn(self, channel: str, user_id: str, name: str) -> None:
        """A moderator spoke: their name is protected in this channel from now on."""
        seen = self._moderators.setdefault(channel, OrderedDict())
        if seen.get(user_id) != name:
            self._verdicts.clear()  # a new protected name: earlier verdicts may change
        seen[user_id] = name
        seen.move_to_end(user_id)
        while len(seen) > MODERATORS_KEPT:
            seen.popitem(last=False)

    def suspect(self, channel: str, user_id: str, *names: str | None) -> Protected | None:
        """The protected name any of the account's ``names`` (display name, handle) imitates, or None."""
        key = (channel, user_id, "\n".join(n or "" for n in names))
        if key in self._verdicts:
            self._verdicts.move_to_end(key)
            return self._verdicts[key]
        moderators = [Protected(name, uid) for uid, name in self._moderators.get(channel, {}).items()]
        verdict = None
        if user_id not in self._moderators.get(channel, {}):  # a moderator is not their own impostor
            for name in names:
                if name and (verdict := imitates(name, [*self.protected, *moderators], user_id=user_id)):
                    break
        self._verdicts[key] = verdict
        while len(self._verdicts) > 50_000:
            self._verdicts.popitem(last=False)
        return verdict
