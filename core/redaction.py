"""Secrets a customer sends are never kept: redaction before storage.

Recovery phrases (BIP-39 word lists in English and Chinese), private keys (64 hex digits, WIF,
extended keys), card numbers (Luhn) and the card's security code (CVV/CVC), passwords, PINs, passphrases
and security-question answers written in text, one-time / 2FA codes and 2FA backup codes, in Simplified
Chinese, Traditional Chinese and English. The secret is replaced by a marker such as
``[redacted: recovery phrase]`` in the text (and in every string of the platform payload), so it is
never stored, indexed, shown, exported or logged.

Money is involved, so borderline cases lean towards redacting, with two exceptions a support
conversation needs: a 64-hex-digit value or a long number labelled as a transaction or order
reference ("txid", "交易哈希", "order no.") is kept, because agents need transaction numbers and
they are not secrets.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import base58
from confusable_homoglyphs import confusables
from mnemonic import Mnemonic
from stdnum import luhn

PHRASE, KEY, CARD, PASSWORD, CODE = "recovery phrase", "private key", "card number", "password", "one-time code"
CVC = "card security code"
KINDS = (PHRASE, KEY, CARD, CVC, PASSWORD, CODE)
MIN_WORDS = 12
PHRASE_LENGTHS = frozenset({12, 15, 18, 21, 24})

_CJK = r"[\u3400-\u9fff]"
# A reference the customer labels as one, the label right before it ("txid ...", "order no. ...", "交易哈希：...");
# "order failed: paid with <card>" names an order but labels nothing.
_LABELLED_REFERENCE = re.compile(
    r"(?:tx(?:id|n|\s*hash)?|hash|transaction|transfer|order|reference|ref|交易|哈希|转账|轉帳|订单|訂單|单号|單號|流水)"
    r"(?:\s*(?:no\.?|number|num|id|hash|code|#|号|號|编号|編號|哈希|单号|單號))?(?:\s+(?:is|was))?\s*(?:[:：#=]\s*)?$",
    re.I)
_HEX64 = re.compile(r"(?<![0-9A-Za-z])(?:0[xX])?[0-9a-fA-F]{64}(?![0-9A-Za-z])")
# the same 64 digits written in groups ("38b74aec ad65167c ...", or over two lines): counted without the gaps
_HEX_GROUPS = re.compile(r"(?<![0-9A-Za-z])(?:0[xX])?[0-9a-fA-F]{4,}(?:[ \t\n:-]{1,2}[0-9a-fA-F]{4,})+(?![0-9A-Za-z])")
_BASE58 = re.compile(r"(?<![0-9A-Za-z])[1-9A-HJ-NP-Za-km-z]{50,112}(?![0-9A-Za-z])")
_EXTENDED = re.compile(r"(?<![0-9A-Za-z])[xyzt]prv[1-9A-HJ-NP-Za-km-z]{100,112}(?![0-9A-Za-z])")
_CARD = re.compile(r"(?<!\d)(?<!\d[-./])\d(?:(?:[ \-./]|\n)?\d){12,18}(?!\d|[-./]\d)")
_PW_WORD = r"(?:pass(?:word|code|wd)?|pwd|pw|pin(?:\s*(?:code|number|no\.?))?)"
_PASSWORD_EN = re.compile(
    rf"\b(?P<cue>{_PW_WORD}(?:\s+(?:is|was|=)|\s*[:=：]|\s+[-–—]\s)\s*)(?P<value>\"[^\"\n]{{1,64}}\"|'[^'\n]{{1,64}}'|\S{{1,64}})",
    re.I)
# "PIN 1234", "password hunter22": no "is" or colon, so the value must carry a digit to be taken for one.
_PASSWORD_BARE = re.compile(rf"\b(?P<cue>{_PW_WORD}\s*)(?P<value>(?=[!-~]*\d)[!-~]{{4,64}})", re.I)
# A passphrase or a security question's answer may be several words: up to the end of the clause.
_PASSPHRASE = re.compile(
    r"(?P<cue>\b(?:pass\s?phrase|security (?:question )?answer|(?:answer to|answer for) (?:my|the) security "
    r"question)(?:\s+(?:is|was|=)|\s*[:=：])\s*|(?:密保(?:问题|問題)?的?答案|安全(?:问题|問題)的?答案|密保)"
    r"\s*(?:是|为|為|[:=：])\s*)(?P<value>\"[^\"\n]{1,64}\"|'[^'\n]{1,64}'|[^\n,.;!?，。；！？]{1,64})", re.I)
# "支付密码123456", "密碼 abc12345", "密码是我生日19900101": the separator may be missing, a few words may stand
# between it and the value.
_PASSWORD_ZH = re.compile(
    r"(?P<cue>(?:密码|密碼|口令|PIN码|PIN碼|pin码|pin碼)(?:\s*(?:是|为|為|[:=：])\s*(?:[\u4e00-\u9fff]{1,4}\s*)?|\s?))"
    r"(?P<value>[!-~]{1,64})")
_CODE_ZH = re.compile(
    r"(?P<cue>(?:验证码|驗證碼|校验码|校驗碼|动态码|動態碼|短信码|簡訊碼|安全码|安全碼|确认码|確認碼|二次验证码|2FA|"
    r"谷歌验证器?|谷歌驗證器?)[^\d\n]{0,6})(?P<value>\d{3}[ -]\d{3}(?!\d)|(?:\d ){3,7}\d(?![\d ]*\d)|\d{4,8}(?!\d))")
_CODE_EN = re.compile(
    r"(?P<cue>\b(?:otp|2fa|mfa|one[- ]time (?:code|password|pin)|(?:verification|security|confirmation|auth|"
    r"authenticator|sms|login|access) code|code|authenticator|google auth|authy)\b[^\d\n]{0,20}?)"
    r"(?P<value>\d{3}[ -]\d{3}(?![\d ]*\d)|(?:\d ){3,7}\d(?![\d ]*\d)|\d{4,8}(?!\d))", re.I)
# 2FA backup / recovery codes: letter-and-digit groups ("8H3K-2J9D", "ABCD-EFGH-IJKL").
_BACKUP_CODE = re.compile(
    r"(?P<cue>\b(?:backup|recovery|rescue|emergency|2fa)\s+codes?\b\s*(?:is|was|are|=|[:：])?\s*|"
    r"(?:备用码|備用碼|恢复码|恢復碼|救援码|救援碼|备份码|備份碼)\s*(?:是|为|為|[:=：])?\s*)"
    r"(?P<value>[A-Za-z0-9]{4,10}(?:[- ][A-Za-z0-9]{4,10}){0,7})", re.I)
_DIGIT = re.compile(r"\d")
# Words one of which every cue of a family contains (checked as substrings before the family's patterns run).
_PASSWORD_HINTS = ("pass", "pw", "pin", "answer", "答案", "backup", "recovery", "rescue", "emergency", "2fa", "密",
                   "口令", "备", "備", "恢", "救")
_CVC_HINTS = ("cvv", "cvc", "cvn", "csc", "cid", "code", "digit", "back of", "安全", "背面")
_CODE_HINTS = ("otp", "2fa", "mfa", "code", "one time", "one-time", "auth", "码", "碼", "谷歌", "验证", "驗證")


def _any_in(text: str, hints: tuple[str, ...]) -> bool:
    return any(hint in text for hint in hints)


# The card's security code: three or four digits after its name ("cvv 123", "安全码 123", "背面三位数是 321").
_CVC = re.compile(
    r"(?P<cue>\b(?:cvv2?|cvc2?|cvn|csc|cid|card (?:security|verification) code|security code|(?:3|three|4|four)[- ]"
    r"digits? (?:on|at|from) the back(?: of (?:my|the) card)?|back of (?:my|the) card)\b[^\d\n]{0,12}?|"
    r"(?:安全码|安全碼|卡?(?:片)?背面的?(?:三|3)位[数數]?字?|cvv码|cvv碼)[^\d\n]{0,6})(?P<value>\d{3,4})(?!\d)", re.I)
_NOT_AN_OTP = re.compile(r"(?:error|err|zip|postal|post|country|area|promo|referral|invite|invitation|coupon|order|"
                         r"invoice|voucher|gift|discount|"
                         r"status|reason|bank|swift|sort|branch|product|tracking)\s*$", re.I)
# "my password is wrong": a plain word from this list after "password is" is a complaint, not a password.
COMPLAINT_WORDS = frozenset({
    "wrong", "incorrect", "not", "invalid", "too", "expired", "correct", "right", "reset", "changed", "the", "my",
    "a", "an", "being", "still", "locked", "blocked", "forgotten", "lost", "rejected", "weak", "strong", "working",
    "fine", "ok", "okay", "required", "needed", "long", "short", "same", "different", "new", "old", "empty", "set",
    "missing", "unknown", "gone", "broken", "accepted", "saved", "case-sensitive", "this", "that", "it", "what",
    "and", "or", "but", "so", "because", "please", "help",
})


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    kinds: tuple[str, ...]  # what was removed, in order of first appearance; empty when nothing was

    @property
    def found(self) -> bool:
        return bool(self.kinds)


def marker(kind: str) -> str:
    return f"[redacted: {kind}]"


def redact(text: str) -> Redaction:
    """The text with every secret replaced by its marker, and the kinds found."""
    if not text:
        return Redaction(text, ())
    kinds: list[str] = []
    spans: list[tuple[int, int, str]] = []
    view, where = _folded(text)
    for kind, view_start, view_end in _secrets(view):
        start, end = where[view_start], where[view_end - 1] + 1
        if any(s < end and start < e for s, e, _ in spans):
            continue  # already inside a longer secret
        spans.append((start, end, kind))
    if not spans:
        return Redaction(text, ())
    out: list[str] = []
    last = 0
    for start, end, kind in sorted(spans):
        out.append(text[last:start])
        out.append(marker(kind))
        last = end
        if kind not in kinds:
            kinds.append(kind)
    out.append(text[last:])
    return Redaction("".join(out), tuple(kinds))


def _folded(text: str) -> tuple[str, list[int]]:
    """The text as the patterns read it, and where each of its characters stands in ``text``: full-width and
    other compatibility forms folded (NFKC), every script's digits made ASCII, zero-width and direction marks
    dropped, every kind of space a space, and letters that look Latin (Cyrillic "а") made Latin. A secret typed
    with a Chinese input method's full-width letters, or with a zero-width space between its words, is the same
    secret; the text kept is the customer's own, with only the secret replaced."""
    if text.isascii():
        return text, list(range(len(text)))
    view: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text):
        folded = _fold(char)
        view.append(folded)
        where.extend([i] * len(folded))
    return "".join(view), where


