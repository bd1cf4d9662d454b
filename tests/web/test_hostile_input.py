"""Hostile or broken input gets a clear 4xx and changes nothing: never a 500, never someone else's text."""

from __future__ import annotations

from core import accounts
from tests.web.inbox_helpers import PASSWORD, open_ticket, sign_in


async def _token(store) -> dict[str, str]:  # type: ignore[no-untyped-def]
    token = await accounts.create_api_token(store, "probe")
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def test_malformed_json_and_absurd_numbers_are_client_errors(client, store, engine) -> None:
    tid = await open_ticket(engine)
    headers = await _token(store)
    deep = await client.post(f"/api/v1/tickets/{tid}/replies", data="[" * 10_000 + "]" * 10_000, headers=headers)
    assert deep.status == 400 and "nested too deeply" in (await deep.json())["error"]["message"]
    huge = await client.post(f"/api/v1/tickets/{tid}/replies", data='{"text": ' + "9" * 5000 + "}", headers=headers)
    assert huge.status == 400
    big = await client.patch(f"/api/v1/tickets/{tid}", data=f'{{"assignee": {2**63}}}', headers=headers)
    assert big.status == 422
    assert len((await store.ticket(tid)).messages) == 3  # nothing was added


async def test_ids_are_ascii_digits_only(client, store, engine) -> None:
    tid = await open_ticket(engine)
    assert tid == 1
    headers = await _token(store)
    for raw in ("²", "١", "１", "1.0", "-1", "9" * 30):
        response = await client.get(f"/api/v1/tickets/{raw}", headers=headers)
        assert response.status == 404, raw  # "١" is not ticket 1
    bad = await client.get("/api/v1/tickets", headers={"Authorization": "Bearer \udcff\udcfe".encode(
        "utf-8", "surrogateescape").decode("latin-1")})
    assert bad.status == 401


async def test_agents_cannot_open_the_admin_page_and_error_links_show_nothing(client, store, engine) -> None:
    await accounts.create_agent(store, "bob", PASSWORD, role="agent")
    await sign_in(client, "bob")
    assert (await client.get("/agents")).status == 403
    tid = await open_ticket(engine)
    page = await (await client.get(f"/tickets/{tid}?error=Your+account+is+suspended.+Call+%2B1-555")).text()
    assert "suspended" not in page and 'role="alert"' not in page


async def test_direction_overrides_never_reach_a_page_and_tags_are_bounded(client, store, engine, agent) -> None:
    tid = await open_ticket(engine, "ok")
    async with store.transaction() as session:
        from core.store.tables import Ticket

        ticket = await session.get(Ticket, tid)
        ticket.subject = "refund \u202e0001$ \u202cplease"
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    listing = await (await agent.client.get("/")).text()
    assert "\u202e" not in page and "\u202e" not in listing and "refund 0001$ please" in page
    long = await agent.post(f"/tickets/{tid}/update", {"action": "tags", "tags": "x" * 5000})
    assert long.status == 303
    assert (await store.ticket(tid)).ticket.tags == []
    await agent.post(f"/tickets/{tid}/update", {"action": "tags", "tags": "vip\x00,\u202ebank"})
    assert (await store.ticket(tid)).ticket.tags == ["bank", "vip"]


async def test_direction_overrides_never_reach_a_transcript_download_either(store, engine, agent) -> None:
    """The text transcript kept the overrides the pages remove: opened in an editor, "\u202e0001$" reads "$1000"."""
    tid = await open_ticket(engine, "I sent \u202e0001$\u202c to \u2067Bob\u2069 and \u202dnothing\u202a came",
                            name="Ann \u202eevil")
    for fmt in ("txt", "html"):
        body = await (await agent.client.get(f"/tickets/{tid}/transcript.{fmt}")).text()
        assert not any(c in body for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), fmt
        assert "I sent 0001$ to Bob and nothing came" in body, fmt  # only the controls go: the words stay
