"""SMPP 3.4 PDU codec: bytes ↔ :class:`Pdu`, table-driven, sans-IO (SMPP v3.4 §3, §4, §5).

Each command's mandatory body is a row of :data:`BODIES` (field name, kind, maximum size), so adding a
command is adding data. Decoding walks the row with ``struct.unpack_from`` and ``bytes.index``; TLVs
that follow are kept as raw ``{tag: value}`` in arrival order, unknown tags included (§5.3: a receiver
must skip tags it does not know; vendors send 0x1400+, 5.0 peers send 0x0428), so a PDU re-encodes to
the same bytes. Malformed input raises :class:`PduError` carrying the command_status to answer with,
never a bare exception: the connection turns it into an error response or a generic_nack.

Field values: C-Octet strings are ``str`` (Latin-1, lossless for any octet), integers ``int``,
``short_message`` ``bytes``; submit_multi's lists are tuples. An error response may omit its body
(§4.4.2; some SMSCs still send a lone ``00``): missing trailing fields decode to their defaults.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from channels.smpp import status as st
from channels.smpp.constants import HEADER_SIZE, RESPONSE_BIT, CommandId, Tag
from channels.smpp.fastcodec import Decoder, Encoder, compile_decoder, compile_encoder

_HEADER = struct.Struct(">IIII")
_TLV_HEAD = struct.Struct(">HH")
_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")

MAX_PDU_SIZE = 65536 + 1024  # message_payload may reach 64 KiB (§5.3.2.32); node-smpp caps at 16 KiB


class Kind(Enum):
    COCTET = "c-octet"  # NUL-terminated; size = max octets including the NUL
    INT1 = "int1"
    INT2 = "int2"
    INT4 = "int4"
    SM = "short_message"  # sm_length (1 octet) + that many octets
    DEST_LIST = "dest_address list"  # submit_multi: number_of_dests + dest_address entries (§4.5.1.1)
    UNSUCCESS_LIST = "unsuccess_sme list"  # submit_multi_resp: no_unsuccess + entries (§4.5.2)


@dataclass(frozen=True, slots=True)
class F:
    name: str
    kind: Kind
    size: int = 1


def _c(name: str, size: int) -> F:
    return F(name, Kind.COCTET, size)


def _i(name: str) -> F:
    return F(name, Kind.INT1)


_SOURCE21 = (_i("source_addr_ton"), _i("source_addr_npi"), _c("source_addr", 21))
_DEST21 = (_i("dest_addr_ton"), _i("dest_addr_npi"), _c("destination_addr", 21))
_SM_TAIL = (
    _i("esm_class"),
    _i("protocol_id"),
    _i("priority_flag"),
    _c("schedule_delivery_time", 17),
    _c("validity_period", 17),
    _i("registered_delivery"),
    _i("replace_if_present_flag"),
    _i("data_coding"),
    _i("sm_default_msg_id"),
    F("short_message", Kind.SM, 254),
)
_BIND = (
    _c("system_id", 16),
    _c("password", 9),
    _c("system_type", 13),
    _i("interface_version"),
    _i("addr_ton"),
    _i("addr_npi"),
    _c("address_range", 41),
)
_MSGID = (_c("message_id", 65),)

C = CommandId
# §4: mandatory body of every PDU, in wire order.
BODIES: dict[int, tuple[F, ...]] = {
    C.GENERIC_NACK: (),
    C.BIND_RECEIVER: _BIND,
    C.BIND_TRANSMITTER: _BIND,
    C.BIND_TRANSCEIVER: _BIND,
    C.BIND_RECEIVER_RESP: (_c("system_id", 16),),
    C.BIND_TRANSMITTER_RESP: (_c("system_id", 16),),
    C.BIND_TRANSCEIVER_RESP: (_c("system_id", 16),),
    C.OUTBIND: (_c("system_id", 16), _c("password", 9)),
    C.UNBIND: (),
    C.UNBIND_RESP: (),
    C.ENQUIRE_LINK: (),
    C.ENQUIRE_LINK_RESP: (),
    C.SUBMIT_SM: (_c("service_type", 6), *_SOURCE21, *_DEST21, *_SM_TAIL),
    C.SUBMIT_SM_RESP: _MSGID,
    C.DELIVER_SM: (_c("service_type", 6), *_SOURCE21, *_DEST21, *_SM_TAIL),
    C.DELIVER_SM_RESP: _MSGID,
    C.DATA_SM: (
        _c("service_type", 6),
        _i("source_addr_ton"),
        _i("source_addr_npi"),
        _c("source_addr", 65),
        _i("dest_addr_ton"),
        _i("dest_addr_npi"),
        _c("destination_addr", 65),
        _i("esm_class"),
        _i("registered_delivery"),
        _i("data_coding"),
    ),
    C.DATA_SM_RESP: _MSGID,
    C.QUERY_SM: (*_MSGID, *_SOURCE21),
    C.QUERY_SM_RESP: (*_MSGID, _c("final_date", 17), _i("message_state"), _i("error_code")),
    C.CANCEL_SM: (_c("service_type", 6), *_MSGID, *_SOURCE21, *_DEST21),
    C.CANCEL_SM_RESP: (),
    C.REPLACE_SM: (
        *_MSGID,
        *_SOURCE21,
        _c("schedule_delivery_time", 17),
        _c("validity_period", 17),
        _i("registered_delivery"),
        _i("sm_default_msg_id"),
        F("short_message", Kind.SM, 254),
    ),
    C.REPLACE_SM_RESP: (),
    C.SUBMIT_MULTI: (
        _c("service_type", 6),
        *_SOURCE21,
        F("dest_addresses", Kind.DEST_LIST, 255),
        *_SM_TAIL,
    ),
    C.SUBMIT_MULTI_RESP: (*_MSGID, F("unsuccess_smes", Kind.UNSUCCESS_LIST, 255)),
    C.ALERT_NOTIFICATION: (
        _i("source_addr_ton"),
        _i("source_addr_npi"),
        _c("source_addr", 65),
        _i("esme_addr_ton"),
        _i("esme_addr_npi"),
        _c("esme_addr", 65),
    ),
}

# The status to answer with when a field is malformed (§5.1.3); default ESME_RINVCMDLEN.
FIELD_STATUS: dict[str, int] = {
    "system_id": st.ESME_RINVSYSID,
    "password": st.ESME_RINVPASWD,
    "service_type": st.ESME_RINVSERTYP,
    "source_addr": st.ESME_RINVSRCADR,
    "destination_addr": st.ESME_RINVDSTADR,
    "message_id": st.ESME_RINVMSGID,
    "schedule_delivery_time": st.ESME_RINVSCHED,
    "validity_period": st.ESME_RINVEXPIRY,
    "short_message": st.ESME_RINVMSGLEN,
    "esm_class": st.ESME_RINVESMCLASS,
}

_DEFAULTS: dict[Kind, Any] = {
    Kind.COCTET: "",
    Kind.INT1: 0,
    Kind.INT2: 0,
    Kind.INT4: 0,
    Kind.SM: b"",
    Kind.DEST_LIST: (),
    Kind.UNSUCCESS_LIST: (),
}


class PduError(Exception):
    """A PDU could not be decoded or encoded. ``status`` is the command_status to answer with;
    ``command_id``/``sequence`` identify the PDU when its header was readable."""

    def __init__(self, message: str, *, status: int, command_id: int = 0, sequence: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.command_id = command_id
        self.sequence = sequence


@dataclass(slots=True)
class Pdu:
    """One SMPP PDU: header values, mandatory body ``params`` by spec field name, raw ``tlvs``."""

    command_id: int
    sequence: int = 0
    status: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    tlvs: dict[int, bytes] = field(default_factory=dict)

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)

    @property
    def name(self) -> str:
        return command_name(self.command_id)

    def get(self, name: str) -> Any:
        """A mandatory field's value, or its default when absent."""
        value = self.params.get(name)
        if value is None:
            spec = _FIELD_KINDS.get(self.command_id, {}).get(name)
            return _DEFAULTS[spec] if spec is not None else None
        return value

    def tlv_int(self, tag: int) -> int | None:
        raw = self.tlvs.get(tag)
        return int.from_bytes(raw, "big") if raw else None

    def tlv_str(self, tag: int) -> str | None:
        raw = self.tlvs.get(tag)
        return raw.split(b"\x00", 1)[0].decode("latin-1") if raw is not None else None


