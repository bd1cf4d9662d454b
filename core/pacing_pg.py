"""Channel pacing shared by every dispatcher process on PostgreSQL: one send at a time, from one row.

Each channel has a row in ``channel_pace`` with ``next_at``, the earliest moment (in the database's
clock) of its next send. A sender takes its turn right before it sends, in one statement under the
row's lock: if ``next_at`` has come or comes within ``LEAD`` (and no pause holds), the turn is taken,
the sender waits out what is left of it, and ``next_at`` moves on by 1.10/rate from the turn's moment;
otherwise the statement says how long to wait, and the sender sleeps that long less half of ``LEAD`` and
asks again. Asking a little early keeps the turns exactly one gap apart: a sender that asked only when the
turn was due came late by its own round trip to the database every time, and lost that much rate with
each turn (two dispatchers reached 23.6/s instead of 27.3/s where a round trip took 5 ms). Turns are
spaced by the database's clock whichever process takes them, so N dispatchers together never put more
than ``rate`` sends into a 1 s window, and together they reach the rate. In each process only one
sender per channel asks at a time (the others queue behind it locally), so the row sees about two
questions per send, whatever the number of leased rows.

The time between the database's answer and the request on the wire (one network hop, this
process's event loop) is the jitter the platform sees, and it differs between processes (one may
stall while the other sends on time, and the platform's own clock is one more hop away). On a busy
2-core machine that jitter reached 90 ms (a strict 30/s fake saw 31 sends in 0.96 s with 5 % spacing),
so turns are spaced 10 % wider than 1/rate (one process alone uses 3 %, core/pacing.py): any 1 s
window holds at most ``rate`` sends with up to ~60 ms of jitter at 30/s, and a 429 past that is
honoured like any other. The price is the rate: two processes together reach at most rate / 1.10
(27.3/s of Telegram's 30/s). A turn taken late does not make up for lost time (``next_at`` moves on
from now), so lateness never packs the sends that follow closer together.

A platform's "stop everything" (Telegram's flood wait, Discord's global 429) is written to the same
row (``paused_until``): no process takes a turn before it ends. It is also announced on the event
bus (a ``pause`` event), so every process at once stops leasing that channel's rows for as long
(`Pacing.paused_for`).

Conversations keep their gaps in memory (core/pacing.py): the outbox claim leases one conversation's
rows one at a time and in order, so no two processes ever send to one conversation at once.
Channels paced faster than ``BURSTY_RATE`` (our own website chat) are paced per process: they have
no platform limit to share. If the database cannot be asked, the process paces itself alone until it
can (and says so once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text

from core.events import EventBus
from core.pacing import BURSTY_RATE, Pacing
from core.store import Store
from core.tasks import cancel

log = logging.getLogger(__name__)

MARGIN = 1.10  # turns spaced 10 % wider than 1/rate: room for the jitter between processes and the platform
# Seconds of lateness a turn may make up. A 1 s window holds at most 1 + (rate / MARGIN) * (1 + SLACK + jitter)
# sends: at most rate while SLACK + jitter <= (rate - 1) * MARGIN / rate - 1 (63 ms at 30/s and 1.10).
SLACK = 0.0
LEAD = 0.02  # seconds before its moment a turn may be taken (then waited out here); covers a round trip
PAUSE = "pause"  # event kind: a platform paused a whole channel (channel, seconds)

ENSURE = text("INSERT INTO channel_pace (channel, next_at) VALUES (:channel, clock_timestamp()) "
              "ON CONFLICT (channel) DO NOTHING")

TURN = text("""
WITH old AS (
    SELECT next_at, paused_until, clock_timestamp() AS now FROM channel_pace WHERE channel = :channel FOR UPDATE
), due AS (
    SELECT old.*, (next_at <= now + make_interval(secs => :lead) AND coalesce(paused_until, now) <= now) AS go
      FROM old
), taken AS (
    UPDATE channel_pace p
       SET next_at = greatest(due.next_at, due.now - make_interval(secs => :slack)) + make_interval(secs => :gap)
      FROM due WHERE p.channel = :channel AND due.go
    RETURNING p.channel
)
SELECT go, extract(epoch FROM (greatest(next_at, coalesce(paused_until, now)) - now))::float8 AS wait,
       extract(epoch FROM (coalesce(paused_until, now) - now))::float8 AS paused
  FROM due
