"""WBXML 1.2 (WAP-192-WBXML) encoder and decoder, driven by per-document token tables.

SI and SL pushes travel as WBXML: a header (version, public id, charset, string table) and a token
stream where tags, attribute names with the start of their values, and common value fragments
(``.com/``) are single octets. This module knows only the generic token grammar (WAP-192 §5.8);
``si.py`` and ``sl.py`` supply the tables (WAP-167 §9.3, WAP-168 §9.3). Both directions exist so the
adapter encodes and the simulator and tests decode with the same tables. Pure: bytes in, bytes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from channels.errors import ConfigurationError, RemoteProtocolError

# WAP-192 §7.1: global tokens, the same on every code page.
SWITCH_PAGE = 0x00
END = 0x01
ENTITY = 0x02
STR_I = 0x03
LITERAL = 0x04
PI = 0x43
STR_T = 0x83
OPAQUE = 0xC3
_EXT_I = frozenset({0x40, 0x41, 0x42})  # EXT_I_0..2: inline string follows
_EXT_T = frozenset({0x80, 0x81, 0x82})  # EXT_T_0..2: mb_u_int32 follows
_EXT = frozenset({0xC0, 0xC1, 0xC2})  # EXT_0..2: no data
TAG_ATTRIBUTES = 0x80  # WAP-192 §5.8.2: tag has attributes
TAG_CONTENT = 0x40  # tag has content
VERSION_1_2 = 0x02

# IANA MIBenum → Python codec (WAP-192 §5.6); only charsets whose strings end in one 00 octet.
CHARSETS: dict[int, str] = {3: "ascii", 4: "latin-1", 106: "utf-8"}
UTF_8 = 106
_MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Element:
    """One element of a document: attributes in order (str, or bytes for OPAQUE data) and children."""

    tag: str
    attributes: tuple[tuple[str, str | bytes], ...] = ()
    children: tuple[Element | str | bytes, ...] = ()

    def attribute(self, name: str) -> str | bytes | None:
        for key, value in self.attributes:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Document:
    version: int
    public_id: int
    charset: int
    root: Element


@dataclass(frozen=True)
class TokenTable:
    """Code page 0 of one document type.

    ``attr_starts`` maps a token to (attribute name, value prefix); ``url_attributes`` are the
    attributes whose values are further tokenised with ``attr_values`` (WAP-167 §9.3.3).
    """

    name: str
    public_id: int
    tags: Mapping[int, str]
    attr_starts: Mapping[int, tuple[str, str]]
    attr_values: Mapping[int, str]
    url_attributes: frozenset[str] = frozenset()
    _tag_tokens: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tag_tokens", {v: k for k, v in self.tags.items()})

    def tag_token(self, tag: str) -> int:
        try:
            return self._tag_tokens[tag]
        except KeyError:
            raise ConfigurationError(f"{self.name}: no token for element <{tag}>") from None

    def attr_start(self, name: str, value: str | bytes) -> tuple[int, int]:
        """The token with the longest value prefix matching ``value``; returns (token, prefix length)."""
        best: tuple[int, int] | None = None
        for token, (attr, prefix) in self.attr_starts.items():
            if attr != name:
                continue
            if prefix and not (isinstance(value, str) and value.startswith(prefix)):
                continue
            if best is None or len(prefix) > best[1]:
                best = (token, len(prefix))
        if best is None:
            raise ConfigurationError(f"{self.name}: attribute {name}={value!r} has no token")
        return best


# -- multi-byte integers (WAP-192 §5.1) -----------------------------------------------------------


def encode_mb_u_int32(value: int, *, name: str = "mb_u_int32") -> bytes:
    """WAP-192 §5.1 multi-byte integer; WSP's uintvar (WAP-230 §8.1.2) is the same coding."""
    if not 0 <= value <= 0xFFFFFFFF:
        raise ConfigurationError(f"{name} out of range: {value}")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def decode_mb_u_int32(
    data: bytes, pos: int, *, where: str = "wbxml", name: str = "mb_u_int32"
) -> tuple[int, int]:
    """Returns (value, next position)."""
    value = 0
    for i in range(5):
        if pos + i >= len(data):
            raise RemoteProtocolError(f"{where}: truncated {name} at offset {pos}")
        octet = data[pos + i]
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            return value, pos + i + 1
    raise RemoteProtocolError(f"{where}: {name} longer than 5 octets at offset {pos}")


# -- encoder ----------------------------------------------------------------------------------------


