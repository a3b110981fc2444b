"""The engine of ``telco-channels send``: a bulk send from a target file, resumable (issue 9).

The target file is streamed (:mod:`channels.cli.targets`) into ``Dispatcher.send_many``, which pulls
rows only as send slots free up, so a file of millions of rows is never held in memory. Every row's
fate goes to the job file (:mod:`channels.cli.jobs`), the journal that makes a rerun of the same
command resume where the last one stopped without sending any row twice: a message is marked
``sending`` (committed) before its submit leaves, through :class:`JournalChannel`, which wraps the
adapter. Policies are the throttle package's default pipeline (validate → opt-out/blocked → quiet
hours → dedup → rate) on a SQLite store beside the job (or Redis, shared by several workers).
Quiet-hours deferrals are held in ``send_many`` until the window opens, or recorded and left for a
later run (``--on-deferred exit``). Receipts and replies are consumed while sending: receipts go to
the job, opt-out replies to the opt-out list. Ctrl-C stops reading, lets in-flight submits finish,
records them and exits; rerun to resume.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from channels.channel import AcceptedHook, Channel
from channels.cli.common import install_signal_handlers
from channels.cli.gateways import NoReceipts, connect
from channels.cli.jobs import AMBIGUOUS, FINAL, JobFile, JobReceiptStore
from channels.cli.report import Counters, ProgressView
from channels.cli.targets import RowBuilder, RowError, TargetFile
from channels.clock import SYSTEM_CLOCK, Clock
from channels.deferral import Sleep, waits_for_token
from channels.dispatch import Dispatcher
from channels.errors import ChannelClosed, ChannelsError, OutcomeUnknown
from channels.message import Message
from channels.policy import Decision, Defer
from channels.receipts import ReceiptTracker
from channels.results import (
    Deferred,
    DeliveryReceipt,
    Event,
    InboundMessage,
    Outcome,
    Rejected,
    SendResult,
    Sent,
)
from throttle.optout import OptOutPolicy
from throttle.pipeline import Pipeline
from throttle.stores.base import Store

Warn = Callable[[str], None]
log = structlog.get_logger(__name__)

CHUNK = 256  # rows looked up in the job file at a time
SHOWN_ERRORS = 20  # bad rows printed on stderr; the report has all of them
DRAIN_TIMEOUT = 60.0  # after Ctrl-C: how long in-flight submits may take to be answered


class JournalChannel:
    """The adapter, with every submit marked ``sending`` in the job file before it leaves.

    After :meth:`refuse_new` a send raises ChannelClosed (the row is ``failed``: sent next run).
    """

    def __init__(self, inner: Channel, job: JobFile) -> None:
        self.inner = inner
        self.job = job
        self.kind = inner.kind
        self.name = inner.name
        for attribute in ("id_profile", "receipt_timeout_state"):  # what the receipt tracker adopts
            if hasattr(inner, attribute):
                setattr(self, attribute, getattr(inner, attribute))
        self.in_flight = 0
        self.unrecorded: dict[str, int] = {}  # id → line: marked ``sending``, outcome not recorded yet
        self._refusing = False

    def refuse_new(self) -> None:
        self._refusing = True

    async def send(self, message: Message) -> SendResult:
        if self._refusing:
            raise ChannelClosed("interrupted before this row was submitted")
        self.in_flight += 1
        line = self.unrecorded[message.id] = _line(message)
        try:
            await self.job.mark_sending(line, message.id, message.to)
            return await self.inner.send(message)
        finally:
            self.in_flight -= 1

    async def send_batch(
        self, messages: Sequence[Message], on_accepted: AcceptedHook | None = None
    ) -> list[SendResult | ChannelsError]:
        """The Dispatcher's chunk path: one group commit of marks, then the adapter's own batch
        send where it has one (per-message sends otherwise)."""
        if self._refusing:
            return [ChannelClosed("interrupted before this row was submitted") for _ in messages]
        self.in_flight += len(messages)
        try:
            for m in messages:
                line = self.unrecorded[m.id] = _line(m)
                self.job.queue_mark(line, m.id, m.to)
            await self.job.group_commit()
            batch = getattr(self.inner, "send_batch", None)
            if batch is not None:
                return list(await batch(messages, on_accepted))
            return list(await asyncio.gather(*(_attempt(self.inner, m) for m in messages)))
        finally:
            self.in_flight -= len(messages)

    def events(self) -> AsyncIterator[Event]:
        return self.inner.events()

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _attempt(channel: Channel, message: Message) -> SendResult | ChannelsError:
    try:
        return await channel.send(message)
    except ChannelsError as exc:
        return exc


class DeferralWatch:
    """The pipeline, counting and journalling quiet-hours deferrals (not rate-limit waits)."""

    def __init__(self, pipeline: Pipeline, job: JobFile, counters: Counters) -> None:
        self.pipeline = pipeline
        self.job = job
        self.counters = counters
        self.held: set[str] = set()  # at most send_many's max_held ids

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        return (await self.evaluate_many([message], now))[0]

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        decisions = await self.pipeline.evaluate_many(messages, now)
        for message, decision in zip(messages, decisions, strict=True):
            if isinstance(decision, Defer) and not waits_for_token(decision):
                self._deferred(message, decision)
        return decisions

    def _deferred(self, message: Message, decision: Defer) -> None:
        if message.id not in self.held:
            self.held.add(message.id)
            self.counters.deferred += 1
        self.job.record(_line(message), message.id, message.to, "deferred", reason=decision.reason,
                        until=decision.until)  # fmt: skip

    async def rollback(self, message: Message) -> None:
        await self.pipeline.rollback(message)

    async def rollback_many(self, messages: Sequence[Message]) -> None:
        await self.pipeline.rollback_many(messages)


def _line(message: Message) -> int:
    return int(message.metadata.get("line", "0"))


@dataclass
class SendPlan:
    """Everything a send needs, already parsed and opened (built by the click command)."""

    targets: TargetFile
    builder: RowBuilder
    job: JobFile
    store: Store
    pipeline: Pipeline
    channel: Channel
    hold_deferred: bool = True
    at_least_once: bool = False
    concurrency: int = 64
    wait_receipts: float = 0.0
    dry_run: bool = False
    shared_store: bool = False  # Redis: other workers' claims are real, never released here
    clock: Clock = SYSTEM_CLOCK
    sleep: Sleep = asyncio.sleep


@dataclass
class RunSummary:
    counters: Counters
    interrupted: bool
    stale: int  # rows a dead process had left ``sending``, now ``unknown``


class SendRun:
    """One run of a plan: feed, send, record, consume events, stop cleanly on request."""

    def __init__(self, plan: SendPlan, counters: Counters, progress: ProgressView, warn: Warn) -> None:
        self.plan = plan
        self.job = plan.job
        self.counters = counters
        self.progress = progress
        self.warn = warn
        self.stop = asyncio.Event()
        self.journal = JournalChannel(plan.channel, plan.job)
        self.watch = DeferralWatch(plan.pipeline, plan.job, counters)
        self._shown = 0

    # -- the source: rows → messages, skipping what the job has already done ------------------------

    async def messages(self) -> AsyncIterator[Message]:
        chunk: list[Message] = []
        for item in self.plan.targets:
            if self.stop.is_set():
                return
            self.counters.read += 1
            built = self.plan.builder.build(item) if not isinstance(item, RowError) else item
            if isinstance(built, RowError):
                self._bad_row(built)
                continue
            chunk.append(built)
            if len(chunk) >= CHUNK:
                for message in await self._todo(chunk):
                    yield message
                chunk = []
        for message in await self._todo(chunk):
            if self.stop.is_set():
                return
            yield message

    async def _todo(self, chunk: list[Message]) -> list[Message]:
        if not chunk or not (self.job.resumed or self.job.crashed):
            return chunk
        states = self.job.states([(_line(m), m.id) for m in chunk])
        # After a crash, a claim with no row here was taken by the dead run between its idempotency
        # check and its journal mark: nothing was submitted, so the claim is released.
        orphans = self.job.crashed and not self.plan.shared_store
        todo, again = [], []
        for m in chunk:
            state = states.get(_line(m))
            if state in FINAL or (state in AMBIGUOUS and not self.plan.at_least_once):
                self.counters.skipped += 1
                continue
            if state in AMBIGUOUS or (state is None and orphans):
                again.append(m.id)  # at-least-once: the user accepts a possible duplicate
            todo.append(m)
        if again:
            await self.plan.store.ids.release(again)
        return todo

    def _bad_row(self, error: RowError) -> None:
        self.counters.invalid += 1
        self.job.record_invalid(error.line, error.msisdn, error.reason)
        self._shown += 1
        if self._shown <= SHOWN_ERRORS:
            self.warn(f"{self.plan.targets.path}:{error.line}: {error.reason}")
        elif self._shown == SHOWN_ERRORS + 1:
            self.warn("more bad rows: see the report")

    # -- outcomes ----------------------------------------------------------------------------------

    def record(self, outcome: Outcome) -> None:
        m = outcome.message
        line = _line(m)
        self.watch.held.discard(m.id)
        self.journal.unrecorded.pop(m.id, None)
        c = self.counters
        if isinstance(outcome, Sent):
            r = outcome.result
            self.job.record(line, m.id, m.to, "sent", remote_ids=r.remote_ids, parts=r.parts,
                            sent_at=r.accepted_at)  # fmt: skip
            c.sent += 1
        elif isinstance(outcome, Deferred):
            self.job.record(line, m.id, m.to, "deferred", reason=outcome.reason, until=outcome.until)
        elif isinstance(outcome, Rejected):
            if outcome.reason.startswith("duplicate"):
                self.job.record(line, m.id, m.to, "duplicate", reason=outcome.reason)
                c.duplicate += 1
            else:
                self.job.record(line, m.id, m.to, "rejected", reason=outcome.reason)
                c.rejected += 1
        else:
            unknown = isinstance(outcome.error, OutcomeUnknown)
            self.job.record(line, m.id, m.to, "unknown" if unknown else "failed",
                            reason=f"{type(outcome.error).__name__}: {outcome.error}")  # fmt: skip
            c.unknown += unknown
            c.failed += not unknown

    async def consume_events(self, dispatcher: Dispatcher, receipts: JobReceiptStore | None) -> None:
        optout = _stage(self.plan.pipeline, OptOutPolicy)
        async for event in dispatcher.events():
            if isinstance(event, DeliveryReceipt):
                line = None
                if receipts is not None and event.message_id:
                    line = receipts.take_line(event.message_id)
                if event.final and line is not None:
                    self.job.record_receipt(line, event.state, event.error_code, event.at)
                    self.counters.receipts += 1
            elif isinstance(event, InboundMessage) and optout is not None:
                await optout.observe(event)

    async def committer(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.job.commit()
            self.progress.tick()

    # -- the run -----------------------------------------------------------------------------------

    async def run(self) -> bool:
        """Send everything; returns True when interrupted."""
        p = self.plan
        receipts = None if p.dry_run else JobReceiptStore(self.job, self.journal.unrecorded.get)
        tracker = ReceiptTracker(store=receipts if receipts is not None else NoReceipts())
        dispatcher = Dispatcher(
            [self.journal], policies=[self.watch], tracker=tracker, clock=p.clock, sleep=p.sleep
        )
        async with dispatcher:
            await connect(p.channel)  # a gateway that is down fails the run here, not row by row
            return await self._run(dispatcher, tracker)

    async def _run(self, dispatcher: Dispatcher, tracker: ReceiptTracker) -> bool:
        p = self.plan
        receipts = tracker.store if isinstance(tracker.store, JobReceiptStore) else None
        async with asyncio.TaskGroup() as tg:
            events = tg.create_task(self.consume_events(dispatcher, receipts))
            committer = tg.create_task(self.committer())
            sender = tg.create_task(self._send_all(dispatcher))
            stopper = tg.create_task(self._on_stop(sender))
            await asyncio.wait([sender], return_when=asyncio.ALL_COMPLETED)
            stopper.cancel()
            self.job.commit()
            if p.wait_receipts > 0 and not self.stop.is_set():
                await self._wait_receipts(tracker, p.wait_receipts)
            committer.cancel()
            await dispatcher.aclose()
            await events
        self.job.commit()
        return self.stop.is_set()

    async def _send_all(self, dispatcher: Dispatcher) -> None:
        outcomes = dispatcher.send_many(
            self.messages(), concurrency=self.plan.concurrency, hold_deferred=self.plan.hold_deferred
        )
        try:
            async for outcome in outcomes:
                self.record(outcome)
                self.progress.tick()
        finally:
            close = getattr(outcomes, "aclose", None)
            if close is not None:
                await close()

    async def _on_stop(self, sender: asyncio.Task[None]) -> None:
        """After Ctrl-C: refuse new submits, let in-flight ones be answered and recorded, then end
        the send (held deferrals stay ``deferred`` in the job for the next run)."""
        await self.stop.wait()
        self.journal.refuse_new()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_TIMEOUT
        while not sender.done() and loop.time() < deadline:
            if self.journal.in_flight == 0 and not self.journal.unrecorded:
                break
            await asyncio.sleep(0.02)
        sender.cancel()

    async def _wait_receipts(self, tracker: ReceiptTracker, seconds: float) -> None:
        store = tracker.store
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline and not self.stop.is_set():
            if isinstance(store, JobReceiptStore) and len(store) == 0:
                return
            await asyncio.sleep(0.1)
            self.progress.tick()


def _stage(pipeline: Pipeline, kind: type[Any]) -> Any:
    with contextlib.suppress(KeyError):
        return pipeline.stage(kind)
    return None


async def execute(plan: SendPlan, counters: Counters, progress: ProgressView, warn: Warn) -> RunSummary:
    """Run a plan with Ctrl-C/SIGTERM wired to a clean stop (a second Ctrl-C stops at once)."""
    stale = plan.job.stale_to_unknown()
    if plan.job.resumed:
        plan.job.prepare_resume()
    run = SendRun(plan, counters, progress, warn)
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_signal() -> None:
        if run.stop.is_set() and main is not None:
            main.cancel()
        run.stop.set()

    installed = install_signal_handlers(loop, on_signal)
    try:
        interrupted = await run.run()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        try:
            plan.job.commit()
        except Exception:  # the rows already committed stay; say so rather than hide it
            log.exception("send.job.commit_failed")
        try:
            await plan.store.aclose()
        except Exception:
            log.exception("send.store.close_failed")
    return RunSummary(counters, interrupted, stale)
