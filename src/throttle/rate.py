"""Rate limits: GCRA, keyed by global, gateway, bind, operator, campaign or channel.

Each :class:`RateLimit` makes one GCRA bucket per key value (one per campaign, per operator, …);
a send is checked against all its buckets at once, atomically, by the store (DESIGN §5 "Rate
limiting"). GCRA is smooth: with the default ``burst=0`` sends are spaced exactly ``1/rate`` apart,
so no 100 ms slice carries more than its share plus one (aiolimiter's burst-first behaviour is the
pitfall avoided, PROTOCOLS.md §10). A send that must wait gets its future slot reserved and
``Defer(until=slot)`` with a reason starting ``rate_limit``: the Dispatcher waits for that token and
re-evaluates, instead of failing. ``cost`` counts parts, for gateways that limit submits rather than
messages (jookies/jasmin#925).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import cast

from channels.clock import SYSTEM_CLOCK, Clock
from channels.deferral import RATE_LIMIT_REASON
from channels.errors import ConfigurationError
from channels.message import ChannelKind, Message
from channels.policy import ALLOW, Decide, Decision, Defer, Undo
from throttle.dedup import ONE_US, to_us
from throttle.numbers import Numbers
from throttle.stores.base import US, Bucket, RateRequest, RateStore, SyncRateStore


class Scope(StrEnum):
    GLOBAL = "global"
    GATEWAY = "gateway"  # message.metadata["gateway"], else the policy's gateway per channel kind
    BIND = "bind"  # message.metadata["bind"]
    OPERATOR = "operator"  # the recipient's operator (Numbers: prefix table, else phonenumbers)
    CAMPAIGN = "campaign"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``rate`` messages per second per ``per`` key; ``overrides`` give other rates to named keys
    (``{"China Mobile": 50}``); ``burst`` extra sends may go at once after idle time."""

    rate: float
    per: Scope = Scope.GLOBAL
    burst: int = 0
    overrides: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for r in (self.rate, *self.overrides.values()):
            if not r > 0:
                raise ConfigurationError(f"rate limit: rate must be > 0, not {r!r}")
        if self.burst < 0:
            raise ConfigurationError("rate limit: burst must be >= 0")
        object.__setattr__(self, "per", Scope(self.per))


