"""Files agents attach to replies: written under the data folder, described in ``agent_files``.

A file is found by a random 256-bit token. Each reply carries its files as typed attachments
(``OutboundMessage.attachments``): ``local_path`` for adapters that upload (Telegram), ``url`` for
ones that can only link (X), when the deployment has a public address. The bytes are only ever
served as what they are: images that are really images (checked by their first bytes) inline, the
rest as downloads, so an uploaded HTML page can never run in the inbox's origin.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from core.errors import Conflict
from core.models import Attachment, AttachmentKind

MAX_FILE_BYTES = 10 * 1024 * 1024  # what every channel takes (Discord's smallest limit)
MAX_FILES = 5
FOLDER = "attachments"
PUBLIC_PREFIX = "/f"  # public, unguessable links for channels that can only send a link

_IMAGES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
           (b"GIF89a", "image/gif"))


def sniff_image(head: bytes) -> str | None:
    """The image type the first bytes prove, else None (a name or a browser's word is not proof)."""
    for magic, mime in _IMAGES:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 240  # a file system's limit is 255 bytes a name; "中" is 3 bytes, an emoji 4


def safe_name(raw: str) -> str:
    """A file name fit for a path and a header: no folders, controls or direction marks; at most 120 characters
    and 240 UTF-8 bytes (cut between characters, keeping a short extension), so the disk never refuses it."""
    name = os.path.basename(raw.replace("\\", "/")).strip()
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp", "Cs"))
    name = re.sub(r'[<>:"|?*]+', "_", name).strip(". ") or "file"
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10 or not stem:
        stem, ext = name, ""
    suffix = "." + ext if ext else ""
    stem = stem[: MAX_NAME_CHARS - len(suffix)]
    while len((stem + suffix).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip(". ") + suffix) or "file"


def file_link(prefix: str, token: str, name: str) -> str:
    """``<prefix>/<token>/<name>`` with the name percent-encoded: a ``#``, ``?`` or ``%`` in it is the file's,
    not the URL's (the route decodes it back to the stored name)."""
    return f"{prefix}/{token}/{quote(name, safe='')}"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file written to disk, not yet part of a reply."""

    token: str
    name: str
    mime_type: str
    kind: str  # image | document
    size: int
    relative: str  # path under the data folder
    absolute: Path

    @property
    def link(self) -> str:
        return file_link(PUBLIC_PREFIX, self.token, self.name)

    def attachment(self, public_url: str | None) -> Attachment:
        return Attachment(AttachmentKind.IMAGE if self.kind == "image" else AttachmentKind.DOCUMENT, self.link,
                          name=self.name, mime_type=self.mime_type, size=self.size,
                          url=f"{public_url}{self.link}" if public_url else None, local_path=str(self.absolute))


async def save(data_dir: Path, name: str, chunks: AsyncIterator[bytes], *, declared_type: str = "",
               limit: int | None = None) -> Upload:
    """Stream one file to ``<data>/attachments/<token>/<name>``; over ``limit`` it is removed and refused."""
    limit = limit or MAX_FILE_BYTES
    token = secrets.token_urlsafe(32)
    clean = safe_name(name)
    folder = data_dir / FOLDER / token
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / clean
    size, head = 0, b""
    try:
        with target.open("wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise Conflict(f"{clean} is larger than {_megabytes(limit)}")
                if len(head) < 16:
                    head += chunk[: 16 - len(head)]
                out.write(chunk)
        if size == 0:
            raise Conflict(f"{clean} is empty")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    image = sniff_image(head)
    mime = image or (declared_type if declared_type and not declared_type.startswith(("image/", "text/html"))
                     else "application/octet-stream")
    return Upload(token, clean, mime[:128], "image" if image else "document", size,
                  f"{FOLDER}/{token}/{clean}", target.resolve())


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def discard(uploads: list[Upload]) -> None:
    """Remove files whose reply was never stored."""
    for upload in uploads:
        shutil.rmtree(upload.absolute.parent, ignore_errors=True)


def path_of(data_dir: Path, relative: str) -> Path | None:
    """The file on disk, only when it lies inside the data folder's attachments."""
    base = (data_dir / FOLDER).resolve()
    candidate = (data_dir / relative).resolve()
    return candidate if candidate.is_relative_to(base) and candidate.is_file() else None