@lru_cache(maxsize=16384)
def _fold(char: str) -> str:
    if char.isascii() or _CJK_CHAR.match(char):
        return char
    if char == "\u200b":  # a zero-width space still parts words
        return " "
    category = unicodedata.category(char)
    if category == "Cf":  # zero-width joiners, direction marks, soft hyphens
        return ""
    if category == "Nd":
        return str(unicodedata.decimal(char))
    if category.startswith("Z"):
        return " "
    folded = unicodedata.normalize("NFKC", char)
    if folded != char:
        return "".join(_fold(c) for c in folded)
    if char.isalpha():
        found = confusables.is_confusable(char, preferred_aliases=["latin"]) or []
        latin = [h["c"] for item in found for h in item["homoglyphs"] if h["c"].isascii() and h["c"].isalpha()]
        if latin:
            return latin[0]
    return char


def scrub(value: Any) -> Any:
    """Every string inside a platform payload redacted the same way (the raw text must not keep it either)."""
    if isinstance(value, str):
        return redact(value).text
    if isinstance(value, Mapping):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


def _secrets(text: str) -> list[tuple[str, int, int]]:
    # Every message passes here before it is stored, so each pattern runs only where it could match: keys need
    # their length, a card thirteen digits, the cued patterns one of their cue words (looked for as plain
    # substrings of the lower-cased text), the codes a digit. Most messages pass one or two of these tests.
    lower = text.lower()
    digits = len(_DIGIT.findall(text))
    found: list[tuple[str, int, int]] = []
    found += [(PHRASE, s, e) for s, e in _phrases(text, lower)]
    if len(text) >= 50:
        found += [(KEY, m.start(), m.end()) for m in _EXTENDED.finditer(text)]
        found += [(KEY, m.start(), m.end()) for m in _BASE58.finditer(text) if _is_wif(m.group())]
    if len(text) >= 64:
        found += [(KEY, m.start(), m.end()) for m in _HEX64.finditer(text) if not _labelled(text, m.start())]
        found += [(KEY, m.start(), m.end()) for m in _HEX_GROUPS.finditer(text)
                  if len(re.sub(r"^0[xX]|[^0-9a-fA-F]", "", m.group())) == 64 and not _labelled(text, m.start())]
    if digits >= 13:
        found += [(CARD, m.start(), m.end()) for m in _CARD.finditer(text) if _is_card(m.group()) and not _labelled(
            text, m.start())]
    if digits >= 3 and _any_in(lower, _CVC_HINTS):
        found += [(CVC, m.start("value"), m.end("value")) for m in _CVC.finditer(text)]
    if _any_in(lower, _PASSWORD_HINTS):
        for pattern in (_PASSWORD_EN, _PASSWORD_ZH, *((_PASSWORD_BARE,) if digits else ())):
            found += [(PASSWORD, m.start("value"), m.end("value")) for m in pattern.finditer(text)
                      if _looks_like_password(m.group("value"))]
        found += [(PASSWORD, m.start("value"), m.end("value") - _trailing_space(m.group("value")))
                  for m in _PASSPHRASE.finditer(text) if _looks_like_answer(m.group("value"))]
        found += [(CODE, m.start("value"), m.end("value")) for m in _BACKUP_CODE.finditer(text)
                  if _looks_like_backup_code(m.group("value"))]
    if digits >= 4 and _any_in(lower, _CODE_HINTS):
        found += [(CODE, m.start("value"), m.end("value")) for m in _CODE_ZH.finditer(text)]
        found += [(CODE, m.start("value"), m.end("value")) for m in _CODE_EN.finditer(text)
                  if not _NOT_AN_OTP.search(text[max(0, m.start() - 20):m.start()])]
    return found


