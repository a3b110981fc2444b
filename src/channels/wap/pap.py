"""PAP 2.0 (WAP-247-PAP) documents and addresses, for both the push initiator and the push proxy
gateway (the multipart body is in ``pap_body``, the code tables in ``pap_codes``; both re-exported).

A push initiator POSTs ``multipart/related; type="application/xml"``: the PAP control entity (a
``push-message`` naming push-id, address and quality of service) then the content (an SI/SL
document). The PPG answers ``push-response`` (or ``badmessage-response``) with a result code, and
may later POST ``resultnotification-message`` (answered by ``resultnotification-response``). One
codec serves :class:`~channels.wap.client.PapClient` and the PPG simulator. Codes, states and
Kannel's quirks: PROTOCOLS.md §5.1. Pure: XML and MIME via the standard library.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import quoteattr

from channels.errors import InvalidRecipient, RemoteProtocolError
from channels.mm7.template import Template, marker

# Re-exported: the code tables and the multipart body belong to the PAP codec's surface.
from channels.wap.pap_body import PAP_CONTROL_TYPE as PAP_CONTROL_TYPE
from channels.wap.pap_body import PushBody as PushBody
from channels.wap.pap_body import build_push_body as build_push_body
from channels.wap.pap_body import parse_push_body as parse_push_body
from channels.wap.pap_codes import MESSAGE_STATES as MESSAGE_STATES
from channels.wap.pap_codes import PAP_CODES as PAP_CODES
from channels.wap.pap_codes import code_name as code_name
from channels.wap.pap_codes import error_for as error_for
from channels.wap.pap_codes import is_success as is_success
from channels.wap.si import parse_utc

PAP_DOCTYPE = '<!DOCTYPE pap PUBLIC "-//WAPFORUM//DTD PAP 2.0//EN" "http://www.wapforum.org/DTD/pap_2.0.dtd">'
ADDRESS_TYPES = ("PLMN", "IPv4", "IPv6", "USER")


# -- addresses (WAP-249 PPG Service §7.1) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PapAddress:
    """``WAPPUSH=<client>/TYPE=<type>@<ppg>``; USER values are %-escaped on the wire."""

    client: str
    type: str = "PLMN"
    ppg: str = ""

    def __str__(self) -> str:
        client = quote(self.client, safe="") if self.type == "USER" else self.client
        return f"WAPPUSH={client}/TYPE={self.type}@{self.ppg}"

    def validate(self) -> None:
        if self.type not in ADDRESS_TYPES:
            raise InvalidRecipient(f"address TYPE={self.type} is not one of {ADDRESS_TYPES}")
        if self.type == "PLMN" and not self.client.removeprefix("+").isdigit():
            raise InvalidRecipient(f"PLMN address {self.client!r} is not a number", name="address")


def parse_address(value: str) -> PapAddress:
    head, at, ppg = value.rpartition("@")
    if not at or not head.upper().startswith("WAPPUSH="):
        raise InvalidRecipient(f"address-value {value!r} is not WAPPUSH=<client>/TYPE=<type>@<ppg>")
    client, slash, type_part = head[len("WAPPUSH=") :].rpartition("/")
    if not slash or not type_part.upper().startswith("TYPE="):
        raise InvalidRecipient(f"address-value {value!r} has no /TYPE=")
    kind = type_part[len("TYPE=") :]
    kind = next((t for t in ADDRESS_TYPES if t.lower() == kind.lower()), kind)
    address = PapAddress(unquote(client) if kind == "USER" else client, kind, ppg)
    address.validate()
    return address


# -- documents -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityOfService:
    priority: str = "medium"
    delivery_method: str = "unconfirmed"
    network: str | None = "GSM"
    network_required: bool = False
    bearer: str | None = "SMS"
    bearer_required: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PushMessage:
    push_id: str
    addresses: tuple[str, ...]
    qos: QualityOfService | None = field(default_factory=QualityOfService)
    deliver_before: datetime | None = None
    deliver_after: datetime | None = None
    source_reference: str | None = None
    notify_to: str | None = None  # ppg-notify-requested-to
    progress_notes_requested: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PushResponse:
    push_id: str
    code: int
    desc: str | None = None
    sender_address: str | None = None
    sender_name: str | None = None
    reply_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BadMessageResponse:
    code: int
    desc: str | None = None
    fragment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultNotification:
    push_id: str
    address: str
    code: int
    message_state: str
    desc: str | None = None
    sender_address: str | None = None
    sender_name: str | None = None
    received_time: datetime | None = None
    event_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultNotificationResponse:
    push_id: str
    code: int = 1000
    address: str | None = None
    desc: str | None = None


PapDocument = (
    PushMessage | PushResponse | BadMessageResponse | ResultNotification | ResultNotificationResponse
)


def format_time(when: datetime) -> str:
    return (when.astimezone(UTC) if when.tzinfo else when).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_utc(text)
    except ValueError as exc:
        raise RemoteProtocolError(f"PAP: timestamp {text!r} is not YYYY-MM-DDThh:mm:ssZ") from exc


_ATTR_SPECIAL = re.compile("[&<>\"'\n\r\t]")


def _quote(value: str) -> str:
    """``quoteattr(value)``; a value with nothing to escape (push-ids, times, codes) skips its calls."""
    return quoteattr(value) if _ATTR_SPECIAL.search(value) else f'"{value}"'


def _attrs(pairs: list[tuple[str, str | None]]) -> str:
    return "".join([f" {k}={_quote(v)}" for k, v in pairs if v is not None])


def _result(code: int, desc: str | None) -> str:
    return f"<response-result{_attrs([('code', str(code)), ('desc', desc)])}/>"


def render(doc: PapDocument) -> bytes:
    """The document as a PAP 2.0 XML entity (a push-message or push-response by its shape's template
    when its values are plain)."""
    holes = _holes(doc)
    if holes is not None:
        assert isinstance(doc, PushMessage | PushResponse)
        shape = _shape(doc)
        data = shape.template.fill(holes) if shape is not None else None
        if data is not None:
            return data
    return _write(doc)


def _write(doc: PapDocument) -> bytes:
    """:func:`render` by the writer (what every template is cut from)."""
    return f'<?xml version="1.0"?>\n{PAP_DOCTYPE}\n<pap>{_render_body(doc)}</pap>'.encode()


# -- the per-push fast path (channels.mm7.template) ------------------------------------------------
#
# A push-message to one address and a push-response differ from push to push only in the push-id
# and the address or reply-time. Their *shape* (the document with those as holes) is written once by
# the writer above and cut into a template: render fills it; parse matches it against the shapes it
# learned from documents it parsed with ElementTree and the shape re-writes byte for byte. What a
# template does not take (non-plain values, documents written another way) goes the general way.

_MARK_TIME = datetime(1111, 11, 11, 11, 11, 11, tzinfo=UTC)  # a time no document carries
_MARKERS = (marker(0).encode(), marker(1).encode(), format_time(_MARK_TIME).encode())


@dataclass(frozen=True, slots=True, eq=False)
class _Shape:
    """A push-message to one address or a push-response, written once with its holes marked."""

    marked: PushMessage | PushResponse
    template: Template
    fields: dict[str, Any]  # marked's fields as keywords: a read builds its document from them


# The fields a shape leaves open, per type; the others (with the type) key its shape.
_OPEN: dict[type, tuple[str, str]] = {
    PushMessage: ("push_id", "addresses"),
    PushResponse: ("push_id", "reply_time"),
}
_FIXED = {
    cls: tuple(f.name for f in dataclass_fields(cls) if f.name not in open_) for cls, open_ in _OPEN.items()
}
_SHAPES: dict[tuple[Any, ...], _Shape | None] = {}  # by type and fixed fields; a few per client and campaign


def _holes(doc: PapDocument) -> tuple[str, str] | None:
    """The values of ``doc``'s holes; None if it has no shape (several addresses, no reply-time)."""
    if type(doc) is PushMessage and len(doc.addresses) == 1:
        return doc.push_id, doc.addresses[0]
    if type(doc) is PushResponse and doc.reply_time is not None:
        return doc.push_id, format_time(doc.reply_time)
    return None


