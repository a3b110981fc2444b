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
    build_shape,
    decode_body,
    encode,
    shape_key,
    submit_shape,
)
from channels.mm7.mime import SoapBody, crlf, split_soap
from channels.mm7.multipart import Entity
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
    content_type: str = ""  # the HTTP request's, with ``body``: what a learned body shape matches
    body: bytes = b""

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
    for learned in _BODIES:
        if learned.content_type == content_type:
            read = learned.shape.read(body)
            if read is not None:
                p = learned.shape.profile
                soap = SoapBody(body[learned.head : len(body) - learned.tail], learned.attachments)
                return Request(soap, p.namespace, read[0], p, p.version, doc=read[1])
    soap = split_soap(content_type, body)
    for shape in _SHAPES:
        read = shape.read(soap.envelope)
        if read is not None:
            p = shape.profile
            req = Request(soap, p.namespace, read[0], p, p.version, doc=read[1],
                          content_type=content_type, body=body)
            if content_type not in _BODY_TRIED:  # another client's MIME around a known envelope
                _learn_body(req, read[1])
            return req
    raw = read_envelope(soap.envelope)
    version = text_of(raw.body, "MM7Version") or ""
    profile = profile_for_namespace(raw.namespace, version or None) or DEFAULT_PROFILE
    return Request(soap, raw.namespace, raw.transaction_id, profile, version, raw=raw,
                   content_type=content_type, body=body)


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
        if req.content_type not in _BODY_TRIED:
            _learn_body(req, doc)


@dataclass(frozen=True, slots=True)
class _BodyShape:
    """A whole HTTP body learned around a SubmitShape: the MIME before and after the envelope (the
    wrapper and the MM, as a campaign's requests repeat them) are literal parts of its template."""

    content_type: str
    shape: SubmitShape
    attachments: tuple[Entity, ...]  # what split_soap read beside the envelope
    head: int  # the bytes before the envelope
    tail: int  # and after it


# Whole bodies, learned with their envelope's shape: a request that fills one in is split as the
# request it was learned from was (its holes hold plain text, no CR or LF, so they cannot make or hide
# a MIME delimiter line), without reading the MIME at all. Bounded like _SHAPES.
_BODIES: deque[_BodyShape] = deque(maxlen=8)
_BODY_TRIED: dict[str, None] = {}  # Content-Types whose body was tried once (bounded)


def _learn_body(req: Request, doc: SubmitReq) -> None:
    """Learn ``req``'s whole body (read from its envelope's learned shape) when the shape with the
    MIME around it re-writes the body byte for byte. Tried once per Content-Type (a client's outer
    boundary): a body that cannot be learned is not tried again for every request."""
    if len(_BODY_TRIED) >= 256:
        _BODY_TRIED.clear()
    _BODY_TRIED[req.content_type] = None
    envelope, body = req.soap.envelope, req.body
    at = body.find(envelope)
    if at < 0 or doc.timestamp is None:
        return  # not split from this body as it stands (a transfer encoding)
    head, tail = body[:at], body[at + len(envelope) :]
    shape = build_shape(shape_key(doc), req.profile, lambda xml: head + crlf(xml) + tail)
    if shape is not None and shape.write(req.transaction_id, doc.to[0].value, doc.timestamp) == body:
        _BODIES.appendleft(_BodyShape(req.content_type, shape, req.soap.attachments, len(head), len(tail)))


def answer(profile: Mm7Profile, transaction_id: str, doc: Document, http_status: int = HTTP_OK) -> Answer:
    return Answer(http_status, XML_CONTENT_TYPE, encode(doc, profile, transaction_id))


def fault(profile: Mm7Profile, transaction_id: str, exc: Mm7FormatError,
          detail: str = "RSErrorRsp") -> Answer:
    """A SOAP Fault answering ``exc`` with its status (``Details`` says what was wrong)."""
    status = Status.of(exc.status, str(exc))
    return answer(profile, transaction_id, Fault.for_status(status, detail), HTTP_SOAP_FAULT)
