"""Telegram through python-telegram-bot: settings, adapter, inbound/outbound translation, polling, escalation."""
