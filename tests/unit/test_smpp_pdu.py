"""The SMPP 3.4 PDU codec (channels.smpp.pdu): the byte examples of PROTOCOLS.md §1.2, §1.3, §1.6 and
§3.1 decode and re-encode byte-exact, every command of BODIES round-trips, unknown TLVs survive in
order, error responses with 16- and 17-octet bodies, and malformed input raises PduError carrying the
command_status a receiver must answer with (SMPP v3.4 §5.1.3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as s

from channels.smpp import pdu as codec
from channels.smpp import status as st
from channels.smpp.constants import CommandId, Tag
from channels.smpp.pdu import BODIES, F, Kind, Pdu, PduError, decode, encode, make

C = CommandId


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(" ".join(text.split()))


# -- PROTOCOLS.md vectors -------------------------------------------------------------------------

BIND_TRX = hexbytes(
    "00 00 00 23 00 00 00 09 00 00 00 00 00 00 00 01 6b 61 6e 6e 65 6c 00 73 65 63 72 65 74 00 00 34"
    " 00 00 00"
)
ENQUIRE_LINK_RESP = hexbytes("00 00 00 10 80 00 00 15 00 00 00 00 00 00 00 07")
SUBMIT_SM_RESP_THROTTLED = hexbytes("00 00 00 11 80 00 00 04 00 00 00 58 00 00 00 08 00")
SUBMIT_SM_HELLO = hexbytes(
    """00 00 00 36 00 00 00 04 00 00 00 00 00 00 00 08  00  05 00 41 43 4d 45 00
    01 01 34 34 37 37 30 30 39 30 30 31 32 33 00  00 00 00  00  00  01 00 00 00  05 48 65 6c 6c 6f"""
)
RECEIPT_TEXT = (
    b"id:0A1B2C3D sub:001 dlvrd:001 submit date:2511231540 done date:2511231541 stat:DELIVRD err:000"
    b" text:Hello"
)
RECEIPT_TLVS = hexbytes("00 1e 00 09 30 41 31 42 32 43 33 44 00  04 27 00 01 02")


def receipt_deliver_sm() -> bytes:
    """§3.1's deliver_sm: the receipt of the §1.6 submit (addresses swapped), esm_class 04, dcs 00."""
    body = (
        b"\x00"  # service_type
        + b"\x01\x01447700900123\x00"  # source: the original recipient
        + b"\x05\x00ACME\x00"  # destination: the original sender
        + b"\x04\x00\x00"  # esm_class 04 receipt, protocol_id, priority_flag
        + b"\x00\x00"  # schedule_delivery_time, validity_period
        + b"\x00\x00\x00\x00"  # registered_delivery, replace_if_present, data_coding 00, default msg
        + bytes((len(RECEIPT_TEXT),))
        + RECEIPT_TEXT
        + RECEIPT_TLVS
    )
    return (16 + len(body)).to_bytes(4, "big") + hexbytes("00 00 00 05 00 00 00 00 00 00 00 2a") + body


def test_bind_transceiver_vector_decodes_and_reencodes() -> None:
    pdu = decode(BIND_TRX)
    assert (pdu.command_id, pdu.sequence, pdu.status) == (C.BIND_TRANSCEIVER, 1, 0)
    assert pdu.params == {
        "system_id": "kannel",
        "password": "secret",
        "system_type": "",
        "interface_version": 0x34,
        "addr_ton": 0,
        "addr_npi": 0,
        "address_range": "",
    }
    assert pdu.tlvs == {}
    assert encode(pdu) == BIND_TRX
    built = make(
        C.BIND_TRANSCEIVER, 1, system_id="kannel", password="secret", interface_version=0x34
    )
    assert encode(built) == BIND_TRX


def test_enquire_link_resp_vector() -> None:
    pdu = decode(ENQUIRE_LINK_RESP)
    assert (pdu.command_id, pdu.sequence, pdu.status, pdu.params, pdu.tlvs) == (
        C.ENQUIRE_LINK_RESP,
        7,
        0,
        {},
        {},
    )
    assert pdu.is_response and pdu.name == "enquire_link_resp"
    assert encode(pdu) == ENQUIRE_LINK_RESP
    assert encode(make(C.ENQUIRE_LINK_RESP, 7)) == ENQUIRE_LINK_RESP


