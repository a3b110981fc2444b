"""Direct mode: the WAP_PUSH channel without a PPG, sending the compiled SI/SL as binary SMS over our
SMPP client (WAP-259 WDP over GSM SMS; SMPP 3.4 §4.4.1).

Operators that own an SMSC bind skip the PPG and do its last step themselves: the push is compiled to
WBXML, wrapped in a WSP push PDU (TID incremented per push, as Kannel does), split into port-addressed
UDH segments, and each segment is one submit_sm with data_coding 0x04 and esm_class UDHI (0x40, or
Kannel's 0x43), ``more_messages_to_send`` = 1 on all but the last (PROTOCOLS.md §1.10, §5.3-5.5).
Receipts are SMS delivery receipts, one per segment, relabelled WAP_PUSH; the Dispatcher's tracker
folds the parts. :func:`submit_pdus` is the pure part; :class:`WapSmppChannel` the I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import structlog

from channels.clock import SYSTEM_CLOCK, Clock
from channels.content import WapPush
from channels.errors import ConfigurationError, ContentRejected, InvalidRecipient
from channels.message import ChannelKind, Message, mask_msisdn
from channels.results import DeliveryReceipt, Event, SendResult
from channels.smpp import pdu as codec
from channels.smpp.client import SmppClient
from channels.smpp.concat import RefAllocator
from channels.smpp.constants import CommandId, DataCoding, EsmClass, Tag
from channels.smpp.pdu import Pdu
from channels.wap.push import push_segments

log = structlog.get_logger(__name__)

_MORE: dict[int, bytes] = {Tag.MORE_MESSAGES_TO_SEND: codec.tlv_u8(1)}


@dataclass(frozen=True, slots=True, kw_only=True)
class WapSubmitTemplate:
    """The submit_sm fields that are the same for every push on one bind."""

    source_addr: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 1
    dest_addr_npi: int = 1
    service_type: str = ""
    esm_class: int = EsmClass.UDHI  # Kannel: 0x43 (UDHI + store and forward)
    validity_period: str = ""
    max_segments: int = 10  # Kannel max-messages
    application_id: str | None = None


def source_address(sender: str) -> tuple[str, int, int]:
    """(address, TON, NPI): alphanumeric → 5/0; digits → international 1/1 when longer than 8."""
    digits = sender.lstrip("+")
    if not digits:
        return "", 0, 0
    if not digits.isdigit():
        return sender, 5, 0
    return digits, (1 if len(digits) > 8 else 0), 1


def submit_pdus(
    push: WapPush,
    destination: str,
    template: WapSubmitTemplate,
    *,
    tid: int,
    ref: int,
    want_receipt: bool = True,
) -> list[Pdu]:
    """One submit_sm per WDP segment (sequence numbers are assigned by the connection)."""
    segments = push_segments(
        push, tid=tid, ref=ref, application_id=template.application_id, max_segments=template.max_segments
    )
    last = len(segments) - 1
    return [
        codec.make(
            CommandId.SUBMIT_SM,
            tlvs=_MORE if i < last else None,
            service_type=template.service_type,
            source_addr_ton=template.source_addr_ton,
            source_addr_npi=template.source_addr_npi,
            source_addr=template.source_addr,
            dest_addr_ton=template.dest_addr_ton,
            dest_addr_npi=template.dest_addr_npi,
            destination_addr=destination,
            esm_class=template.esm_class,
            validity_period=template.validity_period,
            registered_delivery=1 if want_receipt else 0,
            data_coding=DataCoding.BINARY_WAP,
            short_message=segment,
        )
        for i, segment in enumerate(segments)
    ]


_OWN_PARAMS = ("esm_class", "max_segments", "application_id", "validity_period")


class WapSmppChannel:
    """Channel(WAP_PUSH) over its own SMPP bind. ``WapSmppChannel.from_url("wap+smpp://u:p@h:2775?
    esm_class=0x43&window=32")``: our options (``esm_class``, ``max_segments``, ``application_id``,
    ``validity_period``) plus every SMPP option of ``SmppConfig``."""

    kind = ChannelKind.WAP_PUSH

    def __init__(
        self,
        client: SmppClient,
        *,
        template: WapSubmitTemplate | None = None,
        name: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.client = client
        self.name = name or client.name
        self.clock = clock
        cfg = client.config
        if template is None:
            address, ton, npi = source_address(cfg.default_sender)
            if cfg.source_ton is not None:
                ton, npi = cfg.source_ton, cfg.source_npi or 0
            template = WapSubmitTemplate(
                source_addr=address,
                source_addr_ton=ton,
                source_addr_npi=npi,
                dest_addr_ton=cfg.dest_ton,
                dest_addr_npi=cfg.dest_npi,
                service_type=cfg.service_type,
            )
        self.template = template
        self._refs = RefAllocator()
        self._tid = 0

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = SYSTEM_CLOCK, **overrides: Any) -> WapSmppChannel:
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        own = {k: query.pop(k) for k in _OWN_PARAMS if k in query}
        own.update({k: overrides.pop(k) for k in _OWN_PARAMS if k in overrides})
        scheme = "smpp" if parts.scheme == "wap+smpp" else parts.scheme
        smpp_url = urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), ""))
        overrides.setdefault("name", "wap-smpp")
        channel = cls(SmppClient.from_url(smpp_url, **overrides), clock=clock)
        channel.template = dataclasses.replace(channel.template, **_own_values(own))
        return channel

    async def __aenter__(self) -> WapSmppChannel:
        await self.client.connect()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, message: Message) -> SendResult:
        push = message.content
        if not isinstance(push, WapPush):
            raise ContentRejected(
                f"WAP push channel sends WapPush, not {type(push).__name__}", name="content"
            )
        destination = message.to.strip().lstrip("+")
        if not destination.isdigit() or len(destination) > 20:
            raise InvalidRecipient(f"message {message.id}: {mask_msisdn(message.to)} is not a number")
        template = self.template
        if message.sender:
            address, ton, npi = source_address(message.sender)
            template = dataclasses.replace(
                template, source_addr=address, source_addr_ton=ton, source_addr_npi=npi
            )
        tid, self._tid = self._tid, (self._tid + 1) & 0xFF
        ref = self._refs.next(destination)
        pdus = submit_pdus(push, destination, template, tid=tid, ref=ref, want_receipt=message.want_receipt)
        remote_ids = [(await self.client.request(pdu)).get("message_id") for pdu in pdus]
        log.debug("wap.direct.accepted", message_id=message.id, parts=len(pdus))
        return SendResult(
            message_id=message.id,
            channel=self.kind,
            remote_ids=tuple(remote_ids),
            accepted_at=self.clock.now(),
            parts=len(pdus),
        )

    async def events(self) -> AsyncIterator[Event]:
        """The bind's delivery receipts (one per segment), as WAP_PUSH receipts of this channel."""
        async for event in self.client.events():
            if isinstance(event, DeliveryReceipt):
                yield dataclasses.replace(event, channel=self.kind, gateway=self.name)
            else:
                yield event


def _own_values(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("esm_class", "max_segments"):
            try:
                out[key] = int(value, 0) if isinstance(value, str) else int(value)
            except ValueError:
                raise ConfigurationError(f"WAP push URL: {key}={value!r} is not a number") from None
        else:
            out[key] = value or None if key == "application_id" else value
    if not 1 <= out.get("max_segments", 1) <= 255:
        raise ConfigurationError("WAP push URL: max_segments must be 1..255")
    return out
