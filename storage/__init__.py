"""Persistence: sqlmodel tables and the async database handle. Knows nothing of Telegram."""

from storage.db import Database

__all__ = ["Database"]
