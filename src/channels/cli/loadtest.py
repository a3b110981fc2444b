"""``telco-channels loadtest``: a constant arrival rate against a gateway, measured honestly.

The load is a schedule, not a loop: message ``i`` is due at a fixed instant (``--rate``, reached
linearly over ``--ramp``), and every latency is measured from that intended instant, so a sender
or gateway that stalls shows up as latency instead of quietly lowering the rate (the "coordinated
omission" trap of closed-loop load generators). A message that cannot even be started within
``--max-lag`` of its instant (every window slot busy) is dropped and counted. The report gives the
target and achieved rates, latency percentiles (p50/p90/p99/p99.9/max) from intended send to the
gateway's response and to the final receipt, errors by kind and drops. ``--gateway sim://`` starts
our SMSC simulator in a separate process (multiprocessing), so it runs on the other core.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import multiprocessing
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import click
from rich.console import Console
from rich.table import Table

from channels.channel import Channel
from channels.cli.common import parse_outcomes, quiet_logging
from channels.cli.gateways import open_pool, redact
from channels.cli.specs import parse_duration, parse_rate
from channels.cli.targets import ContentSpec, Template, build_content
from channels.dispatch import Dispatcher, RetrySettings
from channels.errors import ChannelsError, ConfigurationError
from channels.message import ChannelKind, Message
from channels.results import Deferred, DeliveryReceipt, Failed, Outcome, Rejected, Sent

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When message ``i`` is due, in seconds from the start: linear ramp to ``rate`` over ``ramp``."""

    rate: float
    duration: float
    ramp: float = 0.0

    @property
    def total(self) -> int:
        """Messages in the whole run."""
        ramp = min(self.ramp, self.duration)
        return int(self.rate * ramp / 2 + self.rate * (self.duration - ramp))

    def due(self, i: int) -> float:
        ramped = self.rate * self.ramp / 2  # messages sent during the ramp
        if self.ramp > 0 and i < ramped:
            return math.sqrt(2 * self.ramp * i / self.rate)  # N(t) = rate t² / 2 ramp
        return self.ramp + (i - ramped) / self.rate if self.ramp > 0 else i / self.rate


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """Nearest-rank percentiles and the maximum, in milliseconds (None when there is no value)."""
    ordered = sorted(values)
    out: dict[str, float | None] = {}
    for p in PERCENTILES:
        rank = max(1, math.ceil(p * len(ordered) / 100 - 1e-9))  # 99.9 × 1000 / 100 = 999.0000000000001
        out[f"p{p:g}"] = round(ordered[rank - 1] * 1000, 3) if ordered else None
    out["max"] = round(ordered[-1] * 1000, 3) if ordered else None
    return out


@dataclass
class LoadStats:
    schedule: Schedule
    started: int = 0
    accepted: int = 0
    dropped: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    submit: list[float] = field(default_factory=list)  # intended send → gateway's response, seconds
    receipt: list[float] = field(default_factory=list)  # intended send → final receipt
    states: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0  # first intended send → last response

    def summary(self) -> dict[str, Any]:
        s = self.schedule
        return {
            "target_rate": s.rate, "duration": s.duration, "ramp": s.ramp, "scheduled": s.total,
            "started": self.started, "accepted": self.accepted, "dropped": self.dropped,
            "scheduled_rate": round(s.total / s.duration, 1),  # below the target while ramping
            "achieved_rate": round(self.started / s.duration, 1),
            "accepted_rate": round(self.accepted / self.elapsed, 1) if self.elapsed else 0.0,
            "errors": dict(self.errors), "receipts": dict(self.states),
            "submit_latency_ms": percentiles(self.submit), "receipt_latency_ms": percentiles(self.receipt),
        }  # fmt: skip


