"""``telco-channels send`` over real sockets: the click command against our simulators (each in a
thread with its own event loop, since the command runs its own), for all five channels; reruns that
send nothing twice; bad rows with line numbers; quiet hours left for later; blocked numbers and a
contact cap shared across campaigns; a campaign.toml."""

from __future__ import annotations

import asyncio
import csv
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from channels.cli.main import cli
from channels.results import DeliveryState
from simulators.ivr import IvrSimulator
from simulators.ivr_model import IvrScenario
from simulators.mmsc import MmscSimulator
from simulators.ppg import PpgSimulator
from simulators.smsc import SmscScenario, SmscSimulator
from simulators.ussd import UssdGatewaySimulator


@contextmanager
def serving(factory: Callable[[], AbstractAsyncContextManager[Any]]) -> Iterator[Any]:
    """Run a simulator on its own loop in a thread, for as long as the block lasts."""
    ready = threading.Event()
    state: dict[str, Any] = {}
    loop = asyncio.new_event_loop()

    async def main() -> None:
        try:
            async with factory() as sim:
                state["sim"], state["stop"] = sim, asyncio.Event()
                ready.set()
                await state["stop"].wait()
        except BaseException as exc:
            state["error"] = exc
            ready.set()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "simulator did not start"
    if "error" in state:
        raise state["error"]
    try:
        yield state["sim"]
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        thread.join(10)
        loop.close()


def send(*args: str) -> Result:
    return CliRunner().invoke(cli, ["send", *args])


def targets(tmp_path: Path, n: int, *, bad: bool = False, prefix: str = "86138") -> Path:
    lines = ["msisdn,name", *(f"+{prefix}{i:08d},User{i}" for i in range(n))]
    if bad:
        lines[3:3] = ["12AB,Bad", f"+{prefix}99999999"]  # lines 4 and 5
    path = tmp_path / "targets.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def report(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_csv_goes_out_once_with_receipts_and_a_rerun_sends_nothing(tmp_path: Path) -> None:
    outcomes = {DeliveryState.DELIVERED: 0.8, DeliveryState.EXPIRED: 0.2}
    scenario = SmscScenario(receipt_delay=0.01, outcomes=outcomes)
    path = targets(tmp_path, 60, bad=True)
    with serving(lambda: SmscSimulator(scenario=scenario)) as smsc:
        args = [str(path), "--gateway", smsc.url + "?window=16", "--template", "Hi {name}, reply 88",
                "--campaign", "spring", "--sender", "10086", "--job", str(tmp_path / "job.sqlite"),
                "--wait-receipts", "10s", "--report", str(tmp_path / "r.jsonl")]  # fmt: skip
        first = send(*args)
        assert first.exit_code == 0, first.output
        assert len(smsc.recorder) == 60
        second = send(*args)
        assert second.exit_code == 0, second.output
        assert len(smsc.recorder) == 60  # nothing twice
    texts = sorted(r["text"] for r in smsc.recorder)
    assert texts == sorted(f"Hi User{i}, reply 88" for i in range(60))
    assert {r["source"] for r in smsc.recorder} == {"10086"}
    assert "targets.csv:4: msisdn: '12AB' is not a phone number" in first.output
    assert "targets.csv:5: row has 1 columns, the header has 2" in first.output
    rows = report(tmp_path / "r.jsonl")
    assert [r["line"] for r in rows] == list(range(2, 64))
    sent = [r for r in rows if r["outcome"] == "sent"]
    assert len(sent) == 60 and all(r["remote_ids"] and r["message_id"] for r in sent)
    assert {r["receipt"] for r in sent} == {"delivered", "expired"}
    assert sum(r["outcome"] == "invalid" for r in rows) == 2
    assert "already done" in second.output and "60" in second.output


def test_a_report_in_csv(tmp_path: Path) -> None:
    path = targets(tmp_path, 5)
    with serving(lambda: SmscSimulator()) as smsc:
        result = send(str(path), "--gateway", smsc.url, "--template", "Hi",
                      "--report", str(tmp_path / "r.csv"), "--wait-receipts", "5s")  # fmt: skip
    assert result.exit_code == 0, result.output
    with open(tmp_path / "r.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5 and {r["outcome"] for r in rows} == {"sent"} and {r["receipt"] for r in rows} == {
        "delivered"
    }
    assert (tmp_path / "targets.csv.sms.job.sqlite").exists()  # the default job, beside the targets


def ivr_sim() -> IvrSimulator:
    quick = IvrScenario(answer=1.0, busy=0, no_answer=0, rejected=0, failed=0, setup_time=(0.01, 0.02),
                        ring_time=(0.02, 0.05), digits={"": 1.0}, prompt_seconds=0.05,
                        hangup_mid_prompt=0)  # fmt: skip
    return IvrSimulator(scenario=quick)


OTHER_CHANNELS = [
    ("mms", lambda: MmscSimulator(), ["--subject", "Offer for {name}"]),
    ("wap_push", lambda: PpgSimulator(), ["--href", "http://wap.example.cn/o?u={name}"]),
    ("ivr", ivr_sim, []),
    ("ussd", lambda: UssdGatewaySimulator(), []),
]


