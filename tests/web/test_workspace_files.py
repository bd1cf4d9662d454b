"""Files agents attach: stored under the data folder, delivered through the channel as typed attachments,
served to agents, and to customers only through an unguessable link and only when they were sent."""

from __future__ import annotations

import asyncio
import math
import re
import string
from pathlib import Path

import pytest
from aiohttp import FormData

from core.agent_files import MAX_FILE_BYTES, safe_name
from core.config import Settings
from core.web.context import AppContext
from tests.fakes.memory_channel import MemoryChannel
from tests.web.inbox_helpers import open_ticket, web_context

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def ctx(store, engine, inbox, bus, kb, tmp_path) -> AppContext:  # type: ignore[no-untyped-def]
    settings = Settings.model_validate({"web": {"public_url": "http://support.example.com"}})
    context = web_context(store, engine, inbox, bus, kb, settings)
    context.data_dir = tmp_path / "data"
    return context


def reply_form(csrf: str, text: str, *files: tuple[str, bytes, str], internal: bool = False) -> FormData:
    form = FormData(quote_fields=False)  # names as a browser sends them: UTF-8, not percent-encoded
    form.add_field("csrf", csrf)
    form.add_field("text", text)
    form.add_field("internal", "1" if internal else "")
    for name, data, kind in files:
        form.add_field("files", data, filename=name, content_type=kind)
    return form


async def send(agent, tid: int, form: FormData):  # type: ignore[no-untyped-def]
    return await agent.client.post(f"/tickets/{tid}/reply", data=form,
                                   headers={"X-CSRF-Token": agent.csrf, "Accept": "application/json"})


async def test_an_agents_files_reach_the_channel_as_attachments(agent, engine, store, make_dispatcher, ctx) -> None:
    tid = await open_ticket(engine, "here is my problem")
    response = await send(agent, tid, reply_form(agent.csrf, "The form is attached.",
                                                 ("receipt.png", PNG, "image/png"),
                                                 ("form.pdf", b"%PDF-1.4 fake", "application/pdf")))
    assert response.status == 200, await response.text()
    channel = MemoryChannel()
    await make_dispatcher({"webchat": channel}).drain(timeout=5)
    sent = next(r for r in channel.sent if r.text == "The form is attached.")
    image, document = sent.attachments
    assert (image.kind, image.name, image.mime_type, image.size) == ("image", "receipt.png", "image/png", len(PNG))
    assert (document.kind, document.name, document.mime_type) == ("document", "form.pdf", "application/pdf")
    local = Path(image.local_path)
    assert local.is_relative_to(ctx.data_dir) and await asyncio.to_thread(local.read_bytes) == PNG
    assert image.url and image.url.startswith("http://support.example.com/f/")
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    inbox_link = image.url.replace("http://support.example.com/f/", "/files/")
    assert f'src="{inbox_link}"' in page and "form.pdf" in page
    served = await agent.client.get(inbox_link)
    assert served.status == 200 and await served.read() == PNG
    assert served.headers["Content-Type"] == "image/png" and "inline" in served.headers["Content-Disposition"]
    await agent.client.post("/logout", data={"csrf": agent.csrf})
    public = await agent.client.get(image.url.replace("http://support.example.com", ""), allow_redirects=False)
    assert public.status == 200 and await public.read() == PNG  # the customer's link needs no sign-in
    assert (await agent.client.get(inbox_link, allow_redirects=False)).status == 303  # the inbox's does


async def test_public_file_links_are_unguessable(agent, engine, store, client) -> None:
    """README: files reach the chat from unguessable links under /f/: long random tokens, unrelated to each other,
    and a link that is off by one character finds nothing."""
    tid = await open_ticket(engine, "two files please")
    response = await send(agent, tid, reply_form(agent.csrf, "Both attached.", ("a.png", PNG, "image/png"),
                                                 ("b.pdf", b"%PDF-1.4 fake", "application/pdf")))
    assert response.status == 200, await response.text()
    refs = [a["ref"] for a in (await store.ticket(tid)).messages[-1].message.attachments]
    found = [re.fullmatch(r"/f/([A-Za-z0-9_-]+)/(a\.png|b\.pdf)", ref) for ref in refs]
    assert all(found), refs
    tokens = [m.group(1) for m in found if m]
    for token in tokens:  # at least 128 bits: its length times the bits of the alphabet it is written in
        assert len(token) * math.log2(16 if set(token) <= set(string.hexdigits) else 64) >= 128, token
    first, second = tokens
    same = [a == b for a, b in zip(first, second, strict=False)]
    assert same[:8].count(True) < 8 and same[-8:].count(True) < 8  # no shared prefix or suffix (a counter, a time)
    assert same.count(True) <= len(same) // 2  # two random tokens agree in about one place in 64
    for ref in refs:
        assert (await client.get(ref)).status == 200
    token, name = refs[0][len("/f/"):].split("/")
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    misses = [f"/f/{changed}/{name}", f"/f/{token[1:]}/{name}", f"/f/{token[:-1]}/{name}",
              f"/f/{token}x/{name}", f"/f/{second}/{name}"]  # the other file's token with this file's name
    for miss in misses:
        assert (await client.get(miss)).status == 404, miss