# ---- recovery phrases ---------------------------------------------------------------------------
@cache
def _english() -> frozenset[str]:
    return frozenset(w[:4] for w in Mnemonic("english").wordlist)  # BIP-39: the first 4 letters are unique


@cache
def _chinese() -> frozenset[str]:
    return frozenset(Mnemonic("chinese_simplified").wordlist) | frozenset(Mnemonic("chinese_traditional").wordlist)


_PHRASE_CUE = re.compile(r"(?:助记词|助記詞|记忆词|記憶詞|恢复短语|恢復短語|种子短语|種子短語|"
                         r"种子词|種子詞|钱包短语|錢包短語|seed|mnemonic|recovery phrase)"
                         r"\s*(?:是|为|為|[:：])?\s*", re.I)
# Words and what stands between them. A wallet shows and people copy a phrase in many ways: "1) word", "(1) word",
# "#1 word", "1 - word", bullets, "word-word", "word_word", '"word", "word"', "['word', ...]", "word -> word",
# "word and word": any short run of marks and digits (at most GAP_MARKS of them) or an "and" stands between two
# words of a phrase; a longer one (a URL, an amount with its currency) or any other word ends it.
_PHRASE_HINTS = ("助", "记", "記", "种", "種", "包", "恢", "seed", "mnemonic", "phrase")
_TOKEN = re.compile(rf"[A-Za-z]+|{_CJK}+|[^\sA-Za-z\u3400-\u9fff]+")
GAP_MARKS = 6
_JOINERS = frozenset({"and", "&"})
# Where a run of MIN_WORDS words could be (a word: 3+ letters, or one Chinese character standing alone, with only
# spaces, marks, digits or "and" between): the word-by-word walk below runs only there, so an ordinary message
# costs one regex search instead of the walk.
_WORD = rf"(?:(?<![A-Za-z])[A-Za-z]{{3,}}(?![A-Za-z])|(?<!{_CJK}){_CJK}(?!{_CJK}))"
_GAP = r"(?:[^A-Za-z\u3400-\u9fff]|(?<![A-Za-z])and(?![A-Za-z]))*"
_MAYBE_RUN = re.compile(rf"{_WORD}(?:{_GAP}{_WORD}){{{MIN_WORDS - 1}}}")
_UNITS = re.compile(rf"[A-Za-z]{{3,}}|{_CJK}")  # fewer than MIN_WORDS of these: no run can be there
_CJK_RUN = re.compile(rf"{_CJK}{{{MIN_WORDS},}}")
_CJK_CHAR = re.compile(_CJK)


