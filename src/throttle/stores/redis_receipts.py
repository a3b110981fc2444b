"""Receipt correlation state on Redis: a :class:`channels.receipts.ReceiptStore` shared by workers.

A receipt may arrive on any worker's bind, not the one that submitted the message, so the map
remote id → ``Message.id`` must be shared (DESIGN §5 "Receipts", PROTOCOLS.md §3.4). Each tracked
message is one JSON record; each normalised remote-id key points at its message id; a sorted set
orders messages by receipt deadline, and :meth:`due` takes each expired message with ``ZREM`` so
only one worker reports its timeout. Keys are hash-tagged per record, per remote id and for the
deadline set, so each command stays in one slot on Redis Cluster; records expire a day after their
deadline, so nothing leaks. ``ReceiptStore`` is synchronous (the tracker is pure and called inline),
so this uses redis-py's blocking client: a loopback round trip per call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import redis
import redis.exceptions as rexc

from channels.errors import ChannelsError, TransportError
from channels.message import ChannelKind
from channels.receipts import Tracked
from channels.results import DeliveryState

KEEP_AFTER_DEADLINE = timedelta(days=1)
DUE_BATCH = 1000


@contextmanager
def _guard() -> Iterator[None]:
    try:
        yield
    except (rexc.ConnectionError, rexc.TimeoutError, OSError) as exc:
        raise TransportError(f"redis unavailable: {exc}") from exc
    except rexc.RedisError as exc:
        raise ChannelsError(f"redis: {exc}") from exc


def _encode(tracked: Tracked, keys: list[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "id": tracked.message_id,
            "ch": tracked.channel.value,
            "gw": tracked.gateway,
            "rids": list(tracked.remote_ids),
            "deadline": tracked.deadline.isoformat(),
            "parts": {k: v.value for k, v in tracked.part_states.items()},
            "done": tracked.done,
            "keys": [list(k) for k in keys],
        },
        separators=(",", ":"),
    )


def _decode(raw: bytes | str) -> tuple[Tracked, list[tuple[str, str]]]:
    d: dict[str, Any] = json.loads(raw)
    tracked = Tracked(
        message_id=d["id"],
        channel=ChannelKind(d["ch"]),
        gateway=d["gw"],
        remote_ids=tuple(d["rids"]),
        deadline=datetime.fromisoformat(d["deadline"]),
        part_states={k: DeliveryState(v) for k, v in d["parts"].items()},
        done=d["done"],
    )
    return tracked, [(g, k) for g, k in d["keys"]]


class RedisReceiptStore:
    """``ReceiptStore`` on Redis. Give a ``redis.Redis`` client or a URL."""

    def __init__(
        self,
        client: redis.Redis | None = None,
        *,
        url: str | None = None,
        namespace: str = "receipts",
        timeout: float = 5.0,
    ) -> None:
        if (client is None) == (url is None):
            raise ValueError("RedisReceiptStore needs exactly one of client= or url=")
        self._owned = client is None
        self.client: redis.Redis = client or redis.Redis.from_url(
            str(url), socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._ns = namespace
        self._due = f"{{{namespace}}}:due"

    def _record(self, message_id: str) -> str:
        return f"{self._ns}:m:{{{message_id}}}"

    def _index(self, gateway: str, key: str) -> str:
        return f"{self._ns}:k:{{{gateway}\x1f{key}}}"

    def _ttl_ms(self, tracked: Tracked) -> int:
        left = tracked.deadline + KEEP_AFTER_DEADLINE - datetime.now(tracked.deadline.tzinfo)
        return max(1000, int(left.total_seconds() * 1000))

    def add(self, tracked: Tracked, keys: list[tuple[str, str]]) -> None:
        ttl = self._ttl_ms(tracked)
        with _guard():
            pipe = self.client.pipeline(transaction=False)
            pipe.set(self._record(tracked.message_id), _encode(tracked, keys), px=ttl)
            for gateway, key in keys:
                pipe.set(self._index(gateway, key), tracked.message_id, px=ttl)
            pipe.zadd(self._due, {tracked.message_id: tracked.deadline.timestamp()})
            pipe.execute()

    def _load(self, message_id: str) -> tuple[Tracked, list[tuple[str, str]]] | None:
        with _guard():
            raw = self.client.get(self._record(message_id))
        return _decode(raw) if raw is not None else None

    def lookup(self, gateway: str, key: str) -> Tracked | None:
        with _guard():
            mid = self.client.get(self._index(gateway, key))
        if mid is None:
            return None
        return self.get(mid.decode() if isinstance(mid, bytes) else str(mid))

    def get(self, message_id: str) -> Tracked | None:
        found = self._load(message_id)
        return found[0] if found else None

    def update(self, tracked: Tracked) -> None:
        found = self._load(tracked.message_id)
        keys = found[1] if found else []
        with _guard():
            record = _encode(tracked, keys)
            self.client.set(self._record(tracked.message_id), record, px=self._ttl_ms(tracked))

    def due(self, now: datetime) -> list[Tracked]:
        with _guard():
            found = self.client.zrangebyscore(self._due, "-inf", now.timestamp(), start=0, num=DUE_BATCH)
            mids = [m.decode() if isinstance(m, bytes) else str(m) for m in found]
            if not mids:
                return []
            pipe = self.client.pipeline(transaction=False)
            for mid in mids:
                pipe.zrem(self._due, mid)
            taken = pipe.execute()
        out: list[Tracked] = []
        for mid, won in zip(mids, taken, strict=True):
            if won:
                tracked = self.get(mid)
                if tracked is not None and not tracked.done:
                    out.append(tracked)
        return out

    def remove(self, message_id: str) -> None:
        found = self._load(message_id)
        with _guard():
            pipe = self.client.pipeline(transaction=False)
            pipe.delete(self._record(message_id))
            for gateway, key in found[1] if found else []:
                pipe.delete(self._index(gateway, key))
            pipe.zrem(self._due, message_id)
            pipe.execute()

    def close(self) -> None:
        if self._owned:
            self.client.close()
