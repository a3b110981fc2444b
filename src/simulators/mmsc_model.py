"""The simulated MMSC's behaviour, pure: validation of SubmitReq and the life of a stored MM.

3GPP TS 23.140 §8.7.1 (SubmitReq), §8.7.3 (DeliveryReportReq) and §6 (the MMSC stores an MM,
notifies the handset by WAP push, the handset retrieves). The scenario is seeded. An MM waits in
storage for ``storage_hours`` (default 48, PROTOCOLS.md §4.1: CMCC ~48 h, UNVERIFIED); the handset's
notification is valid ``notification_hours`` (24). A handset that comes back after its notification
expired cannot retrieve the MM, which then reports Expired at storage expiry, unless the MMSC
re-notifies at ``renotify_after_hours`` (e.g. 25): then it is Retrieved (a DELIVERED receipt whose
StatusText says "after re-notification"). Time is an argument: the simulator drives it with a
clock that tests move by hand or scale.
"""

from __future__ import annotations

import functools
import itertools
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from channels.mm7.envelope import Mm7FormatError
from channels.mm7.messages import Decoded, SubmitReq
from channels.mm7.mime import MmContent, SoapBody
from channels.mm7.mm import ContentProblem, content_problems
from channels.mm7.profiles import Mm7Profile, profile_for_namespace
from channels.mm7.status import canonical_mm_status

HOUR = 3600.0
UNSUPPORTED_VERSION = 4002
UNSUPPORTED_OPERATION = 4003
VALIDATION_ERROR = 4004
IMPROPER_IDENTIFICATION = 4001
FORMAT_CORRUPT = 2007


