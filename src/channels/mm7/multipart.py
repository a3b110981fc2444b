"""Reading a MIME multipart body (RFC 2046 §5.1; RFC 2387 multipart/related) the way ``email`` reads it.

The standard library's ``email`` parser (compat32) is the reference reader: it takes anything, however
lenient, and its answer is what MM7 and PAP bodies mean here. It is also slow for what it does on a
gateway's hot path: it scans line by line, builds a ``Message`` per part and compiles a pattern per
boundary; in the MMSC simulator that was a third of the CPU per SubmitReq. So :func:`read_multipart`
first tries :func:`_canonical`, a reader of the one shape every MM7/PAP client we know writes (CRLF line
ends, a delimiter at the very start, one-line ASCII headers, plain parameters, base64 that decodes
without repair) using ``bytes.find``. Each of its checks is a condition under which ``email``'s answer
is known to be the same (the comments say why); on anything else it gives up (``None``) and ``email``
reads the body, so both readers accept and refuse exactly the same inputs.
``tests/unit/test_mm7_multipart.py`` compares the two readers on the shapes the checks name. Pure.
"""

from __future__ import annotations

import binascii
import functools
import quopri
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import unquote

_PARSER = BytesParser(policy=compat32)
# Header lines as email's headerRE (feedparser) takes them, without its continuation and "From " forms.
_FIELD = r"[\x21-\x39\x3b-\x7e]+:[^\r\n]*"
_FIELDS = re.compile(rf"{_FIELD}(?:\r\n{_FIELD})*")
_TOKEN = r"[!#$%&'+.^_`|~0-9A-Za-z-]+"  # RFC 2045 §5.1 token, without "*" (RFC 2231 parameters)
_MEDIA = re.compile(rf"[ \t]*{_TOKEN}/{_TOKEN}[ \t]*")
# One "; name=value": a token, or a quoted string without escapes or ";" (email's _parseparam and
# decode_params then give unquote(value), which :func:`_params` applies).
_PARAM = re.compile(rf';[ \t]*({_TOKEN})[ \t]*=[ \t]*("[^"\\;]*"|[^\s";\\]+)[ \t]*')
_BCHARS = re.compile(r"[0-9A-Za-z'()+_,\-./:=?]{1,70}")  # RFC 2046 §5.1.1 bchars, no space
_BASE64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")  # what base64.b64decode(validate=True) accepts
_UU = frozenset({"x-uuencode", "uuencode", "uue", "x-uue"})


