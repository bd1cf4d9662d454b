"""Background tasks of the long-running parts (heartbeats, listeners, loops): stopped one way everywhere."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` and wait until it has finished its cleanup (its ``finally`` blocks), so that whatever
    it held (a lock, a connection, a subscription) is released when this returns. None: nothing to do."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
