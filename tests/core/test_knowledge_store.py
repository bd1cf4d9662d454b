"""Knowledge-base versions and admin preferences in the store, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import copy

import pytest

from core import knowledge_store, preferences
from core.config import default_settings
from core.errors import Conflict, KnowledgeBaseError
from core.hours import BusinessHours


async def test_draft_publish_and_revert(any_store) -> None:
    settings = default_settings()
    seed = knowledge_store.seed_content(settings)
    assert await knowledge_store.current_content(any_store, settings) == (seed, None)
    changed = copy.deepcopy(seed)
    changed["entries"] = [e for e in changed["entries"] if e["id"] != "about"]
    draft = await knowledge_store.save_draft(any_store, changed, settings, agent_id=None)
    assert draft.based_on == 1  # the first edit keeps the file as version 1
    made = await knowledge_store.publish(any_store, settings, agent_id=None, note="no about", scores=None,
                                         draft_id=draft.id)
    assert made.id == 2 and await knowledge_store.draft(any_store) is None
    content, version = await knowledge_store.current_content(any_store, settings)
    assert version == 2 and "about" not in {e["id"] for e in content["entries"]}
    with pytest.raises(Conflict):  # the same draft twice
        await knowledge_store.publish(any_store, settings, agent_id=None, note="", scores=None, draft_id=draft.id)
    old = await knowledge_store.version(any_store, 1)
    back = await knowledge_store.publish(any_store, settings, agent_id=None, note="revert to version 1",
                                         scores=None, content=old.content)
    assert back.id == 3 and [v.id for v in await knowledge_store.history(any_store)] == [3, 2, 1]
    assert "about" in {e["id"] for e in (await knowledge_store.current_content(any_store, settings))[0]["entries"]}


async def test_a_draft_older_than_a_revert_becomes_the_newest_version(any_store) -> None:
    settings = default_settings()
    seed = knowledge_store.seed_content(settings)
    draft = await knowledge_store.save_draft(any_store, copy.deepcopy(seed), settings, agent_id=None)
    await knowledge_store.publish(any_store, settings, agent_id=None, note="", scores=None, content=seed)
    made = await knowledge_store.publish(any_store, settings, agent_id=None, note="the draft", scores=None,
                                         draft_id=draft.id)
    assert (await knowledge_store.published(any_store)).id == made.id > draft.id  # type: ignore[union-attr]


async def test_a_broken_draft_is_never_stored(any_store) -> None:
    settings = default_settings()
    broken = copy.deepcopy(knowledge_store.seed_content(settings))
    broken["entries"][0]["answer"] = {"en": ""}
    with pytest.raises(KnowledgeBaseError):
        await knowledge_store.save_draft(any_store, broken, settings, agent_id=None)
    assert await knowledge_store.draft(any_store) is None


async def test_preferences_override_the_file_and_apply(any_store, engine) -> None:
    settings = default_settings()
    prefs = await preferences.load(any_store, settings)
    assert prefs.stored == frozenset() and prefs.tickets.first_response_hours == 24
    hours = BusinessHours(always=False, timezone="Europe/Berlin", days=["mon"], opens="08:00", closes="12:00")
    await preferences.save(any_store, preferences.HOURS_KEY, hours)
    await preferences.save(any_store, preferences.HOURS_KEY, hours.model_copy(update={"days": ["mon", "fri"]}))
    loaded = await preferences.load(any_store, settings)
    assert loaded.stored == {"business_hours"} and loaded.business_hours.days == ["mon", "fri"]
    engine.first_response_hours = 5
    preferences.apply(engine, loaded, only_stored=True)
    assert engine.hours == loaded.business_hours and engine.first_response_hours == 5  # SLA not saved: untouched