_FIELD_KINDS: dict[int, dict[str, Kind]] = {
    cid: {f.name: f.kind for f in body} for cid, body in BODIES.items()
}


def command_name(command_id: int) -> str:
    try:
        return CommandId(command_id).name.lower()
    except ValueError:
        return f"command_{command_id:#010x}"


def response_id(command_id: int) -> int:
    return command_id | RESPONSE_BIT


# -- decoding ---------------------------------------------------------------------------------------


def peek_length(buf: bytes | bytearray | memoryview, offset: int = 0) -> int | None:
    """The command_length at ``offset``, or None if fewer than 4 octets are buffered."""
    if len(buf) - offset < 4:
        return None
    return int(_U32.unpack_from(buf, offset)[0])


def decode(data: bytes | bytearray | memoryview) -> Pdu:
    """Decode one whole PDU (``command_length`` octets). Raises :class:`PduError`."""
    if len(data) < HEADER_SIZE:
        raise PduError(f"PDU of {len(data)} octets is shorter than its header", status=st.ESME_RINVCMDLEN)
    length, command_id, status, sequence = _HEADER.unpack_from(data, 0)
    if length != len(data):
        raise PduError(
            f"command_length {length} does not match {len(data)} octets",
            status=st.ESME_RINVCMDLEN,
            command_id=command_id,
            sequence=sequence,
        )
    body = BODIES.get(command_id)
    if body is None:
        raise PduError(
            f"unknown command_id {command_id:#010x}",
            status=st.ESME_RINVCMDID,
            command_id=command_id,
            sequence=sequence,
        )
    pdu = Pdu(command_id, sequence, status)
    raw = bytes(data)
    try:
        pos = _fast_body(raw, command_id, pdu.params) if status == 0 else -1
        if pos < 0:
            pdu.params.clear()
            pos = _decode_body(raw, HEADER_SIZE, body, pdu.params, tolerate_truncation=status != 0)
        if pos < len(raw):
            decode_tlvs(raw, pos, pdu.tlvs)
    except PduError as exc:
        exc.command_id, exc.sequence = command_id, sequence
        raise
    return pdu


