"""PAP bodies read through channels.mm7.multipart: what PapClient writes takes the canonical reader and
reads as the std-lib email parser reads it; a server's part limit refuses extra and nested parts."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import compat32
from xml.sax.saxutils import quoteattr

import pytest

from channels.errors import RemoteProtocolError
from channels.mm7 import multipart
from channels.wap import pap, pap_body


@pytest.mark.parametrize(
    ("content", "content_type", "headers"),
    [
        (b"<si><indication href='x'>hi</indication></si>", "text/vnd.wap.si", None),
        (bytes(range(256)), "application/vnd.wap.sic", {"X-Wap-Application-Id": "x-wap-application:wml.ua"}),
    ],
)
def test_client_bodies_take_the_canonical_reader(
    content: bytes, content_type: str, headers: dict[str, str] | None
) -> None:
    body, ctype = pap_body.build_push_body(b"<pap/>", content, content_type, headers=headers, boundary="b")
    fast = multipart._canonical(ctype, body)
    raw = f"Content-Type: {ctype}\r\n\r\n".encode() + body
    email = multipart._from_email(BytesParser(policy=compat32).parsebytes(raw))
    assert fast is not None and fast == email
    parsed = pap_body.parse_push_body(ctype, body, max_parts=3)
    assert (parsed.control, parsed.content, parsed.content_type) == (b"<pap/>", content, content_type)
    assert parsed.content_headers == (headers or {})


def test_part_limit_refuses_extra_and_nested_parts() -> None:
    ctype = 'multipart/related; boundary="b"; type="application/xml"'
    control = b"--b\r\nContent-Type: application/xml\r\n\r\n<pap/>\r\n"
    extra = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(3)) + b"--b--\r\n"
    nested = b'--b\r\nContent-Type: multipart/mixed; boundary="c"\r\n\r\n--c\r\n\r\nx\r\n--c--\r\n--b--\r\n'
    for body in (control + extra, control + nested):
        assert len(pap_body.parse_push_body(ctype, body).control) == 6  # no limit: read as email reads it
        with pytest.raises(RemoteProtocolError, match="nested or extra") as info:
            pap_body.parse_push_body(ctype, body, max_parts=3)
        assert info.value.status == 2000


def test_not_multipart_related_is_2000() -> None:
    with pytest.raises(RemoteProtocolError, match="text/plain, not multipart/related"):
        pap_body.parse_push_body("text/plain", b"<pap/>")
    with pytest.raises(RemoteProtocolError, match="not a header value"):
        pap_body.parse_push_body("multipart/related; boundary=\udcff", b"")


@pytest.mark.parametrize("desc", ["plain", "a & b <c>", 'say "hi"', "it's", "both \" and '", "tab\there"])
def test_rendered_attributes_are_quoted_as_quoteattr_quotes_them(desc: str) -> None:
    out = pap.render(pap.BadMessageResponse(code=2000, desc=desc))
    assert f" desc={quoteattr(desc)}".encode() in out
    parsed = pap.parse(out)
    assert isinstance(parsed, pap.BadMessageResponse) and parsed.desc == desc
