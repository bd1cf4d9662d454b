"""How store rows are shown: one mapping of authors and delivery states for pages, API and transcripts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from core.agent_files import PUBLIC_PREFIX, file_link
from core.store.queries import TicketRow
from core.store.reads import ThreadMessage
from core.store.tables import Ticket
from core.web.template_filters import without_bidi_controls

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
    inbox_url: str | None = None  # a file an agent sent, served to agents by the inbox itself

    @property
    def image(self) -> bool:
        return self.kind == "image" and self.inbox_url is not None


def _attachment(a: dict[str, Any]) -> Attachment:
    ref = str(a.get("ref") or "")
    inbox_url = None
    if ref.startswith(PUBLIC_PREFIX + "/"):  # an agent's file: the same file under the inbox's signed-in route
        token, _, rest = ref[len(PUBLIC_PREFIX) + 1:].partition("/")
        inbox_url = file_link("/files", token, str(a.get("name") or unquote(rest)))
    return Attachment(str(a.get("name") or a.get("ref") or "file"), a.get("size") if isinstance(a.get("size"), int)
                      else None, a.get("url"), str(a.get("kind", "other")), inbox_url)


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
    before_handoff: bool = False  # the story the ticket took over when a person was asked
    faq_id: str | None = None  # a bot answer: which FAQ, how sure, and what the customer said of it
    confidence: float | None = None
    feedback: str | None = None

    @property
    def internal(self) -> bool:
        return self.author == "note"

    @property
    def decided(self) -> str | None:
        """"FAQ login, confidence 0.70, marked helpful" for a bot answer; None otherwise."""
        if self.author != "bot" or not self.faq_id:
            return None
        parts = [f"FAQ {self.faq_id}"]
        if self.confidence is not None:
            parts.append(f"confidence {self.confidence:.2f}")
        if self.feedback:
            parts.append("marked helpful" if self.feedback == "helpful" else "marked not helpful")
        return ", ".join(parts)


def entry(item: ThreadMessage) -> ThreadEntry:
    m = item.message
    state = delivery(item.delivery)
    files = [_attachment(a) for a in (m.attachments or []) if isinstance(a, dict)]
    name = m.author_name or {"bot": "bot", "agent": "agent"}.get(m.author_kind, m.author_kind)
    decision = m.decision if isinstance(m.decision, dict) else {}
    confidence = decision.get("confidence")
    return ThreadEntry(m.id, author(m.author_kind), m.author_kind, name, m.text, m.created_at, state,
                       DELIVERY_LABEL.get(state) if state else None, item.delivery_error, item.attempts,
                       item.uncertain, files, m.edited_at is not None, m.deleted_at is not None,
                       bool(m.before_handoff), decision.get("faq_id") if decision.get("action") == "answer" else None,
                       float(confidence) if isinstance(confidence, int | float) else None, m.feedback)


def message_json(item: ThreadMessage) -> dict[str, Any]:
    e = entry(item)
    return {"id": e.id, "author": e.author, "author_name": e.name, "text": e.text,
            "created_at": e.created_at.isoformat(), "delivery": e.delivery, "delivery_error": e.delivery_error,
            "may_be_duplicate": e.uncertain,
            "attachments": [{"name": a.name, "size": a.size, "url": a.url, "kind": a.kind} for a in e.attachments],
            "edited": e.edited, "deleted": e.deleted, "before_handoff": e.before_handoff,
            "answer": {"faq_id": e.faq_id, "confidence": e.confidence, "feedback": e.feedback}
            if e.decided else None}


def ticket_json(row: TicketRow) -> dict[str, Any]:
    return {
        "id": row.id, "status": row.status, "priority": row.priority, "channel": row.channel,
        "subject": row.subject, "customer": {"id": row.customer_id, "name": row.customer},
        "assignee": {"id": row.assignee_id, "name": row.assignee or ""} if row.assignee_id is not None else None,
        "tags": row.tags, "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
        "first_response_due": row.first_response_due.isoformat() if row.first_response_due else None,
        "first_responded_at": row.first_responded_at.isoformat() if row.first_responded_at else None,
        "overdue": row.overdue,
        "snoozed_until": row.snoozed_until.isoformat() if row.snoozed else None,
        "last_activity_at": (row.last_activity_at or row.created_at).isoformat(),
        "waiting_since": row.waiting_since.isoformat() if row.waiting_since else None,
        "preview": row.preview,
    }


def transcript_text(ticket: Ticket, entries: list[ThreadEntry], brand: str) -> str:
    """The ticket as plain text for the download, with the pages' protection against bidirectional overrides."""
    lines = [f"{brand} support - ticket #{ticket.id}: {ticket.subject}",
             f"channel: {ticket.channel}   status: {ticket.status}   opened: {ticket.created_at:%Y-%m-%d %H:%M} UTC",
             ""]
    if ticket.fields:
        lines += ["collected by the bot: " + ", ".join(f"{k}: {v}" for k, v in ticket.fields.items()), ""]
    handed = False
    for e in entries:
        if not e.before_handoff and not handed and any(x.before_handoff for x in entries):
            lines += ["--- handed to a person ---", ""]
            handed = True
        tag = " [internal - never sent]" if e.internal else (" [before handoff]" if e.before_handoff else "")
        if e.decided:
            tag += f" [{e.decided}]"
        marks = (" (edited)" if e.edited else "") + (" (deleted)" if e.deleted else "")
        lines.append(f"[{e.created_at:%Y-%m-%d %H:%M}] {e.author} {e.name}{tag}{marks}:")
        lines.extend("    " + line for line in (e.text or "").splitlines() or [""])
        lines.extend(f"    attachment: {a.name} ({a.size or '?'} bytes)" for a in e.attachments)
    return without_bidi_controls("\n".join(lines) + "\n")  # as on the pages: no override reverses a line