def encode(root: Element, table: TokenTable, *, charset: int = UTF_8) -> bytes:
    """Encode a document: header (WAP-192 §5.4) then the body, with an empty string table."""
    codec = CHARSETS.get(charset)
    if codec is None:
        raise ConfigurationError(f"wbxml: unsupported charset MIBenum {charset}")
    out = bytearray([VERSION_1_2])
    out += encode_mb_u_int32(table.public_id)
    out += encode_mb_u_int32(charset)
    out.append(0)  # string table length
    _encode_element(root, table, codec, out)
    return bytes(out)


def _inline(text: str, codec: str, out: bytearray) -> None:
    if "\x00" in text:
        raise ConfigurationError("wbxml: strings cannot contain NUL")
    out.append(STR_I)
    out += text.encode(codec)
    out.append(0)


def _encode_element(element: Element, table: TokenTable, codec: str, out: bytearray) -> None:
    token = table.tag_token(element.tag)
    if element.attributes:
        token |= TAG_ATTRIBUTES
    if element.children:
        token |= TAG_CONTENT
    out.append(token)
    if element.attributes:
        for name, value in element.attributes:
            _encode_attribute(name, value, table, codec, out)
        out.append(END)
    if element.children:
        for child in element.children:
            if isinstance(child, Element):
                _encode_element(child, table, codec, out)
            elif isinstance(child, bytes):
                out.append(OPAQUE)
                out += encode_mb_u_int32(len(child))
                out += child
            else:
                _inline(child, codec, out)
        out.append(END)


def _encode_attribute(name: str, value: str | bytes, table: TokenTable, codec: str, out: bytearray) -> None:
    token, prefix_len = table.attr_start(name, value)
    out.append(token)
    if isinstance(value, bytes):
        out.append(OPAQUE)
        out += encode_mb_u_int32(len(value))
        out += value
        return
    rest = value[prefix_len:]
    if name not in table.url_attributes:
        if rest:
            _inline(rest, codec, out)
        return
    _encode_url_value(rest, table, codec, out)


def _encode_url_value(rest: str, table: TokenTable, codec: str, out: bytearray) -> None:
    # WAP-167 §9.3.3: every occurrence of a value token string becomes its token.
    while rest:
        hit: tuple[int, int, str] | None = None
        for token, text in table.attr_values.items():
            pos = rest.find(text)
            if pos >= 0 and (hit is None or pos < hit[0]):
                hit = (pos, token, text)
        if hit is None:
            _inline(rest, codec, out)
            return
        pos, token, text = hit
        if pos:
            _inline(rest[:pos], codec, out)
        out.append(token)
        rest = rest[pos + len(text) :]


# -- decoder ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Reader:
    data: bytes
    pos: int
    codec: str
    strtbl: bytes

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise RemoteProtocolError(f"wbxml: truncated document at offset {self.pos}")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def peek(self) -> int:
        if self.pos >= len(self.data):
            raise RemoteProtocolError(f"wbxml: truncated document at offset {self.pos}")
        return self.data[self.pos]

    def mb(self) -> int:
        value, self.pos = decode_mb_u_int32(self.data, self.pos)
        return value

    def cstring(self) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise RemoteProtocolError(f"wbxml: unterminated inline string at offset {self.pos}")
        raw, self.pos = self.data[self.pos : end], end + 1
        return self._text(raw)

    def table_string(self) -> str:
        index = self.mb()
        end = self.strtbl.find(b"\x00", index)
        if index >= len(self.strtbl) or end < 0:
            raise RemoteProtocolError(f"wbxml: string table reference {index} out of range")
        return self._text(self.strtbl[index:end])

    def opaque(self) -> bytes:
        length = self.mb()
        if self.pos + length > len(self.data):
            raise RemoteProtocolError(f"wbxml: opaque data of {length} octets overruns the document")
        raw, self.pos = self.data[self.pos : self.pos + length], self.pos + length
        return raw

    def _text(self, raw: bytes) -> str:
        try:
            return raw.decode(self.codec)
        except UnicodeDecodeError as exc:
            raise RemoteProtocolError(f"wbxml: string not valid {self.codec}: {exc}") from exc


