"""What the simulated MMSC posts to a VASP: DeliveryReportReq and DeliverReq (3GPP TS 23.140 §8.7.2-3).

A :class:`Job` is one planned report or subscriber reply for one recipient of one MM; :func:`post_job`
writes it with the shared MM7 codec (echoing the submit's profile), posts it, and reads the VASP's
``*Rsp`` (Status 1000 means done; anything else, or no answer, means the MMSC retries later).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from channels.message import mask_msisdn
from channels.mm7.envelope import Address, AddressKind, Mm7FormatError
from channels.mm7.messages import DeliverReq, DeliverRsp, DeliveryReportReq, DeliveryReportRsp, decode, encode
from channels.mm7.mime import MmContent, Part, encode_soap, new_boundary, split_soap
from channels.mm7.profiles import Mm7Profile
from channels.mm7.status import is_success
from simulators.mmsc_model import Planned

log = structlog.get_logger(__name__)


@dataclass(slots=True, kw_only=True)
class Job:
    """One report or reply for one recipient; ``attempts`` counts failed posts."""

    planned: Planned
    message_id: str
    recipient: Address  # the subscriber
    vasp_address: Address | None  # the VASP's SenderAddress in the submit (short code)
    vaspid: str | None
    vasid: str | None
    profile: Mm7Profile
    subject: str | None
    reply_subject: str | None = None
    linked_id: str | None = None
    attempts: int = 0

    def describe(self) -> dict[str, Any]:
        p = self.planned
        return {"kind": p.kind, "message_id": self.message_id, "recipient": self.recipient.value,
                "mm_status": p.mm_status or None, "status_text": p.status_text or None,
                "text": p.text if p.kind == "reply" else None, "at": p.at.isoformat(),
                "attempts": self.attempts}


def _report(job: Job, tid: str, relay: str) -> tuple[str, bytes]:
    sender = job.vasp_address or Address(job.vaspid or "0", AddressKind.SHORT_CODE)
    doc = DeliveryReportReq(
        message_id=job.message_id, recipient=job.recipient, sender=sender, date=job.planned.at,
        mm_status=job.planned.mm_status, status_text=job.planned.status_text or None,
        relay_server_id=relay,
    )
    return "text/xml; charset=utf-8", encode(doc, job.profile, tid)


_BOUNDARY = itertools.repeat(new_boundary()).__next__  # one per process: peers compile one regex


def _deliver(job: Job, tid: str, relay: str) -> tuple[str, bytes]:
    subject = job.reply_subject
    if subject is None and job.subject:
        subject = f"Re: {job.subject}"
    doc = DeliverReq(
        sender=job.recipient, to=(job.vasp_address,) if job.vasp_address else (),
        linked_id=job.linked_id or f"L{tid}", timestamp=job.planned.at, subject=subject,
        vaspid=job.vaspid, vasid=job.vasid, relay_server_id=relay,
        content_href="cid:mm" if job.profile.content_href else None,
    )
    text = Part("text/plain; charset=utf-8", job.planned.text.encode("utf-8"), "text1", "text1.txt")
    return encode_soap(encode(doc, job.profile, tid), MmContent(parts=(text,)),
                       brackets=job.profile.cid_brackets, boundary=_BOUNDARY)


async def post_job(session: aiohttp.ClientSession, url: str, job: Job, tid: str, relay: str) -> bool:
    """Post one job; True when the VASP answered its ``*Rsp`` with a success status."""
    build = _report if job.planned.kind == "report" else _deliver
    content_type, body = build(job, tid, relay)
    headers = {"Content-Type": content_type, "SOAPAction": '""'}
    try:
        async with session.post(url, data=body, headers=headers) as resp:
            raw = await resp.read()
            doc = decode(split_soap(resp.headers.get("Content-Type", ""), raw).envelope).doc
    except (aiohttp.ClientError, TimeoutError, Mm7FormatError) as exc:
        log.debug("mmsc.post.failed", kind=job.planned.kind, error=type(exc).__name__,
                  to=mask_msisdn(job.recipient.value))
        return False
    ok = isinstance(doc, DeliveryReportRsp | DeliverRsp) and is_success(doc.status.code)
    log.debug("mmsc.post.completed", kind=job.planned.kind, ok=ok)
    return ok
