"""Delivery receipts as the simulated SMSC writes them, in every variant a scenario asks for.

SMPP v3.4 §4.6 / Appendix B and PROTOCOLS.md §3: a deliver_sm with esm_class 0x04 carrying the receipt
text and/or the receipted_message_id, message_state and network_error_code TLVs. The scenario picks the
text style (dates of 10/12/14 digits, 4-digit err, missing fields, upper-case keys, vendor fields), where
the facts travel (both, TLVs only, text only), the id's spelling (which may differ from the
submit_sm_resp id in base, padding and case), the text's data_coding, and vendor TLVs. Pure: the
simulator decides when to send what this builds, with the same codec the adapter reads it with.
"""

from __future__ import annotations

import re
import struct
from datetime import UTC, datetime

from channels.results import DeliveryState
from channels.smpp import pdu as codec
from channels.smpp.concat import parse_udh
from channels.smpp.constants import CommandId, EsmClass, Tag
from channels.smpp.dlr import STATE_TO_MESSAGE_STATE, STATE_TO_STAT, format_receipt_text
from channels.smpp.encoding import decode_text
from channels.smpp.pdu import Pdu
from simulators.smsc_scenario import ReceiptForm, SmscScenario, id_spec

MAX_SHORT_MESSAGE = 254  # SMPP v3.4 §5.2.21; longer receipt texts go in message_payload
_ERR = {DeliveryState.DELIVERED: "000", DeliveryState.ACCEPTED: "000", DeliveryState.EXPIRED: "027"}
_GSM_NETWORK_ERROR = 3  # network_error_code type 3: GSM (SMPP v3.4 §5.3.2.31)
_TLV_HEAD = struct.Struct(">HH").pack  # tag, length (SMPP v3.4 §3.2.4.1)
_RECEIPTED_MESSAGE_ID, _MESSAGE_PAYLOAD = int(Tag.RECEIPTED_MESSAGE_ID), int(Tag.MESSAGE_PAYLOAD)
_BYTE = tuple(bytes((n,)) for n in range(256))  # one octet each, for a shape's %b


def preview(submit: Pdu) -> str:
    """The first 20 characters of a submitted text, as ASCII (the receipt's ``text:`` field)."""
    body = submit.tlvs.get(Tag.MESSAGE_PAYLOAD) or submit.get("short_message") or b""
    if submit.get("esm_class") & EsmClass.UDHI:
        udh = parse_udh(body)
        body = body[udh.length :] if udh else body
    return ascii_preview(decode_text(body, submit.get("data_coding")))


def ascii_preview(text: str) -> str:
    """The first 20 characters of a decoded text, as ASCII."""
    head = text[:20]
    return head if head.isascii() else head.encode("ascii", "replace").decode("ascii")


def receipt_pdu(
    submit: Pdu,
    number: int,
    state: DeliveryState,
    scenario: SmscScenario,
    *,
    submitted: datetime,
    done: datetime,
) -> Pdu:
    """The deliver_sm reporting ``state`` for the submit whose id is ``number`` (dates in UTC)."""
    return Receipts(scenario).pdu(submit, number, state, submitted.timestamp(), done.timestamp())


_ID, _TEXT = "\x00", "\x01"  # marker values in a text template: no id or preview is written with them


