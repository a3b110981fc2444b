"""What the simulated push proxy gateway decides about a PAP push, as pure functions (WAP-247 PAP,
WAP-249 PPG Service; Kannel's behaviour from PROTOCOLS.md §5.1).

Given the parsed multipart body, this validates the control entity (push-id, a single PLMN address,
delivery method), decodes the content into the SI/SL a handset would show, and returns the PAP code
to answer with plus the record for the recorder. The I/O (aiohttp server, forwarding to an SMSC,
result notifications) lives in ``ppg.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.content import WapPush
from channels.errors import ContentRejected, InvalidRecipient, RemoteProtocolError
from channels.results import DeliveryState
from channels.wap import pap
from channels.wap.pap import PushBody, PushMessage
from channels.wap.push import decode_content

# Our final states → PAP message-state and result code for resultnotification-message (WAP-247 §9.5).
NOTIFY_STATES: dict[DeliveryState, tuple[str, int]] = {
    DeliveryState.DELIVERED: ("delivered", 1000),
    DeliveryState.UNDELIVERABLE: ("undeliverable", 4000),
    DeliveryState.EXPIRED: ("expired", 4000),
    DeliveryState.REJECTED: ("undeliverable", 2002),
    DeliveryState.UNKNOWN: ("unknown", 4000),
    DeliveryState.ACCEPTED: ("pending", 1001),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to one push: ``code`` (1001 = accepted), and what was understood of it."""

    code: int
    desc: str
    message: PushMessage
    push: WapPush | None = None
    msisdn: str | None = None

    @property
    def accepted(self) -> bool:
        return pap.is_success(self.code)


def evaluate(message: PushMessage, body: PushBody, *, seen: Container[str]) -> Verdict:
    """Validate a push-message and its content; the first failing check names the code."""
    if message.push_id in seen:
        return Verdict(2007, "Duplicate push-id", message)
    if len(message.addresses) > 1:
        return Verdict(3005, "Multiple addresses not supported", message)
    try:
        address = pap.parse_address(message.addresses[0])
    except InvalidRecipient as exc:
        return Verdict(2002, f"Address error: {exc}", message)
    if address.type != "PLMN":
        return Verdict(2002, f"TYPE={address.type} not supported, only PLMN", message)
    if message.qos is not None and message.qos.delivery_method == "confirmed":
        return Verdict(3007, "Confirmed delivery is not possible over SMS", message)
    try:
        push = _decode(body.content_type, body.content)
    except (ContentRejected, RemoteProtocolError) as exc:
        return Verdict(3006, f"Transformation failure: {exc}", message)
    if push is None:
        return Verdict(3006, f"Content type {body.content_type} not supported", message)
    return Verdict(1001, "The request has been accepted for processing", message, push, address.client)


@functools.lru_cache(maxsize=64)
def _decode(content_type: str, content: bytes) -> WapPush | None:
    """``decode_content``, cached: a campaign pushes one SI/SL document to every subscriber (the
    result is frozen; a refusal raises, which is not cached)."""
    return decode_content(content_type, content)


def record_of(verdict: Verdict, body: PushBody, received_at: datetime) -> dict[str, Any]:
    """The recorder line: what the subscriber would see, plus the PPG's answer."""
    push = verdict.push
    return {
        "push_id": verdict.message.push_id,
        "address": verdict.message.addresses[0] if verdict.message.addresses else None,
        "msisdn": verdict.msisdn,
        "content_type": body.content_type,
        "application_id": body.content_headers.get("X-Wap-Application-Id"),
        "kind": push.kind.value if push else None,
        "href": push.href if push else None,
        "text": push.text if push else None,
        "si_id": push.si_id if push else None,
        "action": push.action if push else None,
        "created": push.created.isoformat() if push and push.created else None,
        "expires": push.expires.isoformat() if push and push.expires else None,
        "code": verdict.code,
        "notify_to": verdict.message.notify_to,
        "received_at": received_at.isoformat(),
    }


def notification(
    verdict: Verdict, state: DeliveryState, *, sender_name: str, received: datetime, now: datetime
) -> pap.ResultNotification:
    message_state, code = NOTIFY_STATES[state]
    return pap.ResultNotification(
        push_id=verdict.message.push_id,
        address=verdict.message.addresses[0],
        code=code,
        message_state=message_state,
        desc=pap.code_name(code),
        sender_address="/pap",
        sender_name=sender_name,
        received_time=received,
        event_time=now,
    )
