"""The one table the benchmark prints (Markdown, so BENCHMARKS.md can quote it as printed), with the
machine it ran on and how loaded that machine was."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterable

from bench.figures import Metric
from bench.harness import ROOT
from bench.runner import GroupResult, Measured


def machine_reference() -> float:
    """µs for sum(range(1000)), best of 5: the same pure-Python work bench/policies.py times, to read
    every figure against this machine's speed at the moment (about 8 µs on an idle core)."""
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(200):
            sum(range(1000))
        best = min(best, (time.perf_counter() - t) / 200)
    return best * 1e6


def cpu_pressure() -> str:
    try:
        line = open("/proc/pressure/cpu").readline().split()  # noqa: SIM115
    except OSError:
        return "n/a"
    return " ".join(line[1:3])


def machine_lines(command: str) -> list[str]:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):  # noqa: SIM115
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = shutil.which("node")
    node_version = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else "none"
    )
    commit = (
        subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        or "unknown"
    )
    return [
        f"- command: `{command}`",
        f"- commit: {commit}; {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; node {node_version}",
    ]


def load_lines(before: tuple[float, float, str], after: tuple[float, float, str]) -> list[str]:
    return [
        f"- load average (1 min) at start {before[0]:.2f}, at end {after[0]:.2f}; CPU pressure {before[2]} → "
        f"{after[2]}",
        f"- machine reference (sum(range(1000)), ~8 µs idle): {before[1]:.1f} µs at start, "
        f"{after[1]:.1f} µs at end",
    ]


def snapshot() -> tuple[float, float, str]:
    return os.getloadavg()[0], machine_reference(), cpu_pressure()


def _verdict(values: list[float], metric: Metric | None, target: float | None, higher: bool = True) -> str:
    if target is None or not values:
        return ""
    med = statistics.median(values)
    if (med >= target) if higher else (med <= target):
        return "meets"
    short = (target - med) / target if higher else (med - target) / target
    return f"short by {short * 100:.0f}%"


def _spread(values: list[float], fmt: str) -> str:
    if len(values) < 2:
        return ""
    return f"{fmt.format(min(values))}–{fmt.format(max(values))}"


def _cpu(m: Measured, what: str) -> str:
    v = m.per_message(what)
    return f"{v:,.1f}" if v is not None else ""


def result_rows(results: Iterable[GroupResult]) -> list[str]:
    rows = [
        "| fig | what | metric | median | min–max | runs | load CPU µs/msg | server CPU µs/msg "
        "| CPU-bound msg/s | target | verdict |",
        "|---|---|---|---:|---|---:|---:|---:|---:|---|---|",
    ]
    for result in results:
        for m in result.measured.values():
            c = m.contender
            if c.missing:
                rows.append(f"| {c.figure} | {c.label} | | not run: {c.missing} | | 0 | | | | | |")
                continue
            bound = m.cpu_bound_rate()
            for k, metric in enumerate(c.metrics):
                values = m.values(metric)
                med = metric.fmt.format(statistics.median(values)) if values else "failed"
                op = "≥" if metric.higher_is_better else "≤"
                target = f"{op} {metric.fmt.format(metric.target)}" if metric.target is not None else ""
                verdict = _verdict(values, metric, metric.target, metric.higher_is_better)
                rows.append(
                    f"| {c.figure} | {c.label} | {metric.label} | {med} | {_spread(values, metric.fmt)} | "
                    f"{len(values)} | {_cpu(m, 'client')} | {_cpu(m, 'server')} | "
                    f"{f'{bound:,.0f}' if bound and k == 0 else ''} | {target} | {verdict} |"
                )
    return rows


def ratio_rows(results: Iterable[GroupResult]) -> list[str]:
    rows = [
        "| fig | ratio (paired within each round) | median | min–max | rounds | target | verdict |",
        "|---|---|---:|---|---:|---|---|",
    ]
    for result in results:
        for ratio in result.group.ratios:
            values = result.ratio(ratio)
            med = f"{statistics.median(values):.2f}" if values else "n/a"
            target = f"≥ {ratio.target}" if ratio.target is not None else ""
            verdict = _verdict(values, None, ratio.target)
            rows.append(
                f"| {ratio.figure} | {ratio.label} | {med} | {_spread(values, '{:.2f}')} | {len(values)} | "
                f"{target} | {verdict} |"
            )
    return rows


def profile_lines(results: Iterable[GroupResult], top: int) -> list[str]:
    out: list[str] = []
    for result in results:
        for m in result.measured.values():
            for role, prof in m.profiles.items():
                out += [f"### profile: {m.contender.key}, {role} process", "```", *prof.lines(top), "```"]
    return out
