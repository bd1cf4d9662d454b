"""Canned responses: replies agents save and insert with ``/`` in the reply box.

Personal ones belong to one agent (``owner_id``); shared ones (no owner) are offered to everyone.
Anyone may add either kind; a personal one is changed only by its owner, a shared one by whoever
created it or an admin. The picker also offers the knowledge base's answers in the customer's
language, so agents need not copy FAQ answers into canned responses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, or_, select

from core.errors import Conflict, NotFound
from core.models import utcnow
from core.store import Store
from core.store.tables import CannedResponse

MAX_TITLE = 128
MAX_SHORTCUT = 64
MAX_TEXT = 10_000
PICKER_LIMIT = 30


class NotYours(Conflict):
    """The agent may not change this canned response (the pages answer 403)."""


@dataclass(frozen=True, slots=True)
class Choice:
    """One line in the ``/`` picker."""

    title: str
    shortcut: str
    text: str
    source: str  # mine | shared | knowledge
    id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "shortcut": self.shortcut, "text": self.text,
                "source": self.source}


def _clean(value: str, limit: int, what: str, *, required: bool = True) -> str:
    value = "".join(c for c in value.replace("\r\n", "\n") if c in "\n\t" or unicodedata.category(c) != "Cc").strip()
    if required and not value:
        raise Conflict(f"a canned response needs a {what}")
    if len(value) > limit:
        raise Conflict(f"the {what} is limited to {limit:,} characters")
    return value


def _shortcut(value: str) -> str:
    """What follows ``/``: lower case, no spaces (typed straight after the slash)."""
    value = re.sub(r"\s+", "-", _clean(value.lstrip("/"), MAX_SHORTCUT, "shortcut", required=False).lower())
    return value


async def visible(store: Store, agent_id: int | None) -> list[CannedResponse]:
    """The agent's own and the shared ones, shared first, then by title."""
    mine = CannedResponse.owner_id == agent_id if agent_id is not None else false()
    stmt = (select(CannedResponse).where(or_(CannedResponse.owner_id.is_(None), mine))
            .order_by(CannedResponse.owner_id.is_not(None), CannedResponse.title, CannedResponse.id))
    return await store.all(stmt)


async def get(store: Store, response_id: int, agent_id: int | None) -> CannedResponse:
    row = await store.scalar(select(CannedResponse).where(CannedResponse.id == response_id))
    if row is None or (row.owner_id is not None and row.owner_id != agent_id):
        raise NotFound(f"canned response {response_id} does not exist")  # another's personal one: not there
    return row


def may_change(row: CannedResponse, agent_id: int | None, *, is_admin: bool) -> bool:
    if row.owner_id is not None:
        return row.owner_id == agent_id
    return is_admin or (agent_id is not None and row.created_by == agent_id)


async def create(store: Store, *, title: str, text: str, shortcut: str = "", shared: bool,
                 agent_id: int | None) -> int:
    if not shared and agent_id is None:
        raise Conflict("a personal canned response needs an agent; make it shared")
    row = CannedResponse(title=_clean(title, MAX_TITLE, "title"), shortcut=_shortcut(shortcut),
                         text=_clean(text, MAX_TEXT, "text"), owner_id=None if shared else agent_id,
                         created_by=agent_id, created_at=utcnow(), updated_at=utcnow())
    async with store.transaction() as session:
        session.add(row)
        await session.flush()
        return row.id


async def update(store: Store, response_id: int, *, agent_id: int | None, is_admin: bool,
                 title: str | None = None, text: str | None = None, shortcut: str | None = None,
                 shared: bool | None = None) -> None:
    async with store.transaction() as session:
        row = await session.get(CannedResponse, response_id, with_for_update=True)
        if row is None or (row.owner_id is not None and row.owner_id != agent_id):
            raise NotFound(f"canned response {response_id} does not exist")
        if not may_change(row, agent_id, is_admin=is_admin):
            raise NotYours("only its author or an admin may change a shared canned response")
        if title is not None:
            row.title = _clean(title, MAX_TITLE, "title")
        if text is not None:
            row.text = _clean(text, MAX_TEXT, "text")
        if shortcut is not None:
            row.shortcut = _shortcut(shortcut)
        if shared is not None and shared != (row.owner_id is None):
            if not shared and agent_id is None:
                raise Conflict("a personal canned response needs an agent")
            row.owner_id = None if shared else agent_id
        row.updated_at = utcnow()


async def delete(store: Store, response_id: int, *, agent_id: int | None, is_admin: bool) -> None:
    async with store.transaction() as session:
        row = await session.get(CannedResponse, response_id, with_for_update=True)
        if row is None or (row.owner_id is not None and row.owner_id != agent_id):
            raise NotFound(f"canned response {response_id} does not exist")
        if not may_change(row, agent_id, is_admin=is_admin):
            raise NotYours("only its author or an admin may delete a shared canned response")
        await session.delete(row)


def _matches(choice: Choice, words: list[str]) -> bool:
    haystack = f"{choice.shortcut} {choice.title} {choice.text}".casefold()
    return all(w in haystack for w in words)


def knowledge_choices(kb: Any, lang: str) -> list[Choice]:
    """The knowledge base's answers in ``lang`` (the customer's language)."""
    choices = []
    for entry in getattr(kb, "entries", ()):
        try:
            text = kb.answer(entry.id, lang)
        except KeyError:
            continue
        title = entry.title.get(lang) or next(iter(entry.title.values()), entry.id)
        choices.append(Choice(title, entry.id, text, "knowledge"))
    return choices


async def picker(store: Store, agent_id: int | None, q: str, *, kb: Any = None, lang: str = "en",
                 limit: int = PICKER_LIMIT) -> list[Choice]:
    """What ``/q`` offers: the agent's own, then shared, then knowledge-base answers; a shortcut that
    starts with ``q`` comes first."""
    words = q.casefold().split()
    rows = await visible(store, agent_id)
    own = [Choice(r.title, r.shortcut, r.text, "shared" if r.owner_id is None else "mine", r.id) for r in rows]
    own.sort(key=lambda c: c.source != "mine")
    found = [c for c in own + knowledge_choices(kb, lang) if _matches(c, words)]
    first = q.casefold().strip()
    if first:
        found.sort(key=lambda c: not c.shortcut.casefold().startswith(first))
    return found[:limit]
