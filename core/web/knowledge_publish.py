"""Publishing on /knowledge: the evaluation set runs against the draft (or an old version) and the knowledge
base in force, side by side; a change that lowers a score is marked and needs a deliberate confirmation;
publishing swaps the new knowledge base into the running engine at once. History and revert.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from core import knowledge_store, saved
from core.errors import KnowledgeBaseError
from core.knowledge import KnowledgeBase
from core.knowledge_eval import THRESHOLDS, Comparison, Scores, compare, eval_set, evaluate
from core.store.queries import parse_id
from core.triage import Triage
from core.web.auth import require_admin
from core.web.context import CONTEXT, AppContext
from core.web.knowledge_views import changes, working

_SCORES: weakref.WeakKeyDictionary[Any, Scores] = weakref.WeakKeyDictionary()


async def scores_of(triage: Triage) -> Scores:
    """The evaluation set's figures for a triage (cached per triage: the one in force is asked often)."""
    found = _SCORES.get(triage)
    if found is None:
        found = await asyncio.to_thread(evaluate, triage)
        _SCORES[triage] = found
    return found


async def _candidate(ctx: AppContext, content: dict[str, Any]) -> tuple[Any, Scores]:
    def build() -> tuple[Any, Scores]:
        kb = knowledge_store.build(content, ctx.settings, where="the draft")
        triage = knowledge_store.make_triage(kb, ctx.settings)
        return kb, evaluate(triage)

    return await asyncio.to_thread(build)


async def _comparison(ctx: AppContext, content: dict[str, Any]) -> tuple[Any, Scores, Comparison]:
    current = await scores_of(ctx.engine.triage)
    kb, scores = await _candidate(ctx, content)
    return kb, scores, compare(current, scores)


def _review(request: web.Request, data: dict[str, Any], status: int = 200) -> web.Response:
    data = {"thresholds": THRESHOLDS, "messages": len(eval_set()), **data}
    return aiohttp_jinja2.render_template("knowledge_review.html", request, data, status=status)


async def draft_page(request: web.Request) -> web.Response:
    require_admin(request)
    ctx = request.app[CONTEXT]
    work = await working(request)
    if work.draft is None:
        raise web.HTTPSeeOther("/knowledge")
    _, _, comparison = await _comparison(ctx, work.content)
    return _review(request, {"mode": "draft", "comparison": comparison, "draft": work.draft,
                             "changes": changes(work.current, work.content), "error": None,
                             "stale": work.draft.based_on != work.current_id})


async def publish_draft(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    ctx = request.app[CONTEXT]
    form = await request.post()
    work = await working(request)
    if work.draft is None:
        raise web.HTTPSeeOther("/knowledge")
    try:
        kb, scores, comparison = await _comparison(ctx, work.content)
    except KnowledgeBaseError as exc:
        raise web.HTTPUnprocessableEntity(text="; ".join(exc.problems)) from None
    if comparison.lowers and form.get("accept_lower") != "yes":
        return _review(request, {"mode": "draft", "comparison": comparison, "draft": work.draft,
                                 "changes": changes(work.current, work.content), "stale": False,
                                 "error": "This change lowers the evaluation scores. Tick the box to publish it "
                                          "anyway, or edit the draft."}, status=409)
    note = str(form.get("note", "")).replace("\x00", "").strip() or _describe(changes(work.current, work.content))
    made = await knowledge_store.publish(ctx.store, ctx.settings, agent_id=admin.id, note=note,
                                         scores=scores.as_dict(), draft_id=work.draft.id)
    await _in_force(ctx, kb, made.id)
    raise web.HTTPSeeOther("/knowledge?done=published")


async def _in_force(ctx: AppContext, kb: KnowledgeBase, version: int) -> None:
    """In this process at once; in the others when they hear of it (core/saved.py)."""
    knowledge_store.apply(ctx, kb)
    ctx.saved_version = version
    await saved.announce(ctx, "knowledge")


def _describe(changed: dict[str, str]) -> str:
    if not changed:
        return "no entry changed"
    return ", ".join(f"{kind} {faq_id}" for faq_id, kind in sorted(changed.items()))[:500]


async def discard_draft(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    await knowledge_store.discard_draft(request.app[CONTEXT].store)
    raise web.HTTPSeeOther("/knowledge?done=discarded")


def _version_id(request: web.Request) -> int:
    found = parse_id(request.match_info["version_id"])
    if found is None:
        raise web.HTTPNotFound(text="no such version")
    return found


async def version_page(request: web.Request) -> web.Response:
    """An earlier version, compared with the one in force, with the button to publish it again."""
    require_admin(request)
    ctx = request.app[CONTEXT]
    old = await knowledge_store.version(ctx.store, _version_id(request))
    current, current_id = await knowledge_store.current_content(ctx.store, ctx.settings)
    _, _, comparison = await _comparison(ctx, old.content)
    return _review(request, {"mode": "revert", "version": old, "current_id": current_id, "comparison": comparison,
                             "changes": changes(current, old.content), "error": None, "stale": False})


async def revert(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    ctx = request.app[CONTEXT]
    old = await knowledge_store.version(ctx.store, _version_id(request))
    kb, scores = await _candidate(ctx, old.content)
    made = await knowledge_store.publish(ctx.store, ctx.settings, agent_id=admin.id,
                                         note=f"revert to version {old.id}", scores=scores.as_dict(),
                                         content=old.content)
    await _in_force(ctx, kb, made.id)
    raise web.HTTPSeeOther("/knowledge?done=reverted")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/knowledge/draft", draft_page)
    app.router.add_post("/knowledge/draft/publish", publish_draft)
    app.router.add_post("/knowledge/draft/discard", discard_draft)
    app.router.add_get("/knowledge/versions/{version_id}", version_page)
    app.router.add_post("/knowledge/versions/{version_id}/revert", revert)
