"""What users do on the fake Discord, turned into the gateway events Discord sends the bot."""

from __future__ import annotations

import base64
import copy
from typing import TYPE_CHECKING, Any

from tests.fakes.discord_world import iso_now, payload

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord


class EventMaker:
    """Mixed into FakeDiscord: each method changes the world and dispatches what Discord would."""

    async def user_dm(self: FakeDiscord, user: dict[str, Any], text: str, *,
                      attachments: list[dict[str, Any]] = ()) -> dict[str, Any]:
        channel = self.dm_channel(user["id"])
        msg = self.new_message(channel, user["id"], text, attachments=attachments)
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def guild_message(self: FakeDiscord, channel: dict[str, Any], user: dict[str, Any], text: str, *,
                            mention_bot: bool = False, reply_to: dict[str, Any] | None = None,
                            attachments: list[dict[str, Any]] = (), message_id: int | None = None,
                            mention_role: dict[str, Any] | None = None) -> dict[str, Any]:
        """A message in a guild channel/thread; ``mention_bot`` puts ``<@bot>`` in the text like the client,
        ``mention_role`` puts ``<@&role>``."""
        content = f"<@{self.bot['id']}> {text}" if mention_bot else text
        mentions = [self.bot["id"]] if mention_bot else []
        roles = [mention_role["id"]] if mention_role else []
        if mention_role:
            content = f"<@&{mention_role['id']}> {content}"
        msg = self.new_message(channel, user["id"], content, mentions=mentions, attachments=attachments,
                               mention_roles=roles,
                               reference=reply_to["id"] if reply_to else None, message_id=message_id)
        for m in msg["mentions"]:
            m["member"] = self.member(channel["guild_id"], m["id"])
        await self.dispatch("MESSAGE_CREATE", msg, guild_id=channel["guild_id"])
        return msg

    async def forum_post(self: FakeDiscord, forum: dict[str, Any], user: dict[str, Any], title: str,
                         text: str, *, mention_bot: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
        """A forum post: a thread whose id is also its starter message's id."""
        thread = self.add_thread(forum, user["id"], title)
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True}, guild_id=forum["guild_id"])
        msg = await self.guild_message(thread, user, text, message_id=int(thread["id"]), mention_bot=mention_bot)
        return thread, msg

    async def edit_message(self: FakeDiscord, msg: dict[str, Any], text: str) -> None:
        msg["content"] = text
        msg["edited_timestamp"] = iso_now()
        await self.dispatch("MESSAGE_UPDATE", copy.deepcopy(msg), guild_id=msg.get("guild_id"))

    async def delete_message(self: FakeDiscord, msg: dict[str, Any]) -> None:
        self.messages.pop(int(msg["id"]), None)
        self.by_channel[int(msg["channel_id"])].remove(int(msg["id"]))
        data = {"id": msg["id"], "channel_id": msg["channel_id"]}
        if msg.get("guild_id"):
            data["guild_id"] = msg["guild_id"]
        await self.dispatch("MESSAGE_DELETE", data, guild_id=msg.get("guild_id"))

    # -- interactions -----------------------------------------------------------------------
    def _interaction(self: FakeDiscord, template: str, user: dict[str, Any],
                     channel: dict[str, Any]) -> dict[str, Any]:
        data = payload(template)
        iid = self.snowflake()
        token = base64.urlsafe_b64encode(f"interaction:{iid}:secret".encode()).decode().rstrip("=")
        data.update(id=str(iid), application_id=self.app_id, token=token, channel_id=channel["id"])
        data["channel"] = {k: v for k, v in channel.items() if k != "recipients"}
        gid = channel.get("guild_id")
        if gid is None:
            data.pop("guild_id", None), data.pop("guild", None), data.pop("member", None)
            data["user"] = self.public_user(user["id"])
            data["context"] = 1
            data["channel"]["recipients"] = [self.public_user(user["id"])]
        else:
            data.pop("user", None)
            data.update(guild_id=gid, guild={"id": gid, "locale": "en-US", "features": ["COMMUNITY"]})
            data["member"] = self.member(gid, user["id"], with_user=True)
            data["authorizing_integration_owners"] = {"0": gid}
            data["context"] = 0
        return data

    async def press_button(self: FakeDiscord, user: dict[str, Any], message: dict[str, Any],
                           custom_id: str, *, locale: str = "en-US") -> str:
        """``locale`` is the presser's Discord client language (sent with every interaction)."""
        channel = self.channels[int(message["channel_id"])]
        data = self._interaction("interaction_component", user, channel)
        data["locale"] = locale
        data["data"] = {"custom_id": custom_id, "component_type": 2}
        data["message"] = copy.deepcopy(message)
        await self.dispatch("INTERACTION_CREATE", data, guild_id=channel.get("guild_id"))
        return data["id"]

    def _command_id(self: FakeDiscord, guild_id: str, name: str) -> str:
        for cmd in self.command_syncs.get(guild_id, []) + self.command_syncs.get("global", []):
            if cmd["name"] == name:
                return cmd["id"]
        raise LookupError(f"command {name!r} was never registered for guild {guild_id}")

    async def context_menu(self: FakeDiscord, moderator: dict[str, Any], target: dict[str, Any],
                           name: str = "Escalate to support", *, locale: str = "en-US") -> str:
        """A moderator right-clicks ``target`` -> Apps -> ``name`` (message command, type 3)."""
        channel = self.channels[int(target["channel_id"])]
        data = self._interaction("interaction_command", moderator, channel)
        data["locale"] = locale
        gid = channel["guild_id"]
        resolved = copy.deepcopy(target)
        data["data"] = {"id": self._command_id(gid, name), "name": name, "type": 3, "guild_id": gid,
                        "target_id": target["id"], "resolved": {"messages": {target["id"]: resolved}}}
        await self.dispatch("INTERACTION_CREATE", data, guild_id=gid)
        return data["id"]

    async def slash(self: FakeDiscord, moderator: dict[str, Any], channel: dict[str, Any], name: str,
                    *, locale: str = "en-US", **options: str) -> str:
        """A moderator runs ``/name option:value`` in ``channel`` (chat input command, type 1)."""
        data = self._interaction("interaction_command", moderator, channel)
        data["locale"] = locale
        gid = channel["guild_id"]
        data["data"] = {"id": self._command_id(gid, name), "name": name, "type": 1, "guild_id": gid,
                        "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()]}
        await self.dispatch("INTERACTION_CREATE", data, guild_id=gid)
        return data["id"]
