"""The send job file: row states by line, resume lookups, the unknown-outcome journal, crash
detection, the lock, receipt state on disk, and the report it writes."""

from __future__ import annotations

import asyncio
import csv
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels.cli.jobs import JobFile, JobReceiptStore
from channels.cli.report import write_report
from channels.errors import ConfigurationError
from channels.message import ChannelKind
from channels.receipts import ReceiptTracker
from channels.results import DeliveryReceipt, DeliveryState, SendResult

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def open_job(path: Path, campaign: str = "spring") -> JobFile:
    return JobFile(path, campaign=campaign, channel=ChannelKind.SMS, targets="t.csv")


async def test_marks_are_committed_before_mark_sending_returns(tmp_path: Path) -> None:
    job = open_job(tmp_path / "j.sqlite")
    await asyncio.gather(*(job.mark_sending(line, f"id{line}", "8613800000001") for line in range(2, 12)))
    reader = sqlite3.connect(tmp_path / "j.sqlite")  # another connection sees them committed
    assert reader.execute("SELECT COUNT(*) FROM rows WHERE state = 'sending'").fetchone() == (10,)
    reader.close()
    job.close()


def die(job: JobFile) -> None:
    """What a killed process leaves: committed writes, no clean close."""
    job.db.close()
    if job._lock is not None:
        job._lock.close()


def test_states_are_found_by_line_and_id(tmp_path: Path) -> None:
    job = open_job(tmp_path / "j.sqlite")
    job.record(2, "a", "861", "sent", remote_ids=("R1",), sent_at=T0)
    job.record(3, "b", "862", "failed", reason="TransportError: down")
    job.record_invalid(4, "abc", "msisdn: 'abc' is not a phone number")
    job.close()
    job = open_job(tmp_path / "j.sqlite")
    assert job.resumed and not job.crashed
    job.prepare_resume()
    # line 5 now holds what was on line 2 (a line was inserted above): found by id
    assert job.states([(2, "a"), (3, "b"), (5, "x"), (6, "a")]) == {2: "sent", 3: "failed"}
    assert job.states([(3, "a")]) == {3: "sent"}  # line 3's id changed: the message was sent on line 2
    job.close()


def test_a_job_belongs_to_one_campaign_and_channel(tmp_path: Path) -> None:
    open_job(tmp_path / "j.sqlite").close()
    with pytest.raises(ConfigurationError, match="campaign 'spring', not 'summer'"):
        open_job(tmp_path / "j.sqlite", "summer")
    with pytest.raises(ConfigurationError, match="channel 'sms', not 'mms'"):
        JobFile(tmp_path / "j.sqlite", campaign="spring", channel=ChannelKind.MMS, targets="t.csv")


def test_two_processes_cannot_share_a_job(tmp_path: Path) -> None:
    first = open_job(tmp_path / "j.sqlite")
    with pytest.raises(ConfigurationError, match="in use"):
        open_job(tmp_path / "j.sqlite")
    first.close()
    open_job(tmp_path / "j.sqlite").close()


async def test_a_dead_runs_sending_rows_become_journalled_unknowns(tmp_path: Path) -> None:
    job = open_job(tmp_path / "j.sqlite")
    await job.mark_sending(2, "a", "861")
    await job.mark_sending(3, "b", "862")
    job.record(3, "b", "862", "sent")
    job.commit()
    die(job)
    job = open_job(tmp_path / "j.sqlite")
    assert job.crashed
    assert job.stale_to_unknown() == 1
    assert job.counts() == {"unknown": 1, "sent": 1}
    assert job.unknown_journalled() == 1
    job.record(2, "a", "861", "sent")  # resent under --at-least-once: the journal still counts it
    assert job.unknown_journalled() == 1
    job.close()
    assert not open_job(tmp_path / "j.sqlite").crashed


def test_writes_are_grouped_but_keep_a_rows_lifecycle_order(tmp_path: Path) -> None:
    job = open_job(tmp_path / "j.sqlite")
    job.record(2, "a", "861", "deferred", until=T0)
    job.queue_mark(2, "a", "861")  # queued after the deferral in the same flush
    job.commit()
    assert job.counts() == {"sending": 1}
    job.record(2, "a", "861", "sent", remote_ids=("R1", "R2"), parts=2, sent_at=T0)
    job.record_receipt(2, DeliveryState.DELIVERED, None, T0 + timedelta(seconds=3))
    job.commit()
    (row,) = job.report_rows()
    assert row["outcome"] == "sent" and row["remote_ids"] == ["R1", "R2"] and row["attempts"] == 1
    assert row["receipt"] == "delivered" and row["receipt_at"] == "2026-01-05T10:00:03+00:00"
    job.close()


