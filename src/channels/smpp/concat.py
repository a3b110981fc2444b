"""Long SMS: splitting an encoded text into SMPP parts (3GPP TS 23.040 §9.2.3.24.1, .8, .3, .4 user data
header; SMPP v3.4 §5.3.2.22-24 SAR TLVs, §5.3.2.32 message_payload; PROTOCOLS.md §2.3-2.4).

The adapter splits with the method its gateway profile names (8/16-bit reference UDH, SAR TLVs, or one
message_payload); the simulator and the MO path put parts back together with
:mod:`channels.smpp.reassembly` (its names are re-exported here). Part sizes are exact
(GSM 160/153/152 septets, 8-bit 140/134/133 octets, UCS-2 70/67/66 units); a GSM escape pair or a UTF-16
surrogate pair is never cut, the mistakes PROTOCOLS.md §2.4 measured in smpplib and aiosmpplib.
Reference numbers come from :class:`RefAllocator`, monotonic per destination rather than random.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from itertools import accumulate

from channels.content import TextEncoding
from channels.errors import ConfigurationError, ContentRejected
from channels.smpp.constants import EsmClass, Iei, Tag
from channels.smpp.encoding import (
    ESCAPE,
    GSM_EXTENSION,
    Alphabet,
    EncodedText,
    pack_septets,
    udh_fill_bits,
)
from channels.smpp.reassembly import (
    Reassembled,
    Reassembler,
    Udh,
    build_udh,
    concat_info,
    parse_udh,
)

__all__ = [
    "MAX_PARTS",
    "MAX_PAYLOAD",
    "SM_OCTETS",
    "ConcatMethod",
    "Reassembled",
    "Reassembler",
    "RefAllocator",
    "Segment",
    "Udh",
    "build_udh",
    "capacity",
    "concat_info",
    "count_parts",
    "parse_udh",
    "part_units",
    "ref_limit",
    "sar_tlvs",
    "split",
]

SM_OCTETS = 140  # TP-UD capacity, TS 23.040 §9.2.3.24
MAX_PAYLOAD = 0xFFFF  # message_payload TLV value, SMPP v3.4 §5.3.2.32
MAX_PARTS = 255  # one octet of total in the UDH / SAR TLV

# IA5 text becomes GSM on the air, where these cost an escape septet too.
_IA5_COST = bytes(2 if chr(i) in GSM_EXTENSION else 1 for i in range(256))


class ConcatMethod(StrEnum):
    """How a gateway wants long messages (PROTOCOLS.md §2.4)."""

    UDH8 = "udh8"  # UDH IEI 00, 8-bit reference, esm_class UDHI
    UDH16 = "udh16"  # UDH IEI 08, 16-bit reference, esm_class UDHI
    SAR = "sar"  # sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs, the SMSC builds the UDH
    PAYLOAD = "payload"  # the whole text in message_payload, the SMSC splits


@dataclass(frozen=True, slots=True)
class Segment:
    """One submit_sm's worth of a message."""

    short_message: bytes  # UDH included for UDH methods; empty for PAYLOAD
    esm_class: int  # bits to OR into esm_class: UDHI for UDH methods, else 0
    tlvs: dict[int, bytes]  # raw TLV values by tag


def capacity(alphabet: Alphabet, udh_length: int) -> int:
    """Room left for text beside a UDH of ``udh_length`` octets (UDHL included), in the alphabet's
    cost unit: septets for GSM/IA5, octets otherwise (UCS-2: twice its code units)."""
    if alphabet is Alphabet.GSM7 or alphabet is Alphabet.IA5:
        return (SM_OCTETS - udh_length) * 8 // 7
    if alphabet is Alphabet.UCS2:
        return (SM_OCTETS - udh_length) // 2 * 2
    return SM_OCTETS - udh_length


