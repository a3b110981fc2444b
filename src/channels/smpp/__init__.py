"""SMS over SMPP 3.4: the sans-IO codec and session state machine, the asyncio client, and the text
encodings, concatenation and receipt parsing an SMS gateway needs (PROTOCOLS.md §1-3)."""

from channels.smpp.client import SmppClient
from channels.smpp.concat import ConcatMethod, Reassembler, RefAllocator, Segment, count_parts, split
from channels.smpp.config import SmppConfig
from channels.smpp.connection import BindMode, Role, SessionConfig, SmppConnection, State
from channels.smpp.constants import CommandId, DataCoding, EsmClass, MessageState, Tag
from channels.smpp.dlr import ParsedReceipt, format_receipt_text, parse_receipt_text, receipt_from_fields
from channels.smpp.encoding import EncodedText, decode_text, encode_text
from channels.smpp.pdu import Pdu, PduError, decode, encode, make

__all__ = [
    "BindMode",
    "CommandId",
    "ConcatMethod",
    "DataCoding",
    "EncodedText",
    "EsmClass",
    "MessageState",
    "ParsedReceipt",
    "Pdu",
    "PduError",
    "Reassembler",
    "RefAllocator",
    "Role",
    "Segment",
    "SessionConfig",
    "SmppClient",
    "SmppConfig",
    "SmppConnection",
    "State",
    "Tag",
    "count_parts",
    "decode",
    "decode_text",
    "encode",
    "encode_text",
    "format_receipt_text",
    "make",
    "parse_receipt_text",
    "receipt_from_fields",
    "split",
]
