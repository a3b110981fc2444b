"""Service codes for user-initiated USSD sessions, and USSD source addresses (3GPP TS 22.090 §4.1:
a dialled string ``*SC*SI#``; PROTOCOLS.md §6 flows).

A subscriber who dials ``*123*5#`` reaches the handler registered for ``*123#`` (the longest
registered code that the dialled string starts with, up to a ``*`` separator). The handler gets a
:class:`UssdRequest` and returns the menu to run. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from channels.content import UssdMenu
from channels.errors import ConfigurationError


@dataclass(frozen=True, slots=True, kw_only=True)
class UssdRequest:
    """A subscriber dialled a service code. ``session_id`` is the ``in_reply_to`` of the session's
    answers and the ``message_id`` of its final receipt."""

    msisdn: str
    dialled: str  # what the subscriber dialled, e.g. "*123*5#"
    service_code: str | None  # the registered code it matched, e.g. "*123#"
    session_id: str
    gateway: str

    @property
    def parameters(self) -> tuple[str, ...]:
        """The supplementary parts after the service code (``*123*5*9#`` → ``("5", "9")``)."""
        if self.service_code is None:
            return ()
        rest = _bare(self.dialled)[len(_bare(self.service_code)) :]
        return tuple(p for p in rest.split("*") if p)


Handler = Callable[[UssdRequest], UssdMenu | Awaitable[UssdMenu]] | UssdMenu


def _bare(code: str) -> str:
    return code.strip().replace(" ", "").rstrip("#")


class ServiceCodes:
    """Registered service codes and their handlers."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[str, Handler]] = {}

    def add(self, code: str, handler: Handler) -> None:
        bare = _bare(code)
        if not bare or not all(c.isdigit() or c in "*#" for c in bare):
            raise ConfigurationError(f"service code {code!r}: digits, '*' and '#' only (e.g. *123#)")
        self._handlers[bare] = (code, handler)

    def match(self, dialled: str) -> str | None:
        """The registered code ``dialled`` belongs to (as it was registered), or None."""
        bare = _bare(dialled)
        best: str | None = None
        for key in self._handlers:
            if (bare == key or bare.startswith(key + "*")) and (best is None or len(key) > len(best)):
                best = key
        return self._handlers[best][0] if best is not None else None

    def handler(self, code: str | None) -> Handler | None:
        if code is None:
            return None
        entry = self._handlers.get(_bare(code))
        return entry[1] if entry is not None else None


def source_address(sender: str, config: Any = None) -> tuple[str, int, int]:
    """(address, TON, NPI) for our side: digits → 1/1 when longer than 8 (else 0/1); a service code
    (``*123#``) → 0/0; a name → alphanumeric 5/0. ``config.source_ton``/``source_npi`` win."""
    ton = getattr(config, "source_ton", None)
    if ton is not None:
        npi = getattr(config, "source_npi", None)
        return sender, ton, npi if npi is not None else 0
    digits = sender.strip().lstrip("+")
    if not digits:
        return "", 0, 0
    if digits.isdigit():
        return digits, (1 if len(digits) > 8 else 0), 1
    if all(c.isdigit() or c in "*#" for c in digits):
        return digits, 0, 0
    return sender, 5, 0
