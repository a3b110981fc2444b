"""USSD gateway profiles, session keys on the wire, service codes, URL config and simulated handsets."""

from __future__ import annotations

import random

import pytest

from channels import ConfigurationError
from channels.smpp import pdu as codec
from channels.smpp.config import SmppConfig
from channels.smpp.constants import CommandId, Tag
from channels.ussd.config import BusyPolicy, split_url
from channels.ussd.profile import MICA, SIXDEE, STANDARD, Inbound, Outbound, SessionKey, get_profile
from channels.ussd.routing import ServiceCodes, UssdRequest, source_address
from simulators.ussd_handset import Action, Handset, UssdScenario, offered_options


def submit(profile_tlvs: dict[int, bytes], op: int) -> bytes:
    pdu = codec.make(
        CommandId.SUBMIT_SM,
        sequence=1,
        tlvs={Tag.USSD_SERVICE_OP: bytes((op,)), **profile_tlvs},
        service_type="USSD",
        destination_addr="8613800138000",
        short_message=b"1. Yes",
    )
    return codec.encode(pdu)


def test_its_session_info_bytes_match_protocols_md() -> None:
    # PROTOCOLS.md §6: session 0x2A, step 3, last: 13 83 00 02 2a 07; op 2: 05 01 00 01 02
    wire = submit(STANDARD.session_tlvs(0x2A, 3, True), 2)
    assert bytes.fromhex("0501000102") in wire
    assert wire.endswith(bytes.fromhex("13830002 2a07"))
    decoded = codec.decode(wire)
    assert STANDARD.session_of(decoded) == (0x2A, 3, True)
    assert decoded.tlv_int(Tag.USSD_SERVICE_OP) == 2


def test_sixdee_dialogue_id_and_end_bit() -> None:
    tlvs = SIXDEE.session_tlvs(0x1234, 9, True)
    assert tlvs == {Tag.ITS_SESSION_INFO: bytes.fromhex("2469")}  # 0x1234 << 1 | 1
    pdu = codec.decode(submit(tlvs, SIXDEE.end_op))
    assert SIXDEE.session_of(pdu) == (0x1234, 0, True)
    assert SIXDEE.session_space == 0x8000


def test_mica_keys_sessions_on_user_message_reference() -> None:
    tlvs = MICA.session_tlvs(0xBEEF, 4, True)
    assert tlvs == {Tag.USER_MESSAGE_REFERENCE: bytes.fromhex("beef")}
    pdu = codec.decode(submit(tlvs, 0x02))
    assert MICA.session_of(pdu) == (0xBEEF, 0, False)
    assert STANDARD.session_of(pdu) is None  # no its_session_info
    assert MICA.session_key is SessionKey.USER_MESSAGE_REFERENCE


def test_malformed_session_tlv_is_no_key() -> None:
    pdu = codec.make(CommandId.DELIVER_SM, tlvs={Tag.ITS_SESSION_INFO: b"\x01"})
    assert STANDARD.session_of(pdu) is None


@pytest.mark.parametrize(
    ("profile", "op", "end", "kind"),
    [
        (STANDARD, 1, False, Inbound.BEGIN),
        (STANDARD, 18, False, Inbound.ANSWER),
        (STANDARD, 18, True, Inbound.ABORT),  # the end bit on an answer is an abort
        (STANDARD, 19, True, Inbound.CONFIRM),
        (STANDARD, 17, False, Inbound.ABORT),
        (STANDARD, 0x17, False, Inbound.ABORT),  # "17" spelled in hex
        (STANDARD, 0x55, False, None),
        (SIXDEE, 0x12, False, Inbound.ANSWER),
        (SIXDEE, 0x81, False, Inbound.ABORT),
        (SIXDEE, 0x44, False, Inbound.ANSWER),  # 6D: anything else continues
        (MICA, 0x17, False, Inbound.ABORT),
        (MICA, 0x01, False, Inbound.BEGIN),
        (MICA, 0x12, False, Inbound.ANSWER),
    ],
)
def test_inbound_ops_by_profile(profile: object, op: int, end: bool, kind: Inbound | None) -> None:
    assert get_profile(profile).classify_inbound(op, end) is kind  # type: ignore[arg-type]


def test_outbound_ops_by_profile() -> None:
    assert STANDARD.classify_outbound(2, False) is Outbound.MENU
    assert STANDARD.classify_outbound(2, True) is Outbound.END
    assert STANDARD.classify_outbound(3, False) is Outbound.NOTIFY
    assert STANDARD.classify_outbound(0x17, False) is Outbound.END
    assert STANDARD.classify_outbound(0x40, True) is None
    assert [SIXDEE.op_for(k) for k in Outbound] == [0x02, 0x03, 0x17]
    assert [STANDARD.op_for(k) for k in Outbound] == [2, 3, 17]


def test_get_profile() -> None:
    assert get_profile(" 6D ") is SIXDEE
    assert get_profile(MICA) is MICA
    with pytest.raises(ConfigurationError, match="known: 6d, mica, standard"):
        get_profile("huawei")


