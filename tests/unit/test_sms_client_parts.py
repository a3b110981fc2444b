"""The SMS client's pure parts: gateway URL options, the submit_sm PDUs of a message (sizes, labels,
registered_delivery), and how the parts' answers become one result or one precise error."""

from __future__ import annotations

from typing import cast

import pytest

from channels import (
    AuthenticationError,
    ChannelKind,
    ConfigurationError,
    ContentRejected,
    DeliveryState,
    InvalidRecipient,
    Message,
    OutcomeUnknown,
    RemoteThrottled,
    Text,
    TextEncoding,
)
from channels.receipts import IdProfile
from channels.smpp import pdu as codec
from channels.smpp import status as st
from channels.smpp.client import PartiallyAccepted, SmppClient, _collect
from channels.smpp.concat import ConcatMethod
from channels.smpp.config import SmppConfig
from channels.smpp.connection import BindMode
from channels.smpp.constants import CommandId, EsmClass, Tag
from channels.smpp.pdu import Pdu
from channels.smpp.rebind import BindRefused, bind_error, bind_with_retry
from channels.smpp.transport import SmppTransport


def sms(
    body: str, *, to: str = "+8613800138000", encoding: TextEncoding | None = None, **kw: object
) -> Message:
    return Message(to=to, kind=ChannelKind.SMS, content=Text(body=body, encoding=encoding), id="m1", **kw)  # type: ignore[arg-type]


def resp(status: int = 0, message_id: str = "") -> Pdu:
    return Pdu(CommandId.SUBMIT_SM_RESP, 1, status, {"message_id": message_id}, {})