def part_units(encoding: TextEncoding, method: ConcatMethod = ConcatMethod.UDH8) -> tuple[int, int]:
    """(single message, per part) size in the encoding's unit: GSM (160, 153), UCS-2 (70, 67)..."""
    alphabet = _ALPHABET_OF_ENCODING[encoding]
    per_part = capacity(alphabet, _concat_udh_length(method, 0))
    single = capacity(alphabet, 0)
    if alphabet is Alphabet.UCS2:
        return single // 2, per_part // 2
    return single, per_part


_ALPHABET_OF_ENCODING = {
    TextEncoding.GSM7: Alphabet.GSM7,
    TextEncoding.ASCII: Alphabet.IA5,
    TextEncoding.LATIN1: Alphabet.OCTET,
    TextEncoding.UCS2: Alphabet.UCS2,
}
# Octets that surely fit one SMS: IA5 is checked by cost instead (extension characters count two).
_PLAIN_SINGLE_ROOM = {Alphabet.GSM7: 160, Alphabet.IA5: 80, Alphabet.OCTET: 140, Alphabet.UCS2: 140}


def _concat_udh_length(method: ConcatMethod, ref: int) -> int:
    """UDH octets (UDHL included) of the concatenation IE the method puts, or the SMSC builds."""
    if method is ConcatMethod.UDH16 or (method is ConcatMethod.SAR and ref > 0xFF):
        return 7  # 06 08 04 RR RR TT SS
    return 6  # 05 00 03 RR TT SS


def _gsm_end(data: bytes, start: int, end: int) -> int:
    """Move ``end`` back one when the part would end on the escape half of a GSM pair."""
    run = end
    while run > start and data[run - 1] == ESCAPE:
        run -= 1
    if (end - run) % 2 == 1:  # the run of escapes starts on a pair boundary: odd length = lone lead
        return end - 1
    return end


def _ucs2_end(data: bytes, end: int) -> int:
    """Move ``end`` back one unit when the part would end on a high surrogate."""
    if 0xD8 <= data[end - 2] <= 0xDB:
        return end - 2
    return end


def _chunks(data: bytes, alphabet: Alphabet, room: int, *, packed: bool = False) -> list[tuple[int, int]]:
    """Byte ranges of the parts of ``data`` when each may cost ``room`` units."""
    size = len(data)
    if alphabet is Alphabet.IA5:
        return _weighted_chunks(data.translate(_IA5_COST), room)
    spans: list[tuple[int, int]] = []
    start = 0
    while start < size:
        end = min(start + room, size)
        if end < size:
            if alphabet is Alphabet.GSM7:
                end = _gsm_end(data, start, end)
            elif alphabet is Alphabet.UCS2:
                end = _ucs2_end(data, end)
        if packed and alphabet is Alphabet.GSM7 and end - start == room and data[end - 1] == 0x0D:
            # a full packed part ends on an octet boundary; a final CR there needs a second CR
            # (TS 23.038 §6.1.2.3.1) that would not fit
            end = _gsm_end(data, start, end - 1)
        if end <= start:
            end = min(start + room, size)  # malformed input; never loop forever
        spans.append((start, end))
        start = end
    return spans


def _weighted_chunks(costs: bytes, room: int) -> list[tuple[int, int]]:
    totals = list(accumulate(costs))
    spans: list[tuple[int, int]] = []
    start, spent = 0, 0
    while start < len(costs):
        end = max(bisect_right(totals, spent + room), start + 1)
        spans.append((start, end))
        spent = totals[end - 1]
        start = end
    return spans


def _fits_single(encoded: EncodedText, alphabet: Alphabet, packed: bool) -> bool:
    data = encoded.data
    room = capacity(alphabet, 0)
    if alphabet is Alphabet.IA5:
        return sum(data.translate(_IA5_COST)) <= room
    if packed and len(data) == room and data[-1] == 0x0D:
        return False
    return len(data) <= room


def _port_ies(source_port: int | None, destination_port: int | None) -> list[tuple[int, bytes]]:
    if destination_port is None:
        return []
    ports = destination_port.to_bytes(2, "big") + (source_port or 0).to_bytes(2, "big")
    return [(Iei.PORTS_16, ports)]  # TS 23.040 §9.2.3.24.4: destination port first


