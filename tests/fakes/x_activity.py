"""What X's Account Activity webhook would POST for a DM the fake X holds, in its v1.1 shape.

Written from the "Message Create Object" and Account Activity pages: ``direct_message_events``
(``message_create`` with ``target.recipient_id``, ``sender_id``, ``source_app_id`` and
``message_data.text`` / ``entities`` / ``attachment: {type: "media", media: <v1.1 media entity>}``),
plus the ``apps`` and ``users`` the events refer to. Built independently of the adapter's
translation, so a test can hand the same DM to the adapter by polling and by webhook.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.fakes.x_api import BOT_ID, FakeX

WEB_CLIENT = {"id": "268278", "name": "Twitter Web Client", "url": "http://twitter.com"}


def _v1_media(media: dict[str, Any], event_id: str, offset: int) -> dict[str, Any]:
    media_id = media["media_key"].split("_", 1)[1]
    short = f"https://t.co/m{media_id[-8:]}"
    image = media.get("url") or media.get("preview_image_url")
    entity: dict[str, Any] = {
        "id": int(media_id), "id_str": media_id, "indices": [offset, offset + len(short)],
        "media_url": image.replace("https://", "http://", 1), "media_url_https": image, "url": short,
        "display_url": f"pic.x.com/m{media_id[-8:]}", "expanded_url": f"https://x.com/messages/media/{event_id}",
        "type": media["type"],
        "sizes": {"large": {"w": media.get("width", 1200), "h": media.get("height", 900), "resize": "fit"}},
    }
    if media.get("variants"):
        entity["video_info"] = {
            "aspect_ratio": [16, 9], "duration_millis": media.get("duration_ms", 0),
            "variants": [{"bitrate": v["bit_rate"], "content_type": v["content_type"], "url": v["url"]}
                         if "bit_rate" in v else {"content_type": v["content_type"], "url": v["url"]}
                         for v in media["variants"]]}
    return entity


def _v1_user(user: dict[str, str]) -> dict[str, Any]:
    return {"id": user["id"], "created_timestamp": "1422556069340", "name": user["name"],
            "screen_name": user["username"], "protected": False, "verified": False, "followers_count": 12,
            "friends_count": 40, "statuses_count": 310,
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{user['username']}_normal.jpg",
            "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{user['username']}_normal.jpg"}


def dm_activity(fake: FakeX, event_id: str) -> dict[str, Any]:
    """The Account Activity delivery of the DM ``event_id`` (to the bot's subscription)."""
    event = next(e for e in fake.dm_events if e["id"] == event_id)
    sender = event["sender_id"]
    recipient = next((p for p in event["participant_ids"] if p != sender), BOT_ID)
    created = datetime.fromisoformat(event["created_at"].replace("Z", "+00:00"))
    data: dict[str, Any] = {"text": event["text"],
                            "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}
    keys = (event.get("attachments") or {}).get("media_keys", ())
    if keys:
        data["attachment"] = {"type": "media", "media": _v1_media(fake.media[keys[0]], event_id, len(event["text"]))}
    return {
        "for_user_id": BOT_ID,
        "direct_message_events": [{
            "type": "message_create", "id": event_id, "created_timestamp": str(int(created.timestamp() * 1000)),
            "message_create": {"target": {"recipient_id": recipient}, "sender_id": sender,
                               "source_app_id": WEB_CLIENT["id"], "message_data": data},
        }],
        "apps": {WEB_CLIENT["id"]: WEB_CLIENT},
        "users": {uid: _v1_user(fake.users[uid]) for uid in (sender, recipient)},
    }