@dataclass(frozen=True, slots=True)
class Entity:
    """One MIME entity as ``email.message.Message`` (compat32) shows it.

    ``headers`` are all fields in order, values as ``str``; ``media_type`` is ``get_content_type()``
    (lower case; ``text/plain`` when absent or invalid); a leaf has ``data`` (``get_payload(decode=True)``),
    a multipart has ``parts`` and ``start``, its ``start`` parameter as written (RFC 2387 §3.2).
    """

    headers: tuple[tuple[str, str], ...]
    media_type: str
    data: bytes | None = None
    parts: tuple[Entity, ...] | None = None
    start: str | None = None

    def get(self, name: str) -> str | None:
        """The first field called ``name`` (any case), like ``Message.get``."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


def read_multipart(content_type: str, body: bytes, *, encoding: str = "latin-1") -> Entity:
    """The entity a ``Content-Type: content_type`` header over ``body`` makes, as ``email`` reads it.

    ``encoding`` turns a non-ASCII ``content_type`` back into header bytes for ``email``; raises
    UnicodeEncodeError when it cannot (the value cannot have been a header then).
    """
    fast = _canonical(content_type, body)
    if fast is not None:
        return fast
    header = b"Content-Type: " + content_type.encode(encoding) + b"\r\n\r\n"
    return _from_email(_PARSER.parsebytes(header + body))


def _from_email(m: Message) -> Entity:
    headers = tuple((k, str(v)) for k, v in m.items())
    if m.is_multipart():
        payload = m.get_payload()
        parts = tuple(_from_email(p) for p in payload if isinstance(p, Message))
        start = m.get_param("start")
        return Entity(headers, m.get_content_type(), parts=parts, start=None if start is None else str(start))
    data = m.get_payload(decode=True)
    return Entity(headers, m.get_content_type(), data=data if isinstance(data, bytes) else None)


# -- the canonical shape -------------------------------------------------------------------------------


class _NotCanonical(Exception):
    """The body is outside the shape :func:`_canonical` reads: ``email`` reads it."""


def _canonical(content_type: str, body: bytes) -> Entity | None:
    if not content_type.isascii() or "\r" in content_type or "\n" in content_type:
        return None  # email would see a Header object or more header lines
    value = content_type.lstrip(" \t")  # compat32 header_source_parse
    try:
        return _multipart((("Content-Type", value),), value, body, 0, len(body), ())
    except _NotCanonical:
        return None


@functools.lru_cache(maxsize=256)
def _media_type(value: str | None) -> str:
    """``Message.get_content_type()`` for a field value (its exact expressions)."""
    if value is None:
        return "text/plain"
    ctype = value.partition(";")[0].strip().lower()
    return ctype if ctype.count("/") == 1 else "text/plain"


@functools.lru_cache(maxsize=256)
def _params(value: str) -> Mapping[str, str]:
    """The parameters of a Content-Type as ``get_param`` returns them (first of a name wins).

    Cached: a client's Content-Types repeat (stable boundaries); read-only for the callers."""
    head = value.find(";")
    if head < 0:
        head = len(value)
    if not _MEDIA.fullmatch(value, 0, head):
        raise _NotCanonical
    params: dict[str, str] = {}
    pos = head
    while pos < len(value):
        m = _PARAM.match(value, pos)
        if m is None:
            raise _NotCanonical
        params.setdefault(m.group(1).lower(), unquote(m.group(2)))
        pos = m.end()
    return params


@functools.lru_cache(maxsize=256)
def _layout(ctype: str, outer: tuple[str, ...]) -> tuple[str, Mapping[str, str], str, bytes]:
    """A multipart Content-Type's media type, parameters, boundary and delimiter, checked against
    the boundaries ``outer`` around it. Cached: a client's Content-Types repeat (stable boundaries);
    a refusal raises, uncached."""
    media = _media_type(ctype)
    if media == "multipart/digest":  # its parts default to message/rfc822
        raise _NotCanonical
    params = _params(ctype)
    raw = params.get("boundary")
    if raw is None:
        raise _NotCanonical  # email keeps the body as text (NoBoundaryInMultipartDefect)
    boundary = unquote(raw).rstrip()  # get_boundary(): collapse_rfc2231_value unquotes once more
    if not _BCHARS.fullmatch(boundary):
        raise _NotCanonical
    if any(b.startswith(boundary) or boundary.startswith(b) for b in outer):
        raise _NotCanonical  # with no boundary a prefix of another, a line is at most one's delimiter
    return media, params, boundary, b"--" + boundary.encode("ascii")


def _multipart(
    headers: tuple[tuple[str, str], ...], ctype: str, data: bytes, lo: int, hi: int, outer: tuple[str, ...]
) -> Entity:
    """``data[lo:hi]`` as the body of a multipart whose Content-Type field is ``ctype``, nested in
    multiparts with the boundaries ``outer``."""
    media, params, boundary, delimiter = _layout(ctype, outer)
    # RFC 2046 §5.1.1: every occurrence of the delimiter up to the close one must start a line
    # (after CRLF, or the body's first byte: no preamble) and end in CRLF or "--". Then email's
    # line scanner, which splits at CR, LF or CRLF and takes "--boundary" at a line start followed
    # only by "--", blanks and the line end, finds exactly these delimiters and no other.
    if not data.startswith(delimiter, lo, hi):
        raise _NotCanonical
    n = len(delimiter)
    at = lo
    parts: list[Entity] = []
    while True:
        tail = at + n
        if data.startswith(b"\r\n", tail, hi):
            begin = tail + 2
        elif data.startswith(b"--", tail, hi) and (tail + 2 == hi or data.startswith(b"\r\n", tail + 2, hi)):
            break  # the close delimiter; what follows is the epilogue, which email keeps apart
        else:
            raise _NotCanonical
        nxt = data.find(delimiter, begin, hi)
        if nxt < 0 or nxt - 2 < begin or not data.startswith(b"\r\n", nxt - 2):
            raise _NotCanonical  # no close delimiter, an empty part, or a delimiter mid-line
        # the CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1)
        parts.append(_entity(data, begin, nxt - 2, (*outer, boundary)))
        at = nxt
    return Entity(headers, media, parts=tuple(parts), start=params.get("start"))