def _shape(doc: PushMessage | PushResponse) -> _Shape | None:
    """``doc``'s shape, cut once per distinct values of the fields it fixes."""
    key = (type(doc), *[getattr(doc, name) for name in _FIXED[type(doc)]])
    try:
        return _SHAPES[key]
    except KeyError:
        pass
    if isinstance(doc, PushMessage):
        marked: PushMessage | PushResponse = replace(doc, push_id=marker(0), addresses=(marker(1),))
        markers = _MARKERS[:2]
    else:
        marked, markers = replace(doc, push_id=marker(0), reply_time=_MARK_TIME), (_MARKERS[0], _MARKERS[2])
    template = Template.cut(_write(marked), markers)
    fields = {f.name: getattr(marked, f.name) for f in dataclass_fields(marked)}
    shape = None if template is None else _Shape(marked, template, fields)
    if len(_SHAPES) >= 64:  # bounded: odd peers cannot grow it
        _SHAPES.clear()
    _SHAPES[key] = shape
    return shape


def _from_holes(shape: _Shape, values: tuple[str, ...]) -> PapDocument | None:
    """The document a shape's holes make, read as the parsers below read them (None: let them)."""
    push_id, other = values
    if isinstance(shape.marked, PushMessage):
        if not push_id or not other:
            return None  # _required refuses it
        return PushMessage(**{**shape.fields, "push_id": push_id, "addresses": (other,)})
    try:
        return PushResponse(**{**shape.fields, "push_id": push_id, "reply_time": parse_time(other)})
    except RemoteProtocolError:
        return None


