"""What a message carries, one type per channel kind.

These are plain frozen values: adapters validate them against their gateway's limits (length,
size, media types) and raise :class:`~channels.errors.ContentRejected` with the field at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from channels.frozen import fast_init


class TextEncoding(StrEnum):
    """SMS text encodings; ``None`` on a :class:`Text` means choose automatically (GSM-7, else UCS-2)."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"
    LATIN1 = "latin1"
    ASCII = "ascii"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """An SMS text. ``encoding`` overrides the automatic choice."""

    body: str
    encoding: TextEncoding | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaPart:
    """One MMS media object: bytes plus their MIME type (``image/jpeg``, ``audio/amr``, ``text/plain``)."""

    content_type: str
    data: bytes
    name: str | None = None
    content_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Slide:
    """One page of an MMS presentation: optional text, image and audio shown for ``duration`` seconds."""

    text: str | None = None
    image: MediaPart | None = None
    audio: MediaPart | None = None
    duration: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Mms:
    """An MMS. Give ``slides`` (a SMIL presentation is generated) or ``smil`` plus ``parts``."""

    subject: str | None = None
    slides: tuple[Slide, ...] = ()
    smil: str | None = None
    parts: tuple[MediaPart, ...] = ()
    delivery_report: bool = True
    read_reply: bool = False
    priority: str | None = None  # "Low" | "Normal" | "High" (TS 23.140 Priority)
    expiry: datetime | None = None
    linked_id: str | None = None  # MM7 LinkedID: the DeliverReq this MMS answers (TS 23.140 §8.7.1)
    service_code: str | None = None  # MM7 ServiceCode (charging); overrides the gateway's default
    message_class: str | None = None  # "Personal" | "Informational" | "Advertisement" | "Auto"


class WapPushKind(StrEnum):
    SI = "si"  # Service Indication (WAP-167): shown to the user
    SL = "sl"  # Service Loading (WAP-168): fetched by the handset


@dataclass(frozen=True, slots=True, kw_only=True)
class WapPush:
    """A WAP push: a link with an optional text, as SI or SL."""

    href: str
    text: str | None = None
    kind: WapPushKind = WapPushKind.SI
    action: str | None = None  # SI: signal-none|low|medium|high|delete; SL: execute-low|high, cache
    si_id: str | None = None
    created: datetime | None = None
    expires: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompt:
    """Something to play: a gateway sound id (``sound:welcome``) or text for the gateway's TTS."""

    sound: str | None = None
    tts: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrStep:
    """One node of an outbound-call script.

    Plays ``prompts``; if ``branches`` is set, gathers up to ``max_digits`` DTMF digits (``#`` ends
    the entry early; a digit pressed during a prompt interrupts it) within ``timeout`` seconds of the
    last prompt or digit, and goes to ``branches[digits]``. No input or no match re-prompts up to
    ``retries`` times, then goes to ``default`` (or ends with result ``"no-input"``/``"invalid"``).
    Without branches it goes to ``next``; with neither, or ``result`` set, the call ends with that result.
    """

    name: str
    prompts: tuple[Prompt, ...] = ()
    branches: Mapping[str, str] = field(default_factory=dict)
    max_digits: int = 1
    timeout: float = 5.0
    retries: int = 1
    default: str | None = None
    next: str | None = None
    result: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrScript:
    """A declarative IVR script: named steps, starting at ``start`` (default: the first).

    ``on_machine`` names the step to run instead when the gateway reports an answering machine
    (e.g. a short voicemail message); None runs the script as for a person.
    """

    steps: tuple[IvrStep, ...]
    start: str | None = None
    caller_id: str | None = None
    ring_timeout: float = 30.0
    on_machine: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UssdScreen:
    """One USSD screen. ``options`` maps an answer ("1") to the next screen's name, or to a result
    string prefixed ``=`` (``"=subscribed"``) that ends the session. No options: the session ends
    after this screen is shown."""

    name: str
    text: str
    options: Mapping[str, str] = field(default_factory=dict)
    result: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UssdMenu:
    """A network-initiated USSD menu (a tree of screens), or a one-screen notification (USSN).

    ``end_text`` is shown when an answer leads to a ``=result`` (empty: the session is released
    without a closing text)."""

    screens: tuple[UssdScreen, ...]
    start: str | None = None
    end_text: str = ""

    @classmethod
    def notification(cls, text: str) -> UssdMenu:
        return cls(screens=(UssdScreen(name="notice", text=text),))


Content = Text | Mms | WapPush | IvrScript | UssdMenu
