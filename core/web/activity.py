"""The ticket's activity log as sentences a person reads: "Alice assigned the ticket to Bob", "tags: +vip".

Events store ids and internal values (``assignee: 1 -> 2``, ``actor: agent:alice``); this is the one
place that turns them into names and words, for the page, the API and the transcript alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.store.tables import TicketEvent

REASONS = {"asked_for_human": "asked for a person", "triage_error": "the bot could not decide",
           "impersonation": "a name imitating staff", "flood": "too many messages", "deep_link": "a link to it"}
SYSTEM_ACTORS = {"customer": "The customer", "triage": "The bot", "auto-assign": "Auto-assignment",
                 "snooze": "The snooze", "system": "The bot", "agent": "An agent", "api": "The API"}
STATUS_VERBS = {"solved": "solved the ticket", "closed": "closed the ticket", "pending": "set the ticket to pending",
                "open": "reopened the ticket"}


@dataclass(frozen=True, slots=True)
class People:
    """Agents by id and by sign-in name -> the name the inbox shows."""

    by_id: Mapping[int, str]
    by_login: Mapping[str, str]

    def agent(self, agent_id: Any) -> str:
        if agent_id is None:
            return "nobody"
        return self.by_id.get(agent_id) or f"agent {agent_id}"

    def actor(self, actor: str) -> str:
        if actor.startswith("agent:"):
            login = actor[len("agent:"):]
            return self.by_login.get(login) or login
        return SYSTEM_ACTORS.get(actor) or actor  # a moderator's display name as the platform showed it


def _when(raw: Any) -> str:
    try:
        return datetime.fromisoformat(str(raw)).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return str(raw)


def _tags(before: Any, after: Any) -> str:
    old, new = set(before or []), set(after or [])
    changes = [f"+{t}" for t in sorted(new - old)] + [f"−{t}" for t in sorted(old - new)]
    return "tags: " + (" ".join(changes) if changes else "unchanged")


def sentence(event: TicketEvent, people: People) -> str:
    """One event as a sentence, its actor named."""
    data = event.data or {}
    who = people.actor(event.actor or "system")
    kind = event.kind
    if kind == "created":
        reason = REASONS.get(str(data.get("reason")), str(data.get("reason") or "").replace("_", " "))
        return f"{who} opened the ticket" + (f" ({reason})" if reason else "")
    if kind == "status":
        after = str(data.get("after"))
        if data.get("trigger") == "customer_message":
            return "The customer wrote again: the ticket is open"
        if data.get("trigger") == "merge":
            return f"{who} closed the ticket by merging it"
        return f"{who} {STATUS_VERBS.get(after, f'set the status to {after}')}"
    if kind == "assignee":
        before, after = data.get("before"), data.get("after")
        if after is None:
            return f"{who} unassigned the ticket (was {people.agent(before)})"
        target = people.agent(after)
        if event.actor == "auto-assign":
            return f"Auto-assignment gave the ticket to {target}"
        if target == who:
            return f"{who} took the ticket"
        return f"{who} assigned the ticket to {target}"
    if kind == "priority":
        return f"{who} changed the priority from {data.get('before')} to {data.get('after')}"
    if kind == "tags":
        return f"{who} changed {_tags(data.get('before'), data.get('after'))}"
    texts = {
        "note": f"{who} added an internal note",
        "reply": f"{who} replied",
        "merged_into": f"{who} merged this ticket into #{data.get('target')}",
        "merged_from": f"{who} merged ticket #{data.get('source')} into this one",
        "escalated": f"{who}, a moderator, escalated it" + (f": {data['note']}" if data.get("note") else ""),
        "message_edited": "The customer edited a message",
        "message_deleted": "The customer deleted a message",
        "reported_impersonator": f"{who} reported the customer as an impersonator",
        "snoozed": f"{who} snoozed the ticket until {_when(data.get('until'))}",
        "snooze_ended": "The snooze ended: the ticket is open again",
        "rated": f"The customer rated the help {data.get('rating')} of 5",
        "rating_comment": "The customer commented on the rating",
        "story": f"The conversation before the handoff joined the ticket ({data.get('messages')} messages)",
    }
    if kind in texts:
        return texts[kind]
    if kind == "fields" and isinstance(data.get("after"), dict):
        before = data.get("before") if isinstance(data.get("before"), dict) else {}
        given = [f"{k.replace('_', ' ')} {v}" for k, v in data["after"].items() if before.get(k) != v]
        return "The customer gave details: " + (", ".join(given) or "none new")
    if "before" in data and "after" in data:
        return f"{who} changed {kind.replace('_', ' ')} from {data['before']} to {data['after']}"
    return f"{who}: {kind.replace('_', ' ')}"
