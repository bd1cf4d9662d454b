"""Agents, their passwords (argon2), web sessions and API tokens.

Secrets are shown once and stored only as hashes: passwords with argon2 (slow on purpose),
session cookies and API tokens with SHA-256 (they are 256-bit random, so a fast hash is enough
and lets a request find its row by an indexed lookup).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict
from core.models import utcnow
from core.store import Store
from core.store.tables import Agent, ApiToken, WebSession

ROLES = ("agent", "admin")
SESSION_DAYS = 14
SEEN_EVERY = timedelta(seconds=60)  # how often a signed-in agent's seen_at is refreshed (online for auto-assign)

_hasher = PasswordHasher()
# Verifying against this keeps an unknown name as slow as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """What a request knows about the signed-in agent (no ORM object leaks out of a session)."""

    id: int
    name: str
    display_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def label(self) -> str:
        return self.display_name or self.name


def _info(agent: Agent) -> AgentInfo:
    return AgentInfo(agent.id, agent.name, agent.display_name, agent.role)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """Derived from the session secret, so it needs no storage and dies with the session."""
    return hmac.new(session_token.encode(), b"csrf", hashlib.sha256).hexdigest()


NAME_MAX = 64


def sign_in_name(typed: str) -> str:
    """The one form of a typed name that both the lookup and the sign-in throttle use. A longer one is cut just
    past NAME_MAX, so it matches no agent: were it cut to NAME_MAX after the strip, "dave" + 60 spaces + "x" would
    sign in as dave under a throttle key of its own, each padding a fresh one (an outside probe did just that)."""
    return typed.strip()[:NAME_MAX + 1]


async def create_agent(store: Store, name: str, password: str, *, role: str = "agent",
                       display_name: str = "") -> int:
    """A new agent; the name is the sign-in name. Raises Conflict for a taken name or a bad role."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise Conflict("an agent name needs 1 to 64 characters")
    if role not in ROLES:
        raise Conflict(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise Conflict("a password needs at least 8 characters")
    hashed = await asyncio.to_thread(_hasher.hash, password)  # ~50 ms of CPU: keep the event loop free
    agent = Agent(name=name, display_name=display_name.strip()[:128], password_hash=hashed,
                  role=role, active=True, created_at=utcnow())
    try:
        async with store.transaction() as session:
            session.add(agent)
            await session.flush()
            return agent.id
    except IntegrityError:
        raise Conflict(f"an agent named {name!r} already exists") from None


async def verify_password(store: Store, name: str, password: str) -> int | None:
    """The agent's id when name and password match an active agent, else None."""
    async with store.sessions() as session:
        agent = await session.scalar(select(Agent).where(Agent.name == sign_in_name(name)))
    stored = agent.password_hash if agent is not None and agent.active and agent.password_hash else None
    try:
        await asyncio.to_thread(_hasher.verify, stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if stored is None or agent is None:
        return None
    if _hasher.check_needs_rehash(stored):
        async with store.transaction() as session:
            await session.execute(update(Agent).where(Agent.id == agent.id)
                                  .values(password_hash=await asyncio.to_thread(_hasher.hash, password)))
    return agent.id


async def agent_count(store: Store) -> int:
    return int(await store.scalar(select(func.count()).select_from(Agent)) or 0)


async def list_agents(store: Store) -> list[Agent]:
    return await store.all(select(Agent).order_by(Agent.name))


async def get_agent(store: Store, agent_id: int) -> AgentInfo | None:
    async with store.sessions() as session:
        agent = await session.get(Agent, agent_id)
        return _info(agent) if agent is not None and agent.active else None


async def create_api_token(store: Store, name: str, *, agent_id: int | None = None) -> str:
    """A new bearer token for the REST API, returned once; only its hash is kept."""
    token = "sbt_" + secrets.token_urlsafe(32)
    async with store.transaction() as session:
        session.add(ApiToken(name=name[:128], token_hash=token_hash(token), agent_id=agent_id, created_at=utcnow()))
    return token


async def revoke_api_tokens(store: Store, name: str) -> int:
    """Revoke every live token with this name; returns how many. Revoked tokens answer 401 at once."""
    async with store.transaction() as session:
        result = await session.execute(update(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
                                       .values(revoked_at=utcnow()))
    return result.rowcount or 0


async def reset_password(store: Store, name: str, password: str) -> bool:
    """A new password for an agent; every session of theirs ends (whoever held one must sign in again)."""
    if len(password) < 8:
        raise Conflict("a password needs at least 8 characters")
    hashed = await asyncio.to_thread(_hasher.hash, password)
    async with store.transaction() as session:
        result = await session.execute(update(Agent).where(Agent.name == name).values(password_hash=hashed))
        agent_ids = select(Agent.id).where(Agent.name == name)
        await session.execute(delete(WebSession).where(WebSession.agent_id.in_(agent_ids)))
    return bool(result.rowcount)


async def set_agent_active(store: Store, name: str, active: bool) -> bool:
    """Disable (or re-enable) an agent: a disabled agent cannot sign in and its sessions stop working."""
    async with store.transaction() as session:
        result = await session.execute(update(Agent).where(Agent.name == name).values(active=active))
        if not active:
            agent_ids = select(Agent.id).where(Agent.name == name)
            await session.execute(delete(WebSession).where(WebSession.agent_id.in_(agent_ids)))
    return bool(result.rowcount)


async def api_token_agent(store: Store, token: str) -> tuple[bool, AgentInfo | None]:
    """(valid, acting agent). A token without an agent acts as the API itself (no agent id on changes)."""
    async with store.transaction() as session:
        row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None:
            return False, None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > SEEN_EVERY:
            row.last_used_at = now
        if row.agent_id is None:
            return True, None
        agent = await session.get(Agent, row.agent_id)
        if agent is None or not agent.active:
            return False, None
        return True, _info(agent)


async def create_session(store: Store, agent_id: int) -> str:
    """A new sign-in; the returned secret goes into the cookie, its hash into web_sessions."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with store.transaction() as session:
        await session.execute(delete(WebSession).where(WebSession.expires_at < now))
        session.add(WebSession(token_hash=token_hash(token), agent_id=agent_id, created_at=now,
                               expires_at=now + timedelta(days=SESSION_DAYS)))
        await session.execute(update(Agent).where(Agent.id == agent_id).values(seen_at=now))
    return token


async def session_agent(store: Store, token: str) -> AgentInfo | None:
    """The agent signed in with this cookie secret, refreshing ``seen_at`` now and then."""
    async with store.sessions() as session:
        row = await session.execute(
            select(WebSession, Agent).join(Agent, Agent.id == WebSession.agent_id)
            .where(WebSession.token_hash == token_hash(token)))
        found = row.first()
    if found is None:
        return None
    web_session, agent = found
    now = utcnow()
    if web_session.expires_at < now or not agent.active:
        return None
    if agent.seen_at is None or now - agent.seen_at > SEEN_EVERY:
        await mark_seen(store, agent.id)
    return _info(agent)


async def mark_seen(store: Store, agent_id: int) -> None:
    """The agent is here (a request, or a live inbox still open): online for auto-assignment."""
    async with store.transaction() as session:
        await session.execute(update(Agent).where(Agent.id == agent_id).values(seen_at=utcnow()))


async def end_session(store: Store, token: str) -> None:
    async with store.transaction() as session:
        await session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
