"""``telco-channels demo``: a campaign against embedded simulators, end to end, in seconds.

Starts the gateway simulators in this process on free loopback ports, connects the adapters through
one Dispatcher, sends a small campaign, waits for the receipts and prints what happened per channel.
It is the README's first command, so it must work on a fresh machine with nothing else running.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field

import click
from rich.console import Console
from rich.table import Table

from channels.cli.common import quiet_logging
from channels.content import Text
from channels.dispatch import Dispatcher
from channels.message import ChannelKind, Message
from channels.results import DeliveryReceipt, DeliveryState, InboundMessage, Sent
from channels.smpp.client import SmppClient
from simulators.smsc import SmscScenario, SmscSimulator


@dataclass
class ChannelReport:
    sent: int = 0
    accepted: int = 0
    deferred: int = 0
    rejected: int = 0
    failed: int = 0
    replies: int = 0
    states: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


async def run_demo(subscribers: int, console: Console) -> dict[ChannelKind, ChannelReport]:
    reports: dict[ChannelKind, ChannelReport] = {}
    outcomes = {DeliveryState.DELIVERED: 0.9, DeliveryState.UNDELIVERABLE: 0.07, DeliveryState.EXPIRED: 0.03}
    smsc_scenario = SmscScenario(seed=42, outcomes=outcomes, receipt_delay=0.05)
    async with contextlib.AsyncExitStack() as stack:
        smsc = await stack.enter_async_context(SmscSimulator(scenario=smsc_scenario))
        console.print(f"[dim]SMSC simulator at {smsc.url}[/dim]")
        sms = SmppClient.from_url(smsc.url + "?window=64", name="smsc-sim")
        dispatcher = await stack.enter_async_context(Dispatcher([sms]))
        report = reports.setdefault(ChannelKind.SMS, ChannelReport())
        wave = [
            Message(
                to=f"86138{i:08d}",
                kind=ChannelKind.SMS,
                content=Text(body=f"Dear subscriber {i}, 10 GB for 10 yuan/month: reply 88 to subscribe."),
                sender="10086",
                campaign_id="demo-wave-1",
                id=f"demo-wave-1-sms-{i}",
            )
            for i in range(subscribers)
        ]
        started = time.perf_counter()
        async for outcome in dispatcher.send_many(wave, concurrency=64):
            report.sent += 1
            if isinstance(outcome, Sent):
                report.accepted += 1
            else:
                report.failed += 1
        report.seconds = time.perf_counter() - started
        await _collect(dispatcher, reports, expected=report.accepted, timeout=10.0)
    return reports


async def _collect(
    dispatcher: Dispatcher, reports: dict[ChannelKind, ChannelReport], *, expected: int, timeout: float
) -> None:
    finals = 0
    deadline = asyncio.get_running_loop().time() + timeout
    while finals < expected:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            break
        try:
            event = await dispatcher.next_event(remaining)
        except TimeoutError:
            break
        report = reports.setdefault(event.channel, ChannelReport())
        if isinstance(event, DeliveryReceipt) and event.final:
            report.states[event.state.value] += 1
            finals += 1
        elif isinstance(event, InboundMessage):
            report.replies += 1


def render(reports: dict[ChannelKind, ChannelReport], console: Console) -> None:
    table = Table(title="telco-channels demo campaign")
    for column in ("channel", "sent", "accepted", "delivered", "undeliverable", "expired", "other", "msg/s"):
        table.add_column(column, justify="right" if column != "channel" else "left")
    for kind, r in reports.items():
        other = sum(v for k, v in r.states.items() if k not in ("delivered", "undeliverable", "expired"))
        rate = f"{r.sent / r.seconds:,.0f}" if r.seconds else "-"
        table.add_row(
            kind.value,
            str(r.sent),
            str(r.accepted),
            str(r.states["delivered"]),
            str(r.states["undeliverable"]),
            str(r.states["expired"]),
            str(other),
            rate,
        )
    console.print(table)


@click.command("demo")
@click.option("--subscribers", default=500, show_default=True, help="Target subscribers in the campaign.")
def demo(subscribers: int) -> None:
    """Run a small campaign against embedded simulators and print what happened per channel."""
    quiet_logging()
    console = Console()
    reports = asyncio.run(run_demo(subscribers, console))
    render(reports, console)
    sms = reports[ChannelKind.SMS]
    if sms.accepted != sms.sent or sum(sms.states.values()) != sms.accepted:
        raise click.ClickException("demo: not every message was accepted and reported")
