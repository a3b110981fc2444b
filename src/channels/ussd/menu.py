"""A :class:`~channels.content.UssdMenu` checked and prepared for the wire (PROTOCOLS.md §6 limits).

A USSD string is at most 160 octets: 182 GSM 03.38 characters packed 7-bit, or 80 UCS-2 characters
(3GPP TS 23.038; libosmocore ``gsm0480.h``). Every screen's text is encoded once here, with the
gateway profile's data_coding values, and a screen that does not fit, a missing start screen, a
duplicate name or an option leading nowhere is refused with :class:`ContentRejected` naming the
field, before anything is sent. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.content import TextEncoding, UssdMenu
from channels.errors import ContentRejected
from channels.smpp.encoding import EncodedText, encode_text
from channels.ussd.profile import UssdProfile


def normalise_answer(text: str) -> str:
    """How answers and option keys are compared: trimmed, case-folded (``" Y "`` == ``"y"``)."""
    return text.strip().casefold()


@dataclass(frozen=True, slots=True)
class CompiledScreen:
    name: str
    text: str
    encoded: EncodedText
    options: dict[str, str]  # normalised answer -> screen name, or "=result"
    result: str | None

    @property
    def terminal(self) -> bool:
        """No options: showing this screen ends the session."""
        return not self.options


@dataclass(frozen=True, slots=True)
class CompiledMenu:
    screens: dict[str, CompiledScreen]
    start: str
    end: EncodedText  # shown when an answer leads to "=result"
    release: EncodedText  # the empty text that releases a dialogue

    @property
    def first(self) -> CompiledScreen:
        return self.screens[self.start]


def check_text(text: str, field: str, profile: UssdProfile, *, allow_empty: bool = False) -> EncodedText:
    """Encode ``text`` (GSM 03.38 when it fits the alphabet, else UCS-2) and check the USSD limit."""
    if not text and not allow_empty:
        raise ContentRejected(f"{field}: text is empty", name="content")
    encoded = encode_text(
        text, gsm_data_coding=profile.gsm_data_coding, ucs2_data_coding=profile.ucs2_data_coding
    )
    if encoded.encoding is TextEncoding.UCS2:
        limit, alphabet = profile.max_ucs2_chars, "UCS-2"
    else:
        limit, alphabet = profile.max_gsm_chars, "GSM-7"
    if encoded.units > limit:
        raise ContentRejected(
            f"{field}: text is {encoded.units} {alphabet} characters; USSD allows {limit}",
            name="content",
        )
    return encoded


def compile_menu(menu: UssdMenu, profile: UssdProfile) -> CompiledMenu:
    """Check a menu against the profile's limits and its own references; encode every text once."""
    if not menu.screens:
        raise ContentRejected("UssdMenu.screens: no screens", name="content")
    screens: dict[str, CompiledScreen] = {}
    for index, screen in enumerate(menu.screens):
        field = f"UssdMenu.screens[{index}] {screen.name!r}"
        if not screen.name:
            raise ContentRejected(f"UssdMenu.screens[{index}].name is empty", name="content")
        if screen.name in screens:
            raise ContentRejected(f"{field}: duplicate screen name", name="content")
        options: dict[str, str] = {}
        for answer, target in screen.options.items():
            key = normalise_answer(answer)
            if not key:
                raise ContentRejected(f"{field}.options: empty answer key", name="content")
            if key in options:
                raise ContentRejected(f"{field}.options: answer {answer!r} given twice", name="content")
            options[key] = target
        screens[screen.name] = CompiledScreen(
            name=screen.name,
            text=screen.text,
            encoded=check_text(screen.text, f"{field}.text", profile),
            options=options,
            result=screen.result,
        )
    for compiled in screens.values():
        for answer, target in compiled.options.items():
            if target.startswith("="):
                if len(target) < 2:
                    raise ContentRejected(
                        f"screen {compiled.name!r}.options[{answer!r}]: result after '=' is empty",
                        name="content",
                    )
            elif target not in screens:
                raise ContentRejected(
                    f"screen {compiled.name!r}.options[{answer!r}]: no screen named {target!r}",
                    name="content",
                )
    start = menu.start or menu.screens[0].name
    if start not in screens:
        raise ContentRejected(f"UssdMenu.start: no screen named {start!r}", name="content")
    end = check_text(menu.end_text, "UssdMenu.end_text", profile, allow_empty=True)
    release = EncodedText(profile.gsm_data_coding, b"", TextEncoding.GSM7)
    return CompiledMenu(screens=screens, start=start, end=end, release=release)


def release_menu(profile: UssdProfile) -> CompiledMenu:
    """A menu of one empty final screen: what a session that is refused before its first screen
    (no handler for the service code) is given."""
    release = EncodedText(profile.gsm_data_coding, b"", TextEncoding.GSM7)
    screen = CompiledScreen(name="release", text="", encoded=release, options={}, result=None)
    return CompiledMenu(screens={"release": screen}, start="release", end=release, release=release)
