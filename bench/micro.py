"""Per-message costs of the sans-IO SMPP core, one function at a time: ``python -m bench.micro``.

The figures say how fast the whole path is; this says what its core pieces cost per message, without
sockets or an event loop, so a change to the codec, the connection or the receipt tracker can be
measured before and after on a busy machine: each case runs interleaved with the others in several
rounds and reports its best round (the least disturbed), next to the machine reference.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench.table import machine_reference
from channels import ChannelKind, ReceiptTracker
from channels.results import DeliveryReceipt, DeliveryState, SendResult
from channels.smpp import pdu as codec
from channels.smpp.connection import Role, SessionConfig, SmppConnection, State
from channels.smpp.constants import CommandId, EsmClass, Tag
from channels.smpp.dlr import format_receipt_text

C = CommandId
BATCH = 64  # PDUs per read, as at window 64


def submit() -> codec.Pdu:
    return codec.make(
        C.SUBMIT_SM, source_addr_ton=1, source_addr_npi=1, source_addr="12345", dest_addr_ton=1,
        dest_addr_npi=1, destination_addr="8613800000000", registered_delivery=1, short_message=b"hi",
    )  # fmt: skip


def receipt(seq: int, message_id: str) -> bytes:
    now = datetime(2026, 11, 23, 15, 40, tzinfo=UTC)
    text = format_receipt_text(id=message_id, stat="DELIVRD", err="000", submit_date=now, done_date=now)
    pdu = codec.make(
        C.DELIVER_SM, sequence=seq, source_addr="8613800000000", destination_addr="12345",
        esm_class=EsmClass.SMSC_DELIVERY_RECEIPT, short_message=text.encode("ascii"),
        tlvs={Tag.RECEIPTED_MESSAGE_ID: message_id.encode() + b"\0", Tag.MESSAGE_STATE: b"\x02"},
    )  # fmt: skip
    return codec.encode(pdu)


def resp(seq: int, message_id: str) -> bytes:
    return codec.encode(codec.Pdu(C.SUBMIT_SM_RESP, seq, 0, {"message_id": message_id}))


def bound(role: Role) -> SmppConnection:
    conn = SmppConnection(role, SessionConfig(window=512, enquire_link_interval=30, inactivity_timeout=0))
    conn.state = State.BOUND_TRX
    return conn


def esme_round_trip() -> Callable[[], int]:
    """ESME: queue BATCH submits, read BATCH resps + BATCH receipts in one chunk (and answer them)."""
    conn = bound(Role.ESME)
    sub = submit()
    answers = b"".join(
        resp(i + 1, f"{0x1000 + i:X}") + receipt(90_000 + i, f"{0x1000 + i:X}") for i in range(BATCH)
    )

    def run() -> int:
        conn._seq = 0
        for _ in range(BATCH):
            conn.send_request(sub, 0.0)
        conn.data_to_send()
        for ev in conn.receive_data(answers, 0.0):
            pdu = getattr(ev, "pdu", None)
            if pdu is not None and pdu.command_id == C.DELIVER_SM:
                conn.respond(pdu, 0, message_id="")
            conn.get_timer()
        conn.data_to_send()
        return BATCH

    return run


def smsc_round_trip() -> Callable[[], int]:
    """SMSC: read BATCH submits in one chunk, answer each, send BATCH receipts, read their resps."""
    conn = bound(Role.SMSC)
    sub = submit()
    chunk = b"".join(codec.encode(codec.Pdu(C.SUBMIT_SM, i + 1, 0, sub.params)) for i in range(BATCH))
    rec = codec.decode(receipt(1, "1000"))
    acks = b"".join(
        codec.encode(codec.Pdu(C.DELIVER_SM_RESP, i + 1, 0, {"message_id": ""})) for i in range(BATCH)
    )

    def run() -> int:
        conn._seq = 0
        for ev in conn.receive_data(chunk, 0.0):
            conn.respond(ev.pdu, 0, message_id="1000")  # type: ignore[union-attr]
        for _ in range(BATCH):
            conn.send_request(rec, 0.0)
        conn.data_to_send()
        conn.receive_data(acks, 0.0)
        return BATCH

    return run


def tracker_cycle() -> Callable[[], int]:
    """ReceiptTracker: register BATCH accepted messages, then correlate their receipts."""
    now = datetime.now(UTC)
    results = [
        SendResult(
            message_id=f"m{i}", channel=ChannelKind.SMS, remote_ids=(f"{0x1000 + i:X}",), accepted_at=now
        )
        for i in range(BATCH)
    ]
    receipts = [
        DeliveryReceipt(channel=ChannelKind.SMS, state=DeliveryState.DELIVERED, remote_id=r.remote_ids[0],
                        at=now, gateway="smpp")
        for r in results
    ]  # fmt: skip

    make = ReceiptTracker  # bound now: an A/B run swaps the module's names between factories

    def run() -> int:
        tracker = make()
        for r in results:
            tracker.register("smpp", r, now)
        for rec in receipts:
            tracker.on_receipt(rec, now)
        return BATCH

    return run


def codec_case(what: str) -> Callable[[], int]:
    sub = submit()
    raw_resp, raw_receipt = resp(7, "1A2B3C"), receipt(8, "1A2B3C")
    encode, decode = codec.encode, codec.decode  # bound now (see tracker_cycle)

    def enc() -> int:
        for _ in range(BATCH):
            encode(sub)
        return BATCH

    def dec() -> int:
        for _ in range(BATCH):
            decode(raw_resp)
            decode(raw_receipt)
        return BATCH

    return enc if what == "encode" else dec


CASES: dict[str, Callable[[], Callable[[], int]]] = {
    "encode submit_sm": lambda: codec_case("encode"),
    "decode submit_sm_resp + receipt": lambda: codec_case("decode"),
    "ESME: submit, resp, receipt (connection)": esme_round_trip,
    "SMSC: submit, resp, receipt (connection)": smsc_round_trip,
    "ReceiptTracker: register + correlate": tracker_cycle,
}


def measure(rounds: int, seconds: float) -> dict[str, float]:
    """Best µs per message of each case over ``rounds`` interleaved rounds of ``seconds`` each."""
    runs = {name: make() for name, make in CASES.items()}
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            n, t0 = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - t0) < seconds:
                n += run()
            best[name] = min(best[name], elapsed / n * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.3)
    args = parser.parse_args()
    ref = machine_reference()
    results = measure(args.rounds, args.seconds)
    print(f"machine reference: {ref:.1f} µs (about 8 µs on an idle core); best of {args.rounds} rounds")
    for name, us in results.items():
        print(f"  {us:8.2f} µs/msg  {name}")


if __name__ == "__main__":
    main()