def _decode_body(
    data: bytes, pos: int, body: tuple[F, ...], out: dict[str, Any], *, tolerate_truncation: bool
) -> int:
    end = len(data)
    for f in body:
        if pos >= end:
            if tolerate_truncation:  # error responses may omit their body (§4.4.2)
                break
            raise PduError(
                f"body ends before field {f.name}", status=FIELD_STATUS.get(f.name, st.ESME_RINVCMDLEN)
            )
        kind = f.kind
        if kind is Kind.COCTET:
            try:
                nul = data.index(0, pos, min(end, pos + f.size))
            except ValueError:
                raise PduError(
                    f"field {f.name}: C-Octet string not terminated within {f.size} octets",
                    status=FIELD_STATUS.get(f.name, st.ESME_RINVCMDLEN),
                ) from None
            out[f.name] = data[pos:nul].decode("latin-1")
            pos = nul + 1
        elif kind is Kind.INT1:
            out[f.name] = data[pos]
            pos += 1
        elif kind is Kind.SM:
            n = data[pos]
            if pos + 1 + n > end:
                raise PduError(f"sm_length {n} runs past the PDU", status=st.ESME_RINVMSGLEN)
            out[f.name] = data[pos + 1 : pos + 1 + n]
            pos += 1 + n
        elif kind is Kind.DEST_LIST:
            pos = _decode_dest_list(data, pos, out)
        elif kind is Kind.UNSUCCESS_LIST:
            pos = _decode_unsuccess(data, pos, out)
        else:  # INT2/INT4 are not used in 3.4 mandatory bodies; kept for completeness of the table
            s = _U16 if kind is Kind.INT2 else _U32
            if pos + s.size > end:
                raise PduError(f"body ends inside field {f.name}", status=st.ESME_RINVCMDLEN)
            out[f.name] = s.unpack_from(data, pos)[0]
            pos += s.size
    return pos


def _fast_body(raw: bytes, command_id: int, out: dict[str, Any]) -> int:
    """The compiled decoder's answer, or -1 to take the table walk (which reports errors)."""
    fast = _DECODERS.get(command_id)
    if fast is None:
        return -1
    try:
        return fast(raw, HEADER_SIZE, out)
    except (IndexError, ValueError):
        return -1


def _cstr(data: bytes, pos: int, size: int, name: str) -> tuple[str, int]:
    try:
        nul = data.index(0, pos, min(len(data), pos + size))
    except ValueError:
        raise PduError(f"field {name}: C-Octet string not terminated", status=st.ESME_RINVCMDLEN) from None
    return data[pos:nul].decode("latin-1"), nul + 1


def _decode_dest_list(data: bytes, pos: int, out: dict[str, Any]) -> int:
    # §4.5.1.1: dest_flag 1 = SME address (ton, npi, addr C21); 2 = distribution list name (C21)
    count = data[pos]
    pos += 1
    items: list[tuple[int, int, int, str]] = []
    for _ in range(count):
        if pos >= len(data):
            raise PduError("dest_address list runs past the PDU", status=st.ESME_RINVNUMDESTS)
        flag = data[pos]
        pos += 1
        if flag == 1:
            if pos + 2 > len(data):
                raise PduError("dest_address runs past the PDU", status=st.ESME_RINVCMDLEN)
            ton, npi = data[pos], data[pos + 1]
            addr, pos = _cstr(data, pos + 2, 21, "destination_addr")
            items.append((1, ton, npi, addr))
        elif flag == 2:
            name, pos = _cstr(data, pos, 21, "dl_name")
            items.append((2, 0, 0, name))
        else:
            raise PduError(f"dest_flag {flag} is neither 1 nor 2", status=st.ESME_RINVDESTFLAG)
    out["dest_addresses"] = tuple(items)
    return pos