_LEARNED: deque[_Shape] = deque(maxlen=8)  # shapes seen, newest first


def _read_learned(data: bytes) -> PapDocument | None:
    for shape in _LEARNED:
        values = shape.template.match(data)
        if values is not None:
            return _from_holes(shape, values)
    return None


def _learn(doc: PapDocument, data: bytes) -> None:
    holes = _holes(doc)
    if holes is None:
        return
    assert isinstance(doc, PushMessage | PushResponse)
    shape = _shape(doc)
    if shape is not None and shape not in _LEARNED and shape.template.fill(holes) == data:
        _LEARNED.appendleft(shape)


def _render_body(doc: PapDocument) -> str:
    if isinstance(doc, PushMessage):
        return _render_push_message(doc)
    if isinstance(doc, PushResponse):
        a = _attrs(
            [
                ("push-id", doc.push_id),
                ("sender-address", doc.sender_address),
                ("sender-name", doc.sender_name),
                ("reply-time", format_time(doc.reply_time) if doc.reply_time else None),
            ]
        )
        return f"<push-response{a}>{_result(doc.code, doc.desc)}</push-response>"
    if isinstance(doc, BadMessageResponse):
        a = _attrs([("code", str(doc.code)), ("desc", doc.desc), ("bad-message-fragment", doc.fragment)])
        return f"<badmessage-response{a}/>"
    if isinstance(doc, ResultNotification):
        a = _attrs(
            [
                ("push-id", doc.push_id),
                ("sender-address", doc.sender_address),
                ("sender-name", doc.sender_name),
                ("received-time", format_time(doc.received_time) if doc.received_time else None),
                ("event-time", format_time(doc.event_time) if doc.event_time else None),
                ("message-state", doc.message_state),
                ("code", str(doc.code)),
                ("desc", doc.desc),
            ]
        )
        address = f"<address{_attrs([('address-value', doc.address)])}/>" if doc.address else ""
        return f"<resultnotification-message{a}>{address}</resultnotification-message>"
    a = _attrs([("push-id", doc.push_id)])
    address = f"<address{_attrs([('address-value', doc.address)])}/>" if doc.address else ""
    result = _result(doc.code, doc.desc)
    return f"<resultnotification-response{a}>{address}{result}</resultnotification-response>"


