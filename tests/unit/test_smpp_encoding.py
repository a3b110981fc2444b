"""GSM 03.38 / UCS-2 / Latin-1 / IA5 encoding with the byte examples of PROTOCOLS.md §2."""

from __future__ import annotations

import pytest

from channels.content import TextEncoding
from channels.errors import ContentRejected
from channels.smpp.encoding import (
    CACHE_SIZE,
    CACHED_TEXT_LENGTH,
    GSM_BASIC,
    GSM_EXTENSION,
    Alphabet,
    _encode_cached,
    alphabet_of,
    decode_text,
    encode_text,
    gsm_septets,
    is_gsm,
    pack_septets,
    udh_fill_bits,
    unpack_septets,
)


def test_euro_is_escape_pair_unpacked() -> None:
    encoded = encode_text("€")
    assert encoded.data == bytes.fromhex("1b 65")
    assert encoded.data_coding == 0x00
    assert encoded.encoding is TextEncoding.GSM7
    assert encoded.units == 2


def test_hello_is_plain_septets() -> None:
    assert encode_text("Hello").data == b"Hello"


def test_gsm_characters_that_differ_from_ascii() -> None:
    assert encode_text("@$_").data == bytes.fromhex("00 02 11")
    assert encode_text("§").data == bytes.fromhex("5f")
    assert encode_text("à").data == bytes.fromhex("7f")
    assert encode_text("{}[]~|\\^\f").data == bytes.fromhex("1b28 1b29 1b3c 1b3e 1b3d 1b40 1b2f 1b14 1b0a")


def test_every_basic_and_extension_character_round_trips() -> None:
    for code, char in enumerate(GSM_BASIC):
        if code == 0x1B:
            continue
        assert encode_text(char, TextEncoding.GSM7).data == bytes((code,))
        assert decode_text(bytes((code,)), 0) == char
    for char, code in GSM_EXTENSION.items():
        assert encode_text(char, TextEncoding.GSM7).data == bytes((0x1B, code))
        assert decode_text(bytes((0x1B, code)), 0) == char


def test_backtick_and_c_cedilla_small_are_not_gsm() -> None:
    # smpplib 2.2.4 puts ` at 0x5F (PROTOCOLS.md §8 item 8); TS 23.038 has § there
    assert not is_gsm("`")
    assert not is_gsm("ç")
    assert encode_text("`").encoding is TextEncoding.UCS2
    assert decode_text(b"\x5f", 0) == "§"


def test_russian_goes_ucs2_big_endian() -> None:
    encoded = encode_text("Привет")
    assert encoded.data_coding == 0x08
    assert encoded.encoding is TextEncoding.UCS2
    assert encoded.data == bytes.fromhex("04 1f 04 40 04 38 04 32 04 35 04 42")
    assert decode_text(encoded.data, 0x08) == "Привет"


def test_emoji_is_a_surrogate_pair_of_two_units() -> None:
    encoded = encode_text("😀")
    assert encoded.data == bytes.fromhex("d8 3d de 00")
    assert encoded.units == 2


def test_chinese_goes_ucs2() -> None:
    encoded = encode_text("退订回复TD")
    assert encoded.encoding is TextEncoding.UCS2
    assert decode_text(encoded.data, 8) == "退订回复TD"


def test_one_non_gsm_character_switches_the_whole_text() -> None:
    assert encode_text("Price: 5€").encoding is TextEncoding.GSM7
    assert encode_text("Price: 5€ ça").encoding is TextEncoding.UCS2


@pytest.mark.parametrize(
    ("encoding", "text", "position"),
    [
        (TextEncoding.GSM7, "Hello ç", 6),
        (TextEncoding.GSM7, "ab`", 2),
        (TextEncoding.ASCII, "naïve", 2),
        (TextEncoding.ASCII, "bell\x07", 4),
        (TextEncoding.LATIN1, "5 €", 2),
    ],
)
def test_forced_encoding_names_the_first_offending_character(
    encoding: TextEncoding, text: str, position: int
) -> None:
    with pytest.raises(ContentRejected) as info:
        encode_text(text, encoding)
    message = str(info.value)
    assert f"text[{position}]" in message
    assert repr(text[position]) in message
    assert encoding.value in message


def test_lone_surrogate_is_rejected_not_crashing() -> None:
    with pytest.raises(ContentRejected, match=r"text\[1\]"):
        encode_text("a\ud800b")


def test_latin1_and_ascii_labels() -> None:
    latin = encode_text("café", TextEncoding.LATIN1)
    assert (latin.data_coding, latin.data) == (0x03, b"caf\xe9")
    ascii_ = encode_text("a[b]`", TextEncoding.ASCII)
    assert (ascii_.data_coding, ascii_.data) == (0x01, b"a[b]`")
    assert decode_text(latin.data, 0x03) == "café"
    assert decode_text(ascii_.data, 0x01) == "a[b]`"


def test_gsm_mislabelled_as_ia5_is_read_as_gsm() -> None:
    # node-smpp labels GSM septets data_coding 1 (farhadi/node-smpp, PROTOCOLS.md §10)
    gsm = encode_text("Cost: £5 @ Ødegaard_€").data
    assert decode_text(gsm, 0x01) == "Cost: £5 @ Ødegaard_€"
    assert decode_text(b"plain ascii\r\n", 0x01) == "plain ascii\r\n"


def test_forced_ucs2_for_gsm_text() -> None:
    assert encode_text("Hi", TextEncoding.UCS2).data == bytes.fromhex("0048 0069")


