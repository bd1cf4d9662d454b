"""Telegram updates -> the normalised model (pure translation; no network, no decisions).

Identities: a message is ``"<chat_id>:<message_id>"`` (message ids are only unique per chat), a
button press is ``"cb:<callback_query_id>"``. A conversation is the chat id, or
``"<chat_id>:<message_thread_id>"`` for a forum topic, so a reply lands in the same topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import Chat, Message, MessageEntity, User

from core.models import Attachment, AttachmentKind, Author, InboundMessage

CHANNEL = "telegram"
# The commands the adapter hands to the engine as a command message (text "/<name> <args>").
ENGINE_COMMANDS = frozenset({"start", "help", "human"})
ESCALATE = "escalate"
IMPERSONATOR = "impersonator"  # a moderator reports the replied-to message's author
MODERATOR_COMMANDS = frozenset({ESCALATE, IMPERSONATOR})


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # lower case, without "/" and "@bot"
    args: str


@dataclass(frozen=True, slots=True)
class BotIdentity:
    id: int
    username: str  # without "@"


def message_id(chat_id: int, msg_id: int) -> str:
    return f"{chat_id}:{msg_id}"


def conversation_of(message: Message) -> str:
    """Forum topics are their own conversation; everything else is the chat."""
    if message.is_topic_message and message.message_thread_id:
        return f"{message.chat.id}:{message.message_thread_id}"
    return str(message.chat.id)


def is_private(chat: Chat) -> bool:
    return chat.type == Chat.PRIVATE


def command_of(message: Message, bot: BotIdentity) -> Command | None:
    """A bot command at the start of the text meant for this bot (``/cmd`` or ``/cmd@this_bot``)."""
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or ()
    for entity in entities:
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            word = text[1 : entity.length]
            name, _, target = word.partition("@")
            if target and target.lower() != bot.username.lower():
                return None
            return Command(name.lower(), text[entity.length :].strip())
    return None


def _mentions_bot(message: Message, bot: BotIdentity) -> bool:
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or ()
    for entity in entities:
        if entity.type == MessageEntity.MENTION:
            # Offsets are in UTF-16 code units; the entity helper slices correctly.
            mention = _entity_text(text, entity)
            if mention.lstrip("@").lower() == bot.username.lower():
                return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
            return True
    return False


def _entity_text(text: str, entity: MessageEntity) -> str:
    encoded = text.encode("utf-16-le")
    return encoded[entity.offset * 2 : (entity.offset + entity.length) * 2].decode("utf-16-le")


def replied_message(message: Message) -> Message | None:
    """The message this one replies to, ignoring the implicit reply to a forum topic's first message."""
    target = message.reply_to_message
    if target is None or target.forum_topic_created is not None:
        return None
    if message.is_topic_message and target.message_id == message.message_thread_id:
        return None
    return target


def is_addressed(message: Message, bot: BotIdentity) -> bool:
    """In a group: mentioned, replied to, or commanded."""
    if command_of(message, bot) is not None:
        return True
    target = replied_message(message)
    if target is not None and target.from_user is not None and target.from_user.id == bot.id:
        return True
    return _mentions_bot(message, bot)


def strip_mention(text: str, bot: BotIdentity) -> str:
    """``"@okpay_bot how do I top up"`` -> ``"how do I top up"``: the mention is addressing, not content."""
    handle = "@" + bot.username
    words = [w for w in text.split(" ") if w.lower().rstrip(",:!?.，：") != handle.lower()]
    stripped = " ".join(words).strip()
    return stripped or text


