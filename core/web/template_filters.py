"""Jinja filters for the inbox pages: times, sizes, the first-response countdown, safe links."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from markupsafe import Markup

from core.models import utcnow


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def size(value: Any) -> str:
    if not isinstance(value, int | float) or value < 0:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def span(seconds: float) -> str:
    seconds = int(abs(seconds))
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def countdown(due: datetime | None) -> str:
    """"due in 3 h 05 min" or "overdue by 12 min" (the template colours overdue red)."""
    if due is None:
        return ""
    left = (due - utcnow()).total_seconds()
    return f"due in {span(left)}" if left >= 0 else f"overdue by {span(left)}"


def safe_link(url: Any) -> str | None:
    """Only http(s) links are rendered: a ``javascript:`` URL in an attachment must never become a link."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url
    return None


_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(text: str) -> str:
    """``text`` without bidirectional overrides and isolates: a right-to-left override in a subject or a name must
    not reverse the rest of the line (or disguise a link or an amount). For pages and downloads alike."""
    return _BIDI_CONTROLS.sub("", text) if _BIDI_CONTROLS.search(text) else text


def finalize(value: Any) -> Any:
    """Every value a page shows loses its bidirectional controls (``without_bidi_controls``)."""
    if isinstance(value, str):
        cleaned = without_bidi_controls(value)
        if cleaned is not value:
            return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


FILTERS = {"when": when, "iso": iso, "size": size, "countdown": countdown, "safe_link": safe_link}
