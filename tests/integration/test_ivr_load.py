"""Many calls: the trunk's channel count is respected, excess at the gateway is congestion, attempts are
paced, and outcome shares over 2 000 seeded calls follow the scenario."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from channels import ChannelKind, DeliveryReceipt, Message
from channels.content import IvrScript, IvrStep, Prompt
from channels.ivr import IvrClient
from simulators.ivr import IvrSimulator
from simulators.ivr_model import IvrScenario

ASK = IvrScript(
    steps=(
        IvrStep(name="ask", prompts=(Prompt(sound="q"),), branches={"1": "yes"}, timeout=0.1, retries=0),
        IvrStep(name="yes", result="accepted"),
    )
)
REACH = IvrScript(steps=(IvrStep(name="hello", result="reached"),))  # answer, then hang up


async def run(client: IvrClient, count: int, script: IvrScript, timeout: float) -> list[DeliveryReceipt]:
    """Send ``count`` calls at once (they queue for channels) and collect every outcome."""
    receipts: list[DeliveryReceipt] = []

    async def collect() -> None:
        async for event in client.events():
            if isinstance(event, DeliveryReceipt):
                receipts.append(event)
                if len(receipts) == count:
                    return

    collector = asyncio.create_task(collect())
    messages = [Message(to=f"86138{i:08d}", kind=ChannelKind.IVR, content=script) for i in range(count)]
    async with asyncio.timeout(timeout):
        await asyncio.gather(*(client.send(m) for m in messages))
        await collector
    assert {r.message_id for r in receipts} == {m.id for m in messages}  # one outcome per call
    return receipts


async def test_channel_cap_respected_with_200_queued_calls() -> None:
    scenario = IvrScenario(seed=2, max_channels=30, ring_time=(1.0, 5.0), patience=(5.0, 10.0))
    async with IvrSimulator(scenario=scenario, speed=200.0) as sim, IvrClient.from_url(sim.url) as client:
        assert client.settings.channels == 30
        receipts = await run(client, 200, ASK, timeout=30)
        assert sim.congested == 0 and 25 <= sim.peak <= 30
        assert client.peak_in_progress <= 30 and client.in_progress == 0
        assert len(sim.recorder) == 200
        statuses = Counter(r.detail["status"] for r in receipts)
        assert statuses["completed"] > 50 and statuses["no-answer"] > 30


async def test_calls_beyond_the_gateway_channels_end_in_congestion() -> None:
    scenario = IvrScenario(seed=3, max_channels=5, answer=1, busy=0, no_answer=0, rejected=0, failed=0)
    async with (
        IvrSimulator(scenario=scenario, speed=100.0) as sim,
        IvrClient.from_url(sim.url, channels=20) as client,
    ):
        receipts = await run(client, 40, REACH, timeout=20)
    congested = [r for r in receipts if r.detail["outcome"] == "congestion"]
    assert congested and sim.congested == len(congested) and sim.peak == 5
    assert {(r.detail["status"], r.detail["cause"], r.error_code) for r in congested} == {
        ("failed", 34, "34")
    }
    assert {r["outcome"] for r in sim.recorder.find(cause=34)} == {"congestion"}


async def test_call_attempts_are_paced() -> None:
    scenario = IvrScenario(seed=4, answer=0, busy=1, no_answer=0, rejected=0, failed=0)
    async with (
        IvrSimulator(scenario=scenario, speed=100.0) as sim,
        IvrClient.from_url(sim.url, cps=50) as client,
    ):
        started = time.perf_counter()
        await run(client, 21, REACH, timeout=10)
        assert time.perf_counter() - started >= 0.38  # 20 intervals of 20 ms


async def test_outcome_shares_over_2000_seeded_calls() -> None:
    scenario = IvrScenario(seed=11, max_channels=200, patience=(5.0, 10.0))
    async with IvrSimulator(scenario=scenario, speed=2000.0) as sim, IvrClient.from_url(sim.url) as client:
        receipts = await run(client, 2000, REACH, timeout=60)
    got = Counter(r.detail["status"] for r in receipts)
    shares = scenario.shares()
    want = {
        "completed": shares["answer"],
        "busy": shares["busy"],
        "no-answer": shares["no-answer"],
        "failed": shares["rejected"] + shares["failed"],
    }
    assert set(got) == set(want)
    for status, share in want.items():
        assert got[status] / 2000 == pytest.approx(share, abs=0.03), status
    # the gateway saw the same: its records' fates match what the client reported
    fates = Counter(r["fate"] for r in sim.recorder)
    assert fates["answer"] == got["completed"] and fates["busy"] == got["busy"]
