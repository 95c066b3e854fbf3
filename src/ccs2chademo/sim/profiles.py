"""Car profiles of the simulated CHAdeMO vehicle, as data (``profiles/*.toml``, tomllib).

A profile file has top-level identity and protocol keys and the tables ``[timing]``,
``[battery]``, ``[checks]`` and optionally ``[v2x]`` and ``[raw_frames]``; every key maps to a
field of the dataclasses below (same name).  Unknown keys and wrong types are a
:class:`ProfileError` naming the file and the key.  ``docs/chademo.md`` documents the format.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, get_type_hints

from .battery import BatterySpec

__all__ = [
    "PROFILE_NAMES",
    "Checks",
    "ProfileError",
    "Timing",
    "V2x",
    "VehicleProfile",
    "load_profile",
    "parse_profile",
]


class ProfileError(ValueError):
    """A profile file cannot be used (unknown key, wrong type, bad value)."""


@dataclass(frozen=True, slots=True)
class Timing:
    """Times in seconds; "CAN start" is the car's first frame (chademo.md §12.5)."""

    period_s: float = 0.1  # frame cycle (ZombieVerter: 0.225)
    spacing_s: float = 0.01  # gap between the frames of one cycle
    wake_s: float = 0.05  # d1 on → first frame
    soc_reference_switch_s: float = 0.1  # first 0x109 → 0x100.6 switches (240 → 100/255)
    capacity_placeholder_s: float = 0.1  # CAN start → capacity placeholder
    capacity_valid_s: float = 2.1  # CAN start → real capacity
    soc_valid_s: float = 2.1  # CAN start → real SoC (raw 3, then 1 before)
    max_time_valid_s: float = 2.9  # CAN start → real maximum charging time
    ready_s: float = 3.9  # CAN start → k + 0x102.5.0
    contactors_close_s: float = 1.5  # d2 → contactors closed
    first_request_s: float = 1.7  # contactors closed → first request
    stop_reaction_s: float = 0.2  # charger stop flag → request 0, 5.0 off, k off
    contactor_open_s: float = 1.9  # 0x109.5.0 cleared and I ≤ 5 A → contactors open
    welding_check_s: float = 1.0  # contactors open → 0x102.5.3 = 1
    current_drop_timeout_s: float = 2.5  # stop: the car aborts if I stays > 5 A this long
    can_stop_s: float = 0.7  # d1 off → CAN off
    charging_flag_timeout_s: float = 2.5  # first request → 0x109.5.0 must be set
    contactor_fail_s: float = 0.0  # > 0: d2 on this long without closing → system fault
    soc_after_d2_s: float = 0.0  # > 0: SoC reads 0 until this long after d2 (Xpeng G3)


@dataclass(frozen=True, slots=True)
class Checks:
    """The car's own checks (chademo.md §6.2, §12.5); a tolerance of 0 disables a check."""

    over_current_a: float = 10.0  # delivered above the request by more than this …
    under_current_a: float = 0.0  # … or below it by more than this (0: tolerated) …
    current_duration_s: float = 5.0  # … for this long → 0x102.4.2
    voltage_tolerance_v: float = 20.0  # |battery − 0x109 voltage| above this …
    voltage_duration_s: float = 5.0  # … for this long → 0x102.4.4
    can_timeout_s: float = 1.0  # no 0x109 → 0x102.5.2 and k off
    welding_judged_by: str = "inlet"  # "inlet" (measured) or "can" (0x109 voltage, Outlander)
    stop_margin_a: float = 0.0  # > 0: stop when 0x108.3 is lowered to within this of the request (Jdemo)
    contactor_supply_a: float = 0.0  # d2 loop current the contactor coils need (i-MiEV 2 A)
    require_low_inlet: bool = True  # close contactors only with the inlet below 20 V


