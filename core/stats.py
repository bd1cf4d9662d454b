"""Support statistics for a date range: what `GET /api/v1/stats` serves and `/dashboard` draws.

Definitions (days are UTC calendar days, ``to`` inclusive):

- **conversations**: per day, the conversations in which a customer wrote to us that day; a range adds
  its days up (a conversation that goes on the next day counts on both days), so a day's figures are
  the same in every range and survive pruning (see below);
- **deflected**: of those, the ones the bot answered from the knowledge base that day where no ticket was
  involved, plus the ones where the customer marked a bot answer of that day as helpful ("Solved");
  ``deflection_rate`` = deflected / conversations;
- **handoffs**: tickets opened in the range (customers, moderators' escalations, safety), by reason;
- **first response**: for tickets opened in the range that owe one, hours from opening to the first
  agent reply: p50 and p90 of those answered, how many were answered within the goal (the SLA,
  24 h by default), how many still wait and how many of those are past the goal;
- **satisfaction**: ratings (1-5) given in the range (tickets.rated_at): count and average.

Aggregation runs in SQL where it is portable (one row per conversation and day); percentiles are computed
here, so SQLite and PostgreSQL give the same figures. Retention (core/retention.py) prunes old messages
without a ticket; before it does, it adds their conversations' days to ``stats_days`` (the same
`conversation_days` below) and marks them ``counted_through``: those days are read from there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from core.models import utcnow
from core.store import Store
from core.store.tables import Conversation, Message, StatsDay, Ticket

MAX_DAYS = 366
DEFAULT_DAYS = 30
HELPFUL = "helpful"  # messages.feedback of a bot answer the customer marked "Solved" (did it help?)


class StatsRangeError(ValueError):
    """A range the statistics cannot cover (the API answers 422)."""


@dataclass
class Figures:
    """The figures of one slice (everything, one channel or one day)."""

    conversations: int = 0
    answered: int = 0
    deflected: int = 0
    handoffs: Counter[str] = field(default_factory=Counter)
    response_hours: list[float] = field(default_factory=list)
    waiting: int = 0
    waiting_over_goal: int = 0
    ratings: list[int] = field(default_factory=list)

    def as_dict(self, goal_hours: float) -> dict[str, Any]:
        answered_in_time = sum(1 for h in self.response_hours if h <= goal_hours)
        due = len(self.response_hours) + self.waiting_over_goal
        return {
            "conversations": self.conversations,
            "answered_by_bot": self.answered,
            "deflected": self.deflected,
            "deflection_rate": _ratio(self.deflected, self.conversations),
            "handoffs": sum(self.handoffs.values()),
            "handoffs_by_reason": dict(sorted(self.handoffs.items(), key=lambda kv: (-kv[1], kv[0]))),
            "first_response": {
                "responded": len(self.response_hours),
                "p50_hours": _round(percentile(self.response_hours, 50)),
                "p90_hours": _round(percentile(self.response_hours, 90)),
                "within_goal": answered_in_time,
                "within_goal_rate": _ratio(answered_in_time, due),
                "waiting": self.waiting,
                "waiting_over_goal": self.waiting_over_goal,
            },
            "satisfaction": {"count": len(self.ratings),
                             "average": _round(sum(self.ratings) / len(self.ratings)) if self.ratings else None},
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def date_range(start: date | None, end: date | None, *, today: date | None = None) -> tuple[date, date]:
    """The range asked for, defaulting to the last 30 days; at most a year, ``start`` not after ``end``."""
    end = end or today or utcnow().date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise StatsRangeError("'from' must not be after 'to'")
    if (end - start).days + 1 > MAX_DAYS:
        raise StatsRangeError(f"a range covers at most {MAX_DAYS} days")
    return start, end


@dataclass
class Stats:
    start: date
    end: date
    channel: str | None
    goal_hours: float
    total: Figures = field(default_factory=Figures)
    channels: dict[str, Figures] = field(default_factory=dict)
    days: dict[date, Figures] = field(default_factory=dict)

    def slices(self, channel: str, day: date) -> tuple[Figures, ...]:
        return self.total, self.channels.setdefault(channel, Figures()), self.days[day]

    def as_dict(self) -> dict[str, Any]:
        goal = self.goal_hours
        return {
            "from": self.start.isoformat(), "to": self.end.isoformat(), "channel": self.channel,
            "timezone": "UTC", "goal_hours": goal,
            "totals": self.total.as_dict(goal),
            "channels": {name: f.as_dict(goal) for name, f in sorted(self.channels.items())},
            "days": [{"date": d.isoformat(), **f.as_dict(goal)} for d, f in sorted(self.days.items())],
        }


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


async def compute(store: Store, start: date, end: date, *, channel: str | None = None,
                  goal_hours: float = 24.0, now: datetime | None = None) -> Stats:
    """The statistics of ``start``..``end`` (inclusive, UTC days), for one channel or all."""
    now = now or utcnow()
    stats = Stats(start, end, channel, goal_hours)
    day = start
    while day <= end:
        stats.days[day] = Figures()
        day += timedelta(days=1)
    since, until = _bounds(start, end)
    async with store.sessions() as session:
        for one in await conversation_days(session, since, until, channel=channel):
            for figures in stats.slices(one.channel, one.day):
                figures.conversations += 1
                figures.answered += one.answered
                figures.deflected += one.deflected
        days = select(StatsDay).where(StatsDay.day >= start, StatsDay.day <= end)
        for rolled in (await session.scalars(days.where(StatsDay.channel == channel) if channel else days)).all():
            for figures in stats.slices(rolled.channel, rolled.day):
                figures.conversations += rolled.conversations
                figures.answered += rolled.answered
                figures.deflected += rolled.deflected
        for ticket in (await session.execute(_tickets(since, until, channel))).all():
            _add_ticket(stats, ticket, now, goal_hours)
        for row in (await session.execute(_ratings(since, until, channel))).all():
            for figures in stats.slices(row.channel, row.at.astimezone(UTC).date()):
                figures.ratings.append(int(row.rating))
    return stats


class utc_day(FunctionElement[date]):  # an SQL function, named like one
    """The UTC calendar day of a timestamp column, in SQL (``date`` as each dialect spells it)."""

    type = Date()
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _sqlite_day(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"  # stored as naive UTC text


@compiles(utc_day, "postgresql")
def _pg_day(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


@dataclass(frozen=True)
class ConversationDay:
    """One conversation's figures of one day: it counts once; answered (no ticket) and deflected, 0 or 1."""

    conversation_id: int
    channel: str
    day: date
    answered: int
    deflected: int


