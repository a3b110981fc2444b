"""Numbers as the policies see them: one subscriber key, a time zone and an operator per MSISDN.

Every policy must agree on who the subscriber is, so numbers are normalised once, here, to E.164
digits without ``+`` (``+86 138-0013-8000`` → ``8613800138000``); national numbers need a
``default_region`` and go through phonenumbers. The recipient's zone comes from phonenumbers' own
prefix table (``phonenumbers.tzdata``, the data behind ``timezone.time_zones_for_number``) by longest
prefix, so a lookup is a few dict probes instead of a parse (DESIGN §5); a prefix that maps to several
zones (a country-wide prefix such as ``+1``) falls back to ``default_zone``. Operators come from a
prefix table the user gives (operators publish their number ranges), else from
``phonenumbers.carrier``. Results are cached with bounded caches: keys per number as written, zones
per leading digits (the longest-prefix walk never reads past ``TIMEZONE_LONGEST_PREFIX`` digits, so
numbers that share them share the answer: a campaign of new numbers still hits), operators per number.
In a campaign every number is new, so the first lookup of each is a miss: the usual spelling (``+``
and digits) is recognised without the strip-and-translate of the general path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import carrier
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from channels.errors import ConfigurationError

_CACHE_LIMIT = 200_000
_DROP = str.maketrans("", "", " -().\u00a0")
UNKNOWN_ZONE = "Etc/Unknown"
# Every prefix of every key of the zone table: the longest-prefix walk stops as soon as it leaves it.
_TZ_PREFIXES = frozenset(k[:n] for k in TIMEZONE_DATA for n in range(1, len(k) + 1))


class HasTo(Protocol):
    """Anything addressed to a number (a ``channels.Message``)."""

    @property
    def to(self) -> str: ...


def zone(name: str) -> ZoneInfo:
    """A ZoneInfo by IANA name, or ConfigurationError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"unknown time zone {name!r}") from exc


