"""A simulated VCU that drives the clara mode's charge controller over CAN (issue 13): a
ZombieVerter-like VCU, or a generic BMS.

ZombieVerter (behaviour from its public sources, our own code): with ``ConfigFoccci=1`` it first
writes its CAN map into the controller over SDO (clear the sent map until the abort, clear the
received map, ten sent and seven received entries in three writes each, save), one request in
flight at a time; then, every 100 ms, **0x358**: enable, AC OBC state, allow-unlock, SoC, battery
voltage, target voltage, charge current request.  While the controller reports port state
"charging DC" (0x357) it ramps the request by 1 A per 100 ms toward its voltage set-point (up
below it, down above it), clamped to the charger's available current (0x109) and its BMS limit.

Basic AC: while the controller reports port state "charging AC" (3) the VCU drives its on-board
charger and reports it in ``AcObcState`` (1 "lock" until the controller reports the inlet locked,
then 2 "charging"; 4 "complete" once it stopped itself); the OBC draws
``min(EvseAcCurrentLimit, obc_max_a)`` per phase (``obc_amps``, what the world's AC EVSE supplies).

The generic BMS variant sends the same 0x358 (the controller's default map, no SDO) and asks for
its charge limit at once, tapering near the set-point.

It stands in for the car in the simulated world: ``state``, ``request`` and
``max_discharge_current`` are what the world reads of a car; input ``InputChanged("electrical",
CarElectrical)`` gives it the pack's voltage and SoC; its pack contactors are closed from the start
(``SetOutput("contactors", True)``: the pack is on the DC bus behind the inlet contactors).
Test knobs: ``InputChanged("can_silent", True)`` (its CAN dies), ``InputChanged("enable",
False)`` (it withdraws the enable), ``voltage_error_v`` (it reports a wrong pack voltage),
``allow_unlock`` (False: AllowUnlock = 0 until ``InputChanged("allow_unlock", True)``).  It
stops itself (enable 0) at ``soc_stop``.
"""

from __future__ import annotations

from enum import StrEnum

from ..adapter.clara_map import DEFAULT_MAP, PARAMETERS, CanMap, Direction, FrameError, pack, unpack
from ..adapter.sdo import (
    ANSWER_BASE,
    CMD_WRITE_DONE,
    INDEX_COMMANDS,
    INDEX_MAP_ITEMS_RECEIVED,
    INDEX_MAP_ITEMS_SENT,
    INDEX_MAP_RECEIVED,
    INDEX_MAP_SENT,
    REQUEST_BASE,
    entry_words,
    request,
)
from ..deadline import Timers
from ..runtime import CanFrame, CanReceived, Event, InputChanged, MachineBase, SendCan, SetOutput
from ..runtime.machine import successor_table
from .vehicle import CarElectrical

CYCLE_S = 0.1
#: when its 100 ms task first runs: a VCU is not phase-locked to the controller's cycle
CYCLE_PHASE_S = 0.05
SDO_RESEND_S = 0.1
WRITE_4 = 0x23
PORT_CHARGING_AC, PORT_CHARGING_DC = 3, 4
LOCK_CLOSED = 2
OBC_IDLE, OBC_LOCK, OBC_CHARGING, OBC_COMPLETE = 0, 1, 2, 4
OBC_MAX_A = 16.0  # a typical 3.7 kW single-phase on-board charger
BMS_TAPER_V = 10.0  # the BMS variant tapers its request over the last 10 V below the set-point
VARIANTS = ("zombieverter", "bms")


class VcuState(StrEnum):
    CONFIGURING = "configuring"  # SDO map configuration (ZombieVerter, ConfigFoccci=1)
    RUNNING = "running"  # 0x358 every 100 ms with enable = 1
    STOPPED = "stopped"  # enable withdrawn (target SoC, a test knob)
    SILENT = "silent"  # its CAN is dead


VCU_SUCCESSORS = successor_table({
    VcuState.CONFIGURING: {VcuState.RUNNING, VcuState.STOPPED, VcuState.SILENT},
    VcuState.RUNNING: {VcuState.STOPPED, VcuState.SILENT},
    VcuState.STOPPED: {VcuState.SILENT},
    VcuState.SILENT: set(),
})


class VcuTimer(StrEnum):
    CYCLE = "cycle"  # 0x358 and the ramp
    SDO = "sdo"  # resend the request in flight


