"""How store rows are shown: one mapping of authors and delivery states for pages, API and transcripts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.store.queries import TicketRow
from core.store.reads import ThreadMessage
from core.store.tables import Ticket, TicketEvent

AUTHOR = {"customer": "customer", "bot": "bot", "agent": "agent", "note": "note", "moderator": "note"}
DELIVERY = {"queued": "queued", "sending": "queued", "sent": "sent", "failed": "failed", "dead": "dead"}
DELIVERY_LABEL = {"queued": "queued", "sent": "sent", "failed": "failed - retrying", "dead": "given up"}


def author(kind: str) -> str:
    return AUTHOR.get(kind, "note")


def delivery(state: str | None) -> str | None:
    return DELIVERY.get(state) if state else None


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    size: int | None
    url: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    id: int
    author: str  # customer | bot | agent | note
    kind: str  # the stored author_kind (note vs moderator differ on the page)
    name: str
    text: str
    created_at: Any
    delivery: str | None
    delivery_label: str | None
    delivery_error: str | None
    attempts: int
    uncertain: bool
    attachments: list[Attachment]
    edited: bool
    deleted: bool

    @property
    def internal(self) -> bool:
        return self.author == "note"


def entry(item: ThreadMessage) -> ThreadEntry:
    m = item.message
    state = delivery(item.delivery)
    files = [Attachment(str(a.get("name") or a.get("ref") or "file"), a.get("size") if isinstance(
        a.get("size"), int) else None, a.get("url"), str(a.get("kind", "other"))) for a in (m.attachments or [])
        if isinstance(a, dict)]
    name = m.author_name or {"bot": "bot", "agent": "agent"}.get(m.author_kind, m.author_kind)
    return ThreadEntry(m.id, author(m.author_kind), m.author_kind, name, m.text, m.created_at, state,
                       DELIVERY_LABEL.get(state) if state else None, item.delivery_error, item.attempts,
                       item.uncertain, files, m.edited_at is not None, m.deleted_at is not None)


def message_json(item: ThreadMessage) -> dict[str, Any]:
    e = entry(item)
    return {"id": e.id, "author": e.author, "author_name": e.name, "text": e.text,
            "created_at": e.created_at.isoformat(), "delivery": e.delivery, "delivery_error": e.delivery_error,
            "may_be_duplicate": e.uncertain,
            "attachments": [{"name": a.name, "size": a.size, "url": a.url, "kind": a.kind} for a in e.attachments],
            "edited": e.edited, "deleted": e.deleted}


def ticket_json(row: TicketRow) -> dict[str, Any]:
    return {
        "id": row.id, "status": row.status, "priority": row.priority, "channel": row.channel,
        "subject": row.subject, "customer": {"id": row.customer_id, "name": row.customer},
        "assignee": {"id": row.assignee_id, "name": row.assignee or ""} if row.assignee_id is not None else None,
        "tags": row.tags, "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
        "first_response_due": row.first_response_due.isoformat() if row.first_response_due else None,
        "first_responded_at": row.first_responded_at.isoformat() if row.first_responded_at else None,
        "overdue": row.overdue,
    }


def event_text(event: TicketEvent) -> str:
    """One line of activity, e.g. "status open -> solved"."""
    data = event.data or {}
    if "before" in data and "after" in data and event.kind not in ("message_edited",):
        return f"{event.kind}: {data['before']} -> {data['after']}"
    if event.kind == "merged_into":
        return f"merged into #{data.get('target')}"
    if event.kind == "merged_from":
        return f"merged from #{data.get('source')}"
    if event.kind == "escalated":
        return f"escalated by a moderator: {data.get('note') or ''}".rstrip(": ")
    if event.kind == "message_edited":
        return "customer edited a message"
    return event.kind.replace("_", " ")


def transcript_text(ticket: Ticket, entries: list[ThreadEntry], brand: str) -> str:
    lines = [f"{brand} support - ticket #{ticket.id}: {ticket.subject}",
             f"channel: {ticket.channel}   status: {ticket.status}   opened: {ticket.created_at:%Y-%m-%d %H:%M} UTC",
             ""]
    for e in entries:
        tag = " [internal - never sent]" if e.internal else ""
        marks = (" (edited)" if e.edited else "") + (" (deleted)" if e.deleted else "")
        lines.append(f"[{e.created_at:%Y-%m-%d %H:%M}] {e.author} {e.name}{tag}{marks}:")
        lines.extend("    " + line for line in (e.text or "").splitlines() or [""])
        lines.extend(f"    attachment: {a.name} ({a.size or '?'} bytes)" for a in e.attachments)
    return "\n".join(lines) + "\n"
