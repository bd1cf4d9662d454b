"""REST API v1 (JSON, bearer tokens). Request bodies are pydantic models; errors are mapped in app.py.

The same Inbox methods as the pages make every change, so rules and the activity log are shared.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import select

from core.errors import Conflict, NotFound
from core.store.queries import MAX_LIMIT, InvalidQuery, TicketFilter, list_tickets, parse_id, ticket_row
from core.store.tables import Agent
from core.tickets import PRIORITIES, STATUSES
from core.web.auth import AGENT
from core.web.context import CONTEXT
from core.web.openapi import document
from core.web.present import message_json, ticket_json
from core.web.workspace_api import given_not_null

Status = Literal["open", "pending", "solved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=32)]
assert set(STATUSES) == set(Status.__args__) and set(PRIORITIES) == set(Priority.__args__)  # type: ignore[attr-defined]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as documented: no "true" for true


class ReplyBody(_Body):
    text: str = Field(min_length=1, max_length=10_000)
    internal: bool = False

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.replace("\x00", "")  # PostgreSQL text cannot hold NUL; it is never meant
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class TicketPatch(_Body):
    status: Status | None = None
    priority: Priority | None = None
    assignee: int | None = Field(default=None, ge=1, le=2**63 - 1)  # an agent id; null unassigns (only when given)
    tags: list[Tag] | None = Field(default=None, max_length=20)
    snoozed_until: Annotated[AwareDatetime, Field(strict=False)] | None = None  # null ends a snooze (only when given)

    @field_validator("snoozed_until", mode="before")
    @classmethod
    def _text_time(cls, value: Any) -> Any:
        from core.web.workspace_api import iso_time

        return iso_time(value)

    @field_validator("assignee", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        """JSON Schema's integer includes 255.0; the document promises what JSON means."""
        return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**63 else value

    _not_null = field_validator("status", "priority", "tags", mode="before")(given_not_null)


async def _json(request: web.Request) -> Any:
    if not request.can_read_body:
        raise web.HTTPBadRequest(text="a JSON body is required")
    body = await request.read()  # an oversized body -> 413 in app.py
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text="the body is not UTF-8 JSON") from None
    except RecursionError:  # [[[[...]]]] thousands deep: Python's parser gives up
        raise web.HTTPBadRequest(text="malformed JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python converts (4,300 digits)
        raise web.HTTPBadRequest(text=f"malformed JSON: {str(exc).splitlines()[0][:200]}") from None


def _ticket_id(request: web.Request) -> int:
    raw = request.match_info["ticket_id"]
    found = parse_id(raw)
    if found is None:
        raise web.HTTPNotFound(text=f"ticket {raw!r} does not exist")
    return found


class ListQuery(_Body):
    """The list's query string; limits match the OpenAPI document."""

    model_config = ConfigDict(extra="forbid", strict=False)
    status: Literal["open", "pending", "solved", "closed", "active", "snoozed"] | None = None
    channel: str | None = Field(default=None, max_length=32)
    q: str | None = Field(default=None, max_length=200)
    assignee: str | None = Field(default=None, max_length=64)
    priority: Priority | None = None
    tag: str | None = Field(default=None, max_length=64)
    overdue: bool = False
    sort: Literal["newest", "due", "activity"] = "newest"
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=512)

    @field_validator("channel", "q", "assignee", "tag", "cursor")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        return value.replace("\x00", "") if value is not None else None  # PostgreSQL text cannot hold NUL

    @field_validator("overdue", mode="before")
    @classmethod
    def _strict_bool(cls, value: Any) -> Any:
        if value not in ("true", "false", "1", "0", True, False):
            raise ValueError("must be true or false")
        return value

    @field_validator("limit", mode="before")
    @classmethod
    def _digits(cls, value: Any) -> Any:
        if isinstance(value, str) and not (value.isascii() and value.lstrip("-").isdigit() and value.strip("-")):
            raise ValueError("must be an integer")
        return value  # "-1" is an integer: the range check says what is wrong with it


