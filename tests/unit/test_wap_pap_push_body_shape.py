"""pap.read_push: a push request that fills in a learned whole-body shape is read without the MIME
reader or the XML parser, and reads exactly as parse_push_body and parse read it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.content import WapPush
from channels.wap import pap
from channels.wap.push import push_xml

PUSH = WapPush(href="http://example.com/promo", text="Weekend offer", si_id="promo-1")
CONTENT, CONTENT_TYPE = push_xml(PUSH)


def request(
    push_id: str, address: str, boundary: str = "pap-b1", app: str | None = None
) -> tuple[str, bytes]:
    control = pap.render(pap.PushMessage(push_id=push_id, addresses=(address,)))
    headers = {"X-Wap-Application-Id": app} if app else None
    data, ctype = pap.build_push_body(control, CONTENT, CONTENT_TYPE, headers=headers, boundary=boundary)
    return ctype, data


def general(content_type: str, data: bytes) -> tuple[pap.PushBody, pap.PapDocument]:
    body = pap.parse_push_body(content_type, data, max_parts=3)
    return body, pap.parse_tree(body.control)


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    for learned in (pap._PUSH_BODIES, pap._PUSH_BODY_TRIED, pap._LEARNED):
        learned.clear()
    yield
    for learned in (pap._PUSH_BODIES, pap._PUSH_BODY_TRIED, pap._LEARNED):
        learned.clear()


def learn(boundary: str = "pap-b1", app: str | None = "x-wap-application:wml.ua") -> None:
    pap.read_push(*request("first@pi", "WAPPUSH=+8613800000000/TYPE=PLMN@ppg", boundary, app), max_parts=3)
    assert len(pap._PUSH_BODIES) == 1


def without_mime_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kw: object) -> None:
        raise AssertionError("the general path was taken")

    monkeypatch.setattr(pap, "parse_push_body", refuse)
    monkeypatch.setattr(pap, "parse_tree", refuse)


PLAIN = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="\"&'<>"),
    min_size=1, max_size=24,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(push_id=PLAIN, digits=st.from_regex(r"[0-9]{6,14}", fullmatch=True))
def test_a_learned_body_reads_as_the_general_path_does(
    monkeypatch: pytest.MonkeyPatch, push_id: str, digits: str
) -> None:
    for learned in (pap._PUSH_BODIES, pap._PUSH_BODY_TRIED, pap._LEARNED):
        learned.clear()
    learn()
    address = f"WAPPUSH=+{digits}/TYPE=PLMN@ppg"
    content_type, data = request(push_id, address, app="x-wap-application:wml.ua")
    expected = general(content_type, data)
    with monkeypatch.context() as m:
        without_mime_reader(m)
        assert pap.read_push(content_type, data, max_parts=3) == expected


def test_a_hole_holding_the_boundary_text_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    learn(app=None)
    learned = pap._PUSH_BODIES[0]
    # a client draws another boundary for it (build_push_body); a peer may still send it
    data = learned.template.fill(("x--pap-b1--y@pi", "WAPPUSH=+8613800000001/TYPE=PLMN@ppg"))
    assert data is not None
    content_type = learned.content_type
    expected = general(content_type, data)  # the canonical reader refuses it; email reads it
    without_mime_reader(monkeypatch)
    assert pap.read_push(content_type, data, max_parts=3) == expected
    assert expected[1].push_id == "x--pap-b1--y@pi"  # type: ignore[union-attr]


def test_other_requests_take_the_general_path() -> None:
    learn()
    other_boundary = request("p2@pi", "WAPPUSH=+8613800000002/TYPE=PLMN@ppg", "pap-b2")
    assert pap.read_push(*other_boundary, max_parts=3) == general(*other_boundary)
    assert len(pap._PUSH_BODIES) == 2  # learned for its own boundary
    same = request("p3@pi", "WAPPUSH=+8613800000003/TYPE=PLMN@ppg", app="x-wap-application:wml.ua")
    unlimited = pap.parse_push_body(*same)
    assert pap.read_push(*same, max_parts=None) == (unlimited, pap.parse_tree(unlimited.control))
    edited = (same[0], same[1].replace(b"Weekend offer", b"Weekday offer"))  # another content
    assert pap.read_push(*edited, max_parts=3) == general(*edited)
    odd = request("p4 & co@pi", "WAPPUSH=+8613800000004/TYPE=PLMN@ppg")  # not plain: the XML reads it
    assert pap.read_push(*odd, max_parts=3) == general(*odd)
    cut = (same[0], same[1][:-3])  # no final CRLF: the template does not match it
    assert pap.read_push(*cut, max_parts=3) == general(*cut)
