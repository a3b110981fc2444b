"""MM7 gateway settings and their URL form (``mm7+http://user:pass@host:port/path?vaspid=…``).

Gateways are URLs so the CLI and config files read naturally (DESIGN §5). The query names the
VASP's identity (``vaspid``, ``vasid``, ``service_code``, ``sender``), the dialect (``profile``:
``REL-5-MM7-1-0``, ``REL-6-MM7-1-0``/``cmcc``, ``REL-6-MM7-1-4``), limits (``max_size``, ``timeout``,
``connect_timeout``, ``connections``) and ``report_url``: where this VASP listens for the MMSC's
delivery reports and MO (port 0 picks a free port). Credentials may come from ``MM7_USERNAME`` /
``MM7_PASSWORD`` instead of the URL. Validation names the field at fault.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from channels.errors import ConfigurationError
from channels.mm7.profiles import DEFAULT_PROFILE, Mm7Profile, get_profile

_SCHEMES = {"mm7+http": "http", "mm7+https": "https", "mm7": "http"}
_INT_FIELDS = {"max_size", "connections"}
_FLOAT_FIELDS = {"timeout", "connect_timeout"}
_STR_FIELDS = {"vaspid", "vasid", "service_code", "sender", "report_url", "name", "username", "password"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Mm7Config:
    """Everything an :class:`~channels.mm7.client.Mm7Client` needs to reach one MMSC."""

    endpoint: str  # http(s)://host:port/path of the MMSC's MM7 interface
    username: str | None = None
    password: str | None = None
    vaspid: str | None = None
    vasid: str | None = None
    service_code: str | None = None
    sender: str | None = None  # default SenderAddress (short code, number or e-mail)
    profile: Mm7Profile = DEFAULT_PROFILE
    max_size: int | None = None  # bytes; None → the profile's limit
    report_url: str | None = None  # where our receiver listens (http://host:port/path), None: no receiver
    timeout: float = 30.0
    connect_timeout: float = 5.0
    connections: int = 64
    name: str = "mm7"

    def __post_init__(self) -> None:
        if urlsplit(self.endpoint).scheme not in ("http", "https"):
            raise ConfigurationError(f"endpoint: expected an http(s) URL, got {self.endpoint!r}")
        if self.profile.ids_mandatory:
            for field in ("vaspid", "vasid", "service_code"):
                if not getattr(self, field):
                    raise ConfigurationError(f"{field}: required by MM7 profile {self.profile.release}")
        if self.report_url is not None and urlsplit(self.report_url).scheme != "http":
            raise ConfigurationError(f"report_url: expected http://host:port/path, got {self.report_url!r}")
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise ConfigurationError("timeout: must be positive")
        if self.connections < 1:
            raise ConfigurationError("connections: must be >= 1")
        if self.max_size is not None and self.max_size <= 0:
            raise ConfigurationError("max_size: must be positive")

    @property
    def size_limit(self) -> int:
        return self.max_size if self.max_size is not None else self.profile.max_size


def _convert(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if key in _INT_FIELDS:
            return int(value)
        if key in _FLOAT_FIELDS:
            return float(value)
    except ValueError:
        raise ConfigurationError(f"{key}: not a number: {value!r}") from None
    return value


def config_from_url(url: str, env: Mapping[str, str] | None = None, **overrides: Any) -> Mm7Config:
    """Parse an ``mm7+http://`` URL; keyword ``overrides`` win over the URL's values."""
    parts = urlsplit(url)
    scheme = _SCHEMES.get(parts.scheme)
    if scheme is None:
        raise ConfigurationError(f"url: expected mm7+http:// or mm7+https://, got {parts.scheme or url!r}")
    if not parts.hostname:
        raise ConfigurationError(f"url: no host in {url!r}")
    env = os.environ if env is None else env
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    values: dict[str, Any] = {
        "endpoint": urlunsplit((scheme, netloc, parts.path or "/", "", "")),
        "username": unquote(parts.username) if parts.username else env.get("MM7_USERNAME"),
        "password": unquote(parts.password) if parts.password else env.get("MM7_PASSWORD"),
    }
    profile_name: str | None = None
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        if key == "profile":
            profile_name = value
        elif key in _STR_FIELDS | _INT_FIELDS | _FLOAT_FIELDS:
            values[key] = value
        else:
            raise ConfigurationError(f"url: unknown parameter {key!r}")
    profile = overrides.pop("profile", None) or profile_name
    values["profile"] = profile if isinstance(profile, Mm7Profile) else get_profile(profile)
    values.update(overrides)
    known = {f.name for f in dataclasses.fields(Mm7Config)}
    unknown = set(values) - known
    if unknown:
        raise ConfigurationError(f"unknown MM7 option(s): {', '.join(sorted(unknown))}")
    return Mm7Config(**{k: _convert(k, v) for k, v in values.items()})
