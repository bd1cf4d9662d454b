"""X payloads -> the normalised model. Pure functions, shared by polling and the webhook.

Polling reads API v2 objects (tweets, DM events, ``includes``). The Account Activity webhook
delivers v1.1-shaped objects; ``activity_to_v2`` reshapes them into v2 first (media entities
included, keyed as v2 keys them) so one set of translation functions serves both, and the same
DM gives the same message, attachments too, whichever way it arrived.

Addresses: a DM is ``dm:<customer user id>`` (one-to-one; replies use
POST /2/dm_conversations/with/:participant_id/messages, which also opens the conversation for a
private follow-up of a public post), a group DM is ``dm_group:<dm_conversation_id>``, a public
post is ``tweet:<tweet id>`` (replies thread under it).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bots.x import shapes
from bots.x.text import strip_reply_prefix
from core.models import Attachment, AttachmentKind, Author, InboundMessage, utcnow

CHANNEL = "x"
TWEET_FIELDS = (
    "author_id", "conversation_id", "created_at", "entities", "in_reply_to_user_id", "lang",
    "referenced_tweets", "attachments",
)
TWEET_EXPANSIONS = (
    "author_id", "referenced_tweets.id", "referenced_tweets.id.author_id", "attachments.media_keys",
)
DM_FIELDS = ("id", "text", "event_type", "created_at", "dm_conversation_id", "sender_id",
             "participant_ids", "referenced_tweets", "attachments")
DM_EXPANSIONS = ("sender_id", "attachments.media_keys")
USER_FIELDS = ("name", "username")
MEDIA_FIELDS = ("type", "url", "preview_image_url", "variants")
_NO_LANGUAGE = {"und", "zxx", "art", "qme", "qam", "qct", "qht", "qst"}
_MEDIA_KINDS = {"photo": AttachmentKind.IMAGE, "video": AttachmentKind.VIDEO,
                "animated_gif": AttachmentKind.VIDEO}


@dataclass(frozen=True)
class Includes:
    """The ``includes`` block of a v2 response, indexed by id."""

    users: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    tweets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    media: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, body: Any) -> Includes:
        """The readable users, posts and media of a body's ``includes`` (``shapes``); the others are left out."""
        inc = body.get("includes") if isinstance(body, Mapping) else None
        inc = inc if isinstance(inc, Mapping) else {}
        return cls(
            users={u["id"]: u for u in shapes.usable(inc.get("users"), shapes.user, "user")},
            tweets={t["id"]: t for t in shapes.usable(inc.get("tweets"), shapes.tweet, "post")},
            media={m["media_key"]: m for m in shapes.usable(inc.get("media"), shapes.media, "media")},
        )

    def merged(self, other: Includes) -> Includes:
        return Includes({**self.users, **other.users}, {**self.tweets, **other.tweets},
                        {**self.media, **other.media})


def parse_time(value: str | None) -> datetime:
    if not value:
        return utcnow()
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def event_time(item: Mapping[str, Any]) -> float | None:
    """``created_at`` of a post or DM event as epoch seconds (None when X did not say)."""
    value = item.get("created_at")
    try:
        return parse_time(value).timestamp() if value else None
    except ValueError:
        return None


def is_moderator(user_id: str, handle: str | None, moderators: Iterable[str]) -> bool:
    """Settings list handles (without @, any case) or numeric user ids."""
    names = {m.lstrip("@").lower() for m in moderators}
    return user_id in names or (handle is not None and handle.lower() in names)


def author_of(user_id: str, includes: Includes, moderators: Iterable[str],
              language: str | None = None, me: str | None = None) -> Author:
    user = includes.users.get(user_id, {})
    handle = user.get("username")
    return Author(
        platform_user_id=user_id,
        display_name=user.get("name") or handle or "",
        handle=handle,
        language=language,
        is_moderator=is_moderator(user_id, handle, moderators),
        is_bot=user_id == me,
    )


def replied_to(tweet: Mapping[str, Any]) -> str | None:
    for ref in tweet.get("referenced_tweets") or ():
        if ref.get("type") == "replied_to":
            return str(ref["id"])
    return None


def is_retweet(tweet: Mapping[str, Any]) -> bool:
    return any(ref.get("type") == "retweeted" for ref in tweet.get("referenced_tweets") or ())


def has_keyword(text: str, keyword: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text, re.IGNORECASE) is not None


def without_keyword(text: str, keyword: str) -> str:
    text = re.sub(rf"(?<!\w){re.escape(keyword)}(?!\w)", "", text, flags=re.IGNORECASE)
    text = re.sub(r"(?<!\w)@\w{1,15}", "", text)
    return " ".join(text.split())