def test_earliest_deferred(tmp_path: Path) -> None:
    job = open_job(tmp_path / "j.sqlite")
    assert job.earliest_deferred() is None
    job.record(2, "a", "861", "deferred", until=T0 + timedelta(hours=2))
    job.record(3, "b", "862", "deferred", until=T0 + timedelta(hours=1))
    assert job.earliest_deferred() == T0 + timedelta(hours=1)
    job.close()


def result(mid: str, *remote: str) -> SendResult:
    return SendResult(
        message_id=mid, channel=ChannelKind.SMS, remote_ids=remote, accepted_at=T0, parts=len(remote)
    )


def receipt(remote: str, state: DeliveryState = DeliveryState.DELIVERED) -> DeliveryReceipt:
    return DeliveryReceipt(channel=ChannelKind.SMS, state=state, remote_id=remote, at=T0, gateway="gw")


def test_receipt_state_lives_in_the_job_and_gives_back_each_messages_line(tmp_path: Path) -> None:
    job = open_job(tmp_path / "j.sqlite")
    lines = {"a": 2, "b": 3}
    store = JobReceiptStore(job, lines.get, cache=1)  # the oldest entries are on disk only
    tracker = ReceiptTracker(store=store)
    tracker.register("gw", result("a", "0A1", "0A2"), T0)
    tracker.register("gw", result("b", "B1"), T0)
    assert len(store) == 2
    assert tracker.on_receipt(receipt("a1"), T0) == []  # one part of two; "a" is read back from disk
    (final,) = tracker.on_receipt(receipt("A2", DeliveryState.UNDELIVERABLE), T0)
    assert final.message_id == "a" and final.state is DeliveryState.UNDELIVERABLE
    assert store.take_line("a") == 2 and store.take_line("a") is None
    job.close()
    # after a restart, the receipt of "b" still finds it
    job = open_job(tmp_path / "j.sqlite")
    nothing: dict[str, int] = {}
    store = JobReceiptStore(job, nothing.get)
    tracker = ReceiptTracker(store=store)
    (late,) = tracker.on_receipt(receipt("b1"), T0 + timedelta(minutes=5))
    assert late.message_id == "b" and store.take_line("b") == 3 and len(store) == 0
    job.close()


def test_silence_expires_from_disk_once(tmp_path: Path) -> None:
    job = open_job(tmp_path / "j.sqlite")
    store = JobReceiptStore(job, {"a": 2}.get)
    tracker = ReceiptTracker(store=store, receipt_timeout=timedelta(minutes=10))
    tracker.register("gw", result("a", "X1"), T0)
    assert tracker.expire(T0 + timedelta(minutes=9)) == []
    (expired,) = tracker.expire(T0 + timedelta(minutes=11))
    assert expired.message_id == "a" and expired.state is DeliveryState.EXPIRED
    assert tracker.expire(T0 + timedelta(minutes=12)) == []
    assert store.take_line("a") == 2
    job.close()


def test_reports_in_jsonl_and_csv_in_file_order(tmp_path: Path) -> None:
    job = open_job(tmp_path / "j.sqlite")
    job.record(3, "b", "862", "sent", remote_ids=("R1", "R2"), parts=2, sent_at=T0)
    job.record_invalid(2, "abc", "msisdn: 'abc' is not a phone number")
    job.record(4, "c", "863", "unknown", reason="OutcomeUnknown: no response")
    assert write_report(job, tmp_path / "r.jsonl") == 3
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [x["line"] for x in lines] == [2, 3, 4]
    assert lines[0] == {**lines[0], "message_id": None, "outcome": "invalid", "msisdn": "abc"}
    assert lines[1]["remote_ids"] == ["R1", "R2"] and lines[1]["sent_at"] == T0.isoformat()
    assert write_report(job, tmp_path / "r.csv") == 3
    with open(tmp_path / "r.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert table[1]["remote_ids"] == "R1 R2" and table[2]["outcome"] == "unknown"
    assert table[2]["reason"] == "OutcomeUnknown: no response"
    with pytest.raises(ConfigurationError, match="--report"):
        write_report(job, tmp_path / "missing" / "r.csv")
    job.close()