def _phrases(text: str, lower: str) -> list[tuple[int, int]]:
    """Runs of 12+ BIP-39 words (English by their unique 4-letter prefix, typos after it included;
    Chinese single characters set apart by spaces or commas), or a contiguous run of Chinese
    characters whose length and checksum make it a valid phrase."""
    spans: list[tuple[int, int]] = []
    chinese = _chinese()
    if len(_UNITS.findall(text)) >= MIN_WORDS and _MAYBE_RUN.search(text):
        spans += _runs(text, chinese)
    for m in _CJK_RUN.finditer(text):
        token = m.group()
        if len(token) in PHRASE_LENGTHS and all(c in chinese for c in token) and _checksum_holds(list(token)) \
                and not _reads_as_chinese(token):
            spans.append((m.start(), m.end()))
    cues = _PHRASE_CUE.finditer(text) if _any_in(lower, _PHRASE_HINTS) else ()
    for cue in cues:  # "助记词是" and the characters written without spaces
        end = cue.end()
        while end < len(text) and text[end] in chinese and end - cue.end() < max(PHRASE_LENGTHS):
            end += 1
        run = text[cue.end():end]
        if len(run) >= MIN_WORDS and (_checksum_holds(list(run)) or not _reads_as_chinese(run)):
            spans.append((cue.end(), end))
    return spans


