"""The connection of a session's transaction, asked of the session once per transaction.

`AsyncSession.connection()` is a hop into a new greenlet every time (a few microseconds, for an answer the
session already has). The engine's hot path asks for it about five times per message, so the answer is kept
in the session's ``info`` beside the transaction it belongs to; a later transaction of the same session asks
again.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_KEY = "supportbot_connection"


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """``await session.connection()``, once per transaction (a savepoint shares its transaction's connection)."""
    kept = session.info.get(_KEY)
    if kept is not None and kept[0] is session.sync_session.get_transaction():
        return kept[1]
    conn = await session.connection()
    session.info[_KEY] = (session.sync_session.get_transaction(), conn)
    return conn
