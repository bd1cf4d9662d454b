"""Files customers send: typed attachments, with a local copy when the file is small enough.

A copy lives at ``data_dir/telegram/<file_unique_id>`` (the id Telegram keeps stable across bots
and re-sends, so a redelivered message never downloads twice). Bigger files, or files the Bot API
will not serve, stay references (``ref`` = file_id): an agent can still fetch them later. The
file URL holds the bot token, so it is never stored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

from telegram import Bot, Message
from telegram.error import TelegramError

from bots.telegram.inbound import FileRef, files_of
from core.models import Attachment

log = logging.getLogger(__name__)


def file_name(unique_id: str) -> str:
    """A safe file name for a file's unique id (Telegram's are short URL-safe strings; anything else is hashed)."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,100}", unique_id):
        return unique_id
    return "h-" + hashlib.sha256(unique_id.encode("utf-8", "surrogatepass")).hexdigest()


class FileFetcher:
    def __init__(self, bot: Bot, folder: Path, max_bytes: int) -> None:
        self._bot = bot
        self._folder = folder
        self._max = max_bytes

    async def attachments(self, message: Message) -> tuple[Attachment, ...]:
        return tuple([ref.attachment(await self.download(ref)) for ref in files_of(message)])

    async def download(self, ref: FileRef) -> str | None:
        """The local path of a copy, or None (too big, or unavailable: kept as a reference)."""
        if ref.size is not None and ref.size > self._max:
            return None
        path = self._folder / file_name(ref.file_unique_id)
        try:
            if path.is_file():  # (never a folder of ours that a forged id names, like "failed-updates")
                return str(path)
            remote = await self._bot.get_file(ref.file_id)
            if remote.file_size is not None and remote.file_size > self._max:
                return None
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".part")
            await remote.download_to_drive(partial)
            os.replace(partial, path)
        except (TelegramError, OSError) as exc:
            log.warning("telegram: file %s kept as a reference only: %s", ref.file_unique_id, exc)
            return None
        return str(path)
