"""Differential test of our SMPP 3.4 codec against smpplib 2.2.4, the reference (issue 2; PROTOCOLS.md §8).

For generated PDUs of every command smpplib knows, our encoder's bytes parse in smpplib to the same header
and fields, and smpplib's bytes decode in ours to the same fields (and re-encode byte-exact). smpplib's
traps are handled as §8 says: a stub client (it ignores ``sequence=`` and needs ``next_sequence()``),
``str`` C-Octet fields in and ``bytes`` out, ``allow_unknown_opt_params=True`` (it drops unknown TLVs).
TLVs are drawn from those whose smpplib definition matches SMPP v3.4 §5.3.2 (same kind and size), so a
disagreement is a disagreement about the spec, not one of smpplib's own deviations."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import smpplib.command
import smpplib.consts
import smpplib.smpp
from hypothesis import given, settings
from hypothesis import strategies as s
from smpplib.ptypes import ostr

from channels.smpp import pdu as codec
from channels.smpp.constants import CommandId
from channels.smpp.pdu import BODIES, F, Kind, Pdu, decode, encode

C = CommandId


class StubClient:
    """What smpplib's PDUs ask of a client: a sequence, and a generator that consumes nothing."""

    sequence = 0

    def next_sequence(self) -> int:
        return 0


STUB = StubClient()
logging.getLogger("smpplib.command").setLevel(logging.ERROR)  # it warns for each unknown TLV it drops

# Commands smpplib 2.2.4 implements (its command.factory), by our id.
COMMANDS: dict[int, str] = {
    cid: codec.command_name(cid)
    for cid in (
        C.BIND_TRANSMITTER, C.BIND_TRANSMITTER_RESP, C.BIND_RECEIVER, C.BIND_RECEIVER_RESP,
        C.BIND_TRANSCEIVER, C.BIND_TRANSCEIVER_RESP, C.SUBMIT_SM, C.SUBMIT_SM_RESP, C.DELIVER_SM,
        C.DELIVER_SM_RESP, C.DATA_SM, C.DATA_SM_RESP, C.QUERY_SM, C.QUERY_SM_RESP, C.ENQUIRE_LINK,
        C.ENQUIRE_LINK_RESP, C.UNBIND, C.UNBIND_RESP, C.GENERIC_NACK, C.ALERT_NOTIFICATION,
    )
}

# SMPP v3.4 §5.3.2: TLV value kinds and sizes ("int", octets) / ("cstr", max incl. NUL) / ("octets", max).
SPEC_TLVS: dict[str, tuple[str, int]] = {
    "dest_addr_subunit": ("int", 1),
    "source_addr_subunit": ("int", 1),
    "dest_network_type": ("int", 1),
    "source_network_type": ("int", 1),
    "dest_bearer_type": ("int", 1),
    "source_bearer_type": ("int", 1),
    "qos_time_to_live": ("int", 4),
    "payload_type": ("int", 1),
    "ms_msg_wait_facilities": ("int", 1),
    "privacy_indicator": ("int", 1),
    "user_message_reference": ("int", 2),
    "user_response_code": ("int", 1),
    "source_port": ("int", 2),
    "destination_port": ("int", 2),
    "sar_msg_ref_num": ("int", 2),
    "language_indicator": ("int", 1),
    "sar_total_segments": ("int", 1),
    "sar_segment_seqnum": ("int", 1),
    "sc_interface_version": ("int", 1),
    "callback_num_pres_ind": ("int", 1),
    "number_of_messages": ("int", 1),
    "dpf_result": ("int", 1),
    "ms_availability_status": ("int", 1),
    "more_messages_to_send": ("int", 1),
    "message_state": ("int", 1),
    "ussd_service_op": ("int", 1),
    "display_time": ("int", 1),
    "sms_signal": ("int", 2),
    "ms_validity": ("int", 1),
    "its_reply_type": ("int", 1),
    "its_session_info": ("int", 2),
    "receipted_message_id": ("cstr", 65),
    "additional_status_info_text": ("cstr", 256),
    "message_payload": ("octets", 300),
    "network_error_code": ("octets", 3),
    "callback_num": ("octets", 19),
}


def smpplib_class(name: str) -> Any:
    return type(smpplib.command.factory(name, client=STUB))


