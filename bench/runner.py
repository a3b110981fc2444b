"""Running a :class:`~bench.figures.Group`: rounds, rotation, fresh servers, medians and paired ratios.

Each round runs every contender once, in an order rotated by one from the round before; a contender's
figures are the medians over rounds, its spread the min and max. A ratio is computed inside each round
(both sides measured minutes apart at most, under the same load) and its median reported. A run that
fails is recorded with its error and the rest go on: the table shows what failed.
"""

from __future__ import annotations

import statistics
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field

from bench.figures import Contender, Group, Metric, Ratio
from bench.harness import BenchError, Run, Server, load_average, run_load
from bench.profile import Profile


@dataclass
class Measured:
    """One contender's runs, indexed by round (None: failed or not run in that round)."""

    contender: Contender
    runs: list[Run | None]
    errors: list[str] = field(default_factory=list)
    profiles: dict[str, Profile] = field(default_factory=dict)

    def ok(self) -> list[Run]:
        return [r for r in self.runs if r is not None]

    def values(self, metric: Metric) -> list[float]:
        return [value(r, metric) for r in self.ok()]

    def per_message(self, what: str) -> float | None:
        """Median CPU µs per message of the load ("client") or the server."""
        values = []
        for r in self.ok():
            cpu = r.result.get("cpu") if what == "client" else r.server_cpu
            if cpu is not None and r.result.get("messages"):
                values.append(float(cpu) / float(r.result["messages"]) * 1e6)
        return statistics.median(values) if values else None

    def cpu_bound_rate(self) -> float | None:
        """Median of messages ÷ the busier process's CPU seconds: the rate if the load and the server
        each had a core of their own, which the machine's other tenants do not change much."""
        values = []
        for r in self.ok():
            cpu, server = r.result.get("cpu"), r.server_cpu
            if cpu and server and r.result.get("messages"):
                values.append(float(r.result["messages"]) / max(float(cpu), server))
        return statistics.median(values) if values else None


def value(run: Run, metric: Metric) -> float:
    return run.rate if metric.field == "rate" else float(run.result[metric.field])


@dataclass
class GroupResult:
    group: Group
    measured: dict[str, Measured]
    loads: list[float]

    def ratio(self, ratio: Ratio) -> list[float]:
        num, den = self.measured.get(ratio.num), self.measured.get(ratio.den)
        if num is None or den is None:
            return []
        return [a.rate / b.rate for a, b in zip(num.runs, den.runs, strict=True) if a and b]


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_group(
    group: Group, reps: int, scale: float, *, fresh: bool = True, profile: bool = False
) -> GroupResult:
    measured = {c.key: Measured(c, [None] * reps) for c in group.contenders}
    loads: list[float] = []
    shared: dict[tuple[str, ...], Server] = {}
    with ExitStack() as keep:
        for rep in range(reps):
            loads.append(load_average())
            order = (
                group.contenders[rep % len(group.contenders) :]
                + group.contenders[: rep % len(group.contenders)]
            )
            for contender in order:
                if contender.missing:
                    continue
                m = measured[contender.key]
                try:
                    server = _server(contender, fresh, shared, keep)
                    with server if fresh else ExitStack():
                        m.runs[rep] = _measure(contender, server, scale)
                except BenchError as exc:
                    m.errors.append(str(exc))
                    note(f"  [{group.name}] {contender.key}: FAILED {str(exc)[:300]}")
                    continue
                run = m.runs[rep]
                assert run is not None
                shown = ", ".join(
                    f"{metric.fmt.format(value(run, metric))} {metric.label}" for metric in contender.metrics
                )
                where = f"[{group.name}] round {rep + 1}/{reps} {contender.key}"
                note(f"  {where}: {shown} (load {load_average():.1f})")
        if profile:
            for contender in group.contenders:
                if contender.profiled and not contender.missing:
                    _profile(contender, measured[contender.key], scale)
    return GroupResult(group, measured, loads)


def _server(
    contender: Contender, fresh: bool, shared: dict[tuple[str, ...], Server], keep: ExitStack
) -> Server:
    argv, env = contender.server
    if fresh:
        return Server(argv, env)
    key = tuple(argv)
    if key not in shared:
        shared[key] = keep.enter_context(Server(argv, env))
    return shared[key]


def _measure(contender: Contender, server: Server, scale: float, profile_as: str | None = None) -> Run:
    n = max(10, int(contender.messages * scale))
    w = int(contender.warmup * scale)
    if server.port == 0:
        raise BenchError(f"{contender.key}: server not started")
    argv = contender.load(server.port, server.url, n, w)
    return run_load(argv, server=server, env=contender.env, profile_as=profile_as)


def _profile(contender: Contender, m: Measured, scale: float) -> None:
    argv, env = contender.server
    name = contender.key.replace("/", "-")
    try:
        with Server(argv, env) as server:
            run = _measure(contender, server, scale, profile_as=name)
    except BenchError as exc:
        note(f"  profile of {contender.key} failed: {exc}")
        return
    m.profiles = run.profiles
    if not run.profiles:
        note(f"  profile of {contender.key}: py-spy not set up (bench/setup.sh)")
