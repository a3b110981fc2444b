"""Service Loading (WAP-168-ServiceLoad): the SL document as XML and as WBXML, both directions.

An SL asks the handset to fetch (``execute-*``) or cache a URL without showing a text first. Tokens
are WAP-168 §9.3 (Kannel's ``wap_push_sl_compiler.c``); attributes are written href then action,
which reproduces Kannel's output (PROTOCOLS.md §5.4). Pure functions over
:class:`~channels.content.WapPush` with ``kind=SL`` (``text``, ``si_id`` and dates do not exist in SL).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from channels.content import WapPush, WapPushKind
from channels.errors import ConfigurationError, ContentRejected, RemoteProtocolError
from channels.wap import wbxml
from channels.wap.si import URL_VALUE_TOKENS, parse_xml_root
from channels.wap.wbxml import Element, TokenTable

SL_PUBLIC_ID = 0x06  # "-//WAPFORUM//DTD SL 1.0//EN", WAP-192 §7.2
SL_CONTENT_TYPE = "application/vnd.wap.slc"
SL_XML_CONTENT_TYPE = "text/vnd.wap.sl"
SL_DOCTYPE = '<!DOCTYPE sl PUBLIC "-//WAPFORUM//DTD SL 1.0//EN" "http://www.wapforum.org/DTD/sl.dtd">'
SL_ACTIONS = ("execute-low", "execute-high", "cache")

SL_TABLE = TokenTable(
    name="SL",
    public_id=SL_PUBLIC_ID,
    tags={0x05: "sl"},  # §9.3.1
    attr_starts={  # §9.3.2
        0x05: ("action", "execute-low"),
        0x06: ("action", "execute-high"),
        0x07: ("action", "cache"),
        0x08: ("href", ""),
        0x09: ("href", "http://"),
        0x0A: ("href", "http://www."),
        0x0B: ("href", "https://"),
        0x0C: ("href", "https://www."),
    },
    attr_values=URL_VALUE_TOKENS,
    url_attributes=frozenset({"href"}),
)


def validate_sl(push: WapPush) -> None:
    if not push.href:
        raise ContentRejected("WapPush.href is empty", name="href")
    if push.action is not None and push.action not in SL_ACTIONS:
        raise ContentRejected(f"WapPush.action {push.action!r} is not one of {SL_ACTIONS}", name="action")


def sl_element(push: WapPush) -> Element:
    validate_sl(push)
    attrs: list[tuple[str, str | bytes]] = [("href", push.href)]
    if push.action:
        attrs.append(("action", push.action))
    return Element("sl", tuple(attrs))


def encode_sl(push: WapPush) -> bytes:
    """The SL as WBXML (``application/vnd.wap.slc``)."""
    try:
        return wbxml.encode(sl_element(push), SL_TABLE)
    except ConfigurationError as exc:
        raise ContentRejected(f"SL: {exc}", name="sl") from exc


def push_from_sl(root: Element) -> WapPush:
    if root.tag != "sl":
        raise RemoteProtocolError(f"SL: root element is <{root.tag}>, expected <sl>")
    href, action = root.attribute("href"), root.attribute("action")
    if not isinstance(href, str) or not href:
        raise RemoteProtocolError("SL: missing href")
    if isinstance(action, bytes):
        raise RemoteProtocolError("SL: action is opaque data")
    return WapPush(href=href, kind=WapPushKind.SL, action=action)


def decode_sl(data: bytes) -> WapPush:
    document, _ = wbxml.decode(data, {SL_PUBLIC_ID: SL_TABLE})
    return push_from_sl(document.root)


def sl_xml(push: WapPush) -> bytes:
    """The SL as an XML document, as a push initiator sends it to a PPG."""
    validate_sl(push)
    action = f" action={quoteattr(push.action)}" if push.action else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{SL_DOCTYPE}\n<sl href={quoteattr(push.href)}{action}/>'
    ).encode()


def parse_sl_xml(data: bytes) -> WapPush:
    root = parse_xml_root(data, "SL")
    if root.tag != "sl":
        raise ContentRejected("SL: expected <sl href=.../>", name="sl")
    push = WapPush(href=root.attrib.get("href", ""), kind=WapPushKind.SL, action=root.attrib.get("action"))
    validate_sl(push)
    return push
