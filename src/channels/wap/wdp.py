"""WDP over GSM SMS (WAP-259-WDP Annex; 3GPP TS 23.040 §9.2.3.24): port-addressed, concatenated UDH.

A WSP push datagram reaches the handset's push port 2948 from port 9200 in 8-bit binary SMS
(data_coding 0x04) with a user data header: IEI 05 (16-bit ports) alone when it fits in one SMS
(``06 05 04 0b 84 23 f0``), or IEI 05 followed by IEI 00 (8-bit concatenation reference, total,
sequence) in every segment, ``0b 05 04 0b 84 23 f0 00 03 RR TT SS``, as Kannel sends it
(PROTOCOLS.md §5.3, §5.5). This module builds those segments and, for the simulator and tests,
parses a UDH and reassembles segments. Pure: ``now`` is an argument.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from channels.errors import ContentRejected, RemoteProtocolError

WAP_PUSH_PORT = 2948  # WAP-259 Appendix B: WSP connectionless push
WAP_SECURE_PUSH_PORT = 2949
WAP_SOURCE_PORT = 9200  # WSP connectionless (Kannel's source port for pushes)
PUSH_PORTS = frozenset({WAP_PUSH_PORT, WAP_SECURE_PUSH_PORT})
SMS_OCTETS = 140  # TS 23.040 §9.2.3.16: 140 octets of user data per SMS

IEI_CONCAT_8 = 0x00  # TS 23.040 §9.2.3.24.1
IEI_PORTS_8 = 0x04  # §9.2.3.24.3
IEI_PORTS_16 = 0x05  # §9.2.3.24.4
IEI_CONCAT_16 = 0x08  # §9.2.3.24.8


def ports_ie(dest_port: int, src_port: int) -> bytes:
    return bytes([IEI_PORTS_16, 4]) + dest_port.to_bytes(2, "big") + src_port.to_bytes(2, "big")


def segment(
    datagram: bytes,
    *,
    ref: int,
    dest_port: int = WAP_PUSH_PORT,
    src_port: int = WAP_SOURCE_PORT,
    max_segments: int = 10,
    octets: int = SMS_OCTETS,
) -> list[bytes]:
    """Split a datagram into SMS user data (UDH + payload), at most ``octets`` each.

    ``ref`` is the 8-bit concatenation reference, used only when more than one segment is needed.
    """
    ports = ports_ie(dest_port, src_port)
    if len(datagram) + 1 + len(ports) <= octets:
        return [bytes([len(ports)]) + ports + datagram]
    if not 0 <= ref <= 0xFF:
        raise ContentRejected(f"WDP: concatenation reference {ref} out of 0..255", name="ref")
    chunk = octets - (1 + len(ports) + 5)
    total = -(-len(datagram) // chunk)
    if total > max_segments:
        raise ContentRejected(
            f"WAP push needs {total} SMS segments, more than max_segments={max_segments}", name="content"
        )
    return [
        bytes([len(ports) + 5])
        + ports
        + bytes([IEI_CONCAT_8, 3, ref, total, seq + 1])
        + datagram[seq * chunk : (seq + 1) * chunk]
        for seq in range(total)
    ]


@dataclass(frozen=True, slots=True)
class UserData:
    """An SMS user data field split into its header elements and payload."""

    elements: tuple[tuple[int, bytes], ...]
    payload: bytes
    dest_port: int | None = None
    src_port: int | None = None
    ref: int | None = None
    total: int = 1
    seq: int = 1

    @property
    def is_wap_push(self) -> bool:
        return self.dest_port in PUSH_PORTS


def parse_user_data(short_message: bytes) -> UserData:
    """Parse UDH + payload (the caller knows UDHI was set). Unknown elements are kept, not fatal."""
    if not short_message:
        raise RemoteProtocolError("UDH: empty user data")
    udhl = short_message[0]
    if 1 + udhl > len(short_message):
        raise RemoteProtocolError(f"UDH: length {udhl} overruns {len(short_message)} octets")
    header, payload = short_message[1 : 1 + udhl], short_message[1 + udhl :]
    elements: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(header):
        if pos + 2 > len(header) or pos + 2 + header[pos + 1] > len(header):
            raise RemoteProtocolError(f"UDH: element at offset {pos} overruns the header")
        iei, length = header[pos], header[pos + 1]
        elements.append((iei, header[pos + 2 : pos + 2 + length]))
        pos += 2 + length
    fields: dict[str, int] = {}
    for iei, data in elements:
        _read_element(iei, data, fields)
    return UserData(elements=tuple(elements), payload=payload, **fields)


def _read_element(iei: int, data: bytes, fields: dict[str, int]) -> None:
    if iei == IEI_PORTS_16 and len(data) == 4:
        fields["dest_port"] = int.from_bytes(data[:2], "big")
        fields["src_port"] = int.from_bytes(data[2:], "big")
    elif iei == IEI_PORTS_8 and len(data) == 2:
        fields["dest_port"], fields["src_port"] = data[0], data[1]
    elif iei in (IEI_CONCAT_8, IEI_CONCAT_16) and len(data) in (3, 4):
        ref_len = 1 if iei == IEI_CONCAT_8 else 2
        if len(data) != ref_len + 2 or data[-2] == 0 or not 1 <= data[-1] <= data[-2]:
            raise RemoteProtocolError(f"UDH: bad concatenation element {data.hex()}")
        fields["ref"] = int.from_bytes(data[:ref_len], "big")
        fields["total"], fields["seq"] = data[-2], data[-1]


@dataclass(slots=True)
class _Pending:
    parts: dict[int, bytes]
    total: int
    until: datetime


@dataclass(slots=True)
class Reassembler:
    """Collects concatenated segments per (``key``, ref, total) until the datagram is complete.

    ``key`` identifies the conversation (e.g. source and destination addresses). Incomplete sets are
    dropped after ``ttl`` (call :meth:`expire`); duplicate segments replace the earlier copy.
    """

    ttl: timedelta = timedelta(minutes=5)
    max_pending: int = 10_000
    _pending: dict[tuple[Hashable, int, int], _Pending] = field(default_factory=dict)

    def feed(self, key: Hashable, data: UserData, now: datetime) -> bytes | None:
        """Returns the whole payload when ``data`` completes it (at once for a single segment)."""
        if data.ref is None or data.total == 1:
            return data.payload
        slot = (key, data.ref, data.total)
        pending = self._pending.get(slot)
        if pending is None:
            if len(self._pending) >= self.max_pending:
                self.expire(now)
                if len(self._pending) >= self.max_pending:
                    self._pending.pop(next(iter(self._pending)))
            pending = self._pending[slot] = _Pending({}, data.total, now + self.ttl)
        pending.parts[data.seq] = data.payload
        if len(pending.parts) < pending.total:
            return None
        del self._pending[slot]
        return b"".join(pending.parts[i] for i in range(1, pending.total + 1))

    def expire(self, now: datetime) -> int:
        """Drop incomplete sets past their deadline; returns how many were dropped."""
        stale = [k for k, p in self._pending.items() if p.until <= now]
        for k in stale:
            del self._pending[k]
        return len(stale)

    @property
    def pending(self) -> int:
        return len(self._pending)
