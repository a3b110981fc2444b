"""Four worker processes, one Redis: the same 10 000-message target list is sent exactly once, and
the shared rate limit holds across them.

Each worker (this module run as ``python -m tests.integration.test_throttle_redis_workers``) reads
the whole list in chunks through the default pipeline on the Redis store (idempotency + a global
rate limit), "sends" what is allowed by recording it with its wall time, and holds rate-deferred
messages until their reserved slot, as ``send_many`` does. The parent checks the union of the four
records.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from channels import Allow, ChannelKind, Defer, Message, Text
from tests.conftest import RedisServer
from throttle import RateLimit, RedisStore, default_pipeline

WORKERS = 4
MESSAGES = 10_000
RATE = 4_000.0
CHUNK = 250
ROOT = Path(__file__).resolve().parents[2]


def targets() -> list[Message]:
    return [
        Message(to=f"+86138{i:08d}", kind=ChannelKind.SMS, content=Text(body="hi"), id=f"job1-{i}")
        for i in range(MESSAGES)
    ]


async def work(url: str, namespace: str) -> dict[str, object]:
    store = RedisStore(url=url, namespace=namespace)
    pipeline = default_pipeline(store, limits=[RateLimit(RATE)])
    todo = targets()
    held: list[tuple[datetime, int, Message]] = []
    sent: list[tuple[float, str]] = []
    rejected = 0
    pos = 0
    order = itertools.count()  # a unique tie-breaker: equal times must never compare Messages
    try:
        while pos < len(todo) or held:
            now = datetime.now(UTC)
            batch = []
            while held and held[0][0] <= now and len(batch) < CHUNK:
                batch.append(heapq.heappop(held)[2])
            if not batch and pos < len(todo):
                batch, pos = todo[pos : pos + CHUNK], pos + CHUNK
            if not batch:
                await asyncio.sleep(max(0.0, (held[0][0] - now).total_seconds()))
                continue
            for m, d in zip(batch, await pipeline.evaluate_many(batch, now), strict=True):
                if isinstance(d, Allow):
                    sent.append((time.time(), m.id))
                elif isinstance(d, Defer):
                    heapq.heappush(held, (d.until, next(order), m))
                else:
                    rejected += 1
    finally:
        await store.aclose()
    return {"sent": sent, "rejected": rejected}


def test_four_workers_send_each_message_once_within_the_shared_rate(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    namespace = f"w{uuid.uuid4().hex[:8]}"
    outputs = [tmp_path / f"worker{i}.json" for i in range(WORKERS)]
    cmd = [sys.executable, "-m", "tests.integration.test_throttle_redis_workers", redis_server.url, namespace]
    procs = [subprocess.Popen([*cmd, str(out)], cwd=ROOT) for out in outputs]
    try:
        codes = [p.wait(timeout=90) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert codes == [0] * WORKERS
    results = [json.loads(out.read_text()) for out in outputs]
    sent = sorted((t, mid) for r in results for t, mid in r["sent"])
    ids = [mid for _, mid in sent]
    assert len(ids) == len(set(ids)) == MESSAGES  # every id exactly once
    assert sum(r["rejected"] for r in results) == MESSAGES * (WORKERS - 1)  # the others saw duplicates
    assert sum(1 for r in results if r["sent"]) >= 2  # the work really was shared
    times = [t for t, _ in sent]
    span = times[-1] - times[0]
    assert span >= (MESSAGES - 1) / RATE * 0.99  # never faster than the shared limit
    # Decisions are exact to the slot (the fake-clock tests check every 100 ms slice); these times
    # are when each process acted on them, which on a shared machine includes its scheduling delay,
    # so here the limit is checked over every one-second window, with room for that delay.
    j = 0
    for i, t in enumerate(times):
        while times[j] < t - 1.0:
            j += 1
        assert i - j + 1 <= RATE * 1.05 + 50, f"{i - j + 1} sends in 1 s at {t - times[0]:.3f}s"


if __name__ == "__main__":
    url, ns, out = sys.argv[1:4]
    result = asyncio.run(work(url, ns))
    Path(out).write_text(json.dumps(result))
