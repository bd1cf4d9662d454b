"""Generators of what X could send the channel: Account Activity deliveries (v1.1 shapes), mutations of the
sample deliveries in tests/payloads/x/, and v2 pages. Each event is generated readable (only the fields the
channel does not need dirtied) or ``broken`` (an id, the author or the text unreadable), and says which."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.fakes.x_api import BOT_HANDLE, BOT_ID
from tests.fuzz.json_junk import DEEP, HOSTILE, JSON, TEXT, dumps, mutate

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "x"
SAMPLES = {p.name: json.loads(p.read_text()) for p in sorted(PAYLOADS.glob("*.json"))}
IDS = itertools.count(1_870_000_000_000_000_000)  # above every sample id, below 2**63; unique per example
# values no reading can take for an id: not digits, not ASCII digits, too long, not a string or a number
BAD_ID = st.sampled_from([None, "", "abc", "１２３", "١٢٣", "1" * 25, "-5", "1.5", "12 3", True, [1], {"id": 1}, 1.5])
NOT_TEXT = JSON.filter(lambda v: not isinstance(v, str)) | DEEP


def fresh() -> str:
    return str(next(IDS))


def maybe(good: Any) -> st.SearchStrategy[Any]:
    """A field the channel reads but does not need: the right value, or anything at all."""
    return st.just(good) | HOSTILE


@st.composite
def v1_dm(draw: st.DrawFn, broken: bool) -> tuple[dict[str, Any], str]:
    """A ``message_create`` event from customer 5001; ``broken``: its id, sender or text cannot be read."""
    event_id = fresh()
    data: dict[str, Any] = {"text": draw(TEXT)}
    for key, good in (("entities", {"hashtags": [], "urls": []}),
                      ("attachment", {"type": "media", "media": {"id_str": "77", "type": "photo",
                                                                  "media_url_https": "https://ton.x.com/i/a.jpg"}})):
        if draw(st.booleans()):
            data[key] = draw(maybe(good))
    event: dict[str, Any] = {
        "type": "message_create", "id": event_id, "created_timestamp": draw(maybe("1764331200000")),
        "message_create": {"target": draw(st.just({"recipient_id": BOT_ID}) | JSON.filter(
                               lambda v: not isinstance(v, dict))),
                           "sender_id": "5001", "source_app_id": draw(maybe("268278")), "message_data": data},
    }
    if draw(st.booleans()):
        event["future_" + draw(st.text(max_size=8))] = draw(HOSTILE)  # a field X may add one day
    if broken:
        part = draw(st.sampled_from(["id", "sender", "text", "message_create"]))
        removed = draw(st.booleans()) and part != "text"
        if part == "id":
            event.pop("id") if removed else event.update(id=draw(BAD_ID))
        elif part == "sender":
            mc = event["message_create"]
            mc.pop("sender_id") if removed else mc.update(sender_id=draw(BAD_ID))
        elif part == "text":
            data["text"] = draw(NOT_TEXT)
        else:
            event["message_create"] = draw(NOT_TEXT)
    return event, event_id


@st.composite
def v1_mention(draw: st.DrawFn, broken: bool) -> tuple[dict[str, Any], str]:
    """A post of customer 5001 replying to the bot; ``broken``: its id, author or text cannot be read."""
    tweet_id = fresh()
    status: dict[str, Any] = {
        "id_str": tweet_id, "id": draw(maybe(int(tweet_id))),
        "text": f"@{BOT_HANDLE} {draw(TEXT)}",
        "user": {"id_str": "5001", "id": 5001, "name": draw(maybe("Ann Lee")), "screen_name": draw(maybe("ann"))},
        "in_reply_to_user_id_str": BOT_ID,
        "created_at": draw(maybe("Fri Nov 28 12:00:00 +0000 2026")), "lang": draw(maybe("en")),
    }
    for key, good in (("entities", {"user_mentions": [{"id_str": BOT_ID, "screen_name": BOT_HANDLE}]}),
                      ("in_reply_to_status_id_str", None), ("quoted_status_id_str", None),
                      ("extended_entities", {"media": []}), ("place", None), ("timestamp_ms", "1764331200000")):
        if draw(st.booleans()):
            status[key] = draw(maybe(good))
    if broken:
        part = draw(st.sampled_from(["id", "user", "user id", "text"]))
        if part == "id":
            status.pop("id_str") if draw(st.booleans()) else status.update(id_str=draw(BAD_ID))
        elif part == "user":
            status["user"] = draw(NOT_TEXT | st.just({}))
        elif part == "user id":
            del status["user"]["id"]
            status["user"]["id_str"] = draw(BAD_ID)
        else:
            status["text"] = draw(NOT_TEXT)
    return status, tweet_id


@st.composite
def delivery(draw: st.DrawFn) -> tuple[dict[str, Any], set[str], bool, str]:
    """(payload, ids that must be stored when it is accepted, whether any event is broken, whose it is)."""
    broken = draw(st.lists(st.booleans(), max_size=3)), draw(st.lists(st.booleans(), max_size=2))
    dms = [draw(v1_dm(b)) for b in broken[0]]
    mentions = [draw(v1_mention(b)) for b in broken[1]]
    account = draw(st.sampled_from(["ours", "ours as a number", "another", "missing", "wrong type"]))
    payload: dict[str, Any] = {}
    if account != "missing":
        payload["for_user_id"] = {"ours": BOT_ID, "ours as a number": int(BOT_ID), "another": "2000"}.get(
            account) or draw(st.sampled_from([None, True, [BOT_ID], {"id": BOT_ID}, 1000.0]))
    if dms or draw(st.booleans()):
        payload["direct_message_events"] = [e for e, _ in dms]
    if mentions or draw(st.booleans()):
        payload["tweet_create_events"] = [s for s, _ in mentions]
    if draw(st.booleans()):  # DM events of kinds the channel does not read, whatever they hold
        payload.setdefault("direct_message_events", []).append(
            {"type": draw(st.sampled_from(["message_read", "participant_join", ""])), "x": draw(HOSTILE)})
    for kind in draw(st.lists(st.sampled_from(["favorite_events", "follow_events", "tweet_delete_events", "users",
                                                "direct_message_indicate_typing_events", "apps", "user_event"]),
                              max_size=3, unique=True)):
        payload[kind] = draw(HOSTILE)
    if "users" not in payload and draw(st.booleans()):
        payload["users"] = {"5001": {"id": "5001", "name": draw(maybe("Ann Lee")), "screen_name": "ann"}}
    return payload, {i for _, i in dms} | {i for _, i in mentions}, any(broken[0] + broken[1]), account


def refresh(payload: dict[str, Any]) -> set[str]:
    """New ids for the sample's events, so each example stores its own (a redelivery would be a duplicate)."""
    ids = set()
    for dm in payload.get("direct_message_events", ()):
        dm["id"] = fresh()
        if dm["message_create"]["sender_id"] != BOT_ID:  # an echo of the bot's own DM is never stored
            ids.add(dm["id"])
    for status in payload.get("tweet_create_events", ()):
        status["id_str"] = fresh()
        status["id"] = int(status["id_str"])
        ids.add(status["id_str"])
    return ids


