"""One behaviour suite for every throttle store: memory, SQLite (WAL) and a real redis-server.

The policies run on each store with a fake clock (the Redis store in ``time_source="caller"`` mode,
so the same Lua runs with the test's time); the Redis-only behaviour (server TIME, connection loss,
cluster hash tags) is in test_throttle_redis.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels import Allow, ChannelKind, Defer, FakeClock, InboundMessage, Message, Reject, Text
from tests.conftest import RedisServer
from throttle import (
    ContactCap,
    ContactCapPolicy,
    IdempotencyPolicy,
    MemoryStore,
    Numbers,
    OptOutPolicy,
    RateLimit,
    RateLimitPolicy,
    RedisStore,
    Scope,
    SqliteStore,
    Store,
    default_pipeline,
)

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SH = "+8613800138000"


def msg(
    to: str = SH, *, kind: ChannelKind = ChannelKind.SMS, campaign: str | None = "c1", **kw: object
) -> Message:
    content: object = Text(body="hello")
    if kind is ChannelKind.MMS:
        from channels import Mms, Slide

        content = Mms(slides=(Slide(text="hi"),))
    return Message(to=to, kind=kind, content=content, campaign_id=campaign, **kw)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        s = SqliteStore(tmp_path / "throttle.db")
        yield s
        await s.aclose()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        r = RedisStore(url=server.url, namespace=f"t{uuid.uuid4().hex[:8]}", time_source="caller")
        yield r
        await r.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


# -- rate limits ------------------------------------------------------------------------------------


async def test_rate_smooth_wait_is_exact_and_the_slot_is_reserved(store: Store, clock: FakeClock) -> None:
    policy = RateLimitPolicy(store.rate, [RateLimit(10)], clock=clock)
    a, b, c = msg(), msg(), msg()
    now = clock.now()
    assert await policy.evaluate(a, now) == Allow()
    d = await policy.evaluate(b, now)
    assert isinstance(d, Defer) and d.reason.startswith("rate_limit")
    assert d.until == now + timedelta(milliseconds=100)
    d2 = await policy.evaluate(c, now)
    assert isinstance(d2, Defer) and d2.until == now + timedelta(milliseconds=200)
    assert await policy.evaluate(b, now) == d  # asking early again: the same slot
    clock.set(d.until)
    assert await policy.evaluate(b, clock.now()) == Allow()  # the reserved token
    d3 = await policy.evaluate(msg(), clock.now())
    assert isinstance(d3, Defer) and d3.until == now + timedelta(milliseconds=300)


async def test_rate_all_keys_atomically(store: Store, clock: FakeClock) -> None:
    limits = [RateLimit(10), RateLimit(1, per=Scope.CAMPAIGN)]
    policy = RateLimitPolicy(store.rate, limits, max_wait=timedelta(0), clock=clock)
    assert await policy.evaluate(msg(campaign="A"), clock.now()) == Allow()
    clock.advance(0.1)
    refused = await policy.evaluate(msg(campaign="A"), clock.now())
    assert isinstance(refused, Defer) and refused.until == clock.now() + timedelta(milliseconds=900)
    # The refusal took nothing from the global bucket, so campaign B goes at once.
    assert await policy.evaluate(msg(campaign="B"), clock.now()) == Allow()
    # A message with no campaign passes only the global limit.
    no_campaign = await policy.evaluate(msg(campaign=None), clock.now())
    assert isinstance(no_campaign, Defer) and no_campaign.until == clock.now() + timedelta(milliseconds=100)


async def test_rate_burst_cost_and_rollback(store: Store, clock: FakeClock) -> None:
    bursty = RateLimitPolicy(store.rate, [RateLimit(10, per=Scope.CHANNEL, burst=2)], clock=clock)
    now = clock.now()
    assert [await bursty.evaluate(msg(), now) for _ in range(3)] == [Allow()] * 3
    assert isinstance(await bursty.evaluate(msg(), now), Defer)
    parts = RateLimitPolicy(store.rate, [RateLimit(10, per=Scope.CAMPAIGN)], cost=lambda m: 3, clock=clock)
    first = msg(campaign="long")
    assert await parts.evaluate(first, now) == Allow()
    later = await parts.evaluate(msg(campaign="long"), now)
    assert isinstance(later, Defer) and later.until == now + timedelta(milliseconds=500)  # its last part
    plain = RateLimitPolicy(
        store.rate, [RateLimit(1, per=Scope.CAMPAIGN)], max_wait=timedelta(0), clock=clock
    )
    m = msg(campaign="rb")
    assert await plain.evaluate(m, now) == Allow()
    await plain.rollback(m)  # the send failed for good: the token comes back
    assert await plain.evaluate(msg(campaign="rb"), now) == Allow()


async def test_rate_greedy_sender_holds_the_limit(store: Store, clock: FakeClock) -> None:
    """1 000/s for 1 s: every 100 ms slice carries at most its share plus one; the rate is exact."""
    policy = RateLimitPolicy(store.rate, [RateLimit(1000)], clock=clock)
    start = clock.now()
    sent: list[float] = []
    while (clock.now() - start).total_seconds() < 1.0:
        m = msg()
        d = await policy.evaluate(m, clock.now())
        if isinstance(d, Defer):
            clock.set(d.until)
            d = await policy.evaluate(m, clock.now())
        assert d == Allow()
        sent.append((clock.now() - start).total_seconds())
    assert len(sent) in (1000, 1001)
    slices = [0] * 10
    for t in sent:
        slices[min(9, int(t * 10))] += 1
    assert max(slices) <= 101


# -- idempotency and contact caps -------------------------------------------------------------------


async def test_idempotency_refuses_a_second_send_until_rolled_back(store: Store, clock: FakeClock) -> None:
    policy = IdempotencyPolicy(store.ids, ttl=timedelta(hours=1))
    m = msg()
    again = Message(to=m.to, kind=m.kind, content=m.content, id=m.id)
    assert await policy.evaluate(m, clock.now()) == Allow()
    refused = await policy.evaluate(again, clock.now())
    assert isinstance(refused, Reject) and refused.reason.startswith("duplicate")
    await policy.rollback(m)
    assert await policy.evaluate(again, clock.now()) == Allow()
    decisions = await policy.evaluate_many([msg(), again, msg()], clock.now())
    assert [type(d) for d in decisions] == [Allow, Reject, Allow]
    clock.advance(timedelta(hours=1, seconds=1))
    assert await policy.evaluate(again, clock.now()) == Allow()


async def test_contact_cap_rolling_and_across_channels(store: Store, clock: FakeClock) -> None:
    caps = [ContactCap(1, timedelta(hours=1), ChannelKind.SMS), ContactCap(2, timedelta(hours=1))]
    policy = ContactCapPolicy(store.caps, caps)
    now = clock.now()
    assert await policy.evaluate(msg(campaign="a"), now) == Allow()
    capped = await policy.evaluate(msg(campaign="b"), now)  # another campaign, same subscriber
    assert isinstance(capped, Reject) and capped.reason.startswith("contact_cap")
    assert await policy.evaluate(msg(kind=ChannelKind.MMS), now) == Allow()
    assert isinstance(await policy.evaluate(msg(kind=ChannelKind.MMS), now), Reject)  # 2 across all
    assert await policy.evaluate(msg("+8613900139000"), now) == Allow()  # another subscriber
    clock.advance(timedelta(hours=1, seconds=1))
    assert await policy.evaluate(msg(), clock.now()) == Allow()


async def test_contact_cap_rollback_and_defer_until_it_frees(store: Store, clock: FakeClock) -> None:
    policy = ContactCapPolicy(store.caps, [ContactCap(1, timedelta(minutes=10))], on_full="defer")
    first = msg()
    assert await policy.evaluate(first, clock.now()) == Allow()
    await policy.rollback(first)
    assert await policy.evaluate(msg(), clock.now()) == Allow()
    clock.advance(60)
    d = await policy.evaluate(msg(), clock.now())
    assert isinstance(d, Defer) and d.until == START + timedelta(minutes=10)


async def test_contact_cap_calendar_day_in_the_recipients_zone(store: Store, clock: FakeClock) -> None:
    policy = ContactCapPolicy(store.caps, [ContactCap(1, "day")], on_full="defer")
    clock.set(datetime(2026, 3, 2, 14, 30, tzinfo=UTC))  # 22:30 in Shanghai
    assert await policy.evaluate(msg(), clock.now()) == Allow()
    clock.advance(timedelta(hours=1))  # 23:30 Shanghai: same day
    d = await policy.evaluate(msg(), clock.now())
    assert isinstance(d, Defer) and d.until == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # local midnight
    clock.advance(timedelta(minutes=40))  # 00:10 the next day
    assert await policy.evaluate(msg(), clock.now()) == Allow()


# -- opt-out ------------------------------------------------------------------------------------------


async def test_opt_out_by_user_and_by_mo_keyword(store: Store, clock: FakeClock) -> None:
    policy = OptOutPolicy(store.optouts, blocked=["+86 139 0013 9000"], clock=clock)
    await policy.opt_out(["+86 138-0013-8000"])
    refused = await policy.evaluate(msg("8613800138000"), clock.now())
    assert isinstance(refused, Reject) and refused.reason.startswith("opted_out")
    blocked = await policy.evaluate(msg("+8613900139000"), clock.now())
    assert isinstance(blocked, Reject) and blocked.reason.startswith("blocked")
    await policy.opt_in([SH])
    assert await policy.evaluate(msg(), clock.now()) == Allow()
    reply = InboundMessage(
        channel=ChannelKind.SMS, sender="8613700137000", recipient="10086", text="ＴＤ。", at=START
    )
    assert await policy.observe(reply)
    assert isinstance(await policy.evaluate(msg("+8613700137000"), clock.now()), Reject)
    chat = InboundMessage(
        channel=ChannelKind.SMS, sender="8613600136000", recipient="10086", text="88", at=START
    )
    assert not await policy.observe(chat)
    assert await policy.is_opted_out("+8613700137000")


# -- the pipeline -------------------------------------------------------------------------------------


async def test_pipeline_rolls_back_earlier_stages_when_rate_refuses(store: Store, clock: FakeClock) -> None:
    pipeline = default_pipeline(
        store,
        limits=[RateLimit(1)],
        caps=[ContactCap(5, timedelta(hours=1))],
        numbers=Numbers(),
        clock=clock,
    )
    a, b = msg(), msg()
    assert await pipeline.evaluate(a, clock.now()) == Allow()
    d = await pipeline.evaluate(b, clock.now())
    assert isinstance(d, Defer) and d.reason.startswith("rate_limit")
    # b's idempotency claim and contact count were released: it can be asked again when due
    clock.set(d.until)
    assert await pipeline.evaluate(b, clock.now()) == Allow()
    decisions = await pipeline.evaluate_many([msg("123"), b, msg()], clock.now())
    assert isinstance(decisions[0], Reject) and decisions[0].reason.startswith("to:")
    assert isinstance(decisions[1], Reject) and decisions[1].reason.startswith("duplicate")
    assert isinstance(decisions[2], Defer)


async def test_two_sqlite_connections_share_one_file(tmp_path: Path, clock: FakeClock) -> None:
    """Two processes' stores on one WAL file: claims and rate buckets are seen by both."""
    a, b = SqliteStore(tmp_path / "shared.db"), SqliteStore(tmp_path / "shared.db")
    try:
        m = msg()
        assert await IdempotencyPolicy(a.ids).evaluate(m, clock.now()) == Allow()
        assert isinstance(await IdempotencyPolicy(b.ids).evaluate(m, clock.now()), Reject)
        limit = [RateLimit(1)]
        assert await RateLimitPolicy(a.rate, limit, clock=clock).evaluate(msg(), clock.now()) == Allow()
        d = await RateLimitPolicy(b.rate, limit, clock=clock).evaluate(msg(), clock.now())
        assert isinstance(d, Defer) and d.until == clock.now() + timedelta(seconds=1)
    finally:
        await a.aclose()
        await b.aclose()
