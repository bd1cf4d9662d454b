"""Knowledge base: FAQ entries and short messages, loaded from YAML and frozen.

The file format is documented at the top of ``core/data/okpay.yaml``. Loading validates every key
so a deployment's own file fails at start with the entry and key named, not at the first customer.
Traditional Chinese is derived from the simplified texts with OpenCC, so authors write two languages.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from core.config_file import unknown_key, yaml_problem
from core.errors import KnowledgeBaseError
from core.intake import IntakeTopic, parse_topics
from core.language import LANGUAGES, prepare, to_simplified, to_traditional

AUTHORED = ("zh-Hans", "en")  # zh-Hant is converted from zh-Hans unless given
MESSAGE_KEYS = (
    "greeting", "thanks", "ack", "handoff", "handoff_public", "urgent_handoff", "ticket_joined",
    "ticket_solved", "escalated_notice", "escalation_refused", "invite_private", "button_human",
    "secret_warning", "secret_warning_wallet", "flood_notice", "public_safety", "impersonator_notice",
    # the conversation (core/conversation.py): clarifying, did-it-help, intake, stepping back, satisfaction
    "clarify_which", "clarify_vague", "button_solved", "button_other", "glad_helped",
    "try_again", "waiting_ack", "after_hours", "intake_transaction", "intake_login", "intake_verification",
    "intake_thanks", "agent_joined", "rating_request", "rating_thanks", "comment_thanks",
)
DEFAULT_ESCALATE_AFTER = 3  # unhelpful answers on one topic before a person takes over (money and security: 2)
_TOP_KEYS = {"entries", "messages", "not_covered", "synonyms", "intake"}
_TOPIC_KEYS = {"keywords", "patterns", "unless"}
_ENTRY_KEYS = {"id", "title", "questions", "answer", "keywords", "escalate_after"}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DEFAULT_PACKAGE_FILE = "okpay.yaml"


@dataclass(frozen=True, slots=True)
class Topic:
    """A subject this knowledge base has no answer for: a person answers instead of the nearest FAQ.

    ``pattern`` and ``unless`` run on prepared text (lower case, simplified Chinese); a message matching
    ``pattern`` and not ``unless`` is handed off with reason ``not_covered``.
    """

    name: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None

    def matches(self, prepared: str) -> bool:
        return bool(self.pattern.search(prepared)) and not (self.unless and self.unless.search(prepared))


@dataclass(frozen=True, slots=True)
class Entry:
    """One FAQ: texts per language (zh-Hans, zh-Hant, en), brand already filled in."""

    id: str
    title: Mapping[str, str]
    questions: Mapping[str, tuple[str, ...]]
    answer: Mapping[str, str]
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    escalate_after: int = DEFAULT_ESCALATE_AFTER  # answers that did not help before a person takes over


class _KeepMissing(dict):
    """format_map helper: unknown placeholders stay as they are (e.g. {ticket} until a ticket exists)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_UNFILLED_TICKET = re.compile(r"\s*[（(][^（()）]*\{ticket\}[^（()）]*[)）]")


def _fill(text: str, **fmt: Any) -> str:
    try:
        return string.Formatter().vformat(text, (), _KeepMissing(fmt))
    except (ValueError, IndexError):
        return text


