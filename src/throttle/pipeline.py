"""The policy pipeline in front of every send, as one policy (DESIGN §1).

Default order: validate → opt-out/blocked → quiet hours → dedup (idempotency, contact caps) → rate.
Cheap, reservation-free checks come first so a message refused by them costs no store write; the
rate limit comes last, so a token is only taken by a message that will be sent. The first stage that
refuses stops the message, and the stages that had allowed it roll back (their claims and counts),
exactly as the Dispatcher does for a list of policies. :meth:`Pipeline.evaluate_many` decides a chunk
stage by stage, each stage in one store round trip (the ``BatchPolicy`` fast path). A pipeline whose
stages are all SyncPolicies (in-process stores) is one too: ``channels.policy.evaluate_chunk_sync``
over its stages' plain calls, with no coroutine of its own for the Dispatcher to await.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar, cast

from channels.clock import SYSTEM_CLOCK, Clock
from channels.message import ChannelKind, Message
from channels.policy import (
    Decide,
    Decision,
    Policy,
    Undo,
    evaluate_chunk,
    evaluate_chunk_sync,
    rollback_chunk,
)
from throttle.dedup import ContactCap, ContactCapPolicy, IdempotencyPolicy
from throttle.numbers import Numbers
from throttle.optout import OptOutPolicy
from throttle.quiet_hours import QuietHoursPolicy, Schedule
from throttle.rate import RateLimit, RateLimitPolicy
from throttle.stores.base import Store
from throttle.stores.memory import MemoryStore
from throttle.validate import ValidatePolicy

P = TypeVar("P")


class Pipeline:
    """Stages run in order; a refusal rolls back the stages that had allowed. Itself a Policy."""

    def __init__(self, stages: Sequence[Policy]) -> None:
        self.stages: tuple[Policy, ...] = tuple(stages)
        # channels.policy.SyncPolicy when every stage is one (read once: a stage sets its plain
        # methods from its store when it is made).
        plain = [(getattr(s, "evaluate_sync", None), getattr(s, "rollback_sync", None)) for s in self.stages]
        self._plain: tuple[tuple[Decide, Undo], ...] | None = None
        if all(decide is not None and undo is not None for decide, undo in plain):
            self._plain = tuple(cast(list[tuple[Decide, Undo]], plain))
        self.evaluate_sync: Decide | None = self._evaluate_sync if self._plain is not None else None
        self.rollback_sync: Undo | None = self._rollback_sync if self._plain is not None else None

    def stage(self, kind: type[P]) -> P:
        """The stage of this type (e.g. ``pipeline.stage(OptOutPolicy).observe``); KeyError if none."""
        for s in self.stages:
            if isinstance(s, kind):
                return s
        raise KeyError(kind.__name__)

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        """A chunk of one: the stages' plain-call path (``SyncPolicy``) where their stores allow it."""
        if self._plain is not None:
            return evaluate_chunk_sync(self._plain, (message,), now)[0]
        return (await evaluate_chunk(self.stages, (message,), now))[0]

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        if self._plain is not None:
            return evaluate_chunk_sync(self._plain, messages, now)
        return await evaluate_chunk(self.stages, messages, now)

    def _evaluate_sync(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        return evaluate_chunk_sync(cast(tuple[tuple[Decide, Undo], ...], self._plain), messages, now)

    async def rollback(self, message: Message) -> None:
        await self.rollback_many((message,))

    async def rollback_many(self, messages: Sequence[Message]) -> None:
        for stage in reversed(self.stages):
            await rollback_chunk(stage, messages)

    def _rollback_sync(self, messages: Sequence[Message]) -> None:
        for _, undo in reversed(cast(tuple[tuple[Decide, Undo], ...], self._plain)):
            undo(messages)


def default_pipeline(
    store: Store | None = None,
    *,
    limits: Sequence[RateLimit] = (),
    schedule: Schedule | Mapping[str, str] | None = None,
    holidays: Iterable[date | str] = (),
    caps: Sequence[ContactCap] = (),
    blocked: Iterable[str] = (),
    idempotency_ttl: timedelta | None = timedelta(days=7),
    numbers: Numbers | None = None,
    gateways: Mapping[ChannelKind, str] | None = None,
    countries: Iterable[str] | None = None,
    cost: Callable[[Message], int] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Pipeline:
    """validate → opt-out/blocked → quiet hours → dedup → rate, all on one store (memory if none).

    Stages without configuration are left out (no ``schedule``: no quiet hours; no ``limits``: no
    rate limit; ``idempotency_ttl=None``: no idempotency claim). ``cost`` counts what a send
    weighs against the rate limits (SMS parts, for gateways that limit submit_sm per second).
    """
    backend: Store = store if store is not None else MemoryStore()
    numbers = numbers or Numbers()
    stages: list[Policy] = [
        ValidatePolicy(numbers=numbers, countries=countries),
        OptOutPolicy(backend.optouts, blocked=blocked, numbers=numbers, clock=clock),
    ]
    if schedule is not None:
        if not isinstance(schedule, Schedule):
            schedule = Schedule.parse(schedule, holidays)
        stages.append(QuietHoursPolicy(schedule, numbers))
    if idempotency_ttl is not None:
        stages.append(IdempotencyPolicy(backend.ids, ttl=idempotency_ttl))
    if caps:
        stages.append(ContactCapPolicy(backend.caps, caps, numbers=numbers))
    if limits:
        stages.append(
            RateLimitPolicy(backend.rate, limits, numbers=numbers, gateways=gateways, cost=cost, clock=clock)
        )
    return Pipeline(stages)
