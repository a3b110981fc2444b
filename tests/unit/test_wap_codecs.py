"""Golden bytes for SI/SL WBXML, the WSP push PDU and WDP segmentation (PROTOCOLS.md §5.2-5.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.content import WapPush, WapPushKind
from channels.errors import ContentRejected, RemoteProtocolError
from channels.wap import wsp
from channels.wap.push import decode_datagram, decode_short_message, encode_datagram, push_segments
from channels.wap.si import decode_date, decode_si, encode_date, encode_si, parse_si_xml, si_xml
from channels.wap.sl import decode_sl, encode_sl, parse_sl_xml, sl_xml
from channels.wap.wdp import Reassembler, parse_user_data, segment

FIXTURES = Path(__file__).parent.parent / "fixtures" / "wap"


def load_hex(name: str) -> bytes:
    lines = (FIXTURES / name).read_text().splitlines()
    return bytes.fromhex(" ".join(line for line in lines if not line.startswith("#")))


CAPTURE_SI = WapPush(
    href="http://www.xyz.com/email/123/abc.wml",
    text="You have 4 new emails",
    si_id="123@xyz.com",
    action="signal-high",
    created=datetime(2024, 1, 1, tzinfo=UTC),
    expires=datetime(2030, 1, 1, tzinfo=UTC),
)
PROMO_SI = WapPush(
    href="http://example.com/promo", text="Weekend offer", si_id="promo-1", action="signal-medium"
)
CAPTURE_SL = WapPush(href="http://example.com/app.jad", kind=WapPushKind.SL, action="execute-low")


def test_capture_si_short_message_byte_for_byte() -> None:
    pdu = load_hex("kannel_si_submit_sm.hex")
    assert len(pdu) == 166
    esm_class, data_coding, sm_length = pdu[38], pdu[61], pdu[63]
    assert (esm_class, data_coding, sm_length) == (0x43, 0x04, 102)
    short_message = pdu[64:]
    assert len(short_message) == sm_length
    assert push_segments(CAPTURE_SI, tid=0) == [short_message]


def test_capture_si_wbxml_and_wsp_header() -> None:
    wbxml = encode_si(CAPTURE_SI)
    assert len(wbxml) == 87
    assert wbxml[:6] == bytes.fromhex("02 05 6a 00 45 c6")
    assert encode_datagram(CAPTURE_SI)[:8] == bytes.fromhex("00 06 05 ae 8d d7 c3 93")


def test_promo_si_from_pap_request_byte_for_byte() -> None:
    assert push_segments(PROMO_SI, tid=0) == [load_hex("kannel_si_promo_sm.hex")]


def test_sl_byte_for_byte_with_tid_1() -> None:
    assert push_segments(CAPTURE_SL, tid=1) == [load_hex("kannel_sl_sm.hex")]
    assert encode_sl(CAPTURE_SL) == bytes.fromhex("02 06 6a 00 85 09 03") + b"example" + bytes.fromhex(
        "00 85 03"
    ) + b"app.jad" + bytes.fromhex("00 05 01")


def test_pap_request_si_xml_compiles_to_the_capture() -> None:
    body = (FIXTURES / "pap_push_request.txt").read_bytes()
    start = body.index(b"<?xml", body.index(b"text/vnd.wap.si"))
    xml = body[start : body.index(b"\n--pb42--")]
    assert parse_si_xml(xml) == PROMO_SI


def test_date_packing() -> None:
    assert encode_date(datetime(2024, 1, 1, tzinfo=UTC)) == bytes.fromhex("20 24 01 01")
    assert encode_date(datetime(2024, 3, 5, 10, 30, tzinfo=UTC)) == bytes.fromhex("20 24 03 05 10 30")
    cet = timezone(timedelta(hours=1))
    assert encode_date(datetime(2024, 1, 1, 1, 0, 0, tzinfo=cet)) == bytes.fromhex("20 24 01 01")
    assert decode_date(bytes.fromhex("20 30 01 01")) == datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(RemoteProtocolError, match="not a date"):
        decode_date(bytes.fromhex("20 24 13 01"))


def test_decode_capture_back_to_the_push() -> None:
    pdu = load_hex("kannel_si_submit_sm.hex")
    decoded = decode_short_message(pdu[-102:])
    assert decoded is not None
    assert decoded.content_type == "application/vnd.wap.sic"
    assert decoded.push == CAPTURE_SI
    sl = decode_short_message(load_hex("kannel_sl_sm.hex"))
    assert sl is not None and sl.tid == 1 and sl.push == CAPTURE_SL


def test_chinese_text_survives_utf8() -> None:
    push = WapPush(href="https://www.example.org/活动", text="周末优惠：点击领取")
    wbxml = encode_si(push)
    assert "周末优惠".encode() in wbxml
    assert b"\x0f\x03example\x00\x88" in wbxml  # https://www. + "example" + .org/
    assert decode_si(wbxml) == push


def test_si_without_text_has_no_content_flag() -> None:
    wbxml = encode_si(WapPush(href="http://a.net/x"))
    expected = bytes.fromhex("02 05 6a 00 45 86 0c 03") + b"a" + bytes.fromhex("00 87 03") + b"x"
    assert wbxml == expected + b"\x00\x01\x01"


def test_every_url_token_occurrence_is_tokenised() -> None:
    wbxml = encode_si(WapPush(href="http://a.com/b.org/", text="t"))
    assert bytes.fromhex("0c 03 61 00 85 03 62 00 88") in wbxml
    assert decode_si(wbxml).href == "http://a.com/b.org/"


def test_invalid_actions_are_rejected_naming_the_field() -> None:
    with pytest.raises(ContentRejected, match="action"):
        encode_si(WapPush(href="http://x", action="execute-high"))
    with pytest.raises(ContentRejected, match="action"):
        encode_sl(WapPush(href="http://x", kind=WapPushKind.SL, action="signal-high"))
    with pytest.raises(ContentRejected, match="href"):
        encode_sl(WapPush(href="", kind=WapPushKind.SL))


def test_xml_round_trip() -> None:
    assert parse_si_xml(si_xml(CAPTURE_SI)) == CAPTURE_SI
    odd = WapPush(href='http://x.com/?a=1&b="2"', text="<b> & 中文")
    assert parse_si_xml(si_xml(odd)) == odd
    assert parse_sl_xml(sl_xml(CAPTURE_SL)) == CAPTURE_SL
    assert decode_sl(encode_sl(CAPTURE_SL)) == CAPTURE_SL
    with pytest.raises(ContentRejected, match="malformed XML"):
        parse_si_xml(b"<si><indication")


def test_wsp_application_id_and_long_content_length() -> None:
    pdu = wsp.encode_push(b"x" * 243, "application/vnd.wap.mms-message", tid=7, application_id="mms.ua")
    assert pdu[:10] == bytes.fromhex("07 06 08 be af 84 8d 01 f3 c3")
    decoded = wsp.decode_push(pdu)
    assert decoded.application_id == "mms.ua"
    assert decoded.headers["Content-Length"] == 243
    assert decoded.body == b"x" * 243
    text_type = wsp.encode_push(b"", "application/x-custom", application_id="x-acme:thing.ua")
    assert wsp.decode_push(text_type).content_type == "application/x-custom"
    assert wsp.decode_push(text_type).application_id == "x-acme:thing.ua"


def test_uintvar() -> None:
    assert wsp.encode_uintvar(0) == b"\x00"
    assert wsp.encode_uintvar(0x7F) == b"\x7f"
    assert wsp.encode_uintvar(0x80) == b"\x81\x00"
    assert wsp.decode_uintvar(b"\x83\xff\x7f", 0) == (0xFFFF, 3)


def long_si() -> WapPush:
    # Built to the shape of the §5.5 capture: https:// + .org/, 243 octets of WBXML.
    text = "Your monthly statement is ready. " * 5
    push = WapPush(href="https://example.org/statements/2024/01/index.html", text=text, si_id="stmt-1")
    size = len(encode_si(push))
    return WapPush(href=push.href, text=text + "x" * (243 - size), si_id="stmt-1")


def test_long_si_two_segments_like_kannel() -> None:
    push = long_si()
    assert len(encode_si(push)) == 243
    first, second = push_segments(push, tid=0, ref=0)
    assert len(first) == 140 and len(second) == 136
    assert first[:12] == bytes.fromhex("0b 05 04 0b 84 23 f0 00 03 00 02 01")
    assert second[:12] == bytes.fromhex("0b 05 04 0b 84 23 f0 00 03 00 02 02")
    assert first[12:21] == bytes.fromhex("00 06 06 ae 8d 01 f3 c3 93")
    assert b"\x0e\x03example\x00\x88" in first  # https:// + "example" + .org/
    reassembler = Reassembler()
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert reassembler.feed("k", parse_user_data(second), now) is None
    datagram = reassembler.feed("k", parse_user_data(first), now)
    assert datagram is not None and reassembler.pending == 0
    assert decode_datagram(datagram).push == push


def test_segment_limits_and_expiry() -> None:
    with pytest.raises(ContentRejected, match="max_segments"):
        segment(b"x" * 1000, ref=1, max_segments=3)
    parts = segment(b"y" * 300, ref=9)
    assert [parse_user_data(p).seq for p in parts] == [1, 2, 3]
    reassembler = Reassembler(ttl=timedelta(seconds=10))
    now = datetime(2024, 1, 1, tzinfo=UTC)
    reassembler.feed(("a", "b"), parse_user_data(parts[0]), now)
    assert reassembler.expire(now + timedelta(seconds=5)) == 0
    assert reassembler.expire(now + timedelta(seconds=11)) == 1


@pytest.mark.parametrize(
    "data",
    [b"", b"\x09\x05\x04", b"\x05\x00\x03\x01\x02\x03", b"\x05\x00\x03\x01\x00\x00"],
)
def test_malformed_udh_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_user_data(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes.fromhex("02 05 6a"),
        bytes.fromhex("02 07 6a 00 45 01"),  # unknown public id
        bytes.fromhex("02 05 6a 00 45 c6 0c 03 61"),  # unterminated string
        bytes.fromhex("02 05 6a 00 45 c6 3f"),  # unknown attribute
        bytes.fromhex("02 05 6a 00 45 c6 0a c3 09 20"),  # opaque overruns
    ],
)
def test_malformed_wbxml_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_si(data)


def test_malformed_wsp_is_a_protocol_error() -> None:
    with pytest.raises(RemoteProtocolError, match="not Push"):
        wsp.decode_push(b"\x00\x40\x00")
    with pytest.raises(RemoteProtocolError, match="overrun"):
        wsp.decode_push(b"\x00\x06\x09\xae")


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80)


@settings(max_examples=200, deadline=None)
@given(
    href=_text.map(lambda s: "http://" + s),
    text=st.one_of(st.none(), _text.map(lambda s: s.strip() or "t")),
    si_id=st.one_of(st.none(), _text),
    action=st.sampled_from([None, "signal-none", "signal-low", "signal-medium", "signal-high"]),
)
def test_si_round_trip_property(href: str, text: str | None, si_id: str | None, action: str | None) -> None:
    push = WapPush(href=href, text=text, si_id=si_id, action=action)
    assert decode_si(encode_si(push)) == push


@settings(max_examples=150, deadline=None)
@given(datagram=st.binary(max_size=1200), ref=st.integers(0, 255), seed=st.randoms(use_true_random=False))
def test_segmentation_reassembles_in_any_order(datagram: bytes, ref: int, seed: Any) -> None:
    parts = segment(datagram, ref=ref, max_segments=255)
    assert all(len(p) <= 140 for p in parts)
    seed.shuffle(parts)
    reassembler = Reassembler()
    now = datetime(2024, 1, 1, tzinfo=UTC)
    results = [reassembler.feed("k", parse_user_data(p), now) for p in parts]
    assert [r for r in results if r is not None] == [datagram]
    assert all(parse_user_data(p).is_wap_push for p in parts)


@settings(max_examples=100, deadline=None)
@given(
    body=st.binary(max_size=400),
    tid=st.integers(0, 255),
    app=st.one_of(st.none(), st.sampled_from(["mms.ua", "wml.ua", "x-acme:push.ua"]), st.integers(0, 0xFFFF)),
)
def test_wsp_push_round_trip(body: bytes, tid: int, app: str | int | None) -> None:
    pdu = wsp.decode_push(wsp.encode_push(body, "application/vnd.wap.sic", tid=tid, application_id=app))
    assert (pdu.tid, pdu.content_type, pdu.body) == (tid, "application/vnd.wap.sic", body)
    assert pdu.headers["Content-Length"] == len(body)
    if isinstance(app, str):
        assert pdu.application_id == app
    elif app is not None:
        assert pdu.headers["X-Wap-Application-Id"] == app
