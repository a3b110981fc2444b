"""The Redis store: throttle state shared by many processes on many machines (DESIGN §5).

redis-py asyncio. Each decision is one atomic Lua script (:mod:`throttle.stores.redis_lua`); a batch
of decisions is one pipelined round trip. Time is the server's ``TIME`` by default, so workers with
skewed clocks still share one limit (PROTOCOLS.md §10, redis/docs#3788); ``time_source="caller"``
uses the ``now`` the policies pass (tests with a fake clock). Keys carry hash tags so every script's
keys share a slot on Redis Cluster: all rate buckets under ``{ns:rate}`` (one send is checked against
all its buckets atomically); ids, and each subscriber's caps, under one of 16 shard tags, so a chunk
is one script call on a single server and at most 16 on a cluster. A lost connection raises
:class:`~channels.errors.TransportError`: a policy never allows by default.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Sequence
from typing import Any, Literal, TypeVar

import redis.asyncio as aioredis
import redis.exceptions as rexc
from redis.asyncio.cluster import RedisCluster

from channels.errors import ChannelsError, TransportError
from throttle.stores.base import CapRequest, RateRequest
from throttle.stores.redis_lua import (
    CAP_RELEASE,
    CAP_RESERVE,
    CLAIM,
    OPTOUT_CHECK,
    RATE_ACQUIRE,
    RATE_RELEASE,
)

T = TypeVar("T")
TimeSource = Literal["server", "caller"]
RESERVATION_GRACE_MS = 60_000
SHARDS = 16  # hash tags for ids and subscribers' caps: a chunk is at most 16 calls on a cluster


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

    def __init__(self, client: aioredis.Redis | RedisCluster) -> None:
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


def _text(reply: Any) -> str:
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def shard(value: str) -> int:
    """Which of the SHARDS hash tags a key belongs to (spreads ids and subscribers over slots)."""
    return zlib.crc32(value.encode()) % SHARDS


class _Base:
    def __init__(
        self,
        scripts: _Scripts,
        client: aioredis.Redis | RedisCluster,
        ns: str,
        time_source: TimeSource,
        cluster: bool,
    ) -> None:
        self._scripts = scripts
        self._client = client
        self._ns = ns
        self._caller_time = time_source == "caller"
        self._cluster = cluster

    def _now(self, now_us: int) -> str:
        return str(now_us) if self._caller_time else ""

    def _groups(self, tags: Sequence[int]) -> list[list[int]]:
        """Request indexes per script call: all in one on a single server, one call per hash tag on
        a cluster (a script's keys must share a slot there)."""
        if not self._cluster:
            return [list(range(len(tags)))]
        groups: dict[int, list[int]] = {}
        for i, tag in enumerate(tags):
            groups.setdefault(tag, []).append(i)
        return list(groups.values())


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
        spec = " ".join(f"{buckets[name].interval_us} {buckets[name].burst}" for name in index)
        per = " ".join(
            f"{tokens[r.token]} {r.cost} {len(r.buckets)} " + " ".join(str(index[b.name]) for b in r.buckets)
            for r in requests
        )
        args = [self._now(now_us), max_wait_us, RESERVATION_GRACE_MS, spec, per]
        out = _text(await self._scripts.call(RATE_ACQUIRE, keys, args)).split(",")
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
        return f"{{{self._ns}:id:{shard(mid)}}}:{mid}"

    async def claim(self, ids: Sequence[str], now_us: int, ttl_us: int) -> list[bool]:
        out = [False] * len(ids)
        keys = [self._key(i) for i in ids]
        for group in self._groups([shard(i) for i in ids]):
            args = [self._now(now_us), ttl_us]
            reply = _text(await self._scripts.call(CLAIM, [keys[i] for i in group], args))
            for i, flag in zip(group, reply, strict=True):
                out[i] = flag == "1"
        return out

    async def release(self, ids: Sequence[str]) -> None:
        keys = [self._key(i) for i in ids]
        for group in self._groups([shard(i) for i in ids]):
            await guarded(self._client.delete(*(keys[i] for i in group)))


class RedisCapStore(_Base):
    def _keys(self, req: CapRequest) -> list[str]:
        tag = f"{{{self._ns}:cap:{shard(req.group)}}}"
        return [f"{tag}:{c.key}" for c in req.checks]

    async def reserve(self, requests: Sequence[CapRequest], now_us: int, retention_us: int) -> list[int]:
        out = [0] * len(requests)
        for group in self._groups([shard(r.group) for r in requests]):
            keys: list[str] = []
            spec: list[str] = []
            for i in group:
                req = requests[i]
                keys += self._keys(req)
                spec.append(str(len(req.checks)))
                spec.extend(f"{c.max_age_us} {c.limit} {c.reset_us}" for c in req.checks)
            args = [self._now(now_us), retention_us, " ".join(spec), *(requests[i].member for i in group)]
            reply = _text(await self._scripts.call(CAP_RESERVE, keys, args)).split(",")
            for i, wait in zip(group, reply, strict=True):
                out[i] = int(wait)
        return out

    async def release(self, requests: Sequence[CapRequest]) -> None:
        for group in self._groups([shard(r.group) for r in requests]):
            keys: list[str] = []
            args: list[Any] = []
            for i in group:
                keys += self._keys(requests[i])
                args += (requests[i].member, len(requests[i].checks))
            if keys:
                await self._scripts.call(CAP_RELEASE, keys, args)


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
        reply = _text(await self._scripts.call(OPTOUT_CHECK, [self._key], list(numbers)))
        return [flag == "1" for flag in reply]


class RedisStore:
    """All four stores on one Redis (or Redis Cluster through a cluster client).

    Give a client, or a URL (``redis://127.0.0.1:6379/0``) and the store owns and closes its client.
    """

    def __init__(
        self,
        client: aioredis.Redis | RedisCluster | None = None,
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
        self.client: aioredis.Redis | RedisCluster = client or aioredis.Redis.from_url(
            str(url), socket_timeout=timeout, socket_connect_timeout=timeout
        )
        scripts = _Scripts(self.client)
        cluster = isinstance(self.client, RedisCluster)
        parts = (scripts, self.client, namespace, time_source, cluster)
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
