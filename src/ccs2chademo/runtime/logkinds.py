"""The session log's public format: every record kind, its fields, who emits it, and the renames.

A session log (``docs/session-log.md``) is JSON lines; every record is
``{"t": seconds, "source": machine name, "kind": KIND, **fields}``.  This module is the one list of
the kinds and their fields.  ``tools/gen_session_log.py`` writes the JSON Schema shipped in the
package (``runtime/session-log.schema.json``) and the tables of ``docs/session-log.md`` from it;
the tests check both files are up to date and that every record the simulated scenarios write is
registered here and valid against the schema.

Nothing here runs per record: the machines write their kind strings directly, and the session log
never validates at run time.  A machine that logs a new kind (or a new field) registers it here.

Conventions: kinds are kebab-case; a field name means the same thing in every kind; a field named
``t``, ``source`` or ``kind`` is shadowed by the envelope and never reaches the JSON line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The first record of every session log file (the JSON-lines writers emit it; ``t`` = 0).
FORMAT_NAME = "ccs2chademo-session-log"
FORMAT_VERSION = 1
HEADER_KIND = "session-log"
HEADER_SOURCE = "ccs2chademo"

JsonType = str  # "string", "number", "integer", "boolean", "array", "object", "null"
JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
ENVELOPE = ("t", "source", "kind")

S, N, I, B, A, O, Z = "string", "number", "integer", "boolean", "array", "object", "null"  # noqa: E741


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a record kind."""

    name: str
    types: tuple[JsonType, ...]
    meaning: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Kind:
    """One record kind: what it means, who emits it (module: class or function), its fields."""

    name: str
    meaning: str
    emitters: tuple[str, ...]
    fields: tuple[Field, ...] = ()
    debug: bool = False  # logged at DEBUG (frames), everything else at INFO


@dataclass(frozen=True, slots=True)
class Rename:
    """A kind renamed in format version ``version``; ``adds`` are fields the new records carry
    that the old ones did not (constants, so an old log can be rewritten into the new names)."""

    old: str
    new: str
    version: int
    adds: Mapping[str, Any] = field(default_factory=dict)


def f(name: str, types: JsonType | tuple[JsonType, ...], meaning: str, required: bool = False) -> Field:
    return Field(name, (types,) if isinstance(types, str) else types, meaning, required)


def r(name: str, types: JsonType | tuple[JsonType, ...], meaning: str) -> Field:
    return f(name, types, meaning, required=True)


#: Fields any record may carry besides the envelope.
COMMON_FIELDS: tuple[Field, ...] = (
    f("part", S, "the part of a composite machine that logged it (the bridge's `ccs`, `chademo`, `power`; the "
      "connection's `finder`, `slac`, `sdp`, `evcc`), when `source` is the composite"),
)

# Emitters, by module and class.
RT = "runtime/core.py: Runtime"
MB = "runtime/machine.py: MachineBase"
BR = "adapter/bridge.py: Bridge"
PW = "adapter/power.py: PowerManager"
RUN = "adapter/runner.py: AdapterRun"
CH = "chademo/charger.py: ChademoCharger"
CL = "adapter/clara_side.py: ClaraSide"
VCU = "sim/zombie_vcu.py: ZombieVcu"
CW = "sim/clara_world.py: ClaraWorld"
VE = "sim/vehicle.py: ChademoVehicle"
SP = "homeplug/slac.py: SlacPev"
SE = "homeplug/slac.py: SlacEvse"
CO = "homeplug/connection.py: PevConnection"
FI = "homeplug/finder.py: ModemFinder"
EV = "v2g/evcc.py: Evcc"
SC = "v2g/secc.py: Secc"
DI = "v2g/discovery.py: SdpClient"
SDS = "v2g/discovery.py: SdpServer"
LB = "v2g/loopback.py: FixedResponder"
TC = "v2g/tls.py: TlsChannel"
TL = "v2g/tls.py: TlsLink"
SST = "sim/tls_charger.py: StallingServer"
WO = "sim/world.py: World"
MO = "sim/modem.py: SimModem"
RIG = "sim/car_rig.py: SimCarRig"
RP = "sim/replay.py: ReplayCharger"
WR = "runtime/sessionlog.py: JSON-lines writers"

_REASON = "why, in words"

