"""The fake Bot API's chat methods (sendMessage, sendPhoto, sendDocument, sendChatAction, answerCallbackQuery,
getFile, getChatAdministrators, getChatMember, deleteMessage, banChatMember), checked the way
https://core.telegram.org/bots/api describes: a user who never started the bot or blocked it is 403, a thread
outside a forum 400, callback_data 1-64 bytes; deleting another's message needs the bot to be an admin with
``can_delete_messages`` (and the message to be under 48 hours old), banning needs ``can_restrict_members``
and never works on an administrator. The server, faults and update delivery live in telegram_api.py.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from tests.fakes.telegram_objects import JSON, ApiError, FakeFile, PlatformSide, _utf16_len

MAX_FILE_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files (cloud Bot API)
ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_manage_topics",
)


CHAT_ACTIONS = frozenset({"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                          "upload_document", "choose_sticker", "find_location", "record_video_note",
                          "upload_video_note"})


class ChatMethods(PlatformSide):
    """What the bot does in chats; FakeTelegram provides the state."""

    bot_user: JSON
    sent: list[JSON]
    callback_answers: list[JSON]
    blocked_chats: set[int]
    files: dict[str, FakeFile]
    migrated: dict[int, int]
    sent_at: list[float]
    deleted: list[tuple[int, int]]
    banned: dict[int, set[int]]
    withheld_rights: dict[int, set[str]]
    chat_actions: list[tuple[int, str, int | None, float]]

    @staticmethod
    def _int(params: JSON, key: str, default: int | None = None) -> int | None:
        value = params.get(key)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {key} specified") from None

    @staticmethod
    def _obj(params: JSON, key: str) -> Any:
        value = params.get(key)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
        return value

    def chat(self, chat_id: int) -> JSON:
        if chat_id in self.chats:
            return self.chats[chat_id]
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "User"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "Group"}

    def _check_chat(self, params: JSON) -> int:
        chat_id = self._int(params, "chat_id")
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self.migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": self.migrated[chat_id]})
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id > 0 and chat_id not in self.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def _check_markup(self, params: JSON) -> JSON | None:
        markup = self._obj(params, "reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"(https?|tg)://", url):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        return markup

    def _bot_message(self, params: JSON, chat_id: int, content: JSON) -> JSON:
        thread = self._int(params, "message_thread_id")
        if thread is not None and chat_id not in self.forums:
            raise ApiError(400, "Bad Request: message thread not found")
        markup = self._check_markup(params)
        msg: JSON = {"message_id": self._new_message_id(chat_id), "from": self.bot_user,
                     "chat": self.chat(chat_id), "date": int(time.time()), **content}
        if thread is not None:
            msg.update(message_thread_id=thread, is_topic_message=True)
        reply = self._obj(params, "reply_parameters")
        if reply:
            original = self.messages.get((chat_id, int(reply["message_id"])))
            if original is None and not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
            if original is not None:
                msg["reply_to_message"] = original
        if markup:
            msg["reply_markup"] = markup
        self.messages[(chat_id, msg["message_id"])] = msg
        self.sent.append(msg)
        self.sent_at.append(time.monotonic())
        return msg

    def migrate(self, group_id: int, supergroup_id: int, by: JSON) -> tuple[JSON, JSON]:
        """Upgrade a group to a supergroup (``by`` did it): the old id answers ChatMigrated from now on.
        Returns the two service messages Telegram posts (in the old group, in the new supergroup)."""
        old = self.chat(group_id)
        new = {"id": supergroup_id, "type": "supergroup", "title": old.get("title", "Group")}
        self.chats[supergroup_id] = new
        self.migrated[group_id] = supergroup_id
        if group_id in self.admins:
            self.admins[supergroup_id] = list(self.admins[group_id])
        now = int(time.time())
        left = {"message_id": self._new_message_id(group_id), "from": by, "chat": old, "date": now,
                "migrate_to_chat_id": supergroup_id}
        arrived = {"message_id": self._new_message_id(supergroup_id), "from": by, "chat": new, "date": now,
                   "migrate_from_chat_id": group_id}
        return left, arrived

    async def _m_sendmessage(self, params: JSON) -> JSON:
        chat_id = self._check_chat(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._bot_message(params, chat_id, {"text": text})

    async def _m_senddocument(self, params: JSON) -> JSON:
        chat_id = self._check_chat(params)
        doc = params.get("document")
        if not doc:
            raise ApiError(400, "Bad Request: there is no document in the request")
        size = len(doc) if isinstance(doc, bytes) else 0
        content = {"document": {"file_id": f"BQAC{len(self.sent)}", "file_unique_id": f"AgAD{len(self.sent)}",
                                "file_size": size}}
        return self._bot_message(params, chat_id, content)

    async def _m_sendphoto(self, params: JSON) -> JSON:
        chat_id = self._check_chat(params)
        if not params.get("photo"):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        photo = [{"file_id": f"AgAC{len(self.sent)}", "file_unique_id": f"AQAD{len(self.sent)}",
                  "width": 90, "height": 90}]
        return self._bot_message(params, chat_id, {"photo": photo})

    async def _m_sendchataction(self, params: JSON) -> bool:
        """The bot's "typing…" (~5 s): chat_id, action (one of the documented kinds), message_thread_id only in
        forums. Nothing is sent; each accepted call is kept in ``chat_actions``."""
        chat_id = self._check_chat(params)
        action = str(params.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        thread = self._int(params, "message_thread_id")
        if thread is not None and chat_id not in self.forums:
            raise ApiError(400, "Bad Request: message thread not found")
        self.chat_actions.append((chat_id, action, thread, time.monotonic()))
        return True

    async def _m_answercallbackquery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._open_callbacks.discard(query_id)
        self.callback_answers.append(params)
        return True

    async def _m_getfile(self, params: JSON) -> JSON:
        item = self.files.get(str(params.get("file_id") or ""))
        if item is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if item.size > MAX_FILE_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": item.file_id, "file_unique_id": item.file_unique_id, "file_size": item.size,
                "file_path": item.file_path}

    def _member(self, chat_id: int, user_id: int) -> JSON:
        user = self.users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "User"})
        admins = self.admins.get(chat_id, [])
        if admins and admins[0] == user_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in admins:
            rights = dict.fromkeys(ADMIN_RIGHTS, True)
            return {"status": "administrator", "user": user, "can_be_edited": False, "is_anonymous": False,
                    **rights}
        return {"status": "member", "user": user}

    async def _m_getchatadministrators(self, params: JSON) -> list[JSON]:
        chat_id = self._check_chat(params)
        if chat_id > 0:
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        return [self._member(chat_id, uid) for uid in self.admins.get(chat_id, [])]

    async def _m_getchatmember(self, params: JSON) -> JSON:
        chat_id = self._check_chat(params)
        user_id = self._int(params, "user_id")
        if user_id is None:
            raise ApiError(400, "Bad Request: invalid user_id specified")
        return self._member(chat_id, user_id)

    def bot_may(self, chat_id: int, right: str) -> bool:
        """Whether the bot is an administrator of the chat holding ``right`` (see ``withheld_rights``)."""
        admin = self.bot_user["id"] in self.admins.get(chat_id, [])
        return admin and right not in self.withheld_rights.get(chat_id, ())

    async def _m_deletemessage(self, params: JSON) -> bool:
        chat_id = self._check_chat(params)
        key = (chat_id, self._int(params, "message_id") or 0)
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        own = message.get("from", {}).get("id") == self.bot_user["id"]
        too_old = time.time() - message["date"] > 48 * 3600
        if too_old or (chat_id < 0 and not own and not self.bot_may(chat_id, "can_delete_messages")):
            raise ApiError(400, "Bad Request: message can't be deleted")
        del self.messages[key]
        self.deleted.append(key)
        return True

    async def _m_banchatmember(self, params: JSON) -> bool:
        chat_id = self._check_chat(params)
        user_id = self._int(params, "user_id")
        if user_id is None:
            raise ApiError(400, "Bad Request: invalid user_id specified")
        if chat_id > 0:
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        if not self.bot_may(chat_id, "can_restrict_members"):
            raise ApiError(400, "Bad Request: not enough rights to restrict/unrestrict chat member")
        admins = self.admins.get(chat_id, [])
        if admins and admins[0] == user_id:
            raise ApiError(400, "Bad Request: can't remove chat owner")
        if user_id in admins:
            raise ApiError(400, "Bad Request: user is an administrator of the chat")
        self.banned.setdefault(chat_id, set()).add(user_id)  # banning a banned user again is fine too
        return True
