"""X's text rules as a reader meets them: posts X accepts (weighted length), threads that read whole."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.x.text import split_post, strip_reply_prefix, weighted_length, with_invite

MARKER = re.compile(r" \(\d+/\d+\)$")


def test_weighted_length_counts_like_x():
    assert weighted_length("hello") == 5
    assert weighted_length("你好") == 4  # CJK weighs 2
    assert weighted_length("see https://okpay.example/help/a/very/long/path/to/the/page now") == 4 + 23 + 4
    assert weighted_length("x https://a.io") == 2 + 23  # short links still count 23 (t.co)


def test_a_long_chinese_answer_becomes_a_numbered_thread_cut_at_sentences():
    text = "请先在登录页点击忘记密码。" * 30
    parts = split_post(text, 280)
    assert len(parts) > 1
    assert all(weighted_length(p) <= 280 for p in parts)
    assert all(MARKER.sub("", p).endswith("。") for p in parts)  # never mid-sentence
    assert parts[-1].endswith(f"({len(parts)}/{len(parts)})")


def test_links_are_never_cut():
    url = "https://okpay.example/help/reset-password"
    text = ("word " * 50) + url + (" more" * 40)
    parts = split_post(text, 280)
    assert any(url in p for p in parts)


def test_short_text_is_one_post_without_marker():
    assert split_post("Yes, top-ups are free.", 280) == ["Yes, top-ups are free."]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Hello there.", "你好。", "Fees are zero!", "https://okpay.example/x", "\n",
                                 "账户被锁定了", "a", "zxcvbnmasdfghjklqwertyuiop" * 3, "再试一次？"]),
                min_size=1, max_size=80))
def test_every_part_fits_and_nothing_is_lost(pieces):
    text = " ".join(pieces).strip() or "x"
    parts = split_post(text, 280)
    assert all(weighted_length(p) <= 280 for p in parts)
    joined = "".join(MARKER.sub("", p) for p in parts) if len(parts) > 1 else parts[0]
    assert re.sub(r"\s+", "", joined) == re.sub(r"\s+", "", text)


def test_reply_prefix_is_dropped_but_a_bare_mention_is_kept():
    assert strip_reply_prefix("@OKPaySupport @ann how do I top up?") == "how do I top up?"
    assert strip_reply_prefix("@OKPaySupport") == "@OKPaySupport"
    assert strip_reply_prefix("ask @OKPaySupport about fees") == "ask @OKPaySupport about fees"


def test_dm_invitation_is_added_once_in_the_answers_language():
    assert (with_invite("Our team will look at this.", "en")
            == "Our team will look at this. Please check your DMs from us.")
    assert with_invite("Check your DMs.", "en") == "Check your DMs."
    assert with_invite("客服会跟进。", None) == "客服会跟进。请查看我们的私信。"
    assert with_invite("客服會跟進。", None) == "客服會跟進。請查看我們的私訊。"
    assert with_invite("请通过私信继续沟通。", None) == "请通过私信继续沟通。"
