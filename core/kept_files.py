"""What is kept on disk for an operator to look at later (a platform event nothing could read, say).

Such a file holds what a customer wrote, so it follows the rule of the store: secrets are redacted before
anything is written (``core.redaction.scrub``: every string of the payload), and only the bot's own user
may read it. The file is created 0600 in a folder that is 0700 and renamed into place, so there is never a
moment when it exists with wider permissions, nor half written.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from core.redaction import redact, scrub

FOLDER_MODE = 0o700


def private_folder(folder: Path) -> Path:
    """``folder`` created if missing and closed to everyone but its owner (one made by an older version too)."""
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) != FOLDER_MODE:
        folder.chmod(FOLDER_MODE)
    return folder


def keep_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` with its secrets redacted, readable by its owner only.

    A value JSON cannot hold is written as its text, redacted too. A lone surrogate (a JSON escape a platform
    may send, not Unicode) is kept as that escape. Raises OSError, TypeError, ValueError, RecursionError."""
    clean = scrub(data)
    text = json.dumps(clean, ensure_ascii=False, default=_as_text)
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        body = json.dumps(clean, default=_as_text).encode()
    folder = private_folder(path.parent)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(body)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _as_text(value: object) -> str:
    return redact(str(value)).text
