"""SMPP gateway configuration (a gateway profile) and its URL form.

``smpp://user:pass@host:2775?bind=trx&window=64&tps=500`` (DESIGN §5). Credentials may come from the
environment instead (``SMPP_SYSTEM_ID`` / ``SMPP_PASSWORD``) so they stay out of shell history.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from channels.errors import ConfigurationError
from channels.receipts import IdProfile
from channels.smpp.concat import ConcatMethod
from channels.smpp.connection import BindMode, SessionConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppConfig:
    """Everything needed to bind to one SMSC account, and how that SMSC behaves.

    ``source_ton``/``source_npi``: None = derive from the sender (alphanumeric → 5/0, digits → 1/1 when
    longer than 8 digits, else 0/1). ``tps``: client-side pacing of submits (0 = none).
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
    name: str = "smpp"

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
        if "float" in text:
            return float(raw)
        if "int" in text:
            return None if raw == "" and "None" in text else int(raw, 0)
    except ValueError as exc:
        raise ConfigurationError(f"gateway URL: parameter {key}={raw!r} is not valid: {exc}") from exc
    return raw