def test_url_options_of_this_issue() -> None:
    cfg = SmppConfig.from_url(
        "smpp://u:p@h:2775?binds=3&receivers=1&bind=tx&acceptd_state=delivered&registered_delivery=2"
        "&adaptive=0&transient_retries=2&id_profile=resp-hex-dlr-dec&opt_out_keywords=stop,退订&concat=sar"
    )
    assert (cfg.binds, cfg.receivers, cfg.bind) == (3, 1, BindMode.TX)
    assert cfg.acceptd_state is DeliveryState.DELIVERED and cfg.registered_delivery == 2
    assert cfg.adaptive is False and cfg.transient_retries == 2
    assert cfg.id_profile is IdProfile.RESP_HEX_DLR_DEC and cfg.concat is ConcatMethod.SAR
    assert cfg.opt_out_keywords == frozenset({"stop", "退订"})


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("binds=0", "binds"),
        ("adaptive=maybe", "adaptive"),
        ("acceptd_state=fine", "acceptd_state"),
        ("max_parts=300", "max_parts"),
        ("bind=rx&receivers=1", "receivers"),
        ("transient_retries=-1", "transient_retries"),
    ],
)
def test_bad_options_name_the_field(query: str, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        SmppConfig.from_url(f"smpp://u:p@h?{query}")


def test_client_exposes_its_receipt_profile() -> None:
    client = SmppClient.from_url("smpp://u:p@h?id_profile=auto&registered_delivery=2")
    assert client.id_profile is IdProfile.AUTO
    assert client.receipt_timeout_state is DeliveryState.DELIVERED  # failure-only: silence = delivered
    assert SmppClient.from_url("smpp://u:p@h").receipt_timeout_state is None
    pair = SmppClient.from_url("smpp://u:p@h?bind=tx&receivers=1&binds=2")
    assert [link.mode for link in pair.links] == [BindMode.TX, BindMode.TX, BindMode.RX]
    assert len(pair.pool.senders) == 2


def test_gsm_parts_are_153_septets_and_an_escape_pair_stays_whole() -> None:
    client = SmppClient.from_url("smpp://u:p@h")
    body = "a" * 152 + "€" + "b" * 20  # the € (1b 65) would straddle the 153-septet boundary
    first, second = client.parts_of(sms(body))
    assert first.get("data_coding") == 0 and first.get("esm_class") == EsmClass.UDHI
    assert len(first.get("short_message")) == 6 + 152  # one septet per octet, the pair moved on
    assert second.get("short_message")[6:8] == b"\x1b\x65"
    assert first.get("destination_addr") == "8613800138000"
    assert first.get("registered_delivery") == 1


def test_ucs2_parts_are_67_units_and_a_surrogate_pair_stays_whole() -> None:
    client = SmppClient.from_url("smpp://u:p@h")
    parts = client.parts_of(sms("中" * 66 + "😀" + "文" * 10))
    assert [p.get("data_coding") for p in parts] == [8, 8]
    assert len(parts[0].get("short_message")) == 6 + 132  # 66 units; the emoji's two go together
    assert parts[1].get("short_message")[6:10] == "😀".encode("utf-16-be")
    assert len(client.parts_of(sms("中" * 70))) == 1
    assert len(client.parts_of(sms("中" * 71))) == 2


def test_methods_labels_and_receipt_flags() -> None:
    sar = SmppClient.from_url("smpp://u:p@h?concat=sar&registered_delivery=2")
    parts = sar.parts_of(sms("x" * 200))
    assert [p.tlvs[Tag.SAR_SEGMENT_SEQNUM] for p in parts] == [b"\x01", b"\x02"]
    assert parts[0].get("esm_class") == 0 and parts[0].get("registered_delivery") == 2
    assert parts[0].get("short_message") == b"x" * 153  # no UDH in the body: the SMSC builds it
    (latin,) = sar.parts_of(sms("café", encoding=TextEncoding.LATIN1, want_receipt=False))
    assert latin.get("data_coding") == 3 and latin.get("registered_delivery") == 0
    (payload,) = SmppClient.from_url("smpp://u:p@h?concat=payload").parts_of(sms("y" * 400))
    assert payload.get("short_message") == b"" and len(payload.tlvs[Tag.MESSAGE_PAYLOAD]) == 400
    with pytest.raises(ConfigurationError, match="destination"):
        sar.parts_of(sms("x", to="ACME"))


def test_parts_limit() -> None:
    client = SmppClient.from_url("smpp://u:p@h?max_parts=2")
    with pytest.raises(Exception, match="limit of 2"):
        client.parts_of(sms("z" * 400))


def test_all_parts_accepted_gives_ids_in_part_order() -> None:
    assert _collect(sms("x"), [resp(0, "A"), resp(0, "B")]) == ("A", "B")


def test_a_part_without_answer_makes_the_message_unknown() -> None:
    with pytest.raises(OutcomeUnknown, match=r"part\(s\) \[2\] of 3.*\[1, 3\] accepted"):
        _collect(sms("x"), [resp(0, "A"), OutcomeUnknown("lost"), resp(0, "C")])


def test_first_refusal_is_raised_when_nothing_was_accepted() -> None:
    with pytest.raises(InvalidRecipient, match="ESME_RINVDSTADR") as info:
        _collect(sms("x"), [resp(st.ESME_RINVDSTADR), resp(st.ESME_RTHROTTLED)])
    assert info.value.code == st.ESME_RINVDSTADR and info.value.name == "ESME_RINVDSTADR"
    with pytest.raises(RemoteThrottled):  # retriable: nothing reached the handset
        _collect(sms("x"), [resp(st.ESME_RTHROTTLED)])


def test_partial_acceptance_is_reported_precisely_and_not_retriable() -> None:
    with pytest.raises(
        PartiallyAccepted, match=r"part\(s\) \[1, 3\] of 3 accepted.*part 2: ESME_RTHROTTLED"
    ) as info:
        _collect(sms("x"), [resp(0, "A"), resp(st.ESME_RTHROTTLED), resp(0, "C")])
    err = info.value
    assert err.accepted == {1: "A", 3: "C"} and set(err.failed) == {2}
    assert err.name == "ESME_RTHROTTLED" and err.code == st.ESME_RTHROTTLED
    assert not err.retriable


def test_vendor_status_is_named() -> None:
    with pytest.raises(Exception, match="ESME_VENDOR_0x40a"):
        _collect(sms("x"), [resp(0x40A)])


def test_bind_refusals_that_may_pass_are_retriable_credentials_are_not() -> None:
    for status in (st.ESME_RALYBND, st.ESME_RBINDFAIL, st.ESME_RSYSERR, st.ESME_RTHROTTLED):
        err = bind_error(status, "bind")
        assert isinstance(err, BindRefused) and err.retriable and err.status == status
    assert isinstance(bind_error(st.ESME_RINVPASWD, "bind"), AuthenticationError)
    assert not bind_error(st.ESME_RINVSYSID, "bind").retriable


async def test_bind_with_retry_backs_off_then_gives_up_or_raises_at_once() -> None:
    BOUND = cast(SmppTransport, object())
    calls: list[int] = []

    async def flaky() -> SmppTransport:
        calls.append(1)
        if len(calls) < 3:
            raise bind_error(st.ESME_RALYBND, "bind")
        return BOUND

    assert await bind_with_retry(flaky, name="t", attempts=5, initial=0.001, maximum=0.002) is BOUND
    assert len(calls) == 3
    calls.clear()

    async def refused() -> SmppTransport:
        calls.append(1)
        raise bind_error(st.ESME_RALYBND, "bind")

    with pytest.raises(BindRefused, match="ESME_RALYBND"):
        await bind_with_retry(refused, name="t", attempts=4, initial=0.001, maximum=0.002)
    assert len(calls) == 4
    calls.clear()

    async def wrong_password() -> SmppTransport:
        calls.append(1)
        raise bind_error(st.ESME_RINVPASWD, "bind")

    with pytest.raises(AuthenticationError):
        await bind_with_retry(wrong_password, name="t", attempts=None, initial=0.001, maximum=0.002)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("url", "body", "encoding"),
    [
        ("smpp://u:p@h", "Spring offer: reply 88", None),
        ("smpp://u:p@h", "long " * 80, None),  # UDH8, 3 parts
        ("smpp://u:p@h?concat=udh16", "中" * 71, None),
        ("smpp://u:p@h?concat=sar&registered_delivery=2", "x" * 200, None),
        ("smpp://u:p@h?concat=payload", "y" * 400, None),
        ("smpp://u:p@h", "café", TextEncoding.LATIN1),
    ],
)
def test_encoded_parts_are_the_parts_encoded(url: str, body: str, encoding: TextEncoding | None) -> None:
    # Two clients with the same configuration: each allocates the same concatenation references.
    message = sms(body, encoding=encoding)
    pdus = SmppClient.from_url(url).parts_of(message)
    encoded = SmppClient.from_url(url).encoded_parts(message)
    assert encoded == [codec.encoded(p) for p in pdus]
    assert all(e.command_id == CommandId.SUBMIT_SM for e in encoded)


