"""``telco-channels send`` as a user runs it, in processes: Ctrl-C mid-send and a rerun (every row
sent exactly once), a killed process (nothing sent twice, the ambiguous rows journalled and resent
only with --at-least-once), and two workers on one Redis sharing a file (every row once).

The SMSC simulator runs as ``telco-channels simulate smsc --record`` in its own process; its record
is what the handsets received, so it is the judge of "exactly once".
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RedisServer

ROWS = 900
RATE = "300/s"  # three seconds of sending: time to interrupt it


def cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from channels.cli import main; main()", *args]


@pytest.fixture
def smsc(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    record = tmp_path / "smsc.jsonl"
    proc = subprocess.Popen(
        cmd("simulate", "smsc", "--port", "0", "--record", str(record)),
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    url = ""
    deadline = time.monotonic() + 20
    assert proc.stderr is not None
    while not url and time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = re.search(r"SMSC listening: (smpp://\S+)", line)
        url = found.group(1) if found else ""
    assert url, "the SMSC simulator did not start"
    threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep its log flowing
    try:
        yield url, record
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def targets(tmp_path: Path) -> Path:
    path = tmp_path / "t.csv"
    path.write_text("msisdn,name\n" + "".join(f"+86138{i:08d},U{i}\n" for i in range(ROWS)))
    return path


def received(record: Path) -> Counter[str]:
    if not record.exists():
        return Counter()
    return Counter(json.loads(line)["destination"] for line in record.read_text().splitlines())


def send_args(tmp_path: Path, url: str, *extra: str) -> list[str]:
    return cmd("send", str(targets(tmp_path)), "--gateway", url + "?window=32", "--template", "Hi {name}",
               "--job", str(tmp_path / "job.sqlite"), "--rate", RATE, "--report", str(tmp_path / "r.jsonl"),
               "-q", *extra)  # fmt: skip


def start_then(
    tmp_path: Path, url: str, record: Path, sig: signal.Signals, after: float
) -> subprocess.CompletedProcess[str]:
    """Start a send, and ``after`` seconds into its sending (once the SMSC has recorded a message,
    however long a busy machine takes to start the process), send it ``sig``."""
    args = send_args(tmp_path, url)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not received(record) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(after)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def everyone() -> set[str]:
    return {f"86138{i:08d}" for i in range(ROWS)}


def test_ctrl_c_then_rerun_sends_every_row_exactly_once(tmp_path: Path, smsc: tuple[str, Path]) -> None:
    url, record = smsc
    stopped = start_then(tmp_path, url, record, signal.SIGINT, after=1.0)
    assert stopped.returncode == 130, stopped.stderr
    assert "interrupted after" in stopped.stderr and "rerun the same command" in stopped.stderr
    partial = received(record)
    assert 0 < sum(partial.values()) < ROWS
    resumed = subprocess.run(send_args(tmp_path, url), capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    time.sleep(0.5)  # the simulator's record is flushed per line; let the last lines land
    got = received(record)
    assert set(got) == everyone()
    assert max(got.values()) == 1  # exactly once
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(rows) == ROWS and {r["outcome"] for r in rows} == {"sent"}


def test_a_killed_send_never_sends_twice_and_at_least_once_completes_it(
    tmp_path: Path, smsc: tuple[str, Path]
) -> None:
    url, record = smsc
    killed = start_then(tmp_path, url, record, signal.SIGKILL, after=1.0)
    assert killed.returncode == -signal.SIGKILL
    resumed = subprocess.run(send_args(tmp_path, url), capture_output=True, text=True, timeout=60)
    time.sleep(0.5)
    got = received(record)
    assert max(got.values()) == 1  # nothing twice
    rows = {r["msisdn"]: r for r in map(json.loads, (tmp_path / "r.jsonl").read_text().splitlines())}
    unknown = {n for n, r in rows.items() if r["outcome"] == "unknown"}
    assert {n for n, r in rows.items() if r["outcome"] == "sent"} | unknown == everyone()
    assert everyone() - unknown <= set(got)  # every row not in doubt was received
    if unknown:
        assert "when the last run died" in resumed.stderr
        assert all(r["reason"].startswith("interrupted") for n, r in rows.items() if n in unknown)
    assert resumed.returncode == 0, resumed.stderr
    again = subprocess.run(send_args(tmp_path, url, "--at-least-once"), capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    assert again.returncode == 0, again.stderr
    time.sleep(0.5)
    assert set(received(record)) == everyone()


def test_two_workers_on_one_redis_send_each_row_once(
    tmp_path: Path, smsc: tuple[str, Path], redis_server: RedisServer
) -> None:
    url, record = smsc
    path = targets(tmp_path)
    workers = []
    for w in range(2):
        args = cmd("send", str(path), "--gateway", url + "?window=32", "--template", "Hi {name}",
                   "--campaign", f"redis-{os.getpid()}", "--redis", redis_server.url, "--rate", "600/s",
                   "--job", str(tmp_path / f"w{w}.sqlite"), "--report", str(tmp_path / f"w{w}.jsonl"),
                   "-q")  # fmt: skip
        workers.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=90) for p in workers]
    assert [p.returncode for p in workers] == [0, 0], outputs
    time.sleep(0.5)
    got = received(record)
    assert set(got) == everyone() and max(got.values()) == 1
    reports = [[json.loads(x) for x in (tmp_path / f"w{w}.jsonl").read_text().splitlines()] for w in range(2)]
    sent = [sum(r["outcome"] == "sent" for r in rows) for rows in reports]
    assert sum(sent) == ROWS and min(sent) > 0  # the work was shared
    for rows in reports:
        assert {r["outcome"] for r in rows} <= {"sent", "duplicate"}