@pytest.mark.parametrize(("channel", "factory", "extra"), OTHER_CHANNELS, ids=[c[0] for c in OTHER_CHANNELS])
def test_every_channel_sends_through_its_gateway_url(
    tmp_path: Path, channel: str, factory: Callable[[], Any], extra: list[str]
) -> None:
    path = targets(tmp_path, 3)
    with serving(factory) as sim:
        result = send(str(path), "--channel", channel, "--gateway", sim.url, "--template", "Hi {name}",
                      "--report", str(tmp_path / "r.jsonl"), *extra)  # fmt: skip
        assert result.exit_code == 0, result.output
        assert sim.recorder.count >= 3 or len(sim.recorder) >= 3
    rows = report(tmp_path / "r.jsonl")
    assert [r["outcome"] for r in rows] == ["sent"] * 3


def closed_window_now() -> str:
    """A one-hour send window 12 hours away in Shanghai: closed now, whatever the time."""
    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(hours=12)
    return f"{local.hour:02d}:00-{local.hour:02d}:59"


def test_quiet_hours_can_leave_rows_deferred_for_a_later_run(tmp_path: Path) -> None:
    path = targets(tmp_path, 10)
    with serving(lambda: SmscSimulator()) as smsc:
        result = send(str(path), "--gateway", smsc.url, "--template", "Hi",
                      "--quiet-hours", closed_window_now(), "--on-deferred", "exit",
                      "--report", str(tmp_path / "r.jsonl"))  # fmt: skip
        assert len(smsc.recorder) == 0
    assert result.exit_code == 75, result.output
    assert "10 deferred until " in result.output and "rerun the same command" in result.output
    rows = report(tmp_path / "r.jsonl")
    assert {r["outcome"] for r in rows} == {"deferred"} and all(r["deferred_until"] for r in rows)


def test_blocked_numbers_and_a_contact_cap_across_campaigns(tmp_path: Path) -> None:
    path = targets(tmp_path, 6)
    blocked = tmp_path / "blocked.txt"
    blocked.write_text("# sensitive numbers\n+86 138 0000 0002\n")
    common = ["--template", "Hi", "--blocked", str(blocked), "--max-per-subscriber", "1/day"]
    with serving(lambda: SmscSimulator()) as smsc:
        runs = [
            send(str(path), "--gateway", smsc.url, "--campaign", c, "--job", str(tmp_path / f"{c}.sqlite"),
                 "--report", str(tmp_path / f"{c}.jsonl"), *common)
            for c in ("a", "b")
        ]  # fmt: skip
        first, second = runs
        assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
        assert len(smsc.recorder) == 5
    a, b = report(tmp_path / "a.jsonl"), report(tmp_path / "b.jsonl")
    assert [r["outcome"] for r in a].count("sent") == 5
    assert next(r for r in a if r["msisdn"] == "8613800000002")["reason"].startswith("blocked")
    assert {r["outcome"] for r in b} == {"rejected"}  # campaign b: everyone reached today already
    assert sum(r["reason"].startswith("contact_cap") for r in b) == 5


def test_a_campaign_toml_gives_the_options_and_the_command_line_wins(tmp_path: Path) -> None:
    path = targets(tmp_path, 4)
    with serving(lambda: SmscSimulator()) as smsc:
        config = tmp_path / "campaign.toml"
        config.write_text(
            f'gateway = "{smsc.url}"\ntemplate = "From the file {{name}}"\ncampaign = "toml"\n'
            f'sender = "10086"\nreport = "{tmp_path / "r.jsonl"}"\n[quiet_hours]\n"daily" = "00:00-24:00"\n'
        )
        result = send(str(path), "--config", str(config), "--sender", "95555")
        assert result.exit_code == 0, result.output
        assert {r["source"] for r in smsc.recorder} == {"95555"}
        assert {r["text"] for r in smsc.recorder} == {f"From the file User{i}" for i in range(4)}


def test_usage_errors_are_clear(tmp_path: Path) -> None:
    path = targets(tmp_path, 2)
    assert "--gateway URL is required" in send(str(path), "--template", "x").output
    assert "--template TEXT or --template-file" in send(str(path), "--dry-run").output
    bad = send(str(path), "--template", "Hi {nam}", "--dry-run")
    assert bad.exit_code == 1 and "{nam} not in" in bad.output
    wrong = send(str(path), "--template", "x", "--gateway", "mm7+http://127.0.0.1:1/mm7")
    assert wrong.exit_code == 1 and "cannot carry sms" in wrong.output


def test_a_gateway_that_is_down_fails_the_run_up_front(tmp_path: Path) -> None:
    path = targets(tmp_path, 3)
    result = send(str(path), "--template", "x", "--gateway", "smpp://u:p@127.0.0.1:1",
                  "--report", str(tmp_path / "r.jsonl"))  # fmt: skip
    assert result.exit_code == 1 and "127.0.0.1:1" in result.output and "failed" in result.output
    assert not (tmp_path / "r.jsonl").exists()  # nothing was tried row by row
