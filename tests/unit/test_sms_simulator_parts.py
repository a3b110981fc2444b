"""The SMSC simulator's pure parts: id spellings, receipt PDUs in every variant (each read back by the
adapter's parser), which registered_delivery asks for which receipt, MO PDUs in every concatenation
method, the seeded reply plan, part bookkeeping, and the ``simulate smsc`` option parsers."""

from __future__ import annotations

from datetime import UTC, datetime

import click
import pytest

from channels.cli.sim_smsc import (
    command,
    parse_id_style,
    parse_receipt_style,
    parse_tlvs,
    scenario_from_options,
)
from channels.cli.simulate import simulate
from channels.inbound import normalise_keyword
from channels.results import DeliveryState
from channels.smpp import pdu as codec
from channels.smpp.concat import ConcatMethod, Reassembler
from channels.smpp.constants import CommandId, EsmClass, Tag
from channels.smpp.dlr import ReceiptStyle, receipt_from_fields
from simulators.smsc_mo import ReplyPlan, mo_pdus
from simulators.smsc_receipts import preview, receipt_pdu, wants_receipt
from simulators.smsc_record import PartCollector, PartFate
from simulators.smsc_scenario import IdStyle, ReceiptForm, SmscScenario, format_id

WHEN = datetime(2025, 11, 23, 15, 40, tzinfo=UTC)
SUBMIT = codec.make(
    CommandId.SUBMIT_SM,
    source_addr_ton=5,
    source_addr="ACME",
    dest_addr_ton=1,
    dest_addr_npi=1,
    destination_addr="447700900123",
    registered_delivery=1,
    short_message=b"Hello there, spring offer inside",
)


@pytest.mark.parametrize(
    ("style", "text"),
    [
        (IdStyle(), "B8BE19"),
        (IdStyle(width=8), "00B8BE19"),
        (IdStyle(lower=True), "b8be19"),
        (IdStyle(base=10), "12107289"),
        (IdStyle(base=10, width=12), "000012107289"),
    ],
)
def test_format_id(style: IdStyle, text: str) -> None:
    assert format_id(0xB8BE19, style) == text


def test_scenario_defaults_and_checks() -> None:
    assert SmscScenario().response_id_style == IdStyle(base=16)
    assert SmscScenario(hex_ids=False).receipt_id_style == IdStyle(base=10)
    assert SmscScenario(receipt_ids=IdStyle(lower=True)).receipt_id_style.lower
    for bad in (
        {"receipt_date_digits": 11},
        {"reply_rate": 1.5},
        {"drop_after": -1},
        {"reply_rate": 0.1, "replies": {}},
    ):
        with pytest.raises(ValueError):
            SmscScenario(**bad)
    with pytest.raises(ValueError, match="base"):
        IdStyle(base=8)


VARIANTS = [
    SmscScenario(),
    SmscScenario(receipt_date_digits=12, receipt_style=ReceiptStyle(err_digits=4)),
    SmscScenario(receipt_date_digits=14, receipt_style=ReceiptStyle(upper_keys=True, lower_stat=True)),
    SmscScenario(receipt_style=ReceiptStyle(omit=frozenset({"sub", "dlvrd", "text"}), text_key="Text")),
    SmscScenario(receipt_style=ReceiptStyle(extra=(("operator", "46000"), ("price", "0.05")))),
    SmscScenario(receipt_form=ReceiptForm.TEXT),
    SmscScenario(receipt_form=ReceiptForm.TLV),
    SmscScenario(receipt_data_coding=8),
    SmscScenario(receipt_ids=IdStyle(base=10)),
    SmscScenario(receipt_vendor_tlvs={0x1400: b"\x01\x02", 0x3177: b"vendor"}),
]


@pytest.mark.parametrize("scenario", VARIANTS)
@pytest.mark.parametrize(
    "state", [DeliveryState.DELIVERED, DeliveryState.UNDELIVERABLE, DeliveryState.EXPIRED]
)
def test_every_receipt_variant_reads_back(scenario: SmscScenario, state: DeliveryState) -> None:
    pdu = codec.decode(
        codec.encode(receipt_pdu(SUBMIT, 0xB8BE19, state, scenario, submitted=WHEN, done=WHEN))
    )
    assert pdu.get("esm_class") == EsmClass.SMSC_DELIVERY_RECEIPT
    assert (pdu.get("source_addr"), pdu.get("destination_addr")) == ("447700900123", "ACME")
    parsed = receipt_from_fields(
        text=pdu.get("short_message"), tlvs=pdu.tlvs, data_coding=pdu.get("data_coding")
    )
    assert parsed is not None
    assert parsed.remote_id == format_id(0xB8BE19, scenario.receipt_id_style)
    assert parsed.state is state
    has_text = scenario.receipt_form is not ReceiptForm.TLV
    assert (Tag.RECEIPTED_MESSAGE_ID in pdu.tlvs) is (scenario.receipt_form is not ReceiptForm.TEXT)
    assert (parsed.raw is not None) is has_text
    if has_text and "text" not in scenario.receipt_style.omit:
        assert "Hello there, spring" in (parsed.raw or "")


