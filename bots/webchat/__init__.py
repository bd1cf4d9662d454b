"""The website chat: a page and a WebSocket on the shared aiohttp app."""
