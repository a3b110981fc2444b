"""The MMSC's learned whole-body shapes (channels.mm7.request._BODIES): a SubmitReq body that fills one
in is read without the MIME reader, and reads exactly as the MIME reader and ElementTree read it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels import ChannelKind, Message, Mms, Slide
from channels.mm7 import request as mm7_request
from channels.mm7.config import config_from_url
from channels.mm7.envelope import Address
from channels.mm7.messages import decode
from channels.mm7.mime import split_soap
from channels.mm7.request import _BODIES, _BODY_TRIED, _SHAPES, Request, open_request
from channels.mm7.submit import encode_submit, prepare_content, render_content, submit_req

CONFIG = config_from_url(
    "mm7+http://u:p@127.0.0.1:1/mm7?profile=REL-6-MM7-1-4&vaspid=v1&vasid=s1&service_code=c1"
)
MMS = Mms(subject="Sale", slides=(Slide(text="20% off everything"),))
CONTENT = render_content(
    prepare_content(MMS, CONFIG.size_limit), CONFIG, itertools.repeat("inner-h").__next__
)
WHEN = datetime(2026, 11, 23, 20, 0, 0, tzinfo=UTC)


def body(to: str, tid: str, outer: str = "outer-h", when: datetime = WHEN) -> tuple[str, bytes]:
    message = Message(to=to, kind=ChannelKind.MMS, content=MMS, want_receipt=False)
    boundary = itertools.repeat(outer).__next__
    r = encode_submit(submit_req(message, CONFIG, when), CONTENT, CONFIG, tid, boundary)
    return r.content_type, r.body


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    for learned in (_SHAPES, _BODIES, _BODY_TRIED):
        learned.clear()
    yield
    for learned in (_SHAPES, _BODIES, _BODY_TRIED):
        learned.clear()


def general(content_type: str, data: bytes) -> tuple[bytes, tuple[object, ...], str, object]:
    """What the MIME reader and ElementTree make of a body: envelope, attachments, tid, document."""
    soap = split_soap(content_type, data)
    decoded = decode(soap.envelope)
    return soap.envelope, soap.attachments, decoded.transaction_id, decoded.doc


def reading(req: Request) -> tuple[bytes, tuple[object, ...], str, object]:
    decoded = req.decode()
    return req.soap.envelope, req.soap.attachments, decoded.transaction_id, decoded.doc


def learn(outer: str = "outer-h") -> None:
    open_request(*body("+8613800000001", "t1", outer)).decode()  # ElementTree; learns both shapes
    assert any(b.content_type == body("+1", "t", outer)[0] for b in _BODIES)


def without_mime_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(content_type: str, data: bytes) -> None:
        raise AssertionError("the MIME reader was called")

    monkeypatch.setattr(mm7_request, "split_soap", refuse)


PLAIN = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="\"&'<>"), max_size=24
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(to=st.from_regex(r"\+86[0-9]{8,11}", fullmatch=True), tid=PLAIN.filter(lambda t: t.strip() != ""))
def test_a_learned_body_reads_as_the_mime_reader_and_elementtree_do(
    monkeypatch: pytest.MonkeyPatch, to: str, tid: str
) -> None:
    for learned in (_SHAPES, _BODIES, _BODY_TRIED):
        learned.clear()
    learn()
    content_type, data = body(to, tid)
    expected = general(content_type, data)
    with monkeypatch.context() as m:
        without_mime_reader(m)
        fast = open_request(content_type, data)
    assert fast.doc is not None and reading(fast) == expected
    assert fast.decode().doc.to == (Address.guess(to),)  # type: ignore[union-attr]


def test_a_hole_holding_the_boundary_text_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    learn()
    shape = _BODIES[0].shape
    data = shape.write("x--outer-h--y", "+8613800000002", WHEN)  # a delimiter's text, mid-line
    assert data is not None
    content_type = _BODIES[0].content_type
    expected = general(content_type, data)  # the canonical reader refuses it; email reads it
    without_mime_reader(monkeypatch)
    fast = open_request(content_type, data)
    assert reading(fast) == expected and expected[2] == "x--outer-h--y"


def test_another_clients_boundary_is_learned_on_its_own() -> None:
    learn("outer-h")
    content_type, data = body("+8613800000003", "t3", "outer-k")
    first = open_request(content_type, data)  # the envelope's shape reads it; its body is learned
    assert first.doc is not None and len(_BODIES) == 2
    assert reading(open_request(*body("+8613800000004", "t4", "outer-k"))) == general(
        *body("+8613800000004", "t4", "outer-k")
    )


def test_other_bodies_take_the_general_path() -> None:
    learn()
    content_type, data = body("+8613800000005", "t5")
    edited = data.replace(b"20% off everything", b"30% off everything")  # another MM, same type
    general_reading = general(content_type, edited)
    req = open_request(content_type, edited)
    assert req.body == edited  # split by the MIME reader (a learned body holds no bytes of its own)
    assert reading(req) == general_reading
    odd = body("+86 138 & co", "t6")  # not plain: ElementTree reads it
    assert open_request(*odd).raw is not None
