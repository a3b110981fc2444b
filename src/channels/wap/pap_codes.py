"""PAP 2.0 result codes and message states as data (WAP-247 §9.13, §9.5; Kannel ``wap_push_ppg.h``;
PROTOCOLS.md §5.1): code → (name, error class), message-state → our :class:`DeliveryState`. Both the
PAP client (to raise) and the PPG simulator (to answer and notify) read these tables."""

from __future__ import annotations

from channels.errors import (
    ChannelsError,
    ContentRejected,
    InvalidRecipient,
    RemoteTemporaryError,
    RemoteThrottled,
    SendRejected,
)
from channels.results import DeliveryState

# WAP-247 §9.13; Kannel wap_push_ppg.h. UNVERIFIED entries (3008, 3011, 4001) are marked.
PAP_CODES: dict[int, tuple[str, type[ChannelsError] | None]] = {
    1000: ("ok", None),
    1001: ("accepted-for-processing", None),
    2000: ("bad-request", ContentRejected),
    2001: ("forbidden", SendRejected),
    2002: ("address-error", InvalidRecipient),
    2003: ("address-not-found", InvalidRecipient),
    2004: ("push-id-not-found", SendRejected),
    2005: ("capabilities-mismatch", ContentRejected),
    2006: ("required-capabilities-not-supported", ContentRejected),
    2007: ("duplicate-push-id", SendRejected),
    2008: ("cancellation-not-possible", SendRejected),
    3000: ("internal-server-error", RemoteTemporaryError),
    3001: ("not-implemented", SendRejected),
    3002: ("version-not-supported", SendRejected),
    3003: ("not-possible", SendRejected),
    3004: ("capability-matching-not-supported", ContentRejected),
    3005: ("multiple-addresses-not-supported", SendRejected),
    3006: ("transformation-failure", ContentRejected),
    3007: ("specified-delivery-method-not-possible", SendRejected),
    3008: ("capabilities-not-available", RemoteTemporaryError),  # UNVERIFIED
    3009: ("required-network-not-available", RemoteTemporaryError),
    3010: ("required-bearer-not-available", RemoteTemporaryError),
    3011: ("replacement-not-supported", SendRejected),  # UNVERIFIED
    4000: ("service-failure", RemoteTemporaryError),
    4001: ("service-unavailable", RemoteThrottled),  # UNVERIFIED
    5000: ("mobile-client-aborted", SendRejected),
}
_CLASS_BY_FAMILY: dict[int, type[ChannelsError]] = {
    2: SendRejected,
    3: RemoteTemporaryError,
    4: RemoteTemporaryError,
    5: SendRejected,
}

# WAP-247 §9.5 message-state → our state
MESSAGE_STATES: dict[str, DeliveryState] = {
    "delivered": DeliveryState.DELIVERED,
    "pending": DeliveryState.ACCEPTED,
    "undeliverable": DeliveryState.UNDELIVERABLE,
    "expired": DeliveryState.EXPIRED,
    "aborted": DeliveryState.UNDELIVERABLE,
    "timeout": DeliveryState.EXPIRED,
    "cancelled": DeliveryState.REJECTED,
    "unknown": DeliveryState.UNKNOWN,
}


def is_success(code: int) -> bool:
    return 1000 <= code < 2000


def code_name(code: int) -> str:
    entry = PAP_CODES.get(code)
    return entry[0] if entry else f"pap-{code}"


def error_for(code: int, desc: str | None = None) -> ChannelsError:
    """The error a PAP result code stands for (table lookup, then the code's family)."""
    entry = PAP_CODES.get(code)
    cls = entry[1] if entry and entry[1] else _CLASS_BY_FAMILY.get(code // 1000, SendRejected)
    text = f"PPG answered {code} {code_name(code)}" + (f": {desc}" if desc else "")
    if issubclass(cls, SendRejected):
        return cls(text, code=str(code), name=code_name(code))
    return cls(text)
