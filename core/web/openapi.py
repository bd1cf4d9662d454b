"""The OpenAPI 3 document of /api/v1, written by hand to describe exactly what api.py serves.

tests/web/test_openapi.py runs schemathesis against the live app with this document, so a drift
between the two fails a test.
"""

from __future__ import annotations

from typing import Any

from core.store.queries import MAX_LIMIT
from core.tickets import PRIORITIES, STATUSES
from core.web.stats_api import STATS_SCHEMAS, stats_path
from core.web.workspace_api import WORKSPACE_SCHEMAS, workspace_paths

_DT = {"type": "string", "format": "date-time"}
_NULL_DT = {"type": ["string", "null"], "format": "date-time"}


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_TICKET_PROPS: dict[str, Any] = {
    "id": {"type": "integer"},
    "status": {"type": "string", "enum": list(STATUSES)},
    "priority": {"type": "string", "enum": list(PRIORITIES)},
    "channel": {"type": "string"},
    "subject": {"type": "string"},
    "customer": {"type": "object", "required": ["id", "name"], "additionalProperties": False,
                 "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    "assignee": {"oneOf": [{"type": "null"}, {
        "type": "object", "required": ["id", "name"], "additionalProperties": False,
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "created_at": _DT,
    "updated_at": _DT,
    "first_response_due": _NULL_DT,
    "first_responded_at": _NULL_DT,
    "overdue": {"type": "boolean", "description": "first response still owed and past its due time"},
    "snoozed_until": {**_NULL_DT, "description": "pending until then, then open again; null when not snoozed"},
    "last_activity_at": {**_DT, "description": "the newest message (the inbox's default order)"},
    "waiting_since": {**_NULL_DT, "description": "the customer wrote last, unanswered by an agent since"},
    "preview": {"type": "string", "description": "the start of the newest message"},
}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["status", "message"],
        "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}}}},
    "Ticket": {"type": "object", "required": list(_TICKET_PROPS), "additionalProperties": False,
               "properties": _TICKET_PROPS},
    "Attachment": {"type": "object", "required": ["name", "size", "url", "kind"], "properties": {
        "name": {"type": "string"}, "size": {"type": ["integer", "null"]}, "url": {"type": ["string", "null"]},
        "kind": {"type": "string"}}},
    "Message": {"type": "object", "additionalProperties": False,
                "required": ["id", "author", "author_name", "text", "created_at", "delivery", "delivery_error",
                             "may_be_duplicate", "attachments", "edited", "deleted", "before_handoff", "answer"],
                "properties": {
                    "id": {"type": "integer"},
                    "author": {"type": "string", "enum": ["customer", "bot", "agent", "note"],
                               "description": "note: an internal note or a moderator's escalation note (never sent)"},
                    "author_name": {"type": "string"},
                    "text": {"type": "string"},
                    "created_at": _DT,
                    "delivery": {"oneOf": [{"type": "null"},
                                           {"type": "string", "enum": ["queued", "sent", "failed", "dead"]}],
                                 "description": "null for inbound messages and notes; failed = will retry; "
                                                "dead = given up"},
                    "delivery_error": {"type": ["string", "null"]},
                    "may_be_duplicate": {"type": "boolean",
                                         "description": "the reply may have reached the customer twice (it was "
                                                        "being sent when a process stopped, or the platform "
                                                        "answered too late to know)"},
                    "attachments": {"type": "array", "items": _ref("Attachment")},
                    "edited": {"type": "boolean"},
                    "deleted": {"type": "boolean"},
                    "before_handoff": {"type": "boolean", "description": "part of the conversation before a "
                                                                          "person was asked (the ticket's story)"},
                    "answer": {"oneOf": [{"type": "null"}, {
                        "type": "object", "additionalProperties": False,
                        "required": ["faq_id", "confidence", "feedback"],
                        "properties": {"faq_id": {"type": "string"},
                                       "confidence": {"type": ["number", "null"]},
                                       "feedback": {"oneOf": [{"type": "null"},
                                                              {"type": "string", "enum": ["helpful", "unhelpful"]}]}}}],
                               "description": "a bot answer from the knowledge base: which FAQ, how sure, and what "
                                              "the customer said of it"},
                }},
    "TicketDetail": {"type": "object", "additionalProperties": False,
                     "required": [*_TICKET_PROPS, "merged_into", "messages", "fields", "rating"],
                     "properties": {**_TICKET_PROPS, "merged_into": {"type": ["integer", "null"]},
                                    "messages": {"type": "array", "items": _ref("Message")},
                                    "fields": {"type": "object", "additionalProperties": {"type": "string"},
                                               "description": "what the bot collected before a person took over: "
                                                              "transaction_id, amount, time, error, country"},
                                    "rating": {"oneOf": [{"type": "null"}, {
                                        "type": "object", "additionalProperties": False,
                                        "required": ["score", "comment", "at"],
                                        "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5},
                                                       "comment": {"type": ["string", "null"]}, "at": _DT}}],
                                               "description": "the customer's satisfaction after the ticket was "
                                                              "solved"}}},
    "TicketList": {"type": "object", "required": ["tickets", "next"], "additionalProperties": False, "properties": {
        "tickets": {"type": "array", "items": _ref("Ticket")},
        "next": {"type": ["string", "null"], "description": "pass as `cursor` for the next page; null at the end"}}},
    "ReplyBody": {"type": "object", "required": ["text"], "additionalProperties": False, "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 10000, "pattern": r"\S"},
        "internal": {"type": "boolean", "default": False,
                     "description": "true: an internal note, stored on the ticket and never sent"}}},
    "TicketPatch": {"type": "object", "additionalProperties": False, "properties": {
        "status": {"type": "string", "enum": list(STATUSES)},
        "priority": {"type": "string", "enum": list(PRIORITIES)},
        "assignee": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**63 - 1,
                     "description": "an agent id; null unassigns"},
        "tags": {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 32}},
        "snoozed_until": {"type": ["string", "null"], "format": "date-time",
                          "description": "snooze (pending) until this time, at most a year ahead; null ends a "
                                         "snooze (the ticket opens)"}}},
}

