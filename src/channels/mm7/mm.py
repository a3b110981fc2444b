"""From an :class:`~channels.content.Mms` to the MM's MIME parts and back (OMA-MMS-CONF 1.2; TS 23.140).

A user gives slides (text + image/audio per page) and gets a generated SMIL presentation with
``cid:`` references, or gives their own SMIL plus parts. Both roles check an MM the same way
before it goes further: every SMIL reference resolves, every media type is one an MMS may carry,
the size fits the profile. The adapter refuses such an MM before sending (ContentRejected naming
the field); the MMSC simulator answers it with the same status code. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.content import MediaPart, Mms
from channels.mm7.mime import MmContent, Part
from channels.mm7.smil import SMIL_TYPE, SlideRefs, build_smil, is_known_media_type, smil_references

CONTENT_REFUSED = 2004  # TS 23.140 Table 30
FORMAT_CORRUPT = 2007

_EXT = {
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/png": "png",
    "audio/amr": "amr",
    "audio/midi": "mid",
    "audio/mpeg": "mp3",
    "image/vnd.wap.wbmp": "wbmp",
}


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """Why an MM is not acceptable, and the MM7 status that says so."""

    status: int
    message: str


def _media(part: MediaPart, default_id: str) -> Part:
    cid = part.content_id or default_id
    ext = _EXT.get(part.content_type.split(";")[0].strip().lower(), "bin")
    return Part(part.content_type, part.data, cid, part.name or f"{cid}.{ext}")


def _from_slides(mms: Mms) -> MmContent:
    parts: list[Part] = []
    refs: list[SlideRefs] = []
    for i, slide in enumerate(mms.slides, start=1):
        text = image = audio = None
        if slide.image is not None:
            parts.append(_media(slide.image, f"image{i}"))
            image = f"cid:{parts[-1].content_id}"
        if slide.text is not None:
            parts.append(
                Part("text/plain; charset=utf-8", slide.text.encode("utf-8"), f"text{i}", f"text{i}.txt")
            )
            text = f"cid:text{i}"
        if slide.audio is not None:
            parts.append(_media(slide.audio, f"audio{i}"))
            audio = f"cid:{parts[-1].content_id}"
        refs.append(SlideRefs(slide.duration, text=text, image=image, audio=audio))
    smil = Part(SMIL_TYPE, build_smil(refs).encode("utf-8"), "smil", "smil.smil")
    extra = [_media(p, f"part{n}") for n, p in enumerate(mms.parts, start=1)]
    return MmContent(parts=(smil, *parts, *extra), start="smil")


def build_mm(mms: Mms) -> MmContent:
    """The MM's parts: generated SMIL + slide media, or the given SMIL + parts, or parts alone.

    Raises ValueError naming the field when the Mms is not usable.
    """
    if mms.slides and mms.smil is not None:
        raise ValueError("Mms: give slides or smil, not both")
    if mms.slides:
        return _from_slides(mms)
    if not mms.parts:
        raise ValueError("Mms: no content (give slides, or smil plus parts, or parts)")
    parts = [_media(p, f"part{n}") for n, p in enumerate(mms.parts, start=1)]
    if mms.smil is None:
        return MmContent(parts=tuple(parts))
    smil = Part(SMIL_TYPE, mms.smil.encode("utf-8"), "smil", "smil.smil")
    return MmContent(parts=(smil, *parts), start="smil")


def content_problems(content: MmContent, max_size: int | None = None) -> list[ContentProblem]:
    """Everything wrong with an MM: unknown media types (2004), size (2004), SMIL refs (2007)."""
    problems = [
        ContentProblem(
            CONTENT_REFUSED,
            f"part {p.content_id or p.location or '?'}: media type "
            f"{p.media_type!r} is not one an MMS may carry",
        )
        for p in content.parts
        if not is_known_media_type(p.content_type)
    ]
    if max_size is not None and content.size > max_size:
        problems.append(
            ContentProblem(
                CONTENT_REFUSED, f"MM size {content.size} bytes exceeds the limit of {max_size} bytes"
            )
        )
    smil = content.smil
    if smil is not None:
        try:
            refs = smil_references(smil.data)
        except ValueError as exc:
            return [*problems, ContentProblem(FORMAT_CORRUPT, str(exc))]
        problems += [
            ContentProblem(FORMAT_CORRUPT, f"SMIL: reference {ref!r} does not resolve to a part")
            for ref in refs
            if content.resolve(ref) is None
        ]
    return problems


def mm_text(content: MmContent | None) -> str:
    """The MM's text as a subscriber reads it: its text/plain parts, in order, joined by newlines."""
    if content is None:
        return ""
    return "\n".join(p.text() for p in content.parts if p.media_type == "text/plain")


def media_parts(content: MmContent | None) -> tuple[MediaPart, ...]:
    """The MM's non-SMIL parts as :class:`MediaPart` values."""
    if content is None:
        return ()
    return tuple(
        MediaPart(content_type=p.content_type, data=p.data, name=p.location, content_id=p.content_id)
        for p in content.parts
        if p.media_type != SMIL_TYPE
    )
