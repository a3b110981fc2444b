"""The policy protocol every send passes before it reaches a gateway (DESIGN §1).

A policy returns a value: :class:`Allow`, :class:`Defer` (retry at ``until``) or :class:`Reject`.
A policy that reserved something (a rate-limit slot, a contact-cap count, an idempotency key) for an
``Allow`` undoes it in :meth:`Policy.rollback` when a later policy refuses or the send fails for good.
Policies live in the ``throttle`` package; ``channels`` only knows this protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from channels.message import Message


@dataclass(frozen=True, slots=True)
class Allow:
    pass


@dataclass(frozen=True, slots=True)
class Defer:
    until: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Reject:
    reason: str


Decision = Allow | Defer | Reject
ALLOW = Allow()


@runtime_checkable
class Policy(Protocol):
    async def evaluate(self, message: Message, now: datetime) -> Decision: ...

    async def rollback(self, message: Message) -> None: ...


@runtime_checkable
class BatchPolicy(Protocol):
    """Optional fast path: decide a chunk in one call (one Redis round trip, one SQLite transaction)."""

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]: ...
