"""The decision rules shared by the memory and SQLite stores (the Redis store runs the same rules in
Lua, server-side, so each decision stays one atomic script; PROTOCOLS.md §10).

GCRA (ITU-T I.371 "virtual scheduling"): each bucket keeps a theoretical arrival time ``tat``; a send
of ``cost`` parts may go when its last part's slot, less the burst allowance, has come; it then moves
``tat`` on by ``cost`` intervals. A send that must wait up to ``max_wait`` takes its future slot at
once (a reservation under its token), so waiting senders queue instead of all retrying at the same
instant. Contact caps count members per key inside a window. Both functions work on plain dicts the
caller loaded (SQLite) or owns (memory), and mutate them in place.
"""

from __future__ import annotations

from collections.abc import MutableSequence, Sequence

from throttle.stores.base import CapRequest, RateRequest


def rate_decide_many(
    tats: dict[str, int],
    reserved: dict[str, int],
    requests: Sequence[RateRequest],
    now: int,
    max_wait: int,
    booked: MutableSequence[tuple[int, str]] | None = None,
) -> list[int]:
    """Each request in order against all its buckets, all or nothing: its wait (see
    RateStore.acquire). A new reservation is left in ``reserved[token]`` (its slot) and, when
    ``booked`` is given, appended to it as (slot, token).

    GCRA per bucket: a send of ``cost`` parts may go at ``tat + (cost - 1 - burst) * interval``, its
    last part's slot less the burst allowance; it then moves ``tat`` on by ``cost`` intervals (from
    the send's time when the bucket was idle)."""
    out: list[int] = []
    append = out.append
    get = tats.get
    for token, buckets, cost in requests:
        if reserved:
            slot = reserved.get(token)
            if slot is not None:
                if slot <= now:
                    del reserved[token]
                    append(0)
                else:
                    append(slot - now)
                continue
        allow = now
        for name, interval, burst in buckets:
            at = get(name, 0) + (cost - 1 - burst) * interval
            if at > allow:
                allow = at
        wait = allow - now
        if wait > max_wait:
            append(-wait)
            continue
        for name, interval, _ in buckets:
            tat = get(name, 0)
            tats[name] = (tat if tat > allow else allow) + cost * interval
        if wait:
            reserved[token] = allow
            if booked is not None:
                booked.append((allow, token))
        append(wait)
    return out


def rate_give_back(tats: dict[str, int], req: RateRequest, now: int) -> None:
    """Undo one request's consumption, never moving a bucket below now."""
    for b in req.buckets:
        tat = tats.get(b.name)
        if tat is not None:
            tats[b.name] = max(now, tat - req.cost * b.interval_us)


Members = tuple[tuple[int, str], ...]  # (ts, member), oldest first


def cap_decide(entries: dict[str, Members], req: CapRequest, now: int) -> int:
    """One request against its checks. ``entries[key]`` holds (ts, member), oldest first, already
    trimmed to the retention horizon. Returns 0 and adds the member everywhere, or the wait (µs)
    until the fullest check frees a place. A member already counted under a key is not counted
    again there. Entries are tuples, replaced on change: a store keeps one per subscriber and
    scope, and tuples of numbers and strings leave the garbage collector's tracking, lists never."""
    wait = 0
    member = req.member
    fresh: list[str] = []
    for check in req.checks:
        key = check.key
        listed = entries.setdefault(key, ())
        if not listed and check.limit:  # not contacted within the retention: nothing to count
            fresh.append(key)
            continue
        # One walk: stop at the member (already counted here), else count the window's members
        # (no generator or comprehension: a call each, dearer than the few entries walked).
        since = now - check.max_age_us
        young = 0
        for ts, m in listed:
            if m == member:
                break
            if ts > since:
                young += 1
        else:
            if young >= check.limit:
                if check.reset_us:
                    wait = max(wait, check.reset_us)
                else:
                    window = [ts for ts, _ in listed if ts > since]
                    oldest = window[len(window) - check.limit] if check.limit else now
                    wait = max(wait, oldest + check.max_age_us - now)
            fresh.append(key)
    if wait:
        return wait
    entry = ((now, member),)
    for key in fresh:
        entries[key] += entry
    return 0
