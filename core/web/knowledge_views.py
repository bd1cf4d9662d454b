"""/knowledge (admins): the entries of the knowledge base, editing them into a shared draft, "try a question",
and the questions that ended with a person because no FAQ was close enough (candidates for new entries).

Publishing (with the evaluation set), history and revert are in knowledge_publish.py.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from core import knowledge_store
from core.errors import KnowledgeBaseError
from core.knowledge_eval import try_question
from core.language import LANGUAGES, detect_language
from core.models import utcnow
from core.store.tables import Message
from core.web.auth import require_admin
from core.web.context import CONTEXT

ID_PATTERN = r"[a-z0-9][a-z0-9\-]*"  # the pattern attribute is compiled with the v flag
CANDIDATE_REASONS = ("not_covered", "low_confidence")
CANDIDATE_DAYS = 30
NOTICES = {"saved": "Saved to the draft. Review and publish it when you are ready.",
           "deleted": "The entry is deleted in the draft.", "discarded": "The draft was discarded.",
           "published": "Published: the new knowledge base answers customers from now on.",
           "reverted": "Reverted: the earlier version answers customers from now on.",
           "added": "The question was added to the draft as a sample question."}


@dataclass
class Working:
    """What an admin edits: the draft when there is one, else a copy of the version in force."""

    content: dict[str, Any]
    draft: knowledge_store.Version | None
    current: dict[str, Any]
    current_id: int | None

    def entry(self, faq_id: str) -> dict[str, Any] | None:
        return next((e for e in self.content.get("entries") or [] if isinstance(e, dict) and e.get("id") == faq_id),
                    None)


async def working(request: web.Request) -> Working:
    ctx = request.app[CONTEXT]
    current, current_id = await knowledge_store.current_content(ctx.store, ctx.settings)
    draft = await knowledge_store.draft(ctx.store)
    content = copy.deepcopy(draft.content if draft else current)
    return Working(content, draft, current, current_id)


def changes(current: Mapping[str, Any], content: Mapping[str, Any]) -> dict[str, str]:
    """faq id -> "new" | "changed" | "deleted" between the version in force and the draft."""
    before = {e.get("id"): e for e in current.get("entries") or [] if isinstance(e, dict)}
    after = {e.get("id"): e for e in content.get("entries") or [] if isinstance(e, dict)}
    out = {i: "new" for i in after if i not in before}
    out.update({i: "changed" for i in after if i in before and after[i] != before[i]})
    out.update({i: "deleted" for i in before if i not in after})
    return out


async def knowledge_page(request: web.Request) -> web.Response:
    require_admin(request)
    ctx = request.app[CONTEXT]
    work = await working(request)
    question = request.query.get("q", "").replace("\x00", "").strip()[:500]
    use_draft = request.query.get("kb") == "draft" and work.draft is not None
    trial = None
    if question:
        triage = ctx.engine.triage
        if use_draft:
            triage = knowledge_store.make_triage(knowledge_store.build(work.content, ctx.settings), ctx.settings)
        trial = try_question(triage, question)
    kb = ctx.kb
    titles = {e.id: e.title.get("en") or e.id for e in getattr(kb, "entries", ())}
    published = await knowledge_store.history(ctx.store, limit=20)
    return aiohttp_jinja2.render_template("knowledge.html", request, {
        "entries": [_summary(e) for e in work.content.get("entries") or [] if isinstance(e, dict)],
        "changes": changes(work.current, work.content) if work.draft else {},
        "draft": work.draft, "current_id": work.current_id, "stale": bool(
            work.draft and work.draft.based_on != work.current_id),
        "question": question, "use_draft": use_draft, "trial": trial, "titles": titles,
        "candidates": await candidates(ctx.store, work.content), "history": published,
        "notice": NOTICES.get(request.query.get("done", "")), "entry_ids": sorted(titles)})


def _summary(entry: Mapping[str, Any]) -> dict[str, Any]:
    title = entry.get("title") or {}
    questions = entry.get("questions") or {}
    return {"id": entry.get("id"), "title_en": title.get("en", ""), "title_zh": title.get("zh-Hans", ""),
            "samples": {lang: len(questions.get(lang) or []) for lang in LANGUAGES}}


async def candidates(store: Any, content: Mapping[str, Any], limit: int = 30) -> list[dict[str, Any]]:
    """Customer questions of the last 30 days handed to a person because no FAQ was close enough, most asked
    first; ones already a sample question are left out."""
    since = utcnow() - timedelta(days=CANDIDATE_DAYS)
    reason = Message.decision["reason"].as_string()
    rows = (await store.all(select(Message).where(
        Message.direction == "in", Message.author_kind == "customer", Message.created_at >= since,
        Message.decision["action"].as_string() == "handoff", reason.in_(CANDIDATE_REASONS))
        .order_by(Message.id.desc()).limit(1000)))
    known = {" ".join(q.lower().split()) for e in content.get("entries") or [] if isinstance(e, dict)
             for qs in (e.get("questions") or {}).values() for q in qs or [] if isinstance(q, str)}
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = " ".join(row.text.lower().split())
        if not key or key in known or key.startswith("/"):
            continue
        found = grouped.get(key)
        if found is None:
            decision = row.decision or {}
            grouped[key] = {"text": row.text, "count": 1, "last": row.created_at, "ticket_id": row.ticket_id,
                            "reason": decision.get("reason"), "faq_id": decision.get("faq_id"),
                            "confidence": decision.get("confidence"), "lang": detect_language(row.text)}
        else:
            found["count"] += 1
    return sorted(grouped.values(), key=lambda c: (-c["count"], -c["last"].timestamp()))[:limit]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace("\r", "").split("\n") if line.strip()]


def entry_from_form(form: Mapping[str, str], faq_id: str) -> dict[str, Any]:
    """The form's fields as a YAML entry; empty Traditional-Chinese fields are converted from Simplified."""
    entry: dict[str, Any] = {"id": faq_id, "title": {}, "questions": {}, "answer": {}}
    keywords: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        title, answer = form.get(f"title-{lang}", "").strip(), form.get(f"answer-{lang}", "").strip()
        questions, words = _lines(form.get(f"questions-{lang}", "")), _lines(form.get(f"keywords-{lang}", ""))
        if title:
            entry["title"][lang] = title
        if answer:
            entry["answer"][lang] = answer.replace("\r", "")
        if questions:
            entry["questions"][lang] = questions
        if words:
            keywords[lang] = words
    if keywords:
        entry["keywords"] = keywords
    return entry


