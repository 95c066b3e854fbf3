"""Links of the virtual world, with the fault knobs later tests need.

* :class:`ByteLink` — a reliable ordered byte stream between two ports (TCP): connect, data,
  FIN/RST.  Latency and jitter delay chunks but never reorder bytes; ``max_chunk`` splits writes
  so stream reassembly is exercised.
* :class:`FrameMedium` — a shared medium for datagrams (Ethernet/HomePlug, UDP): every frame goes
  to every other station, or only to the one with ``dest`` as address.  Per-delivery latency,
  jitter, loss and reordering.
* :class:`CanBus` — the same medium carrying :class:`CanFrame` values.

Ports here have the interface of the wall-clock ports (:mod:`.wallclock`), so a machine is wired
identically in both worlds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..rounding import round_int
from .core import LinkError, Port
from .events import (
    Address,
    CanFrame,
    CanReceived,
    DataReceived,
    Event,
    FrameReceived,
    LinkDown,
    LinkUp,
    SendCan,
    SendData,
    SendFailed,
    SendFrame,
)
from .virtual import VirtualRuntime


@dataclass
class Impairment:
    """Delivery knobs: ``latency`` + uniform ``jitter`` (s); ``loss`` and ``reorder`` probabilities.

    A reordered delivery is held back by ``reorder_delay`` so that later ones overtake it.
    """

    latency: float = 0.0
    jitter: float = 0.0
    loss: float = 0.0
    reorder: float = 0.0
    reorder_delay: float = 0.010

    def __post_init__(self) -> None:
        for name in ("latency", "jitter", "reorder_delay"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("loss", "reorder"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability in [0, 1]")


def _emit_to(arg: tuple[Port, Event]) -> None:
    """Deliver later, never from inside the sender's own action dispatch (no re-entrancy)."""
    arg[0].emit(arg[1])


# ----------------------------------------------------------------------------- byte streams


class StreamPort(Port):
    """One end of a :class:`ByteLink`."""

    def __init__(self, link: ByteLink, side: int) -> None:
        super().__init__()
        self._link = link
        self._side = side

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        if not isinstance(action, SendData):
            raise LinkError(f"{self.link!r} is a byte stream: send SendData")
        self._link.send(self._side, action.data)

    def open(self, target: Address) -> None:
        self._link.connect(self._side)

    def close(self, abort: bool) -> None:
        self._link.disconnect(self._side, "reset" if abort else "closed")


class ByteLink:
    """A TCP-like pipe; side 0 connects (the client), side 1 accepts when ``listening``."""

    def __init__(
        self,
        sim: VirtualRuntime,
        name: str,
        impairment: Impairment | None = None,
        max_chunk: int | None = None,
    ) -> None:
        if impairment is not None and (impairment.loss or impairment.reorder):
            raise ValueError("a byte stream is reliable and ordered: no loss or reorder")
        self.sim = sim
        self.name = name
        self.impairment = impairment or Impairment()
        self.max_chunk = max_chunk
        self.listening = True
        self.connected = False
        self._rng = sim.rng_for(name)
        self._last_arrival_ns = [0, 0]
        self.ports = (StreamPort(self, 0), StreamPort(self, 1))
        self._epoch = 0  # bumps on every disconnect so in-flight data of a dead connection drops

    @property
    def client(self) -> StreamPort:
        return self.ports[0]

    @property
    def server(self) -> StreamPort:
        return self.ports[1]

    def _arrival_ns(self, to_side: int) -> int:
        imp = self.impairment
        delay = imp.latency + (self._rng.uniform(0.0, imp.jitter) if imp.jitter else 0.0)
        t = max(self.sim.now_ns + round_int(delay * 1e9), self._last_arrival_ns[to_side])
        self._last_arrival_ns[to_side] = t
        return t

    def _post(self, to_side: int, event: Event) -> None:
        epoch = self._epoch
        port = self.ports[to_side]

        def arrive(_: object) -> None:
            if epoch == self._epoch or isinstance(event, LinkDown):
                port.emit(event)

        self.sim.call_at_ns(self._arrival_ns(to_side), arrive)

    def connect(self, side: int) -> None:
        if side != 0:
            raise LinkError(f"{self.name}: only the client side connects")
        if self.connected:
            return
        if not self.listening:
            self._post(0, LinkDown(self.ports[0].link, "refused"))
            return
        self.connected = True
        self._post(1, LinkUp(self.ports[1].link, peer=self.name))
        self._post(0, LinkUp(self.ports[0].link, peer=self.name))

    def send(self, side: int, data: bytes) -> None:
        port = self.ports[side]
        if not self.connected:
            self.sim.call_at_ns(self.sim.now_ns, _emit_to, (port, SendFailed(port.link, "not connected")))
            return
        peer = 1 - side
        step = self.max_chunk or len(data) or 1
        for i in range(0, len(data), step):
            self._post(peer, DataReceived(self.ports[peer].link, data[i : i + step]))

    def disconnect(self, side: int, reason: str) -> None:
        if not self.connected:
            return
        self.connected = False
        self._post(1 - side, LinkDown(self.ports[1 - side].link, reason))
        self._epoch += 1

    def break_link(self, reason: str = "reset") -> None:
        """Fault injection: the connection dies under both ends."""
        if not self.connected:
            return
        self.connected = False
        self._epoch += 1
        for side in (0, 1):
            self._post(side, LinkDown(self.ports[side].link, reason))


