"""MM7 status codes and MMStatus values (3GPP TS 23.140 §8.7.4 / Table 30; PROTOCOLS.md §4.4).

Request status codes are classified by their thousands digit (1 success, 2 client error, 3 server
error: retriable, 4 service error), as Mbuni's ``mms_mm7soap.h`` does, so providers' private codes
(Skycore 2300–2515, 3100, 3500) land in the right class. A few codes get a more precise error class
from the table below. ``MMStatus`` in delivery reports is compared case-insensitively and mapped to
:class:`~channels.results.DeliveryState`; unknown values map to UNKNOWN. Pure data and lookups.
"""

from __future__ import annotations

from channels.errors import (
    AuthenticationError,
    ChannelsError,
    ContentRejected,
    InvalidRecipient,
    RemoteTemporaryError,
    RemoteThrottled,
    SendRejected,
)
from channels.results import DeliveryState

SUCCESS = 1000

# TS 23.140 Table 30 [M1 mms_strings.def], [M3]; names as StatusText.
STATUS_TEXT: dict[int, str] = {
    1000: "Success",
    1100: "Partial success",
    2000: "Client error",
    2001: "Operation restricted",
    2002: "Address Error",
    2003: "Address Not Found",
    2004: "Multimedia content refused",
    2005: "Message ID Not found",
    2006: "LinkedID not found",
    2007: "Message format corrupt",
    3000: "Server Error",
    3001: "Not Possible",
    3002: "Message rejected",
    3003: "Multiple addresses not supported",
    3100: "Throughput exceeded",
    3500: "Timeout",
    4000: "General service error",
    4001: "Improper identification",
    4002: "Unsupported version",
    4003: "Unsupported operation",
    4004: "Validation error",
    4005: "Service error",
    4006: "Service unavailable",
    4007: "Service denied",
}

# Codes whose error class is more precise than their thousands digit's.
_CODE_ERROR: dict[int, type[ChannelsError]] = {
    2002: InvalidRecipient,
    2003: InvalidRecipient,
    2004: ContentRejected,
    2007: ContentRejected,
    3100: RemoteThrottled,  # Skycore private: throughput exceeded [M3]
    4001: AuthenticationError,  # VASPID/VASID or credentials not recognised
    4004: ContentRejected,
    4006: RemoteThrottled,  # capacity; retry later
}

# Thousands digit → class (2 client: do not resend unchanged; 3 server: retriable; 4 service).
_CLASS_ERROR: dict[int, type[ChannelsError]] = {
    2: SendRejected,
    3: RemoteTemporaryError,
    4: SendRejected,
}


def status_class(code: int) -> int:
    """1 success, 2 client, 3 server, 4 service (anything else: 0, treated as a refusal)."""
    digit = code // 1000
    return digit if 1 <= digit <= 4 else 0


def is_success(code: int) -> bool:
    return status_class(code) == 1


def status_text(code: int) -> str:
    return STATUS_TEXT.get(code, f"Status {code}")


def error_for(code: int, text: str | None = None, *, what: str = "SubmitReq") -> ChannelsError:
    """The exception for a non-success status (raise it ``from`` nothing: it *is* the answer)."""
    name = STATUS_TEXT.get(code)
    detail = f"MM7 {what} refused: {code} {text or name or 'unknown status'}"
    cls = _CODE_ERROR.get(code) or _CLASS_ERROR.get(status_class(code), SendRejected)
    if issubclass(cls, SendRejected):
        return cls(detail, code=code, name=name)
    return cls(detail)


# MMStatus [M1], [M3]: case-insensitive; Deferred is intermediate (notification fetched, MM not yet).
MM_STATUS_STATE: dict[str, DeliveryState] = {
    "retrieved": DeliveryState.DELIVERED,
    "forwarded": DeliveryState.DELIVERED,
    "expired": DeliveryState.EXPIRED,
    "rejected": DeliveryState.REJECTED,
    "deferred": DeliveryState.ACCEPTED,
    "indeterminate": DeliveryState.UNKNOWN,
    "unrecognised": DeliveryState.UNKNOWN,
    "unrecognized": DeliveryState.UNKNOWN,
    "notsupported": DeliveryState.UNDELIVERABLE,
    "unreachable": DeliveryState.UNDELIVERABLE,
}

# Canonical spelling of each MMStatus, for the simulator's outcome mix and reports.
MM_STATUS_VALUES: tuple[str, ...] = (
    "Retrieved",
    "Forwarded",
    "Expired",
    "Rejected",
    "Deferred",
    "Indeterminate",
    "Unrecognised",
    "NotSupported",
    "Unreachable",
)


def mm_status_state(value: str) -> DeliveryState:
    """DeliveryState for an MMStatus value, compared case-insensitively; unknown → UNKNOWN."""
    return MM_STATUS_STATE.get(value.strip().lower(), DeliveryState.UNKNOWN)


def canonical_mm_status(value: str) -> str:
    """The canonical spelling of an MMStatus (``retrieved`` → ``Retrieved``); raises on unknown."""
    for known in MM_STATUS_VALUES:
        if known.lower() == value.strip().lower():
            return known
    raise ValueError(f"MMStatus: unknown value {value!r} (known: {', '.join(MM_STATUS_VALUES)})")
