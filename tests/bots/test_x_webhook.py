"""The Account Activity webhook: CRC, signed deliveries, forged ones refused before anything is stored.
Payloads are the sample deliveries in tests/payloads/x/ (v1.1 Account Activity shapes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bots.x.adapter import DM_CURSOR
from core.store.tables import Message
from tests.contract.harness_x import FlakyInbound, XHarness
from tests.fakes.x_activity import dm_activity
from tests.fakes.x_api import BOT_ID, FakeX

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "x"


def sample(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def sign(secret: str, body: bytes) -> str:
    """X's documented scheme, computed here independently of the adapter."""
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Webhook:
    def __init__(self, harness: XHarness) -> None:
        self.harness = harness
        self.secret = harness.fake.creds.consumer_secret
        app = web.Application()
        app.router.add_routes(harness.adapter.web_routes())
        self.client = TestClient(TestServer(app, host="127.0.0.1"))

    async def __aenter__(self) -> TestClient:
        await self.client.start_server()
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()


async def stored_count(store) -> int:  # type: ignore[no-untyped-def]
    return await store.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))


def harness(engine, store) -> XHarness:  # type: ignore[no-untyped-def]
    h = XHarness(engine, cursor_store=store, settings={"mode": "webhook"})
    h.customer("5001", "ann")
    return h


async def test_crc_challenge_is_answered_with_the_hmac_of_the_token(engine, store):
    async with harness(engine, store) as x, Webhook(x) as client:
        resp = await client.get("/webhooks/x", params={"crc_token": "Y2hhbGxlbmdl-42"})
        assert resp.status == 200
        assert await resp.json() == {"response_token": sign(x.fake.creds.consumer_secret, b"Y2hhbGxlbmdl-42")}
        assert (await client.get("/webhooks/x")).status == 400


async def test_the_crc_endpoint_cannot_be_used_to_sign_a_forged_delivery(engine, store):
    """The challenge and the deliveries share one HMAC key: the attack asks for the signature of the body
    it wants to post. A JSON object cannot be a CRC token, so no such signature is ever handed out."""
    async with harness(engine, store) as x, Webhook(x) as client:
        body = sample("activity_dm.json").decode()
        crc = await client.get("/webhooks/x", params={"crc_token": body})
        assert crc.status == 400
        for token in ("x" * 129, '{"for_user_id": "1"}', "a b"):
            assert (await client.get("/webhooks/x", params={"crc_token": token})).status == 400
        posted = await client.post("/webhooks/x", data=body.encode(), headers={
            "x-twitter-webhooks-signature": "sha256=" + "A" * 43 + "="})
        assert posted.status == 403
        odd = await client.post("/webhooks/x", data=body.encode(), headers={
            "x-twitter-webhooks-signature": "sha256=\udcff".encode("utf-8", "surrogateescape").decode("latin-1")})
        assert odd.status == 403
        assert await stored_count(store) == 0


async def test_forged_or_malformed_deliveries_are_refused_and_nothing_is_stored(engine, store):
    async with harness(engine, store) as x, Webhook(x) as client:
        body = sample("activity_dm.json")
        forged = await client.post("/webhooks/x", data=body, headers={
            "x-twitter-webhooks-signature": sign("not-the-consumer-secret", body)})
        unsigned = await client.post("/webhooks/x", data=body)
        tampered = await client.post("/webhooks/x", data=body.replace(b"password", b"pa$$word"), headers={
            "x-twitter-webhooks-signature": sign(x.fake.creds.consumer_secret, body)})
        assert (forged.status, unsigned.status, tampered.status) == (403, 403, 403)
        junk = b'{"direct_message_events": [{"type": "message_create"}]'
        malformed = await client.post("/webhooks/x", data=junk, headers={
            "x-twitter-webhooks-signature": sign(x.fake.creds.consumer_secret, junk)})
        assert malformed.status == 400
        assert await stored_count(store) == 0


async def test_signed_dm_is_stored_answered_once_and_the_echo_ignored(engine, store, kb, make_dispatcher):
    async with harness(engine, store) as x, Webhook(x) as client:
        secret = x.fake.creds.consumer_secret
        body = sample("activity_dm.json")
        for _ in range(2):  # X retries a delivery it thinks failed: the second is a duplicate
            resp = await client.post("/webhooks/x", data=body,
                                     headers={"x-twitter-webhooks-signature": sign(secret, body)})
            assert resp.status == 200
        echo = sample("activity_dm_echo.json")  # Account Activity also reports DMs the bot sent
        resp = await client.post("/webhooks/x", data=echo, headers={"x-twitter-webhooks-signature": sign(secret, echo)})
        assert resp.status == 200
        [message] = [m.message for m in await store.messages_for_conversation("x", "dm:5001")
                     if m.message.direction == "in"]
        assert message.platform_id == "1863000000000000001" and message.author_kind == "customer"
        await make_dispatcher({"x": x.adapter}).drain()
        [answer] = [e["text"] for e in x.fake.bot_dms() if e["dm_conversation_id"] == f"{BOT_ID}-5001"]
        assert answer.startswith(kb.answer("login", "en"))


