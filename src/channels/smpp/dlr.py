"""Delivery receipts in SMPP: the receipt text of SMPP v3.4 Appendix B in its real-world variants, and the
receipted_message_id / message_state / network_error_code TLVs (§5.3.2.12, .35, .31; PROTOCOLS.md §3).

SMSCs disagree on the text: 10-, 12- or 14-digit dates, ``err`` of 3-4 characters or not numeric, missing
``sub``/``dlvrd``/``text``, any case, vendor fields, ``Text:`` spelled as in the appendix. So the text is
read one ``key:value`` at a time by one tolerant pattern, never by a fixed layout, and the TLVs win when
both exist. :func:`format_receipt_text` writes the nominal form for the simulator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from channels.results import DeliveryState
from channels.smpp.constants import MessageState, Tag
from channels.smpp.encoding import decode_text

STAT_TO_STATE: dict[str, DeliveryState] = {
    "ENROUTE": DeliveryState.ACCEPTED,
    "DELIVRD": DeliveryState.DELIVERED,
    "EXPIRED": DeliveryState.EXPIRED,
    "DELETED": DeliveryState.UNDELIVERABLE,
    "UNDELIV": DeliveryState.UNDELIVERABLE,
    "ACCEPTD": DeliveryState.ACCEPTED,
    "UNKNOWN": DeliveryState.UNKNOWN,
    "REJECTD": DeliveryState.REJECTED,
}
# Spellings seen beside the 7-letter words of Appendix B.
STAT_ALIASES: dict[str, str] = {
    "DELIVERED": "DELIVRD",
    "DELIVER": "DELIVRD",
    "UNDELIVERABLE": "UNDELIV",
    "UNDELIVERED": "UNDELIV",
    "FAILED": "UNDELIV",
    "ACCEPTED": "ACCEPTD",
    "REJECTED": "REJECTD",
    "EXPIRE": "EXPIRED",
    "ENROUTED": "ENROUTE",
}
MESSAGE_STATE_TO_STATE: dict[int, DeliveryState] = {
    0: DeliveryState.ACCEPTED,  # SCHEDULED (SMPP 5.0)
    MessageState.ENROUTE: DeliveryState.ACCEPTED,
    MessageState.DELIVERED: DeliveryState.DELIVERED,
    MessageState.EXPIRED: DeliveryState.EXPIRED,
    MessageState.DELETED: DeliveryState.UNDELIVERABLE,
    MessageState.UNDELIVERABLE: DeliveryState.UNDELIVERABLE,
    MessageState.ACCEPTED: DeliveryState.ACCEPTED,
    MessageState.UNKNOWN: DeliveryState.UNKNOWN,
    MessageState.REJECTED: DeliveryState.REJECTED,
    9: DeliveryState.UNDELIVERABLE,  # SKIPPED (SMPP 5.0)
}
STATE_TO_STAT: dict[DeliveryState, str] = {
    DeliveryState.ACCEPTED: "ACCEPTD",
    DeliveryState.DELIVERED: "DELIVRD",
    DeliveryState.EXPIRED: "EXPIRED",
    DeliveryState.UNDELIVERABLE: "UNDELIV",
    DeliveryState.REJECTED: "REJECTD",
    DeliveryState.UNKNOWN: "UNKNOWN",
}
STATE_TO_MESSAGE_STATE: dict[DeliveryState, int] = {
    DeliveryState.ACCEPTED: MessageState.ACCEPTED,
    DeliveryState.DELIVERED: MessageState.DELIVERED,
    DeliveryState.EXPIRED: MessageState.EXPIRED,
    DeliveryState.UNDELIVERABLE: MessageState.UNDELIVERABLE,
    DeliveryState.REJECTED: MessageState.REJECTED,
    DeliveryState.UNKNOWN: MessageState.UNKNOWN,
}
_ACCEPTD_STATES = frozenset({"ACCEPTD"})

# A key starts a line or follows white space; "submit date" and "done date" have a space (or _) inside.
_KEY = re.compile(r"(?<!\S)(submit[ _]?date|done[ _]?date|[a-z][\w-]*)[ \t]?:", re.IGNORECASE)
# The nominal layout of Appendix B, tried first: most SMSCs send exactly this.
_NOMINAL = re.compile(
    r"id:(\S+) sub:(\S*) dlvrd:(\S*) submit date:(\d*) done date:(\d*) stat:(\S*) err:(\S*)"
    r"(?: [Tt]ext:(.*))?",
    re.DOTALL,
)
_DATE_FORMATS = {10: "%y%m%d%H%M", 12: "%y%m%d%H%M%S", 14: "%Y%m%d%H%M%S"}


@dataclass(frozen=True, slots=True)
class ReceiptText:
    """The fields of a receipt text, as strings; ``stat`` upper-cased ("" when absent)."""

    id: str
    sub: str | None
    dlvrd: str | None
    submit_date: str | None
    done_date: str | None
    stat: str
    err: str | None
    text: str | None
    extra: dict[str, str] = field(default_factory=dict)


def _normal_key(key: str) -> str:
    key = key.lower()
    if key.startswith(("submit", "done")) and key.endswith("date"):
        return "submit_date" if key.startswith("submit") else "done_date"
    return key


def parse_receipt_text(text: str) -> ReceiptText | None:
    """Read a receipt text; None when it has no ``id``. Unknown keys land in ``extra`` (lower-cased);
    ``text:`` takes the rest of the line, whatever it contains."""
    nominal = _NOMINAL.fullmatch(text)
    if nominal is not None:
        rid, sub, dlvrd, submitted, done, stat, err, body = nominal.groups()
        stat = stat.upper()
        return ReceiptText(rid, sub, dlvrd, submitted, done, STAT_ALIASES.get(stat, stat), err, body, {})
    return parse_receipt_fields(text)


def parse_receipt_fields(text: str) -> ReceiptText | None:
    """The general reader behind :func:`parse_receipt_text`: one ``key:value`` at a time, any order."""
    fields: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for index, match in enumerate(matches):
        key = _normal_key(match.group(1))
        if key == "text":
            fields.setdefault(key, text[match.end() :])
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields.setdefault(key, text[match.end() : end].strip())
    receipt_id = fields.pop("id", "")
    if not receipt_id:
        return None
    stat = fields.pop("stat", "").upper()
    return ReceiptText(
        id=receipt_id,
        sub=fields.pop("sub", None),
        dlvrd=fields.pop("dlvrd", None),
        submit_date=fields.pop("submit_date", None),
        done_date=fields.pop("done_date", None),
        stat=STAT_ALIASES.get(stat, stat),
        err=fields.pop("err", None),
        text=fields.pop("text", None),
        extra=fields,
    )


def parse_receipt_date(value: str | None, tz: tzinfo = UTC) -> datetime | None:
    """A receipt date of 10 (YYMMDDhhmm), 12 (+ss) or 14 (YYYYMMDDhhmmss) digits; None if not one.
    SMSCs write local time without a zone: ``tz`` says which (UTC by default)."""
    if not value or not value.isdigit() or len(value) not in _DATE_FORMATS:
        return None
    try:
        return datetime.strptime(value, _DATE_FORMATS[len(value)]).replace(tzinfo=tz)
    except ValueError:
        return None


def format_receipt_date(when: datetime, digits: int = 10) -> str:
    """``when`` as 10, 12 or 14 receipt-date digits."""
    if digits not in _DATE_FORMATS:
        raise ValueError(f"date_digits: {digits} is not 10, 12 or 14")
    return when.strftime(_DATE_FORMATS[digits])


@dataclass(frozen=True, slots=True)
class ReceiptStyle:
    """How an SMSC writes its receipt text: the variants of PROTOCOLS.md §3.2, so the simulator can send
    each one (and tests can check we read each one). The default is Appendix B's nominal form."""

    omit: frozenset[str] = frozenset()  # of sub, dlvrd, submit_date, done_date, err, text
    upper_keys: bool = False  # "ID:... STAT:..."
    lower_stat: bool = False  # "stat:delivrd"
    text_key: str = "text"  # Appendix B itself spells it "Text"
    err_digits: int = 3  # a numeric err zero-padded to this width ("0000": onlinecity/php-smpp#70)
    extra: tuple[tuple[str, str], ...] = ()  # vendor fields, written before text


