"""The HTTP edge of the X channel: where requests go, what the rate-limit headers say, error mapping.

tweepy hard-codes ``https://api.twitter.com``; ``ApiSession`` is the session object tweepy's
AsyncClient accepts, sending each request to ``api_base_url`` instead (a proxy, a regional
gateway, or the fake server in tests). OAuth 1.0a signatures cover the URL, so a rewritten
request is signed again for the URL it is really sent to.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import tweepy
from oauthlib.oauth1 import Client as OAuthClient
from yarl import URL

from core.errors import AdapterError, RateLimited, RetryLater, Uncertain, Undeliverable

TWEEPY_HOST = "api.twitter.com"
DEFAULT_RETRY_AFTER = 60.0
# X usually answers in well under a second, but a slow minute happens: wait for it rather than call a
# send that X is still carrying out a failure. Connecting is separate and short: nothing was sent yet.
TIMEOUT = aiohttp.ClientTimeout(total=None, connect=15, sock_connect=10, sock_read=45)
_DMS_CLOSED = re.compile(r"cannot send messages|not allowed to send messages|not following you"
                         r"|not verified to send message|does not accept", re.IGNORECASE)
# failures where the request may have reached X: the connection broke or went quiet after it was written
_MAYBE_WRITTEN = (aiohttp.SocketTimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError,
                  aiohttp.ClientOSError, asyncio.TimeoutError)


class DuplicatePost(Undeliverable):
    """X refused a post identical to one the account already made. After a crash or a lost answer that
    earlier post may be this very reply; the adapter looks for it before giving up."""


class DmsClosed(Undeliverable):
    """X refused a DM because the customer does not accept DMs from the bot (settings, not following, blocked)."""


class CredentialsRefused(RetryLater):
    """X answered 401: the keys are wrong or were revoked. A reply stays queued (it is a RetryLater) until
    they work again; polling cannot go on with them, so its loop ends and the supervisor restarts it."""


class ApiSession:
    """Duck-types the part of ``aiohttp.ClientSession`` tweepy uses: ``request()`` as a context manager."""

    def __init__(self, base_url: str, oauth: tuple[str, str, str, str] | None,
                 session: aiohttp.ClientSession | None = None) -> None:
        self._base = URL(base_url)
        self._oauth = oauth
        self._session = session or aiohttp.ClientSession(timeout=TIMEOUT)
        self._rewrite = self._base.host != TWEEPY_HOST or self._base.scheme != "https"

    def request(self, method: str, url: str | URL, **kwargs: Any) -> Any:
        url = URL(url) if isinstance(url, str) else url
        if self._rewrite:
            url = self._target(url)
            headers = dict(kwargs.pop("headers", None) or {})
            if self._oauth and str(headers.get("Authorization", "")).startswith("OAuth "):
                headers.pop("Authorization")
                signed_url, headers, _ = OAuthClient(*self._oauth).sign(str(url), method, headers=headers)
                url = URL(signed_url, encoded=True)
            kwargs["headers"] = headers
        return self._session.request(method, url, **kwargs)

    def _target(self, url: URL) -> URL:
        prefix = self._base.raw_path.rstrip("/")
        return URL.build(scheme=self._base.scheme, host=self._base.raw_host or "",
                         port=self._base.explicit_port, path=prefix + url.raw_path,
                         query_string=url.raw_query_string, encoded=True)

    async def close(self) -> None:
        await self._session.close()


WINDOW_SECONDS = 900.0  # X's per-endpoint rate windows are 15 minutes: no wait is longer
DAY_SECONDS = 86_400.0  # except the 24-hour user cap, where its own headers say it applies
_COUNT = re.compile(r"[0-9]{1,12}")


def header_count(headers: Mapping[str, str], name: str) -> int | None:
    """A rate-limit header as X sends it (a non-negative integer); anything else ("inf", "nan", "-5", "soon") is None.

    A malformed header must not decide how long a loop sleeps: ``float("inf")`` once stopped DM polling for good.
    """
    value = headers.get(name)
    return int(value.strip()) if value is not None and _COUNT.fullmatch(value.strip()) else None


@dataclass
class RateWindow:
    """What the last ``x-rate-limit-*`` headers of one endpoint said.

    Waits are clamped to X's real windows (``WINDOW_SECONDS``; ``DAY_SECONDS`` for the 24-hour user cap), so a
    reset far in the future costs one window, not forever; ``overlong`` tells the channel's health about it.
    """

    remaining: int | None = None
    reset: float | None = None  # epoch seconds
    daily: bool = False  # the 24-hour user cap set this window

    def update(self, headers: Mapping[str, str]) -> None:
        if "x-rate-limit-remaining" in headers or "x-rate-limit-reset" in headers:
            remaining = header_count(headers, "x-rate-limit-remaining")
            reset = header_count(headers, "x-rate-limit-reset")
            if remaining is None or reset is None:  # unreadable: forget it, the default pacing applies
                self.remaining = self.reset = None
            else:
                self.remaining, self.reset = remaining, float(reset)
            self.daily = False
        day_reset = header_count(headers, "x-user-limit-24hour-reset")
        if header_count(headers, "x-user-limit-24hour-remaining") == 0 and day_reset is not None:
            self.remaining, self.reset, self.daily = 0, float(day_reset), True

    @property
    def longest(self) -> float:
        """The longest wait X's own rules allow for this window."""
        return DAY_SECONDS if self.daily else WINDOW_SECONDS

    def _left(self, now: float | None) -> float:
        assert self.reset is not None
        return min(self.reset - (time.time() if now is None else now), self.longest)

    def overlong(self, now: float | None = None) -> float | None:
        """Seconds X's reset claims when that is beyond the window (then clamped), else None."""
        if self.reset is None:
            return None
        left = self.reset - (time.time() if now is None else now)
        return left if left > self.longest else None

    def next_delay(self, floor: float, now: float | None = None) -> float:
        """Spread the calls left over the rest of the window, never faster than ``floor``."""
        if self.remaining is None or self.reset is None:
            return floor
        left = max(0.0, self._left(now))
        if self.remaining <= 0:
            return max(floor, left + 1.0)
        return max(floor, left / self.remaining)

    def blocked_for(self, now: float | None = None) -> float | None:
        """Seconds until the window reopens when it is used up, else None."""
        if self.remaining is None or self.reset is None or self.remaining > 0:
            return None
        left = self._left(now)
        return left + 1.0 if left > 0 else None