@dataclass(frozen=True, slots=True)
class V2x:
    """0x200/0x201 contents (chademo.md §9) and the car's behaviour at a discharging charger.

    ``max_discharge_current`` is 0x200.0 as the car sends it outside a discharge power flow;
    ``power_flow_discharge_current`` (> 0) is what it ramps 0x200.0 to, 2 A per frame, once a
    charger that advertises discharge (0x109.4) starts the charging loop (the ZE0: 0 → 15 A).
    ``min_discharge_level`` (0x200.6) is % for cars that send a 0x201 sequence number ≥ 1, else
    kWh × 10; the car ends a discharge there.  While current flows out it checks the V2H
    guideline's over-current rule instead of its charge-current deviation checks.
    """

    max_discharge_current: int = 0
    min_discharge_voltage: int = 250
    min_discharge_level: int = 0
    max_charge_level: int = 0xFF
    sequence_control_number: int = 0
    power_flow_discharge_current: int = 0
    over_discharge_a: float = 10.0  # V2H guideline: ≥ 10 A above 0x200.0 …
    over_discharge_s: float = 5.0  # … for ≥ 5 s → fault, k off (chademo.md §6.2)
    zero_current_stop_s: float = 0.0  # > 0: stop after 0x109.3 = 0 this long in V2X (ZE0 ≈6 min)


@dataclass(frozen=True, slots=True)
class VehicleProfile:
    name: str
    description: str
    protocol_number: int
    target_voltage: int
    max_voltage: int
    battery: BatterySpec
    min_voltage: int = 0
    min_charge_current: int = 0
    target_after_contactors: int = 0  # > 0: target rises to this once the contactors close (Xpeng)
    max_current_by_soc: tuple[tuple[float, float], ...] = ((0.0, 125.0), (100.0, 125.0))
    stop_soc: float = 100.0  # the car ends the session at this SoC
    available_margin_a: int = 0  # requests up to 0x108.3 − this (ZE0 1, Jdemo 10)
    first_request_a: int = 2
    ramp_a_per_frame: int = 2
    idle_request_a: int = 0  # request sent while waiting for d2/contactors (i-MiEV)
    dynamic_control_flag: bool = False  # sends 0x110 = 01
    legacy_dynamic_bit: bool = False  # 0x102.5.6 (Leaf ZE0)
    follows_available: bool = True  # lowers its request at once when 0x108.3 drops
    discharge_compatible: bool = False  # 0x102.5.7
    contactor_flag: str = "always"  # 0x102.5.3 use: "always", "after_v2_charger", "never"
    spurious_stop_before_charging: bool = False  # sets 0x102.5.4 (some e-NV200)
    soc_reference_initial: int = 100  # 0x100.6 before the switch
    soc_reference_v2: int = 100  # … after seeing a charger with protocol ≥ 2
    soc_reference_v1: int = 100  # … after seeing a protocol-1 charger
    capacity_placeholder_kwh: float = 0.0
    rated_capacity_kwh: float = 0.0
    max_charge_time_10s: int = 0xFF
    max_charge_time_min: int = 60
    second_session: str = "ok"  # "ok", "refuse", "refuse_after_discharge_flag"
    frames: tuple[str, ...] = ("0x100", "0x101", "0x102")
    timing: Timing = field(default_factory=Timing)
    checks: Checks = field(default_factory=Checks)
    v2x: V2x = field(default_factory=V2x)
    raw_frames: tuple[tuple[int, bytes], ...] = ()

    def max_current(self, soc: float) -> float:
        """The battery's charge-current limit at ``soc`` (linear between the points)."""
        points = self.max_current_by_soc
        if soc <= points[0][0]:
            return points[0][1]
        for (s0, a0), (s1, a1) in itertools.pairwise(points):
            if soc <= s1:
                return a0 + (soc - s0) / (s1 - s0) * (a1 - a0)
        return points[-1][1]


_CHOICES = {
    "contactor_flag": ("always", "after_v2_charger", "never"),
    "second_session": ("ok", "refuse", "refuse_after_discharge_flag"),
    "welding_judged_by": ("inlet", "can"),
}


def _check_type(where: str, value: Any, expected: Any) -> Any:
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProfileError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if expected in (int, bool, str):
        if type(value) is not expected:
            raise ProfileError(f"{where}: expected {expected.__name__}, got {value!r}")
        return value
    raise ProfileError(f"{where}: unsupported field type")  # pragma: no cover - schema error


