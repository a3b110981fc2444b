"""The simulated MMSC's pure model: handset/storage timing, outcome mix, SubmitReq validation."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels.mm7.envelope import Mm7FormatError
from channels.mm7.messages import Decoded, decode
from channels.mm7.mime import SoapBody, split_soap
from simulators.mmsc_model import MmscScenario, ScaledClock, pick_error, plan_recipient, validate_submit

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mm7"


def _offline(hours: float, renotify: float | None = None) -> MmscScenario:
    """Every handset switched off for exactly ``hours`` after a 10 s notification delay."""
    return MmscScenario(report_delay=(10, 10), offline_share=1.0, offline_hours=(hours, hours),
                        renotify_after_hours=renotify)


def _plan(s: MmscScenario, expiry: datetime | timedelta | None = None) -> list[tuple[timedelta, str, str]]:
    return [(p.at - T0, p.kind, p.mm_status) for p in plan_recipient(s, random.Random(1), T0, expiry)]


def test_online_handset_retrieves_after_the_delay() -> None:
    assert _plan(MmscScenario(report_delay=(3, 3))) == [(timedelta(seconds=3), "report", "Retrieved")]


def test_handset_back_before_notification_expiry_retrieves() -> None:
    assert _plan(_offline(20)) == [(20 * H + timedelta(seconds=10), "report", "Retrieved")]


def test_handset_back_after_notification_expiry_reports_expired_at_48h() -> None:
    plan = plan_recipient(_offline(30), random.Random(1), T0, None)
    assert [(p.at - T0, p.mm_status) for p in plan] == [(48 * H, "Expired")]
    assert "notification expired" in plan[0].status_text


def test_renotification_at_hour_25_raises_retrieval() -> None:
    # back at 24 h 30 min: notification dead, the re-notification at 25 h reaches it
    plan = plan_recipient(_offline(24.5, renotify=25), random.Random(1), T0, None)
    assert [(p.at - T0, p.mm_status) for p in plan] == [(25 * H, "Retrieved")]
    assert plan[0].status_text == "Retrieved after re-notification"
    # back at 30 h: retrieves on coming back, thanks to the 25 h re-notification
    back = 30 * H + timedelta(seconds=10)
    assert _plan(_offline(30, renotify=25)) == [(back, "report", "Retrieved")]
    # back at 50 h: storage expired first, re-notification or not
    assert _plan(_offline(50, renotify=25)) == [(48 * H, "report", "Expired")]


def test_submit_expiry_shortens_storage() -> None:
    assert _plan(_offline(30), expiry=T0 + 6 * H) == [(6 * H, "report", "Expired")]
    assert _plan(_offline(30), expiry=timedelta(hours=12)) == [(12 * H, "report", "Expired")]


def test_deferred_then_retrieved_and_reply() -> None:
    s = MmscScenario(outcomes={"Deferred": 1}, report_delay=(5, 5), reply_share=1.0, reply_delay=(7, 7),
                     reply_texts=("88",))
    plan = plan_recipient(s, random.Random(3), T0, None)
    assert [(p.at - T0, p.kind, p.mm_status, p.text) for p in plan] == [
        (timedelta(seconds=5), "report", "Deferred", ""),
        (timedelta(seconds=10), "report", "Retrieved", ""),
        (timedelta(seconds=17), "reply", "", "88"),
    ]


def test_never_retrieved_expires_and_other_outcomes_report_once() -> None:
    assert _plan(MmscScenario(outcomes={"Expired": 1})) == [(48 * H, "report", "Expired")]
    assert _plan(MmscScenario(outcomes={"rejected": 1}, report_delay=(2, 2))) == [
        (timedelta(seconds=2), "report", "Rejected")]


def test_outcome_mix_follows_shares_and_seed() -> None:
    s = MmscScenario(outcomes={"Retrieved": 0.8, "Rejected": 0.2})
    rng = random.Random(7)
    counts = Counter(plan_recipient(s, rng, T0, None)[-1].mm_status for _ in range(2000))
    assert 1500 < counts["Retrieved"] < 1700 and counts["Retrieved"] + counts["Rejected"] == 2000
    first, second = random.Random(7), random.Random(7)
    run = [plan_recipient(s, first, T0, None)[-1].mm_status for _ in range(50)]
    assert run == [plan_recipient(s, second, T0, None)[-1].mm_status for _ in range(50)]


def test_pick_error_shares() -> None:
    rng = random.Random(0)
    counts = Counter(pick_error(rng, {3000: 0.1, 2003: 0.05}) for _ in range(4000))
    assert 300 < counts[3000] < 500 and 120 < counts[2003] < 280
    assert pick_error(rng, {}) is None


@pytest.mark.parametrize(
    ("kw", "words"),
    [({"outcomes": {"Lost": 1.0}}, "Lost"), ({"errors": {3000: 0.7, 2003: 0.5}}, "errors"),
     ({"outcomes": {"Retrieved": 0.0}}, "outcomes"), ({"storage_hours": 0}, "storage_hours")],
)
def test_scenario_validation(kw: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        MmscScenario(**kw)


# -- SubmitReq validation ------------------------------------------------------------------------


def _submit(release: str, edit: tuple[bytes, bytes] | None = None) -> tuple[Decoded, SoapBody]:
    head, body = (FIXTURES / release / "SubmitReq.http").read_bytes().split(b"\r\n\r\n", 1)
    if edit is not None:
        body = body.replace(*edit)
    soap = split_soap(head.decode().removeprefix("Content-Type: "), body)
    return decode(soap.envelope), soap


@pytest.mark.parametrize("release", ["REL-5-MM7-1-0", "REL-6-MM7-1-0", "REL-6-MM7-1-4"])
def test_valid_submit_in_every_profile(release: str) -> None:
    decoded, soap = _submit(release)
    accepted = validate_submit(decoded, soap, MmscScenario())
    assert accepted.profile.release == release
    assert [p.content_id for p in accepted.content.parts] == ["smil", "text1", "img1"]


@pytest.mark.parametrize(
    ("release", "edit", "status", "words"),
    [
        ("REL-6-MM7-1-0", (b"<VASID>svc9</VASID>", b""), 4004, "VASID"),
        ("REL-6-MM7-1-0", (b"<ServiceCode>promo-01</ServiceCode>", b""), 4004, "ServiceCode"),
        ("REL-6-MM7-1-4", (b"REL-6-MM7-1-4", b"REL-7-MM7-1-4"), 4002, "namespace"),
        ("REL-6-MM7-1-4", (b'src="cid:text1"', b'src="cid:text9"'), 2007, "cid:text9"),
        ("REL-6-MM7-1-4", (b"image/gif", b"application/x-sh"), 2004, "application/x-sh"),
        ("REL-6-MM7-1-4", (b'href="cid:mm"', b'href="cid:zz"'), 2007, "does not resolve"),
        ("REL-5-MM7-1-0", (b"<MM7Version>5.3.0</MM7Version>", b""), 2007, "MM7Version"),
    ],
)
def test_invalid_submit_gets_the_right_status(release: str, edit: tuple[bytes, bytes], status: int,
                                              words: str) -> None:
    decoded, soap = _submit(release, edit)
    with pytest.raises(Mm7FormatError, match=words) as info:
        validate_submit(decoded, soap, MmscScenario())
    assert info.value.status == status


def test_unknown_vaspid_and_size_limit() -> None:
    decoded, soap = _submit("REL-6-MM7-1-4")
    with pytest.raises(Mm7FormatError) as info:
        validate_submit(decoded, soap, MmscScenario(vaspids=frozenset({"other"})))
    assert info.value.status == 4001
    with pytest.raises(Mm7FormatError, match="exceeds") as info:
        validate_submit(decoded, soap, MmscScenario(max_size=10))
    assert info.value.status == 2004


def test_scaled_clock_scales_and_jumps() -> None:
    frozen = ScaledClock(0, start=T0)
    assert frozen.now() == T0
    frozen.advance(timedelta(hours=49))
    assert frozen.now() == T0 + 49 * H
    fast = ScaledClock(3600, start=T0)
    assert fast.now() >= T0
    with pytest.raises(ValueError):
        frozen.advance(-1)


def test_outcomes_are_drawn_as_random_choices_with_the_shares_draws_them() -> None:
    shares = {"retrieved": 0.5, "Rejected": 0.2, "Expired": 0.2, "Indeterminate": 0.1}
    names, cumulative = MmscScenario(outcomes=shares).outcome_draw
    assert names == ("Retrieved", "Rejected", "Expired", "Indeterminate")
    for seed in range(300):  # the same draws, from the same generator state, as before the cache
        ours, reference = random.Random(seed), random.Random(seed)
        assert ours.choices(names, cum_weights=cumulative, k=5) == [
            n[0].upper() + n[1:] for n in reference.choices(list(shares), weights=list(shares.values()), k=5)
        ]
        assert ours.random() == reference.random()
