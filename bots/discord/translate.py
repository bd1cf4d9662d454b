"""discord.py objects -> the normalised model (messages, authors, attachments, edits).

Pure translation: who is a moderator is read off platform facts (roles, permissions) plus the
``guilds`` block of the settings; what to do about it is the engine's business.
"""

from __future__ import annotations

import mimetypes
import re
from typing import TYPE_CHECKING, Any

import discord

from core.models import Attachment, AttachmentKind, Author, InboundMessage, MessageEdit

if TYPE_CHECKING:
    from bots.discord.settings import DiscordSettings

CHANNEL = "discord"
# Message types a customer produces; joins, pins, thread notices and command stubs are not messages.
USER_TYPES = {discord.MessageType.default, discord.MessageType.reply}
PRIVATE_PARENT_TYPES = {discord.ChannelType.text}  # private threads exist only under text channels


def is_moderator(user: discord.abc.User, guild_id: int | None, settings: DiscordSettings,
                 permissions: discord.Permissions | None = None) -> bool:
    """Manage Messages, a configured role (name or id) or a configured user id in this guild."""
    if guild_id is None or not isinstance(user, discord.Member):
        return False
    if permissions is None:
        permissions = user.guild_permissions
    if permissions.manage_messages or permissions.administrator:
        return True
    conf = settings.guilds.get(str(guild_id))
    if conf is None:
        return False
    if user.id in conf.moderator_users:
        return True
    ids = {int(r) for r in conf.moderator_roles if isinstance(r, int) or str(r).isdigit()}
    names = {str(r).casefold() for r in conf.moderator_roles if isinstance(r, str)}
    return any(role.id in ids or role.name.casefold() in names for role in user.roles)


_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value: Any) -> str:
    """Text as the store can keep it, whatever the payload held: a lone UTF-16 surrogate (valid in a JSON
    escape, no Unicode character) becomes U+FFFD, NUL goes (PostgreSQL text cannot hold it)."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return _SURROGATE.sub("\ufffd", text).replace("\x00", "")


def _maybe(value: Any) -> str | None:
    return (storable(value) or None) if isinstance(value, str) else None


def author(user: discord.abc.User, guild_id: int | None, settings: DiscordSettings, *,
           permissions: discord.Permissions | None = None, locale: str | None = None) -> Author:
    return Author(
        platform_user_id=str(user.id),
        display_name=storable(user.display_name),
        handle=storable(user.name),
        language=_maybe(locale),
        is_moderator=is_moderator(user, guild_id, settings, permissions),
        is_bot=user.bot is True,
    )


def attachment_kind(content_type: str | None) -> AttachmentKind:
    major = (content_type or "").split("/", 1)[0]
    if major in ("image", "video", "audio"):
        return AttachmentKind(major)
    if content_type:
        return AttachmentKind.DOCUMENT
    return AttachmentKind.OTHER


def attachments(message: discord.Message) -> tuple[Attachment, ...]:
    """Files and stickers. ``ref`` is channel/message/attachment: CDN urls expire, the ids do not
    (GET /channels/{c}/messages/{m} yields a fresh url)."""
    found: list[Attachment] = []
    for att in message.attachments:
        name = _maybe(att.filename)
        mime = _maybe(att.content_type) or (mimetypes.guess_type(name)[0] if name else None)
        size = att.size if isinstance(att.size, int) and not isinstance(att.size, bool) else None
        found.append(Attachment(kind=attachment_kind(mime), ref=f"{message.channel.id}/{message.id}/{att.id}",
                                name=name, mime_type=mime, size=size, url=_maybe(att.url)))
    for sticker in message.stickers:
        found.append(Attachment(kind=AttachmentKind.STICKER, ref=str(sticker.id), name=_maybe(sticker.name),
                                url=_maybe(sticker.url)))
    return tuple(found)


def clean_text(content: str, bot_id: int, role_ids: tuple[int, ...] = ()) -> str:
    """The words without the bot's own mention (``<@id>``, ``<@!id>``, its role ``<@&id>``)."""
    for role_id in role_ids:
        content = content.replace(f"<@&{role_id}>", "")
    return re.sub(rf"<@!?{bot_id}>", "", content).strip()


def bot_roles(message: discord.Message, bot_id: int) -> tuple[int, ...]:
    """Mentions of the role Discord made for the bot when it joined (``tags.bot_id``)."""
    return tuple(r.id for r in message.role_mentions if r.tags is not None and r.tags.bot_id == bot_id)


def _thread_owned_by(channel: Any, bot_id: int) -> bool:
    return isinstance(channel, discord.Thread) and channel.owner_id == bot_id