class LoadRun:
    """Drive one schedule through a Dispatcher with at most ``limit`` messages in flight."""

    def __init__(self, dispatcher: Dispatcher, kind: ChannelKind, spec: ContentSpec, schedule: Schedule,
                 *, limit: int, max_lag: float, prefix: str) -> None:  # fmt: skip
        self.dispatcher = dispatcher
        self.kind = kind
        self.content = build_content(kind, spec, {})
        self.schedule = schedule
        self.limit = limit
        self.max_lag = max_lag
        self.prefix = prefix
        self.stats = LoadStats(schedule)
        self.run_id = f"lt{int(time.time() * 1000) % 10**9:x}"
        self._in_flight = 0
        self._slot = asyncio.Event()
        self._intended: dict[str, float] = {}  # message id → intended instant, until its receipt
        self._all_receipts = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last = 0.0

    def message(self, i: int) -> Message:
        return Message(to=f"{self.prefix}{i % 10**8:08d}", kind=self.kind, content=self.content,
                       id=f"{self.run_id}-{i}", campaign_id=self.run_id)  # fmt: skip

    async def run(self, receipt_wait: float) -> LoadStats:
        loop = asyncio.get_running_loop()
        receipts = asyncio.create_task(self._receipts())
        start = loop.time() + 0.05
        i, total = 0, self.schedule.total
        while i < total:
            intended = start + self.schedule.due(i)
            now = loop.time()
            if intended > now:
                await asyncio.sleep(intended - now)
                continue
            if now - intended > self.max_lag:
                self.stats.dropped += 1
                i += 1
                continue
            if self._in_flight >= self.limit:
                self._slot.clear()
                await self._slot.wait()
                continue
            self._launch(self.message(i), intended)
            i += 1
        if self._tasks:
            await asyncio.wait(self._tasks)
        self.stats.elapsed = self._last - start
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drained(), receipt_wait)
        receipts.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await receipts
        return self.stats

    def _launch(self, message: Message, intended: float) -> None:
        self._in_flight += 1
        self.stats.started += 1
        task = asyncio.create_task(self._send(message, intended))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, message: Message, intended: float) -> None:
        self._intended[message.id] = intended
        outcome: Outcome
        try:
            outcome = await self.dispatcher.send(message)
        except ChannelsError as exc:
            outcome = Failed(message, exc)
        now = asyncio.get_running_loop().time()
        self._last = max(self._last, now)
        self._in_flight -= 1
        self._slot.set()
        if isinstance(outcome, Sent):
            self.stats.accepted += 1
            self.stats.submit.append(now - intended)
            return
        self._intended.pop(message.id, None)
        self.stats.errors[_kind(outcome)] += 1

    async def _receipts(self) -> None:
        loop = asyncio.get_running_loop()
        async for event in self.dispatcher.events():
            if isinstance(event, DeliveryReceipt) and event.final and event.message_id:
                intended = self._intended.pop(event.message_id, None)
                if intended is not None:
                    self.stats.receipt.append(loop.time() - intended)
                    self.stats.states[event.state.value] += 1
                if not self._intended:
                    self._all_receipts.set()

    async def _drained(self) -> None:
        while self._intended:
            self._all_receipts.clear()
            await self._all_receipts.wait()


def _kind(outcome: Outcome) -> str:
    """What went wrong, for "errors by kind": the error's class, or the policy's reason."""
    if isinstance(outcome, Rejected | Failed) and outcome.error is not None:
        return type(outcome.error).__name__
    return outcome.reason.split(":")[0] if isinstance(outcome, Rejected | Deferred) else "unknown"


# -- sim:// : the SMSC simulator in its own process ---------------------------------------------------


def _serve_smsc(conn: Connection, options: dict[str, str]) -> None:
    """Child process: run an SMSC simulator until the parent says stop (or goes away)."""
    from simulators.smsc import SmscScenario, SmscSimulator

    quiet_logging()
    scenario = SmscScenario(
        response_latency=float(options.get("latency", 0)),
        receipt_delay=float(options.get("receipt_delay", 0.05)),
        receipts=options.get("receipts", "1") not in ("0", "false", "no"),
        max_tps=float(options.get("max_tps", 0)),
        error_every=int(options.get("error_every", 0)),
        outcomes=parse_outcomes(options.get("outcomes", "delivered=1")),
        window=int(options.get("sim_window", 512)),
    )

    async def main() -> None:
        async with SmscSimulator(scenario=scenario) as sim:
            conn.send(sim.url)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, _wait_stop, conn)

    asyncio.run(main())


def _wait_stop(conn: Connection) -> None:
    with contextlib.suppress(EOFError, OSError):
        conn.recv()


SIM_OPTIONS = ("latency", "receipt_delay", "receipts", "max_tps", "error_every", "outcomes", "sim_window")


@contextlib.contextmanager
def simulator_process(url: str, kind: ChannelKind) -> Iterator[str]:
    """For ``sim://?latency=..&receipt_delay=..&outcomes=..``: start the SMSC simulator in another
    process and give the smpp:// URL to use (with the remaining query options)."""
    if kind is not ChannelKind.SMS:
        raise ConfigurationError("--gateway sim:// starts the SMSC simulator: use it with --channel sms")
    query = dict(parse_qsl(urlsplit(url).query))
    sim = {k: query.pop(k) for k in SIM_OPTIONS if k in query}
    parent, child = multiprocessing.get_context("spawn").Pipe()
    proc = multiprocessing.get_context("spawn").Process(target=_serve_smsc, args=(child, sim), daemon=True)
    proc.start()
    try:
        if not parent.poll(30):
            raise ConfigurationError("sim://: the SMSC simulator did not start")
        smpp = str(parent.recv())
        yield smpp + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.kill()


