"""How a call ended: Q.850 hangup causes → call disposition → delivery state and call status.

ARI reports the end of a call as ``ChannelDestroyed{cause, cause_txt}`` with a Q.850 cause code
(ITU-T Q.850 §2.2; SIP mapping per RFC 3398). PROTOCOLS.md §7 fixes which causes mean busy, no
answer, rejected, congestion and failed, and the Twilio call-status vocabulary campaigns report in;
answering-machine detection (a dialplan app, reported as ``AMDSTATUS``/``AMDCAUSE`` variables) maps to
Twilio's ``answered_by`` values. These are data tables, shared by the adapter and the simulator.
"""

from __future__ import annotations

from enum import StrEnum

from channels.results import DeliveryState


class Disposition(StrEnum):
    """What happened to the call, one step finer than the status vocabulary."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    REJECTED = "rejected"
    CONGESTION = "congestion"
    FAILED = "failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"  # the end was not observed (events lost and the channel already gone)


class CallStatus(StrEnum):
    """Twilio's final call statuses (PROTOCOLS.md §7)."""

    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"


# Q.850 cause texts, as Asterisk's ast_cause2str spells them (used by the simulator for cause_txt).
CAUSE_TEXT: dict[int, str] = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    20: "Subscriber absent",
    21: "Call Rejected",
    27: "Destination out of order",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
}

# Causes of an unanswered call → disposition (PROTOCOLS.md §7 table). 16 before StasisStart is the
# far end clearing while it rang: counted as no answer (UNVERIFIED against a live Asterisk).
UNANSWERED_CAUSE: dict[int, Disposition] = {
    1: Disposition.FAILED,
    3: Disposition.FAILED,
    16: Disposition.NO_ANSWER,
    17: Disposition.BUSY,
    18: Disposition.NO_ANSWER,
    19: Disposition.NO_ANSWER,
    20: Disposition.FAILED,
    21: Disposition.REJECTED,
    27: Disposition.FAILED,
    34: Disposition.CONGESTION,
    38: Disposition.CONGESTION,
    41: Disposition.CONGESTION,
}

# Disposition → (status reported to campaigns, delivery state of the message).
# No answer and our own cancel are EXPIRED (like an SMS whose validity ran out: try again later);
# busy, congestion and failures are UNDELIVERABLE; a declined call is REJECTED.
DISPOSITION_RESULT: dict[Disposition, tuple[CallStatus, DeliveryState]] = {
    Disposition.ANSWERED: (CallStatus.COMPLETED, DeliveryState.DELIVERED),
    Disposition.BUSY: (CallStatus.BUSY, DeliveryState.UNDELIVERABLE),
    Disposition.NO_ANSWER: (CallStatus.NO_ANSWER, DeliveryState.EXPIRED),
    Disposition.REJECTED: (CallStatus.FAILED, DeliveryState.REJECTED),
    Disposition.CONGESTION: (CallStatus.FAILED, DeliveryState.UNDELIVERABLE),
    Disposition.FAILED: (CallStatus.FAILED, DeliveryState.UNDELIVERABLE),
    Disposition.CANCELED: (CallStatus.CANCELED, DeliveryState.EXPIRED),
    Disposition.UNKNOWN: (CallStatus.FAILED, DeliveryState.UNKNOWN),
}

# Asterisk AMD() result (AMDSTATUS) → Twilio answered_by [I4].
AMD_ANSWERED_BY: dict[str, str] = {
    "HUMAN": "human",
    "MACHINE": "machine_start",
    "NOTSURE": "unknown",
    "HANGUP": "unknown",
}

# Twilio's answered_by values, accepted verbatim from a gateway that already speaks them.
ANSWERED_BY_VALUES = frozenset(
    {
        "human",
        "machine_start",
        "machine_end_beep",
        "machine_end_silence",
        "machine_end_other",
        "fax",
        "unknown",
    }
)

# Hangup reasons of ``DELETE /ari/channels/{id}?reason=`` → the cause the gateway reports.
REASON_CAUSE: dict[str, int] = {
    "normal": 16,
    "busy": 17,
    "no_answer": 19,
    "congestion": 34,
    "answered_elsewhere": 26,
}


def classify(*, answered: bool, canceled: bool, cause: int | None) -> Disposition:
    """The disposition of an ended call. An answered call completed whatever the cause (a network
    failure mid-call still reached the person); our own hangup before the answer is a cancel."""
    if answered:
        return Disposition.ANSWERED
    if canceled:
        return Disposition.CANCELED
    if cause is None:
        return Disposition.UNKNOWN
    return UNANSWERED_CAUSE.get(cause, Disposition.FAILED)


def answered_by(amd_status: str | None) -> str | None:
    """Twilio ``answered_by`` from the gateway's AMD status (None when it reported none)."""
    if amd_status is None:
        return None
    value = amd_status.strip()
    if value in ANSWERED_BY_VALUES:
        return value
    return AMD_ANSWERED_BY.get(value.upper(), "unknown")


def is_machine(answered_by_value: str | None) -> bool:
    return answered_by_value is not None and answered_by_value.startswith(("machine", "fax"))
