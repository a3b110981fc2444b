"""Our SMS client under load, in its own process: ``python -m bench.smpp_load rate|latency --port N``.

``rate`` (figure 1): one :class:`SmppClient` (window 64) behind a :class:`Dispatcher` running the full
policy pipeline on memory stores (``bench.policies.pipeline_for``: validate, opt-out/blocked, quiet
hours, idempotency, contact cap, rate limits, every stage passed), messages handed over by one of
:data:`PATHS`, and every receipt correlated back to its ``Message.id`` through ``Dispatcher.events()``.
The clock runs from the first timed submit to the last correlated receipt. ``--no-policies`` drops the
pipeline, to show what it costs.

``latency`` (figure 5): messages arrive at a constant rate (one ``Dispatcher.send`` task each, at its
scheduled time); each one's latency runs from its scheduled time (so a stall is not hidden by the sends
it delayed) to its submit_sm_resp, and the run reports percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from bench.policies import message_at, messages, pipeline_for
from bench.proc import cpu_seconds, emit, peak_rss_kib, quiet_logging
from bench.servers import SMSC_ACCOUNT
from channels import SYSTEM_CLOCK, DeliveryReceipt, Dispatcher, FakeClock, Message, Sent
from channels.policy import Policy
from channels.results import Outcome
from channels.smpp import SmppClient
from throttle import MemoryStore

WINDOW = 64

# How a run hands its messages to the library, by name (``--path``). Each yields one Outcome per
# message. A batched fast path is one more line here; every figure and ratio then gets a row for it.
PATHS: dict[str, Callable[[Dispatcher, list[Message]], AsyncIterator[Outcome]]] = {
    "send_many": lambda dispatcher, batch: dispatcher.send_many(batch, concurrency=WINDOW),
}


def client_for(port: int, window: int = WINDOW) -> SmppClient:
    user, password = SMSC_ACCOUNT
    return SmppClient.from_url(f"smpp://{user}:{password}@127.0.0.1:{port}?window={window}")


def dispatcher_for(client: SmppClient, policies: bool) -> Dispatcher:
    # pipeline_for is the policy bench's own pipeline (typed for its FakeClock; any Clock serves).
    chain: list[Policy] = [pipeline_for(MemoryStore(), cast(FakeClock, SYSTEM_CLOCK))] if policies else []
    return Dispatcher([client], policies=chain)


class Receipts:
    """Counts receipts correlated to one of our messages, from ``Dispatcher.events()``."""

    def __init__(self) -> None:
        self.count = 0
        self.uncorrelated = 0
        self._target = 0
        self._reached = asyncio.Event()

    async def consume(self, dispatcher: Dispatcher) -> None:
        async for event in dispatcher.events():
            if isinstance(event, DeliveryReceipt) and event.state.is_final:
                if event.message_id is None:
                    self.uncorrelated += 1
                    continue
                self.count += 1
                if self.count >= self._target:
                    self._reached.set()

    async def wait_for(self, target: int, timeout: float) -> None:
        self._target = target
        if self.count < target:
            self._reached.clear()
            await asyncio.wait_for(self._reached.wait(), timeout)


async def rate(args: argparse.Namespace) -> dict[str, Any]:
    everything = messages(args.warmup + args.messages, f"r{time.monotonic_ns()}")
    warm, timed = everything[: args.warmup], everything[args.warmup :]
    async with client_for(args.port) as client, dispatcher_for(client, not args.no_policies) as dispatcher:
        receipts = Receipts()
        consumer = asyncio.create_task(receipts.consume(dispatcher))
        await _send_all(dispatcher, args.path, warm, receipts, args.timeout)
        emit(event="timed")
        correlated = receipts.count
        t0, c0 = time.perf_counter(), cpu_seconds()
        sent, refused = await _send_all(dispatcher, args.path, timed, receipts, args.timeout)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        consumer.cancel()
    return {
        "messages": len(timed),
        "sent": sent,
        "refused": refused,
        "receipts": receipts.count - correlated,
        "uncorrelated": receipts.uncorrelated,
        "seconds": wall,
        "cpu": cpu,
        "rss_kib": peak_rss_kib(),
    }


async def _send_all(
    dispatcher: Dispatcher, path: str, batch: list[Message], receipts: Receipts, timeout: float
) -> tuple[int, int]:
    before = receipts.count
    sent = refused = 0
    async for outcome in PATHS[path](dispatcher, batch):
        if isinstance(outcome, Sent):
            sent += 1
        else:
            refused += 1
    await receipts.wait_for(before + sent, timeout)
    return sent, refused


async def latency(args: argparse.Namespace) -> dict[str, Any]:
    """Constant arrival rate; latency from each message's scheduled time to its Sent outcome.

    The load generator shares the client's process and core, so it is kept to what a caller must
    do: one task per message, started when the message is due. The messages are made before the
    clock starts, as figure 1's are (made when due, building them was 10% of the process's CPU and
    ``asyncio.gather`` over every task at the end stalled the loop for 100 ms under the last
    messages; a py-spy profile at 3,000/s gave the generator 37% of the CPU in all). ``--gc freeze``
    moves what exists after the warm-up (the modules, the bound client, the pipeline, the prepared
    messages) out of the collector's sight (``gc.freeze()``), as a latency-sensitive Python service
    does after start-up: a full collection then walks only what the run itself makes, not every
    object of aiohttp, structlog and the rest; ``--gc default`` leaves the collector as Python
    starts it."""
    n = int(args.rate * args.duration)
    run = f"l{time.monotonic_ns()}"
    loop = asyncio.get_running_loop()
    async with client_for(args.port) as client, dispatcher_for(client, not args.no_policies) as dispatcher:
        receipts = Receipts()
        consumer = asyncio.create_task(receipts.consume(dispatcher))
        warm = [message_at(i, run) for i in range(args.warmup)]
        await _send_all(dispatcher, "send_many", warm, receipts, args.timeout)
        del warm
        timed = [message_at(args.warmup + i, run) for i in range(n)]
        if args.gc == "freeze":
            gc.collect()
            gc.freeze()
        emit(event="timed")
        c0 = cpu_seconds()
        latencies: list[float] = []
        failures = 0
        finished = loop.create_future()

        async def one(message: Message, due: float) -> None:
            nonlocal failures
            try:
                outcome = await dispatcher.send(message)
            except Exception as exc:  # a failure of the SDK ends the run, loudly
                if not finished.done():
                    finished.set_exception(exc)
                return
            if isinstance(outcome, Sent):
                latencies.append(loop.time() - due)
            else:
                failures += 1
            if len(latencies) + failures == n:
                finished.set_result(None)

        start = loop.time() + 0.01
        interval = 1.0 / args.rate
        if args.feed == "stream":  # one send_many over a source that gives each message when due
            dues = {message.id: start + i * interval for i, message in enumerate(timed)}

            async def arrivals() -> AsyncIterator[Message]:
                for i, message in enumerate(timed):
                    due = start + i * interval
                    if due > loop.time():
                        await asyncio.sleep(due - loop.time())
                    yield message

            async for outcome in dispatcher.send_many(arrivals(), concurrency=WINDOW):
                if isinstance(outcome, Sent):
                    latencies.append(loop.time() - dues[outcome.message.id])
                else:
                    failures += 1
        else:
            tasks: list[asyncio.Task[None]] = []  # held to the end (the loop keeps weak references)
            for i, message in enumerate(timed):
                due = start + i * interval
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                tasks.append(loop.create_task(one(message, due)))
            await asyncio.wait_for(finished, args.timeout)
        seconds, cpu = loop.time() - start, cpu_seconds() - c0
        consumer.cancel()
    latencies.sort()
    return {
        "messages": n,
        "rate": args.rate,
        "achieved": n / seconds,
        "seconds": seconds,
        "cpu": cpu,
        "failures": failures,
        "p50_ms": _pct(latencies, 0.50) * 1e3,
        "p99_ms": _pct(latencies, 0.99) * 1e3,
        "gc": args.gc,
        "feed": args.feed,
        "max_ms": latencies[-1] * 1e3 if latencies else float("nan"),
    }


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["rate", "latency"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", choices=sorted(PATHS), default="send_many")
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--no-policies", action="store_true")
    parser.add_argument("--rate", type=float, default=1_000.0, help="latency: messages per second")
    parser.add_argument("--duration", type=float, default=5.0, help="latency: seconds of arrivals")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument(
        "--gc", choices=["default", "freeze"], default="freeze", help="latency: the collector (see latency())"
    )
    parser.add_argument(
        "--feed",
        choices=["tasks", "stream"],
        default="tasks",
        help="latency: one Dispatcher.send task per message, or one send_many over a timed source",
    )
    args = parser.parse_args()
    quiet_logging()
    emit(**asyncio.run(rate(args) if args.mode == "rate" else latency(args)))


if __name__ == "__main__":
    main()
