"""What a USSD session tells the application (DESIGN §1 events): each answer as an InboundMessage
correlated to the Message.id (``in_reply_to``), a dialled service code as an InboundMessage, and the
session's end as the message's DeliveryReceipt, its ``detail`` holding the outcome, the path of
screens, the final choice and result. Pure builders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channels.message import ChannelKind
from channels.results import DeliveryReceipt, InboundMessage
from channels.ussd.routing import UssdRequest
from channels.ussd.session import Answered, Finished

USSD = ChannelKind.USSD


def answer_event(
    answered: Answered,
    *,
    msisdn: str,
    recipient: str | None,
    message_id: str,
    number: int,
    at: datetime,
    gateway: str,
) -> InboundMessage:
    return InboundMessage(
        channel=USSD,
        sender=msisdn,
        recipient=recipient,
        text=answered.text,
        at=at,
        in_reply_to=message_id,
        gateway=gateway,
        detail={
            "screen": answered.screen,
            "choice": answered.choice,
            "step": answered.step,
            "session": number,
        },
    )


def begin_event(request: UssdRequest, *, recipient: str | None, number: int, at: datetime) -> InboundMessage:
    """A subscriber dialled ``request.dialled``; ``in_reply_to`` is the user session's id."""
    return InboundMessage(
        channel=USSD,
        sender=request.msisdn,
        recipient=recipient,
        text=request.dialled,
        at=at,
        in_reply_to=request.session_id,
        gateway=request.gateway,
        detail={"event": "begin", "service_code": request.service_code, "session": number},
    )


def session_receipt(
    done: Finished,
    *,
    message_id: str,
    remote_id: str | None,
    user_initiated: bool,
    number: int,
    service_code: str | None,
    at: datetime,
    gateway: str,
) -> DeliveryReceipt:
    detail: dict[str, Any] = {
        "outcome": done.outcome.value,
        "path": done.path,
        "choice": done.choice,
        "result": done.result,
        "answers": done.answers,
        "reason": done.reason,
        "steps": done.steps,
        "duration": round(done.duration, 3),
        "initiated_by": "user" if user_initiated else "network",
        "session": number,
    }
    if service_code is not None:
        detail["service_code"] = service_code
    return DeliveryReceipt(
        channel=USSD,
        state=done.state,
        remote_id=remote_id,
        message_id=message_id,
        at=at,
        error_code=done.error_code,
        detail=detail,
        gateway=gateway,
    )
