"""An update as Telegram sends it, read once where it comes in (a webhook body, each getUpdates item).

PTB's ``Update.de_json`` checks presence, not types: a chat id that is a string, a text that is a list, a
photo without a size all become objects that fail later, in the middle of handing a message over (the
webhook turned that into 503s, polling into a batch fetched again and again). So before PTB sees an update:

- every string becomes storable: lone UTF-16 surrogates (valid in a JSON escape, not in Unicode) turn into
  U+FFFD and NULs go (PostgreSQL text cannot hold them);
- the fields the adapter reads are checked against the Bot API's types and limits. Who wrote a message, where,
  its id and its content (text, caption, files) must be right, else the update is ``Unreadable`` (the webhook
  answers 400, polling keeps it on disk for an operator and moves on). A field that only adds detail (a
  username, a topic id, entities, the replied-to message) is dropped when it is wrong: the message still counts.
  Names are cut to Telegram's own limits, so the store's columns always hold them;
- fields the adapter does not read pass through to PTB. When PTB cannot read one of those (a newer Bot API
  than this PTB, a shape it does not expect) the update is read again without them: the message still counts.
  Only what PTB cannot read even then is ``Unreadable``. Update kinds the adapter does not ask for
  (``allowed_updates``) are dropped before PTB: an update of that kind is ignored.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from telegram import Bot, Update

from core.redaction import redact

log = logging.getLogger(__name__)
T = TypeVar("T")
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 32  # Telegram nests a few levels (a reply's message, its entities); deeper values are dropped
TEXT_LIMIT = 4096  # UTF-16 code units in a message's text, or a caption (Premium users' captions too)


class Unreadable(ValueError):
    """Not an update this adapter can take: the reason is safe to answer and to log."""


def storable(text: str) -> str:
    """Text as the store can keep it: lone surrogates replaced, NULs removed."""
    return _SURROGATE.sub("\ufffd", text).replace("\x00", "")


def _clean(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        return None  # nothing the adapter reads lies this deep: dropped, like any other field it cannot read
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(k)): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    return value


def _or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


def _cut(limit: int) -> AfterValidator:
    return AfterValidator(lambda text: text[:limit])


def _fits(text: str) -> str:
    if len(text.encode("utf-16-le")) // 2 > TEXT_LIMIT:
        raise ValueError(f"longer than Telegram's {TEXT_LIMIT} characters")
    return text


def _known(items: list[Any] | None) -> list[Any] | None:
    return None if items is None else [item for item in items if item is not None]


Maybe = Annotated[T | None, WrapValidator(_or_none)]  # wrong: dropped, the rest still counts
Id = Annotated[int, Field(ge=-(2**63), lt=2**63)]
Count = Annotated[int, Field(ge=0, lt=2**63)]
Name = Annotated[str, _cut(64)]  # first and last names: 1-64 characters
Title = Annotated[str, _cut(128)]  # chat titles: 1-128
Handle = Annotated[str, StringConstraints(max_length=32)]  # usernames: 5-32
Word = Annotated[str, StringConstraints(max_length=32)]  # chat types, entity types, statuses
Language = Annotated[str, StringConstraints(max_length=16)]  # IETF tags: "en", "zh-hans"
FileId = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Content = Annotated[str, AfterValidator(_fits)]


class Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True)


class UserShape(Shape):
    id: Id
    is_bot: bool
    first_name: Name
    last_name: Maybe[Name] = None
    username: Maybe[Handle] = None
    language_code: Maybe[Language] = None


class ChatShape(Shape):
    id: Id
    type: Word
    title: Maybe[Title] = None
    username: Maybe[Handle] = None
    first_name: Maybe[Name] = None
    last_name: Maybe[Name] = None
    is_forum: Maybe[bool] = None


class EntityShape(Shape):
    type: Word
    offset: Count
    length: Count
    user: Maybe[UserShape] = None


class FileShape(Shape):
    file_id: FileId
    file_unique_id: FileId
    file_size: Maybe[Count] = None
    file_name: Maybe[Annotated[str, _cut(255)]] = None
    mime_type: Maybe[Annotated[str, StringConstraints(max_length=127)]] = None


class PhotoShape(FileShape):
    width: Count
    height: Count


class StickerShape(PhotoShape):
    is_animated: bool
    is_video: bool
    emoji: Maybe[Annotated[str, StringConstraints(max_length=16)]] = None


class MessageShape(Shape):
    message_id: Id
    date: Count
    chat: ChatShape
    from_user: UserShape | None = Field(None, alias="from")
    sender_chat: ChatShape | None = None
    text: Content | None = None
    caption: Content | None = None
    photo: list[PhotoShape] | None = None
    document: FileShape | None = None
    video: FileShape | None = None
    animation: FileShape | None = None
    video_note: FileShape | None = None
    audio: FileShape | None = None
    voice: FileShape | None = None
    sticker: StickerShape | None = None
    entities: Maybe[Annotated[list[Maybe[EntityShape]], AfterValidator(_known)]] = None
    caption_entities: Maybe[Annotated[list[Maybe[EntityShape]], AfterValidator(_known)]] = None
    reply_to_message: Maybe[MessageShape] = None
    message_thread_id: Maybe[Id] = None
    is_topic_message: Maybe[bool] = None
    is_automatic_forward: Maybe[bool] = None
    media_group_id: Maybe[Annotated[str, StringConstraints(max_length=64)]] = None
    edit_date: Maybe[Count] = None
    migrate_to_chat_id: Maybe[Id] = None
    migrate_from_chat_id: Maybe[Id] = None
    new_chat_members: Maybe[Annotated[list[Maybe[UserShape]], AfterValidator(_known)]] = None


class CallbackShape(Shape):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    from_user: UserShape = Field(alias="from")
    chat_instance: Annotated[str, StringConstraints(max_length=64)]
    data: Annotated[str, StringConstraints(max_length=256)] | None = None
    message: Maybe[MessageShape] = None


class MemberShape(Shape):
    status: Word
    user: UserShape
    is_member: Maybe[bool] = None


class MemberChangeShape(Shape):
    chat: ChatShape
    from_user: UserShape = Field(alias="from")
    date: Count
    old_chat_member: MemberShape
    new_chat_member: MemberShape


class UpdateShape(Shape):
    model_config = ConfigDict(strict=True, extra="ignore")  # kinds the adapter does not ask for: ignored, whatever

    update_id: Annotated[int, Field(ge=0, lt=2**63)]
    message: MessageShape | None = None
    edited_message: MessageShape | None = None
    callback_query: CallbackShape | None = None
    chat_member: MemberChangeShape | None = None


def read_update(data: Any, bot: Bot) -> Update:
    """The update PTB makes of ``data`` once it is clean; raises Unreadable."""
    if not isinstance(data, dict):
        raise Unreadable("not a Telegram update (not a JSON object)")
    try:
        shape = UpdateShape.model_validate(_clean({k: v for k, v in data.items() if k in UpdateShape.model_fields}))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Unreadable(f"not a Telegram update: {where}: {first['msg']}"[:300]) from None
    except RecursionError:
        raise Unreadable("nested too deeply") from None
    try:
        return Update.de_json(shape.model_dump(by_alias=True, exclude_none=True), bot)
    except (Exception, RecursionError) as exc:  # a field PTB reads and this adapter does not
        failure = redact(f"{type(exc).__name__}: {exc}"[:200]).text  # PTB may quote a value: logged and answered
    try:  # the message still counts: read again without the fields the adapter does not use
        update = Update.de_json(_read_fields(shape), bot)
    except (Exception, RecursionError):
        raise Unreadable(f"not a Telegram update python-telegram-bot can read: {failure}") from None
    log.warning("telegram: update %s read without the fields python-telegram-bot could not read (%s)",
                shape.update_id, failure)
    return update


def _read_fields(value: Any) -> Any:
    """Only the fields the shapes declare (a file keeps all of its own: PTB needs them to build it)."""
    if isinstance(value, BaseModel):
        found = {name: getattr(value, name) for name in type(value).model_fields}
        fields = {(type(value).model_fields[name].alias or name): _read_fields(item)
                  for name, item in found.items() if item is not None}
        if isinstance(value, FileShape):
            fields = {**(value.model_extra or {}), **fields}
        return fields
    if isinstance(value, list):
        return [_read_fields(item) for item in value]
    return value


def update_id_of(data: Any) -> int | None:
    """The update's id when it has one Telegram could have given (to confirm it, or to keep it on disk)."""
    value = data.get("update_id") if isinstance(data, dict) else None
    return value if type(value) is int and 0 <= value < 2**63 else None
