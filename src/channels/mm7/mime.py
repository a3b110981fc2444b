"""MIME for MM7: the SOAP envelope and the MM as multipart/related (TS 23.140 §8.7; RFC 2387, RFC 2392).

A request with content is ``multipart/related; type="text/xml"; start="<env>"``: the envelope,
then the MM referenced by ``<Content href="cid:mm"/>`` (PROTOCOLS.md §4.1). The MM is itself
``multipart/related; type="application/smil"`` (SMIL first) or ``multipart/mixed``. The MM is
written by the standard library's ``email`` generator once per distinct MM (a campaign shares it;
only the two-part wrapper around it is joined per request) and everything is read as ``email``'s
parser (compat32) reads it, through :mod:`channels.mm7.multipart`. Part bytes survive byte-exact: binary
media travel base64, text travels 8bit when its line ends are already canonical CRLF (else
base64), so a GB2312 or UTF-8 text part arrives as it left. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import base64
import functools
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Compat32
from io import BytesIO

from channels.mm7.envelope import Mm7FormatError
from channels.mm7.multipart import Entity, read_multipart
from channels.mm7.smil import SMIL_TYPE, media_type


class _Policy(Compat32):
    """compat32 writing plain ASCII header values as they are (our own headers never need folding or
    RFC 2047), which skips ``email.header.Header`` on the hot path; anything else folds as usual."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if isinstance(value, str) and value.isascii() and "\n" not in value and "\r" not in value:
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_POLICY = _Policy(linesep="\r\n", max_line_length=None)
_BARE_EOL = re.compile(rb"\r(?!\n)|(?<!\r)\n")
_ANY_EOL = re.compile(rb"\r\n|\r|\n")
_CHARSET = re.compile(r"charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)
_MAX_8BIT_LINE = 998  # RFC 5322 §2.1.1 / RFC 2045 §2.8
XML_TYPES = frozenset({"text/xml", "application/xml", "application/soap+xml"})


@dataclass(frozen=True, slots=True)
class Part:
    """One MIME body part of an MM: its full Content-Type, bytes and identifiers (no ``<>``)."""

    content_type: str
    data: bytes
    content_id: str | None = None
    location: str | None = None

    @property
    def media_type(self) -> str:
        return media_type(self.content_type)

    @property
    def charset(self) -> str | None:
        m = _CHARSET.search(self.content_type)
        return m.group(1) if m else None

    def text(self) -> str:
        """The part decoded with its charset (UTF-8 if none); undecodable bytes replaced."""
        try:
            return self.data.decode(self.charset or "utf-8", "replace")
        except LookupError:
            return self.data.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class MmContent:
    """The multimedia message: its parts in order and, for multipart/related, the start part's id."""

    parts: tuple[Part, ...]
    start: str | None = None

    @property
    def smil(self) -> Part | None:
        for p in self.parts:
            if (self.start and p.content_id == self.start) or p.media_type == SMIL_TYPE:
                return p
        return None

    @property
    def size(self) -> int:
        """The MM's size as limits count it: the sum of its parts' bytes."""
        return sum(len(p.data) for p in self.parts)

    def resolve(self, ref: str) -> Part | None:
        """The part a SMIL ``src`` names: ``cid:x`` by Content-ID, else by Content-Location."""
        if ref.lower().startswith("cid:"):
            cid = ref[4:].strip("<>")
            return next((p for p in self.parts if p.content_id == cid), None)
        return next((p for p in self.parts if p.location == ref), None)


def new_boundary() -> str:
    """A random boundary. Callers that post many requests reuse one per connection pool: the
    parser compiles a regex per distinct boundary, so a fresh one per request costs the peer."""
    return "mm7-" + secrets.token_hex(12)


def _cid(value: str, brackets: bool) -> str:
    return f"<{value}>" if brackets else value


def strip_cid(value: object) -> str | None:
    if value is None:
        return None
    return str(value).strip().strip("<>").strip() or None


def _cte(part: Part) -> str:
    if not (part.media_type.startswith("text/") or part.media_type == SMIL_TYPE):
        return "base64"
    if _BARE_EOL.search(part.data) or any(len(x) > _MAX_8BIT_LINE for x in part.data.split(b"\r\n")):
        return "base64"
    return "8bit"


def _leaf(part: Part, brackets: bool, cte: str | None = None) -> Message:
    m = Message(policy=_POLICY)
    m["Content-Type"] = part.content_type
    if part.content_id:
        m["Content-ID"] = _cid(part.content_id, brackets)
    if part.location:
        m["Content-Location"] = part.location
    cte = cte or _cte(part)
    m["Content-Transfer-Encoding"] = cte
    if cte == "base64":
        m.set_payload(base64.encodebytes(part.data).decode("ascii"))
    else:
        m.set_payload(part.data.decode("ascii", "surrogateescape"))
    return m


def _multipart(
    content_type: str, children: Sequence[Message], content_id: str | None, brackets: bool
) -> Message:
    m = Message(policy=_POLICY)
    m["Content-Type"] = content_type
    if content_id:
        m["Content-ID"] = _cid(content_id, brackets)
    for c in children:
        m.attach(c)
    return m


def mm_entity(content: MmContent, *, content_id: str, brackets: bool, boundary: str) -> Message:
    """The MM as one entity: multipart/related with SMIL as start, or multipart/mixed."""
    smil = content.smil
    leaves = [_leaf(p, brackets) for p in content.parts]
    if smil is not None and smil.content_id:
        ctype = (
            f'multipart/related; boundary="{boundary}"; type="{SMIL_TYPE}"; '
            f'start="{_cid(smil.content_id, brackets)}"'
        )
    else:
        ctype = f'multipart/mixed; boundary="{boundary}"'
    return _multipart(ctype, leaves, content_id, brackets)


@dataclass(frozen=True, slots=True)
class RenderedMm:
    """An MM entity written once (headers, blank line, multipart body) for every recipient of a campaign."""

    raw: bytes
    size: int


def _flatten(msg: Message) -> bytes:
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_POLICY).flatten(msg)
    return out.getvalue()


