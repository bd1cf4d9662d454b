"""The platform side of the fake Bot API: error shapes, entities, and builders for the people,
chats, files and messages a test makes Telegram deliver (shapes from https://core.telegram.org/bots/api).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

JSON = dict[str, Any]


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def response(self) -> web.Response:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return _json(body, status=self.code)


def _json(body: Any, status: int = 200) -> web.Response:
    text = json.dumps(body, ensure_ascii=False)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a customer's text: Telegram sends it as a JSON escape
        data = json.dumps(body).encode()
    return web.Response(body=data, status=status, content_type="application/json", charset="utf-8")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_for(text: str) -> list[JSON]:
    """bot_command at the start and @mentions, as Telegram computes them server-side."""
    found: list[JSON] = []
    for match in re.finditer(r"(?:^|(?<=\s))(/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?|@[A-Za-z0-9_]{5,32})", text):
        word = match.group(1)
        kind = "bot_command" if word.startswith("/") else "mention"
        if kind == "bot_command" and match.start(1) != 0:
            continue
        found.append({"type": kind, "offset": _utf16_len(text[: match.start(1)]), "length": _utf16_len(word)})
    return found


@dataclass
class FakeFile:
    file_id: str
    file_unique_id: str
    data: bytes
    size: int
    file_path: str


@dataclass
class Failure:
    method: str | None  # lower-case method name, None = any sending method
    status: int
    count: int | None  # None: until healed
    retry_after: int | None = None
    description: str | None = None
    after: int = 0  # let this many matching calls through first


DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class PlatformSide:
    """Builders that keep the fake's world consistent (message ids per chat, who started the bot)."""

    users: dict[int, JSON]
    chats: dict[int, JSON]
    forums: set[int]
    admins: dict[int, list[int]]
    files: dict[str, FakeFile]
    messages: dict[tuple[int, int], JSON]
    started: set[int]
    banned: dict[int, set[int]]
    _message_ids: dict[int, int]
    _open_callbacks: set[str]
    _next_callback: int

    def _new_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def user(self, user_id: int, first_name: str = "Ann", *, username: str | None = None,
             language_code: str | None = "en", last_name: str | None = None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        for key, value in (("last_name", last_name), ("username", username), ("language_code", language_code)):
            if value is not None:
                user[key] = value
        self.users[user_id] = user
        return user

    def group(self, chat_id: int, title: str = "OKPay Community", *, forum: bool = False,
              admins: list[int] | None = None) -> JSON:
        chat: JSON = {"id": chat_id, "type": "supergroup" if str(chat_id).startswith("-100") else "group",
                      "title": title}
        if forum:
            chat["is_forum"] = True
            self.forums.add(chat_id)
        self.chats[chat_id] = chat
        if admins is not None:
            self.admins[chat_id] = admins
        return chat

    def add_file(self, data: bytes, *, size: int | None = None, folder: str = "documents") -> tuple[str, str]:
        """Register file bytes; returns (file_id, file_unique_id). ``size`` may claim more than ``data``."""
        n = len(self.files) + 1
        item = FakeFile(f"BQACAgIAAxkBAAI{n:04d}", f"AgADx{n:04d}", data, size if size is not None else len(data),
                        f"{folder}/file_{n}.bin")
        self.files[item.file_id] = item
        return item.file_id, item.file_unique_id

    def message(self, chat: JSON, sender: JSON, text: str | None = None, *, caption: str | None = None,
                reply_to: JSON | None = None, thread_id: int | None = None, **media: Any) -> JSON:
        """A message a person sends, as the Bot API would present it (entities included)."""
        msg: JSON = {"message_id": self._new_message_id(chat["id"]), "from": sender, "chat": chat,
                     "date": int(time.time())}
        if chat["type"] == "private":
            self.started.add(chat["id"])
        if thread_id is not None:
            msg.update(message_thread_id=thread_id, is_topic_message=True)
        if text is not None:
            msg["text"] = text
            if entities := entities_for(text):
                msg["entities"] = entities
        if caption is not None:
            msg["caption"] = caption
            if entities := entities_for(caption):
                msg["caption_entities"] = entities
        if reply_to is not None:
            msg["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        msg.update(media)
        self.messages[(chat["id"], msg["message_id"])] = msg
        return msg

    def private_chat(self, user: JSON) -> JSON:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        return chat

    def join(self, chat: JSON, user: JSON, *, by: JSON | None = None) -> tuple[JSON, JSON]:
        """``user`` joins ``chat`` (through an invite link, or added by ``by``): the join service message and the
        ``chat_member`` change Telegram sends (the latter only to an admin bot that asked for it). A banned user
        cannot join: ValueError."""
        if user["id"] in self.banned.get(chat["id"], set()):
            raise ValueError(f"user {user['id']} is banned from {chat['id']}")
        now = int(time.time())
        service: JSON = {"message_id": self._new_message_id(chat["id"]), "from": by or user, "chat": chat,
                         "date": now, "new_chat_members": [user], "new_chat_member": user,
                         "new_chat_participant": user}
        self.messages[(chat["id"], service["message_id"])] = service
        change: JSON = {"chat": chat, "from": by or user, "date": now,
                        "old_chat_member": {"status": "left", "user": user},
                        "new_chat_member": {"status": "member", "user": user}}
        return service, change

    def callback_query(self, sender: JSON, shown: JSON, data: str) -> JSON:
        self._next_callback += 1
        query_id = str(self._next_callback)
        self._open_callbacks.add(query_id)
        return {"id": query_id, "from": sender, "message": shown, "chat_instance": "-71828182845", "data": data}
