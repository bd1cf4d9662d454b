"""The X objects the channel reads (posts, DM events, users, media), checked once where they come in.

To Python an answer of X or a webhook delivery is JSON of any shape. One post without an author, or a list
where its text belongs, must neither stop the feed behind it (polling would fetch it again forever) nor turn a
webhook delivery into a 500. So each object is checked where it enters the channel, and what comes out is a
plain dict of the fields the channel reads, each of the type it expects:

- identity fields (a post's id and author, a DM event's id and sender) must be X's digit strings, else the
  object is ``Malformed``: polling skips it (logged), the webhook refuses the delivery with a 400;
- any other field of the wrong shape is dropped (a post whose ``lang`` is a list is still a post);
- text becomes storable: lone UTF-16 surrogates (valid in a JSON escape, not in Unicode) turn into U+FFFD and
  NUL characters go (PostgreSQL text cannot hold them);
- only the fields read here are kept, so ``raw`` cannot carry an arbitrarily deep payload into the store.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

log = logging.getLogger(__name__)

_SURROGATE = re.compile("[\ud800-\udfff]")
NAME_MAX = 100  # X allows 50 characters for a display name


class Malformed(ValueError):
    """An X object the channel cannot read: no usable id or author."""


def storable(text: str) -> str:
    """Text as the store can keep it: lone surrogates replaced, NULs removed."""
    return _SURROGATE.sub("\ufffd", text).replace("\x00", "")


def _or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


def _time(value: Any) -> str | None:
    """An ISO 8601 time X gave (``created_at``); None when it is not one a datetime can hold."""
    if not isinstance(value, str):
        return None
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return value


def _items(kind: Any) -> WrapValidator:
    """A list of which the items of the wrong shape are dropped (not the whole list, not the object)."""
    adapter: TypeAdapter[Any] = TypeAdapter(kind)

    def keep(value: Any, _handler: ValidatorFunctionWrapHandler) -> list[Any]:
        out = []
        for item in value if isinstance(value, list) else ():
            try:
                out.append(adapter.validate_python(item))
            except ValidationError:
                continue
        return out

    return WrapValidator(keep)


Id = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,19}$")]
OptId = Annotated[Id | None, WrapValidator(_or_none)]
OptStr = Annotated[str | None, WrapValidator(_or_none), AfterValidator(lambda s: storable(s) if s else s)]
Text = Annotated[str, AfterValidator(storable)]
Handle = Annotated[str | None, WrapValidator(_or_none), AfterValidator(
    lambda s: s if s is None or re.fullmatch(r"\w{1,15}", s, re.ASCII) else None)]
Name = Annotated[str | None, WrapValidator(_or_none), AfterValidator(lambda s: storable(s)[:NAME_MAX] if s else s)]
Time = Annotated[str | None, WrapValidator(lambda v, _h: _time(v))]
MediaKey = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}_[0-9]{1,19}$")]
Url = Annotated[str | None, WrapValidator(_or_none), AfterValidator(
    lambda s: s if s is None or (len(s) <= 2048 and re.fullmatch(r"https?://[^\s\x00-\x1f]+", s)) else None)]
ConversationId = Annotated[str | None, WrapValidator(_or_none), AfterValidator(
    lambda s: s if s is None or re.fullmatch(r"[0-9]{1,19}(-[0-9]{1,19})?", s) else None)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Reference(_Shape):
    type: str
    id: Id


class Mention(_Shape):
    id: OptId = None
    username: Handle = None


class Entities(_Shape):
    mentions: Annotated[list[Mention], _items(Mention)] = []


class MediaKeys(_Shape):
    media_keys: Annotated[list[MediaKey], _items(MediaKey)] = []


class Tweet(_Shape):
    id: Id
    author_id: Id
    text: Text = ""
    created_at: Time = None
    lang: OptStr = None
    in_reply_to_user_id: OptId = None
    conversation_id: OptId = None
    entities: Annotated[Entities | None, WrapValidator(_or_none)] = None
    referenced_tweets: Annotated[list[Reference], _items(Reference)] = []
    attachments: Annotated[MediaKeys | None, WrapValidator(_or_none)] = None


class DmEvent(_Shape):
    id: Id
    event_type: OptStr = "MessageCreate"
    text: Text = ""
    sender_id: OptId = None
    dm_conversation_id: ConversationId = None
    created_at: Time = None
    attachments: Annotated[MediaKeys | None, WrapValidator(_or_none)] = None


class User(_Shape):
    id: Id
    name: Name = None
    username: Handle = None


class Variant(_Shape):
    bit_rate: Annotated[int | None, WrapValidator(_or_none)] = None
    content_type: OptStr = None
    url: Url = None


class Media(_Shape):
    media_key: MediaKey
    type: OptStr = None
    url: Url = None
    preview_image_url: Url = None
    variants: Annotated[list[Variant], _items(Variant)] = []


_NAMES: dict[type[_Shape], str] = {Tweet: "post", DmEvent: "DM event", User: "user", Media: "media object"}


def _dump(model: type[_Shape], obj: Any) -> dict[str, Any]:
    if not isinstance(obj, Mapping):
        raise Malformed(f"not a readable X {_NAMES[model]}: a JSON {type(obj).__name__}, not an object")
    try:
        shape = model.model_validate(obj)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'object'}: {e['msg']}" for e in exc.errors()[:3])
        raise Malformed(f"not a readable X {_NAMES[model]}: {problems}") from None
    return shape.model_dump(exclude_none=True)


def tweet(obj: Any) -> dict[str, Any]:
    return _dump(Tweet, obj)


def dm_event(obj: Any) -> dict[str, Any]:
    """A DM event; a MessageCreate needs its sender (other kinds, joins and leaves, are passed over later)."""
    event = _dump(DmEvent, obj)
    if event.get("event_type", "MessageCreate") == "MessageCreate" and "sender_id" not in event:
        raise Malformed(f"not a readable X DM event: message {event['id']} has no sender_id")
    return event


def user(obj: Any) -> dict[str, Any]:
    return _dump(User, obj)


def media(obj: Any) -> dict[str, Any]:
    return _dump(Media, obj)


def usable(items: Any, check: Any, what: str) -> list[dict[str, Any]]:
    """The objects of a page X served that the channel can read; each other one is logged and skipped
    (fetching it again would give the same object, and it must not hold up the ones after it)."""
    out = []
    for item in items if isinstance(items, list) else ():
        try:
            out.append(check(item))
        except Malformed as exc:
            log.warning("x: a %s X served was skipped: %s", what, exc)
    return out


def data(body: Any) -> list[Any]:
    """The ``data`` list of a v2 page (absent when the page is empty)."""
    value = body.get("data") if isinstance(body, Mapping) else None
    return value if isinstance(value, list) else []


def meta(body: Any, key: str) -> str | None:
    """A string of a page's ``meta`` (``next_token``, ``newest_id``), None when absent or not a string."""
    value = body.get("meta") if isinstance(body, Mapping) else None
    found = value.get(key) if isinstance(value, Mapping) else None
    return found if isinstance(found, str) and 0 < len(found) <= 256 else None
