"""Who is asking: session cookies for pages, bearer tokens for the API, CSRF for forms, sign in and out.

Everything is authenticated except the sign-in page, static files, the health check and the extra
routes the channels register (they check their own signatures). Pages redirect to /login; the
API answers 401 JSON.

Brute force: failed sign-ins are counted per (name, client address) and per address in this
process (a sliding 15-minute window). From the 3rd failure each attempt waits a little longer (up to
2 s); after 10 failures for a name from one address (100 for an address) that key is locked for 15
minutes (429). A name is never locked as a whole, so nobody can lock an agent out from elsewhere;
guesses spread over many addresses are slowed down for that name instead (up to 2 s each).
Per-process memory is a deliberate trade-off: several web processes each allow their own 10,
which still caps guessing at a rate argon2 makes useless; a restart forgets the counters.

Checked sessions are cached for 10 s per process (see SessionCache): sign-out is immediate in the
process that handled it, and at most 10 s late in another one.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
from aiohttp import web

from core import accounts
from core.web.context import CONTEXT

SESSION_COOKIE = "sb_session"
AGENT: web.RequestKey[accounts.AgentInfo | None] = web.RequestKey("agent", accounts.AgentInfo)
CSRF: web.RequestKey[str] = web.RequestKey("csrf", str)
PUBLIC_PATHS: web.AppKey[frozenset[str]] = web.AppKey("public_paths", frozenset)
LOGIN_WINDOW = 15 * 60.0
LOCK_AFTER = 10
ADDRESS_LOCK_AFTER = 100  # one office's agents share an address
SLOW_AFTER = 2
NAME_SLOW_AFTER = 20  # failures for a name from anywhere before every attempt on it is slowed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LoginThrottle:
    """Failed sign-ins per key (name or address) in a sliding window, plus the attempts still being checked.

    Attempts in flight count towards the lock, so parallel guesses cannot slip past it; they do not
    count as failures, so an office of agents signing in at once behind one address is not slowed
    or locked out (an address also gets a higher limit than a name).
    """

    def __init__(self, window: float = LOGIN_WINDOW, lock_after: int = LOCK_AFTER,
                 address_lock_after: int = ADDRESS_LOCK_AFTER) -> None:
        self.window, self.lock_after, self.address_lock_after = window, lock_after, address_lock_after
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._checking: dict[str, int] = defaultdict(int)

    def _recent(self, key: str) -> deque[float]:
        entries = self._failures[key]
        cutoff = time.monotonic() - self.window
        while entries and entries[0] < cutoff:
            entries.popleft()
        return entries

    def failures(self, *keys: str) -> int:
        return max((len(self._recent(k)) for k in keys), default=0)

    def locked(self, *keys: str) -> bool:
        return any(len(self._recent(k)) + self._checking[k] >= self._limit(k) for k in keys)

    def _limit(self, key: str) -> int:
        if key.startswith("name:"):
            return 1 << 30  # counted (for the slow-down), never locked: that would let anyone lock an agent out
        return self.address_lock_after if key.startswith("ip:") else self.lock_after

    @staticmethod
    def keys(name: str, address: str | None) -> tuple[str, str, str]:
        """(name from this address, this address, the name from anywhere)."""
        return f"pair:{name.lower()}|{address}", f"ip:{address}", f"name:{name.lower()}"

    def delay(self, *keys: str) -> float:
        pair = max((len(self._recent(k)) for k in keys if not k.startswith("name:")), default=0)
        anywhere = max((len(self._recent(k)) for k in keys if k.startswith("name:")), default=0)
        count = max(pair - SLOW_AFTER + 1, anywhere - NAME_SLOW_AFTER + 1, 0)
        return min(2.0, 0.25 * count)

    def begin(self, *keys: str) -> None:
        for key in keys:
            self._checking[key] += 1

    def end(self, *keys: str, ok: bool) -> None:
        for key in keys:
            self._checking[key] -= 1
            if self._checking[key] <= 0:
                del self._checking[key]
        if ok:
            self.succeed(*keys)
        else:
            self.fail(*keys)

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._recent(key).append(now)
        if len(self._failures) > 10_000:  # forget the oldest keys rather than grow without bound
            for key in list(self._failures)[:5_000]:
                del self._failures[key]

    def succeed(self, *keys: str) -> None:
        for key in keys:
            if not key.startswith("name:"):  # an attack on the name elsewhere goes on being counted
                self._failures.pop(key, None)


THROTTLE: web.AppKey[LoginThrottle] = web.AppKey("login_throttle", LoginThrottle)
SESSION_CACHE_SECONDS = 10.0


class SessionCache:
    """Recently checked sessions, so a burst of live refreshes does not query web_sessions each time.

    Sign-out drops the entry in this process at once; another web process may accept the old
    cookie for at most ``SESSION_CACHE_SECONDS`` (bounded, and the cookie is gone from the browser).
    """

    def __init__(self, ttl: float = SESSION_CACHE_SECONDS, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[str, tuple[float, accounts.AgentInfo]] = {}

    def get(self, token: str) -> accounts.AgentInfo | None:
        found = self._entries.get(token)
        if found is None or time.monotonic() - found[0] > self.ttl:
            return None
        return found[1]

    def put(self, token: str, agent: accounts.AgentInfo) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[token] = (time.monotonic(), agent)

    def drop(self, token: str) -> None:
        self._entries.pop(token, None)


SESSIONS: web.AppKey[SessionCache] = web.AppKey("session_cache", SessionCache)


def _is_public(request: web.Request) -> bool:
    if request.path.startswith("/static/"):
        return True
    resource = request.match_info.route.resource
    canonical = resource.canonical if resource is not None else None
    public = request.app.get(PUBLIC_PATHS, frozenset())
    return request.path in public or (canonical is not None and canonical in public)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _is_public(request):
        return await handler(request)
    store = request.app[CONTEXT].store
    if request.path.startswith("/api/") or request.path == "/metrics":  # machines: API tokens, never cookies
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorised("missing bearer token")
        valid, agent = await accounts.api_token_agent(store, token.strip())
        if not valid:
            raise _unauthorised("invalid or revoked token")
        request[AGENT] = agent
        return await handler(request)
    token = request.cookies.get(SESSION_COOKIE)
    cache = request.app[SESSIONS]
    agent = cache.get(token) if token else None
    if agent is None and token:
        agent = await accounts.session_agent(store, token)
        if agent is not None:
            cache.put(token, agent)
    if agent is None:
        if request.method == "GET":
            target = request.path_qs if request.path != "/" else "/"
            raise web.HTTPSeeOther("/login?next=" + quote(target, safe=""))
        raise web.HTTPUnauthorized(text="sign in first")
    request[AGENT] = agent
    request[CSRF] = accounts.csrf_token(token)  # type: ignore[arg-type]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await check_csrf(request)
    return await handler(request)


def _unauthorised(message: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(text=message, headers={"WWW-Authenticate": 'Bearer realm="supportbot"'})


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def check_csrf(request: web.Request) -> None:
    """Form posts carry the session's token; a cross-site Origin is refused outright."""
    if not _same_origin(request):
        raise web.HTTPForbidden(text="cross-site request refused")
    sent = request.headers.get("X-CSRF-Token")
    if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, request[CSRF]):
        raise web.HTTPForbidden(text="invalid or missing CSRF token; reload the page and try again")


