"""Numbers (keys, zones, operators), validation, the blocked-numbers file and the pipeline's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers import timezone as pn_timezone

from channels import (
    Allow,
    ChannelKind,
    ConfigurationError,
    Defer,
    FakeClock,
    Message,
    Mms,
    Reject,
    Text,
)
from throttle import (
    IdempotencyPolicy,
    MemoryStore,
    Numbers,
    OptOutPolicy,
    Pipeline,
    QuietHoursPolicy,
    RateLimit,
    RateLimitPolicy,
    Scope,
    ValidatePolicy,
    default_pipeline,
    load_blocked,
)
from throttle.dedup import to_us

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def msg(to: str = "+8613800138000", **kw: object) -> Message:
    kw.setdefault("content", Text(body="hi"))
    kw.setdefault("kind", ChannelKind.SMS)
    return Message(to=to, **kw)  # type: ignore[arg-type]


def test_number_keys() -> None:
    n = Numbers()
    assert n.key("+86 138-0013-8000") == "8613800138000"
    assert n.key("008613800138000") == "8613800138000"
    assert n.key("8613800138000") == "8613800138000"
    assert n.key("+86abc") == ""
    national = Numbers(default_region="CN")
    assert national.key("13800138000") == "8613800138000"
    assert national.key("+44 20 7946 0018") == "442079460018"


def test_zone_lookup_agrees_with_phonenumbers_for_every_region() -> None:
    """Our prefix lookup on phonenumbers' table gives what ``time_zones_for_geographical_number``
    gives (``time_zones_for_number`` widens some mobile ranges to the whole country code, e.g. every
    +1 zone for an Antigua mobile; the prefix is the better answer for quiet hours)."""
    numbers = Numbers(default_zone="UTC")
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            zones = pn_timezone.time_zones_for_geographical_number(example)
            expected = zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else "UTC"
            assert numbers.zone(e164).key == expected, e164
            checked += 1
    assert checked > 300


def test_operators_from_a_prefix_table_else_phonenumbers() -> None:
    n = Numbers(operators={"+86138": "cmcc-138", "86139": "cmcc-139"})
    assert n.operator("+8613800138000") == "cmcc-138"
    assert n.operator("+8613900139000") == "cmcc-139"
    assert n.operator("+8615000150000") == "China Mobile"
    assert Numbers(carrier_fallback=False).operator("+8615000150000") == ""


async def test_operator_keyed_limits_with_overrides() -> None:
    numbers = Numbers(operators={"86138": "A", "86139": "B"})
    limit = RateLimit(1, per=Scope.OPERATOR, overrides={"B": 10})
    policy = RateLimitPolicy(MemoryStore().rate, [limit], numbers=numbers, max_wait=timedelta(0))
    assert await policy.evaluate(msg("+8613800138000"), NOW) == Allow()
    a = await policy.evaluate(msg("+8613800138001"), NOW)
    assert isinstance(a, Defer) and a.until == NOW + timedelta(seconds=1)
    assert await policy.evaluate(msg("+8613900139000"), NOW) == Allow()
    b = await policy.evaluate(msg("+8613900139001"), NOW)
    assert isinstance(b, Defer) and b.until == NOW + timedelta(milliseconds=100)
    with pytest.raises(ConfigurationError):
        RateLimit(0)


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (msg("12345"), "to:"),
        (msg("+4412345678901"), "to: country"),
        (msg(content=Text(body="")), "content.body"),
        (msg(kind=ChannelKind.MMS, content=Mms()), "content:"),
        (msg(kind=ChannelKind.MMS, content=Mms(parts=())), "content:"),
        (msg(timezone="Mars/Olympus"), "timezone:"),
    ],
)
async def test_validate_names_the_field(message: Message, field: str) -> None:
    d = await ValidatePolicy(countries=["86", "+1"]).evaluate(message, NOW)
    assert isinstance(d, Reject) and d.reason.startswith(field)


async def test_validate_kinds_and_sender() -> None:
    policy = ValidatePolicy(kinds=[ChannelKind.MMS], require_sender=True)
    assert (await policy.evaluate(msg(), NOW)) == Reject("kind: channel 'sms' not allowed")
    mms = msg(kind=ChannelKind.MMS, content=Mms(subject="x", parts=()), sender=None)
    assert isinstance(await policy.evaluate(mms, NOW), Reject)
    assert await ValidatePolicy().evaluate(msg(sender="10086"), NOW) == Allow()


def test_blocked_file(tmp_path: Path) -> None:
    path = tmp_path / "blocked.txt"
    path.write_text("# sensitive numbers\n+86 138 0013 8000\n\n8613900139000  # VIP\n", encoding="utf-8")
    assert load_blocked(path) == {"8613800138000", "8613900139000"}
    path.write_text("+8613800138000\nnot-a-number\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=":2:"):
        load_blocked(path)
    with pytest.raises(ConfigurationError, match="missing"):
        load_blocked(tmp_path / "missing.txt")


async def test_transactional_may_reach_opted_out_subscribers_when_exempt() -> None:
    store = MemoryStore()
    await store.optouts.add(["8613800138000"], to_us(NOW), "user")
    strict = OptOutPolicy(store.optouts)
    lenient = OptOutPolicy(store.optouts, exempt_transactional=True)
    assert isinstance(await strict.evaluate(msg(transactional=True), NOW), Reject)
    assert await lenient.evaluate(msg(transactional=True), NOW) == Allow()
    assert isinstance(await lenient.evaluate(msg(), NOW), Reject)


def test_default_pipeline_order() -> None:
    p = default_pipeline(limits=[RateLimit(5)], schedule={"daily": "08:00-21:00"})
    names = [type(s).__name__ for s in p.stages]
    assert names == [
        "ValidatePolicy",
        "OptOutPolicy",
        "QuietHoursPolicy",
        "IdempotencyPolicy",
        "RateLimitPolicy",
    ]
    assert isinstance(p.stage(QuietHoursPolicy), QuietHoursPolicy)
    with pytest.raises(KeyError):
        Pipeline([]).stage(QuietHoursPolicy)


async def test_pipeline_batch_equals_one_by_one() -> None:
    """evaluate_many gives the decisions evaluate gives, message by message, on fresh state."""
    clock = FakeClock(NOW)
    batch = [msg(), msg("123"), msg(), msg("+8613900139000")]
    batch.append(Message(to=batch[0].to, kind=ChannelKind.SMS, content=Text(body="x"), id=batch[0].id))

    def build() -> Pipeline:
        return default_pipeline(MemoryStore(), limits=[RateLimit(2)], blocked=["+8613900139000"], clock=clock)

    one = build()
    singles = [await one.evaluate(m, NOW) for m in batch]
    many = await build().evaluate_many(batch, NOW)
    assert many == singles
    assert [type(d) for d in many] == [Allow, Reject, Defer, Reject, Reject]
    await one.rollback(batch[0])
    assert await one.stage(IdempotencyPolicy).evaluate(batch[0], NOW) == Allow()