async def entry_page(request: web.Request) -> web.Response:
    require_admin(request)
    work = await working(request)
    faq_id = request.match_info["faq_id"]
    if faq_id == "new":
        entry: dict[str, Any] = {"id": "", "title": {}, "questions": {}, "answer": {}}
        prefill = request.query.get("question", "").replace("\x00", "").strip()[:500]
        if prefill:
            entry["questions"] = {detect_language(prefill): [prefill]}
        return _entry_form(request, entry, new=True)
    found = work.entry(faq_id)
    if found is None:
        raise web.HTTPNotFound(text=f"no entry {faq_id!r}")
    return _entry_form(request, found, new=False)


def _entry_form(request: web.Request, entry: Mapping[str, Any], *, new: bool, problems: list[str] | None = None,
                status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template("knowledge_entry.html", request, {
        "entry": entry, "new": new, "languages": LANGUAGES, "problems": problems or [], "id_pattern": ID_PATTERN},
        status=status)


async def save_entry(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    ctx = request.app[CONTEXT]
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    faq_id = request.match_info["faq_id"]
    new = faq_id == "new"
    if new:
        faq_id = form.get("id", "").strip().lower()
    entry = entry_from_form(form, faq_id)
    work = await working(request)
    entries = [e for e in work.content.get("entries") or [] if isinstance(e, dict)]
    if new and any(e.get("id") == faq_id for e in entries):
        return _entry_form(request, entry, new=True, problems=[f"an entry {faq_id!r} exists already"], status=409)
    if not new and not any(e.get("id") == faq_id for e in entries):
        raise web.HTTPNotFound(text=f"no entry {faq_id!r}")
    work.content["entries"] = [*entries, entry] if new else [entry if e.get("id") == faq_id else e for e in entries]
    try:
        await knowledge_store.save_draft(ctx.store, work.content, ctx.settings, agent_id=admin.id)
    except KnowledgeBaseError as exc:
        return _entry_form(request, entry, new=new, problems=list(exc.problems), status=422)
    raise web.HTTPSeeOther("/knowledge?done=saved")


async def delete_entry(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    ctx = request.app[CONTEXT]
    faq_id = request.match_info["faq_id"]
    work = await working(request)
    entries = [e for e in work.content.get("entries") or [] if isinstance(e, dict)]
    if not any(e.get("id") == faq_id for e in entries):
        raise web.HTTPNotFound(text=f"no entry {faq_id!r}")
    work.content["entries"] = [e for e in entries if e.get("id") != faq_id]
    try:
        await knowledge_store.save_draft(ctx.store, work.content, ctx.settings, agent_id=admin.id)
    except KnowledgeBaseError as exc:
        found = work.entry(faq_id) or {"id": faq_id}
        return _entry_form(request, found, new=False, problems=list(exc.problems), status=422)
    raise web.HTTPSeeOther("/knowledge?done=deleted")


async def add_candidate(request: web.Request) -> web.StreamResponse:
    """A candidate question becomes a sample question of an entry, in the draft."""
    admin = require_admin(request)
    ctx = request.app[CONTEXT]
    form = await request.post()
    question = str(form.get("question", "")).replace("\x00", "").strip()[:500]
    faq_id = str(form.get("faq_id", ""))
    if not question:
        raise web.HTTPBadRequest(text="no question given")
    if faq_id == "new":
        raise web.HTTPSeeOther("/knowledge/entries/new?" + urlencode({"question": question}))
    work = await working(request)
    entry = work.entry(faq_id)
    if entry is None:
        raise web.HTTPNotFound(text=f"no entry {faq_id!r}")
    lang = detect_language(question)
    questions = entry.setdefault("questions", {})
    if question not in (questions.get(lang) or []):
        questions[lang] = [*(questions.get(lang) or []), question]
    try:
        await knowledge_store.save_draft(ctx.store, work.content, ctx.settings, agent_id=admin.id)
    except KnowledgeBaseError as exc:
        raise web.HTTPUnprocessableEntity(text="; ".join(exc.problems)) from None
    raise web.HTTPSeeOther("/knowledge?done=added")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/knowledge", knowledge_page, name="knowledge")
    app.router.add_post("/knowledge/candidates", add_candidate)
    app.router.add_get("/knowledge/entries/{faq_id}", entry_page)
    app.router.add_post("/knowledge/entries/{faq_id}", save_entry)
    app.router.add_post("/knowledge/entries/{faq_id}/delete", delete_entry)
