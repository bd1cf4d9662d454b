"""The fake Discord gateway: HELLO, heartbeats, IDENTIFY/READY, RESUME/RESUMED and dispatches.

Sessions keep a log of every dispatch, so a RESUME replays what the client missed (and, to model
at-least-once delivery, ``replay_on_resume`` frames it had already seen). Shards get the guilds
Discord's formula assigns them: (guild_id >> 22) % shard_count; DMs go to shard 0.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_world import payload

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

MESSAGE_CONTENT = 1 << 15


@dataclass
class Session:
    """One gateway session (one shard). ``log`` keeps every dispatch for RESUME replays."""

    id: str
    shard: tuple[int, int]
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None


class Gateway:
    """Mixed into FakeDiscord."""

    def shard_of(self: FakeDiscord, guild_id: int | str | None) -> int:
        return 0 if guild_id is None else (int(guild_id) >> 22) % self.shard_count

    def session_for(self: FakeDiscord, shard: int) -> Session:
        for session in self.sessions.values():
            if session.shard[0] == shard:
                return session
        raise LookupError(f"no session for shard {shard}")

    async def dispatch(self: FakeDiscord, event: str, data: dict[str, Any], *,
                       guild_id: int | str | None = None) -> int:
        """Queue a dispatch on the shard that owns ``guild_id``; sent now if connected, else on RESUME."""
        session = self.session_for(self.shard_of(guild_id))
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)
        if session.ws is not None and not session.ws.closed:
            await session.ws.send_str(json.dumps(frame))
        return session.seq

    async def drop(self: FakeDiscord, *, shard: int = 0, code: int = 4000) -> None:
        """Close the shard's socket the way Discord does on a server-side error (resumable code)."""
        session = self.session_for(shard)
        ws, session.ws = session.ws, None
        if ws is not None:
            await ws.close(code=code, message=b"Unknown error")

    def frame_of(self: FakeDiscord, event: str, object_id: str) -> dict[str, Any]:
        """The dispatch frame that carried ``object_id`` (for replaying it exactly)."""
        for session in self.sessions.values():
            for frame in session.log:
                if frame["t"] == event and frame["d"].get("id") == object_id:
                    return frame
        raise LookupError(f"{event} {object_id} was never dispatched")

    def connected(self: FakeDiscord, shard: int = 0) -> bool:
        try:
            ws = self.session_for(shard).ws
        except LookupError:
            return False
        return ws is not None and not ws.closed

    # -- gateway -------------------------------------------------------------------------------
    async def _gateway(self: FakeDiscord, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "s": None, "t": None,
                                      "d": {"heartbeat_interval": 41250, "_trace": ["fake-gateway"]}}))
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            op, data = frame.get("op"), frame.get("d")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11, "s": None, "t": None, "d": None}))
            elif op == 2:
                if data.get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                if data.get("intents", 0) & MESSAGE_CONTENT and not self.message_content_enabled:
                    await ws.close(code=4014, message=b"Disallowed intent(s).")
                    break
                await self._identify(ws, data)
            elif op == 6:
                await self._resume(ws, data)
        return ws

    async def _identify(self: FakeDiscord, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        shard = tuple(data.get("shard") or (0, 1))
        for old in [s for s in self.sessions.values() if s.shard[0] == shard[0]]:
            del self.sessions[old.id]
        session = Session(id=uuid.uuid4().hex, shard=(shard[0], shard[1]), ws=ws)
        self.sessions[session.id] = session
        mine = [g for gid, g in self.guilds.items() if self.shard_of(gid) == shard[0]]
        ready = payload("ready")
        ready.update(user=self.bot, session_id=session.id, shard=list(shard),
                     resume_gateway_url=f"ws://{self.base}/gateway-resume",
                     guilds=[{"id": g["id"], "unavailable": True} for g in mine],
                     application={"id": self.app_id, "flags": 0})
        await self.dispatch_to(session, "READY", ready)
        for guild in mine:
            await self.dispatch_to(session, "GUILD_CREATE", guild)

    async def dispatch_to(self: FakeDiscord, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)
        if session.ws is not None:
            await session.ws.send_str(json.dumps(frame))

    async def _resume(self: FakeDiscord, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.resumes.append(data)
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or data.get("token") != self.token:
            await ws.send_str(json.dumps({"op": 9, "s": None, "t": None, "d": False}))
            return
        session.ws = ws
        seen = data.get("seq") or 0
        replay, self.replay_on_resume = self.replay_on_resume, []
        replay += [f for f in session.log if f["s"] > seen and f["t"] != "READY"]
        for frame in replay:
            await ws.send_str(json.dumps(frame))
        session.seq += 1
        resumed = {"op": 0, "t": "RESUMED", "s": session.seq, "d": {"_trace": ["fake-gateway"]}}
        session.log.append(resumed)
        await ws.send_str(json.dumps(resumed))
