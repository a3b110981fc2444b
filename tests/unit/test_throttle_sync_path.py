"""The plain-call path (channels.policy.SyncPolicy) decides as the awaited path does.

Stages on a memory store decide through its plain methods (``acquire_sync``…) with no coroutine;
stages on any other store await it. Both must give the same decisions, the same rollbacks and leave
the same state. A store that only has the async methods (the memory store behind an async-only
facade) takes the awaited path with the very same state underneath, so the two pipelines below
differ only in the path taken. The chunk's keys and zones, kept by Numbers from one stage to the
next, and ``to_us``'s last instant are checked against fresh computations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from channels import ChannelKind, FakeClock, Message, Text
from channels.policy import evaluate_chunk
from throttle import (
    OPERATOR_GROUP_SEND,
    ContactCap,
    MemoryStore,
    Numbers,
    Pipeline,
    RateLimit,
    Scope,
    default_pipeline,
)
from throttle.dedup import EPOCH, ONE_US, to_us
from throttle.stores.base import CapRequest, RateRequest
from throttle.stores.memory import MemoryCapStore, MemoryIdempotencyStore, MemoryOptOutStore, MemoryRateStore

from .test_throttle_chunks import NOW, messages_st, vars_of


class _AsyncRate:
    def __init__(self, inner: MemoryRateStore) -> None:
        self.inner = inner

    async def acquire(self, requests: Sequence[RateRequest], now_us: int, max_wait_us: int) -> list[int]:
        return await self.inner.acquire(requests, now_us, max_wait_us)

    async def release(self, requests: Sequence[RateRequest], now_us: int) -> None:
        await self.inner.release(requests, now_us)


class _AsyncIds:
    def __init__(self, inner: MemoryIdempotencyStore) -> None:
        self.inner = inner

    async def claim(self, ids: Sequence[str], now_us: int, ttl_us: int) -> list[bool]:
        return await self.inner.claim(ids, now_us, ttl_us)

    async def release(self, ids: Sequence[str]) -> None:
        await self.inner.release(ids)


class _AsyncCaps:
    def __init__(self, inner: MemoryCapStore) -> None:
        self.inner = inner

    async def reserve(self, requests: Sequence[CapRequest], now_us: int, retention_us: int) -> list[int]:
        return await self.inner.reserve(requests, now_us, retention_us)

    async def release(self, requests: Sequence[CapRequest]) -> None:
        await self.inner.release(requests)


class _AsyncOptOuts:
    def __init__(self, inner: MemoryOptOutStore) -> None:
        self.inner = inner

    async def add(self, numbers: Sequence[str], now_us: int, source: str) -> None:
        await self.inner.add(numbers, now_us, source)

    async def remove(self, numbers: Sequence[str]) -> None:
        await self.inner.remove(numbers)

    async def contains(self, numbers: Sequence[str]) -> list[bool]:
        return await self.inner.contains(numbers)


class AsyncOnly:
    """A memory store seen only through the async store protocols (as a Redis store is)."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.rate = _AsyncRate(inner.rate)
        self.ids = _AsyncIds(inner.ids)
        self.caps = _AsyncCaps(inner.caps)
        self.optouts = _AsyncOptOuts(inner.optouts)

    async def aclose(self) -> None:
        return None


def pipeline(store: object) -> Pipeline:
    """Every stage, configured to refuse often: a refusal after the caps and the idempotency claim
    exercises their rollback, a rate limit's deferral reserves a slot. The clock (read by a rate
    limit's rollback) stands still, so both pipelines give tokens back at the same instant."""
    return default_pipeline(
        store,  # type: ignore[arg-type]
        limits=[RateLimit(3, burst=1), RateLimit(1, per=Scope.CAMPAIGN)],
        schedule=OPERATOR_GROUP_SEND,
        caps=[ContactCap(2, "day"), ContactCap(1, timedelta(minutes=30), ChannelKind.MMS)],
        blocked=["+8613800138001"],
        countries=["86", "1", "81", "44"],
        clock=FakeClock(NOW + timedelta(hours=10)),
    )


