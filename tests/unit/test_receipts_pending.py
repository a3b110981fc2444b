"""ReceiptTracker.on_pending (a receipt handed over unbuilt) against on_receipt (the same receipt
built first): the same events, state and parking, in every case the tracker distinguishes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from channels import ChannelKind, DeliveryReceipt, DeliveryState, SendResult
from channels.receipts import IdProfile, PendingReceipt, ReceiptTracker

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
D, A, U = DeliveryState.DELIVERED, DeliveryState.ACCEPTED, DeliveryState.UNDELIVERABLE


def pending(remote_id: str, state: DeliveryState, at: datetime = T0, gateway: str = "gw") -> PendingReceipt:
    return PendingReceipt(ChannelKind.SMS, state, remote_id, at, "000", {"stat": state.value}, gateway)


def accepted(message_id: str, *remote_ids: str) -> SendResult:
    return SendResult(message_id=message_id, channel=ChannelKind.SMS, remote_ids=remote_ids, accepted_at=T0)


# Each step: ("register", message_id, remote ids...) or ("receipt", remote_id, state, seconds after T0).
SCENARIOS = {
    "one part, final": [("register", "m1", "AB01"), ("receipt", "ab01", D, 1)],
    "one part, intermediate then final": [
        ("register", "m1", "01"),
        ("receipt", "1", A, 1),
        ("receipt", "1", U, 2),
    ],
    "duplicate after final": [("register", "m1", "x9"), ("receipt", "X9", D, 1), ("receipt", "X9", U, 2)],
    "three parts folded, worst wins": [
        ("register", "m1", "p1", "p2", "p3"),
        ("receipt", "p2", D, 1),
        ("receipt", "p1", U, 2),
        ("receipt", "p3", D, 3),
    ],
    "receipt before its response, parked": [("receipt", "e1", D, 1), ("register", "m1", "E1")],
    "parked too long, dropped": [("receipt", "e2", D, 0), ("expire", 300), ("register", "m1", "e2")],
    "never tracked": [("receipt", "zz", D, 1)],
}


def run(steps: list[tuple[object, ...]], use_pending: bool) -> tuple[list[DeliveryReceipt], int, int]:
    tracker = ReceiptTracker(early_ttl=timedelta(seconds=120), profiles={"gw": IdProfile.CASELESS})
    out: list[DeliveryReceipt] = []
    for step in steps:
        if step[0] == "register":
            out += tracker.register("gw", accepted(str(step[1]), *map(str, step[2:])), T0)
        elif step[0] == "expire":
            out += tracker.expire(T0 + timedelta(seconds=float(step[1])))  # type: ignore[arg-type]
        else:
            _, remote_id, state, seconds = step
            p = pending(str(remote_id), state, T0 + timedelta(seconds=float(seconds)))  # type: ignore[arg-type]
            out += tracker.on_pending(p) if use_pending else tracker.on_receipt(p.build(), p.at)
    return out, tracker.parked, len(tracker.store)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_on_pending_emits_what_on_receipt_emits(name: str) -> None:
    via_pending, via_receipt = run(SCENARIOS[name], True), run(SCENARIOS[name], False)
    assert via_pending == via_receipt
    if name != "never tracked" and not name.startswith("parked too long"):
        assert via_pending[0] and via_pending[0][-1].message_id == "m1"  # the scenario reached a final


def test_a_pending_receipt_is_built_once_with_our_id() -> None:
    tracker = ReceiptTracker()
    tracker.register("gw", accepted("m7", "77"), T0)
    p = pending("77", D)
    [receipt] = tracker.on_pending(p)
    assert receipt.message_id == "m7" and receipt.detail is p.detail and receipt.gateway == "gw"
    assert tracker.on_pending(p) == []  # a duplicate reopens nothing
