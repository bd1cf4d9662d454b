"""The inbox fixtures (a real app over a migrated store, a signed-in agent) for every web test."""

from tests.web.inbox_helpers import agent, client, ctx  # noqa: F401
