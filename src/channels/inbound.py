"""Lenient matching of subscriber replies (MO keywords).

Operators found that replies such as "88" failed when typed full-width ("８８") or with stray spaces
and case; so every reply is normalised with Unicode NFKC (full-width → ASCII), case-folded, and
trimmed of whitespace and trailing punctuation before it is compared with a keyword.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# Common opt-out replies: English, Chinese operators' 退订 / TD / 0000 / N.
DEFAULT_OPT_OUT_KEYWORDS: frozenset[str] = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "td", "退订", "退定", "取消", "0000", "n"}
)

_STRIP = " \t\r\n\u3000.,;:!?。，；：！？、\"'“”‘’"


def normalise_keyword(text: str) -> str:
    """NFKC + casefold + collapse inner whitespace + strip edge punctuation."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(_STRIP)


class KeywordMatcher:
    """Match replies against keywords after normalisation; the first word also counts ("88 yes")."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self._keywords = {normalise_keyword(k): k for k in keywords}

    def match(self, text: str) -> str | None:
        """Return the keyword (as given) that ``text`` means, or None."""
        norm = normalise_keyword(text)
        if norm in self._keywords:
            return self._keywords[norm]
        first = norm.split(" ", 1)[0] if norm else ""
        return self._keywords.get(first.strip(_STRIP))


_DEFAULT_OPT_OUT = KeywordMatcher(DEFAULT_OPT_OUT_KEYWORDS)


def is_opt_out(text: str, matcher: KeywordMatcher = _DEFAULT_OPT_OUT) -> bool:
    return matcher.match(text) is not None
