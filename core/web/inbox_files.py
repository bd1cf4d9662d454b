"""Files in the inbox: a reply form's uploads (streamed to the data folder) and serving them back.

``/files/<token>/<name>`` serves any agent file to signed-in agents. ``/f/<token>/<name>`` is public
(an unguessable link) and serves only files of replies sent to customers, for channels that can only
send a link. Images proven by their first bytes are shown inline; everything else is a download with
a neutral type, and a sandboxing policy, so nothing uploaded can run as a page of the inbox.
"""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.web_request import FileField
from sqlalchemy import select

from core import agent_files
from core.agent_files import MAX_FILES, Upload
from core.errors import Conflict
from core.store.tables import AgentFile, Message
from core.web.context import CONTEXT

MAX_FIELD = 64 * 1024  # a text field of the reply form (the text itself is limited to 10,000 characters)


async def read_reply_form(request: web.Request) -> tuple[dict[str, str], list[Upload]]:
    """The reply form's fields and files. Files are written as they arrive, never held in memory;
    on any refusal the ones already written are removed."""
    reader = await request.multipart()
    form: dict[str, str] = {}
    uploads: list[Upload] = []
    data_dir = request.app[CONTEXT].data_dir
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                if part.name != "files":
                    continue
                if len(uploads) >= MAX_FILES:
                    raise Conflict(f"at most {MAX_FILES} files per reply")

                async def chunks(part: BodyPartReader = part):  # type: ignore[no-untyped-def]
                    while chunk := await part.read_chunk(64 * 1024):
                        yield chunk

                if not part.filename:
                    await part.release()  # an empty file input sends a part without a name
                    continue
                uploads.append(await agent_files.save(data_dir, part.filename, chunks(),
                                                      declared_type=part.headers.get("Content-Type", "")))
            else:
                value = await part.read(decode=True)
                if len(value) > MAX_FIELD:
                    raise Conflict("a form field is too long")
                form[part.name] = value.decode("utf-8", "replace")
    except BaseException:
        agent_files.discard(uploads)
        raise
    return form, uploads


async def save_fields(request: web.Request, fields: list[Any]) -> list[Upload]:
    """Files of a form aiohttp already read (``request.post()``), written to the data folder."""
    uploads: list[Upload] = []
    try:
        for field in fields:
            if not isinstance(field, FileField) or not field.filename:
                continue
            if len(uploads) >= MAX_FILES:
                raise Conflict(f"at most {MAX_FILES} files per reply")

            async def chunks(source: Any = field.file):  # type: ignore[no-untyped-def]
                while chunk := source.read(64 * 1024):
                    yield chunk

            uploads.append(await agent_files.save(request.app[CONTEXT].data_dir, field.filename, chunks(),
                                                  declared_type=field.content_type or ""))
    except BaseException:
        agent_files.discard(uploads)
        raise
    return uploads


def discard(uploads: list[Upload]) -> None:
    agent_files.discard(uploads)


async def _serve(request: web.Request, *, public: bool) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    token, name = request.match_info["token"][:64], request.match_info["name"]
    stmt = select(AgentFile, Message.direction).outerjoin(Message, Message.id == AgentFile.message_id).where(
        AgentFile.token == token)
    async with ctx.store.sessions() as session:
        found = (await session.execute(stmt)).first()
    if found is None or found[0].name != name or (public and found[1] != "out"):
        raise web.HTTPNotFound(text="no such file")  # a note's files are never public
    row = found[0]
    path = agent_files.path_of(ctx.data_dir, row.path)
    if path is None:
        raise web.HTTPNotFound(text="the file is no longer there")
    with path.open("rb") as file:
        head = file.read(16)
    inline = row.kind == "image" and agent_files.sniff_image(head) == row.mime_type
    disposition = "inline" if inline else "attachment"
    return web.FileResponse(path, headers={
        "Content-Type": row.mime_type if inline else "application/octet-stream",
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{_quote(row.name)}",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
        "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


async def agent_file(request: web.Request) -> web.StreamResponse:
    return await _serve(request, public=False)


async def public_file(request: web.Request) -> web.StreamResponse:
    return await _serve(request, public=True)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/files/{token}/{name}", agent_file, name="agent_file")
    app.router.add_get(agent_files.PUBLIC_PREFIX + "/{token}/{name}", public_file, name="public_file")