def test_submit_sm_vector_from_1_6() -> None:
    pdu = decode(SUBMIT_SM_HELLO)
    assert (pdu.command_id, pdu.sequence) == (C.SUBMIT_SM, 8)
    assert pdu.params == {
        "service_type": "",
        "source_addr_ton": 5,
        "source_addr_npi": 0,
        "source_addr": "ACME",
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "destination_addr": "447700900123",
        "esm_class": 0,
        "protocol_id": 0,
        "priority_flag": 0,
        "schedule_delivery_time": "",
        "validity_period": "",
        "registered_delivery": 1,
        "replace_if_present_flag": 0,
        "data_coding": 0,
        "sm_default_msg_id": 0,
        "short_message": b"Hello",
    }
    assert encode(pdu) == SUBMIT_SM_HELLO
    built = make(
        C.SUBMIT_SM,
        8,
        source_addr_ton=5,
        source_addr="ACME",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="447700900123",
        registered_delivery=1,
        short_message=b"Hello",
    )
    assert encode(built) == SUBMIT_SM_HELLO


def test_receipt_deliver_sm_from_3_1() -> None:
    raw = receipt_deliver_sm()
    pdu = decode(raw)
    assert (pdu.command_id, pdu.sequence) == (C.DELIVER_SM, 42)
    assert pdu.get("esm_class") == 0x04
    assert pdu.get("data_coding") == 0
    assert pdu.get("short_message") == RECEIPT_TEXT
    assert len(RECEIPT_TEXT) == 0x69
    assert list(pdu.tlvs) == [Tag.RECEIPTED_MESSAGE_ID, Tag.MESSAGE_STATE]
    assert pdu.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == "0A1B2C3D"
    assert pdu.tlv_int(Tag.MESSAGE_STATE) == 2
    assert encode(pdu) == raw


def test_submit_sm_resp_throttled_17_octets() -> None:
    pdu = decode(SUBMIT_SM_RESP_THROTTLED)
    assert (pdu.command_id, pdu.status, pdu.sequence) == (C.SUBMIT_SM_RESP, st.ESME_RTHROTTLED, 8)
    assert pdu.get("message_id") == ""
    assert pdu.tlvs == {}
    assert encode(pdu) == SUBMIT_SM_RESP_THROTTLED


@pytest.mark.parametrize(
    "command_id",
    [C.SUBMIT_SM_RESP, C.DELIVER_SM_RESP, C.DATA_SM_RESP, C.QUERY_SM_RESP, C.BIND_TRANSCEIVER_RESP],
)
def test_error_response_with_omitted_body_16_octets(command_id: int) -> None:
    raw = (16).to_bytes(4, "big") + command_id.to_bytes(4, "big") + hexbytes("00 00 00 58 00 00 00 09")
    pdu = decode(raw)
    assert (pdu.status, pdu.sequence, pdu.params, pdu.tlvs) == (st.ESME_RTHROTTLED, 9, {}, {})
    assert pdu.get("message_id" if command_id != C.BIND_TRANSCEIVER_RESP else "system_id") == ""
    assert encode(pdu) == raw
    assert encode(Pdu(command_id, 9, st.ESME_RTHROTTLED)) == raw


@pytest.mark.parametrize("command_id", [C.SUBMIT_SM_RESP, C.DELIVER_SM_RESP, C.DATA_SM_RESP])
def test_error_response_with_lone_nul_17_octets(command_id: int) -> None:
    raw = (17).to_bytes(4, "big") + command_id.to_bytes(4, "big") + hexbytes("00 00 00 08 00 00 00 03 00")
    pdu = decode(raw)
    assert pdu.status == st.ESME_RSYSERR and pdu.get("message_id") == ""
    assert encode(pdu) == raw


