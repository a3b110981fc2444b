"""What the simulated SMSC does: a seeded scenario of outcomes, receipt variants, trouble and replies.

Each field reproduces a behaviour operators' SMSCs show (PROTOCOLS.md §3, §10), so a test or a demo can
ask for it by name: receipts in every text variant and id spelling (hex or decimal, padded, lower case,
different from the submit_sm_resp id), receipts before the response, ACCEPTD before the final state,
throttling, errors every Nth submit, a dropped or stalled link, binds refused for a while or because a
never-unbound session still counts, and subscribers who reply. Pure data plus :func:`format_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from channels.results import DeliveryState
from channels.smpp import status as st
from channels.smpp.concat import ConcatMethod
from channels.smpp.dlr import NOMINAL_STYLE, ReceiptStyle


@dataclass(frozen=True, slots=True)
class IdStyle:
    """How a message id is written: base 16 or 10, zero-padded to ``width``, hex letters' case."""

    base: int = 16
    width: int = 0
    lower: bool = False

    def __post_init__(self) -> None:
        if self.base not in (10, 16):
            raise ValueError(f"IdStyle.base: {self.base} is not 10 or 16")


def format_id(number: int, style: IdStyle) -> str:
    """``number`` as ``style`` writes it: 0x00B8BE19 → ``00B8BE19``, ``b8be19``, ``12107289``."""
    return format(number, id_spec(style))


def id_spec(style: IdStyle) -> str:
    """The ``format()`` spec that writes ids in ``style`` ("X", "08X", "x", "012d"): the simulator
    keeps it and formats each id with one C call."""
    digits = ("x" if style.lower else "X") if style.base == 16 else "d"
    return f"0{style.width}{digits}" if style.width else digits


class ReceiptForm(StrEnum):
    """Where the receipt's facts travel (PROTOCOLS.md §3.1)."""

    BOTH = "both"  # text in short_message + receipted_message_id / message_state TLVs
    TLV = "tlv"  # TLVs only, empty short_message
    TEXT = "text"  # the text only (no TLVs): the id must be read from "id:"


@dataclass(frozen=True, slots=True, kw_only=True)
class SmscScenario:
    """How the simulated SMSC behaves. Seeded: the same scenario gives the same outcomes."""

    seed: int = 0
    response_latency: float = 0.0  # seconds before submit_sm_resp
    max_tps: float = 0.0  # per account; above it ESME_RTHROTTLED (0 = unlimited)
    receipts: bool = True
    receipt_delay: float = 0.05  # seconds after the submit_sm_resp
    outcomes: Mapping[DeliveryState, float] = field(default_factory=lambda: {DeliveryState.DELIVERED: 1.0})
    error_every: int = 0  # answer every Nth submit with error_status (0 = never)
    error_status: int = st.ESME_RSYSERR
    hex_ids: bool = True  # message ids as hex (True) or decimal, when response_ids is not given
    window: int = 512  # how many deliver_sm we keep outstanding per bind
    enquire_link_interval: float = 30.0
    inactivity_timeout: float = 300.0
    # -- message ids (PROTOCOLS.md §3.4) --
    response_ids: IdStyle | None = None  # submit_sm_resp ids (None: hex or decimal per hex_ids)
    receipt_ids: IdStyle | None = None  # how receipts spell the same id (None: as the response)
    # -- receipt variants (PROTOCOLS.md §3.2) --
    receipt_style: ReceiptStyle = NOMINAL_STYLE
    receipt_date_digits: int = 10  # 10, 12 or 14
    receipt_form: ReceiptForm = ReceiptForm.BOTH
    receipt_data_coding: int = 0  # 8: the receipt text in UCS-2 (farhadi/node-smpp#68)
    receipt_vendor_tlvs: Mapping[int, bytes] = field(default_factory=dict)  # e.g. {0x1400: b"..."}
    receipt_first: bool = False  # the receipt overtakes the submit_sm_resp (elibom/mokai#15)
    acceptd_first: bool = False  # an ACCEPTD receipt (message_state 6) before the final one (jasmin#885)
    # -- trouble --
    drop_after: int = 0  # accept the Nth submit_sm of a session, then drop the link unanswered
    drop_times: int = 1  # how many sessions are dropped so (0 = every one)
    stall_after: int = 0  # at the Nth submit_sm of a session stop reading and answering ...
    stall_for: float = 0.0  # ... for this long (enquire_link goes unanswered too)
    stall_times: int = 1  # how many sessions stall (0 = every one)
    refuse_binds_for: float = 0.0  # refuse every bind for this long after start
    refuse_status: int = st.ESME_RBINDFAIL
    max_binds: int = 0  # per account (0 = no limit); one more is refused with ESME_RALYBND
    stale_bind_for: float = 0.0  # a session dropped without unbind still counts this long (vumi#624)
    # -- subscribers' replies (MO) --
    reply_rate: float = 0.0  # share of recipients who reply once, after reply_delay
    replies: Mapping[str, float] = field(default_factory=lambda: {"88": 1.0})  # text → weight
    reply_delay: float = 0.1
    reply_method: ConcatMethod = ConcatMethod.UDH8  # how long replies are concatenated

    def __post_init__(self) -> None:
        if self.receipt_date_digits not in (10, 12, 14):
            raise ValueError(f"receipt_date_digits: {self.receipt_date_digits} is not 10, 12 or 14")
        if not 0.0 <= self.reply_rate <= 1.0:
            raise ValueError(f"reply_rate: {self.reply_rate} is not a share in 0..1")
        if self.reply_rate and not self.replies:
            raise ValueError("replies: give at least one reply text when reply_rate > 0")
        for name in ("drop_after", "drop_times", "stall_after", "stall_times", "max_binds", "error_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0")

    @property
    def response_id_style(self) -> IdStyle:
        return self.response_ids or IdStyle(base=16 if self.hex_ids else 10)

    @property
    def receipt_id_style(self) -> IdStyle:
        return self.receipt_ids or self.response_id_style
