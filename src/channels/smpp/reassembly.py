"""Reading long SMS back: the user data header and the reassembly of concatenated parts (3GPP TS 23.040
§9.2.3.24 UDH, .1 and .8 concatenation, .3 and .4 application ports; SMPP v3.4 §5.3.2.22-24 SAR TLVs,
§5.3.2.32 message_payload; PROTOCOLS.md §2.4).

The SMSC simulator reassembles what our adapter (or any ESME) submits, and the adapter reassembles the
MO messages subscribers send, with this one pure module, so a test can assert the exact text a handset
shows. Split out of :mod:`channels.smpp.concat` (which re-exports these names) to keep each module to
one job: concat splits, this module puts back together.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from channels.smpp.constants import EsmClass, Iei, Tag
from channels.smpp.encoding import Alphabet, alphabet_of, decode_text, udh_fill_bits, unpack_septets


@dataclass(frozen=True, slots=True)
class Udh:
    """A parsed user data header (TS 23.040 §9.2.3.24): its size and its information elements."""

    length: int  # octets, UDHL included
    ies: tuple[tuple[int, bytes], ...]

    def find(self, iei: int) -> bytes | None:
        for ie, value in self.ies:
            if ie == iei:
                return value
        return None

    @property
    def concat(self) -> tuple[int, int, int, int] | None:
        """(ref, total, seq, ref bits) from IEI 00 or 08."""
        value = self.find(Iei.CONCAT_8)
        if value is not None and len(value) == 3:
            return value[0], value[1], value[2], 8
        value = self.find(Iei.CONCAT_16)
        if value is not None and len(value) == 4:
            return int.from_bytes(value[:2], "big"), value[2], value[3], 16
        return None

    @property
    def ports(self) -> tuple[int, int] | None:
        """(destination, originator) application ports from IEI 05 or 04 (§9.2.3.24.3-4)."""
        value = self.find(Iei.PORTS_16)
        if value is not None and len(value) == 4:
            return int.from_bytes(value[:2], "big"), int.from_bytes(value[2:], "big")
        value = self.find(Iei.PORTS_8)
        if value is not None and len(value) == 2:
            return value[0], value[1]
        return None


def build_udh(ies: list[tuple[int, bytes]]) -> bytes:
    """UDHL followed by each IEI, length, value."""
    body = b"".join(bytes((iei, len(value))) + value for iei, value in ies)
    return bytes((len(body),)) + body


def parse_udh(data: bytes) -> Udh | None:
    """The UDH at the start of ``data``, or None when it is malformed (an IE overruns the header)."""
    if not data or data[0] + 1 > len(data):
        return None
    end = data[0] + 1
    ies: list[tuple[int, bytes]] = []
    pos = 1
    while pos < end:
        if pos + 2 > end or pos + 2 + data[pos + 1] > end:
            return None
        ies.append((data[pos], data[pos + 2 : pos + 2 + data[pos + 1]]))
        pos += 2 + data[pos + 1]
    return Udh(end, tuple(ies))


def _tlv_int(tlvs: Mapping[int, bytes], tag: int) -> int | None:
    value = tlvs.get(tag)
    return int.from_bytes(value, "big") if value else None


def _concat_of(udh: Udh | None, tlvs: Mapping[int, bytes]) -> tuple[int, int, int, int] | None:
    concat = udh.concat if udh else None
    if concat is None and Tag.SAR_TOTAL_SEGMENTS in tlvs:
        concat = (
            _tlv_int(tlvs, Tag.SAR_MSG_REF_NUM) or 0,
            _tlv_int(tlvs, Tag.SAR_TOTAL_SEGMENTS) or 0,
            _tlv_int(tlvs, Tag.SAR_SEGMENT_SEQNUM) or 0,
            16,
        )
    return concat


def concat_info(
    short_message: bytes, esm_class: int, tlvs: Mapping[int, bytes]
) -> tuple[int, int, int] | None:
    """(reference, total, sequence) of a concatenated part (UDH IEI 00/08 or SAR TLVs), else None."""
    body = tlvs.get(Tag.MESSAGE_PAYLOAD) or short_message
    udh = parse_udh(body) if esm_class & EsmClass.UDHI else None
    concat = _concat_of(udh, tlvs)
    if concat is None or concat[1] <= 1:
        return None
    return concat[0], concat[1], concat[2]


@dataclass(frozen=True, slots=True)
class Reassembled:
    """A whole message from one or more parts."""

    text: str  # decoded by data_coding
    data: bytes  # the payload without UDH; GSM as one septet per octet even when sent packed
    data_coding: int
    parts: int
    ref: int | None  # None for a single message
    destination_port: int | None = None
    source_port: int | None = None


@dataclass(slots=True)
class _Part:
    data: bytes
    data_coding: int
    destination_port: int | None
    source_port: int | None


@dataclass(slots=True)
class _Pending:
    first_seen: float
    total: int
    parts: dict[int, _Part]


_GroupKey = tuple[str, str, int, int, int]  # source, destination, ref, total, ref bits


class Reassembler:
    """Puts concatenated parts back together, for MO messages and the simulator (TS 23.040 §9.2.3.24.1).

    Parts are matched on (source, destination, reference, total); 8/16-bit UDH, SAR TLVs and
    message_payload are understood, and ports (IEI 04/05 or port TLVs) are kept. A message whose parts
    do not all arrive within ``timeout`` seconds of its first part is dropped; at most ``max_pending``
    messages wait (the oldest is dropped first). Malformed concatenation data yields the part as it is.
    """

    __slots__ = ("_max_pending", "_packed", "_pending", "_timeout", "dropped")

    def __init__(self, *, timeout: float = 120.0, max_pending: int = 10_000, packed: bool = False) -> None:
        self._timeout = timeout
        self._max_pending = max_pending
        self._packed = packed
        self._pending: OrderedDict[_GroupKey, _Pending] = OrderedDict()
        self.dropped = 0  # incomplete messages given up (timeout or capacity)

    def __len__(self) -> int:
        return len(self._pending)

    def feed(
        self,
        *,
        source: str,
        destination: str,
        short_message: bytes,
        esm_class: int,
        tlvs: Mapping[int, bytes],
        data_coding: int,
        now: float,
    ) -> Reassembled | None:
        """Add one part; returns the whole message when this part completes it, else None."""
        self.expire(now)
        body = tlvs.get(Tag.MESSAGE_PAYLOAD) or short_message
        udh = parse_udh(body) if esm_class & EsmClass.UDHI else None
        text_start = udh.length if udh else 0
        data = body[text_start:]
        if self._packed and alphabet_of(data_coding)[0] is Alphabet.GSM7:
            data = unpack_septets(data, udh_fill_bits(text_start) if udh else 0)
        ports = udh.ports if udh else None
        if ports is None and Tag.DESTINATION_PORT in tlvs:
            ports = (_tlv_int(tlvs, Tag.DESTINATION_PORT) or 0, _tlv_int(tlvs, Tag.SOURCE_PORT) or 0)
        part = _Part(data, data_coding, *(ports or (None, None)))
        concat = _concat_of(udh, tlvs)
        if concat is None:
            return _whole([part], None)
        ref, total, seq, bits = concat
        if total <= 1 or not 1 <= seq <= total:
            return _whole([part], ref if total == 1 else None)
        return self._add((source, destination, ref, total, bits), seq, part, now)

    def _add(self, key: _GroupKey, seq: int, part: _Part, now: float) -> Reassembled | None:
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(now, key[3], {})
            if len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)
                self.dropped += 1
        pending.parts[seq] = part  # a resent part replaces the earlier copy
        if len(pending.parts) < pending.total:
            return None
        del self._pending[key]
        return _whole([pending.parts[i] for i in range(1, pending.total + 1)], key[2])

    def expire(self, now: float) -> int:
        """Drop messages whose first part is older than the timeout; returns how many."""
        count = 0
        while self._pending:
            key, pending = next(iter(self._pending.items()))
            if pending.first_seen + self._timeout > now:
                break
            del self._pending[key]
            count += 1
        self.dropped += count
        return count


def _whole(parts: list[_Part], ref: int | None) -> Reassembled:
    first = parts[0]
    data = b"".join(part.data for part in parts)
    return Reassembled(
        text=decode_text(data, first.data_coding),
        data=data,
        data_coding=first.data_coding,
        parts=len(parts),
        ref=ref,
        destination_port=first.destination_port,
        source_port=first.source_port,
    )