def decode(data: bytes, tables: Mapping[int, TokenTable]) -> tuple[Document, TokenTable]:
    """Decode a document whose public id names one of ``tables`` (WAP-192 §5.4-5.8)."""
    if len(data) < 4:
        raise RemoteProtocolError("wbxml: document shorter than its header")
    version = data[0]
    public_id, pos = decode_mb_u_int32(data, 1)
    if public_id == 0:
        _, pos = decode_mb_u_int32(data, pos)  # public id given as a string table index
    charset, pos = decode_mb_u_int32(data, pos)
    codec = CHARSETS.get(charset)
    if codec is None:
        raise RemoteProtocolError(f"wbxml: unsupported charset MIBenum {charset}")
    strtbl_len, pos = decode_mb_u_int32(data, pos)
    if pos + strtbl_len > len(data):
        raise RemoteProtocolError("wbxml: string table overruns the document")
    reader = _Reader(data, pos + strtbl_len, codec, data[pos : pos + strtbl_len])
    table = tables.get(public_id)
    if table is None:
        raise RemoteProtocolError(f"wbxml: unknown public id {public_id:#x}")
    while reader.peek() == PI:
        reader.byte()
        _skip_attribute_run(reader)
    root = _decode_element(reader, table, 0)
    return Document(version, public_id, charset, root), table


def _skip_attribute_run(reader: _Reader) -> None:
    while (token := reader.byte()) != END:
        if token == LITERAL:
            reader.mb()
        else:
            _attribute_piece(reader, token)


def _decode_element(reader: _Reader, table: TokenTable, depth: int) -> Element:
    if depth > _MAX_DEPTH:
        raise RemoteProtocolError("wbxml: elements nested too deeply")
    token = reader.byte()
    while token == SWITCH_PAGE:
        if reader.byte() != 0:
            raise RemoteProtocolError(f"wbxml: {table.name} has only code page 0")
        token = reader.byte()
    if token & 0x3F == LITERAL:
        tag = reader.table_string()
    else:
        tag = table.tags.get(token & 0x3F) or _unknown(table, "tag", token & 0x3F)
    attributes = _decode_attributes(reader, table) if token & TAG_ATTRIBUTES else ()
    children = _decode_content(reader, table, depth) if token & TAG_CONTENT else ()
    return Element(tag, attributes, children)


def _unknown(table: TokenTable, what: str, token: int) -> str:
    raise RemoteProtocolError(f"wbxml: unknown {table.name} {what} token {token:#04x}")


def _decode_attributes(reader: _Reader, table: TokenTable) -> tuple[tuple[str, str | bytes], ...]:
    attributes: list[tuple[str, str | bytes]] = []
    token = reader.byte()
    while token != END:
        if token == LITERAL:
            name, prefix = reader.table_string(), ""
        elif token < 0x80 and token not in (STR_I, ENTITY, SWITCH_PAGE) and token not in _EXT_I:
            name, prefix = table.attr_starts.get(token) or (_unknown(table, "attribute", token), "")
        else:
            raise RemoteProtocolError(f"wbxml: attribute value token {token:#04x} without attribute")
        pieces: list[str | bytes] = [prefix] if prefix else []
        token = reader.byte()
        while token != END and (token >= 0x80 or token in (STR_I, ENTITY) or token in _EXT_I):
            pieces.append(_attribute_piece(reader, token, table))
            token = reader.byte()
        attributes.append((name, _join(pieces)))
    return tuple(attributes)


def _attribute_piece(reader: _Reader, token: int, table: TokenTable | None = None) -> str | bytes:
    if token == STR_I or token in _EXT_I:
        return reader.cstring()
    if token == STR_T:
        return reader.table_string()
    if token == OPAQUE:
        return reader.opaque()
    if token == ENTITY:
        return chr(reader.mb())
    if token in _EXT_T:
        reader.mb()
        return ""
    if token in _EXT:
        return ""
    if table is None:
        return ""
    return table.attr_values.get(token) or _unknown(table, "attribute value", token)


def _join(pieces: list[str | bytes]) -> str | bytes:
    if len(pieces) == 1 and isinstance(pieces[0], bytes):
        return pieces[0]
    return "".join(p.decode("latin-1") if isinstance(p, bytes) else p for p in pieces)


def _decode_content(reader: _Reader, table: TokenTable, depth: int) -> tuple[Element | str | bytes, ...]:
    children: list[Element | str | bytes] = []
    while (token := reader.peek()) != END:
        if token in (STR_I, STR_T, ENTITY) or token in _EXT_I or token in _EXT_T or token in _EXT:
            reader.byte()
            text = _attribute_piece(reader, token)
            if children and isinstance(children[-1], str) and isinstance(text, str):
                children[-1] += text
            elif text:
                children.append(text)
        elif token == OPAQUE:
            reader.byte()
            children.append(reader.opaque())
        elif token == PI:
            reader.byte()
            _skip_attribute_run(reader)
        else:
            children.append(_decode_element(reader, table, depth + 1))
    reader.byte()
    return tuple(children)
