"""The PAP push request body: ``multipart/related; type="application/xml"`` holding the PAP control
entity then the content (WAP-247 §8; RFC 2387; PROTOCOLS.md §5.1). Built by concatenation, read as the
standard library's ``email`` parser reads it (:mod:`channels.mm7.multipart`: its canonical-shape reader,
else ``email`` itself). Pure."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from channels.errors import RemoteProtocolError
from channels.mm7.multipart import Entity, read_multipart

PAP_CONTROL_TYPE = "application/xml"


@dataclass(frozen=True, slots=True)
class PushBody:
    control: bytes
    content: bytes
    content_type: str
    content_headers: Mapping[str, str] = field(default_factory=dict)


def build_push_body(
    control: bytes,
    content: bytes,
    content_type: str,
    *,
    headers: Mapping[str, str] | None = None,
    boundary: str | None = None,
) -> tuple[bytes, str]:
    """Returns (body, Content-Type header value). Extra ``headers`` go on the content part
    (``X-Wap-Application-Id`` there becomes a WSP header at the PPG). A client should reuse one
    ``boundary`` (a fresh one is drawn only if the content contains it): parsers such as the std-lib
    ``email`` compile a pattern per distinct boundary, which dominates a PPG's cost per request."""
    boundary = boundary or "pap-" + uuid.uuid4().hex
    while boundary.encode() in content or boundary.encode() in control:
        boundary = "pap-" + uuid.uuid4().hex
    part_headers = f"Content-Type: {content_type}\r\n"
    if not content_type.startswith("text/"):
        part_headers += "Content-Transfer-Encoding: binary\r\n"
    part_headers += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    b = boundary.encode()
    body = (
        b"--"
        + b
        + b"\r\nContent-Type: "
        + PAP_CONTROL_TYPE.encode()
        + b"\r\n\r\n"
        + control
        + b"\r\n--"
        + b
        + b"\r\n"
        + part_headers.encode()
        + b"\r\n"
        + content
        + b"\r\n--"
        + b
        + b"--\r\n"
    )
    return body, f'multipart/related; boundary="{boundary}"; type="{PAP_CONTROL_TYPE}"'


def read_push_parts(content_type: str, body: bytes) -> tuple[Entity, ...]:
    """The body parts of a PAP request; RemoteProtocolError (2000) unless it is multipart/related."""
    try:
        message = read_multipart(content_type, body, encoding="utf-8")
    except UnicodeEncodeError as exc:
        raise RemoteProtocolError("PAP: Content-Type is not a header value", status=2000) from exc
    if message.media_type != "multipart/related" or message.parts is None:
        raise RemoteProtocolError(f"PAP: body is {message.media_type}, not multipart/related", status=2000)
    return message.parts


def parse_push_body(content_type: str, body: bytes, *, max_parts: int | None = None) -> PushBody:
    """Split a PAP request into control entity and content. A server sets ``max_parts`` (control,
    content, capabilities: 3, WAP-247 §8) to refuse more parts, or a nested multipart, with 2000."""
    parts = read_push_parts(content_type, body)
    if max_parts is not None and (len(parts) > max_parts or any(p.parts is not None for p in parts)):
        raise RemoteProtocolError("PAP: unexpected nested or extra multipart parts", status=2000)
    return push_body_from_parts([(dict(p.headers), p.data or b"") for p in parts])


def push_body_from_parts(parts: Sequence[tuple[Mapping[str, str], bytes]]) -> PushBody:
    """Check the parts of a PAP request, however split (headers, decoded payload), and name them."""
    if len(parts) < 2:
        raise RemoteProtocolError(
            "PAP: multipart/related needs a control entity and a content part", status=2000
        )
    (control_headers, control), (content_headers, content) = parts[0], parts[1]
    control_type = _header(control_headers, "Content-Type") or "text/plain"
    if control_type.split(";")[0].strip().lower() != PAP_CONTROL_TYPE:
        raise RemoteProtocolError(f"PAP: first part is {control_type}", status=2000)
    extra = {
        k: str(v)
        for k, v in content_headers.items()
        if k.lower() not in ("content-type", "content-transfer-encoding")
    }
    content_type = _header(content_headers, "Content-Type") or "text/plain"
    return PushBody(control=control, content=content, content_type=content_type, content_headers=extra)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value)
    return None

