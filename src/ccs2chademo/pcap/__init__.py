"""Extract V2G messages, SDP datagrams and HomePlug frames from pcap/pcapng captures.

``extract(path)`` / ``iter_records(path)`` run the whole pipeline; the pieces (reader, frame
classification, TCP reassembly, schema follower) are importable on their own.
"""

from .extract import Extraction, Record, extract, iter_records
from .follower import NAMESPACES, Negotiator, SessionFollower, schema_from_first_bytes
from .jsonl import raw_record_json, v2g_record_json
from .negotiate import negotiated_schema
from .reader import Frame, PcapError, PcapFormatError, PcapLinkTypeError, PcapTruncatedError, read_frames
from .records import EV_TO_EVSE, EVSE_TO_EV, RawRecord, V2gRecord

__all__ = [
    "EVSE_TO_EV",
    "EV_TO_EVSE",
    "NAMESPACES",
    "Extraction",
    "Frame",
    "Negotiator",
    "PcapError",
    "PcapFormatError",
    "PcapLinkTypeError",
    "PcapTruncatedError",
    "RawRecord",
    "Record",
    "SessionFollower",
    "V2gRecord",
    "extract",
    "iter_records",
    "negotiated_schema",
    "raw_record_json",
    "read_frames",
    "schema_from_first_bytes",
    "v2g_record_json",
]
