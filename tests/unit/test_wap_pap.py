"""PAP 2.0 documents, addresses, codes and the multipart/related body (PROTOCOLS.md §5.1)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.errors import (
    ContentRejected,
    InvalidRecipient,
    RemoteProtocolError,
    RemoteTemporaryError,
    SendRejected,
)
from channels.results import DeliveryState
from channels.wap import pap
from channels.wap.pap import (
    BadMessageResponse,
    PapAddress,
    PushMessage,
    PushResponse,
    QualityOfService,
    ResultNotification,
    ResultNotificationResponse,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "wap"
WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "doc",
    [
        PushMessage(push_id="p1@pi", addresses=("WAPPUSH=+8613800000000/TYPE=PLMN@ppg.host",)),
        PushMessage(
            push_id="p2@pi",
            addresses=("WAPPUSH=+1555/TYPE=PLMN@ppg",),
            qos=QualityOfService(priority="high", network_required=True, bearer_required=True),
            deliver_before=WHEN,
            deliver_after=WHEN,
            source_reference="acme",
            notify_to="http://127.0.0.1:9/notify",
            progress_notes_requested=True,
        ),
        PushMessage(push_id="p3", addresses=("WAPPUSH=1/TYPE=PLMN@x",), qos=None),
        PushResponse(push_id="p1@pi", code=1001, desc="accepted", sender_name="sim", reply_time=WHEN),
        BadMessageResponse(code=2000, desc="bad", fragment="<pap>"),
        ResultNotification(
            push_id="p1",
            address="WAPPUSH=+1/TYPE=PLMN@p",
            code=1000,
            message_state="delivered",
            event_time=WHEN,
        ),
        ResultNotificationResponse(push_id="p1", address="WAPPUSH=+1/TYPE=PLMN@p", code=1000),
    ],
)
def test_documents_round_trip(doc: pap.PapDocument) -> None:
    rendered = pap.render(doc)
    assert rendered.startswith(b'<?xml version="1.0"?>\n<!DOCTYPE pap PUBLIC "-//WAPFORUM//DTD PAP 2.0//EN"')
    assert pap.parse(rendered) == doc


def test_kannel_202_answer_parses() -> None:
    doc = pap.parse((FIXTURES / "kannel_push_response.xml").read_bytes())
    assert isinstance(doc, PushResponse)
    assert (doc.push_id, doc.code, doc.sender_address) == ("push-0001@pi.example.com", 1001, "/wappush")
    assert doc.desc == "The request has been accepted for processing"


def test_fixture_request_body_splits_and_parses() -> None:
    body = (FIXTURES / "pap_push_request.txt").read_bytes().replace(b"\n", b"\r\n")
    parsed = pap.parse_push_body('multipart/related; boundary=pb42; type="application/xml"', body)
    assert parsed.content_type == "text/vnd.wap.si"
    assert parsed.content.endswith(b"Weekend offer</indication></si>")
    message = pap.parse(parsed.control)
    assert isinstance(message, PushMessage)
    assert message.push_id == "push-0001@pi.example.com"
    assert message.qos == QualityOfService(priority="medium", network="GSM", bearer="SMS")
    assert pap.parse_address(message.addresses[0]) == PapAddress("+15551234567", "PLMN", "ppg.example.com")


def test_built_body_with_binary_content_round_trips() -> None:
    content = bytes(range(256)) + b"\r\n--x\r\n"
    body, content_type = pap.build_push_body(
        b"<pap/>",
        content,
        "application/vnd.wap.sic",
        headers={"X-Wap-Application-Id": "x-wap-application:wml.ua"},
    )
    assert content_type.startswith('multipart/related; boundary="pap-')
    parsed = pap.parse_push_body(content_type, body)
    assert (parsed.control, parsed.content, parsed.content_type) == (
        b"<pap/>",
        content,
        "application/vnd.wap.sic",
    )
    assert parsed.content_headers == {"X-Wap-Application-Id": "x-wap-application:wml.ua"}


def test_malformed_bodies_answer_2000() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        pap.parse_push_body("application/xml", b"<pap/>")
    assert info.value.status == 2000
    with pytest.raises(RemoteProtocolError) as info:
        pap.parse(b"<pap><push-message")
    assert info.value.status == 2000
    with pytest.raises(RemoteProtocolError) as info:
        pap.parse(b"<pap><push-message push-id='x'/></pap>")
    assert info.value.status == 2002
    with pytest.raises(RemoteProtocolError) as info:
        pap.parse(b"<pap><cancel-message push-id='x'/></pap>")
    assert info.value.status == 3001


def test_addresses() -> None:
    assert (
        str(PapAddress("+8613800000000", "PLMN", "ppg.host")) == "WAPPUSH=+8613800000000/TYPE=PLMN@ppg.host"
    )
    user = PapAddress("john@example.com/x", "USER", "ppg")
    assert str(user) == "WAPPUSH=john%40example.com%2Fx/TYPE=USER@ppg"
    assert pap.parse_address(str(user)) == user
    with pytest.raises(InvalidRecipient, match="not a number"):
        pap.parse_address("WAPPUSH=+15551234567abc/TYPE=PLMN@ppg")
    with pytest.raises(InvalidRecipient, match="TYPE"):
        pap.parse_address("WAPPUSH=+1555@ppg")
    with pytest.raises(InvalidRecipient):
        pap.parse_address("+1555")


def test_codes_map_to_errors_through_the_table() -> None:
    assert pap.is_success(1001) and not pap.is_success(2000)
    err = pap.error_for(2002, "no such address")
    assert isinstance(err, InvalidRecipient) and err.code == "2002" and err.name == "address-error"
    assert isinstance(pap.error_for(3006), ContentRejected)
    assert isinstance(pap.error_for(3000), RemoteTemporaryError) and pap.error_for(3000).retriable
    assert type(pap.error_for(2007)) is SendRejected
    assert isinstance(pap.error_for(3999), RemoteTemporaryError)  # unknown code: by family
    assert pap.MESSAGE_STATES["delivered"] is DeliveryState.DELIVERED
    assert pap.MESSAGE_STATES["timeout"] is DeliveryState.EXPIRED
