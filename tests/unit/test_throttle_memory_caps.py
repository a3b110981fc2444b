"""The memory cap store's fast path and ``cap_decide``'s single walk decide as the rule does.

``MemoryCapStore.reserve_sync`` counts a one-check request whose key holds nobody without calling
``cap_decide``; ``cap_decide`` finds a member already counted and the window's size in one walk of
the key's entries. Both are compared here, on random sequences of requests and releases, with the
general path (trim to the retention, then the rule) and with the rule as first written (a search for
the member, then the window as a list). Keys, members and instants are drawn from small sets so that
keys fill up, members repeat, entries age out of windows and of the retention, and checks of one
request share a key.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from throttle.stores.base import CapRequest, cap_check, cap_request
from throttle.stores.core import Members, cap_decide
from throttle.stores.memory import MemoryCapStore


def rule(entries: dict[str, Members], req: CapRequest, now: int) -> int:
    """The rule as first written: skip a key that counts the member, else count the window."""
    wait = 0
    member = req.member
    fresh: list[str] = []
    for check in req.checks:
        key = check.key
        listed = entries.setdefault(key, ())
        if not listed and check.limit:
            fresh.append(key)
            continue
        if any(m == member for _, m in listed):
            continue
        window = [ts for ts, _ in listed if ts > now - check.max_age_us]
        if len(window) >= check.limit:
            if check.reset_us:
                wait = max(wait, check.reset_us)
            else:
                oldest = window[len(window) - check.limit] if check.limit else now
                wait = max(wait, oldest + check.max_age_us - now)
        fresh.append(key)
    if wait:
        return wait
    for key in fresh:
        entries[key] += ((now, member),)
    return 0


def general(
    entries: dict[str, Members], requests: list[CapRequest], now: int, retention: int, decide: object
) -> list[int]:
    """The store's general path: each request's keys trimmed to the retention, then decided."""
    out: list[int] = []
    for req in requests:
        for check in req.checks:
            listed = entries.get(check.key)
            if listed and listed[0][0] <= now - retention:
                entries[check.key] = tuple([e for e in listed if e[0] > now - retention])
        out.append(decide(entries, req, now))  # type: ignore[operator]
    return out


checks_st = st.lists(
    st.builds(
        cap_check,
        st.sampled_from(["a", "b", "c"]),
        st.integers(1, 40),
        st.integers(0, 3),
        st.sampled_from([0, 0, 7]),
    ),
    min_size=1,
    max_size=2,
).map(tuple)
requests_st = st.lists(
    st.builds(cap_request, st.sampled_from([f"m{i}" for i in range(5)]), checks_st), max_size=6
)
steps_st = st.lists(st.tuples(st.integers(0, 25), requests_st, st.booleans()), max_size=12)


@settings(max_examples=300, deadline=None)
@given(steps_st, st.integers(20, 80))
def test_memory_cap_store_decides_as_the_general_path_and_the_rule(
    steps: list[tuple[int, list[CapRequest], bool]], retention: int
) -> None:
    store = MemoryCapStore()
    walked: dict[str, Members] = {}
    spelled: dict[str, Members] = {}
    now = 1_000
    for step, requests, release in steps:
        now += step
        got = store.reserve_sync(requests, now, retention)
        assert got == general(walked, requests, now, retention, cap_decide)
        assert got == general(spelled, requests, now, retention, rule)
        assert store._members == walked == spelled
        if release and requests:
            store.release_sync(requests[:1])
            for entries in (walked, spelled):
                for check in requests[0].checks:
                    listed = entries.get(check.key)
                    if listed:
                        entries[check.key] = tuple([e for e in listed if e[1] != requests[0].member])
            assert store._members == walked == spelled


def test_a_new_subscriber_takes_the_fast_path_and_a_full_key_does_not() -> None:
    store = MemoryCapStore()
    one = (cap_check("8613800138000:all:day", 1_000, 2),)
    assert store.reserve_sync([cap_request("m1", one), cap_request("m2", one)], 5_000, 10_000) == [0, 0]
    assert store._members["8613800138000:all:day"] == ((5_000, "m1"), (5_000, "m2"))
    # Full: the oldest counted member leaves the window 1 000 µs after it was counted.
    assert store.reserve_sync([cap_request("m3", one)], 5_100, 10_000) == [900]
    # A limit of 0 is never counted, even on an empty key (the fast path must not take it).
    none = (cap_check("442079460018:all:day", 1_000, 0),)
    assert store.reserve_sync([cap_request("m4", none)], 5_100, 10_000) == [1_000]
    assert store._members["442079460018:all:day"] == ()