def _attachments(keys: Iterable[str], includes: Includes) -> tuple[Attachment, ...]:
    out = []
    for key in keys:
        media = includes.media.get(key, {})
        url = media.get("url") or media.get("preview_image_url")
        out.append(Attachment(kind=_MEDIA_KINDS.get(media.get("type", ""), AttachmentKind.OTHER),
                              ref=key, url=url))
    return tuple(out)


def tweet_to_inbound(tweet: Mapping[str, Any], includes: Includes, *, moderators: Iterable[str],
                     addressed: bool = True, me: str | None = None) -> InboundMessage:
    """A public post: replies thread under it; account matters move to ``dm:<author>``."""
    author_id = str(tweet["author_id"])
    lang = tweet.get("lang")
    language = None if not lang or lang in _NO_LANGUAGE else lang
    keys = (tweet.get("attachments") or {}).get("media_keys", ())
    return InboundMessage(
        channel=CHANNEL,
        platform_id=str(tweet["id"]),
        conversation=f"tweet:{tweet['id']}",
        author=author_of(author_id, includes, moderators, language, me),
        text=strip_reply_prefix(tweet.get("text", "")),
        public=True,
        received_at=parse_time(tweet.get("created_at")),
        attachments=_attachments(keys, includes),
        reply_to=replied_to(tweet),
        private_conversation=f"dm:{author_id}",
        addressed=addressed,
        raw={"kind": "tweet", "tweet": dict(tweet)},
    )


def dm_conversation_address(event: Mapping[str, Any], me: str) -> str:
    """``dm:<other user>`` for one-to-one conversations (id "<a>-<b>"), else ``dm_group:<id>``."""
    conv = str(event.get("dm_conversation_id") or "")
    ids = conv.split("-")
    if len(ids) == 2 and all(i.isdigit() for i in ids):
        other = ids[0] if ids[1] == me else ids[1]
        return f"dm:{other}"
    if conv:
        return f"dm_group:{conv}"
    return f"dm:{event['sender_id']}"


def dm_to_inbound(event: Mapping[str, Any], includes: Includes, *, me: str,
                  moderators: Iterable[str]) -> InboundMessage:
    sender = str(event["sender_id"])
    keys = (event.get("attachments") or {}).get("media_keys", ())
    return InboundMessage(
        channel=CHANNEL,
        platform_id=str(event["id"]),
        conversation=dm_conversation_address(event, me),
        author=author_of(sender, includes, moderators),
        text=event.get("text", ""),
        public=False,
        received_at=parse_time(event.get("created_at")),
        attachments=_attachments(keys, includes),
        raw={"kind": "dm", "event": dict(event)},
    )


def mentions_me(tweet: Mapping[str, Any], me: str, my_handle: str | None) -> bool:
    if str(tweet.get("in_reply_to_user_id") or "") == me:
        return True
    for m in (tweet.get("entities") or {}).get("mentions", ()):
        if str(m.get("id", "")) == me or (my_handle and m.get("username", "").lower() == my_handle.lower()):
            return True
    return False


# --- Account Activity (v1.1 shapes) -> v2 shapes -------------------------------------------------
# A delivery is read defensively (any field may be of any type); the v2 objects it becomes are then checked
# like polled ones (``shapes``), strictly: an event without a readable id or author makes it ``Malformed``.

def _s(value: Any) -> str | None:
    """An id or text as a string: X's v1.1 objects give ids as numbers and as ``*_str`` strings."""
    if isinstance(value, bool):
        return None
    return str(value) if isinstance(value, (str, int)) else None