def test_receipt_text_too_long_for_short_message_goes_in_payload() -> None:
    scenario = SmscScenario(receipt_data_coding=8, receipt_style=ReceiptStyle(extra=(("note", "x" * 40),)))
    pdu = receipt_pdu(SUBMIT, 1, DeliveryState.DELIVERED, scenario, submitted=WHEN, done=WHEN)
    assert pdu.get("short_message") == b"" and len(pdu.tlvs[Tag.MESSAGE_PAYLOAD]) > 254
    parsed = receipt_from_fields(text=None, tlvs=pdu.tlvs, data_coding=8)
    assert parsed is not None and parsed.fields is not None and parsed.fields.extra["note"] == "x" * 40


def test_preview_skips_the_udh_and_stays_ascii() -> None:
    part = codec.make(
        CommandId.SUBMIT_SM,
        esm_class=0x40,
        data_coding=8,
        short_message=b"\x05\x00\x03\x01\x02\x01" + "价格 ok".encode("utf-16-be"),
    )
    assert preview(part) == "?? ok"


@pytest.mark.parametrize(
    ("registered", "state", "wanted"),
    [
        (0, DeliveryState.DELIVERED, False),
        (1, DeliveryState.DELIVERED, True),
        (1, DeliveryState.UNDELIVERABLE, True),
        (2, DeliveryState.DELIVERED, False),  # failure only (jookies/jasmin#183)
        (2, DeliveryState.EXPIRED, True),
        (3, DeliveryState.DELIVERED, True),  # success only (5.0)
        (3, DeliveryState.REJECTED, False),
        (0x11, DeliveryState.DELIVERED, True),  # intermediate bit set beside "both"
    ],
)
def test_wants_receipt(registered: int, state: DeliveryState, wanted: bool) -> None:
    assert wants_receipt(registered, state) is wanted


@pytest.mark.parametrize("method", list(ConcatMethod))
def test_mo_pdus_reassemble_in_every_method(method: ConcatMethod) -> None:
    text = "Réponse longue: " + "merci beaucoup pour l'offre! " * 8
    pdus = mo_pdus("8613800138000", "10086", text, method=method, ref=300)
    assert len(pdus) == (1 if method is ConcatMethod.PAYLOAD else 2)
    reassembler = Reassembler()
    wholes = [
        reassembler.feed(
            source=p.get("source_addr"),
            destination=p.get("destination_addr"),
            short_message=p.get("short_message"),
            esm_class=p.get("esm_class"),
            tlvs=p.tlvs,
            data_coding=p.get("data_coding"),
            now=0.0,
        )
        for p in reversed(pdus)  # any order
    ]
    whole = wholes[-1]
    assert whole is not None and whole.text == text
    assert all(p.get("esm_class") & EsmClass.TYPE_MASK == 0 for p in pdus)  # never a receipt type


def test_full_width_reply_goes_ucs2() -> None:
    (pdu,) = mo_pdus("8613800138000", "10086", "８８")
    assert pdu.get("data_coding") == 8 and pdu.get("short_message") == "８８".encode("utf-16-be")


def test_reply_plan_is_seeded_per_recipient_and_replies_once() -> None:
    recipients = [f"86139{i:08d}" for i in range(2000)]
    plan = ReplyPlan(7, 0.02, {"88": 3, "８８": 1})
    chosen = {r: plan.reply_for(r) for r in recipients}
    repliers = {r: t for r, t in chosen.items() if t is not None}
    assert 20 <= len(repliers) <= 60  # about 2 %
    assert {normalise_keyword(t) for t in repliers.values()} == {"88"}
    assert set(repliers.values()) == {"88", "８８"}
    assert all(plan.reply_for(r) is None for r in repliers)  # once each
    again = ReplyPlan(7, 0.02, {"88": 3, "８８": 1})
    assert {r: again.reply_for(r) for r in reversed(recipients)} == chosen  # order does not matter
    assert ReplyPlan(7, 0.0, {"88": 1}).reply_for(recipients[0]) is None


