"""Hypothesis: for any text, method and encoding, split + reassemble == text and every part fits
(PROTOCOLS.md §2.3-2.4; python-smpplib#182, jsmpp#141, node-sms-pdu#4 are the bugs this guards)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.content import TextEncoding
from channels.smpp.concat import (
    SM_OCTETS,
    ConcatMethod,
    Reassembler,
    Segment,
    count_parts,
    parse_udh,
    split,
)
from channels.smpp.constants import EsmClass, Tag
from channels.smpp.encoding import (
    GSM_BASIC,
    GSM_EXTENSION,
    EncodedText,
    decode_text,
    encode_text,
    udh_fill_bits,
    unpack_septets,
)

GSM_ALPHABET = "".join(c for c in GSM_BASIC if c != "\x1b") + "".join(GSM_EXTENSION)
# GSM text weighted towards escapes, plus Cyrillic, CJK and astral emoji for UCS-2
_mixed_chars = st.one_of(
    st.sampled_from(GSM_ALPHABET),
    st.sampled_from("€[]{}\r"),
    st.sampled_from("жЖя退订中文"),
    st.sampled_from("😀🎉𝄞🇬🇧"),
    st.characters(codec="utf-8"),
)


def _texts(chars: st.SearchStrategy[str], longest: int) -> st.SearchStrategy[str]:
    """Texts whose length is drawn first, so long multi-part texts are as common as short ones."""
    return st.integers(0, longest).flatmap(lambda n: st.text(alphabet=chars, min_size=n, max_size=n))


mixed_text = _texts(_mixed_chars, 700)
gsm_text = _texts(st.sampled_from(GSM_ALPHABET + "€€€€[[["), 1200)
IA5_SENDABLE = "\t\n\r" + "".join(map(chr, range(0x20, 0x7F)))
methods = st.sampled_from(list(ConcatMethod))


def _reassemble(segments: list[Segment], data_coding: int, order: list[int], packed: bool) -> str:
    reassembler = Reassembler(packed=packed)
    results = [
        reassembler.feed(
            source="447700900123",
            destination="88",
            short_message=segments[i].short_message,
            esm_class=segments[i].esm_class,
            tlvs=segments[i].tlvs,
            data_coding=data_coding,
            now=float(n),
        )
        for n, i in enumerate(order)
    ]
    assert all(r is None for r in results[:-1])
    final = results[-1]
    assert final is not None
    assert final.parts == len(segments)
    assert len(reassembler) == 0
    return final.text


def _body_and_udh(segment: Segment) -> tuple[bytes, int]:
    body = segment.tlvs.get(Tag.MESSAGE_PAYLOAD) or segment.short_message
    if segment.esm_class & EsmClass.UDHI:
        udh = parse_udh(body)
        assert udh is not None
        return body[udh.length :], udh.length
    return body, 0


def _assert_fits(encoded: EncodedText, segments: list[Segment], method: ConcatMethod, packed: bool) -> None:
    multipart = len(segments) > 1
    for index, segment in enumerate(segments):
        body, udh_length = _body_and_udh(segment)
        if Tag.MESSAGE_PAYLOAD in segment.tlvs:  # the SMSC splits it
            assert method is ConcatMethod.PAYLOAD and segment.short_message == b"" and len(segments) == 1
            assert count_parts(encoded) > 1
            continue
        if method is ConcatMethod.SAR and multipart:
            udh_length = 6 if int.from_bytes(segment.tlvs[Tag.SAR_MSG_REF_NUM], "big") <= 0xFF else 7
            assert segment.tlvs[Tag.SAR_SEGMENT_SEQNUM] == bytes((index + 1,))
        if encoded.encoding in (TextEncoding.GSM7, TextEncoding.ASCII) and not packed:
            septets = len(body)
            if encoded.encoding is TextEncoding.ASCII:
                septets += sum(body.count(c.encode()) for c in "[]{}~|\\^\f")
            assert udh_length * 8 + septets * 7 <= SM_OCTETS * 8
        else:
            assert udh_length + len(body) <= SM_OCTETS
        if index < len(segments) - 1:
            if encoded.encoding is TextEncoding.GSM7:
                part = unpack_septets(body, udh_fill_bits(udh_length)) if packed else body
                assert (len(part) - len(part.rstrip(b"\x1b"))) % 2 == 0  # no lone escape at the end
            if encoded.encoding is TextEncoding.UCS2:
                assert not 0xD8 <= body[-2] <= 0xDB  # no high surrogate without its low half


def _check(
    text: str, encoding: TextEncoding | None, method: ConcatMethod, packed: bool, order: st.DataObject
) -> None:
    encoded = encode_text(text, encoding)
    packed = packed and encoded.encoding is TextEncoding.GSM7
    ref = 0x1234 if method in (ConcatMethod.UDH16, ConcatMethod.SAR) else 0x2A
    segments = split(encoded, method, ref=ref, packed=packed)
    _assert_fits(encoded, segments, method, packed)
    if method is not ConcatMethod.PAYLOAD:
        assert len(segments) == count_parts(encoded, method, ref=ref) or packed
    permutation = order.draw(st.permutations(list(range(len(segments)))))
    result = _reassemble(segments, encoded.data_coding, permutation, packed)
    if packed and text.endswith("\r"):
        assert result in (text, text + "\r")  # TS 23.038 §6.1.2.3.1: a final CR may come doubled
    else:
        assert result == text


@settings(max_examples=300, deadline=None)
@given(text=mixed_text, method=methods, order=st.data())
def test_any_text_auto_encoding_round_trips(text: str, method: ConcatMethod, order: st.DataObject) -> None:
    _check(text, None, method, False, order)


@settings(max_examples=300, deadline=None)
@given(text=gsm_text, method=methods, packed=st.booleans(), order=st.data())
def test_gsm_text_round_trips_and_never_splits_an_escape(
    text: str, method: ConcatMethod, packed: bool, order: st.DataObject
) -> None:
    _check(text, TextEncoding.GSM7, method, packed, order)


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=600))
def test_latin1_round_trips(text: str) -> None:
    for method in ConcatMethod:
        segments = split(encode_text(text, TextEncoding.LATIN1), method, ref=3)
        for segment in segments:
            assert len(segment.short_message) <= SM_OCTETS
        assert _reassemble(segments, 0x03, list(range(len(segments))), False) == text


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(IA5_SENDABLE), max_size=600), order=st.data())
def test_ascii_round_trips(text: str, order: st.DataObject) -> None:
    for method in ConcatMethod:
        _check(text, TextEncoding.ASCII, method, False, order)


@settings(max_examples=200, deadline=None)
@given(text=mixed_text)
def test_encode_decode_round_trip(text: str) -> None:
    encoded = encode_text(text)
    assert decode_text(encoded.data, encoded.data_coding) == text


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400), dcs=st.integers(0, 255))
def test_decode_never_raises(data: bytes, dcs: int) -> None:
    assert isinstance(decode_text(data, dcs), str)


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=160),
    esm=st.sampled_from([0, 0x40, 0x43]),
    dcs=st.sampled_from([0, 3, 4, 8]),
    sar=st.one_of(st.none(), st.tuples(st.binary(max_size=3), st.binary(max_size=2), st.binary(max_size=2))),
    packed=st.booleans(),
)
def test_reassembler_never_raises_on_peer_input(
    body: bytes, esm: int, dcs: int, sar: tuple[bytes, bytes, bytes] | None, packed: bool
) -> None:
    tlvs: dict[int, bytes] = {}
    if sar is not None:
        tlvs = {Tag.SAR_MSG_REF_NUM: sar[0], Tag.SAR_TOTAL_SEGMENTS: sar[1], Tag.SAR_SEGMENT_SEQNUM: sar[2]}
    reassembler = Reassembler(packed=packed)
    for now in (0.0, 1.0):
        reassembler.feed(
            source="a",
            destination="b",
            short_message=body,
            esm_class=esm,
            tlvs=tlvs,
            data_coding=dcs,
            now=now,
        )
