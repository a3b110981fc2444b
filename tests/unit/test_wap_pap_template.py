"""PAP push-message and push-response by template (channels.wap.pap's fast path) give exactly what the
writer and ElementTree give: same bytes written for any values, same document read, and anything the
learned shapes do not recognise (edited bytes, values with references) left to ElementTree. Hypothesis
draws values and one-byte edits; the tests assert which path ran."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.errors import RemoteProtocolError
from channels.mm7.template import is_plain
from channels.wap import pap
from channels.wap.pap import PushMessage, PushResponse, QualityOfService

values = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\ufffe\uffff"),
            max_size=20).filter(lambda s: all(c >= " " or c in "\t\n" for c in s)),
)
times = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _message(push_id: str, address: str, notify: str | None = None) -> PushMessage:
    return PushMessage(push_id=push_id, addresses=(address,), qos=QualityOfService(), notify_to=notify)


def _response(push_id: str, when: datetime) -> PushResponse:
    return PushResponse(push_id=push_id, code=1001, desc="The request has been accepted for processing",
                        sender_address="/pap", sender_name="PPG sim", reply_time=when)


def _same_reading(data: bytes) -> None:
    """``parse`` (learned shapes first) reads ``data`` as ElementTree does, or refuses it likewise."""
    try:
        general = pap.parse_tree(data)
    except RemoteProtocolError:
        fast = pap._read_learned(data)
        assert fast is None
        return
    assert pap.parse(data) == general


@pytest.fixture(autouse=True)
def _fresh_shapes() -> None:
    pap._LEARNED.clear()


@settings(max_examples=300, deadline=None)
@given(push_id=values, address=values, when=times, notify=st.one_of(st.none(), values))
def test_rendered_as_the_writer_writes_and_read_as_elementtree_reads(
    push_id: str, address: str, when: datetime, notify: str | None
) -> None:
    for doc in (_message(push_id, address, notify), _response(push_id, when)):
        data = pap.render(doc)
        assert data == pap._write(doc)
        _same_reading(data)


def test_a_shape_is_learned_from_a_parsed_document_then_read_without_elementtree() -> None:
    first = _message("p1@pi", "WAPPUSH=+1555/TYPE=PLMN@ppg")
    second = _message("p2@pi", "WAPPUSH=+1666/TYPE=PLMN@ppg")
    assert pap._read_learned(pap.render(first)) is None
    assert pap.parse(pap.render(first)) == first
    assert pap._read_learned(pap.render(second)) == second  # the learned shape read it
    odd = _message("p3&x", "WAPPUSH=+1777/TYPE=PLMN@ppg")
    assert pap._read_learned(pap.render(odd)) is None and pap.parse(pap.render(odd)) == odd
    rsp = _response("p1@pi", T0)
    pap.parse(pap.render(rsp))
    assert pap._read_learned(pap.render(_response("p9@pi", T0))) == _response("p9@pi", T0)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_edited_documents_are_read_as_elementtree_reads_them_or_left_to_it(data: st.DataObject) -> None:
    docs = [_message("push-1@telco", "WAPPUSH=+8613800000001/TYPE=PLMN@127.0.0.1"), _response("push-1@t", T0)]
    for doc in docs:
        pap.parse(pap.render(doc))  # learn both shapes
    raw = data.draw(st.sampled_from([pap.render(d) for d in docs]))
    at = data.draw(st.integers(0, len(raw) - 1))
    byte = data.draw(st.sampled_from(b" \r\n\t<>&'\"=/:-aZ0\xc3"))
    edited = data.draw(st.sampled_from([raw[:at] + bytes([byte]) + raw[at + 1 :],
                                        raw[:at] + bytes([byte]) + raw[at:], raw[:at] + raw[at + 1 :]]))
    _same_reading(edited)


@given(values, values)
def test_the_fast_path_takes_exactly_the_plain_values(push_id: str, address: str) -> None:
    pap._LEARNED.clear()
    pap.parse(pap.render(_message("a", "b")))
    data = pap.render(_message(push_id, address))
    expected = is_plain(push_id) and is_plain(address) and push_id != "" and address != ""
    assert (pap._read_learned(data) is not None) == expected


def test_an_unknown_encoding_is_a_protocol_error() -> None:
    data = pap.render(_response("x", T0)).replace(b'version="1.0"', b'version="1.0" encoding="TF-8"')
    with pytest.raises(RemoteProtocolError):
        pap.parse(data)