def _port_tlvs(source_port: int | None, destination_port: int | None) -> dict[int, bytes]:
    tlvs: dict[int, bytes] = {}
    if destination_port is not None:
        tlvs[Tag.DESTINATION_PORT] = destination_port.to_bytes(2, "big")
    if source_port is not None:
        tlvs[Tag.SOURCE_PORT] = source_port.to_bytes(2, "big")
    return tlvs


def _body(data: bytes, alphabet: Alphabet, udh: bytes, packed: bool) -> bytes:
    if packed and alphabet is Alphabet.GSM7:
        return udh + pack_septets(data, udh_fill_bits(len(udh)) if udh else 0)
    return udh + data


def fits_one(encoded: EncodedText, *, packed: bool = False) -> bool:
    """Whether ``encoded`` goes out as one SMS (no concatenation reference needed): the test
    :func:`split` applies before it cuts anything."""
    return _fits_single(encoded, _ALPHABET_OF_ENCODING[encoded.encoding], packed)


def split(
    encoded: EncodedText,
    method: ConcatMethod = ConcatMethod.UDH8,
    *,
    ref: int = 0,
    max_parts: int = MAX_PARTS,
    packed: bool = False,
    source_port: int | None = None,
    destination_port: int | None = None,
    more_messages: bool = False,
) -> list[Segment]:
    """Split ``encoded`` into submit_sm parts with ``method``.

    A text that fits one SMS gives one Segment without concatenation data. More than ``max_parts``
    parts raises ContentRejected. ``packed`` packs GSM septets 8-in-7 (a gateway flag, PROTOCOLS.md
    §2.2). Ports go in a UDH (IEI 05) for UDH methods, else in source_port/destination_port TLVs.
    ``more_messages`` sets more_messages_to_send=1 on every part but the last (as Kannel does).
    """
    alphabet = _ALPHABET_OF_ENCODING[encoded.encoding]
    if not 0 <= ref <= (0xFF if method is ConcatMethod.UDH8 else 0xFFFF):
        raise ConfigurationError(f"ref: {ref} out of range 0..{ref_limit(method)} for {method.value}")
    if (
        len(encoded.data) <= _PLAIN_SINGLE_ROOM[alphabet]
        and destination_port is None
        and source_port is None
        and not packed
    ):
        return [Segment(encoded.data, 0, {})]  # the common case: one SMS, nothing to add
    udh_methods = method is ConcatMethod.UDH8 or method is ConcatMethod.UDH16
    port_ies = _port_ies(source_port, destination_port)
    if _fits_single(encoded, alphabet, packed):
        return [_single(encoded.data, alphabet, udh_methods, port_ies, packed, source_port, destination_port)]
    udh_length = _concat_udh_length(method, ref) + sum(2 + len(value) for _, value in port_ies)
    spans = _chunks(encoded.data, alphabet, capacity(alphabet, udh_length), packed=packed)
    total, limit = len(spans), min(max_parts, MAX_PARTS)
    if total > limit:
        raise ContentRejected(f"text: {total} parts exceed the gateway's limit of {limit}")
    if method is ConcatMethod.PAYLOAD:
        return [_payload(encoded.data, alphabet, packed, source_port, destination_port)]
    segments = []
    for seq, (start, end) in enumerate(spans, 1):
        chunk = encoded.data[start:end]
        tlvs = {} if udh_methods else _port_tlvs(source_port, destination_port)
        if udh_methods:
            udh = build_udh([_concat_ie(method, ref, total, seq), *port_ies])
            short_message, esm = _body(chunk, alphabet, udh, packed), int(EsmClass.UDHI)
        else:
            tlvs.update(sar_tlvs(ref, total, seq))
            short_message, esm = _body(chunk, alphabet, b"", packed), 0
        if more_messages and seq < total:
            tlvs[Tag.MORE_MESSAGES_TO_SEND] = b"\x01"
        segments.append(Segment(short_message, esm, tlvs))
    return segments


