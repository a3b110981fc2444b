"""The Channel protocol: what every adapter (SMPP, MM7, PAP, ARI, USSD) offers the Dispatcher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol, runtime_checkable

from channels.errors import ChannelsError
from channels.message import ChannelKind, Message
from channels.receipts import PendingReceipt
from channels.results import Event, SendResult


@runtime_checkable
class Channel(Protocol):
    """An adapter for one gateway.

    ``send`` returns when the gateway accepted the message (or raises a ChannelsError);
    ``events`` yields receipts and replies until the channel is closed. Receipts carry the gateway's
    ``remote_id`` and, when the adapter knows it, our ``message_id``. ``name`` tells gateways of the
    same kind apart in receipts and correlation.
    """

    kind: ChannelKind
    name: str

    async def send(self, message: Message) -> SendResult: ...

    def events(self) -> AsyncIterator[Event]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class BatchChannel(Protocol):
    """Optional fast path: send a chunk in one go (one encode pass, one write, no future per message).

    Returns, in order, a SendResult or the ChannelsError each message met; never raises for a
    single message's failure. ``on_accepted(index, result)``, where given, may be called as soon as
    a message is accepted, before the whole chunk is answered (its SendResult is returned too): the
    Dispatcher then tracks it at once, so a receipt that follows its response closely (a test
    SMSC's, a failure reported at once) finds it instead of waiting, parked, for the chunk.
    """

    async def send_batch(
        self, messages: Sequence[Message], on_accepted: AcceptedHook | None = None
    ) -> list[SendResult | ChannelsError]: ...


EventSink = Callable[[Event], None]
AcceptedHook = Callable[[int, SendResult], None]  # BatchChannel.send_batch: index in the chunk, result
PendingSink = Callable[[PendingReceipt], None]


@runtime_checkable
class SubscribableChannel(Protocol):
    """Optional fast path for events: the channel calls ``sink`` with each event as it decodes it,
    instead of queueing it for :meth:`Channel.events`. The Dispatcher subscribes where it can, which
    saves a queue and an async-generator step per receipt (DESIGN §6); once subscribed, the channel's
    own ``events()`` yields nothing more until it ends. ``sink`` must not block or raise.
    ``receipts``, where given, takes the receipts instead, unbuilt (:class:`PendingReceipt`), so that
    the Dispatcher's tracker builds each one once, already correlated.
    """

    def subscribe(self, sink: EventSink, receipts: PendingSink | None = None) -> None: ...
