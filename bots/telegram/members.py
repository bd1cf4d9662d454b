"""People joining a group the bot watches: each becomes a ``MemberJoined``, so the engine checks their name
for impersonation before they post anything.

What Telegram tells a bot about joins (Bot API FAQ "What messages will my bot get?"; ``Update.chat_member``):

- A join service message (``message.new_chat_members``) reaches every bot in the group, privacy mode on
  or off, admin or not: "All bots, regardless of settings, will receive all service messages." But Telegram
  leaves these messages out in large groups (a warning in the Bot API changelog of 2021, after ``chat_member``
  was added: "Service messages about non-bot users joining the chat will be soon removed from large groups. We recommend
  using the chat_member update as a replacement"), and, reportedly, when a group hides its member list.
- A ``chat_member`` update for each membership change, only where the bot is an administrator and only
  when ``allowed_updates`` asks for it (the adapter asks). That is how joins in large groups reach the bot.

In a small group both may arrive for one join; the engine's check is per account (one ticket per
impersonator), so the second changes nothing. Bots (including this one) are never checked.
"""

from __future__ import annotations

from telegram import Chat, ChatMember, ChatMemberRestricted, ChatMemberUpdated, Message, User

from bots.telegram.inbound import BotIdentity

GROUPS = frozenset({Chat.GROUP, Chat.SUPERGROUP})
OUTSIDE = frozenset({ChatMember.LEFT, ChatMember.BANNED})
INSIDE = frozenset({ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER})


def joined_by_message(message: Message, bot: BotIdentity) -> list[User]:
    """The people a join service message announces (bots left out)."""
    if message.chat.type not in GROUPS:
        return []
    return [user for user in message.new_chat_members if not user.is_bot and user.id != bot.id]


def joined_by_change(change: ChatMemberUpdated, bot: BotIdentity) -> User | None:
    """The person a ``chat_member`` update shows arriving (from outside the group to inside it), or None."""
    if change.chat.type not in GROUPS:
        return None
    old, new = change.old_chat_member, change.new_chat_member
    user = new.user
    if user.is_bot or user.id == bot.id:
        return None
    return user if _outside(old) and not _outside(new) else None


def _outside(member: ChatMember) -> bool:
    if isinstance(member, ChatMemberRestricted):  # restricted members may be in the group or not
        return not member.is_member
    return member.status in OUTSIDE or member.status not in INSIDE
