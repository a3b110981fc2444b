"""Figure 6: MM7 submits/s and PAP pushes/s against our MMSC and PPG simulators, in its own process.

``python -m bench.http_load mm7|pap --url GATEWAY_URL --messages M --warmup W --concurrency 64``.
The adapter (``Mm7Client`` / ``PapClient``, keep-alive connection pool of ``concurrency``) sits behind a
:class:`Dispatcher` without policies and gets the messages through ``send_many(concurrency=...)``:
one campaign (one MM, one SI push) to distinct subscribers, no delivery reports or notifications asked,
so the figure is the request/answer path alone. The rate counts messages the gateway accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench.proc import cpu_seconds, emit, peak_rss_kib, quiet_logging
from channels import ChannelKind, Dispatcher, Message, Mm7Client, Mms, PapClient, Sent, Slide, WapPush
from channels.channel import Channel

MMS = Mms(subject="Spring sale", slides=(Slide(text="20% off everything this weekend"),))
PUSH = WapPush(href="http://example.com/promo", text="Weekend offer", si_id="promo-1")


def batch(kind: str, first: int, count: int) -> list[Message]:
    channel, content = (ChannelKind.MMS, MMS) if kind == "mm7" else (ChannelKind.WAP_PUSH, PUSH)
    return [
        Message(to=f"+86138{i:08d}", kind=channel, content=content, id=f"{kind}-{i}", want_receipt=False)
        for i in range(first, first + count)
    ]


def channel_for(kind: str, url: str, concurrency: int) -> Channel:
    if kind == "mm7":
        return Mm7Client.from_url(url, connections=concurrency)
    return PapClient.from_url(url, concurrency=concurrency)


async def send(dispatcher: Dispatcher, messages: list[Message], concurrency: int) -> int:
    accepted = 0
    async for outcome in dispatcher.send_many(messages, concurrency=concurrency):
        accepted += isinstance(outcome, Sent)
    return accepted


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with Dispatcher([channel_for(args.kind, args.url, args.concurrency)]) as dispatcher:
        await send(dispatcher, batch(args.kind, 0, args.warmup), args.concurrency)
        emit(event="timed")
        timed = batch(args.kind, args.warmup, args.messages)
        t0, c0 = time.perf_counter(), cpu_seconds()
        accepted = await send(dispatcher, timed, args.concurrency)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return {
        "messages": args.messages,
        "sent": accepted,
        "refused": args.messages - accepted,
        "seconds": wall,
        "cpu": cpu,
        "rss_kib": peak_rss_kib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["mm7", "pap"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    quiet_logging()
    emit(**asyncio.run(run(args)))


if __name__ == "__main__":
    main()
