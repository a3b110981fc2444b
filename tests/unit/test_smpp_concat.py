"""Splitting and reassembly of long SMS (PROTOCOLS.md §2.3-2.4), with exact part sizes."""

from __future__ import annotations

from itertools import pairwise

import pytest

from channels.content import TextEncoding
from channels.errors import ConfigurationError, ContentRejected
from channels.smpp.concat import (
    ConcatMethod,
    Reassembled,
    Reassembler,
    RefAllocator,
    Segment,
    build_udh,
    count_parts,
    parse_udh,
    part_units,
    split,
)
from channels.smpp.constants import EsmClass, Tag
from channels.smpp.encoding import encode_text, unpack_septets


def feed_all(
    segments: list[Segment], data_coding: int, reassembler: Reassembler | None = None
) -> Reassembled:
    reassembler = Reassembler() if reassembler is None else reassembler
    results = [
        reassembler.feed(
            source="447700900123",
            destination="ACME",
            short_message=s.short_message,
            esm_class=s.esm_class,
            tlvs=s.tlvs,
            data_coding=data_coding,
            now=0.0,
        )
        for s in segments
    ]
    assert all(r is None for r in results[:-1])
    assert results[-1] is not None
    return results[-1]


def test_udh8_example_part_2_of_3() -> None:
    segments = split(encode_text("x" * 400), ConcatMethod.UDH8, ref=0x2A)
    assert len(segments) == 3
    assert segments[1].short_message[:6] == bytes.fromhex("05 00 03 2a 03 02")
    assert all(s.esm_class == EsmClass.UDHI for s in segments)
    assert all(s.tlvs == {} for s in segments)


def test_udh16_header() -> None:
    segments = split(encode_text("x" * 400), ConcatMethod.UDH16, ref=0x1234)
    assert segments[0].short_message[:7] == bytes.fromhex("06 08 04 12 34 03 01")


@pytest.mark.parametrize(
    ("text", "single", "method", "per_part"),
    [
        ("a", 160, ConcatMethod.UDH8, 153),
        ("a", 160, ConcatMethod.UDH16, 152),
        ("a", 160, ConcatMethod.SAR, 153),
        ("é", 160, ConcatMethod.UDH8, 153),
        ("ж", 70, ConcatMethod.UDH8, 67),
        ("ж", 70, ConcatMethod.UDH16, 66),
    ],
)
def test_exact_part_sizes(text: str, single: int, method: ConcatMethod, per_part: int) -> None:
    encoded = encode_text(text * single)
    assert len(split(encoded, method)) == 1
    longer = encode_text(text * (single + 1))
    segments = split(longer, method)
    assert len(segments) == 2
    width = 2 if longer.encoding is TextEncoding.UCS2 else 1
    udh = segments[0].short_message[0] + 1 if segments[0].esm_class else 0
    assert len(segments[0].short_message) - udh == per_part * width


@pytest.mark.parametrize(
    ("method", "single", "per_part"),
    [(ConcatMethod.UDH8, 140, 134), (ConcatMethod.UDH16, 140, 133)],
)
def test_latin1_octet_sizes(method: ConcatMethod, single: int, per_part: int) -> None:
    assert len(split(encode_text("é" * single, TextEncoding.LATIN1), method)) == 1
    segments = split(encode_text("é" * (single + 1), TextEncoding.LATIN1), method)
    assert len(segments[0].short_message) == per_part + segments[0].short_message[0] + 1


def test_part_units_table() -> None:
    assert part_units(TextEncoding.GSM7) == (160, 153)
    assert part_units(TextEncoding.GSM7, ConcatMethod.UDH16) == (160, 152)
    assert part_units(TextEncoding.LATIN1) == (140, 134)
    assert part_units(TextEncoding.LATIN1, ConcatMethod.UDH16) == (140, 133)
    assert part_units(TextEncoding.UCS2) == (70, 67)
    assert part_units(TextEncoding.UCS2, ConcatMethod.UDH16) == (70, 66)


