"""MMS over MM7 (3GPP TS 23.140, SOAP 1.1 over HTTP, multipart/related): the adapter and its pure codec.

``Mm7Client`` is the MMS channel; ``envelope``/``messages`` (SOAP documents), ``mime`` (multipart),
``smil``, ``mm`` (Mms ↔ parts), ``status`` and ``profiles`` are pure and shared with the MMSC
simulator, which speaks the same codec in the other role.
"""

from channels.mm7.client import Mm7Client
from channels.mm7.config import Mm7Config, config_from_url
from channels.mm7.envelope import Address, AddressKind, Mm7FormatError
from channels.mm7.messages import (
    Decoded,
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
from channels.mm7.profiles import (
    DEFAULT_PROFILE,
    PROFILES,
    REL_5_MM7_1_0,
    REL_6_MM7_1_0,
    REL_6_MM7_1_4,
    Mm7Profile,
    get_profile,
)
from channels.mm7.receiver import Mm7Receiver
from channels.mm7.status import error_for, mm_status_state

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "REL_5_MM7_1_0",
    "REL_6_MM7_1_0",
    "REL_6_MM7_1_4",
    "Address",
    "AddressKind",
    "Decoded",
    "DeliverReq",
    "DeliverRsp",
    "DeliveryReportReq",
    "DeliveryReportRsp",
    "Fault",
    "Mm7Client",
    "Mm7Config",
    "Mm7FormatError",
    "Mm7Profile",
    "Mm7Receiver",
    "MmContent",
    "Part",
    "Status",
    "SubmitReq",
    "SubmitRsp",
    "config_from_url",
    "decode",
    "encode",
    "encode_soap",
    "error_for",
    "get_profile",
    "mm_status_state",
    "split_soap",
]
