"""Handing one Telegram update to the engine, and what a failure means for confirming it.

An update may be confirmed to Telegram (the next getUpdates offset, or the webhook's 200) only once
the engine has committed it. A storage failure (the database is down) is never the update's fault:
it is not confirmed and comes again, as often as it takes (the engine dedupes redeliveries). Any
other failure that repeats for the same update is a poison update (a bug, a shape we cannot
read): after ``poison_attempts`` tries it is written to the dead-letter folder for an operator
and confirmed, so one bad update never blocks the bot. What is written there, and what the log says of
a failure, has the customer's secrets redacted (``core.kept_files``): the update is kept, its secrets not.
"""

from __future__ import annotations

import enum
import logging
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path

from telegram import Update

from core.errors import StorageError
from core.kept_files import keep_json
from core.redaction import redact

log = logging.getLogger(__name__)

POISON_ATTEMPTS = 5
REMEMBERED_FAILURES = 10_000


class Handed(enum.Enum):
    STORED = "stored"  # committed by the engine (or nothing to store): confirm it
    DEAD = "dead"  # failed again and again for a non-storage reason: kept on disk, confirm it
    RETRY = "retry"  # not stored: do not confirm, it must come again


def is_storage_failure(exc: BaseException) -> bool:
    """The database (not the update) failed: the store maps every such failure to StorageError."""
    return isinstance(exc, StorageError)


class Handover:
    """Calls ``handle(update)`` and classifies the result; counts failures per update id."""

    def __init__(self, handle: Callable[[Update], Awaitable[None]], dead_letters: Path, *,
                 poison_attempts: int = POISON_ATTEMPTS) -> None:
        self._handle = handle
        self._dead_letters = dead_letters
        self._poison_attempts = poison_attempts
        self._failures: OrderedDict[int, int] = OrderedDict()  # update id -> non-storage failures in a row
        self.last_error: str | None = None  # why the last RETRY happened, for the channel's health

    async def __call__(self, update: Update) -> Handed:
        try:
            await self._handle(update)
        except Exception as exc:
            return self._failed(update, exc)
        self._failures.pop(update.update_id, None)
        return Handed.STORED

    def _failed(self, update: Update, exc: Exception) -> Handed:
        self.last_error = redact(f"{type(exc).__name__}: {exc}".splitlines()[0][:300]).text
        if is_storage_failure(exc):
            log.warning("telegram: update %s not stored (will come again): %s", update.update_id, self.last_error)
            return Handed.RETRY
        count = self._failures.pop(update.update_id, 0) + 1
        if count < self._poison_attempts:
            self._failures[update.update_id] = count
            while len(self._failures) > REMEMBERED_FAILURES:
                self._failures.popitem(last=False)
            log.warning("telegram: update %s failed (%d of %d tries): %s", update.update_id, count,
                        self._poison_attempts, _redacted_traceback(exc))
            return Handed.RETRY
        log.error("telegram: update %s failed %d times; kept in %s for replay: %s", update.update_id, count,
                  self._dead_letters, _redacted_traceback(exc))
        if not self.dead_letter(update):
            self._failures[update.update_id] = count  # not on disk either: it must stay with Telegram
            return Handed.RETRY
        return Handed.DEAD

    def dead_letter(self, update: Update) -> bool:
        """Keep the update on disk (``<update_id>.json``) for an operator to replay; False if that failed."""
        return self.keep(update.update_id, update.to_dict())

    def keep(self, update_id: int, data: object, *, why: str | None = None) -> bool:
        """Write ``data`` (an update, or what Telegram sent when nothing could read it) to the dead-letter
        folder, its secrets redacted and readable by the bot's user only; False if that failed. ``why``: an
        unreadable update, logged once here."""
        if why is not None:
            log.error("telegram: update %s cannot be read (%s); kept in %s", update_id, redact(why).text,
                      self._dead_letters)
        try:
            keep_json(self._dead_letters / f"{update_id}.json", data)
        except (OSError, TypeError, ValueError, RecursionError):
            log.exception("telegram: could not write failed update %s", update_id)
            return False
        return True


def _redacted_traceback(exc: BaseException) -> str:
    """The traceback for the log, with any secret its messages quote (an update's text) redacted."""
    return redact("".join(traceback.format_exception(exc)).rstrip()).text