def test_success_response_without_its_message_id_is_malformed() -> None:
    raw = hexbytes("00 00 00 10 80 00 00 04 00 00 00 00 00 00 00 05")
    with pytest.raises(PduError) as info:
        decode(raw)
    assert info.value.status == st.ESME_RINVMSGID
    assert (info.value.command_id, info.value.sequence) == (C.SUBMIT_SM_RESP, 5)


def test_error_response_with_tlvs_keeps_its_body() -> None:
    # data_sm_resp errors carry delivery_failure_reason (§4.7.2): the TLV must follow the message_id,
    # not take its place.
    pdu = Pdu(C.DATA_SM_RESP, 5, 0xFE, {}, {Tag.DELIVERY_FAILURE_REASON: b"\x01"})
    raw = encode(pdu)
    assert raw == hexbytes("00 00 00 16 80 00 01 03 00 00 00 fe 00 00 00 05 00 04 25 00 01 01")
    back = decode(raw)
    assert back.get("message_id") == "" and back.tlvs == {Tag.DELIVERY_FAILURE_REASON: b"\x01"}
    assert encode(back) == raw


# -- unknown TLVs ---------------------------------------------------------------------------------


def test_unknown_tlvs_preserved_in_arrival_order() -> None:
    tlvs = {
        0x3177: b"\x01\x02\x03",  # vendor
        Tag.SAR_MSG_REF_NUM: b"\x00\x2a",
        0x1400: b"",  # vendor, empty value
        0x0428: b"\x05",  # SMPP 5.0 congestion_state
        Tag.MESSAGE_PAYLOAD: b"Hi there",
        0x2001: b"vendor\x00",
    }
    raw = encode(make(C.SUBMIT_SM, 77, destination_addr="123", tlvs=tlvs))
    pdu = decode(raw)
    assert list(pdu.tlvs.items()) == list(tlvs.items())
    assert encode(pdu) == raw
    reordered = dict(reversed(list(tlvs.items())))
    raw2 = encode(make(C.SUBMIT_SM, 77, destination_addr="123", tlvs=reordered))
    assert raw2 != raw and list(decode(raw2).tlvs) == list(reordered)


def test_unknown_tlv_on_a_response() -> None:
    raw = encode(make(C.BIND_TRANSMITTER_RESP, 2, tlvs={0x1401: b"x", Tag.SC_INTERFACE_VERSION: b"\x34"},
                      system_id="SMSC"))
    pdu = decode(raw)
    assert pdu.get("system_id") == "SMSC"
    assert list(pdu.tlvs.items()) == [(0x1401, b"x"), (Tag.SC_INTERFACE_VERSION, b"\x34")]
    assert pdu.tlv_int(Tag.SC_INTERFACE_VERSION) == 0x34


# -- every command round-trips --------------------------------------------------------------------

LATIN1_NO_NUL = s.characters(min_codepoint=1, max_codepoint=255)


def field_values(f: F) -> s.SearchStrategy[Any]:
    if f.kind is Kind.COCTET:
        return s.text(LATIN1_NO_NUL, max_size=f.size - 1)
    if f.kind is Kind.INT1:
        return s.integers(0, 255)
    if f.kind is Kind.SM:
        return s.binary(max_size=f.size)
    addr = s.text(LATIN1_NO_NUL, max_size=20)
    octet = s.integers(0, 255)
    if f.kind is Kind.DEST_LIST:
        sme = s.tuples(s.just(1), octet, octet, addr)
        dl = s.tuples(s.just(2), s.just(0), s.just(0), addr)
        return s.lists(s.one_of(sme, dl), max_size=6).map(tuple)
    if f.kind is Kind.UNSUCCESS_LIST:
        return s.lists(s.tuples(octet, octet, addr, s.integers(0, 0xFFFFFFFF)), max_size=6).map(tuple)
    raise AssertionError(f"no strategy for {f.kind}")


TLV_MAPS = s.dictionaries(s.integers(0, 0xFFFF), s.binary(max_size=40), max_size=5)