def render_mm(content: MmContent, *, content_id: str = "mm", brackets: bool = True,
              boundary: Callable[[], str] = new_boundary) -> RenderedMm:
    """Write the MM entity with email's generator, once; :func:`encode_soap` reuses the bytes."""
    entity = mm_entity(content, content_id=content_id, brackets=brackets, boundary=boundary())
    return RenderedMm(_flatten(entity), content.size)


def crlf(xml: bytes) -> bytes:
    """XML with CRLF line ends, as the envelope travels in its 8bit text part: XML does not care
    about line ends (XML 1.0 §2.11)."""
    return xml.replace(b"\n", b"\r\n") if b"\r" not in xml else _ANY_EOL.sub(b"\r\n", xml)


def encode_soap(
    envelope: bytes,
    content: MmContent | RenderedMm | None,
    *,
    content_id: str = "mm",
    envelope_id: str = "env",
    brackets: bool = True,
    boundary: Callable[[], str] = new_boundary,
) -> tuple[str, bytes]:
    """``(Content-Type, body)`` for an HTTP POST: plain text/xml, or multipart/related with the MM.

    The per-request wrapper (RFC 2046 §5.1.1: two body parts with fixed headers around the
    envelope and the already rendered MM) is joined here rather than re-run through the generator
    for every recipient; the golden tests prove it is byte for byte what email's generator writes.
    """
    if content is None:
        return "text/xml; charset=utf-8", envelope
    if isinstance(content, MmContent):
        content = render_mm(content, content_id=content_id, brackets=brackets, boundary=boundary)
    outer = boundary().encode("ascii")
    if outer in envelope or outer in content.raw:  # RFC 2046 §5.1.1: must not occur inside
        outer = new_boundary().encode("ascii")
    start = _cid(envelope_id, brackets)
    ctype = f'multipart/related; boundary="{outer.decode()}"; type="text/xml"; start="{start}"'
    xml = crlf(envelope)
    body = b"".join((
        b"--", outer, b"\r\nContent-Type: text/xml; charset=utf-8\r\nContent-ID: ", start.encode("ascii"),
        b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", xml,
        b"\r\n--", outer, b"\r\n", content.raw,
        b"\r\n--", outer, b"--\r\n",
    ))
    return ctype, body