@st.composite
def mutated_sample(draw: st.DrawFn) -> tuple[Any, set[str]]:
    payload = copy.deepcopy(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
    ids = refresh(payload)
    return mutate(draw, payload, huge_from=10_000), ids


@st.composite
def v2_tweet(draw: st.DrawFn, broken: bool) -> tuple[dict[str, Any], str]:
    tweet_id = fresh()
    tweet: dict[str, Any] = {"id": tweet_id, "text": f"@{BOT_HANDLE} {draw(TEXT)}", "author_id": "5001",
                             "edit_history_tweet_ids": draw(maybe([tweet_id]))}
    for key, good in (("created_at", "2026-11-28T12:00:00.000Z"), ("lang", "en"), ("conversation_id", tweet_id),
                      ("in_reply_to_user_id", BOT_ID), ("entities", {"mentions": [{"id": BOT_ID,
                                                                                   "username": BOT_HANDLE}]}),
                      ("referenced_tweets", [{"type": "replied_to", "id": "1"}]),
                      ("attachments", {"media_keys": ["3_77"]})):
        if draw(st.booleans()):
            tweet[key] = draw(maybe(good))
    if broken:
        part = draw(st.sampled_from(["id", "author_id", "text", "whole"]))
        if part == "text":
            tweet["text"] = draw(NOT_TEXT)
        elif part == "whole":
            return draw(NOT_TEXT), tweet_id
        else:
            tweet.pop(part) if draw(st.booleans()) else tweet.update({part: draw(BAD_ID)})
    return tweet, tweet_id


@st.composite
def v2_dm(draw: st.DrawFn, broken: bool) -> tuple[dict[str, Any], str]:
    event_id = fresh()
    event: dict[str, Any] = {"id": event_id, "event_type": "MessageCreate", "text": draw(TEXT), "sender_id": "5001"}
    for key, good in (("created_at", "2026-11-28T12:00:00.000Z"), ("dm_conversation_id", f"{BOT_ID}-5001"),
                      ("participant_ids", [BOT_ID, "5001"]), ("attachments", {"media_keys": ["3_77"]})):
        if draw(st.booleans()):
            event[key] = draw(maybe(good))
    if broken:
        part = draw(st.sampled_from(["id", "sender_id", "text", "whole"]))
        if part == "text":
            event["text"] = draw(NOT_TEXT)
        elif part == "whole":
            return draw(NOT_TEXT), event_id
        else:
            event.pop(part) if draw(st.booleans()) else event.update({part: draw(BAD_ID)})
    return event, event_id


INCLUDES = st.fixed_dictionaries({}, optional={
    "users": maybe([{"id": "5001", "name": "Ann Lee", "username": "ann"}]) | st.lists(HOSTILE, max_size=3),
    "media": maybe([{"media_key": "3_77", "type": "photo", "url": "https://pbs.twimg.com/m/a.jpg"}]),
    "tweets": st.lists(HOSTILE, max_size=2)})


@st.composite
def v2_page(draw: st.DrawFn, item: Any) -> tuple[bytes, set[str]]:
    """A page as X would serve it, with readable and unreadable items; or no page at all (any body)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=100) | HOSTILE.map(lambda v: dumps(v).encode())), set()
    items = [draw(item(b)) for b in draw(st.lists(st.booleans(), max_size=4))]
    good = {i for (obj, i), b in zip(items, [isinstance(o, dict) and _v2_readable(o) for o, _ in items], strict=True)
            if b}
    body: dict[str, Any] = {"data": [obj for obj, _ in items], "meta": draw(maybe({"result_count": len(items)}))}
    if draw(st.booleans()):
        body["includes"] = draw(INCLUDES | HOSTILE)
    if draw(st.booleans()):
        body["errors"] = draw(HOSTILE)
    return dumps(body).encode(), good


def _v2_readable(obj: dict[str, Any]) -> bool:
    author = obj.get("author_id", obj.get("sender_id"))
    return (isinstance(obj.get("id"), str) and obj["id"].isdigit() and obj["id"].isascii() and len(obj["id"]) <= 19
            and isinstance(obj.get("text"), str) and author == "5001")
