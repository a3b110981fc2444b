"""Two raw loopback ceilings (figure 3): what asyncio itself allows, with no SMPP codec at all.

``python -m bench.ceilings server`` answers 16-octet request headers with 16-octet response headers
(command_id | 0x80000000, same sequence), every complete header of a read in one write, the whole read
transformed at C speed (one big-integer OR), so it is never the limit. Two clients, each in its own
process, keep ``window`` requests in flight:

* ``a``: the usual asyncio shape: per request one task, one future and one ``transport.write``; the
  reader resolves the future by sequence number (what a straightforward client pays before any work).
* ``b``: batched: a credit counter, no per-request object; each read's answers are counted and as many
  new requests go out in one write, sliced from headers prepared in advance.

Our client's rate divided by each says what its per-message work costs and how far a batched path
could go. Both print the same JSON result lines as the other loads.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import time
from typing import Any

from bench.proc import RawProtocol, cpu_seconds, emit, until_stdin_closes

_HEADER = struct.Struct(">IIII")
REQUEST = 0x00000015  # enquire_link: a header-only SMPP request
RESPONSE_BIT = 0x80000000


class CeilingServer(RawProtocol):
    masks: dict[int, int] = {}

    def __init__(self) -> None:
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        data = self.buf + data if self.buf else data
        whole = len(data) - len(data) % 16
        self.buf = data[whole:]
        if whole and self.transport is not None:
            self.transport.write(
                (int.from_bytes(data[:whole], "big") | self.mask(whole)).to_bytes(whole, "big")
            )

    @classmethod
    def mask(cls, size: int) -> int:
        """The response bit of every header's command_id in ``size`` octets of headers."""
        mask = cls.masks.get(size)
        if mask is None:
            mask = int.from_bytes(bytes.fromhex("00000000800000000000000000000000") * (size // 16), "big")
            cls.masks[size] = mask
        return mask


class TaskPerRequest(RawProtocol):
    """Ceiling (a)."""

    def __init__(self) -> None:
        self.pending: dict[int, asyncio.Future[None]] = {}
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        data = self.buf + data if self.buf else data
        whole = len(data) - len(data) % 16
        self.buf = data[whole:]
        for pos in range(0, whole, 16):
            _, _, _, seq = _HEADER.unpack_from(data, pos)
            fut = self.pending.pop(seq, None)
            if fut is not None and not fut.done():
                fut.set_result(None)

    async def request(self, seq: int, slots: asyncio.Semaphore) -> None:
        assert self.transport is not None
        fut = asyncio.get_running_loop().create_future()
        self.pending[seq] = fut
        self.transport.write(_HEADER.pack(16, REQUEST, 0, seq))
        try:
            await fut
        finally:
            slots.release()

    async def run(self, first: int, count: int, window: int) -> None:
        slots = asyncio.Semaphore(window)
        tasks: set[asyncio.Task[None]] = set()
        for seq in range(first, first + count):
            await slots.acquire()
            task = asyncio.create_task(self.request(seq, slots))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        for _ in range(window):
            await slots.acquire()


class Batched(RawProtocol):
    """Ceiling (b)."""

    def __init__(self) -> None:
        self.buf = b""
        self.headers = b""
        self.sent = self.answered = self.limit = 0
        self.done: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        data = self.buf + data if self.buf else data
        whole = len(data) - len(data) % 16
        self.buf = data[whole:]
        self.answered += whole // 16
        self.top_up(self.answered + self.window - self.sent)
        if self.answered >= self.limit and self.done is not None and not self.done.done():
            self.done.set_result(None)

    def top_up(self, n: int) -> None:
        n = min(n, self.limit - self.sent)
        if n > 0 and self.transport is not None:
            self.transport.write(self.headers[self.sent * 16 : (self.sent + n) * 16])
            self.sent += n

    async def run(self, first: int, count: int, window: int) -> None:
        self.window = window
        self.limit = first + count - 1
        self.done = asyncio.get_running_loop().create_future()
        self.top_up(window)
        await self.done


def prepare(client: Batched, total: int) -> None:
    client.headers = b"".join(_HEADER.pack(16, REQUEST, 0, seq) for seq in range(1, total + 1))


async def run_client(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    client: TaskPerRequest | Batched
    if args.shape == "a":
        _, client = await loop.create_connection(TaskPerRequest, "127.0.0.1", args.port)
    else:
        _, batched = await loop.create_connection(Batched, "127.0.0.1", args.port)
        prepare(batched, args.warmup + args.messages)
        client = batched
    await client.run(1, args.warmup, args.window)
    emit(event="timed")
    t0, c0 = time.perf_counter(), cpu_seconds()
    await asyncio.wait_for(client.run(args.warmup + 1, args.messages, args.window), args.timeout)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return {"messages": args.messages, "seconds": wall, "cpu": cpu}


async def serve() -> dict[str, Any]:
    server = await asyncio.get_running_loop().create_server(CeilingServer, "127.0.0.1", 0)
    emit(port=server.sockets[0].getsockname()[1])
    await until_stdin_closes()
    server.close()
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("--shape", choices=["a", "b"], default="a")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--warmup", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    if args.role == "server":
        asyncio.run(serve())
        emit(cpu=cpu_seconds())
    else:
        emit(**asyncio.run(run_client(args)))


if __name__ == "__main__":
    main()
