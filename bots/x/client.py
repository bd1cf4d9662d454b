"""The few X API v2 calls the channel makes, through tweepy's AsyncClient.

Responses come back as ``aiohttp.ClientResponse`` (tweepy's ``return_type``) so every call sees
its ``x-rate-limit-*`` headers; each endpoint family keeps its own ``RateWindow``. tweepy never
sleeps here (``wait_on_rate_limit=False``): a 429 becomes ``RateLimited`` with X's reset time and
the caller (poll loop or dispatcher) decides when to try again. All calls use OAuth 1.0a user
context, which every endpoint below accepts; the bearer token is optional.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp
import tweepy
from tweepy.asynchronous import AsyncClient

from bots.x.http import ApiSession, RateWindow, body_of, map_error
from bots.x.translate import (
    DM_EXPANSIONS,
    DM_FIELDS,
    MEDIA_FIELDS,
    TWEET_EXPANSIONS,
    TWEET_FIELDS,
    USER_FIELDS,
    event_time,
)
from core.errors import RateLimited

PAGE_SIZE = 100
UNREPEATABLE = frozenset({"dm_send"})  # X keeps every copy of a DM: a failure after sending is Uncertain
RECENT_DM_PAGES = 5


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


class XClient:
    """One authenticated account: the bot's."""

    def __init__(self, settings: Any) -> None:
        oauth = tuple(_secret(getattr(settings, k)) for k in
                      ("consumer_key", "consumer_secret", "access_token", "access_token_secret"))
        self.session = ApiSession(settings.api_base_url, oauth if all(oauth) else None)  # type: ignore[arg-type]
        self.tweepy = AsyncClient(
            _secret(settings.bearer_token), *oauth,
            return_type=aiohttp.ClientResponse, wait_on_rate_limit=False,
        )
        self.tweepy.session = self.session
        self.windows: dict[str, RateWindow] = {}

    def window(self, family: str) -> RateWindow:
        return self.windows.setdefault(family, RateWindow())

    async def call(self, family: str, request: Awaitable[aiohttp.ClientResponse]) -> dict[str, Any]:
        """Run one request; record its rate window; map failures once."""
        window = self.window(family)
        try:
            response = await request
        except tweepy.HTTPException as exc:
            window.update(exc.response.headers)
            raise map_error(exc, unrepeatable=family in UNREPEATABLE) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise map_error(exc, unrepeatable=family in UNREPEATABLE) from exc
        window.update(response.headers)
        return await body_of(response)

    def check_window(self, family: str) -> None:
        """Refuse before calling when X already said the window is used up."""
        wait = self.window(family).blocked_for()
        if wait is not None:
            raise RateLimited(f"X {family} window used up", retry_after=wait, scope="conversation")

    async def me(self) -> dict[str, Any]:
        body = await self.call("me", self.tweepy.get_me(user_fields=list(USER_FIELDS)))
        return body["data"]

    async def mentions(self, user_id: str, *, since_id: str | None, token: str | None = None,
                       max_results: int = PAGE_SIZE) -> dict[str, Any]:
        return await self.call("mentions", self.tweepy.get_users_mentions(
            user_id, since_id=since_id, pagination_token=token, max_results=max_results,
            expansions=list(TWEET_EXPANSIONS), tweet_fields=list(TWEET_FIELDS),
            user_fields=list(USER_FIELDS), media_fields=list(MEDIA_FIELDS), user_auth=True,
        ))

    async def dm_events(self, *, token: str | None = None, max_results: int = PAGE_SIZE) -> dict[str, Any]:
        return await self.call("dm_events", self.tweepy.get_direct_message_events(
            event_types="MessageCreate", dm_event_fields=list(DM_FIELDS),
            expansions=list(DM_EXPANSIONS), user_fields=list(USER_FIELDS),
            media_fields=list(MEDIA_FIELDS), max_results=max_results, pagination_token=token,
            user_auth=True,
        ))

    async def tweet(self, tweet_id: str) -> dict[str, Any]:
        """GET /2/tweets/:id with its author and referenced posts; ``data`` is absent when gone."""
        return await self.call("tweet_lookup", self.tweepy.get_tweet(
            tweet_id, expansions=list(TWEET_EXPANSIONS), tweet_fields=list(TWEET_FIELDS),
            user_fields=list(USER_FIELDS), media_fields=list(MEDIA_FIELDS), user_auth=True,
        ))

    async def own_posts(self, user_id: str) -> list[dict[str, Any]]:
        """The account's 100 newest posts (GET /2/users/:id/tweets), with what each replies to."""
        body = await self.call("user_tweets", self.tweepy.get_users_tweets(
            user_id, max_results=PAGE_SIZE, tweet_fields=["referenced_tweets", "created_at"], user_auth=True))
        return list(body.get("data") or ())

    async def recent_dms(self, back_to: float | None) -> tuple[list[dict[str, Any]], float | None]:
        """The newest DM events (sent and received), newest first, paged back to the moment ``back_to``
        (epoch seconds); with how far back they reach (None: to the very first)."""
        events: list[dict[str, Any]] = []
        token = None
        for _ in range(RECENT_DM_PAGES):
            body = await self.dm_events(token=token)
            events.extend(body.get("data") or ())
            token = (body.get("meta") or {}).get("next_token")
            oldest = event_time(events[-1]) if events else None
            if not token:
                return events, None
            if back_to is None or (oldest is not None and oldest < back_to):
                return events, oldest
        return events, event_time(events[-1]) if events else None

    async def post_tweet(self, text: str, in_reply_to: str | None) -> str:
        self.check_window("tweets")
        body = await self.call("tweets", self.tweepy.create_tweet(text=text, in_reply_to_tweet_id=in_reply_to))
        return str(body["data"]["id"])

    async def send_dm(self, text: str, *, participant_id: str | None = None,
                      conversation_id: str | None = None) -> str:
        self.check_window("dm_send")
        body = await self.call("dm_send", self.tweepy.create_direct_message(
            participant_id=participant_id, dm_conversation_id=conversation_id, text=text,
        ))
        return str(body["data"]["dm_event_id"])

    async def close(self) -> None:
        await self.session.close()