@s.composite
def pdus(draw: s.DrawFn, command_id: int | None = None) -> Pdu:
    cid = draw(s.sampled_from(sorted(BODIES))) if command_id is None else command_id
    params = {f.name: draw(field_values(f)) for f in BODIES[cid]}
    status = draw(s.sampled_from([0, 0, st.ESME_RTHROTTLED])) if cid & 0x80000000 else 0
    if status and draw(s.booleans()):
        params = {}  # an error response whose body is left out (§4.4.2)
    return Pdu(cid, draw(s.integers(1, 0x7FFFFFFF)), status, params, draw(TLV_MAPS))


@pytest.mark.parametrize("command_id", sorted(BODIES), ids=codec.command_name)
@settings(max_examples=25, deadline=None)
@given(data=s.data())
def test_every_command_round_trips(command_id: int, data: s.DataObject) -> None:
    pdu = data.draw(pdus(command_id))
    raw = encode(pdu)
    assert int.from_bytes(raw[:4], "big") == len(raw)
    back = decode(raw)
    assert (back.command_id, back.sequence, back.status) == (pdu.command_id, pdu.sequence, pdu.status)
    if pdu.params or not pdu.tlvs:
        assert back.params == pdu.params
    for f in BODIES[command_id]:
        assert back.get(f.name) == pdu.get(f.name)
    assert list(back.tlvs.items()) == list(pdu.tlvs.items())
    assert encode(back) == raw


@pytest.mark.parametrize("command_id", sorted(BODIES), ids=codec.command_name)
def test_every_command_with_default_fields(command_id: int) -> None:
    raw = encode(make(command_id, 3))
    back = decode(raw)
    assert back.command_id == command_id and back.sequence == 3
    for f in BODIES[command_id]:
        assert back.get(f.name) == codec._DEFAULTS[f.kind]
    assert encode(back) == raw


def test_submit_multi_lists() -> None:
    dests = ((1, 1, 1, "447700900001"), (2, 0, 0, "friends"), (1, 0, 0, "12345"))
    raw = encode(make(C.SUBMIT_MULTI, 4, dest_addresses=dests, short_message=b"x"))
    assert decode(raw).get("dest_addresses") == dests
    unsuccess = ((1, 1, "447700900001", st.ESME_RINVDSTADR),)
    raw = encode(make(C.SUBMIT_MULTI_RESP, 4, message_id="M1", unsuccess_smes=unsuccess))
    assert decode(raw).params == {"message_id": "M1", "unsuccess_smes": unsuccess}


# -- malformed input ------------------------------------------------------------------------------


def corrupt(raw: bytes, at: int, value: bytes) -> bytes:
    return raw[:at] + value + raw[at + len(value) :]


def relength(body_and_header: bytes) -> bytes:
    return len(body_and_header).to_bytes(4, "big") + body_and_header[4:]


def assert_pdu_error(raw: bytes, status: int, *, command_id: int | None = None, sequence: int | None = None,
                     match: str | None = None) -> PduError:
    with pytest.raises(PduError, match=match) as info:
        decode(raw)
    assert info.value.status == status, (hex(info.value.status), str(info.value))
    if command_id is not None:
        assert info.value.command_id == command_id
    if sequence is not None:
        assert info.value.sequence == sequence
    return info.value


@pytest.mark.parametrize("size", [0, 1, 4, 15])
def test_short_header(size: int) -> None:
    assert_pdu_error(ENQUIRE_LINK_RESP[:size], st.ESME_RINVCMDLEN)


def test_command_length_mismatch() -> None:
    assert_pdu_error(BIND_TRX + b"\x00", st.ESME_RINVCMDLEN, command_id=C.BIND_TRANSCEIVER, sequence=1)
    assert_pdu_error(BIND_TRX[:-1], st.ESME_RINVCMDLEN, command_id=C.BIND_TRANSCEIVER, sequence=1)
    assert_pdu_error(corrupt(BIND_TRX, 0, b"\x00\x00\x00\x10"), st.ESME_RINVCMDLEN, sequence=1)


