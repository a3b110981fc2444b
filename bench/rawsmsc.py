"""A raw SMSC that costs almost nothing per message: ``python -m bench.rawsmsc`` (figure 3's server for
SMPP clients).

Our client against our own simulator measures the slower of the two; against this server it measures
the client alone, the way the ceilings of figure 3 measure asyncio alone. Per read it walks the PDU
headers and, for each submit_sm, writes its submit_sm_resp (message id = a counter in hex) and a
deliver_sm delivery receipt for it (SMPP 3.4 §4.6.1, esm_class 0x04) carrying both the receipt text of
Appendix B and the receipted_message_id / message_state TLVs (§5.3.2.12, §5.3.2.35), all from
prepared templates, in one write. deliver_sm_resp are counted, bind and enquire_link answered. The
submit_sm bodies are not decoded: this is a ceiling server, not a simulator.
"""

from __future__ import annotations

import asyncio
import struct
import time
from typing import Any

from bench.proc import RawProtocol, cpu_seconds, emit, peak_rss_kib, quiet_logging, until_stdin_closes

_HEADER = struct.Struct(">IIII")
RESP = 0x80000000
SUBMIT_SM, DELIVER_SM, ENQUIRE_LINK, UNBIND = 0x04, 0x05, 0x15, 0x06
BINDS = (0x01, 0x02, 0x09)
DELIVER_SM_RESP = DELIVER_SM | RESP


def _receipt_body(remote_id: bytes, date: bytes) -> bytes:
    text = (
        b"id:"
        + remote_id
        + b" sub:001 dlvrd:001 submit date:"
        + date
        + b" done date:"
        + date
        + b" stat:DELIVRD err:000 text:hi"
    )
    return (
        b"\0"  # service_type
        + b"\x01\x01"
        + b"8613800000000\0"  # source: the subscriber
        + b"\x01\x01"
        + b"12345\0"  # destination: the sender
        + b"\x04\x00\x00"  # esm_class: SMSC delivery receipt; protocol_id; priority
        + b"\0\0"  # schedule, validity
        + b"\x00\x00\x00\x00"  # registered_delivery, replace, data_coding, default_msg_id
        + bytes((len(text),))
        + text
        + struct.pack(">HH", 0x001E, len(remote_id) + 1)
        + remote_id
        + b"\0"  # receipted_message_id
        + struct.pack(">HHB", 0x0427, 1, 2)  # message_state DELIVERED
    )


class RawSmsc(RawProtocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.buf = b""
        self.seq = 0

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        pos, end = 0, len(buf)
        out: list[bytes] = []
        pack, unpack = _HEADER.pack, _HEADER.unpack_from
        date = time.strftime("%y%m%d%H%M").encode()
        server = self.server
        while end - pos >= 16:
            length, cid, _status, seq = unpack(buf, pos)
            if length < 16 or end - pos < length:
                break
            if cid == SUBMIT_SM:
                server.count += 1
                remote_id = b"%x" % server.count
                out.append(pack(17 + len(remote_id), SUBMIT_SM | RESP, 0, seq) + remote_id + b"\0")
                body = _receipt_body(remote_id, date)
                self.seq += 1
                out.append(pack(16 + len(body), DELIVER_SM, 0, self.seq) + body)
            elif cid == DELIVER_SM_RESP:
                server.receipts_answered += 1
            elif cid in BINDS:
                out.append(pack(24, cid | RESP, 0, seq) + b"rawsmsc\0")
            elif cid in (ENQUIRE_LINK, UNBIND):
                out.append(pack(16, cid | RESP, 0, seq))
            pos += length
        self.buf = buf[pos:]
        if out and self.transport is not None:
            self.transport.write(b"".join(out))


class Server:
    def __init__(self) -> None:
        self.count = 0
        self.receipts_answered = 0


async def serve() -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    server = Server()
    listener = await loop.create_server(lambda: RawSmsc(server), "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    emit(port=port, url=f"smpp://bench:secret@127.0.0.1:{port}")
    await until_stdin_closes()
    listener.close()
    return {"submits": server.count, "receipts_answered": server.receipts_answered}


def main() -> None:
    quiet_logging()
    stats = asyncio.run(serve())
    emit(cpu=cpu_seconds(), rss_kib=peak_rss_kib(), stats=stats)


if __name__ == "__main__":
    main()
