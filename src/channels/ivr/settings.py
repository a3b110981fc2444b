"""Settings of the IVR adapter, read from an ``ari+http://`` gateway URL (DESIGN §5 "Gateways are URLs").

``ari+http://user:pass@127.0.0.1:8088/ari?app=tc&endpoint=PJSIP/{number}@trunk&channels=30&cps=5``:
the path is the ARI root (PROTOCOLS.md §7: REST and the events WebSocket live under ``/ari``), the
query carries the options below, credentials come from the URL, from ``api_key=user:pass`` (ARI's
own query form) or from the ``ARI_USERNAME``/``ARI_PASSWORD`` environment variables.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from channels.errors import ConfigurationError

SCHEMES = {"ari+http": "http", "ari+https": "https", "ari": "http"}


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrSettings:
    """How to reach an ARI gateway and how to use it.

    ``channels`` is the trunk's channel count: at most that many calls are in progress at once.
    ``cps`` caps call attempts per second (0: no cap). ``endpoint`` is the dial string with
    ``{number}`` for the callee. ``ring_timeout`` overrides the script's. Guards: a call not
    answered within its ring timeout + ``answer_grace`` is cancelled; one whose ChannelDestroyed
    does not come within ``hangup_grace`` of the hang-up is reported anyway; one longer than
    ``max_duration`` is hung up; one whose events were lost and not resynchronised within
    ``events_grace`` is hung up. Times are seconds.
    """

    base_url: str = "http://127.0.0.1:8088/ari"
    username: str | None = None
    password: str | None = None
    app: str = "telco-channels"
    endpoint: str = "PJSIP/{number}@trunk"
    channels: int = 30
    cps: float = 0.0
    caller_id: str | None = None
    ring_timeout: float | None = None
    tts_scheme: str = "tts"
    request_timeout: float = 10.0
    connect_timeout: float = 10.0
    answer_grace: float = 10.0
    hangup_grace: float = 5.0
    max_duration: float = 600.0
    events_grace: float = 30.0
    heartbeat: float = 15.0
    reconnect_initial: float = 0.05
    reconnect_max: float = 5.0
    name: str = "ivr"

    def __post_init__(self) -> None:
        if "{number}" not in self.endpoint:
            raise ConfigurationError(f"endpoint: {self.endpoint!r} has no {{number}} placeholder")
        if self.channels < 1:
            raise ConfigurationError("channels: must be >= 1")
        if self.cps < 0:
            raise ConfigurationError("cps: must be >= 0")
        for name in (
            "request_timeout",
            "connect_timeout",
            "answer_grace",
            "hangup_grace",
            "max_duration",
            "events_grace",
        ):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name}: must be > 0")
        if not self.app:
            raise ConfigurationError("app: empty")

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/events"

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> IvrSettings:
        """Parse an ``ari+http://`` URL; keyword ``overrides`` win over the URL."""
        parts = urlsplit(url)
        scheme = SCHEMES.get(parts.scheme)
        if scheme is None:
            raise ConfigurationError(f"url: scheme {parts.scheme!r} is not one of {sorted(SCHEMES)}")
        if not parts.hostname:
            raise ConfigurationError("url: no host")
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError("url: bad port") from None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        path = parts.path.rstrip("/") or "/ari"
        values: dict[str, Any] = {"base_url": f"{scheme}://{host}:{port or 8088}{path}"}
        if parts.username:
            values["username"] = unquote(parts.username)
            values["password"] = unquote(parts.password or "")
        for key, raw in parse_qsl(parts.query, keep_blank_values=True):
            _apply_option(values, key, raw)
        values.setdefault("username", os.environ.get("ARI_USERNAME"))
        values.setdefault("password", os.environ.get("ARI_PASSWORD"))
        values.update(overrides)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ConfigurationError(f"unknown IVR option(s): {', '.join(sorted(unknown))}")
        return cls(**values)


def _float(name: str) -> Callable[[str], float]:
    def conv(raw: str) -> float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigurationError(f"{name}: {raw!r} is not a number") from None

    return conv


def _int(name: str) -> Callable[[str], int]:
    def conv(raw: str) -> int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigurationError(f"{name}: {raw!r} is not an integer") from None

    return conv


# Query parameter → (settings field, converter). ARI's own spellings are accepted as aliases.
_OPTIONS: Mapping[str, tuple[str, Callable[[str], Any]]] = {
    "app": ("app", str),
    "endpoint": ("endpoint", str),
    "channels": ("channels", _int("channels")),
    "cps": ("cps", _float("cps")),
    "caller_id": ("caller_id", str),
    "callerId": ("caller_id", str),
    "ring_timeout": ("ring_timeout", _float("ring_timeout")),
    "timeout": ("ring_timeout", _float("timeout")),
    "tts": ("tts_scheme", str),
    "request_timeout": ("request_timeout", _float("request_timeout")),
    "connect_timeout": ("connect_timeout", _float("connect_timeout")),
    "answer_grace": ("answer_grace", _float("answer_grace")),
    "hangup_grace": ("hangup_grace", _float("hangup_grace")),
    "max_duration": ("max_duration", _float("max_duration")),
    "events_grace": ("events_grace", _float("events_grace")),
    "heartbeat": ("heartbeat", _float("heartbeat")),
    "name": ("name", str),
}


def _apply_option(values: dict[str, Any], key: str, raw: str) -> None:
    if key == "api_key":
        user, sep, password = raw.partition(":")
        if not sep:
            raise ConfigurationError("api_key: expected user:password")
        values["username"], values["password"] = user, password
        return
    option = _OPTIONS.get(key)
    if option is None:
        raise ConfigurationError(f"unknown IVR URL parameter {key!r}")
    values[option[0]] = option[1](raw)
