"""MM7 codec, pure: other writers' envelopes, MIME byte-exactness, SMIL, Mms → MM and its checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.content import MediaPart, Mms, Slide
from channels.errors import RemoteProtocolError
from channels.mm7.envelope import Address, AddressKind, Mm7FormatError, parse_expiry, read_envelope
from channels.mm7.messages import (
    DeliverReq,
    DeliveryReportReq,
    Status,
    SubmitReq,
    SubmitRsp,
    decode,
    decode_body,
    encode,
)
from channels.mm7.mime import MmContent, Part, encode_soap, split_soap
from channels.mm7.mm import build_mm, content_problems, media_parts, mm_text
from channels.mm7.profiles import REL_6_MM7_1_0, REL_6_MM7_1_4, get_profile, profile_for_namespace
from channels.mm7.smil import SlideRefs, build_smil, smil_references

FOREIGN = Path(__file__).resolve().parent.parent / "fixtures" / "mm7" / "foreign"
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


def _http(name: str) -> tuple[str, bytes]:
    head, body = (FOREIGN / name).read_bytes().split(b"\r\n\r\n", 1)
    return head.decode().removeprefix("Content-Type: "), body


# -- other writers -------------------------------------------------------------------------------


def test_protocols_example_submit_req_with_envelope_level_default_namespace() -> None:
    soap = split_soap(*_http("protocols_example.http"))
    decoded = decode(soap.envelope)
    assert decoded.transaction_id == "tc-000042"
    assert decoded.version == "6.8.0"
    req = decoded.doc
    assert isinstance(req, SubmitReq)
    assert (req.vaspid, req.vasid, req.service_code) == ("vasp01", "svc9", "promo-01")
    assert req.subject == "Spring sale"
    assert req.sender == Address("54321", AddressKind.SHORT_CODE)
    assert req.to == (Address("447700900123"),)
    content = soap.content(req.content_href)
    assert content is not None and content.start == "smil"
    assert [p.content_id for p in content.parts] == ["smil", "txt1", "img1"]
    assert content.parts[2].data == JPEG
    assert content.parts[1].data == b"20% off this weekend."
    assert content_problems(content) == []


def test_prefixed_namespace_submit_rsp() -> None:
    decoded = decode((FOREIGN / "prefixed_submit_rsp.xml").read_bytes())
    assert isinstance(decoded.doc, SubmitRsp)
    assert decoded.doc.message_id == "041502073667"
    assert decoded.doc.status.code == 1000
    profile = profile_for_namespace(decoded.namespace, decoded.version)
    assert profile is not None and profile.release == "REL-5-MM7-1-2"


def test_unqualified_body_report_namespace_from_header() -> None:
    decoded = decode((FOREIGN / "unqualified_report.xml").read_bytes())
    assert decoded.namespace.endswith("REL-5-MM7-1-0")
    assert isinstance(decoded.doc, DeliveryReportReq)
    assert decoded.doc.mm_status == "retrieved"
    assert decoded.doc.date == datetime(2026, 1, 5, 10, 0, 5, tzinfo=UTC)


def test_cmcc_deliver_bare_sender_no_href_gb2312_text_byte_exact() -> None:
    soap = split_soap(*_http("cmcc_deliver.http"))
    req = decode(soap.envelope).doc
    assert isinstance(req, DeliverReq)
    assert req.sender == Address("8613800138000")
    assert req.to == (Address("10658000", AddressKind.SHORT_CODE),)
    content = soap.content(req.content_href)  # no href: the first non-SOAP part
    assert content is not None
    assert content.parts[0].data == "退订".encode("gb2312")
    assert mm_text(content) == "退订"


# -- malformed input: clear errors naming the field ----------------------------------------------


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        (b"<not-xml", "not well-formed"),
        (b"<a/>", "not Envelope"),
        (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>', "Body"),
    ],
)
def test_read_envelope_rejects_with_2007(xml: bytes, words: str) -> None:
    with pytest.raises(Mm7FormatError, match=words) as info:
        read_envelope(xml)
    assert info.value.status == 2007
    assert isinstance(info.value, RemoteProtocolError)


def test_unsupported_operation_is_4003_and_missing_element_names_it() -> None:
    env = encode(SubmitRsp(status=Status.of(), message_id="m1"), REL_6_MM7_1_4, "t1")
    cancel = env.replace(b"SubmitRsp", b"CancelReq")
    with pytest.raises(Mm7FormatError) as info:
        decode(cancel)
    assert info.value.status == 4003
    report = (FOREIGN.parent / "REL-6-MM7-1-4" / "DeliveryReportReq.xml").read_bytes()
    no_id = report.replace(b"<MessageID>MM0000000001</MessageID>", b"")
    with pytest.raises(Mm7FormatError, match="required element MessageID"):
        decode_body(read_envelope(no_id))


def test_bad_status_code_and_time_are_named() -> None:
    xml = (FOREIGN / "prefixed_submit_rsp.xml").read_bytes()
    with pytest.raises(Mm7FormatError, match="StatusCode"):
        decode(xml.replace(b">1000<", b">ok<"))
    for digits in ("１０００", "1²"):  # digits to str.isdigit, not to int() or to MM7
        with pytest.raises(Mm7FormatError, match="StatusCode"):
            decode(xml.replace(b">1000<", f">{digits}<".encode()))
    report = (FOREIGN / "unqualified_report.xml").read_bytes()
    with pytest.raises(Mm7FormatError, match="Date"):
        decode(report.replace(b"2026-01-05T10:00:05+00:00", b"yesterday"))


def test_split_soap_rejects_other_content_types_and_missing_boundary() -> None:
    with pytest.raises(Mm7FormatError, match="Content-Type"):
        split_soap("application/json", b"{}")
    with pytest.raises(Mm7FormatError, match="boundary"):
        split_soap('multipart/related; boundary="zz"', b"no parts here")
    soap = split_soap(*_http("protocols_example.http"))
    with pytest.raises(Mm7FormatError, match="does not resolve"):
        soap.content("cid:nope")


def test_expiry_accepts_relative_durations() -> None:
    assert parse_expiry("P2D", "ExpiryDate") == timedelta(days=2)
    assert parse_expiry("PT1H30M", "ExpiryDate") == timedelta(hours=1, minutes=30)
    assert parse_expiry("2026-01-07T18:00:00+08:00", "ExpiryDate") == datetime(2026, 1, 7, 10, tzinfo=UTC)
    with pytest.raises(Mm7FormatError, match="ExpiryDate"):
        parse_expiry("soon", "ExpiryDate")


# -- MIME: bytes survive exactly -----------------------------------------------------------------

_TYPES = st.sampled_from(["text/plain; charset=utf-8", "text/plain; charset=gb2312", "image/jpeg",
                          "audio/amr", "application/smil"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_TYPES, st.binary(max_size=300)), min_size=1, max_size=4),
       st.text(max_size=40))
def test_any_part_bytes_and_subject_round_trip_exactly(parts: list[tuple[str, bytes]], subject: str) -> None:
    subject = "".join(c for c in subject if c.isprintable() and c not in "\r")  # XML 1.0 chars
    content = MmContent(parts=tuple(Part(t, d, f"p{i}", f"p{i}.bin") for i, (t, d) in enumerate(parts)))
    req = SubmitReq(to=(Address("8613800138000"),), subject=subject, content_href="cid:mm")
    ctype, body = encode_soap(encode(req, REL_6_MM7_1_4, "t"), content)
    soap = split_soap(ctype, body)
    back = decode(soap.envelope).doc
    assert isinstance(back, SubmitReq) and back.subject == subject
    got = soap.content("cid:mm")
    assert got is not None and got.parts == content.parts


def test_chinese_subject_and_text_part_survive_byte_exact() -> None:
    text = "新年快乐！\n第二行\r\n第三行".encode()  # mixed line ends: must travel base64, not be rewritten
    content = MmContent(parts=(Part("text/plain; charset=utf-8", text, "t1"),))
    req = SubmitReq(to=(Address("8613800138000"),), subject="春节 ☃ 祝福", content_href="cid:mm")
    ctype, body = encode_soap(encode(req, REL_6_MM7_1_0, "t"), content, brackets=False)
    assert b"Content-Transfer-Encoding: base64" in body
    soap = split_soap(ctype, body)
    assert decode(soap.envelope).doc == req
    got = soap.content("cid:mm")
    assert got is not None and got.parts[0].data == text


# -- SMIL and Mms → MM -----------------------------------------------------------------------------


def test_smil_from_slides_references_every_part_and_durations() -> None:
    smil = build_smil([SlideRefs(8, text="cid:t1", image="cid:i1"), SlideRefs(2.5, audio="cid:a2")])
    assert smil_references(smil) == ["cid:i1", "cid:t1", "cid:a2"]
    assert '<par dur="8s">' in smil and '<par dur="2500ms">' in smil
    assert 'region id="Image"' in smil and 'region id="Text"' in smil


def test_build_mm_from_slides() -> None:
    mms = Mms(subject="s", slides=(
        Slide(text="你好", image=MediaPart(content_type="image/jpeg", data=JPEG)),
        Slide(audio=MediaPart(content_type="audio/amr", data=b"#!AMR\n", content_id="tune")),
    ))
    mm = build_mm(mms)
    assert [p.content_id for p in mm.parts] == ["smil", "image1", "text1", "tune"]
    assert mm.start == "smil"
    assert content_problems(mm) == []
    assert mm_text(mm) == "你好"
    types = [m.content_type for m in media_parts(mm)]
    assert types == ["image/jpeg", "text/plain; charset=utf-8", "audio/amr"]


def test_build_mm_refuses_bad_combinations_naming_the_field() -> None:
    with pytest.raises(ValueError, match="slides or smil"):
        build_mm(Mms(slides=(Slide(text="a"),), smil="<smil/>"))
    with pytest.raises(ValueError, match="no content"):
        build_mm(Mms(subject="empty"))


def test_content_problems_unresolved_smil_ref_unknown_type_and_size() -> None:
    smil = '<smil><body><par dur="5s"><img src="cid:missing"/><text src="t.txt"/></par></body></smil>'
    mms = Mms(smil=smil, parts=(
        MediaPart(content_type="text/plain", data=b"x" * 200, name="t.txt"),
        MediaPart(content_type="application/x-msdownload", data=b"MZ", name="evil.exe"),
    ))
    problems = content_problems(build_mm(mms), max_size=100)
    assert [p.status for p in problems] == [2004, 2004, 2007]
    assert "application/x-msdownload" in problems[0].message
    assert "exceeds the limit of 100" in problems[1].message
    assert "cid:missing" in problems[2].message


def test_profiles_by_name_and_alias() -> None:
    assert get_profile("cmcc") is REL_6_MM7_1_0
    assert get_profile(None) is REL_6_MM7_1_4
    assert get_profile("rel-5-mm7-1-0").version == "5.3.0"
    with pytest.raises(ValueError, match="profile"):
        get_profile("REL-9")
    assert profile_for_namespace("urn:other") is None
    assert profile_for_namespace(REL_6_MM7_1_4.namespace.replace("1-4", "1-9")) is None
