"""A bulk send from a CSV with the CLI, as an operator's team runs it.

Starts the SMSC simulator (``telco-channels simulate smsc``), writes a target file exported "from
the analytics system" (with two bad rows), sends it with ``telco-channels send`` (a template with
per-row variables, a rate, a contact cap, a job file, a report), then runs the same command again:
the job file knows every row, so nothing is sent twice.
"""

import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path


def telco(*args: str) -> list[str]:
    found = shutil.which("telco-channels")
    return [found, *args] if found else [sys.executable, "-c", "from channels.cli import main; main()", *args]


def start_smsc(record: Path) -> tuple[subprocess.Popen[str], str]:
    smsc = subprocess.Popen(telco("simulate", "smsc", "--port", "0", "--record", str(record)),
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert smsc.stderr is not None
    for line in smsc.stderr:
        if found := re.search(r"SMSC listening: (\S+)", line):
            threading.Thread(target=smsc.stderr.read, daemon=True).start()  # keep its log flowing
            return smsc, found.group(1)
    raise SystemExit("the SMSC simulator did not start")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="telco-example-"))
    targets = work / "spring.csv"
    rows = [f"+86138{i:08d},User{i},{['basic', 'family', 'gold'][i % 3]}" for i in range(500)]
    rows[10] = "+86 138 ABC,Broken,gold"  # an unparseable number
    rows[20] = "+8613800000020,,family"  # no name for {name}
    targets.write_text("msisdn,name,plan\n" + "\n".join(rows) + "\n", encoding="utf-8")
    smsc, url = start_smsc(work / "handsets.jsonl")
    try:
        send = telco("send", str(targets), "--gateway", url + "?window=32", "--campaign", "spring-2026",
                     "--template", "Dear {name}, your {plan} plan gets 10 GB more this month.",
                     "--sender", "10086", "--rate", "2000/s", "--max-per-subscriber", "2/day",
                     "--job", str(work / "spring.job.sqlite"), "--report", str(work / "report.jsonl"),
                     "--wait-receipts", "5s")  # fmt: skip
        first = subprocess.run(send, capture_output=True, text=True, timeout=120)
        print(first.stdout)
        print("\n".join(line for line in first.stderr.splitlines() if "spring.csv:" in line))
        assert first.returncode == 0, first.stderr
        again = subprocess.run(send, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and re.search(r"already done\W+498", again.stdout), again.stdout
    finally:
        smsc.send_signal(signal.SIGINT)
        smsc.wait(10)
    report = [json.loads(line) for line in (work / "report.jsonl").read_text().splitlines()]
    handsets = [json.loads(line) for line in (work / "handsets.jsonl").read_text().splitlines()]
    print("report outcomes:", dict(Counter(r["outcome"] for r in report)))
    print("receipts:", dict(Counter(r["receipt"] for r in report if r["receipt"])))
    print(f"handsets received {len(handsets)} messages, e.g. {handsets[0]['text']!r}")
    print("second run: every row already done, nothing sent again")
    assert len(handsets) == 498 and len({h["destination"] for h in handsets}) == 498
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
