"""Translation of real-shaped Bot API payloads (tests/payloads/telegram) into the normalised model,
and of Telegram errors into our typed errors. Pure functions: PTB parses, our code translates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bots.telegram.inbound import BotIdentity, command_of, files_of, replied_message, to_inbound
from bots.telegram.outbound import callback_data_for, fit_text, map_error, parse_conversation, parse_message_ref
from core.errors import RateLimited, RetryLater, Uncertain, Undeliverable
from core.models import AttachmentKind
from tests.fakes.telegram_api import FakeTelegram

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "telegram"
BOT = BotIdentity(123456789, "okpay_support_bot")


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def message(name: str) -> Any:
    update = Update.de_json(load(name), None)
    assert update is not None and update.message is not None
    return update.message


def test_a_private_message_is_a_private_conversation_with_the_users_language():
    m = to_inbound(message("private_text.json"), BOT)
    assert (m.channel, m.platform_id, m.conversation) == ("telegram", "5001:41", "5001")
    assert (m.public, m.addressed, m.private_conversation, m.reply_to) == (False, True, None, None)
    assert m.author.platform_user_id == "5001" and m.author.display_name == "Ann Lee"
    assert m.author.handle == "ann_lee" and m.author.language == "en"
    assert m.received_at.tzinfo is not None and m.text == "How do I reset my password?"


def test_a_start_deep_link_is_the_start_command_with_its_parameter_kept():
    m = to_inbound(message("private_start_deep_link.json"), BOT)
    assert m.text == "/start ticket-17"  # the engine confirms ticket 17 from it
    assert (m.raw["command"], m.raw["command_args"]) == ("start", "ticket-17")
    assert m.author.language == "zh-hans"


def test_a_group_mention_is_public_addressed_and_loses_the_mention():
    m = to_inbound(message("group_mention.json"), BOT)
    assert m.conversation == "-1001500600700" and m.platform_id == "-1001500600700:1203"
    assert (m.public, m.addressed, m.private_conversation) == (True, True, "5003")
    assert m.text == "😀 提現失敗怎麼辦？"


def test_a_text_mention_of_the_bot_counts_and_the_reply_is_kept():
    m = to_inbound(message("group_text_mention_reply.json"), BOT)
    assert m.addressed is True
    assert m.reply_to == "-1001500600700:1204"


def test_a_forum_topic_photo_is_the_topics_conversation_with_the_largest_size():
    msg = message("forum_topic_photo.json")
    m = to_inbound(msg, BOT)
    assert m.conversation == "-1001500600800:77"
    assert m.reply_to is None and m.addressed is False
    assert m.text == "error after I press withdraw" and m.raw["media_group_id"] == "13847295610"
    [photo] = files_of(msg)
    assert (photo.kind, photo.file_id, photo.size) == (AttachmentKind.IMAGE, "AgACAgIAAxkBAAIBNmZ-large", 98211)


def test_voice_sticker_and_document_become_typed_attachments():
    refs = []
    for data in load("private_voice_sticker_document.json"):
        update = Update.de_json(data, None)
        assert update is not None and update.message is not None
        refs.extend(files_of(update.message))
    assert [(r.kind, r.mime_type) for r in refs] == [
        (AttachmentKind.AUDIO, "audio/ogg"), (AttachmentKind.STICKER, "image/webp"),
        (AttachmentKind.DOCUMENT, "application/pdf")]
    assert refs[2].name == "statement.pdf" and refs[2].attachment().ref == "BQACAgIAAxkBAAIBOmZ-doc"


def test_escalate_addressed_to_this_bot_points_at_the_replied_message():
    msg = message("escalate_reply.json")
    command = command_of(msg, BOT)
    assert command is not None and (command.name, command.args) == ("escalate", "VIP, please check")
    target = replied_message(msg)
    assert target is not None
    t = to_inbound(target, BOT, addressed=False)
    assert (t.platform_id, t.text, t.author.platform_user_id) == ("-1001500600700:1209", "我的提現三天了還沒到", "5003")
    assert command_of(msg, BotIdentity(1, "another_bot")) is None


def test_the_fakes_entities_use_utf16_offsets_like_telegram():
    fake = FakeTelegram()
    ann = fake.user(5001, "Ann")
    body = fake.message(fake.group(-100123), ann, "😀😀 @okpay_support_bot hi")
    update = Update.de_json({"update_id": 1, "message": body}, None)
    assert update is not None and update.message is not None
    m = to_inbound(update.message, BOT)
    assert m.addressed is True and m.text == "😀😀 hi"


def _caused(error: TelegramError, cause: BaseException) -> TelegramError:
    error.__cause__ = cause  # as PTB raises it: ``raise TimedOut from httpx_error``
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RetryAfter(5), RateLimited),
        (Forbidden("Forbidden: bot was blocked by the user"), Undeliverable),
        (BadRequest("Bad Request: chat not found"), Undeliverable),
        (ChatMigrated(-1009876), Undeliverable),
        (NetworkError("Bad Gateway"), RetryLater),  # an HTTP answer: Telegram did nothing
        # nothing (or not all of the request) was written: Telegram cannot have it
        (_caused(NetworkError("httpx.ConnectError: refused"), httpx.ConnectError("refused")), RetryLater),
        (_caused(TimedOut(), httpx.ConnectTimeout("connect")), RetryLater),
        (_caused(TimedOut("Pool timeout"), httpx.PoolTimeout("pool")), RetryLater),
        (_caused(TimedOut(), httpx.WriteTimeout("write")), RetryLater),
        # written, then no answer: Telegram may have sent it
        (_caused(TimedOut(), httpx.ReadTimeout("read")), Uncertain),
        (_caused(NetworkError("httpx.ReadError"), httpx.ReadError("reset")), Uncertain),
        (_caused(NetworkError("httpx.RemoteProtocolError"), httpx.RemoteProtocolError("closed")), Uncertain),
        (TimedOut(), Uncertain),
    ],
)
def test_telegram_errors_map_once_to_our_typed_errors(error, expected):
    mapped = map_error(error)
    assert type(mapped) is expected
    if expected is RateLimited:
        assert mapped.retry_after == 5.0 and mapped.scope == "channel"  # a flood wait stops the whole bot


def test_callback_data_fits_64_bytes_and_long_payloads_become_a_stable_hash():
    assert callback_data_for("faq:login") == ("faq:login", False)
    chinese = "faq:" + "转账" * 11  # 4 + 66 bytes
    data, hashed = callback_data_for(chinese)
    assert hashed and len(data.encode()) <= 64 and callback_data_for(chinese) == (data, True)
    assert callback_data_for(chinese + "x")[0] != data


def test_text_is_split_by_the_utf16_units_telegram_counts():
    emoji = "🙂" * 3000  # 3000 characters, 6000 UTF-16 units
    parts = fit_text(emoji, 4096)
    assert "".join(parts) == emoji
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert fit_text("短句", 4096) == ["短句"]


def test_conversation_and_message_references_parse_back():
    assert parse_conversation("5001") == (5001, None)
    assert parse_conversation("-1001500600800:77") == (-1001500600800, 77)
    with pytest.raises(Undeliverable):
        parse_conversation("general")
    assert parse_message_ref("-100150:1203", -100150) == 1203
    assert parse_message_ref("-100150:1203", 5001) is None  # another chat: no reply, just send
    assert parse_message_ref("cb:4382", 5001) is None
