"""WAP push (PROTOCOLS.md §5): SI/SL documents as WBXML, the WSP push PDU and WDP over SMS, PAP 2.0 to a
push proxy gateway (:class:`PapClient`), and direct mode (:class:`WapSmppChannel`: SI/SL as binary SMS
over our SMPP client). The codecs are pure and serve both the adapters and the PPG/SMSC simulators."""

from channels.wap.client import PapClient, PapSettings
from channels.wap.direct import WapSmppChannel, WapSubmitTemplate
from channels.wap.pap import PapAddress, QualityOfService
from channels.wap.push import (
    DecodedPush,
    compile_push,
    decode_datagram,
    encode_datagram,
    handset_view,
    push_segments,
)

__all__ = [
    "DecodedPush",
    "PapAddress",
    "PapClient",
    "PapSettings",
    "QualityOfService",
    "WapSmppChannel",
    "WapSubmitTemplate",
    "compile_push",
    "decode_datagram",
    "encode_datagram",
    "handset_view",
    "push_segments",
]
