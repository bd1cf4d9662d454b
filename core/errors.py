"""Typed errors, mapped once at the edge (the CLI entry point and the web middleware)."""

from __future__ import annotations


class SupportbotError(Exception):
    """Base of every error the product raises on purpose."""


class ConfigError(SupportbotError):
    """The configuration cannot be used. ``problems`` are lines a user can act on."""

    def __init__(self, problems: list[str] | str, path: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(self.problems))

    def report(self) -> str:
        head = f"invalid configuration in {self.path}:" if self.path else "invalid configuration:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class KnowledgeBaseError(ConfigError):
    """The knowledge base file is malformed."""


class UsageError(SupportbotError):
    """The command cannot do what was asked (a busy port, passwords that differ): not a configuration problem."""


class StorageError(SupportbotError):
    """The database refused or is unreachable."""


class NotFound(SupportbotError):
    """A ticket, message or agent id that does not exist."""


class Conflict(SupportbotError):
    """The change is not allowed from the current state (e.g. an illegal ticket transition)."""


class AdapterError(SupportbotError):
    """A channel could not do what was asked."""


class RetryLater(AdapterError):
    """Transient failure (5xx, network). The dispatcher backs off and tries again."""

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(RetryLater):
    """The platform said 429; ``retry_after`` seconds is its own figure and is honoured.

    ``scope`` says what must wait: ``"channel"`` (the default: Telegram's flood wait and Discord's
    global limit stop the whole bot) or ``"conversation"`` (a limit on one chat or route only).
    """

    def __init__(self, message: str = "", retry_after: float | None = None, *, scope: str = "channel") -> None:
        super().__init__(message, retry_after)
        self.scope = scope


class Uncertain(RetryLater):
    """The request may have reached the platform (a timeout after it was written). Retrying may deliver
    it twice, so the reply is marked "may have been sent twice" where the agent sees it."""


class Undeliverable(AdapterError):
    """Permanent failure (blocked by user, chat gone, forbidden). Retrying cannot help."""
