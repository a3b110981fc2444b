"""MM7 status classes, MMStatus states, submit answers, URL config and the VASP's inbound core."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.content import Mms, Slide
from channels.errors import (
    AuthenticationError,
    ConfigurationError,
    ContentRejected,
    InvalidRecipient,
    OutcomeUnknown,
    RemoteTemporaryError,
    RemoteThrottled,
    SendRejected,
)
from channels.message import ChannelKind, Message
from channels.mm7.config import config_from_url
from channels.mm7.inbound import handle_mmsc_request
from channels.mm7.messages import DeliverRsp, DeliveryReportRsp, Fault, Status, SubmitRsp, decode, encode
from channels.mm7.profiles import REL_5_MM7_1_0, REL_6_MM7_1_0, REL_6_MM7_1_4
from channels.mm7.status import error_for, mm_status_state, status_class
from channels.mm7.submit import prepare_content, read_submit_answer, submit_req
from channels.results import DeliveryReceipt, DeliveryState, InboundMessage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mm7"
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "cls", "retriable"),
    [
        (2000, SendRejected, False),
        (2002, InvalidRecipient, False),
        (2003, InvalidRecipient, False),
        (2004, ContentRejected, False),
        (2007, ContentRejected, False),
        (2300, SendRejected, False),  # Skycore private, client class
        (3000, RemoteTemporaryError, True),
        (3001, RemoteTemporaryError, True),
        (3100, RemoteThrottled, True),
        (3500, RemoteTemporaryError, True),  # private timeout
        (4000, SendRejected, False),
        (4001, AuthenticationError, False),
        (4004, ContentRejected, False),
        (4006, RemoteThrottled, True),
        (4007, SendRejected, False),
        (9999, SendRejected, False),  # outside 1-4: refusal, not a crash
    ],
)
def test_status_code_to_error_class(code: int, cls: type[Exception], retriable: bool) -> None:
    err = error_for(code)
    assert type(err) is cls
    assert err.retriable is retriable
    assert str(code) in str(err)
    if isinstance(err, SendRejected):
        assert err.code == code


def test_status_class_by_thousands_digit() -> None:
    assert [status_class(c) for c in (1000, 1100, 2001, 3003, 4005, 5000, 999)] == [1, 1, 2, 3, 4, 0, 0]


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("Retrieved", DeliveryState.DELIVERED),
        ("RETRIEVED", DeliveryState.DELIVERED),
        (" forwarded ", DeliveryState.DELIVERED),
        ("expired", DeliveryState.EXPIRED),
        ("Rejected", DeliveryState.REJECTED),
        ("Deferred", DeliveryState.ACCEPTED),
        ("Indeterminate", DeliveryState.UNKNOWN),
        ("Unrecognized", DeliveryState.UNKNOWN),
        ("NotSupported", DeliveryState.UNDELIVERABLE),
        ("unreachable", DeliveryState.UNDELIVERABLE),
        ("SomethingNew", DeliveryState.UNKNOWN),
    ],
)
def test_mm_status_case_insensitive(value: str, state: DeliveryState) -> None:
    assert mm_status_state(value) is state


# -- the MMSC's answer to a submit ---------------------------------------------------------------


def _xml(doc: SubmitRsp | Fault) -> bytes:
    return encode(doc, REL_6_MM7_1_4, "t1")


def test_submit_answer_success_gives_message_id() -> None:
    body = _xml(SubmitRsp(status=Status.of(1000), message_id="MM01"))
    assert read_submit_answer(200, "text/xml; charset=utf-8", body) == "MM01"


def test_submit_answer_fault_raises_mapped_class() -> None:
    body = _xml(Fault.for_status(Status.of(2003, "no such subscriber")))
    with pytest.raises(InvalidRecipient, match="2003 no such subscriber"):
        read_submit_answer(500, "text/xml", body)
    body = _xml(Fault.for_status(Status.of(3000)))
    with pytest.raises(RemoteTemporaryError):
        read_submit_answer(500, "text/xml", body)


def test_submit_answer_non_success_submit_rsp_raises() -> None:
    body = _xml(SubmitRsp(status=Status.of(4006)))
    with pytest.raises(RemoteThrottled):
        read_submit_answer(200, "text/xml", body)


@pytest.mark.parametrize(
    ("http", "cls"),
    [(401, AuthenticationError), (403, AuthenticationError), (503, RemoteThrottled),
     (502, RemoteTemporaryError), (404, SendRejected)],
)
def test_submit_answer_http_errors_without_soap(http: int, cls: type[Exception]) -> None:
    with pytest.raises(cls):
        read_submit_answer(http, "text/html", b"<html>nope</html>")


def test_submit_answer_unreadable_200_is_outcome_unknown() -> None:
    with pytest.raises(OutcomeUnknown):
        read_submit_answer(200, "text/xml", b"<garbage")
    with pytest.raises(OutcomeUnknown):  # a success without MessageID: accepted or not, we cannot tell
        read_submit_answer(200, "text/xml", _xml(SubmitRsp(status=Status.of(1000))))


# -- building the submit -------------------------------------------------------------------------


def test_submit_req_from_message_and_config() -> None:
    cfg = config_from_url("mm7+http://u:p@127.0.0.1:8081/mm7?vaspid=v&vasid=s&service_code=c&sender=10658000")
    mms = Mms(subject="Hi", slides=(Slide(text="x"),), service_code="other", linked_id="L1")
    msg = Message(to="+8613800138000", kind=ChannelKind.MMS, content=mms, want_receipt=False)
    req = submit_req(msg, cfg, NOW)
    assert (req.vaspid, req.vasid, req.service_code, req.linked_id) == ("v", "s", "other", "L1")
    assert req.sender is not None and req.sender.kind.value == "ShortCode"
    assert req.to[0].value == "+8613800138000" and req.to[0].kind.value == "Number"
    assert req.delivery_report is False
    assert req.content_href == "cid:mm"


def test_prepare_content_refuses_oversize_before_sending() -> None:
    from channels.content import MediaPart

    big = Mms(slides=(Slide(image=MediaPart(content_type="image/jpeg", data=b"\xff" * 200_000)),))
    with pytest.raises(ContentRejected, match="exceeds the limit of 102400"):
        prepare_content(big, REL_5_MM7_1_0.max_size)
    assert prepare_content(big, REL_6_MM7_1_4.max_size).size > 200_000
    with pytest.raises(ContentRejected, match="no content"):
        prepare_content(Mms(subject="nothing"), 1000)


# -- URL config ----------------------------------------------------------------------------------


def test_config_from_url_all_fields_and_env_credentials() -> None:
    cfg = config_from_url(
        "mm7+https://127.0.0.1:8443/mm7/submit?vaspid=v&vasid=s&service_code=c&profile=cmcc"
        "&report_url=http://127.0.0.1:0/dr&timeout=3&connections=8&max_size=5000&name=cm",
        env={"MM7_USERNAME": "envuser", "MM7_PASSWORD": "envpass"},
    )
    assert cfg.endpoint == "https://127.0.0.1:8443/mm7/submit"
    assert (cfg.username, cfg.password) == ("envuser", "envpass")
    assert cfg.profile is REL_6_MM7_1_0
    assert (cfg.timeout, cfg.connections, cfg.size_limit, cfg.name) == (3.0, 8, 5000, "cm")
    assert cfg.report_url == "http://127.0.0.1:0/dr"


def test_config_overrides_win_and_password_is_unquoted() -> None:
    cfg = config_from_url("mm7+http://us%40r:p%3Ass@h:1/x?vaspid=a", vaspid="b", timeout=1.5)
    assert (cfg.username, cfg.password, cfg.vaspid, cfg.timeout) == ("us@r", "p:ss", "b", 1.5)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("http://h/mm7", "url"),
        ("mm7+http:///mm7", "url"),
        ("mm7+http://h/mm7?profile=cmcc&vaspid=a&vasid=b", "service_code"),
        ("mm7+http://h/mm7?timeout=fast", "timeout"),
        ("mm7+http://h/mm7?colour=blue", "colour"),
        ("mm7+http://h/mm7?report_url=ftp://x", "report_url"),
        ("mm7+http://h/mm7?connections=0", "connections"),
    ],
)
def test_config_errors_name_the_field(url: str, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        config_from_url(url, env={})


# -- the VASP's inbound core ---------------------------------------------------------------------


def _golden(release: str, name: str) -> bytes:
    return (FIXTURES / release / name).read_bytes()


@pytest.mark.parametrize("release", ["REL-5-MM7-1-0", "REL-6-MM7-1-0", "REL-6-MM7-1-4"])
def test_delivery_report_becomes_receipt_and_rsp_echoes_release(release: str) -> None:
    answer = handle_mmsc_request("text/xml", _golden(release, "DeliveryReportReq.xml"), NOW, gateway="g")
    assert answer.answer.http_status == 200
    rsp = decode(answer.answer.body)
    assert isinstance(rsp.doc, DeliveryReportRsp) and rsp.doc.status.code == 1000
    assert rsp.namespace.endswith(release) and rsp.transaction_id == "tc-000042"
    receipt = answer.event
    assert isinstance(receipt, DeliveryReceipt)
    assert (receipt.remote_id, receipt.gateway) == ("MM0000000001", "g")
    assert receipt.state is DeliveryState.DELIVERED
    assert receipt.message_id is None  # the ReceiptTracker correlates by remote id


@pytest.mark.parametrize("release", ["REL-5-MM7-1-0", "REL-6-MM7-1-0", "REL-6-MM7-1-4"])
def test_deliver_req_becomes_inbound_with_text(release: str) -> None:
    head, body = _golden(release, "DeliverReq.http").split(b"\r\n\r\n", 1)
    answer = handle_mmsc_request(head.decode().removeprefix("Content-Type: "), body, NOW, service_code="c")
    rsp = decode(answer.answer.body).doc
    assert isinstance(rsp, DeliverRsp) and rsp.service_code == "c"
    inbound = answer.event
    assert isinstance(inbound, InboundMessage)
    assert (inbound.sender, inbound.recipient) == ("8613800138000", "54321")
    assert inbound.text == "新年好，恭喜发财！\r\n"
    assert inbound.detail["subject"] == "回复 88" and inbound.detail["linked_id"] == "L0001"


@pytest.mark.parametrize(
    ("ctype", "body", "status"),
    [
        ("text/xml", b"<<<", 2007),
        ("application/json", b"{}", 2007),
        ("text/xml", _golden("REL-6-MM7-1-4", "SubmitReq.xml"), 4003),  # not an MMSC request
        ("text/xml", _golden("REL-6-MM7-1-4", "DeliveryReportReq.xml").replace(b">Retrieved<", b"><"), 2007),
    ],
)
def test_malformed_mmsc_request_is_answered_with_vasp_error(ctype: str, body: bytes, status: int) -> None:
    answer = handle_mmsc_request(ctype, body, NOW)
    assert answer.event is None
    assert answer.answer.http_status == 500
    fault = decode(answer.answer.body).doc
    assert isinstance(fault, Fault) and fault.detail == "VASPErrorRsp" and fault.status.code == status


@pytest.mark.parametrize(
    ("faultcode", "cls"), [("soap:Server", RemoteTemporaryError), ("env:Client", SendRejected)]
)
def test_bare_soap_fault_without_mm7_detail(faultcode: str, cls: type[Exception]) -> None:
    body = (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><e:Fault>'
            b"<faultcode>" + faultcode.encode() + b"</faultcode><faultstring>backend down</faultstring>"
            b"</e:Fault></e:Body></e:Envelope>")
    with pytest.raises(cls, match="backend down") as info:
        read_submit_answer(500, "text/xml", body)
    assert type(info.value) is cls