async def test_signed_mention_is_answered_in_public_under_the_post(engine, store, make_dispatcher):
    async with harness(engine, store) as x, Webhook(x) as client:
        payload = json.loads(sample("activity_mention.json"))
        # the post exists on the (fake) platform, so the reply can thread under it
        tweet_id = x.fake.post("5001", payload["tweet_create_events"][0]["text"])
        payload["tweet_create_events"][0]["id_str"] = tweet_id
        payload["tweet_create_events"][0]["id"] = int(tweet_id)
        body = json.dumps(payload).encode()
        resp = await client.post("/webhooks/x", data=body, headers={
            "x-twitter-webhooks-signature": sign(x.fake.creds.consumer_secret, body)})
        assert resp.status == 200
        [stored] = [m.message for m in await store.messages_for_conversation("x", f"tweet:{tweet_id}")
                    if m.message.direction == "in"]
        assert stored.public and stored.text == "is OKPay safe to use? my friend says it leaks data"
        await make_dispatcher({"x": x.adapter}).drain()
        assert {p["referenced_tweets"][0]["id"] for p in x.fake.bot_posts()} >= {tweet_id}
        assert x.fake.count("mentions") == 0 and x.fake.count("dm_events") == 0  # webhook mode does not poll


# ---- the same DM by webhook and by polling ------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_message(self, message):  # type: ignore[no-untyped-def]
        self.messages.append(message)

    async def handle_escalation(self, escalation):  # type: ignore[no-untyped-def]
        return None

    async def handle_edit(self, edit):  # type: ignore[no-untyped-def]
        return None


async def post_signed(client: TestClient, secret: str, payload: dict) -> int:  # type: ignore[type-arg]
    body = json.dumps(payload).encode()
    resp = await client.post("/webhooks/x", data=body, headers={"x-twitter-webhooks-signature": sign(secret, body)})
    return resp.status


@pytest.mark.parametrize("media", [
    {"photo": "https://ton.x.com/i/ton/data/dm/1/2/shot.jpg"},
    {"video": "https://video.twimg.com/dm_video/1/vid/1280x720/clip.mp4"},
])
async def test_a_dm_with_media_gives_the_same_attachments_by_webhook_as_by_polling(media: dict[str, str]) -> None:
    fake = FakeX()
    fake.add_user("5001", "ann", "Ann Lee")
    polled, pushed = Recorder(), Recorder()
    async with XHarness(polled, fake=fake) as x:
        event = fake.dm("5001", "this error appears", **media)
        await x.until_handed(DM_CURSOR, event)
    async with XHarness(pushed, fake=fake, settings={"mode": "webhook"}) as x, Webhook(x) as client:
        assert await post_signed(client, fake.creds.consumer_secret, dm_activity(fake, event)) == 200
    [by_poll], [by_hook] = polled.messages, pushed.messages
    assert by_poll.attachments and by_hook.attachments == by_poll.attachments
    kind = "image" if "photo" in media else "video"
    assert [a.kind for a in by_hook.attachments] == [kind]
    assert (by_hook.platform_id, by_hook.conversation, by_hook.text, by_hook.author) == \
        (by_poll.platform_id, by_poll.conversation, by_poll.text, by_poll.author)


async def test_the_sample_photo_dm_is_stored_with_its_attachment(engine, store):
    async with harness(engine, store) as x, Webhook(x) as client:
        body = sample("activity_dm_photo.json")
        resp = await client.post("/webhooks/x", data=body, headers={
            "x-twitter-webhooks-signature": sign(x.fake.creds.consumer_secret, body)})
        assert resp.status == 200
        [row] = await store.all(select(Message).where(Message.channel == "x", Message.direction == "in"))
    assert row.platform_id == "1863000000000000003"
    [photo] = row.attachments
    assert photo["kind"] == "image" and photo["ref"] == "3_1863000000000000777"
    assert photo["url"] == "https://ton.twitter.com/1.1/ton/data/dm/1863000000000000003/1863000000000000777/xT2r.jpg"


async def test_a_delivery_the_engine_could_not_store_is_refused_so_x_sends_it_again(engine, store):
    flaky = FlakyInbound(engine, fail_once={"1863000000000000001"})
    async with harness(flaky, store) as x, Webhook(x) as client:
        payload = json.loads(sample("activity_dm.json"))
        assert await post_signed(client, x.fake.creds.consumer_secret, payload) == 503  # X retries non-2xx
        assert await stored_count(store) == 0
        assert await post_signed(client, x.fake.creds.consumer_secret, payload) == 200  # after the commit
        assert await stored_count(store) == 1
        assert flaky.handed == ["1863000000000000001"] * 2
