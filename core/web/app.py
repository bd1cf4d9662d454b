"""The aiohttp application factory: one app for inbox pages, the REST API, live updates and extra routes.

Errors are mapped once here: the API answers ``{"error": {"status", "message"}}`` JSON, pages get
a short HTML page. Security headers (a strict Content-Security-Policy: no inline script, nothing
from other origins) are added to every response, static files and streams included.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from pydantic import ValidationError

from core.errors import Conflict, NotFound, StorageError
from core.store.queries import InvalidQuery
from core.web import api, auth, inbox_views, live, more_views, pages, template_filters
from core.web.context import CONTEXT, AppContext
from core.web.proxies import proxies_middleware

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
MAX_BODY = 1024 * 1024  # bytes; larger bodies get 413 before a handler reads them

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

REQUESTS = Counter("supportbot_http_requests_total", "HTTP requests served", ["route", "status"])
LATENCY = Histogram("supportbot_http_request_seconds", "HTTP request latency", ["route"])

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"status": status, "message": message}}, status=status)


def _page_error(request: web.Request, status: int, message: str) -> web.Response:
    response = aiohttp_jinja2.render_template("error.html", request, {"status": status, "message": message},
                                              status=status)
    return response


def _malformed_body(exc: Exception) -> bool:
    """aiohttp could not parse the body (a form's part headers, boundaries, a body cut short): the sender's
    fault, a 400 wherever the form is read (a view, the CSRF check), never a 500. A ValueError of our own
    code is still a bug."""
    if isinstance(exc, HttpProcessingError):
        return True
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and Path(frames[-1].filename).name in _BODY_PARSERS and "aiohttp" in frames[-1].filename


_BODY_PARSERS = {"multipart.py", "web_request.py"}


def _body_problem(exc: Exception) -> str:
    text = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
    return (text or type(exc).__name__).replace("\x00", "")[:200]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Typed errors become HTTP answers here, and nowhere else."""
    started = time.perf_counter()
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        if is_api(request) and exc.status >= 400:
            message = exc.reason if exc.text is None or exc.text.startswith(str(exc.status)) else exc.text
            response = json_error(exc.status, message)
            for name in ("Allow", "WWW-Authenticate", "Retry-After"):  # keep what the status promises
                if name in exc.headers:
                    response.headers[name] = exc.headers[name]
            return response
        raise
    except json.JSONDecodeError as exc:
        status = 400
        return json_error(400, f"malformed JSON: {exc.msg}") if is_api(request) else _page_error(
            request, 400, "malformed request")
    except (ValidationError, InvalidQuery) as exc:
        status = 422
        message = _validation_message(exc)
        return json_error(422, message) if is_api(request) else _page_error(request, 422, message)
    except NotFound as exc:
        status = 404
        return json_error(404, str(exc)) if is_api(request) else _page_error(request, 404, str(exc))
    except Conflict as exc:
        status = 409
        return json_error(409, str(exc)) if is_api(request) else _page_error(request, 409, str(exc))
    except StorageError as exc:
        status = 503
        log.error("storage error on %s: %s", request.path, exc)
        return json_error(503, "the database is unavailable") if is_api(request) else _page_error(
            request, 503, "the database is unavailable; try again shortly")
    except Exception as exc:
        if _malformed_body(exc):
            status = 400
            message = f"malformed request body: {_body_problem(exc)}"
            return json_error(400, message) if is_api(request) else _page_error(request, 400, message)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal error") if is_api(request) else _page_error(request, 500, "internal error")
    finally:
        REQUESTS.labels(route, str(status)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - started)


def _validation_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors(include_url=False)[:5]:
            where = ".".join(str(p) for p in err["loc"]) or "body"
            parts.append(f"{where}: {err['msg']}")
        return "; ".join(parts)
    return str(exc)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if "frame-ancestors" not in headers.get("Content-Security-Policy", "") or "frame-ancestors 'none'" in headers.get(
            "Content-Security-Policy", ""):
        headers.setdefault("X-Frame-Options", "DENY")  # a page that allows embedding says so in its own CSP
    if request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "public, max-age=300")
    elif "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"


