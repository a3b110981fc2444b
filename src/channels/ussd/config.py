"""USSD channel settings and their URL form (DESIGN §5: gateways are URLs).

``ussd+smpp://user:pass@host:2775?profile=6d&screen_timeout=30&session_timeout=180&on_busy=queue``:
the USSD options below, plus every SMPP option of :class:`~channels.smpp.config.SmppConfig`
(``window``, ``default_sender``, ``tps``...), which go to the SMPP bind underneath.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from channels.errors import ConfigurationError
from channels.ussd.profile import STANDARD, UssdProfile, get_profile
from channels.ussd.session import Timers


class BusyPolicy(StrEnum):
    """What a push to a subscriber with a session already open does: never interleave."""

    REFUSE = "refuse"  # send() raises SubscriberBusy (the Dispatcher reports it as Rejected)
    QUEUE = "queue"  # send() waits (up to queue_timeout) until the open session ends


@dataclass(frozen=True, slots=True, kw_only=True)
class UssdConfig:
    profile: UssdProfile = STANDARD
    timers: Timers = field(default_factory=Timers)
    on_busy: BusyPolicy = BusyPolicy.REFUSE
    queue_timeout: float = 180.0

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> UssdConfig:
        """From URL query values or keyword overrides (strings are parsed, other values taken)."""
        try:
            timers = Timers(
                screen_timeout=float(params.get("screen_timeout", 30.0)),
                session_timeout=float(params.get("session_timeout", 180.0)),
                max_invalid=int(params.get("max_invalid", 1)),
            )
        except ValueError as exc:
            raise ConfigurationError(f"USSD URL: timers: {exc}") from exc
        try:
            on_busy = BusyPolicy(str(params.get("on_busy", "refuse")).lower())
        except ValueError:
            raise ConfigurationError(
                f"USSD URL: on_busy={params['on_busy']!r} must be 'refuse' or 'queue'"
            ) from None
        try:
            queue_timeout = float(params.get("queue_timeout", 180.0))
        except ValueError:
            raise ConfigurationError(
                f"USSD URL: queue_timeout={params['queue_timeout']!r} is not a number"
            ) from None
        profile = params.get("profile", STANDARD)
        return cls(
            profile=get_profile(profile),
            timers=timers,
            on_busy=on_busy,
            queue_timeout=queue_timeout,
        )


OWN_PARAMS = ("profile", "screen_timeout", "session_timeout", "max_invalid", "on_busy", "queue_timeout")


def split_url(url: str, overrides: dict[str, Any]) -> tuple[UssdConfig, str, dict[str, Any]]:
    """Split a ``ussd+smpp://`` URL into the USSD config, the plain ``smpp://`` URL and the SMPP
    overrides left over."""
    parts = urlsplit(url)
    if parts.scheme not in ("ussd+smpp", "smpp"):
        raise ConfigurationError(f"USSD gateway URL {url!r}: scheme must be ussd+smpp://")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    own: dict[str, Any] = {k: query.pop(k) for k in OWN_PARAMS if k in query}
    smpp_overrides = dict(overrides)
    own.update({k: smpp_overrides.pop(k) for k in OWN_PARAMS if k in smpp_overrides})
    smpp_url = urlunsplit(("smpp", parts.netloc, parts.path, urlencode(query), ""))
    return UssdConfig.from_params(own), smpp_url, smpp_overrides