def tlvs_for(name: str) -> dict[str, tuple[str, int]]:
    """The TLVs smpplib's class for ``name`` defines the way the spec does."""
    cls = smpplib_class(name)
    probe = cls(name, client=STUB)
    out: dict[str, tuple[str, int]] = {}
    for field, param in cls.params.items():
        if not probe.field_is_optional(field) or field not in SPEC_TLVS:
            continue
        kind, size = SPEC_TLVS[field]
        same_int = kind == "int" and param.type is int and getattr(param, "size", None) == size
        same_cstr = kind == "cstr" and param.type is str and not hasattr(param, "size")
        same_octets = kind == "octets" and param.type is ostr and field != "callback_num"
        if same_int or same_cstr or same_octets:
            out[field] = (kind, size)
    return out


TAGS = smpplib.consts.OPTIONAL_PARAMS
LATIN1 = s.characters(min_codepoint=1, max_codepoint=255)
ASCII = s.characters(min_codepoint=0x20, max_codepoint=0x7E)


def mandatory_fields(cid: int) -> tuple[F, ...]:
    return BODIES[cid]


def field_strategy(cid: int, f: F, *, for_smpplib: bool) -> s.SearchStrategy[Any]:
    if f.kind is Kind.INT1:
        return s.integers(0, 255)
    if f.kind is Kind.SM:
        return s.binary(max_size=254)
    assert f.kind is Kind.COCTET
    size = f.size
    if for_smpplib:
        smax = smpplib_class(COMMANDS[cid]).params[f.name].max
        size = min(size, smax)  # smpplib truncates to its own maximum (21 for data_sm addresses)
    min_size = 1 if (for_smpplib and cid == C.QUERY_SM and f.name == "message_id") else 0
    return s.text(LATIN1, min_size=min_size, max_size=size - 1)


def tlv_strategy(kind: str, size: int, *, for_smpplib: bool) -> s.SearchStrategy[Any]:
    floor = 1 if for_smpplib else 0  # smpplib omits empty string and octet TLVs
    if kind == "int":
        return s.integers(0, 256**size - 1)
    if kind == "cstr":
        return s.text(ASCII, min_size=floor, max_size=min(size - 1, 40))
    return s.binary(min_size=max(floor, 1 if size == 3 else 0), max_size=size).map(
        lambda b: b.ljust(3, b"\x00") if size == 3 else b
    )


def tlv_bytes(kind: str, size: int, value: Any) -> bytes:
    if kind == "int":
        return int(value).to_bytes(size, "big")
    if kind == "cstr":
        return str(value).encode("ascii") + b"\x00"
    return bytes(value)


def status_for(cid: int) -> s.SearchStrategy[int]:
    if cid & 0x80000000 and cid != C.GENERIC_NACK:
        return s.sampled_from([0, 0, 0, 0x58, 0x0E, 0x45])
    if cid == C.GENERIC_NACK:
        return s.sampled_from([0x02, 0x03])
    return s.just(0)


def smpplib_value(raw: Any, text: bool) -> Any:
    """smpplib parses every string as bytes (PROTOCOLS.md §8, pitfall 3): back to str for C-Octets."""
    return raw.decode("latin-1") if text and isinstance(raw, bytes) else raw


# -- ours -> smpplib --------------------------------------------------------------------------------


@s.composite
def our_pdus(draw: s.DrawFn, cid: int) -> tuple[Pdu, dict[str, Any]]:
    status = draw(status_for(cid))
    params = {f.name: draw(field_strategy(cid, f, for_smpplib=False)) for f in mandatory_fields(cid)}
    if status and draw(s.booleans()):
        params = {}  # error response, body omitted (§4.4.2)
    if "short_message" in params and draw(s.booleans()):
        params["short_message"] = b""
    chosen = draw(s.lists(s.sampled_from(sorted(tlvs_for(COMMANDS[cid])) or [""]), unique=True, max_size=4))
    specs = tlvs_for(COMMANDS[cid])
    tlv_values = {n: draw(tlv_strategy(*specs[n], for_smpplib=False)) for n in chosen if n}
    tlvs = {TAGS[n]: tlv_bytes(*specs[n], v) for n, v in tlv_values.items()}
    unknown = draw(s.dictionaries(s.sampled_from([0x1400, 0x2001, 0x3177, 0x0428]), s.binary(max_size=6),
                                  max_size=2))
    tlvs.update(unknown)
    return Pdu(cid, draw(s.integers(1, 0x7FFFFFFF)), status, params, tlvs), tlv_values