KINDS: tuple[Kind, ...] = (
    # ---------------------------------------------------------------- the envelope and the runtime
    Kind(HEADER_KIND, "the first record of every session log file: which format and version follow "
         f"(`t` is 0, `source` is `{HEADER_SOURCE}`)", (WR,), (
             r("format", S, f"always `{FORMAT_NAME}`"),
             r("version", I, "the format version (this document describes version 1)"),
         )),
    Kind("log", "a plain log message sent to the session logger (not a machine record); its `t` is null",
         ("runtime/sessionlog.py: JsonLinesFormatter",), (r("message", S, "the message"),)),
    Kind("tx", "a frame, datagram or byte chunk a machine sent", (RT,), (
        r("link", S, "the machine's local link name (`tcp`, `plc`, `can`, …)"),
        r("data", S, "the bytes, hex"),
        f("id", S, "CAN identifier, `0x` + 3 hex digits (CAN links only)"),
    ), debug=True),
    Kind("rx", "a frame, datagram or byte chunk delivered to a machine", (RT,), (
        r("link", S, "the machine's local link name"),
        r("data", S, "the bytes, hex"),
        f("id", S, "CAN identifier, `0x` + 3 hex digits (CAN links only)"),
    ), debug=True),
    Kind("output", "a machine set an output (`SetOutput`)", (RT,), (
        r("name", S, "output name"),
        r("value", (S, N, B, A, O, Z), "the value (objects as their text)"),
    )),
    Kind("open", "a machine opened a link (`OpenLink`)", (RT,), (
        r("link", S, "local link name"),
        r("target", (A, S, Z), "where to (e.g. `[address, port]`)"),
    )),
    Kind("close", "a machine closed a link (`CloseLink`)", (RT,), (
        r("link", S, "local link name"),
        r("abort", B, "true: reset (RST), false: orderly close (FIN)"),
    )),
    Kind("transition-refused", "a machine was asked for a state change its successor table does not allow; "
         "it stayed where it was (a bug: docs/machines.md)", (MB,), (
        r("state", S, "the state asked for"),
        r("previous", S, "the state the machine stays in"),
    )),
    Kind("state", "a machine entered a state; further fields say why or with what", (MB,), (
        r("state", S, "the state entered"),
        r("previous", S, "the state left"),
        f("reason", S, _REASON),
        f("cause", S, "the stop or power-off cause"),
        f("session", (I, S), "the car's session count (car) or the session kind (`charge`/`discharge`, chademo)"),
        f("request", I, "the car's current request, A"),
        f("requests", I, "SDP requests sent"),
        f("after_can_start", N, "s since the CAN frames started"),
        f("after_d1", N, "s since d1 was switched on"),
        f("after_d2", N, "s since d2 was switched on"),
        f("welding_check", S, "how the car's welding check went"),
        f("promoted", B, "the discovery session continues as the real session (single-session flow)"),
        f("voltage", N, "inlet voltage, V"),
        f("dtcs", I, "diagnostic trouble codes the car set"),
        f("frozen_target", I, "the target voltage frozen for the session, V"),
        f("reasons", S, "the stop reasons, described"),
        f("how", S, "how the step was reached"),
        f("remaining_s", (N, I, Z), "charging time remaining, s"),
        f("target", (A, I), "where to connect (`[address, port]`, evcc) or the car's target voltage (V, bridge)"),
        f("soc", N, "state of charge, %"),
        f("evse", S, "the charger's MAC address"),
        f("nid", S, "HomePlug network id, hex"),
        f("modems", I, "modems found"),
        f("address", S, "IPv6 address"),
        f("port", I, "TCP port"),
        f("warm", B, "SDP restarted without a new SLAC"),
        f("peer", S, "the connected peer"),
        f("round", I, "modem search round"),
        f("limit", I, "SDP request limit"),
        f("then", S, "the step after the contactor opened"),
        f("sx", B, "the `sx` option is on"),
        f("v2x", B, "the session is a V2X discharge"),
        f("vcc4", N, "supply voltage VCC4, V"),
        f("vcc12", N, "supply voltage VCC12, V"),
        f("role", S, "`client` or `server` (a TLS channel's handshake)"),
        f("by", S, "who ended the TLS connection: `us`, `peer` or `TCP …`"),
        f("tls", S, "the TLS version the connection is secured with (connection: `connected`)"),
    )),
    # ---------------------------------------------------------------- the simulated world
    Kind("sample", "one telemetry point of the simulated world (what `ccs2chademo plot` draws)", (WO,), (
        r("charger_v", N, "charger output voltage, V"),
        r("inlet_v", N, "car inlet voltage, V"),
        r("battery_v", N, "battery voltage, V"),
        r("current_a", N, "DC current into the car, A (negative: discharge)"),
        r("soc", N, "state of charge, %"),
        r("request_a", N, "the car's current request, A"),
        r("ccs_target_a", N, "EVTargetCurrent sent to the charger, A"),
        r("ccs_state", S, "the CCS side's state"),
        r("chademo_state", S, "the CHAdeMO side's state"),
        r("car_state", S, "the car's state"),
        r("contactor", B, "the adapter contactor is closed"),
        r("led", B, "the adapter LED is on"),
    )),
    Kind("fault", "a scheduled fault was armed or fired", (WO,), (
        r("fault", S, "the fault (`NAME[@STATE][+SECONDS]`)"),
        r("state", S, "the fault's state (`armed`, `fired`, …)"),
    )),
    Kind("stop-button", "the simulated driver presses the adapter's stop button", (RIG,), (
        r("after_s", N, "s into CurrentDemand"),
    )),
    Kind("recording-exhausted", "the replayed charger has no recorded answer left", (RP,), (
        r("request", S, "the request left unanswered"),
        r("end", S, "what the replay does now"),
    )),
    Kind("set-key", "the simulated modem got CM_SET_KEY", ("sim/modem.py: ModemStandIn",), (
        r("host", S, "MAC address of the host that set the key"),
        r("nid", S, "HomePlug network id, hex"),
    )),
    # ---------------------------------------------------------------- the adapter (bridge, power)
    Kind("input-rejected", "an input (`InputChanged`) was refused: unknown name or unusable value", (BR, PW, CH), (
        r("name", S, "the input's name"),
        r("reason", S, "why (`unknown input`, `invalid value`, or the type it should have had)"),
        f("value", S, "the refused value, as Python `repr`"),
    )),
    Kind("chademo-session", "the bridge chose the CHAdeMO session kind", (BR,), (
        r("session", S, "`charge` or `discharge`"),
    )),
    Kind("battery-voltage", "the car's battery voltage, measured (0x103, inlet voltmeter) or estimated", (BR,), (
        r("volts", N, "battery voltage used, V"),
        f("estimate", (N, Z), "the estimate, V"),
        f("target", I, "the car's target voltage, V"),
        f("soc", N, "state of charge the car reports, %"),
        f("rule", (S, Z), "the car-recognition rule whose curve made the estimate"),
    )),
    Kind("car-recognised", "the car was recognised from its first frames: estimate curve and session flow",
         (BR,), (
             r("rule", S, "the rule that matched (`general` when none did; adapter/recognition.py)"),
             r("flow", S, "`two-session` or `single-session`"),
             r("configured", A, "what the configuration forced (`sx`, `alt-estimated-voltage`)"),
             r("curve_max", N, "the estimate curve's maximum voltage, V"),
             r("curve_nom", N, "the estimate curve's nominal (50 %) voltage, V"),
             r("target", I, "the car's target voltage (frozen at d2), V"),
             r("max", I, "the car's maximum battery voltage, V"),
             r("capacity", N, "the car's rated capacity, kWh"),
         )),
    Kind("flow", "the bridge switched to the single-session flow for a recognised car", (BR,), (
        r("flow", S, "the flow now in use"),
        r("reason", S, _REASON),
        f("rule", (S, Z), "the recognition rule"),
    )),
    Kind("contactor-emergency-open", "the adapter contactor opens 2 s after a CCS safe shutdown, the current "
         "being unknown (the car's contactors never break it)", (BR,), (
             r("reason", S, _REASON),
             r("after_s", N, "s after the safe shutdown began"),
             r("last_current", N, "the last current CurrentDemand reported, A"),
         )),
    Kind("contactor-close-refused", "the adapter will not close its contactor this session; a named stop "
         "follows", (BR,), (
             r("reason", S, "`voltage-mismatch` or `battery-above-charger-maximum`"),
             f("charger", (N, Z), "the charger's present voltage, V"),
             f("car_side", (N, Z), "the car side's voltage (inlet voltmeter or battery value), V"),
             f("charger_max", N, "the charger's maximum voltage, V"),
         )),
    Kind("target-frozen", "the target voltage is frozen for the session", (BR,), (
        r("target", I, "target voltage, V"),
    )),
    Kind("contactor", "the bridge switches the adapter contactor", (BR,), (
        r("closed", B, "the contactor is (to be) closed"),
        r("car_contactors_closed", B, "the car's contactors are closed"),
        r("override", (B, Z), "the manual override, if any"),
    )),
    Kind("stop", "a session stop: the bridge's (`cause`, `ccs`, `chademo`) or the CHAdeMO side's "
         "(`reasons`, `state`)", (BR, CH), (
             f("cause", S, "the stop cause"),
             f("ccs", S, "the CCS side's state"),
             f("chademo", S, "the CHAdeMO side's state"),
             f("reasons", S, "the stop reasons, described"),
             f("state", S, "the state the stop came in"),
         )),
    Kind("soft-reset", "the adapter resets itself for a new session", (BR, PW), (
        r("count", I, "soft resets so far"),
        r("keep_discovery", B, "the CHAdeMO discovery is kept"),
        f("cause", S, "the cause"),
    )),
    Kind("precharge-reached", "precharge reached the target voltage", (BR, EV), (
        r("present", N, "present voltage, V"),
        r("target", N, "precharge target, V"),
        f("hold", B, "precharge is held (the car is not ready yet)"),
    )),
    Kind("precharge-stall", "precharge is held at the target until the car is ready", (BR,), (
        r("present", N, "present voltage, V"),
        r("target", N, "precharge target, V"),
    )),
    Kind("welding-detection", "how the charger's voltage fell in WeldingDetection", (BR,), (
        r("result", S, "`voltage fell`, `probably lying`, `probably welded`"),
        r("volts", (N, Z), "the voltage, V"),
        f("last_current_demand", (N, Z), "voltage in the last CurrentDemand, V"),
    )),
    Kind("ccs-restart", "the CCS session is started again", (BR,), (
        r("n", I, "restarts so far"),
        r("reason", (S, Z), "the stop reason of the ended session"),
    )),
    Kind("ccs-ended", "the CCS session ended", (BR,), (
        r("reason", (S, Z), "the stop reason"),
        r("result", (S, Z), "the result"),
    )),
    Kind("boot", "the adapter powered on", (PW,), (
        r("version", S, "software version"),
        r("config", O, "configuration values that differ from the defaults"),
        r("vcc4", N, "supply voltage VCC4, V"),
        r("vcc12", N, "supply voltage VCC12, V"),
        r("battery_level", I, "supply level class"),
    )),
    Kind("power-off", "the adapter powers off", (PW,), (
        r("cause", (S, Z), "why"),
        r("version", S, "software version"),
        r("config", O, "configuration values that differ from the defaults"),
        r("vcc4", N, "supply voltage VCC4, V"),
    )),
    Kind("power-off-pending", "a power-off cause was set; the adapter stops and powers off", (PW,), (
        r("cause", S, "why"),
        f("previous", (S, Z), "the cause set before"),
    )),
    Kind("button-press", "the stop button was pressed", (PW,), (
        f("during", S, "the phase it was pressed in"),
        f("at", N, "s, when"),
        f("pending", (S, Z), "the pending power-off cause"),
    )),
    Kind("button-release", "the stop button was released", (PW,), (
        r("at", N, "s, when"),
        r("held_s", N, "how long it was held, s"),
    )),
    Kind("forced-off", "the stop button was held long enough to force the power-off", (PW,), (
        r("held_s", N, "how long it was held, s"),
        r("hold_limit_s", N, "the configured hold, s"),
    )),
    Kind("led-pattern-unknown", "an LED pattern the power manager does not know", (PW,), (
        r("pattern", (S, N, B, Z), "the pattern"),
    )),
    Kind("mode-command", "a mode command was entered with the button", (PW,), (
        r("presses", I, "presses"),
        r("commands", A, "commands so far"),
    )),
    Kind("mode-selection-cancelled", "the mode selection was cancelled", (PW,)),
    Kind("mode-unknown", "a press count that names no mode", (PW,), (r("presses", I, "presses"),)),
    Kind("mode-selection", "the mode selection ended", (PW,), (
        r("commands", A, "the commands entered"),
        r("modes", A, "the modes now on"),
    )),
    Kind("can-cycle", "the CAN cycle timing of `ccs2chademo run` (periodic)", (RUN,), (
        r("frames", I, "frames measured"),
        r("p50_ms", (N, Z), "median cycle, ms"),
        r("p99_ms", (N, Z), "99th percentile, ms"),
        r("max_ms", N, "worst cycle, ms"),
    )),
    # ---------------------------------------------------------------- clara mode: the CAN-controlled EV (issue 13)
    Kind("clara-stop", "the clara side stops the charge session (ccs32clara's stop reasons)", (CL,), (
        r("reason", S, "`CAN timeout`, `enable off`, `battery full`, `stop requested`, `charger shutdown`, "
                       "`charger emergency`, `inlet overheat`, `lock failure`"),
        r("code", I, "the StopReason number reported on CAN"),
        r("state", S, "the state the stop began in"),
        r("soc", N, "the VCU's SoC, %"),
        r("enable", N, "the VCU's enable"),
    )),
    Kind("clara-watchdog", "no counted charge-current write from the VCU for 3 s", (CL,), (
        r("expired", B, "always true"), r("after_s", N, "the watchdog time, s"),
    )),
    Kind("clara-frame-rejected", "a VCU frame too short for the CAN map; nothing of it is used", (CL,), (
        r("id", S, "CAN identifier"), r("reason", S, _REASON),
    )),
    Kind("clara-sdo-abort", "an SDO request answered with an abort", (CL,), (
        r("index", S, "the object index, hex"), r("subindex", I, "the subindex"),
        r("code", S, "the CANopen abort code, hex"), r("reason", S, "the abort code's name"),
    )),
    Kind("clara-map", "the CAN map changed over SDO (or was saved)", (CL,), (
        r("index", S, "the object index written, hex"), r("entries", I, "entries in the map now"),
        f("saved", B, "the VCU asked to save the map and the settings: true, handed to the runtime; false, refused"),
        f("refused", S, "why a save was refused (the [clara] table it would give is not valid)"),
    )),
    Kind("clara-saved", "an SDO save reached the configuration file (`run`) or was recorded (simulation)",
         (RUN, CW), (
        r("entries", I, "map entries kept"), r("written", B, "the file was rewritten (false: unchanged, or failed)"),
        f("file", S, "the configuration file"), f("backup", S, "the previous file, kept as FILE.bak"),
        f("error", S, "why the file was not written"),
    )),
    Kind("clara-lock", "the inlet lock is commanded", (CL,), (
        r("closed", B, "locked"), f("voltage", N, "the charger's present voltage when it opened, V"),
        f("rule", S, "why it may open: `low voltage` or `timeout` after the contactors opened"),
    )),
    Kind("clara-load-relay", "lightbulb demo: the load relay switches", (CL,), (r("closed", B, "closed"),)),
    Kind("clara-lock-feedback", "the inlet lock's feedback switch reports a position", (CL,), (
        r("locked", B, "the lock reports locked"), f("unexpected", B, "it opened while it should be locked"),
    )),
    Kind("clara-lock-failed", "the inlet lock did not report the commanded position in time", (CL,), (
        r("closing", B, "it was locking (else unlocking)"), r("after_ms", I, "the lock timeout, ms"),
    )),
    Kind("clara-derating", "the inlet temperature starts or ends limiting the current", (CL,), (
        r("inlet_hot", B, "LimitationReason 1: the current is limited"),
        r("temperature", N, "the hottest inlet pin, °C"), r("limit", N, "the temperature-limited current, A"),
    )),
    Kind("clara-cp", "basic AC: the CP state presented to the AC EVSE", (CL,), (r("cp", S, "`B` or `C`"),)),
    Kind("clara-input-rejected", "a clara-mode board input of the wrong type; dropped", (CL,), (
        r("name", S, "the input"), r("value", S, "the value, as Python shows it"),
    )),
    Kind("inlet-lock", "the simulated inlet lock reached a position (its feedback switch changed)", (CW,), (
        r("locked", B, "locked"),
    )),
    Kind("vcu-enable", "the simulated VCU withdraws its enable", (VCU,), (
        r("enable", B, "the enable it sends now"), r("reason", S, _REASON), r("soc", N, "the pack's SoC, %"),
    )),
    Kind("vcu-config", "the simulated ZombieVerter's SDO map configuration", (VCU,), (
        r("step", I, "the configuration request reached"), f("aborted", S, "an abort answer, hex"),
        f("done", B, "the configuration is complete"),
    )),
    # ---------------------------------------------------------------- CHAdeMO: the adapter toward the car
    Kind("stop-requested", "the CHAdeMO side was asked to stop", (CH,)),
    Kind("promote-ignored", "a promotion to the real session came too late (not in discovery any more)", (CH,), (
        r("state", S, "the state"), f("session", (S, Z), "the session kind"),
    )),
    Kind("start-ignored", "a second start was ignored", (CH,), (
        r("state", S, "the state"), r("reason", S, _REASON),
    )),
    Kind("car-first-frame", "the car's first CAN frame", (CH,), (
        r("id", S, "CAN identifier"), r("after_d1", N, "s since d1"),
    )),
    Kind("car-can-back", "the car's frames came back after a gap", (CH,), (r("gap", N, "the gap, s"),)),
    Kind("car-can-gap", "the car's frames stopped for too long", (CH,), (r("silent", N, "s without frames"),)),
    Kind("rx-ignored", "a CAN frame the CHAdeMO side ignores (logged once per identifier and reason)", (CH,), (
        r("id", S, "CAN identifier"), r("reason", S, _REASON),
    )),
    Kind("stop-step-timeout", "a step of the stop sequence timed out", (CH,), (
        r("step", S, "the step"),
        f("current", (N, Z), "present current, A"),
    )),
    Kind("discovery-done", "the car's parameters are known", (CH,), (
        r("target", I, "target voltage, V"),
        r("max", I, "maximum battery voltage, V"),
        r("soc", N, "state of charge, %"),
    )),
    Kind("battery-incompatible", "the car's target voltage cannot be delivered", (CH,), (
        r("target", I, "target voltage, V"), r("available", (N, I), "available voltage, V"),
    )),
    Kind("v2x-discharging", "V2X discharge started or ended", (CH,), (r("on", B, "discharging"),)),
    # ---------------------------------------------------------------- the simulated CHAdeMO car
    Kind("car-stop", "the car stops charging", (VE,), (
        r("reason", S, _REASON), r("request", I, "its current request, A"),
    )),
    Kind("car-d1-off", "the charger switched d1 off", (VE,), (r("state", S, "the car's state"),)),
    Kind("car-can-timeout", "the charger's frames stopped", (VE,), (r("silent", N, "s without frames"),)),
    Kind("car-contactors-failed", "d2 too weak to close the car's contactors", (VE,), (
        r("d2_supply", N, "d2 supply, A"), r("needed", N, "needed, A"),
    )),
    Kind("car-charging-flag-missing", "the charger never set its charging flag", (VE,), (r("after", N, "s"),)),
    Kind("car-available-dropped", "available current fell below the request", (VE,), (
        r("available", I, "available current, A"), r("request", I, "request, A"),
    )),
    Kind("car-zero-current-timeout", "zero current reported for too long", (VE,), (r("after", N, "s"),)),
    Kind("car-over-discharge", "discharge current above the car's limit", (VE,), (
        r("limit", (N, I), "the limit, A"), r("inlet", N, "inlet current, A"),
    )),
    Kind("car-current-deviation", "inlet current far from the request", (VE,), (
        r("request", I, "request, A"), r("inlet", N, "inlet current, A"),
    )),
    Kind("car-voltage-deviation", "reported voltage far from the battery's", (VE,), (
        r("battery", N, "battery voltage, V"), r("reported", (N, I), "reported voltage, V"),
    )),
    Kind("car-current-not-dropped", "current did not fall after the stop", (VE,), (r("inlet", N, "inlet current, A"),)),
    Kind("car-dtc", "the car set a diagnostic trouble code", (VE,), (
        r("code", S, "the code"), r("voltage", N, "judged voltage, V"), r("at_opening", N, "voltage at opening, V"),
    )),
    # ---------------------------------------------------------------- HomePlug: modem, SLAC, connection
    Kind("modem", "a modem answered the search", (FI,), (
        r("mac", S, "its MAC"), r("version", S, "firmware"), r("device_id", S, "device id, hex"),
    )),
    Kind("no-modem", "no modem answered this round", (FI,), (r("round", I, "search round"),)),
    Kind("attempt", "a SLAC attempt starts", (SP,), (r("n", I, "attempt number"), r("run_id", S, "run id, hex"))),
    Kind("retry", "a SLAC step is retried", (SP,), (r("step", S, "the step"), r("n", I, "retry number"))),
    Kind("evse-chosen", "the charger with the best attenuation was chosen", (SP,), (
        r("evse", S, "its MAC"), r("attenuation", N, "mean attenuation, dB"), r("candidates", I, "candidates"),
    )),
    Kind("lifesign", "the chosen charger answered", (SP,), (r("evse", S, "its MAC"),)),
    Kind("atten-char", "the attenuation profile arrived", (SP,), (
        r("evse", S, "its MAC"), r("attenuation", N, "mean attenuation, dB"),
    )),
    Kind("slac-ok", "SLAC matched", (SP,), (
        r("evse", S, "its MAC"), r("nid", S, "network id, hex"), r("attempts", I, "attempts"),
    )),
    Kind("sounding-window-over", "the charger's sounding window closed", (SE,), (r("pev", S, "the car's MAC"),)),
    Kind("atten-char-rsp", "the car answered the attenuation profile", (SE,), (
        r("pev", S, "the car's MAC"), r("result", I, "result code"),
    )),
    Kind("matched", "the charger matched a car", (SE,), (r("pev", S, "the car's MAC"),)),
    Kind("restart", "the connection restarts from a step", (CO,), (
        r("reason", S, _REASON), r("step", S, "`modem` or `sdp`"), f("failures", I, "TCP failures"),
    )),
    Kind("send-failed", "a frame could not be sent", (SP, SE, FI, CO, DI), (
        r("reason", S, _REASON), f("link", S, "local link name"), f("request", I, "SDP request number"),
    )),
    Kind("rejected", "a received frame or message could not be decoded or is not for us", (SP, SE, FI, CO, DI, LB), (
        r("reason", S, _REASON),
        f("message", S, "the frame's message name"),
        f("step", S, "the layer (`v2gtp`)"),
        f("error", S, "the exception's type"),
        f("length", I, "frame length"),
    )),
    Kind("ignored", "a received frame that is valid but not expected now", (SP, SE, CO), (
        r("reason", S, _REASON), f("mmtype", S, "HomePlug MMTYPE, hex"),
        f("length", I, "frame length"), f("count", I, "ignored so far"),
    )),
    Kind("dropped", "a frame or message dropped", (CO, MO, TC), (
        r("reason", S, _REASON), f("mmtype", S, "HomePlug MMTYPE, hex"),
    )),
    Kind("timeout", "a step or a message timed out", (SP, SE, EV), (
        f("step", S, "the SLAC step"), f("reason", S, _REASON),
        f("msg", S, "the V2G message awaited"), f("state", S, "the EV session's state"),
    )),
    # ---------------------------------------------------------------- V2G: SDP, EV session, SECC
    Kind("sdp-request", "the charger got an SDP request", (SDS,), (
        r("security", I, "security byte"), r("transport", I, "transport byte"),
    )),
    Kind("negotiated", "the application protocol was agreed", (EV, SC), (
        r("schema", S, "`din`, `iso2` or `iso20`"), r("schema_id", I, "SchemaID"),
    )),
    Kind("iso20-not-offered", "`[ccs] iso20-priority` is set but the link is not TLS 1.3: ISO 15118-20 is left "
         "out of the offer (`iso20-without-tls` would offer it)", (EV,), (
        r("tls", (S, Z), "the link's TLS version (null: plain TCP)"),
    )),
    Kind("iso20-without-tls", "ISO 15118-20 is offered on a link that is not TLS 1.3 (`[ccs] iso20-without-tls`)",
         (EV,), (r("tls", (S, Z), "the link's TLS version (null: plain TCP)"),)),
    Kind("service-selected", "ISO 15118-20: the charger accepted the energy transfer service chosen", (EV,), (
        r("service", I, "ServiceID (2: DC, 6: DC_BPT)"), r("parameter_set", I, "ParameterSetID"),
        r("control_mode", S, "`scheduled` or `dynamic`"),
        f("discharge_a", N, "DC_BPT: the discharge current the car allows (its 0x200 maximum or the fallback), A"),
        f("floor_soc", (I, Z), "DC_BPT: the car's discharge floor sent as MinimumSOC, % (null: unknown)"),
    )),
    Kind("response", "the EV session got a response", (EV,), (
        r("msg", S, "the message"), r("code", S, "ResponseCode"),
        r("status", (S, Z), "EVSEStatusCode"), r("processing", (S, Z), "EVSEProcessing"),
        r("voltage", (N, Z), "EVSEPresentVoltage, V"), r("current", (N, Z), "EVSEPresentCurrent, A"),
    )),
    Kind("bad-frame", "a V2GTP frame could not be parsed", (EV, SC), (r("error", S, "the error"),)),
    Kind("hostile", "a hostile charger personality misbehaves (sim/hostile.py, sim/tls_charger.py)", (SC, SST), (
        r("behaviour", S, "what it does (`sim/hostile.py` BEHAVIOURS)"), r("msg", S, "the request it answers"),
    )),
    Kind("ignored-frame", "a V2GTP payload type the EV session does not handle", (EV,), (
        r("payload_type", I, "payload type"),
    )),
    Kind("unexpected-message", "a message arrived when none was awaited", (EV,), (r("state", S, "the state"),)),
    Kind("bad-message", "an EXI message could not be decoded", (EV, SC), (
        r("error", S, "the error"), f("expected", S, "the message awaited"),
    )),
    Kind("wrong-response", "a response other than the one awaited", (EV,), (
        r("expected", S, "awaited"), r("got", S, "received"),
    )),
    Kind("session-id-changed", "a response carries another SessionID than SessionSetupRes (a safe shutdown)", (EV,), (
        r("expected", S, "the session's SessionID"), r("got", S, "the response's"), r("msg", S, "the message"),
    )),
    Kind("welding-bounded", "WeldingDetection ended after its bounded rounds", (EV,), (
        r("rounds", I, "rounds"), r("voltage", (N, Z), "the voltage, V"),
    )),
    Kind("late-fault", "a fault after the session was already shutting down", (EV,), (r("reason", S, _REASON),)),
    Kind("safe-shutdown", "the EV session shuts down safely", (EV,), (r("reason", S, _REASON),)),
    Kind("session-end", "the EV session ended", (EV,), (
        r("result", (S, Z), "the result"), r("reason", (S, Z), "the stop reason"),
    )),
    Kind("encode-failed", "a message could not be encoded", (EV, SC), (
        r("error", S, "the error"), f("msg", S, "the message"),
    )),
    Kind("idle-timeout", "the charger's session idled out", (SC,)),
    Kind("link-down", "the charger's TCP link went down", (SC,), (r("reason", S, _REASON),)),
    Kind("no-response", "the charger has no response for a request", (SC,), (r("msg", S, "the request"),)),
    Kind("reset-connection", "the charger resets the TCP connection", (SC,)),
    Kind("sequence-error", "a request out of sequence", (SC,), (r("got", S, "received"), r("after", (S, Z), "after"))),
    # ---------------------------------------------------------------- TLS (v2g/tls.py; records carry part `tls`)
    Kind("tls-established", "the TLS handshake finished", (TC,), (
        r("version", S, "the TLS version (`TLSv1.3`, `TLSv1.2`)"),
        r("cipher", S, "the cipher suite, OpenSSL's name"),
        r("verified", B, "the peer's certificate chain was verified (a server: false, -2 has no client certificate)"),
        r("peer_sha256", (S, Z), "SHA-256 of the peer's certificate (DER, hex)"),
        r("handshake_ms", N, "from TCP up to the finished handshake, ms"),
    )),
    Kind("tls-failed", "TLS failed: the connection ends, the session's stop reason is `tls-<cause>`", (TC, TL, CO), (
        r("cause", S, "`bad-certificate`, `handshake-failure`, `alert`, `timeout`, `closed`, `protocol-error`, "
                      "`not-offered`"),
        r("detail", S, "OpenSSL's reason or the check that failed"),
        r("after_ms", N, "since the handshake began, ms"),
    )),
    Kind("tls-unverified", "the charger's certificate was accepted without verification (`tls-accept-unverified`)",
         (TC,), (r("peer_sha256", (S, Z), "SHA-256 of the charger's certificate (DER, hex)"),)),
    Kind("tls-declined", "TLS was asked for (`prefer`) and the charger's SDP answer said none: plain TCP", (CO,), (
        r("security", I, "the SDP answer's security byte"),
    )),
)

