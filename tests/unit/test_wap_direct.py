"""Direct mode's submit_sm PDUs (byte for byte against the Kannel capture), and the URL forms of both
WAP push channels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from channels.cli.simulate import simulate
from channels.content import Text, WapPush
from channels.errors import ConfigurationError, ContentRejected, InvalidRecipient
from channels.message import ChannelKind, Message
from channels.smpp import pdu as codec
from channels.smpp.constants import Tag
from channels.wap.client import PapClient, pap_address, settings_from_url
from channels.wap.direct import WapSmppChannel, WapSubmitTemplate, source_address, submit_pdus
from channels.wap.pap import PushMessage, QualityOfService, parse, parse_push_body

FIXTURES = Path(__file__).parent.parent / "fixtures" / "wap"
CAPTURE_SI = WapPush(
    href="http://www.xyz.com/email/123/abc.wml",
    text="You have 4 new emails",
    si_id="123@xyz.com",
    action="signal-high",
    created=datetime(2024, 1, 1, tzinfo=UTC),
    expires=datetime(2030, 1, 1, tzinfo=UTC),
)


def load_hex(name: str) -> bytes:
    lines = (FIXTURES / name).read_text().splitlines()
    return bytes.fromhex(" ".join(line for line in lines if not line.startswith("#")))


def test_submit_sm_reproduces_the_kannel_capture() -> None:
    template = WapSubmitTemplate(
        source_addr="1234",
        source_addr_ton=1,
        source_addr_npi=1,
        esm_class=0x43,
        validity_period="261123154145000+",
    )
    [pdu] = submit_pdus(CAPTURE_SI, "15551234567", template, tid=0, ref=0, want_receipt=False)
    pdu.sequence = 2
    assert codec.encode(pdu) == load_hex("kannel_si_submit_sm.hex")


def test_segments_carry_more_messages_to_send_except_the_last() -> None:
    long = WapPush(href="http://example.com/x", text="y" * 300)
    pdus = submit_pdus(long, "15551234567", WapSubmitTemplate(), tid=3, ref=7)
    assert len(pdus) == 3
    assert [p.tlvs for p in pdus] == [{Tag.MORE_MESSAGES_TO_SEND: b"\x01"}] * 2 + [{}]
    assert {(p.get("esm_class"), p.get("data_coding"), p.get("registered_delivery")) for p in pdus} == {
        (0x40, 0x04, 1)
    }
    assert [p.get("short_message")[9:12] for p in pdus] == [b"\x07\x03\x01", b"\x07\x03\x02", b"\x07\x03\x03"]
    decoded = [codec.decode(codec.encode(p)) for p in pdus]
    assert decoded[0].tlvs == {Tag.MORE_MESSAGES_TO_SEND: b"\x01"}


def test_source_address_rules() -> None:
    assert source_address("ACME") == ("ACME", 5, 0)
    assert source_address("+8613800000000") == ("8613800000000", 1, 1)
    assert source_address("1234") == ("1234", 0, 1)
    assert source_address("") == ("", 0, 0)


async def test_direct_url_and_validation() -> None:
    channel = WapSmppChannel.from_url("wap+smpp://u:p@127.0.0.1:2775?esm_class=0x43&max_segments=4&window=32")
    assert channel.template.esm_class == 0x43 and channel.template.max_segments == 4
    assert channel.client.config.window == 32 and channel.name == "wap-smpp"
    with pytest.raises(ConfigurationError, match="max_segments"):
        WapSmppChannel.from_url("wap+smpp://u:p@127.0.0.1:2775?max_segments=300")
    with pytest.raises(InvalidRecipient):
        await channel.send(Message(to="abc", kind=ChannelKind.WAP_PUSH, content=WapPush(href="http://x")))
    with pytest.raises(ContentRejected, match="max_segments"):
        await channel.send(
            Message(
                to="15551234567", kind=ChannelKind.WAP_PUSH, content=WapPush(href="http://x", text="z" * 600)
            )
        )
    await channel.aclose()


def test_pap_url() -> None:
    s = settings_from_url(
        "pap+http://pi:p%40ss@127.0.0.1:8082/pap?auth=query&format=wbxml&priority=high&bearer_required=true"
        "&ppg_host=ppg.example.com&timeout=5&concurrency=8&notify=127.0.0.1:0"
    )
    assert (s.url, s.username, s.password, s.auth, s.content_format) == (
        "http://127.0.0.1:8082/pap",
        "pi",
        "p@ss",
        "query",
        "wbxml",
    )
    assert s.qos == QualityOfService(priority="high", bearer_required=True)
    assert (s.ppg_host, s.timeout, s.concurrency, s.notify) == ("ppg.example.com", 5.0, 8, "127.0.0.1:0")
    for bad in (
        "http://x",
        "pap+http://h/p?colour=red",
        "pap+http://h/p?timeout=-1",
        "pap+http://h/p?auth=digest",
    ):
        with pytest.raises(ConfigurationError):
            settings_from_url(bad if bad != "http://x" else "smpp://h")


def test_pap_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAP_USERNAME", "envuser")
    monkeypatch.setenv("PAP_PASSWORD", "envpass")
    s = settings_from_url("pap+http://127.0.0.1:8082/pap")
    assert (s.username, s.password) == ("envuser", "envpass")


def test_pap_request_shape() -> None:
    client = PapClient.from_url("pap+http://127.0.0.1:8082/pap?ppg_host=ppg.example.com")
    message = Message(
        to="0086 138-0000-0000", kind=ChannelKind.WAP_PUSH, content=WapPush(href="http://a.com/"), id="x1"
    )
    push_id, body, content_type = client.build_request(message)
    parsed = parse_push_body(content_type, body)
    control = parse(parsed.control)
    assert isinstance(control, PushMessage)
    assert (push_id, control.push_id) == ("x1@telco-channels", "x1@telco-channels")
    assert control.addresses == ("WAPPUSH=+8613800000000/TYPE=PLMN@ppg.example.com",)
    assert parsed.content_type == "text/vnd.wap.si"
    with pytest.raises(ContentRejected, match="WapPush"):
        client.build_request(Message(to="1", kind=ChannelKind.SMS, content=Text(body="hi")))
    assert str(pap_address("+1555", "p")) == "WAPPUSH=+1555/TYPE=PLMN@p"


def test_simulate_ppg_is_registered() -> None:
    result = CliRunner().invoke(simulate, ["ppg", "--help"])
    assert result.exit_code == 0
    assert "--smsc" in result.output and "--notify-delay" in result.output
