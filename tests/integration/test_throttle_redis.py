"""What only the Redis store does: server time, connection loss, cluster hash tags, script reloads,
and the shared receipt-correlation store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from redis.cluster import key_slot

from channels import (
    Allow,
    ChannelKind,
    Defer,
    DeliveryReceipt,
    DeliveryState,
    Message,
    ReceiptTracker,
    SendResult,
    Text,
    TransportError,
)
from tests.conftest import RedisServer
from throttle import (
    ContactCap,
    RateLimit,
    RateLimitPolicy,
    RedisReceiptStore,
    RedisStore,
    Scope,
    default_pipeline,
)
from throttle.stores.base import Bucket, CapCheck, CapRequest, RateRequest
from throttle.stores.redis import _Scripts


def msg(i: int = 0, campaign: str = "c") -> Message:
    return Message(to=f"+86138{i:08d}", kind=ChannelKind.SMS, content=Text(body="hi"), campaign_id=campaign)


@pytest.fixture
async def store(redis_server: RedisServer) -> AsyncIterator[RedisStore]:
    s = RedisStore(url=redis_server.url, namespace=f"r{uuid.uuid4().hex[:8]}")
    yield s
    await s.aclose()


async def test_rate_limit_runs_on_server_time_whatever_the_client_clock(store: RedisStore) -> None:
    policy = RateLimitPolicy(store.rate, [RateLimit(10)])
    skewed = datetime.now(UTC) - timedelta(hours=3)  # this worker's clock is three hours late
    assert await policy.evaluate(msg(1), skewed) == Allow()
    d = await policy.evaluate(msg(2), skewed)
    assert isinstance(d, Defer)
    wait = d.until - skewed  # relative to the server's clock, reported on the caller's
    assert timedelta(milliseconds=50) < wait <= timedelta(milliseconds=100)


async def test_connection_loss_is_a_transport_error_never_an_allow(own_redis_server: RedisServer) -> None:
    store = RedisStore(url=own_redis_server.url, timeout=1.0)
    pipeline = default_pipeline(store, limits=[RateLimit(100)], caps=[ContactCap(3)])
    now = datetime.now(UTC)
    assert await pipeline.evaluate(msg(1), now) == Allow()
    own_redis_server.stop()
    with pytest.raises(TransportError, match="redis unavailable"):
        await pipeline.evaluate(msg(2), now)
    with pytest.raises(TransportError):
        await store.rate.acquire([RateRequest("t", (Bucket("b", 1000),))], 0, 0)
    with pytest.raises(TransportError):
        await store.ids.claim(["x"], 0, 1)
    with pytest.raises(TransportError):
        await store.caps.reserve([CapRequest("m", (CapCheck("k", 1, 1),), "s")], 0, 1)
    with pytest.raises(TransportError):
        await store.optouts.contains(["1"])
    await store.aclose()


async def test_every_script_call_stays_in_one_cluster_slot(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With cluster mode on, each script call's keys share one hash slot (CROSSSLOT never happens)."""
    calls: list[list[str]] = []
    real = _Scripts.call

    async def spy(self: _Scripts, lua: str, keys: list[str], args: list[Any]) -> Any:
        calls.append(list(keys))
        return await real(self, lua, keys, args)

    monkeypatch.setattr(_Scripts, "call", spy)
    for stage in (store.rate, store.ids, store.caps, store.optouts):
        stage._cluster = True
    pipeline = default_pipeline(
        store,
        limits=[RateLimit(1e6, burst=1000), RateLimit(1e6, per=Scope.CAMPAIGN, burst=1000)],
        caps=[ContactCap(2), ContactCap(1, channel=ChannelKind.SMS)],
    )
    batch = [msg(i, campaign=f"c{i % 3}") for i in range(64)]
    decisions = await pipeline.evaluate_many(batch, datetime.now(UTC))
    assert all(isinstance(d, Allow) for d in decisions)
    await pipeline.rollback_many(batch)
    assert len(calls) > 4
    for keys in calls:
        assert len({key_slot(k.encode()) for k in keys}) <= 1, keys


async def test_scripts_are_reloaded_after_a_flush(store: RedisStore, redis_server: RedisServer) -> None:
    policy = RateLimitPolicy(store.rate, [RateLimit(1000)])
    assert await policy.evaluate(msg(1), datetime.now(UTC)) == Allow()
    redis.Redis.from_url(redis_server.url).script_flush()
    assert isinstance(await policy.evaluate(msg(2), datetime.now(UTC)), Allow | Defer)


# -- receipts -----------------------------------------------------------------------------------------


@pytest.fixture
def receipts(redis_server: RedisServer) -> RedisReceiptStore:
    return RedisReceiptStore(url=redis_server.url, namespace=f"rc{uuid.uuid4().hex[:8]}")


def result(mid: str, *remote: str, at: datetime) -> SendResult:
    return SendResult(
        message_id=mid, channel=ChannelKind.SMS, remote_ids=remote, accepted_at=at, parts=len(remote)
    )


def receipt(remote: str, state: DeliveryState, at: datetime) -> DeliveryReceipt:
    return DeliveryReceipt(channel=ChannelKind.SMS, state=state, remote_id=remote, at=at, gateway="smsc")


def test_a_receipt_is_correlated_by_another_worker(receipts: RedisReceiptStore) -> None:
    now = datetime.now(UTC)
    submitter = ReceiptTracker(store=receipts)
    other = ReceiptTracker(store=receipts)  # another process, same Redis
    assert submitter.register("smsc", result("m1", "00AB12", "00AB13", at=now), now) == []
    assert other.on_receipt(receipt("ab12", DeliveryState.DELIVERED, now), now) == []  # one part of two
    final = other.on_receipt(receipt("AB13", DeliveryState.UNDELIVERABLE, now), now)
    assert [(r.message_id, r.state) for r in final] == [("m1", DeliveryState.UNDELIVERABLE)]
    assert receipts.get("m1") is None and receipts.lookup("smsc", "AB12") is None


def test_receipt_timeouts_are_reported_by_one_worker_only(receipts: RedisReceiptStore) -> None:
    now = datetime.now(UTC)
    a = ReceiptTracker(store=receipts, receipt_timeout=timedelta(seconds=5))
    b = ReceiptTracker(store=receipts, receipt_timeout=timedelta(seconds=5))
    a.register("smsc", result("m2", "1", at=now), now)
    a.register("smsc", result("m3", "2", at=now), now + timedelta(seconds=10))
    later = now + timedelta(seconds=6)
    expired = a.expire(later) + b.expire(later)
    assert [(r.message_id, r.state) for r in expired] == [("m2", DeliveryState.EXPIRED)]
    assert receipts.get("m3") is not None


def test_receipt_store_connection_loss(own_redis_server: RedisServer) -> None:
    store = RedisReceiptStore(url=own_redis_server.url, timeout=1.0)
    own_redis_server.stop()
    with pytest.raises(TransportError):
        store.lookup("smsc", "1")
    store.close()
