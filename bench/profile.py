"""Sampling profiles of a benchmark process with py-spy, summarised as the functions that cost most.

The harness attaches ``py-spy record`` (installed by ``bench/setup.sh``) to a client or server process
when its timed phase starts; py-spy stops when the process exits and leaves its raw folded stacks
(``frame;frame;... count``, idle samples excluded) in ``bench/results/``. :func:`summarise` reads them
back as two top lists: **self** (samples whose innermost frame is the function: where the CPU goes)
and **total** (samples with the function anywhere on the stack: which call is expensive as a whole).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.peers import PY_SPY

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


@dataclass(frozen=True)
class Profile:
    samples: int
    self_time: list[tuple[str, float]]  # function, share of samples
    total_time: list[tuple[str, float]]

    def lines(self, top: int = 12) -> list[str]:
        out = [f"  {self.samples} samples (CPU only)", "  self %   function"]
        out += [f"  {share * 100:5.1f}   {name}" for name, share in self.self_time[:top]]
        out += ["  total %  function"]
        out += [f"  {share * 100:5.1f}   {name}" for name, share in self.total_time[:top]]
        return out


def start(pid: int, out: Path, rate: int = 250) -> subprocess.Popen[bytes] | None:
    """Attach py-spy to ``pid``; None (with a note on stderr) if py-spy is not set up."""
    if not PY_SPY.exists():
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    args = [
        str(PY_SPY),
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--rate",
        str(rate),
        "--nonblocking",
        "--output",
        str(out),
    ]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finish(spy: subprocess.Popen[bytes] | None, out: Path) -> Profile | None:
    if spy is None:
        return None
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.terminate()
        spy.wait(10)
    return summarise(out) if out.exists() else None


def _name(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if m is None:
        return frame.strip()
    path = m.group("file")
    for marker in ("/src/", "/site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m.group('func')} ({path})"


def summarise(path: Path) -> Profile:
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    samples = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_name(f) for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        samples += n
        own[frames[-1]] += n
        for name in set(frames):
            anywhere[name] += n

    def shares(c: Counter[str]) -> list[tuple[str, float]]:
        return [(k, v / samples) for k, v in c.most_common()] if samples else []

    return Profile(samples, shares(own), shares(anywhere))
