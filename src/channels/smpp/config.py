"""SMPP gateway configuration (a gateway profile) and its URL form.

``smpp://user:pass@host:2775?bind=trx&window=64&tps=500`` (DESIGN §5). Credentials may come from the
environment instead (``SMPP_SYSTEM_ID`` / ``SMPP_PASSWORD``) so they stay out of shell history. A pool of
binds to one account is ``?binds=4`` (each bind has its own window and TPS); the TX+RX pair mode is
``?bind=tx&receivers=1`` (transmitters submit, a receiver bind takes receipts and MO).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from channels.errors import ConfigurationError
from channels.inbound import DEFAULT_OPT_OUT_KEYWORDS
from channels.receipts import IdProfile
from channels.results import DeliveryState
from channels.smpp.concat import MAX_PARTS, ConcatMethod
from channels.smpp.connection import BindMode, SessionConfig
from channels.smpp.constants import RegisteredDelivery


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppConfig:
    """Everything needed to bind to one SMSC account, and how that SMSC behaves.

    ``source_ton``/``source_npi``: None = derive from the sender (alphanumeric → 5/0, digits → 1/1 when
    longer than 8 digits, else 0/1). ``tps``: client-side pacing of submits per bind (0 = none); with
    ``adaptive`` the rate also drops on ESME_RTHROTTLED/RMSGQFUL and recovers (channels.smpp.adaptive).
    ``transient_retries``: how often one part answered with a transient status (throttled, system
    error) is resent on the same bind before the send fails, so accepted parts are never resent.
    ``registered_delivery``: 1 receipts for success and failure, 2 failure only (silence then means
    delivered, jookies/jasmin#183). ``acceptd_state``: what ACCEPTD / message_state 6 means here
    (PROTOCOLS.md §3.3; jookies/jasmin#885). ``reconnect_initial``/``reconnect_max``: exponential
    backoff with jitter between bind attempts; ``bind_wait``: how long a send waits for a lost link to
    come back before it fails with a retriable TransportError.
    """

    host: str = "127.0.0.1"
    port: int = 2775
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    bind: BindMode = BindMode.TRX
    window: int = 10
    response_timeout: float = 30.0
    enquire_link_interval: float = 30.0
    connect_timeout: float = 10.0
    tps: float = 0.0
    service_type: str = ""
    default_sender: str = ""
    source_ton: int | None = None
    source_npi: int | None = None
    dest_ton: int = 1
    dest_npi: int = 1
    id_profile: IdProfile = IdProfile.CASELESS
    concat: ConcatMethod = ConcatMethod.UDH8
    max_parts: int = MAX_PARTS
    packed: bool = False
    name: str = "smpp"
    binds: int = 1
    receivers: int = 0
    adaptive: bool = True
    transient_retries: int = 8
    registered_delivery: int = RegisteredDelivery.SUCCESS_OR_FAILURE
    acceptd_state: DeliveryState = DeliveryState.ACCEPTED
    connect_attempts: int = 5
    reconnect_initial: float = 0.1
    reconnect_max: float = 30.0
    bind_wait: float = 30.0
    opt_out_keywords: frozenset[str] = DEFAULT_OPT_OUT_KEYWORDS

    def __post_init__(self) -> None:
        if self.binds < 0 or self.receivers < 0 or self.binds + self.receivers < 1:
            raise ConfigurationError(
                f"binds={self.binds}, receivers={self.receivers}: need at least one bind"
            )
        if self.bind is BindMode.RX and self.binds and self.receivers:
            raise ConfigurationError("receivers: only with bind=tx or bind=trx")
        if not 0 <= self.registered_delivery <= 0xFF:
            raise ConfigurationError(f"registered_delivery: {self.registered_delivery} is not one octet")
        if self.transient_retries < 0 or self.connect_attempts < 1:
            raise ConfigurationError("transient_retries must be >= 0 and connect_attempts >= 1")
        if not 1 <= self.max_parts <= MAX_PARTS:
            raise ConfigurationError(f"max_parts: {self.max_parts} is not in 1..{MAX_PARTS}")

    def session(self) -> SessionConfig:
        return SessionConfig(
            window=self.window,
            response_timeout=self.response_timeout,
            enquire_link_interval=self.enquire_link_interval,
            inactivity_timeout=0,
            session_init_timeout=0,
        )

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> SmppConfig:
        """Parse ``smpp://user:pass@host:port?key=value...``; ``overrides`` win over the URL."""
        parts = urlsplit(url)
        if parts.scheme not in ("smpp", "ussd+smpp", "wap+smpp"):
            raise ConfigurationError(f"gateway URL {url!r}: scheme must be smpp://")
        values: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 2775,
            "system_id": unquote(parts.username or "") or os.environ.get("SMPP_SYSTEM_ID", ""),
            "password": unquote(parts.password or "") or os.environ.get("SMPP_PASSWORD", ""),
        }
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key, vals in parse_qs(parts.query, keep_blank_values=True).items():
            if key not in fields:
                raise ConfigurationError(f"gateway URL: unknown parameter {key!r}")
            values[key] = _convert(key, fields[key].type, vals[-1])
        values.update(overrides)
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"gateway URL {url!r}: {exc}") from exc


def _convert(key: str, annotation: Any, raw: str) -> Any:
    text = str(annotation)
    try:
        if key == "bind":
            return BindMode(raw.lower())
        if key == "id_profile":
            return IdProfile(raw.lower())
        if key == "concat":
            return ConcatMethod(raw.lower())
        if key == "acceptd_state":
            return DeliveryState(raw.lower())
        if key == "opt_out_keywords":
            return frozenset(k.strip() for k in raw.split(",") if k.strip())
        if "bool" in text:
            return _flag(key, raw)
        if "float" in text:
            return float(raw)
        if "int" in text:
            return None if raw == "" and "None" in text else int(raw, 0)
    except ValueError as exc:
        raise ConfigurationError(f"gateway URL: parameter {key}={raw!r} is not valid: {exc}") from exc
    return raw


def _flag(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on", ""):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{key} expects a boolean, not {raw!r}")
