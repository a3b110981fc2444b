"""Subscriber replies (MO) as the simulated SMSC sends them: deliver_sm without the receipt bit.

A handset's text is encoded as a handset would (GSM 03.38 when it fits, else UCS-2: "８８" arrives as
UCS-2), split when long with the method asked for (8/16-bit UDH, SAR TLVs or one message_payload; TS
23.040 §9.2.3.24, SMPP v3.4 §5.3.2.22-24, .32), one deliver_sm per part (SMPP v3.4 §4.6.1). Which
recipients reply, and with what, is decided by :class:`ReplyPlan`: seeded per recipient, so the same
scenario makes the same subscribers answer whatever order the campaign is sent in. Pure.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from channels.content import TextEncoding
from channels.smpp import pdu as codec
from channels.smpp.concat import ConcatMethod, split
from channels.smpp.constants import CommandId
from channels.smpp.encoding import encode_text
from channels.smpp.pdu import Pdu


def mo_pdus(
    source: str,
    destination: str,
    text: str,
    *,
    method: ConcatMethod = ConcatMethod.UDH8,
    ref: int = 0,
    encoding: TextEncoding | None = None,
    source_ton: int = 1,
    source_npi: int = 1,
) -> list[Pdu]:
    """The deliver_sm PDUs of one MO text from ``source`` (the handset) to ``destination`` (the
    short code or sender it answers)."""
    encoded = encode_text(text, encoding)
    limit = 0xFF if method is ConcatMethod.UDH8 else 0xFFFF
    segments = split(encoded, method, ref=ref & limit)
    return [
        codec.make(
            CommandId.DELIVER_SM,
            tlvs=seg.tlvs,
            source_addr_ton=source_ton,
            source_addr_npi=source_npi,
            source_addr=source,
            dest_addr_ton=0,
            dest_addr_npi=1 if destination.isdigit() else 0,
            destination_addr=destination,
            esm_class=seg.esm_class,
            data_coding=encoded.data_coding,
            short_message=seg.short_message,
        )
        for seg in segments
    ]


class ReplyPlan:
    """Who replies and with which text: a ``rate`` share of recipients, each once, texts by weight."""

    def __init__(self, seed: int, rate: float, replies: Mapping[str, float]) -> None:
        self.seed = seed
        self.rate = rate
        self._texts = list(replies)
        self._weights = list(replies.values())
        self._replied: set[str] = set()

    def reply_for(self, recipient: str) -> str | None:
        """The text ``recipient`` answers with, or None (not a replier, or already replied)."""
        if not self.rate or recipient in self._replied:
            return None
        rng = random.Random(f"{self.seed}/reply/{recipient}")
        if rng.random() >= self.rate:
            return None
        self._replied.add(recipient)
        return rng.choices(self._texts, self._weights)[0]