class Numbers:
    """Normalise numbers and find their zone and operator (cached)."""

    def __init__(
        self,
        *,
        default_region: str | None = None,
        default_zone: str = "UTC",
        operators: Mapping[str, str] | None = None,
        carrier_fallback: bool = True,
    ) -> None:
        self.default_region = default_region.upper() if default_region else None
        self.default_zone = zone(default_zone)
        self._operators = {p.lstrip("+"): name for p, name in (operators or {}).items()}
        self._op_longest = max((len(p) for p in self._operators), default=0)
        self._carrier_fallback = carrier_fallback
        self._keys: dict[str, str] = {}
        self._zones: dict[str, ZoneInfo] = {}  # by the key's first TIMEZONE_LONGEST_PREFIX digits
        self._ops: dict[str, str] = {}
        self._zone_names: dict[str, ZoneInfo] = {}
        # The last chunk asked about (keys_to, key_zones): (question, answer), replaced whole.
        self._last_keys: tuple[Sequence[HasTo], tuple[str, ...]] = ((), ())
        self._last_zones: tuple[Sequence[str], tuple[ZoneInfo, ...]] = ((), ())

    def key(self, to: str) -> str:
        """E.164 digits without ``+``; ``""`` when ``to`` is not a number."""
        key = self._keys.get(to)
        if key is None:
            key = self._normalise(to)
            if len(self._keys) >= _CACHE_LIMIT:
                self._keys.clear()
            self._keys[to] = key
        return key

    def keys(self, tos: Sequence[str]) -> list[str]:
        """``[self.key(to) for to in tos]``, with the cache probed inline (a chunk's stages each ask
        for the same numbers; only the first asks the slow way)."""
        get = self._keys.get
        key = self.key
        return [get(to) or key(to) for to in tos]

    def keys_to(self, messages: Sequence[HasTo]) -> tuple[str, ...]:
        """``self.keys([m.to for m in messages])`` in one pass (no list of numbers in between).

        Every stage of a chunk asks for the same keys: the last tuple of messages asked about is kept
        with its keys (``channels.policy.evaluate_chunk`` hands its stages tuples), and asking again
        is an identity test. Holding the tuple keeps its identity from being reused, and a tuple of
        frozen messages cannot change, so the answer kept is the answer. Other sequences (a list may
        change between calls) are read each time."""
        last = self._last_keys
        if messages is last[0]:
            return last[1]
        get = self._keys.get
        key = self.key
        keys = tuple([get(m.to) or key(m.to) for m in messages])
        if type(messages) is tuple:
            self._last_keys = (messages, keys)  # one tuple, replaced whole
        return keys

    def _normalise(self, to: str) -> str:
        if to[:1] == "+" and to[1:].isdigit():
            return to[1:]  # nothing for strip() or _DROP to remove: the general path's answer
        s = to.strip().translate(_DROP)
        if s.startswith("+"):
            return s[1:] if s[1:].isdigit() else ""
        if s.startswith("00") and s.isdigit():
            return s[2:]
        if self.default_region is None or not s.isdigit():
            return s if s.isdigit() else ""
        try:
            parsed = phonenumbers.parse(s, self.default_region)
        except phonenumbers.NumberParseException:
            return ""
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]

    def zone(self, to: str) -> ZoneInfo:
        """The recipient's zone: the number's prefix in phonenumbers' table, else ``default_zone``."""
        return self.key_zone(self._keys.get(to) or self.key(to))

    def key_zone(self, key: str) -> ZoneInfo:
        """The zone of a normalised key (see :meth:`zone`)."""
        head = key[:TIMEZONE_LONGEST_PREFIX]
        found = self._zones.get(head)
        if found is None:
            found = self._lookup_zone(head)
            if len(self._zones) >= _CACHE_LIMIT:
                self._zones.clear()
            self._zones[head] = found
        return found

    def key_zones(self, keys: Sequence[str]) -> tuple[ZoneInfo, ...]:
        """``[self.key_zone(key) for key in keys]``, with the cache probed inline; the last tuple of
        keys is kept with its zones, as :meth:`keys_to` keeps its answer (quiet hours and day caps
        both ask for a chunk's zones)."""
        last = self._last_zones
        if keys is last[0]:
            return last[1]
        get = self._zones.get
        key_zone = self.key_zone
        zones = tuple([get(key[:TIMEZONE_LONGEST_PREFIX]) or key_zone(key) for key in keys])
        if type(keys) is tuple:
            self._last_zones = (keys, zones)
        return zones

    def _lookup_zone(self, key: str) -> ZoneInfo:
        names: tuple[str, ...] | None = None
        for n in range(1, min(len(key), TIMEZONE_LONGEST_PREFIX) + 1):
            prefix = key[:n]
            if prefix not in _TZ_PREFIXES:
                break  # no longer prefix exists in the table
            names = TIMEZONE_DATA.get(prefix, names)
        if names is not None and len(names) == 1 and names[0] != UNKNOWN_ZONE:
            return self.named_zone(names[0])
        return self.default_zone

    def named_zone(self, name: str) -> ZoneInfo:
        found = self._zone_names.get(name)
        if found is None:
            found = self._zone_names[name] = zone(name)
        return found

    def operator(self, to: str) -> str:
        """The operator: longest prefix in the user's table, else phonenumbers' carrier, else ``""``."""
        key = self.key(to)
        found = self._ops.get(key)
        if found is None:
            found = self._lookup_operator(key)
            if len(self._ops) >= _CACHE_LIMIT:
                self._ops.clear()
            self._ops[key] = found
        return found

    def _lookup_operator(self, key: str) -> str:
        for n in range(min(len(key), self._op_longest), 0, -1):
            name = self._operators.get(key[:n])
            if name is not None:
                return name
        if not self._carrier_fallback or not key:
            return ""
        try:
            return str(carrier.name_for_number(phonenumbers.parse("+" + key), "en"))
        except phonenumbers.NumberParseException:
            return ""
