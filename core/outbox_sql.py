"""The outbox statements the dispatcher runs, built once: the hot path only binds values.

Every write after a claim matches the row only while its lease is ours (``status = 'sending'`` and
``lease_owner = :me_``): a row another instance took over is not ours to write.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Update,
    and_,
    bindparam,
    case,
    exists,
    false,
    not_,
    or_,
    select,
    true,
    update,
)

from core.store.tables import Instance, Message, Outbox

OUTBOX = Outbox.__table__
INSTANCES = Instance.__table__
PENDING = ("queued", "failed", "sending")  # written out as literals: SQLite then uses the partial index (0007)


def _ours() -> tuple[ColumnElement[bool], ...]:
    return (OUTBOX.c.id == bindparam("oid"), OUTBOX.c.status == "sending",
            OUTBOX.c.lease_owner == bindparam("me_"))


# What a leased row carries to its send and its outcome (core/dispatch.py, core/sent_marks.py): no timestamps or
# errors, whose conversion back into Python would cost more than the rest of the row.
LEASED = tuple(OUTBOX.c[name] for name in ("id", "message_id", "channel", "conversation", "payload", "attempts"))


def claim_statement(*, by_ids: bool, postgres: bool) -> Update:
    """Due rows (or the given ids) of the channels that may send, oldest first, none with an older
    undelivered row for the same place; SKIP LOCKED lets several dispatchers share the queue on
    PostgreSQL. A row still "sending" is due when its owner's heartbeat stopped (or its lease ran out):
    it is taken over, and marked uncertain on channels whose sends are not idempotent."""
    o, older = OUTBOX.c, OUTBOX.alias("older").c
    now = bindparam("now_", type_=o.next_attempt_at.type)
    alive = select(INSTANCES.c.id).where(INSTANCES.c.heartbeat_at >= bindparam("alive_", type_=o.next_attempt_at.type))

    def claimable(status: ColumnElement[str]) -> ColumnElement[bool]:
        orphaned = and_(status == "sending", or_(
            o.locked_until < now,
            o.lease_owner.is_(None),
            and_(o.lease_owner != bindparam("me_"), not_(o.lease_owner.in_(alive.scalar_subquery()))),
        ))
        return or_(and_(status.in_(("queued", "failed")), o.next_attempt_at <= now), orphaned)

    # SQLite plans without statistics: it would read every row of the channel through ix_outbox_conversation, and
    # for given ids every due row, instead of the rows asked for. `x || ''` keeps an index out of its plan;
    # PostgreSQL plans by cost.
    channel = o.channel if postgres else o.channel.concat("")
    status = o.status if postgres or not by_ids else o.status.concat("")
    due = select(o.id).where(
        channel.in_(bindparam("channels", expanding=True)),
        claimable(status),
        ~exists().where(older.channel == o.channel, older.conversation == o.conversation, older.id < o.id,
                        older.status.in_(bindparam("pending_", list(PENDING), expanding=True, literal_execute=True))),
    ).order_by(o.id).limit(bindparam("limit_"))
    outer = [claimable(o.status)]
    if by_ids:  # the outer WHERE names the ids too, so the database starts from them
        due = due.where(o.id.in_(bindparam("ids", expanding=True)))
        outer.append(o.id.in_(bindparam("ids", expanding=True)))
    if postgres:
        due = due.with_for_update(skip_locked=True)
    taken_over = and_(o.status == "sending", o.channel.in_(bindparam("risky", expanding=True)))
    return (update(OUTBOX).where(o.id.in_(due.scalar_subquery()), *outer)
            .values(status="sending", locked_until=bindparam("until_", type_=o.locked_until.type),
                    lease_owner=bindparam("me_"), attempts=o.attempts + 1,
                    uncertain=case((taken_over, true()), else_=o.uncertain))
            .returning(*LEASED))


# Is any row of these channels queued and due? (A cheap read before a claim, which takes the write lock.)
DUE = (select(OUTBOX.c.id).where(OUTBOX.c.channel.in_(bindparam("channels", expanding=True)),
                                 OUTBOX.c.status.in_(("queued", "failed")),
                                 OUTBOX.c.next_attempt_at <= bindparam("now_", type_=OUTBOX.c.next_attempt_at.type))
       .limit(1))


def settle(values: dict[str, Any], uncertain: bool) -> Update:
    """The row's outcome (failed for a retry, or dead), written while the lease is ours."""
    values = {**values, "locked_until": None, "lease_owner": None}
    if uncertain:
        values["uncertain"] = True
    return update(OUTBOX).where(*_ours()).values(**values)


# ``sure``: the adapter knows this send cannot have reached the customer twice (the platform refuses a repeat of
# a public post), so a row marked uncertain when it was taken over is cleared.
MARK_SENT = (update(OUTBOX).where(*_ours())
             .values(status="sent", sent_at=bindparam("at", type_=OUTBOX.c.sent_at.type), locked_until=None,
                     lease_owner=None, last_error=None, noted_publicly=bindparam("noted", type_=Boolean()),
                     uncertain=case((bindparam("sure", type_=Boolean()), false()), else_=OUTBOX.c.uncertain)))

# A leased row whose turn has not come (its conversation must wait), or that a clean stop did not send:
# back to the queue as it was, without spending an attempt.
GIVE_BACK = (update(OUTBOX).where(*_ours())
             .values(status=case((OUTBOX.c.last_error.is_(None), "queued"), else_="failed"),
                     attempts=OUTBOX.c.attempts - 1, locked_until=None, lease_owner=None,
                     next_attempt_at=bindparam("at", type_=OUTBOX.c.next_attempt_at.type)))

MESSAGES = Message.__table__
SET_PLATFORM_ID = (update(MESSAGES).where(MESSAGES.c.id == bindparam("mid")).values(platform_id=bindparam("pid")))
# The same inside another writer's transaction, where a unique violation would undo everything: an id another
# message of the channel already has (a platform reusing ids) is not stored.
_OTHER = MESSAGES.alias("other")
SET_PLATFORM_ID_IF_FREE = (update(MESSAGES).where(
    MESSAGES.c.id == bindparam("mid"),
    ~exists().where(_OTHER.c.channel == MESSAGES.c.channel, _OTHER.c.platform_id == bindparam("pid")))
    .values(platform_id=bindparam("pid")))
