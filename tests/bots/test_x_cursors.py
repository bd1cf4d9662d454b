"""X read positions move only past what the engine stored: across pages, and when a handover fails midway.

Real tweepy against the fake X API v2, the real engine on SQLite; the store keeps the cursors. Every
cursor write is checked against the database at the moment it happens: each event up to the new
position must already be committed.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from bots.x.adapter import DM_CURSOR, MENTIONS_CURSOR
from core.pipeline import Engine
from core.store import Store
from core.store.tables import Message
from tests.contract.harness_x import FlakyInbound, XHarness
from tests.fakes.x_api import BOT_HANDLE, FakeX

BACKLOG = 120  # more than one page of 100, fetched newest first
FAILS_AT = 15  # on the second (older) page


class CheckedCursors:
    """The store's cursor table, recording each write after checking it against what is stored."""

    def __init__(self, store: Store, events: dict[str, list[str]]) -> None:
        self.store = store
        self.events = events  # cursor key -> the customer events behind it, oldest first
        self.writes: dict[str, list[str]] = {DM_CURSOR: [], MENTIONS_CURSOR: []}
        self.ahead: list[tuple[str, str, list[str]]] = []  # (key, value, events not yet stored)

    async def get_cursor(self, channel: str, key: str) -> str | None:
        return await self.store.get_cursor(channel, key)

    async def set_cursor(self, channel: str, key: str, value: str, *, keep_days: float | None = None) -> None:
        if key in self.writes:
            behind = [e for e in self.events[key] if int(e) <= int(value)]
            stored = set(await self.store.all(select(Message.platform_id).where(
                Message.channel == "x", Message.platform_id.in_(behind))))
            if missing := [e for e in behind if e not in stored]:
                self.ahead.append((key, value, missing))
            self.writes[key].append(value)
        await self.store.set_cursor(channel, key, value, keep_days=keep_days)


@pytest.mark.parametrize("feed", ["dm_events", "mentions"])
async def test_cursor_stays_before_a_failed_handover_and_the_next_poll_fetches_from_there(
        feed: str, engine: Engine, store: Store) -> None:
    fake = FakeX()
    fake.add_user("5001", "ann")
    events: dict[str, list[str]] = {DM_CURSOR: [], MENTIONS_CURSOR: []}
    cursors = CheckedCursors(store, events)
    inbound = FlakyInbound(engine)
    key = DM_CURSOR if feed == "dm_events" else MENTIONS_CURSOR
    async with XHarness(inbound, fake=fake, cursor_store=cursors) as x:
        baseline = cursors.writes[key][:]
        polls = fake.count(feed)
        if feed == "dm_events":  # the whole backlog appears before the next poll (no await in between)
            events[key].extend(fake.dm("5001", f"question number {i}") for i in range(BACKLOG))
        else:
            events[key].extend(fake.post("5001", f"@{BOT_HANDLE} question number {i}") for i in range(BACKLOG))
        inbound.fail_once = {events[key][FAILS_AT]}
        await x.until_handed(key, events[key][-1], timeout=30)

    ids = events[key]
    assert cursors.ahead == []  # no cursor write ever got ahead of the store
    # the failed round still moved the cursor up to the event before the failure, and no further
    assert cursors.writes[key] == [*baseline, ids[FAILS_AT - 1], ids[-1]]
    handed = Counter(inbound.handed)
    assert [handed[i] for i in ids] == [1] * FAILS_AT + [2] + [1] * (BACKLOG - FAILS_AT - 1)
    assert fake.count(feed) - polls >= 3  # two pages, then a refetch from the cursor
    stored = await store.all(select(Message.platform_id).where(Message.channel == "x", Message.direction == "in"))
    assert sorted(stored, key=int) == ids  # each once


async def test_a_restart_after_a_failed_round_refetches_from_the_stored_cursor(engine: Engine, store: Store) -> None:
    """The process stops right after a round failed midway: the next start begins at the failed event."""
    fake = FakeX()
    fake.add_user("5001", "ann")
    async with XHarness(FlakyInbound(engine), fake=fake, cursor_store=store):
        pass  # first start: the baseline
    ids = [fake.dm("5001", f"message {i}") for i in range(5)]
    down = FlakyInbound(engine, fail_once=set(ids[2:]))  # the database fails from the third event on
    async with XHarness(down, fake=fake, cursor_store=store, settings={"poll_interval": 30}) as x:
        await x._until(lambda: _is(store, ids[1]), "the cursor after the second event")
        assert down.handed[:3] == ids[:3]
    assert await store.get_cursor("x", DM_CURSOR) == ids[1]
    again = FlakyInbound(engine)
    async with XHarness(again, fake=fake, cursor_store=store) as x:
        await x.until_handed(DM_CURSOR, ids[-1])
    assert again.handed == ids[2:]
    stored = await store.all(select(Message.platform_id).where(Message.channel == "x", Message.direction == "in"))
    assert sorted(stored, key=int) == ids


async def _is(store: Store, value: str) -> bool:
    return await store.get_cursor("x", DM_CURSOR) == value


async def test_a_dm_backlog_deeper_than_one_round_is_paged_on_and_handed_over_whole(
        engine: Engine, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """More pages than one round reads, and a 429 midway: paging goes on next round, nothing is skipped."""
    monkeypatch.setattr("bots.x.receive.MAX_PAGES", 2)
    fake = FakeX()
    fake.add_user("5001", "ann")
    inbound = FlakyInbound(engine)
    async with XHarness(inbound, fake=fake, cursor_store=store) as x:
        polls = fake.count("dm_events")
        ids = [fake.dm("5001", f"while we were away {i}") for i in range(450)]  # five pages of 100
        fake.fail_next("dm_events", 429, retry_after=0, after=2)  # the third page is refused once
        await x.until_handed(DM_CURSOR, ids[-1], timeout=30)
        assert "rate limited" in (x.adapter.health.error or "")
    assert inbound.handed == ids  # oldest first, each once
    assert fake.count("dm_events") - polls == 6  # 2 pages, a 429, then pages 3-5: never from the top again
