"""What the benchmark measures: contenders (a server and a load, each in its own process), grouped so
that everything a ratio compares is measured side by side in the same rounds.

A :class:`Group` runs ``reps`` rounds; each round runs every contender once, in an order rotated from
round to round (so neither side of a ratio always goes first on a machine whose load drifts), each
against a fresh server. Ratios are taken within a round and their median reported. Adding a way of
sending (``bench.smpp_load.PATHS``) adds its contenders and ratios here without further edits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import python
from bench.peers import aiosmpplib_installed, node_command
from bench.smpp_load import PATHS, WINDOW

ServerSpec = tuple[list[str], dict[str, str] | None]
LoadFn = Callable[[int, str, int, int], list[str]]  # (port, url, messages, warmup) -> argv

OUR_SMSC: ServerSpec = (python("bench.servers", "smsc"), None)
CEILING_SERVER: ServerSpec = (python("bench.ceilings", "server"), None)
RAW_SMSC: ServerSpec = (python("bench.rawsmsc"), None)  # answers from byte templates: the client alone


@dataclass(frozen=True)
class Metric:
    """A number a contender's runs report: a result field (or ``rate``), and the issue's target."""

    label: str
    field: str = "rate"
    target: float | None = None
    higher_is_better: bool = True
    fmt: str = "{:,.0f}"


RATE = Metric("msg/s")


@dataclass
class Contender:
    key: str
    figure: str
    label: str
    server: ServerSpec
    load: LoadFn
    messages: int
    warmup: int
    env: dict[str, str] | None = None
    missing: str | None = None  # why it cannot run here (peer not set up), else None
    metrics: tuple[Metric, ...] = (RATE,)
    profiled: bool = False  # ``--profile``: one extra run of it under py-spy (client and server)


@dataclass(frozen=True)
class Ratio:
    figure: str
    label: str
    num: str
    den: str
    target: float | None = None  # the target for this ratio, if it sets one


@dataclass
class Group:
    name: str
    contenders: list[Contender]
    ratios: list[Ratio] = field(default_factory=list)


def _ours(path: str, policies: bool, raw: bool = False) -> Contender:
    flag = [] if policies else ["--no-policies"]
    what = "full policy pipeline" if policies else "no policies"
    return Contender(
        key=f"ours/{path}" + ("" if policies else "/no-policies") + ("/raw" if raw else ""),
        figure="3" if raw else "1",
        label=f"our client: Dispatcher.{path}, {what}" + (", against the raw SMSC" if raw else ""),
        server=RAW_SMSC if raw else OUR_SMSC,
        load=lambda port, url, n, w: python(
            "bench.smpp_load", "rate", "--port", port, "--path", path, "--messages", n, "--warmup", w, *flag
        ),
        messages=20_000,
        warmup=2_000,
        metrics=(Metric("msg/s", target=30_000),) if policies and not raw else (RATE,),
        profiled=policies and not raw,
    )


def _node(script: str, node_modules: str | None) -> tuple[list[str], dict[str, str] | None, str | None]:
    found = node_command(script, Path(node_modules) if node_modules else None)
    if found is None:
        return ["node", script], None, "node or npm smpp 0.5.1 not set up (bench/setup.sh)"
    argv, env = found
    return argv, env, None


def _ceiling(shape: str, what: str, messages: int, warmup: int) -> Contender:
    return Contender(
        f"ceiling-{shape}",
        "3",
        f"ceiling ({shape}): {what}",
        CEILING_SERVER,
        lambda port, url, n, w: python(
            "bench.ceilings", "client", "--shape", shape, "--port", port, "--messages", n, "--warmup", w
        ),
        messages,
        warmup,
    )


def client_group(node_modules: str | None) -> Group:
    """Figures 1, 3 and 4: clients against our SMSC, and the raw ceilings, in the same rounds."""
    node_argv, node_env, node_missing = _node("node_client.js", node_modules)
    contenders = [_ours(path, True) for path in PATHS] + [_ours(path, False) for path in PATHS]
    contenders += [_ours(path, True, raw=True) for path in PATHS]
    def node_client(key: str, figure: str, label: str, server: ServerSpec) -> Contender:
        return Contender(
            key,
            figure,
            label,
            server,
            lambda port, url, n, w: [*node_argv, str(port), str(n), str(w), str(WINDOW)],
            20_000,
            2_000,
            node_env,
            node_missing,
        )

    node_label = "node-smpp 0.5.1 client (window 64, receipts correlated)"
    contenders += [
        node_client("node-client", "1", node_label, OUR_SMSC),
        node_client("node-client/raw", "3", f"{node_label}, against the raw SMSC", RAW_SMSC),
        _ceiling("a", "task + future + write per request", 50_000, 5_000),
        _ceiling("b", "batched, no per-request objects", 500_000, 20_000),
        Contender(
            "smpplib",
            "4",
            "asyncio ESME on smpplib 2.2.4's codec",
            OUR_SMSC,
            lambda port, url, n, w: python(
                "bench.smpplib_esme", "--port", port, "--messages", n, "--warmup", w
            ),
            5_000,
            500,
        ),
        Contender(
            "aiosmpplib",
            "4",
            "aiosmpplib 0.7.4 ESME",
            OUR_SMSC,
            lambda port, url, n, w: python(
                "bench.aiosmpplib_esme", "--port", port, "--messages", n, "--warmup", w
            ),
            5_000,
            500,
            None,
            None if aiosmpplib_installed() else "aiosmpplib not set up (bench/setup.sh)",
        ),
    ]
    ratios = []
    for path in PATHS:
        ours = f"ours/{path}"
        ratios += [
            Ratio("1", f"{path}: our client ÷ node-smpp client", ours, "node-client", 1.5),
            Ratio("3", f"{path}: our client ÷ ceiling (a)", ours, "ceiling-a", 0.6),
            Ratio("3", f"{path}: our client ÷ ceiling (b)", ours, "ceiling-b", None),
            Ratio("3", f"{path}: our client, no policies ÷ ceiling (a)", f"{ours}/no-policies", "ceiling-a"),
            Ratio("3", f"{path}: our client alone (raw SMSC) ÷ ceiling (a)", f"{ours}/raw", "ceiling-a"),
            Ratio("3", f"{path}: alone (raw SMSC): ours ÷ node-smpp", f"{ours}/raw", "node-client/raw"),
            Ratio("4", f"{path}: our client ÷ smpplib-codec ESME", ours, "smpplib"),
            Ratio("4", f"{path}: our client ÷ aiosmpplib", ours, "aiosmpplib"),
        ]
    return Group("clients", contenders, ratios)


def server_group(node_modules: str | None) -> Group:
    """Figure 2: the same raw load generator against our SMSC simulator and node-smpp's server."""
    node_argv, node_env, node_missing = _node("node_server.js", node_modules)

    def loadgen(port: int, url: str, n: int, w: int) -> list[str]:
        return python("bench.loadgen", "--port", port, "--messages", n, "--warmup", w, "--window", WINDOW)

    contenders = [
        Contender(
            "our-smsc",
            "2",
            "our SmscSimulator (submit_sm + resp + receipt)",
            OUR_SMSC,
            loadgen,
            20_000,
            2_000,
            metrics=(Metric("msg/s", target=40_000),),
            profiled=True,
        ),
        Contender(
            "node-server",
            "2",
            "node-smpp 0.5.1 server (same work)",
            (node_argv, node_env),
            loadgen,
            20_000,
            2_000,
            None,
            node_missing,
        ),
    ]
    return Group(
        "servers", contenders, [Ratio("2", "our SMSC ÷ node-smpp server", "our-smsc", "node-server", 1.5)]
    )


