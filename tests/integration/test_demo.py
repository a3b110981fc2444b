"""The README's first command: ``telco-channels demo`` runs a campaign over all five channels."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_all_five_channels_with_every_policy() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from channels.cli import main; main()", "demo", "--subscribers", "60"],
        capture_output=True,
        text=True,
        timeout=90,
        env={"COLUMNS": "160", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert {"sms", "mms", "wap_push", "ivr", "ussd"} <= set(rows)
    assert "quiet hours: +1212" in out  # the New York subscriber waits for their window
    assert "contact_cap" in out  # another campaign hit the same subscriber the same day
    assert "duplicate" in out  # the same Message.id was not sent twice
    for kind in ("sms", "mms", "wap_push", "ivr", "ussd"):
        cells = [c.strip() for c in rows[kind].split("│")[1:-1]]
        sent, ok, delivered, undelivered = int(cells[1]), int(cells[2]), int(cells[6]), int(cells[7])
        assert ok > 0 and sent >= ok, rows[kind]
        assert delivered + undelivered == ok, rows[kind]  # every accepted message got a final state