def test_a_part_that_cannot_be_encoded_is_content_rejected_naming_the_field() -> None:
    client = SmppClient.from_url("smpp://u:p@h")
    with pytest.raises(ContentRejected, match="source_addr"):
        client.encoded_parts(sms("hi", sender="Ωmega-sender"))


@pytest.mark.parametrize(
    "url",
    ["smpp://u:p@h", "smpp://u:p@h?concat=payload&registered_delivery=2&source_ton=5&source_npi=0"],
)
def test_one_part_messages_cut_from_a_template_equal_the_general_encoding(url: str) -> None:
    # The second message of each (sender, text, receipt) shape is built from the first one's
    # template; each must equal what the general path encodes for it, octet for octet.
    templated = SmppClient.from_url(url)
    general = SmppClient.from_url(url)
    shapes = [
        dict(sender=None),
        dict(sender="10086"),
        dict(sender="8613800138000"),  # a sender whose digits equal a destination's
        dict(sender="Brand", want_receipt=False),
        dict(sender="10086", encoding=TextEncoding.UCS2),
    ]
    numbers = ["+8613800138000", "8613900000001", "1", "+" + "9" * 20, "10086"]
    for shape in shapes:
        encoding = cast(TextEncoding | None, shape.pop("encoding", None))
        for to in numbers:
            message = sms("Offer: reply 88 ¥", to=to, encoding=encoding, **shape)
            assert templated.encoded_parts(message) == general._encode_parts(message, ())
    assert len(templated._shapes) == len(shapes)  # every shape was templated, so the test compared


def test_a_template_does_not_let_a_bad_destination_through() -> None:
    client = SmppClient.from_url("smpp://u:p@h")
    client.encoded_parts(sms("hi"))
    assert client._shapes
    with pytest.raises(ConfigurationError, match="not a number"):
        client.encoded_parts(sms("hi", to="+86-138"))
    with pytest.raises(ConfigurationError, match="not a number"):
        client.encoded_parts(sms("hi", to="1" * 21))
    # Digits outside ASCII take the general path, which names what it cannot encode.
    with pytest.raises(ContentRejected, match="destination_addr"):
        client.encoded_parts(sms("hi", to="٨٦١٣٨"))


def test_templates_are_bounded_for_personalised_texts() -> None:
    client = SmppClient.from_url("smpp://u:p@h")
    for i in range(600):
        client.encoded_parts(sms(f"Hello subscriber {i}"))
    assert 0 < len(client._shapes) <= 256