LATENCY = (
    Metric("p50 ms", "p50_ms", fmt="{:.2f}"),
    Metric("p99 ms", "p99_ms", 5.0, higher_is_better=False, fmt="{:.2f}"),
    Metric("achieved msg/s", "achieved"),
)
HTTP_RATE = (Metric("msg/s", target=3_000),)
MEMORY = (
    Metric("B per in-flight message (send)", "in_flight_bytes", 1024, higher_is_better=False),
    Metric("B per in-flight message (send_many)", "in_flight_many_bytes", 1024, higher_is_better=False),
    Metric("B per receipt awaiting correlation", "receipt_bytes", 1024, higher_is_better=False),
)


def latency_group(rate: float) -> Group:
    """Figure 5: submit→resp latency of our client at a constant arrival rate (half its maximum), with
    the start-up heap frozen out of the collector's sight (``gc.freeze()``, as a latency-sensitive
    service does) and with Python's collector as it starts, one ``Dispatcher.send`` task per
    message; and, heap frozen, one ``send_many`` over a source that gives each message when it is
    due (a campaign fed as its targets come) (bench.smpp_load.latency)."""

    def load(collector: str, feed: str = "tasks") -> LoadFn:
        def argv(port: int, url: str, n: int, w: int) -> list[str]:
            seconds = n / rate
            return python(
                "bench.smpp_load",
                "latency",
                "--port",
                port,
                "--rate",
                f"{rate:.0f}",
                "--duration",
                f"{seconds:.2f}",
                "--warmup",
                w,
                "--gc",
                collector,
                "--feed",
                feed,
            )

        return argv

    n = int(rate * 5)
    label = f"our client at {rate:,.0f} msg/s (half of figure 1)"
    return Group(
        "latency",
        [
            Contender("latency", "5", f"{label}, start-up heap frozen", OUR_SMSC, load("freeze"), n, 1_000,
                      metrics=LATENCY),
            Contender("latency-gc", "5", f"{label}, default collector", OUR_SMSC, load("default"), n, 1_000,
                      metrics=LATENCY),
            Contender("latency-stream", "5", f"{label}, one send_many fed as messages fall due, heap frozen",
                      OUR_SMSC, load("freeze", "stream"), n, 1_000, metrics=LATENCY),
        ],
    )  # fmt: skip


def http_group() -> Group:
    """Figure 6: MM7 and PAP through the Dispatcher against our MMSC and PPG simulators."""

    def load(kind: str) -> LoadFn:
        return lambda port, url, n, w: python(
            "bench.http_load", kind, "--url", url, "--messages", n, "--warmup", w, "--concurrency", 64
        )

    return Group(
        "http",
        [
            Contender(
                "mm7",
                "6",
                "MM7 SubmitReq via Mm7Client (keep-alive, concurrency 64)",
                (python("bench.servers", "mmsc"), None),
                load("mm7"),
                2_000,
                200,
                metrics=HTTP_RATE,
                profiled=True,
            ),
            Contender(
                "pap",
                "6",
                "PAP push via PapClient (keep-alive, concurrency 64)",
                (python("bench.servers", "ppg"), None),
                load("pap"),
                3_000,
                300,
                metrics=HTTP_RATE,
            ),
        ],
    )


def memory_group() -> Group:
    """Figure 7: bytes per in-flight message and per receipt awaiting correlation."""
    server: ServerSpec = (python("bench.servers", "smsc", "--latency", 60, "--no-receipts"), None)
    return Group(
        "memory",
        [
            Contender(
                "memory",
                "7",
                "tracemalloc, client process",
                server,
                lambda port, url, n, w: python("bench.memory", "--port", port, "--receipts", n),
                20_000,
                0,
                metrics=MEMORY,
            ),
        ],
    )
