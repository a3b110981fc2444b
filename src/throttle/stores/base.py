"""What a throttle store must do: the state behind rate limits, idempotency, contact caps and opt-outs.

Every operation takes a batch (a list of requests) so a chunk of messages costs one SQLite
transaction or one Redis round trip (DESIGN §6); a single decision is a batch of one. Time is passed
as integer microseconds (``now_us``) and every wait comes back *relative* to the store's own now, so a
store that keeps its own clock (Redis ``TIME``, PROTOCOLS.md §10) and one that takes the caller's give
the caller the same kind of answer. The shared behaviour suite (tests/integration/test_throttle_stores.py)
runs these semantics against every implementation. Requests are named tuples: a chunk creates
thousands of them, and a tuple is the cheapest immutable record Python builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

US = 1_000_000  # microseconds per second


class Bucket(NamedTuple):
    """One GCRA bucket: ``interval_us`` between messages (1/rate) and ``burst`` extra messages allowed
    at once after idle time (0 = strictly smooth)."""

    name: str
    interval_us: int
    burst: int = 0


class RateRequest(NamedTuple):
    """One send checked against all of ``buckets`` at once. ``token`` (the Message.id) names the
    reservation made when the send must wait; ``cost`` counts parts (segments) for part-based limits."""

    token: str
    buckets: tuple[Bucket, ...]
    cost: int = 1


class CapCheck(NamedTuple):
    """At most ``limit`` members of ``key`` younger than ``max_age_us`` (a rolling window, or the time
    since the recipient's local midnight for a calendar day). A full rolling window frees a place when
    its oldest counted member ages out; a calendar day (``reset_us`` > 0) when it ends, ``reset_us``
    from now."""

    key: str
    max_age_us: int
    limit: int
    reset_us: int = 0


class CapRequest(NamedTuple):
    """Count ``member`` (the Message.id) under every check's key, if no check is full. ``group`` (the
    subscriber) is what all the checks' keys share: the Redis store makes it their hash tag."""

    member: str
    checks: tuple[CapCheck, ...]
    group: str = ""


_new = tuple.__new__


# The class calls (``CapCheck(...)``) run a Python-level ``__new__``; these build the same tuples
# with the C one, at half the cost, for the policies that build one per message.
def cap_check(key: str, max_age_us: int, limit: int, reset_us: int = 0) -> CapCheck:
    return _new(CapCheck, (key, max_age_us, limit, reset_us))


def cap_request(member: str, checks: tuple[CapCheck, ...], group: str = "") -> CapRequest:
    return _new(CapRequest, (member, checks, group))


def rate_request(token: str, buckets: tuple[Bucket, ...], cost: int = 1) -> RateRequest:
    return _new(RateRequest, (token, buckets, cost))


class RateStore(Protocol):
    async def acquire(self, requests: Sequence[RateRequest], now_us: int, max_wait_us: int) -> list[int]:
        """GCRA across each request's buckets, all or nothing, in order.

        Per request: ``0`` allowed now; ``w > 0`` the send is scheduled ``w`` µs from now (the slot
        is reserved under its token and the same token is allowed once that time comes); ``w < 0``
        refused without reservation (the wait exceeded ``max_wait_us``), retry in ``-w`` µs.
        """
        ...

    async def release(self, requests: Sequence[RateRequest], now_us: int) -> None:
        """Give back what ``acquire`` took for these tokens (a later failure), never below now."""
        ...


class IdempotencyStore(Protocol):
    async def claim(self, ids: Sequence[str], now_us: int, ttl_us: int) -> list[bool]:
        """Claim each id for ``ttl_us``; False where it is already claimed (a duplicate)."""
        ...

    async def release(self, ids: Sequence[str]) -> None: ...


class CapStore(Protocol):
    async def reserve(self, requests: Sequence[CapRequest], now_us: int, retention_us: int) -> list[int]:
        """Per request: ``0`` counted; ``w > 0`` a check is full and the oldest counted member leaves
        its window in ``w`` µs. Members older than ``retention_us`` are forgotten."""
        ...

    async def release(self, requests: Sequence[CapRequest]) -> None: ...


class OptOutStore(Protocol):
    async def add(self, numbers: Sequence[str], now_us: int, source: str) -> None: ...

    async def remove(self, numbers: Sequence[str]) -> None: ...

    async def contains(self, numbers: Sequence[str]) -> list[bool]: ...


# A store whose operations complete without awaiting (its state is in this process) also offers them
# as plain methods: a policy on such a store decides without a coroutine (``evaluate_sync`` in
# channels.policy). Same arguments, same answers as the async protocols above; the async methods of
# such a store are the plain ones, wrapped.


@runtime_checkable
class SyncRateStore(Protocol):
    def acquire_sync(self, requests: Sequence[RateRequest], now_us: int, max_wait_us: int) -> list[int]: ...

    def release_sync(self, requests: Sequence[RateRequest], now_us: int) -> None: ...


@runtime_checkable
class SyncIdempotencyStore(Protocol):
    def claim_sync(self, ids: Sequence[str], now_us: int, ttl_us: int) -> list[bool]: ...

    def release_sync(self, ids: Sequence[str]) -> None: ...


@runtime_checkable
class SyncCapStore(Protocol):
    def reserve_sync(self, requests: Sequence[CapRequest], now_us: int, retention_us: int) -> list[int]: ...

    def release_sync(self, requests: Sequence[CapRequest]) -> None: ...


@runtime_checkable
class SyncOptOutStore(Protocol):
    def contains_sync(self, numbers: Sequence[str]) -> list[bool]: ...


class Store(Protocol):
    """A backend: memory, SQLite or Redis."""

    @property
    def rate(self) -> RateStore: ...

    @property
    def ids(self) -> IdempotencyStore: ...

    @property
    def caps(self) -> CapStore: ...

    @property
    def optouts(self) -> OptOutStore: ...

    async def aclose(self) -> None: ...