def test_gateway_data_coding_labels() -> None:
    assert encode_text("Hi", gsm_data_coding=0x10).data_coding == 0x10
    assert encode_text("Привет", ucs2_data_coding=0x18).data_coding == 0x18


def test_gsm_septets_counts_escapes_twice() -> None:
    assert gsm_septets("a€[") == 5
    with pytest.raises(ContentRejected):
        gsm_septets("ç")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x1b", " "),  # lone escape at the end
        (b"\x1bA", "A"),  # unknown pair: base character
        (b"\x1b\x1bA", " A"),  # reserved 1B 1B
        (b"a\x80b", "a\ufffdb"),  # not a septet
    ],
)
def test_decode_gsm_is_tolerant(data: bytes, expected: str) -> None:
    assert decode_text(data, 0) == expected


def test_decode_is_tolerant_for_broken_ucs2() -> None:
    assert decode_text(b"\x00A\x00", 8) == "A\ufffd"
    assert decode_text(b"\xd8\x3d\x00A", 8) == "\ufffdA"


def test_decode_other_data_codings() -> None:
    assert decode_text("Привет".encode("iso8859_5"), 0x06) == "Привет"
    assert decode_text(b"\xff\x00", 0x04) == "\xff\x00"
    assert decode_text(bytes.fromhex("0048"), 0x18) == "H"  # UCS2, class 0
    assert decode_text(b"Hi", 0xF0) == "Hi"  # GSM, class 0


@pytest.mark.parametrize(
    ("dcs", "alphabet"),
    [
        (0x00, Alphabet.GSM7),
        (0x01, Alphabet.IA5),
        (0x03, Alphabet.OCTET),
        (0x04, Alphabet.OCTET),
        (0x08, Alphabet.UCS2),
        (0x10, Alphabet.GSM7),
        (0x14, Alphabet.OCTET),
        (0x18, Alphabet.UCS2),
        (0x38, Alphabet.OCTET),  # compressed
        (0xC8, Alphabet.GSM7),
        (0xE0, Alphabet.UCS2),
        (0xF1, Alphabet.GSM7),
        (0xF5, Alphabet.OCTET),
        (0x80, Alphabet.OCTET),  # reserved group
    ],
)
def test_alphabet_of_data_coding(dcs: int, alphabet: Alphabet) -> None:
    assert alphabet_of(dcs)[0] is alphabet


def test_packed_examples_from_ts_23038() -> None:
    assert pack_septets(encode_text("hellohello").data) == bytes.fromhex("e8 32 9b fd 46 97 d9 ec 37")
    assert udh_fill_bits(6) == 1
    assert pack_septets(b"hello", udh_fill_bits(6)) == bytes.fromhex("d0 65 36 fb 0d")
    assert unpack_septets(bytes.fromhex("d0 65 36 fb 0d"), 1) == b"hello"
    assert unpack_septets(bytes.fromhex("e8 32 9b fd 46 97 d9 ec 37")) == b"hellohello"


def test_packed_seven_septets_pad_with_cr_not_at() -> None:
    packed = pack_septets(b"abcdefg")
    assert len(packed) == 7
    assert packed[-1] >> 1 == 0x0D  # CR in the 7 spare bits
    assert unpack_septets(packed) == b"abcdefg"


def test_packed_wanted_final_cr_on_boundary_is_doubled() -> None:
    packed = pack_septets(b"abcdefg\r")
    assert unpack_septets(packed) == b"abcdefg\r\r"  # TS 23.038 §6.1.2.3.1: CR CR == CR


@pytest.mark.parametrize("fill", range(7))
@pytest.mark.parametrize("length", [0, 1, 6, 7, 8, 9, 15, 16, 153, 160])
def test_pack_unpack_round_trip(fill: int, length: int) -> None:
    septets = bytes((i * 37) % 0x7F for i in range(length)).replace(b"\r", b"a")
    assert unpack_septets(pack_septets(septets, fill), fill) == septets


def test_encode_cache_is_bounded_and_skips_long_texts() -> None:
    _encode_cached.cache_clear()
    for i in range(CACHE_SIZE * 2):
        encode_text(f"text {i}")
    assert _encode_cached.cache_info().currsize == CACHE_SIZE
    _encode_cached.cache_clear()
    long_text = "y" * (CACHED_TEXT_LENGTH + 1)
    assert encode_text(long_text).data == long_text.encode()
    assert _encode_cached.cache_info().currsize == 0
    first, again = encode_text("same"), encode_text("same")
    assert first is again
    assert encode_text("same", TextEncoding.UCS2) != first


def test_the_ascii_shortcut_of_decode_text_reads_as_gsm_does() -> None:
    """decode_text's shortcut for data_coding 0 (octets GSM reads as ASCII, decoded by the codec)
    gives what decode_gsm gives, for every octet alone, after a plain text, and in escape pairs."""
    from hypothesis import given
    from hypothesis import strategies as st

    from channels.smpp.encoding import _GSM_AS_ASCII, decode_gsm, decode_text

    assert b"\x1b" not in _GSM_AS_ASCII and b"@" not in _GSM_AS_ASCII and b"$" not in _GSM_AS_ASCII
    for code in range(256):
        for data in (bytes([code]), b"stat:DELIVRD " + bytes([code]), bytes([0x1B, code])):
            assert decode_text(data, 0) == decode_gsm(data), data

    @given(st.binary(max_size=40) | st.builds(bytes, st.lists(st.sampled_from(list(_GSM_AS_ASCII)))))
    def same(data: bytes) -> None:
        assert decode_text(data, 0) == decode_gsm(data)

    same()