@dataclass(frozen=True, slots=True)
class SoapBody:
    """An HTTP body split into the SOAP envelope and the entities attached beside it."""

    envelope: bytes
    attachments: tuple[Entity, ...] = ()

    def content(self, href: str | None) -> MmContent | None:
        """The MM ``href`` names (``cid:mm``); without href the first attachment (China Mobile)."""
        global _LAST_CONTENT
        last = _LAST_CONTENT
        if last is not None and last[0] is self.attachments and last[1] == href:
            return last[2]  # the same attachments as the last request's (a learned body's)
        content = self._content(href)
        _LAST_CONTENT = (self.attachments, href, content)
        return content

    def _content(self, href: str | None) -> MmContent | None:
        if not self.attachments:
            if href:
                raise Mm7FormatError(f"Content: href {href!r} given but the request has no attachment")
            return None
        if href is None:
            return _to_content(self.attachments[0])
        cid = href[4:].strip("<>") if href.lower().startswith("cid:") else None
        for a in self.attachments:
            if (cid is not None and strip_cid(a.get("Content-ID")) == cid) or a.get(
                "Content-Location"
            ) == href:
                return _to_content(a)
        raise Mm7FormatError(f"Content: href {href!r} does not resolve to a MIME part")


# The last attachments resolved, with the href and the MM: requests read by a learned body shape
# (channels.mm7.request) share one attachments tuple, which this reference also keeps alive.
_LAST_CONTENT: tuple[tuple[Entity, ...], str | None, MmContent | None] | None = None


def _to_part(m: Entity) -> Part:
    if m.data is None:
        raise Mm7FormatError("MIME: a body part has no payload")
    ctype = m.get("Content-Type")
    return Part(
        content_type="text/plain" if ctype is None else ctype,
        data=m.data,
        content_id=strip_cid(m.get("Content-ID")),
        location=m.get("Content-Location"),
    )


def _leaves(m: Entity) -> list[Part]:
    if m.parts is None:
        return [_to_part(m)]
    return [p for sub in m.parts for p in _leaves(sub)]


@functools.lru_cache(maxsize=32)
def _to_content(m: Entity) -> MmContent:
    """Cached: the same MM entity (multipart's cache hands back the same one) gives the same MM."""
    start = strip_cid(m.start) if m.parts is not None else None
    return MmContent(parts=tuple(_leaves(m)), start=start)


def split_soap(content_type: str, body: bytes) -> SoapBody:
    """Read an MM7 HTTP body: text/xml alone, or multipart/related (envelope = ``start``, else first)."""
    mtype = media_type(content_type)
    if mtype in XML_TYPES:
        return SoapBody(body)
    if not mtype.startswith("multipart/"):
        raise Mm7FormatError(f"Content-Type: {mtype or 'missing'} is neither text/xml nor multipart/related")
    try:
        msg = read_multipart(content_type, body)
    except UnicodeEncodeError as exc:
        raise Mm7FormatError("Content-Type: not a Latin-1 header value") from exc
    payload = msg.parts
    if not payload:
        raise Mm7FormatError("multipart: no body parts (boundary missing or wrong)")
    start = strip_cid(msg.start)
    env = next((p for p in payload if start and strip_cid(p.get("Content-ID")) == start), None)
    if env is None:
        env = next((p for p in payload if media_type(p.get("Content-Type") or "") in XML_TYPES), payload[0])
    if env.data is None:
        raise Mm7FormatError("multipart: the SOAP part is not a leaf")
    return SoapBody(env.data, tuple(p for p in payload if p is not env))
