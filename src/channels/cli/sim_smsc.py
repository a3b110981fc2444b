"""``telco-channels simulate smsc``: the SMPP 3.4 SMSC simulator in the foreground.

Every trouble mode and receipt variant of :class:`~simulators.smsc.SmscScenario` has a flag, so an
adapter can be tried against the SMSC behaviours of PROTOCOLS.md §3 and §10 without code, e.g.
``simulate smsc --receipt-ids dec --receipt-first --drop-after 50 --reply-rate 0.02 --replies 88=3,８８=1``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from channels.cli.common import configure_logging, parse_outcomes, run_until_interrupted
from channels.cli.sim_ussd import parse_choices
from channels.smpp.concat import ConcatMethod
from channels.smpp.dlr import ReceiptStyle
from simulators.smsc import IdStyle, ReceiptForm, SmscScenario, SmscSimulator

_STYLE_FIELDS = ("sub", "dlvrd", "submit_date", "done_date", "err", "text")


def parse_id_style(spec: str) -> IdStyle:
    """``hex``, ``dec``, ``hex:8`` (zero-padded to 8), ``hex-lower``, ``hex-lower:10``."""
    name, _, width = spec.strip().partition(":")
    base_name, _, case = name.partition("-")
    bases = {"hex": 16, "dec": 10}
    if base_name not in bases or case not in ("", "lower") or (width and not width.isdigit()):
        raise click.BadParameter(f"{spec!r}: expected hex, dec, hex-lower, optionally :WIDTH (hex:8)")
    return IdStyle(base=bases[base_name], width=int(width or 0), lower=case == "lower")


def parse_receipt_style(spec: str) -> ReceiptStyle:
    """Comma-separated: ``upper`` keys, ``lower-stat``, ``Text``, ``err=4``, ``omit=sub+dlvrd+text``,
    ``extra=KEY:VALUE`` (a vendor field; repeatable)."""
    fields: dict[str, Any] = {}
    extra: list[tuple[str, str]] = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        key, _, value = item.partition("=")
        if item == "upper":
            fields["upper_keys"] = True
        elif item == "lower-stat":
            fields["lower_stat"] = True
        elif item == "Text":
            fields["text_key"] = "Text"
        elif key == "err" and value.isdigit():
            fields["err_digits"] = int(value)
        elif key == "omit" and value and set(value.split("+")) <= set(_STYLE_FIELDS):
            fields["omit"] = frozenset(value.split("+"))
        elif key == "extra" and ":" in value:
            extra.append(tuple(value.split(":", 1)))  # type: ignore[arg-type]
        else:
            fields_list = "+".join(_STYLE_FIELDS)
            raise click.BadParameter(
                f"{item!r}: expected upper, lower-stat, Text, err=N, omit=FIELD+... ({fields_list}),"
                " extra=KEY:VALUE"
            )
    return ReceiptStyle(extra=tuple(extra), **fields)


def parse_tlvs(items: tuple[str, ...]) -> dict[int, bytes]:
    """``0x1400=0a0b`` (tag=hex value) → TLVs."""
    out: dict[int, bytes] = {}
    for item in items:
        tag, _, value = item.partition("=")
        try:
            out[int(tag, 0)] = bytes.fromhex(value)
        except ValueError as exc:
            raise click.BadParameter(f"{item!r}: expected TAG=HEX, e.g. 0x1400=0a0b") from exc
    return out


def scenario_from_options(o: Mapping[str, Any]) -> SmscScenario:
    """The scenario the command's options describe."""
    try:
        return SmscScenario(
            seed=o["seed"],
            response_latency=o["latency"],
            max_tps=o["max_tps"],
            receipts=not o["no_receipts"],
            receipt_delay=o["receipt_delay"],
            outcomes=parse_outcomes(o["outcomes"]),
            error_every=o["error_every"],
            error_status=int(o["error_status"], 0),
            hex_ids=not o["decimal_ids"],
            response_ids=parse_id_style(o["response_ids"]) if o["response_ids"] else None,
            receipt_ids=parse_id_style(o["receipt_ids"]) if o["receipt_ids"] else None,
            receipt_style=parse_receipt_style(o["receipt_style"]),
            receipt_date_digits=o["receipt_dates"],
            receipt_form=ReceiptForm(o["receipt_form"]),
            receipt_data_coding=o["receipt_dcs"],
            receipt_vendor_tlvs=parse_tlvs(o["vendor_tlv"]),
            receipt_first=o["receipt_first"],
            acceptd_first=o["acceptd_first"],
            drop_after=o["drop_after"],
            drop_times=o["drop_times"],
            stall_after=o["stall_after"],
            stall_for=o["stall_for"],
            stall_times=o["stall_times"],
            refuse_binds_for=o["refuse_binds_for"],
            refuse_status=int(o["refuse_status"], 0),
            max_binds=o["max_binds"],
            stale_bind_for=o["stale_bind_for"],
            reply_rate=o["reply_rate"],
            replies=parse_choices(o["replies"]),
            reply_delay=o["reply_delay"],
            reply_method=ConcatMethod(o["reply_method"]),
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--host",), {"default": "127.0.0.1", "show_default": True, "help": "Address to listen on."}),
    (
        ("--port",),
        {"default": 2775, "show_default": True, "type": int, "help": "TCP port (0: any free port)."},
    ),
    (
        ("--system-id",),
        {"default": "test", "show_default": True, "help": "Account system_id accepted on bind."},
    ),
    (("--password",), {"default": "secret", "show_default": True, "help": "Account password."}),
    (("--latency",), {"default": 0.0, "show_default": True, "help": "Seconds before each submit_sm_resp."}),
    (
        ("--max-tps",),
        {"default": 0.0, "show_default": True, "help": "Submits/s per account; more: RTHROTTLED."},
    ),
    (
        ("--receipt-delay",),
        {"default": 0.05, "show_default": True, "help": "Seconds from submit to receipt."},
    ),
    (
        ("--outcomes",),
        {
            "default": "delivered=1",
            "show_default": True,
            "help": "Receipt outcome mix, e.g. delivered=0.9,expired=0.1.",
        },
    ),
    (("--no-receipts",), {"is_flag": True, "help": "Never send delivery receipts."}),
    (
        ("--error-every",),
        {"default": 0, "show_default": True, "help": "Fail every Nth submit (--error-status)."},
    ),
    (
        ("--error-status",),
        {"default": "0x08", "show_default": True, "help": "command_status for --error-every."},
    ),
    (("--decimal-ids",), {"is_flag": True, "help": "Message ids in decimal instead of hex."}),
    (
        ("--response-ids",),
        {"default": "", "help": "submit_sm_resp id form: hex, dec, hex-lower, hex:8 (padded)."},
    ),
    (
        ("--receipt-ids",),
        {"default": "", "help": "Receipt id form (same syntax); differs from the response's."},
    ),
    (
        ("--receipt-style",),
        {"default": "", "help": "upper,lower-stat,Text,err=4,omit=sub+dlvrd,extra=KEY:VALUE."},
    ),
    (("--receipt-dates",), {"default": 10, "show_default": True, "type": click.Choice(["10", "12", "14"])}),
    (
        ("--receipt-form",),
        {"default": "both", "show_default": True, "type": click.Choice([f.value for f in ReceiptForm])},
    ),
    (
        ("--receipt-dcs",),
        {"default": 0, "show_default": True, "help": "data_coding of receipt texts (8: UCS-2)."},
    ),
    (("--vendor-tlv",), {"multiple": True, "help": "Vendor TLV on receipts, TAG=HEX (repeatable)."}),
    (("--receipt-first",), {"is_flag": True, "help": "Send each receipt before its submit_sm_resp."}),
    (("--acceptd-first",), {"is_flag": True, "help": "Send an ACCEPTD receipt before the final one."}),
    (
        ("--drop-after",),
        {"default": 0, "show_default": True, "help": "Drop the link at a session's Nth submit."},
    ),
    (("--drop-times",), {"default": 1, "show_default": True, "help": "How many sessions to drop (0: all)."}),
    (("--stall-after",), {"default": 0, "show_default": True, "help": "Stall a session at its Nth submit."}),
    (("--stall-for",), {"default": 0.0, "show_default": True, "help": "Seconds a stall lasts."}),
    (("--stall-times",), {"default": 1, "show_default": True, "help": "How many sessions stall (0: all)."}),
    (
        ("--refuse-binds-for",),
        {"default": 0.0, "show_default": True, "help": "Refuse binds for N s after start."},
    ),
    (("--refuse-status",), {"default": "0x0D", "show_default": True, "help": "Status of refused binds."}),
    (("--max-binds",), {"default": 0, "show_default": True, "help": "Binds per account (more: RALYBND)."}),
    (
        ("--stale-bind-for",),
        {"default": 0.0, "show_default": True, "help": "A link lost without unbind counts N s."},
    ),
    (
        ("--reply-rate",),
        {"default": 0.0, "show_default": True, "help": "Share of recipients who reply (0..1)."},
    ),
    (
        ("--replies",),
        {"default": "88=1", "show_default": True, "help": "Reply texts by weight, e.g. 88=3,８８=1."},
    ),
    (("--reply-delay",), {"default": 0.1, "show_default": True, "help": "Seconds before a reply."}),
    (
        ("--reply-method",),
        {"default": "udh8", "show_default": True, "type": click.Choice([m.value for m in ConcatMethod])},
    ),
    (("--seed",), {"default": 0, "show_default": True, "help": "Random seed for outcomes and replies."}),
    (
        ("--record",),
        {"type": click.Path(dir_okay=False, path_type=Path), "help": "Append JSONL records here."},
    ),
    (("-v", "--verbose"), {"count": True, "help": "Debug logging."}),
]


def _with_options(func: Any) -> Any:
    for names, kwargs in reversed(_OPTIONS):
        func = click.option(*names, **kwargs)(func)
    return func


@click.command("smsc")
@_with_options
def command(**options: Any) -> None:
    """Run an SMPP 3.4 SMSC simulator: binds, submit_sm, throttling, receipts, replies, trouble, JSONL."""
    configure_logging(options["verbose"])
    options["receipt_dates"] = int(options["receipt_dates"])
    scenario = scenario_from_options(options)
    host, port = options["host"], options["port"]
    accounts = {options["system_id"]: options["password"]}

    async def serve(stop: asyncio.Event) -> None:
        async with SmscSimulator(
            host, port, accounts=accounts, scenario=scenario, record_path=options["record"]
        ) as smsc:
            click.echo(f"SMSC listening: {smsc.url}", err=True)
            await stop.wait()
            click.echo(f"SMSC stopped: {smsc.stats()}", err=True)

    run_until_interrupted(serve)
