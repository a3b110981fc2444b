"""``SmppClient``: the SMS channel over SMPP 3.4, on asyncio (ESME role).

A :class:`~channels.smpp.pool.BindPool` of one or more binds (TRX, or TX with RX receivers) carries the
submits; each bind keeps itself bound and paced (:mod:`channels.smpp.link`). Here a message becomes
parts (GSM 03.38 or UCS-2, split by the gateway's concatenation method), the parts' answers become
one :class:`SendResult` or one precise error, and deliver_sm/data_sm become events: receipts
(esm_class receipt types only, so a receipt is never read as MO: farhadi/node-smpp#140) and subscriber
replies, reassembled and matched against opt-out keywords.

Errors: a part with no answer makes the message :class:`OutcomeUnknown` (never resent, DESIGN §2.6); a
refusal maps through the status table to a :class:`SendRejected` subclass naming the status; when some
parts were accepted and another refused, :class:`PartiallyAccepted` says which, so nothing accepted is
ever resent by a message-level retry.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import structlog

from channels.channel import AcceptedHook, EventSink, PendingSink
from channels.clock import SYSTEM_CLOCK, Clock
from channels.content import Text
from channels.errors import ChannelsError, ConfigurationError, ContentRejected, OutcomeUnknown, SendRejected
from channels.inbound import KeywordMatcher, normalise_keyword
from channels.message import ChannelKind, Message, mask_msisdn
from channels.receipts import IdProfile, PendingReceipt
from channels.results import DeliveryState, Event, InboundMessage, SendResult
from channels.smpp import pdu as codec
from channels.smpp.concat import ConcatMethod, Reassembler, RefAllocator, fits_one, split
from channels.smpp.config import SmppConfig
from channels.smpp.constants import RECEIPT_TYPES, CommandId, EsmClass, RegisteredDelivery, Tag
from channels.smpp.dlr import ReceiptValues, read_receipt
from channels.smpp.encoding import encode_text
from channels.smpp.link import Request, SmppLink
from channels.smpp.pdu import Encoded, Pdu, PduError
from channels.smpp.pool import BindPool
from channels.smpp.status import error_for
from channels.smpp.transport import SmppTransport

log = structlog.get_logger(__name__)

_MAX_SHAPES = 256  # one-part submit_sm templates kept per client (encoded_parts)
# Used per message, as module names (an enum member costs an attribute lookup per use).
_SUBMIT_SM = CommandId.SUBMIT_SM
_MESSAGE_PAYLOAD = int(Tag.MESSAGE_PAYLOAD)
_SMS = ChannelKind.SMS

C = CommandId
DeliverHook = Callable[[Pdu], bool]


class PartiallyAccepted(SendRejected):
    """Some parts of a long message were accepted and at least one was refused for good.

    ``accepted`` maps part number (from 1) to the gateway's id, ``failed`` part number to the error.
    Not retriable: a resend would duplicate the accepted parts on the handset.
    """

    def __init__(
        self, message: str, *, accepted: Mapping[int, str], failed: Mapping[int, ChannelsError]
    ) -> None:
        first = failed[min(failed)]
        super().__init__(message, code=getattr(first, "code", None), name=getattr(first, "name", None))
        self.accepted = dict(accepted)
        self.failed = dict(failed)


class SmppClient:
    """An SMPP 3.4 ESME implementing the SMS :class:`~channels.channel.Channel`.

    ``deliver_hook`` sees every deliver_sm/data_sm first and may consume it (returns True): the USSD
    adapter uses it to take its session PDUs off the same bind.
    """

    kind = ChannelKind.SMS

    def __init__(
        self,
        config: SmppConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        deliver_hook: DeliverHook | None = None,
        connect_attempts: int | None = None,
    ) -> None:
        if connect_attempts is not None:
            config = dataclasses.replace(config, connect_attempts=connect_attempts)
        self.config = config
        self.name = config.name
        self.clock = clock
        self.deliver_hook = deliver_hook
        self.pool = BindPool(config, self._on_deliver)
        for link in self.pool.links:
            link.fast_filter = self._takes_fast_receipts
            link.on_receipt = self._on_receipt
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._sink: EventSink | None = None
        self._receipts: PendingSink | None = None
        self._read_at: float | None = None  # the read whose receipts are stamped _received_at
        self._received_at = self.clock.now()
        self._refs = RefAllocator()
        self._templates: dict[str | None, dict[str, Any]] = {}
        self._shapes: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}  # see encoded_parts
        self._reassembler = Reassembler(packed=config.packed)
        self._opt_out = KeywordMatcher(config.opt_out_keywords)
        self._closed = False

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> SmppClient:
        """``smpp://user:pass@host:port?bind=trx&window=64&tps=500`` (see :class:`SmppConfig`)."""
        return cls(SmppConfig.from_url(url, **overrides))

    # -- what the Dispatcher's receipt tracker reads (ReceiptTracker.adopt) ------------------------

    @property
    def id_profile(self) -> IdProfile:
        return self.config.id_profile

    @property
    def receipt_timeout_state(self) -> DeliveryState | None:
        """Failure-only receipts (registered_delivery 2): silence means delivered."""
        if self.config.registered_delivery & 0x03 == RegisteredDelivery.FAILURE:
            return DeliveryState.DELIVERED
        return None

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> SmppClient:
        try:
            await self.connect()
        except BaseException:
            await self.aclose(drain_timeout=0.0)  # no __aexit__ will come: leave nothing bound
            raise
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    @property
    def bound(self) -> bool:
        return self.pool.bound

    @property
    def links(self) -> list[SmppLink]:
        return self.pool.links

    @property
    def _proto(self) -> SmppTransport | None:
        """The first bind's transport (for tests that look at the wire)."""
        return self.pool.links[0].proto

    async def connect(self) -> None:
        """Connect and bind every link, retrying transport failures with exponential backoff and jitter."""
        await self.pool.connect()

    async def aclose(self, *, drain_timeout: float = 5.0) -> None:
        """Stop sending, wait (bounded) for in-flight responses, unbind every link, close."""
        if self._closed:
            return
        self._closed = True
        await self.pool.aclose(drain_timeout=drain_timeout)
        self._events.put_nowait(None)

    # -- sending -----------------------------------------------------------------------------------

    async def request(self, pdu: Pdu) -> Pdu:
        """Send any request PDU within the window; returns its response. A non-zero status raises the
        mapped error (ESME_RTHROTTLED → RemoteThrottled, ...); no response → OutcomeUnknown."""
        resp = await self.pool.pick().exchange(pdu)
        if resp.status:
            raise error_for(resp.status, pdu.name)
        return resp

    def _source(self, sender: str | None) -> tuple[str, int, int]:
        cfg = self.config
        src = sender or cfg.default_sender
        if cfg.source_ton is not None:
            return src, cfg.source_ton, cfg.source_npi if cfg.source_npi is not None else 0
        digits = src.lstrip("+")
        if not digits:
            return "", 0, 0
        if not digits.isdigit():
            return src, 5, 0
        return digits, (1 if len(digits) > 8 else 0), 1

    def parts_of(self, message: Message) -> list[Pdu]:
        """The submit_sm PDUs of ``message`` (one per part), as :meth:`send` would send them."""
        return [
            Pdu(C.SUBMIT_SM, 0, 0, params, dict(tlvs)) for params, tlvs in self._submit_values(message)
        ]

    def encoded_parts(self, message: Message) -> list[Encoded]:
        """:meth:`parts_of`, encoded: what :meth:`send` and :meth:`send_batch` keep in flight (bytes,
        not a Pdu with its dicts). Raises ConfigurationError, ContentRejected (text too long, or a
        field that does not encode, named).

        A campaign sends one text from one sender to many numbers, so a one-part message is cut from
        a template: the submit_sm body of its (sender, text, receipt) with the destination left out,
        made the general way by the first message of that shape (which meets every check and error)
        and kept for the next ones, which only add their number (16 → 2 µs per message)."""
        content = message.content
        key = (message.sender, content, message.want_receipt)
        try:
            head, tail = self._shapes[key]
        except (KeyError, TypeError):  # TypeError: content that cannot be a key (not a Text)
            return self._encode_parts(message, key)
        destination = message.to.lstrip("+")
        if not (destination.isascii() and destination.isdigit() and len(destination) <= 20):
            return self._encode_parts(message, key)  # which says what is wrong with it
        return [Encoded(_SUBMIT_SM, head + destination.encode() + tail)]

    def _encode_parts(self, message: Message, key: tuple[Any, ...]) -> list[Encoded]:
        try:
            parts = [
                Encoded(C.SUBMIT_SM, codec.encode_params(C.SUBMIT_SM, params, tlvs))
                for params, tlvs in self._submit_values(message)
            ]
        except PduError as exc:
            raise ContentRejected(f"message {message.id}: {exc}", code=exc.status) from exc
        if len(parts) == 1 and isinstance(message.content, Text):
            self._remember_shape(message, key, parts[0].body)
        return parts

    def _remember_shape(self, message: Message, key: tuple[Any, ...], body: bytes) -> None:
        """Keep the template of a one-part message: its body around the destination_addr field
        (§4.4.1), found where the encodings for destinations "1" and "2" differ, so no offset is
        hard-coded here; kept only if it rebuilds all three encodings exactly."""
        one, two = (
            codec.encode_params(C.SUBMIT_SM, *self._submit_values(dataclasses.replace(message, to=to))[0])
            for to in ("1", "2")
        )
        at = next((i for i, (a, b) in enumerate(zip(one, two, strict=False)) if a != b), -1)
        head, tail = one[:at], one[at + 1 :]
        destination = message.to.lstrip("+").encode()
        if at < 0 or two != head + b"2" + tail or body != head + destination + tail:
            return
        if len(self._shapes) >= _MAX_SHAPES:  # personalised texts: each is new, keep the cache small
            self._shapes.clear()
        self._shapes[key] = (head, tail)

    def _submit_values(self, message: Message) -> list[tuple[dict[str, Any], dict[int, bytes]]]:
        """Each part's submit_sm fields and TLVs."""
        content = message.content
        if not isinstance(content, Text):
            raise ConfigurationError(f"SMPP channel sends Text, not {type(content).__name__}")
        destination = message.to.lstrip("+")
        if not destination.isdigit() or len(destination) > 20:
            raise ConfigurationError(
                f"message {message.id}: destination {mask_msisdn(message.to)} is not a number"
            )
        cfg = self.config
        encoded = encode_text(content.body, content.encoding)
        # A reference only for a text that is cut (PROTOCOLS.md §2.4: monotonic per destination).
        ref = 0
        if not fits_one(encoded, packed=cfg.packed):
            ref = self._refs.next(destination, bits=8 if cfg.concat is ConcatMethod.UDH8 else 16)
        segments = split(encoded, cfg.concat, ref=ref, max_parts=cfg.max_parts, packed=cfg.packed)
        common = self._submit_fields(message.sender)
        common["destination_addr"] = destination
        common["registered_delivery"] = cfg.registered_delivery if message.want_receipt else 0
        common["data_coding"] = encoded.data_coding
        if len(segments) == 1:  # the usual case: the copy made for this message is the part's own
            seg = segments[0]
            common["esm_class"] = seg.esm_class
            common["short_message"] = seg.short_message
            return [(common, seg.tlvs)]
        # Every name is a submit_sm field (checked once, in _submit_fields): no codec.make here.
        return [
            ({**common, "esm_class": seg.esm_class, "short_message": seg.short_message}, seg.tlvs)
            for seg in segments
        ]

    def _submit_fields(self, sender: str | None) -> dict[str, Any]:
        """The submit_sm fields that depend only on the configuration and the sender, built (and
        checked against the codec's table) once per sender and copied per message."""
        fields = self._templates.get(sender)
        if fields is None:
            cfg = self.config
            source, ston, snpi = self._source(sender)
            fields = codec.make(
                C.SUBMIT_SM,
                service_type=cfg.service_type,
                source_addr_ton=ston,
                source_addr_npi=snpi,
                source_addr=source,
                dest_addr_ton=cfg.dest_ton,
                dest_addr_npi=cfg.dest_npi,
            ).params
            if len(self._templates) < 1024:
                self._templates[sender] = fields
        return dict(fields)

    async def send(self, message: Message) -> SendResult:
        """Submit an SMS (split into parts when long) over one bind; returns when every part is
        accepted. Parts answered with a transient status are resent by the bind, alone."""
        pdus = self.encoded_parts(message)
        link = self.pool.pick()
        answers: list[Pdu | BaseException]
        if len(pdus) == 1:
            try:
                answers = [await link.submit(pdus[0])]
            except OutcomeUnknown as exc:
                answers = [exc]
        else:
            answers = await asyncio.gather(*(link.submit(p) for p in pdus), return_exceptions=True)
        remote_ids = _collect(message, answers)
        log.debug("smpp.submit.accepted", message_id=message.id, parts=len(pdus), link=link.name)
        return SendResult(
            message_id=message.id,
            channel=self.kind,
            remote_ids=remote_ids,
            accepted_at=self.clock.now(),
            parts=len(pdus),
        )

    async def send_batch(
        self, messages: Sequence[Message], on_accepted: AcceptedHook | None = None
    ) -> list[SendResult | ChannelsError]:
        """The bulk path (:class:`~channels.channel.BatchChannel`): every part of every message goes
        out as the window allows, written once per loop turn, with one future for the whole batch;
        returns each message's SendResult or the error it met (same rules as :meth:`send`).
        A one-part message accepted at the first try is told to ``on_accepted`` as its
        submit_sm_resp is read."""
        out: list[SendResult | ChannelsError | None] = [None] * len(messages)
        pdus: list[Request] = []
        owners: list[tuple[int, int, int]] = []  # message index, first pdu, parts
        single: list[int] = []  # per pdu: the index of its message if it is the only part, else -1
        for i, message in enumerate(messages):
            try:
                # Encoded now: a message waiting for its answers holds bytes, not Pdu dicts, and
                # one that cannot be encoded is refused before any of its parts goes out.
                parts = self.encoded_parts(message)
            except ChannelsError as exc:
                out[i] = exc
                continue
            owners.append((i, len(pdus), len(parts)))
            pdus.extend(parts)
            single.extend((i,) if len(parts) == 1 else (-1,) * len(parts))
        on_answer = None
        if on_accepted is not None:
            kind, accepted_at = self.kind, self.clock.now()

            def on_answer(k: int, answer: Pdu | ChannelsError) -> None:
                i = single[k]
                if i >= 0 and type(answer) is Pdu and not answer.status:  # one part, accepted
                    result = out[i] = SendResult(
                        message_id=messages[i].id,
                        channel=kind,
                        remote_ids=(answer.get("message_id"),),
                        accepted_at=accepted_at,
                    )
                    try:
                        on_accepted(i, result)
                    except Exception:  # runs inside a read: never let it break the link
                        log.exception("smpp.batch.on_accepted_failed", message_id=result.message_id)
                        out[i] = None  # the result goes the usual way, after the batch

        answers = await self.pool.pick().submit_many(pdus, on_answer) if pdus else []
        now = self.clock.now()
        for i, first, count in owners:
            if out[i] is not None:  # told to on_accepted already
                continue
            message = messages[i]
            answer = answers[first]
            if count == 1 and type(answer) is Pdu and not answer.status:  # one part, accepted
                out[i] = SendResult(
                    message_id=message.id,
                    channel=self.kind,
                    remote_ids=(answer.get("message_id"),),
                    accepted_at=now,
                )
                continue
            try:
                remote_ids = _collect(message, list(answers[first : first + count]))
            except ChannelsError as exc:
                out[i] = exc
                continue
            out[i] = SendResult(
                message_id=message.id, channel=self.kind, remote_ids=remote_ids, accepted_at=now, parts=count
            )
        return [r for r in out if r is not None]

    # -- deliver_sm / data_sm from any link --------------------------------------------------------

    def subscribe(self, sink: EventSink, receipts: PendingSink | None = None) -> None:
        """Hand every event to ``sink`` as it is decoded instead of queueing it for :meth:`events`
        (:class:`~channels.channel.SubscribableChannel`; the Dispatcher's path), and receipts to
        ``receipts``, unbuilt, where given. Events already queued go to ``sink`` first, in order."""
        self._sink = sink
        self._receipts = receipts
        while not self._events.empty():
            event = self._events.get_nowait()
            if event is None:
                self._events.put_nowait(None)
                break
            sink(event)

    def _takes_fast_receipts(self) -> bool:
        """Whether the links' fast path may take receipts (:mod:`channels.smpp.fastpath`): not while a
        deliver_hook wants to see every deliver_sm first."""
        return self.deliver_hook is None

    def _on_receipt(
        self, short_message: bytes, data_coding: int, tlvs: Mapping[int, bytes], read_at: float | None = None
    ) -> None:
        """A deliver_sm/data_sm receipt (decoded, or from the fast path): to the subscriber's
        ``receipts`` unbuilt, or as a DeliveryReceipt to the event sink or queue. The receipts of
        one read (``read_at``, its loop time) share one reading of the clock."""
        body = tlvs.get(_MESSAGE_PAYLOAD) or short_message
        values = read_receipt(body, tlvs, data_coding, self.config.acceptd_state)
        if values is None:
            log.warning("smpp.receipt.unparsed", gateway=self.name)
            return
        if read_at is None or read_at != self._read_at:
            self._read_at, self._received_at = read_at, self.clock.now()
        pending = _pending_receipt(values, self._received_at, self.name)
        if self._receipts is not None:
            self._receipts(pending)
        else:
            self._emit(pending.build())

    def _emit(self, event: Event | None) -> None:
        if event is not None:
            if self._sink is not None:
                self._sink(event)
            else:
                self._events.put_nowait(event)

    def _on_deliver(self, pdu: Pdu, link: SmppLink) -> None:
        if self.deliver_hook is not None and self.deliver_hook(pdu):
            return
        esm = pdu.get("esm_class")
        if esm & EsmClass.TYPE_MASK in RECEIPT_TYPES:
            self._on_receipt(pdu.get("short_message") or b"", pdu.get("data_coding"), pdu.tlvs)
        else:
            self._emit(self._reply(pdu, esm))

    def _reply(self, pdu: Pdu, esm: int) -> Event | None:
        """A subscriber's reply (an MO deliver_sm/data_sm), once all its parts are in."""
        now = self.clock.now()
        body = pdu.tlvs.get(Tag.MESSAGE_PAYLOAD) or pdu.get("short_message") or b""
        whole = self._reassembler.feed(
            source=pdu.get("source_addr"),
            destination=pdu.get("destination_addr"),
            short_message=body,
            esm_class=esm,
            tlvs=pdu.tlvs,
            data_coding=pdu.get("data_coding"),
            now=asyncio.get_running_loop().time(),
        )
        if whole is None:
            return None
        return InboundMessage(
            channel=self.kind,
            sender=pdu.get("source_addr"),
            recipient=pdu.get("destination_addr"),
            text=whole.text,
            at=now,
            gateway=self.name,
            keyword=normalise_keyword(whole.text),
            opt_out=self._opt_out.match(whole.text) is not None,
            detail={"data_coding": whole.data_coding, "parts": whole.parts},
        )

    async def events(self) -> AsyncIterator[Event]:
        while (event := await self._events.get()) is not None:
            yield event
        self._events.put_nowait(None)