@dataclass(frozen=True, slots=True, kw_only=True)
class MmscScenario:
    """How the simulated MMSC and its subscribers behave. Times are simulated seconds unless noted."""

    seed: int = 0
    latency: tuple[float, float] = (0.0, 0.0)  # real seconds before each SubmitRsp
    errors: Mapping[int, float] = field(default_factory=dict)  # MM7 status → share of submits refused
    outcomes: Mapping[str, float] = field(default_factory=lambda: {"Retrieved": 1.0})  # MMStatus → share
    report_delay: tuple[float, float] = (1.0, 5.0)  # submit → the handset acts
    offline_share: float = 0.0  # handsets switched off right after the notification
    offline_hours: tuple[float, float] = (20.0, 40.0)  # … for this long
    storage_hours: float = 48.0  # an MM not retrieved by then reports Expired
    notification_hours: float = 24.0  # validity of the notification push on the handset
    renotify_after_hours: float | None = None  # re-send the notification then (None: never)
    reply_share: float = 0.0  # share of retrieved MMs the subscriber answers with a DeliverReq
    reply_texts: tuple[str, ...] = ("OK",)
    reply_delay: tuple[float, float] = (5.0, 30.0)  # retrieval → reply
    max_size: int | None = None  # bytes; None: the request profile's limit
    vaspids: frozenset[str] | None = None  # accepted VASPIDs (None: any); others get 4001
    # the outcomes' canonical names and cumulative shares, for one ``Random.choices`` per recipient
    # (given the cumulative weights it draws exactly as given the weights, without summing them again)
    outcome_draw: tuple[tuple[str, ...], tuple[float, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(canonical_mm_status(name) for name in self.outcomes)  # ValueError: unknown MMStatus
        object.__setattr__(self, "outcome_draw", (names, tuple(itertools.accumulate(self.outcomes.values()))))
        for what, shares in (("outcomes", self.outcomes.values()), ("errors", self.errors.values())):
            if any(s < 0 for s in shares):
                raise ValueError(f"MmscScenario.{what}: shares must be >= 0")
        if sum(self.errors.values()) > 1:
            raise ValueError("MmscScenario.errors: shares add up to more than 1")
        if not self.outcomes or sum(self.outcomes.values()) <= 0:
            raise ValueError("MmscScenario.outcomes: give at least one positive share")
        if self.storage_hours <= 0 or self.notification_hours <= 0:
            raise ValueError("MmscScenario.storage_hours/notification_hours: must be positive")


@dataclass(frozen=True, slots=True)
class Planned:
    """Something the MMSC will do for one recipient at ``at``: a report or a subscriber reply."""

    at: datetime
    kind: str  # "report" | "reply"
    mm_status: str = ""
    status_text: str = ""
    text: str = ""


def _uniform(rng: random.Random, bounds: tuple[float, float]) -> float:
    lo, hi = bounds
    return lo if hi <= lo else rng.uniform(lo, hi)


def pick_error(rng: random.Random, errors: Mapping[int, float]) -> int | None:
    """A status to refuse this submit with, drawn from the scenario's error shares (None: accept)."""
    x = rng.random()
    for code, share in errors.items():
        if x < share:
            return code
        x -= share
    return None


def _retrieval(s: MmscScenario, ready: float, keep: float) -> tuple[float, str, str]:
    """When and how the MM ends for a handset able to fetch from ``ready`` seconds (handset model)."""
    notify, renotify = s.notification_hours * HOUR, s.renotify_after_hours
    if ready <= notify and ready <= keep:
        return ready, "Retrieved", "Retrieved"
    if renotify is not None and max(ready, renotify * HOUR) <= keep:
        return max(ready, renotify * HOUR), "Retrieved", "Retrieved after re-notification"
    why = "notification expired; MM not retrieved" if ready <= keep else "MM not retrieved"
    return keep, "Expired", f"Expired: {why} before storage expiry"


def plan_recipient(
    s: MmscScenario, rng: random.Random, submitted: datetime, expiry: datetime | timedelta | None
) -> list[Planned]:
    """Everything that will happen to one recipient's copy of an MM, in time order."""
    keep = s.storage_hours * HOUR
    if isinstance(expiry, timedelta):
        keep = min(keep, expiry.total_seconds())
    elif isinstance(expiry, datetime):
        keep = min(keep, max(0.0, (expiry - submitted).total_seconds()))
    names, cumulative = s.outcome_draw
    outcome = rng.choices(names, cum_weights=cumulative)[0]
    delay = _uniform(rng, s.report_delay)

    def at(seconds: float) -> datetime:
        return submitted + timedelta(seconds=seconds)

    plan: list[Planned] = []
    if outcome == "Deferred":
        plan.append(Planned(at(delay), "report", "Deferred", "Notification fetched, retrieval deferred"))
        delay += _uniform(rng, s.report_delay)
        outcome = "Retrieved"
    if outcome == "Retrieved":
        ready = delay + (_uniform(rng, s.offline_hours) * HOUR if rng.random() < s.offline_share else 0.0)
        when, outcome, text = _retrieval(s, ready, keep)
        plan.append(Planned(at(when), "report", outcome, text))
        if outcome == "Retrieved" and rng.random() < s.reply_share:
            reply = rng.choice(s.reply_texts) if s.reply_texts else ""
            plan.append(Planned(at(when + _uniform(rng, s.reply_delay)), "reply", text=reply))
        return plan
    if outcome == "Expired":
        text = "Expired: MM not retrieved before storage expiry"
        return [*plan, Planned(at(keep), "report", "Expired", text)]
    return [*plan, Planned(at(min(delay, keep)), "report", outcome, outcome)]


@functools.lru_cache(maxsize=32)
def _content_problems(content: MmContent, max_size: int) -> tuple[ContentProblem, ...]:
    """``content_problems``, once per distinct MM: a campaign's submits carry the same one (the MIME
    reader hands back the same MmContent for the same bytes)."""
    return tuple(content_problems(content, max_size))


@dataclass(frozen=True, slots=True)
class AcceptedSubmit:
    """A SubmitReq that passed validation, with the profile to answer in and its MM."""

    req: SubmitReq
    profile: Mm7Profile
    content: MmContent


def validate_submit(decoded: Decoded, soap: SoapBody, s: MmscScenario) -> AcceptedSubmit:
    """Schema-level checks of a SubmitReq; raises Mm7FormatError with the status to answer."""
    profile = profile_for_namespace(decoded.namespace, decoded.version)
    if profile is None:
        raise Mm7FormatError(f"namespace {decoded.namespace!r} is not an MM7 release we accept",
                             status=UNSUPPORTED_VERSION)
    req = decoded.doc
    if not isinstance(req, SubmitReq):
        raise Mm7FormatError(f"{type(req).NAME} is not an operation this MMSC accepts",
                             status=UNSUPPORTED_OPERATION)
    if not decoded.version:
        raise Mm7FormatError("SubmitReq: required element MM7Version is missing")
    if not decoded.transaction_id:
        raise Mm7FormatError("Header: required TransactionID is missing")
    if profile.ids_mandatory:
        missing = [n for n, v in (("VASPID", req.vaspid), ("VASID", req.vasid),
                                  ("ServiceCode", req.service_code)) if not v]
        if missing:
            raise Mm7FormatError(f"SubmitReq: {', '.join(missing)} required by {profile.release}",
                                 status=VALIDATION_ERROR)
    if s.vaspids is not None and req.vaspid not in s.vaspids:
        raise Mm7FormatError(f"VASPID {req.vaspid!r} is not known", status=IMPROPER_IDENTIFICATION)
    content = soap.content(req.content_href)
    if content is None or not content.parts:
        raise Mm7FormatError("SubmitReq: no MM content attached")
    problems = _content_problems(content, s.max_size if s.max_size is not None else profile.max_size)
    if problems:
        raise Mm7FormatError(problems[0].message, status=problems[0].status)
    return AcceptedSubmit(req, profile, content)


class ScaledClock:
    """Simulated time: ``scale`` simulated seconds per real second, plus manual jumps (``advance``).

    ``ScaledClock(3600)`` turns 48 simulated hours into 48 real seconds; ``ScaledClock(0)`` stands
    still until advanced, like :class:`~channels.clock.FakeClock`.
    """

    def __init__(self, scale: float = 1.0, start: datetime | None = None) -> None:
        if scale < 0:
            raise ValueError("time_scale must be >= 0")
        self.scale = scale
        self._start = start or datetime.now(UTC)
        self._mono0 = time.monotonic()
        self._offset = 0.0

    def monotonic(self) -> float:
        return (time.monotonic() - self._mono0) * self.scale + self._offset

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    def advance(self, seconds: float | timedelta) -> None:
        delta = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if delta < 0:
            raise ValueError("time does not go backwards")
        self._offset += delta
