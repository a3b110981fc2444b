"""The policy protocol every send passes before it reaches a gateway (DESIGN §1).

A policy returns a value: :class:`Allow`, :class:`Defer` (retry at ``until``) or :class:`Reject`.
A policy that reserved something (a rate-limit slot, a contact-cap count, an idempotency key) for an
``Allow`` undoes it in :meth:`Policy.rollback` when a later policy refuses or the send fails for good.
Policies live in the ``throttle`` package; ``channels`` only knows this protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


Decide = Callable[[Sequence[Message], datetime], list[Decision]]
Undo = Callable[[Sequence[Message]], None]


class SyncPolicy(Protocol):
    """Optional fast path: a policy that decides without awaiting (no store, or a store in this
    process: ``throttle.stores.memory``) offers ``evaluate_sync`` and ``rollback_sync``, plain-call
    twins of ``evaluate_many`` and ``rollback_many``, and :func:`evaluate_chunk` calls them: no
    coroutine per stage (two or three each before, six stages per lone send). They are the same
    decisions, not a copy: such a policy's async methods call the same code. A policy whose store
    may await (Redis) sets both to None on such a store; ``getattr(policy, "evaluate_sync", None)``
    reads either."""

    evaluate_sync: Decide | None
    rollback_sync: Undo | None


async def _decide(policy: Policy, messages: Sequence[Message], now: datetime) -> list[Decision]:
    many = getattr(policy, "evaluate_many", None)  # BatchPolicy (getattr: isinstance on a Protocol is slow)
    if many is not None:
        return list(await many(messages, now))
    return [await policy.evaluate(m, now) for m in messages]


async def rollback_chunk(policy: Policy, messages: Sequence[Message]) -> None:
    """Roll ``messages`` back in ``policy``: its plain, batch or one-message rollback, first found."""
    sync = getattr(policy, "rollback_sync", None)
    if sync is not None:
        sync(messages)
        return
    many = getattr(policy, "rollback_many", None)
    if many is not None:
        await many(messages)
        return
    for m in messages:
        await policy.rollback(m)


async def evaluate_chunk(
    policies: Sequence[Policy], messages: Sequence[Message], now: datetime
) -> list[Decision]:
    """Decide a chunk policy by policy (one store round trip per policy where it is a BatchPolicy,
    a plain call where it is a SyncPolicy). A message refused by a policy is rolled back in the
    policies that had allowed it, exactly as one-by-one evaluation would. A policy that allows the
    whole chunk (the usual case) costs no per-message bookkeeping: its answers are counted, not
    walked. One message is a chunk of one: this is also the lone send's path. The stages are given
    tuples: a stage may remember what it derived from a chunk for the next stage to reuse (the
    throttle's recipient keys and zones), which an identity test makes safe only for a sequence
    that cannot change. :func:`evaluate_chunk_sync` is this loop for policies that are all
    SyncPolicies, with no coroutine at all."""
    if type(messages) is not tuple:
        messages = tuple(messages)
    n = len(messages)
    decisions: list[Decision] = [ALLOW] * n
    alive: Sequence[int] = range(n)
    current: tuple[Message, ...] = messages
    for i, policy in enumerate(policies):
        if not n:
            break
        sync = getattr(policy, "evaluate_sync", None)  # SyncPolicy
        got = sync(current, now) if sync is not None else await _decide(policy, current, now)
        if len(got) == n and got.count(ALLOW) == n:  # == ALLOW: Allow's dataclass eq
            continue
        alive, refused = _sift(got, alive, messages, decisions)
        if refused:
            for done in reversed(policies[:i]):
                await rollback_chunk(done, refused)
        current = tuple([messages[j] for j in alive])
        n = len(current)
    return decisions


def evaluate_chunk_sync(
    stages: Sequence[tuple[Decide, Undo]], messages: Sequence[Message], now: datetime
) -> list[Decision]:
    """:func:`evaluate_chunk` for SyncPolicies given as their (``evaluate_sync``, ``rollback_sync``)
    pairs: the same loop, the same bookkeeping (:func:`_sift`), plain calls only. A pipeline whose
    stages are all on in-process stores is itself a SyncPolicy through this (``throttle.Pipeline``),
    so a lone send awaits no coroutine inside it and a chunk none per stage or per pipeline."""
    if type(messages) is not tuple:
        messages = tuple(messages)
    n = len(messages)
    decisions: list[Decision] = [ALLOW] * n
    alive: Sequence[int] = range(n)
    current: tuple[Message, ...] = messages
    for i, (decide, _) in enumerate(stages):
        if not n:
            break
        got = decide(current, now)
        if len(got) == n and got.count(ALLOW) == n:
            continue
        alive, refused = _sift(got, alive, messages, decisions)
        if refused:
            for _, undo in reversed(stages[:i]):
                undo(refused)
        current = tuple([messages[j] for j in alive])
        n = len(current)
    return decisions


def _sift(
    got: list[Decision], alive: Sequence[int], messages: Sequence[Message], decisions: list[Decision]
) -> tuple[list[int], list[Message]]:
    """One policy's answers ``got`` for the messages at ``alive``: each refusal is recorded in
    ``decisions``; returns the indices still allowed and the messages refused (to roll back)."""
    still: list[int] = []
    refused: list[Message] = []
    for j, decision in zip(alive, got, strict=True):
        if isinstance(decision, Allow):
            still.append(j)
        else:
            decisions[j] = decision
            refused.append(messages[j])
    return still, refused