NOMINAL_STYLE = ReceiptStyle()


def format_receipt_text(
    *,
    id: str,  # the field name of Appendix B
    stat: str,
    err: str = "000",
    submit_date: datetime,
    done_date: datetime,
    text: str = "",
    sub: int = 1,
    dlvrd: int | None = None,
    date_digits: int = 10,
    style: ReceiptStyle = NOMINAL_STYLE,
) -> str:
    """A receipt text (SMPP v3.4 Appendix B), nominal unless ``style`` says otherwise. ``dlvrd``
    defaults to ``sub`` when DELIVRD, else 0; ``text`` is cut to its first 20 characters."""
    if dlvrd is None:
        dlvrd = sub if stat == "DELIVRD" else 0
    if style is NOMINAL_STYLE:
        return (
            f"id:{id} sub:{sub:03d} dlvrd:{dlvrd:03d}"
            f" submit date:{format_receipt_date(submit_date, date_digits)}"
            f" done date:{format_receipt_date(done_date, date_digits)}"
            f" stat:{stat} err:{err} text:{text[:20]}"
        )
    fields = [
        ("id", id),
        ("sub", f"{sub:03d}"),
        ("dlvrd", f"{dlvrd:03d}"),
        ("submit_date", format_receipt_date(submit_date, date_digits)),
        ("done_date", format_receipt_date(done_date, date_digits)),
        ("stat", stat.lower() if style.lower_stat else stat),
        ("err", err.zfill(style.err_digits) if err.isdigit() else err),
        *style.extra,
        ("text", text[:20]),
    ]
    words = []
    for key, value in fields:
        if key in style.omit:
            continue
        name = style.text_key if key == "text" else key.replace("_", " ")
        words.append(f"{name.upper() if style.upper_keys else name}:{value}")
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class ParsedReceipt:
    """A receipt read from a deliver_sm / data_sm: TLVs first, the text as the fallback."""

    remote_id: str
    state: DeliveryState
    stat: str | None  # the text's stat word, upper-cased
    message_state: int | None  # the TLV value
    error_code: str | None  # the text's err, else the network error code
    network_error: tuple[int, int] | None  # (type, code) from network_error_code
    raw: str | None  # the receipt text as received

    @property
    def final(self) -> bool:
        return self.state.is_final

    @property
    def fields(self) -> ReceiptText | None:
        """Every field of the text, read on demand (the hot path needs only id, stat and err)."""
        return parse_receipt_text(self.raw) if self.raw else None


