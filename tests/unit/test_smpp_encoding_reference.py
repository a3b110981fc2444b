"""Our GSM 03.38 codec against two independent ones: the ``gsm0338`` PyPI codec (differential, Hypothesis)
and smpplib 2.2.4, whose measured quirks (PROTOCOLS.md §8 items 7-8) must not leak into ours."""

from __future__ import annotations

import codecs

import gsm0338  # type: ignore[import-untyped]  # noqa: F401  (registers the "gsm03.38" codec)
import pytest
import smpplib.gsm
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.content import TextEncoding
from channels.errors import ContentRejected
from channels.smpp.concat import ConcatMethod, RefAllocator, split
from channels.smpp.encoding import GSM_BASIC, GSM_EXTENSION, decode_text, encode_text, is_gsm

GSM_CHARS = "".join(c for c in GSM_BASIC if c != "\x1b") + "".join(GSM_EXTENSION)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(GSM_CHARS), max_size=300))
def test_gsm_encoding_matches_gsm0338(text: str) -> None:
    assert encode_text(text, TextEncoding.GSM7).data == codecs.encode(text, "gsm03.38")


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(codec="utf-8", exclude_characters="\x1b"), max_size=60))
def test_gsm_repertoire_matches_gsm0338(text: str) -> None:
    try:
        theirs: bytes | None = codecs.encode(text, "gsm03.38")
    except UnicodeEncodeError as exc:
        with pytest.raises(ContentRejected, match=rf"text\[{exc.start}\]"):
            encode_text(text, TextEncoding.GSM7)
        theirs = None
    if theirs is not None:
        assert encode_text(text, TextEncoding.GSM7).data == theirs
    assert is_gsm(text) == (theirs is not None)


_septet = st.integers(0, 0x7F).filter(lambda b: b != 0x1B).map(lambda b: bytes((b,)))
_escape = st.sampled_from(sorted(GSM_EXTENSION.values())).map(lambda b: bytes((0x1B, b)))


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(_septet, _escape), max_size=200))
def test_gsm_decoding_matches_gsm0338(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert decode_text(data, 0x00) == codecs.decode(data, "gsm03.38")


def test_smpplib_0x5f_quirk_does_not_leak() -> None:
    # smpplib 2.2.4 encodes ` as 5f (shown as §) and cannot encode § (PROTOCOLS.md §8 item 8)
    assert smpplib.gsm.gsm_encode("`") == b"\x5f"
    with pytest.raises(UnicodeError):
        smpplib.gsm.gsm_encode("§")
    # nor form feed (1B 0A): its extension row has ` placeholders there too (found by the test below)
    with pytest.raises(UnicodeError):
        smpplib.gsm.gsm_encode("\f")
    assert encode_text("\f").data == b"\x1b\x0a"
    assert encode_text("§").data == b"\x5f"
    assert encode_text("`").encoding is TextEncoding.UCS2
    with pytest.raises(ContentRejected, match=r"text\[0\]"):
        encode_text("`", TextEncoding.GSM7)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(GSM_CHARS.replace("§", "").replace("\f", "")), max_size=300))
def test_gsm_encoding_matches_smpplib_elsewhere(text: str) -> None:
    assert encode_text(text, TextEncoding.GSM7).data == smpplib.gsm.gsm_encode(text)


def test_smpplib_splits_an_escape_pair_we_do_not() -> None:
    text = "a" * 152 + "€" + "b" * 10
    theirs, _, _ = smpplib.gsm.make_parts(text)
    assert theirs[0][-1:] == b"\x1b"  # the € is cut in two (PROTOCOLS.md §8 item 7)
    ours = split(encode_text(text), ConcatMethod.UDH8)
    assert ours[0].short_message[-1:] == b"a"
    assert ours[1].short_message[6:8] == b"\x1b\x65"


def test_smpplib_splits_a_surrogate_pair_we_do_not() -> None:
    text = "ж" * 66 + "😀" + "ж" * 10
    theirs, _, _ = smpplib.gsm.make_parts(text)
    assert theirs[0][-2:] == b"\xd8\x3d"  # a lone high surrogate ends part 1
    ours = split(encode_text(text), ConcatMethod.UDH8)
    assert ours[0].short_message[-2:] == "ж".encode("utf-16-be")


def test_refs_are_monotonic_not_random() -> None:
    # smpplib draws random.randint(0, 255) per message; two long messages to one handset can collide
    refs = RefAllocator()
    values = [refs.next("447700900123") for _ in range(256)]
    assert len(set(values)) == 256