def test_unknown_command_id_keeps_sequence() -> None:
    for cid in (0x00000111, 0x00000112, 0x0000000A, 0x80000111):
        raw = (16).to_bytes(4, "big") + cid.to_bytes(4, "big") + hexbytes("00 00 00 00 00 00 30 39")
        assert_pdu_error(raw, st.ESME_RINVCMDID, command_id=cid, sequence=0x3039, match="unknown command_id")


@pytest.mark.parametrize(
    ("field", "status"),
    [
        ("system_id", st.ESME_RINVSYSID),
        ("password", st.ESME_RINVPASWD),
        ("system_type", st.ESME_RINVCMDLEN),  # no specific status for it in FIELD_STATUS
    ],
)
def test_unterminated_c_octet_in_bind(field: str, status: int) -> None:
    fields = {"system_id": "kannel", "password": "secret", "system_type": ""}
    sizes = {"system_id": 16, "password": 9, "system_type": 13}
    fields[field] = "A" * sizes[field]  # one octet too many: no room for the NUL within the maximum
    body = b"".join(v.encode() + b"\x00" for v in fields.values()) + b"\x34\x00\x00\x00"
    raw = relength(BIND_TRX[:16] + body)
    err = assert_pdu_error(raw, status, command_id=C.BIND_TRANSCEIVER, sequence=1, match=field)
    assert "not terminated" in str(err)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("service_type", st.ESME_RINVSERTYP),
        ("source_addr", st.ESME_RINVSRCADR),
        ("destination_addr", st.ESME_RINVDSTADR),
        ("schedule_delivery_time", st.ESME_RINVSCHED),
        ("validity_period", st.ESME_RINVEXPIRY),
    ],
)
def test_unterminated_c_octet_in_submit_names_the_field(name: str, status: int) -> None:
    good = decode(SUBMIT_SM_HELLO)
    size = next(f.size for f in BODIES[C.SUBMIT_SM] if f.name == name)
    # Encode with a placeholder, then splice the over-long value in without its NUL.
    placeholder = "\x01" * (size - 1)
    raw = encode(Pdu(C.SUBMIT_SM, 8, 0, {**good.params, name: placeholder}))
    raw = relength(raw.replace(placeholder.encode() + b"\x00", b"Z" * (size + 2), 1))
    assert_pdu_error(raw, status, command_id=C.SUBMIT_SM, sequence=8, match=name)


def test_c_octet_running_off_the_end() -> None:
    raw = relength(SUBMIT_SM_HELLO[:16] + b"\x00\x05\x00ACME")  # source_addr without NUL, PDU ends
    assert_pdu_error(raw, st.ESME_RINVSRCADR, command_id=C.SUBMIT_SM, sequence=8)


def test_sm_length_past_the_end() -> None:
    raw = corrupt(SUBMIT_SM_HELLO, len(SUBMIT_SM_HELLO) - 6, b"\x06")  # sm_length 6, 5 octets follow
    assert_pdu_error(raw, st.ESME_RINVMSGLEN, command_id=C.SUBMIT_SM, sequence=8, match="sm_length")
    raw = corrupt(SUBMIT_SM_HELLO, len(SUBMIT_SM_HELLO) - 6, b"\xfe")
    assert_pdu_error(raw, st.ESME_RINVMSGLEN)


def test_body_ending_before_a_mandatory_field() -> None:
    raw = relength(SUBMIT_SM_HELLO[:-6])  # everything up to sm_length
    assert_pdu_error(raw, st.ESME_RINVMSGLEN, command_id=C.SUBMIT_SM, match="short_message")
    raw = relength(BIND_TRX[:-3])  # ends after interface_version
    assert_pdu_error(raw, st.ESME_RINVCMDLEN, command_id=C.BIND_TRANSCEIVER, match="addr_ton")


def test_tlv_length_past_the_end() -> None:
    raw = SUBMIT_SM_HELLO + hexbytes("04 24 00 09") + b"12345678"  # declares 9, carries 8
    assert_pdu_error(relength(raw), st.ESME_RINVTLVLEN, command_id=C.SUBMIT_SM, sequence=8, match="0x0424")
    raw = receipt_deliver_sm()
    raw = corrupt(raw, len(raw) - 3, b"\x00\x02")  # message_state declares 2 octets, 1 follows
    assert_pdu_error(raw, st.ESME_RINVTLVLEN, command_id=C.DELIVER_SM, sequence=42)


