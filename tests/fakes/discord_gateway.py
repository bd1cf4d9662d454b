"""The fake Discord gateway: HELLO, heartbeats, IDENTIFY/READY, RESUME/RESUMED and dispatches.

Sessions keep a log of every dispatch, so a RESUME replays what the client missed (and, to model
at-least-once delivery, ``replay_on_resume`` frames it had already seen). Shards get the guilds
Discord's formula assigns them: (guild_id >> 22) % shard_count; DMs go to shard 0.

Faults, as the Gateway documentation describes them: ``drop`` closes a socket with a code (4000:
resumable; 4004 and 4010-4014: fatal); ``invalidate`` sends op 9 ``d: false`` (the session cannot be
resumed, and what it missed is never replayed: only channel history has it); ``refuse_for`` makes
the gateway answer 503 to every connection for a while, after which discord.py identifies afresh
(a new session, again without replay). An event for a shard with no session is not delivered.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_world import payload

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

MESSAGE_CONTENT = 1 << 15
GUILD_MEMBERS = 1 << 1
NEEDS_INTENT = {"GUILD_MEMBER_ADD": GUILD_MEMBERS, "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
                "GUILD_MEMBER_REMOVE": GUILD_MEMBERS}


@dataclass
class Session:
    """One gateway session (one shard). ``log`` keeps every dispatch for RESUME replays."""

    id: str
    shard: tuple[int, int]
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    intents: int = 0


async def _send(session: Session, frame: dict[str, Any]) -> None:
    """To the connected client, if any: a socket the client just dropped keeps it for a RESUME."""
    ws = session.ws
    if ws is not None and not ws.closed:
        with contextlib.suppress(ConnectionError):  # aiohttp's ClientConnectionResetError is one
            await ws.send_str(json.dumps(frame))


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
        """Queue a dispatch on the shard that owns ``guild_id``; sent now if connected, else on RESUME.
        Without a session (never identified, or invalidated) nobody receives it: 0."""
        try:
            session = self.session_for(self.shard_of(guild_id))
        except LookupError:
            self.undelivered.append({"t": event, "d": data})
            return 0
        if event in NEEDS_INTENT and not session.intents & NEEDS_INTENT[event]:
            return 0  # Discord sends these only to a session that asked for the intent
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)
        await _send(session, frame)
        return session.seq

    async def dispatch_text(self: FakeDiscord, event: str, data_text: str, *,
                            guild_id: int | str | None = None) -> int:
        """A dispatch whose ``d`` is written out as JSON text (anything at all, even JSON nested deeper than
        Python's json can write). Not kept for RESUME replays."""
        session = self.session_for(self.shard_of(guild_id))
        session.seq += 1
        ws = session.ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(ConnectionError):
                await ws.send_str(f'{{"op": 0, "t": {json.dumps(event)}, "s": {session.seq}, "d": {data_text}}}')
        return session.seq

    async def drop(self: FakeDiscord, *, shard: int = 0, code: int = 4000) -> None:
        """Close the shard's socket the way Discord does on a server-side error (resumable code)."""
        session = self.session_for(shard)
        ws, session.ws = session.ws, None
        if ws is not None:
            await ws.close(code=code, message=b"Unknown error")

    async def invalidate(self: FakeDiscord, *, shard: int = 0) -> None:
        """Op 9 with ``d: false``: the session is gone; events until the next IDENTIFY are lost."""
        session = self.session_for(shard)
        del self.sessions[session.id]
        ws, session.ws = session.ws, None
        if ws is not None and not ws.closed:
            await ws.send_str(json.dumps({"op": 9, "s": None, "t": None, "d": False}))

    async def refuse_for(self: FakeDiscord, seconds: float, *, code: int = 1001) -> None:
        """Every gateway connection is refused (HTTP 503) for ``seconds``; open sockets are closed
        with ``code`` (1001: going away, which a client may resume)."""
        self.refuse_until = time.monotonic() + seconds
        for session in self.sessions.values():
            ws, session.ws = session.ws, None
            if ws is not None and not ws.closed:
                await ws.close(code=code, message=b"Going away")

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
    async def _gateway(self: FakeDiscord, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self.refuse_until:
            self.refused += 1
            return web.Response(status=503, text="upstream connect error")
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
                wanted = data.get("intents", 0)
                if ((wanted & MESSAGE_CONTENT and not self.message_content_enabled)
                        or (wanted & GUILD_MEMBERS and not self.members_intent_enabled)):
                    await ws.close(code=4014, message=b"Disallowed intent(s).")
                    break
                await self._identify(ws, data)
            elif op == 6:
                await self._resume(ws, data)
        return ws

    async def _identify(self: FakeDiscord, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        await self.hold_ready.wait()  # a test may keep the bot away a little longer
        self.identifies.append(data)
        shard = tuple(data.get("shard") or (0, 1))
        for old in [s for s in self.sessions.values() if s.shard[0] == shard[0]]:
            del self.sessions[old.id]
        session = Session(id=uuid.uuid4().hex, shard=(shard[0], shard[1]), ws=ws, intents=data.get("intents", 0))
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
        await _send(session, frame)

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