class KnowledgeBase:
    """Immutable after load: entries, messages, synonyms and uncovered topics for the configured brand."""

    __slots__ = ("_by_id", "_filled", "_messages", "brand", "entries", "intake", "languages", "not_covered", "path",
                 "synonyms")

    def __init__(
        self,
        entries: tuple[Entry, ...],
        messages: Mapping[str, Mapping[str, str]],
        synonyms: Mapping[str, tuple[str, ...]],
        *,
        brand: str,
        path: str | None = None,
        not_covered: Mapping[str, Topic] | None = None,
        intake: Mapping[str, IntakeTopic] | None = None,
    ) -> None:
        self.entries = entries
        self.intake = MappingProxyType(dict(intake or {}))
        self.not_covered = MappingProxyType(dict(not_covered or {}))
        self.brand = brand
        self.path = path
        self.languages = LANGUAGES
        self.synonyms = MappingProxyType(dict(synonyms))
        self._messages = MappingProxyType({k: MappingProxyType(dict(v)) for k, v in messages.items()})
        self._filled: dict[tuple[str, str], str] = {}  # message texts without placeholders to fill: asked per reply
        self._by_id = MappingProxyType({e.id: e for e in entries})

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_by_id"):
            raise AttributeError("KnowledgeBase is immutable")
        object.__setattr__(self, name, value)

    def entry(self, faq_id: str) -> Entry:
        try:
            return self._by_id[faq_id]
        except KeyError:
            raise KeyError(f"no FAQ entry {faq_id!r}") from None

    def answer(self, faq_id: str, lang: str) -> str:
        return self.entry(faq_id).answer[_lang(lang)]

    def message(self, key: str, lang: str, **fmt: Any) -> str:
        """A short text; ``fmt`` fills placeholders such as ``ticket``; unknown ones are left as is."""
        lang = _lang(lang)
        if not fmt and (known := self._filled.get((key, lang))) is not None:
            return known
        if key not in self._messages:
            raise KeyError(f"no message {key!r}")
        text = self._messages[key][lang]
        if "ticket" not in fmt:  # before a ticket exists (a triage preview): drop the "(ticket #{ticket})" aside
            text = _UNFILLED_TICKET.sub("", text)
        text = _fill(text, brand=self.brand, **fmt)
        if not fmt:  # the same for every reply (the knowledge base never changes: a new one is a new object)
            self._filled[(key, lang)] = text
        return text

    def topics(self, lang: str) -> list[tuple[str, str]]:
        return [(e.id, e.title[_lang(lang)]) for e in self.entries]

    def __repr__(self) -> str:
        return f"KnowledgeBase({len(self.entries)} entries, brand={self.brand!r}, path={self.path!r})"


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else "en"


def load_knowledge_base(path: str | os.PathLike[str] | None = None, *, brand: str = "OKPay") -> KnowledgeBase:
    """Load and validate a knowledge base; ``None`` loads the packaged default (OKPay)."""
    default = _read_default()
    if path is None:
        raw, where = default, f"core/data/{_DEFAULT_PACKAGE_FILE}"
    else:
        where = os.fspath(path)
        try:
            with open(where, encoding="utf-8") as fh:
                text = fh.read()
            raw = yaml.safe_load(text)
        except OSError as exc:
            raise KnowledgeBaseError(f"cannot read knowledge base: {exc.strerror or exc}", where) from exc
        except UnicodeDecodeError:
            raise KnowledgeBaseError("the knowledge base is not UTF-8 text", where) from None
        except (yaml.YAMLError, RecursionError) as exc:
            raise KnowledgeBaseError(yaml_problem(exc, text), where) from None
    return _build(raw, default, brand=brand, where=where)


def knowledge_base_from_data(raw: Any, *, brand: str = "OKPay", where: str = "knowledge base") -> KnowledgeBase:
    """Validate and build a knowledge base from data already parsed (a version edited on /knowledge)."""
    return _build(raw, _read_default(), brand=brand, where=where)


