"""``ccs2chademo run``: the bridge machine on the wall clock with the Linux drivers.

What it puts together (docs/run.md, docs/hardware.md): GPIO from ``[hardware.gpio]`` driven safe
*before* anything else (:class:`~ccs2chademo.drivers.safety.SafeOutputs`), the PLC interface
(AF_PACKET for SLAC, IPv6 link-local UDP for SDP, IPv6 TCP with the interface's scope id), the
CHAdeMO CAN bus through python-can, the aux-battery ADC, the systemd notify/watchdog, the rotated
session log and the optional pcapng and CAN logs.  A ``sim`` CAN interface runs a stand-in car
in this process on a private python-can ``virtual`` channel: the caller hands it in as a
:data:`CarRigFactory` (``commands/run.py`` builds the simulation's
:class:`~ccs2chademo.sim.car_rig.SimCarRig`; the product never imports ``sim``); a ``sim`` GPIO
backend gives :class:`~ccs2chademo.drivers.sim.gpio.SimGpio`.

The run ends when the bridge releases ``power_hold`` (the original adapter switches itself off
there), on SIGTERM/SIGINT (status 0) or on an unhandled error (status 1); every way out runs the
same safe sequence, power hold last.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import can

from ..drivers.can import CanBusConfig, CanPort
from ..drivers.gpio import Gpio, open_gpio
from ..drivers.linux import iface as netif
from ..drivers.linux.adc import open_adc
from ..drivers.linux.multicast import MulticastUdpPort
from ..drivers.linux.net import TcpClientPort
from ..drivers.linux.raweth import RawEthernetPort
from ..drivers.linux.watchdog import SystemdNotifier, Watchdog
from ..drivers.logfiles import session_log_from_config
from ..drivers.offload import WriterThread, offloaded
from ..drivers.pcapng import RotatingPcapngWriter, Tap
from ..drivers.safety import SafeOutputs, run_guarded
from ..runtime import AsyncRuntime, Event, InputChanged
from ..runtime.core import Port
from ..runtime.events import Action, Address, SendCan
from ..runtime.machine import MachineBase
from ..runtime.sessionlog import LOGGER_NAME
from ..v2g import ipv6
from .bridge import Bridge
from .ccs_side import tls_policy
from .clara_side import SAVE_OUTPUT, ClaraSave
from .config import AdapterConfig, ConfigError
from .config_file import persist_clara

logger = logging.getLogger(__name__)

#: Bridge output → GPIO roles (the bridge speaks adapter.md §13 signals, the board wires roles).
_LED_ROLES = ("led_external", "led_internal")
#: GPIO input role (or the PWM's duty input) → bridge input name.
_INPUTS = {"k": "k", "stop_button": "button", "lock_feedback": "lock_feedback", "cp_duty": "cp_duty"}
#: The bridge's contactor output drives both contactor roles (clara mode: the inlet contactors on
#: ``contactor`` and/or ``inlet_contactor``; a role the board does not wire is dropped).
_CONTACTOR_ROLES = ("contactor", "inlet_contactor")
_SDP_CLIENT_PORT = 50001  # only a label in the pcapng (the kernel picks the real one)


@dataclass(frozen=True, slots=True)
class _Interface:
    """The PLC interface as the drivers and the bridge need it."""

    name: str
    index: int
    mac: bytes
    link_local: ipaddress.IPv6Address


class RunError(RuntimeError):
    """The configuration cannot be run as asked (a combination the drivers do not support)."""


class CarRig(Protocol):
    """What stands in for the car behind the CAN bus and the GPIO lines on a desk
    (``[hardware.can] interface = "sim"``): it sees every output of the bridge."""

    def apply(self, name: str, value: Any, now: float) -> None: ...


#: Builds the rig once the runtime, the bridge, the GPIO and the car's end of the private CAN
#: channel exist, adds its machines to the runtime and returns it.
CarRigFactory = Callable[[AsyncRuntime, Bridge, Gpio, Port], CarRig]


class Service(Protocol):
    """Something that runs beside the bridge in the same loop and only watches it (the status
    page, ``web/run_service.py``): started once the bridge runs, stopped before the drivers close.
    A service that fails to start is logged and left out; the charge goes on without it."""

    async def start(self, run: AdapterRun) -> None: ...

    async def stop(self) -> None: ...


#: Sees every output of the bridge after the board applied it: (name, value, session time).
OutputListener = Callable[[str, Any, float], None]
#: A short press of the stop button (the ``stop-button`` fault of the simulation presses as long).
SHORT_PRESS_S = 0.3


@dataclass
class RunOptions:
    """Desk options (``sim`` car only) and test hooks; the config file says everything else."""

    car_rig: CarRigFactory | None = None  # sim car: builds it (required when the config asks for one)
    gpio_trace: Path | None = None  # sim GPIO: every output change appended to this file at once
    seed: int | None = None
    services: list[Service] = field(default_factory=list)
    on_output: OutputListener | None = None
    #: the configuration file: clara mode writes an SDO save's [clara] table into it (None: not kept)
    config_path: Path | None = None


@dataclass
class _Trail:
    """What the summary needs, gathered after every step of the bridge."""

    ccs_states: list[str] = field(default_factory=list)
    chademo_states: list[str] = field(default_factory=list)
    soc_start: float | None = None
    soc_end: float | None = None
    energy_wh: float = 0.0
    last_t: float | None = None


class CycleStats:
    """How regular the CHAdeMO 100 ms cycle is on the wall clock: the intervals between the 0x109
    frames the bridge hands to the CAN driver during CurrentDemand (session time, i.e. the loop's
    monotonic clock), as a fixed-size histogram of |interval − 100 ms| in 0.1 ms bins, so a run of
    days costs no memory.  Logged as a ``can-cycle`` record at the end of the run (bench/run.py)."""

    BIN_MS = 0.1
    BINS = 500  # 0 … 50 ms; larger deviations land in the last bin

    def __init__(self) -> None:
        self.counts = [0] * (self.BINS + 1)
        self.n = 0
        self.worst_ms = 0.0
        self._last: float | None = None

    def frame(self, now: float, counting: bool) -> None:
        if counting and self._last is not None:
            deviation = abs(now - self._last - 0.1) * 1000.0
            self.counts[min(self.BINS, int(deviation / self.BIN_MS))] += 1
            self.n += 1
            self.worst_ms = max(self.worst_ms, deviation)
        self._last = now if counting else None

    def percentile(self, p: float) -> float | None:
        """Upper edge (ms) of the bin holding the p-th percentile; None without data."""
        if not self.n:
            return None
        rank, seen = p / 100.0 * self.n, 0
        for i, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return round((i + 1) * self.BIN_MS, 1)
        return round(self.worst_ms, 1)

    def fields(self) -> dict[str, Any]:
        return {"frames": self.n, "p50_ms": self.percentile(50), "p99_ms": self.percentile(99),
                "max_ms": round(self.worst_ms, 2)}


class _Tracked(MachineBase):
    """The bridge, unchanged, with :class:`_Trail` updated after each event and timer."""

    def __init__(self, bridge: Bridge, trail: _Trail, cycle: CycleStats) -> None:
        super().__init__(bridge.name, "running")
        self.bridge = bridge
        self.trail = trail
        self.cycle = cycle
        self._now = 0.0

    def receive(self, event: Event, now: float) -> None:
        self.bridge.receive(event, now)
        self._note(now)

    def handle_timer(self, now: float) -> None:
        self.bridge.handle_timer(now)
        self._note(now)

    def get_timer(self) -> float | None:
        return self.bridge.get_timer()

    def actions(self) -> list[Action]:
        out = self.bridge.actions()
        for action in out:
            if isinstance(action, SendCan) and action.frame.arbitration_id == 0x109:
                self.cycle.frame(self._now, self.bridge.view().ccs_session_state == "CurrentDemand")
        return out

    def _note(self, now: float) -> None:
        self._now = now
        v, tr = self.bridge.view(), self.trail
        for states, state in ((tr.ccs_states, v.ccs_state), (tr.chademo_states, v.chademo_state)):
            if not states or states[-1] != state:
                states.append(state)
        soc = v.soc
        if soc is not None:
            tr.soc_start = soc if tr.soc_start is None else tr.soc_start
            tr.soc_end = soc
        if tr.last_t is not None and v.ccs_delivering:
            tr.energy_wh += (v.charger_voltage_v or 0.0) * (v.charger_current_a or 0.0) * (now - tr.last_t) / 3600.0
        tr.last_t = now


class _TcpTap(Tap):
    """A pcapng TCP tap whose peer is learnt from the connect target (SDP announces it)."""

    def open(self, target: Address) -> None:
        if isinstance(target, tuple) and len(target) >= 2:
            self.peer = self._remote(target)
        super().open(target)


class _CanLogTap(Port):
    """Every CAN frame in and out of the adapter into a python-can log (rotated by size)."""

    def __init__(self, inner: Port, log: can.Listener, writer: WriterThread) -> None:
        super().__init__()
        self.inner = inner
        self._log_frame = writer.wrap(log.on_message_received)  # written on the writer thread
        self._stop_log = writer.wrap(log.stop)
        self.closed = False

    def close_log(self) -> None:
        """Stop the log after the frames logged so far; frames still in flight (a callback
        already queued) are not logged."""
        self.closed = True
        self._stop_log()

    def bind(self, link: str, deliver: Any) -> None:
        super().bind(link, deliver)
        self.inner.bind(link, self._incoming)

    def _incoming(self, event: Event) -> None:
        frame = getattr(event, "frame", None)
        if frame is not None and hasattr(frame, "arbitration_id"):
            self._write(frame, rx=True)
        self.emit(event)

    def _write(self, frame: Any, rx: bool) -> None:
        if self.closed:
            return
        self._log_frame(can.Message(
            timestamp=time.time(), arbitration_id=frame.arbitration_id, data=frame.data,
            is_extended_id=frame.is_extended_id, is_rx=rx))

    def transmit(self, action: Any) -> None:
        self._write(action.frame, rx=False)
        self.inner.transmit(action)


def _pruning_rotator(base: Path, keep: int) -> Any:
    """python-can rotates ``can.log`` into ``can_<time>_#NNN.log`` without a limit; keep ``keep``."""

    def rotate(source: str, dest: str) -> None:
        os.replace(source, dest)
        pattern = f"{base.stem.split('.')[0]}_*_#*{''.join(base.suffixes[-2:])}"
        for old in sorted(base.parent.glob(pattern))[:-keep]:
            old.unlink(missing_ok=True)

    return rotate


