"""The whole push path as pure functions: WapPush → WBXML → WSP push PDU → WDP SMS segments, and back.

Both push modes meet here. Direct mode and the PPG simulator turn a :class:`WapPush` into the SMS
user data a handset receives (PROTOCOLS.md §5.2-5.5: SI/SL WBXML, WSP Push with Content-Length and
Encoding-Version, UDH ports 2948←9200, concatenated past 140 octets); the SMSC simulator's recorder
and the tests go the other way, from reassembled user data to the href and text the subscriber sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channels.content import WapPush, WapPushKind
from channels.errors import ContentRejected, RemoteProtocolError
from channels.wap import wsp
from channels.wap.si import SI_CONTENT_TYPE, SI_XML_CONTENT_TYPE, decode_si, encode_si, parse_si_xml, si_xml
from channels.wap.sl import SL_CONTENT_TYPE, SL_XML_CONTENT_TYPE, decode_sl, encode_sl, parse_sl_xml, sl_xml
from channels.wap.wdp import parse_user_data, segment


@dataclass(frozen=True, slots=True)
class DecodedPush:
    """What a handset makes of a push datagram. ``push`` is None for content other than SI/SL."""

    tid: int
    content_type: str
    body: bytes
    push: WapPush | None = None
    application_id: str | None = None


def compile_push(push: WapPush) -> tuple[bytes, str]:
    """The WBXML document and its content type (``application/vnd.wap.sic`` or ``…slc``)."""
    if push.kind is WapPushKind.SL:
        return encode_sl(push), SL_CONTENT_TYPE
    return encode_si(push), SI_CONTENT_TYPE


def push_xml(push: WapPush) -> tuple[bytes, str]:
    """The XML document and its content type (``text/vnd.wap.si`` or ``text/vnd.wap.sl``)."""
    if push.kind is WapPushKind.SL:
        return sl_xml(push), SL_XML_CONTENT_TYPE
    return si_xml(push), SI_XML_CONTENT_TYPE


def encode_datagram(push: WapPush, *, tid: int = 0, application_id: str | int | None = None) -> bytes:
    """The WSP push PDU carrying the compiled SI/SL."""
    body, content_type = compile_push(push)
    return wsp.encode_push(body, content_type, tid=tid, application_id=application_id)


def push_segments(
    push: WapPush,
    *,
    tid: int = 0,
    ref: int = 0,
    application_id: str | int | None = None,
    max_segments: int = 10,
) -> list[bytes]:
    """SMS user data (UDH + payload) for each segment, in order."""
    datagram = encode_datagram(push, tid=tid, application_id=application_id)
    return segment(datagram, ref=ref, max_segments=max_segments)


_DECODERS = {
    SI_CONTENT_TYPE: decode_si,
    SL_CONTENT_TYPE: decode_sl,
    SI_XML_CONTENT_TYPE: parse_si_xml,
    SL_XML_CONTENT_TYPE: parse_sl_xml,
}


def decode_content(content_type: str, body: bytes) -> WapPush | None:
    """Decode SI/SL in WBXML or XML form; None for other content types."""
    decoder = _DECODERS.get(content_type.split(";")[0].strip().lower())
    return decoder(body) if decoder is not None else None


def decode_datagram(datagram: bytes) -> DecodedPush:
    """WSP push PDU → the SI/SL it carries."""
    pdu = wsp.decode_push(datagram)
    try:
        push = decode_content(pdu.content_type, pdu.body)
    except ContentRejected as exc:  # the XML forms validate as they parse
        raise RemoteProtocolError(f"push content: {exc}") from exc
    return DecodedPush(
        tid=pdu.tid,
        content_type=pdu.content_type,
        body=pdu.body,
        push=push,
        application_id=pdu.application_id,
    )


def decode_short_message(short_message: bytes) -> DecodedPush | None:
    """A single (unsegmented) WAP push SMS → its push; None if it is not addressed to a push port."""
    data = parse_user_data(short_message)
    if not data.is_wap_push or data.total != 1:
        return None
    return decode_datagram(data.payload)


def handset_view(datagram: bytes) -> dict[str, Any]:
    """Recorder fields for a reassembled push datagram (the user data after the UDH, all segments):
    ``{"wap": {"kind", "href", "text", "si_id", "action", "content_type", "application_id"}}``, or
    ``{"wap_error": ...}`` when it does not decode. For the SMSC simulator's recorder."""
    try:
        decoded = decode_datagram(datagram)
    except RemoteProtocolError as exc:
        return {"wap_error": str(exc)}
    push = decoded.push
    return {
        "wap": {
            "content_type": decoded.content_type,
            "application_id": decoded.application_id,
            "kind": push.kind.value if push else None,
            "href": push.href if push else None,
            "text": push.text if push else None,
            "si_id": push.si_id if push else None,
            "action": push.action if push else None,
        }
    }
