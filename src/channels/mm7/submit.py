"""The VASP's submit, pure: Message → SubmitReq → HTTP body, and the MMSC's answer → MessageID or error.

TS 23.140 §8.7.1 (SubmitReq/SubmitRsp), §8.7.4 (status), SOAP 1.1 §4.4/§6.2 (Fault, HTTP 500). The
answer is read by status class (PROTOCOLS.md §4.4): success gives the MessageID that delivery reports
quote; an RSErrorRsp or a non-success SubmitRsp raises the error class its code maps to; HTTP 401/403
is an authentication failure; an HTTP error without a readable SOAP body maps by HTTP status; a 200
we cannot read leaves the outcome unknown (the MMSC may have accepted the MM).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from channels.content import Mms
from channels.errors import (
    AuthenticationError,
    ChannelsError,
    ContentRejected,
    OutcomeUnknown,
    RemoteTemporaryError,
    RemoteThrottled,
    SendRejected,
)
from channels.message import Message
from channels.mm7.config import Mm7Config
from channels.mm7.envelope import Address, AddressKind, Mm7FormatError
from channels.mm7.messages import Fault, SubmitReq, SubmitRsp, SubmitShape, build_shape, decode, encode
from channels.mm7.mime import MmContent, RenderedMm, encode_soap, new_boundary, render_mm, split_soap
from channels.mm7.mm import build_mm, content_problems
from channels.mm7.status import error_for, is_success

CONTENT_ID = "mm"

# HTTP statuses without a readable SOAP answer → error class (RFC 9110 §15).
_HTTP_ERRORS: dict[int, type[ChannelsError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    413: ContentRejected,
    429: RemoteThrottled,
    503: RemoteThrottled,
}


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    """One ready-to-post submit: headers' Content-Type and body."""

    content_type: str
    body: bytes


def prepare_content(mms: Mms, limit: int) -> MmContent:
    """The MM for ``mms``, checked: ContentRejected (naming the problem) before anything is sent."""
    try:
        content = build_mm(mms)
    except ValueError as exc:
        raise ContentRejected(str(exc), code="content") from exc
    problems = content_problems(content, limit)
    if problems:
        raise ContentRejected("; ".join(p.message for p in problems), code=problems[0].status)
    return content


def submit_req(message: Message, config: Mm7Config, now: datetime) -> SubmitReq:
    """The SubmitReq for one message (TS 23.140 §8.7.1). Besides ``now`` and the recipient it reads
    the content and :func:`template_key`'s fields: keep the two in step."""
    mms = message.content
    assert isinstance(mms, Mms)
    sender = message.sender or config.sender
    return SubmitReq(
        vaspid=config.vaspid,
        vasid=config.vasid,
        sender=Address.guess(sender) if sender else None,
        to=(Address.guess(message.to),),
        service_code=mms.service_code or config.service_code,
        linked_id=mms.linked_id,
        message_class=mms.message_class,
        timestamp=now,
        expiry=mms.expiry,
        delivery_report=mms.delivery_report and message.want_receipt,
        read_reply=mms.read_reply,
        priority=mms.priority,
        subject=mms.subject,
        content_href=f"cid:{CONTENT_ID}" if config.profile.content_href else None,
        allow_adaptations=True if config.profile.content_href else None,
    )


def render_content(content: MmContent, config: Mm7Config,
                   boundary: Callable[[], str] = new_boundary) -> RenderedMm:
    """The MM written once per distinct Mms (a campaign's recipients share it)."""
    return render_mm(content, content_id=CONTENT_ID, brackets=config.profile.cid_brackets, boundary=boundary)


def encode_submit(
    req: SubmitReq, content: MmContent | RenderedMm, config: Mm7Config, transaction_id: str,
    boundary: Callable[[], str] = new_boundary,
) -> SubmitRequest:
    xml = encode(req, config.profile, transaction_id)
    ctype, body = encode_soap(xml, content, content_id=CONTENT_ID, brackets=config.profile.cid_brackets,
                              boundary=boundary)
    return SubmitRequest(ctype, body)


def template_key(message: Message, to: Address) -> tuple[str | None, bool, AddressKind]:
    """What, besides its content, makes one message's SubmitReq differ from another's in more than the
    recipient's address and the TimeStamp (the fields of ``message`` :func:`submit_req` reads)."""
    return message.sender, message.want_receipt, to.kind


@dataclass(frozen=True, slots=True)
class SubmitTemplate:
    """A campaign's HTTP request written once (:class:`~channels.mm7.messages.SubmitShape`, MIME and
    MM around it): per message only TransactionID, the recipient and TimeStamp are spliced in."""

    content_type: str
    shape: SubmitShape
    outer: str  # the boundary around the envelope

    @classmethod
    def of(cls, req: SubmitReq, content: RenderedMm, config: Mm7Config, boundary: Callable[[], str]) -> (
        SubmitTemplate | None
    ):
        """The template of ``req``'s shape; None where :func:`encode_submit` would not write the same
        bytes for every message (no fixed boundary, or a shape without one)."""
        outer = boundary()
        if outer != boundary():
            return None  # a fresh boundary per request: nothing to reuse
        types: list[str] = []

        def wrap(xml: bytes) -> bytes:
            ctype, body = encode_soap(xml, content, content_id=CONTENT_ID,
                                      brackets=config.profile.cid_brackets, boundary=lambda: outer)
            types.append(ctype)
            return body

        shape = build_shape(req, config.profile, wrap)
        if shape is None or f'boundary="{outer}"' not in types[0]:
            return None  # encode_soap drew another boundary: it occurs in the MM
        return cls(types[0], shape, outer)

    def request(self, transaction_id: str, to: str, now: datetime) -> SubmitRequest | None:
        """``encode_submit``'s request for one message, or None (then write it that way)."""
        if self.outer in to or self.outer in transaction_id:
            return None  # encode_soap would draw another boundary (RFC 2046 §5.1.1)
        body = self.shape.write(transaction_id, to, now)
        return None if body is None else SubmitRequest(self.content_type, body)


def _http_error(http_status: int) -> ChannelsError:
    cls = _HTTP_ERRORS.get(http_status)
    if cls is None:
        cls = RemoteTemporaryError if http_status >= 500 else SendRejected
    detail = f"MM7 SubmitReq: HTTP {http_status} without a readable MM7 answer"
    return cls(detail, code=f"http-{http_status}") if issubclass(cls, SendRejected) else cls(detail)


def read_submit_answer(http_status: int, content_type: str, body: bytes) -> str:
    """The MessageID of an accepted submit; raises the error the answer means."""
    if http_status in (401, 403):
        raise _http_error(http_status)
    try:
        doc = decode(split_soap(content_type, body).envelope).doc
    except Mm7FormatError as exc:
        if http_status == 200:
            raise OutcomeUnknown(f"MM7 SubmitReq: unreadable HTTP 200 answer ({exc})") from exc
        raise _http_error(http_status) from exc
    if isinstance(doc, Fault | SubmitRsp) and not is_success(doc.status.code):
        raise error_for(doc.status.code, doc.status.details or doc.status.text)
    if isinstance(doc, SubmitRsp) and doc.message_id:
        return doc.message_id
    if http_status != 200:
        raise _http_error(http_status)
    raise OutcomeUnknown(f"MM7 SubmitReq: answered with {type(doc).NAME} without a MessageID")
