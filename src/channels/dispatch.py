"""The Dispatcher: one async interface over every channel, with the policy pipeline in front.

Every send passes the policies in order (validate → opt-out → quiet hours → dedup → rate, as the
caller arranges them). The first ``Defer``/``Reject`` stops the pipeline and the policies that had
already allowed the message roll back their reservations. An allowed message goes to the adapter for
its kind; retriable failures are retried here with tenacity (message level, DESIGN §2.5), and an
``OutcomeUnknown`` is never retried. Accepted messages are registered with the
:class:`~channels.receipts.ReceiptTracker`, so ``events()`` yields receipts already correlated to
``Message.id``, plus subscribers' replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import structlog
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from channels.channel import AcceptedHook, Channel
from channels.clock import SYSTEM_CLOCK, Clock
from channels.deferral import DeferredFeed, Sleep, evaluate_waiting, waits_for_token
from channels.errors import ChannelClosed, ChannelsError, ConfigurationError, SendRejected
from channels.eventqueue import EventQueue
from channels.inbound import is_opt_out, normalise_keyword
from channels.message import ChannelKind, Message
from channels.policy import ALLOW, Allow, Decision, Defer, Policy, Reject, evaluate_chunk
from channels.receipts import PendingReceipt, ReceiptTracker
from channels.results import (
    Deferred,
    DeliveryReceipt,
    Event,
    Failed,
    InboundMessage,
    Outcome,
    Rejected,
    SendResult,
    Sent,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """Message-level retry of retriable errors (throttling, transient gateway errors, transport)."""

    attempts: int = 4
    initial: float = 0.2
    maximum: float = 10.0
    jitter: float = 0.2


def _retriable(exc: BaseException) -> bool:
    return isinstance(exc, ChannelsError) and exc.retriable


class Dispatcher:
    """Send messages over the right channel, subject to policies; merge receipts and replies.

    Use as an async context manager; ``aclose()`` closes the channels it was given.
    """

    def __init__(
        self,
        channels: Iterable[Channel] | Mapping[ChannelKind, Channel],
        *,
        policies: Sequence[Policy] = (),
        clock: Clock = SYSTEM_CLOCK,
        retry: RetrySettings = RetrySettings(),
        tracker: ReceiptTracker | None = None,
        expiry_check: float = 1.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        items = channels.values() if isinstance(channels, Mapping) else channels
        self._channels: dict[ChannelKind, Channel] = {}
        for ch in items:
            if ch.kind in self._channels:
                raise ConfigurationError(f"two channels for kind {ch.kind.value!r}")
            self._channels[ch.kind] = ch
        self.policies: list[Policy] = list(policies)
        self.clock = clock
        self.sleep = sleep  # waits for rate tokens and deferred messages (a fake clock's, in tests)
        self.retry = retry
        self.tracker = tracker or ReceiptTracker()
        for ch in self._channels.values():
            self.tracker.adopt(ch)  # per-gateway receipt id profile (PROTOCOLS.md §3.4)
        self._expiry_check = expiry_check
        self._hooked: dict[str, bool] = {}  # per channel: whether its send_batch takes on_accepted
        self._events: EventQueue[Event] = EventQueue()
        self._tasks: set[asyncio.Task[None]] = set()
        # The send() calls joining the one collecting this loop turn's calls (None: nobody collects).
        self._queued: list[tuple[Message, asyncio.Future[Outcome]]] | None = None
        self._started = False
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> Dispatcher:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for ch in self._channels.values():
            await ch.aclose()
        self._events.put_nowait(None)

    def channel(self, kind: ChannelKind) -> Channel:
        try:
            return self._channels[kind]
        except KeyError:
            raise ConfigurationError(f"no channel configured for kind {kind.value!r}") from None

    # -- policies ----------------------------------------------------------------------------------

    async def evaluate(self, message: Message) -> Decision:
        """Run the pipeline; on refusal roll back the policies that had allowed."""
        now = self.clock.now()
        passed: list[Policy] = []
        for policy in self.policies:
            decision = await policy.evaluate(message, now)
            if not isinstance(decision, Allow):
                for done in reversed(passed):
                    await done.rollback(message)
                return decision
            passed.append(policy)
        return ALLOW

    async def _rollback(self, message: Message) -> None:
        for policy in reversed(self.policies):
            await policy.rollback(message)

    # -- sending -----------------------------------------------------------------------------------

    async def send(self, message: Message) -> Sent | Deferred | Rejected:
        """Send one message. Policy refusals and gateway rejections are returned; transport
        failures and unknown outcomes are raised (after the policies' reservations are undone).
        A rate limit's refusal is waited out (channels.deferral); other deferrals are returned."""
        if self._closed:
            raise ChannelClosed("dispatcher is closed")
        self.channel(message.kind)  # no channel for this kind: ConfigurationError before any policy runs
        # One path for one message and for many (DESIGN §6: no second copy of the logic), and the
        # send() calls made in one loop turn share one chunk: many callers each sending one message
        # (a web handler per request, a task per subscriber) get the bulk path's per-message cost,
        # and a backlog after a stall is cleared as one batch, not one by one. A call cancelled
        # before its loop turn ends is dropped; after that its message goes out with its chunk.
        queue = self._queued
        if queue is not None:  # another send() of this loop turn collects the calls: join it
            waiter: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            queue.append((message, waiter))
            outcome = await waiter
        else:
            self._queued = queue = []
            try:
                await asyncio.sleep(0)  # the other send() calls of this turn join the queue
            except BaseException:
                self._queued = None
                self._start_queued(queue)  # cancelled while collecting: the others still go
                raise
            self._queued = None
            if queue:  # one chunk for all, in a task of its own: cancelling this caller must not
                # cut the others' sends short
                waiter = asyncio.get_running_loop().create_future()
                self._start_queued([(message, waiter), *queue])
                outcome = await waiter
            else:  # alone (sequential sends): no task, no future
                [outcome] = await self._send_chunk([message])
        if isinstance(outcome, Failed):
            raise outcome.error
        return outcome

    def _start_queued(self, queued: list[tuple[Message, asyncio.Future[Outcome]]]) -> None:
        live = [(m, w) for m, w in queued if not w.done()]  # cancelled callers are dropped
        for start in range(0, len(live), _QUEUED_CHUNK):
            self._spawn(self._send_queued(live[start : start + _QUEUED_CHUNK]))

    async def _send_queued(self, queued: list[tuple[Message, asyncio.Future[Outcome]]]) -> None:
        try:
            outcomes = await self._send_chunk([m for m, _ in queued])
        except BaseException as exc:  # a bug or the dispatcher closing: every caller hears of it
            error = exc if isinstance(exc, Exception) else ChannelClosed("dispatcher is closed")
            for _, waiter in queued:
                if not waiter.done():
                    waiter.set_exception(error)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, waiter), outcome in zip(queued, outcomes, strict=True):
            if not waiter.done():
                waiter.set_result(outcome)

    def _accepted(self, channel: Channel, message: Message, result: SendResult, now: datetime) -> Sent:
        for event in self.tracker.register(channel.name, result, now):
            self._events.put_nowait(event)
        return Sent(message, result)

    async def _retry(self, channel: Channel, message: Message, attempts: int) -> SendResult:
        """Resend after a retriable failure, with exponential backoff and jitter (tenacity)."""
        r = self.retry
        await asyncio.sleep(r.initial)
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_retriable),
            stop=stop_after_attempt(max(1, attempts)),
            wait=wait_exponential_jitter(multiplier=r.initial, max=r.maximum, jitter=r.jitter),
            reraise=True,
        ):
            with attempt:
                return await channel.send(message)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the bulk path -----------------------------------------------------------------------------

    async def _send_chunk(self, messages: Sequence[Message]) -> list[Outcome]:
        """The fast path (DESIGN §6): decide the chunk policy by policy (one store round trip each),
        then hand each channel its allowed messages at once (``send_batch`` where it has one).
        A message the rate limiter holds back goes out at its slot, not with the rest of the chunk:
        what was allowed before it is sent first, so waiting never turns into a burst."""
        if len(messages) == 1:  # Dispatcher.send: the policies' one-message path is the cheaper one
            decisions = [await self.evaluate(messages[0])]
        else:
            decisions = await evaluate_chunk(self.policies, messages, self.clock.now())
        outcomes: list[Outcome | None] = [None] * len(messages)
        ready: list[int] = []
        channels = self._channels
        for i, (message, decision) in enumerate(zip(messages, decisions, strict=True)):
            if decision is ALLOW and message.kind in channels:  # the common case, first
                ready.append(i)
                continue
            if waits_for_token(decision):
                await self._flush(messages, ready, outcomes)
                decision = await evaluate_waiting(self.evaluate, message, self.clock, self.sleep)
            refused = _refusal(message, decision)
            if refused is not None:
                outcomes[i] = refused
            elif message.kind not in self._channels:
                await self._rollback(message)
                outcomes[i] = Failed(
                    message, ConfigurationError(f"no channel for kind {message.kind.value!r}")
                )
            else:
                ready.append(i)
        await self._flush(messages, ready, outcomes)
        return [o for o in outcomes if o is not None]

    async def _flush(
        self, messages: Sequence[Message], ready: list[int], outcomes: list[Outcome | None]
    ) -> None:
        """Send the allowed messages collected so far, one batch per channel kind."""
        groups: dict[ChannelKind, list[int]] = {}
        for i in ready:
            groups.setdefault(messages[i].kind, []).append(i)
        ready.clear()
        for kind, indices in groups.items():
            channel = self._channels[kind]
            group = [messages[i] for i in indices]
            self._ensure_started()
            now = self.clock.now()
            # A message accepted before its chunk is done is tracked at once (BatchChannel).
            accepted = functools.partial(self._accepted_early, channel, messages, indices, outcomes, now)
            try:
                results = await self._deliver(channel, group, accepted)
            except BaseException:  # a bug or a cancellation: undo the reservations, then let it out
                for i, message in zip(indices, group, strict=True):
                    if outcomes[i] is None:  # not accepted (and tracked) already
                        await self._rollback(message)
                raise
            for i, message, result in zip(indices, group, results, strict=True):
                if outcomes[i] is not None:  # tracked as it was accepted
                    continue
                if isinstance(result, SendResult):
                    outcomes[i] = self._accepted(channel, message, result, now)
                else:
                    outcomes[i] = await self._refused(message, result)

    def _accepted_early(
        self,
        channel: Channel,
        messages: Sequence[Message],
        indices: list[int],
        outcomes: list[Outcome | None],
        now: datetime,
        k: int,
        result: SendResult,
    ) -> None:
        i = indices[k]
        outcomes[i] = self._accepted(channel, messages[i], result, now)

    async def _deliver(
        self, channel: Channel, group: list[Message], accepted: AcceptedHook | None = None
    ) -> list[SendResult | ChannelsError]:
        batch = getattr(channel, "send_batch", None)  # BatchChannel; getattr: cheaper than isinstance
        if batch is not None:
            hooked = self._hooked.get(channel.name)
            if hooked is None:  # a BatchChannel written before on_accepted existed is called without it
                hooked = self._hooked[channel.name] = "on_accepted" in inspect.signature(batch).parameters
            results = list(await (batch(group, accepted) if hooked else batch(group)))
        elif len(group) == 1:
            results = [await self._attempt(channel, group[0])]
        else:
            results = list(await asyncio.gather(*(self._attempt(channel, m) for m in group)))
        for k, result in enumerate(results):
            if isinstance(result, ChannelsError) and result.retriable and self.retry.attempts > 1:
                try:
                    results[k] = await self._retry(channel, group[k], self.retry.attempts - 1)
                except ChannelsError as exc:
                    results[k] = exc
        return results

    async def _attempt(self, channel: Channel, message: Message) -> SendResult | ChannelsError:
        try:
            return await channel.send(message)
        except ChannelsError as exc:
            return exc

    async def _refused(self, message: Message, result: ChannelsError) -> Outcome:
        await self._rollback(message)
        if isinstance(result, SendRejected):
            return Rejected(message, f"gateway: {result}", result)
        return Failed(message, result)

    async def send_many(
        self,
        messages: Iterable[Message] | AsyncIterable[Message],
        *,
        concurrency: int = 64,
        ordered: bool = False,
        hold_deferred: bool = True,
        max_held: int = 100_000,
    ) -> AsyncIterator[Outcome]:
        """Send many messages with at most ``concurrency`` in flight; yield each outcome.

        This is the fast path, not a loop over :meth:`send`: two workers each take a chunk of half
        of ``concurrency`` from the source, decide it in one pass through the policies and hand it
        to the channel at once (DESIGN §6), so one chunk is answered while the other is sent.
        Messages are pulled from ``messages`` only as chunks free up (back-pressure: a generator
        over a 5-million-row file is never read ahead; an async source is read at most
        ``concurrency`` messages ahead, and a chunk never waits for its next message: what the
        source has given goes out at once), and outcomes queue at most
        ``concurrency`` deep, so a slow consumer slows the senders. ``ordered=True`` yields in input
        order. Deferred messages (quiet hours) are held in a time-ordered queue of at most
        ``max_held`` and sent when due (``hold_deferred=False`` yields them as ``Deferred``).
        """
        if concurrency < 1:
            raise ConfigurationError("concurrency must be >= 1")
        if self._closed:
            raise ChannelClosed("dispatcher is closed")
        # Two workers, each with half the window: one chunk is being answered while the other is
        # decided and written, and every chunk is large enough that the per-chunk work of the
        # policies and the batch (about 30 us of policy stages alone) is spread thin. Four workers
        # of 16 cost 12% more CPU per message for the same window (bench/rawsmsc, full pipeline).
        workers = min(2, concurrency)
        chunk = -(-concurrency // workers)
        feed = DeferredFeed(messages, self.clock, self.sleep, max_held, read_ahead=concurrency)
        # One queue item per chunk, not per outcome; as many chunks as workers may wait in it, so a
        # slow consumer still stops the senders (at most about ``concurrency`` outcomes queued).
        results: asyncio.Queue[list[tuple[int, Outcome]] | None] = asyncio.Queue(maxsize=workers)

        async def worker() -> None:
            while batch := await feed.take(chunk):
                outcomes = await self._send_chunk([m for _, m in batch])
                done = [
                    (index, outcome)
                    for (index, _), outcome in zip(batch, outcomes, strict=True)
                    if not feed.settle(index, outcome, hold_deferred)
                ]
                if done:
                    await results.put(done)

        async def run() -> None:
            try:
                async with asyncio.TaskGroup() as tg:
                    for _ in range(workers):
                        tg.create_task(worker())
            except asyncio.CancelledError:
                # The consumer is gone (it closed this generator, or the loop is shutting down):
                # nobody waits for the end marker, and with the queue full, waiting to put it
                # would never end.
                raise
            except BaseException:
                await results.put(None)  # the consumer reads on to the marker, then sees the error
                raise
            await results.put(None)

        runner = asyncio.create_task(run())
        pending: dict[int, Outcome] = {}
        next_index = 0
        try:
            while (items := await results.get()) is not None:
                for index, outcome in items:
                    if not ordered:
                        yield outcome
                        continue
                    pending[index] = outcome
                    while next_index in pending:
                        yield pending.pop(next_index)
                        next_index += 1
            await runner  # surfaces a worker's unexpected exception
        finally:
            if not runner.done():
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
            await feed.close()

    async def send_all(self, messages: Iterable[Message], *, concurrency: int = 64) -> list[Outcome]:
        """``send_many`` collected in input order."""
        return [o async for o in self.send_many(messages, concurrency=concurrency, ordered=True)]

    # -- events ------------------------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self._started or self._closed:
            return
        self._started = True
        for ch in self._channels.values():
            subscribe = getattr(ch, "subscribe", None)  # SubscribableChannel: no queue hop per event
            if subscribe is not None:
                sink = functools.partial(self._on_event, ch.name)
                if "receipts" in inspect.signature(subscribe).parameters:
                    subscribe(sink, self._on_pending)
                else:  # a channel written before receipts could be handed over unbuilt
                    subscribe(sink)
            else:
                self._spawn(self._pump(ch))
        self._spawn(self._expire_loop())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pump(self, channel: Channel) -> None:
        async for event in channel.events():
            self._on_event(channel.name, event)

    def _on_pending(self, pending: PendingReceipt) -> None:
        """A receipt from a subscribed channel, unbuilt: correlated, then built once, with our id."""
        put = self._events.put_nowait
        for out in self.tracker.on_pending(pending):
            put(out)

    def _on_event(self, gateway: str, event: Event) -> None:
        """One event from a channel: receipts are correlated, replies get their keyword."""
        put = self._events.put_nowait
        if isinstance(event, DeliveryReceipt):
            if event.gateway is None:
                event = dataclasses.replace(event, gateway=gateway)
            for out in self.tracker.on_receipt(event, self.clock.now()):
                put(out)
        else:
            put(_with_keyword(event))

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(self._expiry_check)
            for event in self.tracker.expire(self.clock.now()):
                self._events.put_nowait(event)

    async def events(self) -> AsyncIterator[Event]:
        """Receipts (correlated to ``Message.id``) and replies from every channel, as they come."""
        self._ensure_started()
        queue = self._events
        items = queue.items
        while True:
            await queue.wait()
            while items:  # everything queued, without a wait per event (channels.eventqueue)
                event = items[0]
                if event is None:  # the end marker stays queued: a second consumer ends too
                    return
                items.popleft()
                yield event

    async def next_event(self, timeout: float | None = None) -> Event:
        """The next event, for scripts and tests; raises TimeoutError."""
        self._ensure_started()
        event = await asyncio.wait_for(self._events.get(), timeout)
        if event is None:
            raise ChannelClosed("dispatcher is closed")
        return event


_QUEUED_CHUNK = 512  # send() calls of one loop turn per chunk


def _refusal(message: Message, decision: Decision) -> Deferred | Rejected | None:
    if isinstance(decision, Defer):
        log.debug("dispatch.deferred", message_id=message.id, reason=decision.reason)
        return Deferred(message, decision.until, decision.reason)
    if isinstance(decision, Reject):
        log.debug("dispatch.rejected", message_id=message.id, reason=decision.reason)
        return Rejected(message, decision.reason)
    return None


def _with_keyword(event: InboundMessage) -> InboundMessage:
    if event.keyword:
        return event
    return dataclasses.replace(event, keyword=normalise_keyword(event.text), opt_out=is_opt_out(event.text))