def read_data(path: str | os.PathLike[str] | None = None) -> Any:
    """The YAML document of a knowledge base file (None: the packaged one), parsed but not validated."""
    if path is None:
        return _read_default()
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _read_default() -> Any:
    text = resources.files("core").joinpath("data", _DEFAULT_PACKAGE_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _build(raw: Any, default: Any, *, brand: str, where: str) -> KnowledgeBase:
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise KnowledgeBaseError("the file must be a mapping with an 'entries' list", where)
    for key in raw:
        if key not in _TOP_KEYS:
            problems.append(f"unknown top-level key {key!r} (allowed: {', '.join(sorted(_TOP_KEYS))})")
    entries_raw = raw.get("entries")
    if not isinstance(entries_raw, list) or not entries_raw:
        problems.append("'entries' must be a non-empty list")
        entries_raw = []
    entries: list[Entry] = []
    seen: set[str] = set()
    for index, item in enumerate(entries_raw):
        entry = _entry(item, index, brand, problems)
        if entry is None:
            continue
        if entry.id in seen:
            problems.append(f"entry {entry.id!r}: duplicate id")
        seen.add(entry.id)
        entries.append(entry)
    messages = _messages(raw.get("messages"), default.get("messages") or {}, brand, problems)
    synonyms = _synonyms(raw.get("synonyms", default.get("synonyms")), problems)
    # not inherited from the default: another deployment's knowledge base may well cover OKPay's gaps
    not_covered = _not_covered(raw.get("not_covered"), problems)
    intake = parse_topics(raw.get("intake", default.get("intake")), problems)
    for topic in intake.values():
        if topic.question not in messages:
            problems.append(f"intake: {topic.name}: question {topic.question!r} is not one of the messages")
    if problems:
        raise KnowledgeBaseError(problems, where)
    return KnowledgeBase(tuple(entries), messages, synonyms, brand=brand, path=where, not_covered=not_covered,
                         intake=intake)


def _entry(item: Any, index: int, brand: str, problems: list[str]) -> Entry | None:
    if not isinstance(item, dict):
        problems.append(f"entry #{index + 1}: must be a mapping")
        return None
    faq_id = item.get("id")
    if not isinstance(faq_id, str) or not _ID.match(faq_id):
        problems.append(f"entry #{index + 1}: missing or invalid 'id' (lower-case letters, digits, '-')")
        return None
    name = f"entry {faq_id!r}"
    for key in item:
        if key not in _ENTRY_KEYS:
            problems.append(unknown_key(name, key, sorted(_ENTRY_KEYS)))
    title = _texts(item.get("title"), f"{name}: title", brand, problems)
    answer = _texts(item.get("answer"), f"{name}: answer", brand, problems)
    questions = _lists(item.get("questions"), f"{name}: questions", brand, problems, required=True)
    keywords = _lists(item.get("keywords", {}), f"{name}: keywords", brand, problems, required=False)
    escalate_after = item.get("escalate_after", DEFAULT_ESCALATE_AFTER)
    if not isinstance(escalate_after, int) or isinstance(escalate_after, bool) or not 1 <= escalate_after <= 10:
        problems.append(f"{name}: escalate_after must be a whole number from 1 to 10")
        escalate_after = DEFAULT_ESCALATE_AFTER
    return Entry(faq_id, title, questions, answer, keywords, escalate_after)


def _texts(value: Any, name: str, brand: str, problems: list[str]) -> Mapping[str, str]:
    """language -> text, with zh-Hant converted from zh-Hans when not given."""
    if not isinstance(value, dict):
        problems.append(f"{name}: must be a mapping of language -> text")
        return MappingProxyType({})
    out: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            problems.append(f"{name}: unknown language {lang!r} (use {', '.join(LANGUAGES)})")
        elif not isinstance(text, str) or not text.strip():
            problems.append(f"{name}: {lang} text is empty")
        else:
            out[lang] = _fill(text.strip(), brand=brand)
    for lang in AUTHORED:
        if lang not in value:
            problems.append(f"{name}: missing {lang}")
    if "zh-Hans" in out and "zh-Hant" not in out:
        out["zh-Hant"] = to_traditional(out["zh-Hans"])
    return MappingProxyType(out)


def _lists(value: Any, name: str, brand: str | None, problems: list[str], *, required: bool) -> Mapping:
    """language -> tuple of texts; ``brand=None`` keeps texts as written (regular expressions)."""
    if not isinstance(value, dict) or (required and not value):
        problems.append(f"{name}: must be a mapping of language -> list of texts")
        return MappingProxyType({})
    out: dict[str, tuple[str, ...]] = {}
    for lang, items in value.items():
        if lang not in LANGUAGES:
            problems.append(f"{name}: unknown language {lang!r} (use {', '.join(LANGUAGES)})")
        elif not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            problems.append(f"{name}: {lang} must be a list of non-empty texts")
        else:
            out[lang] = tuple(i.strip() if brand is None else _fill(i.strip(), brand=brand) for i in items)
    return MappingProxyType(out)


def _messages(value: Any, default: Mapping, brand: str, problems: list[str]) -> dict[str, Mapping[str, str]]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        problems.append("messages: must be a mapping of purpose -> language -> text")
        value = {}
    out: dict[str, Mapping[str, str]] = {}
    for key in value:
        if key not in MESSAGE_KEYS:
            problems.append(unknown_key("messages", key, MESSAGE_KEYS))
    for key in MESSAGE_KEYS:
        source = value.get(key, default.get(key))
        # brand stays a placeholder here: message() fills it together with {ticket}
        texts = _texts(source, f"messages: {key}", "{brand}", problems)
        out[key] = texts
    return out


def _synonyms(value: Any, problems: list[str]) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append("synonyms: must be a mapping of canonical word -> list of variants")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for canon, variants in value.items():
        if not isinstance(canon, str) or not isinstance(variants, list):
            problems.append(f"synonyms: {canon!r} must map to a list of variants")
            continue
        out[canon.lower()] = tuple(str(v).lower() for v in variants if str(v).strip())
    return out


def _not_covered(value: Any, problems: list[str]) -> dict[str, Topic]:
    """topic -> {keywords, patterns, unless}: each a mapping language -> list, compiled to one regex."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append("not_covered: must be a mapping of topic -> {keywords, patterns, unless}")
        return {}
    out: dict[str, Topic] = {}
    for topic, spec in value.items():
        name = f"not_covered: {topic!r}"
        if not isinstance(spec, dict) or not spec:
            problems.append(f"{name}: must be a mapping with 'keywords' and/or 'patterns'")
            continue
        for key in spec:
            if key not in _TOPIC_KEYS:
                problems.append(unknown_key(name, key, sorted(_TOPIC_KEYS)))
        keywords = _lists(spec.get("keywords", {}), f"{name}: keywords", None, problems, required=False)
        patterns = _lists(spec.get("patterns", {}), f"{name}: patterns", None, problems, required=False)
        unless = _lists(spec.get("unless", {}), f"{name}: unless", None, problems, required=False)
        alternatives = [_keyword(k) for ks in keywords.values() for k in ks if prepare(k).strip()]
        alternatives += [to_simplified(p) for ps in patterns.values() for p in ps]
        if not alternatives:
            problems.append(f"{name}: needs at least one keyword or pattern")
            continue
        pattern = _compile(alternatives, name, problems)
        skip = _compile([to_simplified(p) for ps in unless.values() for p in ps], f"{name}: unless", problems)
        if pattern is not None:
            out[str(topic)] = Topic(str(topic), pattern, skip)
    return out


def _keyword(word: str) -> str:
    """A literal word or phrase; latin ones must not be part of a longer word ("fee" is not "feedback")."""
    text = " ".join(prepare(word).split())
    escaped = re.escape(text).replace(r"\ ", r"\s+")
    return rf"(?<![a-z]){escaped}(?![a-z])" if text[:1].isascii() or text[-1:].isascii() else escaped


def _compile(alternatives: list[str], name: str, problems: list[str]) -> re.Pattern[str] | None:
    if not alternatives:
        return None
    try:
        return re.compile("|".join(f"(?:{a})" for a in alternatives))
    except re.error as exc:
        bad = next((a for a in alternatives if not _valid(a)), "?")
        problems.append(f"{name}: invalid pattern {bad!r}: {exc}")
        return None


def _valid(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True
