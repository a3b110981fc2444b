"""The MM7 templates (channels.mm7.template) give exactly what the writer and ElementTree give.

Writing: a templated document is byte for byte what the writer writes, for any values (a value the
template cannot take is written by the writer). Reading: whatever a template reads, ElementTree reads
the same; what it does not recognise (other shapes, edited bytes, values with references) it leaves to
ElementTree. Hypothesis draws the values and the edits; each test also asserts which path ran, so a
fast path that silently stopped taking anything would fail here.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from channels import ChannelKind, Message, Mms, Slide
from channels.mm7 import messages
from channels.mm7.config import config_from_url
from channels.mm7.envelope import Address, AddressKind, Mm7FormatError
from channels.mm7.messages import (
    DeliveryReportRsp,
    Status,
    SubmitReq,
    SubmitRsp,
    decode,
    decode_tree,
    encode,
    shape_key,
    submit_shape,
)
from channels.mm7.mime import crlf
from channels.mm7.profiles import PROFILES, Mm7Profile
from channels.mm7.request import _SHAPES, open_request
from channels.mm7.submit import SubmitTemplate, encode_submit, prepare_content, render_content, submit_req
from channels.mm7.template import Template, is_plain, marker

PROFILE_LIST = sorted(PROFILES.values(), key=lambda p: p.release)
profiles = st.sampled_from(PROFILE_LIST)
plain = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
anything = st.one_of(plain, st.text(max_size=30).filter(lambda s: "\r" not in s and "\x00" not in s))
xml_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\ufffe\uffff"), max_size=20
).filter(lambda s: all(c >= " " or c in "\t\n" for c in s))
times = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def _edits(data: bytes) -> st.SearchStrategy[bytes]:
    """``data`` with one byte replaced, inserted or deleted somewhere."""
    at = st.integers(0, len(data) - 1)
    byte = st.sampled_from(b" \r\n\t<>&'\"=/:-aZ0\xc3")
    return st.one_of(
        st.builds(lambda i, b: data[:i] + bytes([b]) + data[i + 1 :], at, byte),
        st.builds(lambda i, b: data[:i] + bytes([b]) + data[i:], at, byte),
        st.builds(lambda i: data[:i] + data[i + 1 :], at),
    )


def _same_reading(fast: object, xml: bytes) -> None:
    """``fast`` (a template's reading of ``xml``, or None) is what ElementTree reads, if anything."""
    try:
        general: object = decode_tree(xml)
    except Mm7FormatError:
        assert fast is None
        return
    assert fast is None or fast == general


# -- Template ---------------------------------------------------------------------------------------


def test_cut_fill_match_round_trip() -> None:
    t = Template.cut(b"<a x='M0'>M1</a><b>M0</b>", [b"M0", b"M1"], {0: 2})
    assert t is not None
    assert t.fill(("v", "w w")) == b"<a x='v'>w w</a><b>v</b>"
    assert t.match(b"<a x='v'>w w</a><b>v</b>") == ("v", "w w")
    assert t.match(b"<a x='v'>w w</a><b>u</b>") is None  # one value, two holes: must agree
    assert t.match(b"<a x='v'>w&amp;</a><b>v</b>") is None  # a reference is not plain
    assert t.fill(("a&b", "w")) is None and t.fill(("é", "w")) is None


def test_cut_refuses_a_marker_seen_another_number_of_times() -> None:
    assert Template.cut(b"M0 M1 M1", [b"M0", b"M1"]) is None
    assert Template.cut(b"M0", [b"M0", b"M1"]) is None
    assert Template.cut(b"M0 M0", [b"M0"], {0: 2}) is not None


@settings(deadline=None)
@given(anything)
def test_plain_is_what_the_writer_leaves_alone(value: str) -> None:
    from xml.sax.saxutils import escape, quoteattr

    if is_plain(value):
        assert escape(value) == value and quoteattr(value) == f'"{value}"' and value.isascii()


# -- answers: encode / decode -------------------------------------------------------------------------


def _answers(message_id: str) -> list[SubmitRsp | DeliveryReportRsp]:
    return [SubmitRsp(status=Status.of(1000), message_id=message_id), DeliveryReportRsp(status=Status.of())]


@pytest.mark.parametrize("profile", PROFILE_LIST, ids=lambda p: p.release)
def test_success_answers_take_the_template_both_ways(profile: Mm7Profile) -> None:
    for doc in _answers("MM0000000001"):
        xml = encode(doc, profile, "tid-1")
        assert xml == messages._write(doc, profile, "tid-1")
        assert messages._read_answer(xml) is not None  # the fast path ran
        assert decode(xml) == decode_tree(xml)
        assert decode(xml).doc == doc and decode(xml).namespace == profile.namespace


@settings(max_examples=300, deadline=None)
@given(profile=profiles, release=st.one_of(st.none(), plain), version=anything, tid=anything, mid=anything)
@example(profile=PROFILE_LIST[0], release=None, version=" 5.3.0 ", tid=" t ", mid=" MM1 ")
@example(profile=PROFILE_LIST[0], release=None, version="5.3.0", tid="a&b", mid="x<y")
def test_answers_written_and_read_as_writer_and_elementtree_do(
    profile: Mm7Profile, release: str | None, version: str, tid: str, mid: str
) -> None:
    profile = replace(profile, release=release if release is not None else profile.release, version=version)
    for doc in _answers(mid):
        xml = encode(doc, profile, tid)
        assert xml == messages._write(doc, profile, tid)
        fast = messages._read_answer(xml)
        values = (version, tid, *([mid] if isinstance(doc, SubmitRsp) else []))
        release_ok = re.fullmatch(r"[0-9A-Za-z._-]*", profile.release) is not None
        assert (fast is not None) == (release_ok and all(is_plain(v) for v in values))
        _same_reading(fast, xml)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), profiles)
