"""A nested multipart (the MM beside each request's envelope) is read once per distinct bytes, and the
cached reading is the one email gives, whatever envelope it travels with."""

from __future__ import annotations

from channels.mm7.mime import MmContent, Part, encode_soap, split_soap
from channels.mm7.multipart import _PARSER, _from_email, read_multipart

MM = MmContent(parts=(Part("text/plain; charset=utf-8", b"hello\r\n", "text1", "text1.txt"),))


def _body(envelope: bytes) -> tuple[str, bytes]:
    return encode_soap(envelope, MM, boundary=iter(["outer-c", "inner-c"]).__next__)


def test_the_mm_is_read_once_and_as_email_reads_it() -> None:
    (ctype, first), (ctype2, second) = _body(b"<a>1</a>"), _body(b"<a>22</a>")
    assert ctype == ctype2
    one, two = read_multipart(ctype, first), read_multipart(ctype, second)
    assert one.parts is not None and two.parts is not None
    assert one.parts[1] is two.parts[1]  # the second request's MM came from the cache
    assert one.parts[0] != two.parts[0]
    for body, entity in ((first, one), (second, two)):
        reference = _from_email(_PARSER.parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body))
        assert entity == reference
    assert split_soap(ctype, second).content("cid:mm") == MM