async def template_context(request: web.Request) -> dict[str, Any]:
    return {"agent": request.get(AGENT), "csrf": request.get(CSRF, ""), "path": request.path}


def _safe_next(value: str | None) -> str:
    """Only local paths: an open redirect after sign-in would help phishing."""
    if not value or not value.startswith("/") or "\\" in value or any(c.isspace() or ord(c) < 32 for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return "/"
    return value


@aiohttp_jinja2.template("login.html")
async def login_page(request: web.Request) -> dict[str, Any]:
    return {"next": _safe_next(request.query.get("next")), "error": None, "name": ""}


async def login(request: web.Request) -> web.StreamResponse:
    if not _same_origin(request):
        raise web.HTTPForbidden(text="cross-site request refused")
    form = await request.post()
    name = accounts.sign_in_name(str(form.get("name", "")))
    password = str(form.get("password", ""))[:1024]
    target = _safe_next(str(form.get("next", "/")))
    throttle = request.app[THROTTLE]
    keys = throttle.keys(name, request.remote)
    if throttle.locked(*keys):
        return _login_error(request, name, target, "Too many failed attempts. Try again in 15 minutes.", 429)
    throttle.begin(*keys)  # counted while checked: parallel guesses cannot slip past the lockout
    agent_id = None
    try:
        await asyncio.sleep(throttle.delay(*keys))
        ctx = request.app[CONTEXT]
        agent_id = await accounts.verify_password(ctx.store, name, password) if name and password else None
    finally:
        throttle.end(*keys, ok=agent_id is not None)
    if agent_id is None:
        return _login_error(request, name, target, "Wrong name or password.", 401)
    token = await accounts.create_session(ctx.store, agent_id)
    response = web.HTTPSeeOther(target)
    web_settings = getattr(ctx.settings, "web", None)
    public_url = getattr(web_settings, "public_url", None) or ""
    # Served over HTTPS (the public address says so, or the request came in on TLS): the cookie must not
    # travel over plain HTTP, even when secure_cookies was forgotten.
    secure = bool(getattr(web_settings, "secure_cookies", False)) or request.secure or public_url.startswith("https://")
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=secure, path="/",
                        max_age=accounts.SESSION_DAYS * 86400)
    raise response


def _login_error(request: web.Request, name: str, target: str, message: str, status: int) -> web.Response:
    return aiohttp_jinja2.render_template("login.html", request, {"next": target, "error": message, "name": name},
                                          status=status)


async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        request.app[SESSIONS].drop(token)
        await accounts.end_session(request.app[CONTEXT].store, token)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def require_admin(request: web.Request) -> accounts.AgentInfo:
    agent = request.get(AGENT)
    if agent is None or not agent.is_admin:
        raise web.HTTPForbidden(text="only admins may do this")
    return agent


def setup_routes(app: web.Application) -> None:
    app[THROTTLE] = LoginThrottle()
    app[SESSIONS] = SessionCache()
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout, name="logout")