def _render_push_message(doc: PushMessage) -> str:
    a = _attrs(
        [
            ("push-id", doc.push_id),
            ("deliver-before-timestamp", format_time(doc.deliver_before) if doc.deliver_before else None),
            ("deliver-after-timestamp", format_time(doc.deliver_after) if doc.deliver_after else None),
            ("source-reference", doc.source_reference),
            ("ppg-notify-requested-to", doc.notify_to),
            ("progress-notes-requested", "true" if doc.progress_notes_requested else None),
        ]
    )
    body = "".join(f"<address{_attrs([('address-value', v)])}/>" for v in doc.addresses)
    if doc.qos is not None:
        q = doc.qos
        body += (
            "<quality-of-service"
            + _attrs(
                [
                    ("priority", q.priority),
                    ("delivery-method", q.delivery_method),
                    ("network-required", "true" if q.network_required else None),
                    ("network", q.network),
                    ("bearer-required", "true" if q.bearer_required else None),
                    ("bearer", q.bearer),
                ]
            )
            + "/>"
        )
    return f"<push-message{a}>{body}</push-message>"


@dataclass(frozen=True, slots=True, eq=False)
class _PushBodyShape:
    """A whole push request learned around its push-message's shape: the MIME wrapper and the content
    part are literal parts of the template, the push-id and the address its holes."""

    content_type: str  # the HTTP request's (the client's boundary)
    max_parts: int | None  # as the request was checked
    template: Template
    control: _Shape  # the push-message's shape (its keywords)
    head: int  # the bytes before the control entity
    tail: int  # and after it
    content: bytes
    part_type: str
    part_headers: tuple[tuple[str, str], ...]


# Whole push requests, learned when a body read the general way re-writes byte for byte from its
# push-message's shape and the MIME around it. A body that fills one in is read without the MIME
# reader or the XML: its holes hold plain text (no CR or LF), so they cannot make or hide a delimiter
# line, and the push-message is the one the control shape gives. Bounded; tried once per Content-Type.
_PUSH_BODIES: deque[_PushBodyShape] = deque(maxlen=8)
_PUSH_BODY_TRIED: dict[tuple[str, int | None], None] = {}


def read_push(
    content_type: str, data: bytes, *, max_parts: int | None = None
) -> tuple[PushBody, PapDocument]:
    """A push request split (:func:`parse_push_body`) and its control entity parsed (:func:`parse`):
    by a learned whole-body shape when the body fills one in, else those two."""
    for learned in _PUSH_BODIES:
        if learned.content_type == content_type and learned.max_parts == max_parts:
            values = learned.template.match(data)
            doc = _from_holes(learned.control, values) if values is not None else None
            if doc is not None:
                body = PushBody(
                    control=data[learned.head : len(data) - learned.tail], content=learned.content,
                    content_type=learned.part_type, content_headers=dict(learned.part_headers),
                )
                return body, doc
    body = parse_push_body(content_type, data, max_parts=max_parts)
    doc = parse(body.control)
    if (content_type, max_parts) not in _PUSH_BODY_TRIED:
        _learn_push_body(content_type, max_parts, data, body, doc)
    return body, doc


def _learn_push_body(
    content_type: str, max_parts: int | None, data: bytes, body: PushBody, doc: PapDocument
) -> None:
    if len(_PUSH_BODY_TRIED) >= 256:
        _PUSH_BODY_TRIED.clear()
    _PUSH_BODY_TRIED[(content_type, max_parts)] = None
    holes = _holes(doc)
    if holes is None or not isinstance(doc, PushMessage):
        return
    shape = _shape(doc)
    at = data.find(body.control)
    if shape is None or at < 0:
        return
    head, tail = data[:at], data[at + len(body.control) :]
    template = Template.cut(head + _write(shape.marked) + tail, _MARKERS[:2])
    if template is None or template.fill(holes) != data:
        return
    _PUSH_BODIES.appendleft(_PushBodyShape(
        content_type, max_parts, template, shape, len(head), len(tail), body.content, body.content_type,
        tuple(body.content_headers.items()),
    ))


def parse(data: bytes) -> PapDocument:
    """Parse a PAP entity (1.0 or 2.0 DOCTYPE); malformed input raises RemoteProtocolError."""
    fast = _read_learned(data)
    if fast is not None:
        return fast
    doc = parse_tree(data)
    _learn(doc, data)
    return doc