@pytest.mark.parametrize("cid", sorted(COMMANDS), ids=codec.command_name)
@settings(max_examples=30, deadline=None)
@given(data=s.data())
def test_our_bytes_parse_in_smpplib_to_the_same_fields(cid: int, data: s.DataObject) -> None:
    pdu, tlv_values = data.draw(our_pdus(cid))
    raw = encode(pdu)
    theirs = smpplib.smpp.parse_pdu(raw, client=STUB, allow_unknown_opt_params=True)
    assert theirs.command == COMMANDS[cid]
    assert (theirs.sequence, theirs.status) == (pdu.sequence, pdu.status)
    for f in mandatory_fields(cid):
        got = smpplib_value(getattr(theirs, f.name), f.kind is Kind.COCTET)
        if f.kind is Kind.SM and got is None:
            got = b""  # smpplib stops before a last field of length 0 (sm_length 0, no TLVs)
        if got is None and not pdu.params and not pdu.tlvs:
            continue  # a 16-octet error response: no body, smpplib leaves the field unset
        assert got == pdu.get(f.name), f.name  # an omitted field is sent as its default
    specs = tlvs_for(COMMANDS[cid])
    for name, value in tlv_values.items():
        assert smpplib_value(getattr(theirs, name), specs[name][0] == "cstr") == value, name


# -- smpplib -> ours --------------------------------------------------------------------------------


@s.composite
def smpplib_pdus(draw: s.DrawFn, cid: int) -> tuple[bytes, int, int, dict[str, Any], dict[int, bytes]]:
    name = COMMANDS[cid]
    fields = {f.name: draw(field_strategy(cid, f, for_smpplib=True)) for f in mandatory_fields(cid)}
    specs = tlvs_for(name)
    chosen = draw(s.lists(s.sampled_from(sorted(specs) or [""]), unique=True, max_size=4))
    tlv_values = {n: draw(tlv_strategy(*specs[n], for_smpplib=True)) for n in chosen if n}
    if "message_payload" in tlv_values and "short_message" in fields:
        fields["short_message"] = b""  # smpplib refuses both at once
    theirs = smpplib.smpp.make_pdu(name, client=STUB, **fields, **tlv_values)
    for key, value in {**fields, **tlv_values}.items():
        setattr(theirs, key, value)  # bind_*: smpplib overwrites interface_version in __init__
    seq = draw(s.integers(1, 0x7FFFFFFF))
    status = draw(status_for(cid))
    theirs.sequence = seq  # ignored as a constructor argument (PROTOCOLS.md §8, pitfall 1)
    theirs.status = status
    expected_tlvs = {TAGS[n]: tlv_bytes(*specs[n], v) for n, v in tlv_values.items()}
    return theirs.generate(), seq, status, fields, expected_tlvs


@pytest.mark.parametrize("cid", sorted(COMMANDS), ids=codec.command_name)
@settings(max_examples=30, deadline=None)
@given(data=s.data())
def test_smpplib_bytes_decode_in_ours_to_the_same_fields(cid: int, data: s.DataObject) -> None:
    raw, seq, status, fields, tlvs = data.draw(smpplib_pdus(cid))
    ours = decode(raw)
    assert (ours.command_id, ours.sequence, ours.status) == (cid, seq, status)
    assert ours.params == fields
    assert ours.tlvs == tlvs
    assert encode(ours) == raw


# -- fixed cases from PROTOCOLS.md -------------------------------------------------------------------


def test_protocols_bind_vector_matches_smpplib_bytes() -> None:
    theirs = smpplib.smpp.make_pdu("bind_transceiver", client=STUB, system_id="kannel", password="secret")
    theirs.sequence = 1
    raw = theirs.generate()
    vector = "00000023 00000009 00000000 00000001 6b616e6e656c00 73656372657400 00 34 00 00 00"
    assert raw == bytes.fromhex(vector)  # PROTOCOLS.md §1.2
    ours = codec.make(C.BIND_TRANSCEIVER, 1, system_id="kannel", password="secret", interface_version=0x34)
    assert encode(ours) == raw


def test_error_responses_of_16_and_17_octets_agree() -> None:
    theirs = smpplib.smpp.make_pdu("submit_sm_resp", client=STUB, status=0x58)
    theirs.sequence = 8
    raw17 = theirs.generate()
    assert len(raw17) == 17 and decode(raw17).status == 0x58
    raw16 = encode(Pdu(C.SUBMIT_SM_RESP, 8, 0x58))
    assert len(raw16) == 16
    parsed = smpplib.smpp.parse_pdu(raw16, client=STUB, allow_unknown_opt_params=True)
    assert (parsed.status, parsed.sequence, parsed.message_id) == (0x58, 8, None)