async def test_an_uploaded_page_is_only_ever_a_download(agent, engine, store, client) -> None:
    tid = await open_ticket(engine, "look")
    evil = b"<html><script>alert(document.cookie)</script></html>"
    response = await send(agent, tid, reply_form(agent.csrf, "", ("page.html", evil, "text/html")))
    assert response.status == 200
    record = await store.ticket(tid)
    stored = record.messages[-1].message.attachments[0]
    assert stored["name"] == "page.html" and stored["mime_type"] == "application/octet-stream"
    served = await agent.client.get("/files/" + stored["ref"][len("/f/"):])
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment") and "sandbox" in served.headers[
        "Content-Security-Policy"]


async def test_a_notes_files_are_never_public(agent, engine, store, client) -> None:
    tid = await open_ticket(engine, "internal")
    await send(agent, tid, reply_form(agent.csrf, "for agents", ("ledger.png", PNG, "image/png"), internal=True))
    note = (await store.ticket(tid)).messages[-1].message
    assert note.direction == "note" and (await store.outbox_rows())[-1].payload["text"] != "for agents"
    ref = note.attachments[0]["ref"]
    assert (await agent.client.get("/files/" + ref[len("/f/"):])).status == 200
    assert (await agent.client.get(ref)).status == 404
    await agent.client.post("/logout", data={"csrf": agent.csrf})
    assert (await agent.client.get("/files/" + ref[len("/f/"):], allow_redirects=False)).status == 303


async def test_too_large_or_too_many_files_are_refused_and_nothing_is_kept(agent, engine, store, ctx,
                                                                           monkeypatch) -> None:
    from core import agent_files

    monkeypatch.setattr(agent_files, "MAX_FILE_BYTES", 1024)
    tid = await open_ticket(engine, "big")
    response = await send(agent, tid, reply_form(agent.csrf, "big file", ("big.bin", b"x" * 4096, "x/y")))
    assert response.status == 409 and "larger than" in (await response.json())["error"]
    many = reply_form(agent.csrf, "many", *[(f"f{n}.txt", b"data", "text/plain") for n in range(6)])
    response = await send(agent, tid, many)
    assert response.status == 409 and "at most 5 files" in (await response.json())["error"]
    folder = ctx.data_dir / "attachments"
    assert not folder.exists() or not any(folder.iterdir())
    assert all(m.message.text not in ("big file", "many") for m in (await store.ticket(tid)).messages)
    assert MAX_FILE_BYTES == 10 * 1024 * 1024


def test_file_names_cannot_leave_their_folder_or_hide_their_type() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\report.pdf") == "report.pdf"
    assert safe_name("invoice\u202egnp.exe") == "invoicegnp.exe"
    assert safe_name("") == "file" and safe_name("...") == "file"
    assert len(safe_name("a" * 300 + ".pdf")) == 120 and safe_name("a" * 300 + ".pdf").endswith(".pdf")


LONG_NAMES = ["中" * 119 + ".txt", "😀" * 100 + ".png", "é" * 200 + ".pdf", "x" * 300 + ".txt"]
ODD_NAMES = ["receipt #12.pdf", "50% off.pdf", "my file.pdf", "a%20b.pdf", "%2e%2e%2fenc", "收据 №1.pdf",
             "q?.pdf", "a&b=c;d.pdf", "😀.pdf", "+plus+.pdf"]


