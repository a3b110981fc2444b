"""Starting, timing and stopping the benchmark's processes (the harness side of :mod:`bench.proc`).

A :class:`Server` is started fresh for every run (so no run inherits another's state) and stopped by
closing its stdin. :func:`run_load` runs one load process against it; when the load announces its timed
phase the harness notes the server's CPU clock (``/proc/PID/stat``) and, if asked, attaches py-spy to
either process. A run's result is the load's JSON line plus the server's CPU seconds over the timed
phase, so each figure can say which process was the busy one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from bench import profile
from bench.peers import BENCH

ROOT = BENCH.parent
RESULTS = BENCH / "results"
_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A process of the benchmark failed; the message carries the tail of its stderr."""


def python(module: str, *args: object) -> list[str]:
    return [sys.executable, "-m", module, *map(str, args)]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid``; 0.0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def load_average() -> float:
    return os.getloadavg()[0]


def _tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-1500:]


class Server:
    """A server process speaking :mod:`bench.proc`'s protocol. ``with Server(argv) as s: s.port``."""

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 30) -> None:
        self.argv, self.env, self.timeout = list(argv), env, timeout
        self.port = 0
        self.url = ""  # the gateway URL, for servers that have one
        self.final: dict[str, Any] = {}
        self._log = tempfile.TemporaryFile()  # noqa: SIM115  (closed in __exit__)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def __enter__(self) -> Server:
        self._proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        try:
            hello = json.loads(line)
            self.port, self.url = int(hello["port"]), str(hello.get("url", ""))
        except (ValueError, KeyError) as exc:
            self._proc.kill()
            self._proc.wait()
            raise BenchError(f"{self.argv[1:3]} did not start: {line!r} {_tail(self._log)}") from exc
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        proc = self._proc
        assert proc is not None
        try:
            out, _ = proc.communicate(timeout=self.timeout)  # closes stdin: the server stops
            lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("{")]
            self.final = json.loads(lines[-1]) if lines else {}
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._log.close()


@dataclass
class Run:
    """One measured run: the load's result line, and the server's CPU over the timed phase."""

    result: dict[str, Any]
    server_cpu: float | None = None
    profiles: dict[str, profile.Profile] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return float(self.result["messages"]) / float(self.result["seconds"])


def run_load(
    argv: Sequence[str],
    *,
    server: Server | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    profile_as: str | None = None,
) -> Run:
    """Run one load process to its end. ``profile_as``: attach py-spy to the load ("client") and the
    server ("server") for the timed phase, under that name in ``bench/results/``."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(list(argv), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log)
        assert proc.stdout is not None
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        result: dict[str, Any] | None = None
        server_cpu0: float | None = None
        spies: dict[str, tuple[subprocess.Popen[bytes] | None, Path]] = {}
        for raw in proc.stdout:
            line = json.loads(raw) if raw.startswith(b"{") else {}
            if line.get("event") == "timed":
                server_cpu0 = process_cpu(server.pid) if server is not None else None
                if profile_as:
                    spies = _attach(profile_as, proc.pid, server)
            elif line:
                result = line
        server_cpu = process_cpu(server.pid) - server_cpu0 if server and server_cpu0 is not None else None
        code = proc.wait()
        watchdog.cancel()
        if code != 0 or result is None:
            raise BenchError(f"{' '.join(map(str, argv[:4]))} failed ({code}): {_tail(log)}")
    run = Run(result, server_cpu)
    for role, (spy, out) in spies.items():
        if role == "server" and spy is not None:
            spy.send_signal(signal.SIGINT)  # the server outlives the load: stop sampling (py-spy writes)
        summary = profile.finish(spy, out)
        if summary is not None:
            run.profiles[role] = summary
    return run


def _attach(
    name: str, pid: int, server: Server | None
) -> dict[str, tuple[subprocess.Popen[bytes] | None, Path]]:
    targets = {"client": pid, **({"server": server.pid} if server is not None else {})}
    spies = {}
    for role, target in targets.items():
        out = RESULTS / f"{name}-{role}.raw"
        spies[role] = (profile.start(target, out), out)
    return spies
