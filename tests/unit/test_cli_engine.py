"""The send engine without sockets: a scripted channel, a fake clock, the real job file and pipeline.

Checks what makes a rerun safe: unknown outcomes are journalled and not resent (unless at-least-once),
failed rows are resent, a stop lets in-flight submits finish and be recorded, quiet-hours deferrals
are held on the clock or left for a later run, bad rows are reported and the rest are sent.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from channels.cli.engine import JournalChannel, SendPlan, execute
from channels.cli.jobs import JobFile
from channels.cli.report import Counters, ProgressView
from channels.cli.specs import parse_quiet_hours
from channels.cli.targets import ContentSpec, RowBuilder, TargetFile, Template
from channels.clock import SYSTEM_CLOCK, FakeClock
from channels.content import Text
from channels.errors import AuthenticationError, ChannelClosed, OutcomeUnknown
from channels.message import ChannelKind, Message
from channels.results import Event, SendResult
from throttle import SqliteStore, default_pipeline
from throttle.quiet_hours import Schedule

MONDAY_NOON_SHANGHAI = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)


class Scripted:
    """Accepts every message, except numbers listed in ``fail`` (raising that error once each)."""

    kind = ChannelKind.SMS
    name = "scripted"

    def __init__(self, fail: dict[str, Exception] | None = None, delay: float = 0.0, note: int = 0) -> None:
        self.fail = dict(fail or {})
        self.delay = delay
        self.sent: list[str] = []
        self.closed = asyncio.Event()
        self.note = note  # set ``noted`` once this many are sent
        self.noted = asyncio.Event()

    async def send(self, message: Message) -> SendResult:
        if self.delay:
            await asyncio.sleep(self.delay)
        error = self.fail.pop(message.to, None)
        if error is not None:
            raise error
        self.sent.append(message.to)
        if self.note and len(self.sent) >= self.note:
            self.noted.set()
        return SendResult(message_id=message.id, channel=self.kind, remote_ids=(f"R{len(self.sent)}",),
                          accepted_at=datetime.now(UTC))  # fmt: skip

    async def events(self) -> AsyncIterator[Event]:
        await self.closed.wait()
        return
        yield

    async def aclose(self) -> None:
        self.closed.set()


def targets(tmp_path: Path, n: int, bad: bool = False) -> Path:
    path = tmp_path / "t.csv"
    lines = ["msisdn,name", *(f"86138{i:08d},User{i}" for i in range(n))]
    if bad:
        lines.insert(3, "not-a-number,Bad")
    path.write_text("\n".join(lines) + "\n")
    return path


def plan(
    tmp_path: Path,
    channel: Scripted,
    *,
    n: int = 20,
    bad: bool = False,
    clock: FakeClock | None = None,
    schedule: Schedule | None = None,
    **kw: Any,
) -> SendPlan:
    store = SqliteStore(tmp_path / "state.sqlite")
    pipeline = default_pipeline(store, schedule=schedule, clock=clock or SYSTEM_CLOCK)
    builder = RowBuilder(kind=ChannelKind.SMS, campaign="c", spec=ContentSpec(body=Template("Hi {name}")))
    job = JobFile(tmp_path / "job.sqlite", campaign="c", channel=ChannelKind.SMS, targets="t.csv")
    if clock is not None:
        kw.update(clock=clock, sleep=fake_sleep(clock))
    return SendPlan(targets=TargetFile(targets(tmp_path, n, bad)), builder=builder, job=job, store=store,
                    pipeline=pipeline, channel=channel, **kw)  # fmt: skip


def fake_sleep(clock: FakeClock) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        clock.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    return sleep


async def run(p: SendPlan) -> Counters:
    counters = Counters()
    console = Console(file=open("/dev/null", "w"))  # noqa: SIM115, ASYNC230
    with ProgressView(counters, console=console, enabled=False) as progress:
        await execute(p, counters, progress, lambda text: None)
    p.job.close()
    return counters


async def test_unknown_outcomes_are_journalled_and_only_resent_under_at_least_once(tmp_path: Path) -> None:
    lost = "8613800000003"
    channel = Scripted(fail={lost: OutcomeUnknown("no response")})
    first = await run(plan(tmp_path, channel))
    assert (first.sent, first.unknown) == (19, 1)
    again = Scripted()
    second = await run(plan(tmp_path, again))
    assert again.sent == [] and second.skipped == 20
    resent = Scripted()
    third = await run(plan(tmp_path, resent, at_least_once=True))
    assert resent.sent == [lost] and third.sent == 1
    job = JobFile(tmp_path / "job.sqlite", campaign="c", channel=ChannelKind.SMS, targets="t.csv")
    assert job.counts() == {"sent": 20} and job.unknown_journalled() == 1
    job.close()


async def test_failed_rows_are_resent_on_the_next_run_and_bad_rows_reported(tmp_path: Path) -> None:
    down = "8613800000005"
    channel = Scripted(fail={down: AuthenticationError("bind refused")})  # not retriable: failed
    first = await run(plan(tmp_path, channel, bad=True))
    assert (first.sent, first.failed, first.invalid) == (19, 1, 1)
    retry = Scripted()
    second = await run(plan(tmp_path, retry, bad=True))
    assert retry.sent == [down] and second.skipped == 19
    assert sorted(channel.sent + retry.sent) == sorted(f"86138{i:08d}" for i in range(20))


async def test_a_stop_lets_in_flight_sends_finish_and_the_rest_go_on_the_next_run(tmp_path: Path) -> None:
    slow = Scripted(delay=0.01, note=40)
    p = plan(tmp_path, slow, n=400, concurrency=8)

    async def stop_soon() -> None:  # Ctrl-C, as the user would press it (execute handles SIGINT)
        await slow.noted.wait()
        os.kill(os.getpid(), signal.SIGINT)

    stopper = asyncio.create_task(stop_soon())
    first = await run(p)
    await stopper
    assert 40 <= first.sent < 400 and first.unknown == 0
    rest = Scripted()
    second = await run(plan(tmp_path, rest, n=400))
    assert second.skipped == first.sent  # refused rows (failed) and unread rows go now
    everyone = slow.sent + rest.sent
    assert sorted(everyone) == sorted(f"86138{i:08d}" for i in range(400))  # each exactly once


async def test_a_refusing_journal_fails_rows_so_they_are_sent_later(tmp_path: Path) -> None:
    job = JobFile(tmp_path / "job.sqlite", campaign="c", channel=ChannelKind.SMS, targets="t.csv")
    journal = JournalChannel(Scripted(), job)
    journal.refuse_new()
    message = Message(to="8613800000001", kind=ChannelKind.SMS, content=Text(body="x"))
    (result,) = await journal.send_batch([message])
    assert isinstance(result, ChannelClosed)
    assert job.counts() == {}  # nothing marked: nothing was submitted
    job.close()


async def test_quiet_hours_hold_rows_until_the_window_opens(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY_NOON_SHANGHAI)  # 12:00 in Shanghai: closed until 14:00
    schedule = parse_quiet_hours("mon-fri=09:30-11:30,14:00-17:00")
    channel = Scripted()
    counters = await run(plan(tmp_path, channel, clock=clock, schedule=schedule))
    assert counters.deferred == 20 and counters.sent == 20 and len(channel.sent) == 20
    assert clock.now() >= datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # 14:00 Shanghai


async def test_quiet_hours_can_leave_rows_deferred_for_a_later_run(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY_NOON_SHANGHAI)
    schedule = parse_quiet_hours("mon-fri=09:30-11:30,14:00-17:00")
    channel = Scripted()
    p = plan(tmp_path, channel, clock=clock, schedule=schedule, hold_deferred=False)
    counters = await run(p)
    assert counters.deferred == 20 and channel.sent == []
    job = JobFile(tmp_path / "job.sqlite", campaign="c", channel=ChannelKind.SMS, targets="t.csv")
    assert job.counts() == {"deferred": 20}
    assert job.earliest_deferred() == datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    job.close()
    clock.set(datetime(2026, 1, 5, 6, 30, tzinfo=UTC))
    later = Scripted()
    await run(plan(tmp_path, later, clock=clock, schedule=schedule, hold_deferred=False))
    assert len(later.sent) == 20
