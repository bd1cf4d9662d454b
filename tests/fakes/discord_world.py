"""The data behind the fake Discord: users, guilds, roles, channels, threads and messages.

Objects are kept as the JSON payloads Discord itself sends (templates in tests/payloads/discord),
so the real discord.py parses exactly what it would parse in production.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "discord"
DISCORD_EPOCH_MS = 1420070400000

# Permission bits (Discord API "Permissions" table).
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
READ_MESSAGE_HISTORY = 1 << 16
EVERYONE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY

TEXT, DM, PUBLIC_THREAD, PRIVATE_THREAD, FORUM = 0, 1, 11, 12, 15


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of a sample payload from tests/payloads/discord/<name>.json."""
    return copy.deepcopy(_cache(name))


_loaded: dict[str, dict[str, Any]] = {}


def _cache(name: str) -> dict[str, Any]:
    if name not in _loaded:
        _loaded[name] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return _loaded[name]


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class World:
    """Everything the fake platform knows. Ids are real snowflakes (time-ordered)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        ready = payload("ready")
        self.bot: dict[str, Any] = ready["user"]
        self.bot["id"] = str(self.snowflake())
        self.app_id = self.bot["id"]
        self.users: dict[int, dict[str, Any]] = {int(self.bot["id"]): self.bot}
        self.guilds: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.by_channel: dict[int, list[int]] = {}
        self.member_roles: dict[tuple[int, int], list[int]] = {}
        self.thread_members: dict[int, set[int]] = {}

    def snowflake(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)

    # -- users, guilds, roles, members -------------------------------------------------------
    def add_user(self, name: str, *, display: str | None = None) -> dict[str, Any]:
        user = payload("user")
        user.update(id=str(self.snowflake()), username=name, global_name=display or name.title())
        self.users[int(user["id"])] = user
        return user

    def add_guild(self, name: str, roles: dict[str, int] | None = None, *, shard: tuple[int, int] | None = None
                  ) -> dict[str, Any]:
        """A guild with an @everyone role plus ``roles`` (name -> permission bits); ``shard`` = (id, count)
        picks an id that Discord's formula (guild_id >> 22) % count puts on that shard."""
        guild = payload("guild_create")
        gid = self.snowflake()
        while shard is not None and (gid >> 22) % shard[1] != shard[0]:
            gid += 1 << 22
        guild.update(id=str(gid), name=name, owner_id=str(self.snowflake()))
        everyone = payload("role")
        everyone.update(id=str(gid), name="@everyone", position=0, permissions=str(EVERYONE_PERMISSIONS))
        guild["roles"] = [everyone]
        for position, (role_name, perms) in enumerate((roles or {}).items(), start=1):
            role = payload("role")
            role.update(id=str(self.snowflake()), name=role_name, position=position, permissions=str(perms))
            guild["roles"].append(role)
        self.guilds[gid] = guild
        self.add_member(gid, self.bot)
        return guild

    def add_bot_role(self, guild_id: int | str) -> dict[str, Any]:
        """The managed role Discord creates for a bot when it joins a guild (``tags.bot_id``)."""
        guild = self.guilds[int(guild_id)]
        role = payload("role")
        role.update(id=str(self.snowflake()), name=self.bot["username"], managed=True, mentionable=True,
                    position=len(guild["roles"]), tags={"bot_id": self.bot["id"]})
        guild["roles"].append(role)
        self.member_roles[(int(guild_id), int(self.bot["id"]))] = [int(role["id"])]
        return role

    def role_id(self, guild_id: int | str, name: str) -> int:
        for role in self.guilds[int(guild_id)]["roles"]:
            if role["name"] == name:
                return int(role["id"])
        raise KeyError(name)

    def add_member(self, guild_id: int | str, user: dict[str, Any], roles: list[str] = ()) -> None:
        gid = int(guild_id)
        self.member_roles[(gid, int(user["id"]))] = [self.role_id(gid, r) for r in roles]

    def member(self, guild_id: int | str, user_id: int | str, *, with_user: bool = False) -> dict[str, Any]:
        """The guild member object (partial, as in MESSAGE_CREATE; with ``user`` and permissions if asked)."""
        gid, uid = int(guild_id), int(user_id)
        data = copy.deepcopy(payload("message_create")["member"])
        data["roles"] = [str(r) for r in self.member_roles.get((gid, uid), [])]
        if with_user:
            data["user"] = self.public_user(uid)
            data["permissions"] = str(self.permissions(gid, uid))
        return data

    def permissions(self, guild_id: int, user_id: int) -> int:
        guild = self.guilds[guild_id]
        wanted = {guild_id, *self.member_roles.get((guild_id, user_id), [])}
        bits = 0
        for role in guild["roles"]:
            if int(role["id"]) in wanted:
                bits |= int(role["permissions"])
        return bits

    def public_user(self, user_id: int | str) -> dict[str, Any]:
        user = self.users[int(user_id)]
        keys = ("id", "username", "discriminator", "global_name", "avatar", "public_flags", "bot")
        return {k: user[k] for k in keys if k in user}

    # -- channels ----------------------------------------------------------------------------
    def _channel(self, guild_id: int | None, kind: int, name: str | None, **extra: Any) -> dict[str, Any]:
        cid = extra.pop("id", None) or self.snowflake()
        channel: dict[str, Any] = {"id": str(cid), "type": kind, "flags": 0, "last_message_id": None}
        if guild_id is not None:
            channel.update(guild_id=str(guild_id), name=name, position=len(self.channels),
                           permission_overwrites=[], nsfw=False, rate_limit_per_user=0, parent_id=None)
        channel.update(extra)
        self.channels[cid] = channel
        self.by_channel.setdefault(cid, [])
        return channel

    def add_text_channel(self, guild_id: int | str, name: str) -> dict[str, Any]:
        channel = self._channel(int(guild_id), TEXT, name, topic=None)
        self.guilds[int(guild_id)]["channels"].append(channel)
        return channel

    def add_forum(self, guild_id: int | str, name: str) -> dict[str, Any]:
        channel = self._channel(int(guild_id), FORUM, name, topic=None, available_tags=[],
                                default_reaction_emoji=None, default_sort_order=None, default_forum_layout=0)
        self.guilds[int(guild_id)]["channels"].append(channel)
        return channel

    def add_thread(self, parent: dict[str, Any], owner_id: int | str, name: str, *,
                   private: bool = False, thread_id: int | None = None) -> dict[str, Any]:
        """A thread (or forum post) under ``parent``; ``thread_id`` = starter message id for message threads."""
        gid = int(parent["guild_id"])
        thread = self._channel(
            gid, PRIVATE_THREAD if private else PUBLIC_THREAD, name, id=thread_id, parent_id=parent["id"],
            owner_id=str(owner_id), message_count=0, member_count=1, total_message_sent=0,
            thread_metadata={"archived": False, "auto_archive_duration": 1440, "archive_timestamp": iso_now(),
                             "locked": False, "invitable": not private, "create_timestamp": iso_now()},
            applied_tags=[])
        self.guilds[gid]["threads"].append(thread)
        self.thread_members[int(thread["id"])] = {int(owner_id)}
        return thread

    def dm_channel(self, user_id: int | str) -> dict[str, Any]:
        for channel in self.channels.values():
            if channel["type"] == DM and channel["recipients"][0]["id"] == str(user_id):
                return channel
        return self._channel(None, DM, None, recipients=[self.public_user(user_id)])

    # -- messages ----------------------------------------------------------------------------
    def new_message(self, channel: dict[str, Any], author_id: int | str, content: str, *,
                    mentions: list[int | str] = (), attachments: list[dict[str, Any]] = (),
                    mention_roles: list[int | str] = (),
                    reference: int | str | None = None, components: list[Any] | None = None,
                    nonce: str | None = None, message_id: int | None = None) -> dict[str, Any]:
        msg = payload("message_create")
        mid = message_id or self.snowflake()
        guild_id = channel.get("guild_id")
        msg.update(id=str(mid), channel_id=channel["id"], author=self.public_user(author_id), content=content,
                   timestamp=iso_now(), attachments=list(attachments), components=components or [],
                   nonce=nonce)
        if guild_id is None:
            del msg["guild_id"], msg["member"]
        else:
            msg["guild_id"] = guild_id
            msg["member"] = self.member(guild_id, author_id)
        msg["mentions"] = [self.public_user(u) for u in mentions]
        msg["mention_roles"] = [str(r) for r in mention_roles]
        if reference is not None:
            ref = self.messages.get(int(reference))
            msg["message_reference"] = {"type": 0, "message_id": str(reference), "channel_id": channel["id"],
                                        **({"guild_id": guild_id} if guild_id else {})}
            msg["referenced_message"] = copy.deepcopy(ref) if ref else None
            msg["type"] = 19
        self.messages[mid] = msg
        self.by_channel.setdefault(int(channel["id"]), []).append(mid)
        channel["last_message_id"] = str(mid)
        return msg

    def attachment(self, filename: str, content_type: str, size: int) -> dict[str, Any]:
        att = payload("attachment")
        aid = self.snowflake()
        url = f"https://cdn.discordapp.com/attachments/0/{aid}/{filename}"
        att.update(id=str(aid), filename=filename, content_type=content_type, size=size, url=url, proxy_url=url)
        if not content_type.startswith("image/"):
            att.pop("width"), att.pop("height")
        return att

    def history(self, channel_id: int, *, limit: int, before: int | None, after: int | None) -> list[dict]:
        """Like GET /channels/{id}/messages: newest first, ``limit`` nearest the cursor."""
        ids = sorted(self.by_channel.get(channel_id, []))
        if after is not None:
            chosen = [i for i in ids if i > after][:limit]
        else:
            chosen = [i for i in ids if before is None or i < before][-limit:]
        return [copy.deepcopy(self.messages[i]) for i in reversed(chosen)]