def _decode_unsuccess(data: bytes, pos: int, out: dict[str, Any]) -> int:
    count = data[pos]
    pos += 1
    items: list[tuple[int, int, str, int]] = []
    for _ in range(count):
        if pos + 2 > len(data):
            raise PduError("unsuccess_sme runs past the PDU", status=st.ESME_RINVCMDLEN)
        ton, npi = data[pos], data[pos + 1]
        addr, pos = _cstr(data, pos + 2, 21, "destination_addr")
        if pos + 4 > len(data):
            raise PduError("unsuccess_sme runs past the PDU", status=st.ESME_RINVCMDLEN)
        items.append((ton, npi, addr, _U32.unpack_from(data, pos)[0]))
        pos += 4
    out["unsuccess_smes"] = tuple(items)
    return pos


def decode_tlvs(data: bytes, pos: int, out: dict[int, bytes]) -> None:
    """The TLVs from ``pos`` to the end of ``data`` into ``out`` (§3.3); raises :class:`PduError`."""
    end = len(data)
    if pos == end - 1 and data[pos] == 0:
        return  # a stray NUL after an omitted error-response body (PROTOCOLS.md §1.3)
    while pos < end:
        if pos + 4 > end:
            raise PduError("TLV header runs past the PDU", status=st.ESME_RINVTLVSTREAM)
        tag, length = _TLV_HEAD.unpack_from(data, pos)
        pos += 4
        if pos + length > end:
            raise PduError(f"TLV {tag:#06x} length {length} runs past the PDU", status=st.ESME_RINVTLVLEN)
        out[tag] = data[pos : pos + length]
        pos += length


# -- encoding ---------------------------------------------------------------------------------------


def encode(pdu: Pdu) -> bytes:
    """Encode a PDU. Raises :class:`PduError` naming the field that does not fit."""
    payload = encode_body(pdu)
    return _HEADER.pack(HEADER_SIZE + len(payload), pdu.command_id, pdu.status, pdu.sequence) + payload


class Encoded(NamedTuple):
    """A request already encoded (``body``: mandatory fields and TLVs, no header). A bulk sender
    keeps this in flight instead of the :class:`Pdu` with its two dicts (a tenth of the memory);
    the connection frames it with a sequence number when it goes out."""

    command_id: int
    body: bytes

    @property
    def name(self) -> str:
        return command_name(self.command_id)


def encoded(pdu: Pdu) -> Encoded:
    """``pdu`` as an :class:`Encoded` request. Raises :class:`PduError` naming the field."""
    return Encoded(pdu.command_id, encode_body(pdu))


def encode_body(pdu: Pdu) -> bytes:
    """The octets after the header: mandatory fields, then TLVs (what a connection frames itself)."""
    if not pdu.tlvs and pdu.status != 0 and not pdu.params and pdu.command_id & RESPONSE_BIT:
        return b""  # an error response may omit its body (§4.4.2)
    return encode_params(pdu.command_id, pdu.params, pdu.tlvs)


def encode_params(
    command_id: int, params: Mapping[str, Any], tlvs: Mapping[int, bytes] | None = None
) -> bytes:
    """:func:`encode_body` from the values alone, for a sender that never needs the :class:`Pdu`
    (the bulk path encodes each submit_sm straight into an :class:`Encoded`)."""
    body = BODIES.get(command_id)
    if body is None:
        raise PduError(f"cannot encode unknown command_id {command_id:#010x}", status=st.ESME_RINVCMDID)
    if not tlvs:  # the common case: one compiled call, nothing to join
        return _fast_or_walk(command_id, body, params)
    parts = [_fast_or_walk(command_id, body, params)]
    for tag, value in tlvs.items():
        parts.append(_TLV_HEAD.pack(tag, len(value)))
        parts.append(value)
    return b"".join(parts)


def _fast_or_walk(command_id: int, body: tuple[F, ...], params: Mapping[str, Any]) -> bytes:
    fast = _ENCODERS.get(command_id)
    if fast is not None:
        try:
            return fast(params)
        except (ValueError, TypeError, AttributeError, OverflowError):
            pass  # the walk below names the field at fault
    return b"".join(_encode_field(f, params.get(f.name)) for f in body)


