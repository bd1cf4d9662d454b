"""The transition table as a property: any sequence of requests keeps the lifecycle's invariants."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.errors import Conflict
from core.store.tables import Ticket
from core.tickets import PRIORITIES, STATUSES, TRANSITIONS, raise_priority, set_status, transition


class _Session:
    """Collects what the ticket functions add (they only call ``add``)."""

    def __init__(self) -> None:
        self.added: list[object] = []

    def add(self, obj: object) -> None:
        self.added.append(obj)


@given(st.lists(st.sampled_from([*STATUSES, "customer_message"]), max_size=30))
def test_any_sequence_keeps_invariants(requests: list[str]) -> None:
    ticket, session = Ticket(id=1, status="open", priority="normal"), _Session()
    changes = 0
    for request in requests:
        before = ticket.status
        try:
            if request == "customer_message":
                changed = transition(session, ticket, "customer_message", "customer")  # type: ignore[arg-type]
            else:
                changed = set_status(session, ticket, request, "agent")  # type: ignore[arg-type]
        except Conflict:
            assert before == "closed" or (before, request) not in {(a, TRANSITIONS[(a, t)]) for a, t in TRANSITIONS}
            assert ticket.status == before
            continue
        changes += changed
        assert ticket.status in STATUSES
        if request == "customer_message":
            assert ticket.status == "open"
        if before == "closed":
            assert not changed and ticket.status == "closed"  # closed tickets never change
    assert len(session.added) == changes  # every change recorded, nothing else


def test_priority_only_rises_automatically() -> None:
    ticket, session = Ticket(id=1, status="open", priority="high"), _Session()
    assert not raise_priority(session, ticket, "normal", "triage")  # type: ignore[arg-type]
    assert raise_priority(session, ticket, "urgent", "triage")  # type: ignore[arg-type]
    assert ticket.priority == "urgent" and PRIORITIES[-1] == "urgent"
