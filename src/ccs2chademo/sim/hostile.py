"""Hostile chargers: what a broken or malicious CCS charger can send to the adapter (issue 15).

Each personality here is an ordinary charger (the ABB's numbers) that misbehaves **once**, on
the first request of one kind (the busiest, CurrentDemand, unless the behaviour belongs to an
earlier message), and logs a ``hostile`` record when it does.  The misbehaviour rewrites the
SECC's reply (:attr:`ccs2chademo.sim.charger.Personality.hostile`, a reply hook), so the same
personality runs in the simulated world (``simulate --charger hostile-drip``), in ``ccs-sim`` and
on a veth pair (``charger-sim --personality hostile-v2gtp-4gb``).

What the adapter must do with every one of them: end with its outputs safe (contactor open,
no invariant violated), a log record that names the cause, in bounded time and memory
(tests/sim/test_hostile.py; docs/reliability.md).

They are kept out of :data:`~ccs2chademo.sim.charger.PERSONALITIES` — the table of chargers
that complete a session, which the car × charger matrices iterate — and registered with them in
:data:`CHARGERS`, the table every harness looks a charger up in.

Behaviours of the other layers are scenario wiring, not personalities: a RST at every state is
the ``tcp-reset@STATE`` fault (``faults.py``) plus :data:`HOSTILE` ``hostile-rst-handshake``;
SDP answers and SLAC neighbours are built by :func:`rogue_sdp` and :func:`neighbour_charger`, a
server on the port a rogue answer names by :func:`tarpit`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..runtime.events import Event
from ..runtime.links import Impairment
from ..runtime.machine import MachineBase
from ..runtime.virtual import VirtualRuntime
from ..v2g import codec, v2gtp
from ..v2g.discovery import SdpServer
from ..v2g.messages import EvMessage, Kind, Schema
from ..v2g.sdp import SdpResponse, Security, Transport
from ..v2g.secc import Reply, ReplyHook, Secc
from .charger import PERSONALITIES, Personality
from .plc import PlcHost, PlcSite, TcpRouter
from .scenario import SDP_PORT, Charger, add_charger

#: A behaviour: the reply as the hostile charger sends it instead of ``reply``.
Rewrite = Callable[[Secc, Reply], Reply]

#: Drip rate of ``hostile-drip``: one byte per second (issue 15).
DRIP_INTERVAL_S = 1.0
#: The V2GTP length field ``hostile-v2gtp-4gb`` announces: the largest the 4-byte field holds.
LENGTH_4GB = 0xFFFF_FFFF
#: ``hostile-oversized-exi``: this many payload bytes, sent in chunks as a TCP stack would.
OVERSIZED = 1024 * 1024
_CHUNK = 64 * 1024


def _payload(secc: Secc, reply: Reply, schema: Schema | None = None) -> bytes:
    """The EXI bytes the charger would have sent (in ``schema``, default: the negotiated one)."""
    assert reply.message is not None
    return codec.encode_response(reply.message, schema or secc.schema)


def _malformed(secc: Secc, reply: Reply) -> Reply:
    """A correctly framed message whose EXI stream ends half-way (a corrupt encoder)."""
    payload = _payload(secc, reply)
    return replace(reply, raw=((0.0, v2gtp.encode(payload[: len(payload) // 2])),))


def _oversized(secc: Secc, reply: Reply) -> Reply:
    """A 1 MiB message (sixteen times our 64 KiB bound) of a real message padded with zeros."""
    body = _payload(secc, reply).ljust(OVERSIZED, b"\0")
    data = v2gtp.HEADER.pack(v2gtp.VERSION, v2gtp.VERSION ^ 0xFF, v2gtp.PayloadType.EXI, len(body)) + body
    return replace(reply, raw=tuple((0.0, data[i : i + _CHUNK]) for i in range(0, len(data), _CHUNK)))


def _length_4gb(secc: Secc, reply: Reply) -> Reply:
    """A header announcing 4 GB, followed by the real message: a reader that trusts the field
    waits (or allocates) forever."""
    header = v2gtp.HEADER.pack(v2gtp.VERSION, v2gtp.VERSION ^ 0xFF, v2gtp.PayloadType.EXI, LENGTH_4GB)
    return replace(reply, raw=((0.0, header + _payload(secc, reply)),))


def _drip(secc: Secc, reply: Reply) -> Reply:
    """The real reply, one byte per second."""
    data = v2gtp.encode(_payload(secc, reply))
    return replace(reply, raw=tuple((i * DRIP_INTERVAL_S, data[i : i + 1]) for i in range(len(data))))


def _wrong_schema(secc: Secc, reply: Reply) -> Reply:
    """The reply encoded in the schema that was *not* negotiated."""
    other = Schema.ISO2 if secc.schema is Schema.DIN else Schema.DIN
    return replace(reply, raw=((0.0, v2gtp.encode(_payload(secc, reply, other))),))


def _wrong_state(secc: Secc, reply: Reply) -> Reply:
    """A well-formed answer to another request: a PreChargeRes where a CurrentDemandRes is due."""
    assert reply.message is not None
    return replace(reply, message=replace(reply.message, kind=Kind.PRE_CHARGE))


def _session_id(value: bytes) -> Rewrite:
    def rewrite(secc: Secc, reply: Reply) -> Reply:
        assert reply.message is not None
        return replace(reply, message=replace(reply.message, session_id=value))

    return rewrite


def _reset(secc: Secc, reply: Reply) -> Reply:
    return Reply(None, reply.delay, reset=True)


@dataclass(frozen=True)
class Behaviour:
    name: str
    description: str
    rewrite: Rewrite
    kind: Kind = Kind.CURRENT_DEMAND
    #: from the first request of ``kind`` on, every reply (else: only that one)
    lasting: bool = False

    def hook(self, secc: Secc, inner: ReplyHook | None) -> ReplyHook:
        """The SECC's reply hook: ``inner`` first (faults, observers), then this behaviour."""
        state = {"fired": False}

        def hook(request: EvMessage, reply: Reply) -> Reply:
            if inner is not None:
                reply = inner(request, reply)
            if reply.message is None:
                return reply
            if state["fired"] and not self.lasting:
                return reply
            if not state["fired"] and request.kind is not self.kind:
                return reply
            if not state["fired"]:
                secc._log("hostile", behaviour=self.name, msg=request.kind)
                state["fired"] = True
            return self.rewrite(secc, reply)

        return hook


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour("malformed-exi", "a CurrentDemandRes whose EXI stream is cut in half", _malformed),
    Behaviour("oversized-exi", "a 1 MiB CurrentDemandRes (the bound is 64 KiB)", _oversized),
    Behaviour("v2gtp-4gb", "a CurrentDemandRes whose V2GTP length field says 4 GB", _length_4gb),
    Behaviour("drip", "the CurrentDemandRes dripped one byte per second", _drip),
    Behaviour("wrong-schema", "the CurrentDemandRes encoded in the schema not negotiated", _wrong_schema),
    Behaviour("wrong-state", "a PreChargeRes in answer to CurrentDemandReq", _wrong_state),
    Behaviour("session-id-short", "a 1-byte SessionID (legal: the session completes)", _session_id(b"\x2a"),
              Kind.SESSION_SETUP, lasting=True),
    Behaviour("session-id-empty", "an empty SessionID in SessionSetupRes", _session_id(b""), Kind.SESSION_SETUP),
    Behaviour("session-id-long", "a 9-byte SessionID in SessionSetupRes (DIN/ISO allow 8)", _session_id(bytes(9)),
              Kind.SESSION_SETUP),
    Behaviour("session-id-changes", "another SessionID from ChargeParameterDiscovery on",
              _session_id(bytes.fromhex("0badc0de0badc0de")), Kind.CHARGE_PARAMETER_DISCOVERY, lasting=True),
    Behaviour("rst-handshake", "a TCP RST in answer to SupportedAppProtocolReq", _reset, Kind.SUPPORTED_APP_PROTOCOL),
)