def test_escape_pair_is_never_split() -> None:
    text = "a" * 152 + "€" + "b" * 10  # the euro's 1b would be septet 153
    segments = split(encode_text(text), ConcatMethod.UDH8)
    first = segments[0].short_message[6:]
    assert len(first) == 152
    assert first[-1] != 0x1B
    assert segments[1].short_message[6:8] == bytes.fromhex("1b 65")
    assert feed_all(segments, 0).text == text


def test_escape_counts_two_septets_in_a_single_message() -> None:
    assert len(split(encode_text("€" * 80))) == 1
    assert len(split(encode_text("€" * 80 + "a"))) == 2


def test_surrogate_pair_is_never_split() -> None:
    text = "ж" * 66 + "😀" + "ж" * 10  # the emoji would straddle units 67/68
    segments = split(encode_text(text), ConcatMethod.UDH8)
    first = segments[0].short_message[6:]
    assert len(first) == 66 * 2
    assert segments[1].short_message[6:10] == bytes.fromhex("d8 3d de 00")
    assert feed_all(segments, 8).text == text


def test_sar_parts_carry_tlvs_and_no_udh() -> None:
    segments = split(encode_text("y" * 200), ConcatMethod.SAR, ref=0x0102)
    assert [s.esm_class for s in segments] == [0, 0]
    assert segments[0].short_message == b"y" * 152  # a 16-bit ref: the SMSC needs a 7-octet UDH
    assert segments[1].tlvs == {
        Tag.SAR_MSG_REF_NUM: bytes.fromhex("0102"),
        Tag.SAR_TOTAL_SEGMENTS: b"\x02",
        Tag.SAR_SEGMENT_SEQNUM: b"\x02",
    }
    assert feed_all(segments, 0).text == "y" * 200


def test_payload_is_one_pdu() -> None:
    text = "z" * 1000
    segments = split(encode_text(text), ConcatMethod.PAYLOAD)
    assert len(segments) == 1
    assert segments[0].short_message == b""
    assert segments[0].tlvs[Tag.MESSAGE_PAYLOAD] == text.encode()
    assert feed_all(segments, 0).text == text


def test_short_text_is_one_plain_segment_whatever_the_method() -> None:
    for method in ConcatMethod:
        assert split(encode_text("hi"), method) == [Segment(b"hi", 0, {})]


def test_max_parts_is_enforced() -> None:
    with pytest.raises(ContentRejected, match="6 parts exceed the gateway's limit of 5"):
        split(encode_text("a" * (153 * 5 + 1)), ConcatMethod.UDH8, max_parts=5)
    with pytest.raises(ContentRejected, match="exceed"):
        split(encode_text("a" * (153 * 3)), ConcatMethod.PAYLOAD, max_parts=2)
    with pytest.raises(ContentRejected):
        split(encode_text("a" * (153 * 256)), ConcatMethod.UDH8, max_parts=1000)


def test_ref_out_of_range() -> None:
    with pytest.raises(ConfigurationError, match="ref"):
        split(encode_text("a" * 200), ConcatMethod.UDH8, ref=256)
    assert split(encode_text("a" * 200), ConcatMethod.UDH16, ref=65535)[0].short_message[3:5] == b"\xff\xff"


def test_more_messages_to_send_on_all_but_last() -> None:
    segments = split(encode_text("a" * 400), ConcatMethod.UDH8, more_messages=True)
    assert [s.tlvs.get(Tag.MORE_MESSAGES_TO_SEND) for s in segments] == [b"\x01", b"\x01", None]


def test_ports_share_the_udh_with_concat() -> None:
    data = bytes(range(256)) * 2
    encoded = encode_text(data.decode("latin-1"), TextEncoding.LATIN1)
    segments = split(encoded, ConcatMethod.UDH8, ref=7, source_port=9200, destination_port=2948)
    udh = parse_udh(segments[0].short_message)
    assert udh is not None
    assert udh.length == 12
    assert udh.concat == (7, len(segments), 1, 8)
    assert udh.ports == (2948, 9200)
    assert len(segments[0].short_message) == 140
    whole = feed_all(segments, 0x03)
    assert whole.data == data
    assert (whole.destination_port, whole.source_port) == (2948, 9200)


