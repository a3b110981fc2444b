"""``telco-channels demo``: a two-wave campaign over all five channels, against embedded simulators.

The story follows the operators' reports: an SMS offer ("reply 88 to subscribe") to a target list,
an MMS greeting, retention calls ("press 1"), a USSD menu; every send passes the policy pipeline
(quiet hours in the recipient's zone, one contact per subscriber per day on SMS whatever the
campaign, exact idempotency, opt-out), replies are matched leniently (full-width "８８" counts), an
opt-out reply stops further marketing, and a second wave goes to the non-responders by WAP push.
Everything runs in this process on loopback ports and finishes in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.table import Table

from channels.cli.common import quiet_logging
from channels.cli.demo_gateways import start_gateways
from channels.clock import OffsetClock
from channels.content import (
    Content,
    IvrScript,
    IvrStep,
    MediaPart,
    Mms,
    Prompt,
    Slide,
    Text,
    UssdMenu,
    UssdScreen,
    WapPush,
)
from channels.dispatch import Dispatcher
from channels.inbound import KeywordMatcher
from channels.message import ChannelKind, Message, mask_msisdn
from channels.results import Deferred, DeliveryReceipt, Event, InboundMessage, Outcome, Rejected, Sent
from throttle import (
    OPERATOR_GROUP_SEND,
    ContactCap,
    MemoryStore,
    OptOutPolicy,
    RateLimit,
    Scope,
    default_pipeline,
)

# Tuesday 3 March 2026, 10:00 in Beijing: inside the 09:30-12:00 group-send window there, but
# Monday 21:00 in New York, after that subscriber's window closed.
CAMPAIGN_START = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
ABROAD = "+12125550100"
SUBSCRIBE = KeywordMatcher(["88"])
# A 1x1 GIF: the MMS needs an image part, and the demo must not read files.
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")

OFFER = "10 GB for 10 yuan/month. Reply 88 to subscribe, TD to opt out."
RETENTION = IvrScript(
    steps=(
        IvrStep(
            name="offer",
            prompts=(Prompt(tts="Press 1 to keep your ring-back tone."),),
            branches={"1": "kept", "2": "dropped"},
            timeout=3.0,
        ),
        IvrStep(name="kept", prompts=(Prompt(tts="Thank you."),), result="kept"),
        IvrStep(name="dropped", prompts=(Prompt(tts="Goodbye."),), result="dropped"),
    )
)
MENU = UssdMenu(
    screens=(
        UssdScreen(
            name="main",
            text="1. Subscribe 10 yuan/month\n2. Details\n0. Exit",
            options={"1": "=subscribed", "2": "details", "0": "=exit"},
        ),
        UssdScreen(name="details", text="10 GB, 30 days. Dial *123# to join.", result="details"),
    )
)


@dataclass
class ChannelReport:
    sent: int = 0
    accepted: int = 0
    deferred: int = 0
    rejected: int = 0
    failed: int = 0
    replies: int = 0
    states: Counter[str] = field(default_factory=Counter)


@dataclass
class Story:
    reports: dict[ChannelKind, ChannelReport] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)
    responders: set[str] = field(default_factory=set)
    opted_out: set[str] = field(default_factory=set)
    seconds: float = 0.0

    def note(self, topic: str, line: str) -> None:
        self.lines.setdefault(topic, []).append(line)

    def report(self, kind: ChannelKind) -> ChannelReport:
        return self.reports.setdefault(kind, ChannelReport())

    def count(self, outcome: Outcome) -> None:
        r = self.report(outcome.message.kind)
        r.sent += 1
        if isinstance(outcome, Sent):
            r.accepted += 1
        elif isinstance(outcome, Deferred):
            r.deferred += 1
        elif isinstance(outcome, Rejected):
            r.rejected += 1
        else:
            r.failed += 1


def subscribers(n: int) -> list[str]:
    return [f"+86138{i:08d}" for i in range(n)]


def message(kind: ChannelKind, to: str, content: Content, campaign: str) -> Message:
    return Message(
        to=to,
        kind=kind,
        content=content,
        sender="10086",
        campaign_id=campaign,
        id=f"{campaign}:{kind.value}:{to}",
    )


async def send_wave(dispatcher: Dispatcher, story: Story, messages: list[Message]) -> list[Outcome]:
    outcomes = [
        o async for o in dispatcher.send_many(messages, concurrency=64, ordered=True, hold_deferred=False)
    ]
    for o in outcomes:
        story.count(o)
        if isinstance(o, Deferred):
            story.note(
                "quiet hours",
                f"quiet hours: {mask_msisdn(o.message.to)} ({o.message.kind.value}) deferred "
                f"until {o.until:%Y-%m-%d %H:%M} UTC, its next window",
            )
    return outcomes


async def collect(
    dispatcher: Dispatcher, story: Story, optout: OptOutPolicy, *, finals: int, timeout: float
) -> None:
    """Events until ``finals`` final receipts arrived (or ``timeout``): states, replies, opt-outs."""
    deadline = asyncio.get_running_loop().time() + timeout
    seen = 0
    while seen < finals:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            break
        try:
            event: Event = await dispatcher.next_event(remaining)
        except TimeoutError:
            break
        r = story.report(event.channel)
        if isinstance(event, DeliveryReceipt):
            if event.final:
                r.states[event.state.value] += 1
                seen += 1
        elif isinstance(event, InboundMessage):
            await on_reply(event, story, optout)


async def on_reply(event: InboundMessage, story: Story, optout: OptOutPolicy) -> None:
    story.report(event.channel).replies += 1
    if await optout.observe(event):
        story.opted_out.add(event.sender.lstrip("+"))
        story.note(
            "opt-out",
            f"opt-out: {mask_msisdn(event.sender)} replied {event.text!r} on "
            f"{event.channel.value}: no more marketing",
        )
    elif SUBSCRIBE.match(event.text) and event.channel is ChannelKind.SMS:
        story.responders.add(event.sender.lstrip("+"))
        if event.text != event.keyword:
            story.note(
                "lenient match",
                f"lenient match: {mask_msisdn(event.sender)} typed {event.text!r}, counted as '88'",
            )


async def run_demo(n: int, console: Console) -> Story:
    story = Story()
    clock = OffsetClock(CAMPAIGN_START)
    store = MemoryStore()
    pipeline = default_pipeline(
        store,
        limits=[RateLimit(2000, Scope.CHANNEL)],
        schedule=OPERATOR_GROUP_SEND,
        caps=[ContactCap(limit=1, period="day", channel=ChannelKind.SMS)],
        clock=clock,
    )
    optout = pipeline.stage(OptOutPolicy)
    started = time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        gw = await start_gateways(stack)
        where = ", ".join(f"{kind} {urlsplit(url).port}" for kind, url in gw.urls().items())
        console.print(f"[dim]simulators on 127.0.0.1 ports: {where}[/dim]")
        dispatcher = await stack.enter_async_context(
            Dispatcher(gw.channels, policies=[pipeline], clock=clock)
        )
        targets = subscribers(n)
        small = targets[: max(4, n // 10)]
        mms = Mms(
            subject="Spring greetings",
            slides=(
                Slide(
                    text="Happy Spring Festival from your operator!",
                    image=MediaPart(content_type="image/gif", data=GIF),
                ),
            ),
        )
        wave1 = [message(ChannelKind.SMS, to, Text(body=OFFER), "spring-w1") for to in [*targets, ABROAD]]
        wave1 += [message(ChannelKind.MMS, to, mms, "spring-w1") for to in small]
        wave1 += [message(ChannelKind.IVR, to, RETENTION, "spring-w1") for to in small]
        wave1 += [message(ChannelKind.USSD, to, MENU, "spring-w1") for to in small]
        console.print(f"wave 1: {len(wave1)} messages on SMS, MMS, IVR and USSD")
        first = await send_wave(dispatcher, story, wave1)
        # Another campaign reaches the same subscribers the same day: the contact cap refuses it.
        partner = [message(ChannelKind.SMS, to, Text(body="Partner offer"), "partner") for to in targets[:3]]
        again = [wave1[0]]  # a retried row with the same Message.id: idempotency refuses it
        for o in await send_wave(dispatcher, story, partner + again):
            if isinstance(o, Rejected):
                story.note(
                    o.reason.split(":", 1)[0],
                    f"dedup: {o.message.campaign_id} → {mask_msisdn(o.message.to)}: {o.reason}",
                )
        await collect(dispatcher, story, optout, finals=sum(isinstance(o, Sent) for o in first), timeout=15.0)
        # Wave 2: the SMS non-responders get the offer again, by WAP push.
        sms_targets = [
            o.message.to for o in first if isinstance(o, Sent) and o.message.kind is ChannelKind.SMS
        ]
        quiet = [to for to in sms_targets if to.lstrip("+") not in story.responders]
        push = WapPush(href="http://wap.10086.cn/spring?src=w2", text="Last days: 10 GB for 10 yuan")
        wave2 = [message(ChannelKind.WAP_PUSH, to, push, "spring-w2") for to in quiet]
        console.print(f"wave 2: {len(wave2)} non-responders of {len(sms_targets)} by WAP push")
        second = await send_wave(dispatcher, story, wave2)
        for o in second:
            if isinstance(o, Rejected) and "opt" in o.reason:
                story.note("wave 2", f"wave 2 skipped {mask_msisdn(o.message.to)}: {o.reason}")
        await collect(
            dispatcher, story, optout, finals=sum(isinstance(o, Sent) for o in second), timeout=10.0
        )
    story.seconds = time.perf_counter() - started
    return story


def render(story: Story, console: Console) -> None:
    table = Table(title="telco-channels demo: spring campaign, two waves")
    columns = ("channel", "sent", "ok", "defer", "reject", "fail", "deliv", "undeliv", "replies")
    for c in columns:
        table.add_column(c, justify="left" if c == "channel" else "right", no_wrap=True)
    for kind in ChannelKind:
        r = story.reports.get(kind)
        if r is None:
            continue
        delivered = r.states["delivered"]
        table.add_row(
            kind.value,
            str(r.sent),
            str(r.accepted),
            str(r.deferred),
            str(r.rejected),
            str(r.failed),
            str(delivered),
            str(sum(r.states.values()) - delivered),
            str(r.replies),
        )
    console.print(table)
    for lines in story.lines.values():  # two examples per topic, then a count
        for line in lines[:2]:
            console.print(f"  • {line}")
        if len(lines) > 2:
            console.print(f"    … and {len(lines) - 2} more like it")
    console.print(
        f"responders (replied 88): {len(story.responders)}; opted out: {len(story.opted_out)}; "
        f"{story.seconds:.1f} s"
    )


@click.command("demo")
@click.option("--subscribers", "n", default=200, show_default=True, help="Target subscribers in wave 1.")
def demo(n: int) -> None:
    """Run a two-wave campaign over SMS, MMS, WAP push, IVR and USSD against embedded simulators."""
    quiet_logging()
    console = Console()
    story = asyncio.run(run_demo(n, console))
    render(story, console)
    problems = [k.value for k in ChannelKind if k not in story.reports or not story.reports[k].accepted]
    if problems:
        raise click.ClickException(f"demo: nothing accepted on {', '.join(problems)}")