# -- service codes and addresses -------------------------------------------------------------------


def test_service_codes_match_the_longest_registered_code() -> None:
    codes = ServiceCodes()
    codes.add("*123#", UssdRequest)  # type: ignore[arg-type]
    codes.add("*123*4#", UssdRequest)  # type: ignore[arg-type]
    assert codes.match("*123#") == "*123#"
    assert codes.match("*123*5*9#") == "*123#"
    assert codes.match("*123*4*1#") == "*123*4#"
    assert codes.match("*1234#") is None
    assert codes.handler(None) is None and codes.handler("*9#") is None
    with pytest.raises(ConfigurationError, match="service code 'abc'"):
        codes.add("abc", UssdRequest)  # type: ignore[arg-type]
    request = UssdRequest(msisdn="1", dialled="*123*5*9#", service_code="*123#", session_id="s", gateway="g")
    assert request.parameters == ("5", "9")


def test_source_addresses() -> None:
    assert source_address("*123#") == ("*123#", 0, 0)
    assert source_address("12345") == ("12345", 0, 1)
    assert source_address("+8613800138000") == ("8613800138000", 1, 1)
    assert source_address("ACME") == ("ACME", 5, 0)
    assert source_address("") == ("", 0, 0)
    assert source_address("ACME", SmppConfig(source_ton=6, source_npi=9)) == ("ACME", 6, 9)


# -- URL ---------------------------------------------------------------------------------------------


def test_url_splits_into_ussd_and_smpp_options() -> None:
    url = "ussd+smpp://u:p@127.0.0.1:2776?profile=6d&screen_timeout=5&on_busy=queue&window=32&max_invalid=0"
    config, smpp_url, rest = split_url(url, {"session_timeout": 60, "tps": 5})
    assert config.profile is SIXDEE and config.on_busy is BusyPolicy.QUEUE
    timers = config.timers
    assert (timers.screen_timeout, timers.session_timeout, timers.max_invalid) == (5, 60, 0)
    assert smpp_url == "smpp://u:p@127.0.0.1:2776?window=32" and rest == {"tps": 5}
    assert SmppConfig.from_url(smpp_url).window == 32


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://h:1", "scheme must be ussd"),
        ("ussd+smpp://h:1?on_busy=wait", "on_busy='wait'"),
        ("ussd+smpp://h:1?screen_timeout=0", "timeouts must be > 0"),
        ("ussd+smpp://h:1?queue_timeout=soon", "queue_timeout='soon'"),
        ("ussd+smpp://h:1?profile=x", "USSD profile 'x'"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        split_url(url, {})


# -- simulated handsets ------------------------------------------------------------------------------


def test_options_are_read_off_the_screen() -> None:
    assert offered_options("1. Subscribe 10 yuan/month\n2) Details\n 0 Exit") == ["1", "2", "0"]
    assert offered_options("1. 订阅\n2. 详情\n# 返回") == ["1", "2", "#"]
    assert offered_options("Enter your PIN") == []


def test_handset_choices_follow_the_weights() -> None:
    scenario = UssdScenario(choices={"1": 0.8, "2": 0.2})
    handset = Handset(scenario, random.Random(1))
    picks = [handset.on_menu("1. A\n2. B\n3. C").text for _ in range(1000)]
    assert set(picks) == {"1", "2"}
    assert 720 < picks.count("1") < 880
    uniform = Handset(UssdScenario(), random.Random(2))
    assert {uniform.on_menu("1. A\n2. B").text for _ in range(50)} == {"1", "2"}
    assert uniform.on_menu("Enter your PIN").text == "1"  # free_text


def test_handset_rates_and_scripts() -> None:
    scenario = UssdScenario(abort_rate=0.3, timeout_rate=0.2, answer_delay=(0.1, 0.2))
    handset = Handset(scenario, random.Random(3))
    decisions = [handset.on_menu("1. A") for _ in range(2000)]
    actions = [d.action for d in decisions]
    assert 520 < actions.count(Action.ABORT) < 680
    assert 320 < actions.count(Action.TIMEOUT) < 480
    assert all(0.1 <= d.delay <= 0.2 for d in decisions)
    scripted = Handset(UssdScenario(), random.Random(4), ["2", "!timeout", "9", "!abort"])
    assert [scripted.on_menu("1. A").text for _ in range(1)] == ["2"]
    assert scripted.on_menu("1. A").action is Action.TIMEOUT
    assert scripted.on_menu("1. A").text == "9"
    assert scripted.on_notify().action is Action.ABORT
    assert scripted.on_notify().action is Action.CONFIRM


def test_scenario_is_validated() -> None:
    with pytest.raises(ValueError, match="answer_delay"):
        UssdScenario(answer_delay=(0.5, 0.1))
    with pytest.raises(ValueError, match="abort_rate"):
        UssdScenario(abort_rate=0.7, timeout_rate=0.5)
