"""The few sentences the Discord channel adds itself, in the customer's language (en, zh-Hans, zh-Hant).

The core puts the customer's language on every reply (``reply.meta["lang"]``); these texts follow it,
English when it is missing or unknown. Traditional Chinese is written out (not converted by OpenCC, which
turns 查看 into 檢視 and keeps 私信 where Taiwan and Hong Kong say 私訊).

- ``invite``: a reply with ``invite_private`` and no text of its own: look in your DMs.
- ``waiting``: posted where the customer last wrote in public when Discord refuses our DM to them: an
  answer waits, how to let us DM them. Never the answer itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_TEXTS: dict[str, dict[str, str]] = {
    "invite": {
        "en": "Please check your DMs from us.",
        "zh-Hans": "请查看我们发给你的私信。",
        "zh-Hant": "請查看我們發給你的私訊。",
    },
    "waiting": {
        "en": "{mention} We have a message for you from our support team, but Discord did not let us send it to "
              "you as a direct message. To read it privately, allow direct messages from members of this server "
              "(click the server name > Privacy Settings > Direct Messages), then send us a DM and we will answer "
              "you there.",
        "zh-Hans": "{mention} 客服有消息要发给你，但 Discord 不允许我们私信你。请在本服务器的隐私设置中允许来自"
                   "服务器成员的私信（点击服务器名称 > 隐私设置 > 私信），然后给我们发一条私信，我们会在私信中回复你。",
        "zh-Hant": "{mention} 客服有訊息要傳給你，但 Discord 不允許我們私訊你。請在本伺服器的隱私設定中允許來自"
                   "伺服器成員的私訊（點選伺服器名稱 > 隱私設定 > 私訊），然後傳一則私訊給我們，我們會在私訊中回覆你。",
    },
}
LANGUAGES = ("en", "zh-Hans", "zh-Hant")


def language(meta: Mapping[str, Any]) -> str:
    """The reply's ``meta["lang"]`` when it is one we write, else English."""
    lang = meta.get("lang")
    return lang if lang in LANGUAGES else "en"


def say(key: str, lang: str, **values: str) -> str:
    """``key``'s text in ``lang`` (en when unknown), with ``values`` filled in."""
    texts = _TEXTS[key]
    return (texts.get(lang) or texts["en"]).format(**values)
