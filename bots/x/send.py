"""Replies out to X: public answers threaded under the customer's post, DMs, and what to do when X
refuses one or its answer never came back.

- **A post whose answer was lost** (a 5xx after X created it, a crash, a stop mid-send) is sent again;
  X refuses the identical text as a duplicate, and the post is found among the account's newest posts
  under the same parent: the thread carries on from it. One read of the newest posts (``Recent``)
  serves every reply that needs it after a restart.
- **The same answer to the same customer twice** (a new question, the same text as an accepted post):
  X refuses it as a duplicate although it is a new reply. It is reworded with a short public addition
  (the time of the post it answers, ``wording.again``), the same on every retry of that reply.
- **A DM whose outcome is unknown** (X keeps every copy of a DM): the moment each DM part is handed to
  X is recorded first (``Progress.at``); a retry after a timeout, a 5xx or a crash looks for it among the
  recent DM events (one shared read) before sending it again. The dispatcher still marks the row
  "may have been sent twice": the look mostly avoids the second copy, it cannot prove there is none.
- **A customer who does not accept DMs**: the bot's own general answer goes under their public post
  instead, without anything private; for an agent's reply (``meta["public_fallback"]``) or a ticket
  notice only a short note says where to write, and the reply is reported undeliverable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from bots.base import split_text
from bots.x.client import XClient
from bots.x.http import DmsClosed, DuplicatePost
from bots.x.receive import XReceiver
from bots.x.recent import Recent
from bots.x.state import Bounded, Memory, Progress
from bots.x.text import same_post, thread
from bots.x.translate import event_time, replied_to
from bots.x.wording import again, language, no_dms_line, reply_waiting_note, with_invite, without_private
from core.errors import RateLimited, RetryLater, Uncertain, Undeliverable
from core.models import OutboundMessage, Sent

log = logging.getLogger(__name__)

T = TypeVar("T")
DM_MAX_LENGTH = 10_000
MAX_REWORDINGS = 3
# the engine's ways to a person offered with a knowledge-base answer ("Talk to a person", "Not solved")
TO_A_PERSON = frozenset({"/human", "feedback:unsolved"})
CLOCK_SLACK = 5.0  # seconds between our clock and X's created_at that a DM match still allows


class XSender:
    def __init__(self, client: XClient, receiver: XReceiver, memory: Memory, *, me: str, max_post_length: int,
                 chat_url: str | None) -> None:
        self.client = client
        self.receiver = receiver
        self.memory = memory
        self.me = me
        self.max_post_length = max_post_length
        self.chat_url = chat_url
        self.started = time.time()
        self.posts = Recent(self._own_posts)
        self.dms = Recent(client.recent_dms)
        self._failed: Bounded[int, tuple[bool, float]] = Bounded()  # outbox id -> (X surely did nothing, when)
        self._unexplained: Bounded[tuple[Any, ...], bool] = Bounded()  # duplicates not found yet, retried once
        self._claimed: Bounded[str, int | None] = Bounded()  # DM event -> the reply it was found to be

    async def send(self, reply: OutboundMessage) -> Sent:
        kind, _, target = reply.conversation.partition(":")
        if not target:
            raise Undeliverable(f"not an X address: {reply.conversation!r}")
        if kind == "tweet":
            return await self._public(reply, target)
        if kind in ("dm", "dm_group"):
            return await self._private(reply, kind, target)
        raise Undeliverable(f"not an X address: {reply.conversation!r}")

    # --- public threads -----------------------------------------------------------------------

    async def _public(self, reply: OutboundMessage, target: str) -> Sent:
        root = reply.reply_to if reply.reply_to and reply.reply_to.isdigit() else target
        text = render(reply, public=True)
        author = await _local(self.receiver.author(root))
        if reply.invite_private:
            refused = author is not None and await self.memory.dms_refused(author[0])
            text = with_invite(text, reply.meta.get("language"), dms_refused=refused, chat_url=self.chat_url)
        prefix = f"@{author[1]} " if author else ""
        return await self._thread(reply.outbox_id, text, root, prefix, language(reply.meta.get("language"), text))

    async def _thread(self, outbox_id: int | None, text: str, root: str, prefix: str, lang: str,
                      progress: Progress | None = None) -> Sent:
        """Post the parts in order, each replying to the previous one; a retry continues, never repeats."""
        progress = progress or await self.memory.progress(outbox_id)
        parts = thread(text, self.max_post_length, prefix=prefix, addition=again(root, progress.level, lang))
        while progress.done < len(parts):
            part, parent = parts[progress.done], progress.last or root
            try:
                sent_id = await self.client.post_tweet(part, parent)
            except DuplicatePost as refused:
                found = await self._posted_before(part, parent)
                if found is None:
                    self._reword(outbox_id, progress, part, refused)
                    parts = thread(text, self.max_post_length, prefix=prefix,
                                   addition=again(root, progress.level, lang))
                    continue
                sent_id = found
            progress.done, progress.last = progress.done + 1, sent_id
            progress.first = progress.first or sent_id
            if progress.done < len(parts) or progress.level:  # (the last part of a plain reply needs no note)
                await self.memory.save(outbox_id, progress)
        return Sent(platform_id=progress.first)

    async def _posted_before(self, part: str, parent: str) -> str | None:
        """This very part, already under ``parent``: X took an earlier attempt whose answer was lost."""
        for posts in (self.posts.cached, None):
            for post in posts if posts is not None else await _local(self.posts.fresh()):
                if replied_to(post) == parent and same_post(part, post.get("text", "")):
                    log.info("x: post %s under %s was already made by an earlier attempt", post["id"], parent)
                    return str(post["id"])
        return None

    def _reword(self, outbox_id: int | None, progress: Progress, part: str, refused: DuplicatePost) -> None:
        """The duplicate is another reply's post (the same answer given before): word this one differently.
        When the earlier copy is nowhere among the newest posts, X may not list our own attempt yet: the
        first time, try again later instead (a rewording now could post the answer twice)."""
        elsewhere = any(same_post(part, post.get("text", "")) for post in self.posts.cached)
        key = (outbox_id, progress.done, progress.level)
        if not elsewhere and not self._unexplained.get(key):
            self._unexplained.put(key, True)
            raise Uncertain("X refused a post as a duplicate, and the earlier copy is not among the account's "
                            "newest posts yet; trying again later")
        if progress.level >= MAX_REWORDINGS:
            raise refused
        progress.level += 1
        log.info("x: the same answer was posted before; outbox row %s is reworded (%d)", outbox_id, progress.level)

    async def _own_posts(self, _back_to: float | None) -> tuple[list[Mapping[str, Any]], float | None]:
        return list(await self.client.own_posts(self.me)), None

    # --- DMs ----------------------------------------------------------------------------------

    async def _private(self, reply: OutboundMessage, kind: str, target: str) -> Sent:
        parts = split_text(render(reply, public=False), DM_MAX_LENGTH)
        address = {"participant_id": target} if kind == "dm" else {"conversation_id": target}
        progress = await self.memory.progress(reply.outbox_id)
        if progress.public:  # X refused this DM before; it is being answered in public
            return await self._dms_closed(reply, target, None, progress)
        if progress.at is not None and (found := await self._dm_sent_before(reply, kind, target, progress)):
            progress.done, progress.last, progress.at = progress.done + 1, found, None
            progress.first = progress.first or found
        while progress.done < len(parts):
            progress.at = time.time()
            await self.memory.save(reply.outbox_id, progress)  # first: a crash from here on leaves this mark
            try:
                sent_id = await self.client.send_dm(parts[progress.done], **address)
            except DmsClosed as refused:
                if kind == "dm" and progress.done == 0:
                    return await self._dms_closed(reply, target, refused, progress)
                raise
            except RetryLater as exc:
                if reply.outbox_id is not None:
                    self._failed.put(reply.outbox_id, (not isinstance(exc, Uncertain), time.time()))
                raise
            progress.done, progress.last, progress.at = progress.done + 1, sent_id, None
            progress.first = progress.first or sent_id
            if reply.outbox_id is not None:
                self._failed.pop(reply.outbox_id)
        return Sent(platform_id=progress.first)

    async def _dm_sent_before(self, reply: OutboundMessage, kind: str, target: str, progress: Progress) -> str | None:
        """The DM part an earlier attempt handed to X, when X has it: looked up in the recent DM events, read
        once for every reply that needs it (the read must have begun after that attempt ended)."""
        assert progress.at is not None
        failed = self._failed.get(reply.outbox_id) if reply.outbox_id is not None else None
        if failed is not None and failed[0]:
            return None  # a 429, a refused connection: X surely did nothing
        if failed is not None:
            moment = failed[1]
        elif progress.at < self.started:
            moment = self.started  # the attempt of a process that is gone
        else:
            moment = time.time()  # another process's attempt: read afresh
        conversation = target if kind == "dm_group" else "-".join(sorted((self.me, target), key=int))
        part = split_text(render(reply, public=False), DM_MAX_LENGTH)[progress.done]
        for event in await _local(self.dms.since(moment, back_to=progress.at - CLOCK_SLACK)):
            eid = str(event.get("id"))
            if (str(event.get("sender_id")) == self.me and event.get("dm_conversation_id") == conversation
                    and (event_time(event) or 0) >= progress.at - CLOCK_SLACK
                    and self._claimed.get(eid) in (None, reply.outbox_id) and same_post(part, event.get("text", ""))):
                self._claimed.put(eid, reply.outbox_id)
                log.info("x: DM %s of outbox row %s was already sent by an earlier attempt", eid, reply.outbox_id)
                return eid
        return None

    async def _dms_closed(self, reply: OutboundMessage, user_id: str, refused: DmsClosed | None,
                          progress: Progress) -> Sent:
        """X will not let us DM this customer. Tell them in public, under their post, where to write; the
        bot's own general answer (no ticket) goes there whole, trimmed of anything private."""
        await self.memory.refuses_dms(user_id)
        why = str(refused) if refused else "X refused the DM"
        fallback = reply.meta.get("public_fallback")
        place: tuple[str, str] | None = None
        if isinstance(fallback, Mapping) and str(fallback.get("reply_to") or "").isdigit():
            place = (str(fallback["reply_to"]), str(fallback.get("handle") or ""))
        elif reply.meta.get("author") == "bot":
            place = await self.memory.public_post(user_id)
        if place is None:
            raise refused or Undeliverable(why)
        post_id, handle = place
        general = fallback is None and is_general_answer(reply)
        text = render(reply, public=True)
        lang = language(reply.meta.get("language"), text)
        if general:
            body = without_private(text)
        elif fallback is not None:
            body = reply_waiting_note(lang, self.chat_url)
        else:
            body = no_dms_line(lang, self.chat_url)
        if not progress.public:
            progress = Progress(public=True)
            await self.memory.save(reply.outbox_id, progress)
        sent = await self._thread(reply.outbox_id, body, post_id, f"@{handle} " if handle else "", lang, progress)
        log.info("x: DMs to %s refused; %s under their post %s", user_id,
                 "the answer went" if general else "a note on where to write went", post_id)
        if general:
            return sent
        raise Undeliverable(f"{why} The customer does not accept DMs from us: a public note under their post "
                            f"{post_id} (post {sent.platform_id}) told them how to reach us; this reply itself "
                            "was not delivered.")