def _id_stat_err(text: str) -> tuple[str, str, str | None] | None:
    """The three words of a receipt text the SDK acts on, without building a :class:`ReceiptText`
    for the nominal layout (most receipts); other layouts take the general reader."""
    nominal = _NOMINAL.fullmatch(text)
    if nominal is not None:
        rid, stat, err = nominal.group(1, 6, 7)
        stat = stat.upper()
        return rid, STAT_ALIASES.get(stat, stat), err
    fields = parse_receipt_fields(text)
    return None if fields is None else (fields.id, fields.stat, fields.err)


def state_from_stat(stat: str, *, acceptd_state: DeliveryState = DeliveryState.ACCEPTED) -> DeliveryState:
    """The SDK state of a stat word (aliases allowed); unknown words are UNKNOWN."""
    stat = STAT_ALIASES.get(stat.upper(), stat.upper())
    if stat in _ACCEPTD_STATES:
        return acceptd_state
    return STAT_TO_STATE.get(stat, DeliveryState.UNKNOWN)


def _c_string(value: bytes) -> str:
    return value.split(b"\x00", 1)[0].decode("latin-1").strip()


def _network_error(value: bytes | None) -> tuple[int, int] | None:
    if value is None or len(value) != 3:
        return None
    return value[0], int.from_bytes(value[1:], "big")


