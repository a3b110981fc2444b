"""Figure 7: bytes per in-flight message and per receipt awaiting correlation (tracemalloc).

``python -m bench.memory --port N`` against an SMSC that holds every submit_sm_resp back
(``bench.servers smsc --latency 60 --no-receipts``), in the client's process:

* **in flight**: ``window`` (512, the most SMPP allows here) messages are handed over and the bind's
  window fills; the traced memory that appeared, divided by the number of messages, is what one
  unanswered submit costs. Twice: one ``SmppClient.send`` task per message (task and coroutine frames,
  PDU, future, window entry), and ``Dispatcher.send_many`` (the bulk path, no policies). The
  ``Message`` objects are made before the first snapshot: they are the caller's.
* **receipt awaiting correlation**: ``ReceiptTracker.register`` of accepted messages (one hex remote id
  each, as our SMSC answers), the ``SendResult`` dropped afterwards as the Dispatcher drops it: what
  stays is the tracker's entry, its keys and index.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from bench.proc import emit, quiet_logging
from bench.smpp_load import client_for
from channels import ChannelKind, Dispatcher, Message, ReceiptTracker, Text
from channels.message import new_message_id
from channels.results import Outcome, SendResult
from channels.smpp.link import SmppLink


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def in_flight(port: int, window: int, path: str) -> float:
    """Bytes per message while ``window`` messages wait for their submit_sm_resp, sent one
    ``SmppClient.send`` task each (``send``) or through ``Dispatcher.send_many`` (``send_many``)."""
    batch = [
        Message(to=f"+86138{i:08d}", kind=ChannelKind.SMS, content=Text(body="hi"), id=new_message_id())
        for i in range(window)
    ]
    async with client_for(port, window) as client, Dispatcher([client]) as dispatcher:
        link = client.links[0]
        tracemalloc.start()
        before = _traced()
        tasks: list[asyncio.Task[Any]]
        if path == "send":
            tasks = [asyncio.create_task(client.send(m)) for m in batch]
        else:
            tasks = [asyncio.create_task(_drain(dispatcher.send_many(batch, concurrency=window)))]
        await _window_full(link, window)
        after = _traced()
        tracemalloc.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.aclose(drain_timeout=0.0)
    return (after - before) / window


async def _drain(outcomes: AsyncIterator[Outcome]) -> None:
    async for _ in outcomes:
        pass


async def _window_full(link: SmppLink, window: int) -> None:
    for _ in range(1000):  # at most 10 s for the window to fill
        if link.load >= window:
            break
        await asyncio.sleep(0.01)
    else:
        raise SystemExit(f"only {link.load} of {window} messages went in flight")
    await asyncio.sleep(0.05)  # the writes are flushed, the window is full and quiet


def awaiting_receipts(count: int) -> float:
    tracker = ReceiptTracker()
    now = datetime.now(UTC)
    tracemalloc.start()
    before = _traced()
    for i in range(count):
        result = SendResult(
            message_id=new_message_id(),
            channel=ChannelKind.SMS,
            remote_ids=(format(0x10000 + i, "X"),),
            accepted_at=now,
            parts=1,
        )
        tracker.register("smpp", result, now)
    after = _traced()
    tracemalloc.stop()
    return (after - before) / count


async def run(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "in_flight_bytes": await in_flight(args.port, args.window, "send"),
        "in_flight_many_bytes": await in_flight(args.port, args.window, "send_many"),
        "receipt_bytes": awaiting_receipts(args.receipts),
        "window": args.window,
        "receipts": args.receipts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--receipts", type=int, default=20_000)
    args = parser.parse_args()
    quiet_logging()
    emit(**asyncio.run(run(args)))


if __name__ == "__main__":
    main()
