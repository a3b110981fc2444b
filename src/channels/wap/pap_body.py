"""The PAP push request body: ``multipart/related; type="application/xml"`` holding the PAP control
entity then the content (WAP-247 §8; RFC 2387; PROTOCOLS.md §5.1). Built by concatenation, parsed with
the standard library's ``email`` parser (never a hand-rolled MIME parser). Pure."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message as EmailMessage
from email.parser import BytesParser
from email.policy import compat32

from channels.errors import RemoteProtocolError

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


def parse_push_body(content_type: str, body: bytes) -> PushBody:
    """Split a PAP request into control entity and content (std-lib ``email`` parser)."""
    message = BytesParser(policy=compat32).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    if message.get_content_type() != "multipart/related" or not message.is_multipart():
        raise RemoteProtocolError(
            f"PAP: body is {message.get_content_type()}, not multipart/related", status=2000
        )
    split: list[tuple[Mapping[str, str], bytes]] = []
    for part in message.get_payload():
        if not isinstance(part, EmailMessage):
            raise RemoteProtocolError("PAP: malformed multipart body", status=2000)
        split.append((dict(part.items()), _payload(part)))
    return push_body_from_parts(split)


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


def _payload(part: EmailMessage) -> bytes:
    raw = part.get_payload(decode=True)
    return raw if isinstance(raw, bytes) else b""
