"""What agents do to tickets: reply (with files), note, assign, change status/priority/tags, snooze, merge,
link identities, mark as read.

The web views and the REST API both call this, so a rule lives in one place. Every change is
recorded as ticket activity and announced on the bus for live inbox updates.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.agent_files import Upload
from core.conversation import agent_joins, ask_for_rating
from core.errors import Conflict, NotFound
from core.events import EventBus
from core.models import utcnow
from core.store import Store
from core.store.records import attachment_json
from core.store.replies import add_note, queue_reply
from core.store.tables import Agent, AgentFile, Conversation, Identity, Message, Outbox, Ticket, TicketRead
from core.tickets import record, set_priority, set_status, transition

MAX_TAGS = 20
MAX_TAG_LENGTH = 32
MAX_SNOOZE = timedelta(days=366)


def _tag(raw: str) -> str:
    """A tag as agents type it, without control or direction-changing characters; too long is refused."""
    tag = "".join(c for c in raw if unicodedata.category(c) not in ("Cc", "Cf")).strip().lower()
    if len(tag) > MAX_TAG_LENGTH:
        raise Conflict(f"a tag is at most {MAX_TAG_LENGTH} characters")
    return tag


class Inbox:
    def __init__(self, store: Store, kb: Any = None, *, bus: EventBus | None = None,
                 public_url: str | None = None) -> None:
        self.store = store
        self.kb = kb
        self.bus = bus or EventBus()
        self.public_url = public_url  # where customers fetch files agents send (channels that only link)

    async def reply(self, ticket_id: int, text: str, *, agent_id: int | None = None,
                    internal: bool = False, files: Sequence[Upload] = ()) -> int:
        """Queue an agent's reply (with its files) for the ticket's home conversation, or store a note.

        Returns the message id. Files become the reply's typed attachments: the adapter uploads or links them.
        """
        text = text.strip()
        if not text and not files:
            raise Conflict("a reply needs text or a file")
        outbox_ids: list[int] = []
        async with self.store.transaction() as session:
            ticket = await _ticket(session, ticket_id)
            if ticket.status == "closed":
                raise Conflict(f"ticket #{ticket_id} is closed; open a new ticket instead")
            agent = await session.get(Agent, agent_id) if agent_id is not None else None
            name = (agent.display_name or agent.name) if agent else "agent"
            actor = f"agent:{agent.name}" if agent else "agent"
            if internal:
                note = add_note(session, ticket.conversation_id, ticket.id, text, channel=ticket.channel,
                                agent_id=agent_id, author_name=name)
                await session.flush()
                record(session, ticket, "note", actor, message_id=note.id)
                message_id = note.id
                if files:
                    note.attachments = [attachment_json(f.attachment(self.public_url)) for f in files]
            else:
                conversation = await _home(session, ticket)
                joined = await agent_joins(session, self.kb, ticket, conversation, name)
                if joined is not None:
                    outbox_ids.append(joined)
                queued = await queue_reply(session, conversation, text, author_kind="agent",
                                           ticket_id=ticket.id, agent_id=agent_id, author_name=name, fallback=True)
                outbox_ids.append(queued.outbox_id)
                message_id = queued.message_id
                if files:
                    await self._attach(session, queued.message_id, queued.outbox_id, files)
                if ticket.first_responded_at is None:
                    ticket.first_responded_at = utcnow()
                record(session, ticket, "reply", actor, message_id=message_id)
                ticket.updated_at = utcnow()
            for f in files:
                session.add(AgentFile(token=f.token, name=f.name, mime_type=f.mime_type, kind=f.kind, size=f.size,
                                      path=f.relative, agent_id=agent_id, ticket_id=ticket.id, message_id=message_id,
                                      created_at=utcnow()))
        self._announce(ticket_id, outbox_ids)
        return message_id

    async def typing(self, ticket_id: int) -> None:
        """An agent is writing a reply: announce it for the conversation the reply will go to (the ticket's home:
        a private ticket types in the private chat, never where the customer once wrote in public). Nothing is
        stored; core/typing_indicators.py turns the event into platform calls."""
        async with self.store.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFound(f"ticket #{ticket_id} does not exist")
            if ticket.status == "closed":
                raise Conflict(f"ticket #{ticket_id} is closed; nothing goes to the customer from it")
            conversation = await _home(session, ticket)
            channel, address = conversation.channel, conversation.address
        self.bus.publish("typing", channel=channel, conversation=address, who="agent", ticket_id=ticket_id)

    async def _attach(self, session: Any, message_id: int, outbox_id: int, files: Sequence[Upload]) -> None:
        """The reply's files, on the stored message (the thread shows them) and in its delivery."""
        attachments = [attachment_json(f.attachment(self.public_url)) for f in files]
        await session.execute(update(Message).where(Message.id == message_id).values(attachments=attachments))
        payload = await session.scalar(select(Outbox.payload).where(Outbox.id == outbox_id))
        await session.execute(update(Outbox).where(Outbox.id == outbox_id)
                              .values(payload={**(payload or {}), "attachments": attachments}))

    async def set_status(self, ticket_id: int, status: str, *, agent_id: int | None = None) -> None:
        """Change status via the transition table; a solved ticket tells the customer in their channel."""
        outbox_ids: list[int] = []
        async with self.store.transaction() as session:
            ticket = await _ticket(session, ticket_id)
            changed = set_status(session, ticket, status, await _actor(session, agent_id))
            if changed:
                ticket.snoozed_until = None  # a status set by hand ends any snooze
            if changed and status == "solved" and self.kb is not None:
                conversation = await _home(session, ticket)
                text = self.kb.message("ticket_solved", ticket.language or "en", ticket=ticket.id)
                queued = await queue_reply(session, conversation, text, author_kind="bot", ticket_id=ticket.id,
                                           fallback=True)
                outbox_ids.append(queued.outbox_id)
                rating = await ask_for_rating(session, self.kb, ticket, conversation)
                if rating is not None:
                    outbox_ids.append(rating)
        self._announce(ticket_id, outbox_ids)

    async def snooze(self, ticket_id: int, until: datetime, *, agent_id: int | None = None) -> None:
        """Pending until ``until``, then open again in the list (`wake_snoozed`); a customer message wakes it sooner."""
        now = utcnow()
        if until.tzinfo is None:
            raise Conflict("a snooze time needs a time zone")
        if until <= now:
            raise Conflict("choose a time in the future to snooze until")
        if until - now > MAX_SNOOZE:
            raise Conflict("a ticket can be snoozed for a year at most")
        async with self.store.transaction() as session:
            ticket = await _ticket(session, ticket_id)
            actor = await _actor(session, agent_id)
            if ticket.status not in ("open", "pending"):
                raise Conflict(f"ticket #{ticket_id} is {ticket.status}: only open or pending tickets can be snoozed")
            if ticket.status == "open":
                transition(session, ticket, "pend", actor)
            ticket.snoozed_until = until
            record(session, ticket, "snoozed", actor, until=until.isoformat())
        self._announce(ticket_id, [])

    async def wake_snoozed(self, now: datetime | None = None) -> list[int]:
        """Snoozes that ended: those tickets open again (back in the list). Safe in several processes at once."""
        now = now or utcnow()
        ids = await self.store.all(select(Ticket.id).where(Ticket.snoozed_until <= now).order_by(Ticket.id).limit(500))
        woken = []
        for ticket_id in ids:
            async with self.store.transaction() as session:
                ticket = await _ticket(session, ticket_id)
                if ticket.snoozed_until is None or ticket.snoozed_until > now:
                    continue  # another process woke it, or it was snoozed again meanwhile
                ticket.snoozed_until = None
                if ticket.status != "pending":
                    continue  # the customer wrote meanwhile (already open) or it was solved: nothing to wake
                transition(session, ticket, "reopen", "snooze")
                record(session, ticket, "snooze_ended", "snooze")
                woken.append(ticket_id)
        for ticket_id in woken:
            self._announce(ticket_id, [])
        return woken

    async def mark_read(self, ticket_id: int, agent_id: int) -> None:
        """The agent has seen the ticket now: customer messages until now are no longer unread for them."""
        now = utcnow()
        try:
            async with self.store.transaction() as session:
                found = await session.get(TicketRead, (agent_id, ticket_id))
                if found is None:
                    session.add(TicketRead(agent_id=agent_id, ticket_id=ticket_id, read_at=now))
                elif found.read_at < now:
                    found.read_at = now
        except IntegrityError:  # the same agent's other tab marked it at the same moment: read either way
            pass

    async def set_priority(self, ticket_id: int, priority: str, *, agent_id: int | None = None) -> None:
        async with self.store.transaction() as session:
            ticket = await _ticket(session, ticket_id)
            set_priority(session, ticket, priority, await _actor(session, agent_id))
        self._announce(ticket_id, [])

    async def assign(self, ticket_id: int, assignee_id: int | None, *, agent_id: int | None = None) -> None:
        async with self.store.transaction() as session:
            ticket = await _ticket(session, ticket_id)
            if assignee_id is not None and await session.get(Agent, assignee_id) is None:
                raise NotFound(f"agent {assignee_id} does not exist")
            if ticket.assignee_id != assignee_id:
                record(session, ticket, "assignee", await _actor(session, agent_id), before=ticket.assignee_id,
                       after=assignee_id)
                ticket.assignee_id = assignee_id
        self._announce(ticket_id, [])

    async def set_tags(self, ticket_id: int, tags: list[str], *, agent_id: int | None = None) -> None:
        clean = sorted({_tag(t) for t in tags if t and t.strip()})
        if len(clean) > MAX_TAGS:
            raise Conflict(f"a ticket takes at most {MAX_TAGS} tags")
        async with self.store.transaction() as session:
            ticket = await _ticket(session, ticket_id)
            if clean != sorted(ticket.tags or []):
                record(session, ticket, "tags", await _actor(session, agent_id), before=ticket.tags, after=clean)
                ticket.tags = clean
        self._announce(ticket_id, [])

    async def mark_impersonator(self, ticket_id: int, *, agent_id: int | None = None) -> None:
        """The ticket's customer is a reported impersonator: tagged so, and recorded, for every agent to see."""
        async with self.store.transaction() as session:
            ticket = await _ticket(session, ticket_id)
            actor = await _actor(session, agent_id)
            tags = sorted({*(ticket.tags or []), "impersonator"} - {"impersonator-suspect"})
            if tags != sorted(ticket.tags or []):
                record(session, ticket, "tags", actor, before=ticket.tags, after=tags)
                ticket.tags = tags
            record(session, ticket, "reported_impersonator", actor)
        self._announce(ticket_id, [])

    async def merge(self, source_id: int, target_id: int, *, agent_id: int | None = None) -> None:
        """Fold ``source`` into ``target`` (same case): its messages move, it closes pointing at the target."""
        if source_id == target_id:
            raise Conflict("a ticket cannot be merged into itself")
        async with self.store.transaction() as session:
            source, target = await _ticket(session, source_id), await _ticket(session, target_id)
            if target.status == "closed":
                raise Conflict(f"ticket #{target_id} is closed")
            if source.customer_id != target.customer_id:
                raise Conflict("only tickets of the same customer can be merged; link the customers first")
            actor = await _actor(session, agent_id)
            await session.execute(update(Message).where(Message.ticket_id == source.id).values(ticket_id=target.id))
            transition(session, source, "merge", actor)
            source.merged_into_id = target.id
            record(session, source, "merged_into", actor, target=target.id)
            record(session, target, "merged_from", actor, source=source.id)
            target.tags = sorted(set(target.tags or []) | set(source.tags or []))
        self._announce(source_id, [])
        self._announce(target_id, [])

    async def link_identity(self, customer_id: int, identity_id: int, *, agent_id: int | None = None) -> None:
        """Attach another channel identity (and its conversations and tickets) to one customer, by hand."""
        async with self.store.transaction() as session:
            identity = await session.get(Identity, identity_id)
            if identity is None:
                raise NotFound(f"identity {identity_id} does not exist")
            old = identity.customer_id
            if old == customer_id:
                return
            identity.customer_id = customer_id
            owned = select(Identity.id).where(Identity.customer_id == old, Identity.id != identity_id)
            if (await session.scalar(owned.limit(1))) is None:  # the old customer had only this identity
                await session.execute(update(Conversation).where(Conversation.customer_id == old)
                                      .values(customer_id=customer_id))
                await session.execute(update(Ticket).where(Ticket.customer_id == old).values(customer_id=customer_id))
            else:
                conv_ids = select(Conversation.id).where(Conversation.customer_id == old,
                                                         Conversation.channel == identity.channel)
                await session.execute(update(Ticket).where(Ticket.conversation_id.in_(conv_ids))
                                      .values(customer_id=customer_id))
                await session.execute(update(Conversation).where(Conversation.customer_id == old,
                                                                 Conversation.channel == identity.channel)
                                      .values(customer_id=customer_id))

    def _announce(self, ticket_id: int, outbox_ids: list[int]) -> None:
        self.bus.publish("ticket", ticket_id=ticket_id)
        if outbox_ids:
            self.bus.publish("outbox", ids=outbox_ids)


async def _ticket(session: Any, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id, with_for_update=True)  # no lost updates between writers
    if ticket is None:
        raise NotFound(f"ticket #{ticket_id} does not exist")
    return ticket


async def _home(session: Any, ticket: Ticket) -> Conversation:
    """Where the ticket's replies go (and where an agent's typing shows): its home conversation."""
    conversation = await session.get(Conversation, ticket.conversation_id)
    assert conversation is not None
    return conversation


async def _actor(session: Any, agent_id: int | None) -> str:
    if agent_id is None:
        return "agent"
    agent = await session.get(Agent, agent_id)
    return f"agent:{agent.name}" if agent else f"agent:{agent_id}"
