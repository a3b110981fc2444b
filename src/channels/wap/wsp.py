"""WSP connectionless push PDU (WAP-230-WSP §8.2.4.1) with the few headers a push needs, both ways.

Over SMS a push is one WSP PDU: transaction id, PDU type Push (06), the length of the headers as a
uintvar, the content type, the headers, then the body (the WBXML document). Content types and header
names are well-known values with the high bit set (WAP-230 Appendix A; OMNA), e.g. ``ae``
``application/vnd.wap.sic``, ``8d`` Content-Length, ``c3`` Encoding-Version, ``af``
X-Wap-Application-Id. Header order and values follow Kannel's output (PROTOCOLS.md §5.3-5.5). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from channels.errors import ConfigurationError, RemoteProtocolError
from channels.wap.wbxml import decode_mb_u_int32, encode_mb_u_int32

PDU_PUSH = 0x06  # WAP-230 Table 34
PDU_CONFIRMED_PUSH = 0x07

# WAP-230 Table 40 / OMNA content types: well-known value (encoded as value | 0x80)
CONTENT_TYPES: dict[int, str] = {
    0x03: "text/plain",
    0x14: "application/vnd.wap.wmlc",
    0x27: "application/xml",
    0x28: "text/xml",
    0x29: "application/vnd.wap.wbxml",
    0x2D: "text/vnd.wap.si",
    0x2E: "application/vnd.wap.sic",
    0x2F: "text/vnd.wap.sl",
    0x30: "application/vnd.wap.slc",
    0x31: "text/vnd.wap.co",
    0x32: "application/vnd.wap.coc",
    0x33: "application/vnd.wap.multipart.related",
    0x34: "application/vnd.wap.sia",
    0x35: "text/vnd.wap.connectivity-xml",
    0x36: "application/vnd.wap.connectivity-wbxml",
    0x3E: "application/vnd.wap.mms-message",
}
_CONTENT_TYPE_CODES = {v: k for k, v in CONTENT_TYPES.items()}

# WAP-230 Table 39: header field names
HEADER_CONTENT_LENGTH = 0x0D
HEADER_X_WAP_APPLICATION_ID = 0x2F
HEADER_ENCODING_VERSION = 0x43
HEADER_NAMES: dict[int, str] = {
    0x0D: "Content-Length",
    0x0E: "Content-Location",
    0x11: "Content-Type",
    0x12: "Date",
    0x2F: "X-Wap-Application-Id",
    0x30: "X-Wap-Content-URI",
    0x31: "X-Wap-Initiator-URI",
    0x34: "Push-Flag",
    0x43: "Encoding-Version",
}

# OMNA push application ids (PROTOCOLS.md §5.3; Kannel wap_push_ppg.c wina_uri[])
APPLICATION_IDS: dict[int, str] = {
    0x00: "*",
    0x01: "push.sia",
    0x02: "wml.ua",
    0x03: "wta.ua",
    0x04: "mms.ua",
    0x05: "push.syncml",
    0x06: "loc.ua",
    0x07: "syncml.dm",
    0x08: "drm.ua",
    0x09: "emn.ua",
    0x0A: "wv.ua",
}
_APPLICATION_ID_CODES = {v: k for k, v in APPLICATION_IDS.items()}
ENCODING_VERSION_1_3 = 0x13


@dataclass(frozen=True, slots=True)
class PushPdu:
    """A decoded push PDU. ``application_id`` is the OMNA name (``mms.ua``) or the URI given."""

    tid: int
    content_type: str
    body: bytes
    application_id: str | None = None
    headers: dict[str, str | int | bytes] = field(default_factory=dict)
    confirmed: bool = False


# -- primitive codings (WAP-230 §8.1.2, §8.4.2.1) ---------------------------------------------------


def encode_uintvar(value: int) -> bytes:
    return encode_mb_u_int32(value, name="uintvar")  # the same coding as WBXML's mb_u_int32


def decode_uintvar(data: bytes, pos: int) -> tuple[int, int]:
    return decode_mb_u_int32(data, pos, where="wsp", name="uintvar")


def encode_integer(value: int) -> bytes:
    """Integer-value: Short-integer below 128, else Long-integer (length + big-endian octets)."""
    if value < 0:
        raise ConfigurationError(f"wsp: negative integer {value}")
    if value < 0x80:
        return bytes([0x80 | value])
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if len(raw) > 30:
        raise ConfigurationError(f"wsp: integer {value} too long")
    return bytes([len(raw)]) + raw


def _encode_text(text: str) -> bytes:
    """Text-string (WAP-230 §8.4.2.1): ASCII here, starting above 0x1F, NUL-terminated."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ConfigurationError(f"wsp: text {text!r} is not ASCII") from exc
    if not raw or raw[0] < 0x20 or b"\x00" in raw:
        raise ConfigurationError(f"wsp: text {text!r} not encodable")
    return raw + b"\x00"


def encode_content_type(content_type: str) -> bytes:
    code = _CONTENT_TYPE_CODES.get(content_type.strip().lower())
    return bytes([0x80 | code]) if code is not None else _encode_text(content_type)