def _collect(message: Message, answers: list[Pdu | BaseException]) -> tuple[str, ...]:
    """The parts' ids when every part was accepted; else the one error that says what happened."""
    accepted: dict[int, str] = {}
    unknown: list[int] = []
    failed: dict[int, ChannelsError] = {}
    for number, answer in enumerate(answers, 1):
        if isinstance(answer, OutcomeUnknown):
            unknown.append(number)
        elif isinstance(answer, ChannelsError):
            failed[number] = answer
        elif isinstance(answer, BaseException):
            raise answer
        elif answer.status:
            failed[number] = error_for(answer.status, f"submit_sm {message.id} to {mask_msisdn(message.to)}")
        else:
            accepted[number] = answer.get("message_id")
    total = len(answers)
    if unknown:
        raise OutcomeUnknown(
            f"message {message.id}: no answer for part(s) {unknown} of {total}"
            + (f"; part(s) {sorted(accepted)} accepted as {list(accepted.values())}" if accepted else "")
        )
    if not failed:
        return tuple(accepted[n] for n in range(1, total + 1))
    if not accepted:
        raise failed[min(failed)]
    names = ", ".join(f"part {n}: {getattr(e, 'name', None) or e}" for n, e in sorted(failed.items()))
    raise PartiallyAccepted(
        f"message {message.id}: part(s) {sorted(accepted)} of {total} accepted as {list(accepted.values())}, "
        f"refused {names}",
        accepted=accepted,
        failed=failed,
    )


def _pending_receipt(values: ReceiptValues, now: datetime, gateway: str) -> PendingReceipt:
    remote_id, state, stat, message_state, error_code, network_error, _raw = values
    detail: dict[str, Any] = {"stat": stat} if stat else {}
    if message_state is not None:
        detail["message_state"] = message_state
    if network_error is not None:
        detail["network_error"] = network_error
    return PendingReceipt(_SMS, state, remote_id, now, error_code, detail, gateway)