def _text_of(text: bytes | str | None, tlvs: Mapping[int, bytes], data_coding: int) -> str | None:
    if isinstance(text, str):
        return text
    raw = text or tlvs.get(Tag.MESSAGE_PAYLOAD)
    if not raw:
        return None
    decoded = decode_text(raw, data_coding)
    if data_coding != 0 and "id:" not in decoded.lower():
        decoded = raw.decode("latin-1")  # mislabelled receipt text (farhadi/node-smpp#68)
    elif raw[:1] == b"\x00" and len(raw) % 2 == 0:
        decoded = raw.decode("utf-16-be", "replace")  # UCS-2 receipt text labelled as default
    return decoded


# The TLVs a receipt is read from, as plain ints (an IntEnum member costs an attribute lookup each).
_RECEIPTED_MESSAGE_ID = int(Tag.RECEIPTED_MESSAGE_ID)
_MESSAGE_STATE = int(Tag.MESSAGE_STATE)
_NETWORK_ERROR_CODE = int(Tag.NETWORK_ERROR_CODE)
_ACCEPTED = int(MessageState.ACCEPTED)

ReceiptValues = tuple[
    str, DeliveryState, "str | None", "int | None", "str | None", "tuple[int, int] | None", "str | None"
]


def receipt_from_fields(
    *,
    text: bytes | str | None,
    tlvs: Mapping[int, bytes],
    data_coding: int = 0,
    acceptd_state: DeliveryState = DeliveryState.ACCEPTED,
) -> ParsedReceipt | None:
    """Read a receipt from its text and TLVs. receipted_message_id, message_state and network_error_code
    win over the text's id, stat and err; the raw text is kept. None when no id is found at all.

    ``text`` is short_message (bytes, decoded by ``data_coding``) or an already-decoded str; with None,
    message_payload is used. ``acceptd_state`` is the profile's reading of ACCEPTD / message_state 6
    (PROTOCOLS.md §3.3): ACCEPTED (non-final) by default, DELIVERED or UNKNOWN where it is final.
    """
    values = read_receipt(text, tlvs, data_coding, acceptd_state)
    return None if values is None else ParsedReceipt(*values)


def read_receipt(
    text: bytes | str | None,
    tlvs: Mapping[int, bytes],
    data_coding: int,
    acceptd_state: DeliveryState,
) -> ReceiptValues | None:
    """:func:`receipt_from_fields` as the tuple of :class:`ParsedReceipt`'s fields, in order: the
    client's receipt path builds its DeliveryReceipt from it without the intermediate object."""
    raw = _text_of(text, tlvs, data_coding)
    words = _id_stat_err(raw) if raw else None
    tlv_id = tlvs.get(_RECEIPTED_MESSAGE_ID)
    remote_id = _c_string(tlv_id) if tlv_id else ""
    if not remote_id and words is not None:
        remote_id = words[0]
    if not remote_id:
        return None
    state_tlv = tlvs.get(_MESSAGE_STATE)
    message_state = state_tlv[0] if state_tlv else None
    stat = words[1] if words is not None and words[1] else None
    state = MESSAGE_STATE_TO_STATE.get(message_state) if message_state is not None else None
    if state is not None:
        if message_state == _ACCEPTED:
            state = acceptd_state
    elif stat is not None:
        state = state_from_stat(stat, acceptd_state=acceptd_state)
    else:
        state = DeliveryState.UNKNOWN
    network_error = _network_error(tlvs.get(_NETWORK_ERROR_CODE)) if _NETWORK_ERROR_CODE in tlvs else None
    error_code = f"{network_error[1]:03d}" if network_error is not None else None
    if error_code is None and words is not None:
        error_code = words[2]
    return remote_id, state, stat, message_state, error_code, network_error, raw