class Receipts:
    """Builds the receipts of one scenario. What depends only on the scenario, the state or the second
    is worked out once: the id's format spec, the TLVs but the id, and the receipt text around the id
    and the preview, as :func:`format_receipt_text` writes it with marker values (a template per state
    and pair of seconds), so a receipt costs two ``str.replace`` instead of formatting two dates. For
    :meth:`body` (the fast path's) the same template is cut once more into the octets of the whole
    deliver_sm body around its addresses, id and preview, so a receipt is one ``bytes %`` call."""

    def __init__(self, scenario: SmscScenario) -> None:
        self.scenario = sc = scenario
        self.id_spec = id_spec(sc.receipt_id_style)
        self._response_spelling = self.id_spec == id_spec(sc.response_id_style)
        self._text = sc.receipt_form is not ReceiptForm.TLV
        self._ucs2 = sc.receipt_data_coding == 8
        # The id goes in its TLV unless the scenario has no TLVs or its vendor TLVs replace it.
        self._id_tlv = sc.receipt_form is not ReceiptForm.TEXT and Tag.RECEIPTED_MESSAGE_ID not in (
            sc.receipt_vendor_tlvs
        )
        self._tlvs = {state: self._state_tlvs(state) for state in DeliveryState}
        self._templated = not any(_ID in v or _TEXT in v for _, v in sc.receipt_style.extra)
        self._templates: dict[tuple[DeliveryState, int, int], str] = {}
        self._encoding = "utf-16-be" if self._ucs2 else "ascii"
        # Where the id and the preview sit in the text: the style decides, not the state or the dates.
        # Each at most once (or the text is left to text()'s replace): body()'s shapes take those
        # present in their order, then those absent, each consumed by an empty "%.0b".
        probe = self._format(_ID, DeliveryState.DELIVERED, 0, 0, _TEXT) if self._text else ""
        self._id_in_text, self._preview_in_text = probe.count(_ID), probe.count(_TEXT)
        self._id_first = probe.find(_TEXT) < 0 or 0 <= probe.find(_ID) < probe.find(_TEXT)
        self._shaped = self._templated and self._id_in_text <= 1 and self._preview_in_text <= 1
        self._shapes: dict[tuple[str, int, int], tuple[bytes, int]] = {}
        self._last: tuple[DeliveryState | None, float, float, tuple[bytes, int]] = (None, 0.0, 0.0, (b"", 0))
        # For body(): the codec's octets around what changes per receipt. An empty service_type and
        # two empty addresses are 7 octets (NUL; ton, npi, NUL; ton, npi, NUL: §4.6.1), an empty
        # short_message is its sm_length 0; between them esm_class .. sm_default_msg_id.
        fixed = codec.encode_body(
            Pdu(
                CommandId.DELIVER_SM,
                params={"esm_class": EsmClass.SMSC_DELIVERY_RECEIPT, "data_coding": sc.receipt_data_coding},
            )
        )
        self._middle = fixed[7:-1]
        bare = len(codec.encode_body(Pdu(CommandId.DELIVER_SM)))
        self._after_id = {
            state: codec.encode_body(
                Pdu(
                    CommandId.DELIVER_SM,
                    tlvs={
                        t: v for t, v in tlvs.items() if not (self._id_tlv and t == Tag.RECEIPTED_MESSAGE_ID)
                    },
                )
            )[bare:]
            for state, tlvs in self._tlvs.items()
        }

    def _state_tlvs(self, state: DeliveryState) -> dict[int, bytes]:
        """Every TLV of a receipt in ``state``, in wire order, the id's value left empty."""
        tlvs: dict[int, bytes] = {}
        if self.scenario.receipt_form is not ReceiptForm.TEXT:
            err = _ERR.get(state, "001")
            tlvs[Tag.RECEIPTED_MESSAGE_ID] = b""
            tlvs[Tag.MESSAGE_STATE] = bytes((STATE_TO_MESSAGE_STATE[state],))
            if err != "000":
                tlvs[Tag.NETWORK_ERROR_CODE] = bytes((_GSM_NETWORK_ERROR,)) + int(err).to_bytes(2, "big")
        tlvs.update(self.scenario.receipt_vendor_tlvs)
        return tlvs

    def text(self, rid: str, state: DeliveryState, submitted: float, done: float, preview: str) -> str:
        """The receipt text (Appendix B, in the scenario's style); dates are epoch seconds."""
        if not self._templated:
            return self._format(rid, state, int(submitted), int(done), preview)
        key = (state, int(submitted), int(done))
        template = self._templates.get(key)
        if template is None:
            if len(self._templates) >= 64:  # seconds go by: old templates are not asked for again
                self._templates.clear()
            template = self._templates[key] = self._format(_ID, state, key[1], key[2], _TEXT)
        return template.replace(_ID, rid).replace(_TEXT, preview)

    def _format(self, rid: str, state: DeliveryState, submitted: int, done: int, preview: str) -> str:
        sc = self.scenario
        return format_receipt_text(
            id=rid,
            stat=STATE_TO_STAT[state],
            err=_ERR.get(state, "001"),
            submit_date=datetime.fromtimestamp(submitted, UTC),
            done_date=datetime.fromtimestamp(done, UTC),
            text=preview,
            date_digits=sc.receipt_date_digits,
            style=sc.receipt_style,
        )

    def pdu(
        self,
        submit: Pdu,
        number: int,
        state: DeliveryState,
        submitted: float,
        done: float,
        text: str | None = None,
    ) -> Pdu:
        """The deliver_sm for ``submit`` (id ``number``). ``text``: its preview when the caller has it
        (:func:`preview` otherwise)."""
        rid = format(number, self.id_spec)
        tlvs = dict(self._tlvs[state])
        if self._id_tlv:
            tlvs[Tag.RECEIPTED_MESSAGE_ID] = rid.encode("ascii") + b"\x00"
        body = b""
        if self._text:
            words = self.text(rid, state, submitted, done, preview(submit) if text is None else text)
            body = words.encode("utf-16-be") if self._ucs2 else words.encode("ascii")
            if len(body) > MAX_SHORT_MESSAGE:
                tlvs[Tag.MESSAGE_PAYLOAD], body = body, b""
        p = submit.params
        params = {
            "source_addr_ton": p.get("dest_addr_ton", 0),
            "source_addr_npi": p.get("dest_addr_npi", 0),
            "source_addr": p.get("destination_addr", ""),
            "dest_addr_ton": p.get("source_addr_ton", 0),
            "dest_addr_npi": p.get("source_addr_npi", 0),
            "destination_addr": p.get("source_addr", ""),
            "esm_class": EsmClass.SMSC_DELIVERY_RECEIPT,
            "data_coding": self.scenario.receipt_data_coding,
            "short_message": body,
        }
        return Pdu(CommandId.DELIVER_SM, 0, 0, params, tlvs)

    def body(
        self,
        destination: bytes,
        source: bytes,
        number: int,
        message_id: str,
        state: DeliveryState,
        submitted: float,
        done: float,
        preview: str,
    ) -> bytes:
        """The encoded body of :meth:`pdu`'s deliver_sm, octet for octet, for the fast path
        (:mod:`simulators.smsc_fast`). ``destination``, ``source``: the receipt's source then
        destination (ton, npi, address and its NUL each): the submit's destination then source, as
        the submit carried them (submit_sm and deliver_sm lay them out alike, §4.4.1 and §4.6.1).
        ``message_id``: the id as the submit_sm_resp spelled it.

        One ``bytes %`` on the shape of the body for this state and pair of seconds
        (:meth:`_shape`): its addresses, sm_length, the id and the preview in the text's order, the
        id TLV's length and value. A text too long for short_message (§5.2.21), or a style the
        shapes do not take, is assembled piece by piece instead."""
        rid = message_id if self._response_spelling else format(number, self.id_spec)
        if self._shaped:
            last = self._last  # the shape of the last receipt, and the second its dates were in
            if state is last[0] and last[1] <= submitted < last[2] and last[1] <= done < last[2]:
                octets, fixed = last[3]
            else:
                octets, fixed = self._shape(state, submitted, done)
            rid_ascii = rid.encode()  # digits and letters: UTF-8 is ASCII
            if self._ucs2:
                rid_text, words = rid.encode("utf-16-be"), preview.encode("utf-16-be")
            else:
                rid_text, words = rid_ascii, preview.encode()  # an ASCII preview
            size = fixed + self._id_in_text * len(rid_text) + self._preview_in_text * len(words)
            if size <= MAX_SHORT_MESSAGE:
                if self._id_first:
                    first, second = rid_text, words
                else:
                    first, second = words, rid_text
                id_length = _BYTE[len(rid) + 1]
                return octets % (destination, source, _BYTE[size], first, second, id_length, rid_ascii)
        text = b""
        if self._text:
            text = self.text(rid, state, submitted, done, preview).encode(self._encoding)
        tlvs = self._after_id[state]
        if self._id_tlv:
            tlvs = _TLV_HEAD(_RECEIPTED_MESSAGE_ID, len(rid) + 1) + rid.encode("ascii") + b"\x00" + tlvs
        if len(text) > MAX_SHORT_MESSAGE:
            return b"".join(
                (
                    b"\x00",
                    destination,
                    source,
                    self._middle,
                    b"\x00",
                    tlvs,
                    _TLV_HEAD(_MESSAGE_PAYLOAD, len(text)),
                    text,
                )
            )
        return b"".join((b"\x00", destination, source, self._middle, bytes((len(text),)), text, tlvs))

    def _shape(self, state: DeliveryState, submitted: float, done: float) -> tuple[bytes, int]:
        """The ``bytes %`` format of a receipt body in ``state`` with these dates (epoch seconds), and
        the octets of its text that are not the id or the preview. Taken in order: the addresses
        (destination, source), sm_length, the id and the preview (:attr:`_id_first`), the id TLV's
        length and value; what the scenario leaves out is consumed by ``%.0b``. Kept by state and
        seconds, and as :attr:`_last` while both dates are in one second (what receipts sent at
        once share: :meth:`body` then compares, without hashing a key)."""
        key = (state._value_, int(submitted), int(done))  # a str hashes in C, an Enum in Python
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = self._new_shape(state, key[1], key[2])
        if key[1] == key[2]:
            self._last = (state, float(key[1]), float(key[1] + 1), shape)
        return shape

    def _new_shape(self, state: DeliveryState, submitted: int, done: int) -> tuple[bytes, int]:
        """:meth:`_shape`'s work, once per state and seconds: cut :meth:`text`'s template."""
        if len(self._shapes) >= 64:  # seconds go by: old shapes are not asked for again
            self._shapes.clear()
        text = self.text(_ID, state, submitted, done, _TEXT) if self._text else ""
        pieces = [piece.encode(self._encoding) for piece in re.split("[\x00\x01]", text)]
        fixed = sum(len(piece) for piece in pieces)
        # the markers present, in their order, then one "%.0b" for each absent one
        words = b"%b".join(map(_escape, pieces)) + b"%.0b" * (2 - self._id_in_text - self._preview_in_text)
        if self._id_tlv:
            id_tlv = _escape(_TLV_HEAD(_RECEIPTED_MESSAGE_ID, 0)[:3]) + b"%b%b\x00"
        else:
            id_tlv = b"%.0b%.0b"
        octets = b"".join(
            (b"\x00%b%b", _escape(self._middle), b"%b", words, id_tlv, _escape(self._after_id[state]))
        )
        return octets, fixed


def _escape(octets: bytes) -> bytes:
    """``octets`` as literal text of a ``bytes %`` format."""
    return octets.replace(b"%", b"%%")


def wants_receipt(registered_delivery: int, state: DeliveryState) -> bool:
    """SMPP v3.4 §5.2.17 bits 1-0: 1 success or failure, 2 failure only, 3 success only (5.0)."""
    mode = registered_delivery & 0x03
    if mode == 1:
        return True
    if mode == 2:
        return state is not DeliveryState.DELIVERED
    return mode == 3 and state is DeliveryState.DELIVERED
