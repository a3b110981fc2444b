"""Throttle state stores: memory (library default), SQLite (survives restarts), Redis (shared)."""

from throttle.stores.base import Bucket, CapCheck, CapRequest, RateRequest, Store
from throttle.stores.memory import MemoryStore
from throttle.stores.redis import RedisStore
from throttle.stores.sqlite import SqliteStore

__all__ = [
    "Bucket",
    "CapCheck",
    "CapRequest",
    "MemoryStore",
    "RateRequest",
    "RedisStore",
    "SqliteStore",
    "Store",
]