@pytest.mark.parametrize("tail", ["04", "04 24", "04 24 00"])
def test_truncated_tlv_header(tail: str) -> None:
    raw = relength(SUBMIT_SM_HELLO + hexbytes("00 1e 00 02 41 00") + hexbytes(tail))
    assert_pdu_error(raw, st.ESME_RINVTLVSTREAM, command_id=C.SUBMIT_SM, sequence=8)


def test_invalid_dest_flag_in_submit_multi() -> None:
    raw = encode(make(C.SUBMIT_MULTI, 4, dest_addresses=((1, 1, 1, "4477"),)))
    at = 16 + 1 + 3 + 1  # service_type NUL, source ton/npi/NUL, number_of_dests
    assert raw[at] == 1
    assert_pdu_error(corrupt(raw, at, b"\x03"), st.ESME_RINVDESTFLAG, command_id=C.SUBMIT_MULTI)


@settings(max_examples=150, deadline=None)
@given(pdus(), s.data())
def test_any_truncation_or_corruption_raises_only_pdu_error(pdu: Pdu, data: s.DataObject) -> None:
    raw = encode(pdu)
    cut = data.draw(s.integers(0, len(raw)))
    junk = data.draw(s.binary(max_size=8))
    mangled = bytearray(raw[:cut] + junk)
    if len(mangled) >= 4:
        mangled[:4] = len(mangled).to_bytes(4, "big")
    try:
        decode(bytes(mangled))
    except PduError as exc:
        assert exc.status in st.STATUSES and exc.status != 0


# -- encoding errors name the field ---------------------------------------------------------------


def test_fast_codec_agrees_with_the_table_walk() -> None:
    for cid, body in BODIES.items():
        if cid not in codec._ENCODERS:
            continue
        sample: dict[Kind, Any] = {Kind.COCTET: "x", Kind.INT1: 7, Kind.SM: b"sm"}
        pdu = Pdu(cid, 1, 0, {f.name: sample[f.kind] for f in body})
        walked = b"".join(codec._encode_field(f, pdu.params.get(f.name)) for f in body)
        assert codec._ENCODERS[cid](pdu.params) == walked
        fast_out: dict[str, Any] = {}
        walk_out: dict[str, Any] = {}
        raw = encode(pdu)
        assert codec._DECODERS[cid](raw, 16, fast_out) == codec._decode_body(
            raw, 16, body, walk_out, tolerate_truncation=False
        )
        assert fast_out == walk_out == pdu.params


def test_non_latin1_text_in_a_c_octet_field_is_a_pdu_error_naming_it() -> None:
    # Sender ids come from users (Message.sender); "Ωmega" cannot be a C-Octet string (Latin-1).
    with pytest.raises(PduError, match="source_addr") as info:
        encode(make(C.SUBMIT_SM, source_addr="Ωmega", destination_addr="447700900123"))
    assert info.value.status == st.ESME_RINVSRCADR


def test_encoding_errors_name_the_field() -> None:
    with pytest.raises(PduError, match="destination_addr") as info:
        encode(make(C.SUBMIT_SM, destination_addr="1" * 21))
    assert info.value.status == st.ESME_RINVDSTADR
    with pytest.raises(PduError, match="message_payload") as info:
        encode(make(C.SUBMIT_SM, short_message=b"x" * 255))
    assert info.value.status == st.ESME_RINVMSGLEN
    with pytest.raises(PduError, match="esm_class"):
        encode(make(C.SUBMIT_SM, esm_class=256))
    with pytest.raises(PduError, match="no field 'text'"):
        make(C.SUBMIT_SM, text="hello")
    with pytest.raises(PduError) as info:
        make(0x00000111)
    assert info.value.status == st.ESME_RINVCMDID
    with pytest.raises(PduError):
        encode(Pdu(0x00000111))
