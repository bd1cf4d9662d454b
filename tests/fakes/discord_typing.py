"""Typing on the fake Discord, both ways, as the API documentation defines it.

- ``POST /channels/{id}/typing`` (Trigger Typing Indicator): 204, and the bot shows typing there for ~10 s
  (or until it sends a message). 404 code 10003 for an unknown channel; in a DM with a user who accepts no
  DMs from the bot, 403 code 50007. ``fail_next_typing(status)`` answers the next call with a fault (a 429 is
  the route's bucket with ``retry_after``). Each accepted call is kept in ``typing_calls``.
- ``user_types(user, channel)``: the user starts typing; TYPING_START (channel_id, guild_id, user_id, a Unix
  ``timestamp`` in seconds and, in a server, the ``member``) reaches only a session that identified with
  GUILD_MESSAGE_TYPING (1 << 11) for a server channel, DIRECT_MESSAGE_TYPING (1 << 14) for a DM.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.discord_world import DM

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

API = "/api/v10"
GUILD_MESSAGE_TYPING, DIRECT_MESSAGE_TYPING = 1 << 11, 1 << 14


class Typing:
    """Mixed into FakeDiscord."""

    def _init_typing(self: FakeDiscord) -> None:
        self.typing_calls: list[tuple[int, float]] = []  # (channel id, monotonic time) of each accepted call
        self.typing_starts: list[int] = []  # channel ids of TYPING_START dispatches that reached the bot
        self._typing_faults: list[tuple[int, float]] = []

    def add_typing_routes(self: FakeDiscord, r: web.UrlDispatcher) -> None:
        r.add_post(API + "/channels/{cid}/typing", self._trigger_typing)

    def fail_next_typing(self: FakeDiscord, status: int, *, retry_after: float = 1.0) -> None:
        self._typing_faults.append((status, retry_after))

    def typing_in(self: FakeDiscord, channel_id: int | str) -> list[float]:
        """When the bot started typing in the channel (monotonic times)."""
        return [at for cid, at in self.typing_calls if cid == int(channel_id)]

    async def _trigger_typing(self: FakeDiscord, request: web.Request) -> web.Response:
        from tests.fakes.discord_api import error

        cid = int(request.match_info["cid"])
        channel = self.channels.get(cid)
        if channel is None:
            return error(404, "Unknown Channel", 10003)
        if self._typing_faults:
            status, retry_after = self._typing_faults.pop(0)
            if status == 429:
                return self.refuse_send(retry_after, "user")
            return error(status, f"{status}: Internal Server Error" if status >= 500 else "Missing Access",
                         0 if status >= 500 else 50001)
        if channel["type"] == DM and int(channel["recipients"][0]["id"]) in self.closed_dms:
            return error(403, "Cannot send messages to this user", 50007)
        headers, over = self._rate_headers(f"typing-{cid}")
        if over:
            return self.too_many(float(headers["X-RateLimit-Reset-After"]), headers)
        self.typing_calls.append((cid, time.monotonic()))
        return web.Response(status=204, headers=headers)

    async def user_types(self: FakeDiscord, user: dict[str, Any], channel: dict[str, Any]) -> int:
        """TYPING_START for ``user`` in ``channel``; 0 when no session asked for the typing intent it needs."""
        guild_id = channel.get("guild_id")
        data: dict[str, Any] = {"channel_id": str(channel["id"]), "user_id": str(user["id"]),
                                "timestamp": int(time.time())}
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
            data["member"] = self.member(guild_id, user["id"], with_user=True)
        try:
            session = self.session_for(self.shard_of(guild_id))
        except LookupError:
            return 0
        if not session.intents & (GUILD_MESSAGE_TYPING if guild_id is not None else DIRECT_MESSAGE_TYPING):
            return 0
        self.typing_starts.append(int(channel["id"]))
        return await self.dispatch("TYPING_START", data, guild_id=guild_id)
