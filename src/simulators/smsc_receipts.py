"""Delivery receipts as the simulated SMSC writes them, in every variant a scenario asks for.

SMPP v3.4 §4.6 / Appendix B and PROTOCOLS.md §3: a deliver_sm with esm_class 0x04 carrying the receipt
text and/or the receipted_message_id, message_state and network_error_code TLVs. The scenario picks the
text style (dates of 10/12/14 digits, 4-digit err, missing fields, upper-case keys, vendor fields), where
the facts travel (both, TLVs only, text only), the id's spelling (which may differ from the
submit_sm_resp id in base, padding and case), the text's data_coding, and vendor TLVs. Pure: the
simulator decides when to send what this builds, with the same codec the adapter reads it with.
"""

from __future__ import annotations

from datetime import datetime

from channels.results import DeliveryState
from channels.smpp import pdu as codec
from channels.smpp.concat import parse_udh
from channels.smpp.constants import CommandId, EsmClass, Tag
from channels.smpp.dlr import STATE_TO_MESSAGE_STATE, STATE_TO_STAT, format_receipt_text
from channels.smpp.encoding import decode_text
from channels.smpp.pdu import Pdu
from simulators.smsc_scenario import ReceiptForm, SmscScenario, format_id

MAX_SHORT_MESSAGE = 254  # SMPP v3.4 §5.2.21; longer receipt texts go in message_payload
_ERR = {DeliveryState.DELIVERED: "000", DeliveryState.ACCEPTED: "000", DeliveryState.EXPIRED: "027"}
_GSM_NETWORK_ERROR = 3  # network_error_code type 3: GSM (SMPP v3.4 §5.3.2.31)


def preview(submit: Pdu) -> str:
    """The first 20 characters of a submitted text, as ASCII (the receipt's ``text:`` field)."""
    body = submit.tlvs.get(Tag.MESSAGE_PAYLOAD) or submit.get("short_message") or b""
    if submit.get("esm_class") & EsmClass.UDHI:
        udh = parse_udh(body)
        body = body[udh.length :] if udh else body
    text = decode_text(body, submit.get("data_coding"))[:20]
    return text.encode("ascii", "replace").decode("ascii")


def receipt_pdu(
    submit: Pdu,
    number: int,
    state: DeliveryState,
    scenario: SmscScenario,
    *,
    submitted: datetime,
    done: datetime,
) -> Pdu:
    """The deliver_sm reporting ``state`` for the submit whose id is ``number``."""
    rid = format_id(number, scenario.receipt_id_style)
    err = _ERR.get(state, "001")
    tlvs: dict[int, bytes] = {}
    if scenario.receipt_form is not ReceiptForm.TEXT:
        tlvs[Tag.RECEIPTED_MESSAGE_ID] = rid.encode("ascii") + b"\x00"
        tlvs[Tag.MESSAGE_STATE] = bytes((STATE_TO_MESSAGE_STATE[state],))
        if err != "000":
            tlvs[Tag.NETWORK_ERROR_CODE] = bytes((_GSM_NETWORK_ERROR,)) + int(err).to_bytes(2, "big")
    tlvs.update(scenario.receipt_vendor_tlvs)
    text = b""
    if scenario.receipt_form is not ReceiptForm.TLV:
        words = format_receipt_text(
            id=rid,
            stat=STATE_TO_STAT[state],
            err=err,
            submit_date=submitted,
            done_date=done,
            text=preview(submit),
            date_digits=scenario.receipt_date_digits,
            style=scenario.receipt_style,
        )
        text = words.encode("utf-16-be") if scenario.receipt_data_coding == 8 else words.encode("ascii")
    if len(text) > MAX_SHORT_MESSAGE:
        tlvs[Tag.MESSAGE_PAYLOAD], text = text, b""
    return codec.make(
        CommandId.DELIVER_SM,
        tlvs=tlvs,
        source_addr_ton=submit.get("dest_addr_ton"),
        source_addr_npi=submit.get("dest_addr_npi"),
        source_addr=submit.get("destination_addr"),
        dest_addr_ton=submit.get("source_addr_ton"),
        dest_addr_npi=submit.get("source_addr_npi"),
        destination_addr=submit.get("source_addr"),
        esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
        data_coding=scenario.receipt_data_coding,
        short_message=text,
    )


def wants_receipt(registered_delivery: int, state: DeliveryState) -> bool:
    """SMPP v3.4 §5.2.17 bits 1-0: 1 success or failure, 2 failure only, 3 success only (5.0)."""
    mode = registered_delivery & 0x03
    if mode == 1:
        return True
    if mode == 2:
        return state is not DeliveryState.DELIVERED
    return mode == 3 and state is DeliveryState.DELIVERED