def _map_writes(can_map: CanMap, direction: Direction) -> list[bytes]:
    index = INDEX_MAP_SENT if direction is Direction.SENT else INDEX_MAP_RECEIVED
    frames = []
    for e in can_map.entries:
        if e.spec.direction is direction:
            ids, gains = entry_words(e)
            frames += [request(WRITE_4, index, 0, e.frame_id), request(WRITE_4, index, 1, ids),
                       request(WRITE_4, index, 2, gains)]
    return frames


#: ZombieVerter's order: the sent entries as it lists them, then the received ones with
#: AllowUnlock last (it was added after the others).
_ZV_RECEIVED_ORDER = ("enable", "AcObcState", "soc", "BatteryVoltage", "TargetVoltage", "ChargeCurrent", "AllowUnlock")


def zombieverter_configuration(can_map: CanMap = DEFAULT_MAP) -> list[bytes]:
    """The SDO requests of ZombieVerter's map configuration, in order: clear sent (repeated by the
    caller until the abort), clear received (likewise), the sent and received entries, save."""
    received = sorted((e for e in can_map.entries if e.spec.direction is Direction.RECEIVED),
                      key=lambda e: _ZV_RECEIVED_ORDER.index(e.param) if e.param in _ZV_RECEIVED_ORDER else 99)
    ordered = CanMap((*(e for e in can_map.entries if e.spec.direction is Direction.SENT), *received))
    return [request(WRITE_4, INDEX_MAP_ITEMS_SENT, 0), request(WRITE_4, INDEX_MAP_ITEMS_RECEIVED, 0),
            *_map_writes(ordered, Direction.SENT), *_map_writes(ordered, Direction.RECEIVED),
            request(WRITE_4, INDEX_COMMANDS, 0)]


