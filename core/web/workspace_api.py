"""REST API for the workspace: bulk actions on tickets and canned responses, with their OpenAPI description.

Same rules as the pages (core/bulk.py, core/canned.py). A token that belongs to an agent acts as that
agent (its personal canned responses); a token without one sees and manages the shared ones only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import select

from core import bulk, canned
from core.errors import Conflict, NotFound
from core.store.queries import parse_id
from core.store.tables import Agent
from core.web.auth import AGENT
from core.web.context import CONTEXT

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=canned.MAX_TEXT, pattern=r"\S")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=canned.MAX_TITLE, pattern=r"\S")]
Shortcut = Annotated[str, StringConstraints(max_length=canned.MAX_SHORTCUT)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return value.replace("\x00", "") if isinstance(value, str) else value  # PostgreSQL text cannot hold NUL


def given_not_null(value: Any) -> Any:
    """A PATCH changes the fields it names; null would read as "no change" to one client and "clear" to another."""
    if value is None:
        raise ValueError("leave the field out instead of null")
    return value


def iso_time(value: Any) -> Any:
    """A time in JSON is an RFC 3339 string, never a number of seconds."""
    if value is not None and not isinstance(value, str):
        raise ValueError("must be a date-time string such as 2026-12-01T09:00:00+08:00")
    return value


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**63 else value


class BulkBody(_Body):
    ids: list[Id] = Field(min_length=1, max_length=bulk.MAX_TICKETS)
    action: Literal["assign", "solve", "tag", "snooze", "merge"]
    assignee: Id | None = None
    tag: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"\S")] | None = None
    until: Annotated[AwareDatetime, Field(strict=False)] | None = None
    target: Id | None = None

    @field_validator("until", mode="before")
    @classmethod
    def _text_time(cls, value: Any) -> Any:
        return iso_time(value)

    @field_validator("ids", "assignee", "target", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        """JSON Schema's integer includes 255.0; the document promises what JSON means."""
        return [_whole(v) for v in value] if isinstance(value, list) else _whole(value)


class CannedBody(_Body):
    title: Title
    text: Text
    shortcut: Shortcut = ""
    shared: bool = False


class CannedPatch(_Body):
    title: Title | None = None
    text: Text | None = None
    shortcut: Shortcut | None = None
    shared: bool | None = None

    _not_null = field_validator("title", "text", "shortcut", "shared", mode="before")(given_not_null)


async def _json(request: web.Request) -> Any:
    from core.web.api import _json as read  # api.py imports the OpenAPI document, which imports this module

    return await read(request)


def _me(request: web.Request) -> tuple[int | None, bool]:
    agent = request.get(AGENT)
    return (agent.id, agent.is_admin) if agent else (None, True)  # an agentless token is the API's own admin


async def bulk_view(request: web.Request) -> web.Response:
    body = BulkBody.model_validate(await _json(request))
    agent_id, _ = _me(request)
    if body.action == "assign" and body.assignee is not None:
        if await request.app[CONTEXT].store.scalar(select(Agent.id).where(Agent.id == body.assignee)) is None:
            raise Conflict(f"cannot assign: agent {body.assignee} does not exist")
    results = await bulk.apply(request.app[CONTEXT].inbox, list(body.ids), body.action, agent_id=agent_id,
                               assignee=body.assignee, tag=body.tag, until=body.until, target=body.target)
    return web.json_response({"summary": bulk.summary(body.action, results),
                              "results": [{"id": r.ticket_id, "ok": r.ok, "error": r.error} for r in results]})


def _canned_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "shortcut": row.shortcut, "text": row.text,
            "shared": row.owner_id is None, "updated_at": row.updated_at.isoformat()}


def _response_id(request: web.Request) -> int:
    found = parse_id(request.match_info["response_id"])
    if found is None:
        raise NotFound("no such canned response")
    return found


async def list_canned(request: web.Request) -> web.Response:
    agent_id, _ = _me(request)
    rows = await canned.visible(request.app[CONTEXT].store, agent_id)
    return web.json_response({"canned_responses": [_canned_json(r) for r in rows]})


async def create_canned(request: web.Request) -> web.Response:
    body = CannedBody.model_validate(await _json(request))
    agent_id, _ = _me(request)
    store = request.app[CONTEXT].store
    new_id = await canned.create(store, title=body.title, text=body.text, shortcut=body.shortcut,
                                 shared=body.shared or agent_id is None, agent_id=agent_id)
    return web.json_response(_canned_json(await canned.get(store, new_id, agent_id)), status=201)


async def get_canned(request: web.Request) -> web.Response:
    agent_id, _ = _me(request)
    return web.json_response(_canned_json(await canned.get(request.app[CONTEXT].store, _response_id(request),
                                                           agent_id)))


async def patch_canned(request: web.Request) -> web.Response:
    rid = _response_id(request)
    body = CannedPatch.model_validate(await _json(request))
    agent_id, admin = _me(request)
    store = request.app[CONTEXT].store
    try:
        await canned.update(store, rid, agent_id=agent_id, is_admin=admin, title=body.title, text=body.text,
                            shortcut=body.shortcut, shared=body.shared)
    except canned.NotYours as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    return web.json_response(_canned_json(await canned.get(store, rid, agent_id)))


