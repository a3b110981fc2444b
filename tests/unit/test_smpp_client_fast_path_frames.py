"""The client fast path's look at a deliver_sm's esm_class before decoding it (§4.6.1, §5.2.12)."""

from __future__ import annotations

import pytest

from channels.smpp import pdu as codec
from channels.smpp.constants import CommandId, EsmClass
from channels.smpp.fastpath import _is_receipt


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
    assert _is_receipt(deliver(esm_class)) is expected
    assert _is_receipt(deliver(esm_class, service_type="", source_addr="", destination_addr="")) is expected


def test_malformed_frames_are_left_to_the_general_path() -> None:
    frame = deliver(EsmClass.SMSC_DELIVERY_RECEIPT)
    assert not _is_receipt(frame[:20])  # cut inside the addresses
    assert not _is_receipt(frame[:16] + b"TOOLONGSERVICE\x00" + frame[20:])  # service_type over 6 octets
    no_nul = frame[:16] + b"CMT" + b"x" * 40  # no terminator where the addresses should end
    assert not _is_receipt(no_nul)
