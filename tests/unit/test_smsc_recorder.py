"""The recorder's compact rows (simulators.recorder.Recorder.record_row) as the SMSC simulator uses them
for messages in one part: readers see the same dicts, the JSONL file the same lines, as for records
handed in whole; the rows themselves are not tracked by the garbage collector."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.results import DeliveryState
from channels.smpp import pdu as codec
from channels.smpp.constants import CommandId
from channels.smpp.pdu import Pdu
from simulators.recorder import Recorder
from simulators.smsc_record import expand_one_part, handset_record, one_part_row

AT = "2025-11-23T15:40:07.123456+00:00"
WHEN = datetime(2025, 11, 23, 15, 40, 7, 123456, tzinfo=UTC).timestamp()


def submit(n: int) -> Pdu:
    """A submit_sm as the simulator sees it: decoded, every mandatory field present."""
    return codec.decode(codec.encode(codec.make(
        CommandId.SUBMIT_SM,
        n,
        service_type="CMT",
        source_addr="12345",
        destination_addr=f"86138{n:08d}",
        data_coding=8,
        short_message="价格 ok".encode("utf-16-be"),
    )))  # fmt: skip


def row(n: int) -> tuple[object, ...]:
    return one_part_row("bench", submit(n).params, f"E999F{n:02X}", "expired", WHEN)


def frame_row(n: int) -> tuple[object, ...]:
    """The row the fast path keeps: the submit_sm's octets, decoded when read."""
    return ("bench", codec.encode(submit(n)), f"E999F{n:02X}", "expired", WHEN)


def whole(n: int) -> dict[str, object]:
    return handset_record(
        "bench", "12345", f"86138{n:08d}", 8, 0, "CMT", "价格 ok", 1, [f"E999F{n:02X}"],
        [DeliveryState.EXPIRED], [10], AT,
    )  # fmt: skip


def test_rows_read_back_as_the_records_they_stand_for(tmp_path: Path) -> None:
    compact = Recorder(tmp_path / "rows.jsonl", expand=expand_one_part)
    plain = Recorder(tmp_path / "dicts.jsonl")
    for n in range(3):
        compact.record_row(row(n))
        plain.record(whole(n))
    assert len(compact) == 3 and compact.count == 3
    assert compact.records == plain.records
    assert compact.records[0] == {
        "system_id": "bench",
        "source": "12345",
        "destination": "8613800000000",
        "data_coding": 8,
        "esm_class": 0,
        "service_type": "CMT",
        "text": "价格 ok",
        "parts": 1,
        "message_id": "E999F00",
        "message_ids": ["E999F00"],
        "receipt_state": "expired",
        "receipt_states": ["expired"],
        "part_octets": [10],
        "received_at": AT,
    }
    # after the first read, later rows join the same list already expanded
    records = compact.records
    compact.record_row(row(3))
    compact.record(whole(4))
    assert compact.records is records and records[3] == whole(3) and len(compact) == 5
    assert compact.find(destination="8613800000004") == [whole(4)]
    compact.close()
    plain.close()
    lines = (tmp_path / "rows.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines[:3] == (tmp_path / "dicts.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[3]) == whole(3)


def test_frame_rows_read_back_as_the_decoded_rows() -> None:
    """Rows of both kinds in one recorder (the fast path's and the general path's) expand alike, and
    the received_at of each is written from its epoch seconds as isoformat writes them."""
    recorder = Recorder(expand=expand_one_part)
    for n in range(3):
        recorder.record_row(frame_row(n))
        recorder.record_row(row(n))
    records = recorder.records
    assert records[0::2] == records[1::2] == [whole(n) for n in range(3)]
    at_second = Recorder(expand=expand_one_part)
    at_second.record_row(("bench", codec.encode(submit(0)), "E999F00", "expired", float(int(WHEN))))
    assert at_second.records[0]["received_at"] == "2025-11-23T15:40:07+00:00"


def test_rows_are_not_tracked_by_the_garbage_collector_until_read() -> None:
    recorder = Recorder(expand=expand_one_part, keep=2)
    for n in range(4):
        recorder.record_row(row(n) if n % 2 else frame_row(n))
    gc.collect()
    kept = recorder._kept
    assert len(kept) == 2 and all(type(r) is tuple and not gc.is_tracked(r) for r in kept)
    assert recorder.count == 4 and len(recorder) == 2
    assert [r["destination"] for r in recorder] == ["8613800000002", "8613800000003"]


def test_record_row_is_the_list_append_until_rows_need_more() -> None:
    """Rows go straight into the list while nothing else is due per row; once the records have been
    read (rows are expanded as they come), with ``keep`` or with a file, record_row does that work."""
    recorder = Recorder(expand=expand_one_part)
    recorder.record_row(row(0))
    assert recorder.record_row == recorder._kept.append
    assert recorder.records == [whole(0)]
    recorder.record_row(row(1))
    assert recorder.records == [whole(0), whole(1)] and recorder.count == 2
    kept = Recorder(expand=expand_one_part, keep=1)
    kept.record_row(row(0))
    kept.record_row(row(1))
    assert kept.records == [whole(1)] and kept.count == 2


def test_record_row_needs_an_expand_function() -> None:
    with pytest.raises(TypeError, match="expand"):
        Recorder().record_row(row(0))
