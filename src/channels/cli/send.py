"""``telco-channels send``: bulk send from a CSV/TXT target file, resumable, with a report (issue 9).

This module is the command's surface: options (or a ``campaign.toml``) → a :class:`SendPlan` of
opened parts (target file, row builder, job file, throttle store and pipeline, channel), the run
(:mod:`channels.cli.engine`), then the summary table, the report file and the exit status:
0 done, 3 some rows failed or have an unknown outcome, 75 rows left deferred for a later run
(``--on-deferred exit``), 130 interrupted (rerun the same command to resume).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from channels.channel import Channel
from channels.cli.common import quiet_logging
from channels.cli.engine import RunSummary, SendPlan, execute
from channels.cli.gateways import DryRunChannel, open_channel, redact
from channels.cli.jobs import JobFile
from channels.cli.report import Counters, ProgressView, summary_table, write_report
from channels.cli.specs import (
    apply_config,
    load_config,
    parse_cap,
    parse_duration,
    parse_quiet_hours,
    parse_rate,
)
from channels.cli.targets import ContentSpec, RowBuilder, TargetFile, Template
from channels.content import WapPushKind
from channels.errors import ChannelsError, ConfigurationError
from channels.message import ChannelKind
from throttle import RateLimit, RedisStore, SqliteStore, default_pipeline, load_blocked
from throttle.numbers import Numbers
from throttle.pipeline import Pipeline
from throttle.stores.base import Store

EXIT_FAILED, EXIT_DEFERRED, EXIT_INTERRUPTED = 3, 75, 130
KINDS = [k.value for k in ChannelKind]


def _content_spec(p: Mapping[str, Any]) -> ContentSpec:
    if p["template"] and p["template_file"]:
        raise click.UsageError("give --template or --template-file, not both")
    if p["template_file"]:
        try:
            text = Path(p["template_file"]).read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise click.BadParameter(f"{exc.strerror or exc}", param_hint="--template-file") from exc
        body = Template(text, source=f"--template-file {p['template_file']}")
    elif p["template"]:
        body = Template(p["template"])
    else:
        raise click.UsageError("give the message text: --template TEXT or --template-file FILE")
    return ContentSpec(
        body=body,
        subject=Template(p["subject"], source="--subject") if p["subject"] else None,
        href=Template(p["href"], source="--href") if p["href"] else None,
        push_kind=WapPushKind(p["push_kind"]),
        max_sms_parts=p["max_parts"],
    )


def _store(p: Mapping[str, Any], job_path: Path) -> Store:
    if p["dry_run"]:  # a scratch store beside the scratch job: claims of a 1M-row file stay on disk
        return SqliteStore(job_path.parent / "state.sqlite")
    if p["redis"]:
        return RedisStore(url=p["redis"], namespace="telco-channels")
    return SqliteStore(p["state"] or job_path.parent / "telco-channels-state.sqlite")


def _pipeline(p: Mapping[str, Any], store: Store, numbers: Numbers) -> Pipeline:
    return default_pipeline(
        store,
        limits=[RateLimit(parse_rate(p["rate"]))] if p["rate"] else (),
        schedule=parse_quiet_hours(p["quiet_hours"], tuple(p["holiday"])) if p["quiet_hours"] else None,
        caps=[parse_cap(p["max_per_subscriber"])] if p["max_per_subscriber"] else (),
        blocked=load_blocked(p["blocked"], numbers) if p["blocked"] else (),
        numbers=numbers,
    )


def _channel(p: Mapping[str, Any], kind: ChannelKind) -> Channel:
    if p["dry_run"]:
        if p["gateway"]:
            open_channel(kind, p["gateway"])  # the URL must at least be valid
        return DryRunChannel(kind)
    if not p["gateway"]:
        raise click.UsageError("--gateway URL is required (or --dry-run)")
    return open_channel(kind, p["gateway"], window=p["window"])


def build_plan(p: Mapping[str, Any], job_path: Path) -> SendPlan:
    kind = ChannelKind(p["channel"])
    numbers = Numbers(default_region=p["default_region"], default_zone=p["timezone"])
    targets = TargetFile(p["targets"], encoding=p["encoding"])
    campaign = p["campaign"] or Path(p["targets"]).stem
    spec = _content_spec(p)
    builder = RowBuilder(kind=kind, campaign=campaign, spec=spec, sender=p["sender"], numbers=numbers)
    builder.check_columns(targets)
    wait = parse_duration(p["wait_receipts"], "--wait-receipts")
    channel = _channel(p, kind)
    store = _store(p, job_path)
    pipeline = _pipeline(p, store, numbers)
    job = JobFile(job_path, campaign=campaign, channel=kind, targets=str(Path(p["targets"]).resolve()))
    return SendPlan(
        targets=targets, builder=builder, job=job, store=store, pipeline=pipeline,
        channel=channel, hold_deferred=p["on_deferred"] == "wait", at_least_once=p["at_least_once"],
        concurrency=p["concurrency"], wait_receipts=wait,
        dry_run=p["dry_run"], shared_store=bool(p["redis"]),
    )  # fmt: skip


def _default_job(p: Mapping[str, Any]) -> Path:
    targets = Path(p["targets"])
    return targets.with_name(f"{targets.name}.{p['channel']}.job.sqlite")


def _warn(text: str) -> None:
    click.echo(text, err=True)


def _finish(plan: SendPlan, summary: RunSummary, p: Mapping[str, Any], out: Console) -> int:
    job = plan.job
    title = f"telco-channels send: {plan.builder.campaign} ({plan.builder.kind.value})"
    out.print(summary_table(summary.counters, job, title=title + (" [dry run]" if plan.dry_run else "")))
    if summary.stale:
        _warn(f"{summary.stale} row(s) were being submitted when the last run died: outcome unknown, "
              "not resent (use --at-least-once to resend them)")  # fmt: skip
    if p["report"]:
        n = write_report(job, p["report"])
        _warn(f"report: {n:,} rows in {p['report']}")
    c = summary.counters
    if summary.interrupted:
        _warn(f"interrupted after {c.sent:,} sent: rerun the same command to resume")
        return EXIT_INTERRUPTED
    deferred = job.counts().get("deferred", 0)
    if deferred and not plan.hold_deferred:
        until = job.earliest_deferred()
        _warn(f"{deferred:,} deferred until {until.isoformat() if until else '?'}: "
              "rerun the same command then to send them")  # fmt: skip
        return EXIT_DEFERRED
    return EXIT_FAILED if c.failed or c.unknown else 0


async def _run(p: Mapping[str, Any], job_path: Path, out: Console, err: Console) -> int:
    plan = build_plan(p, job_path)
    counters = Counters()
    try:
        if not p["dry_run"]:
            _warn(f"sending {plan.targets.path} over {redact(p['gateway'])}; job {job_path}")
        view = ProgressView(counters, console=err, enabled=not p["quiet"], total=plan.targets.count_rows)
        with view as progress:
            summary = await execute(plan, counters, progress, _warn)
        return _finish(plan, summary, p, out)
    finally:
        plan.job.close()


@click.command("send")
@click.argument("targets", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--channel", type=click.Choice(KINDS), default="sms", show_default=True)
@click.option("--gateway", envvar="TELCO_GATEWAY",
              help="Gateway URL: smpp://, mm7+http://, pap+http://, ari+http://, ussd+smpp:// "
              "(env TELCO_GATEWAY; credentials also from TELCO_GATEWAY_USER/_PASSWORD).")
@click.option("--template", help="Message text with {column} variables.")
@click.option("--template-file", type=click.Path(exists=True, dir_okay=False),
              help="Message text from a file.")
@click.option("--subject", help="MMS subject (a template).")
@click.option("--href", help="WAP push link (a template).")
@click.option("--push-kind", type=click.Choice(["si", "sl"]), default="si", show_default=True)
@click.option("--campaign", help="Campaign id (default: the targets file's name); part of every message id.")
@click.option("--sender", help="Sender: short code or service code.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="campaign.toml with any of these options by name; the command line wins.")
@click.option("--job", "job_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Job file (SQLite) [default: TARGETS.CHANNEL.job.sqlite]; rerun to resume.")
@click.option("--report", type=click.Path(dir_okay=False),
              help="Report: OUT.jsonl or OUT.csv, one line per row.")
@click.option("--quiet-hours", help="Allowed windows: 'mon-fri=09:30-12:00,14:00-17:00;sat=10:00-12:00', "
              "'08:00-21:00', or a preset: operator, tcpa.")
@click.option("--holiday", multiple=True, help="A closed date (YYYY-MM-DD); repeat.")
@click.option("--timezone", default="UTC", show_default=True,
              help="Zone for numbers whose prefix spans several zones.")
@click.option("--max-per-subscriber", help="Contact cap across campaigns: N/day or N/24h.")
@click.option("--rate", help="Send rate: N/s, N/min or N/h (shared by all workers with --redis).")
@click.option("--blocked", type=click.Path(exists=True, dir_okay=False), help="Numbers never to reach.")
@click.option("--dry-run", is_flag=True, help="Run the whole pipeline except the gateway.")
@click.option("--wait-receipts", default="0s", show_default=True,
              help="After sending, wait this long for receipts.")
@click.option("--redis", help="Redis URL: rate limits, caps, opt-outs and dedup shared by workers.")
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path),
              help="Throttle state (SQLite) [default: telco-channels-state.sqlite beside the job].")
@click.option("--on-deferred", type=click.Choice(["wait", "exit"]), default="wait", show_default=True,
              help="Quiet hours: hold rows until the window opens, or exit and send them on a rerun.")
@click.option("--at-least-once", is_flag=True, help="Resend rows whose outcome is unknown (may duplicate).")
@click.option("--concurrency", default=64, show_default=True, help="Messages in flight.")
@click.option("--window", type=int, help="Requests in flight per connection (overrides the URL's).")
@click.option("--max-parts", default=10, show_default=True,
              help="Longest SMS, in parts; longer rows are bad rows.")
@click.option("--default-region", help="Region of national numbers, e.g. CN.")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Text encoding of TARGETS.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.pass_context
def command(ctx: click.Context, /, **params: Any) -> None:
    """Send one message per row of TARGETS (CSV with an msisdn column, or one number per line)."""
    quiet_logging()
    if params["config_path"] is not None:
        apply_config(ctx, params, load_config(params["config_path"]))
    job = params["job_path"] or _default_job(params)
    out, err = Console(), Console(stderr=True)
    tmp: str | None = None
    if params["dry_run"]:
        tmp = tempfile.mkdtemp(prefix="telco-dry-run-")
        job = Path(tmp) / "job.sqlite"
    try:
        code = asyncio.run(_run(params, job, out, err))
    except (ChannelsError, ConfigurationError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    ctx.exit(code)
