"""ReceiptTracker (channels.receipts) over both embedded stores (memory, SQLite): id profiles, early
receipts, multipart folding, receipt_timeout, silence states, and a restart on the same SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels import ChannelKind, DeliveryReceipt, DeliveryState, SendResult
from channels.clock import FakeClock
from channels.errors import TransportError
from channels.receipt_stores import SqliteReceiptStore
from channels.receipts import IdProfile, MemoryReceiptStore, ReceiptStore, ReceiptTracker

GW = "smsc-a"
D, U, X, R, A, K = (
    DeliveryState.DELIVERED,
    DeliveryState.UNDELIVERABLE,
    DeliveryState.EXPIRED,
    DeliveryState.REJECTED,
    DeliveryState.ACCEPTED,
    DeliveryState.UNKNOWN,
)


def result(message_id: str, *remote_ids: str) -> SendResult:
    return SendResult(
        message_id=message_id,
        channel=ChannelKind.SMS,
        remote_ids=remote_ids,
        accepted_at=datetime(2026, 1, 5, tzinfo=UTC),
        parts=len(remote_ids),
    )


def dlr(remote_id: str, state: DeliveryState, clock: FakeClock, gateway: str = GW) -> DeliveryReceipt:
    return DeliveryReceipt(
        channel=ChannelKind.SMS, state=state, remote_id=remote_id, at=clock.now(), gateway=gateway
    )


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], ReceiptStore]]:
    opened: list[SqliteReceiptStore] = []

    def factory() -> ReceiptStore:
        if request.param == "memory":
            return MemoryReceiptStore()
        store = SqliteReceiptStore(tmp_path / "receipts.db")
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


# (profile, id in submit_sm_resp, id in the receipt): PROTOCOLS.md §3.4 and the jasmin issues it cites
ID_FORMS = [
    (IdProfile.CASELESS, "00B8BE19", "B8BE19"),  # jookies/jasmin#1129
    (IdProfile.CASELESS, "0e999f21", "E999F21"),  # #643
    (IdProfile.RESP_HEX_DLR_DEC, "0A1B2C3D", "169552957"),
    (IdProfile.RESP_HEX_DLR_DEC, "812FC7470000001B", "9308878062554710043"),  # #586, 64-bit
    (IdProfile.RESP_DEC_DLR_HEX, "169552957", "0a1b2c3d"),
    (IdProfile.AUTO, "0A1B2C3D", "169552957"),
    (IdProfile.AUTO, "169552957", "0A1B2C3D"),
    (IdProfile.AUTO, "00b8be19", "B8BE19"),
    (IdProfile.EXACT, "abc-123", "abc-123"),
]


@pytest.mark.parametrize(("profile", "resp_id", "receipt_id"), ID_FORMS)
def test_id_forms_correlate_with_the_gateway_profile(
    make_store: Callable[[], ReceiptStore], profile: IdProfile, resp_id: str, receipt_id: str
) -> None:
    clock = FakeClock()
    tracker = ReceiptTracker(store=make_store(), profiles={GW: profile})
    assert tracker.register(GW, result("m1", resp_id), clock.now()) == []
    (out,) = tracker.on_receipt(dlr(receipt_id, D, clock), clock.now())
    assert out.message_id == "m1" and out.state is D


def test_profiles_are_per_gateway_and_exact_does_not_normalise() -> None:
    clock = FakeClock()
    tracker = ReceiptTracker(profiles={"a": IdProfile.EXACT})
    tracker.register("a", result("m1", "00AB"), clock.now())
    tracker.register("b", result("m2", "00AB"), clock.now())
    assert tracker.on_receipt(dlr("AB", D, clock, "a"), clock.now()) == []  # parked: no such id on a
    (out,) = tracker.on_receipt(dlr("ab", D, clock, "b"), clock.now())
    assert out.message_id == "m2"


def test_adopt_reads_a_channels_profile_and_silence_state() -> None:
    class Channel:
        name = "gw"
        id_profile = IdProfile.RESP_HEX_DLR_DEC
        receipt_timeout_state = D

    clock = FakeClock()
    tracker = ReceiptTracker(receipt_timeout=timedelta(seconds=10))
    tracker.adopt(Channel())
    tracker.adopt(object())  # no name: nothing to adopt
    tracker.register("gw", result("m1", "1A"), clock.now())
    tracker.register("gw", result("m2", "1B"), clock.now())
    (out,) = tracker.on_receipt(dlr("26", U, clock, "gw"), clock.now())
    assert (out.message_id, out.state) == ("m1", U)
    clock.advance(10)
    (silent,) = tracker.expire(clock.now())
    assert (silent.message_id, silent.state) == ("m2", D)  # failure-only gateway: silence = delivered


def test_receipt_before_submit_response_is_parked_then_matched(
    make_store: Callable[[], ReceiptStore],
) -> None:
    clock = FakeClock()
    tracker = ReceiptTracker(store=make_store(), profiles={GW: IdProfile.AUTO})
    assert tracker.on_receipt(dlr("169552957", D, clock), clock.now()) == []
    assert tracker.parked == 1
    (out,) = tracker.register(GW, result("m1", "0A1B2C3D"), clock.now())
    assert (out.message_id, out.state) == ("m1", D)
    assert tracker.parked == 0
    assert tracker.store.get("m1") is None  # final: nothing left behind


def test_parked_receipts_expire_and_are_bounded() -> None:
    clock = FakeClock()
    tracker = ReceiptTracker(early_ttl=timedelta(seconds=5), max_parked=3)
    for i in range(5):
        tracker.on_receipt(dlr(f"X{i}", D, clock), clock.now())
    assert tracker.parked == 3  # the oldest two were dropped
    clock.advance(6)
    tracker.expire(clock.now())
    assert tracker.parked == 0
    assert tracker.register(GW, result("m1", "X4"), clock.now()) == []  # too late to match


def test_multipart_final_when_every_part_is_worst_state_wins(make_store: Callable[[], ReceiptStore]) -> None:
    clock = FakeClock()
    tracker = ReceiptTracker(store=make_store())
    tracker.register(GW, result("m1", "P1", "P2", "P3"), clock.now())
    assert tracker.on_receipt(dlr("P1", D, clock), clock.now()) == []
    (enroute,) = tracker.on_receipt(dlr("P2", A, clock), clock.now())  # intermediate: passed through
    assert enroute.state is A and enroute.message_id == "m1"
    assert tracker.on_receipt(dlr("P2", U, clock), clock.now()) == []
    (final,) = tracker.on_receipt(dlr("p3", D, clock), clock.now())
    assert final.state is U and final.message_id == "m1"
    assert final.detail["parts"] == {"P1": "delivered", "P2": "undeliverable", "P3": "delivered"}
    assert tracker.on_receipt(dlr("P1", R, clock), clock.now()) == []  # never reopened


def test_timeout_expired_or_unknown_emitted_once(make_store: Callable[[], ReceiptStore]) -> None:
    clock = FakeClock()
    for state in (X, K):
        tracker = ReceiptTracker(store=make_store(), receipt_timeout=timedelta(hours=72), timeout_state=state)
        tracker.register(GW, result(f"m-{state}", f"R-{state}"), clock.now())
        clock.advance(timedelta(hours=71))
        assert tracker.expire(clock.now()) == []
        clock.advance(timedelta(hours=2))
        (out,) = tracker.expire(clock.now())
        assert (out.message_id, out.state, out.detail["reason"]) == (f"m-{state}", state, "receipt_timeout")
        assert tracker.expire(clock.now()) == []
        assert tracker.on_receipt(dlr(f"R-{state}", D, clock), clock.now()) == []  # late: not emitted


def test_timeout_of_a_multipart_message_keeps_the_parts_that_reported() -> None:
    clock = FakeClock()
    tracker = ReceiptTracker(receipt_timeout=timedelta(seconds=60), timeout_state=X)
    tracker.register(GW, result("m1", "P1", "P2"), clock.now())
    tracker.register(GW, result("m2", "Q1", "Q2"), clock.now())
    tracker.on_receipt(dlr("P1", R, clock), clock.now())
    tracker.on_receipt(dlr("Q1", D, clock), clock.now())
    clock.advance(61)
    out = {r.message_id: r for r in tracker.expire(clock.now())}
    assert out["m1"].state is R  # rejected is worse than the silence
    assert out["m2"].state is X and out["m2"].detail["missing_parts"] == 1


def test_adapters_that_know_our_id_bypass_correlation() -> None:
    clock = FakeClock()
    tracker = ReceiptTracker()
    receipt = DeliveryReceipt(
        channel=ChannelKind.IVR, state=D, remote_id=None, message_id="call-1", at=clock.now()
    )
    assert tracker.on_receipt(receipt, clock.now()) == [receipt]


def test_sqlite_store_survives_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "state" / "receipts.db"
    path.parent.mkdir()
    first = SqliteReceiptStore(path)
    tracker = ReceiptTracker(store=first, profiles={GW: IdProfile.RESP_HEX_DLR_DEC})
    tracker.register(GW, result("m1", "0A1B2C3D"), clock.now())
    tracker.register(GW, result("m2", "0B", "0C"), clock.now())
    tracker.on_receipt(dlr("11", U, clock), clock.now())  # part 1 of m2 (0x0B) reported
    first.close()  # the process stops ...

    with SqliteReceiptStore(path) as second:  # ... and a new one starts on the same file
        again = ReceiptTracker(store=second, profiles={GW: IdProfile.RESP_HEX_DLR_DEC})
        (out,) = again.on_receipt(dlr("169552957", D, clock), clock.now())
        assert (out.message_id, out.state) == ("m1", D)
        (folded,) = again.on_receipt(dlr("12", D, clock), clock.now())
        assert (folded.message_id, folded.state) == ("m2", U)  # the part state persisted
        assert len(second) == 0


def test_sqlite_due_is_claimed_once_by_two_processes(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "receipts.db"
    with SqliteReceiptStore(path) as one, SqliteReceiptStore(path) as two:
        a = ReceiptTracker(store=one, receipt_timeout=timedelta(seconds=1))
        b = ReceiptTracker(store=two, receipt_timeout=timedelta(seconds=1))
        for i in range(10):
            a.register(GW, result(f"m{i}", f"R{i}"), clock.now())
        clock.advance(2)
        first, second = a.expire(clock.now()), b.expire(clock.now())
        assert len(first) + len(second) == 10
        assert {r.message_id for r in first} | {r.message_id for r in second} == {f"m{i}" for i in range(10)}


def test_sqlite_store_errors_are_transport_errors(tmp_path: Path) -> None:
    with pytest.raises(TransportError, match="receipt store"):
        SqliteReceiptStore(tmp_path / "missing-dir" / "x.db")
