"""The SMSC simulator's fast path: a plain submit_sm answered straight from its octets.

Under load nearly every PDU an SMSC sees is one of two: a submit_sm of one part asking for a receipt,
and the deliver_sm_resp that answers the receipt. Decoded the general way each becomes a ``Pdu`` with
two dicts, an event, a dispatch, and the receipt a ``Pdu`` encoded again: most of the simulator's CPU.
Here the connection offers each whole frame of a read to :meth:`FastPath.on_frame` before decoding it
(:attr:`SmppConnection.frame_hook`), and this path takes exactly these frames:

* a **deliver_sm_resp** of 17 octets (its message_id empty, §4.6.2) answering a deliver_sm we sent,
  while nothing waits for window credit: :meth:`SmppConnection.settle_response` returns the credit,
  which is all the general path does with it;
* a **submit_sm** (§4.4.1) with command_status 0 on a transceiver bind, whose body ends with its
  short_message (no TLVs, so no SAR, no message_payload, no ports) and whose esm_class has no UDHI (no
  UDH): a message in one part, so nothing to reassemble. Its fields are read with the codec's
  layout and limits (``bytes.index`` within each C-Octet string's size); anything malformed raises,
  and the frame goes to the general path, which reports it. It is taken only when the scenario is
  plain (no response latency, no receipt delay, no receipt before the response, no ACCEPTD first, no
  scripted errors, throttling, drops or stalls) and, if it may ask for a receipt, when the receipt
  can go out at once on this bind (window credit, nothing queued before it).

For such a submit it does what :meth:`SmscSimulator._on_submit` does, in the same order and with the
same helpers (``_accept``, :func:`one_part_row`, :class:`Receipts`): counts it, draws its outcome,
records what the handset shows, writes the submit_sm_resp, then the receipt, whose body
:meth:`Receipts.body` assembles from the submit's own address octets. Every other frame, and every
frame of a read after one that produced an event (so answers keep the frames' order), takes the
general path. ``tests/unit/test_smsc_fast_path.py`` runs the same traffic both ways and checks the same
octets and records come out.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from channels.smpp.connection import State
from channels.smpp.constants import CommandId, EsmClass
from channels.smpp.encoding import decode_text
from simulators.smsc_receipts import ascii_preview, wants_receipt
from simulators.smsc_record import one_part_row

if TYPE_CHECKING:
    from simulators.smsc import SmscSimulator
    from simulators.smsc_session import _Session

_HEADER = struct.Struct(">IIII").unpack_from  # command_length, command_id, command_status, sequence
_SUBMIT_SM = int(CommandId.SUBMIT_SM)
_DELIVER_SM = int(CommandId.DELIVER_SM)
_DELIVER_SM_RESP = int(CommandId.DELIVER_SM_RESP)
_UDHI = int(EsmClass.UDHI)
_TRX = State.BOUND_TRX


def plain_scenario(sim: SmscSimulator) -> bool:
    """Whether the scenario lets submits take the fast path (see the module docstring)."""
    sc = sim.scenario
    return (
        sc.response_latency <= 0
        and not sc.error_every
        and sc.max_tps <= 0
        and not sc.drop_after
        and not sc.stall_after
        and (not sc.receipts or (sc.receipt_delay <= 0 and not sc.receipt_first and not sc.acceptd_first))
    )


class FastPath:
    """One session's fast path; ``on_frame`` is its connection's frame hook."""

    __slots__ = ("conn", "receipts", "session", "sim", "submits")

    def __init__(self, sim: SmscSimulator, session: _Session) -> None:
        self.sim = sim
        self.session = session
        self.conn = session.conn
        self.submits = plain_scenario(sim)
        self.receipts = sim.scenario.receipts

    def on_frame(self, frame: bytes, now: float) -> bool:
        """True when the frame was handled here; False (nothing changed) for the general path."""
        _, command_id, status, sequence = _HEADER(frame)
        conn, session = self.conn, self.session
        if command_id == _DELIVER_SM_RESP:
            return (
                len(frame) == 17
                and frame[16] == 0
                and not session.outq
                and conn.settle_response(command_id, sequence)
            )
        if command_id != _SUBMIT_SM or status or not self.submits or conn.state is not _TRX:
            return False
        try:  # the submit_sm body, SMPP v3.4 §4.4.1, within the codec's field sizes
            service_end = frame.index(0, 16, 22)  # service_type, C-Octet of up to 6
            source = service_end + 1  # source_addr_ton, source_addr_npi, source_addr (21)
            destination = frame.index(0, source + 2, source + 23) + 1  # the same three (21)
            esm_at = frame.index(0, destination + 2, destination + 23) + 1
            esm_class = frame[esm_at]  # then protocol_id, priority_flag
            schedule_end = frame.index(0, esm_at + 3, esm_at + 20)  # schedule_delivery_time (17)
            tail = frame.index(0, schedule_end + 1, schedule_end + 18) + 1  # validity_period (17)
            registered, data_coding, length = frame[tail], frame[tail + 2], frame[tail + 4]
        except (ValueError, IndexError):
            return False
        if tail + 5 + length != len(frame) or esm_class & _UDHI:
            return False  # TLVs follow, a UDH leads, or the frame is malformed
        receipt = self.receipts and registered & 0x03
        if receipt and (session.outq or conn.credit <= 0 or session.proto.closed):
            return False
        sim = self.sim
        sim.submits += 1
        session.submits += 1
        number, message_id, state = sim._accept()
        wall = sim.clock.time()  # received_at, and the receipt's submit and done dates
        text = decode_text(frame[tail + 5 :], data_coding)
        source_addr = frame[source + 2 : destination - 1].decode("latin-1")
        destination_addr = frame[destination + 2 : esm_at - 1].decode("latin-1")
        sim.recorder.record_row(
            one_part_row(
                conn.peer_system_id if session.account is not None else None,
                source_addr,
                destination_addr,
                data_coding,
                esm_class,
                frame[16:service_end].decode("latin-1"),
                text,
                message_id,
                state,
                length,
                sim.clock.iso(wall),
            )
        )
        if sim._replies.rate:
            sim._maybe_reply(session, source_addr, destination_addr)
        if session.unanswered >= sim.max_outstanding:
            sim.max_outstanding = session.unanswered + 1
        conn.respond_ok_to(command_id, sequence, message_id)
        if receipt and wants_receipt(registered, state):
            body = sim._receipts.body(
                frame[destination:esm_at] + frame[source:destination],
                number,
                message_id,
                state,
                wall,
                ascii_preview(text),
            )
            conn.send_request_body(_DELIVER_SM, body, now)
            sim.receipts_sent += 1
        return True