def is_general_answer(reply: OutboundMessage) -> bool:
    """The bot's own answer from the knowledge base, fit for anyone to read: no ticket, and it offers the way
    to a person that the engine adds after every answer (a warning about a secret sent, a ticket notice
    are not general: they say something about this customer)."""
    return reply.meta.get("author") == "bot" and "ticket_id" not in reply.meta and (
        reply.meta.get("decision") == "answer" or any(q.payload in TO_A_PERSON for q in reply.quick_replies))


async def _local(call: Awaitable[T]) -> T:
    """A read made for one reply: X's 429 on it holds that reply only, not the whole channel's sending."""
    try:
        return await call
    except RateLimited as exc:
        raise RateLimited(str(exc), exc.retry_after, scope="conversation") from exc


def render(reply: OutboundMessage, *, public: bool) -> str:
    """X has no buttons (v2 DMs and posts): choices become a numbered list in a DM (a reply with the
    number comes back as the button's payload, see ``receive.remember_choices``), links stay links.

    A public thread gets no choice lines: nobody can press them, and they would crowd the answer.
    """
    lines = [reply.text.rstrip()]
    choices = [] if public else [q.label for q in reply.quick_replies if not q.url]
    links = [f"{q.label}: {q.url}" for q in reply.quick_replies if q.url]
    if choices or links:
        lines.append("\n".join([f"{i}. {label}" for i, label in enumerate(choices, 1)] + links))
    files = [a.url for a in reply.attachments if a.url]
    if files:
        lines.append("\n".join(files))
    return "\n\n".join(line for line in lines if line)
