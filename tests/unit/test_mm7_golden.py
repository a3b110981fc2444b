"""Golden SOAP files for every MM7 request and response in every profile (TS 23.140 §8.7).

Each document below is written by our codec and compared byte for byte with
``tests/fixtures/mm7/<release>/<Name>.xml`` (checked by hand against PROTOCOLS.md §4.2-4.3), then
read back from the file and compared with the value. The multipart SubmitReq/DeliverReq bodies are
golden too (``*.http``: Content-Type line, blank line, body), with fixed boundaries. Regenerate after a
deliberate format change with ``python -m tests.unit.test_mm7_golden`` and review the diff.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.mm7.envelope import Address, AddressKind
from channels.mm7.messages import (
    AnyDocument,
    DeliverReq,
    DeliverRsp,
    DeliveryReportReq,
    DeliveryReportRsp,
    Fault,
    Status,
    SubmitReq,
    SubmitRsp,
    decode,
    encode,
)
from channels.mm7.mime import MmContent, Part, encode_soap, split_soap
from channels.mm7.profiles import PROFILES, Mm7Profile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mm7"
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
T2 = datetime(2026, 1, 7, 10, 0, tzinfo=UTC)
SHORT = Address("54321", AddressKind.SHORT_CODE)
SUBSCRIBER = Address("8613800138000")
SMIL = (b'<smil><head><layout><root-layout width="160" height="120"/>'
        b'<region id="Text" top="0" left="0" width="100%" height="100%"/></layout></head>'
        b'<body><par dur="5s"><text src="cid:text1" region="Text"/></par></body></smil>')


def documents(profile: Mm7Profile) -> dict[str, AnyDocument]:
    href = "cid:mm" if profile.content_href else None
    return {
        "SubmitReq": SubmitReq(
            vaspid="vasp01", vasid="svc9", sender=SHORT, to=(SUBSCRIBER,), cc=(Address("a@example.com",
            AddressKind.EMAIL),), service_code="promo-01", message_class="Informational", timestamp=T0,
            expiry=T2, delivery_report=True, read_reply=False, priority="Normal",
            subject="春节快乐 Spring & <sale>", content_href=href, allow_adaptations=True if href else None,
        ),
        "SubmitRsp": SubmitRsp(status=Status.of(1000), message_id="MM0000000001"),
        "RSErrorRsp": Fault.for_status(Status.of(2007, "SMIL: reference 'cid:img1' does not resolve")),
        "RSErrorRsp-server": Fault.for_status(Status.of(3001)),
        "DeliveryReportReq": DeliveryReportReq(
            message_id="MM0000000001", recipient=SUBSCRIBER, sender=SHORT, date=T0, mm_status="Retrieved",
            status_text="Retrieved", relay_server_id="mmsc-sim",
        ),
        "DeliveryReportRsp": DeliveryReportRsp(status=Status.of(1000)),
        "DeliverReq": DeliverReq(
            sender=SUBSCRIBER, to=(SHORT,), linked_id="L0001", timestamp=T0, priority="Normal",
            subject="回复 88", vaspid="vasp01", vasid="svc9", relay_server_id="mmsc-sim", content_href=href,
        ),
        "DeliverRsp": DeliverRsp(status=Status.of(1000), service_code="promo-01"),
        "VASPErrorRsp": Fault.for_status(Status.of(4003, "Body: CancelReq"), "VASPErrorRsp"),
    }


def content() -> MmContent:
    text = Part("text/plain; charset=utf-8", "新年好，恭喜发财！\r\n".encode(), "text1", "text1.txt")
    smil = Part("application/smil", SMIL, "smil", "smil.smil")
    image = Part("image/gif", b"GIF89a\x01\x00\x01\x00\x00\xff\x00,", "img1", "img1.gif")
    return MmContent(parts=(smil, text, image), start="smil")


def multipart(profile: Mm7Profile, name: str) -> bytes:
    doc = documents(profile)[name]
    boundaries = (f"b{n}" for n in itertools.count())
    ctype, body = encode_soap(encode(doc, profile, "tc-000042"), content(), brackets=profile.cid_brackets,
                              boundary=lambda: next(boundaries))
    return b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body


CASES = [(p, n) for p in PROFILES.values() for n in documents(p)]


@pytest.mark.parametrize(("profile", "name"), CASES, ids=[f"{p.release}-{n}" for p, n in CASES])
def test_document_matches_golden_file(profile: Mm7Profile, name: str) -> None:
    golden = (FIXTURES / profile.release / f"{name}.xml").read_bytes()
    doc = documents(profile)[name]
    assert encode(doc, profile, "tc-000042") == golden
    decoded = decode(golden)
    assert decoded.doc == doc
    assert decoded.transaction_id == "tc-000042"
    assert decoded.namespace == profile.namespace
    assert decoded.version == profile.version


MULTIPART = [(p, n) for p in PROFILES.values() for n in ("SubmitReq", "DeliverReq")]


@pytest.mark.parametrize(("profile", "name"), MULTIPART, ids=[f"{p.release}-{n}" for p, n in MULTIPART])
def test_multipart_body_matches_golden_file(profile: Mm7Profile, name: str) -> None:
    golden = (FIXTURES / profile.release / f"{name}.http").read_bytes()
    assert multipart(profile, name) == golden
    head, body = golden.split(b"\r\n\r\n", 1)
    soap = split_soap(head.decode().removeprefix("Content-Type: "), body)
    doc = decode(soap.envelope).doc
    assert doc == documents(profile)[name]
    assert isinstance(doc, SubmitReq | DeliverReq)
    assert soap.content(doc.content_href) == content()


def test_cmcc_golden_has_its_house_rules() -> None:
    xml = (FIXTURES / "REL-6-MM7-1-0" / "SubmitReq.xml").read_text()
    assert "<SenderAddress>54321</SenderAddress>" in xml
    assert "<Content" not in xml
    assert "2026-01-05T18:00:00+08:00" in xml
    http = (FIXTURES / "REL-6-MM7-1-0" / "SubmitReq.http").read_bytes()
    assert b"Content-ID: smil\r\n" in http and b"Content-ID: <" not in http


def regenerate() -> None:
    for profile in PROFILES.values():
        folder = FIXTURES / profile.release
        folder.mkdir(parents=True, exist_ok=True)
        for name, doc in documents(profile).items():
            (folder / f"{name}.xml").write_bytes(encode(doc, profile, "tc-000042"))
        for name in ("SubmitReq", "DeliverReq"):
            (folder / f"{name}.http").write_bytes(multipart(profile, name))


if __name__ == "__main__":
    regenerate()
