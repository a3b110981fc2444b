"""The MM7 documents the VASP and the MMSC exchange (3GPP TS 23.140 §8.7.1–§8.7.3; PROTOCOLS.md §4.2–4.3).

One frozen dataclass per request Body element (SubmitReq, DeliveryReportReq, DeliverReq; the
responses and the Fault live in :mod:`channels.mm7.responses`), each able to write itself in schema
element order and read itself back, plus ``encode``/``decode`` for any MM7 document. Both roles use
this module: the adapter writes SubmitReq and reads reports, the MMSC simulator does the reverse,
so they cannot drift apart. Pure: values in, bytes out.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol, Self

from channels.mm7.envelope import (
    Address,
    AddressKind,
    Mm7FormatError,
    RawEnvelope,
    XmlWriter,
    child,
    children,
    close_envelope,
    first_children,
    format_bool,
    format_duration,
    format_time,
    local,
    open_body,
    open_envelope,
    parse_bool,
    parse_expiry,
    parse_time,
    read_address,
    read_envelope,
    required_text,
    stripped,
    text_of,
    write_address,
)
from channels.mm7.profiles import MM7_NS_PREFIX, Mm7Profile
from channels.mm7.responses import DeliverRsp, DeliveryReportRsp, Fault, Status, SubmitRsp
from channels.mm7.status import SUCCESS
from channels.mm7.template import Template, marker

__all__ = [
    "AnyDocument", "Decoded", "DeliverReq", "DeliverRsp", "DeliveryReportReq", "DeliveryReportRsp",
    "Document", "Fault", "Status", "SubmitReq", "SubmitRsp", "SubmitShape", "build_shape", "decode",
    "decode_body", "decode_tree", "encode", "shape_key", "submit_shape",
]

UNSUPPORTED_OPERATION = 4003


class Document(Protocol):
    NAME: ClassVar[str]

    def write(self, w: XmlWriter, profile: Mm7Profile) -> None: ...


def _time(value: datetime | timedelta | None, profile: Mm7Profile) -> str | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return format_duration(value)
    return format_time(value, profile)


def _write_recipients(
    w: XmlWriter, to: tuple[Address, ...], cc: tuple[Address, ...], bcc: tuple[Address, ...]
) -> None:
    w.open("Recipients")
    for tag, group in (("To", to), ("Cc", cc), ("Bcc", bcc)):
        if group:
            w.open(tag)
            for a in group:
                w.leaf(a.kind.value, a.value)
            w.close(tag)
    w.close("Recipients")


def _read_recipients(el: ET.Element, required: bool) -> tuple[tuple[Address, ...], ...]:
    rec = child(el, "Recipients")
    groups: list[tuple[Address, ...]] = []
    for tag in ("To", "Cc", "Bcc"):
        found: list[Address] = []
        for g in children(rec, tag) if rec is not None else []:
            found.extend(_address_element(c) for c in g if local(c.tag) in _ADDRESS_KINDS)
        groups.append(tuple(found))
    if required and not any(groups):
        raise Mm7FormatError(f"{local(el.tag)}: Recipients has no address")
    return tuple(groups)


_ADDRESS_KINDS = {k.value: k for k in AddressKind}


def _address_element(el: ET.Element) -> Address:
    return _address(el.text or "", local(el.tag))


def _address(text: str, kind: str) -> Address:
    value = text.strip()
    if not value:
        raise Mm7FormatError(f"Recipients: empty {kind}")
    return Address(value, _ADDRESS_KINDS[kind])


def _timestamp(text: str | None) -> datetime | None:
    """TimeStamp's stripped text as a time (None when absent or empty)."""
    return parse_time(text, "TimeStamp") if text else None


def _write_content(w: XmlWriter, href: str | None, allow_adaptations: bool | None) -> None:
    if href is None:
        return
    attrs = {"href": href}
    if allow_adaptations is not None:
        attrs["allowAdaptations"] = format_bool(allow_adaptations) or "true"
    w.empty("Content", attrs)


