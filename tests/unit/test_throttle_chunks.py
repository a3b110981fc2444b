"""A chunk decided at once gives what its messages decided one at a time give.

The stages share work across a chunk (keys looked up once, one quiet-hours decision per zone, the
local day once per zone, buckets cached by what they depend on, GCRA over the chunk in one loop) and
``evaluate_chunk`` skips its bookkeeping when a stage allows everything. Each of those is a shortcut
that could drift from the per-message answer: these tests decide random chunks both ways, on fresh
stores, and compare the decisions and what the stores hold afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels import Allow, ChannelKind, Decision, Message, Mms, Reject, Slide, Text
from channels.policy import ALLOW, evaluate_chunk
from throttle import (
    OPERATOR_GROUP_SEND,
    ContactCap,
    ContactCapPolicy,
    IdempotencyPolicy,
    MemoryStore,
    Numbers,
    OptOutPolicy,
    QuietHoursPolicy,
    RateLimit,
    RateLimitPolicy,
    Schedule,
    Scope,
    ValidatePolicy,
)
from throttle.dedup import to_us

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # Monday 09:30 in Shanghai, 10:30 in Tokyo, 01:30 London
SLIDES = (Slide(text="x"),)
NUMBERS = [
    "+8613800138000",
    "+8613800138001",
    "+86 139-0013-9000",
    "008613900139001",
    "+12125550100",
    "+442079460018",
    "+4915112345678",
    "+819012345678",
    "+81901234",
    "+123",
    "8613800138000",
    "+86abc",
    " +8613800138002 ",
]

messages_st = st.lists(
    st.builds(
        lambda to, kind, campaign, tz, transactional, gateway, n: Message(
            to=to,
            kind=kind,
            content=Text(body="hi" if n % 5 else "")
            if kind is ChannelKind.SMS
            else Mms(slides=(Slide(text="x"),)),
            campaign_id=campaign,
            id=f"m{n % 23}",  # repeated ids: idempotency refuses the second
            timezone=tz,
            transactional=transactional,
            metadata={"gateway": gateway} if gateway else {},
        ),
        st.sampled_from(NUMBERS),
        st.sampled_from([ChannelKind.SMS, ChannelKind.SMS, ChannelKind.MMS]),
        st.sampled_from([None, "c1", "c2"]),
        st.sampled_from([None, None, None, "Asia/Tokyo", "America/New_York", "Mars/Olympus"]),
        st.booleans(),
        st.sampled_from([None, "g1"]),
        st.integers(0, 1000),
    ),
    min_size=1,
    max_size=40,
)


async def both_ways(make: object, chunk: Sequence[Message], *instants: datetime) -> None:
    """Decide ``chunk`` at once on one fresh stage and message by message on another, at each of
    ``instants`` in turn (the stores keep what the earlier ones counted); compare the decisions and
    the stores' contents."""
    stage_a, store_a = make()  # type: ignore[operator]
    stage_b, store_b = make()  # type: ignore[operator]
    for now in instants:
        many = await stage_a.evaluate_many(chunk, now)
        single = [await stage_b.evaluate(m, now) for m in chunk]
        assert many == single
        assert vars_of(store_a) == vars_of(store_b)


def vars_of(store: MemoryStore | None) -> object:
    if store is None:
        return None
    return (
        store.rate._tat,
        store.rate._reserved,
        list(store.rate._reserved_order),
        store.ids._expiry,
        store.caps._members,
    )


@settings(max_examples=60, deadline=None)
@given(messages_st)
async def test_stateless_stages_decide_a_chunk_as_one_by_one(chunk: list[Message]) -> None:
    schedule = Schedule.parse(OPERATOR_GROUP_SEND)
    for now in (NOW, NOW + timedelta(hours=9)):  # Shanghai open, then closed (18:30 is open: 19:30 not)
        await both_ways(lambda: (ValidatePolicy(countries=["86", "1", "81"]), None), chunk, now)
        await both_ways(lambda: (QuietHoursPolicy(schedule, Numbers()), None), chunk, now)


@settings(max_examples=60, deadline=None)
@given(messages_st, st.sampled_from(["reject", "defer"]))
async def test_stores_count_a_chunk_as_one_by_one(chunk: list[Message], on_full: str) -> None:
    caps = [ContactCap(2, "day"), ContactCap(1, timedelta(minutes=30), ChannelKind.MMS)]
    limits = [RateLimit(2, burst=1), RateLimit(1, per=Scope.CAMPAIGN), RateLimit(5, per=Scope.CHANNEL)]

    def cap() -> tuple[ContactCapPolicy, MemoryStore]:
        s = MemoryStore()
        return ContactCapPolicy(s.caps, caps, on_full=on_full), s  # type: ignore[arg-type]

    def rate(limits: list[RateLimit]) -> object:
        def make() -> tuple[RateLimitPolicy, MemoryStore]:
            s = MemoryStore()
            return RateLimitPolicy(s.rate, limits, gateways={ChannelKind.MMS: "mmsc"}), s

        return make

    def ids() -> tuple[IdempotencyPolicy, MemoryStore]:
        s = MemoryStore()
        return IdempotencyPolicy(s.ids), s

    # An unknown Message.timezone is the validate stage's refusal; alone, a cap stage raises on it.
    # Six hours earlier it was the same day in Shanghai and Tokyo, the day before in London and New York.
    earlier = NOW - timedelta(hours=6)
    await both_ways(cap, [m for m in chunk if m.timezone != "Mars/Olympus"], earlier, NOW)
    await both_ways(rate(limits), chunk, NOW, NOW + timedelta(seconds=1))
    await both_ways(rate([RateLimit(3, per=Scope.GATEWAY), RateLimit(1, per=Scope.GLOBAL)]), chunk, NOW)
    await both_ways(ids, chunk, earlier, NOW)


