"""The adapter contract every channel implements, and the settings base every channel extends.

An adapter MUST translate only: platform events in (`InboundMessage`, `Escalation`,
`MessageEdit` handed to the engine) and `OutboundMessage` out (platform calls). It MUST NOT
decide replies, open tickets or touch SQL. `send` MUST raise `RetryLater`/`RateLimited` for
transient failures and `Undeliverable` for permanent ones, and SHOULD return the platform id of
what it sent so the store can recognise the echo.

Optional capabilities, used when present: ``typing(conversation)`` shows "typing…" while an agent writes
(``ShowsTyping``), and ``customer_typing`` reports a customer typing (``SeesTyping``).

Every adapter is built the same way by the runner:
``Adapter(settings, *, public_url=None, data_dir="data", cursor_store=None)``, where
``cursor_store`` (the Store) keeps read positions and small delivery state across restarts and
processes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo

from core.models import Escalation, InboundMessage, MemberJoined, MessageEdit, OutboundMessage, Sent, utcnow

if TYPE_CHECKING:
    from aiohttp import web


class ChannelSettings(BaseModel):
    """One `channels.yaml` block. Unknown keys are errors: a typo must not silently disable a feature."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    # Outbound rate limits the dispatcher enforces for this channel (messages per second).
    rate_per_second: float = Field(default=30.0, gt=0)
    rate_per_conversation_per_second: float = Field(default=1.0, gt=0)
    # Inbound: a customer writing faster than this gets one ticket and one notice, not an answer each.
    customer_messages_per_minute: int = Field(default=20, ge=1)


def needs_credentials(info: ValidationInfo) -> bool:
    """Whether an enabled channel's credentials must be present: yes when the channels will run
    (`supportbot run`, `check-config`); commands that never start a channel validate without them."""
    return not (info.context or {}).get("without_credentials", False)


class CursorStore(Protocol):
    """The store's small key-value table (``Store.get_cursor`` / ``set_cursor``): read positions and
    delivery state that must survive a restart and be shared between processes."""

    async def get_cursor(self, channel: str, key: str) -> str | None: ...
    async def set_cursor(self, channel: str, key: str, value: str, *, keep_days: float | None = None) -> None:
        """``keep_days``: short-lived delivery state the housekeeping job prunes after that many days."""


class Inbound(Protocol):
    """What an adapter hands events to (the engine). Each call persists before it returns."""

    async def handle_message(self, message: InboundMessage) -> object: ...
    async def handle_escalation(self, escalation: Escalation) -> object: ...
    async def handle_edit(self, edit: MessageEdit) -> object: ...
    async def handle_member_joined(self, event: MemberJoined) -> object: ...


@runtime_checkable
class ChannelAdapter(Protocol):
    """Translates one platform to and from the normalised model. MUST NOT decide replies."""

    name: ClassVar[str]
    max_text_length: ClassVar[int]
    settings_model: ClassVar[type[ChannelSettings]]
    health: ChannelHealth

    async def start(self, inbound: Inbound) -> None:
        """Begin receiving; hand each event to ``inbound``. Returns once receiving is running."""
        ...

    async def send(self, reply: OutboundMessage) -> Sent:
        """Deliver one reply. Raises RetryLater / RateLimited / Undeliverable."""
        ...

    async def stop(self) -> None:
        """Stop receiving and release connections. MUST be idempotent."""
        ...

    async def wait_closed(self) -> None:
        """Wait while receiving runs. MUST return after `stop`, and MUST raise (the reason) when receiving
        ended on its own for good: a fatal gateway close, a revoked token, a loop that died. The
        supervisor (core/channels.py) then stops the adapter and starts it again with backoff.
        Transient trouble the adapter rides out itself is reported on ``health``, not raised."""
        ...


class ChannelHealth:
    """How one channel's receiving is doing; its adapter and the supervisor share it.

    The adapter calls `up()` once events flow and `trouble(why)` while it retries by itself (a poll
    failing, a gateway reconnecting); the supervisor calls `retrying(why, at)` when it restarts the
    channel. `/readyz`, `/metrics` and the log read it. Every adapter has one as ``health``.
    """

    STATES = ("starting", "receiving", "trouble", "retrying", "stopped")

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = "starting"
        self.since = utcnow()  # when the current state began
        self.error: str | None = None  # the last problem, kept after recovery for the operator
        self.retry_at: datetime | None = None
        self.restarts = 0
        self._listeners: list[Callable[[ChannelHealth], None]] = []

    @property
    def receiving(self) -> bool:
        return self.state == "receiving"

    def listen(self, callback: Callable[[ChannelHealth], None]) -> None:
        self._listeners.append(callback)

    def up(self) -> None:
        self._set("receiving")

    def trouble(self, why: str) -> None:
        self.error = why
        self._set("trouble")

    def retrying(self, why: str, at: datetime) -> None:
        self.error, self.retry_at = why, at
        self.restarts += 1
        self._set("retrying")

    def starting(self) -> None:
        self._set("starting")

    def stopped(self) -> None:
        self._set("stopped")

    def _set(self, state: str) -> None:
        changed = state != self.state
        if changed:
            self.state, self.since = state, utcnow()
        if state != "retrying":
            self.retry_at = None
        for callback in self._listeners:
            callback(self)

    def as_dict(self) -> dict[str, object]:
        return {"state": self.state, "since": self.since.isoformat(), "error": self.error,
                "retry_at": self.retry_at.isoformat() if self.retry_at else None, "restarts": self.restarts}


def split_text(text: str, limit: int) -> list[str]:
    """Split a long reply at paragraph, line or word boundaries so each part fits ``limit``."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = -1
        for sep in ("\n\n", "\n", "。", ". ", " "):
            cut = rest.rfind(sep, 0, limit)
            if cut > limit // 3:
                cut += len(sep)
                break
        if cut <= 0 or cut > limit:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


# Typing indicators (optional both ways; core/typing_indicators.py drives them). Typing is ephemeral: never
# stored, never queued, never retried; its failures are dropped by the core.
TypingSeen = Callable[[str, str, float], None]
"""``(conversation, platform user id, seconds)``: a customer started typing there; ``seconds`` is how long the
platform's own indicator lasts. Called synchronously from the receive path: it MUST NOT block."""


@runtime_checkable
class ShowsTyping(Protocol):
    """OPTIONAL: an adapter that can show the customer "typing…" while an agent writes a reply (Telegram
    ``sendChatAction``, Discord's typing route, the website chat's typing frame). Adapters without it are
    skipped (X: its API gives bots no typing indicator)."""

    async def typing(self, conversation: str) -> None:
        """Show "typing…" in ``conversation``, the address a reply to it would use (the same private chat, DM or
        thread). One short call, no retries; raises the adapter's typed errors (RateLimited, Undeliverable...),
        which the core logs at debug and drops. MUST NOT create anything (no thread, no message) to do it."""
        ...


@runtime_checkable
class SeesTyping(Protocol):
    """OPTIONAL: an adapter that learns when a customer types (the website chat's frames, Discord's
    TYPING_START) calls ``customer_typing`` when the core has set it (None until then). Telegram's Bot API
    tells bots nothing of the kind."""

    customer_typing: TypingSeen | None


@runtime_checkable
class ServesWebhooks(Protocol):
    """An adapter that receives over HTTP mounts its routes on the one shared aiohttp app."""

    def web_routes(self) -> list[web.RouteDef]: ...