""")

WRITE_PAUSE = text("""
INSERT INTO channel_pace AS p (channel, next_at, paused_until)
VALUES (:channel, clock_timestamp(), clock_timestamp() + make_interval(secs => :seconds))
ON CONFLICT (channel) DO UPDATE
   SET paused_until = greatest(coalesce(p.paused_until, clock_timestamp()),
                               clock_timestamp() + make_interval(secs => :seconds))
""")


class SharedPacing(Pacing):
    def __init__(self, store: Store, bus: EventBus | None = None) -> None:
        super().__init__()
        self.store = store
        self.bus = bus
        self._heads: dict[str, asyncio.Lock] = {}  # per channel: the one sender of this process asking for a turn
        self._known: set[str] = set()  # channels whose row exists
        self._writes: set[asyncio.Task[None]] = set()
        self._alone = False  # the database could not be asked: pacing in this process only, for now
        self._listening: asyncio.Task[None] | None = None
        self.asked = 0  # turn statements run (for tests and the curious)

    # ---- the pauses of the other processes ----------------------------------------------------
    async def start(self) -> None:
        """Hear the pauses other processes met (a flood wait stops every sender of the bot)."""
        if self.bus is not None and self._listening is None:
            ready = asyncio.Event()
            self._listening = asyncio.create_task(self._listen(ready), name="supportbot-pauses")
            await ready.wait()

    async def stop(self) -> None:
        await cancel(self._listening)
        self._listening = None

    async def _listen(self, ready: asyncio.Event) -> None:
        assert self.bus is not None
        async with self.bus.subscribe() as events:
            ready.set()
            while True:
                event = await events.get()
                if event.kind == PAUSE:
                    with contextlib.suppress(KeyError, TypeError, ValueError):
                        Pacing.pause(self, str(event.data["channel"]), float(event.data["seconds"]))

    # ---- turns ----------------------------------------------------------------------------------
    async def channel_turn(self, channel: str, rate: float) -> None:
        if rate > BURSTY_RATE:
            await super().channel_turn(channel, rate)
            return
        gap = MARGIN / max(float(rate), 0.001)
        head = self._heads.setdefault(channel, asyncio.Lock())
        async with head:
            while True:
                local = self.paused_for(channel)
                if local > 0:
                    await asyncio.sleep(local)
                try:
                    go, wait, paused = await self._turn(channel, gap)
                except Exception as exc:
                    if not self._alone:
                        log.warning("shared pacing of %s unavailable (%s): pacing in this process alone", channel,
                                    exc)
                    self._alone = True
                    await super().channel_turn(channel, rate)
                    return
                if self._alone:
                    log.info("shared pacing of %s available again", channel)
                    self._alone = False
                if paused > 0:  # another process met a pause: stop leasing this channel's rows here too
                    Pacing.pause(self, channel, paused)
                if go:
                    if wait > 0:  # taken a moment early: its moment is the one the database gave it
                        await asyncio.sleep(wait)
                    return
                await asyncio.sleep(max(wait - LEAD / 2, 0.001))

    async def _turn(self, channel: str, gap: float) -> tuple[bool, float, float]:
        async with self.store.engine.connect() as conn:
            if channel not in self._known:
                await conn.execute(ENSURE, {"channel": channel})
                self._known.add(channel)
            row = (await conn.execute(TURN, {"channel": channel, "gap": gap, "slack": SLACK, "lead": LEAD})).one()
            await conn.commit()
        self.asked += 1
        return bool(row.go), float(row.wait), float(row.paused)

    def pause(self, channel: str, seconds: float) -> None:
        """Here at once, and for every other process through the channel's row and a ``pause`` event."""
        super().pause(channel, seconds)
        if self.bus is not None:
            self.bus.publish(PAUSE, channel=channel, seconds=max(0.0, seconds))
        task = asyncio.get_running_loop().create_task(self._write_pause(channel, max(0.0, seconds)))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write_pause(self, channel: str, seconds: float) -> None:
        try:
            async with self.store.engine.connect() as conn:
                await conn.execute(WRITE_PAUSE, {"channel": channel, "seconds": seconds})
                await conn.commit()
        except Exception as exc:
            log.warning("the pause of %s could not be shared with the other processes: %s", channel, exc)