async def test_quiet_hours_one_decision_per_zone_still_tells_zones_apart() -> None:
    policy = QuietHoursPolicy(Schedule.parse({"daily": "09:00-21:00"}), Numbers())
    chunk = [
        Message(to="+8613800138000", kind=ChannelKind.SMS, content=Text(body="a")),  # 09:30 Shanghai
        Message(to="+442079460018", kind=ChannelKind.SMS, content=Text(body="b")),  # 01:30 London
        Message(to="+8613800138001", kind=ChannelKind.SMS, content=Text(body="c"), timezone="Europe/London"),
        Message(to="+442079460019", kind=ChannelKind.SMS, content=Text(body="d"), timezone="Mars/Olympus"),
    ]
    got = await policy.evaluate_many(chunk, NOW)
    assert got[0] == ALLOW
    assert got[1] == got[2] and got[1] != ALLOW
    assert isinstance(got[3], Reject) and got[3].reason.startswith("timezone:")


async def test_rate_buckets_follow_the_attributes_they_depend_on() -> None:
    """Buckets are cached per campaign and channel: each message still gets its own pair."""
    policy = RateLimitPolicy(
        MemoryStore().rate,
        [RateLimit(1, per=Scope.CAMPAIGN), RateLimit(1, per=Scope.CHANNEL)],
        max_wait=timedelta(0),
    )
    sms = dict(kind=ChannelKind.SMS, content=Text(body="x"))
    mms = dict(kind=ChannelKind.MMS, content=Mms(slides=(Slide(text="x"),)))
    chunk = [
        Message(to="+8613800138000", campaign_id="a", **sms),  # type: ignore[arg-type]
        Message(to="+8613800138000", campaign_id="b", **mms),  # type: ignore[arg-type]
        Message(to="+8613800138000", campaign_id="a", **mms),  # type: ignore[arg-type]
        Message(to="+8613800138000", campaign_id=None, **mms),  # type: ignore[arg-type]
    ]
    got = await policy.evaluate_many(chunk, NOW)
    assert got[:2] == [ALLOW, ALLOW]
    assert [d.reason for d in got[2:]] == [  # type: ignore[union-attr]
        "rate_limit: campaign:a,channel:mms",
        "rate_limit: channel:mms",
    ]


def test_zones_cached_by_leading_digits_match_a_fresh_lookup() -> None:
    """Zones are cached by the first TIMEZONE_LONGEST_PREFIX digits: a warm cache answers every
    number as the prefix walk over its whole key does."""
    warm = Numbers()
    keys = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:]
                keys += [e164, e164[:-1], e164 + "7", e164[:4]]
    for key in keys:
        warm.key_zone(key)
    for key in keys:
        assert warm.key_zone(key) == Numbers()._lookup_zone(key), key  # the walk over the whole key


@pytest.mark.parametrize(
    "to",
    [
        "+8613800138000",
        "+86 138-0013-8000",
        " +8613800138000",
        "+",
        "+86\n",
        "+١٢٣٤٥٦٧",
        "+86a",
        "008613800138000",
    ],
)
def test_keys_in_a_batch_equal_keys_one_by_one(to: str) -> None:
    assert Numbers().keys([to, to]) == [Numbers().key(to)] * 2


class _Fixed:
    """A policy answering from a list (to test evaluate_chunk's shortcut)."""

    def __init__(self, answers: list[Decision]) -> None:
        self.answers = answers
        self.rolled_back: list[str] = []

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        return self.answers[: len(messages)] if len(self.answers) >= len(messages) else self.answers

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        return self.answers[0]

    async def rollback(self, message: Message) -> None:
        self.rolled_back.append(message.id)


async def test_evaluate_chunk_counts_fresh_allows_and_still_checks_lengths() -> None:
    chunk = [
        Message(to="+8613800138000", kind=ChannelKind.SMS, content=Text(body="x"), id=f"{i}")
        for i in range(3)
    ]
    first = _Fixed([Allow(), Allow(), Allow()])  # equal to ALLOW, not the same object
    second = _Fixed([ALLOW, Reject("no"), ALLOW])
    assert await evaluate_chunk([first, second], chunk, NOW) == [ALLOW, Reject("no"), ALLOW]
    assert first.rolled_back == ["1"]
    with pytest.raises(ValueError):
        await evaluate_chunk([_Fixed([ALLOW, ALLOW])], chunk, NOW)


async def test_opt_out_batch_uses_the_shared_keys() -> None:
    store = MemoryStore()
    await store.optouts.add(["8613800138000"], to_us(NOW), "t")
    policy = OptOutPolicy(store.optouts, blocked=["+8613900139000"])
    chunk = [Message(to=t, kind=ChannelKind.SMS, content=Text(body="x")) for t in NUMBERS[:4]]
    got = await policy.evaluate_many(chunk, NOW)
    assert [type(d) for d in got] == [Reject, Allow, Reject, Allow]
    assert got == [await policy.evaluate(m, NOW) for m in chunk]