def test_edited_answers_are_read_as_elementtree_reads_them_or_left_to_it(
    data: st.DataObject, profile: Mm7Profile
) -> None:
    xml = data.draw(st.sampled_from([encode(d, profile, "tid-7") for d in _answers("MM00A1")]))
    edited = data.draw(_edits(xml))
    _same_reading(messages._read_answer(edited), edited)


def test_other_answers_take_the_general_path() -> None:
    profile = PROFILE_LIST[0]
    for doc in (SubmitRsp(status=Status.of(2007, "bad")), SubmitRsp(status=Status.of(1000))):
        xml = encode(doc, profile, "t")
        assert messages._read_answer(xml) is None and decode(xml).doc == doc


# -- SubmitReq: the client's template and the MMSC's learned shapes ----------------------------------


def _message(to: str, sender: str | None, receipt: bool, subject: str, n: int = 1) -> Message:
    mms = Mms(subject=subject, slides=(Slide(text="20% off everything"),))
    return Message(to=to, kind=ChannelKind.MMS, content=mms, id=f"m{n}", sender=sender, want_receipt=receipt)


def _config(profile: Mm7Profile):  # type: ignore[no-untyped-def]
    return config_from_url(f"mm7+http://u:p@127.0.0.1:1/mm7?profile={profile.release}&vaspid=v1&vasid=s1"
                           "&service_code=c1")


ADDRESSES = st.one_of(
    st.from_regex(r"\+?[0-9]{5,15}", fullmatch=True),
    st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.com", fullmatch=True),
    anything.filter(lambda s: s.strip() != ""),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=profiles, to=ADDRESSES, other=ADDRESSES, sender=st.one_of(st.none(), ADDRESSES),
       receipt=st.booleans(), subject=xml_text, tid=anything, when=times, later=times)
def test_client_template_writes_what_encode_submit_writes(
    profile: Mm7Profile, to: str, other: str, sender: str | None, receipt: bool, subject: str, tid: str,
    when: datetime, later: datetime,
) -> None:
    config = _config(profile)
    first, second = _message(to, sender, receipt, subject), _message(other, sender, receipt, subject, 2)
    assume(Address.guess(to).kind == Address.guess(other).kind)
    content = render_content(prepare_content(first.content, config.size_limit), config,  # type: ignore[arg-type]
                             itertools.repeat("inner-b").__next__)
    outer = itertools.repeat("outer-b").__next__
    template = SubmitTemplate.of(submit_req(first, config, when), content, config, outer)
    assert template is not None
    request = template.request(tid, Address.guess(other).value, later)
    expected = encode_submit(submit_req(second, config, later), content, config, tid, outer)
    assert request is None or request == expected
    assert (request is not None) == (is_plain(tid) and is_plain(Address.guess(other).value)
                                     and "outer-b" not in other + tid)


def test_a_fresh_boundary_per_request_gets_no_template() -> None:
    config = _config(PROFILE_LIST[0])
    msg = _message("+8613800000001", None, False, "s")
    content = render_content(prepare_content(msg.content, config.size_limit), config)  # type: ignore[arg-type]
    assert SubmitTemplate.of(submit_req(msg, config, datetime.now(UTC)), content, config,
                             messages_boundary()) is None


def messages_boundary():  # type: ignore[no-untyped-def]
    counter = itertools.count()
    return lambda: f"b{next(counter)}"


def _submit(profile: Mm7Profile, to: Address, when: datetime | None, subject: str = "Sale") -> SubmitReq:
    return SubmitReq(vaspid="v1", vasid="s1", sender=Address("54321", AddressKind.SHORT_CODE), to=(to,),
                     service_code="c1", timestamp=when, delivery_report=False, subject=subject,
                     content_href="cid:mm" if profile.content_href else None)


