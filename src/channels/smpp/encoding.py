"""SMS text encodings as SMPP carries them: GSM 03.38, UCS-2, Latin-1 and IA5 (3GPP TS 23.038 §6.2.1,
§6.1.2; SMPP v3.4 §5.2.19; PROTOCOLS.md §1.9, §2.1-2.3).

Every SMS the SDK sends goes through :func:`encode_text`, and every MO or receipt text through
:func:`decode_text`, so both are table-driven and precomputed at import: encoding is one C-level
``charmap_encode`` (a ``bytes.translate`` for plain ASCII), decoding one ``charmap_decode`` plus an escape
fix-up only when an escape is present. GSM text is carried one septet per octet (the de-facto SMPP form,
``€`` = ``1b 65``); :func:`pack_septets` / :func:`unpack_septets` give the air-interface packing for the
gateways that want it. Unlike smpplib 2.2.4 (PROTOCOLS.md §8 item 8) 0x5F is ``§`` and ````` is not GSM.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from channels.content import TextEncoding
from channels.errors import ContentRejected

ESCAPE = 0x1B

# TS 23.038 §6.2.1 basic table, code = index. 0x1B is the escape to the extension table.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# TS 23.038 §6.2.1.1 extension table: character -> code after 0x1B. Each costs two septets.
GSM_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

# encode: ordinal -> septet(s); the escape itself is not a character a user can send.
_GSM_ENCODE: dict[int, bytes] = {ord(c): bytes((i,)) for i, c in enumerate(GSM_BASIC) if i != ESCAPE}
_GSM_ENCODE.update({ord(c): bytes((ESCAPE, code)) for c, code in GSM_EXTENSION.items()})
GSM_CHARS = frozenset(chr(o) for o in _GSM_ENCODE)
_NOT_GSM = re.compile("[^" + re.escape("".join(sorted(GSM_CHARS))) + "]")

# ASCII fast path: one bytes.translate when the text has no extension or non-GSM ASCII character.
_ASCII_TO_GSM = bytes(
    _GSM_ENCODE[i][0] if i in _GSM_ENCODE and len(_GSM_ENCODE[i]) == 1 else 0 for i in range(256)
)
_ASCII_SLOW = re.compile(
    "[^" + re.escape("".join(chr(i) for i in range(128) if _ASCII_TO_GSM[i] or i == 64)) + "]"
)

# decode: 0x00-0x7F from the basic table, the escape kept as a marker, high bytes are not septets.
_GSM_DECODE_TABLE = GSM_BASIC + "\ufffd" * 128
_ESCAPED = re.compile("\x1b(.?)", re.DOTALL)
# extension lookup keyed by the basic-table character of the second septet
_EXT_BY_BASE = {GSM_BASIC[code]: char for char, code in GSM_EXTENSION.items()}

# GSM characters that cost two septets, for counting text before encoding it
GSM_EXTENSION_CHARS = frozenset(GSM_EXTENSION)


class DataCodingValue:
    """The data_coding values this module emits (SMPP v3.4 §5.2.19)."""

    GSM = 0x00
    IA5 = 0x01
    BINARY = 0x02
    LATIN1 = 0x03
    BINARY_WAP = 0x04
    UCS2 = 0x08


class Alphabet(StrEnum):
    """How the bytes of a data_coding are laid out, which decides decoding and part sizes."""

    GSM7 = "gsm7"  # one septet per octet, escapes are two septets
    IA5 = "ia5"  # ASCII octets, 7-bit on the air
    OCTET = "octet"  # 8-bit: Latin-1, binary, national 8-bit sets
    UCS2 = "ucs2"  # UTF-16BE code units


# SMPP v3.4 §5.2.19 values 0x00-0x0E: (alphabet, Python codec).
_SMPP_DCS: dict[int, tuple[Alphabet, str]] = {
    0x00: (Alphabet.GSM7, "gsm"),
    0x01: (Alphabet.IA5, "ascii"),
    0x02: (Alphabet.OCTET, "latin-1"),
    0x03: (Alphabet.OCTET, "latin-1"),
    0x04: (Alphabet.OCTET, "latin-1"),
    0x05: (Alphabet.OCTET, "shift_jis"),  # JIS X 0208-1990
    0x06: (Alphabet.OCTET, "iso8859_5"),
    0x07: (Alphabet.OCTET, "iso8859_8"),
    0x08: (Alphabet.UCS2, "utf-16-be"),
    0x09: (Alphabet.OCTET, "latin-1"),  # pictogram: no standard mapping, keep the octets
    0x0A: (Alphabet.OCTET, "iso2022_jp"),
    0x0B: (Alphabet.OCTET, "latin-1"),
    0x0C: (Alphabet.OCTET, "latin-1"),
    0x0D: (Alphabet.OCTET, "euc_jp"),  # JIS X 0212-1990
    0x0E: (Alphabet.OCTET, "euc_kr"),  # KS C 5601
}
_GSM_GROUP = (Alphabet.GSM7, "gsm")
_OCTET_GROUP = (Alphabet.OCTET, "latin-1")
_UCS2_GROUP = (Alphabet.UCS2, "utf-16-be")
# TS 23.038 §4 general data coding groups (bits 3-2 select the alphabet).
_GENERAL_ALPHABET = (_GSM_GROUP, _OCTET_GROUP, _UCS2_GROUP, _OCTET_GROUP)


def alphabet_of(data_coding: int) -> tuple[Alphabet, str]:
    """The alphabet and Python codec of a data_coding: SMPP values 0x00-0x0E, else the TS 23.038 §4
    coding groups (0x10-0x7F general, 0xC0-0xEF message waiting, 0xF0-0xFF message class)."""
    known = _SMPP_DCS.get(data_coding)
    if known is not None:
        return known
    if 0x10 <= data_coding <= 0x7F:
        if data_coding & 0x20:  # compressed: not text we can read
            return _OCTET_GROUP
        return _GENERAL_ALPHABET[(data_coding >> 2) & 0x03]
    if 0xC0 <= data_coding <= 0xDF:
        return _GSM_GROUP
    if 0xE0 <= data_coding <= 0xEF:
        return _UCS2_GROUP
    if 0xF0 <= data_coding <= 0xFF:
        return _OCTET_GROUP if data_coding & 0x04 else _GSM_GROUP
    return _OCTET_GROUP


@dataclass(frozen=True, slots=True)
class EncodedText:
    """A text ready for short_message / message_payload, with the data_coding that labels it."""

    data_coding: int
    data: bytes
    encoding: TextEncoding

    @property
    def units(self) -> int:
        """Length in the unit SMS limits count: septets (GSM, IA5), octets (Latin-1), UTF-16 code units."""
        if self.encoding is TextEncoding.UCS2:
            return len(self.data) // 2
        return len(self.data)


def _rejected(text: str, position: int, encoding: TextEncoding) -> ContentRejected:
    char = text[position]
    return ContentRejected(
        f"text[{position}] {char!r} (U+{ord(char):04X}) cannot be encoded as {encoding.value}",
    )


def _gsm_bytes(text: str) -> bytes | int:
    """GSM septets, or the position of the first character outside the alphabet."""
    if text.isascii():
        if _ASCII_SLOW.search(text) is None:
            return text.encode("ascii").translate(_ASCII_TO_GSM)
    else:
        outside = _NOT_GSM.search(text)  # cheaper than the codec's exception for UCS-2 text
        if outside is not None:
            return outside.start()
    try:
        return codecs.charmap_encode(text, "strict", _GSM_ENCODE)[0]
    except UnicodeEncodeError as exc:
        return exc.start


def is_gsm(text: str) -> bool:
    """True when every character of ``text`` is in the GSM 03.38 basic or extension table."""
    return not isinstance(_gsm_bytes(text), int)


def gsm_septets(text: str) -> int:
    """Septets ``text`` costs in GSM 03.38 (extension characters count two); raises ContentRejected."""
    data = _gsm_bytes(text)
    if isinstance(data, int):
        raise _rejected(text, data, TextEncoding.GSM7)
    return len(data)


def _codec_bytes(text: str, codec: str, encoding: TextEncoding) -> bytes:
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        raise _rejected(text, exc.start, encoding) from exc


def encode_text(
    text: str,
    encoding: TextEncoding | None = None,
    *,
    gsm_data_coding: int = DataCodingValue.GSM,
    ucs2_data_coding: int = DataCodingValue.UCS2,
) -> EncodedText:
    """Encode ``text`` for SMPP. ``encoding=None`` picks GSM 03.38 when every character is in it, else
    UCS-2 (UTF-16BE: astral characters become surrogate pairs). A forced encoding that cannot represent
    the text raises :class:`ContentRejected` naming the first offending character and its position.

    ``gsm_data_coding``/``ucs2_data_coding`` label the bytes as the gateway expects (0x00 / 0x08, or a
    TS 23.038 coding group such as 0x10 / 0x18 for class-0 "flash" messages).

    A campaign sends one text to many numbers, so results for texts up to :data:`CACHED_TEXT_LENGTH`
    characters are kept in a bounded LRU (:data:`CACHE_SIZE` entries; EncodedText is immutable).
    """
    if len(text) <= CACHED_TEXT_LENGTH:
        return _encode_cached(text, encoding, gsm_data_coding, ucs2_data_coding)
    return _encode(text, encoding, gsm_data_coding, ucs2_data_coding)


CACHED_TEXT_LENGTH = 1024
CACHE_SIZE = 512


def _encode(
    text: str, encoding: TextEncoding | None, gsm_data_coding: int, ucs2_data_coding: int
) -> EncodedText:
    if encoding is None or encoding is TextEncoding.GSM7:
        data = _gsm_bytes(text)
        if not isinstance(data, int):
            return EncodedText(gsm_data_coding, data, TextEncoding.GSM7)
        if encoding is TextEncoding.GSM7:
            raise _rejected(text, data, TextEncoding.GSM7)
        encoding = TextEncoding.UCS2
    if encoding is TextEncoding.UCS2:
        return EncodedText(ucs2_data_coding, _codec_bytes(text, "utf-16-be", encoding), encoding)
    if encoding is TextEncoding.LATIN1:
        return EncodedText(DataCodingValue.LATIN1, _codec_bytes(text, "latin-1", encoding), encoding)
    if encoding is TextEncoding.ASCII:
        control = _IA5_CONTROL.search(text)
        if control is not None:
            raise _rejected(text, control.start(), encoding)
        return EncodedText(DataCodingValue.IA5, _codec_bytes(text, "ascii", encoding), encoding)
    raise ContentRejected(f"encoding: unsupported text encoding {encoding!r}")


_encode_cached = lru_cache(maxsize=CACHE_SIZE)(_encode)


def _unescape(match: re.Match[str]) -> str:
    follower = match.group(1)
    if not follower or follower == "\x1b":
        return " "  # a lone or doubled escape is shown as a space (TS 23.038 §6.2.1 note 1)
    return _EXT_BY_BASE.get(follower, follower)  # unknown pairs show the base character (§6.2.1.1)


def decode_gsm(data: bytes) -> str:
    """GSM 03.38 septets (one per octet) to text. Never raises: octets >= 0x80 become U+FFFD."""
    text = codecs.charmap_decode(data, "strict", _GSM_DECODE_TABLE)[0]
    if "\x1b" in text:
        text = _ESCAPED.sub(_unescape, text)
    return text


# Octets that are GSM letters (@ £ $ ¥ è ... ø Å å Δ _ Φ ...) or the escape but ASCII control codes: IA5
# text containing them is GSM mislabelled as 0x01, node-smpp's default (PROTOCOLS.md §1.9, §10).
# Only tab, LF and CR of the ASCII controls are sent as IA5; the others would read as GSM letters.
_GSM_IN_IA5 = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_IA5_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_text(data: bytes, data_coding: int) -> str:
    """Decode short_message / message_payload bytes by their data_coding. Tolerant: never raises;
    bytes that are not valid in the alphabet become U+FFFD (an odd UCS-2 tail, a lone surrogate).
    IA5 (0x01) holding GSM-only codes is read as the GSM septets it is."""
    if data_coding == 0 and not data.translate(None, _GSM_AS_ASCII):
        return data.decode("ascii")  # the SMSC default, in octets GSM reads as ASCII (most receipts)
    alphabet, codec = alphabet_of(data_coding)
    if alphabet is _GSM7 or (alphabet is _IA5 and _GSM_IN_IA5.search(data) is not None):
        return decode_gsm(data)
    return data.decode(codec, "replace")


# The octets whose GSM 03.38 basic character is the ASCII character of the same code (letters, digits,
# space and most punctuation; not @ $ [ \ ] ^ _ ` { | } ~, and of the controls only LF and CR: the
# escape 0x1B starts a two-septet character, §6.2.1.1): text made of these alone decodes the same
# either way, so decode_text takes the codec's C path for it.
_GSM_AS_ASCII = bytes(code for code in range(128) if GSM_BASIC[code] == chr(code) and code != 0x1B)
_GSM7 = Alphabet.GSM7  # enum members used per message, as module names (an attribute lookup each)
_IA5 = Alphabet.IA5


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets 8-in-7, LSB first (TS 23.038 §6.1.2.1), after ``fill_bits`` zero bits (the fill that
    aligns text after a UDH). 7 spare bits at the end would read as ``@``, so a CR pads them; a wanted
    final CR on an octet boundary gets a second CR (§6.1.2.3.1)."""
    count = len(septets)
    spare = (-(count * 7 + fill_bits)) % 8
    if spare == 7 or (spare == 0 and count and septets[-1] == 0x0D):
        septets += b"\r"
        count += 1
    value = 0
    for index, septet in enumerate(septets):
        value |= (septet & 0x7F) << (index * 7)
    bits = count * 7 + fill_bits
    return (value << fill_bits).to_bytes((bits + 7) // 8, "little")


def unpack_septets(packed: bytes, fill_bits: int = 0) -> bytes:
    """Inverse of :func:`pack_septets`: one septet per octet. A CR that ends exactly on an octet
    boundary is taken as padding (§6.1.2.3.1) and dropped."""
    bits = len(packed) * 8 - fill_bits
    if bits < 7:
        return b""
    count = bits // 7
    value = int.from_bytes(packed, "little") >> fill_bits
    septets = bytes((value >> (index * 7)) & 0x7F for index in range(count))
    if bits % 7 == 0 and septets[-1] == 0x0D:
        septets = septets[:-1]
    return septets


def udh_fill_bits(udh_length: int) -> int:
    """Fill bits after a UDH of ``udh_length`` octets (UDHL included) so text starts on a septet."""
    return (7 - (udh_length * 8) % 7) % 7