def encode_application_id(app_id: str | int) -> bytes:
    if isinstance(app_id, int):
        return encode_integer(app_id)
    name = app_id.strip()
    for prefix in ("x-wap-application:", "x-wap-application-id:"):
        if name.lower().startswith(prefix):
            name = name[len(prefix) :]
    code = _APPLICATION_ID_CODES.get(name.lower())
    return encode_integer(code) if code is not None else _encode_text(app_id)


# -- push PDU ----------------------------------------------------------------------------------------


def encode_push(
    body: bytes,
    content_type: str,
    *,
    tid: int = 0,
    application_id: str | int | None = None,
    encoding_version: int | None = ENCODING_VERSION_1_3,
) -> bytes:
    """``TID 06 HeadersLen ContentType Headers Body``; Content-Length and Encoding-Version as Kannel."""
    if not 0 <= tid <= 0xFF:
        raise ConfigurationError(f"wsp: transaction id {tid} out of 0..255")
    headers = bytearray(encode_content_type(content_type))
    if application_id is not None:
        headers.append(0x80 | HEADER_X_WAP_APPLICATION_ID)
        headers += encode_application_id(application_id)
    headers.append(0x80 | HEADER_CONTENT_LENGTH)
    headers += encode_integer(len(body))
    if encoding_version is not None:
        headers += bytes([0x80 | HEADER_ENCODING_VERSION, 0x80 | encoding_version])
    return bytes([tid, PDU_PUSH]) + encode_uintvar(len(headers)) + bytes(headers) + body


def decode_push(data: bytes) -> PushPdu:
    """Decode a connectionless push PDU (WAP-230 §8.2.4.1, §8.4)."""
    if len(data) < 3:
        raise RemoteProtocolError("wsp: push PDU shorter than 3 octets")
    tid, pdu_type = data[0], data[1]
    if pdu_type not in (PDU_PUSH, PDU_CONFIRMED_PUSH):
        raise RemoteProtocolError(f"wsp: PDU type {pdu_type:#04x} is not Push")
    headers_len, pos = decode_uintvar(data, 2)
    end = pos + headers_len
    if end > len(data):
        raise RemoteProtocolError("wsp: headers overrun the PDU")
    content_type, pos = _decode_content_type(data, pos, end)
    headers: dict[str, str | int | bytes] = {}
    while pos < end:
        name, value, pos = _decode_header(data, pos, end)
        headers[name] = value
    app = headers.get("X-Wap-Application-Id")
    app_id = APPLICATION_IDS.get(app, str(app)) if isinstance(app, int) else app
    return PushPdu(
        tid=tid,
        content_type=content_type,
        body=data[end:],
        application_id=app_id if isinstance(app_id, str) else None,
        headers=headers,
        confirmed=pdu_type == PDU_CONFIRMED_PUSH,
    )


def _decode_content_type(data: bytes, pos: int, end: int) -> tuple[str, int]:
    if pos >= end:
        raise RemoteProtocolError("wsp: missing content type")
    first = data[pos]
    if first >= 0x80:
        code = first & 0x7F
        return CONTENT_TYPES.get(code, f"application/x-wsp-{code:#04x}"), pos + 1
    if first >= 0x20:
        text, nxt = _decode_text(data, pos, end)
        return text, nxt
    length, start = _value_length(data, pos, end)  # Content-general-form: media type + parameters
    inner, _ = _decode_content_type(data, start, start + length)
    return inner, start + length


def _value_length(data: bytes, pos: int, end: int) -> tuple[int, int]:
    first = data[pos]
    if first < 0x1F:
        start = pos + 1
        length = first
    else:
        length, start = decode_uintvar(data, pos + 1)
    if start + length > end:
        raise RemoteProtocolError(f"wsp: value of {length} octets overruns the headers")
    return length, start


def _decode_text(data: bytes, pos: int, end: int) -> tuple[str, int]:
    stop = data.find(b"\x00", pos, end)
    if stop < 0:
        raise RemoteProtocolError(f"wsp: unterminated text at offset {pos}")
    raw = data[pos:stop]
    if raw[:1] in (b"\x7f", b'"'):
        raw = raw[1:]
    return raw.decode("latin-1"), stop + 1


def _decode_header(data: bytes, pos: int, end: int) -> tuple[str, str | int | bytes, int]:
    first = data[pos]
    if first >= 0x80:
        code = first & 0x7F
        name, pos = HEADER_NAMES.get(code, f"x-wsp-header-{code:#04x}"), pos + 1
    else:
        name, pos = _decode_text(data, pos, end)
    if pos >= end:
        raise RemoteProtocolError(f"wsp: header {name} has no value")
    value, pos = _decode_value(data, pos, end)
    return name, value, pos


def _decode_value(data: bytes, pos: int, end: int) -> tuple[str | int | bytes, int]:
    first = data[pos]
    if first >= 0x80:
        return first & 0x7F, pos + 1
    if first >= 0x20:
        return _decode_text(data, pos, end)
    length, start = _value_length(data, pos, end)
    raw = data[start : start + length]
    if first < 0x1F and 0 < length <= 8:
        return int.from_bytes(raw, "big"), start + length  # Long-integer
    return raw, start + length