def _learned(profile: Mm7Profile, req: SubmitReq):  # type: ignore[no-untyped-def]
    shape = submit_shape(shape_key(req), profile, crlf)
    assert shape is not None
    return shape


def _read_as_elementtree_reads(shape, xml: bytes) -> bool | None:  # type: ignore[no-untyped-def]
    """The shape's reading of ``xml`` agrees with ElementTree's (same transaction id and document) or
    leaves it to the general reader; None where ElementTree refuses the bytes (the shape must too),
    else whether the shape took them."""
    read = shape.read(xml)
    try:
        general = decode_tree(xml)
    except Mm7FormatError:
        assert read is None
        return None
    assert read is None or (read[0], read[1]) == (general.transaction_id, general.doc)
    return read is not None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=profiles, subject=xml_text, to=anything, tid=anything, when=times,
       offset=st.sampled_from([None, timezone(timedelta(hours=3))]))
def test_a_learned_shape_reads_requests_as_elementtree_does(
    profile: Mm7Profile, subject: str, to: str, tid: str, when: datetime, offset: timezone | None
) -> None:
    first = _submit(profile, Address("+1555000"), datetime(2026, 1, 1, tzinfo=UTC), subject)
    shape = _learned(profile, first)
    other = _submit(profile, Address(to), when, subject)
    xml = crlf(encode(other, profile, tid))
    if offset is not None:  # another way to write a time: a hole's text, parsed as ElementTree's is
        xml = xml.replace(b"Z</TimeStamp>", b"+03:00</TimeStamp>")
    taken = _read_as_elementtree_reads(shape, xml)
    if taken is not None:
        assert taken == (is_plain(to) and is_plain(tid) and bool(to.strip()))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), profiles)
def test_edited_requests_are_read_as_elementtree_reads_them_or_left_to_it(
    data: st.DataObject, profile: Mm7Profile
) -> None:
    req = _submit(profile, Address("+8613800000001"), datetime(2026, 1, 1, 12, tzinfo=UTC))
    shape = _learned(profile, req)
    edited = data.draw(_edits(crlf(encode(req, profile, "abc-12"))))
    _read_as_elementtree_reads(shape, edited)


def test_open_request_learns_a_shape_from_a_request_it_read_the_general_way() -> None:
    profile = PROFILES["REL-6-MM7-1-4"]
    config = _config(profile)
    msg = _message("+8613800000001", None, False, "learn me")
    content = render_content(prepare_content(msg.content, config.size_limit), config,  # type: ignore[arg-type]
                             itertools.repeat("inner-l").__next__)

    def request(to: str, tid: str) -> tuple[str, bytes]:
        r = encode_submit(submit_req(_message(to, None, False, "learn me"), config, datetime.now(UTC)),
                          content, config, tid, itertools.repeat("outer-l").__next__)
        return r.content_type, r.body

    _SHAPES.clear()
    first = open_request(*request("+8613800000001", "t1"))
    assert first.raw is not None and first.doc is None  # read by ElementTree
    general = first.decode()
    assert len(_SHAPES) == 1
    second = open_request(*request("+8613800000002", "t2"))
    assert second.doc is not None and second.raw is None  # read by the learned shape
    decoded = second.decode()
    assert decoded.transaction_id == "t2" and decoded.doc.to == (Address("+8613800000002"),)  # type: ignore[union-attr]
    assert replace(decoded, transaction_id="t1", doc=replace(decoded.doc, to=general.doc.to,  # type: ignore[type-var]
                   timestamp=general.doc.timestamp)) == general  # type: ignore[union-attr]
    odd = request("+86 138 & co", "t3")  # not plain: ElementTree reads it
    assert open_request(*odd).raw is not None


def test_a_peer_writing_another_way_teaches_nothing() -> None:
    profile = PROFILES["REL-6-MM7-1-4"]
    xml = crlf(encode(_submit(profile, Address("+1"), datetime(2026, 1, 1, tzinfo=UTC)), profile, "t"))
    odd = xml.replace(b"<MM7Version>6.8.0</MM7Version>", b"<MM7Version> 6.8.0 </MM7Version>")
    _SHAPES.clear()
    open_request("text/xml", odd).decode()
    assert not _SHAPES
    open_request("text/xml", xml).decode()
    assert len(_SHAPES) == 1
    _SHAPES.clear()


def test_the_marker_is_never_a_value() -> None:
    assert not is_plain(marker(0))


def test_an_unknown_encoding_is_a_format_error_not_a_crash() -> None:
    xml = encode(SubmitRsp(status=Status.of(1000), message_id="MM1"), PROFILE_LIST[0], "t")
    with pytest.raises(Mm7FormatError):
        decode(xml.replace(b'encoding="UTF-8"', b'encoding="TF-8"'))  # found by the edits above
