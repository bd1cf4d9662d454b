"""Agents, passwords, sessions and API tokens: secrets are stored only as hashes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import accounts
from core.errors import Conflict
from core.models import utcnow
from core.store.tables import Agent, ApiToken, WebSession


async def test_agents_sign_in_with_their_password_only(any_store) -> None:
    agent_id = await accounts.create_agent(any_store, "alice", "s3cret-pass", role="admin", display_name="Alice")
    assert await accounts.verify_password(any_store, "alice", "s3cret-pass") == agent_id
    assert await accounts.verify_password(any_store, " alice ", "s3cret-pass") == agent_id
    assert await accounts.verify_password(any_store, "alice", "S3cret-pass") is None
    assert await accounts.verify_password(any_store, "nobody", "s3cret-pass") is None
    stored = await any_store.scalar(select(Agent.password_hash).where(Agent.id == agent_id))
    assert stored.startswith("$argon2id$") and "s3cret-pass" not in stored
    assert await accounts.agent_count(any_store) == 1


async def test_inactive_agents_cannot_sign_in(store) -> None:
    agent_id = await accounts.create_agent(store, "bob", "password-1")
    async with store.transaction() as session:
        await session.execute(update(Agent).where(Agent.id == agent_id).values(active=False))
    assert await accounts.verify_password(store, "bob", "password-1") is None


@pytest.mark.parametrize(("name", "password", "role"), [
    ("", "password-1", "agent"), ("x" * 65, "password-1", "agent"), ("carl", "short", "agent"),
    ("carl", "password-1", "root")])
async def test_bad_agents_are_refused(store, name, password, role) -> None:
    with pytest.raises(Conflict):
        await accounts.create_agent(store, name, password, role=role)
    assert await accounts.agent_count(store) == 0


async def test_names_are_unique(store) -> None:
    await accounts.create_agent(store, "dana", "password-1")
    with pytest.raises(Conflict, match="already exists"):
        await accounts.create_agent(store, "dana", "password-2")


async def test_api_tokens_are_shown_once_and_stored_hashed(any_store) -> None:
    agent_id = await accounts.create_agent(any_store, "erin", "password-1")
    token = await accounts.create_api_token(any_store, "ci", agent_id=agent_id)
    rows = await any_store.all(select(ApiToken))
    assert len(rows) == 1 and token not in rows[0].token_hash and rows[0].token_hash == accounts.token_hash(token)
    valid, agent = await accounts.api_token_agent(any_store, token)
    assert valid and agent is not None and agent.id == agent_id
    assert await accounts.api_token_agent(any_store, token + "x") == (False, None)
    async with any_store.transaction() as session:
        await session.execute(update(ApiToken).values(revoked_at=utcnow()))
    assert await accounts.api_token_agent(any_store, token) == (False, None)


async def test_a_token_without_agent_acts_as_the_api(store) -> None:
    token = await accounts.create_api_token(store, "integration")
    assert await accounts.api_token_agent(store, token) == (True, None)


async def test_sessions_expire_and_end(store) -> None:
    agent_id = await accounts.create_agent(store, "fay", "password-1")
    token = await accounts.create_session(store, agent_id)
    assert (await accounts.session_agent(store, token)).id == agent_id
    assert token not in [row.token_hash for row in await store.all(select(WebSession))]
    await accounts.end_session(store, token)
    assert await accounts.session_agent(store, token) is None
    old = await accounts.create_session(store, agent_id)
    async with store.transaction() as session:
        await session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await accounts.session_agent(store, old) is None


async def test_csrf_token_depends_on_the_session(store) -> None:
    assert accounts.csrf_token("a") != accounts.csrf_token("b")
    assert accounts.csrf_token("a") == accounts.csrf_token("a")


async def test_revoked_tokens_and_disabled_agents_lose_access(store) -> None:  # type: ignore[no-untyped-def]
    token = await accounts.create_api_token(store, "crm-sync")
    assert (await accounts.api_token_agent(store, token))[0]
    assert await accounts.revoke_api_tokens(store, "crm-sync") == 1
    assert not (await accounts.api_token_agent(store, token))[0]
    await accounts.create_agent(store, "mallory", "a-long-password-1")
    cookie = await accounts.create_session(store, await accounts.verify_password(store, "mallory", "a-long-password-1"))
    assert await accounts.set_agent_active(store, "mallory", False)
    assert await accounts.verify_password(store, "mallory", "a-long-password-1") is None
    assert await accounts.session_agent(store, cookie) is None
    assert not await accounts.set_agent_active(store, "nobody", False)