# -- the command ---------------------------------------------------------------------------------------


def render(summary: dict[str, Any], console: Console) -> None:
    table = Table(title="telco-channels loadtest")
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    keys = ("target_rate", "scheduled_rate", "achieved_rate", "accepted_rate", "scheduled", "started",
            "accepted", "dropped")
    for key in keys:
        table.add_row(key.replace("_", " "), f"{summary[key]:,}")
    for name in ("submit_latency_ms", "receipt_latency_ms"):
        cells = ", ".join(f"{k} {v:,.1f}" for k, v in summary[name].items() if v is not None) or "-"
        table.add_row(name.replace("_ms", " (ms)").replace("_", " "), cells)
    table.add_row("errors", ", ".join(f"{k} {v:,}" for k, v in summary["errors"].items()) or "none")
    table.add_row("receipts", ", ".join(f"{k} {v:,}" for k, v in summary["receipts"].items()) or "none")
    console.print(table)


async def _run(channel: Channel, kind: ChannelKind, schedule: Schedule, p: dict[str, Any]) -> LoadStats:
    dispatcher = Dispatcher([channel], retry=RetrySettings(attempts=1))
    spec = ContentSpec(body=Template(p["payload"], source="--payload"), href=Template("http://load.test/x"))
    async with dispatcher:
        if hasattr(channel, "connect"):
            await channel.connect()  # bind before the clock starts
        run = LoadRun(dispatcher, kind, spec, schedule, limit=p["window"] * p["connections"],
                      max_lag=parse_duration(p["max_lag"], "--max-lag"), prefix=p["to_prefix"])  # fmt: skip
        return await run.run(parse_duration(p["receipt_wait"], "--receipt-wait"))


@click.command("loadtest")
@click.option("--gateway", required=True, envvar="TELCO_GATEWAY",
              help="Gateway URL, or sim:// to start the SMSC simulator in another process "
                   "(sim://?latency=0.001&receipt_delay=0.05&outcomes=delivered=0.9,expired=0.1).")
@click.option("--channel", type=click.Choice([k.value for k in ChannelKind]), default="sms",
              show_default=True)
@click.option("--rate", default="1000/s", show_default=True, help="Target arrival rate.")
@click.option("--duration", default="10s", show_default=True, help="How long to send.")
@click.option("--ramp", default="0s", show_default=True, help="Reach the rate linearly over this time.")
@click.option("--window", default=64, show_default=True, help="Requests in flight per connection.")
@click.option("--connections", default=1, show_default=True, help="Connections (binds) to the gateway.")
@click.option("--payload", default="Load test message", show_default=True, help="Message text.")
@click.option("--to-prefix", default="86139", show_default=True, help="Destination numbers start so.")
@click.option("--max-lag", default="1s", show_default=True, help="Drop a message not started this late.")
@click.option("--receipt-wait", default="5s", show_default=True, help="Wait this long for receipts after.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the results here (JSON).")
def command(**p: Any) -> None:
    """Send at a constant arrival rate and report rates, latency percentiles, errors and drops."""
    quiet_logging()
    kind = ChannelKind(p["channel"])
    duration = parse_duration(p["duration"])
    schedule = Schedule(parse_rate(p["rate"]), duration, parse_duration(p["ramp"], "--ramp"))
    if schedule.total < 1:
        raise click.BadParameter("nothing to send at this rate and duration", param_hint="--rate")
    try:
        with contextlib.ExitStack() as stack:
            url = p["gateway"]
            if urlsplit(url).scheme == "sim":
                url = stack.enter_context(simulator_process(url, kind))
            click.echo(f"loadtest: {schedule.total:,} messages at {schedule.rate:,.0f}/s over {redact(url)}",
                       err=True)  # fmt: skip
            channel = open_pool(kind, url, p["connections"], window=p["window"])
            stats = asyncio.run(_run(channel, kind, schedule, p))
    except ChannelsError as exc:
        raise click.ClickException(str(exc)) from exc
    summary = stats.summary()
    render(summary, Console())
    if p["json_out"] is not None:
        p["json_out"].write_text(json.dumps(summary, indent=2) + "\n")
