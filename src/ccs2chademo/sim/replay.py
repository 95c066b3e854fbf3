"""A charger that answers with the recorded responses of a real capture.

The EV side under test talks to :class:`ReplayCharger` as to a real charger; each request gets
the next recorded response *of the same message kind* (the recorded EV may have polled at a
different rate, so responses of other kinds in between are skipped), byte for byte as the real
charger sent it, after the latency measured in the capture.  When the recording has no more
responses of that kind the charger falls silent — or resets the connection, as a real Compleo
did — which is how the recorded session ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..pcap import EVSE_TO_EV, V2gRecord, iter_records
from ..runtime.events import CloseLink, DataReceived, Event, LinkDown, LinkUp, SendData
from ..runtime.machine import MachineBase
from ..v2g import codec, v2gtp
from ..v2g.messages import EvMessage, Kind, Schema

EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Recorded:
    kind: Kind
    payload: bytes  # the EXI document the real charger sent
    latency: float  # request → response in the capture (s)


@dataclass(frozen=True, slots=True)
class Recording:
    schema: Schema
    responses: tuple[Recorded, ...]
    requests: tuple[EvMessage, ...]  # what the recorded EV sent (for its precharge target etc.)


def load_recording(path: str | Path, connection: int = 0) -> Recording:
    """The charger responses and EV requests of one TCP connection of a capture."""
    records = [r for r in iter_records(path) if isinstance(r, V2gRecord) and r.connection == connection]
    schema = next((Schema(r.schema) for r in records if r.schema in ("din", "iso2")), Schema.DIN)
    responses: list[Recorded] = []
    requests: list[EvMessage] = []
    last_request = None
    for record in records:
        sap = record.schema == "apphand"
        if record.direction == EVSE_TO_EV:
            kind = codec.decode_response(record.payload, None if sap else schema).kind
            latency = record.time - last_request if last_request is not None else 0.0
            responses.append(Recorded(kind, record.payload, max(0.0, latency)))
        else:
            requests.append(codec.decode_request(record.payload, None if sap else schema))
            last_request = record.time
    return Recording(schema, tuple(responses), tuple(requests))


class ReplayCharger(MachineBase):
    """Serves a :class:`Recording` to one EV connection."""

    def __init__(self, recording: Recording, name: str = "replay", link: str = "tcp",
                 end: Literal["silence", "reset"] = "silence") -> None:
        super().__init__(name, "Listening")
        self.recording = recording
        self.link = link
        self.end = end
        self.received: list[EvMessage] = []
        self._stream = v2gtp.V2gtpStream()
        self._schema: Schema | None = None
        self._cursor = 0
        self._due: list[tuple[float, bytes | None]] = []  # None: reset the connection

    def get_timer(self) -> float | None:
        return min(t for t, _ in self._due) if self._due else None

    def handle_timer(self, now: float) -> None:
        now += EPSILON
        due = [d for d in self._due if d[0] <= now]
        self._due = [d for d in self._due if d[0] > now]
        for _, payload in due:
            if payload is None:
                self._emit(CloseLink(self.link, abort=True))
                self._enter("Ended")
            else:
                self._emit(SendData(self.link, v2gtp.encode(payload)))

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp):
            self._enter("Connected")
        elif isinstance(event, LinkDown):
            self._due = []
            self._enter("Ended")
        elif isinstance(event, DataReceived):
            for frame in self._stream.feed(event.data):
                request = codec.decode_request(frame.payload, self._schema)
                self.received.append(request)
                self._answer(request, now)

    def _answer(self, request: EvMessage, now: float) -> None:
        responses = self.recording.responses
        for index in range(self._cursor, len(responses)):
            if responses[index].kind is request.kind:
                self._cursor = index + 1
                self._due.append((now + responses[index].latency, responses[index].payload))
                if request.kind is Kind.SUPPORTED_APP_PROTOCOL:
                    self._schema = self.recording.schema
                return
        self._log("recording-exhausted", request=request.kind.value, end=self.end)
        if self.end == "reset":
            self._due.append((now, None))