def author_of(user: User | None, message: Message | None = None, *, is_moderator: bool = False) -> Author:
    """The person behind a message; a post "on behalf of" a chat is that chat."""
    sender_chat = message.sender_chat if message is not None else None
    if sender_chat is not None:
        return Author(
            platform_user_id=str(sender_chat.id),
            display_name=sender_chat.title or sender_chat.full_name or "",
            handle=sender_chat.username,
            is_moderator=is_moderator,
        )
    if user is None:
        return Author(platform_user_id="unknown")
    return Author(
        platform_user_id=str(user.id),
        display_name=user.full_name or "",  # PTB gives None for an empty first name
        handle=user.username,
        language=user.language_code,
        is_moderator=is_moderator,
        is_bot=user.is_bot,
    )


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file in a message, before any download."""

    kind: AttachmentKind
    file_id: str
    file_unique_id: str
    name: str | None
    mime_type: str | None
    size: int | None

    def attachment(self, local_path: str | None = None) -> Attachment:
        return Attachment(
            kind=self.kind,
            ref=self.file_id,
            name=self.name,
            mime_type=self.mime_type,
            size=self.size,
            local_path=local_path,
        )


def files_of(message: Message) -> list[FileRef]:
    """Photos (largest size), documents, videos, voice/audio, video notes, animations, stickers."""
    refs: list[FileRef] = []
    if message.photo:
        best = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        refs.append(FileRef(AttachmentKind.IMAGE, best.file_id, best.file_unique_id, None, "image/jpeg",
                            best.file_size))
    named: list[tuple[AttachmentKind, Any]] = [
        (AttachmentKind.DOCUMENT, message.document),
        (AttachmentKind.VIDEO, message.video),
        (AttachmentKind.VIDEO, message.animation),
        (AttachmentKind.VIDEO, message.video_note),
        (AttachmentKind.AUDIO, message.audio),
        (AttachmentKind.AUDIO, message.voice),
    ]
    for kind, media in named:
        if media is not None and not (kind is AttachmentKind.DOCUMENT and message.animation is not None):
            refs.append(FileRef(kind, media.file_id, media.file_unique_id, getattr(media, "file_name", None),
                                getattr(media, "mime_type", None), media.file_size))
    if message.sticker is not None:
        s = message.sticker
        mime = "video/webm" if s.is_video else "application/x-tgsticker" if s.is_animated else "image/webp"
        refs.append(FileRef(AttachmentKind.STICKER, s.file_id, s.file_unique_id, s.emoji, mime, s.file_size))
    return refs


def received_at(message: Message) -> datetime:
    date = message.date
    return date if date.tzinfo is not None else date.replace(tzinfo=UTC)


def to_inbound(
    message: Message,
    bot: BotIdentity,
    *,
    attachments: tuple[Attachment, ...] = (),
    is_moderator: bool = False,
    addressed: bool | None = None,
) -> InboundMessage:
    """One Telegram message as an InboundMessage. Commands for the engine become ``"/<name> <args>"``."""
    chat = message.chat
    private = is_private(chat)
    text = message.text or message.caption or ""
    raw: dict[str, Any] = {"chat_type": chat.type, "message_id": message.message_id}
    command = command_of(message, bot)
    if command is not None:
        raw["command"] = command.name
        raw["command_args"] = command.args
        if command.name in ENGINE_COMMANDS:
            text = f"/{command.name} {command.args}".strip()  # "/start ticket-12": the engine reads the args
    elif not private:
        text = strip_mention(text, bot)
    if message.media_group_id:
        raw["media_group_id"] = message.media_group_id
    if message.is_topic_message:
        raw["message_thread_id"] = message.message_thread_id
    target = replied_message(message)
    user = message.from_user
    return InboundMessage(
        channel=CHANNEL,
        platform_id=message_id(chat.id, message.message_id),
        conversation=conversation_of(message),
        author=author_of(user, message, is_moderator=is_moderator),
        text=text,
        public=not private,
        received_at=received_at(message),
        attachments=attachments,
        reply_to=message_id(chat.id, target.message_id) if target is not None else None,
        private_conversation=None if private or user is None or message.sender_chat else str(user.id),
        addressed=True if private else (is_addressed(message, bot) if addressed is None else addressed),
        raw=raw,
    )
