"""The recorder's compact rows (simulators.recorder.Recorder.record_row) as the SMSC simulator uses them
for messages in one part: readers see the same dicts, the JSONL file the same lines, as for records
handed in whole; the rows themselves are not tracked by the garbage collector."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from channels.results import DeliveryState
from simulators.recorder import Recorder
from simulators.smsc_record import expand_one_part, handset_record, one_part_row

AT = "2025-11-23T15:40:07.123456+00:00"


def row(n: int) -> tuple[object, ...]:
    destination, message_id = f"86138{n:08d}", f"E999F{n:02X}"
    return one_part_row(
        "bench", "12345", destination, 8, 0, "CMT", "价格 ok", message_id, DeliveryState.EXPIRED, 14, AT
    )


def whole(n: int) -> dict[str, object]:
    return handset_record(
        "bench", "12345", f"86138{n:08d}", 8, 0, "CMT", "价格 ok", 1, [f"E999F{n:02X}"],
        [DeliveryState.EXPIRED], [14], AT,
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
        "part_octets": [14],
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


def test_rows_are_not_tracked_by_the_garbage_collector_until_read() -> None:
    recorder = Recorder(expand=expand_one_part, keep=2)
    for n in range(4):
        recorder.record_row(row(n))
    gc.collect()
    kept = recorder._kept
    assert len(kept) == 2 and all(type(r) is tuple and not gc.is_tracked(r) for r in kept)
    assert [r["destination"] for r in recorder] == ["8613800000002", "8613800000003"]


def test_record_row_needs_an_expand_function() -> None:
    with pytest.raises(TypeError, match="expand"):
        Recorder().record_row(row(0))
