"""MM7 versions as profiles (3GPP TS 23.140, PROTOCOLS.md §4.1).

An MMSC speaks one schema release (the namespace ``…/schema/REL-<r>-MM7-1-<n>``) and expects a
matching ``MM7Version``; operators add house rules on top (China Mobile: VASPID, VASID and
ServiceCode mandatory, ``+08:00`` times, a bare-string SenderAddress, no ``<Content href>``,
Content-IDs without angle brackets, 128 KB messages). This module names those combinations so the
codec, the adapter and the simulator read the same table.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from datetime import timedelta

from channels.errors import ConfigurationError

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MM7_NS_PREFIX = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/"

# The simulator accepts any REL-5/6 MM7-1-0..5 namespace and echoes it (PROTOCOLS.md §4.1).
_RELEASE_RE = re.compile(r"^REL-([56])-MM7-1-([0-5])$")


@dataclass(frozen=True, slots=True)
class Mm7Profile:
    """One MM7 dialect: schema release, MM7Version and the operator's house rules."""

    release: str  # e.g. "REL-6-MM7-1-4"
    version: str  # MM7Version element, e.g. "6.8.0"
    max_size: int  # bytes of MM content (SMIL + parts), checked before sending
    ids_mandatory: bool = False  # VASPID, VASID, ServiceCode required (China Mobile)
    content_href: bool = True  # <Content href="cid:…"/> in SubmitReq/DeliverReq
    cid_brackets: bool = True  # Content-ID: <x> (RFC 2392) rather than a bare x
    bare_sender: bool = False  # <SenderAddress>54321</SenderAddress> without an address element
    utc_offset: timedelta | None = None  # times written in this offset (None: UTC, "Z")

    @property
    def namespace(self) -> str:
        return MM7_NS_PREFIX + self.release

    def with_release(self, release: str, version: str) -> Mm7Profile:
        """The same house rules under another release (to echo a peer's namespace)."""
        return replace(self, release=release, version=version)


REL_5_MM7_1_0 = Mm7Profile(release="REL-5-MM7-1-0", version="5.3.0", max_size=100 * 1024)
REL_6_MM7_1_0 = Mm7Profile(
    release="REL-6-MM7-1-0",
    version="6.3.0",
    max_size=128 * 1024,
    ids_mandatory=True,
    content_href=False,
    cid_brackets=False,
    bare_sender=True,
    utc_offset=timedelta(hours=8),
)
REL_6_MM7_1_4 = Mm7Profile(release="REL-6-MM7-1-4", version="6.8.0", max_size=300 * 1024)

PROFILES: dict[str, Mm7Profile] = {p.release: p for p in (REL_5_MM7_1_0, REL_6_MM7_1_0, REL_6_MM7_1_4)}
ALIASES: dict[str, str] = {"rel5": "REL-5-MM7-1-0", "cmcc": "REL-6-MM7-1-0", "rel6": "REL-6-MM7-1-4"}
DEFAULT_PROFILE = REL_6_MM7_1_4


def get_profile(name: str | None) -> Mm7Profile:
    """A profile by release name (``REL-6-MM7-1-0``) or alias (``cmcc``); None → the default."""
    if not name:
        return DEFAULT_PROFILE
    key = ALIASES.get(name.strip().lower(), name.strip().upper())
    try:
        return PROFILES[key]
    except KeyError:
        known = ", ".join([*PROFILES, *ALIASES])
        raise ConfigurationError(f"profile: unknown MM7 profile {name!r} (known: {known})") from None


def release_of(namespace: str) -> str | None:
    """``REL-x-MM7-1-y`` from an MM7 namespace URI (None if it is not one we accept)."""
    if not namespace.startswith(MM7_NS_PREFIX):
        return None
    release = namespace[len(MM7_NS_PREFIX) :]
    return release if _RELEASE_RE.match(release) else None


@functools.lru_cache(maxsize=256)
def profile_for_namespace(namespace: str, version: str | None = None) -> Mm7Profile | None:
    """The profile a peer's request speaks: a known one, or the default rules under its release.

    Cached (profiles are frozen; a peer sends the same namespace and MM7Version every time)."""
    release = release_of(namespace)
    if release is None:
        return None
    known = PROFILES.get(release)
    base = known if known is not None else DEFAULT_PROFILE
    return base.with_release(release, version or base.version)
