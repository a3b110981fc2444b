"""Text, encodings and long messages over real sockets: what the SMSC simulator reassembles is exactly
the text sent, with exact part sizes (PROTOCOLS.md §2). Covers the §10 pitfalls of septet miscounts,
escape and surrogate pairs cut at a part boundary, UCS-2 sizes and byte order, and GSM labelled with
the wrong data_coding."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest

from channels import ChannelKind, Dispatcher, Message, Sent, Text
from channels.content import TextEncoding
from channels.smpp.client import SmppClient
from channels.smpp.encoding import GSM_BASIC, GSM_EXTENSION
from simulators.smsc import SmscScenario, SmscSimulator

# (text, URL query, parts' octets as the SMSC received them, data_coding)
CASES = [
    pytest.param("a" * 160, "", [160], 0, id="gsm-160-one-part"),
    pytest.param("a" * 161, "", [6 + 153, 6 + 8], 0, id="gsm-161-153-per-part"),
    pytest.param("€" * 80, "", [160], 0, id="gsm-escapes-count-two"),
    pytest.param("€" * 81, "", [6 + 152, 6 + 10], 0, id="gsm-escape-pair-kept-whole"),
    pytest.param("a" * 152 + "€" + "b" * 20, "", [6 + 152, 6 + 22], 0, id="gsm-escape-at-boundary"),
    pytest.param("a" * 161, "?concat=udh16", [7 + 152, 7 + 9], 0, id="gsm-16-bit-ref"),
    pytest.param("a" * 161, "?concat=sar", [153, 8], 0, id="gsm-sar"),
    pytest.param("中" * 70, "", [140], 8, id="ucs2-70-one-part"),
    pytest.param("中" * 71, "", [6 + 134, 6 + 8], 8, id="ucs2-71-67-per-part"),
    pytest.param("中" * 66 + "😀" + "文" * 10, "", [6 + 132, 6 + 24], 8, id="ucs2-surrogate-at-boundary"),
    pytest.param("😀" * 35, "", [140], 8, id="ucs2-emoji-count-two-units"),
    pytest.param("中" * 71, "?concat=udh16", [7 + 132, 7 + 10], 8, id="ucs2-16-bit-ref"),
    pytest.param("中" * 71, "?concat=sar", [134, 8], 8, id="ucs2-sar"),
    pytest.param("中" * 200, "?concat=payload", [400], 8, id="ucs2-payload"),
]


async def send_texts(
    texts: Sequence[tuple[str, TextEncoding | None]], query: str = ""
) -> tuple[list[Sent], list[dict[str, Any]]]:
    messages = [
        Message(to=f"86139{i:08d}", kind=ChannelKind.SMS, content=Text(body=t, encoding=e))
        for i, (t, e) in enumerate(texts)
    ]
    async with (
        SmscSimulator(scenario=SmscScenario(receipts=False)) as smsc,
        Dispatcher([SmppClient.from_url(smsc.url + query)]) as dispatcher,
    ):
        outcomes = await dispatcher.send_all(messages, concurrency=16)
    sent = [o for o in outcomes if isinstance(o, Sent)]
    assert len(sent) == len(messages)
    by_to = {r["destination"]: r for r in smsc.recorder.records}
    return sent, [by_to[o.message.to] for o in sent]


@pytest.mark.parametrize(("text", "query", "octets", "dcs"), CASES)
async def test_long_text_arrives_exactly_with_exact_part_sizes(
    text: str, query: str, octets: list[int], dcs: int
) -> None:
    (sent,), (record,) = await send_texts([(text, None)], query)
    assert record["text"] == text
    assert record["part_octets"] == octets and record["parts"] == len(octets) == sent.result.parts
    assert record["data_coding"] == dcs  # GSM goes as dcs 0, never mislabelled 1 (node-smpp)


async def test_encoding_overrides() -> None:
    texts = [("café " * 32, TextEncoding.LATIN1), ("Hello", TextEncoding.UCS2), ("abc{}", TextEncoding.ASCII)]
    _, (latin, ucs2, ascii_) = await send_texts(texts)
    assert (latin["text"], latin["data_coding"], latin["part_octets"]) == ("café " * 32, 3, [6 + 134, 6 + 26])
    assert (ucs2["text"], ucs2["data_coding"], ucs2["part_octets"]) == ("Hello", 8, [10])
    assert (ascii_["text"], ascii_["data_coding"]) == ("abc{}", 1)


def random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    gsm = [c for c in GSM_BASIC if c not in "\x1b"] + list(GSM_EXTENSION)
    pools = [gsm, [*gsm, "中", "文", "é", "ç"], [*gsm, "😀", "👍🏽", "退订"], ["€", "^", "{", "a"]]
    return ["".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 420))) for _ in range(count)]


def text_room(record: dict[str, Any], query: str) -> tuple[int, int]:
    """(UDH octets in each part's body, room for text) for a record's parts."""
    ucs2 = record["data_coding"] == 8
    if record["parts"] == 1:
        return 0, 140 if ucs2 else 160
    if "sar" in query:  # no UDH in the body; the SMSC adds a 6-octet one
        return 0, 134 if ucs2 else 153
    udh = 7 if "udh16" in query else 6
    return udh, (140 - udh) // 2 * 2 if ucs2 else (140 - udh) * 8 // 7


async def test_random_texts_survive_the_trip_and_every_part_fits() -> None:
    texts = random_texts(60, seed=2026)
    for query in ("", "?concat=udh16", "?concat=sar"):
        _, records = await send_texts([(t, None) for t in texts], query)
        assert [r["text"] for r in records] == texts
        for record in records:
            udh, room = text_room(record, query)
            assert all(octets - udh <= room for octets in record["part_octets"]), record["part_octets"]
