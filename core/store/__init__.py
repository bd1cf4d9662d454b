"""Persistence: SQLAlchemy 2 (async) tables, Alembic migrations and the Store that owns the engine."""

from core.store.db import Store, normalise_url

__all__ = ["Store", "normalise_url"]