async def healthz(request: web.Request) -> web.Response:
    ok = await request.app[CONTEXT].store.ping()
    return web.json_response({"status": "ok" if ok else "database unavailable"}, status=200 if ok else 503)


async def readyz(request: web.Request) -> web.Response:
    """200 only when what this process's role needs works: the database, the other processes' events (on
    PostgreSQL), and every channel it runs receiving (one another process runs is "standby", which is fine);
    else 503 naming what does not. A dispatcher runs no channels; a web process no polling."""
    ctx = request.app[CONTEXT]
    database = await ctx.store.ping()
    events = ctx.bus.connected
    channels = ctx.channels.report() if ctx.channels is not None else {}
    waiting = sorted(name for name, state in channels.items() if state["state"] not in ("receiving", "standby"))
    ok = database and events and not waiting
    body: dict[str, object] = {"status": "ready" if ok else "not ready", "role": ctx.role,
                               "database": "ok" if database else "unavailable",
                               "events": "ok" if events else "reconnecting", "channels": channels}
    if waiting:
        body["not_receiving"] = waiting
    return web.json_response(body, status=200 if ok else 503)


async def metrics(_request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_status_app(ctx: AppContext) -> web.Application:
    """What a dispatcher or channels process serves: /healthz and /readyz for the orchestrator, and /metrics
    (an API token) for Prometheus: the deliveries are counted where the dispatcher runs, the channels' states
    where the receivers run, so each process is scraped on its own."""
    app = web.Application(middlewares=[auth.auth_middleware])
    app[CONTEXT] = ctx
    app[auth.PUBLIC_PATHS] = frozenset({"/healthz", "/readyz"})
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


def create_app(ctx: AppContext, *, extra_routes: Iterable[web.RouteDef] = ()) -> web.Application:
    """The whole web side. ``extra_routes`` (website chat, webhooks) are public: they authenticate themselves."""
    behind = proxies_middleware(getattr(getattr(ctx.settings, "web", None), "trusted_proxies", ()) or ())
    app = web.Application(middlewares=[*([behind] if behind else []), errors_middleware, auth.auth_middleware],
                          client_max_size=MAX_BODY)
    app[CONTEXT] = ctx
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                               autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
                               context_processors=[auth.template_context], filters=template_filters.FILTERS)
    env.finalize = template_filters.finalize  # set before any template compiles
    env.globals["brand"] = getattr(ctx.settings, "brand", "supportbot") if ctx.settings is not None else "supportbot"
    app.on_response_prepare.append(_security_headers)
    # /metrics takes an API token (it shows traffic and who is online)
    public: set[str] = {"/login", "/healthz", "/readyz", "/f/{token}/{name}"}  # /f: files agents send (inbox_files)
    app.router.add_static("/static", HERE / "static", name="static")
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    auth.setup_routes(app)
    inbox_views.setup_routes(app)
    more_views.setup_routes(app)
    api.setup_routes(app)
    pages.setup_routes(app)
    live.setup(app)
    for route in extra_routes:
        route.register(app.router)
        public.add(getattr(route, "path", ""))
    app[auth.PUBLIC_PATHS] = frozenset(p for p in public if p)
    _auto_assign(ctx)  # pages.load_saved replaces it at start when an admin saved assignment settings
    return app


def _auto_assign(ctx: AppContext) -> None:
    """Turn on round-robin assignment in the engine when the settings ask for it."""
    tickets = getattr(ctx.settings, "tickets", None)
    if tickets is None or not tickets.auto_assign or getattr(ctx.engine, "assigner", None) is not None:
        return
    from core.assignment import AutoAssigner

    ctx.engine.assigner = AutoAssigner(max_open=tickets.max_open_per_agent)