def _build(cls: Any, data: Any, where: str, special: dict[str, Any]) -> Any:
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected a table")
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ProfileError(f"{where}: unknown keys {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, f in known.items():
        key = f"{where}.{name}"
        if name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ProfileError(f"{key}: missing")
            continue
        value = data[name]
        if name in special:
            kwargs[name] = special[name](value, key)
        else:
            kwargs[name] = _check_type(key, value, hints[name])
        if name in _CHOICES and kwargs[name] not in _CHOICES[name]:
            raise ProfileError(f"{key}: one of {_CHOICES[name]}, got {value!r}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{where}: {exc}") from None


def _points(value: Any, where: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise ProfileError(f"{where}: expected a list of at least two [x, y] pairs")
    out = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2):
            raise ProfileError(f"{where}: {item!r} is not an [x, y] pair")
        out.append((_check_type(where, item[0], float), _check_type(where, item[1], float)))
    if any(b[0] <= a[0] for a, b in itertools.pairwise(out)):
        raise ProfileError(f"{where}: x values must increase strictly")
    return tuple(out)


def _frame_ids(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(f'{where}: expected a list of IDs like "0x102"')
    allowed = {"0x100", "0x101", "0x102", "0x103", "0x110", "0x200", "0x201"}
    for v in value:
        if v not in allowed:
            raise ProfileError(f"{where}: {v!r} is not a vehicle frame ({sorted(allowed)})")
    return tuple(value)


def _raw_frames(value: Any, where: str) -> tuple[tuple[int, bytes], ...]:
    if not isinstance(value, dict):
        raise ProfileError(f'{where}: expected a table of ID = "hex bytes"')
    out = []
    for key, hexdata in value.items():
        try:
            fid = int(key, 16)
            data = bytes.fromhex(hexdata)
        except (TypeError, ValueError):
            raise ProfileError(f"{where}.{key}: not an ID with 8 hex bytes") from None
        if len(data) != 8 or not 0 <= fid <= 0x7FF:
            raise ProfileError(f"{where}.{key}: CHAdeMO frames are 11-bit IDs with 8 bytes")
        out.append((fid, data))
    return tuple(out)


def _battery(value: Any, where: str) -> BatterySpec:
    special = {"ocv": _points}
    return _build(BatterySpec, value, where, special)  # type: ignore[no-any-return]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``; tables merge key by key, everything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: {exc}") from None


def _resolve_base(data: dict[str, Any], source: str, depth: int = 0) -> dict[str, Any]:
    """A profile may start from a packaged one: ``base = "leaf-ze1-40"`` plus overrides."""
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str) or base not in PROFILE_NAMES:
        raise ProfileError(f"{source}.base: {base!r} is not a packaged profile")
    if depth > 4:
        raise ProfileError(f"{source}.base: too deeply nested")
    parent = _resolve_base(_toml(_packaged_text(base), f"{base}.toml"), f"{base}.toml", depth + 1)
    return _merge(parent, data)


def parse_profile(text: str, source: str = "<profile>") -> VehicleProfile:
    """Parse one profile (TOML text); ``base`` may name a packaged profile to start from."""
    data = _resolve_base(_toml(text, source), source)
    special = {
        "battery": _battery,
        "max_current_by_soc": _points,
        "frames": _frame_ids,
        "raw_frames": _raw_frames,
        "timing": lambda v, w: _build(Timing, v, w, {}),
        "checks": lambda v, w: _build(Checks, v, w, {}),
        "v2x": lambda v, w: _build(V2x, v, w, {}),
    }
    profile: VehicleProfile = _build(VehicleProfile, data, source, special)
    if profile.protocol_number not in (0, 1, 2, 3):
        raise ProfileError(f"{source}.protocol_number: 0…3")
    return profile


def _profile_dir() -> Any:
    return resources.files(__package__).joinpath("profiles")


PROFILE_NAMES: tuple[str, ...] = tuple(
    sorted(p.name.removesuffix(".toml") for p in _profile_dir().iterdir() if p.name.endswith(".toml"))
)


def _packaged_text(name: str) -> str:
    return str(_profile_dir().joinpath(f"{name}.toml").read_text(encoding="utf-8"))


@cache
def load_profile(name_or_path: str | Path) -> VehicleProfile:
    """A packaged profile by name (``leaf-ze1-40``), or a TOML file by path."""
    if isinstance(name_or_path, Path) or name_or_path.endswith(".toml"):
        path = Path(name_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProfileError(f"{path}: {exc.strerror}") from None
        return parse_profile(text, str(path))
    if name_or_path not in PROFILE_NAMES:
        raise ProfileError(f"unknown profile {name_or_path!r}; known: {', '.join(PROFILE_NAMES)}")
    profile = parse_profile(_packaged_text(name_or_path), f"{name_or_path}.toml")
    if profile.name != name_or_path:
        raise ProfileError(f"{name_or_path}.toml: name is {profile.name!r}")
    return profile
