"""Delivery receipt text and TLVs in every variant of PROTOCOLS.md §3.2-3.3."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.results import DeliveryState
from channels.smpp.constants import Tag
from channels.smpp.dlr import (
    MESSAGE_STATE_TO_STATE,
    STAT_TO_STATE,
    STATE_TO_STAT,
    ReceiptStyle,
    ReceiptText,
    format_receipt_text,
    parse_receipt_date,
    parse_receipt_fields,
    parse_receipt_text,
    receipt_from_fields,
    state_from_stat,
)

NOMINAL = (
    "id:0A1B2C3D sub:001 dlvrd:001 submit date:2511231540 done date:2511231541"
    " stat:DELIVRD err:000 text:Hello"
)


def test_nominal_text_from_protocols_3_1() -> None:
    assert parse_receipt_text(NOMINAL) == ReceiptText(
        id="0A1B2C3D",
        sub="001",
        dlvrd="001",
        submit_date="2511231540",
        done_date="2511231541",
        stat="DELIVRD",
        err="000",
        text="Hello",
        extra={},
    )


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        # long, hex, zero-padded, UUID-like ids (jookies/jasmin#535)
        ("id:812FC7470000001B stat:DELIVRD", "id", "812FC7470000001B"),
        ("id:00B8BE19 stat:DELIVRD", "id", "00B8BE19"),
        (
            "id:6f1b5c2e-8f0a-4c9a-9e7b-2b1f4c0d9a11 stat:DELIVRD",
            "id",
            "6f1b5c2e-8f0a-4c9a-9e7b-2b1f4c0d9a11",
        ),
        # 12-digit dates (farhadi/node-smpp#68), 14-digit dates (cloudhopper)
        ("id:1 submit date:251123154012 done date:251123154113 stat:DELIVRD", "done_date", "251123154113"),
        (
            "id:1 submit date:20251123154012 done date:20251123154113 stat:DELIVRD",
            "submit_date",
            "20251123154012",
        ),
        # err of 4 characters (onlinecity/php-smpp#70) or not numeric
        ("id:1 stat:UNDELIV err:0000", "err", "0000"),
        ("id:1 stat:UNDELIV err:0B1", "err", "0B1"),
        # any case
        (
            "ID:abc SUB:001 DLVRD:001 SUBMIT DATE:2511231540 DONE DATE:2511231541 STAT:delivrd ERR:000",
            "stat",
            "DELIVRD",
        ),
        ("Id:abc Stat:Delivrd", "id", "abc"),
        # Text: as Appendix B spells it, with spaces and colons inside
        ("id:1 stat:DELIVRD err:000 Text:Your code: 1234 stat:x", "text", "Your code: 1234 stat:x"),
        # underscore date keys
        ("id:1 submit_date:2511231540 done_date:2511231541 stat:EXPIRED", "done_date", "2511231541"),
    ],
)
def test_variants(text: str, field: str, value: str) -> None:
    receipt = parse_receipt_text(text)
    assert receipt is not None
    assert getattr(receipt, field) == value


def test_missing_sub_dlvrd_text() -> None:
    # twitter-archive/cloudhopper-smpp#105
    receipt = parse_receipt_text("id:123 submit date:2511231540 done date:2511231541 stat:DELIVRD err:000")
    assert receipt is not None
    assert (receipt.sub, receipt.dlvrd, receipt.text) == (None, None, None)
    assert receipt.stat == "DELIVRD"


def test_vendor_extra_fields() -> None:
    receipt = parse_receipt_text(
        "id:77 sub:001 dlvrd:001 submit date:2511231540 done date:2511231541 stat:DELIVRD err:000 "
        "MCC:234 mnc:15 Price:0.0042 text:Hi"
    )
    assert receipt is not None
    assert receipt.extra == {"mcc": "234", "mnc": "15", "price": "0.0042"}
    assert receipt.text == "Hi"


def test_empty_values_and_no_id() -> None:
    receipt = parse_receipt_text("id:9 sub: dlvrd: stat:DELIVRD err: text:")
    assert receipt is not None
    assert (receipt.sub, receipt.err, receipt.text) == ("", "", "")
    assert parse_receipt_text("stat:DELIVRD err:000") is None
    assert parse_receipt_text("hello, this is a reply") is None
    assert parse_receipt_text("") is None


def test_no_stat_is_empty() -> None:
    receipt = parse_receipt_text("id:9")
    assert receipt is not None and receipt.stat == ""


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("DELIVRD", DeliveryState.DELIVERED),
        ("EXPIRED", DeliveryState.EXPIRED),
        ("DELETED", DeliveryState.UNDELIVERABLE),
        ("UNDELIV", DeliveryState.UNDELIVERABLE),
        ("ACCEPTD", DeliveryState.ACCEPTED),
        ("UNKNOWN", DeliveryState.UNKNOWN),
        ("REJECTD", DeliveryState.REJECTED),
        ("ENROUTE", DeliveryState.ACCEPTED),
        ("delivered", DeliveryState.DELIVERED),
        ("BOGUS", DeliveryState.UNKNOWN),
        ("", DeliveryState.UNKNOWN),
    ],
)
def test_stat_to_state(stat: str, state: DeliveryState) -> None:
    assert state_from_stat(stat) is state


def test_tables_cover_every_value() -> None:
    assert set(STAT_TO_STATE) == {
        "DELIVRD",
        "EXPIRED",
        "DELETED",
        "UNDELIV",
        "ACCEPTD",
        "UNKNOWN",
        "REJECTD",
        "ENROUTE",
    }
    assert set(MESSAGE_STATE_TO_STATE) >= set(range(1, 9))
    assert set(STATE_TO_STAT) == set(DeliveryState)
    for state, stat in STATE_TO_STAT.items():
        assert STAT_TO_STATE[stat] is state
    assert not STAT_TO_STATE["ENROUTE"].is_final
    assert not STAT_TO_STATE["ACCEPTD"].is_final


def test_acceptd_finality_is_a_profile_choice() -> None:
    assert state_from_stat("ACCEPTD", acceptd_state=DeliveryState.DELIVERED) is DeliveryState.DELIVERED
    parsed = receipt_from_fields(text="id:1 stat:ACCEPTD", tlvs={}, acceptd_state=DeliveryState.UNKNOWN)
    assert parsed is not None and parsed.state is DeliveryState.UNKNOWN and parsed.final
    parsed = receipt_from_fields(
        text=None, tlvs={Tag.RECEIPTED_MESSAGE_ID: b"1\x00", Tag.MESSAGE_STATE: b"\x06"}
    )
    assert parsed is not None and parsed.state is DeliveryState.ACCEPTED and not parsed.final


def test_format_nominal_round_trip() -> None:
    text = format_receipt_text(
        id="0A1B2C3D",
        stat="DELIVRD",
        submit_date=datetime(2025, 11, 23, 15, 40, tzinfo=UTC),
        done_date=datetime(2025, 11, 23, 15, 41, tzinfo=UTC),
        text="Hello",
    )
    assert text == NOMINAL


@pytest.mark.parametrize("digits", [10, 12, 14])
def test_format_dates_and_parse_back(digits: int) -> None:
    when = datetime(2025, 11, 23, 15, 40, 12, tzinfo=UTC)
    text = format_receipt_text(
        id="x", stat="UNDELIV", err="0B1", submit_date=when, done_date=when, date_digits=digits, sub=2
    )
    receipt = parse_receipt_text(text)
    assert receipt is not None
    assert (receipt.sub, receipt.dlvrd, receipt.err, receipt.text) == ("002", "000", "0B1", "")
    parsed = parse_receipt_date(receipt.done_date)
    assert parsed == (when if digits > 10 else when.replace(second=0))


def test_format_cuts_text_to_20() -> None:
    text = format_receipt_text(
        id="1",
        stat="DELIVRD",
        submit_date=datetime(2025, 1, 1),
        done_date=datetime(2025, 1, 1),
        text="x" * 30,
    )
    assert text.endswith("text:" + "x" * 20)
    with pytest.raises(ValueError, match="date_digits"):
        format_receipt_text(
            id="1",
            stat="DELIVRD",
            submit_date=datetime(2025, 1, 1),
            done_date=datetime(2025, 1, 1),
            date_digits=8,
        )


def test_parse_receipt_date_rejects_garbage() -> None:
    assert parse_receipt_date("2513991540") is None  # month 13
    assert parse_receipt_date("25112315") is None
    assert parse_receipt_date(None) is None
    assert parse_receipt_date("abcdefghij") is None


def test_tlvs_win_over_text() -> None:
    parsed = receipt_from_fields(
        text=NOMINAL.replace("DELIVRD", "UNDELIV").encode(),
        tlvs={
            Tag.RECEIPTED_MESSAGE_ID: b"0A1B2C3E\x00",
            Tag.MESSAGE_STATE: b"\x02",
            Tag.NETWORK_ERROR_CODE: b"\x03\x00\x45",
        },
    )
    assert parsed is not None
    assert parsed.remote_id == "0A1B2C3E"
    assert parsed.state is DeliveryState.DELIVERED
    assert parsed.stat == "UNDELIV"
    assert parsed.message_state == 2
    assert parsed.network_error == (3, 0x45)
    assert parsed.error_code == "069"
    assert parsed.raw == NOMINAL.replace("DELIVRD", "UNDELIV")


def test_protocols_3_1_example_tlvs() -> None:
    tlvs: dict[int, bytes] = {
        Tag.RECEIPTED_MESSAGE_ID: bytes.fromhex("30 41 31 42 32 43 33 44 00"),
        Tag.MESSAGE_STATE: b"\x02",
    }
    parsed = receipt_from_fields(text=NOMINAL.encode(), tlvs=tlvs)
    assert parsed is not None
    assert (parsed.remote_id, parsed.state, parsed.error_code) == ("0A1B2C3D", DeliveryState.DELIVERED, "000")
    assert parsed.fields is not None and parsed.fields.text == "Hello"


def test_text_only_and_tlv_only() -> None:
    parsed = receipt_from_fields(text=NOMINAL, tlvs={})
    assert parsed is not None and (parsed.remote_id, parsed.state) == ("0A1B2C3D", DeliveryState.DELIVERED)
    parsed = receipt_from_fields(
        text=b"", tlvs={Tag.RECEIPTED_MESSAGE_ID: b"42\x00", Tag.MESSAGE_STATE: b"\x05"}
    )
    assert parsed is not None and (parsed.remote_id, parsed.state, parsed.raw) == (
        "42",
        DeliveryState.UNDELIVERABLE,
        None,
    )
    assert receipt_from_fields(text=b"not a receipt", tlvs={}) is None


def test_ucs2_receipt_text_is_read() -> None:
    # farhadi/node-smpp#68: the receipt text arrives as UCS-2, labelled 8, or mislabelled 0
    raw = NOMINAL.encode("utf-16-be")
    for dcs in (8, 0):
        parsed = receipt_from_fields(text=raw, tlvs={}, data_coding=dcs)
        assert parsed is not None and parsed.remote_id == "0A1B2C3D", dcs
    ascii_labelled_ucs2 = receipt_from_fields(text=NOMINAL.encode(), tlvs={}, data_coding=8)
    assert ascii_labelled_ucs2 is not None and ascii_labelled_ucs2.state is DeliveryState.DELIVERED


def test_text_in_message_payload() -> None:
    parsed = receipt_from_fields(text=None, tlvs={Tag.MESSAGE_PAYLOAD: NOMINAL.encode()})
    assert parsed is not None and parsed.remote_id == "0A1B2C3D"


def test_unknown_message_state_falls_back_to_text() -> None:
    parsed = receipt_from_fields(text=NOMINAL, tlvs={Tag.MESSAGE_STATE: b"\x63"})
    assert parsed is not None and parsed.state is DeliveryState.DELIVERED
    parsed = receipt_from_fields(text="id:5", tlvs={})
    assert parsed is not None and parsed.state is DeliveryState.UNKNOWN


def test_malformed_network_error_is_ignored() -> None:
    parsed = receipt_from_fields(text=NOMINAL, tlvs={Tag.NETWORK_ERROR_CODE: b"\x03"})
    assert parsed is not None and parsed.network_error is None and parsed.error_code == "000"


_word = st.text(alphabet=st.sampled_from("0123456789ABCDEFabcdef-_"), min_size=1, max_size=24)


@settings(max_examples=300, deadline=None)
@given(
    rid=_word,
    stat=st.sampled_from([*STAT_TO_STATE, "delivrd", "Undeliv", "DELIVERED"]),
    err=st.text(alphabet=st.sampled_from("0123456789ABX"), max_size=4),
    body=st.one_of(st.none(), st.text(max_size=30)),
    digits=st.sampled_from([10, 12, 14]),
    sub=st.integers(0, 255),
)
def test_nominal_fast_path_agrees_with_the_general_reader(
    rid: str, stat: str, err: str, body: str | None, digits: int, sub: int
) -> None:
    when = datetime(2025, 11, 23, 15, 40, 12, tzinfo=UTC)
    text = format_receipt_text(
        id=rid,
        stat=stat,
        err=err,
        submit_date=when,
        done_date=when,
        sub=sub,
        date_digits=digits,
        text=body or "",
    )
    if body is None:
        text = text.rsplit(" text:", 1)[0]
    fast, general = parse_receipt_text(text), parse_receipt_fields(text)
    assert fast == general
    assert fast is not None and fast.id == rid and (fast.text or "") == (body or "")[:20]


_OPTIONAL = ["sub", "dlvrd", "submit_date", "done_date", "err", "text"]


@settings(max_examples=300, deadline=None)
@given(
    rid=_word,
    stat=st.sampled_from(sorted(STAT_TO_STATE)),
    err=st.sampled_from(["0", "000", "1", "069", "0B1", "X"]),
    body=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=25),
    digits=st.sampled_from([10, 12, 14]),
    omit=st.frozensets(st.sampled_from(_OPTIONAL)),
    upper_keys=st.booleans(),
    lower_stat=st.booleans(),
    text_key=st.sampled_from(["text", "Text"]),
    err_digits=st.sampled_from([3, 4]),
    extra=st.lists(
        st.tuples(st.sampled_from(["mcc", "mnc", "price", "network"]), _word), unique_by=lambda kv: kv[0]
    ),
)
def test_every_style_the_simulator_writes_is_read_back(
    rid: str,
    stat: str,
    err: str,
    body: str,
    digits: int,
    omit: frozenset[str],
    upper_keys: bool,
    lower_stat: bool,
    text_key: str,
    err_digits: int,
    extra: list[tuple[str, str]],
) -> None:
    style = ReceiptStyle(
        omit=omit,
        upper_keys=upper_keys,
        lower_stat=lower_stat,
        text_key=text_key,
        err_digits=err_digits,
        extra=tuple(extra),
    )
    when = datetime(2025, 11, 23, 15, 40, 12, tzinfo=UTC)
    written = format_receipt_text(
        id=rid,
        stat=stat,
        err=err,
        submit_date=when,
        done_date=when,
        text=body,
        date_digits=digits,
        style=style,
    )
    receipt = parse_receipt_text(written)
    assert receipt is not None
    assert (receipt.id, receipt.stat) == (rid, stat)
    assert state_from_stat(receipt.stat) is STAT_TO_STATE[stat]
    expected_err = err.zfill(err_digits) if err.isdigit() else err
    assert receipt.err == (None if "err" in omit else expected_err)
    assert receipt.sub == (None if "sub" in omit else "001")
    assert receipt.text == (None if "text" in omit else body[:20])
    done = parse_receipt_date(receipt.done_date)
    assert done is None if "done_date" in omit else done == (when if digits > 10 else when.replace(second=0))
    assert receipt.extra == dict(extra)


def test_style_examples() -> None:
    when = datetime(2025, 11, 23, 15, 40, tzinfo=UTC)
    style = ReceiptStyle(omit=frozenset({"sub", "dlvrd", "text"}), upper_keys=True, err_digits=4)
    written = format_receipt_text(
        id="B8BE19", stat="UNDELIV", err="1", submit_date=when, done_date=when, style=style
    )
    assert written == "ID:B8BE19 SUBMIT DATE:2511231540 DONE DATE:2511231540 STAT:UNDELIV ERR:0001"
    appendix = format_receipt_text(
        id="1",
        stat="DELIVRD",
        submit_date=when,
        done_date=when,
        style=ReceiptStyle(text_key="Text", lower_stat=True),
    )
    assert appendix.endswith("stat:delivrd err:000 Text:")