def _personality(behaviour: Behaviour) -> Personality:
    base = PERSONALITIES["abb"]
    secc = base.secc
    if behaviour.name == "session-id-short":  # the legal one: configured, so the SECC also accepts it
        secc = replace(secc, session_id=b"\x2a")
    return replace(base, name=f"hostile-{behaviour.name}", description=f"hostile: {behaviour.description}",
                   secc=secc, hostile=behaviour.hook)


#: The hostile personalities by name (``hostile-NAME``).
HOSTILE: dict[str, Personality] = {p.name: p for p in map(_personality, BEHAVIOURS)}
#: Every charger a harness can be asked for by name: the real ones and the hostile ones.
CHARGERS: dict[str, Personality] = {**PERSONALITIES, **HOSTILE}


# ------------------------------------------------------------------------------ SDP and SLAC


def rogue_sdp(sim: VirtualRuntime, host: PlcHost, address: ipaddress.IPv6Address, port: int,
              name: str = "rogue.sdp") -> SdpServer:
    """A second SDP responder on ``host`` (a device on the charger's network), announcing
    ``address``/``port`` — not link-local, another port, a host that is not there …; it answers
    every request, as the real one does."""
    server = SdpServer(address, port, name=name)
    server.response = SdpResponse(address, port, Security.NONE, Transport.TCP).encode()
    sim.add(server, ports={"sdp": host.nic.udp_port(SDP_PORT, hop_limit=64)})
    return server


def neighbour_charger(sim: VirtualRuntime, site: PlcSite, attenuation: dict[str, float], n: int = 8) -> Charger:
    """The charger next door: its own SLAC responder and SDP server on the same power line (no
    SECC behind it), heard by the car with ``attenuation`` (dB, per host name)."""
    return add_charger(sim, site, f"neighbour{n}", n, tcp_port=15118, attenuation=attenuation)


class Tarpit(MachineBase):
    """A TCP server that accepts every connection and never sends a byte: what waits behind a
    port that a rogue SDP answer names, when something does listen there."""

    def receive(self, event: Event, now: float) -> None:
        pass

    def handle_timer(self, now: float) -> None:
        pass

    def get_timer(self) -> float | None:
        return None


def tarpit(sim: VirtualRuntime, site: PlcSite, router: TcpRouter, client: str, host: PlcHost, tcp_port: int) -> Tarpit:
    """A :class:`Tarpit` listening on ``host`` at ``tcp_port``, reachable from the host ``client``
    through its TCP socket ``router`` (the world's ``router``)."""
    link = site.tcp(client, host.name, Impairment(latency=0.004))
    machine = Tarpit(f"{host.name}.tarpit{tcp_port}")
    sim.add(machine, ports={"tcp": link.server})
    router.add_route(str(host.nic.ip), tcp_port, link.client)
    return machine