def _single(
    data: bytes,
    alphabet: Alphabet,
    udh_methods: bool,
    port_ies: list[tuple[int, bytes]],
    packed: bool,
    source_port: int | None,
    destination_port: int | None,
) -> Segment:
    if port_ies and udh_methods:
        return Segment(_body(data, alphabet, build_udh(port_ies), packed), int(EsmClass.UDHI), {})
    return Segment(_body(data, alphabet, b"", packed), 0, _port_tlvs(source_port, destination_port))


def _payload(
    data: bytes, alphabet: Alphabet, packed: bool, source_port: int | None, destination_port: int | None
) -> Segment:
    body = _body(data, alphabet, b"", packed)
    if len(body) > MAX_PAYLOAD:
        raise ContentRejected(f"text: {len(body)} octets exceed message_payload's {MAX_PAYLOAD}")
    tlvs = _port_tlvs(source_port, destination_port)
    tlvs[Tag.MESSAGE_PAYLOAD] = body
    return Segment(b"", 0, tlvs)


def _concat_ie(method: ConcatMethod, ref: int, total: int, seq: int) -> tuple[int, bytes]:
    if method is ConcatMethod.UDH16:
        return Iei.CONCAT_16, ref.to_bytes(2, "big") + bytes((total, seq))
    return Iei.CONCAT_8, bytes((ref, total, seq))


def sar_tlvs(ref: int, total: int, seq: int) -> dict[int, bytes]:
    """SAR TLVs of one part (SMPP v3.4 §5.3.2.22-24): reference 2 octets, total and seq 1 octet."""
    return {
        Tag.SAR_MSG_REF_NUM: ref.to_bytes(2, "big"),
        Tag.SAR_TOTAL_SEGMENTS: bytes((total,)),
        Tag.SAR_SEGMENT_SEQNUM: bytes((seq,)),
    }


def ref_limit(method: ConcatMethod) -> int:
    """Largest reference number the method can carry."""
    return 0xFF if method is ConcatMethod.UDH8 else 0xFFFF


def count_parts(encoded: EncodedText, method: ConcatMethod = ConcatMethod.UDH8, *, ref: int = 0) -> int:
    """How many SMS ``encoded`` takes on the air with ``method`` (PAYLOAD: as the SMSC would split it
    with 8-bit references). For pricing, throttling by parts, and previews."""
    alphabet = _ALPHABET_OF_ENCODING[encoded.encoding]
    if _fits_single(encoded, alphabet, False):
        return 1
    room = capacity(alphabet, _concat_udh_length(method, ref))
    return len(_chunks(encoded.data, alphabet, room))


class RefAllocator:
    """Concatenation reference numbers, monotonic per destination (PROTOCOLS.md §2.4), not random.

    One allocator per gateway. Destinations are remembered in a bounded LRU; a destination seen again
    after eviction starts from a global counter, so it does not restart at the value it last used.
    """

    __slots__ = ("_last", "_max_destinations", "_seed")

    def __init__(self, *, max_destinations: int = 65536) -> None:
        if max_destinations < 1:
            raise ConfigurationError("max_destinations: must be at least 1")
        self._last: OrderedDict[str, int] = OrderedDict()
        self._max_destinations = max_destinations
        self._seed = 0

    def next(self, destination: str, *, bits: int = 8) -> int:
        """The next reference for ``destination``, reduced to ``bits`` (8 or 16)."""
        if bits not in (8, 16):
            raise ConfigurationError(f"bits: {bits} is not 8 or 16")
        last = self._last.pop(destination, None)
        if last is None:
            self._seed += 1
            value = self._seed
        else:
            value = last + 1
        self._last[destination] = value
        if len(self._last) > self._max_destinations:
            self._last.popitem(last=False)
        return value & ((1 << bits) - 1)

    def __len__(self) -> int:
        return len(self._last)
