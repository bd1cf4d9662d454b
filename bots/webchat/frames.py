"""What travels on the website chat's socket: the frames the server writes, and visitor input made storable."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from core.agent_files import PUBLIC_PREFIX
from core.models import Attachment, OutboundMessage, utcnow
from core.redaction import redact

log = logging.getLogger(__name__)

FROM = {"agent": "agent", "customer": "customer"}  # everything else we send is the bot's
TYPING_FRAME = json.dumps({"type": "typing", "from": "agent"})  # an agent is writing a reply (ephemeral, no id)
_SURROGATE = re.compile("[\ud800-\udfff]")
_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
ID_RULE = "an id is a string of 1 to 64 letters A-Z or a-z, digits, '_' or '-' (or none: the server gives one)"
ESCAPED_BYTES = 12  # the most one character of text takes in a JSON frame: "\ud83d\ude00" for one emoji


def client_id(value: Any) -> str | None:
    """The page's id for a message, if it is one the server takes as sent (it is acknowledged as sent)."""
    return value if isinstance(value, str) and _CLIENT_ID.fullmatch(value) else None


def same_message(stored_text: str, stored_raw: dict[str, Any], text: str, *, button: bool) -> bool:
    """Whether a message (or button) resent under a stored id says what was stored: the store keeps a text with
    its secrets redacted, and a button's label with its payload beside it."""
    said = redact(text).text
    if button:
        return bool(stored_raw.get("button")) and stored_raw.get("payload") == said
    return not stored_raw.get("button") and stored_text == said


def frame_size_limit(max_message_length: int) -> int:
    """Bytes a frame may have: any text within ``max_message_length`` characters, however JSON escapes it, and
    room for the rest of the frame. A longer text then gets its too_long error instead of a closed socket."""
    return max_message_length * ESCAPED_BYTES + 4096


def language_tag(accept_language: str) -> str | None:
    """The browser's first language as a hint for the engine: a language tag short enough to keep, else none."""
    first = accept_language.split(",")[0].split(";")[0].strip()
    return first if len(first) <= 16 and _TAG.fullmatch(first) else None


def file_links(attachments: Iterable[Attachment | dict[str, Any]]) -> list[dict[str, str]]:
    """Files an agent sent, as the page links them: the product's own ``/f/<token>/<name>`` address (same
    origin as the chat, so no public URL is needed) or an absolute http(s) one; anything else is left out."""
    links: list[dict[str, str]] = []
    for a in attachments:
        item = a if isinstance(a, dict) else {"kind": str(a.kind), "ref": a.ref, "name": a.name, "url": a.url}
        ref, url = str(item.get("ref") or ""), str(item.get("url") or "")
        href = ref if ref.startswith(PUBLIC_PREFIX + "/") else url if url.startswith(("https://", "http://")) else ""
        if href:
            links.append({"kind": "image" if item.get("kind") == "image" else "file", "url": href,
                          "name": str(item.get("name") or href.rsplit("/", 1)[-1])[:200]})
    return links


def reply_frame(reply: OutboundMessage) -> dict[str, Any]:
    """A reply as the page shows it; its id is the stored message's, so a resend is recognised."""
    message_id = reply.meta.get("message_id")
    frame_id = f"m{message_id}" if message_id is not None else f"o{reply.outbox_id or uuid.uuid4().hex}"
    quick = [{"label": q.label, "payload": q.payload, **({"url": q.url} if q.url else {})}
             for q in reply.quick_replies]
    return {"type": "message", "from": FROM.get(str(reply.meta.get("author")), "bot"), "id": frame_id,
            "text": reply.text, "at": reply.meta.get("at") or utcnow().isoformat(), "quick_replies": quick,
            "attachments": file_links(reply.attachments)}


async def send_error(ws: web.WebSocketResponse, error: str, client_id: str | None = None, *,
                     code: str = "bad_frame") -> None:
    """An error frame (short: it never repeats what it refuses); ``client_id`` names the visitor's message."""
    frame: dict[str, Any] = {"type": "error", "error": error, "code": code}
    if client_id:
        frame["id"] = client_id
    try:
        await ws.send_str(json.dumps(frame))
    except ConnectionError:  # the tab closed meanwhile: nobody is left to tell
        log.debug("error frame to a closed tab", exc_info=True)


def storable(text: str) -> str:
    """Text as the store can keep it. JSON may escape lone UTF-16 surrogates ("\\ud800"), which are no Unicode
    characters (UTF-8 cannot encode them): each becomes U+FFFD. NUL goes (PostgreSQL text cannot hold it)."""
    return _SURROGATE.sub("\ufffd", text).replace("\x00", "")
