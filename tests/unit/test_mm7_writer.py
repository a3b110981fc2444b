"""The MM7 XML writer escapes exactly as ``xml.sax.saxutils`` does (its fast paths skip calls, not rules)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

import pytest

from channels.mm7.envelope import XmlWriter


@pytest.mark.parametrize(
    "value",
    ["plain", "a & b", "<tag>", "x > y", 'say "hi"', "it's", "both \" and '", "tab\tcr\rlf\n", "é 中"],
)
def test_text_and_attributes_escaped_as_saxutils_escapes_them(value: str) -> None:
    w = XmlWriter()
    w.open("root", {"xmlns": "urn:x", "a": value})
    w.leaf("Text", value)
    w.empty("Empty", {"href": value, "flag": "1"})
    w.close("root")
    expected = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<root xmlns="urn:x" a={quoteattr(value)}>\n'
        f" <Text>{escape(value)}</Text>\n"
        f" <Empty href={quoteattr(value)} flag=\"1\"/>\n"
        "</root>\n"
    )
    out = w.getvalue()
    assert out == expected.encode("utf-8")
    root = ET.fromstring(out)
    assert root.get("a") == value and root[1].get("href") == value
    assert root[0].text == value.replace("\r", "\n")  # XML 1.0 §2.11: a parser normalises line ends