class RateLimitPolicy:
    """Check each send against every applicable limit's bucket; wait for the token when refused."""

    def __init__(
        self,
        store: RateStore,
        limits: Sequence[RateLimit],
        *,
        numbers: Numbers | None = None,
        gateways: Mapping[ChannelKind, str] | None = None,
        cost: Callable[[Message], int] | None = None,
        max_wait: timedelta = timedelta(seconds=60),
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if not limits:
            raise ConfigurationError("RateLimitPolicy needs at least one RateLimit")
        self.store = store
        self.limits = tuple(limits)
        self.numbers = numbers or Numbers()
        self.gateways = dict(gateways or {})
        self.cost = cost
        self.clock = clock
        self._max_wait_us = max_wait // ONE_US
        self._buckets: dict[tuple[int, str], Bucket] = {}
        self._key: dict[Scope, Callable[[Message], str | None]] = {
            Scope.GLOBAL: lambda m: "*",
            Scope.GATEWAY: lambda m: m.metadata.get("gateway") or self.gateways.get(m.kind),
            Scope.BIND: lambda m: m.metadata.get("bind"),
            Scope.OPERATOR: lambda m: self.numbers.operator(m.to) or None,
            Scope.CAMPAIGN: lambda m: m.campaign_id,
            Scope.CHANNEL: lambda m: m.kind.value,
        }
        self._keys = tuple(self._key[limit.per] for limit in self.limits)
        self._by_values: dict[object, tuple[Bucket, ...]] = {}
        self._shape = self._shape_of(self.limits)
        self._reasons: dict[tuple[Bucket, ...], str] = {}
        # channels.policy.SyncPolicy: a store in this process is asked with plain calls.
        sync = isinstance(store, SyncRateStore)
        self._sync_store = cast(SyncRateStore, store)  # read only when sync
        self.evaluate_sync: Decide | None = self._evaluate_sync if sync else None
        self.rollback_sync: Undo | None = self._rollback_sync if sync else None

    def _shape_of(self, limits: Sequence[RateLimit]) -> Callable[[Message], object]:
        """What a message's buckets depend on, as a cache key read in one call. Campaign and
        channel keys are plain attributes (one ``attrgetter`` reads them all; a global key reads
        nothing); any other scope needs its key function, so the key is then the values themselves."""
        attrs = {Scope.CAMPAIGN: "campaign_id", Scope.CHANNEL: "kind"}
        if any(limit.per not in (Scope.GLOBAL, *attrs) for limit in limits):
            keys = self._keys
            return lambda m: tuple([key(m) for key in keys])
        read = sorted({attrs[limit.per] for limit in limits if limit.per in attrs})
        return attrgetter(*read) if read else lambda m: None

    def _bucket(self, index: int, value: str) -> Bucket:
        bucket = self._buckets.get((index, value))
        if bucket is None:
            limit = self.limits[index]
            rate = limit.overrides.get(value, limit.rate)
            bucket = Bucket(f"{limit.per.value}:{value}", max(1, round(US / rate)), limit.burst)
            self._buckets[(index, value)] = bucket
        return bucket

    def _buckets_of(self, message: Message) -> tuple[Bucket, ...]:
        """The buckets ``message`` passes (a limit whose key is unknown for it does not apply)."""
        shape = self._shape(message)
        buckets = self._by_values.get(shape)
        if buckets is None:
            values = [key(message) for key in self._keys]
            buckets = tuple(self._bucket(i, v) for i, v in enumerate(values) if v is not None)
            if len(self._by_values) < 100_000:
                self._by_values[shape] = buckets
        return buckets

    def request(self, message: Message) -> RateRequest:
        return self.requests([message])[0]

    def requests(self, messages: Sequence[Message]) -> list[RateRequest]:
        shape, cached, cost = self._shape, self._by_values.get, self.cost
        new = tuple.__new__  # a RateRequest without rate_request's call
        out: list[RateRequest] = []
        for m in messages:
            buckets = cached(shape(m)) or self._buckets_of(m)
            out.append(new(RateRequest, (m.id, buckets, cost(m) if cost else 1)))
        return out

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        return (await self.evaluate_many((message,), now))[0]

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        requests = self.requests(messages)
        return self._decisions(
            requests, await self.store.acquire(requests, to_us(now), self._max_wait_us), now
        )

    def _evaluate_sync(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        requests = self.requests(messages)
        return self._decisions(
            requests, self._sync_store.acquire_sync(requests, to_us(now), self._max_wait_us), now
        )

    def _decisions(self, requests: list[RateRequest], waits: list[int], now: datetime) -> list[Decision]:
        if not any(waits):
            return [ALLOW] * len(waits)
        return [ALLOW if not w else self._defer(r, w, now) for r, w in zip(requests, waits, strict=True)]

    def _defer(self, request: RateRequest, wait_us: int, now: datetime) -> Defer:
        reason = self._reasons.get(request.buckets)
        if reason is None:
            names = ",".join(b.name for b in request.buckets)
            reason = self._reasons[request.buckets] = f"{RATE_LIMIT_REASON}: {names}"
        return Defer(now + timedelta(microseconds=abs(wait_us)), reason)

    async def rollback(self, message: Message) -> None:
        await self.rollback_many([message])

    async def rollback_many(self, messages: Sequence[Message]) -> None:
        """Give the tokens back (the send failed for good, or a later stage refused)."""
        await self.store.release(self.requests(messages), to_us(self.clock.now()))

    def _rollback_sync(self, messages: Sequence[Message]) -> None:
        self._sync_store.release_sync(self.requests(messages), to_us(self.clock.now()))
