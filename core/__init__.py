"""supportbot core: the channel-neutral half of the product (models, triage, store, engine, inbox)."""

__version__ = "0.1.0"
