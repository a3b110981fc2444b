"""The client fast path's reading of a deliver_sm receipt straight from its frame (§4.6.1, §5.2.12):
the same short_message, data_coding and TLVs as the codec decodes, and None wherever the codec would
not decode the frame or the frame is no receipt."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from channels.smpp import pdu as codec
from channels.smpp.constants import RECEIPT_TYPES, CommandId, EsmClass, Tag
from channels.smpp.fastpath import receipt_fields


def deliver(esm_class: int, **fields: object) -> bytes:
    values: dict[str, object] = {
        "service_type": "CMT",
        "source_addr_ton": 1,
        "source_addr_npi": 1,
        "source_addr": "8613800138000",
        "dest_addr_ton": 0,
        "dest_addr_npi": 1,
        "destination_addr": "10086",
        "esm_class": esm_class,
        "short_message": b"id:1 stat:DELIVRD",
    }
    values.update(fields)
    return codec.encode(codec.make(CommandId.DELIVER_SM, sequence=7, **values))


@pytest.mark.parametrize(
    ("esm_class", "expected"),
    [
        (EsmClass.SMSC_DELIVERY_RECEIPT, True),
        (EsmClass.SME_DELIVERY_ACK, True),
        (EsmClass.INTERMEDIATE_NOTIFICATION, True),
        (EsmClass.SMSC_DELIVERY_RECEIPT | EsmClass.UDHI, True),
        (EsmClass.DEFAULT, False),  # an MO reply
        (EsmClass.UDHI, False),  # one part of a long MO reply
        (EsmClass.USER_ACK, False),
    ],
)
def test_esm_class_is_read_past_the_three_addresses(esm_class: int, expected: bool) -> None:
    assert (receipt_fields(deliver(esm_class)) is not None) is expected
    frame = deliver(esm_class, service_type="", source_addr="", destination_addr="")
    assert (receipt_fields(frame) is not None) is expected


def test_malformed_frames_are_left_to_the_general_path() -> None:
    frame = deliver(EsmClass.SMSC_DELIVERY_RECEIPT)
    assert receipt_fields(frame[:20]) is None  # cut inside the addresses
    assert receipt_fields(frame[:16] + b"TOOLONGSERVICE\x00" + frame[20:]) is None  # over 6 octets
    no_nul = frame[:16] + b"CMT" + b"x" * 40  # no terminator where the addresses should end
    assert receipt_fields(no_nul) is None
    assert receipt_fields(frame[:-3]) is None  # short_message runs past the frame
    tlv = frame + b"\x00\x1e\x00\x09abc"  # a TLV whose length runs past the frame
    assert receipt_fields(tlv) is None


def as_decoded(frame: bytes) -> tuple[bytes, int, dict[int, bytes]] | None:
    """What the general path makes of the frame: the fields of a receipt, or None."""
    try:
        pdu = codec.decode(frame)
    except codec.PduError:
        return None
    if pdu.params["esm_class"] & EsmClass.TYPE_MASK not in RECEIPT_TYPES:
        return None
    return pdu.params["short_message"], pdu.params["data_coding"], pdu.tlvs


def test_a_receipt_reads_as_the_codec_decodes_it() -> None:
    frame = deliver(
        EsmClass.SMSC_DELIVERY_RECEIPT,
        schedule_delivery_time="261123120000000+",
        validity_period="000001000000000R",
        data_coding=8,
        short_message="id:1 stat:DELIVRD".encode("utf-16-be"),
    )
    frame = frame + b"\x00\x1e\x00\x04ab1\x00" + b"\x04\x27\x00\x01\x02"
    frame = len(frame).to_bytes(4, "big") + frame[4:]  # command_length with the TLVs
    fields = receipt_fields(frame)
    assert fields == as_decoded(frame)
    assert fields is not None and fields[1] == 8 and fields[0].startswith(b"\x00i")
    assert fields[2][Tag.RECEIPTED_MESSAGE_ID] == b"ab1\x00"


@given(
    esm=hs.sampled_from([0x00, 0x04, 0x08, 0x20, 0x44, 0x40]),
    strings=hs.lists(hs.binary(min_size=0, max_size=24).filter(lambda b: 0 not in b), min_size=5, max_size=5),
    ints=hs.binary(min_size=8, max_size=8),
    text=hs.binary(max_size=260),
    tail=hs.binary(max_size=24),
    cut=hs.integers(min_value=0, max_value=400),
)
def test_any_frame_reads_as_the_codec_decodes_it_or_is_left_alone(
    esm: int, strings: list[bytes], ints: bytes, text: bytes, tail: bytes, cut: int
) -> None:
    # Fields of any length (over the maximum sizes too), sm_length that lies, stray TLV octets, cuts.
    service, source, dest, schedule, validity = (s + b"\x00" for s in strings)
    body = (
        service + ints[0:2] + source + ints[2:4] + dest + bytes([esm]) + ints[4:6] + schedule + validity
        + ints[6:8] + bytes([ints[1], 0, len(text) % 256]) + text + tail
    )
    body = body[: max(0, len(body) - cut % 8)] if cut % 3 == 0 else body
    frame = (16 + len(body)).to_bytes(4, "big") + bytes.fromhex("00000005" "00000000" "00000007") + body
    assert receipt_fields(frame) == as_decoded(frame)
