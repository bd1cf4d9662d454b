"""The knowledge base as admins edit it at run time: a shared draft, published versions, history and revert.

The configured YAML file (or the packaged one) is the seed: it is in force until the first
publication. The first edit stores it as version 1, so it can be returned to. After a publication the
newest published version is in force, in every process, across restarts. A draft is edited entry by entry; publishing
turns it into the newest version; reverting publishes an old version's content again (history only grows).
`apply` swaps a knowledge base into the running engine, inbox and pages without a restart.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from core.errors import Conflict, NotFound
from core.knowledge import KnowledgeBase, knowledge_base_from_data, read_data
from core.models import utcnow
from core.store import Store
from core.store.tables import KnowledgeVersion
from core.triage import Triage

log = logging.getLogger(__name__)
SEED_NOTE = "the configured knowledge base file"


@dataclass(frozen=True, slots=True)
class Version:
    id: int
    state: str
    content: dict[str, Any]
    note: str
    based_on: int | None
    agent_id: int | None
    scores: dict[str, Any] | None
    created_at: Any
    published_at: Any


def _version(row: KnowledgeVersion) -> Version:
    return Version(row.id, row.state, row.content, row.note, row.based_on, row.agent_id, row.scores, row.created_at,
                   row.published_at)


def seed_content(settings: Any) -> dict[str, Any]:
    path = getattr(settings, "knowledge_base_path", None) if settings is not None else None
    return read_data(path)


def brand(settings: Any) -> str:
    return getattr(settings, "brand", None) or "OKPay"


def build(content: dict[str, Any], settings: Any, where: str = "knowledge base") -> KnowledgeBase:
    """Validate; raises KnowledgeBaseError naming every problem."""
    return knowledge_base_from_data(content, brand=brand(settings), where=where)


def make_triage(kb: KnowledgeBase, settings: Any) -> Triage:
    """The same construction as the runner's (channels.yaml's triage.min_confidence)."""
    minimum = getattr(getattr(settings, "triage", None), "min_confidence", None)
    return Triage(kb) if minimum is None else Triage(kb, min_confidence=minimum)


async def published(store: Store) -> Version | None:
    """The version in force (None: the seed file is)."""
    rows = await store.all(select(KnowledgeVersion).where(KnowledgeVersion.state == "published")
                           .order_by(KnowledgeVersion.id.desc()).limit(1))
    return _version(rows[0]) if rows else None


async def draft(store: Store) -> Version | None:
    rows = await store.all(select(KnowledgeVersion).where(KnowledgeVersion.state == "draft")
                           .order_by(KnowledgeVersion.id.desc()).limit(1))
    return _version(rows[0]) if rows else None


async def history(store: Store, limit: int = 50) -> list[Version]:
    rows = await store.all(select(KnowledgeVersion).where(KnowledgeVersion.state == "published")
                           .order_by(KnowledgeVersion.id.desc()).limit(limit))
    return [_version(r) for r in rows]


async def version(store: Store, version_id: int) -> Version:
    rows = await store.all(select(KnowledgeVersion).where(KnowledgeVersion.id == version_id,
                                                          KnowledgeVersion.state == "published"))
    if not rows:
        raise NotFound(f"knowledge base version {version_id} does not exist")
    return _version(rows[0])


async def current_content(store: Store, settings: Any) -> tuple[dict[str, Any], int | None]:
    """The content in force and its version id (None before anyone edited: the seed file)."""
    found = await published(store)
    if found is None:
        return seed_content(settings), None
    return (seed_content(settings) if found.note == SEED_NOTE else found.content), found.id


async def _newest(session: Any, settings: Any) -> KnowledgeVersion:
    """The newest published version; the first edit stores the seed file as version 1, to return to."""
    newest = (await session.scalars(select(KnowledgeVersion).where(KnowledgeVersion.state == "published")
                                    .order_by(KnowledgeVersion.id.desc()).limit(1).with_for_update())).first()
    if newest is None:
        newest = KnowledgeVersion(state="published", content=seed_content(settings), note=SEED_NOTE,
                                  created_at=utcnow(), published_at=utcnow())
        session.add(newest)
        await session.flush()
    return newest


async def save_draft(store: Store, content: dict[str, Any], settings: Any, *, agent_id: int | None) -> Version:
    """Replace the shared draft's content (validated first: a broken draft is never stored)."""
    build(content, settings, where="the draft")
    async with store.transaction() as session:
        newest = await _newest(session, settings)
        row = (await session.scalars(select(KnowledgeVersion).where(KnowledgeVersion.state == "draft")
                                     .with_for_update())).first()
        if row is None:
            row = KnowledgeVersion(state="draft", content=content, note="", based_on=newest.id, agent_id=agent_id,
                                   created_at=utcnow())
            session.add(row)
        else:
            row.content, row.agent_id = copy.deepcopy(content), agent_id
        await session.flush()
        return _version(row)


async def discard_draft(store: Store) -> None:
    async with store.transaction() as session:
        await session.execute(delete(KnowledgeVersion).where(KnowledgeVersion.state == "draft"))


async def publish(store: Store, settings: Any, *, agent_id: int | None, note: str,
                  scores: dict[str, Any] | None, draft_id: int | None = None,
                  content: dict[str, Any] | None = None) -> Version:
    """Make the draft (or ``content``, for a revert) the version in force; version numbers only grow."""
    if content is not None:
        build(content, settings, where="the version to publish")
    async with store.transaction() as session:
        newest = await _newest(session, settings)
        made: KnowledgeVersion | None = None
        if draft_id is not None:
            made = await session.get(KnowledgeVersion, draft_id, with_for_update=True)
            if made is None or made.state != "draft":
                raise Conflict("the draft was published or discarded meanwhile; reload the page")
            if made.id < newest.id:  # a revert came after the draft began: the draft becomes a newer version
                content = made.content
                await session.delete(made)
                made = None
        if made is None:
            if content is None:
                raise Conflict("nothing to publish")
            made = KnowledgeVersion(content=copy.deepcopy(content), created_at=utcnow())
            session.add(made)
        made.state, made.note, made.agent_id, made.scores = "published", note[:500], agent_id, scores
        made.based_on, made.published_at = newest.id, utcnow()
        await session.flush()
        return _version(made)


def apply(ctx: Any, kb: KnowledgeBase) -> None:
    """Swap ``kb`` (and a triage built on it) into the running process: the engine decides with it from the
    next message on, the inbox and pages use its texts. Nothing else holds the old one."""
    triage = make_triage(kb, getattr(ctx, "settings", None))
    engine = ctx.engine
    engine.triage, engine.kb = triage, kb
    ctx.kb = kb
    if getattr(ctx, "inbox", None) is not None:
        ctx.inbox.kb = kb


async def load_in_force(ctx: Any) -> Version | None:
    """At start: put the newest published version into the running process (the seed file stays otherwise)."""
    found = await published(ctx.store)
    if found is None or found.note == SEED_NOTE:  # the file itself is in force
        return None
    try:
        apply(ctx, build(found.content, ctx.settings, where=f"knowledge base version {found.id}"))
    except Exception:  # a stored version that no longer loads (e.g. a brand change broke a text): keep the file's
        log.exception("knowledge base version %s could not be loaded; using the configured file", found.id)
        return None
    return found
