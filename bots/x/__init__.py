"""X (Twitter) through tweepy's AsyncClient: settings, adapter, client, receiving (polling and webhook), text."""
