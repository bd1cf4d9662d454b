"""Gateway events discord.py cannot read are dropped one at a time, never the connection with them.

discord.py parses each event inside the shard's receive loop. A payload it cannot read (a field missing,
a value of the wrong type, a shape newer than the library, JSON it cannot decode) raises there, and the
loop then ends the whole client: every server and DM would go quiet until the supervisor restarted the
channel, and the next such event would end it again. So:

- every parser is wrapped: an event it cannot read is logged (its type and id) and dropped. The
  sequence number has already moved past it, so a RESUME does not replay it;
- a customer's message whose optional parts cannot be read (an embed, a component, a poll, a reaction,
  a forwarded snapshot, an attachment of a shape discord.py does not know) is read again without them:
  the text still reaches the engine. Only a message whose id, channel, author, member or content cannot
  be read is dropped;
- the shard's receive loop goes on after a frame it could not decode at all (invalid or too deeply
  nested JSON) instead of ending the client;
- with orjson installed (discord.py's "speed" extra) discord.py decodes with it, and orjson refuses JSON the
  standard library reads (an escaped lone surrogate, a number beyond a double): a customer's whole message
  would be dropped for one odd character. What orjson refuses is decoded again by the standard library.

This reaches into discord.py's ConnectionState.parsers and Shard.worker (pinned in requirements/*.lock).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import discord.utils
from discord.gateway import ReconnectWebSocket
from discord.shard import EventItem, EventType, Shard

from core.redaction import redact

log = logging.getLogger(__name__)

Parser = Callable[[Any], None]
# A message read again without its optional parts, then with only who wrote what where.
WITHOUT_EXTRAS = ("id", "channel_id", "guild_id", "author", "member", "content", "type", "timestamp", "webhook_id",
                  "edited_timestamp", "flags", "tts", "pinned", "mention_everyone", "nonce", "mentions",
                  "mention_roles", "message_reference", "attachments", "sticker_items")
BARE = ("id", "channel_id", "guild_id", "author", "member", "content", "type", "timestamp", "webhook_id")
# Arrays Discord always sends and discord.py reads only when present (a Message without them lacks the
# attribute): an absent or unreadable one is read as empty.
ALWAYS = {"mentions": [], "mention_roles": []}


def _ident(data: Any) -> str:
    if isinstance(data, dict):
        return f"id {str(data.get('id'))[:40]}, channel {str(data.get('channel_id'))[:40]}"
    return f"a {type(data).__name__}, not an object"


def _why(exc: BaseException) -> str:
    """What discord.py said, for the log: it may quote a value of the payload, so secrets are redacted."""
    return redact(str(exc)[:200]).text


def _lighter(data: Any) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Smaller readings of a message payload, each with the parts it leaves out."""
    if not isinstance(data, dict):
        return
    size = len(data)
    for keys in (WITHOUT_EXTRAS, BARE):
        slim = {k: data[k] for k in keys if k in data}
        if len(slim) < size:
            size = len(slim)
            yield {**copy.deepcopy(ALWAYS), **slim}, sorted(k for k in data if k not in slim)


def _guarded(event: str, parse: Parser) -> Parser:
    def parse_or_drop(data: Any) -> None:
        try:
            parse(data)
        except Exception as exc:
            log.error("discord: dropped a %s event discord.py could not read (%s): %s: %s", event, _ident(data),
                      type(exc).__name__, _why(exc))

    return parse_or_drop


def _salvaging(parse: Parser) -> Parser:
    """MESSAGE_CREATE: the message without what could not be read, rather than no message at all. The
    parser raises before it dispatches anything (discord.py builds the Message first), so a second
    reading never hands the same message over twice."""

    def parse_message(data: Any) -> None:
        if isinstance(data, dict):
            for key, empty in ALWAYS.items():
                data.setdefault(key, list(empty))
        try:
            parse(data)
            return
        except Exception as exc:
            first = exc
        for slim, left_out in _lighter(data):
            try:
                parse(slim)
            except Exception:
                continue
            log.warning("discord: message (%s) read without the parts discord.py could not read: %s (%s: %s)",
                        _ident(data), ", ".join(left_out), type(first).__name__, _why(first))
            return
        log.error("discord: dropped a message discord.py could not read (%s): %s: %s", _ident(data),
                  type(first).__name__, _why(first))

    return parse_message


def tolerate_strict_json() -> None:
    """discord.py's JSON decoder (gateway frames and REST answers) falls back to the standard library for what
    a stricter decoder (orjson) refuses; idempotent."""
    strict = discord.utils._from_json
    if strict is json.loads or getattr(strict, "__supportbot_tolerant__", False):
        return

    def loads(data: str | bytes) -> Any:
        try:
            return strict(data)
        except ValueError:  # orjson.JSONDecodeError is one; what the standard library refuses too stays refused
            return json.loads(data)

    loads.__supportbot_tolerant__ = True  # type: ignore[attr-defined]
    discord.utils._from_json = loads


def guard_parsers(parsers: dict[str, Parser]) -> None:
    """Wrap discord.py's parsers in place (the shards' websockets share this dict)."""
    for event, parse in list(parsers.items()):
        if getattr(parse, "__wrapped_by_supportbot__", False):
            continue
        wrapped = _salvaging(parse) if event == "MESSAGE_CREATE" else _guarded(event, parse)
        wrapped.__wrapped_by_supportbot__ = True  # type: ignore[attr-defined]
        parsers[event] = wrapped


class SteadyShard(Shard):
    """discord.py's shard, whose receive loop survives a frame it cannot decode."""

    async def worker(self) -> None:
        while not self._client.is_closed():
            try:
                await self.ws.poll_event()
            except (ValueError, RecursionError) as exc:  # json.loads refused this frame: drop it, not the client
                log.error("discord: shard %s dropped a gateway frame it could not decode: %s: %s", self.id,
                          type(exc).__name__, _why(exc))
                continue
            except ReconnectWebSocket as e:
                etype = EventType.resume if e.resume else EventType.identify
                self._queue_put(EventItem(etype, self, e))
                break
            except self._handled_exceptions as e:
                await self._handle_disconnect(e)
                break
            except asyncio.CancelledError:
                break
            except Exception as e:  # as discord.py: the client ends with it
                self._queue_put(EventItem(EventType.terminate, self, e))
                break
