"""``telco-channels send`` streams its target file: 200 000 rows through the whole pipeline
(``--dry-run``: everything but the gateway) stay far under 200 MB, and memory stops growing with the
row count (the issue's bound is 1 M rows in 200 MB; what grows per row lives in the job file).

The child's memory is read from /proc while it runs (VmRSS, and VmHWM: the peak), against the rows
it reports having read on its plain progress lines.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROWS = 200_000
LIMIT_MB = 200
GROWTH_MB = 40  # from 40 000 rows read to the end: bounded caches only, nothing per row
TIMEOUT = 150.0


def status(pid: int, field: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(rf"{field}:\s+(\d+) kB", text)
    return int(found.group(1)) // 1024 if found else None


def test_two_hundred_thousand_rows_stream_in_bounded_memory(tmp_path: Path) -> None:
    targets = tmp_path / "big.txt"
    targets.write_text("".join(f"+86138{i:08d}\n" for i in range(ROWS)))
    args = [sys.executable, "-c", "from channels.cli import main; main()", "send", str(targets),
            "--template", "Hello from the campaign", "--dry-run",
            "--report", str(tmp_path / "r.csv")]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    read = [0]

    def follow() -> None:  # the plain progress lines: "read 40,000  sent ..."
        assert proc.stderr is not None
        for line in proc.stderr:
            found = re.search(r"read ([\d,]+)", line)
            if found:
                read[0] = int(found.group(1).replace(",", ""))

    threading.Thread(target=follow, daemon=True).start()
    base = peak = 0
    while proc.poll() is None:
        assert time.monotonic() - started < TIMEOUT, f"not done in {TIMEOUT}s ({read[0]} rows read)"
        rss, hwm = status(proc.pid, "VmRSS"), status(proc.pid, "VmHWM")
        if rss is not None and hwm is not None:
            if not base and read[0] >= 40_000:
                base = rss
            peak = max(peak, hwm)
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0
    assert base, "the run ended before memory could be sampled at 40 000 rows"
    assert peak < LIMIT_MB, f"peak RSS {peak} MB"
    assert peak - base < GROWTH_MB, f"RSS grew from {base} MB to {peak} MB"
    rows = (tmp_path / "r.csv").read_text().count("\n") - 1
    assert rows == ROWS
    print(f"dry run: {ROWS / elapsed:,.0f} rows/s, RSS {base} MB at 40k rows, peak {peak} MB")