def dm_address(user_id: int) -> str:
    return f"dm:{user_id}"


def private_conversation(channel: Any, user_id: int, settings: DiscordSettings) -> str:
    """Where an account-specific follow-up goes: ``dm:<user>`` or ``thread:<channel>:<user>``.

    The thread form names the text channel in which the adapter opens a private thread for this
    user; forum posts and threads fall back to their parent text channel, forums to a DM.
    """
    if settings.private_followup == "thread":
        parent = channel.parent if isinstance(channel, discord.Thread) else channel
        if parent is not None and getattr(parent, "type", None) in PRIVATE_PARENT_TYPES:
            return f"thread:{parent.id}:{user_id}"
    return f"dm:{user_id}"


def inbound(message: discord.Message, *, bot_id: int, settings: DiscordSettings,
            require_human: bool = True) -> InboundMessage | None:
    """A customer's message, or None for what is not one (our echo, other bots, system notices)."""
    if message.author.id == bot_id:
        return None
    if require_human and (message.author.bot or message.webhook_id is not None
                          or message.type not in USER_TYPES):
        return None
    if not isinstance(message.content, str):  # Discord always sends a string; anything else is unreadable
        return None
    channel = message.channel
    guild_id = guild_of(message)
    reference = message.reference.message_id if message.reference else None
    raw: dict[str, Any] = {"channel_id": str(channel.id), "guild_id": str(guild_id) if guild_id else None}
    common = dict(channel=CHANNEL, platform_id=str(message.id), conversation=str(channel.id),
                  text=storable(clean_text(message.content, bot_id, bot_roles(message, bot_id))),
                  received_at=message.created_at,
                  attachments=attachments(message), reply_to=str(reference) if reference else None)
    if guild_id is None:
        # One DM channel exists per user and bot, so "dm:<user>" names it; it is also the address
        # the engine gets as private_conversation, so a public question moved to DM and the
        # customer's answers in the DM land in the same conversation.
        who = author(message.author, None, settings)
        common["conversation"] = dm_address(message.author.id)
        return InboundMessage(author=who, public=False, addressed=True, raw=raw, **common)
    who = author(message.author, guild_id, settings, permissions=_permissions(message))
    owned = _thread_owned_by(channel, bot_id)
    if isinstance(channel, discord.Thread):
        raw["thread"] = True
        raw["parent_id"] = str(channel.parent_id)
    if owned and channel.type is discord.ChannelType.private_thread:
        # The private follow-up thread the adapter opened: only this customer and moderators see it.
        return InboundMessage(author=who, public=False, addressed=True, raw=raw, **common)
    resolved = message.reference.resolved if message.reference else None
    replied_to_bot = isinstance(resolved, discord.Message) and resolved.author.id == bot_id
    # "@OKPay Support" often picks the bot's managed role instead of its user: both address it.
    mentioned = any(u.id == bot_id for u in message.mentions) or bool(bot_roles(message, bot_id))
    private = private_conversation(channel, message.author.id, settings)
    return InboundMessage(author=who, public=True, addressed=mentioned or owned or replied_to_bot,
                          private_conversation=private, raw=raw, **common)


def guild_of(message: discord.Message) -> int | None:
    """The message's server id; None in a DM. Known from the channel even when discord.py has not cached
    the server (unavailable in an outage): such a message is still public, never taken for a DM."""
    if message.guild is not None:
        return message.guild.id
    channel = message.channel
    if isinstance(channel, discord.DMChannel | discord.GroupChannel):
        return None
    found = getattr(channel, "guild_id", None)
    return found if isinstance(found, int) else None


def _permissions(message: discord.Message) -> discord.Permissions | None:
    member = message.author
    channel = message.channel
    if isinstance(member, discord.Member) and hasattr(channel, "permissions_for"):
        try:
            return channel.permissions_for(member)
        except (AttributeError, TypeError, discord.ClientException):  # uncached thread parent
            return None
    return None


def edit(message: discord.Message, *, bot_id: int) -> MessageEdit | None:
    """A customer's edit; embed unfurls (no edited timestamp) and our own messages are not edits."""
    if message.author.id == bot_id or message.author.bot or message.edited_at is None:
        return None
    if not isinstance(message.content, str):
        return None
    text = storable(clean_text(message.content, bot_id, bot_roles(message, bot_id)))
    return MessageEdit(channel=CHANNEL, platform_id=str(message.id), text=text, edited_at=message.edited_at)


def deletion(message_id: int) -> MessageEdit:
    return MessageEdit(channel=CHANNEL, platform_id=str(message_id), text=None, deleted=True)
