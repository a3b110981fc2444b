"""The fast path's receipt bodies (simulators.smsc_receipts.Receipts.body, one ``bytes %`` on a shape
per state and second) against the general path's receipt PDU encoded by the codec: the same octets in
every receipt variant, for any run of states, dates (one second, two, a second boundary crossed,
back again), ids and previews, including previews with "%" and texts too long for short_message."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from channels.results import DeliveryState
from channels.smpp import pdu as codec
from channels.smpp.constants import CommandId, Tag
from channels.smpp.dlr import ReceiptStyle
from channels.smpp.pdu import Pdu
from simulators.smsc_receipts import Receipts
from simulators.smsc_scenario import IdStyle, ReceiptForm, SmscScenario, format_id

D, U, X = DeliveryState.DELIVERED, DeliveryState.UNDELIVERABLE, DeliveryState.EXPIRED
T0 = 1_763_912_407.0  # 2025-11-23 15:40:07 UTC

VARIANTS = [
    SmscScenario(),
    SmscScenario(receipt_form=ReceiptForm.TLV),
    SmscScenario(receipt_form=ReceiptForm.TEXT, hex_ids=False),
    SmscScenario(
        receipt_data_coding=8,
        receipt_date_digits=14,
        receipt_style=ReceiptStyle(upper_keys=True, lower_stat=True, extra=(("operator", "46000"),)),
    ),
    SmscScenario(
        receipt_style=ReceiptStyle(omit=frozenset({"sub", "dlvrd", "text"}), text_key="Text"),
        response_ids=IdStyle(width=10, lower=True),
        receipt_ids=IdStyle(base=10, width=12),
    ),
    SmscScenario(receipt_vendor_tlvs={0x1400: b"%\x02", Tag.RECEIPTED_MESSAGE_ID: b"v\x00"}),
    SmscScenario(receipt_style=ReceiptStyle(omit=frozenset({"id"}), extra=(("share", "50%"),))),
    SmscScenario(receipt_style=ReceiptStyle(extra=(("x", "\x00"),))),  # a marker value: not shaped
    SmscScenario(receipt_data_coding=8, receipt_style=ReceiptStyle(omit=frozenset({"text"}))),
]


def submit(source: str, destination: str) -> tuple[Pdu, bytes, bytes]:
    """A decoded submit_sm, and its source and destination octets (ton, npi, address, NUL each)."""
    frame = codec.encode(
        codec.make(
            CommandId.SUBMIT_SM,
            1,
            source_addr_ton=5,
            source_addr=source,
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=destination,
            short_message=b"hi",
        )
    )
    source_at = 17  # after the header and an empty service_type
    destination_at = source_at + 2 + len(source) + 1
    source_octets, destination_octets = (
        frame[source_at:destination_at],
        frame[destination_at:][: 2 + len(destination) + 1],
    )
    return codec.decode(frame), source_octets, destination_octets


receipts_runs = hs.lists(
    hs.tuples(
        hs.sampled_from([D, U, X]),
        hs.sampled_from([0.0, 0.25, 0.999999, 1.0, 1.5, 61.0]),  # submitted, after T0
        hs.sampled_from([0.0, 0.5, 1.0, 3.0]),  # done, after submitted
        hs.integers(0x0E999F21, 0xFFFFFFFFF),
        hs.text(alphabet="ab %\x00\x01~", max_size=20),
    ),
    min_size=1,
    max_size=8,
)


@pytest.mark.parametrize("scenario", VARIANTS)
@settings(max_examples=40, deadline=None)
@given(run=receipts_runs)
def test_body_is_the_receipt_pdu_encoded(
    scenario: SmscScenario, run: list[tuple[DeliveryState, float, float, int, str]]
) -> None:
    receipts = Receipts(scenario)
    sub, source, destination = submit("ACME", "447700900123")
    for state, submitted, later, number, preview in run:
        submitted, done = T0 + submitted, T0 + submitted + later
        message_id = format_id(number, scenario.response_id_style)  # as the submit_sm_resp spelled it
        body = receipts.body(destination, source, number, message_id, state, submitted, done, preview)
        pdu = receipts.pdu(sub, number, state, submitted, done, preview)
        expected = codec.encode(pdu)[16:]
        assert body == expected, (state, submitted, done, number, preview)


def test_a_long_ucs2_text_goes_in_message_payload() -> None:
    scenario = SmscScenario(
        receipt_data_coding=8,
        receipt_date_digits=14,
        receipt_style=ReceiptStyle(extra=(("operator", "46000"),)),
    )
    receipts = Receipts(scenario)
    sub, source, destination = submit("ACME", "447700900123")
    body = receipts.body(destination, source, 1, "1", D, T0, T0, "twenty characters ok")
    pdu = codec.decode(struct.pack(">IIII", 16 + len(body), CommandId.DELIVER_SM, 0, 1) + body)
    assert pdu.get("short_message") == b"" and Tag.MESSAGE_PAYLOAD in pdu.tlvs
    assert body == codec.encode(receipts.pdu(sub, 1, D, T0, T0, "twenty characters ok"))[16:]