def parse_tree(data: bytes) -> PapDocument:
    """:func:`parse` through ElementTree: the general reader, and the reference of the fast path."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise RemoteProtocolError(f"PAP: malformed XML: {exc}", status=2000) from exc
    except (LookupError, ValueError) as exc:  # an XML declaration naming an encoding expat cannot read
        raise RemoteProtocolError(f"PAP: unreadable encoding: {exc}", status=2000) from exc
    if root.tag != "pap" or len(root) != 1:
        raise RemoteProtocolError("PAP: expected <pap> with one element", status=2000)
    node = root[0]
    parser = _PARSERS.get(node.tag)
    if parser is None:
        raise RemoteProtocolError(f"PAP: unsupported element <{node.tag}>", status=3001)
    return parser(node)


def _code(node: ET.Element, what: str) -> int:
    raw = (node.get("code") or "").strip()
    if not raw.isdigit():
        raise RemoteProtocolError(f"PAP: {what} has no numeric code", status=2000)
    return int(raw)


def _required(node: ET.Element, name: str) -> str:
    value = node.get(name)
    if not value:
        raise RemoteProtocolError(f"PAP: <{node.tag}> lacks {name}", status=2000)
    return value


def _parse_push_message(node: ET.Element) -> PushMessage:
    addresses = tuple(_required(a, "address-value") for a in node.findall("address"))
    if not addresses:
        raise RemoteProtocolError("PAP: push-message has no address", status=2002)
    q = node.find("quality-of-service")
    qos = (
        None
        if q is None
        else QualityOfService(
            priority=q.get("priority", "medium"),
            delivery_method=q.get("delivery-method", "not-specified"),
            network=q.get("network"),
            network_required=q.get("network-required") == "true",
            bearer=q.get("bearer"),
            bearer_required=q.get("bearer-required") == "true",
        )
    )
    return PushMessage(
        push_id=_required(node, "push-id"),
        addresses=addresses,
        qos=qos,
        deliver_before=parse_time(node.get("deliver-before-timestamp")),
        deliver_after=parse_time(node.get("deliver-after-timestamp")),
        source_reference=node.get("source-reference"),
        notify_to=node.get("ppg-notify-requested-to"),
        progress_notes_requested=node.get("progress-notes-requested") == "true",
    )


def _parse_push_response(node: ET.Element) -> PushResponse:
    result = node.find("response-result")
    if result is None:
        raise RemoteProtocolError("PAP: push-response has no response-result", status=2000)
    return PushResponse(
        push_id=node.get("push-id", ""),
        code=_code(result, "response-result"),
        desc=result.get("desc"),
        sender_address=node.get("sender-address"),
        sender_name=node.get("sender-name"),
        reply_time=parse_time(node.get("reply-time")),
    )


def _parse_badmessage(node: ET.Element) -> BadMessageResponse:
    return BadMessageResponse(
        code=_code(node, "badmessage-response"),
        desc=node.get("desc"),
        fragment=node.get("bad-message-fragment"),
    )


def _parse_notification(node: ET.Element) -> ResultNotification:
    address = node.find("address")
    return ResultNotification(
        push_id=_required(node, "push-id"),
        address=_required(address, "address-value") if address is not None else "",
        code=_code(node, "resultnotification-message"),
        message_state=_required(node, "message-state"),
        desc=node.get("desc"),
        sender_address=node.get("sender-address"),
        sender_name=node.get("sender-name"),
        received_time=parse_time(node.get("received-time")),
        event_time=parse_time(node.get("event-time")),
    )


def _parse_notification_response(node: ET.Element) -> ResultNotificationResponse:
    result = node.find("response-result")
    address = node.find("address")
    return ResultNotificationResponse(
        push_id=_required(node, "push-id"),
        code=_code(result, "response-result") if result is not None else 1000,
        address=address.get("address-value") if address is not None else None,
        desc=result.get("desc") if result is not None else None,
    )


_PARSERS: dict[str, Callable[[ET.Element], PapDocument]] = {
    "push-message": _parse_push_message,
    "push-response": _parse_push_response,
    "badmessage-response": _parse_badmessage,
    "resultnotification-message": _parse_notification,
    "resultnotification-response": _parse_notification_response,
}