def _entity(data: bytes, lo: int, hi: int, outer: tuple[str, ...]) -> Entity:
    """``data[lo:hi]``: one body part, its header fields then CRLF CRLF then its body."""
    if data.startswith(b"\r\n", lo, hi):
        headers: tuple[tuple[str, str], ...] = ()
        begin = lo + 2
    else:
        end = data.find(b"\r\n\r\n", lo, hi)
        if end < 0:
            raise _NotCanonical  # email: MissingHeaderBodySeparatorDefect
        headers = _fields(data[lo:end])
        begin = end + 4
    ctype = cte = None
    for key, value in headers:
        low = key.lower()
        if low == "content-type" and ctype is None:
            ctype = value
        elif low == "content-transfer-encoding" and cte is None:
            cte = value
    media = _media_type(ctype)
    main = media.partition("/")[0]
    if main == "message":  # email reads an embedded message: not this shape
        raise _NotCanonical
    if main == "multipart":
        assert ctype is not None
        return _nested(headers, ctype, data[begin:hi], outer)
    return Entity(headers, media, data=_decode((cte or "").lower(), data[begin:hi]))


@functools.lru_cache(maxsize=32)
def _nested(headers: tuple[tuple[str, str], ...], ctype: str, body: bytes, outer: tuple[str, ...]) -> Entity:
    """A multipart nested in another, read once per distinct bytes: a campaign's MM travels in every
    request beside an envelope that changes (entities are frozen; a refusal raises, uncached)."""
    return _multipart(headers, ctype, body, 0, len(body), outer)


@functools.lru_cache(maxsize=256)
def _fields(block: bytes) -> tuple[tuple[str, str], ...]:
    """Unfolded ASCII header lines, split as compat32's ``header_source_parse`` splits them. Cached:
    the parts of a client's requests carry the same header lines every time (a refusal raises,
    uncached)."""
    if not block.isascii():
        raise _NotCanonical  # email keeps 8-bit values as Header objects
    text = block.decode("ascii")
    # Each line a field name, ":" and a value without CR or LF: no continuation line, no line
    # email's headerRE refuses, no bare CR or LF (which end a line for email).
    if not _FIELDS.fullmatch(text):
        raise _NotCanonical
    split = (line.partition(":") for line in text.split("\r\n"))
    return tuple((name, value.lstrip(" \t")) for name, _, value in split)


def _decode(cte: str, raw: bytes) -> bytes:
    """``get_payload(decode=True)``: RFC 2045 §6.7 quoted-printable, §6.8 base64, else as is."""
    if cte == "quoted-printable":
        return quopri.decodestring(raw)  # what email calls
    if cte == "base64":
        joined = b"".join(raw.splitlines())
        # email's decode_b first tries b64decode(validate=True) with the padding completed; on
        # well-padded valid input that is a2b_base64. Anything it must repair is email's to read.
        if len(joined) % 4 or not _BASE64.fullmatch(joined):
            raise _NotCanonical
        try:
            return binascii.a2b_base64(joined)
        except binascii.Error:
            raise _NotCanonical from None
    if cte in _UU:
        raise _NotCanonical
    return raw
