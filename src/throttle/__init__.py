"""Policies in front of every send: rate limits, quiet hours, dedup and opt-out, with their stores.

Build the default pipeline (validate → opt-out/blocked → quiet hours → dedup → rate) with
:func:`default_pipeline` and give it to ``channels.Dispatcher(policies=[pipeline])``.
"""

from throttle.dedup import ContactCap, ContactCapPolicy, IdempotencyPolicy
from throttle.numbers import Numbers
from throttle.optout import OptOutPolicy, load_blocked
from throttle.pipeline import Pipeline, default_pipeline
from throttle.quiet_hours import OPERATOR_GROUP_SEND, TCPA, QuietHoursPolicy, Schedule
from throttle.rate import RateLimit, RateLimitPolicy, Scope
from throttle.stores import MemoryStore, RedisStore, SqliteStore, Store
from throttle.stores.redis_receipts import RedisReceiptStore
from throttle.validate import ValidatePolicy

__all__ = [
    "OPERATOR_GROUP_SEND",
    "TCPA",
    "ContactCap",
    "ContactCapPolicy",
    "IdempotencyPolicy",
    "MemoryStore",
    "Numbers",
    "OptOutPolicy",
    "Pipeline",
    "QuietHoursPolicy",
    "RateLimit",
    "RateLimitPolicy",
    "RedisReceiptStore",
    "RedisStore",
    "Schedule",
    "Scope",
    "SqliteStore",
    "Store",
    "ValidatePolicy",
    "default_pipeline",
    "load_blocked",
]
