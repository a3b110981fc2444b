"""Figure 4's first peer: an asyncio ESME built the straightforward way on smpplib's codec.

``python -m bench.smpplib_esme --port N --messages M --warmup W --window 64``. What a developer writes
in an afternoon with the library the user picked: an asyncio Protocol, ``smpplib.smpp.make_pdu(...)
.generate()`` to encode, ``smpplib.smpp.parse_pdu`` to decode, one future per request matched by
sequence number, ``window`` worker tasks, every deliver_sm answered, and each receipt's
receipted_message_id correlated to the message it reports on. No policies. Same result line as the
other loads, so its rate sits beside our client's in one table.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from typing import Any

import smpplib.consts
import smpplib.smpp

from bench.proc import RawProtocol, cpu_seconds, emit, run_esme

logging.getLogger("smpplib").setLevel(logging.ERROR)


class Sequence:
    """What smpplib's PDUs ask of a client: the next sequence number."""

    def __init__(self) -> None:
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence = self.sequence % 0x7FFFFFFF + 1
        return self.sequence


class SmpplibEsme(RawProtocol):
    def __init__(self) -> None:
        self.seq = Sequence()
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.by_remote: dict[bytes, int] = {}
        self.parked: set[bytes] = set()
        self.correlated = 0
        self.buf = b""
        self.progress = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= 4:
            length = int.from_bytes(self.buf[:4], "big")
            if len(self.buf) < length:
                break
            raw, self.buf = self.buf[:length], self.buf[length:]
            self.handle(smpplib.smpp.parse_pdu(raw, client=self.seq))

    def handle(self, pdu: Any) -> None:
        if pdu.command == "deliver_sm":
            resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=self.seq)
            resp.sequence = pdu.sequence
            self.write(resp)
            self.on_receipt(bytes(pdu.receipted_message_id or b"").rstrip(b"\0"))
        elif pdu.command == "enquire_link":
            resp = smpplib.smpp.make_pdu("enquire_link_resp", client=self.seq)
            resp.sequence = pdu.sequence
            self.write(resp)
        else:
            fut = self.pending.pop(pdu.sequence, None)
            if fut is not None and not fut.done():
                fut.set_result(pdu)

    def on_receipt(self, remote: bytes) -> None:
        if self.by_remote.pop(remote, None) is not None:
            self.correlated += 1
            self.progress.set()
        else:
            self.parked.add(remote)

    def write(self, pdu: Any) -> None:
        assert self.transport is not None
        self.transport.write(pdu.generate())

    async def request(self, pdu: Any) -> Any:
        fut = asyncio.get_running_loop().create_future()
        self.pending[pdu.sequence] = fut
        self.write(pdu)
        return await fut

    async def submit(self, index: int) -> bool:
        pdu = smpplib.smpp.make_pdu(
            "submit_sm",
            client=self.seq,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="12345",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=str(8613800000000 + index),
            short_message=b"hi",
            registered_delivery=1,
        )
        resp = await self.request(pdu)
        if resp.status != smpplib.consts.SMPP_ESME_ROK:
            return False
        remote = bytes(resp.message_id).rstrip(b"\0")
        if remote in self.parked:
            self.parked.discard(remote)
            self.correlated += 1
        else:
            self.by_remote[remote] = index
        return True

    async def send_all(self, first: int, count: int, window: int, timeout: float) -> int:
        indexes = iter(range(first, first + count))
        sent = 0

        async def worker() -> None:
            nonlocal sent
            for index in indexes:
                accepted = await self.submit(index)  # (not `sent += await`: that loses updates)
                sent += accepted

        target = self.correlated + count
        await asyncio.gather(*(worker() for _ in range(window)))
        target -= count - sent
        while self.correlated < target:
            self.progress.clear()
            await asyncio.wait_for(self.progress.wait(), timeout)
        return sent


async def run(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    _, esme = await loop.create_connection(SmpplibEsme, "127.0.0.1", args.port)
    bind = smpplib.smpp.make_pdu("bind_transceiver", client=esme.seq, system_id="bench", password="secret")
    resp = await asyncio.wait_for(esme.request(bind), 10)
    if resp.status:
        raise SystemExit(f"bind refused: {resp.status:#x}")
    await esme.send_all(0, args.warmup, args.window, args.timeout)
    emit(event="timed")
    before = esme.correlated
    t0, c0 = time.perf_counter(), cpu_seconds()
    sent = await esme.send_all(args.warmup, args.messages, args.window, args.timeout)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return {
        "messages": args.messages,
        "sent": sent,
        "refused": args.messages - sent,
        "receipts": esme.correlated - before,
        "seconds": wall,
        "cpu": cpu,
    }


def main() -> None:
    run_esme(__doc__ or "", run)


if __name__ == "__main__":
    main()
