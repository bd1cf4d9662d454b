"""The fake Discord's moderation endpoints and member joins, as the API documentation defines them.

- ``DELETE /channels/{c}/messages/{m}``: the bot's own message always; someone else's needs Manage
  Messages (or Administrator) in that server, else 403 code 50013; never in a DM (403 code 50003).
  An unknown message is 404 code 10008. A deletion is dispatched as MESSAGE_DELETE, as Discord does.
- ``PUT /guilds/{g}/bans/{u}`` (``delete_message_seconds``): needs Ban Members (or Administrator) and a
  bot role above the member's highest role; the owner cannot be banned (403 code 50013). Banning again
  is a 204 too. The member leaves the server.
- ``DELETE /guilds/{g}/members/{u}``: a kick, Kick Members, the same hierarchy.
- Every action request's ``X-Audit-Log-Reason`` is kept (URL-encoded by the client, as Discord wants).
- GUILD_MEMBER_ADD reaches only sessions that identified with the GUILD_MEMBERS intent (privileged: a
  bot asking for it without the Developer Portal switch is closed with 4014).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from tests.fakes.discord_world import DM, iso_now

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

API = "/api/v10"
KICK_MEMBERS, BAN_MEMBERS, ADMINISTRATOR, MANAGE_MESSAGES = 1 << 1, 1 << 2, 1 << 3, 1 << 13
GUILD_MEMBERS = 1 << 1


def _error(status: int, message: str, code: int) -> web.Response:
    from tests.fakes.discord_api import error

    return error(status, message, code)


class Moderation:
    """Mixed into FakeDiscord."""

    def _init_moderation(self: FakeDiscord) -> None:
        self.members_intent_enabled = True  # the Server Members switch in the Developer Portal
        self.bans: dict[int, set[int]] = {}  # guild id -> banned user ids
        self.kicked: list[tuple[int, int]] = []
        self.deleted: list[int] = []  # ids of messages the bot deleted
        self.audit_reasons: list[tuple[str, str, str | None]] = []  # (method, path, reason)
        self.ban_queries: list[dict[str, str]] = []

    def add_moderation_routes(self: FakeDiscord, r: web.UrlDispatcher) -> None:
        r.add_delete(API + "/channels/{cid}/messages/{mid}", self._delete_message)
        r.add_put(API + "/guilds/{gid}/bans/{uid}", self._ban)
        r.add_delete(API + "/guilds/{gid}/members/{uid}", self._kick)

    # -- permissions -------------------------------------------------------------------------------
    def grant_bot(self: FakeDiscord, guild_id: int | str, permissions: int, *, name: str = "Supportbot") -> dict:
        """Give the bot a role with ``permissions``, above every other role of the server."""
        guild = self.guilds[int(guild_id)]
        role = {"id": str(self.snowflake()), "name": name, "color": 0, "hoist": False, "icon": None,
                "unicode_emoji": None, "position": max(int(r["position"]) for r in guild["roles"]) + 1,
                "permissions": str(permissions), "managed": False, "mentionable": False, "flags": 0}
        guild["roles"].append(role)
        self.member_roles.setdefault((int(guild_id), int(self.bot["id"])), []).append(int(role["id"]))
        return role

    def _allowed(self: FakeDiscord, guild_id: int, bit: int) -> bool:
        bits = self.permissions(guild_id, int(self.bot["id"]))
        return bool(bits & (bit | ADMINISTRATOR))

    def _top(self: FakeDiscord, guild_id: int, user_id: int) -> int:
        ids = set(self.member_roles.get((guild_id, user_id), []))
        return max((int(r["position"]) for r in self.guilds[guild_id]["roles"] if int(r["id"]) in ids), default=0)

    def _may_act_on(self: FakeDiscord, guild_id: int, user_id: int, bit: int) -> bool:
        guild = self.guilds[guild_id]
        if not self._allowed(guild_id, bit) or str(user_id) == guild["owner_id"]:
            return False
        if (guild_id, user_id) not in self.member_roles:
            return True  # not a member: a ban by id needs no hierarchy
        return self._top(guild_id, int(self.bot["id"])) > self._top(guild_id, user_id)

    def _note_reason(self: FakeDiscord, request: web.Request) -> None:
        reason = request.headers.get("X-Audit-Log-Reason")
        self.audit_reasons.append((request.method, request.path, unquote(reason) if reason else None))

    # -- endpoints ---------------------------------------------------------------------------------
    async def _delete_message(self: FakeDiscord, request: web.Request) -> web.Response:
        self._note_reason(request)
        cid, mid = int(request.match_info["cid"]), int(request.match_info["mid"])
        channel = self.channels.get(cid)
        if channel is None:
            return _error(404, "Unknown Channel", 10003)
        msg = self.messages.get(mid)
        if msg is None or msg["channel_id"] != str(cid):
            return _error(404, "Unknown Message", 10008)
        if msg["author"]["id"] != self.bot["id"]:
            if channel["type"] == DM:
                return _error(403, "Cannot execute action on a DM channel", 50003)
            if not self._allowed(int(channel["guild_id"]), MANAGE_MESSAGES):
                return _error(403, "Missing Permissions", 50013)
        self.deleted.append(mid)
        await self.delete_message(msg)
        return web.Response(status=204)

    async def _ban(self: FakeDiscord, request: web.Request) -> web.Response:
        self._note_reason(request)
        self.ban_queries.append(dict(request.query))
        gid, uid = int(request.match_info["gid"]), int(request.match_info["uid"])
        if gid not in self.guilds:
            return _error(404, "Unknown Guild", 10004)
        if uid not in self.users:
            return _error(404, "Unknown User", 10013)
        if not self._may_act_on(gid, uid, BAN_MEMBERS):
            return _error(403, "Missing Permissions", 50013)
        self.bans.setdefault(gid, set()).add(uid)
        self.member_roles.pop((gid, uid), None)
        return web.Response(status=204)

    async def _kick(self: FakeDiscord, request: web.Request) -> web.Response:
        self._note_reason(request)
        gid, uid = int(request.match_info["gid"]), int(request.match_info["uid"])
        if gid not in self.guilds:
            return _error(404, "Unknown Guild", 10004)
        if (gid, uid) not in self.member_roles:
            return _error(404, "Unknown Member", 10007)
        if not self._may_act_on(gid, uid, KICK_MEMBERS):
            return _error(403, "Missing Permissions", 50013)
        self.member_roles.pop((gid, uid), None)
        self.kicked.append((gid, uid))
        return web.Response(status=204)

    # -- joins -------------------------------------------------------------------------------------
    async def member_join(self: FakeDiscord, guild: dict[str, Any], user: dict[str, Any]) -> int:
        """``user`` joins ``guild`` (refused when banned): GUILD_MEMBER_ADD, to sessions with the intent."""
        gid = int(guild["id"])
        if int(user["id"]) in self.bans.get(gid, set()):
            return 0
        self.add_member(gid, user)
        data = {**self.member(gid, user["id"], with_user=True), "guild_id": guild["id"], "joined_at": iso_now()}
        data.pop("permissions", None)
        return await self.dispatch("GUILD_MEMBER_ADD", data, guild_id=gid)