def _content_href(el: ET.Element) -> tuple[str | None, bool | None]:
    c = child(el, "Content")
    if c is None:
        return None, None
    return c.get("href"), parse_bool(c.get("allowAdaptations"), "Content@allowAdaptations")


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitReq:
    """VASP → MMSC: submit an MM (TS 23.140 §8.7.1); element order per PROTOCOLS.md §4.2."""

    NAME: ClassVar[str] = "SubmitReq"
    vaspid: str | None = None
    vasid: str | None = None
    sender: Address | None = None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    service_code: str | None = None
    linked_id: str | None = None
    message_class: str | None = None
    timestamp: datetime | None = None
    earliest_delivery: datetime | timedelta | None = None
    expiry: datetime | timedelta | None = None
    delivery_report: bool | None = None
    read_reply: bool | None = None
    priority: str | None = None
    subject: str | None = None
    charged_party: str | None = None
    distribution_indicator: bool | None = None
    content_href: str | None = None
    allow_adaptations: bool | None = None

    def write(self, w: XmlWriter, profile: Mm7Profile) -> None:
        open_body(w, self.NAME, profile)
        if self.vaspid or self.vasid or self.sender:
            w.open("SenderIdentification")
            w.leaf("VASPID", self.vaspid)
            w.leaf("VASID", self.vasid)
            if self.sender is not None:
                write_address(w, "SenderAddress", self.sender, bare=profile.bare_sender)
            w.close("SenderIdentification")
        _write_recipients(w, self.to, self.cc, self.bcc)
        w.leaf("ServiceCode", self.service_code)
        w.leaf("LinkedID", self.linked_id)
        w.leaf("MessageClass", self.message_class)
        w.leaf("TimeStamp", _time(self.timestamp, profile))
        w.leaf("EarliestDeliveryTime", _time(self.earliest_delivery, profile))
        w.leaf("ExpiryDate", _time(self.expiry, profile))
        w.leaf("DeliveryReport", format_bool(self.delivery_report))
        w.leaf("ReadReply", format_bool(self.read_reply))
        w.leaf("Priority", self.priority)
        w.leaf("Subject", self.subject)
        w.leaf("ChargedParty", self.charged_party)
        w.leaf("DistributionIndicator", format_bool(self.distribution_indicator))
        _write_content(w, self.content_href, self.allow_adaptations)
        w.close(self.NAME)

    @classmethod
    def read(cls, el: ET.Element) -> Self:
        kids = first_children(el)
        ident = kids.get("SenderIdentification")
        to, cc, bcc = _read_recipients(el, required=True)
        ts, edt, exp = (stripped(kids.get(n)) for n in ("TimeStamp", "EarliestDeliveryTime", "ExpiryDate"))
        href, adapt = _content_href(el)
        return cls(
            vaspid=text_of(ident, "VASPID") if ident is not None else None,
            vasid=text_of(ident, "VASID") if ident is not None else None,
            sender=read_address(child(ident, "SenderAddress")) if ident is not None else None,
            to=to,
            cc=cc,
            bcc=bcc,
            service_code=stripped(kids.get("ServiceCode")),
            linked_id=stripped(kids.get("LinkedID")),
            message_class=stripped(kids.get("MessageClass")),
            timestamp=_timestamp(ts),
            earliest_delivery=parse_expiry(edt, "EarliestDeliveryTime") if edt else None,
            expiry=parse_expiry(exp, "ExpiryDate") if exp else None,
            delivery_report=parse_bool(stripped(kids.get("DeliveryReport")), "DeliveryReport"),
            read_reply=parse_bool(stripped(kids.get("ReadReply")), "ReadReply"),
            priority=stripped(kids.get("Priority")),
            subject=_raw_text(el, "Subject"),
            charged_party=stripped(kids.get("ChargedParty")),
            distribution_indicator=parse_bool(
                stripped(kids.get("DistributionIndicator")), "DistributionIndicator"
            ),
            content_href=href,
            allow_adaptations=adapt,
        )


