"""Discord through discord.py: settings, adapter, translation, sending, moderator commands, backfill."""
