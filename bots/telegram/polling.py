"""Our own getUpdates loop: the offset moves past an update only once the engine has committed it.

Telegram forgets an update when a later getUpdates carries an offset above its id. PTB's Updater
sends that offset as soon as it has fetched a batch, before anything is stored, so a crash lost the
batch. Here the next call's offset is ``first update not yet stored``: what was fetched but not
stored comes again after a crash, a failed handover or a stop (the engine dedupes redeliveries).

Each chat's updates are handed over in order; different chats go side by side. Trouble on
getUpdates (network, 5xx, 429, 409) is reported on ``health`` and ridden out with backoff; a
rejected token ends the loop with ConfigError, which the supervisor sees through ``wait_closed``.

Updates are fetched as JSON and read one by one (``updates.read_update``): PTB's own ``get_updates`` fails
the whole batch on one update it cannot read, and the same batch came again, forever. One that cannot be
read is kept on disk for an operator and confirmed; the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, EndPointNotFound, Forbidden, InvalidToken, RetryAfter

from bots.base import ChannelHealth
from bots.telegram.handover import Handed, Handover
from bots.telegram.outbound import retry_after_seconds
from bots.telegram.updates import Unreadable, read_update, update_id_of
from core.errors import ConfigError
from core.redaction import scrub

log = logging.getLogger(__name__)

MAX_BATCH = 100  # the Bot API's limit per getUpdates call
BACKOFF_SECONDS = (0.5, 10.0)  # first and longest pause after a failed getUpdates or a batch not stored
STOP_GRACE_SECONDS = 5.0  # how long stop() lets a handover in progress finish before cancelling it
CONFIRM_TIMEOUT_SECONDS = 3.0


class Backoff:
    """Doubling delays with a little jitter, reset by a success."""

    def __init__(self, first: float | None = None, most: float | None = None) -> None:
        self.first, self.most = first or BACKOFF_SECONDS[0], most or BACKOFF_SECONDS[1]
        self._next = self.first

    def next(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self.most)
        return delay * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self._next = self.first


def _chat_key(update: Update) -> int | None:
    """Updates of one chat keep their order; a button press goes with the chat it was shown in."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class UpdatePoller:
    """Long-polls getUpdates and hands each batch over before confirming it."""

    def __init__(self, bot: Bot, handover: Handover, health: ChannelHealth, *, timeout: int,
                 allowed_updates: Sequence[str], backoff: Backoff | None = None, patience: float = 30.0) -> None:
        self._bot = bot
        self._patience = patience  # seconds an answer may take beyond the long poll itself
        self._handover = handover
        self._health = health
        self._timeout = timeout
        self._allowed = list(allowed_updates)
        self._backoff = backoff or Backoff()
        self._retry = Backoff(self._backoff.first, self._backoff.most)  # for batches not stored
        self.offset: int | None = None  # every update below it is stored
        self._confirmed: int | None = None  # the offset Telegram last saw (a getUpdates that answered)
        self._done: set[int] = set()  # stored ids at or above ``offset`` (an earlier update of another chat failed)
        self._stuck: str | None = None  # why the last batch was not all stored
        self._flowing = False  # the last getUpdates answered and its batch was stored: long polls from now on
        self._stopping = asyncio.Event()
        self._fetch: asyncio.Future[list[Any]] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._run(), name="telegram-polling")
        return self._task

    async def stop(self) -> None:
        """End the loop promptly: cancel the long poll, let a handover in progress finish (bounded),
        then confirm what was stored (Telegram keeps the rest). Idempotent."""
        self._stopping.set()
        if self._fetch is not None:
            self._fetch.cancel()
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
            if not task.done():
                task.cancel()
                await asyncio.wait({task})
        await self._confirm_stored()

    async def _confirm_stored(self) -> None:
        if self.offset is None or self.offset == self._confirmed:
            return
        try:  # what it returns stays pending: only the offset matters
            await self._raw_updates(self.offset, 1, 0, read_timeout=CONFIRM_TIMEOUT_SECONDS,
                                    connect_timeout=CONFIRM_TIMEOUT_SECONDS)
            self._confirmed = self.offset
        except Exception as exc:  # best effort: Telegram sends them again and the engine dedupes
            log.info("telegram: stored updates below %s not confirmed at stop: %s", self.offset, exc)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                updates = await self._get_updates()
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if self._stopping.is_set() and task is not None and not task.cancelling():
                    return  # stop() cancelled the long poll, not this loop
                raise
            # do_api_request turns the 401/404 of a rejected token into EndPointNotFound (getUpdates exists)
            except (InvalidToken, EndPointNotFound, Forbidden):  # PTB's message may quote the token: not chained
                self._health.trouble("telegram: the Bot API rejected the bot token")
                raise ConfigError("channels.telegram.token was rejected by the Bot API (getUpdates)") from None
            except RetryAfter as exc:
                self._flowing = False
                await self._pause(f"telegram: getUpdates rate limited: {exc.message}",
                                  max(retry_after_seconds(exc), self._backoff.next()))
                continue
            except Conflict as exc:
                self._flowing = False
                await self._pause(f"telegram: getUpdates conflict (another poller, or a webhook is set): "
                                  f"{exc.message}", self._backoff.next())
                continue
            except Exception as exc:  # NetworkError, TimedOut, 5xx, an answer PTB could not read
                self._flowing = False
                await self._pause(f"telegram: getUpdates failed: {exc}", self._backoff.next())
                continue
            self._backoff.reset()
            self._confirmed = self.offset
            self._stuck = None
            if updates:
                await self._hand_over(updates)
            self._flowing = self._stuck is None
            if self._stuck is not None:
                await self._pause(self._stuck, self._retry.next())
                continue
            self._retry.reset()
            if not self._health.receiving:
                self._health.up()

    async def _get_updates(self) -> list[Any]:
        """A long poll once things flow; a short one first (after a start or trouble), so a working
        connection is known, and reported, at once rather than after ``timeout`` quiet seconds."""
        timeout = self._timeout if self._flowing else 0
        self._fetch = asyncio.ensure_future(self._raw_updates(self.offset, MAX_BATCH, timeout,
                                                              read_timeout=self._patience + timeout))
        try:
            return await self._fetch
        finally:
            self._fetch = None

    async def _raw_updates(self, offset: int | None, limit: int, timeout: int, **timeouts: float) -> list[Any]:
        """getUpdates as Telegram answered it (JSON), each update read later on its own. ("getupdates": the Bot
        API's method names are case-insensitive, and PTB asks that its own name not be used this way.)"""
        result = await self._bot.do_api_request("getupdates", api_kwargs={
            "offset": offset, "limit": limit, "timeout": timeout, "allowed_updates": self._allowed}, **timeouts)
        if not isinstance(result, list):
            raise ValueError(f"getUpdates answered {type(result).__name__}, not a list of updates")
        return result

    async def _pause(self, why: str, seconds: float) -> None:
        """Report the trouble and wait (stop() ends the wait at once)."""
        why = why.replace(self._bot.token, "<token>")  # an HTTP error's text may quote the request URL
        log.warning("%s; next try in %.1fs", why, seconds)
        self._health.trouble(why)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _hand_over(self, items: Sequence[Any]) -> None:
        """Hand the batch over, then move the offset to the first update that is not stored."""
        chats: dict[int | None, list[Update]] = {}
        ids: list[int] = []
        unkept: list[int] = []
        for item in items:
            update_id = update_id_of(item)
            if update_id is None:  # no id to confirm it by: nothing Telegram sends (the offset moves past it)
                log.error("telegram: getUpdates held an item without an update id; skipped: %.200r", scrub(item))
                continue
            ids.append(update_id)
            if update_id in self._done or (self.offset is not None and update_id < self.offset):
                continue  # stored in an earlier round
            try:
                update = read_update(item, self._bot)
            except Unreadable as exc:
                if self._handover.keep(update_id, item, why=str(exc)):
                    self._done.add(update_id)
                else:  # not on disk either: it stays with Telegram
                    unkept.append(update_id)
                    self._stuck = f"telegram: update {update_id} cannot be read nor kept on disk"
                continue
            chats.setdefault(_chat_key(update), []).append(update)
        firsts_not_stored = await asyncio.gather(*(self._hand_over_chat(batch) for batch in chats.values()))
        pending = [first for first in firsts_not_stored if first is not None] + unkept
        if pending:
            self.offset = min(pending)
        elif ids:
            self.offset = max(max(ids) + 1, self.offset or 0)
        self._done = {update_id for update_id in self._done if self.offset is None or update_id >= self.offset}

    async def _hand_over_chat(self, batch: list[Update]) -> int | None:
        """One chat's updates in order; returns the id of the first one not stored (None: all stored)."""
        for update in batch:
            if self._stopping.is_set():
                return update.update_id
            if await self._handover(update) is Handed.RETRY:
                self._stuck = f"telegram: updates not stored yet, retrying: {self._handover.last_error}"
                return update.update_id
            self._done.add(update.update_id)
        return None
