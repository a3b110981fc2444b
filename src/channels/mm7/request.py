"""Reading any MM7 HTTP request and writing its answer, for whichever role serves it (TS 23.140 §8.7).

Both servers (the VASP's receiver and the MMSC simulator) do the same first steps: split the MIME,
parse the SOAP envelope, and find the profile to answer in (the request's own namespace and
MM7Version are echoed, PROTOCOLS.md §4.1), then answer with a ``*Rsp`` (HTTP 200) or a SOAP Fault
(HTTP 500, SOAP 1.1 §6.2) carrying RSErrorRsp/VASPErrorRsp. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.mm7.envelope import Mm7FormatError, RawEnvelope, read_envelope, text_of
from channels.mm7.messages import Decoded, Document, Fault, Status, decode_body, encode
from channels.mm7.mime import SoapBody, split_soap
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
    """A readable MM7 request: its MIME parts, envelope, and the profile to answer it in."""

    soap: SoapBody
    raw: RawEnvelope
    profile: Mm7Profile
    version: str

    @property
    def transaction_id(self) -> str:
        return self.raw.transaction_id

    def decode(self) -> Decoded:
        """The Body as a document (Mm7FormatError 4003/2007 if unsupported or malformed)."""
        return Decoded(self.raw.namespace, self.raw.transaction_id, self.version, decode_body(self.raw))


def open_request(content_type: str, body: bytes) -> Request:
    """Split and parse; raises Mm7FormatError (2007) when there is no readable envelope."""
    soap = split_soap(content_type, body)
    raw = read_envelope(soap.envelope)
    version = text_of(raw.body, "MM7Version") or ""
    profile = profile_for_namespace(raw.namespace, version or None) or DEFAULT_PROFILE
    return Request(soap, raw, profile, version)


def answer(profile: Mm7Profile, transaction_id: str, doc: Document, http_status: int = HTTP_OK) -> Answer:
    return Answer(http_status, XML_CONTENT_TYPE, encode(doc, profile, transaction_id))


def fault(profile: Mm7Profile, transaction_id: str, exc: Mm7FormatError,
          detail: str = "RSErrorRsp") -> Answer:
    """A SOAP Fault answering ``exc`` with its status (``Details`` says what was wrong)."""
    status = Status.of(exc.status, str(exc))
    return answer(profile, transaction_id, Fault.for_status(status, detail), HTTP_SOAP_FAULT)
