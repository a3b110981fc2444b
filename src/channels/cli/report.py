"""What ``telco-channels send`` shows and writes: live progress, the summary table, the report file.

Progress is a rich progress bar on a terminal (rows read, sent, deferred, rejected, failed, receipts,
current rate) and a plain line every few seconds otherwise (logs, CI). The report file has one line
per target row, in file order, streamed from the job file: message id, remote ids, outcome and
reason, final receipt state and the times; JSON Lines for ``.jsonl``/``.json``, CSV for ``.csv``.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from channels.cli.jobs import REPORT_COLUMNS, JobFile
from channels.errors import ConfigurationError


@dataclass
class Counters:
    """Live counts of one run (the job file holds the totals across runs)."""

    read: int = 0
    skipped: int = 0  # already final in the job file (a resumed run)
    sent: int = 0
    deferred: int = 0  # held for a quiet-hours window (or left deferred for a later run)
    rejected: int = 0
    duplicate: int = 0
    failed: int = 0
    unknown: int = 0
    invalid: int = 0
    receipts: int = 0
    started: float = field(default_factory=time.monotonic)
    _window: list[tuple[float, int]] = field(default_factory=list)

    def rate(self) -> float:
        """Sends per second over the last few seconds."""
        now = time.monotonic()
        self._window.append((now, self.sent))
        while len(self._window) > 2 and now - self._window[0][0] > 5.0:
            self._window.pop(0)
        t0, n0 = self._window[0]
        return (self.sent - n0) / (now - t0) if now > t0 else 0.0

    def average_rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.sent / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        return (
            f"read {self.read:,}  sent {self.sent:,}  deferred {self.deferred:,}  rejected {self.rejected:,}"
            f"  failed {self.failed + self.unknown:,}  invalid {self.invalid:,}  receipts {self.receipts:,}"
            f"  {self.rate():,.0f}/s"
        )


class ProgressView:
    """A rich progress bar on a TTY (rows read of ``total``, and the live counts), else a plain line
    to stderr every ``every`` seconds."""

    def __init__(
        self,
        counters: Counters,
        *,
        console: Console,
        total: Callable[[], int | None] = lambda: None,
        every: float = 2.0,
        enabled: bool = True,
    ) -> None:
        self.counters = counters
        self.console = console
        self.total = total
        self.every = every
        self.enabled = enabled
        self._bar: Progress | None = None
        self._live: Live | None = None
        self._task: TaskID | None = None
        self._last = 0.0

    def __rich__(self) -> Text:
        return Text(self.counters.line())

    def __enter__(self) -> ProgressView:
        if self.enabled and self.console.is_terminal:
            self._bar = Progress(TextColumn("[bold]rows"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=self.console)  # fmt: skip
            self._task = self._bar.add_task("rows", total=self.total())
            # the bar, and the counts on a line of their own below it
            self._live = Live(Group(self._bar, self), console=self.console, refresh_per_second=4,
                              transient=True)  # fmt: skip
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def tick(self) -> None:
        now = time.monotonic()
        if now - self._last < (0.25 if self._live is not None else self.every):
            return
        self._last = now
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.counters.read)
        elif self.enabled:
            print(self.counters.line(), file=sys.stderr, flush=True)


def summary_table(counters: Counters, job: JobFile, *, title: str) -> Table:
    """This run's counts beside the job's totals (which include earlier runs of a resumed job)."""
    totals = job.counts()
    receipts = job.receipt_counts()
    table = Table(title=title)
    table.add_column("", style="bold")
    table.add_column("this run", justify="right")
    table.add_column("job total", justify="right")
    rows = [
        ("rows read", counters.read, None),
        ("already done", counters.skipped, None),
        ("sent", counters.sent, totals.get("sent", 0)),
        ("deferred", counters.deferred, totals.get("deferred", 0)),
        ("rejected", counters.rejected, totals.get("rejected", 0)),
        ("duplicate", counters.duplicate, totals.get("duplicate", 0)),
        ("failed", counters.failed, totals.get("failed", 0)),
        ("outcome unknown", counters.unknown, totals.get("unknown", 0) + totals.get("sending", 0)),
        ("  ever unknown (journal)", None, job.unknown_journalled()),
        ("invalid rows", counters.invalid, totals.get("invalid", 0)),
        ("receipts", counters.receipts, sum(receipts.values())),
    ]
    for name, run, total in rows:
        table.add_row(name, "" if run is None else f"{run:,}", "" if total is None else f"{total:,}")
    for state, n in sorted(receipts.items()):
        table.add_row(f"  {state}", "", f"{n:,}")
    table.add_row("rate", f"{counters.average_rate():,.0f}/s", "")
    return table


def write_report(job: JobFile, path: str | Path) -> int:
    """Write every row of the job to ``path`` (CSV or JSON Lines by suffix); returns the row count."""
    target = Path(path)
    as_csv = target.suffix.lower() == ".csv"
    try:
        with open(target, "w", encoding="utf-8", newline="") as f:
            return _write_csv(job, f) if as_csv else _write_jsonl(job, f)
    except OSError as exc:
        raise ConfigurationError(f"--report {target}: {exc.strerror or exc}") from exc


def _write_jsonl(job: JobFile, f: IO[str]) -> int:
    n = 0
    for n, row in enumerate(job.report_rows(), 1):  # noqa: B007
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return n


def _write_csv(job: JobFile, f: IO[str]) -> int:
    writer = csv.DictWriter(f, fieldnames=REPORT_COLUMNS)
    writer.writeheader()
    n = 0
    for n, row in enumerate(job.report_rows(), 1):  # noqa: B007
        flat: dict[str, Any] = dict(row)
        flat["remote_ids"] = " ".join(row["remote_ids"])
        writer.writerow(flat)
    return n
