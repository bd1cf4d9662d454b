"""/knowledge over HTTP: an admin edits the knowledge base into a draft, tries questions, sees the evaluation set
run before publishing (a change that lowers the scores is marked and needs a deliberate tick), publishes without
a restart, reverts, and turns handoff questions into sample questions."""

from __future__ import annotations

import dataclasses
import re

from core import knowledge_store
from core.web.app import create_app
from tests.web.inbox_helpers import customer_message

DARK = "how do I turn on dark mode"
ENTRY = {"id": "dark-mode",
         "title-en": "Dark mode", "title-zh-Hans": "深色模式",
         "questions-en": "how do I turn on dark mode\nswitch the app to the dark theme\nnight mode please",
         "questions-zh-Hans": "怎么打开深色模式\n夜间模式在哪里",
         "answer-en": "Open {brand} > Settings > Appearance and choose Dark.",
         "answer-zh-Hans": "打开 {brand} > 设置 > 外观，选择深色。"}


def _form(entry: dict) -> dict[str, str]:
    """The edit form as the browser sends it (every field of every language)."""
    out: dict[str, str] = {}
    for lang in ("zh-Hans", "zh-Hant", "en"):
        out[f"title-{lang}"] = entry.get("title", {}).get(lang, "")
        out[f"answer-{lang}"] = entry.get("answer", {}).get(lang, "")
        out[f"questions-{lang}"] = "\n".join(entry.get("questions", {}).get(lang, []))
        out[f"keywords-{lang}"] = "\n".join(entry.get("keywords", {}).get(lang, []))
    return out


async def test_a_new_entry_is_tried_reviewed_and_published_live(client, agent, ctx, engine) -> None:
    assert (await engine.handle_message(customer_message(DARK, user="k0"))).action != "answer"
    response = await agent.post("/knowledge/entries/new", {"id": "dark-mode", **ENTRY})
    assert response.status == 303 and response.headers["Location"] == "/knowledge?done=saved"
    page = await (await client.get("/knowledge")).text()
    assert 'data-entry="dark-mode"' in page and "change-new" in page

    # "Try a question": the draft answers it, the knowledge base in force does not (yet).
    tried = await (await client.get("/knowledge", params={"q": "turn on dark mode please", "kb": "draft"})).text()
    decision = re.search(r'id="trial-decision">(.*?)</dd>', tried, re.S).group(1)  # type: ignore[union-attr]
    assert "answer with <strong>dark-mode</strong>" in decision
    assert re.search(r'id="trial-confidence">0\.\d\d<', tried) and 'id="trial-runner-up"' in tried
    live = await (await client.get("/knowledge", params={"q": "turn on dark mode please"})).text()
    assert "dark-mode" not in re.search(r'id="trial-decision">(.*?)</dd>', live, re.S).group(1)  # type: ignore

    # Review: the evaluation set ran on both; adding an entry lowers nothing.
    review = await (await client.get("/knowledge/draft")).text()
    assert 'id="no-drop"' in review and 'data-figure="answered_or_clarified"' in review
    published = await agent.post("/knowledge/draft/publish", {"note": "dark mode"})
    assert published.status == 303 and published.headers["Location"] == "/knowledge?done=published"

    # Live without a restart: the running engine answers with the new entry, texts with the brand filled in.
    outcome = await engine.handle_message(customer_message("how do I turn on dark mode?", user="k1"))
    assert outcome.action == "answer"
    assert ctx.kb.answer("dark-mode", "en") == "Open OKPay > Settings > Appearance and choose Dark."
    assert ctx.inbox.kb is ctx.kb is engine.kb and engine.triage.kb is ctx.kb
    history = await (await client.get("/knowledge")).text()
    assert re.search(r"<td>1</td>.*the configured knowledge base file", history, re.S)
    assert re.search(r"<td>2 <span class=\"badge\">in force</span></td>.*dark mode", history, re.S)

    # Revert to version 1 (the file): the entry is gone again, still without a restart.
    review_revert = await (await client.get("/knowledge/versions/1")).text()
    assert "Publish version 1 again" in review_revert and "deleted" in review_revert
    assert (await agent.post("/knowledge/versions/1/revert", {})).status == 303
    assert "dark-mode" not in {e.id for e in ctx.kb.entries}
    assert (await engine.handle_message(customer_message(DARK, user="k2"))).action != "answer"
    assert len(await knowledge_store.history(ctx.store)) == 3


