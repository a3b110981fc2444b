"""USSD-over-SMPP gateway profiles: which ``ussd_service_op`` values mean what, and how a session is
keyed (SMPP 3.4 §5.3.2: ussd_service_op 0x0501, its_session_info 0x1383, user_message_reference
0x0204; PROTOCOLS.md §6).

SMPP carries USSD as submit_sm/deliver_sm with ``service_type`` "USSD" and two TLVs, but every
vendor reads them its own way: 6D sends ``0x01`` new / ``0x12`` continue / ``0x81`` close and wants
``0x02`` / ``0x17`` back, with a 15-bit dialogue id and an end bit in ``its_session_info``; Mica keys
sessions on ``user_message_reference`` (praekeltfoundation/vumi ``transports/smpp/processors/``). So
the op codes in both directions and the session key are data, one :class:`UssdProfile` per gateway,
used by the adapter (ESME role) and by the USSD gateway simulator (SMSC role) alike. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from channels.errors import ConfigurationError
from channels.smpp.constants import Tag
from channels.smpp.constants import UssdServiceOp as Op
from channels.smpp.pdu import Pdu


class SessionKey(StrEnum):
    """Where a gateway carries the session number."""

    ITS_SESSION_INFO = "its_session_info"  # octet 1 session, octet 2: dialogue step << 1 | end bit
    ITS_DIALOG_ID = "its_dialog_id"  # 6D: 15-bit dialogue id << 1 | end bit, no step
    USER_MESSAGE_REFERENCE = "user_message_reference"  # Mica: 2-octet reference, end told by the op


class Inbound(StrEnum):
    """What a gateway → application PDU means (deliver_sm)."""

    BEGIN = "begin"  # PSSR indication: the subscriber dialled a service code
    ANSWER = "answer"  # USSR confirm: the answer to a menu
    CONFIRM = "confirm"  # USSN confirm: the notification was shown
    ABORT = "abort"  # the subscriber or the network ended the dialogue


class Outbound(StrEnum):
    """What an application → gateway PDU means (submit_sm)."""

    MENU = "menu"  # USSR request: show a screen and wait for the answer
    NOTIFY = "notify"  # USSN request: show a notification
    END = "end"  # PSSR response / release: last screen, the dialogue ends


# Standard ops (3GPP TS 24.090 names as SMPP 3.4 numbers them). "17" is sent by some gateways as
# 0x17 (python-smpp hex quirk, see vumi's sixdee.py): accept both as a release (PROTOCOLS.md §6).
_STD_INBOUND: dict[int, Inbound] = {
    Op.PSSR_INDICATION: Inbound.BEGIN,
    Op.USSR_CONFIRM: Inbound.ANSWER,
    Op.USSN_CONFIRM: Inbound.CONFIRM,
    Op.PSSR_RESPONSE: Inbound.ABORT,
    0x17: Inbound.ABORT,
}
_STD_OUTBOUND: dict[int, Outbound] = {
    Op.USSR_REQUEST: Outbound.MENU,
    Op.USSN_REQUEST: Outbound.NOTIFY,
    Op.PSSR_RESPONSE: Outbound.END,
    0x17: Outbound.END,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class UssdProfile:
    """One gateway's USSD dialect. Application side sends ``menu_op``/``notify_op``/``end_op`` and
    reads deliver_sm through ``inbound``; the gateway side sends ``begin_op``/``answer_op``/
    ``confirm_op``/``abort_op`` (None: ``answer_op`` with the end bit) and reads through ``outbound``.
    ``unknown_inbound``: how to take an op missing from the table (6D/Mica: "continue")."""

    name: str
    service_type: str = "USSD"
    menu_op: int = Op.USSR_REQUEST
    notify_op: int = Op.USSN_REQUEST
    end_op: int = Op.PSSR_RESPONSE
    begin_op: int = Op.PSSR_INDICATION
    answer_op: int = Op.USSR_CONFIRM
    confirm_op: int = Op.USSN_CONFIRM
    abort_op: int | None = None
    inbound: Mapping[int, Inbound] = field(default_factory=lambda: dict(_STD_INBOUND))
    outbound: Mapping[int, Outbound] = field(default_factory=lambda: dict(_STD_OUTBOUND))
    unknown_inbound: Inbound | None = None
    session_key: SessionKey = SessionKey.ITS_SESSION_INFO
    ussn_confirm: bool = True  # the gateway answers a USSN with a USSN confirm
    service_code_field: str = "short_message"  # or "destination_addr" (vumi ussd_code_pdu_field)
    gsm_data_coding: int = 0x00
    ucs2_data_coding: int = 0x08
    max_gsm_chars: int = 182  # 160 octets of packed GSM 7-bit (PROTOCOLS.md §6, libosmocore gsm0480.h)
    max_ucs2_chars: int = 80

    # -- session keys ------------------------------------------------------------------------------

    @property
    def session_space(self) -> int:
        """How many distinct session numbers the key can carry."""
        return {SessionKey.ITS_SESSION_INFO: 256, SessionKey.ITS_DIALOG_ID: 0x8000}.get(
            self.session_key, 0x10000
        )

    def session_tlvs(self, number: int, step: int, end: bool) -> dict[int, bytes]:
        """The TLV that carries session ``number`` (``0 <= number < session_space``) at ``step``."""
        key = self.session_key
        if key is SessionKey.ITS_SESSION_INFO:
            return {Tag.ITS_SESSION_INFO: bytes((number & 0xFF, (step & 0x7F) << 1 | end))}
        if key is SessionKey.ITS_DIALOG_ID:
            return {Tag.ITS_SESSION_INFO: ((number & 0x7FFF) << 1 | end).to_bytes(2, "big")}
        return {Tag.USER_MESSAGE_REFERENCE: (number & 0xFFFF).to_bytes(2, "big")}

    def session_of(self, pdu: Pdu) -> tuple[int, int, bool] | None:
        """(session number, dialogue step, end bit) of a PDU, or None when the key TLV is missing."""
        if self.session_key is SessionKey.USER_MESSAGE_REFERENCE:
            raw = pdu.tlvs.get(Tag.USER_MESSAGE_REFERENCE)
            return (int.from_bytes(raw, "big"), 0, False) if raw else None
        raw = pdu.tlvs.get(Tag.ITS_SESSION_INFO)
        if raw is None or len(raw) != 2:
            return None
        if self.session_key is SessionKey.ITS_SESSION_INFO:
            return raw[0], raw[1] >> 1, bool(raw[1] & 1)
        value = int.from_bytes(raw, "big")
        return value >> 1, 0, bool(value & 1)

    # -- op codes ----------------------------------------------------------------------------------

    def classify_inbound(self, op: int, end: bool) -> Inbound | None:
        """Meaning of a deliver_sm; the end bit on anything but a confirm is an abort."""
        kind = self.inbound.get(op, self.unknown_inbound)
        if end and kind is not Inbound.CONFIRM:
            return Inbound.ABORT
        return kind

    def classify_outbound(self, op: int, end: bool) -> Outbound | None:
        """Meaning of a submit_sm; the end bit makes any screen the last."""
        kind = self.outbound.get(op)
        if end and kind is not None:
            return Outbound.END
        return kind

    def op_for(self, kind: Outbound) -> int:
        return {Outbound.MENU: self.menu_op, Outbound.NOTIFY: self.notify_op, Outbound.END: self.end_op}[kind]


STANDARD = UssdProfile(name="standard")

# 6D (vumi sixdee.py): ops as hex octets 01 new, 12 continue, 81 close; sends 02 and 17 (= 0x17);
# the USSN confirm 19 is read as 0x13 by the same spelling;
# its_session_info: 15-bit dialogue id, bit 0 end of session.
SIXDEE = UssdProfile(
    name="6d",
    end_op=0x17,
    begin_op=0x01,
    answer_op=0x12,
    abort_op=0x81,
    inbound={0x01: Inbound.BEGIN, 0x12: Inbound.ANSWER, 0x13: Inbound.CONFIRM, 0x81: Inbound.ABORT},
    outbound={0x02: Outbound.MENU, 0x03: Outbound.NOTIFY, 0x17: Outbound.END, 0x11: Outbound.END},
    unknown_inbound=Inbound.ANSWER,
    session_key=SessionKey.ITS_DIALOG_ID,
)

# Mica (vumi mica.py): 01 new, 17 close, anything else continue; sends 02 and 17; sessions keyed on
# user_message_reference, so the end of a dialogue is told by the op alone.
MICA = UssdProfile(
    name="mica",
    end_op=0x17,
    begin_op=0x01,
    answer_op=0x12,
    abort_op=0x17,
    inbound={0x01: Inbound.BEGIN, 0x13: Inbound.CONFIRM, 0x17: Inbound.ABORT, 0x11: Inbound.ABORT},
    outbound={0x02: Outbound.MENU, 0x03: Outbound.NOTIFY, 0x17: Outbound.END, 0x11: Outbound.END},
    unknown_inbound=Inbound.ANSWER,
    session_key=SessionKey.USER_MESSAGE_REFERENCE,
)

PROFILES: dict[str, UssdProfile] = {p.name: p for p in (STANDARD, SIXDEE, MICA)}


def get_profile(name: str | UssdProfile) -> UssdProfile:
    """A profile by name (``standard``, ``6d``, ``mica``), or the profile given."""
    if isinstance(name, UssdProfile):
        return name
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ConfigurationError(f"USSD profile {name!r} is not known (known: {known})") from None
