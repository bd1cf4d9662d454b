"""Moderation steps the engine asks of the X channel, and why X lets none of them be done by the bot.

X API v2 lets an account delete only its own posts (DELETE /2/tweets/:id, "if owned by the authenticated
user"); hiding a reply (PUT /2/tweets/:id/hidden) works only under the account's own posts and leaves it one
click away; blocking or muting (POST /2/users/:id/blocking, /muting) changes what the bot's account sees and
removes nothing from X. So a customer's post that exposed a secret, or an impersonator's account, stays up:
the row is reported undeliverable with what the agent can do instead, and nothing is posted in its place
(``reply.text`` only describes the step for the inbox; posting it would tell the public about the secret).
"""

from __future__ import annotations

from typing import NoReturn

from core.errors import Undeliverable
from core.models import OutboundMessage

POST_URL = "https://x.com/i/web/status/{id}"
PROFILE_URL = "https://x.com/intent/user?user_id={id}"


def refuse(reply: OutboundMessage) -> NoReturn:
    """Raise Undeliverable for a moderation step (``reply.action``), saying what to do instead."""
    target = reply.target or "?"
    if reply.action == "delete_message":
        raise Undeliverable(
            f"X does not let the bot delete someone else's post, so the customer's post {target} is still public "
            f"({POST_URL.format(id=target)}). Ask the customer to delete it, and report it on X (the post's "
            "menu > Report post) if it exposes a secret; the warning to the customer is sent separately.")
    if reply.action == "remove_member":
        raise Undeliverable(
            f"X has no way for the bot to remove the account {target} ({PROFILE_URL.format(id=target)}): blocking "
            "or muting it only hides it from the bot's account, and its posts stay up. Report the account on X "
            "(its profile menu > Report > impersonation) and warn customers in public if it contacted them.")
    raise Undeliverable(f"X cannot carry out the moderation step {reply.action!r}")
