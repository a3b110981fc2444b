"""SOAP 1.1 envelope framing for MM7 (3GPP TS 23.140 §8.7, Annex; SOAP 1.1 §4, §4.4; PROTOCOLS.md §4.1).

Every MM7 request and response is one SOAP envelope whose Header holds the MM7 ``TransactionID``
(``mustUnderstand="1"``) and whose Body holds one MM7 element, or an ``env:Fault`` whose ``detail``
holds ``RSErrorRsp``/``VASPErrorRsp``. This module writes that frame (a tiny deterministic XML writer,
so golden files compare byte for byte) and reads it back with ElementTree, ignoring namespace
prefixes: peers use prefixed or default namespaces and some omit them inside the Body. It also holds
the shared value helpers (addresses, times, durations). Pure: bytes in, values out.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from xml.sax.saxutils import escape, quoteattr

from channels.errors import RemoteProtocolError
from channels.mm7.profiles import SOAP_ENV_NS, Mm7Profile

FORMAT_CORRUPT = 2007  # TS 23.140 Table 30: the status to answer malformed input with


class Mm7FormatError(RemoteProtocolError):
    """An MM7 document we cannot read; ``status`` is the MM7 code to answer it with (2007)."""

    def __init__(self, message: str, *, status: int = FORMAT_CORRUPT) -> None:
        super().__init__(message, status=status)


# -- writing -----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _attr(name: str, value: str) -> str:
    """`` name="value"``; the few attributes MM7 writes (namespaces, ``cid:`` hrefs, flags) repeat."""
    return f" {name}={quoteattr(value)}"


def _text(text: str) -> str:
    """Character data escaped as ``saxutils.escape`` does, without its calls when nothing needs it."""
    if "&" in text or "<" in text or ">" in text:
        return escape(text)
    return text


class XmlWriter:
    """An indented XML writer: elements in the order given, text escaped, nothing else."""

    def __init__(self) -> None:
        self._out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
        self._depth = 0

    def _attrs(self, attrs: Mapping[str, str] | None) -> str:
        if not attrs:
            return ""
        return "".join([_attr(k, v) for k, v in attrs.items()])

    def open(self, tag: str, attrs: Mapping[str, str] | None = None) -> None:
        self._out.append(f"{' ' * self._depth}<{tag}{self._attrs(attrs)}>\n")
        self._depth += 1

    def close(self, tag: str) -> None:
        self._depth -= 1
        self._out.append(f"{' ' * self._depth}</{tag}>\n")

    def leaf(self, tag: str, text: str | None, attrs: Mapping[str, str] | None = None) -> None:
        """``<tag>text</tag>``; nothing when ``text`` is None."""
        if text is not None:
            self._out.append(f"{' ' * self._depth}<{tag}{self._attrs(attrs)}>{_text(text)}</{tag}>\n")

    def empty(self, tag: str, attrs: Mapping[str, str] | None = None) -> None:
        self._out.append(f"{' ' * self._depth}<{tag}{self._attrs(attrs)}/>\n")

    def getvalue(self) -> bytes:
        return "".join(self._out).encode("utf-8")


def open_envelope(w: XmlWriter, profile: Mm7Profile, transaction_id: str) -> None:
    """``env:Envelope``, the Header with TransactionID (TS 23.140 §8.7.1), and ``env:Body``."""
    w.open("env:Envelope", {"xmlns:env": SOAP_ENV_NS})
    w.open("env:Header")
    w.leaf("TransactionID", transaction_id, {"xmlns": profile.namespace, "env:mustUnderstand": "1"})
    w.close("env:Header")
    w.open("env:Body")


def open_body(w: XmlWriter, name: str, profile: Mm7Profile) -> None:
    """The Body element in the profile's namespace, opened with its MM7Version (always first)."""
    w.open(name, {"xmlns": profile.namespace})
    w.leaf("MM7Version", profile.version)


def close_envelope(w: XmlWriter) -> bytes:
    w.close("env:Body")
    w.close("env:Envelope")
    return w.getvalue()


# -- reading -----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def local(tag: str) -> str:
    """An element's name without its ``{namespace}`` (tags repeat: cached)."""
    return tag.rsplit("}", 1)[-1]


def namespace_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def child(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if local(c.tag) == name]


def first_children(el: ET.Element) -> dict[str, ET.Element]:
    """Each local name's first child, for an element read field by field (one pass, not one per field)."""
    return {local(c.tag): c for c in reversed(el)}


