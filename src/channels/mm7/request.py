"""Reading any MM7 HTTP request and writing its answer, for whichever role serves it (TS 23.140 §8.7).

Both servers (the VASP's receiver and the MMSC simulator) do the same first steps: split the MIME,
parse the SOAP envelope, and find the profile to answer in (the request's own namespace and
MM7Version are echoed, PROTOCOLS.md §4.1), then answer with a ``*Rsp`` (HTTP 200) or a SOAP Fault
(HTTP 500, SOAP 1.1 §6.2) carrying RSErrorRsp/VASPErrorRsp. Pure.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from channels.mm7.envelope import Mm7FormatError, RawEnvelope, read_envelope, text_of
from channels.mm7.messages import (
    AnyDocument,
    Decoded,
    Document,
    Fault,
    Status,
    SubmitReq,
    SubmitShape,
    decode_body,
    encode,
    shape_key,
    submit_shape,
)
from channels.mm7.mime import SoapBody, crlf, split_soap
from channels.mm7.profiles import DEFAULT_PROFILE, Mm7Profile, profile_for_namespace

HTTP_OK = 200
HTTP_SOAP_FAULT = 500  # SOAP 1.1 §6.2
XML_CONTENT_TYPE = "text/xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: status, Content-Type, body."""

    http_status: int
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Request:
    """A readable MM7 request: its MIME parts, envelope, and the profile to answer it in. Its Body
    is either parsed (``raw``, read by :meth:`decode`) or already read by a learned shape (``doc``)."""

    soap: SoapBody
    namespace: str
    transaction_id: str
    profile: Mm7Profile
    version: str
    raw: RawEnvelope | None = None
    doc: AnyDocument | None = None

    def decode(self) -> Decoded:
        """The Body as a document (Mm7FormatError 4003/2007 if unsupported or malformed)."""
        doc = self.doc
        if doc is None:
            assert self.raw is not None
            doc = decode_body(self.raw)
            if isinstance(doc, SubmitReq):
                _learn(self, doc)
        return Decoded(self.namespace, self.transaction_id, self.version, doc)


def open_request(content_type: str, body: bytes) -> Request:
    """Split and parse; raises Mm7FormatError (2007) when there is no readable envelope."""
    soap = split_soap(content_type, body)
    for shape in _SHAPES:
        read = shape.read(soap.envelope)
        if read is not None:
            p = shape.profile
            return Request(soap, p.namespace, read[0], p, p.version, doc=read[1])
    raw = read_envelope(soap.envelope)
    version = text_of(raw.body, "MM7Version") or ""
    profile = profile_for_namespace(raw.namespace, version or None) or DEFAULT_PROFILE
    return Request(soap, raw.namespace, raw.transaction_id, profile, version, raw=raw)


# The SubmitReq shapes peers were seen to write (messages.SubmitShape), newest first. A request
# read the general way teaches its shape when the shape re-writes it byte for byte: then the shape's
# literal parts read as that request's did, and its holes hold only plain text (template.py), so
# ElementTree would read any request the shape matches as the shape does. A few per peer and
# campaign; bounded, so odd peers cannot grow it.
_SHAPES: deque[SubmitShape] = deque(maxlen=8)


def _learn(req: Request, doc: SubmitReq) -> None:
    shape = submit_shape(shape_key(doc), req.profile, crlf)
    if shape is None or shape in _SHAPES or doc.timestamp is None:
        return
    if req.namespace != req.profile.namespace or req.version != req.profile.version:
        return
    if shape.write(req.transaction_id, doc.to[0].value, doc.timestamp) == req.soap.envelope:
        _SHAPES.appendleft(shape)


def answer(profile: Mm7Profile, transaction_id: str, doc: Document, http_status: int = HTTP_OK) -> Answer:
    return Answer(http_status, XML_CONTENT_TYPE, encode(doc, profile, transaction_id))


def fault(profile: Mm7Profile, transaction_id: str, exc: Mm7FormatError,
          detail: str = "RSErrorRsp") -> Answer:
    """A SOAP Fault answering ``exc`` with its status (``Details`` says what was wrong)."""
    status = Status.of(exc.status, str(exc))
    return answer(profile, transaction_id, Fault.for_status(status, detail), HTTP_SOAP_FAULT)
