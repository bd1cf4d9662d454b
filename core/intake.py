"""Intake: before a person takes a case, the bot asks for what the support guide says they need.

Transaction problems: the transaction number, the amount and the time; login trouble: the exact error;
verification: the country of the document. Which topics ask what is data in the knowledge base
(``intake:``); reading the answers is here. A field is kept only when the customer's words hold it
(a transaction number looks like one, an amount has digits); the customer's whole reply lands on the
ticket anyway, where an agent reads it and search finds it. Intake never asks for passwords, codes or
recovery phrases, and what a customer sends goes through redaction first like every message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

FIELDS = ("transaction_id", "amount", "time", "error", "country")
DECLINE = re.compile(r"^\s*(?:no|nope|don'?t know|dunno|skip|n/?a|none|not sure|"
                     r"不知道|不清楚|没有|沒有|算了|不用了|跳过|跳過)\s*[.!。！]?\s*$", re.I)

_TX = re.compile(r"(?<![0-9A-Za-z])(?:0x[0-9a-fA-F]{16,}|[0-9a-fA-F]{32,}|[A-Za-z]{0,6}[-_]?\d{8,}[A-Za-z0-9-]*|"
                 r"[A-Z0-9]{12,})(?![0-9A-Za-z])")
_AMOUNT = re.compile(
    r"(?:(?P<cur1>[$¥€£]|usd|usdt|usdc|btc|eth|cny|rmb|hkd|twd|eur)\s*(?P<n1>\d[\d,]*(?:\.\d+)?)|"
    r"(?P<n2>\d[\d,]*(?:\.\d+)?)\s*(?P<cur2>usdt|usdc|usd|btc|eth|cny|rmb|hkd|twd|eur|元|块|美元|美金|u|刀|萬|万)(?![a-z]))",
    re.I)
_TIME = re.compile(
    r"\d{1,4}[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?|\d{1,2}[:：]\d{2}|\d{1,2}\s*(?:am|pm)|"
    r"(?:today|yesterday|last night|this morning|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"\d+\s*(?:minutes?|hours?|days?|weeks?)\s+ago)|"
    r"今天|昨天|前天|昨晚|今早|上午|下午|晚上|凌晨|周[一二三四五六日天]|星期[一二三四五六日天]|\d+\s*(?:分钟|小时|小時|天|周|週)前",
    re.I)


@dataclass(frozen=True, slots=True)
class IntakeTopic:
    """One kind of case: what triggers it (FAQ ids, handoff reasons), what to ask, which fields to keep."""

    name: str
    faqs: tuple[str, ...]
    reasons: tuple[str, ...]
    fields: tuple[str, ...]
    question: str  # a message key of the knowledge base


def topic_for(topics: Mapping[str, IntakeTopic], faq_id: str | None, reason: str | None) -> IntakeTopic | None:
    for topic in topics.values():
        if (faq_id and faq_id in topic.faqs) or (reason and reason in topic.reasons):
            return topic
    return None


def read_fields(text: str, wanted: tuple[str, ...]) -> dict[str, str]:
    """The fields ``wanted`` that the customer's reply holds."""
    found: dict[str, str] = {}
    if "transaction_id" in wanted and (tx := _TX.search(text)):
        found["transaction_id"] = tx.group()
    if "amount" in wanted and (amount := _AMOUNT.search(text)):
        found["amount"] = " ".join(amount.group().split())
    if "time" in wanted and (when := _TIME.search(text)):
        found["time"] = when.group()
    free = " ".join(text.split())[:200]
    if "error" in wanted and free:
        found["error"] = free
    if "country" in wanted and free and len(free) <= 60:
        found["country"] = free
    return found


def parse_topics(value: Any, problems: list[str]) -> Mapping[str, IntakeTopic]:
    """The knowledge base's ``intake:`` section (problems appended, never raised)."""
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        problems.append("intake: must be a mapping of topic -> {faqs, reasons, fields, question}")
        return MappingProxyType({})
    topics: dict[str, IntakeTopic] = {}
    for name, spec in value.items():
        where = f"intake: {name}"
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        unknown = set(spec) - {"faqs", "reasons", "fields", "question"}
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)} (allowed: faqs, reasons, fields, question)")
        fields = tuple(spec.get("fields") or ())
        bad = [f for f in fields if f not in FIELDS]
        if bad:
            problems.append(f"{where}: unknown fields {bad} (known: {', '.join(FIELDS)})")
        question = spec.get("question")
        if not isinstance(question, str):
            problems.append(f"{where}: question must name a message (e.g. intake_transaction)")
            continue
        topics[str(name)] = IntakeTopic(str(name), tuple(spec.get("faqs") or ()), tuple(spec.get("reasons") or ()),
                                        fields, question)
    return MappingProxyType(topics)
