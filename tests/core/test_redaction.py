"""Secrets customers send never reach the store: recovery phrases, keys, cards, passwords, one-time codes."""

from __future__ import annotations

import re
import secrets

import base58
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mnemonic import Mnemonic
from sqlalchemy import select, text
from stdnum import luhn

from core.models import Author, InboundMessage
from core.pipeline import Engine
from core.redaction import CARD, CODE, COMPLAINT_WORDS, KEY, PASSWORD, PHRASE, redact
from core.store import Store
from core.store.tables import Message, Outbox

EN, ZH, ZHT = (Mnemonic(lang) for lang in ("english", "chinese_simplified", "chinese_traditional"))
WIF = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"
XPRV = ("xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33"
        "yuGBxrMPHi")


@pytest.mark.parametrize(("said", "kinds", "kept"), [
    (f"my seed: {EN.generate(128)}", (PHRASE,), "my seed:"),
    ("1. " + " 2. ".join(EN.generate(256).split()), (PHRASE,), ""),
    (f"助记词：{ZH.generate(128)}", (PHRASE,), "助记词"),
    (f"助記詞 {ZHT.generate(256)}", (PHRASE,), "助記詞"),
    ("我的助记词是" + ZH.generate(128).replace(" ", "") + "，帮我看看", (PHRASE,), "帮我看看"),
    ("private key 0x" + "3f" * 32, (KEY,), "private key"),
    (f"here is my key {WIF} thanks", (KEY,), "thanks"),
    (f"{XPRV}", (KEY,), ""),
    ("card 4111 1111 1111 1111, exp 12/28", (CARD,), "exp 12/28"),
    ("卡号 5500-0000-0000-0004", (CARD,), "卡号"),
    ("my password is Hunter22!", (PASSWORD,), "my password is"),
    ("password: sunshine", (PASSWORD,), "password:"),
    ("我的密码是 Abc12345 帮我看看", (PASSWORD,), "帮我看看"),
    ("我的密碼為 qwerty99", (PASSWORD,), "我的密碼為"),
    ("验证码 482913", (CODE,), "验证码"),
    ("驗證碼：482913", (CODE,), "驗證碼"),
    ("my OTP is 123456", (CODE,), "my OTP is"),
    ("the verification code I got: 8831", (CODE,), "the verification code"),
])
def test_secrets_are_replaced_by_a_marker(said: str, kinds: tuple[str, ...], kept: str) -> None:
    result = redact(said)
    assert result.kinds == kinds
    assert f"[redacted: {kinds[0]}]" in result.text and kept in result.text


@pytest.mark.parametrize("said", [
    "我的转账一直没到账，已经三天了", "忘记密码了怎么办", "密码是什么意思", "助记词是什么？", "my password is wrong",
    "Password is not working", "error code 1001 when I log in", "How do I reset my 2FA?",
    "my withdrawal of 300 USDT is stuck since Monday", "txid " + "ab" * 32, "交易哈希 0x" + "cd" * 32,
    "order 4111111111111111", "订单号 2026112912345678", "my phone number is 13812345678",
    "If you placed an order or payment by mistake, contact support right away to change or cancel it",
])
def test_ordinary_support_messages_are_kept_whole(said: str) -> None:
    assert redact(said).kinds == ()  # transaction references stay: agents need them


def _card(digits: str) -> str:
    body = "4" + digits
    return body + luhn.calc_check_digit(body)


ENTROPY = st.sampled_from([16, 20, 24, 28, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n))
CARDS = st.text("0123456789", min_size=14, max_size=14).map(_card)
SECRETS = st.one_of(
    ENTROPY.map(EN.to_mnemonic), ENTROPY.map(ZH.to_mnemonic), ENTROPY.map(ZHT.to_mnemonic),
    st.binary(min_size=32, max_size=32).map(bytes.hex),
    st.binary(min_size=32, max_size=32).map(lambda b: base58.b58encode_check(b"\x80" + b).decode()),
    CARDS, CARDS.map(lambda c: " ".join(c[i:i + 4] for i in range(0, 16, 4))),
)
CUED = st.one_of(
    st.tuples(st.sampled_from(["my password is ", "password: ", "我的密码是", "密碼：", "pwd="]),
              # a plain complaint word ("my password is wrong") is the one documented exception
              st.text("abcdefghjkmnpqrstuvwxyzABCDEFGH0123456789!#%", min_size=8, max_size=16)
              .filter(lambda v: v.lower() not in COMPLAINT_WORDS)),
    st.tuples(st.sampled_from(["验证码 ", "驗證碼：", "my otp is ", "2FA code ", "verification code: "]),
              st.text("0123456789", min_size=6, max_size=6)),
)
WORDS = ["hello", "please help", "我的钱包", "帮我看看", "thanks!", "urgent", "账户被锁了", "is this right?", "谢谢",
         "I sent it yesterday", "为什么", ":)", "\n", "……", "OK"]
AROUND = st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join)


async def _stored_texts(store: Store) -> str:
    """Every string the store holds about messages, tickets and deliveries, as one blob to search."""
    chunks: list[str] = []
    async with store.sessions() as session:
        for table in ("messages", "tickets", "outbox", "ticket_events", "conversations", "customers", "identities"):
            for row in (await session.execute(text(f"SELECT * FROM {table}"))).all():
                chunks.extend(str(value) for value in row)
    return "\n".join(chunks)


def _held(part: str, blob: str) -> bool:
    """``part`` stored as a token of its own; a generated password that is also the inside of a word the store
    writes anyway ("attachme" of the outbox's "attachments") is not a leak. A leak is bounded: the customer typed
    the secret between spaces, a cue ("pwd=", "密码是") and the end of the text."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(part)}(?![A-Za-z0-9])", blob) is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=AROUND, secret=SECRETS, after=AROUND, cued=CUED, public=st.booleans())
async def test_a_generated_secret_inside_random_text_never_reaches_the_database(
        engine: Engine, store: Store, before: str, secret: str, after: str, cued: tuple[str, str],
        public: bool) -> None:
    cue, value = cued
    said = f"{before} {secret} {after} {cue}{value} {after}"
    pid = secrets.token_hex(6)
    await engine.handle_message(InboundMessage(
        "telegram", pid, "-100" if public else "42", Author("42", "Mei"), said, public=public,
        private_conversation="42" if public else None, raw={"message": {"text": said, "caption": said}}))
    blob = await _stored_texts(store)
    for part in (secret, secret.replace(" ", ""), value):
        assert not _held(part, blob)
    words = secret.split()
    if len(words) >= 12:  # not even a few words of a phrase in a row
        assert not any(" ".join(words[i:i + 3]) in blob for i in range(len(words) - 2))
    row = await store.scalar(select(Message).where(Message.platform_id == pid))
    assert row.redacted  # the flag the inbox and the API show
    warnings = await store.all(select(Outbox.payload))
    assert warnings  # the customer is told what to do now


async def test_the_customer_is_warned_in_their_language_and_the_ticket_never_holds_it(engine: Engine, store: Store,
                                                                                     kb) -> None:
    phrase = ZH.generate(128)
    outcome = await engine.handle_message(InboundMessage(
        "telegram", "m1", "7", Author("7", "李"), f"转人工，我的助记词是 {phrase}，钱被转走了"))
    [ticket_id] = [outcome.ticket_id]
    record = await store.ticket(ticket_id)
    assert phrase not in record.ticket.subject and "[redacted: recovery phrase]" in record.ticket.subject
    bot = [m.message.text for m in record.messages if m.message.author_kind == "bot"]
    assert bot[0] == kb.message("secret_warning_wallet", "zh-Hans")
