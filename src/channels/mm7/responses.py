"""MM7 responses: Status, SubmitRsp, DeliveryReportRsp, DeliverRsp and the SOAP Fault (TS 23.140 §8.7).

All ``*Rsp`` echo the request's TransactionID and carry ``MM7Version`` + ``Status{StatusCode,
StatusText, Details?}`` (PROTOCOLS.md §4.3); errors travel as a SOAP 1.1 Fault (§4.4) whose
``detail`` holds RSErrorRsp (from the MMSC) or VASPErrorRsp (from the VASP). Both roles write and
read them with this module. Pure.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import ClassVar, Self

from channels.mm7.envelope import Mm7FormatError, XmlWriter, child, local, open_body, required_text, text_of
from channels.mm7.profiles import Mm7Profile
from channels.mm7.status import SUCCESS, status_text


@dataclass(frozen=True, slots=True)
class Status:
    """``Status{StatusCode, StatusText, Details?}`` (TS 23.140 §8.7.4)."""

    code: int
    text: str | None = None
    details: str | None = None

    @classmethod
    def of(cls, code: int = SUCCESS, details: str | None = None) -> Status:
        return cls(code, status_text(code), details)

    def write(self, w: XmlWriter) -> None:
        w.open("Status")
        w.leaf("StatusCode", str(self.code))
        w.leaf("StatusText", self.text)
        w.leaf("Details", self.details)
        w.close("Status")

    @classmethod
    def read(cls, parent: ET.Element) -> Status:
        el = child(parent, "Status")
        if el is None:
            raise Mm7FormatError(f"{local(parent.tag)}: Status is missing")
        code = required_text(el, "StatusCode")
        if not (code.isascii() and code.isdigit()):  # "²" is a digit to isdigit, not to int()
            raise Mm7FormatError(f"StatusCode: not a number: {code!r}")
        return cls(int(code), text_of(el, "StatusText"), text_of(el, "Details"))


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitRsp:
    """MMSC → VASP: the submit's status and, on success, the MessageID receipts quote (§8.7.1)."""

    NAME: ClassVar[str] = "SubmitRsp"
    status: Status
    message_id: str | None = None

    def write(self, w: XmlWriter, profile: Mm7Profile) -> None:
        open_body(w, self.NAME, profile)
        self.status.write(w)
        w.leaf("MessageID", self.message_id)
        w.close(self.NAME)

    @classmethod
    def read(cls, el: ET.Element) -> Self:
        return cls(status=Status.read(el), message_id=text_of(el, "MessageID"))


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReportRsp:
    NAME: ClassVar[str] = "DeliveryReportRsp"
    status: Status

    def write(self, w: XmlWriter, profile: Mm7Profile) -> None:
        open_body(w, self.NAME, profile)
        self.status.write(w)
        w.close(self.NAME)

    @classmethod
    def read(cls, el: ET.Element) -> Self:
        return cls(status=Status.read(el))


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverRsp:
    NAME: ClassVar[str] = "DeliverRsp"
    status: Status
    service_code: str | None = None

    def write(self, w: XmlWriter, profile: Mm7Profile) -> None:
        open_body(w, self.NAME, profile)
        self.status.write(w)
        w.leaf("ServiceCode", self.service_code)
        w.close(self.NAME)

    @classmethod
    def read(cls, el: ET.Element) -> Self:
        return cls(status=Status.read(el), service_code=text_of(el, "ServiceCode"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """SOAP 1.1 Fault (§4.4) with ``detail/RSErrorRsp`` (MMSC) or ``detail/VASPErrorRsp`` (VASP)."""

    NAME: ClassVar[str] = "Fault"
    status: Status
    faultcode: str = "env:Client"
    faultstring: str = "Client error"
    detail: str = "RSErrorRsp"

    @classmethod
    def for_status(cls, status: Status, detail: str = "RSErrorRsp") -> Fault:
        server = status.code // 1000 == 3
        return cls(
            status=status,
            faultcode="env:Server" if server else "env:Client",
            faultstring=status.text or status_text(status.code),
            detail=detail,
        )

    def write(self, w: XmlWriter, profile: Mm7Profile) -> None:
        w.open("env:Fault")
        w.leaf("faultcode", self.faultcode)
        w.leaf("faultstring", self.faultstring)
        w.open("detail")
        open_body(w, self.detail, profile)
        self.status.write(w)
        w.close(self.detail)
        w.close("detail")
        w.close("env:Fault")

    @classmethod
    def read(cls, el: ET.Element) -> Self:
        detail = child(el, "detail")
        inner = detail[0] if detail is not None and len(detail) else None
        faultcode, faultstring = text_of(el, "faultcode") or "", text_of(el, "faultstring") or ""
        if inner is None or child(inner, "Status") is None:
            # A bare SOAP fault (SOAP 1.1 §4.4.1): Server faults may be retried, Client faults not.
            code = 3000 if faultcode.rsplit(":", 1)[-1].lower() == "server" else 2000
            return cls(status=Status(code, faultstring or status_text(code)), faultcode=faultcode,
                       faultstring=faultstring, detail="")
        return cls(status=Status.read(inner), faultcode=faultcode, faultstring=faultstring,
                   detail=local(inner.tag))