#: Every kind renamed, oldest first (format version 1 unified the kinds: kebab-case, one input refusal).
RENAMES: tuple[Rename, ...] = (
    Rename("input_rejected", "input-rejected", 1),
    Rename("input-unknown", "input-rejected", 1, {"reason": "unknown input"}),
    Rename("input-invalid", "input-rejected", 1, {"reason": "invalid value"}),
    *(Rename(old, old.replace("_", "-"), 1) for old in (
        "atten_char", "atten_char_rsp", "battery_incompatible", "car_available_dropped", "car_can_back",
        "car_can_gap", "car_can_timeout", "car_charging_flag_missing", "car_contactors_failed",
        "car_current_deviation", "car_current_not_dropped", "car_d1_off", "car_dtc", "car_first_frame",
        "car_over_discharge", "car_stop", "car_voltage_deviation", "car_zero_current_timeout", "discovery_done",
        "evse_chosen", "no_modem", "rx_ignored", "sdp_request", "send_failed", "set_key", "slac_ok",
        "sounding_window_over", "start_ignored", "stop_requested", "stop_step_timeout", "v2x_discharging",
    )),
)

BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}


def rename_map() -> dict[str, Rename]:
    return {x.old: x for x in RENAMES}


def header_record() -> dict[str, Any]:
    """The first record of a session log file."""
    return {"t": 0, "source": HEADER_SOURCE, "kind": HEADER_KIND, "format": FORMAT_NAME, "version": FORMAT_VERSION}