def stripped(c: ET.Element | None) -> str | None:
    """An element's text without surrounding blanks; None for no element."""
    if c is None:
        return None
    return (c.text or "").strip()


def text_of(el: ET.Element, name: str) -> str | None:
    return stripped(child(el, name))


def required_text(el: ET.Element, name: str) -> str:
    value = text_of(el, name)
    if not value:
        raise Mm7FormatError(f"{local(el.tag)}: required element {name} is missing or empty")
    return value


@dataclass(frozen=True, slots=True)
class RawEnvelope:
    """A parsed envelope: the MM7 namespace, TransactionID and the Body's element."""

    namespace: str
    transaction_id: str
    body: ET.Element

    @property
    def name(self) -> str:
        return local(self.body.tag)


def read_envelope(xml: bytes) -> RawEnvelope:
    """Parse a SOAP envelope; raises :class:`Mm7FormatError` naming what is wrong."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise Mm7FormatError(f"envelope: not well-formed XML ({exc})") from exc
    except (LookupError, ValueError) as exc:  # an XML declaration naming an encoding expat cannot read
        raise Mm7FormatError(f"envelope: unreadable encoding ({exc})") from exc
    if local(root.tag) != "Envelope":
        raise Mm7FormatError(f"envelope: root element is {local(root.tag)}, not Envelope")
    body = child(root, "Body")
    if body is None or len(body) == 0:
        raise Mm7FormatError("envelope: Body is missing or empty")
    element = body[0]
    header = child(root, "Header")
    tid = child(header, "TransactionID") if header is not None else None
    transaction_id = (tid.text or "").strip() if tid is not None else ""
    namespace = namespace_of(tid.tag) if tid is not None else ""
    if local(element.tag) == "Fault":
        detail = child(element, "detail")
        inner = detail[0] if detail is not None and len(detail) else None
        namespace = namespace or (namespace_of(inner.tag) if inner is not None else "")
    else:
        namespace = namespace_of(element.tag) or namespace
    return RawEnvelope(namespace=namespace, transaction_id=transaction_id, body=element)


# -- values ------------------------------------------------------------------------------------------


class AddressKind(StrEnum):
    """TS 23.140 §8.7.1 address types."""

    NUMBER = "Number"
    EMAIL = "RFC2822Address"
    SHORT_CODE = "ShortCode"


@dataclass(frozen=True, slots=True)
class Address:
    value: str
    kind: AddressKind = AddressKind.NUMBER

    @classmethod
    def guess(cls, value: str) -> Address:
        """An e-mail address, a short code (≤ 8 digits, no ``+``), else a number."""
        value = value.strip()
        if "@" in value:
            return cls(value, AddressKind.EMAIL)
        digits = value.lstrip("+")
        if not value.startswith("+") and digits.isdigit() and len(digits) <= 8:
            return cls(value, AddressKind.SHORT_CODE)
        return cls(value, AddressKind.NUMBER)


def write_address(w: XmlWriter, tag: str, address: Address, *, bare: bool = False) -> None:
    if bare:
        w.leaf(tag, address.value)
        return
    w.open(tag)
    w.leaf(address.kind.value, address.value)
    w.close(tag)


def read_address(el: ET.Element | None) -> Address | None:
    """An address element holding Number/RFC2822Address/ShortCode, or bare text (China Mobile)."""
    if el is None:
        return None
    for kind in AddressKind:
        value = text_of(el, kind.value)
        if value:
            return Address(value, kind)
    value = (el.text or "").strip()
    return Address.guess(value) if value else None


_DURATION_RE = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def format_time(when: datetime, profile: Mm7Profile) -> str:
    """ISO 8601 in UTC (``Z``) or the profile's offset (China Mobile ``+08:00``)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if profile.utc_offset is not None:
        return when.astimezone(timezone(profile.utc_offset)).isoformat(timespec="seconds")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str, field: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise Mm7FormatError(f"{field}: not an ISO 8601 time: {value!r}") from exc
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def format_duration(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"P{days}DT{hours}H{minutes}M{seconds}S"


def parse_expiry(value: str, field: str) -> datetime | timedelta:
    """ExpiryDate/EarliestDeliveryTime: absolute time or relative ``PnDTnHnMnS`` (TS 23.140 §8.7.1)."""
    m = _DURATION_RE.match(value.strip())
    if m and value.strip() != "P":
        d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        return timedelta(days=d, hours=h, minutes=mi, seconds=s)
    return parse_time(value, field)


def parse_bool(value: str | None, field: str) -> bool | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise Mm7FormatError(f"{field}: not a boolean: {value!r}")


def format_bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")
