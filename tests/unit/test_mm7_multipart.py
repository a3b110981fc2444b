"""channels.mm7.multipart against the standard library's email parser (compat32), the reference.

Every case asserts that ``read_multipart`` gives what email gives, and whether the canonical reader
took it (the fast path must really run on what clients write, and must step aside, not guess, on
everything its checks exclude). Hypothesis then builds bodies from pieces chosen to trip the
delimiter rules (bare CR/LF, ``--boundary`` inside content, padding, preambles, nesting).
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.mm7 import multipart
from channels.mm7.mime import MmContent, Part, encode_soap, render_mm
from channels.mm7.multipart import Entity, read_multipart

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mm7"
CT = 'multipart/related; boundary="outer-1"; type="text/xml"; start="<env>"'


def _email(content_type: str, body: bytes) -> Entity:
    msg = BytesParser(policy=compat32).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    return multipart._from_email(msg)


def _check(content_type: str, body: bytes) -> Entity | None:
    """The canonical reader's answer (None: it stepped aside); always equal to email's if given."""
    fast = multipart._canonical(content_type, body)
    reference = _email(content_type, body)
    if fast is not None:
        assert fast == reference
    assert read_multipart(content_type, body) == reference
    return fast


def _body(*parts: bytes, boundary: bytes = b"outer-1", close: bytes = b"--\r\n") -> bytes:
    out = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    return out + b"--" + boundary + close


ENV = b"Content-Type: text/xml; charset=utf-8\r\nContent-ID: <env>\r\n\r\n<x/>"
PREFIXED = b"Content-Type: multipart/mixed; boundary=outer-1-x\r\n\r\n" + _body(
    b"\r\n", boundary=b"outer-1-x"
)
TEXT = b"Content-Type: text/plain\r\nContent-ID: <t>\r\nContent-Transfer-Encoding: 8bit\r\n\r\nhello"


def test_our_submit_and_every_fixture_take_the_canonical_path() -> None:
    mm = MmContent(
        parts=(
            Part("application/smil", b"<smil><body/></smil>\r\n", "smil", "smil.smil"),
            Part("image/jpeg", bytes(range(256)) * 4, "img", "img.jpg"),  # base64
            Part("text/plain; charset=utf-8", "né\r\n--x".encode(), "t1", "t1.txt"),
        ),
        start="smil",
    )
    ctype, body = encode_soap(b"<env/>", render_mm(mm), boundary=lambda: "mm7-abc")
    fast = _check(ctype, body)
    assert fast is not None and fast.parts is not None
    inner = fast.parts[1].parts
    assert inner is not None and [p.data for p in inner] == [p.data for p in mm.parts]
    for path in sorted(FIXTURES.glob("*/*.http")):
        head, raw = path.read_bytes().split(b"\r\n\r\n", 1)
        assert _check(head.decode().removeprefix("Content-Type: "), raw) is not None, path


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (CT, _body(ENV, TEXT) + b"epilogue\r\n--outer-1\r\nignored"),  # the epilogue is not read
        (CT, _body(ENV, TEXT, close=b"--")),  # no CRLF after the close delimiter
        ("multipart/related; boundary=outer-1; start=<env>", _body(ENV, TEXT)),  # unquoted, <> stripped
        ('multipart/related;boundary="outer-1"  ;  start="env"', _body(ENV, TEXT)),
        ('multipart/mixed; BOUNDARY="outer-1"; boundary="other"', _body(ENV, TEXT)),  # first wins
        (CT, _body(ENV, b"\r\nno headers at all")),
        (CT, _body(ENV, b"Content-ID:<a>\r\nContent-ID: <b>\r\n\r\nfirst field wins")),
        (CT, _body(ENV, b"X-Odd:\t  value  \r\n\r\nvalue keeps its trailing blanks")),
        (CT, _body(ENV, b"Content-Transfer-Encoding: BASE64\r\n\r\niVBORw0K\r\nGgo=")),
        (CT, _body(ENV, b"Content-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\nc =C3=A9")),
        (CT, _body(ENV, b"Content-Type: text/plain\r\n\r\n\r\rbare\nCR LF\r\n-- --outer-2")),
        (CT, _body(ENV, b"Content-Type: application/octet-stream\r\n\r\n" + bytes(range(256)))),
        (
            CT,
            _body(
                ENV,
                b'Content-Type: multipart/related; boundary="inner-2"; start="<s>"\r\n'
                b"Content-ID: <mm>\r\n\r\n"
                + _body(b"Content-ID: <s>\r\n\r\nsmil", b"\r\ntext", boundary=b"inner-2", close=b"--\r\nepi"),
            ),
        ),
    ],
)
def test_canonical_shapes_read_as_email_reads_them(content_type: str, body: bytes) -> None:
    assert _check(content_type, body) is not None


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (CT, _body(ENV, TEXT).replace(b"\r\n", b"\n")),  # LF line ends
        (CT, b"preamble\r\n" + _body(ENV, TEXT)),
        (CT, _body(ENV, TEXT).replace(b"--outer-1\r\nContent-Type: text/plain", b"--outer-1 \r\nX: y")),
        (CT, _body(ENV, TEXT, close=b"\r\n")),  # no close delimiter
        (CT, _body(ENV, TEXT, close=b"-- \r\n")),
        (CT, _body(ENV, b"Content-Type: text/plain;\r\n charset=utf-8\r\n\r\nfolded")),
        (CT, _body(ENV, "Content-Description: né\r\n\r\n8-bit header".encode())),
        (CT, _body(ENV, b"Content-ID : <t>\r\n\r\nname with a blank")),
        (CT, _body(ENV, b"no colon here\r\n\r\nnot a header")),
        (CT, _body(ENV, b"Content-Type: text/plain")),  # no blank line after the headers
        (CT, _body(ENV, b"")),  # an empty part
        (CT, _body(ENV, b"Content-Type: text/plain\r\n\r\nline\n--outer-1\r\nLF before a delimiter")),
        (CT, _body(ENV, b"Content-Type: text/plain\r\n\r\nline\r--outer-1\r\nCR before a delimiter")),
        (CT, _body(ENV, b"Content-Type: text/plain\r\n\r\nx\r\n--outer-1x is no delimiter")),
        (CT, _body(ENV, b"Content-Type: text/plain\r\n\r\nhas --outer-1 mid-line")),
        (CT, _body(ENV, b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo")),  # unpadded
        (CT, _body(ENV, b"Content-Transfer-Encoding: base64\r\n\r\niVBO Rw0K")),  # a blank inside
        (CT, _body(ENV, b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n`\r\nend")),
        (CT, _body(ENV, b"Content-Type: message/rfc822\r\n\r\nSubject: hi\r\n\r\nbody")),
        ('multipart/digest; boundary="outer-1"', _body(ENV, TEXT)),
        ("multipart/related; boundary*=us-ascii''outer-1", _body(ENV, TEXT)),
        ('multipart/related; boundary="outer\\-1"', _body(ENV, TEXT)),
        ("multipart/related; boundary=outer-1; start", _body(ENV, TEXT)),
        ("multipart/related", _body(ENV, TEXT)),
        ("multipart/related; boundary=outer-1\r\nX: y", _body(ENV, TEXT)),
        ("multipart/related; boundary=outer-1; name=é", _body(ENV, TEXT)),
        (CT, _body(ENV, PREFIXED)),  # nested boundaries, one a prefix of the other
    ],
)
def test_other_shapes_are_left_to_email(content_type: str, body: bytes) -> None:
    assert _check(content_type, body) is None


def test_no_boundary_in_the_body_is_email_s_no_parts() -> None:
    entity = read_multipart('multipart/related; boundary="zz"', b"no parts here")
    assert entity.parts is None and entity.data == b"no parts here"


_PIECES = st.sampled_from(
    [b"a", b"\r\n", b"\r", b"\n", b"-", b"--", b"--b1", b"--b1--", b"--b2", b" ", b"\t", b"=", b"\xff", b":"]
)
_HEADERS = st.sampled_from(
    [
        b"",
        b"Content-Type: text/plain\r\n",
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Content-ID: <p>\r\nContent-Location: p.txt\r\n",
        b"X-Folded: a\r\n b\r\n",
    ]
)


@st.composite
def _bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        content = b"".join(draw(st.lists(_PIECES, max_size=12)))
        if draw(st.booleans()):  # a nested multipart
            inner = b"".join(
                b"--b2" + eol + draw(_HEADERS) + eol + b"".join(draw(st.lists(_PIECES, max_size=6))) + eol
                for _ in range(draw(st.integers(1, 2)))
            )
            content = b"Content-Type: multipart/mixed; boundary=b2" + eol + eol + inner + b"--b2--"
        else:
            content = draw(_HEADERS) + eol + content
        parts.append(b"--b1" + draw(st.sampled_from([b"", b" "])) + eol + content + eol)
    preamble = draw(st.sampled_from([b"", b"pre" + eol]))
    close = b"--b1--" + draw(st.sampled_from([b"", eol, eol + b"epi--b1"]))
    return 'multipart/related; boundary="b1"; start="<p>"', preamble + b"".join(parts) + close


@settings(max_examples=400, deadline=None)
@given(_bodies())
def test_generated_bodies_read_as_email_reads_them(case: tuple[str, bytes]) -> None:
    _check(*case)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40).filter(lambda b: b"--b1" not in b), min_size=1, max_size=4))
def test_canonical_bodies_with_any_content_take_the_canonical_path(contents: list[bytes]) -> None:
    body = _body(*(b"Content-Type: application/octet-stream\r\n\r\n" + c for c in contents), boundary=b"b1")
    assert _check('multipart/related; boundary="b1"', body) is not None