def _runs(text: str, chinese: frozenset[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    run: list[re.Match[str]] = []

    def close() -> None:
        if len(run) >= MIN_WORDS:
            first, last = _exact_phrase([m.group() for m in run])
            spans.append((run[first].start(), run[last].end()))
        run.clear()

    english = _english()
    marks = 0  # since the last word
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token.isascii() and token.isalpha():
            if token.lower() in _JOINERS and run:
                continue
            if len(token) >= 3 and token[:4].lower() in english:
                run.append(m)
                marks = 0
                continue
        elif len(token) == 1 and token in chinese:
            run.append(m)
            marks = 0
            continue
        elif not _CJK_CHAR.match(token):  # marks and digits between words
            marks += len(token)
            if marks <= GAP_MARKS:
                continue
        close()
        marks = 0
    close()
    return spans


def _exact_phrase(words: list[str]) -> tuple[int, int]:
    """The first and last word of the phrase in a run: the longest stretch whose checksum holds ("my wallet seed:
    <12 words>" runs from "wallet", as both are BIP-39 words; the phrase is the 12), else the whole run (a phrase
    with a typo in it is redacted all the same)."""
    for length in sorted((n for n in PHRASE_LENGTHS if n <= len(words)), reverse=True):
        for first in range(len(words) - length, -1, -1):
            if _checksum_holds(words[first:first + length]):
                return first, first + length - 1
    return 0, len(words) - 1


def _checksum_holds(words: list[str]) -> bool:
    """Whether ``words`` (English words, or Chinese characters one by one) make a phrase whose checksum holds in
    one of the wordlists (a word outside a list fails that list's check)."""
    langs = ("english",) if words[0].isascii() else ("chinese_simplified", "chinese_traditional")
    phrase = " ".join(w.lower() for w in words)
    return any(_checker(lang).check(phrase) for lang in langs)


def _reads_as_chinese(run: str) -> bool:
    """A sentence, not a phrase: most of its characters form words. The wordlists hold 2,048 everyday
    characters and a 12-word checksum has 4 bits, so one everyday 12-character sentence in 16 passes as a
    valid phrase ("还没完成的交易可以取消吗"); a sentence segments into two-character words (half of its
    characters and more), a generated phrase rarely (at most a third of its characters in 8,000 generated)."""
    from core.language import _jieba, to_simplified

    simplified = to_simplified(run)
    in_words = sum(len(word) for word in _jieba().cut(simplified, HMM=False) if len(word) >= 2)
    return in_words >= 0.45 * len(simplified)


@cache
def _checker(lang: str) -> Mnemonic:
    return Mnemonic(lang)



# ---- keys, cards, passwords -----------------------------------------------------------------------
def _is_wif(candidate: str) -> bool:
    if not (candidate[0] in "5KLc9" and len(candidate) in (51, 52)):
        return False
    try:
        base58.b58decode_check(candidate)
    except ValueError:
        return False
    return True


def _is_card(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 13 <= len(digits) <= 19 or not luhn.is_valid(digits):
        return False
    first2, first4 = int(digits[:2]), int(digits[:4])
    return digits[0] in "3456" or 2221 <= first4 <= 2720 or first2 == 62  # issuers' ranges, not order numbers


def _labelled(text: str, start: int) -> bool:
    """A transaction or order reference the customer labelled as such (agents need those)."""
    return bool(_LABELLED_REFERENCE.search(text[max(0, start - 30):start]))


def _looks_like_password(value: str) -> bool:
    bare = value.strip("\"'").rstrip(".,!?;:，。！？")
    if len(bare) < 4 or bare.startswith("[redacted") or _RANGE.fullmatch(bare):
        return False
    if value[:1] in "\"'":
        return True
    if not bare.isascii():
        return False
    plain_word = bare.islower() or (bare[:1].isupper() and bare[1:].islower())  # "wrong", "Wrong"; not "wRoNg"
    return not (plain_word and bare.lower() in COMPLAINT_WORDS)


_RANGE = re.compile(r"\d{1,2}(?:-|~|到|至)\d{1,2}")  # "密码6-20位": the rule for a password, not one


def _looks_like_answer(value: str) -> bool:
    bare = value.strip().strip("\"'")
    first = bare.split()[0].lower() if bare.split() else ""
    return bool(bare) and first not in COMPLAINT_WORDS and not bare.startswith(("什么", "什麼", "多少", "啥", "不"))


def _trailing_space(value: str) -> int:
    return len(value) - len(value.rstrip())


def _looks_like_backup_code(value: str) -> bool:
    """A code has a digit or is upper-case groups; "backup code doesn't work" names one without giving it."""
    groups = re.split(r"[- ]", value)
    return any(c.isdigit() for c in value) or (len(groups) > 1 and all(g.isupper() for g in groups))
