"""Service Indication (WAP-167-ServiceInd): the SI document as XML and as WBXML, both directions.

An SI shows the subscriber a text and a link. The PAP client sends it as XML (``text/vnd.wap.si``)
and the PPG compiles it to WBXML (``application/vnd.wap.sic``) for the handset; direct mode compiles
it here. Tokens are WAP-167 §9.3 (as Kannel's ``wap_push_si_compiler.c`` uses them); attributes are
written in the order href, si-id, action, created, si-expires, which reproduces Kannel's output
byte for byte (PROTOCOLS.md §5.4). Pure functions over :class:`~channels.content.WapPush`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from channels.content import WapPush, WapPushKind
from channels.errors import ConfigurationError, ContentRejected, RemoteProtocolError
from channels.wap import wbxml
from channels.wap.wbxml import Element, TokenTable

SI_PUBLIC_ID = 0x05  # "-//WAPFORUM//DTD SI 1.0//EN", WAP-192 §7.2
SI_CONTENT_TYPE = "application/vnd.wap.sic"
SI_XML_CONTENT_TYPE = "text/vnd.wap.si"
SI_DOCTYPE = '<!DOCTYPE si PUBLIC "-//WAPFORUM//DTD SI 1.0//EN" "http://www.wapforum.org/DTD/si.dtd">'
SI_ACTIONS = ("signal-none", "signal-low", "signal-medium", "signal-high", "delete")

# WAP-167 §9.3.3 (SL shares them, WAP-168 §9.3.3)
URL_VALUE_TOKENS: dict[int, str] = {0x85: ".com/", 0x86: ".edu/", 0x87: ".net/", 0x88: ".org/"}

SI_TABLE = TokenTable(
    name="SI",
    public_id=SI_PUBLIC_ID,
    tags={0x05: "si", 0x06: "indication", 0x07: "info", 0x08: "item"},  # §9.3.1
    attr_starts={  # §9.3.2
        0x05: ("action", "signal-none"),
        0x06: ("action", "signal-low"),
        0x07: ("action", "signal-medium"),
        0x08: ("action", "signal-high"),
        0x09: ("action", "delete"),
        0x0A: ("created", ""),
        0x0B: ("href", ""),
        0x0C: ("href", "http://"),
        0x0D: ("href", "http://www."),
        0x0E: ("href", "https://"),
        0x0F: ("href", "https://www."),
        0x10: ("si-expires", ""),
        0x11: ("si-id", ""),
        0x12: ("class", ""),
    },
    attr_values=URL_VALUE_TOKENS,
    url_attributes=frozenset({"href"}),
)


# -- dates (WAP-167 §9.2.2: OPAQUE packed digits, trailing zero octets dropped) ---------------------


def encode_date(when: datetime) -> bytes:
    """``2024-01-01T00:00:00Z`` → ``20 24 01 01``. Naive datetimes are taken as UTC."""
    utc = when.astimezone(UTC) if when.tzinfo else when
    digits = utc.strftime("%Y%m%d%H%M%S")
    return bytes.fromhex(digits).rstrip(b"\x00")


def decode_date(raw: bytes) -> datetime:
    if not 1 <= len(raw) <= 7:
        raise RemoteProtocolError(f"SI date: {len(raw)} octets, expected 1-7")
    digits = raw.hex().ljust(14, "0")
    try:
        y, mo, d, h, mi, sec = (int(digits[i : i + (4 if i == 0 else 2)]) for i in (0, 4, 6, 8, 10, 12))
        return datetime(y, mo, d, h, mi, sec, tzinfo=UTC)
    except ValueError as exc:
        raise RemoteProtocolError(f"SI date: {digits!r} is not a date") from exc


def format_date(when: datetime) -> str:
    utc = when.astimezone(UTC) if when.tzinfo else when
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    """``YYYY-MM-DDThh:mm:ssZ`` (the form SI and PAP use) → aware UTC datetime; ValueError otherwise."""
    s = text.strip()
    if len(s) != 20 or s[4] != "-" or s[10] != "T" or s[-1] != "Z":
        raise ValueError(f"{text!r} is not YYYY-MM-DDThh:mm:ssZ")
    return datetime.fromisoformat(s[:-1]).replace(tzinfo=UTC)


def parse_date(text: str) -> datetime:
    try:
        return parse_utc(text)
    except ValueError as exc:
        raise ContentRejected(f"SI date {text!r}: expected YYYY-MM-DDThh:mm:ssZ", name="date") from exc


# -- WapPush <-> element tree -------------------------------------------------------------------------


def validate_si(push: WapPush) -> None:
    if not push.href and push.action != "delete":
        raise ContentRejected("WapPush.href is empty", name="href")
    if push.action is not None and push.action not in SI_ACTIONS:
        raise ContentRejected(f"WapPush.action {push.action!r} is not one of {SI_ACTIONS}", name="action")
    if push.action == "delete" and not push.si_id:
        raise ContentRejected("WapPush.si_id is required with action 'delete'", name="si_id")


def si_element(push: WapPush) -> Element:
    validate_si(push)
    attrs: list[tuple[str, str | bytes]] = []
    if push.href:
        attrs.append(("href", push.href))
    if push.si_id:
        attrs.append(("si-id", push.si_id))
    if push.action:
        attrs.append(("action", push.action))
    if push.created:
        attrs.append(("created", encode_date(push.created)))
    if push.expires:
        attrs.append(("si-expires", encode_date(push.expires)))
    children: tuple[Element | str | bytes, ...] = (push.text,) if push.text else ()
    return Element("si", (), (Element("indication", tuple(attrs), children),))


def encode_si(push: WapPush) -> bytes:
    """The SI as WBXML (``application/vnd.wap.sic``)."""
    try:
        return wbxml.encode(si_element(push), SI_TABLE)
    except ConfigurationError as exc:
        raise ContentRejected(f"SI: {exc}", name="si") from exc


def push_from_si(root: Element) -> WapPush:
    if root.tag != "si":
        raise RemoteProtocolError(f"SI: root element is <{root.tag}>, expected <si>")
    indication = next((c for c in root.children if isinstance(c, Element) and c.tag == "indication"), None)
    if indication is None:
        raise RemoteProtocolError("SI: no <indication> element")
    text = "".join(c for c in indication.children if isinstance(c, str))
    return WapPush(
        href=_text_attr(indication, "href") or "",
        text=text or None,
        kind=WapPushKind.SI,
        action=_text_attr(indication, "action"),
        si_id=_text_attr(indication, "si-id"),
        created=_date_attr(indication, "created"),
        expires=_date_attr(indication, "si-expires"),
    )


def decode_si(data: bytes) -> WapPush:
    document, _ = wbxml.decode(data, {SI_PUBLIC_ID: SI_TABLE})
    return push_from_si(document.root)


def _text_attr(element: Element, name: str) -> str | None:
    value = element.attribute(name)
    if isinstance(value, bytes):
        raise RemoteProtocolError(f"SI: attribute {name} is opaque data, expected text")
    return value


def _date_attr(element: Element, name: str) -> datetime | None:
    value = element.attribute(name)
    if value is None:
        return None
    if isinstance(value, bytes):
        return decode_date(value)
    return parse_date(value)


# -- XML form (text/vnd.wap.si) -------------------------------------------------------------------------


def si_xml(push: WapPush) -> bytes:
    """The SI as an XML document, as a push initiator sends it to a PPG."""
    validate_si(push)
    attrs = [
        ("href", push.href or None),
        ("si-id", push.si_id),
        ("action", push.action),
        ("created", format_date(push.created) if push.created else None),
        ("si-expires", format_date(push.expires) if push.expires else None),
    ]
    rendered = "".join(f" {k}={quoteattr(v)}" for k, v in attrs if v)
    body = escape(push.text or "")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{SI_DOCTYPE}\n'
        f"<si><indication{rendered}>{body}</indication></si>"
    ).encode()


def parse_xml_root(data: bytes, kind: str) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ContentRejected(f"{kind}: malformed XML: {exc}", name=kind) from exc


def parse_si_xml(data: bytes) -> WapPush:
    """Parse an SI XML document (whitespace in the text collapsed, as Kannel's compiler does)."""
    root = parse_xml_root(data, "SI")
    indication = root.find("indication")
    if root.tag != "si" or indication is None:
        raise ContentRejected("SI: expected <si><indication .../></si>", name="si")
    text = " ".join((indication.text or "").split())
    a = indication.attrib
    push = WapPush(
        href=a.get("href", ""),
        text=text or None,
        kind=WapPushKind.SI,
        action=a.get("action"),
        si_id=a.get("si-id"),
        created=parse_date(a["created"]) if "created" in a else None,
        expires=parse_date(a["si-expires"]) if "si-expires" in a else None,
    )
    validate_si(push)
    return push
