"""X's text rules as a reader meets them: posts X accepts (weighted length), threads that read whole,
the sentences the channel adds itself."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.x.length import weighted_length, weights
from bots.x.text import ADDITION_ROOM, same_post, split_post, strip_reply_prefix, thread
from bots.x.wording import again, no_dms_line, reply_waiting_note, with_invite, without_private

MARKER = re.compile(r" \(\d+/\d+\)$")


@pytest.mark.parametrize(("text", "length"), [
    # examples of twitter-text's conformance suite (validate.yml, WeightedTweetsCounterTest, config v3)
    ("This is a test.", 15),
    ("Hi http://test.co", 26),
    ("http://test.co/some/path?a=b#c", 23),
    ("Hello 🙋🏽👨‍🎤 world", 16),  # an emoji with modifiers or joiners weighs 2, however many code points
    ("日本語", 6),
    ("안녕하세요", 10),
    ("x" * 280, 280),
    # what X made us learn: a bare domain with or without a path is a link (23)
    ("reset it at okpay.com/login", 12 + 23),
    ("see okpay.com", 4 + 23),
    ("www.okpay.com/help please", 23 + 7),
    ("not a link: file.txt, a.b, me@okpay.com", 39),
    ("你好 https://okpay.com/帮助", 4 + 1 + 23 + 4),  # CJK after the path is not part of the link
])
def test_weighted_length_counts_like_x(text: str, length: int) -> None:
    assert weighted_length(text) == length
    assert sum(weights(text)) == length


def test_a_bare_link_no_longer_makes_a_post_x_refuses():
    """Issue 11: "okpay.com/login" counted as 15 characters made a 301-character post."""
    text = "To reset your password open okpay.com/login/reset-password-now-please-with-the-long-path " + "z" * 195
    parts = split_post(text, 280)
    assert all(weighted_length(p) <= 280 for p in parts)
    assert weighted_length(text) <= 280 < len(text)  # one post: the long link weighs 23, not its length
    assert parts == [text]


def test_a_long_chinese_answer_becomes_a_numbered_thread_cut_at_sentences():
    text = "请先在登录页点击忘记密码。" * 30
    parts = split_post(text, 280)
    assert len(parts) > 1
    assert all(weighted_length(p) <= 280 for p in parts)
    assert all(MARKER.sub("", p).endswith("。") for p in parts)  # never mid-sentence
    assert parts[-1].endswith(f"({len(parts)}/{len(parts)})")


@pytest.mark.parametrize("url", ["https://okpay.com/help/reset-password", "okpay.com/help/reset-password"])
def test_links_are_never_cut(url: str):
    text = ("word " * 50) + url + (" more" * 40)
    parts = split_post(text, 280)
    assert any(url in p for p in parts)


def test_emoji_are_never_cut():
    text = "👨‍👩‍👧 " * 140
    parts = split_post(text, 280)
    assert len(parts) > 1 and all(weighted_length(p) <= 280 for p in parts)
    assert "".join(MARKER.sub("", p) for p in parts).replace(" ", "") == text.replace(" ", "")


def test_short_text_is_one_post_without_marker():
    assert split_post("Yes, top-ups are free.", 280) == ["Yes, top-ups are free."]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["Hello there.", "你好。", "Fees are zero!", "https://okpay.com/x", "\n",
                                 "okpay.com/login", "账户被锁定了", "a", "👍🏽", "zxcvbnmasdfghjklqwertyuiop" * 3,
                                 "再试一次？"]),
                min_size=1, max_size=80),
       st.sampled_from(["", "@ann ", "@a_very_long_nam "]), st.booleans())
def test_every_part_fits_with_its_prefix_and_addition_and_nothing_is_lost(pieces, prefix, reworded):
    text = " ".join(pieces).strip() or "x"
    addition = again("2127185258490101760", 3, "zh-Hant") if reworded else ""
    parts = thread(text, 280, prefix=prefix, addition=addition)
    assert all(weighted_length(p) <= 280 for p in parts)
    bare = [MARKER.sub("", p.removeprefix(prefix).removesuffix(f" {addition}" if addition else ""))
            for p in parts]
    joined = "".join(bare) if len(parts) > 1 else bare[0]
    assert re.sub(r"\s+", "", joined) == re.sub(r"\s+", "", text)
    plain = thread(text, 280, prefix=prefix)
    if len(plain) > 1:  # the room kept: a rewording can be added to any part later
        assert all(weighted_length(p) + ADDITION_ROOM <= 280 for p in plain)


def test_a_rewording_keeps_the_thread_cut_where_it_was():
    text = " ".join(f"Step {i}: open the app, go to settings and follow the instructions." for i in range(9))
    plain = thread(text, 280, prefix="@ann ")
    reworded = thread(text, 280, prefix="@ann ", addition=again("2127185258490101760", 1, "en"))
    assert len(plain) == len(reworded) > 1
    assert all(r == f"{p} {again('2127185258490101760', 1, 'en')}" for p, r in zip(plain, reworded, strict=True))


def test_the_rewording_is_the_public_time_of_the_post_answered_the_same_on_every_retry():
    post = str((1_764_000_000_000 - 1288834974657) << 22)  # 2025-11-24 16:00:00 UTC
    assert again(post, 1, "en") == "(re your post of 16:00:00 UTC)"
    assert again(post, 2, "en") == "(re your post of 16:00:00 UTC #2)"
    assert again(post, 1, "zh-Hans") == "（回复你 16:00:00 UTC 的帖子）"
    assert again(post, 0, "en") == ""
    assert all(weighted_length(again(post, 3, lang)) + 1 <= ADDITION_ROOM for lang in ("en", "zh-Hans", "zh-Hant"))


def test_same_post_ignores_what_x_does_to_links():
    assert same_post("@ann open okpay.com/login now", "@ann open https://t.co/AbC123xyz now")
    assert not same_post("@ann open okpay.com/login now", "@bob open https://t.co/AbC123xyz now")


def test_reply_prefix_is_dropped_but_a_bare_mention_is_kept():
    assert strip_reply_prefix("@OKPaySupport @ann how do I top up?") == "how do I top up?"
    assert strip_reply_prefix("@OKPaySupport") == "@OKPaySupport"
    assert strip_reply_prefix("ask @OKPaySupport about fees") == "ask @OKPaySupport about fees"


def test_dm_invitation_is_added_once_in_the_answers_language():
    assert (with_invite("Our team will look at this.", "en")
            == "Our team will look at this. Please check your DMs from us.")
    assert with_invite("Check your DMs.", "en") == "Check your DMs."
    # a mention of DMs is not an invitation to read ours
    assert with_invite("Our staff never DM you first.", "en").endswith("Please check your DMs from us.")
    assert with_invite("客服会跟进。", None) == "客服会跟进。请查看我们的私信。"
    assert with_invite("客服會跟進。", None) == "客服會跟進。請查看我們的私訊。"
    assert with_invite("请通过私信继续沟通。", None) == "请通过私信继续沟通。请查看我们的私信。"
    assert with_invite("请查看我们发给你的私信。", None) == "请查看我们发给你的私信。"


def test_a_customer_who_refuses_dms_is_told_where_to_write_instead_of_to_check_dms():
    line = with_invite("Our team will look at this.", "en", dms_refused=True, chat_url="https://okpay.com/chat")
    assert "check your DMs" not in line
    assert line.endswith("We cannot DM you: please send us a DM so we can reply, or chat with us at "
                         "https://okpay.com/chat.")
    assert "请先给我们发一条私信" in with_invite("客服会跟进。", None, dms_refused=True)
    for lang in ("en", "zh-Hans", "zh-Hant"):
        for note in (no_dms_line(lang, "https://okpay.com/chat"), reply_waiting_note(lang, "https://okpay.com/chat")):
            assert "https://okpay.com/chat" in note and weighted_length("@a_very_long_nam " + note) <= 280


def test_a_general_answer_made_public_keeps_no_ticket_reference():
    text = "I've passed this to our team (ticket #42). We'll reply within 24 hours. Never share your codes."
    assert without_private(text) == "We'll reply within 24 hours. Never share your codes."
    assert without_private("Fees are zero.\n\nTalk to a person: okpay.com/chat") == (
        "Fees are zero.\n\nTalk to a person: okpay.com/chat")