@pytest.mark.parametrize("name", LONG_NAMES + ODD_NAMES)
async def test_any_file_name_reaches_the_chat_as_a_link_that_downloads_it(name, agent, engine, make_dispatcher,
                                                                          ctx) -> None:
    """A name too long for the disk, or with characters that mean something in a URL (#, %, ?, spaces, unicode):
    the reply is sent, and the link the chat receives and the one the inbox shows both download the file."""
    tid = await open_ticket(engine, "send me the file")
    data = f"the file {name}".encode()
    response = await send(agent, tid, reply_form(agent.csrf, "Attached.", (name, data, "application/pdf")))
    assert response.status == 200, await response.text()
    channel = MemoryChannel()
    await make_dispatcher({"webchat": channel}).drain(timeout=5)
    (sent,) = [r for r in channel.sent if r.text == "Attached."]
    (file,) = sent.attachments
    shown = safe_name(name)
    assert file.name == shown and len(shown.encode()) <= 255
    stem, ext = name.rsplit(".", 1) if "." in name else (name, "")
    assert shown.endswith("." + ext if ext else "") and shown.startswith(stem[:20].replace("?", "_"))
    if len(name.encode()) <= 120:
        assert shown == name.replace("?", "_")  # a short name is shown to the customer as it was given
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    inbox_link = re.search(r'href="(/files/[^"]+)"', page)
    assert inbox_link, page
    served = await agent.client.get(inbox_link.group(1).replace("&amp;", "&"))
    assert served.status == 200 and await served.read() == data
    assert file.url and file.url.startswith("http://support.example.com/f/")
    public = await agent.client.get(file.url.replace("http://support.example.com", ""), allow_redirects=False)
    assert public.status == 200 and await public.read() == data
    assert file.ref == file.url.replace("http://support.example.com", "")  # what the website chat links to


BOUNDARY = "----probe"


def _multipart(*parts: tuple[str, bytes], closed: bool = True) -> bytes:
    out = b"".join(f"--{BOUNDARY}\r\n{head}\r\n\r\n".encode() + data + b"\r\n" for head, data in parts)
    return out + (f"--{BOUNDARY}--\r\n".encode() if closed else b"")


TEXT_PART = ('Content-Disposition: form-data; name="text"', b"should never be sent")
MALFORMED = {
    "a NUL byte in a file name": (_multipart(TEXT_PART, (
        'Content-Disposition: form-data; name="files"; filename="a\x00b.txt"\r\nContent-Type: text/plain', b"x")),
        f"multipart/form-data; boundary={BOUNDARY}"),
    "no closing boundary": (_multipart(TEXT_PART, closed=False)[:-2], f"multipart/form-data; boundary={BOUNDARY}"),
    "no closing boundary after a file": (_multipart(TEXT_PART, (
        'Content-Disposition: form-data; name="files"; filename="a.txt"', b"data"), closed=False),
        f"multipart/form-data; boundary={BOUNDARY}"),
    "no boundary": (b"xxx", "multipart/form-data"),
    "a header without a colon": (f"--{BOUNDARY}\r\nContent-Disposition form-data\r\n\r\nabc\r\n--{BOUNDARY}--\r\n"
                                 .encode(), f"multipart/form-data; boundary={BOUNDARY}"),
    "garbage": (b"\x00\xff" * 100, f"multipart/form-data; boundary={BOUNDARY}"),
}


@pytest.mark.parametrize("with_script", [True, False], ids=["page script", "plain form"])
@pytest.mark.parametrize("case", list(MALFORMED))
async def test_a_malformed_reply_form_is_a_400_and_nothing_is_stored_or_sent(case, with_script, agent, engine, store,
                                                                            ctx) -> None:
    tid = await open_ticket(engine, "my problem")
    before = [m.message.text for m in (await store.ticket(tid)).messages], len(await store.outbox_rows())
    body, content_type = MALFORMED[case]
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    if with_script:
        headers["X-CSRF-Token"] = agent.csrf
    else:
        body = body.replace(b"--" + BOUNDARY.encode() + b"\r\n", (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{agent.csrf}\r\n--{BOUNDARY}\r\n')
            .encode(), 1)
    response = await agent.client.post(f"/tickets/{tid}/reply", data=body, headers=headers)
    assert response.status == 400, (response.status, await response.text())
    assert "malformed" in (await response.text())
    assert ([m.message.text for m in (await store.ticket(tid)).messages], len(await store.outbox_rows())) == before
    folder = ctx.data_dir / "attachments"
    assert not folder.exists() or not any(folder.iterdir())