async def delete_canned(request: web.Request) -> web.Response:
    rid = _response_id(request)
    agent_id, admin = _me(request)
    try:
        await canned.delete(request.app[CONTEXT].store, rid, agent_id=agent_id, is_admin=admin)
    except canned.NotYours as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    return web.Response(status=204)


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/tickets/bulk", bulk_view)
    app.router.add_get("/api/v1/canned-responses", list_canned)
    app.router.add_post("/api/v1/canned-responses", create_canned)
    app.router.add_get("/api/v1/canned-responses/{response_id:[0-9]+}", get_canned)
    app.router.add_patch("/api/v1/canned-responses/{response_id:[0-9]+}", patch_canned)
    app.router.add_delete("/api/v1/canned-responses/{response_id:[0-9]+}", delete_canned)


# ---- OpenAPI ---------------------------------------------------------------------------------------------
_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
_CANNED_PROPS: dict[str, Any] = {
    "id": {"type": "integer"}, "title": {"type": "string"}, "shortcut": {"type": "string"},
    "text": {"type": "string"}, "shared": {"type": "boolean", "description": "false: only its owner sees it"},
    "updated_at": {"type": "string", "format": "date-time"},
}
_TITLE = {"type": "string", "minLength": 1, "maxLength": canned.MAX_TITLE, "pattern": r"\S"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": canned.MAX_TEXT, "pattern": r"\S"}
_SHORTCUT = {"type": "string", "maxLength": canned.MAX_SHORTCUT, "description": "typed after / in the reply box"}
WORKSPACE_SCHEMAS: dict[str, Any] = {
    "BulkBody": {"type": "object", "additionalProperties": False, "required": ["ids", "action"], "properties": {
        "ids": {"type": "array", "minItems": 1, "maxItems": bulk.MAX_TICKETS, "items": _ID},
        "action": {"type": "string", "enum": list(bulk.ACTIONS)},
        "assignee": {"oneOf": [{"type": "null"}, _ID], "description": "assign: an agent id; null unassigns"},
        "tag": {"oneOf": [{"type": "null"}, {"type": "string", "minLength": 1, "maxLength": 32, "pattern": r"\S"}],
                "description": "tag: the tag to add"},
        "until": {"type": ["string", "null"], "format": "date-time", "description": "snooze: until when (with a zone)"},
        "target": {"oneOf": [{"type": "null"}, _ID],
                   "description": "merge: the ticket to merge into (null: the oldest selected)"}}},
    "BulkResult": {"type": "object", "additionalProperties": False, "required": ["summary", "results"],
                   "properties": {"summary": {"type": "string"}, "results": {"type": "array", "items": {
                       "type": "object", "additionalProperties": False, "required": ["id", "ok", "error"],
                       "properties": {"id": {"type": "integer"}, "ok": {"type": "boolean"},
                                      "error": {"type": ["string", "null"]}}}}}},
    "CannedResponse": {"type": "object", "additionalProperties": False, "required": list(_CANNED_PROPS),
                       "properties": _CANNED_PROPS},
    "CannedList": {"type": "object", "additionalProperties": False, "required": ["canned_responses"],
                   "properties": {"canned_responses": {"type": "array",
                                                       "items": {"$ref": "#/components/schemas/CannedResponse"}}}},
    "CannedBody": {"type": "object", "additionalProperties": False, "required": ["title", "text"], "properties": {
        "title": _TITLE, "text": _TEXT, "shortcut": _SHORTCUT,
        "shared": {"type": "boolean", "default": False, "description": "offered to every agent"}}},
    "CannedPatch": {"type": "object", "additionalProperties": False, "properties": {
        "title": _TITLE, "text": _TEXT, "shortcut": _SHORTCUT, "shared": {"type": "boolean"}}},
}


def workspace_paths(error: Callable[[str], dict[str, Any]], common: dict[str, Any]) -> dict[str, Any]:
    def body(name: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}

    def ok(name: str, description: str) -> dict[str, Any]:
        return {"description": description,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}

    rid = {"name": "response_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    sent = {"413": error("body too large"), "422": error("the body is not valid")}
    return {
        "/api/v1/tickets/bulk": {"post": {
            "operationId": "bulkTickets", "summary": "Assign, solve, tag, snooze or merge several tickets",
            "description": "Each ticket is changed on its own: one refusal is reported in `results`, the others go on.",
            "requestBody": body("BulkBody"),
            "responses": {"200": ok("BulkResult", "what happened to each ticket"), **common, **sent,
                          "409": error("the action needs a field it lacks, or the assignee is no agent")}}},
        "/api/v1/canned-responses": {
            "get": {"operationId": "listCannedResponses", "summary": "The shared canned responses and the token "
                    "agent's own", "responses": {"200": ok("CannedList", "canned responses"), **common}},
            "post": {"operationId": "createCannedResponse", "summary": "Save a canned response",
                     "requestBody": body("CannedBody"),
                     "responses": {"201": ok("CannedResponse", "the saved canned response"), **common, **sent,
                                   "409": error("the text or title is not acceptable")}}},
        "/api/v1/canned-responses/{response_id}": {
            "parameters": [rid],
            "get": {"operationId": "getCannedResponse", "summary": "One canned response",
                    "responses": {"200": ok("CannedResponse", "the canned response"), **common,
                                  "404": error("no such canned response (or another agent's own)")}},
            "patch": {"operationId": "updateCannedResponse", "summary": "Change a canned response",
                      "requestBody": body("CannedPatch"),
                      "responses": {"200": ok("CannedResponse", "the changed canned response"), **common, **sent,
                                    "403": error("a shared one is changed only by its author or an admin"),
                                    "404": error("no such canned response"), "409": error("not acceptable")}},
            "delete": {"operationId": "deleteCannedResponse", "summary": "Delete a canned response",
                       "responses": {"204": {"description": "deleted"}, **common,
                                     "403": error("a shared one is deleted only by its author or an admin"),
                                     "404": error("no such canned response")}}},
    }