async def test_a_change_that_lowers_the_scores_is_marked_and_needs_a_tick(client, agent, ctx) -> None:
    assert (await agent.post("/knowledge/entries/login/delete", {})).status == 303
    review = await (await client.get("/knowledge/draft")).text()
    assert 'id="lowers"' in review and "This change lowers the scores" in review
    row = re.search(r'<tr class="worse" data-figure="answered_or_clarified">(.*?)</tr>', review, re.S)
    assert row and "▼ lower" in row.group(1)
    assert 'name="accept_lower"' in review and "Now decided differently than labelled" in review
    refused = await agent.post("/knowledge/draft/publish", {"note": "drop login"})
    assert refused.status == 409 and "lowers the evaluation scores" in await refused.text()
    assert "login" in {e.id for e in ctx.kb.entries}  # nothing changed
    accepted = await agent.post("/knowledge/draft/publish", {"note": "drop login", "accept_lower": "yes"})
    assert accepted.status == 303 and "login" not in {e.id for e in ctx.kb.entries}
    version = await knowledge_store.published(ctx.store)
    assert version is not None and version.scores["answered_or_clarified"] < 0.95


async def test_an_invalid_entry_is_refused_with_the_problem_and_nothing_is_saved(client, agent, ctx) -> None:
    entry = next(e for e in knowledge_store.seed_content(ctx.settings)["entries"] if e["id"] == "contact")
    form = {**_form(entry), "answer-en": "", "questions-en": ""}
    response = await agent.post("/knowledge/entries/contact", form)
    assert response.status == 422
    assert "missing en" in await response.text()
    assert await knowledge_store.draft(ctx.store) is None
    taken = await agent.post("/knowledge/entries/new", {**ENTRY, "id": "contact"})
    assert taken.status == 409


async def test_editing_sample_questions_and_discarding_the_draft(client, agent, ctx) -> None:
    entry = next(e for e in knowledge_store.seed_content(ctx.settings)["entries"] if e["id"] == "contact")
    page = await (await client.get("/knowledge/entries/contact")).text()
    assert entry["questions"]["en"][0] in page and 'lang="zh-Hant"' in page
    form = _form(entry)
    form["questions-en"] += "\nwhere do I find a human being"
    assert (await agent.post("/knowledge/entries/contact", form)).status == 303
    draft = await knowledge_store.draft(ctx.store)
    saved = next(e for e in draft.content["entries"] if e["id"] == "contact")  # type: ignore[union-attr]
    assert saved["questions"]["en"][-1] == "where do I find a human being"
    assert "zh-Hant" not in saved["answer"] or entry["answer"].get("zh-Hant")  # converted at load, not stored
    assert 'class="badge change-changed">changed' in await (await client.get("/knowledge")).text()
    assert (await agent.post("/knowledge/draft/discard", {})).status == 303
    assert await knowledge_store.draft(ctx.store) is None


async def test_handoff_questions_become_candidates_and_sample_questions(client, agent, ctx, engine) -> None:
    await engine.handle_message(customer_message(DARK, user="c1"))
    await engine.handle_message(customer_message(DARK.upper(), user="c2"))
    page = await (await client.get("/knowledge")).text()
    candidates = re.search(r'<ul class="candidates" id="candidates">(.*?)</ul>', page, re.S)
    assert candidates and DARK.lower() in candidates.group(1).lower() and "asked 2×" in candidates.group(1)
    response = await agent.post("/knowledge/candidates", {"question": DARK, "faq_id": "about"})
    assert response.status == 303
    draft = await knowledge_store.draft(ctx.store)
    about = next(e for e in draft.content["entries"] if e["id"] == "about")  # type: ignore[union-attr]
    assert DARK in about["questions"]["en"]
    after = await (await client.get("/knowledge")).text()
    listed = re.search(r'id="candidates-heading".*?</section>', after, re.S).group(0)  # type: ignore[union-attr]
    assert DARK.lower() not in listed.lower()
    new = await agent.post("/knowledge/candidates", {"question": "夜间模式在哪里", "faq_id": "new"})
    assert new.status == 303 and new.headers["Location"].startswith("/knowledge/entries/new?question=")
    form = await (await client.get(new.headers["Location"])).text()
    assert "夜间模式在哪里" in form


async def test_the_published_version_is_in_force_after_a_restart(aiohttp_client, client, agent, ctx, engine) -> None:
    assert (await agent.post("/knowledge/entries/new", {"id": "dark-mode", **ENTRY})).status == 303
    assert (await agent.post("/knowledge/draft/publish", {})).status == 303
    seed = knowledge_store.build(knowledge_store.seed_content(ctx.settings), ctx.settings)
    fresh = dataclasses.replace(ctx, saved_loaded=False, saved_version=None)  # a new process: from the file
    knowledge_store.apply(fresh, seed)
    assert "dark-mode" not in {e.id for e in fresh.kb.entries}
    await aiohttp_client(create_app(fresh))
    assert "dark-mode" in {e.id for e in fresh.kb.entries}
    assert (await engine.handle_message(customer_message(DARK, user="r1"))).action == "answer"