def test_stages_take_the_plain_path_only_on_a_store_that_offers_it() -> None:
    plain = pipeline(MemoryStore())
    awaited = pipeline(AsyncOnly(MemoryStore()))
    assert all(getattr(s, "evaluate_sync", None) is not None for s in plain.stages)
    assert all(getattr(s, "rollback_sync", None) is not None for s in plain.stages)
    on_store = [type(s).__name__ for s in awaited.stages if getattr(s, "evaluate_sync", None) is None]
    assert on_store == ["OptOutPolicy", "IdempotencyPolicy", "ContactCapPolicy", "RateLimitPolicy"]
    # A pipeline is a SyncPolicy when all its stages are (evaluate_chunk_sync), else it awaits.
    assert plain.evaluate_sync is not None and plain.rollback_sync is not None
    assert awaited.evaluate_sync is None and awaited.rollback_sync is None


@settings(max_examples=80, deadline=None)
@given(messages_st, st.sampled_from([1, 3, 40]), st.booleans())
async def test_plain_and_awaited_paths_decide_and_count_alike(
    chunk: list[Message], size: int, one_by_one: bool
) -> None:
    plain_store, awaited_store = MemoryStore(), MemoryStore()
    for store in (plain_store, awaited_store):
        await store.optouts.add(["8613900139000"], to_us(NOW), "test")
    plain, awaited = pipeline(plain_store), pipeline(AsyncOnly(awaited_store))
    # Open in Shanghai and Tokyo at NOW; two instants a second apart (rate slots reserved at the
    # first are taken at the second), then 9 hours on (Shanghai closed, a new local day in London).
    for now in (NOW, NOW + timedelta(seconds=1), NOW + timedelta(hours=9)):
        for start in range(0, len(chunk), size):
            part = chunk[start : start + size]
            if one_by_one:
                got = [await plain.evaluate(m, now) for m in part]
                want = [await awaited.evaluate(m, now) for m in part]
            else:
                got = await evaluate_chunk([plain], part, now)
                want = await evaluate_chunk([awaited], part, now)
            assert got == want
            assert vars_of(plain_store) == vars_of(awaited_store)
    # A send that failed for good: both paths give everything back.
    await plain.rollback_many(chunk)
    await awaited.rollback_many(chunk)
    assert vars_of(plain_store) == vars_of(awaited_store)


def test_a_tuple_of_messages_keeps_its_keys_and_zones_a_list_does_not() -> None:
    numbers = Numbers()

    def make(to: str) -> Message:
        return Message(to=to, kind=ChannelKind.SMS, content=Text(body="x"))

    chunk = (make("+8613800138000"), make("+442079460018"))
    keys = numbers.keys_to(chunk)
    assert keys == ("8613800138000", "442079460018")
    assert numbers.keys_to(chunk) is keys  # the next stage's question: an identity test
    other = (make("+819012345678"), make("+12125550100"))  # another chunk of the same size
    assert numbers.keys_to(other) == ("819012345678", "12125550100")
    assert numbers.keys_to(chunk) == keys
    zones = numbers.key_zones(keys)
    assert zones == (ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/London"))
    assert numbers.key_zones(keys) is zones
    assert numbers.key_zones(("819012345678", "442079460018")) == (ZoneInfo("Asia/Tokyo"), zones[1])
    listed = [make("+8613800138000"), make("+442079460018")]
    assert numbers.keys_to(listed) == keys
    listed[0] = make("+819012345678")  # a list may change between two questions
    assert numbers.keys_to(listed) == ("819012345678", "442079460018")
    asked = ["8613800138000"]
    assert numbers.key_zones(asked) == (ZoneInfo("Asia/Shanghai"),)
    asked[0] = "819012345678"
    assert numbers.key_zones(asked) == (ZoneInfo("Asia/Tokyo"),)


def test_to_us_keeps_only_the_instant_it_was_given() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    instants = [
        NOW,
        NOW,
        NOW + ONE_US,
        datetime(2026, 3, 2, 1, 30, tzinfo=UTC),  # equal to NOW, another object
        NOW.astimezone(tokyo),
        datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=tokyo),
    ]
    for when in instants + instants[::-1]:
        assert to_us(when) == (when - EPOCH) // ONE_US
