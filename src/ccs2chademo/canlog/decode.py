"""Decoding logged frames through ``chademo.dbc`` (the CHAdeMO codec), for the CLI and benches.

Every frame is kept: a CHAdeMO ID gets its message name and signals, an unknown (or extended) ID
gets ``name=None`` and no signals, and a known ID with the wrong DLC keeps its name, no signals and
an ``error`` (chademo.md §2: CHAdeMO frames are DLC 8, anything else is not decoded).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import can

from ..chademo.codec import ChademoCodec, FrameLengthError, Value, default_codec


@dataclass(slots=True)
class DecodedFrame:
    """One logged frame, decoded (a plain record: not frozen, which makes decoding ≈ 25 % faster)."""

    t: float
    """Seconds since the first frame of the log."""
    arbitration_id: int
    is_extended_id: bool
    data: bytes
    name: str | None = None
    signals: dict[str, Value] = field(default_factory=dict)
    error: str | None = None

    @property
    def id_text(self) -> str:
        return f"0x{self.arbitration_id:08x}" if self.is_extended_id else f"0x{self.arbitration_id:03x}"

    def to_json(self) -> dict[str, Any]:
        """``{"t", "id", "name", "signals"}`` (+ ``"error"`` when the frame could not be decoded)."""
        out: dict[str, Any] = {"t": self.t, "id": self.id_text, "name": self.name, "signals": self.signals}
        if self.error is not None:
            out["error"] = self.error
        return out


def decode_messages(messages: Iterable[can.Message], codec: ChademoCodec | None = None) -> Iterator[DecodedFrame]:
    """Each message decoded; times rebased to the first message (rounded to 1 µs)."""
    codec = codec or default_codec()
    t0: float | None = None
    for message in messages:
        if t0 is None:
            t0 = message.timestamp
        t = round(message.timestamp - t0, 6)
        data = bytes(message.data)
        frame_id = message.arbitration_id
        if message.is_extended_id or message.is_error_frame or message.is_remote_frame or not codec.knows(frame_id):
            yield DecodedFrame(t, frame_id, message.is_extended_id, data)
            continue
        layout = codec.layout(frame_id)
        try:
            signals = layout.decode(data)
        except FrameLengthError as exc:
            yield DecodedFrame(t, frame_id, False, data, layout.name, error=str(exc))
            continue
        yield DecodedFrame(t, frame_id, False, data, layout.name, signals)