# ---------------------------------------------------------------------------- shared media


class StationPort(Port):
    """A station on a :class:`FrameMedium` or :class:`CanBus`."""

    def __init__(self, medium: FrameMedium, address: Address) -> None:
        super().__init__()
        self.medium = medium
        self.address = address
        #: A deaf station neither sends nor hears (a rebooting modem, a CAN node that is off).
        self.enabled = True

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        self.medium.transmit(self, action)


class FrameMedium:
    """Broadcast datagram medium; ``SendFrame.dest`` (an address) makes a delivery unicast."""

    def __init__(self, sim: VirtualRuntime, name: str, impairment: Impairment | None = None) -> None:
        self.sim = sim
        self.name = name
        self.impairment = impairment or Impairment()
        self.stations: list[StationPort] = []
        self._rng = sim.rng_for(name)
        self.sent = 0
        self.delivered = 0
        self.lost = 0

    def port(self, address: Address = None) -> StationPort:
        station = StationPort(self, address if address is not None else f"{self.name}#{len(self.stations)}")
        self.stations.append(station)
        return station

    def _event(self, station: StationPort, action: SendData | SendFrame | SendCan, source: Address) -> Event:
        if not isinstance(action, SendFrame):
            raise LinkError(f"{self.name} carries frames: send SendFrame")
        return FrameReceived(station.link, action.frame, source)

    def _delay(self) -> float | None:
        imp = self.impairment
        rng = self._rng
        if imp.loss and rng.random() < imp.loss:
            return None
        delay = imp.latency
        if imp.jitter:
            delay += rng.uniform(0.0, imp.jitter)
        if imp.reorder and rng.random() < imp.reorder:
            delay += imp.reorder_delay
        return delay

    def transmit(self, sender: StationPort, action: SendData | SendFrame | SendCan) -> None:
        sim = self.sim
        if not sender.enabled:
            sim.call_at_ns(sim.now_ns, _emit_to, (sender, SendFailed(sender.link, "station disabled")))
            return
        self.sent += 1
        dest = action.dest if isinstance(action, SendFrame) else None
        imp = self.impairment
        receivers = [s for s in self.stations if s is not sender and (dest is None or s.address == dest)]
        if not (imp.loss or imp.jitter or imp.reorder):
            # fixed latency: one delay for every receiver, no RNG draws, and one queue entry for
            # them all — their entries would have been consecutive (same time, consecutive
            # sequence numbers), so nothing else could run between them; the order is unchanged
            arrivals = [(station, self._event(station, action, sender.address)) for station in receivers]
            if arrivals:
                sim.call_at_ns(sim.now_ns + round_int(imp.latency * 1e9), self._arrive_all, arrivals)
            return
        for station in receivers:
            delay = self._delay()
            if delay is None:
                self.lost += 1
                continue
            sim.call_later(delay, self._arrive, (station, self._event(station, action, sender.address)))

    def _arrive(self, arg: tuple[StationPort, Event]) -> None:
        station, event = arg
        if station.enabled:
            self.delivered += 1
            station.emit(event)
        else:
            self.lost += 1

    def _arrive_all(self, arrivals: list[tuple[StationPort, Event]]) -> None:
        for arrival in arrivals:
            self._arrive(arrival)


class CanBus(FrameMedium):
    """A CAN bus: every node hears every other node's frames."""

    def _event(self, station: StationPort, action: SendData | SendFrame | SendCan, source: Address) -> Event:
        if not isinstance(action, SendCan):
            raise LinkError(f"{self.name} is a CAN bus: send SendCan")
        frame: CanFrame = action.frame
        return CanReceived(station.link, frame)