def test_ports_on_a_single_message() -> None:
    [segment] = split(encode_text("hi"), ConcatMethod.UDH8, source_port=1, destination_port=2948)
    assert segment.esm_class == EsmClass.UDHI
    assert segment.short_message == bytes.fromhex("06 05 04 0b84 0001") + b"hi"
    [sar] = split(encode_text("hi"), ConcatMethod.SAR, source_port=1, destination_port=2948)
    assert sar.tlvs == {Tag.DESTINATION_PORT: b"\x0b\x84", Tag.SOURCE_PORT: b"\x00\x01"}
    whole = feed_all([sar], 0)
    assert (whole.destination_port, whole.source_port, whole.parts, whole.ref) == (2948, 1, 1, None)


def test_packed_gsm_parts() -> None:
    text = "hello" * 40
    segments = split(encode_text(text), ConcatMethod.UDH8, packed=True)
    assert len(segments) == 2
    assert all(len(s.short_message) <= 140 for s in segments)
    assert unpack_septets(segments[1].short_message[6:], 1) == text[153:].encode()
    assert feed_all(segments, 0, Reassembler(packed=True)).text == text


def test_packed_part_never_needs_an_extra_cr() -> None:
    text = "a" * 152 + "\r" + "b" * 20
    segments = split(encode_text(text), ConcatMethod.UDH8, packed=True)
    assert all(len(s.short_message) <= 140 for s in segments)
    assert feed_all(segments, 0, Reassembler(packed=True)).text == text
    single = split(encode_text("a" * 159 + "\r"), packed=True)
    assert len(single) == 2


def test_ia5_counts_extension_characters_twice() -> None:
    assert len(split(encode_text("[" * 80, TextEncoding.ASCII))) == 1
    assert len(split(encode_text("[" * 81, TextEncoding.ASCII))) == 2
    assert count_parts(encode_text("a" * 161, TextEncoding.ASCII)) == 2


def test_count_parts() -> None:
    assert count_parts(encode_text("a" * 160)) == 1
    assert count_parts(encode_text("a" * 306)) == 2
    assert count_parts(encode_text("a" * 307)) == 3
    assert count_parts(encode_text("ж" * 134)) == 2
    assert count_parts(encode_text("ж" * 135)) == 3


def test_reassembler_out_of_order_and_duplicate() -> None:
    segments = split(encode_text("q" * 500), ConcatMethod.UDH16, ref=999)
    order = [segments[2], segments[0], segments[0], segments[3], segments[1]]
    whole = feed_all(order, 0)
    assert whole.text == "q" * 500
    assert (whole.parts, whole.ref) == (4, 999)


def test_reassembler_keeps_messages_apart_by_ref_and_sender() -> None:
    reassembler = Reassembler()
    a = split(encode_text("A" * 200), ConcatMethod.UDH8, ref=1)
    b = split(encode_text("B" * 200), ConcatMethod.UDH8, ref=2)
    out = []
    for segment in (a[0], b[0], b[1], a[1]):
        out.append(
            reassembler.feed(
                source="1",
                destination="2",
                short_message=segment.short_message,
                esm_class=segment.esm_class,
                tlvs=segment.tlvs,
                data_coding=0,
                now=0.0,
            )
        )
    assert out[0] is None and out[1] is None
    assert out[2] is not None and out[2].text == "B" * 200
    assert out[3] is not None and out[3].text == "A" * 200
    assert len(reassembler) == 0


def _feed(reassembler: Reassembler, segment: Segment, now: float, source: str = "1") -> Reassembled | None:
    return reassembler.feed(
        source=source,
        destination="2",
        short_message=segment.short_message,
        esm_class=segment.esm_class,
        tlvs=segment.tlvs,
        data_coding=0,
        now=now,
    )


