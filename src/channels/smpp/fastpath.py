"""The client's fast path: a submit_sm_resp and a delivery receipt taken before the general dispatch.

Under load nearly every PDU our client receives is one of two: the submit_sm_resp accepting a part
and the deliver_sm carrying a delivery receipt. The general way, each is decoded into a ``Pdu``,
wrapped in an event (ResponseReceived, RequestReceived), checked against the session state table and
dispatched by the link by type: layers that cost more than the work itself. The connection offers
each frame of a read to :meth:`FastPath.on_frame` first (:attr:`SmppConnection.frame_hook`), and it
takes exactly these:

* a **submit_sm_resp** with command_status 0 whose body is one C-Octet message_id (§4.4.2) answering
  a submit_sm that waits for it: :meth:`SmppConnection.take_response` hands back the request's
  context (window credit returned, as the general path does), which gets the answer the general path
  would give it: a ``Pdu`` holding the message_id, through the link's one response handler;
* a **deliver_sm** (§4.6.1) carrying a delivery receipt, on a bind that may receive it, when the
  client's ``fast_filter`` says it takes receipts this way (no deliver_hook waiting to see every
  deliver_sm, as the USSD adapter has): :func:`receipt_fields` reads the three things a receipt is
  made of (short_message, data_coding, TLVs) straight from the frame, at the offsets the codec's
  compiled decoder would find them, without the ``Pdu`` and its seventeen fields; it is answered
  with deliver_sm_resp and handed to the link's ``on_receipt`` with the general path's guard
  (``SmppLink.deliver``'s: a failing handler is logged, never kills the link). The client makes
  the same receipt of it as of a decoded PDU (one function, ``SmppClient._on_receipt``).

Anything else (an error status, a generic_nack, a response nobody waits for, an MO, a malformed
frame, which the general path reports) and every frame of a read after one that produced an event
(so events keep the frames' order) goes the general way. ``tests/unit/test_smpp_client_fast_path.py``
feeds the same traffic both ways and compares the answers, events and octets.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from channels.smpp import pdu as codec
from channels.smpp.connection import NOT_WAITING, SmppConnection, State
from channels.smpp.constants import RECEIPT_TYPES, CommandId, EsmClass
from channels.smpp.pdu import Pdu, PduError

if TYPE_CHECKING:
    from channels.smpp.link import SmppLink
    from channels.smpp.transport import SmppTransport

log = structlog.get_logger(__name__)

_HEADER = struct.Struct(">IIII").unpack_from  # command_length, command_id, command_status, sequence
_SUBMIT_SM_RESP = int(CommandId.SUBMIT_SM_RESP)
_DELIVER_SM = int(CommandId.DELIVER_SM)
_TYPE_MASK = int(EsmClass.TYPE_MASK)  # plain ints: an enum member costs an attribute lookup per use
_RECEIVING = frozenset({State.BOUND_RX, State.BOUND_TRX})  # §2.3: where an ESME may get deliver_sm
_MAX_MESSAGE_ID = 65  # octets with the NUL (§4.4.2)

FastFilter = Callable[[], bool]  # whether the client takes receipts the fast way now


class FastPath:
    """The frame hook of one client connection (see the module docstring)."""

    __slots__ = ("_conn", "_link", "_proto")

    def __init__(self, link: SmppLink, proto: SmppTransport) -> None:
        self._link = link
        self._proto = proto
        self._conn: SmppConnection = proto.conn

    def on_frame(self, frame: bytes, now: float) -> bool:
        """True when the frame was taken here; False leaves it (untouched) to the general path."""
        _, command_id, status, sequence = _HEADER(frame, 0)
        if command_id == _SUBMIT_SM_RESP:
            end = len(frame) - 1  # the body must be exactly one C-Octet string
            if status or end >= 16 + _MAX_MESSAGE_ID or frame.find(0, 16) != end:
                return False
            context = self._conn.take_response(command_id, sequence)
            if context is NOT_WAITING:
                return False
            answer = Pdu(command_id, sequence, 0, {"message_id": frame[16:end].decode("latin-1")})
            self._link.on_response(self._proto, context, answer, now)
            return True
        if command_id != _DELIVER_SM or status or self._conn.state not in _RECEIVING:
            return False
        link = self._link
        takes, on_receipt = link.fast_filter, link.on_receipt  # set together by the client
        if takes is None or on_receipt is None or not takes():
            return False
        fields = receipt_fields(frame)
        if fields is None:
            return False  # an MO reply (or a USSD PDU, or a malformed frame): the general path
        self._conn.respond_ok_to(command_id, sequence)
        try:
            on_receipt(*fields, now)
        except Exception:  # one bad PDU or handler never kills the link (python-smpplib#72)
            log.exception("smpp.deliver.failed", link=link.name)
        return True


def receipt_fields(frame: bytes) -> tuple[bytes, int, dict[int, bytes]] | None:
    """A delivery receipt's short_message, data_coding and TLVs, read from a deliver_sm frame; None
    when its esm_class (§5.2.12, types 0x04, 0x08, 0x20) marks no receipt, or when the codec would
    not decode it (the general path then decodes it and reports what is wrong).

    The mandatory fields are walked the way the compiled decoder walks them (§4.6.1): C-Octet strings
    by their NUL within their maximum size (service_type 6, addresses 21, times 17), one octet each
    for the integers, short_message by sm_length; the TLVs by the codec's own reader. The equivalence
    is tested against ``codec.decode`` (tests/unit/test_smpp_client_fast_path_frames.py)."""
    try:
        pos = frame.index(0, 16, 16 + 6) + 3  # service_type; source_addr_ton, _npi
        pos = frame.index(0, pos, pos + 21) + 3  # source_addr; dest_addr_ton, _npi
        pos = frame.index(0, pos, pos + 21) + 1  # destination_addr
        if frame[pos] & _TYPE_MASK not in RECEIPT_TYPES:
            return None
        pos = frame.index(0, pos + 3, pos + 3 + 17) + 1  # esm, protocol_id, priority; schedule time
        pos = frame.index(0, pos, pos + 17) + 4  # validity_period; registered, replace, data_coding
        data_coding = frame[pos - 1]
        start = pos + 2  # sm_default_msg_id, sm_length
        end = start + frame[pos + 1]
        if end > len(frame):
            return None
        tlvs: dict[int, bytes] = {}
        if end < len(frame):
            codec.decode_tlvs(frame, end, tlvs)
        return frame[start:end], data_coding, tlvs
    except (ValueError, IndexError, PduError):
        return None
