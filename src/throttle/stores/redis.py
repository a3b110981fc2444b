"""The Redis store: throttle state shared by many processes on many machines (DESIGN §5).

redis-py asyncio. Each decision is one atomic Lua script (:mod:`throttle.stores.redis_lua`); a batch
of decisions is one pipelined round trip. Time is the server's ``TIME`` by default, so workers with
skewed clocks still share one limit (PROTOCOLS.md §10, redis/docs#3788); ``time_source="caller"``
uses the ``now`` the policies pass (tests with a fake clock). Keys carry hash tags so every script's
keys share a slot on Redis Cluster: all rate buckets under ``{ns:rate}`` (one send is checked against
all its buckets atomically), each id under its own tag, each subscriber's caps under the subscriber.
A lost connection raises :class:`~channels.errors.TransportError`: a policy never allows by default.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, Literal, TypeVar

import redis.asyncio as aioredis
import redis.exceptions as rexc

from channels.errors import ChannelsError, TransportError
from throttle.stores.base import CapRequest, RateRequest
from throttle.stores.redis_lua import CAP_RESERVE, CLAIM, RATE_ACQUIRE, RATE_RELEASE

T = TypeVar("T")
TimeSource = Literal["server", "caller"]
RESERVATION_GRACE_MS = 60_000


async def guarded(awaitable: Awaitable[T]) -> T:
    """Await a Redis call, translating its failures into our error tree."""
    try:
        return await awaitable
    except (rexc.ConnectionError, rexc.TimeoutError, OSError) as exc:
        raise TransportError(f"redis unavailable: {exc}") from exc
    except rexc.RedisError as exc:
        raise ChannelsError(f"redis: {exc}") from exc


class _Scripts:
    """Lua scripts by sha, loaded on first use and again after a server restart (NOSCRIPT)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._sha: dict[str, str] = {}

    async def _load(self, lua: str) -> str:
        sha = str(await guarded(self._client.script_load(lua)))
        self._sha[lua] = sha
        return sha

    async def call(self, lua: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        sha = self._sha.get(lua) or await self._load(lua)
        try:
            return await guarded(self._client.evalsha(sha, len(keys), *keys, *args))
        except ChannelsError as exc:
            if not isinstance(exc.__cause__, rexc.NoScriptError):
                raise
        return await guarded(self._client.evalsha(await self._load(lua), len(keys), *keys, *args))

    async def call_many(self, lua: str, calls: Sequence[tuple[Sequence[str], Sequence[Any]]]) -> list[Any]:
        """One pipelined round trip of many calls of one script (each call atomic on its own)."""
        sha = self._sha.get(lua) or await self._load(lua)
        results = await self._pipeline(sha, calls)
        missing = [i for i, r in enumerate(results) if isinstance(r, rexc.NoScriptError)]
        if missing:
            sha = await self._load(lua)
            again = await self._pipeline(sha, [calls[i] for i in missing])
            for i, r in zip(missing, again, strict=True):
                results[i] = r
        for r in results:
            if isinstance(r, Exception):
                await guarded(_raise(r))
        return results

    async def _pipeline(self, sha: str, calls: Sequence[tuple[Sequence[str], Sequence[Any]]]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for keys, args in calls:
            pipe.evalsha(sha, len(keys), *keys, *args)
        return list(await guarded(pipe.execute(raise_on_error=False)))


async def _raise(exc: Exception) -> None:
    raise exc


class _Base:
    def __init__(self, scripts: _Scripts, client: aioredis.Redis, ns: str, time_source: TimeSource) -> None:
        self._scripts = scripts
        self._client = client
        self._ns = ns
        self._caller_time = time_source == "caller"

    def _now(self, now_us: int) -> str:
        return str(now_us) if self._caller_time else ""


class RedisRateStore(_Base):
    def _keys(self, requests: Sequence[RateRequest]) -> tuple[list[str], dict[str, int], dict[str, int]]:
        index: dict[str, int] = {}
        tokens: dict[str, int] = {}
        for req in requests:
            for b in req.buckets:
                index.setdefault(b.name, len(index) + 1)
            tokens.setdefault(req.token, len(tokens) + 1)
        tag = f"{{{self._ns}:rate}}"
        keys = [f"{tag}:tat:{name}" for name in index] + [f"{tag}:res:{t}" for t in tokens]
        return keys, index, tokens

    async def acquire(self, requests: Sequence[RateRequest], now_us: int, max_wait_us: int) -> list[int]:
        if not requests:
            return []
        keys, index, tokens = self._keys(requests)
        buckets = {b.name: b for r in requests for b in r.buckets}
        args: list[Any] = [self._now(now_us), max_wait_us, len(index)]
        for name in index:
            args += (buckets[name].interval_us, buckets[name].burst)
        args.append(RESERVATION_GRACE_MS)
        for req in requests:
            args += (tokens[req.token], req.cost, len(req.buckets), *(index[b.name] for b in req.buckets))
        out = await self._scripts.call(RATE_ACQUIRE, keys, args)
        return [int(w) for w in out[1:]]

    async def release(self, requests: Sequence[RateRequest], now_us: int) -> None:
        if not requests:
            return
        keys, index, _ = self._keys(requests)
        back = dict.fromkeys(index, 0)
        for req in requests:
            for b in req.buckets:
                back[b.name] += req.cost * b.interval_us
        await self._scripts.call(RATE_RELEASE, keys, [self._now(now_us), len(index), *back.values()])


class RedisIdempotencyStore(_Base):
    def _key(self, mid: str) -> str:
        return f"{self._ns}:id:{{{mid}}}"

    async def claim(self, ids: Sequence[str], now_us: int, ttl_us: int) -> list[bool]:
        now = self._now(now_us)
        out = await self._scripts.call_many(CLAIM, [([self._key(i)], [now, ttl_us]) for i in ids])
        return [bool(r) for r in out]

    async def release(self, ids: Sequence[str]) -> None:
        if ids:
            await guarded(self._client.delete(*(self._key(i) for i in ids)))


class RedisCapStore(_Base):
    def _keys(self, req: CapRequest) -> list[str]:
        return [f"{self._ns}:cap:{{{req.group}}}:{c.key}" for c in req.checks]

    async def reserve(self, requests: Sequence[CapRequest], now_us: int, retention_us: int) -> list[int]:
        now = self._now(now_us)
        calls = []
        for req in requests:
            args: list[Any] = [now, retention_us, req.member]
            for c in req.checks:
                args += (c.max_age_us, c.limit, c.reset_us)
            calls.append((self._keys(req), args))
        out = await self._scripts.call_many(CAP_RESERVE, calls)
        return [int(r[1]) for r in out]

    async def release(self, requests: Sequence[CapRequest]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for req in requests:
            for key in self._keys(req):
                pipe.zrem(key, req.member)
        await guarded(pipe.execute())


class RedisOptOutStore(_Base):
    @property
    def _key(self) -> str:
        return f"{{{self._ns}:optout}}"

    async def add(self, numbers: Sequence[str], now_us: int, source: str) -> None:
        if numbers:
            await guarded(self._client.hset(self._key, mapping={n: f"{now_us} {source}" for n in numbers}))

    async def remove(self, numbers: Sequence[str]) -> None:
        if numbers:
            await guarded(self._client.hdel(self._key, *numbers))

    async def contains(self, numbers: Sequence[str]) -> list[bool]:
        if not numbers:
            return []
        found = await guarded(self._client.hmget(self._key, list(numbers)))
        return [v is not None for v in found]


class RedisStore:
    """All four stores on one Redis (or Redis Cluster through a cluster client).

    Give a client, or a URL (``redis://127.0.0.1:6379/0``) and the store owns and closes its client.
    """

    def __init__(
        self,
        client: aioredis.Redis | None = None,
        *,
        url: str | None = None,
        namespace: str = "throttle",
        time_source: TimeSource = "server",
        timeout: float = 5.0,
    ) -> None:
        if (client is None) == (url is None):
            raise ValueError("RedisStore needs exactly one of client= or url=")
        if time_source not in ("server", "caller"):
            raise ValueError(f"time_source must be 'server' or 'caller', not {time_source!r}")
        self._owned = client is None
        self.client: aioredis.Redis = client or aioredis.Redis.from_url(
            str(url), socket_timeout=timeout, socket_connect_timeout=timeout
        )
        scripts = _Scripts(self.client)
        parts = (scripts, self.client, namespace, time_source)
        self.rate = RedisRateStore(*parts)
        self.ids = RedisIdempotencyStore(*parts)
        self.caps = RedisCapStore(*parts)
        self.optouts = RedisOptOutStore(*parts)

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()

    async def __aenter__(self) -> RedisStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