def test_reassembler_expires_incomplete_messages() -> None:
    reassembler = Reassembler(timeout=10.0)
    segments = split(encode_text("e" * 200), ConcatMethod.UDH8, ref=5)
    assert _feed(reassembler, segments[0], now=0.0) is None
    assert reassembler.expire(9.9) == 0
    assert reassembler.expire(10.0) == 1
    assert _feed(reassembler, segments[1], now=10.5) is None  # the first part is gone
    assert len(reassembler) == 1
    assert reassembler.dropped == 1


def test_reassembler_is_bounded() -> None:
    reassembler = Reassembler(max_pending=2)
    for source in "abc":
        _feed(reassembler, split(encode_text("m" * 200), ref=1)[0], 0.0, source=source)
    assert len(reassembler) == 2
    assert reassembler.dropped == 1


def test_reassembler_tolerates_malformed_concat_data() -> None:
    reassembler = Reassembler()
    broken_udh = Segment(bytes.fromhex("09 00 03 01") + b"text", int(EsmClass.UDHI), {})
    result = _feed(reassembler, broken_udh, 0.0)
    assert result is not None and result.parts == 1
    bad_seq = Segment(bytes.fromhex("05 00 03 01 02 03") + b"text", int(EsmClass.UDHI), {})
    result = _feed(reassembler, bad_seq, 0.0)
    assert result is not None and result.text == "text"
    single = Segment(bytes.fromhex("05 00 03 01 01 01") + b"one", int(EsmClass.UDHI), {})
    result = _feed(reassembler, single, 0.0)
    assert result is not None and (result.text, result.ref) == ("one", 1)


def test_udh_with_other_ies_alongside_concat() -> None:
    # IEI 24 (national single shift) before IEI 00, as a handset may send
    udh = build_udh([(0x24, b"\x01"), (0x00, bytes((9, 2, 1)))])
    first = Segment(udh + b"part one ", int(EsmClass.UDHI), {})
    second = Segment(build_udh([(0x00, bytes((9, 2, 2)))]) + b"part two", int(EsmClass.UDHI), {})
    reassembler = Reassembler()
    assert _feed(reassembler, first, 0.0) is None
    whole = _feed(reassembler, second, 0.0)
    assert whole is not None and whole.text == "part one part two"


def test_eight_bit_ports_ie() -> None:
    parsed = parse_udh(build_udh([(0x04, bytes((0xF5, 0xF6)))]))
    assert parsed is not None and parsed.ports == (0xF5, 0xF6)
    assert parse_udh(b"") is None
    assert parse_udh(bytes.fromhex("03 00 05 01")) is None


def test_ref_allocator_is_monotonic_per_destination() -> None:
    refs = RefAllocator()
    first = [refs.next("447700900001") for _ in range(3)]
    assert first[1] == first[0] + 1 and first[2] == first[1] + 1
    other = refs.next("447700900002")
    assert refs.next("447700900001") == first[2] + 1
    assert refs.next("447700900002") == other + 1


def test_ref_allocator_wraps_to_bits() -> None:
    refs = RefAllocator()
    values = [refs.next("x") for _ in range(300)]
    assert max(values) == 255 and min(values) == 0
    assert all((b - a) % 256 == 1 for a, b in pairwise(values))
    values16 = [refs.next("y", bits=16) for _ in range(300)]
    assert all(b - a == 1 for a, b in pairwise(values16))
    with pytest.raises(ConfigurationError):
        refs.next("x", bits=12)


def test_ref_allocator_is_bounded_and_does_not_restart_evicted_destinations() -> None:
    refs = RefAllocator(max_destinations=2)
    a = refs.next("a")
    refs.next("b")
    refs.next("c")  # evicts "a"
    assert len(refs) == 2
    assert refs.next("a") != a
