"""The web side: inbox pages, REST API, live updates, the website chat and platform webhooks on one aiohttp app."""
