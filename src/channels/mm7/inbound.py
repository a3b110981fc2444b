"""The VASP's side of MMSC-originated MM7 requests (3GPP TS 23.140 §8.7.2, §8.7.3; PROTOCOLS.md §4.3).

An MMSC posts DeliveryReportReq (what became of an MM) and DeliverReq (a subscriber's MM) to the
VASP. This pure core turns one such HTTP request into the event it means (a
:class:`~channels.results.DeliveryReceipt` keyed by the MMSC's MessageID, or an
:class:`~channels.results.InboundMessage`) and the answer to send: DeliveryReportRsp / DeliverRsp
with Status 1000 echoing the request's TransactionID, namespace and MM7Version, or a SOAP Fault with
VASPErrorRsp (2007 malformed, 4003 unsupported operation) — never a crash on bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from channels.content import MediaPart
from channels.message import ChannelKind
from channels.mm7.envelope import Mm7FormatError
from channels.mm7.messages import (
    UNSUPPORTED_OPERATION,
    DeliverReq,
    DeliverRsp,
    DeliveryReportReq,
    DeliveryReportRsp,
    Document,
    Status,
)
from channels.mm7.mm import media_parts, mm_text
from channels.mm7.profiles import DEFAULT_PROFILE
from channels.mm7.request import Answer, Request, answer, fault, open_request
from channels.mm7.status import mm_status_state
from channels.results import DeliveryReceipt, Event, InboundMessage


@dataclass(frozen=True, slots=True)
class VaspAnswer:
    """What to answer an MMSC request with, and the event it carried (None for a fault)."""

    answer: Answer
    event: Event | None


def receipt_from_report(req: DeliveryReportReq, *, gateway: str | None = None) -> DeliveryReceipt:
    """DeliveryReportReq → DeliveryReceipt with ``remote_id`` = MessageID (the tracker correlates)."""
    return DeliveryReceipt(
        channel=ChannelKind.MMS,
        state=mm_status_state(req.mm_status),
        remote_id=req.message_id,
        at=req.date,
        error_code=req.mm_status,
        detail={
            "mm_status": req.mm_status,
            "status_text": req.status_text,
            "recipient": req.recipient.value,
            "relay_server_id": req.relay_server_id,
        },
        gateway=gateway,
    )


def inbound_from_deliver(
    req: DeliverReq, text: str, media: tuple[MediaPart, ...], now: datetime, *, gateway: str | None = None
) -> InboundMessage:
    """DeliverReq (MO) → InboundMessage; the text is the MM's text/plain parts."""
    recipients = req.to or req.cc or req.bcc
    return InboundMessage(
        channel=ChannelKind.MMS,
        sender=req.sender.value,
        recipient=recipients[0].value if recipients else None,
        text=text,
        at=req.timestamp or now,
        detail={
            "subject": req.subject,
            "linked_id": req.linked_id,
            "relay_server_id": req.relay_server_id,
            "media": media,
        },
        gateway=gateway,
    )


def _ok(req: Request, doc: Document, event: Event) -> VaspAnswer:
    return VaspAnswer(answer(req.profile, req.transaction_id, doc), event)


def handle_mmsc_request(
    content_type: str, body: bytes, now: datetime, *, gateway: str | None = None,
    service_code: str | None = None,
) -> VaspAnswer:
    """Decode one MMSC → VASP request and build its answer (pure)."""
    profile, tid = DEFAULT_PROFILE, ""
    try:
        req = open_request(content_type, body)
        profile, tid = req.profile, req.transaction_id
        doc = req.decode().doc
        if isinstance(doc, DeliveryReportReq):
            return _ok(req, DeliveryReportRsp(status=Status.of()), receipt_from_report(doc, gateway=gateway))
        if isinstance(doc, DeliverReq):
            content = req.soap.content(doc.content_href)
            inbound = inbound_from_deliver(doc, mm_text(content), media_parts(content), now, gateway=gateway)
            return _ok(req, DeliverRsp(status=Status.of(), service_code=service_code), inbound)
        raise Mm7FormatError(f"Body: {type(doc).NAME} is not an MMSC request", status=UNSUPPORTED_OPERATION)
    except (Mm7FormatError, ValueError) as exc:  # malformed: answered, never a crash
        error = exc if isinstance(exc, Mm7FormatError) else Mm7FormatError(f"malformed request: {exc}")
        return VaspAnswer(fault(profile, tid, error, "VASPErrorRsp"), None)