class ZombieVcu(MachineBase):
    """The simulated VCU (see the module docstring)."""

    def __init__(self, name: str = "car", node_id: int = 22, variant: str = "zombieverter",
                 target_voltage: float = 398.0, bms_limit_a: float = 125.0, soc_stop: float | None = None,
                 voltage_error_v: float = 0.0, allow_unlock: bool = True) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown VCU {variant!r}; known: {', '.join(VARIANTS)}")
        configure = variant == "zombieverter"
        super().__init__(name, (VcuState.CONFIGURING if configure else VcuState.RUNNING).value, VCU_SUCCESSORS)
        self.variant = variant
        self.node_id = node_id
        self.target_voltage = target_voltage
        self.bms_limit_a = bms_limit_a
        self.soc_stop = soc_stop
        #: added to the battery voltage it reports (a miscalibrated shunt, fault ``vcu-voltage-lie``)
        self.voltage_error_v = voltage_error_v
        #: the AllowUnlock bit of 0x358 (fault ``no-unlock``: withheld until the world allows it)
        self.allow_unlock = allow_unlock
        self.can_map = DEFAULT_MAP
        self.timers = Timers()
        self.timers.start(VcuTimer.CYCLE, CYCLE_PHASE_S)
        self.request = 0  # A, the charge current request in 0x358
        self.max_discharge_current = 0  # a VCU never asks for V2X (what the world reads of a car)
        self.enabled = True
        self.battery_v = 0.0
        self.soc = 0.0
        self.port_state = 0
        self.available_a = 0.0
        self.ac_limit_a = 0.0
        self.lock_state = 0
        self.obc_state = OBC_IDLE
        self.config_frames = zombieverter_configuration() if configure else []
        self._config_step = 0
        self._in_flight: bytes | None = None
        self._started = False

    # ---------------------------------------------------------------- machine protocol
    def get_timer(self) -> float | None:
        return self.timers.next()

    def handle_timer(self, now: float) -> None:
        if not self._started:
            self._started = True
            self._emit(SetOutput("contactors", True))
        for purpose in self.timers.expired(now):
            if purpose == VcuTimer.CYCLE:
                self.timers.start(VcuTimer.CYCLE, now + CYCLE_S)
                self._cycle(now)
            elif purpose == VcuTimer.SDO and self._in_flight is not None:
                self._send_sdo(self._in_flight, now)

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, InputChanged):
            self._input(event.name, event.value, now)
        elif isinstance(event, CanReceived) and self.state != VcuState.SILENT:
            self._frame(event.frame, now)

    def _input(self, name: str, value: object, now: float) -> None:
        if name == "electrical" and isinstance(value, CarElectrical):
            self.battery_v, self.soc = value.battery_voltage, value.soc
        elif name == "can_silent" and value:
            self.timers.clear()
            self._enter(VcuState.SILENT.value, reason="can silent")
        elif name == "allow_unlock":
            self.allow_unlock = bool(value)
        elif name == "enable" and not value:
            self._disable("test knob")

    def _disable(self, reason: str) -> None:
        if self.enabled and self.state != VcuState.SILENT:
            self.enabled = False
            self.request = 0
            self._log("vcu-enable", enable=False, reason=reason, soc=round(self.soc, 2))
            self._enter(VcuState.STOPPED.value, reason=reason)

    # ---------------------------------------------------------------- CAN
    def _frame(self, frame: CanFrame, now: float) -> None:
        if frame.arbitration_id == ANSWER_BASE + self.node_id:
            self._sdo_answer(frame.data, now)
            return
        try:
            values = unpack(self.can_map, frame.arbitration_id, frame.data, Direction.SENT)
        except FrameError:
            return
        if "EvseMaxCurrent" in values:
            self.available_a = values["EvseMaxCurrent"]
        if "PortState" in values:
            self.port_state = int(values["PortState"])
        if "EvseAcCurrentLimit" in values:
            self.ac_limit_a = values["EvseAcCurrentLimit"]
        if "LockState" in values:
            self.lock_state = int(values["LockState"])

    def _send_sdo(self, data: bytes, now: float) -> None:
        self._in_flight = data
        self._emit(SendCan("can", CanFrame(REQUEST_BASE + self.node_id, data)))
        self.timers.start(VcuTimer.SDO, now + SDO_RESEND_S)

    def _sdo_answer(self, data: bytes, now: float) -> None:
        sent = self._in_flight
        if self.state != VcuState.CONFIGURING or sent is None or len(data) < 1:
            return
        self.timers.cancel(VcuTimer.SDO)
        self._in_flight = None
        clearing = self._config_step < 2
        if clearing and data[0] == CMD_WRITE_DONE:
            self._send_sdo(sent, now)  # an entry was removed: clear the next one
            return
        if not clearing and data[0] != CMD_WRITE_DONE:
            self._log("vcu-config", step=self._config_step, aborted=data.hex())
        self._config_step += 1
        if self._config_step < len(self.config_frames):
            self._send_sdo(self.config_frames[self._config_step], now)
        else:
            self._log("vcu-config", step=self._config_step, done=True)
            self._enter(VcuState.RUNNING.value, reason="map configured")

    # ---------------------------------------------------------------- the 100 ms cycle
    def _cycle(self, now: float) -> None:
        if self.state == VcuState.CONFIGURING and self._in_flight is None and self._config_step == 0:
            self._send_sdo(self.config_frames[0], now)
        if self.enabled and self.soc_stop is not None and self.soc >= self.soc_stop:
            self._disable("target soc")
        if self.enabled:
            self._ramp()
        self._obc()
        values = {"enable": 1.0 if self.enabled else 0.0, "AcObcState": self.obc_state,
                  "AllowUnlock": float(self.allow_unlock), "soc": round(self.soc),
                  "BatteryVoltage": round(self.battery_v + self.voltage_error_v),
                  "TargetVoltage": self.target_voltage, "ChargeCurrent": self.request}
        assert set(values) <= set(PARAMETERS)
        self._emit(SendCan("can", CanFrame(0x358, pack(self.can_map, 0x358, values, Direction.RECEIVED))))

    def _obc(self) -> None:
        if not self.enabled:
            self.obc_state = OBC_COMPLETE if self.obc_state != OBC_IDLE else OBC_IDLE
        elif self.port_state == PORT_CHARGING_AC and self.ac_limit_a > 0:
            self.obc_state = OBC_CHARGING if self.lock_state == LOCK_CLOSED else OBC_LOCK
        else:
            self.obc_state = OBC_IDLE

    @property
    def obc_amps(self) -> float:
        """What the on-board charger draws per phase while charging (0 otherwise)."""
        return min(self.ac_limit_a, OBC_MAX_A) if self.obc_state == OBC_CHARGING else 0.0

    def _ramp(self) -> None:
        if self.port_state != PORT_CHARGING_DC:
            self.request = 0
            return
        limit = max(0, int(min(self.bms_limit_a, self.available_a)))
        if self.variant == "bms":
            headroom = (self.target_voltage - self.battery_v) / BMS_TAPER_V
            self.request = int(limit * max(0.0, min(1.0, headroom)))
            return
        request = min(self.request, limit)
        if self.battery_v < self.target_voltage:
            request += 1
        elif self.battery_v > self.target_voltage:
            request -= 1
        self.request = max(0, min(request, limit))