class AdapterRun:
    """One process lifetime of ``ccs2chademo run``: :meth:`execute` returns the exit status."""

    def __init__(self, config: AdapterConfig, options: RunOptions | None = None) -> None:
        self.config = config
        self.options = options or RunOptions()
        hw = config.hardware
        if hw.plc.interface == "sim":
            raise RunError("[hardware.plc] interface = \"sim\" has no charger to talk to in `run`: use "
                           "`ccs2chademo simulate`, or a veth pair with `ccs2chademo charger-sim` (docs/run.md)")
        if hw.can.interface == "sim" and hw.gpio.backend != "sim":
            raise RunError("a simulated car ([hardware.can] interface = \"sim\") needs [hardware.gpio] "
                           "backend = \"sim\": it drives k and the button through the simulated lines")
        self.sim_car = hw.can.interface == "sim"
        if self.sim_car and self.options.car_rig is None:
            raise RunError("a simulated car ([hardware.can] interface = \"sim\") needs a car rig (`ccs2chademo run` "
                           "builds it)")
        #: TLS toward the charger: the roots are read here, once (a ConfigError names the key)
        self.tls = tls_policy(config.ccs)
        self.trail = _Trail()
        self.cycle = CycleStats()
        self.status: int | None = None
        self.reason = "not started"
        self.powered_off = False
        self.started = time.monotonic()
        self.wall_s = 0.0
        self.bridge: Bridge | None = None
        self.rig: CarRig | None = None
        self._closers: list[Any] = []
        #: every log write (the session log, pcapng, CAN log, `-v` console lines), off the event loop
        self.writer = WriterThread()

    # -- the lifetime -----------------------------------------------------------------------
    def execute(self) -> int:
        hw = self.config.hardware
        if self.options.gpio_trace is not None:
            self.options.gpio_trace.parent.mkdir(parents=True, exist_ok=True)
        gpio = open_gpio(hw.gpio, trace=self.options.gpio_trace)
        self.gpio = gpio
        self.notifier = notifier = SystemdNotifier.from_env()
        # every log line is written on the writer thread (drivers/offload.py: the loop never
        # waits for the SD card, a terminal or journald); it closes last but one, once the last
        # lines are written, and then the console handlers (`run -v`) are put back
        with (offloaded(logging.getLogger(LOGGER_NAME), self.writer), self.writer,
              SafeOutputs(gpio, notifier) as safe, session_log_from_config(hw.logging, writer=self.writer)):
            self.status = run_guarded(safe, self._main)
            self.reason = safe.reason or "end of run"
        notifier.close()
        self.wall_s = time.monotonic() - self.started
        return self.status

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        cfg, hw = self.config, self.config.hardware
        ifname = hw.plc.interface
        iface = _Interface(ifname, netif.index(ifname), netif.mac_address(ifname), netif.link_local_address(ifname))
        rt = AsyncRuntime(loop=loop)
        self.rt = rt
        seed = self.options.seed if self.options.seed is not None else int.from_bytes(os.urandom(4), "big")
        bridge = Bridge(cfg, iface.mac, random.Random(seed), name="adapter", scope_id=iface.index, tls=self.tls,
                        epoch=time.time() - rt.now())
        self.bridge = bridge
        try:
            ports = await self._ccs_ports(loop, iface)
            ports["can"], car_port = self._can_ports(loop)
            rt.add(_Tracked(bridge, self.trail, self.cycle), ports, on_output=self._output)
            if self.options.car_rig is not None and car_port is not None:
                self.rig = self.options.car_rig(rt, bridge, self.gpio, car_port)
            self.gpio.start(self._input, loop)
            self._start_adc(loop)
            self.notifier.ready(f"running on {iface.name}")
            watchdog = Watchdog.from_env()
            watchdog.start(loop)
            self._closers.append(watchdog.stop)
            logger.info("running on %s (%s), simulated: %s", iface.name, iface.link_local,
                        ", ".join(hw.simulated()) or "nothing")
            started = [service for service in self.options.services if await self._start_service(service)]
            try:
                await rt.run(stop=lambda: self.powered_off)
            finally:
                for service in started:
                    try:
                        await service.stop()
                    except Exception:
                        logger.exception("stopping a service failed")
        finally:
            rt.log.record(rt.now(), "adapter", "can-cycle", self.cycle.fields())
            rt.close()  # nothing acts on the drivers while they close (also after a signal)
            for close in reversed(self._closers):
                try:
                    close()
                except Exception:
                    logger.exception("closing a driver failed")
            self._closers.clear()

    async def _start_service(self, service: Service) -> bool:
        try:
            await service.start(self)
        except Exception:
            logger.exception("a service failed to start; the adapter runs without it")
            return False
        return True

    def press_stop(self) -> None:
        """A short press of the stop button, through the same input as the GPIO line (the status
        page's stop button)."""
        if self.bridge is None:
            return
        name = self.bridge.name
        self.rt.inject(name, InputChanged("button", True))
        release = InputChanged("button", False)
        asyncio.get_running_loop().call_later(SHORT_PRESS_S, lambda: self.rt.inject(name, release))

    # -- drivers ----------------------------------------------------------------------------
    async def _ccs_ports(self, loop: asyncio.AbstractEventLoop, iface: _Interface) -> dict[str, Port]:
        plc = RawEthernetPort(loop, iface.name)
        plc.start()
        self._closers.append(plc.shutdown)
        sdp = MulticastUdpPort(loop, iface.name, 0, hop_limit=10)  # cars use hop limit 10…255 (ccs-ev.md §6)
        await sdp.start()
        self._closers.append(sdp.shutdown)
        tcp = TcpClientPort(loop, socket.AF_INET6, scope_id=iface.index)
        self._closers.append(lambda: tcp.close(abort=True))
        ports: dict[str, Port] = {"plc": plc, "sdp": sdp, "tcp": tcp}
        path = self.config.hardware.logging.pcapng
        if path is None:
            return ports
        path.parent.mkdir(parents=True, exist_ok=True)
        log = self.config.hardware.logging
        pcap = RotatingPcapngWriter(path, log.rotate_bytes, log.rotate_count, epoch=time.time(),
                                    interface=iface.name)
        # on the writer thread, in order: the frames, then flush and close (closers run reversed)
        self._closers.append(self.writer.wrap(pcap.close))
        self._closers.append(self.writer.wrap(pcap.flush))
        write, clock = self.writer.wrap(pcap.write), self.rt.now
        me = ipv6.Endpoint(iface.mac, iface.link_local, _SDP_CLIENT_PORT)
        return {"plc": Tap(plc, write, clock),
                "sdp": Tap(sdp, write, clock, "udp", me),
                "tcp": _TcpTap(tcp, write, clock, "tcp", me, me)}

    def _can_ports(self, loop: asyncio.AbstractEventLoop) -> tuple[Port, CanPort | None]:
        """The adapter's CAN port (and the sim car's, on the same private virtual channel)."""
        hw = self.config.hardware.can
        if self.sim_car:
            config = CanBusConfig("virtual", f"ccs2chademo-{os.getpid()}")
        else:
            config = CanBusConfig(hw.interface, hw.channel, hw.bitrate, dict(hw.options))
        port = CanPort.from_config(config, loop)
        port.start()
        self._closers.append(port.shutdown)
        car: CanPort | None = None
        if self.sim_car:
            car = CanPort.from_config(config, loop)
            car.start()
            self._closers.append(car.shutdown)
        log = self.config.hardware.logging
        if log.can_log is None:
            return port, car
        log.can_log.parent.mkdir(parents=True, exist_ok=True)
        can_log = can.SizedRotatingLogger(str(log.can_log), max_bytes=log.rotate_bytes)
        can_log.rotator = _pruning_rotator(log.can_log, log.rotate_count)
        tap = _CanLogTap(port, can_log, self.writer)
        self._closers.append(tap.close_log)
        return tap, car

    def _start_adc(self, loop: asyncio.AbstractEventLoop) -> None:
        adc_config = self.config.hardware.adc
        adc = open_adc(adc_config)
        if adc_config.backend == "none":
            return

        # an inlet voltmeter is read every CHAdeMO cycle: the bridge compares it with the charger's
        # voltage just before it closes the contactor (docs/safety.md); inlet temperatures every second
        period = adc_config.period_s
        if "inlet" in adc_config.channels:
            period = min(period, 0.1)
        elif any(name.startswith("inlet_temp") for name in adc_config.channels):
            period = min(period, 1.0)

        def sample() -> None:
            for event in adc.sample():
                self.rt.inject("adapter", event)
            handle[0] = loop.call_later(period, sample)

        handle = [loop.call_soon(sample)]
        self._closers.append(lambda: handle[0].cancel())

    # -- signals between the bridge and the board ---------------------------------------------
    def _output(self, name: str, value: Any, now: float) -> None:
        gpio: Gpio = self.gpio
        if name == "cp":
            gpio.set_output("cp_state_c", value == "C")
        elif name == "contactor":
            for role in _CONTACTOR_ROLES:
                gpio.set_output(role, bool(value))
        elif name == "led":
            for role in _LED_ROLES:
                gpio.set_output(role, bool(value))
        elif name == SAVE_OUTPUT and isinstance(value, ClaraSave):
            self._keep(value, now)
        else:
            gpio.output_sink(name, value, now)
        if self.rig is not None:
            self.rig.apply(name, value, now)
        if self.options.on_output is not None:
            self.options.on_output(name, value, now)
        if name == "power_hold" and not value:
            logger.info("the bridge released power hold: the adapter switches itself off")
            self.powered_off = True

    def _keep(self, save: ClaraSave, now: float) -> None:
        """An SDO save into the configuration file (atomically, with a backup; unchanged settings
        are not rewritten).  A failure is logged and leaves the file as it was: the running
        session goes on with the map in memory.  The write is synchronous: a VCU saves once, at
        its start, before any charge."""
        path = self.options.config_path
        fields: dict[str, Any] = {"entries": len(save.clara.can_map().entries), "written": False}
        if path is None:
            fields["error"] = "no configuration file"
        else:
            fields["file"] = str(path)
            try:
                backup = persist_clara(path, save.clara)
            except (ConfigError, OSError) as exc:
                fields["error"] = str(exc)
                logger.error("the SDO save was not written to %s: %s", path, exc)
            else:
                fields["written"] = backup is not None
                if backup is not None:
                    fields["backup"] = str(backup)
                    logger.info("SDO save written to %s (backup %s)", path, backup)
        self.rt.log.record(now, "adapter", "clara-saved", fields)

    def _input(self, event: InputChanged) -> None:
        name = _INPUTS.get(event.name)
        if name is not None and self.bridge is not None:
            self.rt.inject(self.bridge.name, InputChanged(name, event.value))

    # -- the summary ------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The ``simulate --json`` fields, from what the adapter knows (docs/run.md)."""
        bridge, tr = self.bridge, self.trail
        return {
            "result": self._result(), "stop_reason": (bridge.view().stop_reason if bridge is not None else None) or (
                None if self.powered_off else self.reason),
            "soc_start": tr.soc_start, "soc_end": tr.soc_end, "energy_kwh": round(tr.energy_wh / 1000.0, 3),
            "virtual_s": None, "wall_s": round(self.wall_s, 3), "invariant_violations": None,
            "ccs_states": tr.ccs_states, "chademo_states": tr.chademo_states,
            # clara / lightbulb: the mode and the car side's states, as `simulate --json` has them
            **({} if self.config.mode == "chademo" else {"mode": self.config.mode,
                                                          "downstream_states": tr.chademo_states}),
        }

    def _result(self) -> str:
        bridge = self.bridge
        if self.status is None or bridge is None:
            return "not-started"
        if self.status != 0:
            return "error"
        if not self.powered_off:
            return "interrupted"
        view = bridge.view()
        if view.emergency:
            return "forced-off"
        return "safe-shutdown" if view.ccs_safe_shutdown else "completed"
