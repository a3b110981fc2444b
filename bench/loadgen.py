"""The one load generator both SMSCs of figure 2 face: a raw SMPP ESME with almost no per-message work.

``python -m bench.loadgen --port N --messages M --warmup W --window 64``. It binds as transceiver,
keeps ``window`` submit_sm in flight (each asks for a receipt), and per read: walks the PDU headers,
counts submit_sm_resp, answers every deliver_sm with a deliver_sm_resp, then tops the window up, all in
one write. The submit_sm bytes are built once (SMPP 3.4 §4.4.1) and only the sequence number changes,
so the generator costs a few µs per message and the SMSC under test is what limits the run. It checks
statuses, not message ids: correlating receipts is the clients' figure, not the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import time
from typing import Any

from bench.proc import RawProtocol, cpu_seconds, emit

_HEADER = struct.Struct(">IIII")
BIND_TRANSCEIVER, BIND_TRANSCEIVER_RESP = 0x00000009, 0x80000009
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
GENERIC_NACK = 0x80000000


def bind_pdu(system_id: str, password: str) -> bytes:
    body = system_id.encode() + b"\0" + password.encode() + b"\0" + b"\0" + bytes((0x34, 0, 0)) + b"\0"
    return _HEADER.pack(16 + len(body), BIND_TRANSCEIVER, 0, 1) + body


def submit_body(text: bytes = b"hi") -> bytes:
    # service_type, source (ton 1, npi 1), destination (ton 1, npi 1), esm_class, protocol_id,
    # priority, schedule, validity, registered_delivery=1, replace, data_coding, default_msg_id, sm
    return (
        b"\0"
        + bytes((1, 1))
        + b"12345\0"
        + bytes((1, 1))
        + b"8613800000000\0"
        + bytes((0, 0, 0))
        + b"\0\0"
        + bytes((1, 0, 0, 0, len(text)))
        + text
    )


class LoadGen(RawProtocol):
    def __init__(self, total: int, window: int) -> None:
        self.total, self.window = total, window
        self.body = submit_body()
        self.length = 16 + len(self.body)
        self.seq = 1
        self.sent = self.answered = self.refused = self.receipts = 0
        self.limit = 0  # submits allowed so far (the warm-up first, then all)
        self.buf = bytearray()
        self.bound: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        for fut in (self.bound, self.done):
            if not fut.done():
                fut.set_exception(ConnectionError(f"SMSC closed the connection: {exc}"))

    def phase(self, limit: int) -> asyncio.Future[None]:
        self.limit = limit
        self.done = asyncio.get_running_loop().create_future()
        self.top_up([])
        return self.done

    def top_up(self, out: list[bytes]) -> None:
        n = min(self.window - (self.sent - self.answered), self.limit - self.sent)
        pack, body, length = _HEADER.pack, self.body, self.length
        for _ in range(max(0, n)):
            self.seq += 1
            out.append(pack(length, SUBMIT_SM, 0, self.seq))
            out.append(body)
        self.sent += max(0, n)
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos, end = 0, len(buf)
        out: list[bytes] = []
        while end - pos >= 16:
            length, cid, status, seq = _HEADER.unpack_from(buf, pos)
            if end - pos < length:
                break
            if cid in (SUBMIT_SM_RESP, GENERIC_NACK):
                self.answered += 1
                self.refused += status != 0
            elif cid == DELIVER_SM:
                self.receipts += 1
                out.append(_HEADER.pack(17, DELIVER_SM_RESP, 0, seq) + b"\0")
            elif cid == ENQUIRE_LINK:
                out.append(_HEADER.pack(16, ENQUIRE_LINK_RESP, 0, seq))
            elif cid == BIND_TRANSCEIVER_RESP and not self.bound.done():
                if status:
                    self.bound.set_exception(ConnectionError(f"bind refused: {status:#x}"))
                else:
                    self.bound.set_result(None)
            pos += length
        del buf[:pos]
        self.top_up(out)
        finished = self.answered >= self.limit and self.receipts >= self.answered - self.refused
        if finished and not self.done.done():
            self.done.set_result(None)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    _, gen = await loop.create_connection(
        lambda: LoadGen(args.warmup + args.messages, args.window), "127.0.0.1", args.port
    )
    assert gen.transport is not None
    gen.transport.write(bind_pdu("bench", "secret"))
    await asyncio.wait_for(gen.bound, 10)
    await asyncio.wait_for(gen.phase(args.warmup), args.timeout)
    emit(event="timed")
    answered, receipts, refused = gen.answered, gen.receipts, gen.refused
    t0, c0 = time.perf_counter(), cpu_seconds()
    await asyncio.wait_for(gen.phase(args.warmup + args.messages), args.timeout)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    gen.transport.close()
    return {
        "messages": args.messages,
        "sent": gen.answered - answered - (gen.refused - refused),
        "refused": gen.refused - refused,
        "receipts": gen.receipts - receipts,
        "seconds": wall,
        "cpu": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=120.0)
    emit(**asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
