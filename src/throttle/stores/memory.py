"""The in-process store: plain dicts, the library default (DESIGN §5 "State stores").

Implements the store protocols of :mod:`throttle.stores.base` for one process: GCRA theoretical
arrival times per bucket with slot reservations, idempotency claims with expiry, contact-cap members
per key, and the opt-out set. Nothing here awaits: each operation is a plain method (``acquire_sync``,
``claim_sync``…, the :mod:`throttle.stores.base` ``Sync*Store`` protocols) that the policies call
directly, with no coroutine per stage (:mod:`channels.policy`, ``evaluate_sync``); the async methods
wrap them so every backend has one interface. Expired entries are purged from insertion-ordered
queues, so no call scans everything.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from throttle.stores.base import US, CapRequest, RateRequest
from throttle.stores.core import Members, cap_decide, rate_decide_many, rate_give_back

RESERVATION_GRACE_US = 60 * US  # a reserved slot nobody came back for is forgotten after this


class MemoryRateStore:
    def __init__(self) -> None:
        self._tat: dict[str, int] = {}
        self._reserved: dict[str, int] = {}
        self._reserved_order: deque[tuple[int, str]] = deque()

    async def acquire(self, requests: Sequence[RateRequest], now_us: int, max_wait_us: int) -> list[int]:
        return self.acquire_sync(requests, now_us, max_wait_us)

    def acquire_sync(self, requests: Sequence[RateRequest], now_us: int, max_wait_us: int) -> list[int]:
        order, reserved = self._reserved_order, self._reserved
        while order and order[0][0] < now_us - RESERVATION_GRACE_US:  # forget slots nobody came for
            slot, token = order.popleft()
            if reserved.get(token) == slot:
                del reserved[token]
        return rate_decide_many(self._tat, reserved, requests, now_us, max_wait_us, order)

    async def release(self, requests: Sequence[RateRequest], now_us: int) -> None:
        self.release_sync(requests, now_us)

    def release_sync(self, requests: Sequence[RateRequest], now_us: int) -> None:
        for req in requests:
            self._reserved.pop(req.token, None)
            rate_give_back(self._tat, req, now_us)


class MemoryIdempotencyStore:
    def __init__(self) -> None:
        self._expiry: dict[str, int] = {}
        self._order: deque[tuple[int, str]] = deque()

    async def claim(self, ids: Sequence[str], now_us: int, ttl_us: int) -> list[bool]:
        return self.claim_sync(ids, now_us, ttl_us)

    def claim_sync(self, ids: Sequence[str], now_us: int, ttl_us: int) -> list[bool]:
        expiry, order = self._expiry, self._order
        while order and order[0][0] <= now_us:  # forget expired claims
            gone_until, gone = order.popleft()
            if expiry.get(gone) == gone_until:
                del expiry[gone]
        until = now_us + ttl_us
        out: list[bool] = []
        for mid in ids:
            held = expiry.get(mid)
            if held is not None and held > now_us:
                out.append(False)
                continue
            expiry[mid] = until
            order.append((until, mid))
            out.append(True)
        return out

    async def release(self, ids: Sequence[str]) -> None:
        self.release_sync(ids)

    def release_sync(self, ids: Sequence[str]) -> None:
        for mid in ids:
            self._expiry.pop(mid, None)


class MemoryCapStore:
    def __init__(self) -> None:
        self._members: dict[str, Members] = {}  # key → ((ts, member), ...) oldest first

    async def reserve(self, requests: Sequence[CapRequest], now_us: int, retention_us: int) -> list[int]:
        return self.reserve_sync(requests, now_us, retention_us)

    def reserve_sync(self, requests: Sequence[CapRequest], now_us: int, retention_us: int) -> list[int]:
        """Each request trimmed to the retention, then decided by ``cap_decide``. Fast path: a
        request with one check (one cap, the usual configuration) whose key holds nobody (a
        subscriber not contacted within the retention: every message of a campaign of new
        numbers) is counted at once, as ``cap_decide`` counts it (nothing to trim, nothing full
        with a limit of one or more, the member the key's only entry); tested against the
        general path in tests/unit/test_throttle_memory_caps.py."""
        horizon = now_us - retention_us
        members = self._members
        get = members.get
        out: list[int] = []
        for req in requests:
            checks = req.checks
            if len(checks) == 1:
                key = checks[0][0]
                if not get(key) and checks[0][2]:
                    members[key] = ((now_us, req.member),)
                    out.append(0)
                    continue
            # Forget what left the retention before deciding (a request's own additions are at
            # now_us, after the horizon: trimming request by request leaves what one pass would).
            for check in checks:
                listed = get(check.key)
                if listed and listed[0][0] <= horizon:
                    members[check.key] = tuple([e for e in listed if e[0] > horizon])
            out.append(cap_decide(members, req, now_us))
        return out

    async def release(self, requests: Sequence[CapRequest]) -> None:
        self.release_sync(requests)

    def release_sync(self, requests: Sequence[CapRequest]) -> None:
        for req in requests:
            for check in req.checks:
                listed = self._members.get(check.key)
                if listed:
                    self._members[check.key] = tuple([e for e in listed if e[1] != req.member])


class MemoryOptOutStore:
    def __init__(self) -> None:
        self._numbers: dict[str, tuple[int, str]] = {}

    async def add(self, numbers: Sequence[str], now_us: int, source: str) -> None:
        for n in numbers:
            self._numbers[n] = (now_us, source)

    async def remove(self, numbers: Sequence[str]) -> None:
        for n in numbers:
            self._numbers.pop(n, None)

    async def contains(self, numbers: Sequence[str]) -> list[bool]:
        return self.contains_sync(numbers)

    def contains_sync(self, numbers: Sequence[str]) -> list[bool]:
        known = self._numbers
        return [n in known for n in numbers]


class MemoryStore:
    """All four stores in this process's memory."""

    def __init__(self) -> None:
        self.rate = MemoryRateStore()
        self.ids = MemoryIdempotencyStore()
        self.caps = MemoryCapStore()
        self.optouts = MemoryOptOutStore()

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> MemoryStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