def _raw_text(el: ET.Element, name: str) -> str | None:
    """Text kept as written (a Subject's spaces are the sender's)."""
    c = child(el, name)
    return None if c is None else (c.text or "")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReportReq:
    """MMSC → VASP: what became of an MM at one recipient (TS 23.140 §8.7.3)."""

    NAME: ClassVar[str] = "DeliveryReportReq"
    message_id: str
    recipient: Address
    sender: Address
    date: datetime
    mm_status: str
    status_text: str | None = None
    relay_server_id: str | None = None

    def write(self, w: XmlWriter, profile: Mm7Profile) -> None:
        open_body(w, self.NAME, profile)
        w.leaf("MMSRelayServerID", self.relay_server_id)
        w.leaf("MessageID", self.message_id)
        write_address(w, "Recipient", self.recipient)
        write_address(w, "Sender", self.sender)
        w.leaf("Date", format_time(self.date, profile))
        w.leaf("MMStatus", self.mm_status)
        w.leaf("StatusText", self.status_text)
        w.close(self.NAME)

    @classmethod
    def read(cls, el: ET.Element) -> Self:
        recipient = read_address(child(el, "Recipient"))
        sender = read_address(child(el, "Sender"))
        if recipient is None or sender is None:
            raise Mm7FormatError("DeliveryReportReq: Recipient or Sender is missing")
        return cls(
            message_id=required_text(el, "MessageID"),
            recipient=recipient,
            sender=sender,
            date=parse_time(required_text(el, "Date"), "Date"),
            mm_status=required_text(el, "MMStatus"),
            status_text=text_of(el, "StatusText"),
            relay_server_id=text_of(el, "MMSRelayServerID"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverReq:
    """MMSC → VASP: a subscriber's MM (MO), content attached (TS 23.140 §8.7.2)."""

    NAME: ClassVar[str] = "DeliverReq"
    sender: Address
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    linked_id: str | None = None
    timestamp: datetime | None = None
    priority: str | None = None
    subject: str | None = None
    vaspid: str | None = None
    vasid: str | None = None
    relay_server_id: str | None = None
    content_href: str | None = None

    def write(self, w: XmlWriter, profile: Mm7Profile) -> None:
        open_body(w, self.NAME, profile)
        w.leaf("MMSRelayServerID", self.relay_server_id)
        w.leaf("VASPID", self.vaspid)
        w.leaf("VASID", self.vasid)
        w.leaf("LinkedID", self.linked_id)
        write_address(w, "Sender", self.sender)
        _write_recipients(w, self.to, self.cc, self.bcc)
        w.leaf("TimeStamp", _time(self.timestamp, profile))
        w.leaf("Priority", self.priority)
        w.leaf("Subject", self.subject)
        _write_content(w, self.content_href, None)
        w.close(self.NAME)

    @classmethod
    def read(cls, el: ET.Element) -> Self:
        sender = read_address(child(el, "Sender"))
        if sender is None:
            raise Mm7FormatError("DeliverReq: Sender is missing")
        to, cc, bcc = _read_recipients(el, required=False)
        ts = text_of(el, "TimeStamp")
        return cls(
            sender=sender,
            to=to,
            cc=cc,
            bcc=bcc,
            linked_id=text_of(el, "LinkedID"),
            timestamp=parse_time(ts, "TimeStamp") if ts else None,
            priority=text_of(el, "Priority"),
            subject=_raw_text(el, "Subject"),
            vaspid=text_of(el, "VASPID"),
            vasid=text_of(el, "VASID"),
            relay_server_id=text_of(el, "MMSRelayServerID"),
            content_href=_content_href(el)[0],
        )


AnyDocument = SubmitReq | SubmitRsp | DeliveryReportReq | DeliveryReportRsp | DeliverReq | DeliverRsp | Fault

_READERS: dict[str, type[AnyDocument]] = {
    c.NAME: c
    for c in (SubmitReq, SubmitRsp, DeliveryReportReq, DeliveryReportRsp, DeliverReq, DeliverRsp, Fault)
}


@dataclass(frozen=True, slots=True)
class Decoded:
    """A parsed MM7 envelope: its namespace, TransactionID, MM7Version and Body document."""

    namespace: str
    transaction_id: str
    version: str
    doc: AnyDocument


def encode(doc: Document, profile: Mm7Profile, transaction_id: str) -> bytes:
    """One SOAP envelope holding ``doc`` in ``profile``'s namespace and MM7Version."""
    answer = _answer_values(doc)
    if answer is not None:
        xml = answer[0].template.fill((profile.release, profile.version, transaction_id, *answer[1]))
        if xml is not None:
            return xml
    return _write(doc, profile, transaction_id)


def _write(doc: Document, profile: Mm7Profile, transaction_id: str) -> bytes:
    """:func:`encode` by the writer (what every template is cut from)."""
    w = XmlWriter()
    open_envelope(w, profile, transaction_id)
    doc.write(w, profile)
    return close_envelope(w)


def decode_body(raw: RawEnvelope) -> AnyDocument:
    """The Body as a document; 4003 for an operation we do not handle, 2007 for a malformed one."""
    reader = _READERS.get(raw.name)
    if reader is None:
        raise Mm7FormatError(f"Body: unsupported operation {raw.name}", status=UNSUPPORTED_OPERATION)
    return reader.read(raw.body)


def decode(xml: bytes) -> Decoded:
    """Any MM7 envelope as a document: a success answer as we write it by its template, the rest
    (and whatever the template does not recognise) by :func:`decode_tree`."""
    fast = _read_answer(xml)
    return fast if fast is not None else decode_tree(xml)


def decode_tree(xml: bytes) -> Decoded:
    """:func:`decode` through ElementTree: the general reader, and the reference of the fast path."""
    raw = read_envelope(xml)
    doc = decode_body(raw)
    body = raw.body
    if isinstance(doc, Fault):
        detail = child(body, "detail")
        body = detail[0] if detail is not None and len(detail) else body
    return Decoded(raw.namespace, raw.transaction_id, text_of(body, "MM7Version") or "", doc)


# -- the per-message fast path (channels.mm7.template) ----------------------------------------------
#
# The documents a gateway exchanges once per message are written and read as templates cut from
# the writer above: a success SubmitRsp or DeliveryReportRsp (the answers), and a SubmitReq to one
# recipient (SubmitShape). What a template does not take (another status, a value to escape, a
# document written another way) goes through the writer and ElementTree, with the same result.

_OK = Status.of(SUCCESS)
# Holes 0-2 of every answer: the namespace's release (twice: Header and Body), MM7Version, TransactionID.
_MARKED = Mm7Profile(release=marker(0), version=marker(1), max_size=0)
_RELEASE = {0: r"[0-9A-Za-z._-]"}  # what a release name is made of (profiles.release_of)


@dataclass(frozen=True, slots=True)
class _Answer:
    """A success answer as a template; ``make`` builds the document from the holes after hole 2."""

    kind: type[SubmitRsp | DeliveryReportRsp]
    template: Template
    make: Callable[[Sequence[str]], SubmitRsp | DeliveryReportRsp]


def _answer(make: Callable[[Sequence[str]], SubmitRsp | DeliveryReportRsp], extra: int) -> _Answer:
    markers = [marker(i) for i in range(3 + extra)]
    doc = make(markers[3:])
    template = Template.cut(_write(doc, _MARKED, markers[2]), [m.encode() for m in markers], {0: 2}, _RELEASE)
    assert template is not None, "the writer no longer writes a marker once"
    return _Answer(type(doc), template, make)


_ANSWERS = (
    _answer(lambda v: SubmitRsp(status=_OK, message_id=v[0].strip()), 1),
    _answer(lambda v: DeliveryReportRsp(status=_OK), 0),
)


def _answer_values(doc: Document) -> tuple[_Answer, tuple[str, ...]] | None:
    """The template that writes ``doc`` and its values after hole 2 (None: not a templated answer)."""
    if isinstance(doc, SubmitRsp) and doc.status == _OK and doc.message_id is not None:
        return _ANSWERS[0], (doc.message_id,)
    if isinstance(doc, DeliveryReportRsp) and doc.status == _OK:
        return _ANSWERS[1], ()
    return None


def _read_answer(xml: bytes) -> Decoded | None:
    """A success answer written as we write it, read without ElementTree (the values as its readers
    take them: stripped)."""
    for a in _ANSWERS:
        values = a.template.match(xml)
        if values is not None:
            release, version, tid, *rest = values
            return Decoded(MM7_NS_PREFIX + release, tid.strip(), version.strip(), a.make(rest))
    return None


_MARK_TIME = datetime(1111, 11, 11, 11, 11, 11, tzinfo=UTC)  # a TimeStamp no real request carries


@dataclass(frozen=True, slots=True)
class SubmitShape:
    """A SubmitReq to one recipient, written once with TransactionID, the recipient and TimeStamp as
    holes: what a campaign's requests share. The client writes its requests from it; the MMSC reads
    a peer's requests with it once one of them, read the general way, re-wrote to the same bytes."""

    template: Template
    req: SubmitReq  # the other fields
    profile: Mm7Profile
    # req's fields as keywords: a read builds its SubmitReq from them (dataclasses.replace, which
    # looks the fields up again each time, cost twice as much)
    fields: Mapping[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kw = {f.name: getattr(self.req, f.name) for f in dataclass_fields(self.req)}
        object.__setattr__(self, "fields", kw)

    def write(self, transaction_id: str, to: str, when: datetime) -> bytes | None:
        """The request to ``to`` at ``when``; None when a value is not plain (write it the general way)."""
        return self.template.fill((transaction_id, to, format_time(when, self.profile)))

    def read(self, xml: bytes) -> tuple[str, SubmitReq] | None:
        """(TransactionID, SubmitReq) of a request written from this shape, else None."""
        values = self.template.match(xml)
        if values is None:
            return None
        tid, to, when = values
        try:
            address, timestamp = _address(to, self.req.to[0].kind.value), _timestamp(when.strip())
        except Mm7FormatError:
            return None  # ElementTree's reading raises it
        return tid.strip(), SubmitReq(**{**self.fields, "to": (address,), "timestamp": timestamp})


def build_shape(req: SubmitReq, profile: Mm7Profile, wrap: Callable[[bytes], bytes]) -> SubmitShape | None:
    """``req``'s shape (its ``to`` value and ``timestamp`` aside), its envelope passed through ``wrap``
    (line ends, the MIME around it); None for several recipients or no TimeStamp."""
    if len(req.to) != 1 or req.cc or req.bcc or req.timestamp is None:
        return None
    marked = replace(req, to=(Address(marker(1), req.to[0].kind),), timestamp=_MARK_TIME)
    xml = wrap(_write(marked, profile, marker(0)))
    markers = [marker(0).encode(), marker(1).encode(), format_time(_MARK_TIME, profile).encode()]
    template = Template.cut(xml, markers)
    return None if template is None else SubmitShape(template, marked, profile)


# Cached per shape (a peer's requests share a few): pass ``req`` through :func:`shape_key` first.
submit_shape = functools.lru_cache(maxsize=64)(build_shape)


def shape_key(req: SubmitReq) -> SubmitReq:
    """``req`` with the fields a :class:`SubmitShape` leaves open set to fixed values (a cache key)."""
    if len(req.to) != 1 or req.timestamp is None:
        return req
    return replace(req, to=(Address("", req.to[0].kind),), timestamp=_MARK_TIME)