def _d(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _v1_time(value: Any) -> str | None:
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


def _v1_user(user: Mapping[str, Any], uid: Any = None) -> dict[str, Any]:
    return {"id": _s(user.get("id_str") or user.get("id") or uid), "name": user.get("name"),
            "username": user.get("screen_name")}


# v2 media keys are "<media type number>_<media id>"; Account Activity delivers v1.1 media entities,
# which carry the id (and, in newer deliveries, the key itself).
_MEDIA_KEY_PREFIX = {"photo": "3", "video": "7", "animated_gif": "16"}


def _v1_media(entity: Mapping[str, Any]) -> dict[str, Any] | None:
    """A v1.1 media entity as the v2 media object polling gets (``media.fields`` as the client asks)."""
    kind = entity.get("type", "photo")
    kind = kind if isinstance(kind, str) else "photo"
    media_id = _s(entity.get("id_str") or entity.get("id"))
    key = _s(entity.get("media_key")) or f"{_MEDIA_KEY_PREFIX.get(kind, '3')}_{media_id}"
    image = entity.get("media_url_https") or entity.get("media_url")
    media: dict[str, Any] = {"media_key": key, "type": kind}
    if kind == "photo":
        media["url"] = image
    else:  # v2 gives videos and GIFs a preview image and their variants, no url
        media["preview_image_url"] = image
        names = (("bitrate", "bit_rate"), ("content_type", "content_type"), ("url", "url"))
        media["variants"] = [{v2: v[v1] for v1, v2 in names if v1 in v}
                             for v in _l(_d(entity.get("video_info")).get("variants")) if isinstance(v, Mapping)]
    try:
        return shapes.media(media)
    except shapes.Malformed:
        return None  # a picture we cannot name: the message itself still counts


def _v1_tweet(status: Mapping[str, Any], media: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ext = _d(status.get("extended_tweet"))
    entities = _d(ext.get("entities") or status.get("entities"))
    ext_media = _l(_d(ext.get("extended_entities") or status.get("extended_entities")).get("media"))
    refs = []
    for kind, ref in (("replied_to", status.get("in_reply_to_status_id_str")),
                      ("quoted", status.get("quoted_status_id_str")),
                      ("retweeted", _d(status.get("retweeted_status")).get("id_str"))):
        if ref:
            refs.append({"type": kind, "id": _s(ref)})
    keys = []
    for m in ext_media:
        item = _v1_media(_d(m))
        if item is not None:
            keys.append(item["media_key"])
            media[item["media_key"]] = item
    tweet: dict[str, Any] = {
        "id": _s(status.get("id_str")),
        "text": ext.get("full_text") or status.get("full_text") or status.get("text", ""),
        "author_id": _v1_user(_d(status.get("user")))["id"],
        "created_at": _v1_time(status.get("created_at")),
        "lang": status.get("lang"),
        "in_reply_to_user_id": _s(status.get("in_reply_to_user_id_str")),
        "entities": {"mentions": [{"id": _s(u.get("id_str")), "username": u.get("screen_name")}
                                  for u in _l(entities.get("user_mentions")) if isinstance(u, Mapping)]},
        "referenced_tweets": refs,
    }
    if keys:
        tweet["attachments"] = {"media_keys": keys}
    return shapes.tweet(tweet)


def _v1_created(value: Any) -> str | None:
    """``created_timestamp`` (epoch milliseconds as a string) as ISO 8601."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _v1_dm(event: Mapping[str, Any], media: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A ``message_create`` event as the v2 DM event polling gets; its one media attachment included."""
    mc = _d(event.get("message_create"))
    data = _d(mc.get("message_data"))
    sender, recipient = _s(mc.get("sender_id")), _s(_d(mc.get("target")).get("recipient_id"))
    pair = sorted((sender, recipient), key=int) if sender and recipient and f"{sender}{recipient}".isdigit() \
        and f"{sender}{recipient}".isascii() else None
    dm: dict[str, Any] = {
        "id": _s(event.get("id")),
        "event_type": "MessageCreate",
        "text": data.get("text", ""),
        "sender_id": sender,
        "dm_conversation_id": "-".join(pair) if pair else None,
        "created_at": _v1_created(event.get("created_timestamp")),
    }
    attachment = _d(data.get("attachment"))
    if attachment.get("type") == "media" and attachment.get("media"):
        item = _v1_media(_d(attachment["media"]))
        if item is not None:
            media[item["media_key"]] = item
            dm["attachments"] = {"media_keys": [item["media_key"]]}
    return shapes.dm_event(dm)


def activity_to_v2(payload: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split an Account Activity POST into v2-shaped ``(tweets_body, dm_body)``. Raises ``shapes.Malformed``
    when a post or DM in it has no readable id or author; kinds of events the channel does not read are left."""
    users: dict[str, dict[str, Any]] = {}
    media: dict[str, dict[str, Any]] = {}
    tweets = []
    for status in _l(payload.get("tweet_create_events")):
        status = _d(status)
        tweets.append(_v1_tweet(status, media))
        with contextlib.suppress(shapes.Malformed):
            user = shapes.user(_v1_user(_d(status.get("user"))))
            users[user["id"]] = user
    for uid, user in _d(payload.get("users")).items():
        with contextlib.suppress(shapes.Malformed):
            checked = shapes.user(_v1_user(_d(user), uid))
            users[checked["id"]] = checked
    events = [_v1_dm(_d(ev), media) for ev in _l(payload.get("direct_message_events"))
              if _d(ev).get("type") == "message_create"]
    includes = {"users": list(users.values()), "media": list(media.values())}
    return {"data": tweets, "includes": includes}, {"data": events, "includes": includes}
