"""Behind the proxy of docker-compose.yml: the client's address comes from X-Forwarded-For, but only when the
request comes from a configured proxy (``web.trusted_proxies``); anyone else's header is ignored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core import accounts
from core.config import Settings
from core.web.app import create_app
from core.web.auth import THROTTLE, LoginThrottle
from core.web.proxies import TrustedProxies
from tests.web.inbox_helpers import PASSWORD, web_context

Client = Callable[..., Awaitable[TestClient]]


async def _seen(aiohttp_client: Client, trusted: list[str]) -> TestClient:
    async def remote(request: web.Request) -> web.Response:
        return web.json_response({"remote": request.remote, "scheme": request.scheme})

    app = web.Application(middlewares=[TrustedProxies(trusted).middleware])
    app.router.add_get("/", remote)
    return await aiohttp_client(app)


@pytest.mark.parametrize(("trusted", "forwarded", "remote", "scheme"), [
    (["127.0.0.1"], "203.0.113.5", "203.0.113.5", "https"),  # from our proxy: the client it names
    (["127.0.0.0/8"], "198.51.100.7, 127.0.0.2", "198.51.100.7", "https"),  # past every trusted hop
    (["10.0.0.1"], "203.0.113.5", "127.0.0.1", "http"),  # not from our proxy: the header is anyone's lie
    # a load balancer that ends TLS and names no client: still https, the address stays its own
    (["127.0.0.1"], None, "127.0.0.1", "https"),
    (["10.0.0.1"], None, "127.0.0.1", "http"),  # and from anyone else still nothing is believed
])
async def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(aiohttp_client: Client, trusted: list[str],
                                                                        forwarded: str | None, remote: str,
                                                                        scheme: str) -> None:
    client = await _seen(aiohttp_client, trusted)
    headers = {"X-Forwarded-Proto": "https", **({"X-Forwarded-For": forwarded} if forwarded else {})}
    body = await (await client.get("/", headers=headers)).json()
    assert (body["remote"], body["scheme"]) == (remote, scheme)


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert Settings.model_validate({"web": {"trusted_proxies": "172.30.0.10, 10.0.0.0/8"}}).web.trusted_proxies == [
        "172.30.0.10/32", "10.0.0.0/8"]
    with pytest.raises(ValueError, match="not an IP address or network"):
        Settings.model_validate({"web": {"trusted_proxies": ["proxy.local"]}})


@pytest.mark.parametrize("behind_proxy", [True, False])
async def test_the_sign_in_throttle_counts_the_client_behind_the_proxy(aiohttp_client: Client, store, engine, inbox,
                                                                       bus, kb: Any, behind_proxy: bool) -> None:
    settings = Settings.model_validate({"web": {"trusted_proxies": ["127.0.0.1"] if behind_proxy else []}})
    app = create_app(web_context(store, engine, inbox, bus, kb, settings))
    app[THROTTLE] = LoginThrottle(lock_after=2)
    client = await aiohttp_client(app)
    await accounts.create_agent(store, "alice", PASSWORD)

    async def sign_in(password: str, address: str) -> int:
        response = await client.post("/login", data={"name": "alice", "password": password, "next": "/"},
                                     headers={"X-Forwarded-For": address}, allow_redirects=False)
        return response.status

    assert [await sign_in("wrong guess", "203.0.113.5") for _ in range(2)] == [401, 401]
    assert await sign_in(PASSWORD, "203.0.113.5") == 429  # the guesser's address is locked
    # Alice, elsewhere behind the same proxy, signs in; without trusted proxies everyone is the proxy's address
    assert await sign_in(PASSWORD, "198.51.100.9") == (303 if behind_proxy else 429)
