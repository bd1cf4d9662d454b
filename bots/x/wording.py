"""The few sentences the X channel adds itself, in the answer's language (en, zh-Hans, zh-Hant).

- The DM invitation after a public note ("please check your DMs"): posted before the DM is sent, so
  it claims nothing; for a customer X already refused our DMs to, it says how to reach us instead.
- The note under a customer's public post when X refuses our DM to them: where to write (send us a DM,
  which lets us answer; the website chat when its address is known). Never the reply's own text.
- ``again``: a short addition that makes a repeated answer differ from the earlier identical post
  (X refuses identical text): the time of the customer's post it answers, which is public and the
  same on every retry of that reply.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_INVITES = {
    "en": "Please check your DMs from us.",
    "zh-Hans": "请查看我们的私信。",
    "zh-Hant": "請查看我們的私訊。",
}
# the text already tells them to look in their DMs (a mere mention of DMs is not that: "we never DM first")
_INVITE_HINT = re.compile(r"\bcheck (?:your |the )?(?:dms?|direct messages?|inbox)\b|查看.{0,8}(?:私信|私訊|私讯)")
_NO_DMS = {  # X refused our DMs to this customer before
    "en": "We cannot DM you: please send us a DM so we can reply{chat}.",
    "zh-Hans": "我们无法给你发私信：请先给我们发一条私信，以便我们回复你{chat}。",
    "zh-Hant": "我們無法給你發私訊：請先給我們發一則私訊，以便我們回覆你{chat}。",
}
_REPLY_WAITING = {  # an agent's reply X would not let us send by DM
    "en": "We have a reply for you, but X did not let us send it by DM. Please send us a DM so we can reply{chat}.",
    "zh-Hans": "我们有给你的回复，但无法通过私信发送。请先给我们发一条私信，以便我们回复你{chat}。",
    "zh-Hant": "我們有給你的回覆，但無法透過私訊傳送。請先給我們發一則私訊，以便我們回覆你{chat}。",
}
_CHAT = {
    "en": ", or chat with us at {url}",
    "zh-Hans": "，或通过 {url} 在线联系我们",
    "zh-Hant": "，或透過 {url} 線上聯絡我們",
}
_AGAIN = {
    "en": "(re your post of {time} UTC{n})",
    "zh-Hans": "（回复你 {time} UTC{n} 的帖子）",
    "zh-Hant": "（回覆你 {time} UTC{n} 的貼文）",
}
TWITTER_EPOCH_MS = 1288834974657  # X ids carry their creation time: (id >> 22) + this, in ms
_TICKET_REF = re.compile(r"[^.!?。！？\n]*#\d+[^.!?。！？\n]*[.!?。！？]?\s*")


def language(hint: str | None, text: str) -> str:
    """en, zh-Hans or zh-Hant: the hint when it is one of them, else what the text is written in."""
    if hint in _INVITES:
        return hint
    if hint and hint.startswith("zh"):
        return "zh-Hant" if hint.lower() in ("zh-tw", "zh-hk", "zh-hant") else "zh-Hans"
    if re.search(r"[\u4e00-\u9fff]", text):
        return "zh-Hant" if _looks_traditional(text) else "zh-Hans"
    return "en"


def invite_line(hint: str | None, text: str) -> str:
    """The short "please check your DMs" note, in the answer's language."""
    return _INVITES[language(hint, text)]


def with_invite(text: str, hint: str | None, *, dms_refused: bool = False, chat_url: str | None = None) -> str:
    """Append the DM note unless the engine's text already says so; for a customer who does not accept
    our DMs, append where to write instead (a promise of a DM would never be kept)."""
    lang = language(hint, text)
    if dms_refused:
        line = no_dms_line(lang, chat_url)
    elif _INVITE_HINT.search(text.lower()):
        return text
    else:
        line = _INVITES[lang]
    body = text.rstrip()
    if not body:
        return line
    if re.search(r"[\u4e00-\u9fff]$", body):
        body += "。"
    return body + ("" if re.search(r"[\u3000-\u9fff\uff00-\uffef]$", body) else " ") + line


def no_dms_line(lang: str, chat_url: str | None) -> str:
    return _NO_DMS[lang].format(chat=_chat(lang, chat_url))


def reply_waiting_note(lang: str, chat_url: str | None) -> str:
    """Under the customer's public post: a reply waits, and how to get it. Nothing of the reply itself."""
    return _REPLY_WAITING[lang].format(chat=_chat(lang, chat_url))


def _chat(lang: str, chat_url: str | None) -> str:
    return _CHAT[lang].format(url=chat_url) if chat_url else ""


def again(post_id: str, level: int, lang: str) -> str:
    """The addition for the ``level``-th rewording (1, 2, ...) of an answer to the post ``post_id``."""
    if level <= 0:
        return ""
    try:
        moment = datetime.fromtimestamp(((int(post_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)
        time = moment.strftime("%H:%M:%S")
    except (ValueError, OverflowError, OSError):
        time = post_id[-6:]
    return _AGAIN[lang].format(time=time, n=f" #{level}" if level > 1 else "")


def without_private(text: str) -> str:
    """A general answer fit for a public post: sentences naming a ticket (``#123``) are left out."""
    kept = _TICKET_REF.sub("", text)
    return re.sub(r"[ \t]+\n", "\n", kept).strip()


def _looks_traditional(text: str) -> bool:
    try:
        from opencc import OpenCC
    except ImportError:  # pragma: no cover - opencc is a dependency
        return False
    return OpenCC("t2s").convert(text) != text
