"""The MMS SMIL presentation (OMA-MMS-CONF 1.2 §8, W3C SMIL 2.0 subset; PROTOCOLS.md §4.2).

An MMS shows its media as slides: one ``root-layout``, at most one Image and one Text region, one
``<par dur>`` per slide, media referenced by ``cid:`` or Content-Location, the SMIL part first
[M12]. This module writes that presentation for a user who gave slides, and reads the references
out of any SMIL so the MMSC simulator can check that every one resolves to a part. It also holds the
media types an MMS may carry (OMA MMS content classes, plus common handset types). Pure.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

SMIL_TYPE = "application/smil"

# OMA-MMS-CONF content classes (text, image basic/rich, video, megapixel) and common extras.
KNOWN_MEDIA_TYPES: frozenset[str] = frozenset(
    {
        "text/plain",
        "text/x-vcard",
        "text/x-vcalendar",
        "text/directory",
        "application/smil",
        "application/vnd.wap.xhtml+xml",
        "application/xhtml+xml",
        "image/jpeg",
        "image/jpg",
        "image/gif",
        "image/png",
        "image/vnd.wap.wbmp",
        "image/bmp",
        "audio/amr",
        "audio/amr-wb",
        "audio/mid",
        "audio/midi",
        "audio/sp-midi",
        "audio/mpeg",
        "audio/mp3",
        "audio/mp4",
        "audio/aac",
        "audio/3gpp",
        "audio/x-wav",
        "audio/wav",
        "video/3gpp",
        "video/3gpp2",
        "video/mp4",
        "video/h263",
    }
)

ROOT_WIDTH, ROOT_HEIGHT = 160, 120  # QVGA-safe root layout used by the conformance document
IMAGE_HEIGHT = 80


@dataclass(frozen=True, slots=True)
class SlideRefs:
    """One slide's media references (``cid:x`` or a Content-Location) and its duration (s)."""

    duration: float
    text: str | None = None
    image: str | None = None
    audio: str | None = None


def _dur(seconds: float) -> str:
    if seconds <= 0:
        raise ValueError(f"Slide.duration must be positive, got {seconds}")
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def _regions(slides: Sequence[SlideRefs]) -> list[str]:
    has_image = any(s.image for s in slides)
    has_text = any(s.text for s in slides)
    if has_image and has_text:
        text_h = ROOT_HEIGHT - IMAGE_HEIGHT
        return [
            f'<region id="Image" top="0" left="0" width="100%" height="{IMAGE_HEIGHT}" fit="meet"/>',
            f'<region id="Text" top="{IMAGE_HEIGHT}" left="0" width="100%" height="{text_h}" fit="scroll"/>',
        ]
    if has_image:
        return ['<region id="Image" top="0" left="0" width="100%" height="100%" fit="meet"/>']
    if has_text:
        return ['<region id="Text" top="0" left="0" width="100%" height="100%" fit="scroll"/>']
    return []


def build_smil(slides: Sequence[SlideRefs]) -> str:
    """A SMIL presentation showing ``slides`` in order (CRLF line ends, as MIME text wants)."""
    if not slides:
        raise ValueError("a SMIL presentation needs at least one slide")
    lines = [
        "<smil>",
        "<head>",
        "<layout>",
        f'<root-layout width="{ROOT_WIDTH}" height="{ROOT_HEIGHT}"/>',
        *_regions(slides),
        "</layout>",
        "</head>",
        "<body>",
    ]
    for s in slides:
        lines.append(f'<par dur="{_dur(s.duration)}">')
        if s.image:
            lines.append(f'<img src={quoteattr(s.image)} region="Image"/>')
        if s.text:
            lines.append(f'<text src={quoteattr(s.text)} region="Text"/>')
        if s.audio:
            lines.append(f"<audio src={quoteattr(s.audio)}/>")
        lines.append("</par>")
    lines += ["</body>", "</smil>"]
    return "\r\n".join(lines) + "\r\n"


def smil_references(smil: str | bytes) -> list[str]:
    """Every media ``src`` in a SMIL document, in document order; ValueError if it is not XML."""
    return list(_references(smil))


@functools.lru_cache(maxsize=64)
def _references(smil: str | bytes) -> tuple[str, ...]:
    """Cached: a campaign's MMs share one SMIL, which the MMSC would otherwise parse per submit."""
    try:
        root = ET.fromstring(smil)
    except ET.ParseError as exc:
        raise ValueError(f"SMIL: not well-formed XML ({exc})") from exc
    if root.tag.rsplit("}", 1)[-1] != "smil":
        raise ValueError("SMIL: root element is not <smil>")
    return tuple(src for el in root.iter() if (src := el.get("src")))


def media_type(content_type: str) -> str:
    """``image/jpeg`` from ``image/jpeg; name=x.jpg`` (lower-case, parameters dropped)."""
    return content_type.split(";", 1)[0].strip().lower()


def is_known_media_type(content_type: str) -> bool:
    return media_type(content_type) in KNOWN_MEDIA_TYPES