def upgrade(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record of an older log (before the renames) in today's names (new records pass unchanged)."""
    out = dict(record)
    rename = rename_map().get(str(out.get("kind")))
    if rename is not None:
        out["kind"] = rename.new
        for key, value in rename.adds.items():
            out.setdefault(key, value)
    return out


# ---------------------------------------------------------------------------------- JSON Schema
def _types(types: tuple[JsonType, ...]) -> dict[str, Any]:
    return {"type": types[0]} if len(types) == 1 else {"type": list(types)}


def _field_schema(fld: Field) -> dict[str, Any]:
    return {**_types(fld.types), "description": fld.meaning}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of one session-log record (one JSON line)."""
    defs: dict[str, Any] = {}
    branches: list[dict[str, Any]] = []
    for kind in KINDS:
        t_type = "null" if kind.name == "log" else "number"
        props: dict[str, Any] = {"t": {"type": t_type}, "source": {"type": "string"}, "kind": {"const": kind.name}}
        for fld in (*COMMON_FIELDS, *kind.fields):
            props[fld.name] = _field_schema(fld)
        required = [fld.name for fld in kind.fields if fld.required]
        body: dict[str, Any] = {"description": kind.meaning, "properties": props, "additionalProperties": False}
        if required:
            body["required"] = required
        defs[kind.name] = body
        branches.append({"if": {"properties": {"kind": {"const": kind.name}}},
                         "then": {"$ref": f"#/$defs/{kind.name}"}})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://ccs2chademo/{FORMAT_NAME}/v{FORMAT_VERSION}",
        "title": f"{FORMAT_NAME} record, format version {FORMAT_VERSION}",
        "description": "One line of a ccs2chademo JSON-lines session log (docs/session-log.md); generated from "
                       "ccs2chademo.runtime.logkinds by tools/gen_session_log.py — do not edit.",
        "type": "object",
        "required": list(ENVELOPE),
        "properties": {
            "t": {"type": ["number", "null"], "description": "session time, s"},
            "source": {"type": "string", "description": "the runtime name of the machine (or `world`)"},
            "kind": {"enum": [k.name for k in KINDS], "description": "the record kind"},
        },
        "allOf": branches,
        "$defs": defs,
    }


def schema_text() -> str:
    import json

    return json.dumps(json_schema(), indent=1, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------- documentation
def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def doc_tables() -> str:
    """The generated part of docs/session-log.md: every kind with its fields, and the renames."""
    lines = ["### Kinds", ""]
    lines += ["| Kind | Level | Meaning | Emitted by |", "|---|---|---|---|"]
    for kind in KINDS:
        lines.append(f"| [`{kind.name}`](#kind-{kind.name}) | {'DEBUG' if kind.debug else 'INFO'} | "
                     f"{_cell(kind.meaning)} | {', '.join(f'`{e}`' for e in kind.emitters)} |")
    lines.append("")
    lines += ["### Fields of every kind", "",
              "Every record may also carry: " + "; ".join(f"`{c.name}` ({'/'.join(c.types)}): {c.meaning}"
                                                           for c in COMMON_FIELDS) + ".", ""]
    for kind in KINDS:
        lines += [f'<a id="kind-{kind.name}"></a>', f"#### `{kind.name}`", "", _cell(kind.meaning) + ".", ""]
        if not kind.fields:
            lines += ["No fields.", ""]
            continue
        lines += ["| Field | JSON type | Required | Meaning |", "|---|---|---|---|"]
        for fld in kind.fields:
            lines.append(f"| `{fld.name}` | {' or '.join(fld.types)} | {'yes' if fld.required else 'no'} | "
                         f"{_cell(fld.meaning)} |")
        lines.append("")
    lines += ["### Renames", "", "| Old kind | New kind | Since version | Fields added |", "|---|---|---|---|"]
    for ren in RENAMES:
        adds = ", ".join(f"`{k}` = `{v}`" for k, v in ren.adds.items()) or "—"
        lines.append(f"| `{ren.old}` | `{ren.new}` | {ren.version} | {adds} |")
    return "\n".join(lines) + "\n"


def check() -> list[str]:
    """Consistency of the registry itself (names, types, renames)."""
    problems: list[str] = []
    seen: set[str] = set()
    for kind in KINDS:
        if kind.name in seen:
            problems.append(f"{kind.name}: registered twice")
        seen.add(kind.name)
        if kind.name != kind.name.lower() or "_" in kind.name or " " in kind.name:
            problems.append(f"{kind.name}: kinds are kebab-case")
        names = [fld.name for fld in (*COMMON_FIELDS, *kind.fields)]
        for name in names:
            if name in ENVELOPE:
                problems.append(f"{kind.name}.{name}: shadowed by the envelope")
            if names.count(name) > 1:
                problems.append(f"{kind.name}.{name}: listed twice")
        for fld in kind.fields:
            if not set(fld.types) <= JSON_TYPES:
                problems.append(f"{kind.name}.{fld.name}: unknown JSON type {fld.types}")
    for ren in RENAMES:
        if ren.new not in seen:
            problems.append(f"rename {ren.old} → {ren.new}: the new kind is not registered")
        if ren.old in seen:
            problems.append(f"rename {ren.old}: the old kind is still registered")
    return problems
