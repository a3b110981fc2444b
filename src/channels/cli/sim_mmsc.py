"""``telco-channels simulate mmsc``: the MM7 MMSC simulator (3GPP TS 23.140) in the foreground."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from channels.cli.common import configure_logging, run_until_interrupted
from simulators.mmsc import MmscSimulator
from simulators.mmsc_model import MmscScenario


def _shares(spec: str, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, weight = item.partition("=")
        try:
            out[name.strip()] = float(weight or 1)
        except ValueError as exc:
            raise click.BadParameter(f"{item!r}: expected NAME=SHARE", param_hint=what) from exc
    return out


def _range(spec: str, what: str) -> tuple[float, float]:
    try:
        values = [float(v) for v in spec.split(",")]
    except ValueError as exc:
        raise click.BadParameter(f"{spec!r}: expected MIN,MAX", param_hint=what) from exc
    if len(values) == 1:
        return values[0], values[0]
    if len(values) != 2 or values[1] < values[0]:
        raise click.BadParameter(f"{spec!r}: expected MIN,MAX with MIN <= MAX", param_hint=what)
    return values[0], values[1]


@click.command("mmsc")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8081, show_default=True, type=int, help="TCP port (0: any free port).")
@click.option("--path", default="/mm7", show_default=True, help="HTTP path of the MM7 interface.")
@click.option("--username", default="vasp", show_default=True, help="HTTP Basic user.")
@click.option("--password", default="secret", show_default=True, help="HTTP Basic password.")
@click.option("--no-auth", is_flag=True, help="Accept requests without HTTP Basic auth.")
@click.option("--profile", default="REL-6-MM7-1-4", show_default=True,
              help="Profile in the printed URL (REL-5-MM7-1-0, REL-6-MM7-1-0/cmcc, REL-6-MM7-1-4); "
                   "every REL-5/6 release is accepted and echoed.")
@click.option("--vaspid", default="vasp01", show_default=True)
@click.option("--vasid", default="svc01", show_default=True)
@click.option("--service-code", default="svc-01", show_default=True)
@click.option("--vasp-url", help="Where to post DeliveryReportReq/DeliverReq (http://host:port/path).")
@click.option("--outcomes", default="Retrieved=1", show_default=True,
              help="MMStatus mix, e.g. Retrieved=0.9,Expired=0.04,Rejected=0.03,Deferred=0.03.")
@click.option("--errors", default="", help="Submit refusals by MM7 status, e.g. 3000=0.01,4006=0.01.")
@click.option("--report-delay", default="1,5", show_default=True, help="MIN,MAX simulated s to the handset.")
@click.option("--offline-share", default=0.0, show_default=True, help="Share of handsets switched off.")
@click.option("--offline-hours", default="20,40", show_default=True, help="MIN,MAX hours they stay off.")
@click.option("--storage-hours", default=48.0, show_default=True, help="MM storage before Expired.")
@click.option("--notification-hours", default=24.0, show_default=True, help="Notification push validity.")
@click.option("--renotify-after", type=float, help="Re-notify unretrieved MMs at this hour (e.g. 25).")
@click.option("--reply-share", default=0.0, show_default=True, help="Share of retrieved MMs answered (MO).")
@click.option("--reply-text", multiple=True, default=("OK",), show_default=True, help="Reply text (repeat).")
@click.option("--time-scale", default=1.0, show_default=True, help="Simulated seconds per real second.")
@click.option("--latency", default="0", show_default=True, help="MIN,MAX real seconds before each SubmitRsp.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), help="Append JSONL records here.")
@click.option("-v", "--verbose", count=True, help="Debug logging.")
def command(
    host: str, port: int, path: str, username: str, password: str, no_auth: bool, profile: str,
    vaspid: str, vasid: str, service_code: str, vasp_url: str | None, outcomes: str, errors: str,
    report_delay: str, offline_share: float, offline_hours: str, storage_hours: float,
    notification_hours: float, renotify_after: float | None, reply_share: float,
    reply_text: tuple[str, ...], time_scale: float, latency: str, seed: int, record: Path | None,
    verbose: int,
) -> None:
    """Run an MM7 MMSC simulator: SubmitReq in every profile, delivery reports, expiry, MO replies."""
    configure_logging(verbose)
    try:
        scenario = MmscScenario(
            seed=seed, latency=_range(latency, "--latency"), outcomes=_shares(outcomes, "--outcomes"),
            errors={int(k): v for k, v in _shares(errors, "--errors").items()},
            report_delay=_range(report_delay, "--report-delay"), offline_share=offline_share,
            offline_hours=_range(offline_hours, "--offline-hours"), storage_hours=storage_hours,
            notification_hours=notification_hours, renotify_after_hours=renotify_after,
            reply_share=reply_share, reply_texts=reply_text,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc

    async def serve(stop: asyncio.Event) -> None:
        async with MmscSimulator(
            host=host, port=port, path=path, scenario=scenario, profile=profile,
            username=None if no_auth else username, password=None if no_auth else password,
            vaspid=vaspid, vasid=vasid, service_code=service_code, vasp_url=vasp_url,
            time_scale=time_scale, record_path=record,
        ) as mmsc:
            click.echo(f"MMSC listening: {mmsc.url}", err=True)
            await stop.wait()
            click.echo(f"MMSC stopped: {mmsc.stats()}", err=True)

    run_until_interrupted(serve)
