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
  layout and limits (one compiled pattern, each C-Octet string within its size); a frame it does
  not match goes to the general path, which reports what is malformed. It is taken only when the scenario is
  plain (no response latency, no receipt before the response, no ACCEPTD first, no drops or stalls;
  scripted errors and throttling are fine) and, if it may ask for a receipt due at once, when the
  receipt can go out on this bind (window credit, nothing queued before it).

For such a submit it does what :meth:`SmscSimulator._on_submit` does, in the same order and with the
same helpers (``_admit``, ``_accept``, :class:`Receipts`): admits it or answers the scripted error,
draws its outcome, records what the handset shows, writes the submit_sm_resp, then the receipt. What
it does per message is cut to what must happen then: the record is the frame itself with the id, the
state and the time (:func:`~simulators.smsc_record.expand_one_part` decodes it with the codec when the
records are read, so it is the general path's record by construction); the receipt's preview is
decoded once per distinct text (a campaign sends one text to many numbers); the receipt body is one
``bytes %`` on a shape per state and second (:meth:`Receipts.body`) with the submit's own address
octets. A receipt after a delay waits in the session's queue of due calls (:meth:`_Session.call_at`,
one timer for all) and, when due, goes out the same way, or as a ``Pdu`` through the general routing
when the window is full or the bind gone. Every other frame, and every frame of a read after one that
produced an event (so answers keep the frames' order), takes the general path.
``tests/unit/test_smsc_fast_path.py`` runs the same traffic both ways and checks that the same octets,
records and counters come out.

One difference shows on the wire: an enquire_link_resp follows the answers to the submits before it
in the same read, where the general path alone answers enquire_link while it decodes, ahead of the
read's requests (SMPP responses are asynchronous: any order is valid).
"""

from __future__ import annotations

import asyncio
import re
import struct
from typing import TYPE_CHECKING

from channels.results import DeliveryState
from channels.smpp import pdu as codec
from channels.smpp.connection import NOT_WAITING, State
from channels.smpp.constants import HEADER_SIZE, CommandId
from channels.smpp.encoding import decode_text
from channels.smpp.pdu import Pdu
from simulators.smsc_receipts import ascii_preview, wants_receipt

if TYPE_CHECKING:
    from simulators.smsc import SmscSimulator
    from simulators.smsc_session import _Session

_HEADER = struct.Struct(">IIII").unpack_from  # command_length, command_id, command_status, sequence
_FRAME = struct.Struct(">IIII").pack
_SUBMIT_SM = int(CommandId.SUBMIT_SM)
_DELIVER_SM = int(CommandId.DELIVER_SM)
_DELIVER_SM_RESP = int(CommandId.DELIVER_SM_RESP)
_TRX = State.BOUND_TRX
# The body of a plain submit_sm (SMPP v3.4 §4.4.1) within the codec's field sizes, read in one call:
# service_type (C-Octet, 6); source_addr_ton, _npi, source_addr (21) [1]; the same three for the
# destination [2]; esm_class without UDHI (0x40: no UDH), protocol_id, priority_flag;
# schedule_delivery_time and validity_period (17 each); registered_delivery [3],
# replace_if_present_flag; data_coding, sm_default_msg_id, sm_length and short_message, to the end
# of the PDU [4] (the preview's key; nothing after short_message: no TLVs). Each C-Octet string is
# its run of non-NUL octets and the NUL: nothing to backtrack into (possessive, so none is tried).
_PLAIN_SUBMIT = re.compile(
    rb"[^\0]{0,5}+\0(..[^\0]{0,20}+\0)(..[^\0]{0,20}+\0)"
    rb"[\x00-\x3f\x80-\xbf]..[^\0]{0,16}+\0[^\0]{0,16}+\0(.).(.{3}.*+)",
    re.DOTALL,
).match
_RECEIVING = frozenset({State.BOUND_RX, State.BOUND_TRX})


def plain_scenario(sim: SmscSimulator) -> bool:
    """Whether the scenario lets submits take the fast path (see the module docstring)."""
    sc = sim.scenario
    return (
        sc.response_latency <= 0
        and not sc.drop_after
        and not sc.stall_after
        and (not sc.receipts or (not sc.receipt_first and not sc.acceptd_first))
    )


class FastPath:
    """One session's fast path; ``on_frame`` is its connection's frame hook."""

    __slots__ = (
        "admit_all",
        "conn",
        "delay",
        "now",
        "previews",
        "receipts",
        "replies",
        "session",
        "sim",
        "submits",
    )

    def __init__(self, sim: SmscSimulator, session: _Session) -> None:
        self.sim = sim
        self.session = session
        self.conn = session.conn
        sc = sim.scenario
        self.submits = plain_scenario(sim)
        self.admit_all = not sc.error_every and sc.max_tps <= 0  # _admit would only count the submit
        self.receipts = sc.receipts
        self.replies = sim._replies.rate > 0
        self.delay = sc.response_latency + sc.receipt_delay
        self.now = self.delay <= 0  # receipts follow their submit_sm_resp in the same write
        # A receipt's preview by the submit's data_coding, sm_default_msg_id, sm_length and text:
        # a campaign sends one text to many numbers, so it is decoded once, not per message.
        self.previews: dict[bytes, str] = {}

    def on_frame(self, frame: bytes, now: float) -> bool:
        """True when the frame was handled here; False (nothing changed) for the general path."""
        _, command_id, status, sequence = _HEADER(frame)
        conn, session = self.conn, self.session
        if command_id == _DELIVER_SM_RESP:
            return (
                len(frame) == 17
                and frame[16] == 0
                and not session.outq
                and conn.take_response(command_id, sequence) is not NOT_WAITING  # settle_response
            )
        if command_id != _SUBMIT_SM or status or not self.submits or conn.state is not _TRX:
            return False
        match = _PLAIN_SUBMIT(frame, 16)
        if match is None:
            return False  # malformed, or a UDH leads: the general path's
        sender, receiver, flags, text = match.groups()
        if text[2] != len(text) - 3:
            return False  # TLVs follow short_message, or it is cut short
        registered = flags[0]
        receipt = self.receipts and registered & 0x03
        if receipt and self.now and (session.outq or conn.credit <= 0 or session.proto.closed):
            return False
        sim = self.sim
        if self.admit_all:
            sim.submits += 1
        else:
            status = sim._admit(session)  # scripted errors, throttling
        session.submits += 1
        if session.unanswered >= sim.max_outstanding:
            sim.max_outstanding = session.unanswered + 1
        if status:
            conn.respond(Pdu(command_id, sequence), status)
            return True
        number, message_id, state = sim._accept()
        wall = sim.clock.time()  # received_at, and the receipt's submit and done dates
        # The record is the frame itself, decoded when it is read (smsc_record.expand_one_part).
        system_id = conn.peer_system_id if session.account is not None else None
        sim.recorder.record_row((system_id, frame, message_id, state._value_, wall))
        if self.replies:
            sim._maybe_reply(session, sender[2:-1].decode("latin-1"), receiver[2:-1].decode("latin-1"))
        conn.respond_ok_to(command_id, sequence, message_id)
        if receipt and (receipt == 1 or wants_receipt(registered, state)):
            preview = self.previews.get(text)
            if preview is None:
                preview = self._preview(text)
            if not self.now:
                due = now + self.delay
                session.call_at(
                    due, self._receipt_due, receiver, sender, number, message_id, state, wall, preview
                )
                return True
            body = sim._receipts.body(receiver, sender, number, message_id, state, wall, wall, preview)
            conn.send_request_body(_DELIVER_SM, body, now)
            sim.receipts_sent += 1
        return True

    def _preview(self, text: bytes) -> str:
        """The receipt's preview of a short_message (``text`` as :meth:`on_frame` cuts it), kept."""
        previews = self.previews
        if len(previews) >= 256:  # a campaign of distinct texts: keep the memory bounded
            previews.clear()
        previews[text] = preview = ascii_preview(decode_text(text[3:], text[0]))
        return preview

    def _receipt_due(
        self,
        receiver: bytes,
        sender: bytes,
        number: int,
        message_id: str,
        state: DeliveryState,
        submitted: float,
        preview: str,
    ) -> None:
        """A delayed receipt, when it is due (from the session's queue of due calls, which then
        writes). As :meth:`SmscSimulator._send_receipt`: straight out on this bind when the window
        has room and nothing waits; otherwise the general routing (queued for credit, another
        receiver bind, the account's backlog) takes it as a Pdu."""
        sim, session, conn = self.sim, self.session, self.conn
        done = sim.clock.time()
        body = sim._receipts.body(receiver, sender, number, message_id, state, submitted, done, preview)
        sim.receipts_sent += 1
        if conn.state in _RECEIVING and not session.proto.closed and not session.outq and conn.credit > 0:
            conn.send_request_body(_DELIVER_SM, body, asyncio.get_running_loop().time())
        else:
            sim._route(session, codec.decode(_FRAME(HEADER_SIZE + len(body), _DELIVER_SM, 0, 0) + body))
