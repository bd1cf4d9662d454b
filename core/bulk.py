"""Bulk actions on tickets selected in the list: assign, solve, add a tag, snooze, merge.

Each ticket is changed through the same Inbox method as one at a time (its rules and activity log
apply); one ticket's refusal (a closed ticket cannot be solved) is reported and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.errors import Conflict, NotFound
from core.inbox import Inbox

ACTIONS = ("assign", "solve", "tag", "snooze", "merge")
MAX_TICKETS = 100


@dataclass(frozen=True, slots=True)
class Result:
    ticket_id: int
    ok: bool
    error: str | None = None


def summary(action: str, results: list[Result]) -> str:
    """One sentence for the page, e.g. "3 tickets solved; #7: ticket #7 is closed: cannot solve"."""
    done = sum(r.ok for r in results)
    verb = {"assign": "assigned", "solve": "solved", "tag": "tagged", "snooze": "snoozed", "merge": "merged"}[action]
    text = f"{done} ticket{'s' if done != 1 else ''} {verb}"
    failed = [f"#{r.ticket_id}: {r.error}" for r in results if not r.ok]
    return text + ("; " + "; ".join(failed[:5]) if failed else "") + (" …" if len(failed) > 5 else "")


async def apply(inbox: Inbox, ticket_ids: list[int], action: str, *, agent_id: int | None,
                assignee: int | None = None, tag: str | None = None, until: datetime | None = None,
                target: int | None = None) -> list[Result]:
    """Do ``action`` to every ticket; merge folds the others into ``target`` (the oldest selected if none)."""
    if action not in ACTIONS:
        raise Conflict(f"unknown bulk action {action!r}; expected one of {', '.join(ACTIONS)}")
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        raise Conflict("select at least one ticket")
    if len(ids) > MAX_TICKETS:
        raise Conflict(f"at most {MAX_TICKETS} tickets at once")
    if action == "tag" and not (tag or "").strip():
        raise Conflict("give the tag to add")
    if action == "snooze" and until is None:
        raise Conflict("choose until when to snooze")
    if action == "merge":
        target = target if target is not None else min(ids)
        if len(ids) < 2 and target in ids:
            raise Conflict("select two or more tickets to merge, or give the ticket to merge into")
    results = []
    for ticket_id in ids:
        try:
            match action:
                case "assign":
                    await inbox.assign(ticket_id, assignee, agent_id=agent_id)
                case "solve":
                    await inbox.set_status(ticket_id, "solved", agent_id=agent_id)
                case "tag":
                    record = await inbox.store.ticket(ticket_id)
                    await inbox.set_tags(ticket_id, [*(record.ticket.tags or []), str(tag)], agent_id=agent_id)
                case "snooze":
                    assert until is not None
                    await inbox.snooze(ticket_id, until, agent_id=agent_id)
                case "merge":
                    assert target is not None
                    if ticket_id == target:
                        continue
                    await inbox.merge(ticket_id, target, agent_id=agent_id)
        except (Conflict, NotFound) as exc:
            results.append(Result(ticket_id, False, str(exc)))
        else:
            results.append(Result(ticket_id, True))
    return results