async def list_view(request: web.Request) -> web.Response:
    repeated = sorted({k for k in request.query if len(request.query.getall(k)) > 1})
    if repeated:  # "limit=50&limit=60": which one was meant is a guess; say so instead of taking one
        raise InvalidQuery(f"given more than once: {', '.join(repeated)}")
    query = ListQuery.model_validate({k: request.query[k] for k in request.query})
    agent = request.get(AGENT)
    f = TicketFilter(status=query.status, channel=query.channel, assignee=query.assignee, priority=query.priority,
                     tag=query.tag, overdue=query.overdue, q=query.q, sort=query.sort)
    if f.assignee == "mine" and agent is None:
        raise InvalidQuery("assignee=mine needs a token that belongs to an agent")
    tickets, next_cursor = await list_tickets(request.app[CONTEXT].store, f, me=agent.id if agent else None,
                                              limit=query.limit, cursor=query.cursor)
    return web.json_response({"tickets": [ticket_json(t) for t in tickets], "next": next_cursor})


async def _ticket_detail(request: web.Request, tid: int) -> dict[str, Any]:
    store = request.app[CONTEXT].store
    record = await store.ticket(tid)
    data = ticket_json(await ticket_row(store, tid))
    data["merged_into"] = record.ticket.merged_into_id
    data["messages"] = [message_json(m) for m in record.messages]
    data["fields"] = {str(k): str(v) for k, v in (record.ticket.fields or {}).items()}
    rating = record.ticket.rating
    data["rating"] = {"score": rating, "comment": record.ticket.rating_comment,
                      "at": record.ticket.rated_at.isoformat()} if rating and record.ticket.rated_at else None
    return data


async def ticket_view(request: web.Request) -> web.Response:
    return web.json_response(await _ticket_detail(request, _ticket_id(request)))


async def reply_view(request: web.Request) -> web.Response:
    tid = _ticket_id(request)
    body = ReplyBody.model_validate(await _json(request))
    agent = request.get(AGENT)
    ctx = request.app[CONTEXT]
    await ctx.store.ticket(tid)  # 404 before anything else
    message_id = await ctx.inbox.reply(tid, body.text, agent_id=agent.id if agent else None, internal=body.internal)
    record = await ctx.store.ticket(tid)
    made = next(m for m in record.messages if m.message.id == message_id)
    return web.json_response(message_json(made), status=201)


async def typing_view(request: web.Request) -> web.Response:
    """The agent is writing a reply: the customer sees "typing…" where the channel can show it (no body; 204)."""
    await request.app[CONTEXT].inbox.typing(_ticket_id(request))
    return web.Response(status=204)


async def patch_view(request: web.Request) -> web.Response:
    tid = _ticket_id(request)
    raw = await _json(request)
    body = TicketPatch.model_validate(raw)
    ctx = request.app[CONTEXT]
    agent = request.get(AGENT)
    actor = agent.id if agent else None
    await ctx.store.ticket(tid)
    if body.assignee is not None and await ctx.store.scalar(select(Agent.id).where(Agent.id == body.assignee)) is None:
        raise Conflict(f"cannot assign: agent {body.assignee} does not exist")  # before any change is made
    if body.status is not None:
        await ctx.inbox.set_status(tid, body.status, agent_id=actor)
    if body.priority is not None:
        await ctx.inbox.set_priority(tid, body.priority, agent_id=actor)
    if "assignee" in body.model_fields_set:
        try:
            await ctx.inbox.assign(tid, body.assignee, agent_id=actor)
        except NotFound as exc:  # the ticket exists (checked above): the agent does not
            raise Conflict(f"cannot assign: {exc}") from None
    if body.tags is not None:
        await ctx.inbox.set_tags(tid, list(body.tags), agent_id=actor)
    if "snoozed_until" in body.model_fields_set:
        if body.snoozed_until is not None:
            await ctx.inbox.snooze(tid, body.snoozed_until, agent_id=actor)
        elif (await ctx.store.ticket(tid)).ticket.snoozed_until is not None:
            await ctx.inbox.set_status(tid, "open", agent_id=actor)  # the snooze ends now
    return web.json_response(await _ticket_detail(request, tid))


async def openapi_view(request: web.Request) -> web.Response:
    return web.json_response(document(request.app[CONTEXT].settings))


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/tickets", list_view)
    app.router.add_get("/api/v1/tickets/{ticket_id:[0-9]+}", ticket_view)
    app.router.add_patch("/api/v1/tickets/{ticket_id:[0-9]+}", patch_view)
    app.router.add_post("/api/v1/tickets/{ticket_id:[0-9]+}/replies", reply_view)
    app.router.add_post("/api/v1/tickets/{ticket_id:[0-9]+}/typing", typing_view)
    app.router.add_get("/api/v1/openapi.json", openapi_view)
