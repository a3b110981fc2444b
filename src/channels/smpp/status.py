"""SMPP 3.4 command_status values as data: name, class, and the error each maps to.

Codes from SMPP v3.4 §5.1.3 (PROTOCOLS.md §1.3). The class column decides what a sender does:
``T`` transient (slow down, resend the same PDU), ``P`` permanent for this message, ``S`` session or
configuration (do not hammer), ``X`` a bug on one side. Vendors reuse codes (0x45 for DND) and add
their own in 0x400-0x4FF, so a gateway profile may override entries (:func:`status_table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from channels.errors import (
    AuthenticationError,
    ChannelsError,
    ConfigurationError,
    ContentRejected,
    InvalidRecipient,
    RemoteProtocolError,
    RemoteTemporaryError,
    RemoteThrottled,
    SendRejected,
)


class StatusClass(StrEnum):
    OK = "ok"
    TRANSIENT = "T"
    PERMANENT = "P"
    SESSION = "S"
    BUG = "X"


@dataclass(frozen=True, slots=True)
class Status:
    code: int
    name: str
    cls: StatusClass
    error: type[ChannelsError]
    description: str


ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RINVMSGID = 0x0C
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RCANCELFAIL = 0x11
ESME_RMSGQFUL = 0x14
ESME_RINVSERTYP = 0x15
ESME_RINVNUMDESTS = 0x33
ESME_RINVDESTFLAG = 0x40
ESME_RINVESMCLASS = 0x43
ESME_RSUBMITFAIL = 0x45
ESME_RTHROTTLED = 0x58
ESME_RINVSCHED = 0x61
ESME_RINVEXPIRY = 0x62
ESME_RX_T_APPN = 0x64
ESME_RQUERYFAIL = 0x67
ESME_RINVTLVSTREAM = 0xC0
ESME_RINVTLVLEN = 0xC2
ESME_RMISSINGTLV = 0xC3
ESME_RINVTLVVAL = 0xC4
ESME_RUNKNOWNERR = 0xFF

T, P, S, X = StatusClass.TRANSIENT, StatusClass.PERMANENT, StatusClass.SESSION, StatusClass.BUG

# code: (name without ESME_ prefix, class, error class, description)
_TABLE: dict[int, tuple[str, StatusClass, type[ChannelsError], str]] = {
    0x00: ("ROK", StatusClass.OK, ChannelsError, "No error"),
    0x01: ("RINVMSGLEN", P, ContentRejected, "Message length is invalid"),
    0x02: ("RINVCMDLEN", X, RemoteProtocolError, "Command length is invalid"),
    0x03: ("RINVCMDID", X, RemoteProtocolError, "Invalid command id"),
    0x04: ("RINVBNDSTS", S, RemoteProtocolError, "Incorrect bind status for given command"),
    0x05: ("RALYBND", S, RemoteProtocolError, "ESME already in bound state"),
    0x06: ("RINVPRTFLG", P, SendRejected, "Invalid priority flag"),
    0x07: ("RINVREGDLVFLG", P, SendRejected, "Invalid registered delivery flag"),
    0x08: ("RSYSERR", T, RemoteTemporaryError, "System error"),
    0x0A: ("RINVSRCADR", P, SendRejected, "Invalid source address"),
    0x0B: ("RINVDSTADR", P, InvalidRecipient, "Invalid destination address"),
    0x0C: ("RINVMSGID", P, SendRejected, "Message id is invalid"),
    0x0D: ("RBINDFAIL", S, AuthenticationError, "Bind failed"),
    0x0E: ("RINVPASWD", S, AuthenticationError, "Invalid password"),
    0x0F: ("RINVSYSID", S, AuthenticationError, "Invalid system id"),
    0x11: ("RCANCELFAIL", P, SendRejected, "Cancel SM failed"),
    0x13: ("RREPLACEFAIL", P, SendRejected, "Replace SM failed"),
    0x14: ("RMSGQFUL", T, RemoteThrottled, "Message queue full"),
    0x15: ("RINVSERTYP", P, SendRejected, "Invalid service type"),
    0x33: ("RINVNUMDESTS", P, SendRejected, "Invalid number of destinations"),
    0x34: ("RINVDLNAME", P, SendRejected, "Invalid distribution list name"),
    0x40: ("RINVDESTFLAG", P, SendRejected, "Destination flag is invalid (submit_multi)"),
    0x42: ("RINVSUBREP", P, SendRejected, "Invalid submit with replace request"),
    0x43: ("RINVESMCLASS", P, SendRejected, "Invalid esm_class field data"),
    0x44: ("RCNTSUBDL", P, SendRejected, "Cannot submit to distribution list"),
    0x45: ("RSUBMITFAIL", P, SendRejected, "submit_sm or submit_multi failed"),
    0x48: ("RINVSRCTON", P, SendRejected, "Invalid source address TON"),
    0x49: ("RINVSRCNPI", P, SendRejected, "Invalid source address NPI"),
    0x50: ("RINVDSTTON", P, InvalidRecipient, "Invalid destination address TON"),
    0x51: ("RINVDSTNPI", P, InvalidRecipient, "Invalid destination address NPI"),
    0x53: ("RINVSYSTYP", S, AuthenticationError, "Invalid system_type field"),
    0x54: ("RINVREPFLAG", P, SendRejected, "Invalid replace_if_present flag"),
    0x55: ("RINVNUMMSGS", P, SendRejected, "Invalid number of messages"),
    0x58: ("RTHROTTLED", T, RemoteThrottled, "Throttling error (ESME has exceeded allowed message limits)"),
    0x61: ("RINVSCHED", P, SendRejected, "Invalid scheduled delivery time"),
    0x62: ("RINVEXPIRY", P, SendRejected, "Invalid message validity period (expiry time)"),
    0x63: ("RINVDFTMSGID", P, SendRejected, "Predefined message invalid or not found"),
    0x64: ("RX_T_APPN", T, RemoteTemporaryError, "ESME receiver temporary app error"),
    0x65: ("RX_P_APPN", P, SendRejected, "ESME receiver permanent app error"),
    0x66: ("RX_R_APPN", P, SendRejected, "ESME receiver reject message error"),
    0x67: ("RQUERYFAIL", P, SendRejected, "query_sm request failed"),
    0xC0: ("RINVTLVSTREAM", P, RemoteProtocolError, "Error in the optional part of the PDU body"),
    0xC1: ("RTLVNOTALLWD", P, RemoteProtocolError, "Optional parameter not allowed"),
    0xC2: ("RINVTLVLEN", P, RemoteProtocolError, "Invalid parameter length"),
    0xC3: ("RMISSINGTLV", P, RemoteProtocolError, "Expected optional parameter missing"),
    0xC4: ("RINVTLVVAL", P, RemoteProtocolError, "Invalid optional parameter value"),
    0xFE: ("RDELIVERYFAILURE", P, SendRejected, "Delivery failure (data_sm_resp)"),
    0xFF: ("RUNKNOWNERR", P, SendRejected, "Unknown error"),
}

STATUSES: dict[int, Status] = {
    code: Status(code, "ESME_" + name, cls, err, desc) for code, (name, cls, err, desc) in _TABLE.items()
}


def status_table(
    overrides: Mapping[int, tuple[str, StatusClass, type[ChannelsError]]] | None = None,
) -> dict[int, Status]:
    """The standard table with a gateway profile's vendor codes added or reinterpreted."""
    table = dict(STATUSES)
    for code, (name, cls, err) in (overrides or {}).items():
        table[code] = Status(code, name, cls, err, name)
    return table


def lookup(code: int, table: Mapping[int, Status] = STATUSES) -> Status:
    """The entry for ``code``; unknown codes (reserved, vendor range) are permanent rejections."""
    found = table.get(code)
    if found is not None:
        return found
    vendor = 0x400 <= code <= 0x4FF
    name = f"ESME_VENDOR_{code:#x}" if vendor else f"ESME_{code:#010x}"
    return Status(code, name, P, SendRejected, "vendor-specific error" if vendor else "reserved status")


def status_name(code: int) -> str:
    return lookup(code).name


def error_for(code: int, context: str, table: Mapping[int, Status] = STATUSES) -> ChannelsError:
    """The exception for a non-zero command_status, named in the message (``ESME_RTHROTTLED``)."""
    st = lookup(code, table)
    text = f"{context}: {st.name} ({code:#x}) {st.description}"
    if issubclass(st.error, SendRejected):
        return st.error(text, code=code, name=st.name)
    if issubclass(st.error, RemoteProtocolError):
        return st.error(text, status=code)
    if st.error is ChannelsError:
        return ConfigurationError(text)
    return st.error(text)