_TICKET_ID = {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_COMMON = {"400": _error("malformed request (bad JSON, a request line over 8 KB)"),
           "401": _error("missing, invalid or revoked token")}


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PATHS: dict[str, Any] = {
    "/api/v1/tickets": {"get": {
        "operationId": "listTickets", "summary": "List tickets, newest first or by first-response due time",
        "parameters": [
            _q("status", {"type": "string", "enum": [*STATUSES, "active", "snoozed"]},
               "active = open or pending; snoozed = pending until a time"),
            _q("channel", {"type": "string", "maxLength": 32}, "telegram, discord, x, webchat, ..."),
            _q("q", {"type": "string", "maxLength": 200}, "text in the subject or any message (substring)"),
            _q("assignee", {"type": "string", "maxLength": 64}, "mine, unassigned, an agent id or name"),
            _q("priority", {"type": "string", "enum": list(PRIORITIES)}, "priority"),
            _q("tag", {"type": "string", "maxLength": 64}, "one tag"),
            _q("overdue", {"type": "boolean"}, "only tickets whose first response is overdue"),
            _q("sort", {"type": "string", "enum": ["newest", "due", "activity"]},
               "order: newest created, first-response due time, or newest message (activity)"),
            _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}, "page size"),
            _q("cursor", {"type": "string", "maxLength": 512}, "the `next` value of the previous page"),
        ],
        "responses": {"200": _json(_ref("TicketList"), "one page of tickets"), **_COMMON,
                      "422": _error("a filter value or cursor is not valid")}}},
    "/api/v1/tickets/{ticket_id}": {
        "parameters": [_TICKET_ID],
        "get": {"operationId": "getTicket", "summary": "A ticket with its whole thread",
                "responses": {"200": _json(_ref("TicketDetail"), "the ticket"), **_COMMON,
                              "404": _error("no such ticket")}},
        "patch": {"operationId": "updateTicket", "summary": "Change status, priority, assignee, tags or snooze",
                  "requestBody": {"required": True,
                                  "content": {"application/json": {"schema": _ref("TicketPatch")}}},
                  "responses": {"200": _json(_ref("TicketDetail"), "the changed ticket"), **_COMMON,
                                "404": _error("no such ticket"),
                                "409": _error("not allowed from the current status, the assignee is no agent, or "
                                              "the snooze time is past or over a year ahead"),
                                "413": _error("body too large"), "422": _error("the body is not valid")}}},
    "/api/v1/tickets/{ticket_id}/replies": {
        "parameters": [_TICKET_ID],
        "post": {"operationId": "replyToTicket",
                 "summary": "Reply to the customer in their channel (queued for delivery), or add an internal note",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ReplyBody")}}},
                 "responses": {"201": _json(_ref("Message"), "the stored reply or note"), **_COMMON,
                               "404": _error("no such ticket"),
                               "409": _error("the ticket is closed"), "413": _error("body too large"),
                               "422": _error("the body is not valid")}}},
    "/api/v1/tickets/{ticket_id}/typing": {
        "parameters": [_TICKET_ID],
        "post": {"operationId": "agentTyping",
                 "summary": "The agent is writing a reply: the customer sees \"typing…\" in their channel",
                 "description": "Where the channel can show it: the website chat, Telegram (sendChatAction) and "
                                "Discord (X has no typing indicator for bots). Call it at most every 3 s while the "
                                "agent types; the customer's indicator lasts about 5 s. Nothing is stored or "
                                "queued, and the platform is called at most once per conversation every 4 s.",
                 "responses": {"204": {"description": "announced (shown where the channel can)"}, **_COMMON,
                               "404": _error("no such ticket"), "409": _error("the ticket is closed")}}},
    **stats_path(_error, _COMMON),
    **workspace_paths(_error, _COMMON),
}
SCHEMAS.update(STATS_SCHEMAS)
SCHEMAS.update(WORKSPACE_SCHEMAS)


def document(settings: Any = None) -> dict[str, Any]:
    brand = getattr(settings, "brand", "supportbot") if settings is not None else "supportbot"
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{brand} support inbox API", "version": "1.0.0",
                 "description": "Tickets across Telegram, Discord, X and the website chat. Authenticate with "
                                "`Authorization: Bearer <token>` (create one with `supportbot token create`)."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": SCHEMAS},
        "paths": PATHS,
    }
