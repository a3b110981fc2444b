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


async def _decide(policy: Policy, messages: Sequence[Message], now: datetime) -> list[Decision]:
    many = getattr(policy, "evaluate_many", None)  # BatchPolicy (getattr: isinstance on a Protocol is slow)
    if many is not None:
        return list(await many(messages, now))
    return [await policy.evaluate(m, now) for m in messages]


async def _undo(policy: Policy, messages: Sequence[Message]) -> None:
    many = getattr(policy, "rollback_many", None)
    if many is not None:
        await many(messages)
        return
    for m in messages:
        await policy.rollback(m)


async def evaluate_chunk(
    policies: Sequence[Policy], messages: Sequence[Message], now: datetime
) -> list[Decision]:
    """Decide a chunk policy by policy (one store round trip per policy where it is a BatchPolicy).
    A message refused by a policy is rolled back in the policies that had allowed it, exactly as
    one-by-one evaluation would. A policy that allows the whole chunk (the usual case) costs no
    per-message bookkeeping: its answers are counted, not walked."""
    decisions: list[Decision] = [ALLOW] * len(messages)
    alive: Sequence[int] = range(len(messages))
    current: Sequence[Message] = messages
    for i, policy in enumerate(policies):
        if not current:
            break
        got = await _decide(policy, current, now)
        if len(got) == len(current) and got.count(ALLOW) == len(got):  # == ALLOW: Allow's dataclass eq
            continue
        still: list[int] = []
        refused: list[Message] = []
        for j, decision in zip(alive, got, strict=True):
            if isinstance(decision, Allow):
                still.append(j)
            else:
                decisions[j] = decision
                refused.append(messages[j])
        if refused:
            for done in reversed(policies[:i]):
                await _undo(done, refused)
        alive = still
        current = [messages[j] for j in still]
    return decisions