def retry_after(exc: tweepy.HTTPException, now: float | None = None) -> float:
    """Seconds until X accepts the call again, from the 429's own headers (within X's windows)."""
    window = RateWindow()
    window.update(exc.response.headers)
    wait = window.blocked_for(now) if window.remaining == 0 else None
    if wait is None and window.reset is not None:
        wait = window._left(now) + 1.0
    return max(1.0, wait) if wait is not None else DEFAULT_RETRY_AFTER


def map_error(exc: BaseException, *, unrepeatable: bool = False) -> AdapterError:
    """The one place X failures become typed errors.

    ``unrepeatable``: the call cannot safely be made twice (a DM: X keeps every copy). Then a failure
    after the request may have been carried out (a 5xx, a connection cut or gone quiet after the request
    was written) is ``Uncertain``; a post is not, X refuses the second copy of one (``DuplicatePost``).
    """
    if isinstance(exc, AdapterError):
        return exc
    if isinstance(exc, tweepy.TooManyRequests):
        # X's windows are per endpoint (posts, DMs, reads): the client keeps each one and refuses further
        # calls of that kind itself until it reopens, so pausing the whole channel would only stop the others.
        return RateLimited("X rate limit reached", retry_after=retry_after(exc), scope="conversation")
    if isinstance(exc, tweepy.TwitterServerError):
        if unrepeatable:
            return Uncertain(f"X server error {exc.response.status}: X may have carried it out")
        return RetryLater(f"X server error {exc.response.status}")
    if isinstance(exc, tweepy.Unauthorized):
        # Credentials are being rotated or are wrong: keep the message queued until they work.
        return CredentialsRefused("X refused the credentials (401)", retry_after=300.0)
    if isinstance(exc, tweepy.HTTPException):
        detail = "; ".join(exc.api_messages) or f"HTTP {exc.response.status}"
        if "duplicate content" in detail.lower():
            # Either the bot posted this exact text before, or an earlier attempt of this very reply
            # was accepted and only X's answer was lost: the sender looks before giving up.
            return DuplicatePost("X refused a duplicate post (the bot already posted this exact text; "
                                 "it may be this reply, accepted on an earlier attempt): check the thread "
                                 f"before sending again. X said: {detail}")
        if isinstance(exc, tweepy.Forbidden) and _DMS_CLOSED.search(detail):
            return DmsClosed(f"X refused the DM: {detail}")
        return Undeliverable(f"X refused: {detail}")
    never_sent = (aiohttp.ConnectionTimeoutError, aiohttp.ClientConnectorError)  # no connection: nothing written
    if unrepeatable and isinstance(exc, _MAYBE_WRITTEN) and not isinstance(exc, never_sent):
        return Uncertain(f"X did not answer ({exc.__class__.__name__}) after the request was sent: "
                         "it may have carried it out")
    if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, OSError)):
        return RetryLater(f"X unreachable: {exc.__class__.__name__}")
    raise exc


async def body_of(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The JSON object of a response tweepy already read. Anything else (a proxy's HTML page, a cut body)
    is X not answering properly: a RetryLater, like a 5xx."""
    try:
        body = await response.json(content_type=None)
    except (ValueError, RecursionError) as exc:
        raise RetryLater(f"X answered {response.status} with a body that is not JSON") from exc
    if not isinstance(body, dict):
        raise RetryLater(f"X answered {response.status} with a JSON {type(body).__name__}, not an object")
    return body


class FileCursors:
    """Fallback cursor store: one small JSON file, for a deployment without the store wired in.
    Delivery state written with ``keep_days`` is dropped once it is that old."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self._path.read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    async def get_cursor(self, channel: str, key: str) -> str | None:
        value = self._load().get(f"{channel}:{key}")
        if isinstance(value, list):  # [value, expiry]
            return str(value[0]) if value[1] > time.time() else None
        return value

    async def set_cursor(self, channel: str, key: str, value: str, *, keep_days: float | None = None) -> None:
        now = time.time()
        data = {k: v for k, v in self._load().items() if not isinstance(v, list) or v[1] > now}
        data[f"{channel}:{key}"] = value if keep_days is None else [value, now + keep_days * 86400]
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), "utf-8")
        tmp.replace(self._path)