def _encode_field(f: F, value: Any) -> bytes:
    kind = f.kind
    if value is None:
        value = _DEFAULTS[kind]
    if kind is Kind.COCTET:
        try:
            raw = value.encode("latin-1") if isinstance(value, str) else bytes(value)
        except UnicodeEncodeError:
            raise PduError(
                f"field {f.name}: {value!r} is not Latin-1 text (C-Octet strings are octets)",
                status=FIELD_STATUS.get(f.name, st.ESME_RINVCMDLEN),
            ) from None
        if len(raw) >= f.size:
            raise PduError(
                f"field {f.name}: {len(raw)} octets, at most {f.size - 1} allowed",
                status=FIELD_STATUS.get(f.name, st.ESME_RINVCMDLEN),
            )
        return raw + b"\x00"
    if kind is Kind.INT1:
        if not 0 <= value <= 0xFF:
            raise PduError(f"field {f.name}: {value} does not fit one octet", status=st.ESME_RINVCMDLEN)
        return _U8.pack(value)
    if kind is Kind.SM:
        if len(value) > f.size:
            raise PduError(
                f"short_message of {len(value)} octets exceeds {f.size}; use message_payload",
                status=st.ESME_RINVMSGLEN,
            )
        return _U8.pack(len(value)) + bytes(value)
    if kind is Kind.DEST_LIST:
        out = [_U8.pack(len(value))]
        for flag, ton, npi, addr in value:
            if flag == 1:
                out.append(bytes((1, ton, npi)) + _encode_field(_c("destination_addr", 21), addr))
            else:
                out.append(b"\x02" + _encode_field(_c("dl_name", 21), addr))
        return b"".join(out)
    if kind is Kind.UNSUCCESS_LIST:
        out = [_U8.pack(len(value))]
        for ton, npi, addr, err in value:
            out.append(bytes((ton, npi)) + _encode_field(_c("destination_addr", 21), addr) + _U32.pack(err))
        return b"".join(out)
    s = _U16 if kind is Kind.INT2 else _U32
    return s.pack(value)


def make(
    command_id: int,
    sequence: int = 0,
    status: int = 0,
    tlvs: Mapping[int, bytes] | None = None,
    **params: Any,
) -> Pdu:
    """Build a PDU, checking that every parameter is a field of this command."""
    kinds = _FIELD_KINDS.get(command_id)
    if kinds is None:
        raise PduError(f"unknown command_id {command_id:#010x}", status=st.ESME_RINVCMDID)
    for name in params:
        if name not in kinds:
            raise PduError(f"{command_name(command_id)} has no field {name!r}", status=st.ESME_RINVCMDLEN)
    return Pdu(command_id, sequence, status, dict(params), dict(tlvs or {}))


def tlv_u8(value: int) -> bytes:
    return _U8.pack(value)


def tlv_u16(value: int) -> bytes:
    return _U16.pack(value)


def tlv_cstr(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


# Integer TLVs and their sizes, for typed access in tests and tooling (§5.3.2).
TLV_INT_SIZES: dict[int, int] = {
    Tag.MESSAGE_STATE: 1,
    Tag.SAR_MSG_REF_NUM: 2,
    Tag.SAR_TOTAL_SEGMENTS: 1,
    Tag.SAR_SEGMENT_SEQNUM: 1,
    Tag.SC_INTERFACE_VERSION: 1,
    Tag.SOURCE_PORT: 2,
    Tag.DESTINATION_PORT: 2,
    Tag.MORE_MESSAGES_TO_SEND: 1,
    Tag.USSD_SERVICE_OP: 1,
    Tag.USER_MESSAGE_REFERENCE: 2,
    Tag.PAYLOAD_TYPE: 1,
    Tag.PRIVACY_INDICATOR: 1,
    Tag.LANGUAGE_INDICATOR: 1,
}


_SIMPLE = {Kind.COCTET: "c", Kind.INT1: "i", Kind.SM: "sm"}


def _compile_all() -> tuple[dict[int, Encoder], dict[int, Decoder]]:
    encoders: dict[int, Encoder] = {}
    decoders: dict[int, Decoder] = {}
    for cid, body in BODIES.items():
        if not body or any(f.kind not in _SIMPLE for f in body):
            continue
        spec = [(f.name, _SIMPLE[f.kind], f.size) for f in body]
        enc, dec = compile_encoder(spec), compile_decoder(spec)
        if enc is not None and dec is not None:
            encoders[cid], decoders[cid] = enc, dec
    return encoders, decoders


_ENCODERS, _DECODERS = _compile_all()