def test_part_collector_orders_dedups_and_is_bounded() -> None:
    collector = PartCollector(max_groups=2)
    udh = [b"\x05\x00\x03\x09\x02\x02", b"\x05\x00\x03\x09\x02\x01"]
    first = collector.add("a", "b", udh[0] + b"x", 0x40, {}, PartFate(0, "ID2", DeliveryState.DELIVERED, 7))
    assert first is None
    collector.add("a", "b", udh[0] + b"x", 0x40, {}, PartFate(0, "ID2b", DeliveryState.EXPIRED, 7))  # resent
    done = collector.add("a", "b", udh[1] + b"y", 0x40, {}, PartFate(0, "ID1", DeliveryState.DELIVERED, 7))
    assert done is not None and [(p.seq, p.message_id) for p in done] == [(1, "ID1"), (2, "ID2b")]
    single = collector.add("a", "b", b"plain", 0, {}, PartFate(1, "S", DeliveryState.DELIVERED, 5))
    assert single == [PartFate(1, "S", DeliveryState.DELIVERED, 5)]
    for ref in range(5):
        collector.add(
            "a",
            "b",
            bytes([5, 0, 3, ref, 2, 1]) + b"z",
            0x40,
            {},
            PartFate(0, "x", DeliveryState.DELIVERED, 7),
        )
    assert len(collector._groups) == 2


def test_cli_option_parsers() -> None:
    assert simulate.get_command(click.Context(simulate), "smsc") is command
    assert parse_id_style("hex-lower:8") == IdStyle(base=16, width=8, lower=True)
    assert parse_id_style("dec") == IdStyle(base=10)
    with pytest.raises(click.BadParameter, match="hex, dec"):
        parse_id_style("octal")
    style = parse_receipt_style("upper,lower-stat,Text,err=4,omit=sub+dlvrd,extra=operator:46000")
    assert style == ReceiptStyle(
        omit=frozenset({"sub", "dlvrd"}),
        upper_keys=True,
        lower_stat=True,
        text_key="Text",
        err_digits=4,
        extra=(("operator", "46000"),),
    )
    with pytest.raises(click.BadParameter, match="omit="):
        parse_receipt_style("omit=price")
    assert parse_tlvs(("0x1400=0a0b", "8192=ff")) == {0x1400: b"\x0a\x0b", 0x2000: b"\xff"}
    with pytest.raises(click.BadParameter, match="TAG=HEX"):
        parse_tlvs(("0x1400=zz",))


def test_cli_options_make_the_scenario() -> None:
    ctx = command.make_context(
        "smsc",
        [
            "--receipt-ids", "dec", "--response-ids", "hex:8", "--receipt-first", "--acceptd-first",
            "--receipt-form", "tlv", "--receipt-dcs", "8", "--vendor-tlv", "0x1400=01",
            "--receipt-dates", "12",
            "--drop-after", "5", "--stall-after", "3", "--stall-for", "0.5", "--refuse-binds-for", "1",
            "--max-binds", "1", "--stale-bind-for", "2", "--reply-rate", "0.02", "--replies", "88=3,８８=1",
            "--reply-method", "sar", "--outcomes", "delivered=0.9,expired=0.1",
        ],
    )  # fmt: skip
    options = dict(ctx.params)
    options["receipt_dates"] = int(options["receipt_dates"])
    sc = scenario_from_options(options)
    assert sc.receipt_ids == IdStyle(base=10) and sc.response_ids == IdStyle(width=8)
    assert sc.receipt_first and sc.acceptd_first and sc.receipt_form is ReceiptForm.TLV
    assert sc.receipt_data_coding == 8 and sc.receipt_vendor_tlvs == {0x1400: b"\x01"}
    assert sc.receipt_date_digits == 12
    assert (sc.drop_after, sc.stall_after, sc.stall_for) == (5, 3, 0.5)
    assert (sc.refuse_binds_for, sc.max_binds, sc.stale_bind_for) == (1.0, 1, 2.0)
    assert sc.reply_rate == 0.02 and sc.replies == {"88": 3.0, "８８": 1.0}
    assert sc.reply_method is ConcatMethod.SAR
    options["reply_rate"] = 2.0
    with pytest.raises(click.UsageError, match="reply_rate"):
        scenario_from_options(options)