async def conversation_days(session: Any, since: datetime, until: datetime, *, channel: str | None = None,
                            conversation_ids: Iterable[int] | None = None) -> list[ConversationDay]:
    """The conversation-days between ``since`` and ``until`` counted from the messages (days a conversation's
    ``counted_through`` covers are in stats_days instead). Stats and retention's roll-up share this one
    definition, so a pruned day adds up to what its messages said. ``session``: a session or a connection."""
    day = utc_day(Message.created_at)
    action = Message.decision["action"].as_string()
    live = or_(Conversation.counted_through.is_(None), day > Conversation.counted_through)
    scope = [Message.created_at >= since, Message.created_at < until, live]  # both queries read the same messages
    if channel:
        scope.append(Message.channel == channel)
    if conversation_ids is not None:
        scope.append(Message.conversation_id.in_(list(conversation_ids)))
    said = (select(Message.conversation_id, Message.channel, day.label("day"),
                   func.max(case((action == "answer", 1), else_=0)).label("answered"),
                   func.max(case((Message.ticket_id.is_not(None), 1), else_=0)).label("ticketed"))
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.direction == "in", Message.author_kind == "customer", Message.addressed.is_(True), *scope)
            .group_by(Message.conversation_id, Message.channel, day))
    solved = (select(Message.conversation_id, day.label("day")).distinct()  # "Solved" on a bot answer that day
              .join(Conversation, Conversation.id == Message.conversation_id)
              .where(Message.feedback == HELPFUL, *scope))
    helped = {(row.conversation_id, _as_date(row.day)) for row in (await session.execute(solved)).all()}
    days = []
    for row in (await session.execute(said)).all():
        answered = int(bool(row.answered) and not row.ticketed)
        on = _as_date(row.day)
        days.append(ConversationDay(row.conversation_id, row.channel, on, answered,
                                    int(bool(answered) or (row.conversation_id, on) in helped)))
    return days


def _as_date(value: Any) -> date:
    """SQLite's date() answers text, PostgreSQL a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _tickets(since: datetime, until: datetime, channel: str | None) -> Any:
    stmt = (select(Ticket.channel, Ticket.reason, Ticket.status, Ticket.created_at, Ticket.first_response_due,
                   Ticket.first_responded_at, Ticket.merged_into_id)
            .where(Ticket.source != "agent", Ticket.created_at >= since, Ticket.created_at < until))
    return stmt.where(Ticket.channel == channel) if channel else stmt


def _ratings(since: datetime, until: datetime, channel: str | None) -> Any:
    at = func.coalesce(Ticket.rated_at, Ticket.solved_at, Ticket.updated_at)
    stmt = (select(Ticket.channel, Ticket.rating, at.label("at"))
            .where(Ticket.rating.is_not(None), at >= since, at < until))
    return stmt.where(Ticket.channel == channel) if channel else stmt


def _add_ticket(stats: Stats, ticket: Any, now: datetime, goal_hours: float) -> None:
    opened = ticket.created_at
    for figures in stats.slices(ticket.channel, opened.astimezone(UTC).date()):
        figures.handoffs[ticket.reason or "other"] += 1
        if ticket.first_response_due is None:
            continue  # owes no first response (e.g. a safety ticket about an impersonator)
        if ticket.first_responded_at is not None:
            figures.response_hours.append(max(0.0, (ticket.first_responded_at - opened).total_seconds() / 3600))
        elif ticket.status in ("open", "pending") and ticket.merged_into_id is None:
            figures.waiting += 1
            figures.waiting_over_goal += (now - opened).total_seconds() / 3600 > goal_hours
