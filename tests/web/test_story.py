"""The agent sees the whole story: what came before the handoff, the bot's answers with FAQ and confidence,
what the bot collected, and the customer's rating, on the page, in the API and in the transcript."""

from __future__ import annotations

from core import accounts
from core.models import Author, InboundMessage


async def _say(engine, text: str, n: int, *, button: bool = False):  # type: ignore[no-untyped-def]
    return await engine.handle_message(InboundMessage("webchat", f"s{n}", "web:story", Author("v1", "Visitor"), text,
                                                      raw={"button": True} if button else {}))


async def test_the_ticket_shows_the_story_the_fields_and_the_rating(agent, engine, store, inbox) -> None:
    await _say(engine, "我的转账一直没到账", 1)
    opened = await _say(engine, "feedback:unsolved", 2, button=True)
    await _say(engine, "单号 TX20261129883104，300 USDT，昨天", 3)
    tid = opened.ticket_id

    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert "我的转账一直没到账" in page and "before handoff" in page and "handed to a person" in page
    assert "FAQ transaction-failed" in page and "marked not helpful" in page
    assert "TX20261129883104" in page and "Collected by the bot" in page

    token = await accounts.create_api_token(store, "story")
    detail = await (await agent.client.get(f"/api/v1/tickets/{tid}",
                                           headers={"Authorization": f"Bearer {token}"})).json()
    assert detail["fields"]["transaction_id"] == "TX20261129883104"
    story = [m for m in detail["messages"] if m["before_handoff"]]
    assert story[0]["text"] == "我的转账一直没到账"
    answer = next(m["answer"] for m in story if m["answer"])
    assert answer["faq_id"] == "transaction-failed" and answer["feedback"] == "unhelpful" and answer["confidence"]
    assert detail["subject"].startswith("我的转账一直没到账")  # the problem, not the button

    await inbox.set_status(tid, "solved")
    await _say(engine, "rate:5", 4, button=True)
    detail = await (await agent.client.get(f"/api/v1/tickets/{tid}",
                                           headers={"Authorization": f"Bearer {token}"})).json()
    assert detail["rating"]["score"] == 5 and detail["status"] == "solved"
    transcript = await (await agent.client.get(f"/tickets/{tid}/transcript.txt")).text()
    assert "[before handoff]" in transcript and "--- handed to a person ---" in transcript
    assert "collected by the bot: transaction_id: TX20261129883104" in transcript

    found = await (await agent.client.get("/api/v1/tickets?q=TX20261129883104",
                                          headers={"Authorization": f"Bearer {token}"})).json()
    assert [t["id"] for t in found["tickets"]] == [tid]  # the transaction number finds its ticket
