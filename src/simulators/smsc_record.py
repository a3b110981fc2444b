"""What the simulated SMSC records per message: the text the handset shows, and each part's fate.

A long message arrives as parts (TS 23.040 §9.2.3.24.1 UDH, SMPP v3.4 §5.3.2.22-24 SAR), each with
its own submit_sm_resp id and its own receipt (PROTOCOLS.md §2.4, §3.5). The record is written once the
last part is in: the reassembled text, every part's id, receipt state and size in octets, and the
message's receipt state (the worst of its parts'), so tests can assert exactly what a subscriber saw
and what the adapter should report. A message in one part is kept as a compact row (the fast path's
row is the submit_sm's own octets) and made a record when read. Also the state of every accepted
message, by id, for query_sm (:class:`MessageStates`). Pure.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from channels.results import STATE_SEVERITY, DeliveryState
from channels.smpp import pdu as codec
from channels.smpp.concat import Reassembled, concat_info
from channels.smpp.encoding import decode_text
from channels.wap.push import handset_view
from channels.wap.wdp import PUSH_PORTS
from simulators.recorder import Row
from simulators.smsc_clock import iso


@dataclass(frozen=True, slots=True)
class PartFate:
    seq: int
    message_id: str
    state: DeliveryState
    octets: int


class MessageStates(Mapping[str, DeliveryState]):
    """Message id → receipt state of every message the SMSC accepted (query_sm, cancel_sm). Ids are
    numbers given out in order and spelled by one format, so the states are kept in a list by number
    (one append per message) rather than a dict of id strings, which cost a hash, an insert and, as
    it grew, the rehashing of every entry. An id reads back only as the format spells it."""

    __slots__ = ("_base", "_first", "_format", "_states", "append")

    def __init__(self, first: int, id_format: str) -> None:
        """``first``: the number of the first message; ``id_format``: its ``%`` format ("%X", "%08d")."""
        self._first = first
        self._format = id_format
        self._base = 16 if id_format[-1] in "xX" else 10
        self._states: list[DeliveryState] = []
        self.append = self._states.append  # the state of message number first + len(self)

    def __getitem__(self, message_id: str) -> DeliveryState:
        try:
            number = int(message_id, self._base)
        except (TypeError, ValueError):
            raise KeyError(message_id) from None
        index = number - self._first
        if not 0 <= index < len(self._states) or self._format % number != message_id:
            raise KeyError(message_id)  # "0x…", " 1", "+1", "1_0" or another case: not our spelling
        return self._states[index]

    def __iter__(self) -> Iterator[str]:
        return (self._format % number for number in range(self._first, self._first + len(self._states)))

    def __len__(self) -> int:
        return len(self._states)


class PartCollector:
    """Holds the parts of concatenated messages until the last one arrives (bounded, oldest first)."""

    def __init__(self, max_groups: int = 10_000) -> None:
        self._groups: OrderedDict[tuple[str, str, int, int], dict[int, PartFate]] = OrderedDict()
        self._max = max_groups

    def add(
        self,
        source: str,
        destination: str,
        body: bytes,
        esm_class: int,
        tlvs: Mapping[int, bytes],
        fate: PartFate,
    ) -> list[PartFate] | None:
        """Every part in order once ``fate``'s message is complete; None while parts are missing."""
        info = concat_info(body, esm_class, tlvs)
        if info is None:
            return [fate]
        ref, total, seq = info
        key = (source, destination, ref, total)
        group = self._groups.setdefault(key, {})
        group[seq] = PartFate(seq, fate.message_id, fate.state, fate.octets)  # a resent part replaces
        if len(self._groups) > self._max:
            self._groups.popitem(last=False)
        if len(group) < total:
            return None
        del self._groups[key]
        return [group[n] for n in sorted(group)]


def handset_record(
    system_id: str | None,
    source: str,
    destination: str,
    data_coding: int,
    esm_class: int,
    service_type: str,
    text: str,
    parts: int,
    ids: list[str],
    states: list[DeliveryState],
    octets: list[int],
    received_at: str,
) -> dict[str, Any]:
    """The JSON-able record of one complete message: the submit's addressing, the text the handset
    shows, and per part its id, receipt state and size (``ids``, ``states``, ``octets``: one each)."""
    worst = states[0] if len(states) == 1 else max(states, key=STATE_SEVERITY.__getitem__)
    return {
        "system_id": system_id,
        "source": source,
        "destination": destination,
        "data_coding": data_coding,
        "esm_class": esm_class,
        "service_type": service_type,
        "text": text,
        "parts": parts,
        "message_id": ids[0],
        "message_ids": ids,
        "receipt_state": worst.value,
        "receipt_states": [s.value for s in states],
        "part_octets": octets,
        "received_at": received_at,
    }


def one_part_row(
    system_id: str | None,
    params: Mapping[str, Any],
    message_id: str,
    state: str,
    received_at: float,
) -> Row:
    """The record of a message in one part (no UDH, no TLVs: nothing to reassemble) as the recorder
    keeps it (:attr:`Recorder.record_row`): only strings, numbers and None, from the decoded submit_sm's
    ``params``; ``state``: the receipt state's value; ``received_at``: epoch seconds.
    :func:`expand_one_part` makes the record. Layout: system_id, source, destination, data_coding,
    esm_class, service_type, text, message_id, state, octets, received_at."""
    body = params["short_message"]
    data_coding = params["data_coding"]
    return (
        system_id,
        params["source_addr"],
        params["destination_addr"],
        data_coding,
        params["esm_class"],
        params["service_type"],
        decode_text(body, data_coding),
        message_id,
        state,
        len(body),
        received_at,
    )


ROW_TEXT = 6  # where one_part_row keeps the decoded text


def expand_one_part(row: Row) -> dict[str, Any]:
    """The :func:`handset_record` of a :func:`one_part_row`, or of a row the SMSC's fast path keeps
    instead (:mod:`simulators.smsc_fast`): ``(system_id, frame, message_id, state, received_at)``, the
    submit_sm's own octets, decoded here by the codec, when the record is read, rather than per
    message under load."""
    if type(row[1]) is bytes:
        system_id, frame, message_id, state, at = row
        row = one_part_row(system_id, codec.decode(frame).params, message_id, state, at)
    system_id, source, destination, data_coding, esm_class, service_type, text, mid, state, octets, at = row
    return handset_record(
        system_id,
        source,
        destination,
        data_coding,
        esm_class,
        service_type,
        text,
        1,
        [mid],
        [DeliveryState(state)],
        [octets],
        iso(at),
    )


def show_push(record: dict[str, Any], whole: Reassembled) -> None:
    """A WAP push (to a WDP push port): the record shows what the handset shows, not the octets."""
    if whole.destination_port in PUSH_PORTS:
        record["text"] = ""
        record.update(handset_view(whole.data))
