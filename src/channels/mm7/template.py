"""Documents written once and then filled or matched per message: the fast path of MM7's hot documents.

A campaign's SubmitReqs differ only in a few leaf texts (TransactionID, the recipient, TimeStamp), an
MMSC's SubmitRsps only in TransactionID and MessageID. A :class:`Template` is such a document written
once by the ordinary writer (``channels.mm7.messages.encode``) with markers in place of those texts,
cut at the markers: there is no second definition of the format, only a cut copy of the writer's.
Filling splices values in; matching (one bytes regex, the literal parts compared byte for byte) reads
them back out. Both take *plain* values only: printable ASCII without ``& < > " '``, characters that
XML carries literally in text and attributes, so the writer writes them unchanged (no escaping) and an
XML parser reads them back unchanged (no references, no line-end or attribute normalisation). Anything
else (a value to escape, a document written another way) gives None and the caller takes the general
path, the writer or ElementTree: the bytes and the values are the same either way
(``tests/unit/test_mm7_template.py`` compares both paths, Hypothesis included). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

_PLAIN_CLASS = r"[\x20\x21\x23-\x25\x28-\x3b\x3d\x3f-\x7e]"  # printable ASCII minus " & ' < >
_PLAIN = re.compile(_PLAIN_CLASS + "*")


def marker(i: int) -> str:
    """The ``i``-th hole's stand-in: private-use characters, which no escaping touches and no
    document carries (:meth:`Template.cut` counts them to be sure)."""
    return f"\ue000{i}\ue001"


def is_plain(value: str) -> bool:
    return _PLAIN.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Template:
    """Literal bytes around holes; hole ``k`` holds value ``slots[k]`` (a value may fill several)."""

    pieces: tuple[bytes, ...]  # len(slots) + 1 literals
    slots: tuple[int, ...]
    pattern: re.Pattern[bytes]
    names: tuple[str, ...]  # the pattern's group per value
    checks: tuple[Callable[[str], re.Match[str] | None], ...]  # which values a hole takes

    @classmethod
    def cut(
        cls, doc: bytes, markers: Sequence[bytes], repeats: Mapping[int, int] | None = None,
        narrow: Mapping[int, str] | None = None,
    ) -> Template | None:
        """``doc`` cut at ``markers`` (hole ``k`` of value ``i`` where ``markers[i]`` stood); None unless
        marker ``i`` occurs exactly ``repeats.get(i, 1)`` times (a value that happens to hold a marker
        would otherwise be taken for a hole). ``narrow`` gives a value a character class narrower
        than plain (a namespace's part: ElementTree's ``{uri}name`` cannot hold ``}``)."""
        index = {m: i for i, m in enumerate(markers)}
        classes = [(narrow or {}).get(i, _PLAIN_CLASS) for i in range(len(markers))]
        finder = re.compile(b"|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True)))
        pieces: list[bytes] = []
        slots: list[int] = []
        regex: list[bytes] = []
        pos = 0
        for m in finder.finditer(doc):
            slot = index[m.group()]
            pieces.append(doc[pos : m.start()])
            regex.append(re.escape(pieces[-1]))
            # the first hole of a value captures it; the others must repeat it (same text in both)
            value = b"(?P<v%d>%s*)" % (slot, classes[slot].encode("ascii"))
            regex.append(b"(?P=v%d)" % slot if slot in slots else value)
            slots.append(slot)
            pos = m.end()
        if any(slots.count(i) != (repeats or {}).get(i, 1) for i in range(len(markers))):
            return None
        pieces.append(doc[pos:])
        regex.append(re.escape(pieces[-1]))
        names = tuple(f"v{i}" for i in range(len(markers)))
        checks = tuple(re.compile(c + "*").fullmatch for c in classes)
        return cls(tuple(pieces), tuple(slots), re.compile(b"".join(regex), re.DOTALL), names, checks)

    def fill(self, values: Sequence[str]) -> bytes | None:
        """The document with ``values`` in its holes; None if a value is not plain."""
        for check, v in zip(self.checks, values, strict=True):
            if check(v) is None:
                return None
        pieces = self.pieces
        out = [pieces[0]]
        for k, slot in enumerate(self.slots):
            out.append(values[slot].encode("ascii"))
            out.append(pieces[k + 1])
        return b"".join(out)

    def match(self, data: bytes) -> tuple[str, ...] | None:
        """The values of a document written from this template; None for any other document."""
        m = self.pattern.fullmatch(data)
        if m is None:
            return None
        return tuple([m.group(name).decode("ascii") for name in self.names])
