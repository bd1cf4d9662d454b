"""The client's address behind a reverse proxy: X-Forwarded-* believed only from configured proxies.

``request.remote`` feeds the sign-in throttle and the website chat's per-address limits. Behind a
proxy every request comes from the proxy's address, so the proxy's X-Forwarded-For must be used;
but from anyone else that header is a lie anyone can tell. aiohttp-remotes' ``XForwardedFiltered``
walks X-Forwarded-For from the right past trusted addresses to the first one that is not (and takes
X-Forwarded-Proto and -Host from the same hop); here it runs only when the direct peer is one of
``web.trusted_proxies``. Any other request keeps its own peer address and headers are ignored.

A trusted proxy or load balancer that ends TLS may send X-Forwarded-Proto (and -Host) without
X-Forwarded-For; ``XForwardedFiltered`` would then ignore them all, and the inbox would think it is
served over plain HTTP (no Secure session cookie). Those are taken from the direct peer's hop here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from ipaddress import ip_address

from aiohttp import hdrs, web
from aiohttp_remotes import XForwardedFiltered
from aiohttp_remotes.exceptions import RemoteError, UntrustedIP
from aiohttp_remotes.utils import check_ip

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TrustedProxies(XForwardedFiltered):
    def __init__(self, trusted: Iterable[str]) -> None:
        super().__init__(set(trusted))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        try:
            check_ip(self._trusted, ip_address(peer[0] if isinstance(peer, tuple | list) else ""))
        except (UntrustedIP, ValueError):  # not from our proxy: its forwarding headers mean nothing
            return await handler(request)
        if request.headers.getall(hdrs.X_FORWARDED_FOR, []):
            return await super().middleware(request, handler)
        return await handler(self._from_peer(request))

    def _from_peer(self, request: web.Request) -> web.Request:
        """Scheme and host as our proxy says (the right-most entry: its own hop), the address unchanged."""
        try:
            proto, host = self.get_forwarded_proto(request.headers), self.get_forwarded_host(request.headers)
        except RemoteError as exc:  # two headers of one kind: as XForwardedFiltered answers, 400
            exc.log(request)
            raise web.HTTPBadRequest() from exc
        overrides: dict[str, str] = {}
        if proto:
            overrides["scheme"] = proto[-1]
        if host:
            overrides["host"] = host[-1]
        return request.clone(**overrides)  # type: ignore[arg-type]


def proxies_middleware(trusted: Iterable[str]) -> Callable[..., Awaitable[web.StreamResponse]] | None:
    """The middleware for ``web.trusted_proxies`` (None when there are none: headers are never believed)."""
    trusted = list(trusted)
    return TrustedProxies(trusted).middleware if trusted else None
